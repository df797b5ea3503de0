//! Comparing two texts paragraph by paragraph, and a changed paragraph word by word.
//!
//! Both sides are lists of plain-text top-level blocks. The blocks are aligned with
//! Myers' diff (the `similar` crate) over interned ids, so unchanged paragraphs pair up
//! however much text moved around them and comparing two paragraphs costs one integer
//! comparison. Where the diff replaces a run of old paragraphs by a run of new ones, an
//! old paragraph is paired with the next new one, among the following
//! [`PAIRING_LOOKAHEAD`], that shares enough of its words ([`SIMILAR_ENOUGH`], a Dice
//! coefficient over the words as multisets, computed by merging sorted word hashes):
//! that pair is one `changed` paragraph with word-level operations; the rest are
//! `removed` or `added` where they stand.
//!
//! Issue 13 measured 7.5 s of CPU for one diff request: the pairing ran a full word
//! diff (each with its own 500 ms deadline) for every old × new pair of a replaced run,
//! up to 4,096 of them. Now the pairing is linear in the words compared, and bounded
//! ([`MAX_PAIRING_WORDS`]); only the pairs kept get a word diff, each word diff is
//! bounded in size ([`MAX_WORD_DIFF_TOKENS`]), and the whole request shares one
//! deadline ([`DIFF_DEADLINE`]) after which every remaining step settles for a coarser
//! answer. Measured (debug build, `tests::costs`, two runs on a shared machine, before
//! → after): 64 × 64 rewritten paragraphs of 150 words 0.5–1.05 s → 20–35 ms; one
//! 50,000-word paragraph rewritten 0.5 s → 70–190 ms (shown coarsely, as one deleted
//! and one inserted run); 2,000 paragraphs each edited 10–45 ms → 0.26–0.65 s, because
//! they are now 2,000 `changed` paragraphs with word diffs (until the deadline) where
//! before they were 2,000 removed and 2,000 added. The API test's 64 paragraphs of 600
//! words rewritten with other words took over 20 s before (the client gave up).

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use similar::{Algorithm, ChangeTag, DiffOp, TextDiff, capture_diff_slices_deadline};
use yrs::{Doc, ReadTxn, Transact};

use crate::documents::content::FRAGMENT;
use crate::documents::markdown::block_texts;
use crate::versions::model::{ParagraphChange, ParagraphDiff, WordChange, WordOp};

/// Share of shared words (2·common / all words of both, as multisets) from which a
/// removed and an added paragraph at the same place count as one changed paragraph.
pub const SIMILAR_ENOUGH: f32 = 0.5;

/// Time one whole diff may take before every remaining step settles for a coarser
/// answer.
pub const DIFF_DEADLINE: Duration = Duration::from_millis(500);

/// New paragraphs looked at, from the next unpaired one, for each old paragraph of a
/// replaced run.
pub const PAIRING_LOOKAHEAD: usize = 32;

/// Words compared while pairing, in all, for one diff; beyond it the rest of the
/// replaced runs are reported as removed and added paragraphs.
pub const MAX_PAIRING_WORDS: usize = 4_000_000;

/// Largest pair (tokens of both sides: words and the spaces between) given a word diff;
/// a larger changed paragraph is shown as all its old text deleted and its new text
/// inserted.
pub const MAX_WORD_DIFF_TOKENS: usize = 40_000;

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
    let deadline = Instant::now() + DIFF_DEADLINE;
    let mut pairing = Pairing {
        words_left: MAX_PAIRING_WORDS,
        deadline,
    };
    let mut out = Vec::with_capacity(before.len().max(after.len()));
    let (mut old_from, mut new_from) = (0, 0);
    let gaps = unchanged_pairs(before, after, deadline)
        .into_iter()
        .map(Some)
        .chain([None]);
    for pair in gaps {
        let (old_to, new_to) = pair.unwrap_or((before.len(), after.len()));
        let (old, new) = (&before[old_from..old_to], &after[new_from..new_to]);
        match (old.is_empty(), new.is_empty()) {
            (false, false) => pairing.pair_run(old, new, &mut out),
            (false, true) => out.extend(old.iter().map(|p| removed(p))),
            (true, false) => out.extend(new.iter().map(|p| added(p))),
            (true, true) => {}
        }
        if let Some((i, j)) = pair {
            out.push(unchanged(&before[i], &after[j]));
            (old_from, new_from) = (i + 1, j + 1);
        }
    }
    out
}

/// The longest run of equal paragraphs kept in order on both sides (Myers' diff), as
/// index pairs. Paragraphs found on one side only are left out before the diff runs:
/// they can never be equal, and a document whose every paragraph was edited would
/// otherwise cost Myers its worst case.
fn unchanged_pairs(before: &[String], after: &[String], deadline: Instant) -> Vec<(usize, usize)> {
    let (old_ids, new_ids) = intern(before, after);
    let on_both: HashSet<u32> = old_ids
        .iter()
        .copied()
        .collect::<HashSet<_>>()
        .intersection(&new_ids.iter().copied().collect())
        .copied()
        .collect();
    let keep = |ids: &[u32]| -> Vec<usize> {
        (0..ids.len())
            .filter(|&i| on_both.contains(&ids[i]))
            .collect()
    };
    let (keep_old, keep_new) = (keep(&old_ids), keep(&new_ids));
    let old: Vec<u32> = keep_old.iter().map(|&i| old_ids[i]).collect();
    let new: Vec<u32> = keep_new.iter().map(|&j| new_ids[j]).collect();
    let mut pairs = Vec::new();
    for op in capture_diff_slices_deadline(Algorithm::Myers, &old, &new, Some(deadline)) {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            pairs.extend((0..len).map(|k| (keep_old[old_index + k], keep_new[new_index + k])));
        }
    }
    pairs
}

/// Each paragraph as a small integer, equal texts equal ids.
fn intern(before: &[String], after: &[String]) -> (Vec<u32>, Vec<u32>) {
    let mut ids: HashMap<&str, u32> = HashMap::with_capacity(before.len() + after.len());
    let mut sides = [
        Vec::with_capacity(before.len()),
        Vec::with_capacity(after.len()),
    ];
    for (side, texts) in sides.iter_mut().zip([before, after]) {
        for text in texts {
            let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
            side.push(*ids.entry(text.as_str()).or_insert(next));
        }
    }
    let [old, new] = sides;
    (old, new)
}

/// What one diff may still spend on pairing.
struct Pairing {
    words_left: usize,
    deadline: Instant,
}

impl Pairing {
    /// Walks a replaced run: each old paragraph either pairs with the next similar
    /// enough new one within the lookahead (the new ones skipped on the way are added
    /// before it) or was removed.
    fn pair_run(&mut self, old: &[String], new: &[String], out: &mut Vec<ParagraphDiff>) {
        let new_words: Vec<Vec<u64>> = new.iter().map(|p| word_hashes(p)).collect();
        let mut next_new = 0;
        for before in old {
            let partner = self.partner(before, &new_words, next_new);
            match partner {
                Some(j) => {
                    out.extend(new[next_new..j].iter().map(|p| added(p)));
                    out.push(changed(before, &new[j], self.deadline));
                    next_new = j + 1;
                }
                None => out.push(removed(before)),
            }
        }
        out.extend(new[next_new..].iter().map(|p| added(p)));
    }

    /// The first new paragraph from `from` on, within the lookahead and the budget,
    /// similar enough to `before`.
    fn partner(&mut self, before: &str, new_words: &[Vec<u64>], from: usize) -> Option<usize> {
        if from >= new_words.len() || self.words_left == 0 {
            return None;
        }
        let words = word_hashes(before);
        let end = new_words.len().min(from + PAIRING_LOOKAHEAD);
        for (j, candidate) in new_words.iter().enumerate().take(end).skip(from) {
            let cost = words.len() + candidate.len();
            if cost > self.words_left {
                self.words_left = 0;
                return None;
            }
            self.words_left -= cost;
            if dice(&words, candidate) >= SIMILAR_ENOUGH {
                return Some(j);
            }
        }
        None
    }
}

/// The paragraph's words (split on whitespace), hashed and sorted.
fn word_hashes(text: &str) -> Vec<u64> {
    let mut hashes: Vec<u64> = text
        .split_whitespace()
        .map(|word| {
            let mut hasher = DefaultHasher::new();
            word.hash(&mut hasher);
            hasher.finish()
        })
        .collect();
    hashes.sort_unstable();
    hashes
}

/// 2·|a ∩ b| / (|a| + |b|) for sorted multisets; 1 for two empty ones.
fn dice(a: &[u64], b: &[u64]) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    (2 * common) as f32 / (a.len() + b.len()) as f32
}

/// A changed paragraph with its word operations: a word diff when the pair is small
/// enough and the deadline has not passed, otherwise all of the old text deleted and
/// all of the new inserted.
fn changed(before: &str, after: &str, deadline: Instant) -> ParagraphDiff {
    let tokens = before.split_whitespace().count() + after.split_whitespace().count();
    let words = if 2 * tokens <= MAX_WORD_DIFF_TOKENS && Instant::now() < deadline {
        let diff = TextDiff::configure()
            .algorithm(Algorithm::Myers)
            .deadline(deadline)
            .diff_words(before, after);
        word_changes(&diff)
    } else {
        vec![
            WordChange::new(WordOp::Delete, before.to_owned()),
            WordChange::new(WordOp::Insert, after.to_owned()),
        ]
    };
    ParagraphDiff {
        change: ParagraphChange::Changed,
        before: Some(before.to_owned()),
        after: Some(after.to_owned()),
        words: Some(words),
        inserted_by: None,
        deleted_by: None,
    }
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
            _ => runs.push(WordChange::new(op, change.value().to_owned())),
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
        inserted_by: None,
        deleted_by: None,
    }
}

fn removed(before: &str) -> ParagraphDiff {
    ParagraphDiff {
        change: ParagraphChange::Removed,
        before: Some(before.to_owned()),
        after: None,
        words: None,
        inserted_by: None,
        deleted_by: None,
    }
}

fn added(after: &str) -> ParagraphDiff {
    ParagraphDiff {
        change: ParagraphChange::Added,
        before: None,
        after: Some(after.to_owned()),
        words: None,
        inserted_by: None,
        deleted_by: None,
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

    /// Deterministic Swedish-ish words: `n` of them from `seed`, drawn from `vocabulary`.
    fn words(seed: u64, n: usize, vocabulary: u64) -> String {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                format!("ord{}", (x >> 33) % vocabulary)
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The hostile shapes of issue 13, timed (`cargo test -p forankra --lib
    /// versions::diff::tests::costs -- --ignored --nocapture`).
    #[test]
    #[ignore = "prints timings"]
    fn costs() {
        let shapes: Vec<(&str, Vec<String>, Vec<String>)> = vec![
            (
                "64 x 64 rewritten paragraphs of 150 words",
                (0..64).map(|i| words(i, 150, 5000)).collect(),
                (0..64).map(|i| words(1000 + i, 150, 5000)).collect(),
            ),
            (
                "64 x 64 rewritten paragraphs of 600 words (the API test)",
                (0..64).map(|i| words(i, 600, 5000)).collect(),
                (0..64).map(|i| words(1000 + i, 600, 5000)).collect(),
            ),
            (
                "2,000 paragraphs, each with one word changed",
                (0..2000).map(|i| words(i, 60, 5000)).collect(),
                (0..2000)
                    .map(|i| format!("{} ändrat", words(i, 60, 5000)))
                    .collect(),
            ),
            (
                "one paragraph of 50,000 words, rewritten",
                vec![words(1, 50_000, 50)],
                vec![words(2, 50_000, 50)],
            ),
            (
                "300 x 300 paragraphs of 40 words from 60",
                (0..300).map(|i| words(i, 40, 60)).collect(),
                (0..300).map(|i| words(5000 + i, 40, 60)).collect(),
            ),
        ];
        for (name, before, after) in shapes {
            let started = Instant::now();
            let diff = diff_paragraphs(&before, &after);
            println!("{name}: {:?}, {} entries", started.elapsed(), diff.len());
        }
    }
}
