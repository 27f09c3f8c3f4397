//! Rules that input must keep before it reaches storage. Each failure names the field and says
//! what to do, in words a client can act on.

use std::fmt;

/// Input that breaks a rule: which field, and a sentence for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Invalid {
        Invalid {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Invalid {}

pub const PASSWORD_MIN: usize = 12;
pub const PASSWORD_MAX: usize = 128;

/// Normalises an email address for lookups (trimmed, lower case) and checks its shape.
pub fn email(raw: &str) -> Result<String, Invalid> {
    let e = raw.trim().to_lowercase();
    let ok = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && match e.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.is_empty()
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && (domain.contains('.') || domain == "localhost")
            }
            None => false,
        };
    if ok {
        Ok(e)
    } else {
        Err(Invalid::new(
            "email",
            "Enter an email address like name@example.com.",
        ))
    }
}

/// A name or title: required, kept exactly as typed (it is escaped on output), bounded.
pub fn text(field: &'static str, raw: &str, max_chars: usize) -> Result<String, Invalid> {
    if raw.trim().is_empty() {
        return Err(Invalid::new(field, "This field is required."));
    }
    optional_text(field, raw, max_chars)
}

/// Optional free text: bounded, no control characters except line breaks and tabs.
pub fn optional_text(field: &'static str, raw: &str, max_chars: usize) -> Result<String, Invalid> {
    if raw.chars().count() > max_chars {
        return Err(Invalid::new(
            field,
            format!("Use at most {max_chars} characters."),
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(Invalid::new(field, "Remove the control characters."));
    }
    Ok(raw.to_string())
}

/// Password rules from SECURITY.md: 12 to 128 characters, never truncated, no composition
/// rules, and not built from the account's email or the firm's name.
pub fn password(raw: &str, email: &str, name: &str, firm_name: &str) -> Result<(), Invalid> {
    let n = raw.chars().count();
    if n < PASSWORD_MIN {
        return Err(Invalid::new(
            "password",
            format!("Use at least {PASSWORD_MIN} characters; a short sentence works well."),
        ));
    }
    if n > PASSWORD_MAX {
        return Err(Invalid::new(
            "password",
            format!("Use at most {PASSWORD_MAX} characters."),
        ));
    }
    let lower = raw.to_lowercase();
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if (local.len() >= 4 && lower.contains(&local)) || lower.contains(&email.to_lowercase()) {
        return Err(Invalid::new(
            "password",
            "Choose a password that does not contain your email address.",
        ));
    }
    // Names are compared by their letters and digits alone, so that "Alpha Legal" is found in
    // "AlphaLegal2026" and "alpha-legal" alike.
    let letters = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect()
    };
    let compact = letters(raw);
    let contains = |what: &str| {
        let what = letters(what);
        what.chars().count() >= 4 && compact.contains(&what)
    };
    if contains(firm_name) {
        return Err(Invalid::new(
            "password",
            "Choose a password that does not contain the firm's name.",
        ));
    }
    if contains(name) {
        return Err(Invalid::new(
            "password",
            "Choose a password that does not contain your name.",
        ));
    }
    // Common and breached passwords (zxcvbn ships the lists) and trivial patterns: fewer than
    // a million guesses; the person's own details count as easy guesses. No composition rules
    // beyond that.
    let mut inputs: Vec<&str> = vec![email, firm_name];
    inputs.extend(name.split_whitespace().chain(firm_name.split_whitespace()));
    if zxcvbn::zxcvbn(raw, &inputs).score() <= zxcvbn::Score::One {
        return Err(Invalid::new(
            "password",
            "That password is too common or too easy to guess. Try a few unrelated words.",
        ));
    }
    Ok(())
}

/// A brand colour as `#rrggbb`: anything else could smuggle CSS into the page.
pub fn colour(raw: &str) -> Result<String, Invalid> {
    let c = raw.trim();
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|d| d.is_ascii_hexdigit());
    if ok {
        Ok(c.to_ascii_lowercase())
    } else {
        Err(Invalid::new("colour", "Use a colour like #1f5fa8."))
    }
}

/// A file's name as people see it, made safe to show and to send back in a download: only the
/// last path segment, without control or direction-changing characters, without leading dots
/// or trailing dots and spaces, at most 200 characters (keeping the extension). Never empty.
pub fn file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| {
            !c.is_control()
                && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let trimmed = cleaned
        .trim()
        .trim_start_matches('.')
        .trim_end_matches(['.', ' '])
        .trim();
    let name = if trimmed.is_empty() { "file" } else { trimmed };
    if name.chars().count() <= 200 {
        return name.to_string();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if ext.chars().count() <= 10 && !stem.is_empty() => (stem, ext),
        _ => (name, ""),
    };
    let keep = 200
        - if ext.is_empty() {
            0
        } else {
            ext.chars().count() + 1
        };
    let stem: String = stem.chars().take(keep).collect();
    if ext.is_empty() {
        stem
    } else {
        format!("{stem}.{ext}")
    }
}

/// A folder's name: 1 to 100 characters, one path segment, no control or direction-changing
/// characters, not `.` or `..`; surrounding spaces are dropped.
pub fn folder_name(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Invalid::new("name", "Give the folder a name."));
    }
    if name.chars().count() > 100 {
        return Err(Invalid::new("name", "Use at most 100 characters."));
    }
    let bad = name.chars().any(|c| {
        c.is_control()
            || matches!(c, '/' | '\\' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    });
    if bad || name.trim_matches('.').is_empty() {
        return Err(Invalid::new(
            "name",
            "A folder name cannot contain slashes or control characters, or be only dots.",
        ));
    }
    Ok(name.to_string())
}

/// An IANA time zone name such as `Europe/Berlin`, or empty for UTC. Only names in the time
/// zone database (bundled with Portico) are accepted.
pub fn time_zone(raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    if name.is_empty() || name.eq_ignore_ascii_case("UTC") {
        return Ok(String::new());
    }
    let known = name.len() <= 64 && jiff::tz::db().get(name).is_ok();
    if known {
        Ok(name.to_string())
    } else {
        Err(Invalid::new(
            "time_zone",
            "Choose a time zone from the list, like Europe/London or America/New_York.",
        ))
    }
}

/// Every time zone name a person can choose, sorted; listed once per process.
pub fn time_zones() -> &'static [String] {
    static NAMES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .filter(|n| n.contains('/') && !n.starts_with("Etc/") && !n.starts_with("SystemV/"))
            .collect();
        names.sort();
        names
    })
}

/// A link the firm shows to its clients: absolute `http` or `https` only, so that no
/// `javascript:`, `data:` or other scheme reaches a page.
pub fn web_link(field: &'static str, raw: &str) -> Result<String, Invalid> {
    let raw = raw.trim();
    let refuse = || Invalid::new(field, "Use a web address starting with https://.");
    if raw.len() > 2000 || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refuse());
    }
    let url = url::Url::parse(raw).map_err(|_| refuse())?;
    let web = matches!(url.scheme(), "http" | "https");
    if !web || url.host_str().is_none_or(str::is_empty) || !url.username().is_empty() {
        return Err(refuse());
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_one_plain_segment() {
        assert_eq!(folder_name("  Tax 2025 ").unwrap(), "Tax 2025");
        for bad in [
            "",
            "   ",
            "..",
            ".",
            "a/b",
            "..\\x",
            "a\0b",
            "evil\u{202E}fdp.exe",
        ] {
            assert!(folder_name(bad).is_err(), "{bad:?}");
        }
        assert!(folder_name(&"x".repeat(101)).is_err());
        assert!(folder_name(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(email("  Ann@Example.COM ").unwrap(), "ann@example.com");
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "a b@example.com",
            "ann@example",
            "a@b@c.d",
        ] {
            assert!(email(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn passwords_follow_the_length_rules_without_truncation() {
        assert!(password("short", "a@b.c", "Pat Doe", "Firm").is_err());
        assert!(password(&"x".repeat(129), "a@b.c", "Pat Doe", "Firm").is_err());
        assert!(password(&"violet kettle é ".repeat(8), "a@b.c", "Pat Doe", "Firm").is_ok());
        assert!(
            password(
                &format!("{}x", "violet kettle é ".repeat(8)),
                "a@b.c",
                "Pat Doe",
                "Firm"
            )
            .is_err()
        );
        assert!(password("correct horse battery", "a@b.c", "Pat Doe", "Firm").is_ok());
    }

    #[test]
    fn common_and_patterned_passwords_are_refused() {
        for weak in [
            "password1234",
            "123456789012",
            "qwertyuiopasdf",
            "aaaaaaaaaaaa",
            "iloveyou1234",
        ] {
            assert!(
                password(weak, "a@b.c", "Pat Doe", "Firm").is_err(),
                "{weak:?} accepted"
            );
        }
        assert!(password("violet kettle marching slowly", "a@b.c", "Pat Doe", "Firm").is_ok());
    }

    #[test]
    fn passwords_may_not_contain_the_email_or_firm_name() {
        assert!(password("margaret-2026-secret", "margaret@example.com", "M", "Firm").is_err());
        assert!(password("i love hartley & co", "ann@x.io", "Ann", "Hartley & Co").is_err());
    }

    #[test]
    fn passwords_may_not_contain_the_firm_or_the_persons_name_however_written() {
        let firm = "Alpha Legal";
        for weak in [
            "AlphaLegal2026!!",
            "my alpha-legal portal",
            "ALPHA LEGAL rocks",
        ] {
            let e = password(weak, "x@y.example", "Pat Doe", firm).unwrap_err();
            assert!(e.message.contains("firm's name"), "{weak:?}");
        }
        for weak in ["Olive Owner 2026!", "oliveowner-strong-pass"] {
            let e = password(weak, "x@y.example", "Olive Owner", firm).unwrap_err();
            assert!(e.message.contains("your name"), "{weak:?}");
        }
        assert!(
            password(
                "violet kettle marching slowly",
                "x@y.example",
                "Olive Owner",
                firm
            )
            .is_ok()
        );
    }

    #[test]
    fn text_is_kept_exactly_but_bounded() {
        assert_eq!(
            text("name", "<b>O'Brien</b>", 50).unwrap(),
            "<b>O'Brien</b>"
        );
        assert!(text("name", "   ", 50).is_err());
        assert!(text("name", &"x".repeat(51), 50).is_err());
        assert!(text("name", "a\u{0}b", 50).is_err());
    }

    #[test]
    fn links_are_web_addresses_only() {
        assert_eq!(
            web_link("url", " https://Example.com/pay?x=1 ").unwrap(),
            "https://example.com/pay?x=1"
        );
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html,<script>",
            "vbscript:x",
            "//example.com",
            "/relative",
            "https://",
            "https://user:pw@example.com/",
            "https://exa mple.com",
            "ftp://example.com",
            "java\tscript:alert(1)",
        ] {
            assert!(web_link("url", bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn file_names_lose_paths_controls_and_direction_tricks() {
        assert_eq!(file_name("../../etc/passwd"), "passwd");
        assert_eq!(
            file_name("C:\\Users\\ann\\tax return.pdf"),
            "tax return.pdf"
        );
        assert_eq!(file_name("in\u{0}voice\n.pdf"), "invoice.pdf");
        assert_eq!(file_name("photo\u{202E}gpj.exe"), "photogpj.exe");
        assert_eq!(file_name("..."), "file");
        assert_eq!(file_name(".htaccess"), "htaccess");
        assert_eq!(file_name("report. . "), "report");
        assert_eq!(file_name(""), "file");
        let long = format!("{}.pdf", "a".repeat(300));
        let short = file_name(&long);
        assert_eq!(short.chars().count(), 200);
        assert!(short.ends_with(".pdf"));
        assert_eq!(file_name("Résumé – 2026.docx"), "Résumé – 2026.docx");
    }

    #[test]
    fn time_zones_come_from_the_database() {
        assert_eq!(time_zone(" Europe/Berlin ").unwrap(), "Europe/Berlin");
        assert_eq!(time_zone("").unwrap(), "");
        assert_eq!(time_zone("utc").unwrap(), "");
        for bad in [
            "Mars/Olympus",
            "../../etc/passwd",
            "Europe/Berlin; DROP",
            "x".repeat(100).as_str(),
        ] {
            assert!(time_zone(bad).is_err(), "{bad:?} accepted");
        }
        let all = time_zones();
        assert!(all.len() > 300 && all.iter().any(|z| z == "America/New_York"));
    }

    #[test]
    fn colours_must_be_plain_hex() {
        assert_eq!(colour("#1F5FA8").unwrap(), "#1f5fa8");
        for bad in ["red", "#12345", "#1234567", "#12345g", "#123456;}body{x:y"] {
            assert!(colour(bad).is_err(), "{bad:?} accepted");
        }
    }
}
