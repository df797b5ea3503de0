//! Reminders before the svarsdatum to invited organisations that have not answered:
//! 7 and 2 days before, and the day after ([`STAGES`]), counted in Europe/Stockholm as
//! the deadline rule is (`consultation::deadline`).
//!
//! The rule is a pure function of the svarsdatum and today's date ([`due_stage`]), and
//! the sweep takes today's date as an argument ([`sweep`]), so tests set the clock
//! instead of waiting. Each reminder is a row in `remiss_reminders` keyed by document,
//! organisation, svarsdatum and stage, inserted in the transaction that raises it:
//! whichever node sweeps first sends it, and a moved svarsdatum starts a new series. The
//! svarsdatum is the organisation's effective one (`consultation::extensions`): a later
//! date granted to it moves its reminders.

use std::time::Duration;

use jiff::civil::Date;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::consultation::{deadline, extensions};
use crate::ids::{DocId, OrgId};
use crate::notifications::Kind;
use crate::notifications::raise::{self, Audience, Event};
use crate::on_pool;
use crate::on_tx;
use crate::storage::{Db, StoreError, now_ms};

/// Days relative to the svarsdatum on which a reminder goes: 7 and 2 days before, and
/// the day after. Ascending.
pub const STAGES: [i64; 3] = [-7, -2, 1];

/// How many days after its day the last reminder may still go (a server that was down
/// on the day after the svarsdatum sends it when it is back, but not weeks later).
pub const LAST_STAGE_GRACE_DAYS: i64 = 2;

/// How often each node sweeps.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// The stage due on `today` for svarsdatum `svarsdatum`, if any. A stage is due from
/// its day until the next stage's day, so a reminder missed on its day (a server down,
/// an organisation invited late) still goes once, and never two at once; the last is
/// due for [`LAST_STAGE_GRACE_DAYS`] more days.
pub fn due_stage(svarsdatum: Date, today: Date) -> Option<i64> {
    let offset = i64::from((today - svarsdatum).get_days());
    let (index, stage) = STAGES
        .iter()
        .enumerate()
        .rev()
        .find(|(_, stage)| **stage <= offset)?;
    let last = index == STAGES.len() - 1;
    (!last || offset <= stage + LAST_STAGE_GRACE_DAYS).then_some(*stage)
}

/// An invitee that has not answered, in a round in phase `remiss` with a svarsdatum.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Pending {
    doc_id: DocId,
    org_id: OrgId,
    /// The round's svarsdatum.
    deadline: String,
    /// A later one granted to the organisation, if any.
    granted_date: Option<String>,
}

/// Raises the reminders due on `today`; returns how many (organisation, stage) reminders
/// were raised. Each organisation is reminded of its effective svarsdatum (a later one
/// granted to it replaces the round's), so a grant starts a new series for it.
pub async fn sweep(db: &Db, today: Date) -> Result<usize, StoreError> {
    let sql = format!(
        "SELECT i.doc_id, i.org_id, r.deadline, {} AS granted_date FROM remiss_invitees i \
         JOIN remiss_rounds r ON r.doc_id = i.doc_id \
         JOIN documents d ON d.id = i.doc_id \
         JOIN document_members m ON m.doc_id = i.doc_id AND m.principal_kind = 'org' AND m.principal_id = i.org_id \
         WHERE r.phase = 'remiss' AND r.deadline IS NOT NULL AND i.org_id <> d.owner_org \
         AND i.done_at IS NULL AND i.declined_at IS NULL ORDER BY i.doc_id, i.org_id",
        extensions::GRANTED_SQL
    );
    let pending: Vec<Pending> = on_pool!(db, pool => {
        sqlx::query_as::<_, Pending>(sqlx::AssertSqlSafe(sql))
        .fetch_all(pool)
        .await?
    });
    let mut raised = 0;
    for mut invitee in pending {
        if let Some(effective) =
            extensions::effective(Some(&invitee.deadline), invitee.granted_date.as_deref())
        {
            invitee.deadline = effective;
        }
        let Ok(svarsdatum) = deadline::parse_date(&invitee.deadline) else {
            tracing::warn!(doc = %invitee.doc_id, deadline = %invitee.deadline, "a stored svarsdatum is not a date");
            continue;
        };
        let Some(stage) = due_stage(svarsdatum, today) else {
            continue;
        };
        if remind(db, &invitee, stage, svarsdatum, today).await? {
            raised += 1;
        }
    }
    Ok(raised)
}

/// Records and raises one reminder, unless it was sent already.
async fn remind(
    db: &Db,
    invitee: &Pending,
    stage: i64,
    svarsdatum: Date,
    today: Date,
) -> Result<bool, StoreError> {
    let mut tx = db.transaction_for(&invitee.doc_id).await?;
    let inserted: Option<String> = on_tx!(tx, conn => {
        sqlx::query_scalar(
            "INSERT INTO remiss_reminders (doc_id, org_id, deadline, stage, sent_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (doc_id, org_id, deadline, stage) DO NOTHING RETURNING doc_id",
        )
        .bind(invitee.doc_id.as_str())
        .bind(invitee.org_id.as_str())
        .bind(&invitee.deadline)
        .bind(stage)
        .bind(now_ms())
        .fetch_optional(&mut *conn)
        .await?
    });
    if inserted.is_none() {
        return Ok(false);
    }
    let days_left = i64::from((svarsdatum - today).get_days());
    let event = Event {
        kind: Kind::DeadlineReminder,
        doc: invitee.doc_id.clone(),
        thread: None,
        audience: Audience::Org(invitee.org_id.clone()),
        actor: None,
        payload: json!({ "deadline": invitee.deadline, "stage": stage, "daysLeft": days_left }),
    };
    let mailed = raise::raise_in(&mut tx, &event).await?;
    if mailed > 0 {
        tx.after_commit(crate::notifications::outbox::wake);
    }
    tx.commit().await?;
    Ok(true)
}

/// Sweeps at start and every [`SWEEP_INTERVAL`] with today's date in Stockholm, until
/// `shutdown`.
pub async fn run(db: Db, shutdown: CancellationToken) {
    loop {
        match sweep(&db, deadline::today()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(reminders = n, "svarsdatum reminders raised"),
            Err(error) => tracing::error!(%error, "the svarsdatum reminder sweep failed"),
        }
        tokio::select! {
            () = tokio::time::sleep(SWEEP_INTERVAL) => {}
            () = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn each_stage_goes_from_its_day_until_the_next() {
        let svarsdatum = date("2027-03-31");
        let due = |today: &str| due_stage(svarsdatum, date(today));
        assert_eq!(due("2027-03-23"), None); // 8 days before
        assert_eq!(due("2027-03-24"), Some(-7));
        assert_eq!(due("2027-03-28"), Some(-7));
        assert_eq!(due("2027-03-29"), Some(-2));
        assert_eq!(due("2027-03-31"), Some(-2)); // the day itself: still the 2-day one if missed
        assert_eq!(due("2027-04-01"), Some(1)); // across a month end
        assert_eq!(due("2027-04-03"), Some(1));
        assert_eq!(due("2027-04-04"), None);
    }

    #[test]
    fn days_are_counted_across_the_change_to_summer_time() {
        // Sweden moves to summer time on 2027-03-28; whole days still count as days.
        assert_eq!(due_stage(date("2027-04-04"), date("2027-03-28")), Some(-7));
        assert_eq!(due_stage(date("2027-04-04"), date("2027-04-02")), Some(-2));
    }
}
