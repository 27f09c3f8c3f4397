//! A small SMTP listener the tests deliver to over the network, so the real SMTP transport is
//! exercised: enough of RFC 5321 for lettre (EHLO/HELO, MAIL, RCPT, DATA with dot-unstuffing,
//! RSET, NOOP, QUIT), several connections at once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use portico_mail::{MailConfig, SmtpTls};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One message as the server saw it: the envelope and the raw message, headers included.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// The running listener; stops when dropped.
pub struct SmtpSink {
    pub port: u16,
    messages: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        Self::start_on(0).await
    }

    /// Listens on a fixed port, e.g. one the application already tried while nothing listened.
    pub async fn start_on(port: u16) -> SmtpSink {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind smtp sink");
        let port = listener.local_addr().unwrap().port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let refused = Arc::new(Mutex::new(Vec::new()));
        let (store, refusing) = (messages.clone(), refused.clone());
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(session(socket, store.clone(), refusing.clone()));
            }
        });
        SmtpSink {
            port,
            messages,
            refused,
            task,
        }
    }

    /// A port nothing listens on (yet).
    pub fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// From now on, answers `550` (a permanent refusal) to mail for `address`.
    pub fn refuse(&self, address: &str) {
        self.refused.lock().unwrap().push(address.to_string());
    }

    /// From now on, takes mail for `address` again (its owner fixed the mailbox).
    pub fn accept(&self, address: &str) {
        self.refused.lock().unwrap().retain(|a| a != address);
    }

    pub fn messages(&self) -> Vec<Received> {
        self.messages.lock().unwrap().clone()
    }

    /// Waits until at least `n` messages arrived or `timeout` passed, and returns what arrived.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let until = tokio::time::Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n || tokio::time::Instant::now() >= until {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Plain SMTP to this sink.
    pub fn config(&self) -> MailConfig {
        MailConfig::Smtp {
            host: "127.0.0.1".into(),
            port: self.port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            timeout_secs: 5,
        }
    }
}

/// Serves one connection; any I/O error simply ends it, as a client disconnect would.
async fn session(
    socket: TcpStream,
    store: Arc<Mutex<Vec<Received>>>,
    refused: Arc<Mutex<Vec<String>>>,
) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    while let Some(line) = next_line(&mut read).await? {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 ok\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = address(&line[10..]);
            to.clear();
            b"250 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            let rcpt = address(&line[8..]);
            if refused.lock().unwrap().contains(&rcpt) {
                b"550 5.1.1 no such mailbox here\r\n"
            } else {
                to.push(rcpt);
                b"250 ok\r\n"
            }
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            b"250 ok\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
            let mut data = String::new();
            loop {
                let Some(line) = next_line(&mut read).await? else {
                    return Ok(());
                };
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push_str("\r\n");
            }
            let message = Received {
                from: from.clone(),
                to: std::mem::take(&mut to),
                data,
            };
            store.lock().unwrap().push(message);
            b"250 queued\r\n"
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
}

/// The next line without its CRLF, or `None` when the client hung up.
async fn next_line(
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> std::io::Result<Option<String>> {
    let mut bytes = Vec::new();
    if read.read_until(b'\n', &mut bytes).await? == 0 {
        return Ok(None);
    }
    let line = String::from_utf8_lossy(&bytes);
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

/// `<a@b> BODY=8BITMIME` → `a@b`.
fn address(arg: &str) -> String {
    let arg = arg.trim();
    let end = arg.find('>').unwrap_or(arg.len());
    arg[..end].trim_start_matches('<').to_string()
}

/// The path of the first link under `prefix` in a received message (quoted-printable soft
/// breaks undone).
pub fn link_path(message: &str, prefix: &str) -> String {
    let text = message.replace("=\r\n", "");
    let start = text.find(prefix).expect("a link") + prefix.len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    format!("{prefix}{token}")
}

/// The path of the set-password link in a received message.
pub fn set_password_path(message: &str) -> String {
    link_path(message, "/set-password/")
}
