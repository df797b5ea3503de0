//! Comparing two texts paragraph by paragraph, and a changed paragraph word by word.
//!
//! Both sides are lists of plain-text top-level blocks. The blocks are aligned with
//! Myers' diff (the `similar` crate), so unchanged paragraphs pair up however much text
//! moved around them. Where the diff replaces a run of old paragraphs by a run of new
//! ones, an old paragraph is paired with the next new one in that run whose words are
//! similar enough ([`SIMILAR_ENOUGH`]): that pair is one `changed` paragraph with
//! word-level operations; the rest are `removed` or `added` where they stand. Every
//! diff runs under a deadline, so a hostile pair of huge texts yields a coarser diff,
//! never a stalled server.

use std::time::{Duration, Instant};

use similar::{Algorithm, ChangeTag, DiffOp, TextDiff, capture_diff_slices_deadline};
use yrs::{Doc, ReadTxn, Transact};

use crate::documents::content::FRAGMENT;
use crate::documents::markdown::block_texts;
use crate::versions::model::{ParagraphChange, ParagraphDiff, WordChange, WordOp};

/// Share of matching words (similar's ratio: 2·matches / all words of both) from which a
/// removed and an added paragraph at the same place count as one changed paragraph.
pub const SIMILAR_ENOUGH: f32 = 0.5;

/// Time given to one paragraph alignment or one word diff before it settles for a
/// coarser answer.
const DIFF_DEADLINE: Duration = Duration::from_millis(500);

/// Largest replaced run (old × new paragraphs) in which pairs are looked for; beyond it
/// the run is reported as removed and added paragraphs.
const MAX_PAIRING_CELLS: usize = 4_096;

/// The plain text of each top-level block that holds any: what a diff compares and what
/// a version's paragraph count counts. Empty blocks (the editor's trailing paragraph,
/// rules) carry nothing to compare and are left out.
pub fn paragraphs(doc: &Doc) -> Vec<String> {
    let txn = doc.transact();
    let Some(fragment) = txn.get_xml_fragment(FRAGMENT) else {
        return Vec::new();
    };
    let mut texts = block_texts(&txn, &fragment);
    texts.retain(|t| !t.trim().is_empty());
    texts
}

/// The paragraph-level diff from `before` to `after`.
pub fn diff_paragraphs(before: &[String], after: &[String]) -> Vec<ParagraphDiff> {
    let deadline = Some(Instant::now() + DIFF_DEADLINE);
    let ops = capture_diff_slices_deadline(Algorithm::Myers, before, after, deadline);
    let mut out = Vec::with_capacity(before.len().max(after.len()));
    for op in ops {
        match op {
            DiffOp::Equal {
                old_index,
                new_index,
                len,
            } => {
                for (old, new) in before[old_index..old_index + len]
                    .iter()
                    .zip(&after[new_index..new_index + len])
                {
                    out.push(unchanged(old, new));
                }
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => out.extend(
                before[old_index..old_index + old_len]
                    .iter()
                    .map(|p| removed(p)),
            ),
            DiffOp::Insert {
                new_index, new_len, ..
            } => out.extend(
                after[new_index..new_index + new_len]
                    .iter()
                    .map(|p| added(p)),
            ),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => pair_run(
                &before[old_index..old_index + old_len],
                &after[new_index..new_index + new_len],
                &mut out,
            ),
        }
    }
    out
}

/// Walks a replaced run: each old paragraph either pairs with the next similar enough
/// new one (the new ones skipped on the way are added before it) or was removed.
fn pair_run(old: &[String], new: &[String], out: &mut Vec<ParagraphDiff>) {
    let try_pairs = old.len() * new.len() <= MAX_PAIRING_CELLS;
    let mut next_new = 0;
    for before in old {
        let partner = try_pairs
            .then(|| {
                (next_new..new.len()).find_map(|j| {
                    let words = word_diff(before, &new[j]);
                    (words.ratio() >= SIMILAR_ENOUGH).then(|| (j, word_changes(&words)))
                })
            })
            .flatten();
        match partner {
            Some((j, words)) => {
                out.extend(new[next_new..j].iter().map(|p| added(p)));
                out.push(ParagraphDiff {
                    change: ParagraphChange::Changed,
                    before: Some(before.to_owned()),
                    after: Some(new[j].clone()),
                    words: Some(words),
                });
                next_new = j + 1;
            }
            None => out.push(removed(before)),
        }
    }
    out.extend(new[next_new..].iter().map(|p| added(p)));
}

fn word_diff<'a>(before: &'a str, after: &'a str) -> TextDiff<'a, 'a, str> {
    TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_DEADLINE)
        .diff_words(before, after)
}

/// The word diff as runs: consecutive words (and the spaces between them) with the same
/// operation are one entry.
fn word_changes(diff: &TextDiff<'_, '_, str>) -> Vec<WordChange> {
    let mut runs: Vec<WordChange> = Vec::new();
    for change in diff.iter_all_changes() {
        let op = match change.tag() {
            ChangeTag::Equal => WordOp::Equal,
            ChangeTag::Insert => WordOp::Insert,
            ChangeTag::Delete => WordOp::Delete,
        };
        match runs.last_mut() {
            Some(run) if run.op == op => run.text.push_str(change.value()),
            _ => runs.push(WordChange {
                op,
                text: change.value().to_owned(),
            }),
        }
    }
    runs
}

fn unchanged(before: &str, after: &str) -> ParagraphDiff {
    ParagraphDiff {
        change: ParagraphChange::Unchanged,
        before: Some(before.to_owned()),
        after: Some(after.to_owned()),
        words: None,
    }
}

fn removed(before: &str) -> ParagraphDiff {
    ParagraphDiff {
        change: ParagraphChange::Removed,
        before: Some(before.to_owned()),
        after: None,
        words: None,
    }
}

fn added(after: &str) -> ParagraphDiff {
    ParagraphDiff {
        change: ParagraphChange::Added,
        before: None,
        after: Some(after.to_owned()),
        words: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn changes(diff: &[ParagraphDiff]) -> Vec<ParagraphChange> {
        diff.iter().map(|p| p.change).collect()
    }

    #[test]
    fn identical_texts_are_unchanged_throughout() {
        let a = texts(&["Mål", "Skolan är viktig."]);
        let diff = diff_paragraphs(&a, &a);
        assert_eq!(changes(&diff), vec![ParagraphChange::Unchanged; 2]);
        assert!(diff.iter().all(|p| p.words.is_none()));
    }

    #[test]
    fn an_edited_paragraph_is_changed_with_its_inserted_words() {
        let before = texts(&["Mål", "Förebyggande arbete i skolan är viktigt.", "Slut"]);
        let after = texts(&[
            "Mål",
            "Förebyggande arbete i skolan och förskolan är viktigt.",
            "Slut",
            "Ett nytt stycke om uppföljning.",
        ]);
        let diff = diff_paragraphs(&before, &after);
        use ParagraphChange::*;
        assert_eq!(changes(&diff), vec![Unchanged, Changed, Unchanged, Added]);
        let words = diff[1].words.as_ref().expect("words");
        let inserted: String = words
            .iter()
            .filter(|w| w.op == WordOp::Insert)
            .map(|w| w.text.as_str())
            .collect();
        assert_eq!(inserted, "och förskolan ");
        let rebuilt_after: String = words
            .iter()
            .filter(|w| w.op != WordOp::Delete)
            .map(|w| w.text.as_str())
            .collect();
        assert_eq!(rebuilt_after, after[1]);
        let rebuilt_before: String = words
            .iter()
            .filter(|w| w.op != WordOp::Insert)
            .map(|w| w.text.as_str())
            .collect();
        assert_eq!(rebuilt_before, before[1]);
        assert_eq!(
            diff[3].after.as_deref(),
            Some("Ett nytt stycke om uppföljning.")
        );
        assert_eq!(diff[3].before, None);
    }

    #[test]
    fn a_rewritten_paragraph_is_removed_and_added_not_changed() {
        let before = texts(&["Ett", "Trygghet i parker och på torg."]);
        let after = texts(&["Ett", "Budgeten fastställs av fullmäktige varje höst."]);
        use ParagraphChange::*;
        assert_eq!(
            changes(&diff_paragraphs(&before, &after)),
            vec![Unchanged, Removed, Added]
        );
    }

    #[test]
    fn a_changed_paragraph_pairs_past_an_inserted_one() {
        let before = texts(&["A", "Polisen och kommunen samverkar i Järva.", "Z"]);
        let after = texts(&[
            "A",
            "Ett helt nytt stycke.",
            "Polisen och kommunen samverkar tätt i Järva.",
            "Z",
        ]);
        use ParagraphChange::*;
        assert_eq!(
            changes(&diff_paragraphs(&before, &after)),
            vec![Unchanged, Added, Changed, Unchanged]
        );
    }

    #[test]
    fn removed_paragraphs_keep_their_place() {
        let before = texts(&["A", "B", "C"]);
        let after = texts(&["A", "C"]);
        let diff = diff_paragraphs(&before, &after);
        use ParagraphChange::*;
        assert_eq!(changes(&diff), vec![Unchanged, Removed, Unchanged]);
        assert_eq!(diff[1].before.as_deref(), Some("B"));
        assert_eq!(diff[1].after, None);
    }

    #[test]
    fn empty_sides_are_all_added_or_all_removed() {
        let a = texts(&["A", "B"]);
        assert_eq!(
            changes(&diff_paragraphs(&[], &a)),
            vec![ParagraphChange::Added; 2]
        );
        assert_eq!(
            changes(&diff_paragraphs(&a, &[])),
            vec![ParagraphChange::Removed; 2]
        );
    }
}
