//! What every feature's pages share: the error type, extractors, form posts, the request's
//! facts for audit events, the signed-in page frame, and small renderers (CSV, message text).

pub(crate) mod csv;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod layout;
pub(crate) mod posted;
pub(crate) mod request;
pub(crate) mod rich;
