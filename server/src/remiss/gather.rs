//! Everything the report and the compilation are made from, read once: the round, the
//! invitees, the live paragraphs and every thread with its anchor resolved, in document
//! order.

use crate::comments::anchor;
use crate::comments::model::{AnchorState, ThreadResponse};
use crate::comments::routes::{anchors_of, thread_response};
use crate::consultation::model::{InviteeRow, OrgRef, RoundRow, SubmissionResponse};
use crate::documents::content::FRAGMENT;
use crate::documents::markdown::{block_heading_levels, block_texts};
use crate::documents::model::DocumentRow;
use crate::error::{ApiResult, AppError};
use crate::ids::DocId;
use crate::remiss::RemissContext;
use crate::remiss::sections::{self, Place};
use crate::remiss::statements;

/// A document's remiss, as the read-outs need it.
#[derive(Debug, Clone)]
pub struct Gathered {
    pub doc_id: String,
    pub title: String,
    pub owner: OrgRef,
    pub round: RoundRow,
    pub invitees: Vec<InviteeRow>,
    /// Every answer each organisation submitted, by organisation id, oldest first.
    pub submissions: std::collections::HashMap<String, Vec<SubmissionResponse>>,
    /// The plain text of each top-level block of the live document.
    pub paragraphs: Vec<String>,
    /// Where each of those blocks sits in the draft's own section numbering.
    pub places: Vec<Place>,
    /// Threads whose text is still there, in document order (start position, then age),
    /// then orphaned threads, oldest first.
    pub threads: Vec<ThreadResponse>,
}

impl Gathered {
    /// The live text of a paragraph, if it exists.
    pub fn paragraph(&self, index: i64) -> Option<&str> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.paragraphs.get(i))
            .map(String::as_str)
    }

    /// Where a paragraph sits, if it exists.
    pub fn place(&self, index: i64) -> Option<&Place> {
        usize::try_from(index).ok().and_then(|i| self.places.get(i))
    }

    /// An organisation's submissions, oldest first.
    pub fn submissions_of(&self, org: &str) -> &[SubmissionResponse] {
        self.submissions
            .get(org)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// Threads whose text is gone.
    pub fn orphaned(&self) -> impl Iterator<Item = &ThreadResponse> {
        self.threads.iter().filter(|t| is_orphaned(t))
    }
}

/// Whether a thread's anchored text was deleted.
pub fn is_orphaned(thread: &ThreadResponse) -> bool {
    thread.anchor.state == AnchorState::Orphaned || thread.anchor.paragraph.is_none()
}

/// Reads the document's remiss in one pass over the live text.
pub async fn gather(state: &RemissContext, doc: &DocId, row: DocumentRow) -> ApiResult<Gathered> {
    let round = state.db.remiss_round(doc).await?;
    let invitees = state.db.remiss_invitees(doc).await?;
    let submissions =
        statements::by_org(state.db.remiss_submissions(doc).await?, &round, &invitees);
    let rows = state.db.threads(doc).await?;
    let anchors = anchors_of(&rows);
    let (resolved, (paragraphs, levels)) = state
        .rooms
        .read(doc, move |d| {
            let (paragraphs, levels) = {
                let txn = yrs::Transact::transact(d);
                yrs::ReadTxn::get_xml_fragment(&txn, FRAGMENT)
                    .map(|fragment| {
                        (
                            block_texts(&txn, &fragment),
                            block_heading_levels(&txn, &fragment),
                        )
                    })
                    .unwrap_or_default()
            };
            (anchor::resolve_all(d, &anchors), (paragraphs, levels))
        })
        .await
        .map_err(|e| AppError::Unavailable(e.to_string()))?;
    let mut placed: Vec<(Option<usize>, ThreadResponse)> = rows
        .into_iter()
        .zip(resolved)
        .map(|((thread, comments), now)| (now.offset, thread_response(thread, comments, now)))
        .collect();
    placed.sort_by_key(|(offset, t)| {
        let orphaned = is_orphaned(t);
        (
            orphaned,
            if orphaned { None } else { *offset },
            t.created_at,
            t.id.clone(),
        )
    });
    Ok(Gathered {
        doc_id: row.id,
        title: row.title,
        owner: OrgRef {
            id: row.owner_org,
            name: row.owner_org_name,
        },
        round,
        invitees,
        submissions,
        places: sections::places(&levels, &paragraphs),
        paragraphs,
        threads: placed.into_iter().map(|(_, t)| t).collect(),
    })
}
