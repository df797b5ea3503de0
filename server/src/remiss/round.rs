//! The round as the API shows it: stored fields, the deadline rule applied today, and
//! each invitee's derived status.

use crate::consultation::deadline::{self, Openness};
use crate::consultation::model::{InviteeResponse, InviteeRow, OrgRef, RoundResponse, RoundRow};
use crate::error::ApiResult;
use crate::ids::{DocId, OrgId};
use crate::remiss::statements;
use crate::storage::Db;

/// The round of `doc` with its invitees, as of now, for a member of organisation
/// `viewer`: whether the svarsdatum has passed, whether threads are taken and when the
/// round closes are said for the viewer's own svarsdatum (a later one granted to it
/// counts). Without a viewer (the live event every member receives), for the round's.
pub async fn load(db: &Db, doc: &DocId, viewer: Option<&OrgId>) -> ApiResult<RoundResponse> {
    let round = db.remiss_round(doc).await?;
    let invitees = db.remiss_invitees(doc).await?;
    let mut submissions = statements::by_org(db.remiss_submissions(doc).await?, &round, &invitees);
    let own = RoundRow {
        deadline: invitees
            .iter()
            .find(|i| viewer.is_some_and(|v| i.org_id == v.as_str()))
            .map_or_else(|| round.deadline.clone(), InviteeRow::deadline),
        ..round.clone()
    };
    let Openness {
        deadline_passed,
        accepting_threads,
        ..
    } = deadline::openness(&own, deadline::today());
    let closes_at = own
        .deadline
        .as_deref()
        .and_then(|d| deadline::parse_date(d).ok())
        .and_then(deadline::closes_at);
    Ok(RoundResponse {
        closes_at,
        suggestion_phases: round.suggestion_phases.phases(),
        suggestions_required: round.suggestions_required(),
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
        deadline: row.deadline(),
        extended: row.extended(),
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
