//! End-to-end tests of Portico: one test binary; every database test runs on SQLite and on
//! PostgreSQL.

mod account;
mod api;
mod audit;
mod auth;
mod browser;
mod cli;
mod colleagues;
mod hostile;
mod invitations;
mod jobs;
mod links;
mod mail;
mod pages;
mod pictures;
mod reset;
mod settings;
mod shares;
mod storage;
mod support;
mod switch;
mod tenancy;
mod terms;
mod throttle;
mod two_factor;
mod workspace;
