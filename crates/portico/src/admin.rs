//! Operator commands: firms, staff accounts, API tokens, bulk data, the job queue.

use clap::Subcommand;
use portico_core::{StaffRole, Viewer};
use portico_db::audit::Origin;
use portico_db::users::{self, Context};
use portico_db::{Db, firms, system};
use portico_services::invitations::{Occasion, send_set_password_link};
use portico_services::tokens::{hash_token, new_token};

use crate::config::{Config, ConfigError};
use crate::server::open_db;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create a firm.
    CreateFirm {
        #[arg(long)]
        name: String,
    },
    /// Add a staff member to a firm and print a one-time link to choose a password.
    CreateStaff {
        /// The firm's short name (shown by create-firm).
        #[arg(long)]
        firm: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// owner, admin or member
        #[arg(long, default_value = "member")]
        role: String,
    },
    /// Print a new API token for a staff member.
    CreateApiToken {
        #[arg(long)]
        firm: String,
        #[arg(long)]
        email: String,
        /// What the token is for, e.g. "billing sync".
        #[arg(long, default_value = "integration")]
        name: String,
    },
    /// Add bulk clients with matters, for benchmarks.
    Seed {
        /// The firm's short name; a new firm "Seed Firm" when omitted.
        #[arg(long)]
        firm: Option<String>,
        #[arg(long, default_value_t = 1000)]
        clients: u32,
        /// Matters per client.
        #[arg(long, default_value_t = 2)]
        items: u32,
        /// A staff member of the firm (by email) who writes one comment on every matter.
        #[arg(long)]
        staff: Option<String>,
        /// Invite this email as a portal user of the first seeded client (needs --staff) and
        /// print its set-password link.
        #[arg(long, requires = "staff")]
        portal_user: Option<String>,
    },
    /// List jobs that gave up: after their last retry, or at once on a permanent failure.
    FailedJobs,
    /// Put a job that gave up back in the queue for a fresh round of attempts.
    RetryJob {
        /// The job's id, as `failed-jobs` lists it.
        id: uuid::Uuid,
    },
}

fn cli_origin() -> Origin {
    Origin::system("cli")
}

fn db_err(e: portico_db::DbError) -> ConfigError {
    ConfigError(e.to_string())
}

async fn firm_by_slug(db: &Db, slug: &str) -> Result<firms::Firm, ConfigError> {
    firms::by_slug(db, slug)
        .await
        .map_err(db_err)?
        .ok_or_else(|| ConfigError(format!("--firm: no firm has the short name `{slug}`")))
}

/// Staff member of a firm by email, as a viewer.
async fn staff_viewer(db: &Db, firm: &firms::Firm, email: &str) -> Result<Viewer, ConfigError> {
    let email = portico_core::validate::email(email)
        .map_err(|e| ConfigError(format!("--email: {}", e.message)))?;
    let not_staff = || ConfigError(format!("--email: {email} is not staff of {}", firm.name));
    let user = users::by_email(db, &email)
        .await
        .map_err(db_err)?
        .ok_or_else(not_staff)?;
    let m = users::memberships(db, user.id)
        .await
        .map_err(db_err)?
        .into_iter()
        .find(|m| m.context == "staff" && m.firm_id == firm.id)
        .ok_or_else(not_staff)?;
    users::viewer_for(db, user.id, Context::Staff, m.membership_id)
        .await
        .map_err(db_err)?
        .ok_or_else(not_staff)
}

/// Issues a set-password link for a new account, mails it, and returns it.
pub async fn set_password_link(
    db: &Db,
    config: &Config,
    user: &users::User,
    firm: &firms::Firm,
    occasion: Occasion<'_>,
) -> Result<String, ConfigError> {
    let origin_url = config.public_url()?.origin().ascii_serialization();
    let mut tx = db.begin().await.map_err(db_err)?;
    let link = send_set_password_link(
        &mut tx,
        &origin_url,
        user,
        firm,
        occasion,
        &cli_origin(),
        config.jobs.max_attempts,
    )
    .await
    .map_err(db_err)?;
    tx.commit().await.map_err(db_err)?;
    Ok(link)
}

pub async fn run(config: &Config, cmd: AdminCommand) -> Result<(), ConfigError> {
    let db = open_db(config).await?;
    let result = run_on(&db, config, cmd).await;
    db.close().await;
    result
}

async fn run_on(db: &Db, config: &Config, cmd: AdminCommand) -> Result<(), ConfigError> {
    match cmd {
        AdminCommand::CreateFirm { name } => {
            let firm = system::firms::create(db, &name, &cli_origin())
                .await
                .map_err(|e| ConfigError(format!("--name: {e}")))?;
            println!("created firm {} (short name: {})", firm.name, firm.slug);
        }
        AdminCommand::CreateStaff {
            firm,
            email,
            name,
            role,
        } => {
            let firm = firm_by_slug(db, &firm).await?;
            let role = StaffRole::parse(&role).ok_or_else(|| {
                ConfigError(format!(
                    "--role: `{role}` is unknown; use owner, admin or member"
                ))
            })?;
            let (user, _) =
                system::firms::add_staff(db, firm.id, &email, &name, role, &cli_origin())
                    .await
                    .map_err(|e| ConfigError(format!("--email: {e}")))?;
            let link = set_password_link(db, config, &user, &firm, Occasion::StaffAccount).await?;
            println!("added {} to {} as {}", user.email, firm.name, role.as_str());
            println!("set-password link (works once, for 7 days): {link}");
        }
        AdminCommand::CreateApiToken { firm, email, name } => {
            let firm = firm_by_slug(db, &firm).await?;
            let viewer = staff_viewer(db, &firm, &email).await?;
            let token = new_token();
            portico_db::api_tokens::create(db, &viewer, &name, &hash_token(&token), &cli_origin())
                .await
                .map_err(|e| ConfigError(format!("--name: {e}")))?;
            println!("{token}");
        }
        AdminCommand::Seed {
            firm,
            clients,
            items,
            staff,
            portal_user,
        } => {
            let firm = match firm {
                Some(slug) => firm_by_slug(db, &slug).await?,
                None => system::firms::create(db, "Seed Firm", &cli_origin())
                    .await
                    .map_err(db_err)?,
            };
            let staff = match staff {
                Some(email) => Some(staff_viewer(db, &firm, &email).await?),
                None => None,
            };
            let started = std::time::Instant::now();
            let author = staff.as_ref().map(Viewer::user_id);
            let ids = system::seed::clients_with_matters(
                db,
                firm.id,
                clients,
                items,
                author,
                &cli_origin(),
            )
            .await
            .map_err(db_err)?;
            println!(
                "seeded {clients} clients with {items} matters each into {} ({}) in {:.1} s",
                firm.name,
                firm.slug,
                started.elapsed().as_secs_f64()
            );
            if let (Some(email), Some(staff), Some(first)) = (portal_user, staff, ids.first()) {
                let pu = portico_db::clients::add_portal_user(
                    db,
                    &staff,
                    *first,
                    &email,
                    "Seeded Client",
                    true,
                    &cli_origin(),
                )
                .await
                .map_err(|e| ConfigError(format!("--portal-user: {e}")))?;
                let user = users::by_id(db, pu.user_id)
                    .await
                    .map_err(db_err)?
                    .ok_or_else(|| ConfigError("--portal-user: not found".into()))?;
                let client = portico_db::clients::get(db, &staff, *first)
                    .await
                    .map_err(db_err)?;
                let occasion = Occasion::Invitation {
                    client_name: &client.name,
                };
                let link = set_password_link(db, config, &user, &firm, occasion).await?;
                println!("portal user {email} of the first client; set-password link: {link}");
            }
        }
        AdminCommand::FailedJobs => {
            for job in system::jobs::with_status(db, "failed", 100)
                .await
                .map_err(db_err)?
            {
                println!(
                    "{} {} attempts={} created={} error={}",
                    job.id, job.kind, job.attempts, job.created_at, job.last_error
                );
            }
        }
        AdminCommand::RetryJob { id } => {
            if system::jobs::retry(db, id).await.map_err(db_err)? {
                println!("job {id} is queued again");
            } else {
                return Err(ConfigError(format!(
                    "retry-job: no job {id} has given up; `portico admin failed-jobs` lists those that have"
                )));
            }
        }
    }
    Ok(())
}
