//! The statements (remissvar) as submitted, and which one the record uses.
//!
//! A statement is an official record once received, so answering again adds a
//! submission and never overwrites one. The svarsdatum decides which counts: the last
//! submission received by the end of that day (Stockholm time). A later one can only exist
//! when the owners moved the svarsdatum to an earlier day after it came in (invitees cannot
//! answer after the deadline); it is kept and shown as received late, never silently used.

use std::collections::HashMap;

use crate::consultation::deadline;
use crate::consultation::model::{InviteeRow, RoundRow, SubmissionResponse, SubmissionRow};
use crate::remiss::render::{Writer, labels};

/// Each organisation's submissions, oldest first, each marked late or not for `round`
/// and the organisation's own svarsdatum (a later one granted to it, in `invitees`).
pub fn by_org(
    rows: Vec<SubmissionRow>,
    round: &RoundRow,
    invitees: &[InviteeRow],
) -> HashMap<String, Vec<SubmissionResponse>> {
    let ends = |date: Option<&str>| {
        date.and_then(|d| deadline::parse_date(d).ok())
            .and_then(deadline::closes_at)
    };
    let round_closes_at = ends(round.deadline.as_deref());
    let mut out: HashMap<String, Vec<SubmissionResponse>> = HashMap::new();
    for row in rows {
        let closes_at = match invitees.iter().find(|i| i.org_id == row.org_id) {
            Some(invitee) if invitee.extended() => ends(invitee.deadline().as_deref()),
            _ => round_closes_at,
        };
        out.entry(row.org_id).or_default().push(SubmissionResponse {
            status: row.answer,
            statement: row.statement,
            submitted_at: row.submitted_at,
            submitted_by: row.submitted_by,
            submitted_by_name: row.submitted_by_name,
            late: closes_at.is_some_and(|end| row.submitted_at >= end),
        });
    }
    out
}

/// The submission the record uses: the last one received in time.
pub fn counted(submissions: &[SubmissionResponse]) -> Option<&SubmissionResponse> {
    submissions.iter().rev().find(|s| !s.late)
}

/// Writes the statement the record uses, saying which it is and when it came in, then
/// any received after the svarsdatum, each marked so. `none` is written when no statement
/// was received in time (`None` writes nothing).
pub fn write(
    out: &mut dyn Writer,
    kept: &[SubmissionResponse],
    deadline: Option<&str>,
    none: Option<&str>,
) {
    let used = counted(kept);
    if let Some(used) = used {
        let which = match deadline {
            Some(date) => format!("det sista svaret inkommet senast svarsdatum {date}"),
            None => "det senaste svaret".to_owned(),
        };
        out.field(
            "Svar inkommet",
            &format!(
                "{} av {} ({which})",
                labels::when(used.submitted_at),
                submitter(used)
            ),
        );
        let replaced = kept.iter().filter(|s| !s.late).count() - 1;
        if replaced > 0 {
            out.field(
                "Ersatta svar",
                &format!("{replaced}, bevarade i remissens svarshistorik"),
            );
        }
    }
    match used.and_then(|s| s.statement.as_deref()) {
        Some(statement) => {
            out.paragraph("Yttrande:");
            out.quote(statement);
        }
        None => {
            if let Some(none) = none {
                out.paragraph(none);
            }
        }
    }
    for late in kept.iter().filter(|s| s.late) {
        out.paragraph(&format!(
            "Inkommet efter svarsdatum, {} av {} ({}); används inte i sammanställningen:",
            labels::when(late.submitted_at),
            submitter(late),
            labels::answer(late.status),
        ));
        if let Some(statement) = &late.statement {
            out.quote(statement);
        }
    }
}

fn submitter(submission: &SubmissionResponse) -> &str {
    submission
        .submitted_by_name
        .as_deref()
        .or(submission.submitted_by.as_deref())
        .unwrap_or("okänd")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consultation::model::{Answer, Phase};

    fn row(seq: i64, at: i64, text: &str) -> SubmissionRow {
        SubmissionRow {
            org_id: "u".into(),
            seq,
            answer: Answer::Done,
            statement: Some(text.into()),
            submitted_at: at,
            submitted_by: Some("sara".into()),
            submitted_by_name: Some("Sara".into()),
        }
    }

    #[test]
    fn the_last_one_in_time_counts() {
        let round = RoundRow {
            diarienummer: None,
            phase: Phase::Remiss,
            deadline: Some("2020-11-30".into()),
            ..RoundRow::default()
        };
        // 2020-11-30T22:59:59Z is 23:59:59 in Stockholm; 23:00Z is the next day there.
        let in_time: jiff::Timestamp = "2020-11-30T22:59:59Z".parse().expect("ts");
        let late: jiff::Timestamp = "2020-11-30T23:00:00Z".parse().expect("ts");
        let rows = vec![
            row(1, 1_000, "Första"),
            row(2, in_time.as_millisecond(), "Andra"),
            row(3, late.as_millisecond(), "Tredje"),
        ];
        let by_org = by_org(rows, &round, &[]);
        let kept = &by_org["u"];
        assert_eq!(
            kept.iter().map(|s| s.late).collect::<Vec<_>>(),
            [false, false, true]
        );
        assert_eq!(
            counted(kept).and_then(|s| s.statement.as_deref()),
            Some("Andra")
        );
    }

    #[test]
    fn without_a_svarsdatum_the_latest_counts() {
        let by_org = by_org(
            vec![row(1, 1, "A"), row(2, 2, "B")],
            &RoundRow::default(),
            &[],
        );
        assert_eq!(
            counted(&by_org["u"]).and_then(|s| s.statement.as_deref()),
            Some("B")
        );
    }
}
