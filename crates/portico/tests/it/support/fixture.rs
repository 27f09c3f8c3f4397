//! Two firms with staff, clients, portal users and matters, made through the store functions.

use portico_core::{StaffRole, Viewer};
use portico_db::audit::Origin;
use portico_db::clients::{self, Client, NewClient};
use portico_db::matters::{self, Matter, NewMatter};
use portico_db::users::{self, Context};
use portico_db::{Db, system};
use tokio::sync::OnceCell;

pub const PASSWORD: &str = "correct horse battery staple";

/// One argon2 hash shared by every fixture account: hashing is slow on purpose.
async fn password_hash() -> String {
    static HASH: OnceCell<String> = OnceCell::const_new();
    HASH.get_or_init(|| async {
        portico_services::passwords::PasswordHasher::new(1)
            .hash(PASSWORD)
            .await
    })
    .await
    .clone()
}

pub struct FirmFixture {
    pub id: uuid::Uuid,
    pub slug: String,
    pub owner_email: String,
    pub owner: Viewer,
    pub member_email: String,
    pub clients: Vec<(Client, String, Vec<Matter>)>,
}

pub struct Fixture {
    pub a: FirmFixture,
    pub b: FirmFixture,
}

impl Fixture {
    pub async fn new(db: &Db) -> Fixture {
        Fixture {
            a: firm(db, "Alpha Legal", "alpha").await,
            b: firm(db, "Beta Law", "beta").await,
        }
    }
}

pub async fn set_password(db: &Db, user_id: uuid::Uuid) {
    let hash = password_hash().await;
    let mut tx = db.begin().await.unwrap();
    users::set_password_hash(&mut tx, user_id, &hash)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// The viewer of a client's first portal user.
pub async fn client_viewer(db: &Db, owner: &Viewer, client_id: uuid::Uuid) -> Viewer {
    let pu = clients::portal_users(db, owner, client_id)
        .await
        .unwrap()
        .remove(0);
    users::viewer_for(db, pu.user_id, Context::Client, pu.client_user_id)
        .await
        .unwrap()
        .unwrap()
}

async fn firm(db: &Db, name: &str, tag: &str) -> FirmFixture {
    let origin = Origin::system("test");
    let firm = system::firms::create(db, name, &origin).await.unwrap();
    let owner_email = format!("owner@{tag}.example");
    let (owner_user, owner_staff) = system::firms::add_staff(
        db,
        firm.id,
        &owner_email,
        "Olive Owner",
        StaffRole::Owner,
        &origin,
    )
    .await
    .unwrap();
    set_password(db, owner_user.id).await;
    let member_email = format!("member@{tag}.example");
    let (member, _) = system::firms::add_staff(
        db,
        firm.id,
        &member_email,
        "Mo Member",
        StaffRole::Member,
        &origin,
    )
    .await
    .unwrap();
    set_password(db, member.id).await;
    let owner = users::viewer_for(db, owner_user.id, Context::Staff, owner_staff)
        .await
        .unwrap()
        .unwrap();
    let mut list = Vec::new();
    for n in 1..=2 {
        let client = clients::create(
            db,
            &owner,
            &NewClient {
                kind: "person".into(),
                name: format!("{name} Client {n}"),
                email: None,
            },
            &origin,
        )
        .await
        .unwrap();
        let email = format!("client{n}@{tag}-clients.example");
        let pu = clients::add_portal_user(
            db,
            &owner,
            client.id,
            &email,
            &format!("Client {n} Person"),
            true,
            &origin,
        )
        .await
        .unwrap();
        set_password(db, pu.user_id).await;
        let mut ms = Vec::new();
        for m in 1..=2 {
            let new = NewMatter {
                title: format!("{name} matter {n}.{m}"),
                reference: format!("R-{n}{m}"),
                description: String::new(),
            };
            ms.push(
                matters::create(db, &owner, client.id, &new, &origin)
                    .await
                    .unwrap(),
            );
        }
        list.push((client, email, ms));
    }
    FirmFixture {
        id: firm.id,
        slug: firm.slug,
        owner_email,
        owner,
        member_email,
        clients: list,
    }
}
