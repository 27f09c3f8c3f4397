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
}

impl From<object_store::Error> for StorageError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { .. } => StorageError::NotFound,
            other => StorageError::Backend(other.to_string()),
        }
    }
}
