//! Page addresses: where things are found, for staff and for clients. Pages, redirects and
//! notifications take their links from here.

use uuid::Uuid;

/// Percent-encodes a text (a path, a search) for use as a query value.
pub(crate) fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The client's portal home.
pub fn portal() -> String {
    "/portal".into()
}

/// Where a conversation lives for staff (`staff = true`) or for its client.
pub fn conversation(staff: bool, id: Uuid) -> String {
    if staff {
        format!("/staff/messages/{id}")
    } else {
        format!("/portal/messages/{id}")
    }
}

/// Where a form sent to a client is reviewed by staff (`staff = true`) or filled in by them.
pub fn form(staff: bool, id: Uuid) -> String {
    if staff {
        format!("/staff/client-forms/{id}")
    } else {
        format!("/portal/forms/{id}")
    }
}

/// The client's tasks.
pub fn portal_tasks() -> String {
    "/portal/tasks".into()
}

/// The client's files.
pub fn portal_files() -> String {
    "/portal/files".into()
}

/// A client's files, as staff see them.
pub fn client_files(client_id: Uuid) -> String {
    format!("/staff/clients/{client_id}/files")
}

/// A file's comments (the same address on both sides).
pub fn file_comments(file_id: Uuid) -> String {
    format!("/files/{file_id}/comments")
}
