//! The deadline rule: after the svarsdatum or once the round is `avslutad`, no new threads;
//! replies, comment edits and deletes and anchor moves only from the owners; and no
//! invitee changes its statement. What was received by the deadline is the record.
//!
//! A svarsdatum is a calendar date in Europe/Stockholm, inclusive: answers are accepted
//! until 23:59:59 Swedish time on that day, whatever the server's own zone. The zone
//! rules come from jiff's bundled copy of the tz database, so a server without
//! `/usr/share/zoneinfo` still knows when Swedish summer time starts.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::auth::Role;
use crate::consultation::model::{Phase, RoundRow};
use crate::error::{ApiResult, AppError};
use crate::ids::{DocId, OrgId};
use crate::storage::Tx;

/// The zone a svarsdatum is counted in.
pub const ZONE: &str = "Europe/Stockholm";

/// Parses a svarsdatum: exactly `YYYY-MM-DD`, a real date.
pub fn parse_date(text: &str) -> Result<Date, String> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if !shaped {
        return Err(format!("the svarsdatum `{text}` is not a date YYYY-MM-DD"));
    }
    text.parse::<Date>()
        .map_err(|_| format!("the svarsdatum `{text}` is not a real date"))
}

/// Today's date in Stockholm.
pub fn today() -> Date {
    let zone = TimeZone::get(ZONE).unwrap_or_else(|error| {
        // The tz database is compiled in; this only fails if that copy is broken.
        tracing::error!(%error, "no rules for {ZONE}; counting the svarsdatum in UTC");
        TimeZone::UTC
    });
    jiff::Timestamp::now().to_zoned_datetime(zone).date()
}

/// What the round allows on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Openness {
    /// The svarsdatum is an earlier day than `today`.
    pub deadline_passed: bool,
    /// New threads are accepted.
    pub accepting_threads: bool,
    /// Why not, naming the date or phase, when they are not.
    pub closed_because: Option<String>,
}

/// Applies the rule to a round on `today`.
pub fn openness(round: &RoundRow, today: Date) -> Openness {
    let deadline = round.deadline.as_deref();
    let deadline_passed = deadline
        .and_then(|d| parse_date(d).ok())
        .is_some_and(|d| today > d);
    let closed_because = if round.phase == Phase::Avslutad {
        Some(match deadline {
            Some(date) => {
                format!("the remiss round is closed (avslutad; the svarsdatum was {date}, {ZONE})")
            }
            None => "the remiss round is closed (avslutad)".to_owned(),
        })
    } else if deadline_passed {
        Some(format!(
            "the svarsdatum {} has passed (answers were accepted until 23:59 {ZONE} time that day)",
            deadline.unwrap_or_default()
        ))
    } else {
        None
    };
    Openness {
        deadline_passed,
        accepting_threads: closed_because.is_none(),
        closed_because,
    }
}

/// The first moment after the svarsdatum `date`: midnight in Stockholm at the start of
/// the next day, in epoch milliseconds. A statement received before it was on time.
pub fn closes_at(date: Date) -> Option<i64> {
    let zone = TimeZone::get(ZONE).ok()?;
    let next = date.tomorrow().ok()?;
    let start = next.to_zoned_datetime(zone).ok()?;
    Some(start.timestamp().as_millisecond())
}

/// What a caller is about to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contribution {
    /// Open a thread.
    Thread,
    /// Reply in a thread.
    Reply,
    /// Edit one's comment.
    Edit,
    /// Delete (withdraw) one's comment.
    Delete,
    /// Move a thread to another range.
    Reanchor,
    /// Give or replace the organisation's statement (remissvar).
    Statement,
}

impl Contribution {
    /// Whether the owners may still do it once the round is closed: they answer, resolve
    /// and annotate after the deadline; a new thread or a statement is closed to all.
    fn open_to_owners(self) -> bool {
        matches!(
            self,
            Self::Reply | Self::Edit | Self::Delete | Self::Reanchor
        )
    }

    fn refused(self) -> &'static str {
        match self {
            Self::Thread => "new threads are no longer accepted",
            Self::Reply => "only the owners may still reply",
            Self::Edit => "comments are kept as received; only the owners may still edit theirs",
            Self::Delete => {
                "comments are kept as received; only the owners may still delete theirs"
            }
            Self::Reanchor => "only the owners may still move a thread",
            Self::Statement => "the statements are kept as received and can no longer change",
        }
    }
}

/// Why `what` is refused on `round` on `today` for someone with `role`, if it is.
pub fn refusal(round: &RoundRow, today: Date, role: Role, what: Contribution) -> Option<String> {
    if what.open_to_owners() && role == Role::Owner {
        return None;
    }
    openness(round, today)
        .closed_because
        .map(|because| format!("{because}: {}", what.refused()))
}

/// Refuses `what` of organisation `org` once the round is closed for it (see
/// [`refusal`]), with 409 `remiss_closed`: after its effective svarsdatum (the round's, or
/// a later one granted to it, `extensions::effective`). Reads the round inside the use
/// case's transaction, so the change and the rule it passed are one consistent read.
pub async fn check_open(
    tx: &mut Tx,
    doc: &DocId,
    org: &OrgId,
    role: Role,
    what: Contribution,
) -> ApiResult<()> {
    let round = tx.remiss_round_for(doc, org).await?;
    match refusal(&round, today(), role, what) {
        None => Ok(()),
        Some(message) => Err(AppError::RemissClosed(message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round(phase: Phase, deadline: Option<&str>) -> RoundRow {
        RoundRow {
            diarienummer: None,
            phase,
            deadline: deadline.map(str::to_owned),
            ..RoundRow::default()
        }
    }

    fn date(text: &str) -> Date {
        parse_date(text).expect("date")
    }

    #[test]
    fn the_svarsdatum_itself_still_counts() {
        let r = round(Phase::Remiss, Some("2020-11-30"));
        assert!(openness(&r, date("2020-11-30")).accepting_threads);
        let after = openness(&r, date("2020-12-01"));
        assert!(after.deadline_passed && !after.accepting_threads);
        assert!(after.closed_because.expect("why").contains("2020-11-30"));
    }

    #[test]
    fn avslutad_closes_whatever_the_date() {
        let r = round(Phase::Avslutad, None);
        let open = openness(&r, date("2020-01-01"));
        assert!(!open.deadline_passed && !open.accepting_threads);
        assert!(openness(&round(Phase::Beredning, None), date("2099-01-01")).accepting_threads);
    }

    #[test]
    fn owners_keep_answering_and_invitees_keep_what_they_sent() {
        let closed = round(Phase::Remiss, Some("2020-11-30"));
        let after = date("2020-12-01");
        for what in [
            Contribution::Reply,
            Contribution::Edit,
            Contribution::Delete,
            Contribution::Reanchor,
        ] {
            assert_eq!(refusal(&closed, after, Role::Owner, what), None, "{what:?}");
            let why = refusal(&closed, after, Role::Editor, what).expect("refused");
            assert!(why.contains("2020-11-30"), "{why}");
        }
        for what in [Contribution::Thread, Contribution::Statement] {
            assert!(
                refusal(&closed, after, Role::Owner, what).is_some(),
                "{what:?}"
            );
        }
        let open = date("2020-11-30");
        assert_eq!(
            refusal(&closed, open, Role::Commenter, Contribution::Statement),
            None
        );
        let avslutad = round(Phase::Avslutad, None);
        assert!(refusal(&avslutad, open, Role::Commenter, Contribution::Edit).is_some());
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2020-02-30").is_err());
        assert!(parse_date("2020-2-3").is_err());
        assert!(parse_date("2020-11-30T00:00").is_err());
        assert!(parse_date("+02020-11-30").is_err());
        assert!(parse_date("2024-02-29").is_ok());
    }

    #[test]
    fn the_svarsdatum_closes_at_swedish_midnight() {
        // 2020-12-01T00:00 in Stockholm (UTC+1) is 2020-11-30T23:00Z.
        let expected: jiff::Timestamp = "2020-11-30T23:00:00Z".parse().expect("ts");
        assert_eq!(
            closes_at(date("2020-11-30")),
            Some(expected.as_millisecond())
        );
    }

    #[test]
    fn stockholm_has_rules() {
        assert!(TimeZone::get(ZONE).is_ok());
        // Midnight UTC on 30 November is already 01:00 in Stockholm: the same day; at
        // 23:30 UTC it is the next day there.
        let zone = TimeZone::get(ZONE).expect("zone");
        let late: jiff::Timestamp = "2020-11-30T23:30:00Z".parse().expect("ts");
        assert_eq!(late.to_zoned_datetime(zone).date(), date("2020-12-01"));
    }
}
