use portico_core::Invalid;

/// What can go wrong below the web layer, in terms the web layer can map to a status.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// Missing, or outside the viewer's scope: both answer the same.
    #[error("not found")]
    NotFound,
    #[error("not allowed")]
    Forbidden,
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// A setting that keeps the database from opening: one sentence naming the setting.
    #[error("{0}")]
    Config(String),
    #[error("database error: {0}")]
    Sqlx(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl DbError {
    /// True when a unique constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            DbError::Sqlx(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}
