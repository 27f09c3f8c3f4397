//! Real servers the tests talk to (PostgreSQL, an SMTP sink, an S3-compatible store), the
//! `TestApp` that runs Portico on 127.0.0.1:0, and a small cookie-keeping browser.

pub mod app;
pub mod browser;
pub mod clamd;
pub mod fixture;
pub mod pg;
pub mod s3;
pub mod smtp;
pub mod webdriver;

pub use app::{Backend, TestApp};
pub use browser::Browser;
pub use fixture::Fixture;

/// Sends an oversized body. The server answers 413 as soon as it sees the length, and may close
/// the connection while the client is still writing; then the client sees no answer at all,
/// so the request is tried again until the answer is read.
pub async fn send_oversized(make: impl Fn() -> reqwest::RequestBuilder) -> reqwest::Response {
    let mut last = None;
    for _ in 0..10 {
        match make().send().await {
            Ok(res) => return res,
            Err(e) => last = Some(e),
        }
    }
    panic!("no answer to an oversized request: {last:?}");
}

/// Writes one test per database from one body. The body receives the `backend`; PostgreSQL
/// arms are skipped with a printed notice where no server is available (never in CI).
#[macro_export]
macro_rules! both {
    ($(async fn $name:ident($backend:ident: $ty:ty) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;
                async fn scenario($backend: $ty) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    scenario($crate::support::Backend::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::support::pg::available() {
                        scenario($crate::support::Backend::Postgres).await
                    }
                }
            }
        )*
    };
}
