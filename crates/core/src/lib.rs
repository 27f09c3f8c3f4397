//! Portico's domain: who is asking (the [`Viewer`]), what they may do, and the rules that
//! input must keep. Nothing here does I/O.

pub mod auth;
pub mod clients;
pub mod files;
pub mod forms;
pub mod names;
pub mod notices;
pub mod policy;
pub mod throttle;
pub mod validate;
pub mod viewer;

pub use validate::Invalid;
pub use viewer::{Side, StaffRole, Viewer};
