//! The remiss round's vocabulary and the JSON the API speaks about it (docs/REMISS.md).

use serde::{Deserialize, Deserializer, Serialize};
use sqlx::FromRow;

use crate::auth::Role;
use crate::vocabulary::text_vocabulary;

/// Where a document is in its remiss process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Being prepared; invited organisations may already comment.
    #[default]
    Beredning,
    /// Out on consultation until the svarsdatum.
    Remiss,
    /// Closed: no new threads.
    Avslutad,
}

text_vocabulary!(Phase, "remiss phase" { Beredning = "beredning", Remiss = "remiss", Avslutad = "avslutad" });

impl Phase {
    /// Every phase, in the order a round goes through them.
    pub const ALL: [Self; 3] = [Self::Beredning, Self::Remiss, Self::Avslutad];

    const fn bit(self) -> u8 {
        match self {
            Self::Beredning => 1,
            Self::Remiss => 2,
            Self::Avslutad => 4,
        }
    }
}

/// The phases in which the owners require changes to be suggested (issue 16): while the
/// round is in one of them, only owners edit the text directly. Stored as the phase words
/// joined by commas in the order of [`Phase::ALL`] (`remiss_rounds.suggestion_phases`);
/// a word that is not a phase fails the read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PhaseSet(u8);

impl PhaseSet {
    /// The set of `phases` (repeats count once).
    pub fn of(phases: &[Phase]) -> Self {
        Self(phases.iter().fold(0, |bits, p| bits | p.bit()))
    }

    /// Whether `phase` is in the set.
    pub fn contains(self, phase: Phase) -> bool {
        self.0 & phase.bit() != 0
    }

    /// The phases in the set, in the round's order.
    pub fn phases(self) -> Vec<Phase> {
        Phase::ALL
            .into_iter()
            .filter(|p| self.contains(*p))
            .collect()
    }

    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self.0 & 7 {
            0 => "",
            1 => "beredning",
            2 => "remiss",
            3 => "beredning,remiss",
            4 => "avslutad",
            5 => "beredning,avslutad",
            6 => "remiss,avslutad",
            _ => "beredning,remiss,avslutad",
        }
    }

    /// Reads the stored text.
    pub fn parse(text: &str) -> Result<Self, crate::vocabulary::UnknownValue> {
        let phases = text
            .split(',')
            .filter(|word| !word.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<Phase>, _>>()?;
        Ok(Self::of(&phases))
    }
}

crate::vocabulary::stored_as_text!(PhaseSet, PhaseSet::parse);

/// What an invited organisation has done, derived from its row (see [`InviteeRow::status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InviteeStatus {
    /// Given a role, nothing seen from it yet.
    Invited,
    /// Someone of it opened the document.
    Opened,
    /// Someone of it opened a thread or replied.
    Commenting,
    /// It gave its response ("yttrande lämnat").
    Done,
    /// It declined to answer ("avstår").
    Declined,
}

/// The answer an invitee may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Done,
    Declined,
}

text_vocabulary!(Answer, "remiss answer" { Done = "done", Declined = "declined" });

/// A `remiss_statements` row: one answer as submitted.
#[derive(Debug, Clone, FromRow)]
pub struct SubmissionRow {
    pub org_id: String,
    pub seq: i64,
    pub answer: Answer,
    pub statement: Option<String>,
    pub submitted_at: i64,
    pub submitted_by: Option<String>,
    pub submitted_by_name: Option<String>,
}

/// One answer an invitee submitted, kept as received.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubmissionResponse {
    pub status: Answer,
    pub statement: Option<String>,
    /// Epoch milliseconds.
    pub submitted_at: i64,
    /// The user id of who submitted it; `null` for answers stored before submissions were
    /// kept (only the latest of those survives).
    pub submitted_by: Option<String>,
    pub submitted_by_name: Option<String>,
    /// Received after the svarsdatum (possible when the owners moved the svarsdatum to
    /// an earlier day afterwards); the compilation uses the last one received in time.
    pub late: bool,
}

/// A `remiss_rounds` row.
#[derive(Debug, Clone, Default, FromRow)]
pub struct RoundRow {
    pub diarienummer: Option<String>,
    pub phase: Phase,
    pub deadline: Option<String>,
    /// The phases in which changes must be suggested.
    pub suggestion_phases: PhaseSet,
}

impl RoundRow {
    /// Whether the owners require changes to be suggested now: the round is in one of
    /// the phases they chose. Owners still edit directly.
    pub fn suggestions_required(&self) -> bool {
        self.suggestion_phases.contains(self.phase)
    }
}

/// A `remiss_invitees` row joined with the organisation's name and its current role.
#[derive(Debug, Clone, FromRow)]
pub struct InviteeRow {
    pub org_id: String,
    pub org_name: Option<String>,
    pub role: Role,
    pub invited_at: i64,
    pub opened_at: Option<i64>,
    pub first_comment_at: Option<i64>,
    pub done_at: Option<i64>,
    pub declined_at: Option<i64>,
    pub statement: Option<String>,
    /// Threads it opened on the document.
    pub threads: i64,
    /// The round's svarsdatum.
    pub round_deadline: Option<String>,
    /// The latest later svarsdatum granted to it, if any (`extensions`).
    pub granted_date: Option<String>,
}

impl InviteeRow {
    /// Its effective svarsdatum: the round's, or the later date granted to it.
    pub fn deadline(&self) -> Option<String> {
        crate::consultation::extensions::effective(
            self.round_deadline.as_deref(),
            self.granted_date.as_deref(),
        )
    }

    /// Whether a date later than the round's was granted to it.
    pub fn extended(&self) -> bool {
        self.deadline() != self.round_deadline
    }

    /// The status, in the contract's order: declined, done, commenting, opened, invited.
    pub fn status(&self) -> InviteeStatus {
        if self.declined_at.is_some() {
            InviteeStatus::Declined
        } else if self.done_at.is_some() {
            InviteeStatus::Done
        } else if self.first_comment_at.is_some() {
            InviteeStatus::Commenting
        } else if self.opened_at.is_some() {
            InviteeStatus::Opened
        } else {
            InviteeStatus::Invited
        }
    }
}

/// An organisation by id and display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OrgRef {
    pub id: String,
    pub name: String,
}

/// One invited organisation and what it did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InviteeResponse {
    pub org: OrgRef,
    pub role: Role,
    pub status: InviteeStatus,
    /// Epoch milliseconds: when it was first given a role.
    pub invited_at: i64,
    pub opened_at: Option<i64>,
    pub first_comment_at: Option<i64>,
    pub done_at: Option<i64>,
    pub declined_at: Option<i64>,
    /// Its summary statement (required when done, optional when declined): the latest.
    pub statement: Option<String>,
    /// Threads it opened.
    pub threads: i64,
    /// Its svarsdatum, `YYYY-MM-DD`: the round's, or a later one granted to it.
    pub deadline: Option<String>,
    /// A later svarsdatum than the round's was granted to it.
    pub extended: bool,
    /// Every answer it submitted, oldest first: an answer replaced is kept here.
    pub submissions: Vec<SubmissionResponse>,
}

/// `GET|PUT /api/documents/{id}/remiss`: the round and its invitees.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RoundResponse {
    /// E.g. "KS 2019/1939".
    pub diarienummer: Option<String>,
    pub phase: Phase,
    /// The svarsdatum, `YYYY-MM-DD` in Europe/Stockholm, inclusive.
    pub deadline: Option<String>,
    /// The svarsdatum is over (it is a later day in Stockholm): the caller's
    /// organisation's own svarsdatum, when a later one was granted to it.
    pub deadline_passed: bool,
    /// Whether new threads are accepted now from the caller's organisation: not after its
    /// svarsdatum, not in `avslutad`.
    pub accepting_threads: bool,
    /// The first moment after the svarsdatum (midnight in Stockholm starting the next
    /// day), epoch ms: an open page closes its forms then without asking the server.
    pub closes_at: Option<i64>,
    /// The phases in which the owners require changes to be suggested (issue 16).
    pub suggestion_phases: Vec<Phase>,
    /// Changes must be suggested now (the phase is one of `suggestionPhases`): an
    /// editor's direct updates are not stored, and the editor keeps suggesting; owners
    /// still edit directly.
    pub suggestions_required: bool,
    pub invitees: Vec<InviteeResponse>,
}

/// `PUT /api/documents/{id}/remiss`: any of the fields; an absent field is left as it is,
/// `null` clears it.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateRoundRequest {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub diarienummer: Option<Option<String>>,
    pub phase: Option<Phase>,
    /// `YYYY-MM-DD`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub deadline: Option<Option<String>>,
    /// The phases in which changes must be suggested (replaces the list; `[]` for none).
    pub suggestion_phases: Option<Vec<Phase>>,
}

/// `POST /api/documents/{id}/remiss/response`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    pub status: Answer,
    /// Required when `done`, optional when `declined`.
    pub statement: Option<String>,
}

/// Tells a field given as `null` (`Some(None)`) from an absent one (`None`, by `default`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> InviteeRow {
        InviteeRow {
            org_id: "u".into(),
            org_name: None,
            role: Role::Commenter,
            invited_at: 1,
            opened_at: None,
            first_comment_at: None,
            done_at: None,
            declined_at: None,
            statement: None,
            threads: 0,
            round_deadline: None,
            granted_date: None,
        }
    }

    #[test]
    fn status_follows_the_contract_order() {
        let mut r = row();
        assert_eq!(r.status(), InviteeStatus::Invited);
        r.opened_at = Some(2);
        assert_eq!(r.status(), InviteeStatus::Opened);
        r.first_comment_at = Some(3);
        assert_eq!(r.status(), InviteeStatus::Commenting);
        r.done_at = Some(4);
        assert_eq!(r.status(), InviteeStatus::Done);
        r.declined_at = Some(5);
        assert_eq!(r.status(), InviteeStatus::Declined);
    }

    #[test]
    fn null_and_absent_fields_differ() {
        let absent: UpdateRoundRequest = serde_json::from_str("{}").expect("json");
        assert!(absent.diarienummer.is_none());
        let null: UpdateRoundRequest =
            serde_json::from_str(r#"{"diarienummer": null, "deadline": "2020-11-30"}"#)
                .expect("json");
        assert_eq!(null.diarienummer, Some(None));
        assert_eq!(null.deadline, Some(Some("2020-11-30".into())));
    }

    #[test]
    fn a_phase_set_is_stored_as_its_words_and_an_unknown_word_fails() {
        for bits in 0..8u8 {
            let set = PhaseSet(bits);
            assert_eq!(PhaseSet::parse(set.as_str()), Ok(set));
        }
        let set = PhaseSet::of(&[Phase::Avslutad, Phase::Remiss, Phase::Remiss]);
        assert_eq!(set.as_str(), "remiss,avslutad");
        assert_eq!(set.phases(), [Phase::Remiss, Phase::Avslutad]);
        assert!(!set.contains(Phase::Beredning));
        assert!(PhaseSet::parse("remiss,utkast").is_err());
    }
}
