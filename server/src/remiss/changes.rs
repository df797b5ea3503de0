//! The remiss round's use cases, each inside the caller's [`Tx`] with its audit entry:
//! the owners change the round, an invitee answers. The handlers in `routes` check the
//! caller's access and the request's shape, begin, call, commit and present; the rules of
//! the round (who may answer, until when) are here, so any other caller gets them too.

use serde_json::json;

use crate::audit::Action;
use crate::auth::{Identity, Role};
use crate::consultation::deadline::{self, Contribution};
use crate::consultation::model::{Answer, Phase, PhaseSet};
use crate::consultation::store::RoundUpdate;
use crate::error::{ApiResult, AppError};
use crate::ids::DocId;
use crate::storage::Tx;
use crate::webhooks;

/// What the owners change in a round, already checked: `None` leaves a field as it is,
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct RoundChange {
    pub diarienummer: Option<Option<String>>,
    pub phase: Option<Phase>,
    /// A real date, `YYYY-MM-DD`.
    pub deadline: Option<Option<String>>,
    /// The phases in which changes must be suggested (issue 16).
    pub suggestion_phases: Option<PhaseSet>,
}

/// Changes the round (the caller is an owner). The round is read, changed and audited in
/// one transaction, so the entry's `from` is what was replaced. Whether changes must be
/// suggested afterwards reaches the open rooms once committed (`remiss::events::publish`).
pub async fn update_round(
    tx: &mut Tx,
    doc: &DocId,
    who: &Identity,
    change: RoundChange,
) -> ApiResult<()> {
    let current = tx.remiss_round(doc).await?;
    let diarienummer = change
        .diarienummer
        .unwrap_or_else(|| current.diarienummer.clone());
    let deadline = change.deadline.unwrap_or_else(|| current.deadline.clone());
    let phase = change.phase.unwrap_or(current.phase);
    let suggestion_phases = change
        .suggestion_phases
        .unwrap_or(current.suggestion_phases);
    let update = RoundUpdate {
        diarienummer: diarienummer.as_deref(),
        phase,
        deadline: deadline.as_deref(),
        suggestion_phases,
        by: &who.user,
    };
    tx.set_remiss_round(doc, &update).await?;
    let detail = json!({
        "from": { "diarienummer": current.diarienummer, "phase": current.phase, "deadline": current.deadline,
            "suggestionPhases": current.suggestion_phases.phases() },
        "to": { "diarienummer": diarienummer, "phase": phase, "deadline": deadline,
            "suggestionPhases": suggestion_phases.phases() },
    });
    webhooks::record_in(tx, doc, Some(who), Action::RemissChanged, detail).await?;
    Ok(())
}

fn not_invited() -> AppError {
    AppError::Forbidden("your organisation is not invited to this remiss".into())
}

/// Gives `who`'s organisation's answer, a checked statement with it (required when
/// `done`): kept as a new submission beside the earlier ones. Refused with 403 unless the
/// organisation is invited, and with 409 `remiss_closed` once the round no longer takes
/// statements. Returns the submission's number.
pub async fn answer(
    tx: &mut Tx,
    doc: &DocId,
    who: &Identity,
    role: Role,
    answer: Answer,
    statement: Option<&str>,
) -> ApiResult<i64> {
    if answer == Answer::Done && statement.is_none() {
        return Err(AppError::Unprocessable(
            "a response (done) needs its summary statement".into(),
        ));
    }
    if !tx.is_remiss_invitee(doc, &who.org).await? {
        return Err(not_invited());
    }
    deadline::check_open(tx, doc, &who.org, role, Contribution::Statement).await?;
    let submission = tx
        .submit_remiss_answer(doc, who, answer, statement)
        .await?
        .ok_or_else(not_invited)?;
    let action = match answer {
        Answer::Done => Action::ResponseGiven,
        Answer::Declined => Action::ResponseDeclined,
    };
    let detail = json!({ "org": who.org, "statement": statement, "submission": submission });
    webhooks::record_in(tx, doc, Some(who), action, detail).await?;
    Ok(submission)
}
