//! What every feature's pages share: the error type, extractors, form posts, the request's
//! facts for audit events, the signed-in page frame, page addresses, the API's common parts,
//! and small renderers (CSV, message text).

pub(crate) mod api;
pub(crate) mod csv;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod layout;
pub(crate) mod paths;
pub(crate) mod posted;
pub(crate) mod request;
pub(crate) mod rich;
pub(crate) mod sections;
pub(crate) mod session;
