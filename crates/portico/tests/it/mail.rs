//! The mail crate against real transports: an outbox folder on disk and SMTP over the network
//! to the test sink.

use std::time::{Duration, Instant};

use portico_mail::{Email, MailConfig, MailError, Mailer, SmtpTls};

use crate::support::smtp::SmtpSink;

const FROM: &str = "Portico <portico@localhost>";

fn email(to: &str, subject: &str) -> Email {
    Email {
        to: to.into(),
        subject: subject.into(),
        text: "You have a new secure message. Sign in to read it.".into(),
        html: None,
        sender_name: None,
    }
}

fn dead_smtp() -> MailConfig {
    MailConfig::Smtp {
        host: "127.0.0.1".into(),
        port: SmtpSink::free_port(),
        tls: SmtpTls::None,
        username: None,
        password: None,
        timeout_secs: 5,
    }
}

/// The value of a header, case-insensitively and unfolded, from a raw message or part.
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw
        .split("\r\n\r\n")
        .next()?
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ");
    head.split("\r\n").find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// The decoded body of the first MIME part whose Content-Type starts with `content_type`.
fn part(raw: &str, content_type: &str) -> Option<String> {
    let top = header(raw, "Content-Type")?;
    let boundary = top.split("boundary=").nth(1)?.trim_matches('"').to_string();
    raw.split(&format!("--{boundary}")).find_map(|p| {
        let p = p.trim_start_matches("\r\n");
        header(p, "Content-Type")?
            .starts_with(content_type)
            .then_some(())?;
        let body = p.split_once("\r\n\r\n")?.1.trim_end_matches("\r\n");
        Some(decode(
            body,
            &header(p, "Content-Transfer-Encoding").unwrap_or_default(),
        ))
    })
}

/// Undoes quoted-printable, which lettre chooses for mostly-ASCII text with a few other characters.
fn decode(body: &str, encoding: &str) -> String {
    match encoding {
        "7bit" => body.to_string(),
        "quoted-printable" => {
            let joined = body.replace("=\r\n", "");
            let (mut out, mut rest) = (Vec::new(), joined.as_bytes());
            while let Some((&b, tail)) = rest.split_first() {
                if b == b'=' {
                    let hex = std::str::from_utf8(&tail[..2]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    rest = &tail[2..];
                } else {
                    out.push(b);
                    rest = tail;
                }
            }
            String::from_utf8(out).unwrap()
        }
        other => panic!("unexpected Content-Transfer-Encoding {other}"),
    }
}

#[tokio::test]
async fn the_outbox_folder_gets_one_eml_file_per_message() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = dir.path().join("outbox");
    let mailer = Mailer::new(
        &MailConfig::File {
            outbox: outbox.clone(),
        },
        FROM,
    )
    .unwrap();
    assert_eq!(
        mailer.describe(),
        format!("outbox folder {}", outbox.display())
    );
    mailer
        .send(&email("ann@example.com", "First notice"))
        .await
        .unwrap();
    mailer
        .send(&email("bob@example.com", "Second notice"))
        .await
        .unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&outbox)
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    files.sort_by_key(|raw| header(raw, "Subject"));
    assert_eq!(files.len(), 2);
    assert_eq!(
        header(&files[0], "Subject").as_deref(),
        Some("First notice")
    );
    assert_eq!(header(&files[0], "To").as_deref(), Some("ann@example.com"));
    assert_eq!(
        header(&files[1], "Subject").as_deref(),
        Some("Second notice")
    );
    assert_eq!(header(&files[1], "To").as_deref(), Some("bob@example.com"));
    assert!(
        std::fs::read_dir(&outbox)
            .unwrap()
            .all(|e| e.unwrap().path().extension().unwrap() == "eml")
    );
}

#[tokio::test]
async fn smtp_delivers_text_and_html_as_one_multipart_message() {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(&sink.config(), FROM).unwrap();
    assert_eq!(
        mailer.describe(),
        format!("SMTP 127.0.0.1:{} (none)", sink.port)
    );
    let mut message = email("Ann Client <ann@example.com>", "New message from your firm");
    message.html = Some("<p>You have a new <b>secure</b> message.</p>".into());
    mailer.send(&message).await.unwrap();

    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.from, "portico@localhost");
    assert_eq!(m.to, ["ann@example.com"]);
    assert_eq!(header(&m.data, "From").as_deref(), Some(FROM));
    assert_eq!(
        header(&m.data, "To").as_deref(),
        Some("\"Ann Client\" <ann@example.com>")
    );
    assert_eq!(
        header(&m.data, "Subject").as_deref(),
        Some("New message from your firm")
    );
    assert!(
        header(&m.data, "Message-ID").is_some_and(|id| id.starts_with('<') && id.contains('@'))
    );
    assert!(header(&m.data, "Date").is_some());
    assert!(
        header(&m.data, "Content-Type")
            .unwrap()
            .starts_with("multipart/alternative")
    );
    assert_eq!(part(&m.data, "text/plain").unwrap(), message.text);
    assert_eq!(part(&m.data, "text/html").unwrap(), message.html.unwrap());
}

#[tokio::test]
async fn a_message_without_html_is_sent_as_plain_text() {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(&sink.config(), FROM).unwrap();
    mailer
        .send(&email("ann@example.com", "Plain"))
        .await
        .unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert!(
        header(&got[0].data, "Content-Type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        got[0]
            .data
            .contains("You have a new secure message. Sign in to read it.")
    );
}

#[tokio::test]
async fn an_html_body_with_script_dots_and_non_ascii_text_arrives_unchanged() {
    let sink = SmtpSink::start().await;
    let mailer = Mailer::new(&sink.config(), FROM).unwrap();
    let text = "Grüße, Zoë — 東京の事務所より.\r\n.\r\n.starts with a dot\r\n".to_string()
        + &"long line ".repeat(30);
    let html =
        "<p>Grüße, Zoë</p>\r\n<script>alert(\"x\" + 'y' < 3 && true)</script>\r\n.\r\n<p>東京</p>"
            .to_string();
    let message = Email {
        to: "zoe@example.com".into(),
        subject: "Ünïcode".into(),
        text,
        html: Some(html),
        sender_name: None,
    };
    mailer.send(&message).await.unwrap();
    let got = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(part(&got[0].data, "text/plain").unwrap(), message.text);
    assert_eq!(
        part(&got[0].data, "text/html").unwrap(),
        message.html.unwrap()
    );
}

#[tokio::test]
async fn a_malformed_recipient_is_an_address_error_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = Mailer::new(
        &MailConfig::File {
            outbox: dir.path().to_path_buf(),
        },
        FROM,
    )
    .unwrap();
    for to in [
        "not an address",
        "ann@",
        "",
        "ann@example.com\r\nBcc: eve@example.com",
    ] {
        let err = mailer.send(&email(to, "Hello")).await.unwrap_err();
        assert!(matches!(err, MailError::Address(_)), "{to:?}: {err:?}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_bad_from_address_is_a_configuration_error_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let config = MailConfig::File {
        outbox: dir.path().to_path_buf(),
    };
    for from in [
        "portico at localhost",
        "Portico <>",
        "a@example.com, b@example.com",
    ] {
        let err = Mailer::new(&config, from).err().expect(from);
        assert!(
            matches!(&err, MailError::Config(m) if m.starts_with("mail.from:")),
            "{from:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_username_without_a_password_is_a_configuration_error() {
    let config = MailConfig::Smtp {
        host: "smtp.example.com".into(),
        port: 587,
        tls: SmtpTls::StartTls,
        username: Some("portico".into()),
        password: None,
        timeout_secs: 10,
    };
    let err = Mailer::new(&config, FROM).err().unwrap();
    assert!(
        matches!(&err, MailError::Config(m) if m.starts_with("mail.smtp_password:")),
        "{err:?}"
    );
}

#[tokio::test]
async fn smtp_settings_left_out_take_the_submission_defaults() {
    let config: MailConfig =
        serde_json::from_str(r#"{"transport": "smtp", "host": "smtp.example.com"}"#).unwrap();
    let MailConfig::Smtp {
        port,
        tls,
        username,
        password,
        timeout_secs,
        ..
    } = &config
    else {
        panic!("{config:?}")
    };
    assert_eq!((*port, *tls, *timeout_secs), (587, SmtpTls::StartTls, 10));
    assert_eq!((username, password), (&None, &None));
    let mailer = Mailer::new(&config, FROM).unwrap();
    assert_eq!(mailer.describe(), "SMTP smtp.example.com:587 (starttls)");
}

#[tokio::test]
async fn sending_to_a_port_nothing_listens_on_fails_promptly_as_a_transport_error() {
    let mailer = Mailer::new(&dead_smtp(), FROM).unwrap();
    let started = Instant::now();
    let result = tokio::time::timeout(
        Duration::from_secs(10),
        mailer.send(&email("ann@example.com", "Hi")),
    )
    .await;
    let err = result
        .expect("send gave up within its timeout")
        .unwrap_err();
    assert!(matches!(err, MailError::Transport(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn check_passes_against_a_listening_server_and_a_writable_folder() {
    let sink = SmtpSink::start().await;
    Mailer::new(&sink.config(), FROM)
        .unwrap()
        .check()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    Mailer::new(
        &MailConfig::File {
            outbox: dir.path().join("out"),
        },
        FROM,
    )
    .unwrap()
    .check()
    .await
    .unwrap();
    assert_eq!(
        std::fs::read_dir(dir.path().join("out")).unwrap().count(),
        0,
        "the probe file is removed"
    );
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn check_fails_against_a_port_nothing_listens_on() {
    let mailer = Mailer::new(&dead_smtp(), FROM).unwrap();
    let err = tokio::time::timeout(Duration::from_secs(10), mailer.check())
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, MailError::Transport(_)), "{err:?}");
}
