//! Exports of what clients sent: a PDF for one, CSV for all of a template's.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use portico_core::forms::Kind;
use portico_db::forms::{self};
use uuid::Uuid;

use super::fill::summary;
use crate::forms::pdf::{self, Block};
use crate::kit::error::AppError;
use crate::kit::extract::Id;
use crate::kit::extract::check_side;
use crate::kit::layout::Layout;
use crate::kit::request::ReqInfo;
use crate::kit::session::Signed;
use crate::state::AppState;

fn attachment(content_type: &'static str, name: &str, body: Vec<u8>) -> Response {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    (
        [
            (CONTENT_TYPE, content_type.to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe}\""),
            ),
        ],
        Bytes::from(body),
    )
        .into_response()
}

/// One submission as a PDF: the latest, from either side (a client, their own).
pub(crate) async fn pdf(
    State(state): State<AppState>,
    signed: Signed,
    info: ReqInfo,
    uri: Uri,
    Id(id): Id,
) -> Result<Response, AppError> {
    check_side(&uri, &signed)?;
    let filled = forms::get(&state.db, &signed.viewer, id).await?;
    let (subs, sigs) = forms::submissions(&state.db, &signed.viewer, id).await?;
    let sub = subs.first().ok_or_else(|| {
        AppError::Conflict(
            "This form has not been submitted yet, so there is nothing to export.".into(),
        )
    })?;
    let layout = Layout::new(&signed, "", "");
    let answers = sub.answers();
    let mut blocks = vec![
        Block::Title(filled.assignment.title.clone()),
        Block::Line(format!("Client: {}", filled.assignment.client_name)),
        Block::Line(format!(
            "Submitted {} by {} (submission {})",
            layout.when(&sub.submitted_at),
            sub.submitted_by_name,
            sub.seq
        )),
        Block::Line(format!("Content SHA-256: {}", sub.content_hash)),
    ];
    for s in summary(&filled.definition, &answers) {
        blocks.push(Block::Heading(s.title));
        for item in s.items {
            blocks.push(Block::Answer(item.label, item.answer));
        }
    }
    let signed_here: Vec<_> = sigs.iter().filter(|g| g.submission_id == sub.id).collect();
    if !signed_here.is_empty() {
        blocks.push(Block::Heading("Electronic signatures".into()));
        for g in signed_here {
            blocks.push(Block::Answer(
                format!("Signed by {} as “{}”", g.signer_name, g.typed_name),
                format!(
                    "{}, from {}. Agreed: “{}”. Content SHA-256: {}",
                    layout.when(&g.signed_at),
                    g.ip,
                    g.consent,
                    g.content_hash
                ),
            ));
        }
    }
    let body = pdf::document(&filled.assignment.title, &blocks);
    audit_export(&state, &signed, &info, "form.export_pdf", id).await?;
    Ok(attachment(
        "application/pdf",
        &format!("{}-{}.pdf", filled.assignment.title, sub.seq),
        body,
    ))
}

async fn audit_export(
    state: &AppState,
    signed: &Signed,
    info: &ReqInfo,
    action: &str,
    id: Uuid,
) -> Result<(), AppError> {
    portico_db::audit::record(
        &state.db,
        &info.by(signed),
        portico_db::audit::Event::new(Some(signed.viewer.firm_id()), action).object("form", id),
    )
    .await?;
    Ok(())
}

/// Every client's latest submission of a template as CSV, one column per question (of every
/// version, the current wording first); cells a spreadsheet would run are made plain text.
pub(crate) async fn export_csv(
    State(state): State<AppState>,
    signed: Signed,
    info: ReqInfo,
    Id(id): Id,
) -> Result<Response, AppError> {
    signed.require_staff()?;
    let (template, _) = forms::template(&state.db, &signed.viewer, id).await?;
    let (rows, defs) = forms::export(&state.db, &signed.viewer, id).await?;
    // Columns: questions of the newest version first, then those only older versions asked.
    let mut columns: Vec<(String, String, Kind)> = Vec::new();
    for def in defs.values().rev() {
        for f in def.fields() {
            if !columns.iter().any(|(cid, _, _)| *cid == f.id) {
                columns.push((f.id.clone(), f.label.clone(), f.kind));
            }
        }
    }
    let layout = Layout::new(&signed, "", "");
    let mut out = String::new();
    let mut header = vec![
        "Client".to_string(),
        "Submitted".into(),
        "Submitted by".into(),
        "Form version".into(),
        "Content SHA-256".into(),
    ];
    header.extend(columns.iter().map(|(_, l, _)| l.clone()));
    out.push_str(&crate::kit::csv::record(header.iter().map(String::as_str)));
    for r in &rows {
        let answers = r.submission.answers();
        let mut cells = vec![
            r.client_name.clone(),
            layout.when(&r.submission.submitted_at),
            r.submission.submitted_by_name.clone(),
            r.version.to_string(),
            r.submission.content_hash.clone(),
        ];
        cells.extend(columns.iter().map(|(cid, _, kind)| {
            answers
                .get(cid)
                .map(|v| v.display(*kind))
                .unwrap_or_default()
        }));
        out.push_str(&crate::kit::csv::record(cells.iter().map(String::as_str)));
    }
    audit_export(&state, &signed, &info, "form.export_csv", id).await?;
    Ok(attachment(
        "text/csv; charset=utf-8",
        &format!("{}.csv", template.title),
        out.into_bytes(),
    ))
}
