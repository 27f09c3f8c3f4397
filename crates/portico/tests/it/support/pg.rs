//! A fresh PostgreSQL database per test, on the server named by PORTICO_TEST_DATABASE_URL
//! (`scripts/test` starts a throwaway one).

use sqlx::Connection;

/// The admin URL, if set. In CI a missing server is an error, not a skip.
pub fn admin_url() -> Option<String> {
    std::env::var("PORTICO_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

pub fn available() -> bool {
    if admin_url().is_some() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "PORTICO_TEST_DATABASE_URL is not set in CI: the PostgreSQL arm cannot be skipped here"
        );
    }
    eprintln!(
        "NOTICE: PostgreSQL test skipped: PORTICO_TEST_DATABASE_URL is not set (scripts/test sets it)"
    );
    false
}

/// Creates an empty database and returns its URL.
pub async fn fresh_database() -> String {
    let admin = admin_url().expect("PORTICO_TEST_DATABASE_URL");
    let name = format!("portico_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin)
        .await
        .expect("connect to the test PostgreSQL server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create a test database");
    conn.close().await.ok();
    let mut url = url::Url::parse(&admin).expect("admin URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}
