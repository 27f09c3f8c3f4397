//! `portico demo`: the embedded defaults plus a small demo firm, so a newcomer can sign in as
//! staff and as a client at once. Logins are made on first start and kept in the data folder.

use std::fmt::Write as _;
use std::path::Path;

use portico_core::forms::{Condition, Definition, Field, Kind, Section};
use portico_core::{StaffRole, Viewer};
use portico_db::audit::Origin;
use portico_db::clients::{self, NewClient};
use portico_db::matters::{self, NewMatter};
use portico_db::users::{self, Context};
use portico_db::{Db, DbError, forms, system};
use portico_services::passwords::PasswordHasher;

use crate::config::{Config, ConfigError};
use crate::server;

const LOGINS_FILE: &str = "demo-logins.txt";

struct Person {
    side: &'static str,
    email: &'static str,
    name: &'static str,
}

const STAFF: [(Person, StaffRole); 2] = [
    (
        Person {
            side: "staff",
            email: "maya@alderfinch.example",
            name: "Maya Okafor",
        },
        StaffRole::Owner,
    ),
    (
        Person {
            side: "staff",
            email: "james@alderfinch.example",
            name: "James Whitlock",
        },
        StaffRole::Member,
    ),
];

struct DemoClient {
    name: &'static str,
    kind: &'static str,
    users: &'static [Person],
    matters: [(&'static str, &'static str, &'static str); 2],
}

const CLIENTS: [DemoClient; 3] = [
    DemoClient {
        name: "Daniel Reyes",
        kind: "person",
        users: &[Person {
            side: "client",
            email: "daniel.reyes@example.com",
            name: "Daniel Reyes",
        }],
        matters: [
            (
                "H-1B extension",
                "IMM-2026-014",
                "Extension of H-1B status with the current employer.",
            ),
            (
                "Green card (EB-2)",
                "IMM-2026-022",
                "Employment-based permanent residence, second preference.",
            ),
        ],
    },
    DemoClient {
        name: "Sofia Lindqvist",
        kind: "person",
        users: &[Person {
            side: "client",
            email: "sofia.lindqvist@example.com",
            name: "Sofia Lindqvist",
        }],
        matters: [
            (
                "Naturalisation (N-400)",
                "IMM-2026-031",
                "Application for citizenship.",
            ),
            (
                "Travel document",
                "IMM-2026-035",
                "Re-entry permit for travel while the application is pending.",
            ),
        ],
    },
    DemoClient {
        name: "Brightwater Robotics Ltd",
        kind: "organisation",
        users: &[
            Person {
                side: "client",
                email: "priya@brightwater.example",
                name: "Priya Nair",
            },
            Person {
                side: "client",
                email: "tom@brightwater.example",
                name: "Tom Becker",
            },
        ],
        matters: [
            (
                "Trademark: BRIGHTWATER",
                "TM-2026-007",
                "Word mark in classes 7 and 9.",
            ),
            (
                "Employee visas 2026",
                "IMM-2026-040",
                "Visas for three engineers joining in spring.",
            ),
        ],
    },
];

fn password() -> String {
    // 43 random characters; shown once on the console and kept in the data folder.
    format!("demo-{}", &portico_services::tokens::new_token()[..16])
}

async fn create(db: &Db, hasher: &PasswordHasher) -> Result<String, DbError> {
    let origin = Origin::system("demo");
    let firm = system::firms::create(db, "Alder & Finch Law", &origin).await?;
    let mut logins = String::new();
    let mut owner = None;
    for (p, role) in &STAFF {
        let (user, staff_id) =
            system::firms::add_staff(db, firm.id, p.email, p.name, *role, &origin).await?;
        set_password(db, hasher, user.id, p, &mut logins).await?;
        if owner.is_none() {
            owner = users::viewer_for(db, user.id, Context::Staff, staff_id).await?;
        }
    }
    let owner = owner.ok_or(DbError::NotFound)?;
    let intake = intake_form(db, &owner, &origin).await?;
    for (i, c) in CLIENTS.iter().enumerate() {
        let client = clients::create(
            db,
            &owner,
            &NewClient {
                kind: c.kind.into(),
                name: c.name.into(),
                email: None,
            },
            &origin,
        )
        .await?;
        for (j, p) in c.users.iter().enumerate() {
            let u =
                clients::add_portal_user(db, &owner, client.id, p.email, p.name, j == 0, &origin)
                    .await?;
            set_password(db, hasher, u.user_id, p, &mut logins).await?;
        }
        for (title, reference, description) in c.matters {
            let m = NewMatter {
                title: title.into(),
                reference: reference.into(),
                description: description.into(),
            };
            let matter = matters::create(db, &owner, client.id, &m, &origin).await?;
            // One closed matter shows that closing hides it from the client.
            if i == 1 && reference.ends_with("035") {
                matters::set_portal_open(db, &owner, matter.id, false, &origin).await?;
            }
        }
        if i == 0 {
            let send = forms::Send {
                template_id: intake,
                client_id: client.id,
                ..Default::default()
            };
            forms::send(db, &owner, &send, &origin).await?;
        }
    }
    Ok(logins)
}

/// A short intake questionnaire, sent to the first client: two pages, a question shown for
/// one answer, and a signature.
async fn intake_form(db: &Db, owner: &Viewer, origin: &Origin) -> Result<uuid::Uuid, DbError> {
    let q = |id: &str, kind: Kind, label: &str, required: bool| Field {
        id: id.into(),
        kind,
        label: label.into(),
        help: String::new(),
        required,
        options: Vec::new(),
        min: None,
        max: None,
        pattern: String::new(),
        show_if: None,
        consent: String::new(),
    };
    let mut employer = q("q4", Kind::ShortText, "Employer's name", true);
    employer.show_if = Some(Condition {
        field: "q3".into(),
        equals: "yes".into(),
    });
    let mut sign = q("q7", Kind::Signature, "Signature", true);
    sign.consent = "I confirm that my answers are true and complete, and that typing my name \
                    here is my electronic signature."
        .into();
    let definition = Definition {
        sections: vec![
            Section {
                title: "About you".into(),
                help: "Tell us who you are; it takes about five minutes.".into(),
                fields: vec![
                    q("q1", Kind::ShortText, "Full legal name", true),
                    q("q2", Kind::Date, "Date of birth", true),
                    q("q3", Kind::YesNo, "Are you currently employed?", true),
                    employer,
                ],
            },
            Section {
                title: "Contact and signature".into(),
                help: String::new(),
                fields: vec![
                    q("q5", Kind::Address, "Home address", true),
                    q("q6", Kind::Phone, "Phone number", false),
                    sign,
                ],
            },
        ],
        next_field: 7,
    };
    let id = forms::create_template(db, owner, "Client intake questionnaire", "", origin).await?;
    forms::save_definition(db, owner, id, 1, &definition, origin).await?;
    Ok(id)
}

async fn set_password(
    db: &Db,
    hasher: &PasswordHasher,
    user_id: uuid::Uuid,
    p: &Person,
    logins: &mut String,
) -> Result<(), DbError> {
    let pw = password();
    let hash = hasher.hash(&pw).await;
    let mut tx = db.begin().await?;
    users::set_password_hash(&mut tx, user_id, &hash).await?;
    tx.commit().await?;
    let _ = writeln!(logins, "login: {} {} {}", p.side, p.email, pw);
    Ok(())
}

fn save_logins(dir: &Path, logins: &str) -> std::io::Result<()> {
    let path = dir.join(LOGINS_FILE);
    std::fs::write(&path, logins)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

pub async fn run(config: Config) -> Result<(), ConfigError> {
    let services = server::open(&config).await?;
    let db = services.db.clone();
    let existing = system::firms::all(&db)
        .await
        .map_err(|e| ConfigError(e.to_string()))?;
    let logins = if existing.is_empty() {
        let logins = create(&db, &services.hasher)
            .await
            .map_err(|e| ConfigError(format!("demo data: {e}")))?;
        save_logins(&config.data, &logins).map_err(|e| {
            ConfigError(format!(
                "data: cannot write {}: {e}",
                config.data.join(LOGINS_FILE).display()
            ))
        })?;
        logins
    } else {
        std::fs::read_to_string(config.data.join(LOGINS_FILE)).unwrap_or_default()
    };
    let running = server::start(&config, services).await?;
    let url = match &config.public_url {
        Some(u) => u.clone(),
        None => format!("http://{}", running.addr),
    };
    println!("Portico demo is running at {url}");
    print!("{logins}");
    println!(
        "Data folder: {} (delete it to start over). Press Ctrl-C to stop.",
        config.data.display()
    );
    running.until_signal().await;
    Ok(())
}
