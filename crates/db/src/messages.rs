//! Secure messaging: conversations between a firm and one client (optionally about a matter).
//!
//! Client users see a conversation only as its members — the people it was addressed to or
//! copied to — while staff see every conversation of their firm. Messages are numbered within
//! their conversation (`seq`), so pages are read by number in constant time and concurrent
//! replies keep one order. A person's read mark is the highest number they have seen; each
//! advance is kept with its time, which gives read receipts.

use portico_core::notices;
use portico_core::{Invalid, Side, Viewer, validate};
use sqlx::AssertSqlSafe;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Event, Origin, like_literal};
use crate::files::{self, NewFile};
use crate::notifications::{self, Notice};
use crate::{Db, DbError, Tx, clients, matters, new_id, now, on_db, on_tx, signals};

/// The longest message accepted, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// The longest conversation title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The most people a conversation can be addressed or copied to at once.
pub const MAX_RECIPIENTS: usize = 50;
/// The most files one message carries.
pub const MAX_ATTACHMENTS: usize = 20;

/// A conversation as an item of the audit log and of a client's "who opened what".
pub const ITEM: &str = "conversation";
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Conversation {
    pub id: Uuid,
    #[serde(skip)]
    pub firm_id: Uuid,
    pub client_id: Uuid,
    pub matter_id: Option<Uuid>,
    pub title: String,
    pub last_seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub last_message_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The highest message number the viewer who loaded it has read.
    #[serde(skip)]
    pub read_seq: i64,
}

/// A conversation in a list: with its client, its matter and the viewer's read mark.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Listed {
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub conversation: Conversation,
    pub client_name: String,
    pub matter_title: Option<String>,
}

impl Listed {
    pub fn unread(&self) -> bool {
        self.conversation.last_seq > self.conversation.read_seq
    }
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Message {
    pub id: Uuid,
    #[serde(skip)]
    pub conversation_id: Uuid,
    pub seq: i64,
    #[serde(skip)]
    pub author_user_id: Uuid,
    pub author_name: String,
    /// "staff" or "client".
    pub author_side: String,
    /// Empty once deleted.
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub edited_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    pub deleted_by_name: Option<String>,
    #[serde(skip)]
    pub attachment_count: i64,
    /// Files sent with the message.
    #[sqlx(skip)]
    pub attachments: Vec<Attachment>,
}

/// A file sent with a message.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Attachment {
    #[serde(skip)]
    pub message_id: Uuid,
    pub file_id: Uuid,
    pub name: String,
    pub size: i64,
}

/// Someone taking part in a conversation.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct Member {
    pub user_id: Uuid,
    pub name: String,
    pub side: String,
    pub read_seq: i64,
}

/// One advance of a person's read mark: everything up to `up_to_seq` was read at `read_at`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReadMark {
    pub user_id: Uuid,
    pub name: String,
    pub side: String,
    pub up_to_seq: i64,
    pub read_at: OffsetDateTime,
}

/// What starts a conversation.
#[derive(Debug, Clone, Default)]
pub struct NewConversation {
    /// Staff choose the client; for a client user it is their own and this is ignored.
    pub client_id: Option<Uuid>,
    pub matter_id: Option<Uuid>,
    pub title: String,
    pub body: String,
    /// Staff: the client's portal users it is addressed to (none: all of them). A client
    /// user: colleagues of their own client to copy.
    pub recipients: Vec<Uuid>,
}

fn check_attachments(attachments: &[NewFile<'_>]) -> Result<(), DbError> {
    if attachments.len() > MAX_ATTACHMENTS {
        return Err(Invalid::new(
            "files",
            format!("Attach at most {MAX_ATTACHMENTS} files to one message."),
        )
        .into());
    }
    Ok(())
}

const MESSAGE_COLUMNS: &str = "m.id, m.conversation_id, m.seq, m.author_user_id, u.name AS author_name, \
     m.author_side, m.body, m.created_at, m.edited_at, m.deleted_at, d.name AS deleted_by_name, \
     (SELECT COUNT(*) FROM message_attachments ma WHERE ma.message_id = m.id) AS attachment_count \
     FROM messages m JOIN users u ON u.id = m.author_user_id LEFT JOIN users d ON d.id = m.deleted_by";

/// Starts a conversation with its first message; the people it is for are notified.
pub async fn start(
    db: &Db,
    viewer: &Viewer,
    new: &NewConversation,
    origin: &Origin,
) -> Result<(Conversation, Message), DbError> {
    let client_id = match viewer.client_scope() {
        Some(own) => own,
        None => new
            .client_id
            .ok_or_else(|| Invalid::new("client", "Choose the client."))?,
    };
    let client = clients::get(db, viewer, client_id).await?;
    let matter_id = match new.matter_id {
        Some(id) => {
            let m = matters::get(db, viewer, id).await?;
            if m.client_id != client.id {
                return Err(DbError::NotFound);
            }
            Some(m.id)
        }
        None => None,
    };
    let title = validate::text("title", &new.title, MAX_TITLE_CHARS)?;
    let body = validate::text("body", &new.body, MAX_BODY_CHARS)?;
    if new.recipients.len() > MAX_RECIPIENTS {
        return Err(Invalid::new(
            "recipients",
            format!("Choose at most {MAX_RECIPIENTS} people."),
        )
        .into());
    }
    // The people on the client's side: each must be an active portal user of this client.
    // (Refused below, the transaction simply rolls back.)
    let mut tx = db.begin().await?;
    let portal_users = notifications::client_people(&mut tx, client.firm_id, client.id).await?;
    if let Some(stranger) = new.recipients.iter().find(|u| !portal_users.contains(u)) {
        tracing::debug!(%stranger, "recipient is not a portal user of this client");
        return Err(Invalid::new(
            "recipients",
            "Choose people from this client's portal users.",
        )
        .into());
    }
    let mut client_side: Vec<Uuid> = if viewer.is_staff() && new.recipients.is_empty() {
        portal_users
    } else {
        new.recipients.clone()
    };
    if !viewer.is_staff() {
        client_side.retain(|u| *u != viewer.user_id());
        client_side.insert(0, viewer.user_id());
    }
    client_side.dedup();
    if client_side.is_empty() {
        return Err(Invalid::new(
            "recipients",
            "This client has no active portal users yet: invite someone first.",
        )
        .into());
    }

    let id = new_id();
    let t = now();
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO conversations (id, firm_id, client_id, matter_id, title, started_by, last_seq, last_message_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7)"
    ).bind(id).bind(client.firm_id).bind(client.id).bind(matter_id).bind(&title).bind(viewer.user_id()).bind(t)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    for user_id in &client_side {
        add_member(&mut tx, client.firm_id, id, *user_id, Side::Client).await?;
    }
    if viewer.is_staff() {
        add_member(&mut tx, client.firm_id, id, viewer.user_id(), Side::Staff).await?;
    }
    let message_id = append(
        &mut tx,
        origin,
        viewer,
        (client.firm_id, client.id, id),
        &body,
        &[],
    )
    .await?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(client.firm_id), "conversation.start")
            .object("conversation", id)
            .detail(format!("client={} message={message_id}", client.id)),
    )
    .await?;
    // Everyone it is for hears of it; a client's new conversation goes to the whole firm.
    let mut recipients: Vec<Uuid> = client_side
        .into_iter()
        .filter(|u| *u != viewer.user_id())
        .collect();
    if !viewer.is_staff() {
        recipients.extend(notifications::firm_staff(&mut tx, client.firm_id).await?);
    }
    notify(&mut tx, viewer, client.firm_id, id, &recipients).await?;
    tx.commit().await?;
    let conversation = get(db, viewer, id).await?;
    let message = message(db, message_id).await?;
    Ok((conversation, message))
}

async fn add_member(
    tx: &mut Tx,
    firm_id: Uuid,
    conversation_id: Uuid,
    user_id: Uuid,
    side: Side,
) -> Result<(), DbError> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO conversation_members (conversation_id, user_id, firm_id, side, read_seq, added_at) \
         VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (conversation_id, user_id) DO NOTHING"
    ).bind(conversation_id).bind(user_id).bind(firm_id).bind(side.as_str()).bind(now())
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Appends a message: takes the conversation's next number (the row update serialises
/// concurrent writers), stores the text, and moves the author's read mark past it.
async fn append(
    tx: &mut Tx,
    origin: &Origin,
    viewer: &Viewer,
    conversation: (Uuid, Uuid, Uuid),
    body: &str,
    attachments: &[NewFile<'_>],
) -> Result<Uuid, DbError> {
    let (firm_id, client_id, conversation_id) = conversation;
    let t = now();
    let seq: i64 = on_tx!(&mut *tx, c => sqlx::query_scalar(
        "UPDATE conversations SET last_seq = last_seq + 1, last_message_at = $3, resolved_at = NULL \
         WHERE id = $1 AND firm_id = $2 RETURNING last_seq"
    ).bind(conversation_id).bind(firm_id).bind(t).fetch_one(&mut **c).await)?;
    let id = new_id();
    on_tx!(&mut *tx, c => sqlx::query(
        "INSERT INTO messages (id, firm_id, conversation_id, seq, author_user_id, author_side, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    ).bind(id).bind(firm_id).bind(conversation_id).bind(seq).bind(viewer.user_id()).bind(viewer.side().as_str()).bind(body).bind(t)
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    for f in attachments {
        let stored = files::insert(tx, viewer, firm_id, client_id, f, origin).await?;
        on_tx!(&mut *tx, c => sqlx::query("INSERT INTO message_attachments (message_id, file_id) VALUES ($1, $2)")
            .bind(id).bind(stored.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    }
    add_member(
        tx,
        firm_id,
        conversation_id,
        viewer.user_id(),
        viewer.side(),
    )
    .await?;
    advance_read(tx, conversation_id, viewer.user_id(), seq).await?;
    signals::emit(tx, conversation_id).await?;
    Ok(id)
}

/// Moves a member's read mark forward to `seq` (never back), keeping the time of the advance.
async fn advance_read(
    tx: &mut Tx,
    conversation_id: Uuid,
    user_id: Uuid,
    seq: i64,
) -> Result<bool, DbError> {
    let moved = on_tx!(&mut *tx, c => sqlx::query(
        "UPDATE conversation_members SET read_seq = $3 WHERE conversation_id = $1 AND user_id = $2 AND read_seq < $3"
    ).bind(conversation_id).bind(user_id).bind(seq).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    if moved == 0 {
        return Ok(false);
    }
    on_tx!(&mut *tx, c => sqlx::query(
        "INSERT INTO message_reads (conversation_id, user_id, up_to_seq, read_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING"
    ).bind(conversation_id).bind(user_id).bind(seq).bind(now()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(true)
}

async fn notify(
    tx: &mut Tx,
    viewer: &Viewer,
    firm_id: Uuid,
    conversation_id: Uuid,
    recipients: &[Uuid],
) -> Result<(), DbError> {
    let mut recipients: Vec<Uuid> = recipients
        .iter()
        .copied()
        .filter(|u| *u != viewer.user_id())
        .collect();
    recipients.sort();
    recipients.dedup();
    let from = if viewer.is_staff() {
        notices::Side::Firm
    } else {
        notices::Side::Client
    };
    let notice = Notice {
        firm_id,
        event: notices::Event::Message { from },
        subject_id: conversation_id,
    };
    notifications::raise(tx, &notice, &recipients).await
}

/// Replies in a conversation the viewer may see; the other side's members are notified (a
/// client's reply that no staff member follows yet goes to the whole firm).
pub async fn reply(
    db: &Db,
    viewer: &Viewer,
    conversation_id: Uuid,
    body: &str,
    attachments: &[NewFile<'_>],
    origin: &Origin,
) -> Result<Message, DbError> {
    let conversation = get(db, viewer, conversation_id).await?;
    check_attachments(attachments)?;
    // A message may be files alone; text, when there is some, follows the usual rules.
    let body = if attachments.is_empty() || !body.trim().is_empty() {
        validate::text("body", body, MAX_BODY_CHARS)?
    } else {
        String::new()
    };
    let mut tx = db.begin().await?;
    let message_id = append(
        &mut tx,
        origin,
        viewer,
        (
            conversation.firm_id,
            conversation.client_id,
            conversation.id,
        ),
        &body,
        attachments,
    )
    .await?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(conversation.firm_id), "message.send")
            .object("conversation", conversation.id)
            .detail(format!(
                "message={message_id} attachments={}",
                attachments.len()
            )),
    )
    .await?;
    let other_side = viewer.side().other().as_str();
    let mut recipients: Vec<Uuid> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "SELECT cm.user_id FROM conversation_members cm WHERE cm.conversation_id = $1 AND cm.side = $2 \
         AND (cm.side = 'staff' OR EXISTS (SELECT 1 FROM client_users cu WHERE cu.user_id = cm.user_id \
              AND cu.client_id = $3 AND cu.active))"
    ).bind(conversation.id).bind(other_side).bind(conversation.client_id).fetch_all(&mut **c).await)?;
    if recipients.is_empty() && !viewer.is_staff() {
        recipients = notifications::firm_staff(&mut tx, conversation.firm_id).await?;
    }
    notify(
        &mut tx,
        viewer,
        conversation.firm_id,
        conversation.id,
        &recipients,
    )
    .await?;
    tx.commit().await?;
    message(db, message_id).await
}

/// One conversation, if the viewer may see it: staff, any of their firm's; a client user, one
/// they are a member of, of their own client, while its matter (if any) is open to them.
pub async fn get(db: &Db, viewer: &Viewer, id: Uuid) -> Result<Conversation, DbError> {
    let found: Option<Conversation> = match viewer.client_scope() {
        None => on_db!(db, p => sqlx::query_as(
            "SELECT c.id, c.firm_id, c.client_id, c.matter_id, c.title, c.last_seq, c.last_message_at, c.resolved_at, \
                    c.created_at, COALESCE(cm.read_seq, 0) AS read_seq \
             FROM conversations c LEFT JOIN conversation_members cm ON cm.conversation_id = c.id AND cm.user_id = $3 \
             WHERE c.id = $1 AND c.firm_id = $2"
        ).bind(id).bind(viewer.firm_id()).bind(viewer.user_id()).fetch_optional(p).await)?,
        Some(client_id) => on_db!(db, p => sqlx::query_as(
            "SELECT c.id, c.firm_id, c.client_id, c.matter_id, c.title, c.last_seq, c.last_message_at, c.resolved_at, \
                    c.created_at, cm.read_seq \
             FROM conversations c JOIN conversation_members cm ON cm.conversation_id = c.id AND cm.user_id = $4 \
             LEFT JOIN matters mt ON mt.id = c.matter_id \
             WHERE c.id = $1 AND c.firm_id = $2 AND c.client_id = $3 AND (c.matter_id IS NULL OR mt.portal_open)"
        ).bind(id).bind(viewer.firm_id()).bind(client_id).bind(viewer.user_id()).fetch_optional(p).await)?,
    };
    found.ok_or(DbError::NotFound)
}

async fn message(db: &Db, id: Uuid) -> Result<Message, DbError> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} WHERE m.id = $1");
    let m: Message = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_one(p).await)?;
    let conversation_id = m.conversation_id;
    let mut list = vec![m];
    with_attachments(db, conversation_id, &mut list).await?;
    Ok(list.remove(0))
}

/// Fills in the files of the given messages of one conversation, in one query.
async fn with_attachments(
    db: &Db,
    conversation_id: Uuid,
    list: &mut [Message],
) -> Result<(), DbError> {
    let with_files = || {
        list.iter()
            .filter(|m| m.attachment_count > 0)
            .map(|m| m.seq)
    };
    let (Some(low), Some(high)) = (with_files().min(), with_files().max()) else {
        return Ok(());
    };
    let found: Vec<Attachment> = on_db!(db, p => sqlx::query_as(
        "SELECT ma.message_id, f.id AS file_id, f.name, f.size FROM messages m \
         JOIN message_attachments ma ON ma.message_id = m.id JOIN files f ON f.id = ma.file_id \
         WHERE m.conversation_id = $1 AND m.seq BETWEEN $2 AND $3 AND m.deleted_at IS NULL ORDER BY f.name"
    ).bind(conversation_id).bind(low).bind(high).fetch_all(p).await)?;
    for a in found {
        if let Some(m) = list.iter_mut().find(|m| m.id == a.message_id) {
            m.attachments.push(a);
        }
    }
    Ok(())
}

/// Whether a file is attached to a message the viewer can read.
pub async fn attachment_visible(db: &Db, viewer: &Viewer, file_id: Uuid) -> Result<bool, DbError> {
    let conversations: Vec<Uuid> = on_db!(db, p => sqlx::query_scalar(
        "SELECT m.conversation_id FROM message_attachments ma JOIN messages m ON m.id = ma.message_id \
         WHERE ma.file_id = $1 AND m.firm_id = $2 AND m.deleted_at IS NULL"
    ).bind(file_id).bind(viewer.firm_id()).fetch_all(p).await)?;
    for c in conversations {
        if get(db, viewer, c).await.is_ok() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Up to `limit` messages numbered below `before` (the newest when `None`), oldest first.
/// Reads by number through the conversation's unique index: the same cost on any page.
pub async fn page(
    db: &Db,
    conversation: &Conversation,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Message>, DbError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} WHERE m.conversation_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT {limit}"
    );
    let mut rows: Vec<Message> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(conversation.id).bind(before.unwrap_or(i64::MAX)).fetch_all(p).await)?;
    rows.reverse();
    with_attachments(db, conversation.id, &mut rows).await?;
    Ok(rows)
}

/// Messages numbered above `after`, oldest first: what a live page has not shown yet.
pub async fn after(
    db: &Db,
    conversation: &Conversation,
    after: i64,
    limit: i64,
) -> Result<Vec<Message>, DbError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT {limit}"
    );
    let mut rows: Vec<Message> = on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(conversation.id).bind(after).fetch_all(p).await)?;
    with_attachments(db, conversation.id, &mut rows).await?;
    Ok(rows)
}

/// The viewer has read everything up to `seq`: their mark moves (for them only), and the
/// notifications pointing at this conversation are read too.
pub async fn mark_read(
    db: &Db,
    viewer: &Viewer,
    conversation: &Conversation,
    seq: i64,
) -> Result<(), DbError> {
    let seq = seq.min(conversation.last_seq);
    // Most calls find the mark already there (another page of the person's said so): a read
    // answers them without taking the write lock.
    let current: Option<i64> = on_db!(db, p => sqlx::query_scalar(
        "SELECT read_seq FROM conversation_members WHERE conversation_id = $1 AND user_id = $2"
    ).bind(conversation.id).bind(viewer.user_id()).fetch_optional(p).await)?;
    if current.is_some_and(|r| r >= seq) {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    add_member(
        &mut tx,
        conversation.firm_id,
        conversation.id,
        viewer.user_id(),
        viewer.side(),
    )
    .await?;
    if advance_read(&mut tx, conversation.id, viewer.user_id(), seq).await? {
        signals::emit(&mut tx, conversation.id).await?;
    }
    tx.commit().await?;
    notifications::mark_read(db, viewer, Some((notices::Kind::Message, conversation.id))).await?;
    Ok(())
}

/// Adds people of the conversation's client to it: staff may add any of the client's active
/// portal users, a client user their colleagues. They are notified; the history is theirs to
/// read from then on.
pub async fn add_people(
    db: &Db,
    viewer: &Viewer,
    conversation: &Conversation,
    people: &[Uuid],
    origin: &Origin,
) -> Result<usize, DbError> {
    if people.is_empty() {
        return Err(Invalid::new("to", "Tick the people to add.").into());
    }
    if people.len() > MAX_RECIPIENTS {
        return Err(Invalid::new(
            "to",
            format!("Add at most {MAX_RECIPIENTS} people at once."),
        )
        .into());
    }
    let mut tx = db.begin().await?;
    let portal_users =
        notifications::client_people(&mut tx, conversation.firm_id, conversation.client_id).await?;
    if people.iter().any(|u| !portal_users.contains(u)) {
        return Err(Invalid::new("to", "Choose people from this client's portal users.").into());
    }
    let mut added = Vec::new();
    for user_id in people {
        let n = on_tx!(&mut tx, c => sqlx::query(
            "INSERT INTO conversation_members (conversation_id, user_id, firm_id, side, read_seq, added_at) \
             VALUES ($1, $2, $3, 'client', 0, $4) ON CONFLICT (conversation_id, user_id) DO NOTHING"
        ).bind(conversation.id).bind(user_id).bind(conversation.firm_id).bind(now())
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if n > 0 {
            added.push(*user_id);
        }
    }
    if !added.is_empty() {
        audit::append(
            &mut tx,
            origin,
            Event::new(Some(conversation.firm_id), "conversation.add_people")
                .object("conversation", conversation.id)
                .detail(format!("added={}", added.len())),
        )
        .await?;
        let notice = Notice {
            firm_id: conversation.firm_id,
            event: notices::Event::AddedToConversation,
            subject_id: conversation.id,
        };
        let others: Vec<Uuid> = added
            .into_iter()
            .filter(|u| *u != viewer.user_id())
            .collect();
        notifications::raise(&mut tx, &notice, &others).await?;
        tx.commit().await?;
        return Ok(others.len());
    }
    tx.commit().await?;
    Ok(0)
}

/// The people taking part, staff first.
pub async fn members(db: &Db, conversation: &Conversation) -> Result<Vec<Member>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT cm.user_id, u.name, cm.side, cm.read_seq FROM conversation_members cm JOIN users u ON u.id = cm.user_id \
         WHERE cm.conversation_id = $1 ORDER BY cm.side DESC, u.name"
    ).bind(conversation.id).fetch_all(p).await)?)
}

/// The read-mark advances that cover messages from `from_seq` on, oldest first.
pub async fn read_marks(
    db: &Db,
    conversation: &Conversation,
    from_seq: i64,
) -> Result<Vec<ReadMark>, DbError> {
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT r.user_id, u.name, cm.side, r.up_to_seq, r.read_at FROM message_reads r \
         JOIN users u ON u.id = r.user_id \
         JOIN conversation_members cm ON cm.conversation_id = r.conversation_id AND cm.user_id = r.user_id \
         WHERE r.conversation_id = $1 AND r.up_to_seq >= $2 ORDER BY r.up_to_seq, r.read_at"
    ).bind(conversation.id).bind(from_seq).fetch_all(p).await)?)
}

/// Which conversations a list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    /// Staff: one client's conversations only.
    pub client_id: Option<Uuid>,
    /// Resolved ones instead of open ones.
    pub resolved: bool,
}

/// Conversations the viewer may see, most recently active first.
pub async fn list(
    db: &Db,
    viewer: &Viewer,
    filter: ListFilter,
    limit: i64,
) -> Result<Vec<Listed>, DbError> {
    let base = "SELECT c.id, c.firm_id, c.client_id, c.matter_id, c.title, c.last_seq, c.last_message_at, \
                c.resolved_at, c.created_at, cl.name AS client_name, mt.title AS matter_title, \
                COALESCE(cm.read_seq, 0) AS read_seq \
         FROM conversations c JOIN clients cl ON cl.id = c.client_id LEFT JOIN matters mt ON mt.id = c.matter_id";
    Ok(match viewer.client_scope() {
        None => {
            let sql = format!(
                "{base} LEFT JOIN conversation_members cm ON cm.conversation_id = c.id AND cm.user_id = $2 \
                 WHERE c.firm_id = $1 AND (CAST($3 AS TEXT) IS NULL OR c.client_id = $4) \
                 AND ((c.resolved_at IS NOT NULL) = $5) \
                 ORDER BY c.last_message_at DESC, c.id DESC LIMIT {limit}"
            );
            let client = filter.client_id.map(|c| c.to_string());
            on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(viewer.firm_id()).bind(viewer.user_id()).bind(client).bind(filter.client_id)
                .bind(filter.resolved).fetch_all(p).await)?
        }
        Some(client_id) => {
            let sql = format!(
                "{base} JOIN conversation_members cm ON cm.conversation_id = c.id AND cm.user_id = $2 \
                 WHERE c.firm_id = $1 AND c.client_id = $3 AND (c.matter_id IS NULL OR mt.portal_open) \
                 AND ((c.resolved_at IS NOT NULL) = $4) \
                 ORDER BY c.last_message_at DESC, c.id DESC LIMIT {limit}"
            );
            on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(viewer.firm_id()).bind(viewer.user_id()).bind(client_id)
                .bind(filter.resolved).fetch_all(p).await)?
        }
    })
}

/// A client's newest open conversations and how many conversations hold unread messages, in
/// one statement: the dashboard card.
pub async fn newest_for_portal(
    db: &Db,
    viewer: &Viewer,
    limit: i64,
) -> Result<(Vec<Listed>, i64), DbError> {
    let Some(client_id) = viewer.client_scope() else {
        return Err(DbError::Forbidden);
    };
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        listed: Listed,
        unread_total: i64,
    }
    let rows: Vec<Row> = on_db!(db, p => sqlx::query_as(AssertSqlSafe(format!(
        "SELECT c.id, c.firm_id, c.client_id, c.matter_id, c.title, c.last_seq, c.last_message_at, \
         c.resolved_at, c.created_at, cl.name AS client_name, mt.title AS matter_title, cm.read_seq, \
         SUM(CASE WHEN c.last_seq > cm.read_seq THEN 1 ELSE 0 END) OVER () AS unread_total \
         FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id \
         JOIN clients cl ON cl.id = c.client_id LEFT JOIN matters mt ON mt.id = c.matter_id \
         WHERE cm.user_id = $2 AND c.firm_id = $1 AND c.client_id = $3 AND (c.matter_id IS NULL OR mt.portal_open) \
         ORDER BY c.last_message_at DESC, c.id DESC LIMIT {}",
        limit
    ))).bind(viewer.firm_id()).bind(viewer.user_id()).bind(client_id).fetch_all(p).await)?;
    let unread = rows.first().map_or(0, |r| r.unread_total);
    Ok((rows.into_iter().map(|r| r.listed).collect(), unread))
}

/// The people of each of the given conversations, staff first: `(conversation, name, side)`.
pub async fn participants(
    db: &Db,
    viewer: &Viewer,
    ids: &[Uuid],
) -> Result<Vec<(Uuid, String, String)>, DbError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders = (0..ids.len())
        .map(|i| format!("${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    // Only numbered placeholders are formatted in; every value is bound.
    let sql = format!(
        "SELECT cm.conversation_id, u.name, cm.side FROM conversation_members cm JOIN users u ON u.id = cm.user_id \
         WHERE cm.firm_id = $1 AND cm.conversation_id IN ({placeholders}) ORDER BY cm.side DESC, u.name"
    );
    Ok(on_db!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(viewer.firm_id());
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })?)
}

/// How many conversations have messages the viewer has not read (a client: of their own).
pub async fn unread_count(db: &Db, viewer: &Viewer) -> Result<i64, DbError> {
    Ok(match viewer.client_scope() {
        None => on_db!(db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversations c LEFT JOIN conversation_members cm \
             ON cm.conversation_id = c.id AND cm.user_id = $2 \
             WHERE c.firm_id = $1 AND c.resolved_at IS NULL AND c.last_seq > COALESCE(cm.read_seq, 0)"
        ).bind(viewer.firm_id()).bind(viewer.user_id()).fetch_one(p).await)?,
        Some(client_id) => on_db!(db, p => sqlx::query_scalar(
            "SELECT COUNT(*) FROM conversation_members cm JOIN conversations c ON c.id = cm.conversation_id \
             LEFT JOIN matters mt ON mt.id = c.matter_id \
             WHERE cm.user_id = $2 AND c.firm_id = $1 AND c.client_id = $3 AND c.last_seq > cm.read_seq \
             AND (c.matter_id IS NULL OR mt.portal_open)"
        ).bind(viewer.firm_id()).bind(viewer.user_id()).bind(client_id).fetch_one(p).await)?,
    })
}

/// Staff mark a conversation resolved, or open it again. A new message reopens it too.
pub async fn set_resolved(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
    resolved: bool,
    origin: &Origin,
) -> Result<(), DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    let conversation = get(db, viewer, id).await?;
    let at = resolved.then(now);
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query("UPDATE conversations SET resolved_at = $3 WHERE id = $1 AND firm_id = $2")
        .bind(conversation.id).bind(conversation.firm_id).bind(at).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(
            Some(conversation.firm_id),
            if resolved {
                "conversation.resolve"
            } else {
                "conversation.reopen"
            },
        )
        .object("conversation", conversation.id),
    )
    .await?;
    tx.commit().await
}

/// The author changes their message, while nobody on the other side has read it.
pub async fn edit(
    db: &Db,
    viewer: &Viewer,
    conversation: &Conversation,
    seq: i64,
    body: &str,
    origin: &Origin,
) -> Result<(), DbError> {
    let body = validate::text("body", body, MAX_BODY_CHARS)?;
    let mut tx = db.begin().await?;
    let id: Option<Uuid> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "UPDATE messages SET body = $4, edited_at = $5 WHERE conversation_id = $1 AND seq = $2 \
         AND author_user_id = $3 AND deleted_at IS NULL \
         AND NOT EXISTS (SELECT 1 FROM conversation_members cm WHERE cm.conversation_id = messages.conversation_id \
                         AND cm.side <> messages.author_side AND cm.read_seq >= messages.seq) \
         RETURNING id"
    ).bind(conversation.id).bind(seq).bind(viewer.user_id()).bind(&body).bind(now()).fetch_optional(&mut **c).await)?;
    let Some(id) = id else {
        return Err(DbError::Conflict(
            "This message can no longer be edited: it was already read, or it is not yours. Send a new message instead.".into(),
        ));
    };
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(conversation.firm_id), "message.edit")
            .object("conversation", conversation.id)
            .detail(format!("message={id}")),
    )
    .await?;
    signals::emit(&mut tx, conversation.id).await?;
    tx.commit().await
}

/// Staff delete a message: its text is gone, and the conversation shows who deleted it and
/// when; the audit log keeps the event.
pub async fn delete(
    db: &Db,
    viewer: &Viewer,
    conversation: &Conversation,
    seq: i64,
    origin: &Origin,
) -> Result<(), DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    let mut tx = db.begin().await?;
    let id: Option<Uuid> = on_tx!(&mut tx, c => sqlx::query_scalar(
        "UPDATE messages SET body = '', deleted_at = $3, deleted_by = $4 \
         WHERE conversation_id = $1 AND seq = $2 AND deleted_at IS NULL RETURNING id"
    ).bind(conversation.id).bind(seq).bind(now()).bind(viewer.user_id()).fetch_optional(&mut **c).await)?;
    let id = id.ok_or(DbError::NotFound)?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(conversation.firm_id), "message.delete")
            .object("conversation", conversation.id)
            .detail(format!("message={id} seq={seq}")),
    )
    .await?;
    signals::emit(&mut tx, conversation.id).await?;
    tx.commit().await
}

/// A message found by a search, with its conversation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Hit {
    pub conversation_id: Uuid,
    pub title: String,
    pub client_name: String,
    pub seq: i64,
    pub author_name: String,
    pub body: String,
    pub created_at: OffsetDateTime,
}

/// Messages containing `text` (case-insensitive, wildcards literal): staff search their firm,
/// a client user the conversations they take part in.
pub async fn search(db: &Db, viewer: &Viewer, text: &str, limit: i64) -> Result<Vec<Hit>, DbError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let pattern = format!("%{}%", like_literal(&text.to_lowercase()));
    let base = "SELECT c.id AS conversation_id, c.title, cl.name AS client_name, m.seq, u.name AS author_name, \
                m.body, m.created_at FROM messages m JOIN conversations c ON c.id = m.conversation_id \
                JOIN clients cl ON cl.id = c.client_id JOIN users u ON u.id = m.author_user_id";
    Ok(match viewer.client_scope() {
        None => {
            let sql = format!(
                "{base} WHERE m.firm_id = $1 AND m.deleted_at IS NULL AND LOWER(m.body) LIKE $2 ESCAPE '\\' \
                 ORDER BY m.created_at DESC LIMIT {limit}"
            );
            on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(viewer.firm_id()).bind(&pattern).fetch_all(p).await)?
        }
        Some(client_id) => {
            let sql = format!(
                "{base} JOIN conversation_members cm ON cm.conversation_id = c.id AND cm.user_id = $3 \
                 LEFT JOIN matters mt ON mt.id = c.matter_id \
                 WHERE m.firm_id = $1 AND c.client_id = $4 AND (c.matter_id IS NULL OR mt.portal_open) \
                 AND m.deleted_at IS NULL AND LOWER(m.body) LIKE $2 ESCAPE '\\' \
                 ORDER BY m.created_at DESC LIMIT {limit}"
            );
            on_db!(db, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(viewer.firm_id()).bind(&pattern).bind(viewer.user_id()).bind(client_id).fetch_all(p).await)?
        }
    })
}
