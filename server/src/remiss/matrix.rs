//! The consensus matrix (samsynsmatris): paragraph × organisation, each cell what that
//! organisation said there and how the owners handled it, contested paragraphs first.
//!
//! Why this shape: a nämnd reading a remissammanställning asks first "where do the
//! administrations disagree with the draft or with each other?", then "what did we do
//! about it?". A paragraph is *contested* when someone advises against it (avstyrker) or
//! when two different rewordings were proposed for it; those rows come first, each marked
//! in words ("omstritt"), not by colour or order alone. The rest follow in document
//! order, and threads on deleted text last in a row of their own.

use std::collections::BTreeMap;

use crate::comments::model::{Stance, ThreadResponse};
use crate::consultation::model::OrgRef;
use crate::remiss::gather::{Gathered, is_orphaned};
use crate::remiss::render::labels;

/// The label of the row for threads whose text was deleted.
pub const DELETED_TEXT: &str = "Borttagen text";

/// One row: a paragraph of the draft (or the deleted text) and what each organisation
/// said on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// "3.2 Stadsutveckling, stycke 2", or [`DELETED_TEXT`].
    pub label: String,
    /// The 0-based block index; `None` for deleted text.
    pub paragraph: Option<i64>,
    /// Someone advised against it, or two different rewordings were proposed.
    pub contested: bool,
    /// Per organisation (the matrix's columns, in order): its points here, each
    /// "stance – outcome", in document order.
    pub cells: Vec<Vec<String>>,
}

/// Rows for every paragraph with at least one thread, contested first.
pub fn rows(gathered: &Gathered, orgs: &[OrgRef]) -> Vec<Row> {
    let mut by_paragraph: BTreeMap<Option<i64>, Vec<&ThreadResponse>> = BTreeMap::new();
    for thread in &gathered.threads {
        let key = thread.anchor.paragraph.filter(|_| !is_orphaned(thread));
        by_paragraph.entry(key).or_default().push(thread);
    }
    let mut rows: Vec<Row> = by_paragraph
        .into_iter()
        .map(|(paragraph, threads)| row(gathered, orgs, paragraph, &threads))
        .collect();
    // Stable: document order within each group; deleted text last in its group.
    rows.sort_by_key(|r| (!r.contested, r.paragraph.is_none(), r.paragraph));
    rows
}

fn row(
    gathered: &Gathered,
    orgs: &[OrgRef],
    paragraph: Option<i64>,
    threads: &[&ThreadResponse],
) -> Row {
    let label = match paragraph {
        Some(p) => gathered
            .place(p)
            .map(|place| place.label())
            .unwrap_or_else(|| format!("Stycke {}", p + 1)),
        None => DELETED_TEXT.to_owned(),
    };
    let cells = orgs
        .iter()
        .map(|org| {
            threads
                .iter()
                .filter(|t| t.org == org.id)
                .map(|t| point(t))
                .collect()
        })
        .collect();
    Row {
        label,
        paragraph,
        contested: contested(threads),
        cells,
    }
}

/// "Avstyrker – Ej beaktad"; an open thread is "ej avgjord".
pub fn point(thread: &ThreadResponse) -> String {
    let outcome = thread
        .resolution
        .as_ref()
        .map(|r| labels::outcome(r.outcome))
        .unwrap_or("Ej avgjord");
    format!("{} – {outcome}", labels::stance(thread.stance))
}

/// Whether anyone advised against the text, or two different rewordings were proposed.
fn contested(threads: &[&ThreadResponse]) -> bool {
    let against = threads.iter().any(|t| t.stance == Some(Stance::Avstyrker));
    let mut proposals: Vec<&str> = threads
        .iter()
        .filter(|t| t.stance == Some(Stance::Andringsforslag))
        .filter_map(|t| t.proposal.as_deref())
        .map(str::trim)
        .collect();
    proposals.sort_unstable();
    proposals.dedup();
    against || proposals.len() > 1
}
