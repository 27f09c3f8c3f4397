//! The client dashboard and navigation: one registry of sections. A feature adds itself here
//! once, with who may see it, where its full list lives and how to load its card; the
//! dashboard shows a card per section that has one, and the navigation lists each section
//! with a page. Sections not built yet are simply absent. Every card loads in one query, so
//! a dashboard costs the same number of queries however much a client has.

use futures_util::future::BoxFuture;
use portico_core::Viewer;
use portico_db::{comments, files, forms, matters, messages, tasks};

use crate::kit::error::AppError;
use crate::kit::paths;
use crate::state::AppState;

/// How many items a card shows before "See all".
const CARD_ITEMS: i64 = 5;

/// A feature's place on the client side.
pub(crate) struct Section {
    /// The navigation label; `None` for a card without a page of its own.
    pub nav: Option<&'static str>,
    pub href: &'static str,
    /// Whether this viewer's permissions allow the section.
    pub allowed: fn(&Viewer) -> bool,
    /// How to load its dashboard card; `None` for a page without a card (its items show on
    /// another card).
    pub card: Option<CardLoader>,
}

type CardLoader = for<'a> fn(&'a AppState, &'a Viewer) -> BoxFuture<'a, Result<Card, AppError>>;

/// A dashboard card: the latest few items and how many there are in all.
pub(crate) struct Card {
    pub title: &'static str,
    pub href: &'static str,
    pub items: Vec<CardItem>,
    /// How many there are in all, where the section counts them.
    pub total: Option<i64>,
    /// How many wait for the client (new, unread, to do), shown beside the title.
    pub waiting: i64,
    /// What the card says when it has nothing yet.
    pub empty: &'static str,
}

pub(crate) struct CardItem {
    pub label: String,
    pub href: String,
    pub detail: String,
}

fn everyone(_: &Viewer) -> bool {
    true
}

/// Every client-side section, in the order the dashboard and navigation show them.
pub(crate) const SECTIONS: &[Section] = &[
    Section {
        nav: Some("Matters"),
        href: paths::portal_matters(),
        allowed: everyone,
        card: Some(matters_card),
    },
    Section {
        nav: Some("Tasks"),
        href: paths::portal_tasks(),
        allowed: everyone,
        card: Some(tasks_card),
    },
    Section {
        nav: Some("Forms"),
        href: paths::portal_forms(),
        allowed: everyone,
        card: Some(forms_card),
    },
    Section {
        nav: Some("Messages"),
        href: paths::messages(false),
        allowed: everyone,
        card: Some(messages_card),
    },
    Section {
        nav: Some("Files"),
        href: paths::portal_files(),
        allowed: everyone,
        card: Some(files_card),
    },
    Section {
        nav: None,
        href: paths::portal_matters(),
        allowed: everyone,
        card: Some(comments_card),
    },
];

/// The cards this viewer may see, loaded one after another on the shared pool.
pub(crate) async fn cards(state: &AppState, viewer: &Viewer) -> Result<Vec<Card>, AppError> {
    let mut out = Vec::new();
    for section in SECTIONS.iter().filter(|s| (s.allowed)(viewer)) {
        if let Some(card) = section.card {
            out.push(card(state, viewer).await?);
        }
    }
    Ok(out)
}

/// The navigation entries of the sections this viewer may see.
pub(crate) fn nav(viewer: &Viewer) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
    SECTIONS
        .iter()
        .filter(|s| (s.allowed)(viewer))
        .filter_map(|s| s.nav.map(|label| (s.href, label)))
}

fn matters_card<'a>(
    state: &'a AppState,
    viewer: &'a Viewer,
) -> BoxFuture<'a, Result<Card, AppError>> {
    Box::pin(async move {
        let (list, total) = matters::newest_for_portal(&state.db, viewer, CARD_ITEMS).await?;
        Ok(Card {
            title: "Your matters",
            href: paths::portal_matters(),
            items: list
                .into_iter()
                .map(|m| CardItem {
                    href: paths::matter(false, m.id),
                    detail: m.reference,
                    label: m.title,
                })
                .collect(),
            total: Some(total),
            waiting: 0,
            empty: "Nothing shared with you yet.",
        })
    })
}

fn tasks_card<'a>(
    state: &'a AppState,
    viewer: &'a Viewer,
) -> BoxFuture<'a, Result<Card, AppError>> {
    Box::pin(async move {
        let (list, open) = tasks::next_for_portal(&state.db, viewer, CARD_ITEMS).await?;
        Ok(Card {
            title: "Tasks",
            href: paths::portal_tasks(),
            items: list
                .into_iter()
                .map(|t| CardItem {
                    href: t
                        .form_id
                        .map_or_else(|| paths::portal_tasks().into(), |f| paths::form(false, f)),
                    detail: t.due_on.map(|d| format!("due {d}")).unwrap_or_default(),
                    label: t.title,
                })
                .collect(),
            total: Some(open),
            waiting: 0,
            empty: "Nothing to do.",
        })
    })
}

fn forms_card<'a>(
    state: &'a AppState,
    viewer: &'a Viewer,
) -> BoxFuture<'a, Result<Card, AppError>> {
    Box::pin(async move {
        let (list, total, open) = forms::newest_for_portal(&state.db, viewer, CARD_ITEMS).await?;
        Ok(Card {
            title: "Forms",
            href: paths::portal_forms(),
            items: list
                .into_iter()
                .map(|a| CardItem {
                    href: paths::form(false, a.id),
                    detail: match (
                        a.is_open(),
                        a.saved_at.is_some(),
                        a.review_comment.is_empty(),
                    ) {
                        (true, _, false) => "the firm asked for changes".into(),
                        (true, true, _) => "started, not sent yet".into(),
                        (true, false, _) => "to fill in".into(),
                        (false, ..) => "sent to the firm".into(),
                    },
                    label: a.title,
                })
                .collect(),
            total: Some(total),
            waiting: open,
            empty: "No forms yet.",
        })
    })
}

fn messages_card<'a>(
    state: &'a AppState,
    viewer: &'a Viewer,
) -> BoxFuture<'a, Result<Card, AppError>> {
    Box::pin(async move {
        let (list, waiting) = messages::newest_for_portal(&state.db, viewer, CARD_ITEMS).await?;
        Ok(Card {
            title: "Messages",
            href: paths::messages(false),
            items: list
                .into_iter()
                .map(|l| CardItem {
                    href: paths::conversation(false, l.conversation.id),
                    detail: if l.unread() {
                        "new message".into()
                    } else {
                        String::new()
                    },
                    label: l.conversation.title,
                })
                .collect(),
            total: None,
            waiting,
            empty: "No messages yet.",
        })
    })
}

fn files_card<'a>(
    state: &'a AppState,
    viewer: &'a Viewer,
) -> BoxFuture<'a, Result<Card, AppError>> {
    Box::pin(async move {
        let (list, waiting) = files::newest_for_portal(&state.db, viewer, CARD_ITEMS).await?;
        Ok(Card {
            title: "Files",
            href: paths::portal_files(),
            items: list
                .into_iter()
                .map(|f| CardItem {
                    href: format!("/files/{}", f.id),
                    detail: if f.uploaded_side == "client" {
                        "sent by you".into()
                    } else if f.read_at.is_some() {
                        "read".into()
                    } else {
                        "new from the firm".into()
                    },
                    label: f.name,
                })
                .collect(),
            total: None,
            waiting,
            empty: "No files yet.",
        })
    })
}

fn comments_card<'a>(
    state: &'a AppState,
    viewer: &'a Viewer,
) -> BoxFuture<'a, Result<Card, AppError>> {
    Box::pin(async move {
        let list = comments::from_firm_for_client(&state.db, viewer, CARD_ITEMS).await?;
        Ok(Card {
            title: "Latest comments from the firm",
            href: paths::portal_matters(),
            items: list
                .into_iter()
                .map(|(matter_title, c)| CardItem {
                    href: format!("{}#comments", paths::matter(false, c.matter_id)),
                    label: format!("{} on {matter_title}", c.author_name),
                    detail: excerpt(&c.body, 120),
                })
                .collect(),
            total: None,
            waiting: 0,
            empty: "No comments yet.",
        })
    })
}

/// The first `max` characters of a text on one line, with an ellipsis when cut.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max).collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn excerpts_are_one_line_and_bounded() {
        assert_eq!(super::excerpt("a\n\n b", 10), "a b");
        assert_eq!(super::excerpt(&"é".repeat(20), 5), "ééééé…");
    }
}
