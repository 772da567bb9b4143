//! chidao's integration tests: one binary (links once), a module per capability. Every test
//! starts the real server on a random port over its own database, SQLite by default and
//! PostgreSQL when `TEST_DATABASE_URL` is set.
// Tests check the database directly, beside the API, with sea-orm's own finders (the service
// itself reads only through its scoped finder; see clippy.toml).
#![allow(clippy::disallowed_methods)]

mod hardening;
mod helpers;
mod http;
mod indicators;
mod mutations;
mod read_api;
mod schema;
mod security;
mod seed;
mod subscriptions;
