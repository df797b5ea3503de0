//! How much one user may create: documents and comment threads, per hour and in all.
//!
//! Issue 13 found no bound at all: one token could create documents and threads as
//! fast as the database took them. The counts come from the rows themselves
//! (`documents.created_by`, `threads.author_id`, indexed with `created_at` by migration
//! 0303), so they hold across a cluster and across restarts and need no state of their
//! own. The check runs before the insert, not in its transaction: concurrent requests
//! from one user can pass it together and overshoot by as many as run at once, which
//! the per-address connection cap keeps small. A limit of 0 means none.

use std::time::Duration;

use crate::error::AppError;
use crate::ids::UserId;
use crate::limits::Limits;
use crate::on_pool;
use crate::storage::{Db, StoreError, now_ms};

/// Default documents one user may create in an hour.
pub const DEFAULT_DOCUMENTS_PER_HOUR: u32 = 60;
/// Default documents one user may have created in all.
pub const DEFAULT_DOCUMENTS_TOTAL: u32 = 2_000;
/// Default comment threads one user may open in an hour.
pub const DEFAULT_THREADS_PER_HOUR: u32 = 300;
/// Default comment threads one user may have opened in all.
pub const DEFAULT_THREADS_TOTAL: u32 = 20_000;

const HOUR: Duration = Duration::from_secs(3600);
const HOUR_MS: i64 = 3_600_000;

/// What is being created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    Document,
    Thread,
}

impl Creation {
    fn plural(self) -> &'static str {
        match self {
            Self::Document => "documents",
            Self::Thread => "comment threads",
        }
    }
}

/// A per-user limit on one kind of creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    /// Created in the last hour, at most (0: no limit).
    pub per_hour: u32,
    /// Created in all and still there, at most (0: no limit).
    pub total: u32,
}

/// The quotas of each kind (flags in `cli`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaSettings {
    pub documents: Quota,
    pub threads: Quota,
}

impl Default for QuotaSettings {
    fn default() -> Self {
        Self {
            documents: Quota {
                per_hour: DEFAULT_DOCUMENTS_PER_HOUR,
                total: DEFAULT_DOCUMENTS_TOTAL,
            },
            threads: Quota {
                per_hour: DEFAULT_THREADS_PER_HOUR,
                total: DEFAULT_THREADS_TOTAL,
            },
        }
    }
}

/// What a user has created of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Created {
    pub total: i64,
    pub last_hour: i64,
    /// When the oldest of the last hour's was created (epoch ms).
    pub oldest_in_hour: Option<i64>,
}

/// A quota reached, and when one more will be allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaExceeded {
    #[error("at most {limit} {what} an hour per user")]
    PerHour {
        what: &'static str,
        limit: u32,
        retry_after: Duration,
    },
    #[error("at most {limit} {what} per user in all; delete some first")]
    Total { what: &'static str, limit: u32 },
}

impl From<QuotaExceeded> for AppError {
    fn from(e: QuotaExceeded) -> Self {
        let retry_after = match e {
            QuotaExceeded::PerHour { retry_after, .. } => retry_after,
            QuotaExceeded::Total { .. } => HOUR,
        };
        AppError::TooManyRequests {
            message: e.to_string(),
            retry_after,
        }
    }
}

impl Quota {
    /// Whether one more may be created, given what was and the time now (epoch ms).
    pub fn allows(&self, what: Creation, created: &Created, now: i64) -> Result<(), QuotaExceeded> {
        if self.total > 0 && created.total >= i64::from(self.total) {
            return Err(QuotaExceeded::Total {
                what: what.plural(),
                limit: self.total,
            });
        }
        if self.per_hour > 0 && created.last_hour >= i64::from(self.per_hour) {
            let frees_at = created.oldest_in_hour.unwrap_or(now) + HOUR_MS;
            let wait = u64::try_from(frees_at - now).unwrap_or(0).max(1_000);
            return Err(QuotaExceeded::PerHour {
                what: what.plural(),
                limit: self.per_hour,
                retry_after: Duration::from_millis(wait),
            });
        }
        Ok(())
    }
}

/// Refuses (429 with `Retry-After`) when `user` may not create one more `what`.
pub async fn check(
    db: &Db,
    limits: &Limits,
    user: &UserId,
    what: Creation,
) -> Result<(), AppError> {
    let settings = limits.quotas;
    let quota = match what {
        Creation::Document => settings.documents,
        Creation::Thread => settings.threads,
    };
    if quota.per_hour == 0 && quota.total == 0 {
        return Ok(());
    }
    let now = now_ms();
    let created = db.created_by(user, what, now - HOUR_MS).await?;
    Ok(quota.allows(what, &created, now)?)
}

impl Db {
    /// How many `what` the user has created, in all and since `since` (epoch ms).
    #[tracing::instrument(skip(self))]
    pub async fn created_by(
        &self,
        user: &UserId,
        what: Creation,
        since: i64,
    ) -> Result<Created, StoreError> {
        let sql = match what {
            Creation::Document => {
                "SELECT COUNT(*) AS total, \
                 COUNT(CASE WHEN created_at >= $2 THEN 1 END) AS last_hour, \
                 MIN(CASE WHEN created_at >= $2 THEN created_at END) AS oldest_in_hour \
                 FROM documents WHERE created_by = $1"
            }
            Creation::Thread => {
                "SELECT COUNT(*) AS total, \
                 COUNT(CASE WHEN created_at >= $2 THEN 1 END) AS last_hour, \
                 MIN(CASE WHEN created_at >= $2 THEN created_at END) AS oldest_in_hour \
                 FROM threads WHERE author_id = $1"
            }
        };
        on_pool!(self, pool => Ok(sqlx::query_as::<_, Created>(sql)
            .bind(user.as_str())
            .bind(since)
            .fetch_one(pool)
            .await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hour_and_the_total_are_both_bounded() {
        let quota = Quota {
            per_hour: 2,
            total: 5,
        };
        let now = 10 * HOUR_MS;
        let fresh = Created {
            total: 1,
            last_hour: 1,
            oldest_in_hour: Some(now - 1_000),
        };
        assert_eq!(quota.allows(Creation::Document, &fresh, now), Ok(()));
        let busy = Created {
            total: 4,
            last_hour: 2,
            oldest_in_hour: Some(now - HOUR_MS + 60_000),
        };
        match quota.allows(Creation::Document, &busy, now) {
            Err(QuotaExceeded::PerHour { retry_after, .. }) => {
                assert_eq!(retry_after, Duration::from_secs(60));
            }
            other => panic!("{other:?}"),
        }
        let full = Created {
            total: 5,
            last_hour: 0,
            oldest_in_hour: None,
        };
        assert!(matches!(
            quota.allows(Creation::Thread, &full, now),
            Err(QuotaExceeded::Total { .. })
        ));
        let unlimited = Quota {
            per_hour: 0,
            total: 0,
        };
        assert_eq!(unlimited.allows(Creation::Thread, &full, now), Ok(()));
    }
}
