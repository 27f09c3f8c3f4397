//! The append-only, hash-chained audit log. Each event's hash covers the previous event's
//! hash, so changing, removing or reordering any event breaks every hash after it.

use sha2::{Digest, Sha256};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{Db, DbError, Tx, now, on_db, on_tx};

/// Where a change came from: copied into every event it causes.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub actor_user_id: Option<Uuid>,
    /// A readable actor: an email, "system" or "cli".
    pub actor: String,
    pub request_id: String,
    pub ip: String,
}

impl Origin {
    pub fn system(actor: &str) -> Origin {
        Origin {
            actor: actor.to_string(),
            ..Origin::default()
        }
    }
}

/// What happened, to what.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub firm_id: Option<Uuid>,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: String,
    pub detail: String,
}

impl<'a> Event<'a> {
    pub fn new(firm_id: Option<Uuid>, action: &'a str) -> Event<'a> {
        Event {
            firm_id,
            action,
            object_type: "",
            object_id: String::new(),
            detail: String::new(),
        }
    }

    pub fn object(mut self, object_type: &'a str, id: impl ToString) -> Event<'a> {
        self.object_type = object_type;
        self.object_id = id.to_string();
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Event<'a> {
        self.detail = detail.into();
        self
    }
}

/// A stored event, as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEvent {
    pub seq: i64,
    pub firm_id: Option<Uuid>,
    pub actor_user_id: Option<Uuid>,
    pub actor: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub request_id: String,
    pub ip: String,
    pub detail: String,
    pub created_at: OffsetDateTime,
    pub prev_hash: String,
    pub hash: String,
}

impl StoredEvent {
    fn expected_hash(&self) -> String {
        let mut h = Sha256::new();
        let ids = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
        let fields = [
            self.seq.to_string(),
            ids(self.firm_id),
            ids(self.actor_user_id),
            self.actor.clone(),
            self.action.clone(),
            self.object_type.clone(),
            self.object_id.clone(),
            self.request_id.clone(),
            self.ip.clone(),
            self.detail.clone(),
            self.created_at.unix_timestamp_nanos().to_string(),
            self.prev_hash.clone(),
        ];
        // Length-prefixed fields: no two different events share an encoding.
        for f in fields {
            h.update((f.len() as u64).to_be_bytes());
            h.update(f.as_bytes());
        }
        hex::encode(h.finalize())
    }
}

/// Appends one event inside the caller's transaction, so the event commits with the change.
pub async fn append(tx: &mut Tx, origin: &Origin, event: Event<'_>) -> Result<(), DbError> {
    // Taking the head row first serialises appenders on both databases.
    let (seq, prev_hash): (i64, String) = on_tx!(tx, c => sqlx::query_as(
        "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"
    ).fetch_one(&mut **c).await)?;
    let mut stored = StoredEvent {
        seq,
        firm_id: event.firm_id,
        actor_user_id: origin.actor_user_id,
        actor: origin.actor.clone(),
        action: event.action.to_string(),
        object_type: event.object_type.to_string(),
        object_id: event.object_id,
        request_id: origin.request_id.clone(),
        ip: origin.ip.clone(),
        detail: event.detail,
        created_at: now(),
        prev_hash,
        hash: String::new(),
    };
    stored.hash = stored.expected_hash();
    let e = &stored;
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO audit_events (seq, firm_id, actor_user_id, actor, action, object_type, object_id, \
         request_id, ip, detail, created_at, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    )
    .bind(e.seq).bind(e.firm_id).bind(e.actor_user_id).bind(&e.actor).bind(&e.action)
    .bind(&e.object_type).bind(&e.object_id).bind(&e.request_id).bind(&e.ip).bind(&e.detail)
    .bind(e.created_at).bind(&e.prev_hash).bind(&e.hash)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(tx, c => sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&e.hash).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Records an event on its own (for events with no other change, such as a failed sign-in).
pub async fn record(db: &Db, origin: &Origin, event: Event<'_>) -> Result<(), DbError> {
    let mut tx = db.begin().await?;
    append(&mut tx, origin, event).await?;
    tx.commit().await
}

/// The outcome of checking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub events: u64,
    /// The first event whose hash or link does not match, if any.
    pub first_broken: Option<i64>,
}

/// Walks the chain from the start, in batches, recomputing every hash.
pub async fn verify(db: &Db) -> Result<Verification, DbError> {
    const BATCH: i64 = 1000;
    let mut after = 0_i64;
    let mut prev = "0".repeat(64);
    let mut expected_seq = 1_i64;
    let mut events = 0_u64;
    loop {
        let batch: Vec<StoredEvent> = on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT * FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT {}",
        BATCH
    ))).bind(after).fetch_all(p).await)?;
        if batch.is_empty() {
            break;
        }
        for e in &batch {
            if e.seq != expected_seq || e.prev_hash != prev || e.hash != e.expected_hash() {
                return Ok(Verification {
                    events,
                    first_broken: Some(e.seq),
                });
            }
            prev = e.hash.clone();
            expected_seq += 1;
            events += 1;
        }
        after = batch.last().map(|e| e.seq).unwrap_or(after);
    }
    // The head must agree with the last event, or events were cut off the end.
    let (head_seq, head_hash): (i64, String) = on_db!(db, p => sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1").fetch_one(p).await)?;
    let first_broken = (head_seq != expected_seq - 1 || head_hash != prev).then_some(expected_seq);
    Ok(Verification {
        events,
        first_broken,
    })
}

/// The newest events of a firm, for the firm's administrators.
pub async fn recent_for_firm(
    db: &Db,
    viewer: &portico_core::Viewer,
    limit: i64,
) -> Result<Vec<StoredEvent>, DbError> {
    search(db, viewer, &Filter::default(), limit).await
}

/// What an administrator narrows the firm's audit log to. Empty strings and `None` mean "any".
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The start of an action name: "session." finds every session event.
    pub action: String,
    /// Part of the actor (an email address).
    pub actor: String,
    /// From this time on (inclusive) and before this time (exclusive).
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// Keyset paging: only events older than this sequence number.
    pub before_seq: Option<i64>,
}

/// Escapes `%`, `_` and `\` so typed text matches literally inside LIKE.
pub(crate) fn like_literal(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The firm's events matching `filter`, newest first, at most `limit` (administrators only).
pub async fn search(
    db: &Db,
    viewer: &portico_core::Viewer,
    filter: &Filter,
    limit: i64,
) -> Result<Vec<StoredEvent>, DbError> {
    if !viewer.may_administer_firm() {
        return Err(DbError::Forbidden);
    }
    let action = format!("{}%", like_literal(filter.action.trim()));
    let actor = format!("%{}%", like_literal(&filter.actor.trim().to_lowercase()));
    let from = filter
        .from
        .unwrap_or(time::macros::datetime!(1970-01-01 0:00 UTC));
    let until = filter
        .until
        .unwrap_or(time::macros::datetime!(9999-01-01 0:00 UTC));
    Ok(on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT * FROM audit_events WHERE firm_id = $1 AND seq < $2 \
         AND action LIKE $3 ESCAPE '\\' AND LOWER(actor) LIKE $4 ESCAPE '\\' \
         AND created_at >= $5 AND created_at < $6 ORDER BY seq DESC LIMIT {}",
        limit
    ))).bind(viewer.firm_id()).bind(filter.before_seq.unwrap_or(i64::MAX)).bind(&action).bind(&actor)
    .bind(from).bind(until).fetch_all(p).await)?)
}
