//! The y-websocket wire format, parsed strictly.
//!
//! A frame holds one or more messages, each a varuint type and a payload: 0 sync (step 1
//! with a state vector, step 2 or update with a v1 update), 1 awareness, 2 auth, 3
//! awareness query. yrs's `MessageReader` stops quietly at a truncated message; the
//! server must instead refuse it, so this module reads the frame itself and reports
//! exactly what is wrong. Every update and awareness payload is decoded here, in the
//! connection's task, so a room never sees bytes that do not decode.

use std::time::Instant;

use bytes::Bytes;
use yrs::encoding::read::{Cursor, Read};
use yrs::sync::protocol::{MSG_AUTH, MSG_AWARENESS, MSG_QUERY_AWARENESS, MSG_SYNC};
use yrs::sync::protocol::{MSG_SYNC_STEP_1, MSG_SYNC_STEP_2, MSG_SYNC_UPDATE};
use yrs::sync::{AwarenessUpdate, Message, SyncMessage};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;
use yrs::{StateVector, Update};

use crate::sync::nesting::{self, ScanError, Shape};

/// What is wrong with a frame.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtocolError {
    #[error("empty frame")]
    Empty,
    #[error("truncated message")]
    Truncated,
    #[error("unknown sync message type {0}")]
    UnknownSyncType(u64),
    #[error("the state vector does not decode")]
    BadStateVector,
    #[error("the update does not decode")]
    BadUpdate,
    #[error("the awareness update does not decode")]
    BadAwareness,
    #[error("more than {MAX_MESSAGES_PER_FRAME} messages in one frame")]
    TooManyMessages,
    #[error("a saved marker's payload is not one varuint")]
    BadSavedMarker,
    /// The update parses but is refused before yrs decodes it (see `sync::nesting`).
    #[error("{0}")]
    Refused(ScanError),
}

/// The sync core's own message type beyond y-protocols': a "saved" marker. Framed as
/// every custom type is (the type, then a length-prefixed payload), the payload holding
/// one varuint the client chooses; answered with the same message once every update
/// sent before it is stored (`sync::room::saving`).
pub const MSG_SAVED: u64 = 101;

/// Most messages one frame may carry. The y-websocket client sends one or two; a frame
/// packing 100,000 presence messages (4.9 MB) once flooded every other client's outbox.
pub const MAX_MESSAGES_PER_FRAME: usize = 1_000;

/// A document update received from a client, decoded, with its original bytes (which
/// are what is stored and relayed).
pub struct IncomingUpdate {
    pub update: Update,
    /// Its blocks' ids and parents, for the room's bound on element nesting.
    pub shape: Shape,
    pub raw: Bytes,
    pub received: Instant,
}

/// One message from a client.
pub enum Inbound {
    /// "Here is what I have; send me what I lack."
    SyncStep1(StateVector),
    /// A sync step 2 or an update: content to store and relay.
    Update(IncomingUpdate),
    /// Presence. `message` is the whole encoded message, relayed as it came.
    Awareness {
        update: AwarenessUpdate,
        message: Bytes,
    },
    /// "Send me everyone's presence."
    AwarenessQuery,
    /// "Tell me when everything I sent before this is stored", with the client's marker.
    Saved(u64),
    /// A message type y-protocols does not define, its payload skipped: the room looks
    /// it up among the registered subscriptions (`sync::hooks`) and ignores the rest.
    Custom(u64),
    /// Auth messages: accepted and ignored.
    Ignored,
}

/// Parses every message in `frame`.
pub fn parse_frame(frame: &Bytes, received: Instant) -> Result<Vec<Inbound>, ProtocolError> {
    if frame.is_empty() {
        return Err(ProtocolError::Empty);
    }
    let mut cursor = Cursor::new(frame);
    let mut messages = Vec::with_capacity(1);
    while cursor.has_content() {
        if messages.len() == MAX_MESSAGES_PER_FRAME {
            return Err(ProtocolError::TooManyMessages);
        }
        messages.push(parse_message(frame, &mut cursor, received)?);
    }
    Ok(messages)
}

fn parse_message(
    frame: &Bytes,
    cursor: &mut Cursor<'_>,
    received: Instant,
) -> Result<Inbound, ProtocolError> {
    let start = cursor.next;
    let tag: u64 = cursor.read_var().map_err(|_| ProtocolError::Truncated)?;
    match tag {
        t if t == u64::from(MSG_SYNC) => parse_sync(frame, cursor, received),
        t if t == u64::from(MSG_AWARENESS) => {
            let payload = cursor.read_buf().map_err(|_| ProtocolError::Truncated)?;
            let update = decode_awareness(payload)?;
            Ok(Inbound::Awareness {
                update,
                message: frame.slice(start..cursor.next),
            })
        }
        t if t == u64::from(MSG_AUTH) => {
            let kind: u64 = cursor.read_var().map_err(|_| ProtocolError::Truncated)?;
            if kind == 0 {
                cursor.read_string().map_err(|_| ProtocolError::Truncated)?;
            }
            Ok(Inbound::Ignored)
        }
        t if t == u64::from(MSG_QUERY_AWARENESS) => Ok(Inbound::AwarenessQuery),
        MSG_SAVED => {
            let payload = cursor.read_buf().map_err(|_| ProtocolError::Truncated)?;
            let mut inner = Cursor::new(payload);
            match inner.read_var::<u64>() {
                Ok(marker) if !inner.has_content() => Ok(Inbound::Saved(marker)),
                _ => Err(ProtocolError::BadSavedMarker),
            }
        }
        t => {
            cursor.read_buf().map_err(|_| ProtocolError::Truncated)?;
            Ok(Inbound::Custom(t))
        }
    }
}

fn parse_sync(
    frame: &Bytes,
    cursor: &mut Cursor<'_>,
    received: Instant,
) -> Result<Inbound, ProtocolError> {
    let kind: u64 = cursor.read_var().map_err(|_| ProtocolError::Truncated)?;
    let len = cursor
        .read_buf()
        .map_err(|_| ProtocolError::Truncated)?
        .len();
    let end = cursor.next;
    let raw = frame.slice(end - len..end);
    match kind {
        k if k == u64::from(MSG_SYNC_STEP_1) => plausible_count(&raw, 2)
            .and_then(|()| untrusted(|| StateVector::decode_v1(&raw)))
            .map(Inbound::SyncStep1)
            .ok_or(ProtocolError::BadStateVector),
        k if k == u64::from(MSG_SYNC_STEP_2) || k == u64::from(MSG_SYNC_UPDATE) => {
            let (update, shape) = decode_update_shaped(&raw)?;
            Ok(Inbound::Update(IncomingUpdate {
                update,
                shape,
                raw,
                received,
            }))
        }
        other => Err(ProtocolError::UnknownSyncType(other)),
    }
}

/// Decodes a client's v1 document update.
pub fn decode_update(raw: &[u8]) -> Result<Update, ProtocolError> {
    decode_update_shaped(raw).map(|(update, _)| update)
}

/// Decodes a client's v1 document update after [`nesting::scan_update_v1`] has found
/// it safe to hand to yrs, with the shape the scan found.
pub fn decode_update_shaped(raw: &[u8]) -> Result<(Update, Shape), ProtocolError> {
    let shape = nesting::scan_update_v1(raw).map_err(|e| match e {
        ScanError::Malformed | ScanError::ImplausibleCount => ProtocolError::BadUpdate,
        refused => ProtocolError::Refused(refused),
    })?;
    // Each client's section holds at least a block count, a client id and a clock.
    let update = plausible_count(raw, 3)
        .and_then(|()| untrusted(|| Update::decode_v1(raw)))
        .filter(|update| untrusted(|| well_formed(raw, update)).unwrap_or(false))
        .ok_or(ProtocolError::BadUpdate)?;
    Ok((update, shape))
}

/// Whether each client section the update declares is a client of its own. yrs keeps a
/// client id in 53 bits and, in release builds, silently drops the bits above, so two
/// sections whose ids differ only there become one client whose blocks overlap, and
/// integrating them panics inside yrs (`BlockStore::push`; found by `fuzz/`, the input
/// is the regression test `an_update_naming_one_client_twice_is_refused`). No Yjs
/// encoder writes a client twice, so such an update is refused.
fn one_section_per_client(raw: &[u8], inserted: &yrs::IdSet) -> bool {
    let mut cursor = Cursor::new(raw);
    let declared: Result<u64, _> = cursor.read_var();
    declared.is_ok_and(|n| n == inserted.iter().count() as u64)
}

/// Both structural checks of a decoded update, over one computation of its insertions.
fn well_formed(raw: &[u8], update: &Update) -> Result<bool, ()> {
    let inserted = update.insertions(true);
    Ok(clocks_in_range(&inserted, update.delete_set()) && one_section_per_client(raw, &inserted))
}

/// Highest clock a client's update may reach. A clock counts one client's insertions, so
/// no real client comes near it, while yrs's clock arithmetic (u32, wrapping in release
/// builds) goes wrong close to `u32::MAX`: fuzzing found an update whose block ends past
/// it making `apply_update` index out of bounds when its transaction commits, in the
/// room's task. Such updates are refused before they reach a room.
const MAX_CLOCK: u32 = 1 << 31;

/// Whether every inserted and deleted range lies within `0..MAX_CLOCK`.
fn clocks_in_range(inserted: &yrs::IdSet, deleted: &yrs::IdSet) -> bool {
    let sane = |set: &yrs::IdSet| {
        set.iter().all(|(_, ranges)| {
            ranges
                .iter()
                .all(|r| r.start <= r.end && r.end <= MAX_CLOCK)
        })
    };
    sane(inserted) && sane(deleted)
}

/// Decodes a client's awareness update.
pub fn decode_awareness(raw: &[u8]) -> Result<AwarenessUpdate, ProtocolError> {
    // Each entry holds at least a client id, a clock and a string's length.
    plausible_count(raw, 3)
        .and_then(|()| untrusted(|| AwarenessUpdate::decode_v1(raw)))
        .ok_or(ProtocolError::BadAwareness)
}

/// Whether the count a payload starts with could be true: `min_entry` bytes per entry
/// must fit in what follows. yrs reserves a hash map of the declared size before reading
/// the entries, fallibly, but a hash map's reservation writes a control byte per slot:
/// a five-byte awareness update declaring 2^28 clients made the server allocate and
/// clear hundreds of megabytes (found by `fuzz/`: that target ran 30 times slower).
fn plausible_count(raw: &[u8], min_entry: usize) -> Option<()> {
    let mut cursor = Cursor::new(raw);
    let count: u64 = cursor.read_var().ok()?;
    let rest = (raw.len() - cursor.next) as u64;
    (count.saturating_mul(min_entry as u64) <= rest).then_some(())
}

/// Runs one of yrs's decoders on bytes from the network; `None` when they do not decode.
///
/// yrs checks what it reads, but some of its invariants are debug assertions: a client id
/// over 53 bits (`ClientID::new`) or a deleted range whose end overflows a clock panic in
/// a debug build, where release builds carry on (found by `fuzz/`; the inputs are the
/// regression tests in `fuzzing.rs`). A decoder touches nothing but its input, so a
/// panic inside it leaves no broken state behind and is caught here as "does not decode"
/// rather than ending the connection's task.
pub fn untrusted<T, E>(decode: impl FnOnce() -> Result<T, E>) -> Option<T> {
    crate::sync::quarantine::guarded(decode).ok()?.ok()
}

/// A sync step 1 frame carrying the server's state vector.
pub fn sync_step1(sv: StateVector) -> Bytes {
    Message::Sync(SyncMessage::SyncStep1(sv)).encode_v1().into()
}

/// A sync step 2 frame carrying what the client lacks.
pub fn sync_step2(update: Vec<u8>) -> Bytes {
    Message::Sync(SyncMessage::SyncStep2(update))
        .encode_v1()
        .into()
}

/// An update frame for relaying a stored update.
pub fn update(update: &[u8]) -> Bytes {
    // 0 (sync), 2 (update), varuint length, payload: written by hand to copy the payload once.
    let mut frame = Vec::with_capacity(update.len() + 12);
    frame.push(MSG_SYNC);
    frame.push(MSG_SYNC_UPDATE);
    write_var(&mut frame, update.len() as u64);
    frame.extend_from_slice(update);
    frame.into()
}

/// An awareness frame.
pub fn awareness(update: AwarenessUpdate) -> Bytes {
    Message::Awareness(update).encode_v1().into()
}

/// Appends `n` as a lib0 varuint.
pub(crate) fn write_var(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// An update found by fuzz/ (target `update`) whose deleted range reaches past the highest
/// clock: applied, it panicked in yrs's commit. [`decode_update`] refuses it; the
/// protocol's tests and the fuzzing target's (`fuzzing`) both run it.
#[cfg(test)]
pub(crate) const CLOCK_PAST_MAX_UPDATE: &[u8] = &[
    1, 2, 37, 176, 255, 255, 255, 255, 32, 0, 201, 136, 215, 144, 3, 0, 141, 132, 215, 144, 3, 0,
    141, 132, 129, 198, 136, 3, 0, 2, 9, 112, 97, 33, 97, 103, 114, 99, 112, 104, 0, 0, 224, 250,
    255, 97, 103, 114, 99, 112, 104, 0, 0, 1, 3, 6, 7, 0, 1, 152, 7, 36, 176, 136, 215, 144, 3, 0,
    6, 0,
];

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::{Doc, GetString, Text, Transact};

    fn some_update() -> Vec<u8> {
        let doc = Doc::new();
        let text = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        text.insert(&mut txn, 0, "Förankra");
        txn.encode_update_v1()
    }

    #[test]
    fn an_update_frame_round_trips_through_the_parser() {
        let raw = some_update();
        let frame = update(&raw);
        let expected: Bytes = Message::Sync(SyncMessage::Update(raw.clone()))
            .encode_v1()
            .into();
        assert_eq!(frame, expected);
        let parsed = parse_frame(&frame, Instant::now()).unwrap();
        let [Inbound::Update(incoming)] = parsed.as_slice() else {
            panic!("expected one update")
        };
        assert_eq!(incoming.raw.as_ref(), raw.as_slice());
        let doc = Doc::new();
        let text = doc.get_or_insert_text("t");
        let mut txn = doc.transact_mut();
        txn.apply_update(Update::decode_v1(&incoming.raw).unwrap())
            .unwrap();
        assert_eq!(text.get_string(&txn), "Förankra");
    }

    #[test]
    fn malformed_frames_are_named() {
        let now = Instant::now();
        assert_eq!(
            parse_frame(&Bytes::new(), now).err(),
            Some(ProtocolError::Empty)
        );
        let frame = update(&some_update());
        let truncated = frame.slice(..frame.len() - 3);
        assert_eq!(
            parse_frame(&truncated, now).err(),
            Some(ProtocolError::Truncated)
        );
        let bad = Bytes::from_static(&[0, 2, 3, 0xff, 0xff, 0xff]);
        assert_eq!(parse_frame(&bad, now).err(), Some(ProtocolError::BadUpdate));
        let bad_kind = Bytes::from_static(&[0, 9, 0]);
        assert_eq!(
            parse_frame(&bad_kind, now).err(),
            Some(ProtocolError::UnknownSyncType(9))
        );
    }

    #[test]
    fn counts_larger_than_the_payload_are_refused_before_decoding() {
        // 2^28 clients declared in four bytes.
        let huge = [0xff, 0xff, 0xff, 0x7f];
        assert_eq!(plausible_count(&huge, 3), None);
        assert_eq!(
            decode_awareness(&huge).err(),
            Some(ProtocolError::BadAwareness)
        );
        assert_eq!(decode_update(&huge).err(), Some(ProtocolError::BadUpdate));
        let frame = Message::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1();
        let mut sv = frame[..2].to_vec();
        write_var(&mut sv, huge.len() as u64);
        sv.extend(huge);
        assert_eq!(
            parse_frame(&sv.into(), Instant::now()).err(),
            Some(ProtocolError::BadStateVector)
        );
        // Real payloads pass: an empty state vector, an update, an empty awareness update.
        assert_eq!(plausible_count(&[0], 2), Some(()));
        assert_eq!(plausible_count(&some_update(), 3), Some(()));
        assert!(decode_update(&some_update()).is_ok());
    }

    #[test]
    fn every_update_recorded_from_real_clients_names_each_client_once() {
        let corpus =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/update");
        let mut checked = 0;
        for entry in std::fs::read_dir(&corpus).expect("the update seeds") {
            let raw = std::fs::read(entry.expect("a seed").path()).expect("a seed");
            if let Ok(update) = Update::decode_v1(&raw) {
                assert_eq!(well_formed(&raw, &update), Ok(true), "{raw:?}");
                checked += 1;
            }
        }
        assert!(checked >= 5, "only {checked} seeds decode");
    }

    #[test]
    fn an_update_reaching_past_the_highest_clock_is_refused() {
        // Found by fuzz/ (target update): applied, it panicked in yrs's commit.
        let found = CLOCK_PAST_MAX_UPDATE;
        assert_eq!(decode_update(found).err(), Some(ProtocolError::BadUpdate));
    }

    #[test]
    fn several_messages_in_one_frame_are_all_read() {
        let mut frame = Message::AwarenessQuery.encode_v1();
        frame.extend(Message::Sync(SyncMessage::SyncStep1(StateVector::default())).encode_v1());
        let parsed = parse_frame(&frame.into(), Instant::now()).unwrap();
        assert!(matches!(
            parsed.as_slice(),
            [Inbound::AwarenessQuery, Inbound::SyncStep1(_)]
        ));
    }
}
