//! Backups: one archive holding a consistent snapshot of the database, every object its rows
//! name, and a manifest (schema version, row counts, a checksum of every entry); checking an
//! archive; restoring one into an empty database and storage.
//!
//! The archive is a tar file: `database/…` (the SQLite file, or one JSON-lines file per
//! PostgreSQL table), then `objects/<key>` as stored (sealed files stay sealed), then
//! `manifest.json`, last, so that an archive cut short has none. The master encryption key is
//! never written into it: only a fingerprint, so that a restore can refuse a different key.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;
use futures_util::StreamExt;
use portico_db::Db;
use portico_db::system::snapshot;
use portico_storage::Storage;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{Config, ConfigError};

const FORMAT: &str = "portico-backup";
const FORMAT_VERSION: u32 = 1;
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "database/";
const OBJECTS: &str = "objects/";
/// The largest manifest read (it lists every entry: about 150 bytes each).
const MANIFEST_LIMIT: u64 = 512 * 1024 * 1024;
const BLOCK: usize = 256 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub created_at: String,
    pub portico_version: String,
    /// "sqlite" or "postgres": a backup restores onto the same kind of database.
    pub backend: String,
    /// The newest migration applied to the database backed up.
    pub schema_version: i64,
    pub tables: BTreeMap<String, i64>,
    pub objects: u64,
    pub object_bytes: u64,
    /// Rows whose files are sealed with the master key.
    pub sealed_rows: i64,
    /// The fingerprint of the master encryption key in use when the backup was taken.
    pub master_key_fingerprint: Option<String>,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

fn fail(message: impl Into<String>) -> ConfigError {
    ConfigError(message.into())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads through `inner`, hashing and counting what passes.
struct Hashing<R> {
    inner: R,
    sha: Sha256,
    read: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Hashing {
            inner,
            sha: Sha256::new(),
            read: 0,
        }
    }

    fn finish(self) -> (u64, String) {
        (self.read, hex(&self.sha.finalize()))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sha.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

/// The archive being written, with what has gone into it.
struct Writer {
    tar: tar::Builder<std::io::BufWriter<std::fs::File>>,
    entries: Vec<Entry>,
}

impl Writer {
    fn append(&mut self, path: &str, size: u64, body: impl Read) -> std::io::Result<()> {
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o600);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mtime(0);
        let mut body = Hashing::new(body);
        self.tar.append_data(&mut header, path, &mut body)?;
        let (read, sha256) = body.finish();
        if read != size {
            return Err(std::io::Error::other(format!(
                "{path} changed while it was copied ({read} bytes, not {size})"
            )));
        }
        self.entries.push(Entry {
            path: path.to_string(),
            size,
            sha256,
        });
        Ok(())
    }
}

/// Runs `f` on the archive writer on a blocking thread (tar writes synchronously); a failure
/// is told as `what` and its cause.
async fn on_writer<F>(w: Writer, what: String, f: F) -> Result<Writer, ConfigError>
where
    F: FnOnce(&mut Writer) -> std::io::Result<()> + Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let mut w = w;
        f(&mut w).map(|()| w)
    })
    .await
    .map_err(|e| fail(format!("the backup stopped: {e}")))?
    .map_err(|e| fail(format!("{what}: {e}")))
}

/// What a backup wrote.
pub struct Written {
    pub path: PathBuf,
    pub manifest: Manifest,
    pub bytes: u64,
    pub seconds: f64,
}

/// The default archive name: `portico-backup-<UTC time>.tar` in the current folder.
pub fn default_name() -> PathBuf {
    let t = time::OffsetDateTime::now_utc();
    let stamp = t
        .format(time::macros::format_description!(
            "[year][month][day]T[hour][minute][second]Z"
        ))
        .unwrap_or_default();
    PathBuf::from(format!("portico-backup-{stamp}.tar"))
}

/// Backs up the configured database and storage into `archive` (a new file).
pub async fn backup(config: &Config, archive: &Path) -> Result<Written, ConfigError> {
    let db = crate::server::open_db(config).await?;
    let storage = Storage::open(&config.storage_config()?)
        .await
        .map_err(|e| fail(e.to_string()))?;
    let key = config.encryption_key()?;
    let result = backup_from(&db, &storage, key.as_ref(), archive).await;
    db.close().await;
    result
}

/// Backs up `db` and the objects its rows name in `storage` into `archive`.
pub async fn backup_from(
    db: &Db,
    storage: &Storage,
    key: Option<&portico_storage::crypt::MasterKey>,
    archive: &Path,
) -> Result<Written, ConfigError> {
    let started = Instant::now();
    if archive.exists() {
        return Err(fail(format!(
            "{} exists already: name a new file for the backup",
            archive.display()
        )));
    }
    let folder = match archive.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let cannot = |e: &dyn std::fmt::Display| {
        fail(format!(
            "cannot write the backup in {}: {e}",
            folder.display()
        ))
    };
    // Work beside the archive (the same disk), and put it in place only once whole.
    let work = tempfile::Builder::new()
        .prefix(".portico-backup-")
        .tempdir_in(&folder)
        .map_err(|e| cannot(&e))?;
    let snap_dir = work.path().join("database");
    std::fs::create_dir(&snap_dir).map_err(|e| cannot(&e))?;
    let snap = snapshot::take(db, &snap_dir)
        .await
        .map_err(|e| fail(format!("could not take a snapshot of the database: {e}")))?;
    let partial = work.path().join("archive.tar");
    let file = std::fs::File::create(&partial).map_err(|e| cannot(&e))?;
    let mut w = Writer {
        tar: tar::Builder::new(std::io::BufWriter::with_capacity(BLOCK, file)),
        entries: Vec::new(),
    };
    let mut names: Vec<String> = std::fs::read_dir(&snap_dir)
        .map_err(|e| cannot(&e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let dir = snap_dir.clone();
    let what = "could not write the database into the backup".to_string();
    w = on_writer(w, what, move |w| {
        for name in names {
            let path = dir.join(&name);
            let file = std::fs::File::open(&path)?;
            let size = file.metadata()?.len();
            w.append(&format!("{DATABASE}{name}"), size, file)?;
        }
        Ok(())
    })
    .await?;
    std::fs::remove_dir_all(&snap_dir).map_err(|e| cannot(&e))?;
    let mut object_bytes = 0;
    for object in &snap.object_keys {
        let (size, stream) = storage.get_stream(object, None).await.map_err(|e| {
            fail(format!(
                "the database names the object {object}, which storage could not give: {e}"
            ))
        })?;
        object_bytes += size;
        let body = tokio_util::io::SyncIoBridge::new(tokio_util::io::StreamReader::new(stream));
        let path = format!("{OBJECTS}{object}");
        let what = format!("could not copy {path} into the backup");
        w = on_writer(w, what, move |w| w.append(&path, size, body)).await?;
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        portico_version: env!("CARGO_PKG_VERSION").into(),
        backend: db.backend().into(),
        schema_version: snap.schema_version,
        tables: snap.tables.iter().cloned().collect(),
        objects: snap.object_keys.len() as u64,
        object_bytes,
        sealed_rows: snap.sealed_rows,
        master_key_fingerprint: key.map(|k| k.fingerprint()),
        entries: std::mem::take(&mut w.entries),
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| cannot(&e))?;
    let what = "could not finish the backup".to_string();
    let w = on_writer(w, what, move |w| {
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o600);
        header.set_mtime(0);
        w.tar.append_data(&mut header, MANIFEST, json.as_slice())
    })
    .await?;
    let file = w
        .tar
        .into_inner()
        .and_then(|b| b.into_inner().map_err(|e| e.into_error()))
        .map_err(|e| cannot(&e))?;
    file.sync_all().map_err(|e| cannot(&e))?;
    let bytes = file.metadata().map_err(|e| cannot(&e))?.len();
    drop(file);
    if archive.exists() {
        return Err(fail(format!(
            "{} appeared while the backup ran: name a new file for the backup",
            archive.display()
        )));
    }
    std::fs::rename(&partial, archive).map_err(|e| cannot(&e))?;
    if let Ok(d) = std::fs::File::open(&folder) {
        let _ = d.sync_all();
    }
    Ok(Written {
        path: archive.to_path_buf(),
        manifest,
        bytes,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Reads an archive through, giving each entry's path and bytes to `take`, and checks every
/// entry against the manifest. Any damage, truncation or stray entry is an error.
fn read_archive(
    archive: &Path,
    mut take: impl FnMut(&str, &mut dyn Read) -> Result<(), ConfigError>,
) -> Result<Manifest, ConfigError> {
    let file = std::fs::File::open(archive)
        .map_err(|e| fail(format!("cannot open {}: {e}", archive.display())))?;
    let damaged = |e: &dyn std::fmt::Display| {
        fail(format!(
            "{} is damaged or cut short ({e}): it cannot be restored",
            archive.display()
        ))
    };
    let mut tar = tar::Archive::new(std::io::BufReader::with_capacity(BLOCK, file));
    let mut seen: Vec<Entry> = Vec::new();
    let mut manifest: Option<Manifest> = None;
    for entry in tar.entries().map_err(|e| damaged(&e))? {
        let mut entry = entry.map_err(|e| damaged(&e))?;
        let path = String::from_utf8(entry.path_bytes().into_owned())
            .map_err(|_| damaged(&"an entry's name is not UTF-8"))?;
        if manifest.is_some() {
            return Err(fail(format!(
                "{} holds {path} after its manifest: it is not a backup Portico wrote",
                archive.display()
            )));
        }
        if path == MANIFEST {
            let mut text = Vec::new();
            (&mut entry)
                .take(MANIFEST_LIMIT)
                .read_to_end(&mut text)
                .map_err(|e| damaged(&e))?;
            let m: Manifest = serde_json::from_slice(&text).map_err(|_| {
                fail(format!(
                    "{} is damaged or cut short: its manifest cannot be read",
                    archive.display()
                ))
            })?;
            manifest = Some(m);
            continue;
        }
        let mut body = Hashing::new(&mut entry);
        take(&path, &mut body)?;
        std::io::copy(&mut body, &mut std::io::sink()).map_err(|e| damaged(&e))?;
        let (size, sha256) = body.finish();
        seen.push(Entry { path, size, sha256 });
    }
    let Some(manifest) = manifest else {
        return Err(fail(format!(
            "{} has no manifest: the backup was cut short, or this is not a Portico backup",
            archive.display()
        )));
    };
    if manifest.format != FORMAT {
        return Err(fail(format!(
            "{} is not a Portico backup",
            archive.display()
        )));
    }
    if manifest.format_version > FORMAT_VERSION {
        return Err(fail(format!(
            "{} was written by a newer Portico (backup format {}): restore it with that version",
            archive.display(),
            manifest.format_version
        )));
    }
    let listed: BTreeMap<&str, &Entry> = manifest
        .entries
        .iter()
        .map(|e| (e.path.as_str(), e))
        .collect();
    for e in &seen {
        match listed.get(e.path.as_str()) {
            None => {
                return Err(fail(format!(
                    "{} holds {}, which its manifest does not list: it is not a backup Portico wrote",
                    archive.display(),
                    e.path
                )));
            }
            Some(l) if *l != e => {
                return Err(fail(format!(
                    "{} is damaged: {} does not match its checksum",
                    archive.display(),
                    e.path
                )));
            }
            Some(_) => {}
        }
    }
    if seen.len() != manifest.entries.len() {
        let have: std::collections::BTreeSet<&str> = seen.iter().map(|e| e.path.as_str()).collect();
        let missing = manifest
            .entries
            .iter()
            .find(|e| !have.contains(e.path.as_str()))
            .map_or("an entry", |e| e.path.as_str());
        return Err(fail(format!(
            "{} is incomplete: {missing} is missing",
            archive.display()
        )));
    }
    Ok(manifest)
}

/// Checks that an archive is whole: every entry present and matching its checksum.
pub async fn verify(archive: &Path) -> Result<Manifest, ConfigError> {
    let archive = archive.to_path_buf();
    tokio::task::spawn_blocking(move || read_archive(&archive, |_, _| Ok(())))
        .await
        .map_err(|e| fail(format!("the check stopped: {e}")))?
}

/// What a restore put back.
pub struct Restored {
    pub manifest: Manifest,
    pub schema_version: i64,
    pub seconds: f64,
}

/// The SQLite file a `sqlite:` URL names.
fn sqlite_path(url: &str) -> PathBuf {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    PathBuf::from(rest.split('?').next().unwrap_or(rest))
}

/// Restores `archive` into the configured database and storage, which must both be empty;
/// then applies the migrations newer than the backup.
pub async fn restore(config: &Config, archive: &Path) -> Result<Restored, ConfigError> {
    let started = Instant::now();
    let manifest = verify(archive).await?;
    let url = config.database_url();
    let backend = if url.starts_with("sqlite:") {
        "sqlite"
    } else {
        "postgres"
    };
    if manifest.backend != backend {
        return Err(fail(format!(
            "this backup is of a {} database; database.url names a {backend} one: restore it onto the same kind of database",
            manifest.backend
        )));
    }
    let known = snapshot::known_version(backend);
    if manifest.schema_version > known {
        return Err(fail(format!(
            "this backup has schema version {}, newer than this Portico knows ({known}): restore it with the Portico version that took it, or a newer one",
            manifest.schema_version
        )));
    }
    check_key(config, &manifest)?;
    // The database must be new: restoring over data would mix two histories.
    let sqlite_file = (backend == "sqlite").then(|| sqlite_path(&url));
    let target = match &sqlite_file {
        Some(path) => {
            let used = std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
            if used {
                return Err(fail(format!(
                    "the database {} exists already: restore into a new database (move the old file away first)",
                    path.display()
                )));
            }
            None
        }
        None => {
            let db = Db::connect(&url, portico_db::PoolSettings::default())
                .await
                .map_err(|e| fail(e.to_string()))?;
            if db.table_count().await.map_err(|e| fail(e.to_string()))? > 0 {
                db.close().await;
                return Err(fail(format!(
                    "the database at {} has tables already: restore into a new, empty database",
                    portico_db::describe_url(&url)
                )));
            }
            Some(db)
        }
    };
    let storage = Storage::open(&config.storage_config()?)
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !storage.is_empty().await.map_err(|e| fail(e.to_string()))? {
        return Err(fail(format!(
            "the storage ({}) holds objects already: restore into empty storage",
            storage.describe()
        )));
    }
    let folder = match &sqlite_file {
        Some(p) => {
            let dir = p.parent().filter(|d| !d.as_os_str().is_empty());
            let dir = dir.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            std::fs::create_dir_all(&dir)
                .map_err(|e| fail(format!("cannot create {}: {e}", dir.display())))?;
            dir
        }
        None => std::env::temp_dir(),
    };
    let work = tempfile::Builder::new()
        .prefix(".portico-restore-")
        .tempdir_in(&folder)
        .map_err(|e| fail(format!("cannot work in {}: {e}", folder.display())))?;
    unpack(archive, work.path(), &storage).await?;
    let db = match (sqlite_file, target) {
        (Some(path), _) => {
            let file = work.path().join("database.sqlite");
            if !file.is_file() {
                return Err(fail("this backup holds no SQLite database"));
            }
            for stale in ["-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(stale);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
            std::fs::rename(&file, &path)
                .map_err(|e| fail(format!("cannot put {} in place: {e}", path.display())))?;
            Db::connect(&url, portico_db::PoolSettings::default())
                .await
                .map_err(|e| fail(e.to_string()))?
        }
        (None, Some(db)) => {
            db.migrate_to(manifest.schema_version)
                .await
                .map_err(|e| fail(format!("database.url: {e}")))?;
            let tables: Vec<String> = manifest.tables.keys().cloned().collect();
            snapshot::load_postgres(&db, work.path(), &tables)
                .await
                .map_err(|e| fail(format!("could not load the backup into the database: {e}")))?;
            db
        }
        (None, None) => unreachable!("a PostgreSQL target is connected above"),
    };
    let counts = snapshot::row_counts(&db)
        .await
        .map_err(|e| fail(e.to_string()))?;
    for (table, rows) in &manifest.tables {
        let have = counts.iter().find(|(t, _)| t == table).map(|(_, n)| *n);
        if have != Some(*rows) {
            db.close().await;
            return Err(fail(format!(
                "the restored table {table} has {} rows, the backup {rows}",
                have.unwrap_or(0)
            )));
        }
    }
    db.migrate()
        .await
        .map_err(|e| fail(format!("database.url: {e}")))?;
    let schema_version = snapshot::known_version(backend);
    db.close().await;
    Ok(Restored {
        manifest,
        schema_version,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The master key is never in a backup: the one configured must be the one it was taken with.
fn check_key(config: &Config, manifest: &Manifest) -> Result<(), ConfigError> {
    let Some(wanted) = &manifest.master_key_fingerprint else {
        return Ok(());
    };
    match config.encryption_key()? {
        None => Err(fail(
            "this backup was taken with a master encryption key: set the same storage.encryption_key here before restoring (sealed files and secrets cannot be read without it)",
        )),
        Some(k) if &k.fingerprint() != wanted => Err(fail(
            "the master encryption key set here (storage.encryption_key) is not the one this backup was taken with: set that key before restoring",
        )),
        Some(_) => Ok(()),
    }
}

/// Writes the database entries of `archive` into `dir` and its objects into `storage`,
/// checking every entry again as it goes.
async fn unpack(archive: &Path, dir: &Path, storage: &Storage) -> Result<(), ConfigError> {
    type Body = tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>;
    let (objects, mut arriving) = tokio::sync::mpsc::channel::<(String, Body)>(1);
    let (archive, dir) = (archive.to_path_buf(), dir.to_path_buf());
    let reading = tokio::task::spawn_blocking(move || {
        read_archive(&archive, |path, body| {
            if let Some(name) = path.strip_prefix(DATABASE) {
                let plain = !name.is_empty()
                    && name.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.".contains(&b)
                    })
                    && !name.starts_with('.');
                if !plain {
                    return Err(fail(format!("the backup holds a stray entry {path}")));
                }
                let mut out = std::fs::File::create(dir.join(name))
                    .map_err(|e| fail(format!("cannot unpack {path}: {e}")))?;
                std::io::copy(body, &mut out)
                    .and_then(|_| out.sync_all())
                    .map_err(|e| fail(format!("cannot unpack {path}: {e}")))?;
            } else if let Some(key) = path.strip_prefix(OBJECTS) {
                let (tx, rx) = tokio::sync::mpsc::channel(4);
                objects
                    .blocking_send((key.to_string(), rx))
                    .map_err(|_| fail("the restore stopped"))?;
                let mut buf = vec![0; BLOCK];
                loop {
                    match body.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => {
                            if tx
                                .blocking_send(Ok(Bytes::copy_from_slice(&buf[..n])))
                                .is_err()
                            {
                                return Err(fail("the restore stopped"));
                            }
                        }
                        Err(e) => {
                            let message = format!("the backup is damaged at {path}: {e}");
                            let _ = tx.blocking_send(Err(e));
                            return Err(fail(message));
                        }
                    }
                }
            } else {
                return Err(fail(format!("the backup holds a stray entry {path}")));
            }
            Ok(())
        })
    });
    let mut stored = Ok(());
    while let Some((key, body)) = arriving.recv().await {
        let stream = futures_util::stream::unfold(body, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        })
        .boxed();
        if let Err(e) = storage.put_stream(&key, stream).await {
            stored = Err(fail(format!("could not restore the object {key}: {e}")));
            break;
        }
    }
    drop(arriving);
    let read = reading
        .await
        .map_err(|e| fail(format!("the restore stopped: {e}")))?;
    stored?;
    read.map(|_| ())
}

/// Prints what a manifest says, for people.
pub fn describe(m: &Manifest) -> String {
    let rows: i64 = m.tables.values().sum();
    let mut out = format!(
        "{} backup taken {} (schema version {}): {} tables, {rows} rows, {} objects ({} bytes)",
        m.backend,
        m.created_at,
        m.schema_version,
        m.tables.len(),
        m.objects,
        m.object_bytes
    );
    if m.master_key_fingerprint.is_some() {
        out.push_str(
            "; taken with a master encryption key, which is not in the archive: restore with the same storage.encryption_key",
        );
    }
    out
}
