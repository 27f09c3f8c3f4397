//! Files exchanged with a client. Staff see every file of their firm's clients; a client sees
//! what they uploaded and what the firm shared with them (through the one share mechanism),
//! from the next request on. The bytes live in object storage under `storage_key`.

use portico_core::files::ScanStatus;
use portico_core::notices;
use portico_core::{Side, Viewer};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::audit::{self, Event, Origin};
use crate::notifications::{self, Notice};
use crate::shares::{self, Audience};
use crate::{Db, DbError, Tx, clients, messages, now, on_db, on_tx};

/// The share mechanism's name for files.
pub const ITEM: &str = "file";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredFile {
    pub id: Uuid,
    pub firm_id: Uuid,
    pub client_id: Uuid,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: String,
    pub storage_key: String,
    pub uploaded_by: Uuid,
    pub uploaded_side: String,
    pub created_at: OffsetDateTime,
    #[sqlx(try_from = "String")]
    pub scan_status: ScanStatus,
    /// What the scanner found in an infected file.
    pub scan_verdict: String,
    /// The file's key wrapped by its firm's key, when its bytes are sealed; empty otherwise.
    pub key_wrapped: String,
    /// The folder it is in; `None` at the client's top level.
    pub folder_id: Option<Uuid>,
    /// The first version's id, shared by every version of the file.
    pub lineage_id: Uuid,
    /// 1 for the first upload, then one more for each upload of the same name in its folder.
    pub version: i64,
    /// When a newer version took its place; `None` for the current version.
    pub superseded_at: Option<OffsetDateTime>,
}

impl StoredFile {
    /// Why the file cannot be served now, if it cannot: a sentence for the person asking.
    pub fn unavailable(&self) -> Option<String> {
        match self.scan_status {
            ScanStatus::Clean => None,
            ScanStatus::Infected => Some(format!(
                "This file is quarantined: the virus scanner found {} in it. It cannot be downloaded.",
                self.scan_verdict
            )),
            ScanStatus::Pending => Some(
                "This file is being checked for viruses. It can be downloaded once the check is done; try again in a minute."
                    .into(),
            ),
        }
    }
}

/// A file as a list shows it: who uploaded it, whether it is shared, when the client read it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Listed {
    pub id: Uuid,
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub uploaded_side: String,
    pub uploader_name: String,
    pub created_at: OffsetDateTime,
    pub shared: bool,
    pub read_at: Option<OffsetDateTime>,
    #[sqlx(try_from = "String")]
    pub scan_status: ScanStatus,
    pub scan_verdict: String,
    pub version: i64,
}

/// What an upload stored, to be recorded.
#[derive(Debug, Clone)]
pub struct NewFile<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub size: i64,
    pub content_type: &'a str,
    pub sha256: &'a str,
    pub storage_key: &'a str,
    /// Hold the file back until the virus scanner has seen it.
    pub scan: bool,
    /// The file's wrapped key, when its bytes were sealed; empty otherwise.
    pub key_wrapped: &'a str,
    /// The folder to put it in (one of the same client's); `None` for the top level.
    pub folder_id: Option<Uuid>,
}

/// Records a file whose bytes are stored. The name is made safe here whatever the caller did.
pub async fn record(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    f: NewFile<'_>,
    origin: &Origin,
) -> Result<StoredFile, DbError> {
    let client = clients::get(db, viewer, client_id).await?;
    let mut tx = db.begin().await?;
    let stored = record_in(&mut tx, viewer, &client, &f, origin).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Records a stored file inside the caller's transaction; staff hear of a client's upload.
pub(crate) async fn record_in(
    tx: &mut Tx,
    viewer: &Viewer,
    client: &clients::Client,
    f: &NewFile<'_>,
    origin: &Origin,
) -> Result<StoredFile, DbError> {
    let stored = insert(tx, viewer, client.firm_id, client.id, f, origin).await?;
    if viewer.is_staff() && stored.folder_id.is_some() && folder_is_shared(tx, &stored).await? {
        // A file put in a shared folder is shared with it: the client's people hear of it.
        let people = notifications::client_people(tx, client.firm_id, client.id).await?;
        let notice = Notice {
            firm_id: client.firm_id,
            event: notices::Event::Shared {
                item: notices::Shared::File,
            },
            subject_id: stored.id,
        };
        notifications::raise(tx, &notice, &people).await?;
    }
    if !viewer.is_staff() {
        // The firm hears of what its clients send.
        let staff = notifications::firm_staff(tx, client.firm_id).await?;
        let notice = Notice {
            firm_id: client.firm_id,
            event: notices::Event::FileUploaded {
                client_id: client.id,
            },
            subject_id: stored.id,
        };
        notifications::raise(tx, &notice, &staff).await?;
    }
    Ok(stored)
}

/// Whether a file's folder, or one above it, is shared with its client (inside a transaction).
async fn folder_is_shared(tx: &mut Tx, f: &StoredFile) -> Result<bool, DbError> {
    let mut at = f.folder_id;
    let mut hops = 0;
    while let Some(id) = at {
        let shared: i64 = on_tx!(&mut *tx, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM shares s LEFT JOIN matters m ON m.id = s.matter_id \
             WHERE s.item_type = 'folder' AND s.item_id = $1 AND s.client_id = $2 \
             AND (s.matter_id IS NULL OR m.portal_open)"
        ).bind(id).bind(f.client_id).fetch_one(&mut **c).await)?;
        if shared > 0 {
            return Ok(true);
        }
        hops += 1;
        if hops > crate::folders::MOST {
            return Ok(false);
        }
        at = on_tx!(&mut *tx, c => sqlx::query_scalar(
            "SELECT parent_id FROM folders WHERE id = $1 AND client_id = $2"
        ).bind(id).bind(f.client_id).fetch_optional(&mut **c).await)?
        .flatten();
    }
    Ok(false)
}

/// Inserts a stored file's row inside the caller's transaction, with its audit event; the
/// name is made safe here whatever the caller did.
pub(crate) async fn insert(
    tx: &mut Tx,
    viewer: &Viewer,
    firm_id: Uuid,
    client_id: Uuid,
    f: &NewFile<'_>,
    origin: &Origin,
) -> Result<StoredFile, DbError> {
    let name = portico_core::validate::file_name(f.name);
    let side = viewer.side().as_str();
    let status = if f.scan {
        ScanStatus::Pending
    } else {
        ScanStatus::Clean
    };
    let at = now();
    // One writer per client at a time, so two uploads of one name become two versions.
    crate::folders::lock_client(tx, client_id).await?;
    // The row names its bytes now: they are no longer loose.
    crate::loose_objects::release(tx, f.storage_key).await?;
    if let Some(folder) = f.folder_id {
        let n: i64 = on_tx!(&mut *tx, c => sqlx::query_scalar(
            "SELECT COUNT(*) FROM folders WHERE id = $1 AND firm_id = $2 AND client_id = $3"
        ).bind(folder).bind(firm_id).bind(client_id).fetch_one(&mut **c).await)?;
        if n == 0 {
            return Err(DbError::NotFound);
        }
    }
    // A current file of the same name in the same folder becomes the previous version.
    let previous: Option<(Uuid, Uuid, i64)> = on_tx!(&mut *tx, c => sqlx::query_as(
        "UPDATE files SET superseded_at = $5 WHERE firm_id = $1 AND client_id = $2 \
         AND COALESCE(folder_id, client_id) = COALESCE($3, client_id) AND lower(name) = lower($4) \
         AND superseded_at IS NULL RETURNING id, lineage_id, version"
    ).bind(firm_id).bind(client_id).bind(f.folder_id).bind(&name).bind(at)
    .fetch_optional(&mut **c).await)?;
    let (lineage, version) = previous.map_or((f.id, 1), |(_, l, v)| (l, v + 1));
    let stored: StoredFile = on_tx!(&mut *tx, c => sqlx::query_as(
        "INSERT INTO files (id, firm_id, client_id, name, size, content_type, sha256, storage_key, uploaded_by, \
         uploaded_side, created_at, scan_status, key_wrapped, folder_id, lineage_id, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *"
    ).bind(f.id).bind(firm_id).bind(client_id).bind(&name).bind(f.size).bind(f.content_type)
    .bind(f.sha256).bind(f.storage_key).bind(viewer.user_id()).bind(side).bind(at).bind(status.as_str())
    .bind(f.key_wrapped).bind(f.folder_id).bind(lineage).bind(version)
    .fetch_one(&mut **c).await)?;
    if let Some((previous, _, _)) = previous.filter(|_| viewer.is_staff()) {
        // A new version reaches whoever the previous one was shared with.
        let audiences: Vec<(Option<Uuid>,)> = on_tx!(&mut *tx, c => sqlx::query_as(
            "SELECT matter_id FROM shares WHERE firm_id = $1 AND item_type = 'file' AND item_id = $2 AND client_id = $3"
        ).bind(firm_id).bind(previous).bind(client_id).fetch_all(&mut **c).await)?;
        for (matter,) in audiences {
            on_tx!(&mut *tx, c => sqlx::query(
                "INSERT INTO shares (id, firm_id, item_type, item_id, client_id, matter_id, shared_by, created_at) \
                 VALUES ($1, $2, 'file', $3, $4, $5, $6, $7)"
            ).bind(crate::new_id()).bind(firm_id).bind(stored.id).bind(client_id).bind(matter)
            .bind(viewer.user_id()).bind(at).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
    }
    if f.scan {
        let payload = serde_json::json!({ "file": stored.id }).to_string();
        crate::jobs::enqueue(tx, Some(firm_id), SCAN_JOB, &payload, SCAN_ATTEMPTS).await?;
    }
    audit::append(
        tx,
        origin,
        Event::new(Some(firm_id), "file.upload")
            .object(ITEM, stored.id)
            .detail(format!(
                "client={client_id} size={} sha256={} version={version}",
                f.size, f.sha256
            )),
    )
    .await?;
    Ok(stored)
}

/// The job that has a new file scanned.
pub const SCAN_JOB: crate::jobs::Kind = crate::jobs::Kind::new("scan");
/// Attempts a scan gets (retried with backoff while the scanner is down); a file whose scan
/// never succeeds simply stays pending, never served.
const SCAN_ATTEMPTS: i64 = 50;

/// How many bytes of files a firm keeps, counting the whole declared length of its resumable
/// uploads under way (so that several at once cannot together pass its quota).
pub async fn firm_bytes(db: &Db, firm_id: Uuid) -> Result<i64, DbError> {
    Ok(on_db!(db, p => sqlx::query_scalar(
        "SELECT CAST((SELECT COALESCE(SUM(size), 0) FROM files WHERE firm_id = $1) \
              + (SELECT COALESCE(SUM(length), 0) FROM uploads WHERE firm_id = $1 AND file_id IS NULL \
                 AND expires_at > $2) AS BIGINT)"
    ).bind(firm_id).bind(now()).fetch_one(p).await)?)
}

/// One file, if the viewer may have it: staff of its firm; its client when they uploaded it
/// or it is shared with them now. Anything else is `NotFound`.
pub async fn get(db: &Db, viewer: &Viewer, id: Uuid) -> Result<StoredFile, DbError> {
    let f: StoredFile =
        on_db!(db, p => sqlx::query_as("SELECT * FROM files WHERE id = $1 AND firm_id = $2")
        .bind(id).bind(viewer.firm_id()).fetch_optional(p).await)?
        .ok_or(DbError::NotFound)?;
    match viewer.client_scope() {
        None => Ok(f),
        Some(own) if own != f.client_id => Err(DbError::NotFound),
        Some(_) if f.uploaded_side == Side::Client.as_str() => Ok(f),
        Some(_) if shares::is_visible(db, viewer, ITEM, f.id).await? => Ok(f),
        Some(_) if messages::attachment_visible(db, viewer, f.id).await? => Ok(f),
        Some(_) if in_shared_folder(db, &f).await? => Ok(f),
        Some(_) => Err(DbError::NotFound),
    }
}

/// Whether a file is in a folder shared with its client (or below one).
async fn in_shared_folder(db: &Db, f: &StoredFile) -> Result<bool, DbError> {
    let Some(folder) = f.folder_id else {
        return Ok(false);
    };
    Ok(crate::folders::shared_subtrees(db, f.firm_id, f.client_id)
        .await?
        .contains(&folder))
}

/// Whether the client's people see a file through the files page: their own upload, or one
/// shared with them by itself or through its folder.
pub(crate) async fn client_sees(db: &Db, f: &StoredFile) -> Result<bool, DbError> {
    Ok(f.uploaded_side == Side::Client.as_str()
        || shares::is_shared_with_client(db, f.firm_id, f.client_id, ITEM, f.id).await?
        || in_shared_folder(db, f).await?)
}

/// A client marks a file it may see read ("Mark as read"); the firm sees it as Complete.
pub async fn mark_read(db: &Db, viewer: &Viewer, id: Uuid) -> Result<(), DbError> {
    let Some(client_id) = viewer.client_scope() else {
        return Err(DbError::Forbidden);
    };
    let f = get(db, viewer, id).await?;
    shares::record_read(db, viewer, client_id, ITEM, f.id).await
}

/// Where a listing looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// Every folder: the newest files wherever they are.
    Anywhere,
    /// The client's top level.
    Top,
    In(Uuid),
}

/// What a list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Name,
    Size,
    Type,
    Date,
}

impl Sort {
    fn column(self) -> &'static str {
        match self {
            Sort::Name => "lower(f.name)",
            Sort::Size => "f.size",
            Sort::Type => "f.content_type",
            Sort::Date => "f.created_at",
        }
    }
}

/// One page of a listing.
#[derive(Debug, Clone, Copy)]
pub struct Listing {
    pub place: Place,
    pub sort: Sort,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
}

impl Listing {
    /// The newest files, wherever they are.
    pub fn newest(limit: i64) -> Listing {
        Listing {
            place: Place::Anywhere,
            sort: Sort::Date,
            descending: true,
            offset: 0,
            limit,
        }
    }
}

/// A page of a listing, with how many files the whole listing has.
#[derive(Debug, Clone)]
pub struct FilePage {
    pub files: Vec<Listed>,
    pub total: i64,
    /// Shared files nobody of the client has marked read yet, wherever they are (when the
    /// page has any row).
    pub unread: i64,
}

/// The newest `limit` current files of a client the viewer may see, with their sharing and
/// read state.
pub async fn for_client(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    limit: i64,
) -> Result<Vec<Listed>, DbError> {
    Ok(list(db, viewer, client_id, Listing::newest(limit))
        .await?
        .files)
}

/// One page of a client's current files the viewer may see.
pub async fn list(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    listing: Listing,
) -> Result<FilePage, DbError> {
    let client = clients::get(db, viewer, client_id).await?;
    query(db, client.firm_id, client.id, !viewer.is_staff(), listing).await
}

/// The client viewer's newest files and how many shared ones nobody of the client has marked
/// read yet (what waits for them), in one statement: the dashboard card.
pub async fn newest_for_portal(
    db: &Db,
    viewer: &Viewer,
    limit: i64,
) -> Result<(Vec<Listed>, i64), DbError> {
    let Some(client_id) = viewer.client_scope() else {
        return Err(DbError::Forbidden);
    };
    let page = query(
        db,
        viewer.firm_id(),
        client_id,
        true,
        Listing::newest(limit),
    )
    .await?;
    Ok((page.files, page.unread))
}

/// One client's current files (with `only_visible`, those its people may see: their own
/// uploads and what is shared through an open portal), the size of the whole listing and the
/// count of shared files nobody of the client has read. Callers have checked the viewer's
/// scope.
async fn query(
    db: &Db,
    firm_id: Uuid,
    client_id: Uuid,
    only_visible: bool,
    listing: Listing,
) -> Result<FilePage, DbError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        file: Listed,
        unread: i64,
        total: i64,
    }
    let (place, folder) = match listing.place {
        Place::Anywhere => (0_i64, None),
        Place::Top => (1, None),
        Place::In(id) => (2, Some(id)),
    };
    let direction = if listing.descending { "DESC" } else { "ASC" };
    // Files in shared folders are shared too; the folders' ids are bound from $6 on.
    let open = crate::folders::shared_subtrees(db, firm_id, client_id).await?;
    // (A file at the top, or no shared folder, is simply not in one: never NULL.)
    let in_open = |column: &str| {
        if open.is_empty() {
            "FALSE".to_string()
        } else {
            let list = (0..open.len())
                .map(|i| format!("${}", i + 6))
                .collect::<Vec<_>>()
                .join(", ");
            format!("COALESCE({column} IN ({list}), FALSE)")
        }
    };
    let (c_open, f_open) = (in_open("c.folder_id"), in_open("f.folder_id"));
    // Only fixed column names, directions and numbered placeholders are formatted in; every
    // value is bound.
    let sql = format!(
        "SELECT f.id, f.name, f.size, f.content_type, f.uploaded_side, u.name AS uploader_name, f.created_at, \
                v.shared, r.read_at, f.scan_status, f.scan_verdict, f.version, COUNT(*) OVER () AS total, \
                (SELECT COUNT(*) FROM files c WHERE c.firm_id = $1 AND c.client_id = $2 AND c.superseded_at IS NULL \
                 AND (EXISTS (SELECT 1 FROM shares s LEFT JOIN matters m ON m.id = s.matter_id \
                              WHERE s.item_type = 'file' AND s.item_id = c.id AND s.client_id = c.client_id \
                              AND (s.matter_id IS NULL OR m.portal_open)) \
                      OR (c.uploaded_side = 'staff' AND {c_open})) \
                 AND NOT EXISTS (SELECT 1 FROM item_reads x WHERE x.item_type = 'file' \
                                 AND x.item_id = c.id AND x.client_id = c.client_id)) AS unread \
         FROM (SELECT f.id, (EXISTS (SELECT 1 FROM shares s LEFT JOIN matters m ON m.id = s.matter_id \
                       WHERE s.item_type = 'file' AND s.item_id = f.id AND s.client_id = f.client_id \
                       AND (s.matter_id IS NULL OR m.portal_open)) \
                       OR {f_open}) AS shared \
               FROM files f WHERE f.firm_id = $1 AND f.client_id = $2 AND f.superseded_at IS NULL \
               AND ($4 = 0 OR ($4 = 1 AND f.folder_id IS NULL) OR ($4 = 2 AND f.folder_id = $5))) v \
         JOIN files f ON f.id = v.id JOIN users u ON u.id = f.uploaded_by \
         LEFT JOIN item_reads r ON r.item_type = 'file' AND r.item_id = f.id AND r.client_id = f.client_id \
         WHERE NOT $3 OR v.shared OR f.uploaded_side = 'client' \
         ORDER BY {} {direction}, f.id {direction} LIMIT {} OFFSET {}",
        listing.sort.column(),
        listing.limit,
        listing.offset
    );
    let rows: Vec<Row> = on_db!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(firm_id).bind(client_id).bind(only_visible).bind(place).bind(folder);
        for id in &open {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })?;
    // The counts ride on every row; an empty page has none (the dashboard's newest files
    // include every unread one, so there it means none are unread).
    let (unread, total) = rows.first().map_or((0, 0), |r| (r.unread, r.total));
    Ok(FilePage {
        files: rows.into_iter().map(|r| r.file).collect(),
        total,
        unread,
    })
}

/// The full rows of listed files of one client, in the order given: in one statement for
/// staff (who see every file of their firm's clients), one by one for a client.
pub async fn details(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<StoredFile>, DbError> {
    if !viewer.is_staff() {
        let mut out = Vec::new();
        for id in ids {
            out.push(get(db, viewer, *id).await?);
        }
        return Ok(out);
    }
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let client = clients::get(db, viewer, client_id).await?;
    let list = (0..ids.len())
        .map(|i| format!("${}", i + 3))
        .collect::<Vec<_>>()
        .join(", ");
    // Only numbered placeholders are formatted in; every value is bound.
    let sql =
        format!("SELECT * FROM files WHERE firm_id = $1 AND client_id = $2 AND id IN ({list})");
    let rows: Vec<StoredFile> = on_db!(db, p => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(client.firm_id).bind(client.id);
        for id in ids {
            q = q.bind(*id);
        }
        q.fetch_all(p).await
    })?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.iter().find(|r| r.id == *id).cloned())
        .collect())
}

/// Every version of a file the viewer may see, newest first.
pub async fn versions(db: &Db, viewer: &Viewer, id: Uuid) -> Result<Vec<StoredFile>, DbError> {
    let f = get(db, viewer, id).await?;
    let all: Vec<StoredFile> = on_db!(db, p => sqlx::query_as(
        "SELECT * FROM files WHERE lineage_id = $1 AND firm_id = $2 AND client_id = $3 ORDER BY version DESC LIMIT 500"
    ).bind(f.lineage_id).bind(f.firm_id).bind(f.client_id).fetch_all(p).await)?;
    let mut out = Vec::new();
    for v in all {
        if v.id == f.id || viewer.is_staff() || get(db, viewer, v.id).await.is_ok() {
            out.push(v);
        }
    }
    Ok(out)
}

/// Shares files of one client with that client, or with one of its matters (staff only).
/// Files or matters of any other client are refused as not found, so ids cannot be used to
/// reach across clients.
pub async fn share(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    ids: &[Uuid],
    audience: Audience,
    origin: &Origin,
) -> Result<(), DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    let audience_client = match audience {
        Audience::Client(id) => id,
        Audience::Matter(id) => crate::matters::get(db, viewer, id).await?.client_id,
    };
    if audience_client != client_id {
        return Err(DbError::NotFound);
    }
    for id in ids {
        let f = get(db, viewer, *id).await?;
        if f.client_id != client_id {
            return Err(DbError::NotFound);
        }
    }
    for id in ids {
        shares::share(db, viewer, ITEM, *id, audience, origin).await?;
    }
    Ok(())
}

/// Stops sharing files with a client, every version of each, in one step ("stop sharing
/// selected items").
pub async fn unshare(
    db: &Db,
    viewer: &Viewer,
    client_id: Uuid,
    ids: &[Uuid],
    origin: &Origin,
) -> Result<u64, DbError> {
    if !viewer.is_staff() {
        return Err(DbError::NotFound);
    }
    let mut all = Vec::new();
    for id in ids {
        let f = get(db, viewer, *id).await?;
        if f.client_id != client_id {
            return Err(DbError::NotFound);
        }
        let lineage: Vec<Uuid> = on_db!(db, p => sqlx::query_scalar(
            "SELECT id FROM files WHERE lineage_id = $1 AND firm_id = $2 AND client_id = $3"
        ).bind(f.lineage_id).bind(f.firm_id).bind(f.client_id).fetch_all(p).await)?;
        all.extend(lineage);
    }
    shares::unshare(db, viewer, ITEM, &all, client_id, origin).await
}

/// The current files the viewer may see in a folder and every folder below it, each with its
/// path from that folder ("Folder/Sub/name.pdf"): what sharing or zipping a folder takes.
pub async fn under(
    db: &Db,
    viewer: &Viewer,
    folder_id: Uuid,
) -> Result<Vec<(StoredFile, String)>, DbError> {
    let (top, folders) = crate::folders::get(db, viewer, folder_id).await?;
    // Staff see every file; a client every file of a shared folder, and others one by one.
    let open = match viewer.client_scope() {
        None => None,
        Some(_) => Some(crate::folders::shared_subtrees(db, top.firm_id, top.client_id).await?),
    };
    let mut out = Vec::new();
    for id in crate::folders::subtree(&folders, top.id) {
        let path: Vec<String> = crate::folders::path_to(&folders, id)
            .into_iter()
            .skip_while(|f| f.id != top.id)
            .map(|f| f.name)
            .collect();
        let here: Vec<StoredFile> = on_db!(db, p => sqlx::query_as(
            "SELECT * FROM files WHERE firm_id = $1 AND client_id = $2 AND folder_id = $3 \
             AND superseded_at IS NULL ORDER BY lower(name), id"
        ).bind(top.firm_id).bind(top.client_id).bind(id).fetch_all(p).await)?;
        let all_seen = open.as_ref().is_none_or(|open| open.contains(&id));
        for f in here {
            if all_seen || get(db, viewer, f.id).await.is_ok() {
                let name = format!("{}/{}", path.join("/"), f.name);
                out.push((f, name));
            }
        }
    }
    Ok(out)
}

/// A comment on a file.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FileComment {
    pub id: Uuid,
    pub author_name: String,
    /// "staff" or "client".
    pub author_side: String,
    pub body: String,
    pub created_at: OffsetDateTime,
}

/// Comments on a file the viewer may see, oldest first.
pub async fn comments(
    db: &Db,
    viewer: &Viewer,
    file_id: Uuid,
) -> Result<Vec<FileComment>, DbError> {
    let f = get(db, viewer, file_id).await?;
    Ok(on_db!(db, p => sqlx::query_as(
        "SELECT c.id, u.name AS author_name, c.author_side, c.body, c.created_at \
         FROM file_comments c JOIN users u ON u.id = c.author_user_id \
         WHERE c.file_id = $1 AND c.firm_id = $2 ORDER BY c.created_at, c.id LIMIT 1000"
    ).bind(f.id).bind(f.firm_id).fetch_all(p).await)?)
}

/// Comments on a file the viewer may see; the other side is notified.
pub async fn comment(
    db: &Db,
    viewer: &Viewer,
    file_id: Uuid,
    body: &str,
    origin: &Origin,
) -> Result<(), DbError> {
    let f = get(db, viewer, file_id).await?;
    let body = portico_core::validate::text("body", body, crate::comments::MAX_CHARS)?;
    let side = viewer.side().as_str();
    // A client is told only about files they can see.
    let client_sees = client_sees(db, &f).await?;
    let id = crate::new_id();
    let mut tx = db.begin().await?;
    on_tx!(&mut tx, c => sqlx::query(
        "INSERT INTO file_comments (id, firm_id, file_id, author_user_id, author_side, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    ).bind(id).bind(f.firm_id).bind(f.id).bind(viewer.user_id()).bind(side).bind(&body).bind(now())
    .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    audit::append(
        &mut tx,
        origin,
        Event::new(Some(f.firm_id), "file.comment").object(ITEM, f.id),
    )
    .await?;
    let (people, from) = if !viewer.is_staff() {
        (
            notifications::firm_staff(&mut tx, f.firm_id).await?,
            notices::Side::Client,
        )
    } else if client_sees {
        (
            notifications::client_people(&mut tx, f.firm_id, f.client_id).await?,
            notices::Side::Firm,
        )
    } else {
        (Vec::new(), notices::Side::Firm)
    };
    let notice = Notice {
        firm_id: f.firm_id,
        event: notices::Event::FileComment { from },
        subject_id: f.id,
    };
    notifications::raise(&mut tx, &notice, &people).await?;
    tx.commit().await?;
    Ok(())
}
