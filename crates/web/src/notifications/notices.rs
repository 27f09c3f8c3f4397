//! What a notification says and where it leads, made from what happened and to which thing,
//! for the side the reader is on.

use portico_core::notices::{Event, Shared, Side};
use portico_db::notifications::About;

use crate::kit::paths;

/// The notification's one-line sentence for the in-app list.
pub fn sentence(about: &About) -> &str {
    let event = match about {
        About::Event { event, .. } => *event,
        About::Written { summary, .. } => return summary,
    };
    match event {
        Event::Message { from: Side::Firm } => "New message from the firm",
        Event::Message { from: Side::Client } => "New message from a client",
        Event::AddedToConversation => "You were added to a conversation",
        Event::TaskGiven => "The firm gave you a task",
        Event::TaskDue => "A task is due",
        Event::FormSent => "The firm sent you a form to fill in",
        Event::FormSubmitted => "A client submitted a form",
        Event::FormReopened => "The firm asked for changes to a form",
        Event::Shared { item: Shared::File } => "The firm shared a file with you",
        Event::Shared {
            item: Shared::Folder,
        } => "The firm shared a folder with you",
        Event::Shared {
            item: Shared::Other,
        } => "The firm shared something with you",
        Event::FileUploaded { .. } => "A client uploaded a file",
        Event::FileQuarantined { .. } => "A file was quarantined by the virus scanner",
        Event::FileComment { from: Side::Client } => "A client commented on a file",
        Event::FileComment { from: Side::Firm } => "The firm commented on a file",
    }
}

/// Where the notification leads a reader on staff's side (`staff = true`) or a client's.
pub fn address(about: &About, staff: bool) -> String {
    let (event, id) = match about {
        About::Event { event, subject_id } => (*event, *subject_id),
        About::Written { href, .. } => return href.clone(),
    };
    match event {
        Event::Message { .. } | Event::AddedToConversation => paths::conversation(staff, id),
        Event::TaskGiven | Event::TaskDue => paths::portal_tasks().into(),
        Event::FormSent | Event::FormSubmitted | Event::FormReopened => paths::form(staff, id),
        Event::Shared {
            item: Shared::File | Shared::Folder,
        } => paths::portal_files().into(),
        Event::Shared {
            item: Shared::Other,
        } => paths::home(false).into(),
        Event::FileUploaded { client_id } | Event::FileQuarantined { client_id } => {
            paths::client_files(client_id)
        }
        Event::FileComment { .. } => paths::file_comments(id),
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn each_event_reads_and_leads_as_it_always_has() {
        let id = Uuid::now_v7();
        let client_id = Uuid::now_v7();
        let staff = true;
        let client = false;
        let cases = [
            (
                Event::Message { from: Side::Firm },
                client,
                "New message from the firm",
                format!("/portal/messages/{id}"),
            ),
            (
                Event::Message { from: Side::Client },
                staff,
                "New message from a client",
                format!("/staff/messages/{id}"),
            ),
            (
                Event::AddedToConversation,
                client,
                "You were added to a conversation",
                format!("/portal/messages/{id}"),
            ),
            (
                Event::TaskGiven,
                client,
                "The firm gave you a task",
                "/portal/tasks".into(),
            ),
            (
                Event::TaskDue,
                client,
                "A task is due",
                "/portal/tasks".into(),
            ),
            (
                Event::FormSent,
                client,
                "The firm sent you a form to fill in",
                format!("/portal/forms/{id}"),
            ),
            (
                Event::FormSubmitted,
                staff,
                "A client submitted a form",
                format!("/staff/client-forms/{id}"),
            ),
            (
                Event::FormReopened,
                client,
                "The firm asked for changes to a form",
                format!("/portal/forms/{id}"),
            ),
            (
                Event::Shared { item: Shared::File },
                client,
                "The firm shared a file with you",
                "/portal/files".into(),
            ),
            (
                Event::Shared {
                    item: Shared::Folder,
                },
                client,
                "The firm shared a folder with you",
                "/portal/files".into(),
            ),
            (
                Event::Shared {
                    item: Shared::Other,
                },
                client,
                "The firm shared something with you",
                "/portal".into(),
            ),
            (
                Event::FileUploaded { client_id },
                staff,
                "A client uploaded a file",
                format!("/staff/clients/{client_id}/files"),
            ),
            (
                Event::FileQuarantined { client_id },
                staff,
                "A file was quarantined by the virus scanner",
                format!("/staff/clients/{client_id}/files"),
            ),
            (
                Event::FileComment { from: Side::Client },
                staff,
                "A client commented on a file",
                format!("/files/{id}/comments"),
            ),
            (
                Event::FileComment { from: Side::Firm },
                client,
                "The firm commented on a file",
                format!("/files/{id}/comments"),
            ),
        ];
        for (event, side, words, href) in cases {
            let about = About::Event {
                event,
                subject_id: id,
            };
            assert_eq!(sentence(&about), words, "{event:?}");
            assert_eq!(address(&about, side), href, "{event:?}");
        }
    }

    #[test]
    fn a_conversation_leads_each_side_to_its_own_page() {
        let id = Uuid::now_v7();
        let about = About::Event {
            event: Event::Message { from: Side::Client },
            subject_id: id,
        };
        assert_eq!(address(&about, true), format!("/staff/messages/{id}"));
        assert_eq!(address(&about, false), format!("/portal/messages/{id}"));
    }

    #[test]
    fn a_notification_written_before_events_shows_as_it_was_stored() {
        let about = About::Written {
            summary: "The firm gave you a task".into(),
            href: "/portal/tasks".into(),
        };
        assert_eq!(sentence(&about), "The firm gave you a task");
        assert_eq!(address(&about, true), "/portal/tasks");
    }
}
