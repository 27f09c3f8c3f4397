//! Page addresses: where things are found, for staff and for clients. Pages, redirects and
//! notifications take their links from here.

use uuid::Uuid;

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
