//! WebSocket close codes and reasons.
//!
//! The y-websocket client reconnects forever after a network error or an HTTP error on
//! the upgrade, but stops on codes 4400–4499. Refusals that retrying cannot fix (bad
//! token, no access, no such document, malformed input) therefore use those codes;
//! conditions a reconnect does fix (too slow, server restarting) use standard codes so
//! the client comes back and re-syncs.

/// Bad or missing token.
pub const UNAUTHORIZED: u16 = 4401;
/// The token is fine but gives no access to this document (or access was revoked).
pub const FORBIDDEN: u16 = 4403;
/// No such document (or it was purged).
pub const NOT_FOUND: u16 = 4404;
/// The document is archived: no more editing or following it live (its owners can still
/// read its audit trail over HTTP). Like HTTP 410 Gone; in 4400–4499 so the y-websocket
/// client does not retry.
pub const ARCHIVED: u16 = 4410;
/// The connection's role changed: reconnect to learn the new one. Outside 4400–4499 on
/// purpose, so the y-websocket client does reconnect.
pub const ROLE_CHANGED: u16 = 4100;
/// A message over the size limit.
pub const TOO_LARGE: u16 = 4413;
/// A malformed message.
pub const MALFORMED: u16 = 4400;
/// An update writes under a Yjs client id that another user's updates are bound to in
/// this document (`sync::authorship`): authorship cannot be forged. In 4400–4499, so the
/// y-websocket client does not retry the same update; a page reload gets a new id.
pub const FOREIGN_CLIENT_ID: u16 = 4409;
/// More messages a second than the connection's rate limit allows (policy violation).
/// A standard code on purpose: the client reconnects with backoff and re-syncs, so an
/// honest client that burst once recovers, and a flooding one is cut off again.
pub const RATE_LIMITED: u16 = 1008;
/// The server is going away (restart or shutdown): reconnect.
pub const RESTARTING: u16 = 1012;
/// The client could not keep up, or the room could not store its work: reconnect.
pub const TRY_AGAIN: u16 = 1013;
/// Nothing heard from the client for too long.
pub const GOING_AWAY: u16 = 1001;
/// A fault on the server's side.
pub const INTERNAL: u16 = 1011;

/// Longest close reason the protocol allows is 123 bytes.
const MAX_REASON_BYTES: usize = 120;

/// Why a socket is being closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: String,
}

impl CloseReason {
    /// A close with `code`, the reason cut at a character boundary to fit a close frame.
    pub fn new(code: u16, reason: impl Into<String>) -> Self {
        let mut reason = reason.into();
        if reason.len() > MAX_REASON_BYTES {
            let mut cut = MAX_REASON_BYTES;
            while !reason.is_char_boundary(cut) {
                cut -= 1;
            }
            reason.truncate(cut);
        }
        Self { code, reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reasons_are_cut_on_a_character_boundary() {
        let reason = CloseReason::new(MALFORMED, "ö".repeat(100));
        assert!(reason.reason.len() <= MAX_REASON_BYTES);
        assert!(reason.reason.chars().all(|c| c == 'ö'));
    }
}
