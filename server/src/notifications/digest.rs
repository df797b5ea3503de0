//! The daily digest: a user who chose `daily` (`preferences::Digest`) gets their
//! notification e-mail collected in one message a day, sent at the digest hour in
//! Europe/Stockholm (07:00 unless `--digest-hour` says otherwise).
//!
//! It rides on the outbox: a daily user's notifications join one pending message keyed
//! `digest:YYYY-MM-DD`, the date of the digest that will carry them ([`slot_date`]),
//! held back ([`HELD`]) so no worker takes it. The [`sweep`] releases the held messages
//! whose hour has come by making them due now; from there the outbox sends them as any
//! other (lease, retries, once across nodes). The sweep takes the time as an argument,
//! so tests set the clock instead of waiting; releasing is one `UPDATE` on rows still
//! held, so two nodes sweeping at once release each message once.

use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use tokio_util::sync::CancellationToken;

use crate::on_pool;
use crate::storage::{Db, StoreError, now_ms};

/// The zone of the digest hour: the svarsdatum's (`consultation::deadline::ZONE`, which
/// sits above this module).
const ZONE: &str = "Europe/Stockholm";

/// `next_attempt_at` of a digest message waiting for its hour.
pub const HELD: i64 = i64::MAX;

/// The digest hour when none is configured: 07:00 in Stockholm.
pub const DEFAULT_HOUR: i8 = 7;

/// Where every node publishes the digest hour it was started with (as the mail policy).
pub const HOUR_KEY: &str = "notifications.digest_hour";

/// How often each node sweeps: a digest goes at most this long after its hour.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

fn zone() -> TimeZone {
    TimeZone::get(ZONE).unwrap_or(TimeZone::UTC)
}

/// The outbox batch key of the digest of `date`.
pub fn batch_key(date: Date) -> String {
    format!("digest:{date}")
}

/// The date of the digest that carries a notification raised at `now` (epoch ms): today's
/// if its hour has not come yet in Stockholm, else tomorrow's.
pub fn slot_date(now: i64, hour: i8) -> Date {
    let local = Timestamp::from_millisecond(now)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned_datetime(zone());
    let today = local.date();
    if local.hour() < hour {
        today
    } else {
        today.checked_add(1.day()).unwrap_or(today)
    }
}

/// The latest date whose digest is due at `now`: today once its hour has come, else
/// yesterday.
pub fn due_date(now: Timestamp, hour: i8) -> Date {
    let local = now.to_zoned_datetime(zone());
    let today = local.date();
    if local.hour() >= hour {
        today
    } else {
        today.checked_sub(1.day()).unwrap_or(today)
    }
}

/// Releases the held digests due at `now` to the outbox; returns how many.
pub async fn sweep(db: &Db, now: Timestamp, hour: i8) -> Result<u64, StoreError> {
    let last = batch_key(due_date(now, hour));
    let released = on_pool!(db, pool => {
        sqlx::query(
            "UPDATE email_outbox SET next_attempt_at = $1 WHERE next_attempt_at = $2 \
             AND batch_key LIKE 'digest:%' AND batch_key <= $3 AND sent_at IS NULL AND failed_at IS NULL",
        )
        .bind(now_ms())
        .bind(HELD)
        .bind(&last)
        .execute(pool)
        .await?
        .rows_affected()
    });
    if released > 0 {
        crate::notifications::outbox::wake();
    }
    Ok(released)
}

/// Sweeps every [`SWEEP_INTERVAL`] with the time now, until `shutdown`.
pub async fn run(db: Db, hour: i8, shutdown: CancellationToken) {
    loop {
        match sweep(&db, Timestamp::now(), hour).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(digests = n, "daily e-mail digests released"),
            Err(error) => tracing::error!(%error, "the daily digest sweep failed"),
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

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    #[test]
    fn a_notification_waits_for_the_next_digest_hour_in_stockholm() {
        // 05:59 UTC in December is 06:59 in Stockholm: today's digest at 07:00.
        let before = at("2026-12-07T05:59:00Z").as_millisecond();
        assert_eq!(slot_date(before, 7).to_string(), "2026-12-07");
        let after = at("2026-12-07T06:00:00Z").as_millisecond();
        assert_eq!(slot_date(after, 7).to_string(), "2026-12-08");
        // In summer Stockholm is UTC+2: 05:00 UTC is already 07:00 there.
        let summer = at("2027-06-01T05:00:00Z").as_millisecond();
        assert_eq!(slot_date(summer, 7).to_string(), "2027-06-02");
    }

    #[test]
    fn a_digest_is_due_from_its_hour() {
        assert_eq!(
            due_date(at("2026-12-08T05:59:59Z"), 7).to_string(),
            "2026-12-07"
        );
        assert_eq!(
            due_date(at("2026-12-08T06:00:00Z"), 7).to_string(),
            "2026-12-08"
        );
        assert!(
            batch_key(due_date(at("2026-12-08T06:00:00Z"), 7))
                >= batch_key(slot_date(at("2026-12-07T06:00:00Z").as_millisecond(), 7))
        );
    }
}
