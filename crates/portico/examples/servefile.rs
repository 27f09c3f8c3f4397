//! A bare static file server, tower-http's ServeFile: the baseline `bench/files.sh` compares
//! Portico's downloads against, on the same file and with the same client.

use axum::Router;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(path)) = (args.next(), args.next()) else {
        eprintln!("usage: servefile ADDR FILE");
        std::process::exit(2);
    };
    let app = Router::new().route_service("/file", tower_http::services::ServeFile::new(path));
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
