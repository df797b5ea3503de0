//! "Saved" acknowledgements: a client learns when the server has stored what it sent.
//!
//! The y-websocket protocol has no acknowledgement, so a client cannot tell text the
//! server holds from text still only in the browser (Hocuspocus added its `SyncStatus`
//! message for the same reason). A client that wants to know sends a marker, message
//! type [`MSG_SAVED`] whose payload is a varuint it chooses; the room answers with the
//! same message once every update that connection sent before the marker is durable in
//! the log. An update the room dropped (the sender may not edit) or could not store is
//! never counted as stored, so its marker is never answered and the client keeps saying
//! its text is only kept locally. A stock client never sends the type and never gets it.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::sync::protocol::{MSG_SAVED, write_var};

/// Markers one connection may have waiting. A later marker covers every earlier one, so
/// when more arrive the oldest is forgotten: the client only waits for its latest.
const MAX_WAITING: usize = 16;

/// One connection's count of updates queued and stored, and its unanswered markers.
#[derive(Debug, Default)]
pub struct Saving {
    queued: u64,
    stored: u64,
    /// (updates that must be stored first, the client's marker), oldest first.
    waiting: VecDeque<(u64, u64)>,
}

impl Saving {
    /// An update of this connection was queued for the log.
    pub(super) fn queued(&mut self) {
        self.queued += 1;
    }

    /// One of this connection's updates is stored: the answers now due, in order.
    pub(super) fn stored(&mut self) -> Vec<Bytes> {
        self.stored += 1;
        let mut due = Vec::new();
        while let Some(&(needed, marker)) = self.waiting.front() {
            if needed > self.stored {
                break;
            }
            self.waiting.pop_front();
            due.push(answer(marker));
        }
        due
    }

    /// A marker came: its answer if nothing sent before it is still unstored.
    pub(super) fn mark(&mut self, marker: u64) -> Option<Bytes> {
        if self.stored >= self.queued {
            return Some(answer(marker));
        }
        if self.waiting.len() == MAX_WAITING {
            self.waiting.pop_front();
        }
        self.waiting.push_back((self.queued, marker));
        None
    }
}

/// The answer to `marker`: the type, then a payload holding the marker.
pub(super) fn answer(marker: u64) -> Bytes {
    let mut payload = Vec::with_capacity(10);
    write_var(&mut payload, marker);
    let mut frame = Vec::with_capacity(16);
    write_var(&mut frame, MSG_SAVED);
    write_var(&mut frame, payload.len() as u64);
    frame.extend_from_slice(&payload);
    frame.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_with_nothing_unstored_is_answered_at_once() {
        let mut saving = Saving::default();
        assert_eq!(saving.mark(7), Some(answer(7)));
    }

    #[test]
    fn a_marker_waits_for_every_update_sent_before_it_and_no_later_one() {
        let mut saving = Saving::default();
        saving.queued();
        saving.queued();
        assert_eq!(saving.mark(1), None);
        saving.queued();
        assert!(saving.stored().is_empty());
        assert_eq!(saving.stored(), vec![answer(1)]);
        assert_eq!(saving.mark(2), None);
        assert_eq!(saving.stored(), vec![answer(2)]);
    }

    #[test]
    fn a_dropped_update_leaves_its_marker_unanswered() {
        let mut saving = Saving::default();
        saving.queued();
        assert_eq!(saving.mark(1), None);
        // Never stored: the marker stays waiting, and so does a later one.
        assert_eq!(saving.mark(2), None);
        assert_eq!(saving.waiting.len(), 2);
    }

    #[test]
    fn waiting_markers_are_bounded_keeping_the_latest() {
        let mut saving = Saving::default();
        saving.queued();
        for marker in 0..100 {
            assert_eq!(saving.mark(marker), None);
        }
        assert_eq!(saving.waiting.len(), MAX_WAITING);
        let due = saving.stored();
        assert_eq!(due.len(), MAX_WAITING);
        assert_eq!(due.last(), Some(&answer(99)));
    }
}
