//! Förankra: a real-time collaborative drafting server.
//!
//! The library holds everything; `main.rs` only parses the command line and calls in.
//! Integration tests build the same [`app::App`] on `127.0.0.1:0` and talk to it over
//! real sockets, so the code they exercise is the code that ships.

pub mod admin;
pub mod app;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod cluster;
pub mod comments;
pub mod config;
pub mod consultation;
pub mod csv_cell;
pub mod demo;
pub mod documents;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod health;
pub mod html_text;
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod notifications;
pub mod openapi;
pub mod remiss;
pub mod security_headers;
pub mod serve;
pub mod state;
pub mod storage;
#[doc(hidden)]
pub mod structured_fuzzing;
pub mod sub_state;
pub mod sync;
pub mod telemetry;
pub mod versions;
pub mod vocabulary;
pub mod web;
pub mod webhooks;

pub use app::App;
pub use config::Config;
pub use state::AppState;
