//! Integration tests: the real server on 127.0.0.1:0, real sockets, real clients.
//!
//! Every test that touches storage runs twice, on SQLite and on PostgreSQL
//! (`TEST_DATABASE_URL`), through `both_dbs!`.

mod helpers;

mod admin_api;
mod administration;
mod audit;
mod auth;
mod authorship;
mod cluster;
mod compilation;
mod connections;
mod demo;
mod diff_authors;
mod documents;
mod durability;
mod extensions;
mod hostile;
mod interop;
mod limits;
mod live;
mod markdown_import;
mod members;
mod mentions;
mod nesting;
mod notifications;
mod oidc;
mod openapi;
mod paragraph_notices;
mod pdf;
mod presence;
mod proposals;
mod quarantine;
mod read_only;
mod record;
mod remiss;
mod saving;
mod schema;
mod suggestion_rule;
mod suggestions;
mod suggestions_across;
mod sync;
mod tables;
mod threads;
mod tickets;
mod trail;
mod versions;
mod webhooks;
mod word;
mod word_import;
