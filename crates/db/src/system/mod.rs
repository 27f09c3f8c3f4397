//! System-level access, for jobs, sweeps and the command line; pages never call these.
//!
//! Everything else in this crate that reads or writes firm data takes the
//! [`portico_core::Viewer`] and puts its scope in the query. The functions here act on every
//! firm at once or on a row by its id alone: the job worker, the storage and notification
//! sweeps, backups, and operators setting up firms. The web crate does not use this module.

pub mod files;
pub mod firms;
pub mod jobs;
pub mod loose_objects;
pub mod notifications;
pub mod seed;
pub mod snapshot;
pub mod tasks;
pub mod uploads;
