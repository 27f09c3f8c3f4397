//! Ids in page addresses: anything that is not an id is simply not found, on either side, for
//! reading and for posting, and nothing of another firm answers differently.

use crate::both;
use crate::support::fixture::PASSWORD;
use crate::support::{Backend, Fixture, TestApp};

both! {
    async fn a_malformed_id_in_an_address_is_not_found(backend: Backend) {
        let app = TestApp::start(backend).await;
        let f = Fixture::new(&app.db).await;
        let staff = app.browser();
        staff.login(&f.a.owner_email, PASSWORD).await;
        let client = app.browser();
        client.login(&f.a.clients[0].1, PASSWORD).await;
        let csrf = staff.get("/staff/clients").await.csrf();
        for bad in ["x", "1", "00000000-0000-0000-0000", "null", "..%2F..%2Fetc"] {
            for path in [
                format!("/staff/clients/{bad}"),
                format!("/staff/clients/{bad}/files"),
                format!("/staff/messages/{bad}"),
                format!("/staff/matters/{bad}"),
                format!("/staff/forms/{bad}"),
                format!("/files/{bad}"),
                format!("/files/{bad}/comments"),
            ] {
                assert_eq!(staff.get(&path).await.status, 404, "GET {path}");
            }
            for path in [
                format!("/portal/messages/{bad}"),
                format!("/portal/forms/{bad}"),
                format!("/portal/matters/{bad}"),
                format!("/files/{bad}/preview"),
            ] {
                assert_eq!(client.get(&path).await.status, 404, "GET {path}");
            }
            for path in [
                format!("/staff/tasks/{bad}/done"),
                format!("/folders/{bad}/rename"),
                format!("/staff/messages/{bad}/reply"),
            ] {
                let page = staff.post(&path, &[("csrf", &csrf), ("name", "n"), ("body", "b")]).await;
                assert_eq!(page.status, 404, "POST {path}");
            }
        }
        app.stop().await;
    }
}
