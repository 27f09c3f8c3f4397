//! One email as Portico queues it, and its conversion into a MIME message.

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use serde::{Deserialize, Serialize};

use crate::MailError;

/// One email. It travels through the job table as JSON, so it holds only plain data and is
/// checked when sent, not when queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub text: String,
    /// When present, sent alongside `text` as multipart/alternative: clients that cannot or will
    /// not show HTML still read the text.
    pub html: Option<String>,
    /// The name the email is sent under (the firm's), with the configured sender's address.
    /// Without one, the configured sender's own name is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
}

impl Email {
    /// Builds the MIME message. lettre encodes headers, so a subject or name cannot add headers.
    pub(crate) fn to_message(&self, from: &Mailbox) -> Result<Message, MailError> {
        let to: Mailbox = self.to.parse().map_err(|e| {
            MailError::Address(format!("`{}` is not a valid address: {e}", self.to))
        })?;
        let from = match &self.sender_name {
            Some(name) => Mailbox::new(Some(name.clone()), from.email.clone()),
            None => from.clone(),
        };
        let builder = Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject.as_str())
            .message_id(None);
        let built = match &self.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                self.text.clone(),
                html.clone(),
            )),
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(self.text.clone()),
        };
        // From and To are set and valid above, so what remains is the recipient's envelope.
        built.map_err(|e| MailError::Address(format!("`{}`: {e}", self.to)))
    }
}
