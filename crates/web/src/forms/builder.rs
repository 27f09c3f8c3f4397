//! The form builder (staff): the firm's templates, and one template's sections and questions.
//! Every change is a small form post that saves the template's next version; a change made on
//! a page older than the current version is refused rather than overwriting someone else's.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_core::forms::{Condition, Definition, Field, Kind, Section};
use portico_db::DbError;
use portico_db::forms::{self, Template as FormTemplate};
use serde::Deserialize;
use uuid::Uuid;

use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::layout::Layout;
use crate::kit::paths;
use crate::kit::posted::Posted;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

/// What a signature field asks the signer to agree to, unless the firm words it otherwise.
pub(crate) const DEFAULT_CONSENT: &str = "I agree that typing my name here is my electronic \
     signature on this form, with the same effect as signing it by hand, and that my answers are true \
     to the best of my knowledge.";

#[derive(Template, WebTemplate)]
#[template(path = "forms/form_templates.html")]
pub(crate) struct TemplatesPage {
    layout: Layout,
    templates: Vec<FormTemplate>,
    error: Option<String>,
    draft: (String, String),
}

async fn templates_page(state: &AppState, signed: &Signed) -> Result<TemplatesPage, AppError> {
    Ok(TemplatesPage {
        templates: forms::templates(&state.db, &signed.viewer).await?,
        layout: Layout::new(signed, "Forms", paths::forms()),
        error: None,
        draft: Default::default(),
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    signed: Signed,
) -> Result<TemplatesPage, AppError> {
    signed.require_staff()?;
    templates_page(&state, &signed).await
}

#[derive(Deserialize)]
pub(crate) struct NewTemplate {
    title: String,
    #[serde(default)]
    description: String,
}

pub(crate) async fn create(
    State(state): State<AppState>,
    info: ReqInfo,
    posted: Posted<NewTemplate>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let f = &posted.form;
    match forms::create_template(
        &state.db,
        &signed.viewer,
        &f.title,
        &f.description,
        &info.by(signed),
    )
    .await
    {
        Ok(id) => Ok(Redirect::to(&paths::form_template(id)).into_response()),
        Err(DbError::Invalid(e)) => {
            let mut p = templates_page(&state, signed).await?;
            p.error = Some(e.message);
            p.draft = (f.title.clone(), f.description.clone());
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// A question as the builder lists it.
pub(crate) struct FieldRow {
    pub field: Field,
    pub options_text: String,
    pub min: String,
    pub max: String,
    pub condition: String,
    /// The condition as the editor's select names it: `id=answer`, or empty.
    pub show_if: String,
    /// The moves this question can make: (op, button label).
    pub moves: Vec<(&'static str, &'static str)>,
}

pub(crate) struct SectionRow {
    pub index: usize,
    pub section: Section,
    pub fields: Vec<FieldRow>,
}

/// A question a condition can depend on: its id, label, and `(id=answer, answer)` pairs.
type Choice = (String, String, Vec<(String, String)>);

#[derive(Template, WebTemplate)]
#[template(path = "forms/form_builder.html")]
pub(crate) struct BuilderPage {
    layout: Layout,
    template: FormTemplate,
    sections: Vec<SectionRow>,
    /// Questions with set answers, for conditions.
    choices: Vec<Choice>,
    kinds: Vec<(&'static str, &'static str)>,
    error: Option<String>,
    default_consent: &'static str,
}

fn number(n: Option<f64>) -> String {
    n.map(|v| v.to_string()).unwrap_or_default()
}

async fn builder_page(
    state: &AppState,
    signed: &Signed,
    id: Uuid,
) -> Result<BuilderPage, AppError> {
    let (template, def) = forms::template(&state.db, &signed.viewer, id).await?;
    let mut choices = Vec::new();
    let sections = def
        .sections
        .iter()
        .enumerate()
        .map(|(index, s)| {
            let n = s.fields.len();
            SectionRow {
                index,
                section: s.clone(),
                fields: s
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let answers = match f.kind {
                            Kind::YesNo => vec!["yes".to_string(), "no".to_string()],
                            k if k.has_options() => f.options.clone(),
                            _ => Vec::new(),
                        };
                        if !answers.is_empty() {
                            let values = answers
                                .into_iter()
                                .map(|a| (format!("{}={a}", f.id), a))
                                .collect();
                            choices.push((f.id.clone(), f.label.clone(), values));
                        }
                        FieldRow {
                            options_text: f.options.join("\n"),
                            min: number(f.min),
                            max: number(f.max),
                            condition: f
                                .show_if
                                .as_ref()
                                .and_then(|c| {
                                    def.field(&c.field).map(|ctrl| {
                                        format!("Shown when “{}” is “{}”", ctrl.label, c.equals)
                                    })
                                })
                                .unwrap_or_default(),
                            show_if: f
                                .show_if
                                .as_ref()
                                .map(|c| format!("{}={}", c.field, c.equals))
                                .unwrap_or_default(),
                            moves: [
                                (i > 0).then_some(("up", "Move up")),
                                (i + 1 < n).then_some(("down", "Move down")),
                                Some(("remove_field", "Remove")),
                            ]
                            .into_iter()
                            .flatten()
                            .collect(),
                            field: f.clone(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(BuilderPage {
        layout: Layout::new(signed, template.title.clone(), paths::forms()),
        template,
        sections,
        choices,
        kinds: Kind::ALL.iter().map(|k| (k.as_str(), k.label())).collect(),
        error: None,
        default_consent: DEFAULT_CONSENT,
    })
}

pub(crate) async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Id(id): Id,
) -> Result<BuilderPage, AppError> {
    signed.require_staff()?;
    builder_page(&state, &signed, id).await
}

/// One builder change. Which parts matter depends on `op`.
#[derive(Deserialize, Default)]
pub(crate) struct Edit {
    op: String,
    version: i64,
    #[serde(default)]
    section: Option<usize>,
    #[serde(default)]
    field: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    help: String,
    #[serde(default)]
    required: Option<String>,
    #[serde(default)]
    options: String,
    #[serde(default)]
    min: String,
    #[serde(default)]
    max: String,
    #[serde(default)]
    pattern: String,
    #[serde(default)]
    show_if: String,
    #[serde(default)]
    consent: String,
}

fn bad(m: impl Into<String>) -> AppError {
    AppError::Invalid(m.into())
}

fn bound(raw: &str, what: &str) -> Result<Option<f64>, AppError> {
    match raw.trim() {
        "" => Ok(None),
        t => t
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| bad(format!("The {what} must be a number."))),
    }
}

/// The question an edit describes, keeping `id`.
fn field_from(e: &Edit, id: String) -> Result<Field, AppError> {
    let kind = Kind::parse(&e.kind).ok_or_else(|| bad("Choose what kind of question it is."))?;
    let show_if = match e.show_if.split_once('=') {
        Some((field, equals)) if !field.is_empty() => Some(Condition {
            field: field.to_string(),
            equals: equals.to_string(),
        }),
        _ if e.show_if.is_empty() => None,
        _ => return Err(bad("Choose when the question is shown.")),
    };
    let options: Vec<String> = if kind.has_options() {
        e.options
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    } else {
        Vec::new()
    };
    if options.len() > 100 {
        return Err(bad("Offer at most 100 choices."));
    }
    if e.help.chars().count() > 2_000 || e.consent.chars().count() > 2_000 {
        return Err(bad("Keep help and statements under 2,000 characters."));
    }
    Ok(Field {
        id,
        kind,
        label: e.label.trim().to_string(),
        help: e.help.trim().to_string(),
        required: e.required.is_some(),
        options,
        min: bound(&e.min, "minimum")?,
        max: bound(&e.max, "maximum")?,
        pattern: if kind.is_text() {
            e.pattern.trim().to_string()
        } else {
            String::new()
        },
        show_if,
        consent: if kind == Kind::Signature {
            match e.consent.trim() {
                "" => DEFAULT_CONSENT.to_string(),
                c => c.to_string(),
            }
        } else {
            String::new()
        },
    })
}

/// Where a question is: (section, position).
fn locate(def: &Definition, id: &str) -> Result<(usize, usize), AppError> {
    def.sections
        .iter()
        .enumerate()
        .find_map(|(s, sec)| sec.fields.iter().position(|f| f.id == id).map(|i| (s, i)))
        .ok_or_else(|| bad("That question is no longer on the form; reload the page."))
}

fn section_index(def: &Definition, e: &Edit) -> Result<usize, AppError> {
    e.section
        .filter(|i| *i < def.sections.len())
        .ok_or_else(|| bad("That section is no longer on the form; reload the page."))
}

/// Applies one edit to the questions.
fn apply(def: &mut Definition, e: &Edit) -> Result<(), AppError> {
    match e.op.as_str() {
        "add_section" => {
            if def.sections.len() >= 50 {
                return Err(bad("A form can have at most 50 sections."));
            }
            def.sections.push(Section {
                title: e.title.trim().to_string(),
                help: e.help.trim().to_string(),
                fields: Vec::new(),
            });
        }
        "section" => {
            let i = section_index(def, e)?;
            def.sections[i].title = e.title.trim().to_string();
            def.sections[i].help = e.help.trim().to_string();
        }
        "remove_section" => {
            let i = section_index(def, e)?;
            if !def.sections[i].fields.is_empty() {
                return Err(bad(
                    "Move or remove the section's questions before removing the section.",
                ));
            }
            if def.sections.len() == 1 {
                return Err(bad("A form keeps at least one section."));
            }
            def.sections.remove(i);
        }
        "add_field" => {
            let i = section_index(def, e)?;
            def.next_field += 1;
            let id = format!("q{}", def.next_field);
            let field = field_from(e, id)?;
            def.sections[i].fields.push(field);
        }
        "field" => {
            let (s, i) = locate(def, &e.field)?;
            def.sections[s].fields[i] = field_from(e, e.field.clone())?;
        }
        "remove_field" => {
            let (s, i) = locate(def, &e.field)?;
            if def
                .fields()
                .any(|f| f.show_if.as_ref().is_some_and(|c| c.field == e.field))
            {
                return Err(bad(
                    "Other questions are shown depending on this one; change them first.",
                ));
            }
            def.sections[s].fields.remove(i);
        }
        "up" | "down" => {
            let (s, i) = locate(def, &e.field)?;
            let fields = &mut def.sections[s].fields;
            let j = if e.op == "up" {
                i.checked_sub(1)
            } else {
                (i + 1 < fields.len()).then_some(i + 1)
            };
            if let Some(j) = j {
                fields.swap(i, j);
            }
        }
        _ => return Err(bad("That change is not one the builder makes.")),
    }
    Ok(())
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    Id(id): Id,
    info: ReqInfo,
    posted: Posted<Edit>,
) -> Result<Response, AppError> {
    let signed = &posted.signed;
    signed.require_staff()?;
    let e = &posted.form;
    let (template, mut def) = forms::template(&state.db, &signed.viewer, id).await?;
    let result = if e.op == "rename" {
        forms::rename_template(&state.db, &signed.viewer, id, &e.title, &e.description)
            .await
            .map_err(AppError::from)
    } else if e.version != template.version {
        Err(AppError::Conflict(
            "Someone else changed this form since you opened it. Your change was not saved: \
             look at the form as it is now and make it again."
                .into(),
        ))
    } else {
        match apply(&mut def, e) {
            Ok(()) => forms::save_definition(
                &state.db,
                &signed.viewer,
                id,
                e.version,
                &def,
                &info.by(signed),
            )
            .await
            .map(|_| ())
            .map_err(AppError::from),
            Err(err) => Err(err),
        }
    };
    match result {
        Ok(()) => Ok(Redirect::to(&paths::form_template(id)).into_response()),
        Err(AppError::Invalid(m)) => {
            let mut p = builder_page(&state, signed, id).await?;
            p.error = Some(m);
            Ok((StatusCode::UNPROCESSABLE_ENTITY, p).into_response())
        }
        Err(AppError::Conflict(m)) => {
            let mut p = builder_page(&state, signed, id).await?;
            p.error = Some(m);
            Ok((StatusCode::CONFLICT, p).into_response())
        }
        Err(e) => Err(e),
    }
}
