//! The `portico` program: configuration, start-up, the job worker and the operator commands.

pub mod admin;
pub mod backup;
pub mod config;
pub mod demo;
pub mod healthcheck;
pub mod server;
pub mod worker;

pub use config::{Config, ConfigError};
