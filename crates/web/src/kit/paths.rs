//! Page addresses: where things are found, for staff and for clients. Pages, redirects and
//! notifications take their links from here. A place on both sides takes `staff` (`true`:
//! the firm's side); `client_…` places are staff's pages of one client and `portal_…` places
//! the client's own.

use uuid::Uuid;

/// Percent-encodes a text (a path, a search) for use as a query value.
pub(crate) fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The home page of staff or of the client's portal.
pub const fn home(staff: bool) -> &'static str {
    if staff { "/staff" } else { "/portal" }
}

/// The firm's list of clients.
pub const fn clients() -> &'static str {
    "/staff/clients"
}

/// A client's page, for staff.
pub fn client(client_id: Uuid) -> String {
    format!("/staff/clients/{client_id}")
}

/// When the firm opened the client's items, for the client.
pub const fn portal_access_log() -> &'static str {
    "/portal/access-log"
}

/// The client's colleagues, for their administrator.
pub const fn colleagues() -> &'static str {
    "/portal/colleagues"
}

/// The client's matters.
pub const fn portal_matters() -> &'static str {
    "/portal/matters"
}

/// A matter's page for staff (`staff = true`) or for its client.
pub fn matter(staff: bool, id: Uuid) -> String {
    if staff {
        format!("/staff/matters/{id}")
    } else {
        format!("/portal/matters/{id}")
    }
}

/// Where a comment on a matter is posted, from either side.
pub fn matter_comments(staff: bool, id: Uuid) -> String {
    format!("{}/comments", matter(staff, id))
}

/// The conversations, for staff or for the client.
pub const fn messages(staff: bool) -> &'static str {
    if staff {
        "/staff/messages"
    } else {
        "/portal/messages"
    }
}

/// A client's conversations, as staff see them.
pub fn client_messages(client_id: Uuid) -> String {
    format!("/staff/messages?client={client_id}")
}

/// Where staff start a conversation with a client (the form posts here).
pub fn client_start_conversation(client_id: Uuid) -> String {
    format!("/staff/clients/{client_id}/messages")
}

/// The page on which staff start a conversation with a client.
pub fn client_new_conversation(client_id: Uuid) -> String {
    format!("/staff/clients/{client_id}/messages/new")
}

/// The page on which the client starts a conversation.
pub const fn portal_new_conversation() -> &'static str {
    "/portal/messages/new"
}

/// Where a conversation lives for staff (`staff = true`) or for its client.
pub fn conversation(staff: bool, id: Uuid) -> String {
    format!("{}/{id}", messages(staff))
}

/// The firm's forms (the templates forms are sent from).
pub const fn forms() -> &'static str {
    "/staff/forms"
}

/// A form template, for staff.
pub fn form_template(id: Uuid) -> String {
    format!("/staff/forms/{id}")
}

/// The answers to every form sent from a template, as a CSV file.
pub fn form_export(id: Uuid) -> String {
    format!("/staff/forms/{id}/export.csv")
}

/// The forms sent to a client, as staff see them (sending one posts here).
pub fn client_forms(client_id: Uuid) -> String {
    format!("/staff/clients/{client_id}/forms")
}

/// The client's forms.
pub const fn portal_forms() -> &'static str {
    "/portal/forms"
}

/// Where a form sent to a client is reviewed by staff (`staff = true`) or filled in by them.
pub fn form(staff: bool, id: Uuid) -> String {
    if staff {
        format!("/staff/client-forms/{id}")
    } else {
        format!("/portal/forms/{id}")
    }
}

/// A sent form as a PDF, for either side.
pub fn form_pdf(staff: bool, id: Uuid) -> String {
    format!("{}/pdf", form(staff, id))
}

/// A client's tasks, as staff see them (a new task posts here).
pub fn client_tasks(client_id: Uuid) -> String {
    format!("/staff/clients/{client_id}/tasks")
}

/// The client's tasks.
pub const fn portal_tasks() -> &'static str {
    "/portal/tasks"
}

/// A client's tasks for the viewer's side: staff's page of the client, or the client's own.
pub fn tasks(staff: bool, client_id: Uuid) -> String {
    if staff {
        client_tasks(client_id)
    } else {
        portal_tasks().into()
    }
}

/// Where a task is ticked off or back on, from either side.
pub fn task_done(staff: bool, id: Uuid) -> String {
    if staff {
        format!("/staff/tasks/{id}/done")
    } else {
        format!("/portal/tasks/{id}/done")
    }
}

/// A client's files, as staff see them.
pub fn client_files(client_id: Uuid) -> String {
    format!("/staff/clients/{client_id}/files")
}

/// The client's files.
pub const fn portal_files() -> &'static str {
    "/portal/files"
}

/// A client's files for the viewer's side: staff's page of the client, or the client's own.
pub fn files(staff: bool, client_id: Uuid) -> String {
    if staff {
        client_files(client_id)
    } else {
        portal_files().into()
    }
}

/// One folder of a client's files, for the viewer's side.
pub fn folder(staff: bool, client_id: Uuid, folder_id: Uuid) -> String {
    format!("{}?folder={folder_id}", files(staff, client_id))
}

/// A client's files (in a folder, or at the top) after something was done, saying what.
pub fn files_done(staff: bool, client_id: Uuid, folder_id: Option<Uuid>, done: &str) -> String {
    match folder_id {
        Some(f) => format!("{}&done={done}", folder(staff, client_id, f)),
        None => format!("{}?done={done}", files(staff, client_id)),
    }
}

/// Where staff upload files for a client.
pub fn client_upload(client_id: Uuid) -> String {
    format!("/staff/clients/{client_id}/files/upload")
}

/// Where the client uploads files.
pub const fn portal_upload() -> &'static str {
    "/portal/files/upload"
}

/// Where staff make a folder in a client's files.
pub fn client_folders(client_id: Uuid) -> String {
    format!("/staff/clients/{client_id}/folders")
}

/// Where the client makes a folder in their files.
pub const fn portal_folders() -> &'static str {
    "/portal/folders"
}

/// Where staff share files and folders with a client, or stop sharing them.
pub fn client_share(client_id: Uuid) -> String {
    format!("/staff/clients/{client_id}/files/share")
}

/// A file's comments (the same address on both sides).
pub fn file_comments(file_id: Uuid) -> String {
    format!("/files/{file_id}/comments")
}

/// The firm's settings, for its administrators.
pub const fn settings() -> &'static str {
    "/staff/settings"
}

/// The firm's emails and checks that gave up, for its administrators.
pub const fn failed_jobs() -> &'static str {
    "/staff/settings/failed"
}

/// The firm's audit log, for its administrators.
pub const fn audit() -> &'static str {
    "/staff/audit"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_they_always_have() {
        let id = Uuid::nil();
        let z = "00000000-0000-0000-0000-000000000000";
        assert_eq!(home(true), "/staff");
        assert_eq!(home(false), "/portal");
        assert_eq!(conversation(true, id), format!("/staff/messages/{z}"));
        assert_eq!(conversation(false, id), format!("/portal/messages/{z}"));
        assert_eq!(
            matter_comments(false, id),
            format!("/portal/matters/{z}/comments")
        );
        assert_eq!(form_pdf(true, id), format!("/staff/client-forms/{z}/pdf"));
        assert_eq!(tasks(true, id), format!("/staff/clients/{z}/tasks"));
        assert_eq!(tasks(false, id), "/portal/tasks");
        assert_eq!(task_done(false, id), format!("/portal/tasks/{z}/done"));
        assert_eq!(
            files_done(true, id, Some(id), "moved"),
            format!("/staff/clients/{z}/files?folder={z}&done=moved")
        );
        assert_eq!(
            files_done(false, id, None, "uploaded"),
            "/portal/files?done=uploaded"
        );
    }
}
