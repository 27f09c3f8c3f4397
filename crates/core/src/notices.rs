//! Notifications as data: what happened, to what, with the few values its sentence needs. The
//! words and the page addresses are made where pages are made, for the person reading them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The kind of thing a notification is about: stored by its name, and counted by it in the
/// batched emails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Message,
    Task,
    Form,
    File,
    Folder,
    /// Any other kind of shared item.
    Item,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Message => "message",
            Kind::Task => "task",
            Kind::Form => "form",
            Kind::File => "file",
            Kind::Folder => "folder",
            Kind::Item => "item",
        }
    }
}

/// Who did it: someone at the firm or someone of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Firm,
    Client,
}

/// What was shared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shared {
    File,
    Folder,
    Other,
}

/// What happened. The thing it happened to (conversation, task, form assignment, file,
/// folder or shared item) is the notification's subject; this carries what else the sentence
/// and the address need, and is stored as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A conversation started or a reply.
    Message {
        from: Side,
    },
    /// The person was added to a conversation.
    AddedToConversation,
    TaskGiven,
    TaskDue,
    /// The firm sent a form to fill in.
    FormSent,
    FormSubmitted,
    /// The firm asked for changes to a submitted form.
    FormReopened,
    Shared {
        item: Shared,
    },
    /// A client uploaded a file of `client_id`'s.
    FileUploaded {
        client_id: Uuid,
    },
    /// The virus scanner quarantined a file of `client_id`'s.
    FileQuarantined {
        client_id: Uuid,
    },
    FileComment {
        from: Side,
    },
}

impl Event {
    pub fn kind(self) -> Kind {
        match self {
            Event::Message { .. } | Event::AddedToConversation => Kind::Message,
            Event::TaskGiven | Event::TaskDue => Kind::Task,
            Event::FormSent | Event::FormSubmitted | Event::FormReopened => Kind::Form,
            Event::Shared {
                item: Shared::Folder,
            } => Kind::Folder,
            Event::Shared {
                item: Shared::Other,
            } => Kind::Item,
            Event::Shared { item: Shared::File }
            | Event::FileUploaded { .. }
            | Event::FileQuarantined { .. }
            | Event::FileComment { .. } => Kind::File,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_stored_as_small_tagged_json() {
        let client_id = Uuid::nil();
        let cases = [
            (
                Event::Message { from: Side::Client },
                r#"{"event":"message","from":"client"}"#,
            ),
            (Event::TaskDue, r#"{"event":"task_due"}"#),
            (
                Event::Shared {
                    item: Shared::Folder,
                },
                r#"{"event":"shared","item":"folder"}"#,
            ),
            (
                Event::FileUploaded { client_id },
                r#"{"event":"file_uploaded","client_id":"00000000-0000-0000-0000-000000000000"}"#,
            ),
        ];
        for (event, json) in cases {
            assert_eq!(serde_json::to_string(&event).unwrap(), json);
            assert_eq!(serde_json::from_str::<Event>(json).unwrap(), event);
        }
    }
}
