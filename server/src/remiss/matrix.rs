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

use serde::Serialize;

use crate::comments::model::{Outcome, Stance, ThreadResponse};
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
    /// Per organisation (the matrix's columns, in order): its points here, in document
    /// order.
    pub cells: Vec<Vec<Point>>,
}

/// One organisation's point on a paragraph: its thread, stance and the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Point {
    /// The thread's id (the web app links the cell to it).
    pub thread: String,
    pub stance: Option<Stance>,
    /// `None` while the thread is open.
    pub outcome: Option<Outcome>,
}

impl std::fmt::Display for Point {
    /// "Avstyrker – Ej beaktad"; an open thread is "ej avgjord".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let outcome = self.outcome.map(labels::outcome).unwrap_or("Ej avgjord");
        write!(f, "{} – {outcome}", labels::stance(self.stance))
    }
}

/// `GET /api/documents/{id}/remiss/matrix`: the consensus matrix as data, for the web
/// app's Remiss tab.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatrixResponse {
    /// The columns: the invited organisations, then any other organisation with threads.
    pub organisations: Vec<OrgRef>,
    /// Paragraphs with threads, contested first, then in document order; threads on
    /// deleted text last.
    pub rows: Vec<MatrixRow>,
}

/// One row of [`MatrixResponse`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatrixRow {
    /// The section by the draft's own numbering ("3.2 Stadsutveckling"); `None` for
    /// threads whose text was deleted.
    pub section: Option<String>,
    /// The paragraph's number within its section, from 1; `None` for the heading itself
    /// or deleted text.
    pub paragraph_in_section: Option<usize>,
    /// The 0-based block index; `None` for deleted text.
    pub paragraph: Option<i64>,
    /// Someone advised against it, or two different rewordings were proposed.
    pub contested: bool,
    /// Per organisation, in the order of `organisations`: its points here.
    pub cells: Vec<Vec<Point>>,
}

impl MatrixResponse {
    pub fn new(gathered: &Gathered, orgs: Vec<OrgRef>) -> Self {
        let rows = rows(gathered, &orgs)
            .into_iter()
            .map(|row| {
                let place = row.paragraph.and_then(|p| gathered.place(p));
                MatrixRow {
                    section: row.paragraph.map(|p| match place {
                        Some(place) => place.section.clone(),
                        None => format!("Stycke {}", p + 1),
                    }),
                    paragraph_in_section: place.and_then(|p| p.paragraph),
                    paragraph: row.paragraph,
                    contested: row.contested,
                    cells: row.cells,
                }
            })
            .collect();
        MatrixResponse {
            organisations: orgs,
            rows,
        }
    }
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

/// A thread as a point of the matrix.
pub fn point(thread: &ThreadResponse) -> Point {
    Point {
        thread: thread.id.clone(),
        stance: thread.stance,
        outcome: thread.resolution.as_ref().map(|r| r.outcome),
    }
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
