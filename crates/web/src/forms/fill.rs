//! The client fills a form in one section per page: every page change saves, "Save and
//! continue later" saves, and with JavaScript on the page saves itself as the client types.
//! Submitting checks everything and points at each question that needs attention.

use std::collections::{BTreeMap, HashSet};

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use portico_core::forms::{ADDRESS_PARTS, Answers, Definition, Field, Kind, Problem, Value};
use portico_db::DbError;
use portico_db::forms::{self, Assignment, Filled, Refused, Save, Saved};
use serde::Deserialize;
use uuid::Uuid;

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::{MultipartPost, Refusals};
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

/// The largest form page a client can post without files.
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

// ---- filling ---------------------------------------------------------------------------------

/// A question on a form page.
pub(crate) struct Question {
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub label: String,
    pub help: String,
    pub required: bool,
    pub text: String,
    pub list: Vec<String>,
    pub options: Vec<String>,
    /// Address lines: (input name, label, value).
    pub parts: Vec<(String, &'static str, String)>,
    pub sig_name: String,
    pub sig_agreed: bool,
    pub sig_drawn: String,
    pub consent: String,
    pub file_name: String,
    pub error: Option<String>,
    /// A condition on a question of the same page: (its input name, the answer, a hint).
    pub cond: Option<(String, String, String)>,
    pub maxlength: usize,
}

/// A question and its answer, read-only.
pub(crate) struct Shown {
    pub label: String,
    pub answer: String,
}

pub(crate) struct ShownSection {
    pub title: String,
    pub items: Vec<Shown>,
}

pub(crate) struct ProblemLink {
    pub href: String,
    pub label: String,
    pub message: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "forms/form_fill.html")]
pub(crate) struct FillPage {
    layout: Layout,
    a: Assignment,
    action: String,
    page: usize,
    pages: usize,
    section_title: String,
    section_help: String,
    questions: Vec<Question>,
    rev: i64,
    multipart: bool,
    notice: Option<String>,
    error: Option<String>,
    problems: Vec<ProblemLink>,
    answered: usize,
    asked: usize,
    /// Submitted: the answers, read-only.
    summary: Vec<ShownSection>,
    pdf: String,
}

fn field_name(id: &str) -> String {
    format!("f.{id}")
}

fn question(
    f: &Field,
    value: Option<&Value>,
    def: &Definition,
    same_page: &HashSet<&str>,
) -> Question {
    let v = value.cloned().unwrap_or(Value::Text(String::new()));
    let name = field_name(&f.id);
    Question {
        id: f.id.clone(),
        kind: f.kind.as_str(),
        label: f.label.clone(),
        help: f.help.clone(),
        required: f.required,
        text: v.text().to_string(),
        list: match &v {
            Value::List(l) => l.clone(),
            _ => Vec::new(),
        },
        options: f.options.clone(),
        parts: ADDRESS_PARTS
            .iter()
            .map(|(k, label)| (format!("{name}.{k}"), *label, v.part(k).to_string()))
            .collect(),
        sig_name: v.part("name").to_string(),
        sig_agreed: v.part("agree") == "yes",
        sig_drawn: v.part("drawn").to_string(),
        consent: f.consent.clone(),
        file_name: v.part("name").to_string(),
        error: None,
        cond: f.show_if.as_ref().and_then(|c| {
            same_page.contains(c.field.as_str()).then(|| {
                let ctrl = def.field(&c.field).map_or("", |x| x.label.as_str());
                let answer = match c.equals.as_str() {
                    "yes" => "Yes",
                    "no" => "No",
                    other => other,
                };
                (
                    field_name(&c.field),
                    c.equals.clone(),
                    format!("Only if you answered “{answer}” to “{ctrl}”."),
                )
            })
        }),
        maxlength: f
            .max
            .filter(|_| f.kind.is_text())
            .map_or(portico_core::forms::MAX_ANSWER_CHARS, |m| m as usize),
        name,
    }
}

/// Where each question is: its page (1-based).
fn page_of(def: &Definition, id: &str) -> usize {
    def.sections
        .iter()
        .position(|s| s.fields.iter().any(|f| f.id == id))
        .map_or(1, |i| i + 1)
}

pub(super) fn summary(def: &Definition, answers: &Answers) -> Vec<ShownSection> {
    let visible = def.visible(answers);
    def.sections
        .iter()
        .map(|s| ShownSection {
            title: s.title.clone(),
            items: s
                .fields
                .iter()
                .filter(|f| visible.contains(f.id.as_str()))
                .map(|f| Shown {
                    label: f.label.clone(),
                    answer: answers
                        .get(&f.id)
                        .map(|v| v.display(f.kind))
                        .unwrap_or_default(),
                })
                .collect(),
        })
        .collect()
}

/// The page showing section `page` of a client's form, with the given answers in its inputs.
fn fill_page(
    signed: &Signed,
    filled: &Filled,
    page: usize,
    answers: &Answers,
    check: bool,
) -> FillPage {
    let def = &filled.definition;
    let a = &filled.assignment;
    let pages = def.sections.len().max(1);
    let page = page.clamp(1, pages);
    let section = &def.sections[page - 1];
    let visible = def.visible(answers);
    // Questions hidden by an answer on an earlier page are not asked; those depending on a
    // question of this page are shown, and the page's script hides them while they do not apply.
    let here: HashSet<&str> = section.fields.iter().map(|f| f.id.as_str()).collect();
    let questions = section
        .fields
        .iter()
        .filter(|f| {
            visible.contains(f.id.as_str())
                || f.show_if
                    .as_ref()
                    .is_some_and(|c| here.contains(c.field.as_str()))
        })
        .map(|f| {
            let mut q = question(f, answers.get(&f.id), def, &here);
            if check && visible.contains(f.id.as_str()) {
                q.error = portico_core::forms::check_value(f, answers.get(&f.id));
            }
            q
        })
        .collect::<Vec<_>>();
    let asked: Vec<&Field> = def
        .fields()
        .filter(|f| visible.contains(f.id.as_str()))
        .collect();
    let answered = asked
        .iter()
        .filter(|f| answers.get(&f.id).is_some_and(|v| !v.is_empty()))
        .count();
    let layout = Layout::new(signed, a.title.clone(), paths::portal_forms());
    FillPage {
        action: paths::form(false, a.id),
        multipart: section.fields.iter().any(|f| f.kind == Kind::File),
        page,
        pages,
        section_title: section.title.clone(),
        section_help: section.help.clone(),
        questions,
        rev: a.rev,
        notice: a
            .saved_at
            .map(|t| format!("Your answers are saved (last {}).", layout.when(&t))),
        error: None,
        problems: Vec::new(),
        answered,
        asked: asked.len(),
        summary: if a.is_open() {
            Vec::new()
        } else {
            summary(def, answers)
        },
        pdf: paths::form_pdf(false, a.id),
        a: a.clone(),
        layout,
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct FillQuery {
    #[serde(default)]
    page: Option<usize>,
    #[serde(default)]
    check: Option<u8>,
}

pub(crate) async fn fill(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
    Query(q): Query<FillQuery>,
) -> Result<FillPage, AppError> {
    if signed.viewer.is_staff() {
        return Err(AppError::NotFound);
    }
    let filled = forms::get(&state.db, &signed.viewer, id).await?;
    Ok(fill_page(
        &signed,
        &filled,
        q.page.unwrap_or(1),
        &filled.answers,
        q.check.is_some(),
    ))
}

/// What a form page posted.
#[derive(Default)]
struct PagePost {
    pairs: Vec<(String, String)>,
    /// Files uploaded for file questions: question id → (file id, name).
    files: BTreeMap<String, (Uuid, String)>,
}

impl PagePost {
    fn one(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a form page, as a plain form or (with file questions) multipart; the anti-forgery
/// token is checked before anything else is read, and files go only to file questions of the
/// form, into the client's files.
async fn read_post(
    state: &AppState,
    signed: &Signed,
    filled: &Filled,
    info: &ReqInfo,
    req: Request,
) -> Result<PagePost, AppError> {
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let mut post = PagePost::default();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let body = axum::body::to_bytes(req.into_body(), MAX_PAGE_BYTES)
            .await
            .map_err(|_| AppError::TooLarge("This page holds too much to save at once.".into()))?;
        post.pairs = serde_urlencoded::from_bytes(&body)
            .map_err(|_| AppError::Invalid("The page could not be read.".into()))?;
        signed.check_csrf(post.one("csrf").unwrap_or(""))?;
        return Ok(post);
    }
    let mut form = MultipartPost::open(
        req,
        state,
        signed,
        Refusals {
            not_multipart: "This page could not be saved. Reload it and try again.",
            unreadable: "The page could not be read.",
            cut_off: "The page was cut off. Please try again.",
        },
    )
    .await?;
    let mut total = 0usize;
    while let Some(field) = form.next().await? {
        let name = field.name().unwrap_or("").to_string();
        if let Some(qid) = name.strip_prefix("file.") {
            if field.file_name().is_none_or(str::is_empty) {
                continue;
            }
            let is_file_question = filled
                .definition
                .field(qid)
                .is_some_and(|f| f.kind == Kind::File);
            if !is_file_question || !filled.assignment.is_open() {
                return Err(AppError::Invalid(
                    "The form has no such question; reload the page.".into(),
                ));
            }
            let f = crate::files::store::store_and_record(
                state,
                signed,
                filled.assignment.client_id,
                None,
                field,
                &info.by(signed),
            )
            .await?;
            post.files.insert(qid.to_string(), (f.id, f.name));
            continue;
        }
        let value = crate::kit::posted::multipart_text(
            field,
            portico_core::forms::MAX_DRAWN_BYTES + 1024,
            "An answer is too long to save.",
        )
        .await?;
        total += value.len();
        if total > MAX_PAGE_BYTES {
            return Err(AppError::TooLarge(
                "This page holds too much to save at once.".into(),
            ));
        }
        post.pairs.push((name, value));
    }
    Ok(post)
}

/// The answers a page posted for its questions (`q`), checked to belong to that page.
fn page_answers(def: &Definition, page: usize, post: &PagePost) -> Result<Save, AppError> {
    let wrong = || AppError::Invalid("The form has no such question; reload the page.".into());
    let section = def.sections.get(page.wrapping_sub(1)).ok_or_else(wrong)?;
    let here: std::collections::HashMap<&str, &Field> =
        section.fields.iter().map(|f| (f.id.as_str(), f)).collect();
    let on_page = |id: &str| here.get(id).copied();
    let mut save = Save {
        based_on: post
            .one("rev")
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| AppError::Invalid("The page could not be read; reload it.".into()))?,
        ..Default::default()
    };
    let shown: HashSet<&str> = post
        .pairs
        .iter()
        .filter(|(k, _)| k == "q")
        .map(|(_, v)| v.as_str())
        .collect();
    if shown.iter().any(|id| !here.contains_key(id)) {
        return Err(wrong());
    }
    save.fields = section
        .fields
        .iter()
        .filter(|f| f.kind != Kind::File && shown.contains(f.id.as_str()))
        .map(|f| f.id.clone())
        .collect();
    for (key, value) in &post.pairs {
        let Some(rest) = key.strip_prefix("f.") else {
            continue;
        };
        let (id, part) = match rest.split_once('.') {
            Some((id, part)) => (id, Some(part)),
            None => (rest, None),
        };
        let f = on_page(id)
            .filter(|f| shown.contains(f.id.as_str()))
            .ok_or_else(wrong)?;
        let entry = save.answers.get_mut(id);
        match (f.kind, part, entry) {
            (Kind::MultiChoice, None, Some(Value::List(l))) => l.push(value.clone()),
            (Kind::MultiChoice, None, None) => {
                save.answers
                    .insert(id.to_string(), Value::List(vec![value.clone()]));
            }
            (Kind::Address | Kind::Signature, Some(part), Some(Value::Parts(p))) => {
                if p.insert(part.to_string(), value.clone()).is_some() {
                    return Err(AppError::Invalid(format!("“{}”: sent twice.", f.label)));
                }
            }
            (Kind::Address | Kind::Signature, Some(part), None) => {
                save.answers.insert(
                    id.to_string(),
                    Value::Parts(BTreeMap::from([(part.to_string(), value.clone())])),
                );
            }
            (_, None, None) if !matches!(f.kind, Kind::Address | Kind::Signature | Kind::File) => {
                save.answers
                    .insert(id.to_string(), Value::Text(value.clone()));
            }
            _ => {
                return Err(AppError::Invalid(format!(
                    "“{}”: that answer has the wrong shape.",
                    f.label
                )));
            }
        }
    }
    // Empty parts count as no answer, so an untouched address is not a change.
    save.answers.retain(|_, v| !v.is_empty());
    for (qid, (file_id, name)) in &post.files {
        if on_page(qid).is_none() {
            return Err(wrong());
        }
        save.fields.push(qid.clone());
        save.answers.insert(
            qid.clone(),
            portico_core::forms::file_answer(&file_id.to_string(), name),
        );
    }
    Ok(save)
}

fn json(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Saves a page (and moves on, or submits). With `X-Autosave: 1` it answers in JSON for the
/// page's script: the new revision, or why the save was refused.
pub(crate) async fn save(
    State(state): State<AppState>,
    info: ReqInfo,
    signed: Signed,
    headers: HeaderMap,
    Id(id): Id,
    req: Request,
) -> Result<Response, AppError> {
    if signed.viewer.is_staff() {
        return Err(AppError::NotFound);
    }
    let filled = forms::get(&state.db, &signed.viewer, id).await?;
    let auto = headers.get("x-autosave").is_some_and(|v| v == "1");
    let post = read_post(&state, &signed, &filled, &info, req).await?;
    let page: usize = post.one("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let go = post.one("go").unwrap_or("save").to_string();
    let refuse = |status: StatusCode, message: String, answers: &Answers| -> Response {
        if auto {
            return json(status, serde_json::json!({ "error": message }));
        }
        let mut p = fill_page(&signed, &filled, page, answers, false);
        p.error = Some(message);
        (status, p).into_response()
    };
    let save = match page_answers(&filled.definition, page, &post) {
        Ok(s) => s,
        Err(AppError::Invalid(m)) => {
            return Ok(refuse(StatusCode::UNPROCESSABLE_ENTITY, m, &filled.answers));
        }
        Err(e) => return Err(e),
    };
    // What the page showed, with the posted answers over the saved ones, for re-showing it.
    let shown = || {
        let mut shown = filled.answers.clone();
        for f in &save.fields {
            match save.answers.get(f) {
                Some(v) => shown.insert(f.clone(), v.clone()),
                None => shown.remove(f),
            };
        }
        shown
    };
    let rev =
        match forms::save_draft(&state.db, &state.drafts, &signed.viewer, &filled, &save).await {
            Ok(Saved::Done(rev)) => rev,
            Ok(Saved::Clash(c)) => {
                let message = format!(
                    "These answers were changed in another window since this page was opened: {}. \
                 Your answers are still below; check them and save again.",
                    c.labels.join(", ")
                );
                if auto {
                    return Ok(json(
                        StatusCode::CONFLICT,
                        serde_json::json!({ "error": message, "rev": c.rev }),
                    ));
                }
                let mut p = fill_page(&signed, &filled, page, &shown(), false);
                p.rev = c.rev;
                p.error = Some(message);
                return Ok((StatusCode::CONFLICT, p).into_response());
            }
            Err(DbError::Invalid(e)) => {
                return Ok(refuse(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    e.message,
                    &shown(),
                ));
            }
            Err(DbError::Conflict(m)) => return Ok(refuse(StatusCode::CONFLICT, m, &shown())),
            Err(e) => return Err(e.into()),
        };
    if auto {
        return Ok(json(StatusCode::OK, serde_json::json!({ "rev": rev })));
    }
    let base = paths::form(false, id);
    let to = match go.as_str() {
        "next" => format!("{base}?page={}", page + 1),
        "back" => format!("{base}?page={}", page.saturating_sub(1).max(1)),
        "submit" => {
            return submit(&state, &signed, &info, id, rev, page).await;
        }
        other => match other
            .strip_prefix("page:")
            .and_then(|p| p.parse::<usize>().ok())
        {
            Some(p) => format!("{base}?page={p}"),
            None => format!("{}?saved=1", paths::portal_forms()),
        },
    };
    Ok(Redirect::to(&to).into_response())
}

async fn submit(
    state: &AppState,
    signed: &Signed,
    info: &ReqInfo,
    id: Uuid,
    rev: i64,
    page: usize,
) -> Result<Response, AppError> {
    match forms::submit(&state.db, &signed.viewer, id, rev, &info.by(signed)).await {
        Ok(_) => {
            state.jobs_waiting.notify_one();
            Ok(Redirect::to(&paths::form(false, id)).into_response())
        }
        Err(Refused::Problems(problems)) => {
            let filled = forms::get(&state.db, &signed.viewer, id).await?;
            let first = problems
                .first()
                .map_or(page, |p| page_of(&filled.definition, &p.field));
            let mut p = fill_page(signed, &filled, first, &filled.answers, true);
            p.problems = problem_links(&filled.definition, id, &problems);
            p.error = Some(format!(
                "The form cannot be submitted yet: {} {} need{} attention.",
                problems.len(),
                if problems.len() == 1 {
                    "question"
                } else {
                    "questions"
                },
                if problems.len() == 1 { "s" } else { "" }
            ));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(Refused::Other(DbError::Conflict(m))) => {
            let filled = forms::get(&state.db, &signed.viewer, id).await?;
            let mut p = fill_page(signed, &filled, page, &filled.answers, false);
            p.error = Some(m);
            Ok((StatusCode::CONFLICT, p).into_response())
        }
        Err(Refused::Other(e)) => Err(e.into()),
    }
}

fn problem_links(def: &Definition, id: Uuid, problems: &[Problem]) -> Vec<ProblemLink> {
    problems
        .iter()
        .map(|p| ProblemLink {
            href: format!(
                "{}?page={}&check=1#q-{}",
                paths::form(false, id),
                page_of(def, &p.field),
                p.field
            ),
            label: def
                .field(&p.field)
                .map_or(String::new(), |f| f.label.clone()),
            message: p.message.clone(),
        })
        .collect()
}
