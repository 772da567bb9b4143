//! chidao's integration tests: one binary (links once), a module per capability. Every test
//! starts the real server on a random port over its own database, SQLite by default and
//! PostgreSQL when `TEST_DATABASE_URL` is set. `helpers` starts servers, gives a client per role
//! and holds what several modules share; `scope` works out what an agency should see.
// Tests check the database directly, beside the API, with sea-orm's own finders (the service
// itself reads only through its scoped finder; see clippy.toml).
#![allow(clippy::disallowed_methods)]

mod helpers;
mod scope;

// The service around GraphQL.
mod auth;
mod faults;
mod http;
mod limits;
mod node;
mod schema;
mod statements;
mod subscriptions;

// The capabilities, by the rows they read and write.
mod agencies;
mod answers;
mod deadlines;
mod directives;
mod duties;
mod exports;
mod indicators;
mod inputs;
mod intake;
mod lean;
mod plain;
mod reorganisation;
mod reports;
mod statistics;
mod tasks;
mod webhooks;

// Setting up a database.
mod migrations;
mod seed;
