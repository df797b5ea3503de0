//! User text made safe for a CSV cell, for every CSV export (the compilation, the audit
//! trail): kept apart from both so neither export depends on the other.

/// A user text as a CSV cell. Spreadsheets run a cell that starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return as a formula, so such a cell gets a leading `'`
/// (OWASP's advice against CSV injection).
pub fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}
