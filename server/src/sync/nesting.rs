//! A structural scan of a v1 update, run before yrs is allowed to decode it.
//!
//! yrs decodes `Any` values (content ref 8, and the options of a sub-document) with a
//! recursive function and no depth limit, and a stack overflow aborts the process:
//! `catch_unwind` cannot catch it. A 40 KB update holding an array nested 20,000 deep
//! took every room on a node down, from a viewer, because decoding precedes the role
//! check (issue 13, item 1; 5,000 levels survived a tokio worker's 2 MiB stack, 7,000
//! did not). This module walks the same bytes with an explicit stack instead, in the
//! order and with the primitives yrs's `DecoderV1` uses (`yrs::encoding::read::Cursor`),
//! so what it passes is exactly what yrs will read, and refuses:
//! - values nested deeper than [`MAX_VALUE_DEPTH`] (binary `Any` and the JSON texts of
//!   embeds and format attributes alike);
//! - counts larger than the bytes left could hold (yrs reserves memory for them first);
//! - content kinds the ProseMirror tree never uses and yrs decodes into more machinery
//!   (weak links);
//! - anything that does not parse.
//!
//! Along the way it records each block's id, origins and parent, which is what
//! [`Shape::type_depths`] needs to bound how deep the new XML elements would hang in the
//! document (issue 13, item 3): nesting of elements is not visible in the bytes
//! themselves, only through the parent ids.
//!
//! Awareness payloads need no such scan: yrs keeps their JSON as a string, and
//! `sync::presence::validate` parses each state (at most 16 KiB) with serde_json's
//! recursion limit before anything is relayed.

use std::collections::HashMap;

use yrs::encoding::read::{Cursor, Read};
use yrs::types::xml::{Xml, XmlOut};
use yrs::{Assoc, ClientID, ID, ReadTxn, StickyIndex};

use crate::sync::authorship::Written;

/// Deepest nesting of values (arrays and maps) accepted in an update. Tiptap and
/// ProseMirror store flat attributes (a heading's level, a link's href and target), and
/// even JSON-valued custom attributes stay a handful of levels deep, so 32 leaves ample
/// room; yrs recursion that deep uses a few kilobytes of stack.
pub const MAX_VALUE_DEPTH: usize = 32;

/// Deepest nesting of shared types (XML elements and text, and any other type) below a
/// root such as the `default` fragment. ProseMirror documents nest by structure: a list
/// item inside a list inside a blockquote is six levels; even forty levels of indented
/// lists stay under 100. yrs deletes and garbage-collects a type's children recursively
/// and every renderer walks the tree, so the bound keeps all of them far from the stack's
/// end (25,000 levels crashed the report).
pub const MAX_TYPE_DEPTH: usize = 128;

/// Why an update was refused before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("the update does not parse")]
    Malformed,
    #[error("the update declares more entries than it holds")]
    ImplausibleCount,
    #[error("values in the update are nested deeper than {MAX_VALUE_DEPTH} levels")]
    ValuesTooDeep,
    #[error("the update uses a content kind documents do not hold")]
    UnsupportedContent,
    #[error("elements in the update would nest deeper than {MAX_TYPE_DEPTH} levels")]
    TypesTooDeep,
    #[error("the document nests deeper than {MAX_TYPE_DEPTH} levels and is read-only")]
    DocumentTooDeep,
}

/// A block's id: the client and the clock of its first element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockId {
    pub client: u64,
    pub clock: u32,
}

/// Where a block says it hangs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// A root type named in the update (such as `default`).
    Root,
    /// The shared type created by the block holding this id.
    Type(BlockId),
    /// Not written: the same parent as the block's left (or else right) origin.
    Inherited,
}

/// What the scan learnt about one item block.
#[derive(Debug, Clone, Copy)]
pub struct ItemShape {
    pub id: BlockId,
    /// Number of clock ticks the block spans.
    pub len: u32,
    pub origin: Option<BlockId>,
    pub right_origin: Option<BlockId>,
    pub parent: Parent,
    /// Whether the block creates a shared type (an element, a text, a map...).
    pub is_type: bool,
}

/// The item blocks of a scanned update, in the order they were written.
#[derive(Debug, Default)]
pub struct Shape {
    pub items: Vec<ItemShape>,
    /// Each client section of the update with the clock its structs end at: what the
    /// room's authorship check needs (`sync::authorship`), read in the same pass.
    pub written: Vec<Written>,
}

/// Scans a v1 update; `Ok` means yrs's decoder will not recurse deeper than
/// [`MAX_VALUE_DEPTH`] on it nor reserve memory for entries that are not there.
pub fn scan_update_v1(raw: &[u8]) -> Result<Shape, ScanError> {
    let mut cur = Cursor::new(raw);
    let mut shape = Shape::default();
    let clients: u32 = cur.read_var().map_err(|_| ScanError::Malformed)?;
    // A section holds at least a block count, a client and a clock.
    plausible(&cur, raw, clients as usize, 3)?;
    for _ in 0..clients {
        let blocks: u32 = cur.read_var().map_err(|_| ScanError::Malformed)?;
        let client: u64 = cur.read_var().map_err(|_| ScanError::Malformed)?;
        let mut clock: u32 = cur.read_var().map_err(|_| ScanError::Malformed)?;
        plausible(&cur, raw, blocks as usize, 2)?;
        for _ in 0..blocks {
            let id = BlockId { client, clock };
            let len = scan_block(&mut cur, id, &mut shape)?;
            clock = clock.checked_add(len).ok_or(ScanError::Malformed)?;
        }
        if blocks > 0 {
            shape.written.push(Written { client, end: clock });
        }
    }
    scan_delete_set(&mut cur, raw)?;
    Ok(shape)
}

/// Fails unless `count` entries of at least `min_entry` bytes fit in what is left.
fn plausible(
    cur: &Cursor<'_>,
    raw: &[u8],
    count: usize,
    min_entry: usize,
) -> Result<(), ScanError> {
    let rest = raw.len() - cur.next;
    if count.saturating_mul(min_entry) <= rest {
        Ok(())
    } else {
        Err(ScanError::ImplausibleCount)
    }
}

const HAS_ORIGIN: u8 = 0b1000_0000;
const HAS_RIGHT_ORIGIN: u8 = 0b0100_0000;
const HAS_PARENT_SUB: u8 = 0b0010_0000;
const GC: u8 = 0;
const SKIP: u8 = 10;

/// Scans one block (as yrs's `Update::decode_block`), returning its clock length.
fn scan_block(cur: &mut Cursor<'_>, id: BlockId, shape: &mut Shape) -> Result<u32, ScanError> {
    let info = cur.read_u8().map_err(|_| ScanError::Malformed)?;
    if info == GC || info == SKIP {
        let len: u32 = cur.read_var().map_err(|_| ScanError::Malformed)?;
        return if len == 0 {
            Err(ScanError::Malformed)
        } else {
            Ok(len)
        };
    }
    let origin = (info & HAS_ORIGIN != 0).then(|| read_id(cur)).transpose()?;
    let right_origin = (info & HAS_RIGHT_ORIGIN != 0)
        .then(|| read_id(cur))
        .transpose()?;
    let mut parent = Parent::Inherited;
    if info & (HAS_ORIGIN | HAS_RIGHT_ORIGIN) == 0 {
        let named: u32 = cur.read_var().map_err(|_| ScanError::Malformed)?;
        parent = if named == 1 {
            cur.read_string().map_err(|_| ScanError::Malformed)?;
            Parent::Root
        } else {
            Parent::Type(read_id(cur)?)
        };
        if info & HAS_PARENT_SUB != 0 {
            cur.read_string().map_err(|_| ScanError::Malformed)?;
        }
    }
    let (len, is_type) = scan_content(cur, info)?;
    if len > 0 {
        shape.items.push(ItemShape {
            id,
            len,
            origin,
            right_origin,
            parent,
            is_type,
        });
    }
    Ok(len)
}

fn read_id(cur: &mut Cursor<'_>) -> Result<BlockId, ScanError> {
    let client: u64 = cur.read_var().map_err(|_| ScanError::Malformed)?;
    let clock: u32 = cur.read_var().map_err(|_| ScanError::Malformed)?;
    Ok(BlockId { client, clock })
}

/// Scans an item's content (as yrs's `ItemContent::decode`): its clock length and
/// whether it creates a shared type.
fn scan_content(cur: &mut Cursor<'_>, info: u8) -> Result<(u32, bool), ScanError> {
    let malformed = |_| ScanError::Malformed;
    match info & 0b1111 {
        // Deleted content: a length.
        1 => Ok((cur.read_var().map_err(malformed)?, false)),
        // JSON strings, kept as text; yrs reads one more than the count it is given.
        2 => {
            let count: u32 = cur.read_var().map_err(malformed)?;
            let total = count.checked_add(1).ok_or(ScanError::ImplausibleCount)?;
            if total as usize > cur.buf.len() - cur.next {
                return Err(ScanError::ImplausibleCount);
            }
            for _ in 0..total {
                cur.read_string().map_err(malformed)?;
            }
            Ok((total, false))
        }
        3 => cur.read_buf().map(|_| (1, false)).map_err(malformed),
        4 => {
            let text = cur.read_string().map_err(malformed)?;
            Ok((text.encode_utf16().count() as u32, false))
        }
        // An embed: JSON, parsed by yrs into an `Any`.
        5 => {
            json_depth_ok(cur.read_string().map_err(malformed)?)?;
            Ok((1, false))
        }
        // A format attribute: a key and a JSON value.
        6 => {
            cur.read_string().map_err(malformed)?;
            json_depth_ok(cur.read_string().map_err(malformed)?)?;
            Ok((1, false))
        }
        7 => {
            scan_type_ref(cur)?;
            Ok((1, true))
        }
        8 => {
            let count: u32 = cur.read_var().map_err(malformed)?;
            if count as usize > cur.buf.len() - cur.next {
                return Err(ScanError::ImplausibleCount);
            }
            for _ in 0..count {
                skip_any(cur)?;
            }
            Ok((count, false))
        }
        // A sub-document: its guid and options.
        9 => {
            cur.read_string().map_err(malformed)?;
            skip_any(cur)?;
            Ok((1, false))
        }
        _ => Err(ScanError::Malformed),
    }
}

/// A type reference (as yrs's `TypeRef::decode`): one byte, XML elements and hooks
/// followed by their name. Weak links (7) carry more encoded state and no ProseMirror
/// document has one, so they are refused rather than scanned.
fn scan_type_ref(cur: &mut Cursor<'_>) -> Result<(), ScanError> {
    match cur.read_u8().map_err(|_| ScanError::Malformed)? {
        3 => cur
            .read_string()
            .map(|_| ())
            .map_err(|_| ScanError::Malformed),
        0 | 1 | 2 | 4 | 5 | 6 | 9 | 15 => Ok(()),
        7 => Err(ScanError::UnsupportedContent),
        _ => Err(ScanError::Malformed),
    }
}

/// One container being read by [`skip_any`]: how many values it still holds.
struct Open {
    left: usize,
    map: bool,
}

/// Skips one lib0 `Any` value (tags 116–127, as yrs's `Any::decode`) without recursion.
fn skip_any(cur: &mut Cursor<'_>) -> Result<(), ScanError> {
    let malformed = |_| ScanError::Malformed;
    let mut open: Vec<Open> = Vec::new();
    loop {
        match cur.read_u8().map_err(malformed)? {
            127 | 126 | 121 | 120 => {}
            125 => {
                cur.read_var::<i64>().map_err(malformed)?;
            }
            124 => {
                cur.read_exact(4).map_err(malformed)?;
            }
            123 | 122 => {
                cur.read_exact(8).map_err(malformed)?;
            }
            119 => {
                cur.read_string().map_err(malformed)?;
            }
            116 => {
                cur.read_buf().map_err(malformed)?;
            }
            tag @ (117 | 118) => {
                if open.len() >= MAX_VALUE_DEPTH {
                    return Err(ScanError::ValuesTooDeep);
                }
                let left: usize = cur.read_var().map_err(malformed)?;
                let map = tag == 118;
                // A value takes a byte at least, a map entry two (key length and value).
                let min_entry = if map { 2 } else { 1 };
                if left.saturating_mul(min_entry) > cur.buf.len() - cur.next {
                    return Err(ScanError::ImplausibleCount);
                }
                open.push(Open { left, map });
            }
            _ => return Err(ScanError::Malformed),
        }
        // Move to the next value: the next entry of the innermost open container.
        loop {
            let Some(top) = open.last_mut() else {
                return Ok(());
            };
            if top.left == 0 {
                open.pop();
                continue;
            }
            top.left -= 1;
            if top.map {
                cur.read_string().map_err(malformed)?;
            }
            break;
        }
    }
}

/// Fails if a JSON text nests arrays and objects deeper than [`MAX_VALUE_DEPTH`].
/// serde_json (which yrs parses it with) stops at 128 levels itself, but the `Any` it
/// builds would still be deeper than a binary one may be.
fn json_depth_ok(text: &str) -> Result<(), ScanError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for byte in text.bytes() {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_VALUE_DEPTH {
                    return Err(ScanError::ValuesTooDeep);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The delete set (as yrs's `IdSet::decode`): per client, a count of clock ranges.
fn scan_delete_set(cur: &mut Cursor<'_>, raw: &[u8]) -> Result<(), ScanError> {
    let malformed = |_| ScanError::Malformed;
    let clients: u32 = cur.read_var().map_err(malformed)?;
    plausible(cur, raw, clients as usize, 2)?;
    for _ in 0..clients {
        let _client: u64 = cur.read_var().map_err(malformed)?;
        let ranges: u32 = cur.read_var().map_err(malformed)?;
        plausible(cur, raw, ranges as usize, 2)?;
        for _ in 0..ranges {
            let _clock: u32 = cur.read_var().map_err(malformed)?;
            let _len: u32 = cur.read_var().map_err(malformed)?;
        }
    }
    Ok(())
}

impl Shape {
    /// How deep each new shared type of the update would hang: fails with
    /// [`ScanError::TypesTooDeep`] if one would nest deeper than [`MAX_TYPE_DEPTH`],
    /// otherwise gives every new type's depth (1 for a block of a root fragment).
    ///
    /// `parent_depth_outside(id)` answers, for a block already in the document, the
    /// depth of the type it lives in (0 for a root), or `None` if the document does not
    /// know that id; unknown parents count as roots, so a chain of updates whose
    /// dependencies are all missing is not bounded here (the renderers bound their own
    /// walks). Each block's parent is resolved once, following the origins of blocks
    /// that inherit their parent, with an explicit stack: linear in the update plus one
    /// `parent_depth_outside` call per distinct outside id reached from a new type.
    pub fn type_depths(
        &self,
        mut parent_depth_outside: impl FnMut(BlockId) -> Option<usize>,
    ) -> Result<HashMap<BlockId, usize>, ScanError> {
        let index = BlockIndex::new(&self.items);
        let mut outside: HashMap<BlockId, usize> = HashMap::new();
        let mut outside_depth = |id: BlockId| {
            *outside
                .entry(id)
                .or_insert_with(|| parent_depth_outside(id).unwrap_or(0))
        };
        // The depth of the type each block lives in, and whether it is being resolved.
        let mut parent_depth: Vec<Option<usize>> = vec![None; self.items.len()];
        let mut visiting = vec![false; self.items.len()];
        let mut depths = HashMap::new();
        // Only new types need a depth; other blocks are resolved when a type's parent is
        // found through them, so typing into existing text looks nothing up.
        for start in (0..self.items.len()).filter(|&i| self.items[i].is_type) {
            let mut stack = vec![start];
            while let Some(&at) = stack.last() {
                if parent_depth[at].is_some() {
                    stack.pop();
                    continue;
                }
                visiting[at] = true;
                let item = &self.items[at];
                let dep = match item.parent {
                    Parent::Root => Dep::Known(0),
                    Parent::Type(id) => match index.find(id) {
                        Some(p) if self.items[p].is_type => Dep::Below(p, 1),
                        Some(_) => Dep::Known(0),
                        None => Dep::Known(outside_depth(id) + 1),
                    },
                    Parent::Inherited => match item.origin.or(item.right_origin) {
                        None => Dep::Known(0),
                        Some(n) => match index.find(n) {
                            Some(j) => Dep::Below(j, 0),
                            None => Dep::Known(outside_depth(n)),
                        },
                    },
                };
                match dep {
                    Dep::Known(depth) => {
                        parent_depth[at] = Some(depth);
                        stack.pop();
                    }
                    Dep::Below(j, plus) => match parent_depth[j] {
                        Some(depth) => {
                            parent_depth[at] = Some(depth + plus);
                            stack.pop();
                        }
                        // A cycle of origins or parents: yrs cannot integrate it.
                        None if visiting[j] => {
                            parent_depth[at] = Some(0);
                            stack.pop();
                        }
                        None => stack.push(j),
                    },
                }
            }
            let own = parent_depth[start].unwrap_or(0) + 1;
            if own > MAX_TYPE_DEPTH {
                return Err(ScanError::TypesTooDeep);
            }
            depths.insert(self.items[start].id, own);
        }
        Ok(depths)
    }
}

/// A block's parent depth: known, or `plus` more than that of the block at an index.
enum Dep {
    Known(usize),
    Below(usize, usize),
}

/// Finds the block holding a clock of a client among an update's items.
struct BlockIndex {
    /// Per client, (first clock, last clock + 1, item index), sorted by clock.
    by_client: HashMap<u64, Vec<(u32, u32, usize)>>,
}

impl BlockIndex {
    fn new(items: &[ItemShape]) -> Self {
        let mut by_client: HashMap<u64, Vec<(u32, u32, usize)>> = HashMap::new();
        for (i, item) in items.iter().enumerate() {
            by_client.entry(item.id.client).or_default().push((
                item.id.clock,
                item.id.clock.saturating_add(item.len),
                i,
            ));
        }
        for ranges in by_client.values_mut() {
            ranges.sort_unstable();
        }
        Self { by_client }
    }

    fn find(&self, id: BlockId) -> Option<usize> {
        let ranges = self.by_client.get(&id.client)?;
        let after = ranges.partition_point(|&(start, _, _)| start <= id.clock);
        let &(start, end, i) = ranges.get(after.checked_sub(1)?)?;
        (start <= id.clock && id.clock < end).then_some(i)
    }
}

/// The depth of the type that the block holding `id` lives in, in the document `txn`
/// reads (0 for a root such as `default`), or `None` if the document lacks that block.
/// Walks up through XML parents, one step per level: O(depth) once the block is found.
/// A block inside a non-XML type (a map, an array) counts as at the root: ProseMirror
/// trees are XML all the way down, and nothing renders the others.
pub fn parent_depth_in(txn: &impl ReadTxn, id: BlockId) -> Option<usize> {
    let id = ID::new(ClientID::new(id.client), id.clock);
    let offset = StickyIndex::from_id(id, Assoc::After).get_offset(txn)?;
    let mut node = XmlOut::try_from(offset.branch).ok();
    let mut depth = 0;
    while let Some(parent) = node.and_then(|n| match n {
        XmlOut::Element(e) => e.parent(),
        XmlOut::Text(t) => t.parent(),
        XmlOut::Fragment(f) => f.parent(),
    }) {
        depth += 1;
        if depth > MAX_TYPE_DEPTH {
            // Deep enough to refuse whatever hangs below; no need to walk further.
            break;
        }
        node = Some(parent);
    }
    Some(depth)
}

/// Whether the document's `default` tree nests deeper than [`MAX_TYPE_DEPTH`], walked
/// with an explicit stack. Only a document stored before the bound can: yrs deletes and
/// garbage-collects a type's children recursively, so editing such a tree could still
/// overflow the room's stack, and its room keeps it read-only (see `sync::room`).
pub fn tree_too_deep(doc: &yrs::Doc) -> bool {
    use yrs::{Transact, XmlFragment};
    let txn = doc.transact();
    let Some(fragment) = txn.get_xml_fragment(crate::sync::crdt::FRAGMENT) else {
        return false;
    };
    let mut stack: Vec<(XmlOut, usize)> = fragment.children(&txn).map(|c| (c, 1)).collect();
    while let Some((node, depth)) = stack.pop() {
        if depth > MAX_TYPE_DEPTH {
            return true;
        }
        if let XmlOut::Element(element) = node {
            stack.extend(element.children(&txn).map(|c| (c, depth + 1)));
        }
    }
    false
}

/// Hand-encoded hostile updates, for the tests and the fuzz targets: built byte by byte
/// because yrs's own encoder recurses as deep as its decoder does.
pub mod hostile {
    use crate::sync::protocol::write_var;

    fn write_str(out: &mut Vec<u8>, s: &str) {
        write_var(out, s.len() as u64);
        out.extend_from_slice(s.as_bytes());
    }

    /// A v1 update from `client` at clock 0 putting one `Any` value into the root array
    /// `root`: an array nested `depth` levels deep, whose innermost level holds `width`
    /// integers. `depth` 1 with a large `width` is long but shallow.
    pub fn nested_any(client: u64, root: &str, depth: usize, width: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(2 * depth + width + 32);
        write_var(&mut out, 1); // one client section
        write_var(&mut out, 1); // one block
        write_var(&mut out, client);
        write_var(&mut out, 0); // clock
        out.push(8); // an item with `Any` content, no origins: the parent follows
        write_var(&mut out, 1); // the parent is a named root
        write_str(&mut out, root);
        write_var(&mut out, 1); // one value
        for _ in 1..depth.max(1) {
            out.extend([117, 1]); // an array of one element
        }
        out.push(117);
        write_var(&mut out, width as u64);
        for i in 0..width {
            out.push(125);
            write_var(&mut out, (i % 64) as u64);
        }
        write_var(&mut out, 0); // an empty delete set
        out
    }

    /// A v1 update from `client` at clock `clock` putting into the root fragment `root`
    /// a chain of `depth` XML elements named `name`, each the only child of the one
    /// before: the shape a Tiptap document never has, but an editor could send.
    pub fn nested_elements(
        client: u64,
        clock: u32,
        root: &str,
        depth: usize,
        name: &str,
    ) -> Vec<u8> {
        chain(client, clock, Err(root), depth, name)
    }

    /// As [`nested_elements`], with the chain hanging under the element that the block
    /// `(client, clock)` created.
    pub fn nested_elements_under(
        client: u64,
        clock: u32,
        parent: (u64, u32),
        depth: usize,
        name: &str,
    ) -> Vec<u8> {
        chain(client, clock, Ok(parent), depth, name)
    }

    fn chain(
        client: u64,
        clock: u32,
        top: Result<(u64, u32), &str>,
        depth: usize,
        name: &str,
    ) -> Vec<u8> {
        let mut out = Vec::with_capacity(depth * (name.len() + 12) + 32);
        write_var(&mut out, 1);
        write_var(&mut out, depth as u64);
        write_var(&mut out, client);
        write_var(&mut out, u64::from(clock));
        for i in 0..depth {
            out.push(7); // an item creating a type, no origins: the parent follows
            let parent = match (i, top) {
                (0, Err(root)) => {
                    write_var(&mut out, 1); // a named root
                    write_str(&mut out, root);
                    continue_with_type(&mut out, name);
                    continue;
                }
                (0, Ok(parent)) => parent,
                (_, _) => (client, clock + i as u32 - 1),
            };
            write_var(&mut out, 0); // the parent is the type made by this id
            write_var(&mut out, parent.0);
            write_var(&mut out, u64::from(parent.1));
            continue_with_type(&mut out, name);
        }
        write_var(&mut out, 0);
        out
    }

    /// An XML element type reference, with its name.
    fn continue_with_type(out: &mut Vec<u8>, name: &str) {
        out.push(3);
        write_str(out, name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yrs::updates::decoder::Decode;
    use yrs::{
        Array, Doc, GetString, Text, Transact, Update, XmlElementPrelim, XmlFragment, XmlTextPrelim,
    };

    fn decodes(raw: &[u8]) -> bool {
        crate::sync::protocol::untrusted(|| Update::decode_v1(raw)).is_some()
    }

    #[test]
    fn values_nested_past_the_limit_are_refused_before_yrs_sees_them() {
        for depth in [MAX_VALUE_DEPTH + 1, 7_000, 20_000] {
            let raw = hostile::nested_any(7, "a", depth, 1);
            assert_eq!(
                scan_update_v1(&raw).err(),
                Some(ScanError::ValuesTooDeep),
                "{depth}"
            );
        }
    }

    #[test]
    fn values_at_the_limit_and_long_flat_ones_pass_and_decode() {
        for (depth, width) in [(1, 0), (1, 50_000), (MAX_VALUE_DEPTH, 3)] {
            let raw = hostile::nested_any(7, "a", depth, width);
            assert!(scan_update_v1(&raw).is_ok(), "{depth}×{width}");
            let doc = Doc::new();
            let array = doc.get_or_insert_array("a");
            let mut txn = doc.transact_mut();
            txn.apply_update(Update::decode_v1(&raw).expect("decodes"))
                .expect("applies");
            assert_eq!(array.len(&txn), 1);
        }
    }

    #[test]
    fn counts_larger_than_the_bytes_left_are_refused() {
        // An array declaring 2^28 elements in four bytes.
        let mut raw = hostile::nested_any(7, "a", 1, 0);
        let at = raw.len() - 2; // the width 0 before the delete set
        raw.splice(at..at + 1, [0xff, 0xff, 0xff, 0x7f]);
        assert_eq!(
            scan_update_v1(&raw).err(),
            Some(ScanError::ImplausibleCount)
        );
        assert_eq!(
            scan_update_v1(&[0xff, 0xff, 0xff, 0x7f]).err(),
            Some(ScanError::ImplausibleCount)
        );
    }

    #[test]
    fn json_nesting_is_bounded_and_strings_do_not_count() {
        assert!(json_depth_ok(&"[".repeat(MAX_VALUE_DEPTH)).is_ok());
        assert_eq!(
            json_depth_ok(&"[".repeat(MAX_VALUE_DEPTH + 1)),
            Err(ScanError::ValuesTooDeep)
        );
        let quoted = format!("{{\"k\": \"{}\\\"\"}}", "[".repeat(1_000));
        assert!(json_depth_ok(&quoted).is_ok());
    }

    #[test]
    fn the_scan_agrees_with_yrs_on_every_recorded_update() {
        let corpus =
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus/update");
        let mut checked = 0;
        for entry in std::fs::read_dir(&corpus).expect("the update seeds") {
            let raw = std::fs::read(entry.expect("a seed").path()).expect("a seed");
            if decodes(&raw) {
                assert_eq!(scan_update_v1(&raw).err(), None, "{raw:?}");
                checked += 1;
            }
        }
        assert!(checked >= 5, "only {checked} seeds decode");
    }

    #[test]
    fn a_real_document_scans_and_its_element_depths_are_counted() {
        let doc = Doc::new();
        let frag = doc.get_or_insert_xml_fragment("default");
        let mut txn = doc.transact_mut();
        let list = frag.insert(&mut txn, 0, XmlElementPrelim::empty("bulletList"));
        let item = list.insert(&mut txn, 0, XmlElementPrelim::empty("listItem"));
        let para = item.insert(&mut txn, 0, XmlElementPrelim::empty("paragraph"));
        para.insert(&mut txn, 0, XmlTextPrelim::new("Förankra"));
        frag.insert(&mut txn, 1, XmlElementPrelim::empty("paragraph"));
        let raw = txn.encode_update_v1();
        drop(txn);
        let shape = scan_update_v1(&raw).expect("scans");
        let depths = shape.type_depths(|_| None).expect("shallow");
        let mut found: Vec<usize> = depths.values().copied().collect();
        found.sort_unstable();
        assert_eq!(found, [1, 1, 2, 3, 4]);
        assert!(frag.get_string(&doc.transact()).contains("Förankra"));
    }

    #[test]
    fn only_new_types_look_up_the_document_once_per_outside_id() {
        let doc = Doc::new();
        let frag = doc.get_or_insert_xml_fragment("default");
        let para = frag.insert(&mut doc.transact_mut(), 0, XmlElementPrelim::empty("p"));
        let text = para.insert(&mut doc.transact_mut(), 0, XmlTextPrelim::new("ab"));
        // Typing into existing text: no lookup.
        let typed = {
            let mut txn = doc.transact_mut();
            text.insert(&mut txn, 1, "x");
            text.insert(&mut txn, 3, "y");
            txn.encode_update_v1()
        };
        let mut calls = 0;
        let depths = scan_update_v1(&typed)
            .expect("scans")
            .type_depths(|_| {
                calls += 1;
                Some(0)
            })
            .expect("shallow");
        assert!(depths.is_empty());
        assert_eq!(calls, 0);
        // Three paragraphs after the first: one lookup, through the origins' chain.
        let added = {
            let mut txn = doc.transact_mut();
            for i in 1..4 {
                frag.insert(&mut txn, i, XmlElementPrelim::empty("p"));
            }
            txn.encode_update_v1()
        };
        let mut calls = 0;
        let depths = scan_update_v1(&added)
            .expect("scans")
            .type_depths(|_| {
                calls += 1;
                Some(0)
            })
            .expect("shallow");
        assert_eq!(depths.len(), 3);
        assert!(depths.values().all(|&d| d == 1));
        assert_eq!(calls, 1);
    }

    #[test]
    fn elements_nested_past_the_limit_are_refused_and_chains_resolve_linearly() {
        let ok = hostile::nested_elements(9, 0, "default", MAX_TYPE_DEPTH, "p");
        let depths = scan_update_v1(&ok).expect("scans").type_depths(|_| None);
        assert_eq!(depths.expect("at the limit").len(), MAX_TYPE_DEPTH);
        let deep = hostile::nested_elements(9, 0, "default", 25_000, "p");
        assert!(
            decodes(&deep),
            "yrs decodes the chain: nesting is by parent ids"
        );
        let refused = scan_update_v1(&deep).expect("scans").type_depths(|_| None);
        assert_eq!(refused.err(), Some(ScanError::TypesTooDeep));
        // Hanging under an element already 100 deep counts that depth.
        let short = hostile::nested_elements(9, 0, "default", 40, "p");
        let mut shape = scan_update_v1(&short).expect("scans");
        shape.items[0].parent = Parent::Type(BlockId {
            client: 1,
            clock: 0,
        });
        let refused = shape.type_depths(|_| Some(100));
        assert_eq!(refused.err(), Some(ScanError::TypesTooDeep));
    }
}
