//! Staff find clients by any part of their name, through the names' trigram index.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

const NAMES: [&str; 5] = [
    "\"Quoted\" Holdings",
    "100% Pure_Water Ltd",
    "Back\\slash & Sons",
    "O'Brien Partners",
    "Near Star Co-op",
];

both! {
    async fn staff_find_clients_by_any_part_of_a_name_and_typed_text_is_taken_literally(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        for name in NAMES {
            let r = staff.submit("/staff/clients", "/staff/clients", &[("name", name), ("kind", "organisation"), ("email", "")]).await;
            assert_eq!(r.status, 303, "{name}");
        }
        let found = |body: &str| -> Vec<&'static str> {
            NAMES.iter().copied().filter(|n| {
                let shown = n.replace('&', "&#38;").replace('"', "&#34;").replace('\'', "&#39;");
                body.contains(n) || body.contains(&shown)
                    || body.contains(&n.replace('&', "&amp;").replace('"', "&quot;").replace('\'', "&#x27;"))
            }).collect()
        };
        let cases: [(&str, &[&str]); 11] = [
            ("quoted", &[NAMES[0]]),
            ("\"Quoted\"", &[NAMES[0]]),
            ("100%", &[NAMES[1]]),
            ("%", &[NAMES[1]]),
            ("_", &[NAMES[1]]),
            ("e_w", &[NAMES[1]]),
            ("k\\s", &[NAMES[2]]),
            ("'b", &[NAMES[3]]),
            ("ar st", &[NAMES[4]]),
            // Full-text syntax is text like any other.
            ("NEAR(star co)", &[]),
            ("* OR -", &[]),
        ];
        for (q, expected) in cases {
            let url = format!("/staff/clients?q={}", urlencode(q));
            let page = staff.get(&url).await;
            assert_eq!(page.status, 200, "{q}");
            assert_eq!(found(&page.body), expected.to_vec(), "search {q:?}");
        }
        // The fixture's clients are found by a part of their names, and only this firm's.
        let page = staff.get("/staff/clients?q=egal+Client").await;
        assert!(page.body.contains("Alpha Legal Client 1") && !page.body.contains("Beta Law"));
        let page = staff.get("/staff/clients?q=Beta").await;
        assert!(!page.body.contains("Beta Law Client"));

        // A renamed client is found by its new name only.
        let id = f.a.clients[0].0.id;
        match &app.db {
            portico_db::Db::Sqlite(p) => { sqlx::query("UPDATE clients SET name = 'Renamed Rivera' WHERE id = $1").bind(id).execute(p).await.unwrap(); }
            portico_db::Db::Postgres(p) => { sqlx::query("UPDATE clients SET name = 'Renamed Rivera' WHERE id = $1").bind(id).execute(p).await.unwrap(); }
        }
        assert!(staff.get("/staff/clients?q=rivera").await.body.contains("Renamed Rivera"));
        assert!(!staff.get("/staff/clients?q=Legal+Client+1").await.body.contains(&format!("/staff/clients/{id}\"")));
        app.stop().await;
    }
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
