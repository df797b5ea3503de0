//! Structure-aware generators for the fuzz targets `structured_update` and
//! `structured_markdown`, and the unit tests that run them without cargo-fuzz.
//!
//! The byte-mutation targets in `fuzz/` ran 10 M times without producing an update
//! nested 7,000 deep, the input that aborted the server (issue 13): a mutator flipping
//! bytes almost never writes twenty thousand well-formed array headers in a row. These
//! generators read the fuzzer's bytes as choices instead (how many clients, which kind
//! of block, how deep, how long), so every input is a well-formed v1 update or
//! Markdown text of the shape chosen, with deep `Any` nesting, deep element chains,
//! long runs and many clients among the choices. Each input then goes through what the
//! server does with it ([`crate::fuzzing::update`], the room's nesting bound,
//! [`crate::fuzzing::markdown`]).
//!
//! The choices are read with a small reader of our own rather than `arbitrary`'s
//! `Unstructured`, so the unit tests need no dependency beyond the server's.

use yrs::Transact;

use crate::sync::nesting::{self, MAX_TYPE_DEPTH, MAX_VALUE_DEPTH, ScanError};
use crate::sync::protocol::write_var;

/// Reads choices from the fuzzer's bytes; zeros once they run out.
struct Choices<'a> {
    data: &'a [u8],
    at: usize,
}

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }

    /// A number below `n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        let wide = u16::from_le_bytes([self.byte(), self.byte()]);
        usize::from(wide) % n
    }

    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }

    fn exhausted(&self) -> bool {
        self.at >= self.data.len()
    }
}

/// Depths worth trying: around each limit, and the ones that crashed.
const DEPTHS: [usize; 10] = [1, 2, 5, 31, 32, 33, 100, 1_000, 7_000, 20_000];
/// The longest element chain generated: far past the room's bound ([`MAX_TYPE_DEPTH`],
/// 128), where every longer chain takes the same path (refused before it is applied).
/// The 25,000-deep chain of issue 13 is the integration tests' (`nesting`); generating
/// it cost most of each run here.
const MAX_CHAIN: usize = 1_000;
/// Lengths of runs of text, of arrays and of element chains.
const LENGTHS: [usize; 6] = [1, 2, 10, 500, 5_000, 50_000];

/// What the server must make of a generated update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Within every bound: scanned, decoded and applied.
    Accepted,
    /// Values nested past [`MAX_VALUE_DEPTH`]: refused by the scan.
    ValuesTooDeep,
    /// Elements nested past [`MAX_TYPE_DEPTH`]: refused by the room's bound.
    TypesTooDeep,
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    write_var(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Writes an `Any` value nested `depth` levels (arrays and maps alternating as the
/// choices say) around `width` scalars.
fn write_any(out: &mut Vec<u8>, c: &mut Choices<'_>, depth: usize, width: usize) {
    for _ in 1..depth {
        if c.byte().is_multiple_of(2) {
            out.extend([117, 1]);
        } else {
            out.extend([118, 1, 1, b'k']);
        }
    }
    out.push(117);
    write_var(out, width as u64);
    for i in 0..width {
        match c.below(4) {
            0 => out.push(126),
            1 => {
                out.push(125);
                write_var(out, (i % 100) as u64);
            }
            2 => {
                out.push(119);
                write_str(out, "förankra");
            }
            _ => out.extend([123, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]),
        }
    }
}

/// A well-formed v1 update chosen by `data`, and what the server must make of it.
pub fn update_of(data: &[u8]) -> (Vec<u8>, Expected) {
    let mut c = Choices { data, at: 0 };
    let mut out = Vec::new();
    let mut expected = Expected::Accepted;
    let clients = 1 + c.below(6);
    write_var(&mut out, clients as u64);
    for client in 0..clients {
        let id = 1_000 + client as u64 * 7;
        let (count, body) = client_blocks(&mut c, id, &mut expected);
        write_var(&mut out, count as u64);
        write_var(&mut out, id);
        write_var(&mut out, 0);
        out.extend(body);
    }
    // A delete set of a few ranges.
    let ranges = c.below(3);
    write_var(&mut out, u64::from(ranges > 0));
    if ranges > 0 {
        write_var(&mut out, 1_000);
        write_var(&mut out, ranges as u64);
        for r in 0..ranges {
            write_var(&mut out, r as u64 * 10);
            write_var(&mut out, 1 + c.below(5) as u64);
        }
    }
    (out, expected)
}

/// One client's blocks from clock 0: how many, and their encoding.
fn client_blocks(c: &mut Choices<'_>, id: u64, expected: &mut Expected) -> (usize, Vec<u8>) {
    let mut out = Vec::new();
    let mut count = 0;
    let mut clock: u32 = 0;
    // The clock of the last element this client made, for children.
    let mut last_element: Option<u32> = None;
    for _ in 0..1 + c.below(5) {
        count += 1;
        match c.below(5) {
            0 => {
                // An `Any` value in a root array.
                let depth = c.pick(&DEPTHS);
                let width = c.pick(&LENGTHS).min(5_000);
                if depth > MAX_VALUE_DEPTH {
                    *expected = Expected::ValuesTooDeep;
                }
                out.push(8);
                write_var(&mut out, 1);
                write_str(&mut out, "a");
                write_var(&mut out, 1);
                write_any(&mut out, c, depth, width);
                clock += 1;
            }
            1 => {
                // A long run of text in a root text.
                let len = c.pick(&LENGTHS);
                out.push(4);
                write_var(&mut out, 1);
                write_str(&mut out, "t");
                write_str(&mut out, &"ö".repeat(len));
                clock += len as u32;
            }
            2 => {
                // An element at the root, or under this client's last one.
                out.push(7);
                match last_element.filter(|_| c.byte().is_multiple_of(2)) {
                    Some(parent) => {
                        write_var(&mut out, 0);
                        write_var(&mut out, id);
                        write_var(&mut out, u64::from(parent));
                    }
                    None => {
                        write_var(&mut out, 1);
                        write_str(&mut out, "default");
                    }
                }
                out.push(3);
                write_str(&mut out, "paragraph");
                last_element = Some(clock);
                clock += 1;
            }
            3 => {
                // A format attribute whose JSON nests as deep as chosen.
                let depth = c.pick(&DEPTHS).min(120);
                if depth > MAX_VALUE_DEPTH {
                    *expected = Expected::ValuesTooDeep;
                }
                out.push(6);
                write_var(&mut out, 1);
                write_str(&mut out, "t");
                write_str(&mut out, "bold");
                let json = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
                write_str(&mut out, &json);
                clock += 1;
            }
            _ => {
                // A chain of elements, each the only child of the one before.
                let depth = c.pick(&DEPTHS).min(MAX_CHAIN);
                if depth > MAX_TYPE_DEPTH && *expected == Expected::Accepted {
                    *expected = Expected::TypesTooDeep;
                }
                let chain = nesting::hostile::nested_elements(id, clock, "default", depth, "div");
                // Keep the blocks: drop the update's header and its empty delete set.
                let header = 1 + var_len(depth as u64) + var_len(id) + var_len(u64::from(clock));
                out.extend_from_slice(&chain[header..chain.len() - 1]);
                count += depth - 1;
                last_element = Some(clock + depth as u32 - 1);
                clock += depth as u32;
            }
        }
    }
    (count, out)
}

fn var_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}

/// The `structured_update` target: a generated update through the server's path (the
/// scan, yrs's decoder, the room's nesting bound against the demo draft, applying,
/// rendering). Panics if the scan and the generator disagree on what must be refused.
pub fn update(data: &[u8]) {
    let (bytes, expected) = update_of(data);
    let scanned = nesting::scan_update_v1(&bytes);
    match (expected, &scanned) {
        (Expected::ValuesTooDeep, Err(ScanError::ValuesTooDeep)) => return,
        (Expected::ValuesTooDeep, other) => panic!("deep values passed the scan: {other:?}"),
        (_, Err(error)) => panic!("a well-formed update was refused: {error}"),
        (_, Ok(_)) => {}
    }
    let Ok(shape) = scanned else { return };
    // The bound only reads the draft, so one copy serves every input.
    thread_local! {
        static DRAFT: yrs::Doc = crate::fuzzing::demo_doc();
    }
    let depths = DRAFT.with(|doc| {
        let txn = doc.transact();
        shape.type_depths(|id| nesting::parent_depth_in(&txn, id))
    });
    match (expected, depths) {
        (Expected::TypesTooDeep, Err(ScanError::TypesTooDeep)) => {}
        (Expected::TypesTooDeep, other) => panic!("a deep chain passed the bound: {other:?}"),
        (_, Err(error)) => panic!("a shallow update was refused: {error}"),
        // Applied to an empty document: a generated update refers to nothing of the
        // draft's (its parents are roots or its own elements), and copying the draft
        // for every input cost most of each run.
        (_, Ok(_)) => crate::fuzzing::apply_and_read(&crate::documents::content::new_doc(), &bytes),
    }
}

/// Pieces of Markdown that nest, repeat or run long.
const PIECES: [&str; 12] = [
    "> ",
    "- ",
    "1. ",
    "# a\n",
    "## Rubrik\n\n",
    "*a",
    "**b**",
    "[l](https://e.se) ",
    "`k`",
    "\n\n",
    "text ",
    "  \n",
];

/// How long a generated Markdown text grows in the fuzz target. Deep nesting (512
/// levels of `> `, ten times the import's own cap of 48) and long runs are within it;
/// sizes up to the 2 MB import limit are the integration tests' (`markdown_import`),
/// where one input a second is enough, while a fuzzer needs thousands.
pub const FUZZ_MARKDOWN_BYTES: usize = 1024;

/// Markdown chosen by `data`: pieces repeated up to tens of thousands of times, until
/// the text reaches `cap` bytes.
pub fn markdown_of(data: &[u8], cap: usize) -> String {
    let mut c = Choices { data, at: 0 };
    let mut text = String::new();
    while !c.exhausted() && text.len() < cap {
        let piece = c.pick(&PIECES);
        // No piece runs past the cap by more than itself.
        let room = (cap - text.len()).div_ceil(piece.len());
        let times = c.pick(&LENGTHS).min(20_000).min(room);
        text.push_str(&piece.repeat(times));
    }
    text
}

/// The `structured_markdown` target: generated Markdown imported as
/// `POST /api/documents` does, and one export of the result, chosen by the input (the
/// three read the same tree; one per run triples the runs).
pub fn markdown(data: &[u8]) {
    use crate::documents::content::{self, Format};
    let format = match data.first().map(|b| b % 3) {
        Some(0) => Format::Html,
        Some(1) => Format::Text,
        _ => Format::Markdown,
    };
    let text = markdown_of(data, FUZZ_MARKDOWN_BYTES);
    if let Some(doc) = crate::fuzzing::import(text.as_bytes()) {
        content::render(&doc, format);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: a fixed sequence of inputs, the same in every run.
    fn inputs(count: usize, len: usize) -> impl Iterator<Item = Vec<u8>> {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..count).map(move |_| {
            (0..len)
                .map(|_| {
                    state ^= state >> 12;
                    state ^= state << 25;
                    state ^= state >> 27;
                    (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
                })
                .collect()
        })
    }

    #[test]
    fn generated_updates_get_what_their_shape_deserves() {
        let mut seen = [0usize; 3];
        for data in inputs(3_000, 48) {
            let (_, expected) = update_of(&data);
            seen[expected as usize] += 1;
            update(&data);
        }
        assert!(
            seen.iter().all(|&n| n > 100),
            "every outcome is exercised: {seen:?}"
        );
    }

    #[test]
    fn generated_markdown_imports_or_is_refused_whole() {
        for data in inputs(100, 8) {
            markdown(&data);
        }
        // The fuzz target stops at 1 KiB; a few texts grow to the import's 2 MB limit.
        for data in inputs(5, 8) {
            crate::fuzzing::markdown(markdown_of(&data, 2 * 1024 * 1024).as_bytes());
        }
    }
}
