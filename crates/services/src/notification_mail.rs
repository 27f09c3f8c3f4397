//! Notification emails: each person's waiting notifications go out as one email when their
//! batch is due. The email says what kinds of thing arrived and how many, and links to the
//! portal; it never carries a title, a name of a file or a word of a message.

use portico_db::notifications::{Batch, Batching};
use portico_db::{Db, DbError, firms, system};
use portico_mail::Email;

use crate::MailSettings;
use crate::email::queue_email;
use crate::invitations::link_html;
use crate::jobs::{Context, Ran, Registry, When};

/// Queues the emails of every batch that is due; returns how many were queued. Safe to run on
/// several servers at once: each batch is taken by exactly one of them.
pub async fn send_due(
    db: &Db,
    config: &MailSettings,
    batching: Batching,
) -> Result<usize, DbError> {
    let mut queued = 0;
    for (user_id, firm_id) in system::notifications::due(db, batching, 100).await? {
        let Some(firm) = firms::by_id(db, firm_id).await? else {
            continue;
        };
        let mut tx = db.begin().await?;
        let Some(batch) = system::notifications::take(&mut tx, user_id, firm_id).await? else {
            continue;
        };
        queue_email(
            &mut tx,
            Some(firm.id),
            &compose(&firm, &batch, config),
            config.mail_attempts,
        )
        .await?;
        tx.commit().await?;
        queued += 1;
    }
    Ok(queued)
}

/// Batches are looked for on every pass of the worker, so one that falls due goes out within
/// a poll.
pub fn register(registry: &mut Registry) {
    registry.schedule("queue notification emails", When::EveryPass, |context| {
        Box::pin(send_batches(context))
    });
}

async fn send_batches(context: &Context) -> Ran {
    Ok(send_due(&context.db, &context.mail, context.batching).await?)
}

fn plural(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("a {one}")
    } else {
        format!("{n} {many}")
    }
}

fn describe(kind: &str, n: i64) -> String {
    match kind {
        "message" => plural(n, "new secure message", "new secure messages"),
        "file" => plural(n, "new file", "new files"),
        _ => plural(n, "new update", "new updates"),
    }
}

fn compose(firm: &firms::Firm, batch: &Batch, config: &MailSettings) -> Email {
    let parts: Vec<String> = batch.counts.iter().map(|(k, n)| describe(k, *n)).collect();
    let what = match parts.as_slice() {
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        [] => "something new".into(),
    };
    let subject = match batch.counts.as_slice() {
        [(kind, n)] if kind == "message" => {
            format!("You have {} from {}", describe(kind, *n), firm.name)
        }
        _ => format!("New in your {} portal", firm.name),
    };
    let link = config.link("/notifications");
    let why = format!("You have {what} in the {} secure portal.", firm.name);
    let note = "For your privacy this email does not contain the messages or documents themselves. \
                You can choose how often you hear from the portal on your profile.";
    Email {
        to: batch.email.clone(),
        subject,
        text: format!(
            "Hello {},\n\n{why}\nLog in to read {}:\n\n{link}\n\n{note}\n",
            batch.name,
            if batch.counts.iter().map(|(_, n)| n).sum::<i64>() == 1 {
                "it"
            } else {
                "them"
            },
        ),
        html: link_html(firm, &batch.name, &why, &link, "Log in to read", note),
        sender_name: Some(firm.name.clone()),
    }
}
