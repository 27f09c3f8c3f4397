//! Emails sent through the job queue: queued in the caller's transaction, so an email exists
//! if and only if the change that needs it commits, and sent by whichever server's worker
//! claims it.

use portico_db::jobs::{self, Job, Kind};
use portico_db::{DbError, Tx};
use portico_mail::Email;
use uuid::Uuid;

use crate::jobs::{Context, Failure, Registry};

/// Queues an email inside the caller's transaction: it is sent if and only if the change commits.
/// `firm` is the firm it is sent for, whose administrators see it if it cannot be delivered.
pub async fn queue_email(
    tx: &mut Tx,
    firm: Option<Uuid>,
    email: &Email,
    max_attempts: i64,
) -> Result<(), DbError> {
    let payload = serde_json::to_string(email).expect("emails serialise");
    jobs::enqueue(tx, firm, EMAIL, &payload, max_attempts).await?;
    Ok(())
}

/// Where the token goes in an email that carries a sign-in link: the queued email holds this
/// mark, the token waits beside it until sending (see `portico_db::job_secrets`), and
/// [`reveal`] puts it in place as the email leaves.
pub const SECRET_SLOT: &str = "{{secret}}";

/// Queues an email whose text carries [`SECRET_SLOT`] for `secret`, in the caller's
/// transaction. Once it is delivered or given up, no copy of the secret remains.
pub async fn queue_email_with_secret(
    tx: &mut Tx,
    firm: Option<Uuid>,
    email: &Email,
    secret: &str,
    max_attempts: i64,
) -> Result<(), DbError> {
    let payload = serde_json::to_string(email).expect("emails serialise");
    portico_db::job_secrets::enqueue(tx, firm, EMAIL, &payload, secret, max_attempts).await?;
    Ok(())
}

/// The email as it is sent: its secret in place. An email that needs a secret it no longer
/// has (sent already, or given up and queued again by hand) is refused rather than sent with a
/// broken link.
pub fn reveal(mut email: Email, secret: Option<&str>) -> Result<Email, String> {
    let needs = email.text.contains(SECRET_SLOT)
        || email
            .html
            .as_deref()
            .is_some_and(|h| h.contains(SECRET_SLOT));
    match (needs, secret) {
        (false, _) => Ok(email),
        (true, None) => Err(
            "this email's link was already sent or given up; the person can ask for a new one"
                .into(),
        ),
        (true, Some(secret)) => {
            email.text = email.text.replace(SECRET_SLOT, secret);
            email.html = email.html.map(|h| h.replace(SECRET_SLOT, secret));
            Ok(email)
        }
    }
}

/// The job that sends one queued email.
pub const EMAIL: Kind = Kind::new("email");

pub fn register(registry: &mut Registry) {
    registry.job(EMAIL, |context, job| Box::pin(send(context, job)));
}

/// Sends an email job, its link's secret put in place; the database forgets the secret once
/// the job is done or gives up.
async fn send(context: &Context, job: &Job) -> Result<(), Failure> {
    let email = serde_json::from_str::<Email>(&job.payload)
        .map_err(|e| Failure::permanent(format!("unreadable email job: {e}")))?;
    let secret = portico_db::system::jobs::secret_of(&context.db, job.id)
        .await
        .map_err(|e| Failure::retry(e.to_string()))?;
    // Without its secret the email's link cannot be made again: nothing to retry.
    let email = reveal(email, secret.as_deref()).map_err(Failure::permanent)?;
    context.mailer.send(&email).await.map_err(|e| Failure {
        error: e.to_string(),
        permanent: e.is_permanent(),
    })
}
