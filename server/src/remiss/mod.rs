//! Remiss rounds: the round on a document (diarienummer, phase, svarsdatum), the invited
//! organisations and what each did, and the two read-outs owners and invitees share: the
//! participation report (förankringsrapport) and the compilation (remissammanställning).
//! The round's rows, SQL and deadline rule are in `consultation`, below comments, which
//! obey them. The contract is docs/REMISS.md.
//!
//! An invitee's status is derived, never stored: the table keeps the first moment of each
//! thing it did (`activity` records them from the socket, the document and comment
//! routes), and `round` turns those into `invited`, `opened`, `commenting`, `done` or
//! `declined`, so the status cannot disagree with the history it summarises.

pub mod activity;
pub mod changes;
pub mod compilation;
pub mod events;
pub mod exports;
pub mod extensions;
pub mod gather;
pub mod matrix;
pub mod reminders;
pub mod render;
pub mod report;
pub mod round;
pub mod routes;
pub mod sections;
pub mod statements;
pub mod tracked;
pub mod version_export;

pub use activity::SeenOpens;

crate::sub_state! {
    /// What the remiss round's routes and read-outs need of the server's state. Handlers
    /// take `State<RemissContext>`, which any state holding these handles provides
    /// (`sub_state`), so this module does not import the server's `AppState`.
    pub struct RemissContext {
        /// Storage: the round, invitees, threads, the audit trail.
        pub db: crate::storage::Db,
        /// The open rooms: the report resolves anchors against the live text.
        pub rooms: crate::sync::RoomRegistry,
    }
}
