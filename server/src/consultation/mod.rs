//! The remiss round's rules and rows, below the product modules that obey them: the
//! round's vocabulary and JSON (`model`), its SQL, including an invitee's first moments
//! (`store`), the svarsdatum rule in Europe/Stockholm (`deadline`) and the extensions of
//! the svarsdatum granted per organisation (`extensions`).
//!
//! These used to sit in `remiss`, which gathers threads for its report and compilation
//! and so imports `comments`; comments check the deadline and mark an invitee's first
//! comment in their own transaction, so comments imported remiss and the two were one
//! import cycle (issue 19). The rules depend on nothing above storage and auth, so both
//! now import them from here. The round's use cases, routes and read-outs stay in
//! `remiss`.

pub mod deadline;
pub mod extensions;
pub mod model;
pub mod store;
