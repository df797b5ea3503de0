//! The round as the API shows it: stored fields, the deadline rule applied today, and
//! each invitee's derived status.

use crate::consultation::deadline::{self, Openness};
use crate::consultation::model::{InviteeResponse, InviteeRow, OrgRef, RoundResponse};
use crate::error::ApiResult;
use crate::ids::DocId;
use crate::remiss::statements;
use crate::storage::Db;

/// The round of `doc` with its invitees, as of now.
pub async fn load(db: &Db, doc: &DocId) -> ApiResult<RoundResponse> {
    let round = db.remiss_round(doc).await?;
    let invitees = db.remiss_invitees(doc).await?;
    let mut submissions = statements::by_org(db.remiss_submissions(doc).await?, &round);
    let Openness {
        deadline_passed,
        accepting_threads,
        ..
    } = deadline::openness(&round, deadline::today());
    let closes_at = round
        .deadline
        .as_deref()
        .and_then(|d| deadline::parse_date(d).ok())
        .and_then(deadline::closes_at);
    Ok(RoundResponse {
        closes_at,
        diarienummer: round.diarienummer,
        phase: round.phase,
        deadline: round.deadline,
        deadline_passed,
        accepting_threads,
        invitees: invitees
            .into_iter()
            .map(|row| {
                let kept = submissions.remove(&row.org_id).unwrap_or_default();
                InviteeResponse {
                    submissions: kept,
                    ..invitee_response(row)
                }
            })
            .collect(),
    })
}

/// One invitee row as JSON, without its submissions (see [`load`]).
pub fn invitee_response(row: InviteeRow) -> InviteeResponse {
    InviteeResponse {
        status: row.status(),
        org: OrgRef {
            name: row.org_name.unwrap_or_else(|| row.org_id.clone()),
            id: row.org_id,
        },
        role: row.role,
        invited_at: row.invited_at,
        opened_at: row.opened_at,
        first_comment_at: row.first_comment_at,
        done_at: row.done_at,
        declined_at: row.declined_at,
        statement: row.statement,
        threads: row.threads,
        submissions: Vec::new(),
    }
}
