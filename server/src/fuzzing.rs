//! Entry points for the fuzz targets in `fuzz/` and for the regression tests of what
//! they find.
//!
//! Each function takes raw bytes, as they would arrive from a socket or a request body,
//! and runs them through the same decoding and applying the server does with them. None
//! returns anything: the only failure a fuzzer looks for is a panic (or an abort, a
//! hang, a blow-up in memory). Not part of the server's API; hidden from its docs.

use std::sync::OnceLock;
use std::time::Instant;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use yrs::updates::decoder::Decode;
use yrs::{
    ClientID, Doc, OffsetKind, Options, ReadTxn, StateVector, StickyIndex, Transact, Update,
};

use crate::comments::anchor::{self, Anchor};
use crate::comments::model::{
    CommentRequest, CreateThreadRequest, DecideProposalRequest, ReanchorRequest, ResolveRequest,
};
use crate::comments::proposal;
use crate::documents::content::{self, Format};
use crate::documents::markdown::import_markdown;
use crate::documents::model::{CreateDocumentRequest, SetMemberRequest, UpdateDocumentRequest};
use crate::sync::presence::Presence;
use crate::sync::protocol::{self, Inbound, parse_frame, untrusted};

/// The client id the demo draft is written with here, so its items have the same ids in
/// every run and recorded anchors (made by real clients on a server holding this update)
/// resolve against it.
pub const DEMO_CLIENT_ID: u64 = 0x466f_7261;

/// The demo draft as one update, made once: every document target starts from it.
pub fn demo_update() -> &'static [u8] {
    static UPDATE: OnceLock<Vec<u8>> = OnceLock::new();
    UPDATE.get_or_init(|| {
        let doc = Doc::with_options(Options {
            client_id: ClientID::new(DEMO_CLIENT_ID),
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        });
        let fragment = content::fragment(&doc);
        let mut txn = doc.transact_mut();
        #[allow(clippy::unwrap_used)] // a fixed text far below the limit
        import_markdown(&mut txn, &fragment, crate::demo::DRAFT).unwrap();
        txn.encode_state_as_update_v1(&StateVector::default())
    })
}

/// A fresh `Doc` holding the demo draft, as a room holds a loaded document.
pub fn demo_doc() -> Doc {
    let doc = content::new_doc();
    #[allow(clippy::unwrap_used)] // our own encoding of a fixed text
    let update = Update::decode_v1(demo_update()).unwrap();
    #[allow(clippy::unwrap_used)]
    doc.transact_mut().apply_update(update).unwrap();
    doc
}

thread_local! {
    /// The last panic's message and place, kept by [`catch_like_the_server`]'s hook.
    static LAST_PANIC: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// Called once before fuzzing (the targets' `init`). libfuzzer-sys installs a panic hook
/// that aborts on every panic, caught or not; but the server catches yrs's panics on
/// purpose where bytes from the network meet it (`protocol::untrusted` refuses what
/// panics yrs's decoders, as every build with checked arithmetic can), so a panic caught
/// there is a refusal, not a crash. This hook only remembers the message; [`run`]
/// aborts on a panic that reaches the target's top, as libfuzzer-sys would.
pub fn catch_like_the_server() {
    std::panic::set_hook(Box::new(|info| {
        LAST_PANIC.with(|last| *last.borrow_mut() = info.to_string());
    }));
}

/// Runs a target on one input; a panic that escapes it is a crash: printed, then abort.
pub fn run(target: fn(&[u8]), data: &[u8]) {
    if std::panic::catch_unwind(|| target(data)).is_err() {
        let message = LAST_PANIC.with(|last| last.borrow().clone());
        eprintln!("a panic escaped the target: {message}");
        std::process::abort();
    }
}

/// A y-websocket frame as the connection task reads it; the awareness updates it holds
/// are then applied to a room's presence, as the room would.
pub fn frame(data: &[u8]) {
    let frame = Bytes::copy_from_slice(data);
    let Ok(messages) = parse_frame(&frame, Instant::now()) else {
        return;
    };
    let mut presence = Presence::default();
    for message in messages {
        if let Inbound::Awareness { update, .. } = message
            && crate::sync::presence::validate(&update).is_ok()
        {
            presence.apply(1, "fuzz", &update);
        }
    }
}

/// A document update from a client: decoded, applied to the demo draft in one
/// transaction as the room applies a batch (under the room's panic guard), then read
/// back as the exports read it.
pub fn update(data: &[u8]) {
    apply_and_read(&demo_doc(), data);
}

/// Decodes `data` as a client's update, applies it to `doc` in one transaction as the
/// room applies a batch (under the room's panic guard), then reads the document back as
/// the exports read it.
pub fn apply_and_read(doc: &Doc, data: &[u8]) {
    let Ok(update) = protocol::decode_update(data) else {
        return;
    };
    // As the room applies it: an error is logged and the room goes on; a panic inside
    // yrs is caught (`sync::quarantine`) and the room rebuilds without the update, so it
    // is not a crash of the server. What this target still finds: a panic outside that
    // net, an abort (a second panic while unwinding), a hang, a blow-up in memory.
    let applied = crate::sync::quarantine::guarded(|| doc.transact_mut().apply_update(update));
    if applied.is_ok() {
        content::render(doc, Format::Markdown);
    }
}

/// An awareness update: decoded and applied to a room's presence, announced, and
/// removed again when its connection leaves.
pub fn awareness(data: &[u8]) {
    let Ok(update) = protocol::decode_awareness(data) else {
        return;
    };
    let _ = crate::sync::presence::validate(&update);
    let mut presence = Presence::default();
    presence.apply(1, "fuzz", &update);
    presence.apply_remote(2, &update);
    presence.snapshot();
    presence.remove_conn(1);
    presence.remove_conn(2);
}

/// An anchor as two relative positions: the first byte says where the start ends and the
/// end begins. Resolved against the demo draft as a new thread's anchor is; when it
/// resolves, a change proposal on it is computed too.
pub fn anchor(data: &[u8]) {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let (start, end) = rest.split_at(usize::from(split).min(rest.len()));
    let decodes = |bytes: &[u8]| untrusted(|| StickyIndex::decode_v1(bytes)).is_some();
    if !decodes(start) || !decodes(end) {
        return;
    }
    let anchor = Anchor {
        start: start.to_vec(),
        end: end.to_vec(),
    };
    // Resolving and computing a proposal only read the document (the proposal edits a
    // scratch copy), so one draft serves every input instead of a new one per input.
    thread_local! {
        static DRAFT: Doc = demo_doc();
    }
    DRAFT.with(|doc| {
        if anchor::resolve_new(doc, &anchor).is_ok() {
            let _ = proposal::replacement(doc, &anchor, "ändrad text");
        }
    });
}

/// Markdown as `POST /api/documents` imports it, then every export of the result.
pub fn markdown(data: &[u8]) {
    if let Some(doc) = import(data) {
        for format in [Format::Markdown, Format::Html, Format::Text] {
            content::render(&doc, format);
        }
    }
}

/// A new document holding `data` imported as Markdown, or `None` if it is not UTF-8 or
/// the import refuses it.
pub fn import(data: &[u8]) -> Option<Doc> {
    let text = std::str::from_utf8(data).ok()?;
    let doc = content::new_doc();
    {
        let fragment = content::fragment(&doc);
        let mut txn = doc.transact_mut();
        import_markdown(&mut txn, &fragment, text).ok()?;
    }
    Some(doc)
}

/// A JSON request body, read into every request type of the document and comment
/// routes, each then checked as its handler checks it.
pub fn json(data: &[u8]) {
    if let Some(r) = parse::<CreateDocumentRequest>(data) {
        let _ = crate::documents::routes::check_title(&r.title);
        if let Some(markdown) = r.markdown {
            self::markdown(markdown.as_bytes());
        }
    }
    if let Some(r) = parse::<UpdateDocumentRequest>(data) {
        let _ = crate::documents::routes::check_title(&r.title);
    }
    parse::<SetMemberRequest>(data);
    if let Some(r) = parse::<CreateThreadRequest>(data) {
        let _ = check_text(&r.body, true);
        r.proposal.as_deref().map(|p| check_text(p, false));
        let _ = Anchor::decode(&r.anchor.start, &r.anchor.end);
    }
    if let Some(r) = parse::<CommentRequest>(data) {
        let _ = check_text(&r.body, true);
    }
    if let Some(r) = parse::<ResolveRequest>(data) {
        let _ = check_text(&r.motivation, false);
    }
    if let Some(r) = parse::<DecideProposalRequest>(data) {
        let _ = check_text(&r.motivation, false);
    }
    if let Some(r) = parse::<ReanchorRequest>(data) {
        let _ = Anchor::decode(&r.anchor.start, &r.anchor.end);
    }
}

fn parse<T: DeserializeOwned>(data: &[u8]) -> Option<T> {
    serde_json::from_slice(data).ok()
}

fn check_text(text: &str, required: bool) -> bool {
    crate::comments::routes::check_text(text, "text", required).is_ok()
}

/// Every committed seed of every fuzz target, replayed through its entry point: what CI
/// runs when it does not build the fuzz targets themselves, and the home of the
/// regression tests for what fuzzing finds.
#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    use super::*;
    use crate::comments::anchor::AnchorError;
    use crate::sync::protocol::ProtocolError;

    type Target = fn(&[u8]);

    const TARGETS: [(&str, Target); 6] = [
        ("frame", frame),
        ("update", update),
        ("awareness", awareness),
        ("anchor", anchor),
        ("markdown", markdown),
        ("json", json),
    ];

    #[test]
    fn every_committed_seed_runs_through_its_target() {
        let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        for (name, target) in TARGETS {
            let dir = corpus.join(name);
            let entries = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|entry| entry.map(|e| e.path()))
                .collect::<Result<Vec<_>, _>>()
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            assert!(!entries.is_empty(), "no seeds in {}", dir.display());
            for path in entries {
                let input =
                    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                target(&input);
            }
        }
    }

    /// What fuzzing found, each input as the fuzzer wrote it to `fuzz/artifacts/`. In a
    /// debug build (this test) the first three panicked inside yrs's decoders on a debug
    /// assertion; the fourth asked for a 20 GB allocation, which yrs reserves fallibly.
    #[test]
    fn inputs_found_by_fuzzing_are_refused_without_a_panic() {
        // update: a delete set whose clock range overflows u32 (yrs id_set.rs:30).
        let update = hex(
            "01038481c688030087d2ecfe8c0c00030970617261677261706807008481c68803000604\
                          0084813a88030122726170680767ffffffffffffff1f0400d2ecfe8c0c013a53ffff1f22\
                          63697461742200",
        );
        assert_eq!(
            protocol::decode_update(&update).err(),
            Some(ProtocolError::BadUpdate)
        );
        super::update(&update);
        // awareness: a client id over 53 bits (yrs ClientID::new).
        let awareness = hex("bdd0fff84300027b7d");
        assert_eq!(
            protocol::decode_awareness(&awareness).err(),
            Some(ProtocolError::BadAwareness)
        );
        super::awareness(&awareness);
        // anchor: a relative position naming a client id over 53 bits.
        let anchor = hex("0900e1ffffffffffff1e1300310100f60041");
        let start = STANDARD.encode(&anchor[1..10]);
        assert_eq!(
            Anchor::decode(&start, &start).err(),
            Some(AnchorError::NotAPosition("start"))
        );
        super::anchor(&anchor);
        // frame: an update declaring 2^32-odd values of one item's content.
        let frame =
            hex("0002240102b088d7900300878481c6880300030970617a2d6167726170680700b088d79003000600");
        assert_eq!(
            parse_frame(&Bytes::from(frame.clone()), Instant::now()).err(),
            Some(ProtocolError::BadUpdate)
        );
        super::frame(&frame);
    }

    /// Found by the update target in a release build on 2026-11-23: two client sections
    /// whose ids differ only above bit 53 became one client in yrs, and applying the
    /// update panicked in `BlockStore::push`, in the room's task, after it was stored.
    /// Debug builds refused it earlier (a debug assertion in `ClientID::new`); now every
    /// build refuses it at the boundary.
    #[test]
    fn an_update_naming_one_client_twice_is_refused() {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/open/update-integrate-panic");
        let input = std::fs::read(&path).expect("the input");
        assert!(protocol::decode_update(&input).is_err());
        super::update(&input);
    }

    /// Found by the update target in a release build on 2026-11-23 (session 3): block
    /// lengths that overflow a client's clock. A release build of yrs wrapped the clock
    /// silently, decoded blocks out of order, and committing them panicked in
    /// `BlockStore::find_index`; a debug build panics on the overflow while decoding. The
    /// workspace now builds yrs with overflow checks in release too (Cargo.toml), so
    /// both refuse it at decode. This test runs in the debug build, where the decoder
    /// always checked the addition; `scripts/fuzz` builds as the release profile does.
    #[test]
    fn an_update_whose_block_lengths_overflow_the_clock_is_refused() {
        let input = [
            1, 3, 59, 210, 236, 254, 140, 12, 0, 135, 208, 255, 248, 67, 0, 97, 103, 82, 97, 1, 0,
            17, 0, 138, 46, 0,
        ];
        assert_eq!(
            protocol::decode_update(&input).err(),
            Some(ProtocolError::BadUpdate)
        );
        super::update(&input);
    }

    fn hex(text: &str) -> Vec<u8> {
        let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|pair| {
                u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16).expect("hex")
            })
            .collect()
    }

    #[test]
    fn the_seeds_reach_past_the_decoders() {
        // A seed that does not decode only exercises the first check: the recorded
        // anchors must resolve against the draft, as they did in the browser's client.
        let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/anchor");
        let doc = demo_doc();
        let mut resolved = 0;
        for entry in std::fs::read_dir(&corpus).expect("the anchor seeds") {
            let input = std::fs::read(entry.expect("a seed").path()).expect("a seed");
            let (start, end) = input[1..].split_at(usize::from(input[0]));
            let anchor = Anchor {
                start: start.to_vec(),
                end: end.to_vec(),
            };
            resolved += usize::from(anchor::resolve_new(&doc, &anchor).is_ok());
        }
        assert!(
            resolved > 0,
            "no recorded anchor resolves against the demo draft"
        );
    }

    #[test]
    fn an_update_reaching_past_the_highest_clock_goes_through_the_target() {
        // Found by fuzz/ (target update): applied, it panicked in yrs's commit. The
        // protocol refuses it (`sync::protocol`'s tests); here the target itself runs it,
        // so the fuzzing side depends on the protocol and not the other way round.
        let found = protocol::CLOCK_PAST_MAX_UPDATE;
        assert!(protocol::decode_update(found).is_err());
        update(found);
    }
}
