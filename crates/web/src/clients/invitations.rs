//! Invitations mailed from the staff pages: the request's server settings put around the
//! set-password and access emails of `portico_services::invitations`.

use portico_db::DbError;
use portico_db::audit::Origin;
use portico_services::invitations::{Occasion, send_access_granted, send_set_password_link};

/// Mails a newly added portal user: a link to choose a password, or (for someone who already
/// has one) word that they now have access.
pub(crate) async fn mail_invitation(
    state: &crate::state::AppState,
    viewer: &portico_core::Viewer,
    user_id: uuid::Uuid,
    client_name: &str,
    by: &Origin,
) -> Result<(), DbError> {
    let user = portico_db::users::by_id(&state.db, user_id)
        .await?
        .ok_or(DbError::NotFound)?;
    let firm = portico_db::firms::of_viewer(&state.db, viewer).await?;
    let (origin_url, attempts) = (state.config.origin(), state.config.mail_attempts);
    let mut tx = state.db.begin().await?;
    if user.password_hash.is_none() {
        let occasion = Occasion::Invitation { client_name };
        send_set_password_link(&mut tx, &origin_url, &user, &firm, occasion, by, attempts).await?;
    } else {
        send_access_granted(&mut tx, &origin_url, &user, &firm, client_name, attempts).await?;
    }
    tx.commit().await?;
    state.jobs_waiting.notify_one();
    Ok(())
}

/// Sends an open invitation again with a fresh link; earlier links from this firm stop
/// working, so only the newest email can be used.
pub(crate) async fn resend(
    state: &crate::state::AppState,
    viewer: &portico_core::Viewer,
    client_id: uuid::Uuid,
    client_user_id: uuid::Uuid,
    by: &Origin,
) -> Result<(), DbError> {
    let invited =
        portico_db::clients::pending_invitation(&state.db, viewer, client_id, client_user_id)
            .await?;
    let client = portico_db::clients::get(&state.db, viewer, client_id).await?;
    let user = portico_db::users::by_id(&state.db, invited.user_id)
        .await?
        .ok_or(DbError::NotFound)?;
    let firm = portico_db::firms::of_viewer(&state.db, viewer).await?;
    let (origin_url, attempts) = (state.config.origin(), state.config.mail_attempts);
    let mut tx = state.db.begin().await?;
    portico_db::tokens::revoke(&mut tx, user.id, firm.id, portico_db::tokens::SET_PASSWORD).await?;
    let occasion = Occasion::Invitation {
        client_name: &client.name,
    };
    send_set_password_link(&mut tx, &origin_url, &user, &firm, occasion, by, attempts).await?;
    portico_db::audit::append(
        &mut tx,
        by,
        portico_db::audit::Event::new(Some(firm.id), "client.invitation.resend")
            .object("client", client.id)
            .detail(format!("user={}", user.id)),
    )
    .await?;
    tx.commit().await?;
    state.jobs_waiting.notify_one();
    Ok(())
}
