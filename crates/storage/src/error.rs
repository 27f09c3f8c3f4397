//! What can go wrong with storage, in terms the caller can act on.

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("object not found")]
    NotFound,
    /// The key could escape its place or is not a plain relative path; keys come from the
    /// application, so this is a bug, never user input.
    #[error(
        "storage key {0:?} is not allowed: keys are relative paths of non-empty segments, \
         without `.`, `..` or control characters"
    )]
    InvalidKey(String),
    /// A setting that keeps storage from working, named in one sentence.
    #[error("{0}")]
    Config(String),
    /// The body being stored failed (for example the client went away); nothing was kept.
    #[error("the body being stored failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// A stored object is missing or not what was stored; the sentence says how.
    #[error("the stored file is damaged: {0}")]
    Damaged(String),
    /// The disk or the store is out of space (or over a quota).
    #[error("storage is full: {0}")]
    Full(String),
}

impl StorageError {
    /// True when nothing could be stored for want of space.
    pub fn is_full(&self) -> bool {
        match self {
            StorageError::Full(_) => true,
            StorageError::Io(e) => io_is_full(e),
            _ => false,
        }
    }
}

/// ENOSPC and EDQUOT, whatever the platform calls them.
fn io_is_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || matches!(e.raw_os_error(), Some(28 | 122))
}

/// Whether any error in the chain is an I/O error for want of space.
fn chain_is_full(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io_is_full(io)
        {
            return true;
        }
        next = e.source();
    }
    false
}

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => StorageError::NotFound,
            other if chain_is_full(&other) => StorageError::Full(other.to_string()),
            other => StorageError::Backend(other.to_string()),
        }
    }
}
