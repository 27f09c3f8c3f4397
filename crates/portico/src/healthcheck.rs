//! `portico healthcheck`: a plain HTTP/1.1 GET of /healthz, for container and service checks.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::ConfigError;

pub async fn check(base: &str) -> Result<(), ConfigError> {
    let url =
        url::Url::parse(base).map_err(|_| ConfigError(format!("--url: `{base}` is not a URL")))?;
    if url.scheme() != "http" {
        return Err(ConfigError(format!(
            "--url: use the plain http address of the server, not `{base}`"
        )));
    }
    let host = url.host_str().unwrap_or("127.0.0.1").to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let attempt = async {
        let mut stream = TcpStream::connect((host.as_str(), port)).await?;
        let req =
            format!("GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
        stream.write_all(req.as_bytes()).await?;
        let mut head = vec![0_u8; 64];
        let n = stream.read(&mut head).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..n]).into_owned())
    };
    match tokio::time::timeout(Duration::from_secs(5), attempt).await {
        Ok(Ok(status)) if status.starts_with("HTTP/1.1 200") => Ok(()),
        Ok(Ok(status)) => Err(ConfigError(format!(
            "the server at {base} answered {}",
            status.lines().next().unwrap_or("nothing")
        ))),
        Ok(Err(e)) => Err(ConfigError(format!(
            "the server at {base} did not answer: {e}"
        ))),
        Err(_) => Err(ConfigError(format!(
            "the server at {base} did not answer within 5 seconds"
        ))),
    }
}
