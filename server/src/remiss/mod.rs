//! Remiss rounds: the round on a document (diarienummer, phase, svarsdatum), the invited
//! organisations and what each did, the deadline rule, and the two read-outs owners and
//! invitees share: the participation report (förankringsrapport) and the compilation
//! (remissammanställning). The contract is docs/REMISS.md.
//!
//! An invitee's status is derived, never stored: the table keeps the first moment of each
//! thing it did (`activity` records them from the socket, the document and comment
//! routes), and `round` turns those into `invited`, `opened`, `commenting`, `done` or
//! `declined`, so the status cannot disagree with the history it summarises.

pub mod activity;
pub mod changes;
pub mod compilation;
pub mod deadline;
pub mod exports;
pub mod gather;
pub mod model;
pub mod render;
pub mod report;
pub mod round;
pub mod routes;
pub mod statements;
pub mod store;

pub use activity::SeenOpens;
