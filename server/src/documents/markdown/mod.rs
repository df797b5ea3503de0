//! Markdown ⇄ the ProseMirror tree that Tiptap keeps in a Yjs `XmlFragment`.
//!
//! The browser edits a document with Tiptap 3's Collaboration extension, which binds the
//! editor to the `XmlFragment` named `"default"` through `@tiptap/y-tiptap` (a fork of
//! y-prosemirror). Whatever we write here must be exactly what that binding would have
//! written itself, or the first client to open the document "repairs" it and every peer
//! sees a spurious edit. The encoding, read from y-tiptap 3.0.9 (`createTypeFromElementNode`,
//! `createTypeFromTextNodes`, `marksToAttributes`) and Tiptap 3.34's StarterKit:
//!
//! - Every ProseMirror node is a `Y.XmlElement` named after the node type: `paragraph`,
//!   `heading`, `bulletList`, `orderedList`, `listItem`, `blockquote`, `codeBlock`,
//!   `horizontalRule`, and the inline `hardBreak`.
//! - Node attributes are element attributes holding the attribute's own JSON value, and an
//!   attribute whose value is `null` is not stored at all. So `heading.level` and
//!   `orderedList.start` are numbers (Tiptap always stores them, defaults included), and
//!   `codeBlock.language` is a string that is absent when there is no language.
//! - Consecutive text nodes of one parent share a single `Y.XmlText`; inline nodes
//!   (`hardBreak`) are `Y.XmlElement` siblings between those texts. An empty block has no
//!   children at all.
//! - Marks are formatting attributes on the text: key = mark name, value = the mark's
//!   attribute object, nulls included (`bold`, `italic`, `strike`, `code`, `underline` →
//!   `{}`; `link` → `{href, target, rel, class, title}`). A mark type that may overlap itself
//!   is stored under `name--hash`; we strip such a suffix when reading.
//! - Tiptap's schema: a `listItem` starts with a `paragraph`, a `blockquote` holds at least
//!   one block, a `codeBlock` holds unmarked text, the `code` mark excludes every other mark
//!   (ProseMirror's `check()` rejects text that is both `code` and `link`),
//!   and StarterKit's TrailingNode appends an empty paragraph to a document that does not end
//!   with one. The importer produces exactly that shape.
//!
//! Everything goes through a small intermediate tree (`Node`) so that one reader of the
//! Yjs structure serves all four exporters and one writer serves the importer. Nesting is
//! capped at `MAX_DEPTH` in both directions, so hostile input (a thousand `>` or a deeply
//! nested document from a client) cannot overflow the stack of a server thread, and every
//! pass over inline content is linear, so a long paragraph cannot stall one either.
//!
//! Markdown is CommonMark plus `~~strike~~`, parsed by pulldown-cmark. Raw HTML stays
//! literal text, and the exporters never emit markup from document text: Markdown escapes
//! it, HTML entity-encodes it and only allows http(s), mailto and relative links.
//!
//! The conversion is split by direction and by stage: `schema` (names and the intermediate
//! tree), `parse` and `import` (Markdown → tree → Yjs), `read` (Yjs → tree), `blocks` and
//! `inline` (the view of the tree the exporters share), and one module per output format
//! (`markdown_out` with `markdown_inline` and `markdown_escape`, `html`, `text`, and
//! `draft` for the read-outs' writers). `href`
//! holds the link address policy used by both directions.

mod blocks;
mod draft;
pub(super) mod href;
mod html;
mod import;
mod inline;
mod markdown_escape;
mod markdown_inline;
mod markdown_out;
mod parse;
mod read;
pub(super) mod schema;
mod text;

#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

pub use draft::{DraftBlock, Piece, draft_blocks};
pub use html::export_html;
pub use import::import_markdown;
pub(in crate::documents) use import::import_nodes;
pub use markdown_escape::escape_md;
pub use markdown_out::export_markdown;
pub use parse::{ImportError, MAX_IMPORT_NODES};
pub use text::{block_heading_levels, block_texts, export_text};

/// Deepest nesting of block containers we build or read. Far beyond any real draft, small
/// enough that the recursive writers and readers stay well inside a 2 MiB thread stack.
const MAX_DEPTH: usize = 48;
