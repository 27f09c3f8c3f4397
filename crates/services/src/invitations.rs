//! One-time set-password links, mailed: for staff accounts made by an operator and for client
//! users invited by staff. The link and its email are written in one transaction with the
//! audit event, so a link exists if and only if its email is queued.

use portico_db::audit::{self, Event, Origin};
use portico_db::firms::Firm;
use portico_db::users::User;
use portico_db::{DbError, Tx, tokens};
use portico_mail::Email;

use crate::email::{SECRET_SLOT, queue_email, queue_email_with_secret};
use crate::tokens::{hash_token, new_token};

/// The HTML part of an email that carries one link: the firm's name and colour, one button.
#[derive(askama::Template)]
#[template(path = "email_link.html")]
struct LinkEmail<'a> {
    firm_name: &'a str,
    colour: String,
    name: &'a str,
    why: &'a str,
    link: &'a str,
    action: &'a str,
    note: &'a str,
}

pub fn link_html(
    firm: &Firm,
    name: &str,
    why: &str,
    link: &str,
    action: &str,
    note: &str,
) -> Option<String> {
    use askama::Template;
    // The colour was validated when saved; anything else falls back to the default.
    let colour =
        portico_core::validate::colour(&firm.brand_colour).unwrap_or_else(|_| "#1f5fa8".into());
    LinkEmail {
        firm_name: &firm.name,
        colour,
        name,
        why,
        link,
        action,
        note,
    }
    .render()
    .ok()
}

/// How long a set-password link works.
pub const LINK_DAYS: i64 = 7;

/// Why the person is getting the link; it decides the email's words.
pub enum Occasion<'a> {
    /// An operator created a staff account.
    StaffAccount,
    /// Staff invited the person to a client's portal.
    Invitation { client_name: &'a str },
    /// The person asked to reset a forgotten password.
    Reset,
    /// The person's earlier link had expired or been used, and they asked for a new one.
    Renewal,
    /// Signed in from an access link, the person asked for a login of their own.
    CreateLogin,
}

/// Issues a single-use link for `user` to choose a password, mails it, and returns it.
pub async fn send_set_password_link(
    tx: &mut Tx,
    origin_url: &str,
    user: &User,
    firm: &Firm,
    occasion: Occasion<'_>,
    by: &Origin,
    max_attempts: i64,
) -> Result<String, DbError> {
    let token = new_token();
    let link = format!("{origin_url}/set-password/{SECRET_SLOT}");
    let (subject, why) = match &occasion {
        Occasion::StaffAccount => (
            format!("Your {} portal account", firm.name),
            format!(
                "An account was created for you on the {} portal.",
                firm.name
            ),
        ),
        Occasion::Invitation { client_name } => (
            format!("Confirm your email and set your password for {}", firm.name),
            format!(
                "{} invited you to their secure client portal for {client_name}.",
                firm.name
            ),
        ),
        Occasion::Reset => (
            format!("Reset your {} portal password", firm.name),
            "Someone, hopefully you, asked to reset your password.".to_string(),
        ),
        Occasion::CreateLogin => (
            format!("Create your login for the {} portal", firm.name),
            "You asked for a login of your own, so that you can sign in without an emailed link."
                .to_string(),
        ),
        Occasion::Renewal => (
            format!("Your new link for the {} portal", firm.name),
            "You asked for a new link because the earlier one had expired or was already used."
                .to_string(),
        ),
    };
    // A reset link is short-lived: it arrives while the person waits for it.
    let (valid, lifetime) = match occasion {
        Occasion::Reset | Occasion::CreateLogin => {
            (time::Duration::hours(1), "one hour".to_string())
        }
        _ => (time::Duration::days(LINK_DAYS), format!("{LINK_DAYS} days")),
    };
    let email = Email {
        to: user.email.clone(),
        subject,
        text: format!(
            "Hello {},\n\n{why}\nChoose your password here (the link works once, for {lifetime}):\n\n{link}\n\nIf you did not expect this email, you can ignore it.\n",
            user.name
        ),
        html: link_html(
            firm,
            &user.name,
            &why,
            &link,
            "Choose your password",
            &format!("The link works once, for {lifetime}."),
        ),
        sender_name: Some(firm.name.clone()),
    };
    tokens::issue(
        tx,
        &hash_token(&token),
        tokens::SET_PASSWORD,
        user.id,
        Some(firm.id),
        valid,
    )
    .await?;
    queue_email_with_secret(tx, Some(firm.id), &email, &token, max_attempts).await?;
    audit::append(
        tx,
        by,
        Event::new(Some(firm.id), "auth.password_link.issue").object("user", user.id),
    )
    .await?;
    Ok(format!("{origin_url}/set-password/{token}"))
}

/// Tells a person who already has a password that they can now see another client's portal.
pub async fn send_access_granted(
    tx: &mut Tx,
    origin_url: &str,
    user: &User,
    firm: &Firm,
    client_name: &str,
    max_attempts: i64,
) -> Result<(), DbError> {
    let why = format!(
        "{} gave you access to their secure client portal for {client_name}.",
        firm.name
    );
    let link = format!("{origin_url}/login?firm={}", firm.slug);
    let email = Email {
        to: user.email.clone(),
        subject: format!(
            "You now have access to {}'s portal for {client_name}",
            firm.name
        ),
        text: format!(
            "Hello {},\n\n{why}\nSign in with your existing password:\n\n{link}\n",
            user.name
        ),
        html: link_html(
            firm,
            &user.name,
            &why,
            &link,
            "Sign in",
            "Sign in with your existing password.",
        ),
        sender_name: Some(firm.name.clone()),
    };
    queue_email(tx, Some(firm.id), &email, max_attempts).await
}
