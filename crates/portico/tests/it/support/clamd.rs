//! A real clamd (Debian's clamav-daemon) for scanning tests. Signatures cannot be downloaded
//! here, so it loads one of our own: the EICAR test file, which every scanner treats as a virus.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CLAMD: &str = "/usr/sbin/clamd";

/// The EICAR anti-virus test file.
pub const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
/// What clamd calls it, from our signature.
pub const EICAR_NAME: &str = "Portico.Test.EICAR.UNOFFICIAL";

pub struct Clamd {
    child: Child,
    _dir: tempfile::TempDir,
}

/// A port on 127.0.0.1 that nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Clamd {
    /// Starts clamd on `port` and waits until it answers; `None` where clamd is not installed
    /// (CI installs it).
    pub async fn start(port: u16) -> Option<Clamd> {
        if !installed() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        let hex: String = EICAR.iter().map(|b| format!("{b:02x}")).collect();
        std::fs::write(
            db.join("portico-test.ndb"),
            format!("Portico.Test.EICAR:0:*:{hex}\n"),
        )
        .unwrap();
        let conf = dir.path().join("clamd.conf");
        std::fs::write(
            &conf,
            format!(
                "Foreground yes\nTCPSocket {port}\nTCPAddr 127.0.0.1\nDatabaseDirectory {}\nLogFile {}\n",
                db.display(),
                dir.path().join("clamd.log").display()
            ),
        )
        .unwrap();
        let child = Command::new(CLAMD)
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("clamd starts");
        let clamd = Clamd { child, _dir: dir };
        for _ in 0..300 {
            if ping(port).await {
                return Some(clamd);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("clamd did not answer on port {port}");
    }
}

/// Whether clamd is here; in CI it must be (a missing scanner is an error there, not a skip).
pub fn installed() -> bool {
    if Path::new(CLAMD).exists() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("clamav-daemon must be installed in CI");
    }
    eprintln!("NOTICE: scanning test skipped: clamd is not installed");
    false
}

async fn ping(port: u16) -> bool {
    let Ok(mut conn) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
        return false;
    };
    if conn.write_all(b"zPING\0").await.is_err() {
        return false;
    }
    let mut reply = Vec::new();
    let _ = conn.read_to_end(&mut reply).await;
    reply.starts_with(b"PONG")
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
