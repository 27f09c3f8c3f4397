//! What every signed-in page shows around its content: firm, navigation, the person, log out.

use crate::kit::paths;
use crate::kit::session::Signed;

pub(crate) struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub(crate) struct Layout {
    pub title: String,
    pub firm_name: String,
    pub firm_slug: String,
    pub user_name: String,
    pub client_name: Option<String>,
    pub csrf: String,
    pub side: &'static str,
    pub home: &'static str,
    pub nav: Vec<NavItem>,
    pub notice: Option<String>,
    /// Signed in from an access link: the page offers "Create a login".
    pub link_session: bool,
    /// Where the firm's logo and the person's picture are, when there are any.
    pub logo: Option<String>,
    pub picture: Option<String>,
    /// The person's time zone, in which pages show times, and its name.
    pub tz: jiff::tz::TimeZone,
    pub tz_name: String,
    /// Unread notifications, shown beside the link to them.
    pub unread_notifications: i64,
}

impl Layout {
    /// The layout for `signed`, with `current` (a nav href) marked as the page being shown.
    pub(crate) fn new(signed: &Signed, title: impl Into<String>, current: &str) -> Layout {
        let staff = signed.viewer.is_staff();
        let mut items: Vec<(&'static str, &'static str)> = if staff {
            vec![
                (paths::home(true), "Home"),
                (paths::clients(), "Clients"),
                (paths::messages(true), "Messages"),
                (paths::forms(), "Forms"),
            ]
        } else {
            let mut v = vec![(paths::home(false), "Home")];
            v.extend(crate::kit::sections::nav(&signed.viewer));
            v
        };
        if let portico_core::Viewer::Client {
            is_client_admin: true,
            ..
        } = signed.viewer
        {
            items.push((paths::colleagues(), "Colleagues"));
        }
        if !staff && signed.chrome.access_log_for_clients {
            items.push((paths::portal_access_log(), "Who opened what"));
        }
        if signed.viewer.may_administer_firm() {
            items.push((paths::settings(), "Firm settings"));
            items.push((paths::audit(), "Audit log"));
        }
        if signed.chrome.places > 1 {
            items.push(("/account/switch", "Switch portal"));
        }
        items.push(("/account/profile", "Profile"));
        items.push(("/account/sessions", "Your sessions"));
        items.push(("/account/2fa", "Two-step sign-in"));
        Layout {
            title: title.into(),
            firm_name: signed.chrome.firm_name.clone(),
            firm_slug: signed.chrome.firm_slug.clone(),
            user_name: signed.chrome.user_name.clone(),
            client_name: signed.chrome.client_name.clone(),
            csrf: signed.session.csrf_token.clone(),
            side: if staff { "staff" } else { "client" },
            home: paths::home(staff),
            nav: items
                .into_iter()
                .map(|(href, label)| NavItem {
                    href,
                    label,
                    current: href == current,
                })
                .collect(),
            notice: None,
            link_session: signed.by_link(),
            logo: signed
                .chrome
                .logo_version
                .map(|v| format!("/logos/{}?v={v}", signed.chrome.firm_slug)),
            picture: signed
                .chrome
                .picture_version
                .map(|v| format!("/people/{}/picture?v={v}", signed.viewer.user_id())),
            unread_notifications: signed.chrome.unread_notifications,
            tz: zone(&signed.chrome.time_zone),
            tz_name: if signed.chrome.time_zone.is_empty() {
                "UTC".into()
            } else {
                signed.chrome.time_zone.clone()
            },
        }
    }

    /// A moment as the person reads it: date and time in their zone, with the zone's
    /// abbreviation.
    pub(crate) fn when(&self, t: &time::OffsetDateTime) -> String {
        self.format(t, "%Y-%m-%d %H:%M %Z")
    }

    /// Today's date in the person's zone.
    pub(crate) fn today(&self) -> time::Date {
        let now = jiff::Timestamp::now().to_zoned(self.tz.clone());
        time::Month::try_from(now.month() as u8)
            .ok()
            .and_then(|m| {
                time::Date::from_calendar_date(now.year().into(), m, now.day() as u8).ok()
            })
            .unwrap_or_else(|| time::OffsetDateTime::now_utc().date())
    }

    /// The day of a moment in the person's zone.
    pub(crate) fn day(&self, t: &time::OffsetDateTime) -> String {
        self.format(t, "%Y-%m-%d")
    }

    fn format(&self, t: &time::OffsetDateTime, pattern: &str) -> String {
        match jiff::Timestamp::from_second(t.unix_timestamp()) {
            Ok(ts) => ts.to_zoned(self.tz.clone()).strftime(pattern).to_string(),
            Err(_) => t.date().to_string(),
        }
    }
}

/// A stored zone name as a zone; anything unknown (or empty) is UTC.
fn zone(name: &str) -> jiff::tz::TimeZone {
    if name.is_empty() {
        return jiff::tz::TimeZone::UTC;
    }
    jiff::tz::db().get(name).unwrap_or(jiff::tz::TimeZone::UTC)
}

/// A size in bytes as people read it: "12 B", "3.4 KB", "5.6 MB", "1.23 GB".
pub(crate) fn human_size(bytes: i64) -> String {
    let b = bytes as f64;
    match bytes {
        n if n < 1024 => format!("{n} B"),
        n if n < 1024 * 1024 => format!("{:.1} KB", b / 1024.0),
        n if n < 1024 * 1024 * 1024 => format!("{:.1} MB", b / 1024.0 / 1024.0),
        _ => format!("{:.2} GB", b / 1024.0 / 1024.0 / 1024.0),
    }
}
