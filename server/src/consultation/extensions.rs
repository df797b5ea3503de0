//! Extensions of the svarsdatum per organisation: an invited organisation asks for a
//! later date with a reason, the owners grant it (with the date they choose) or refuse
//! it. Requests and decisions are official records, appended and never changed (the
//! tables refuse updates); a decision is a new row beside its request.
//!
//! An organisation's **effective svarsdatum** is the round's, or its latest granted date
//! when that is later ([`effective`]). The deadline rule, the reminders, the invitee
//! table and the read-outs all use it.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use crate::auth::Identity;
use crate::consultation::model::OrgRef;
use crate::ids::{DocId, OrgId};
use crate::storage::{Db, StoreError, Tx, now_ms};
use crate::{on_pool, on_tx};

/// The latest date granted to invitee row `i` (columns `i.doc_id`, `i.org_id`), as a
/// scalar subquery for the queries that list invitees.
pub const GRANTED_SQL: &str = "(SELECT x.granted_date FROM remiss_extension_decisions x \
     WHERE x.doc_id = i.doc_id AND x.org_id = i.org_id AND x.granted = 1 ORDER BY x.seq DESC LIMIT 1)";

/// The svarsdatum that applies to an organisation: the round's, or the date granted to
/// it when that is later. Dates are `YYYY-MM-DD`, so text order is date order. A grant
/// means nothing without a round svarsdatum (the round has no deadline to extend).
pub fn effective(round: Option<&str>, granted: Option<&str>) -> Option<String> {
    match (round, granted) {
        (Some(round), Some(granted)) if granted > round => Some(granted.to_owned()),
        (round, _) => round.map(str::to_owned),
    }
}

/// A `remiss_extension_requests` row with the organisation's name.
#[derive(Debug, Clone, FromRow)]
pub struct RequestRow {
    pub seq: i64,
    pub org_id: String,
    pub org_name: Option<String>,
    pub requested_date: String,
    pub reason: String,
    pub requested_at: i64,
    pub requested_by: String,
    pub requested_by_name: String,
}

/// A `remiss_extension_decisions` row with the organisation's name.
#[derive(Debug, Clone, FromRow)]
pub struct DecisionRow {
    pub seq: i64,
    pub org_id: String,
    pub org_name: Option<String>,
    pub request_seq: Option<i64>,
    pub granted: i64,
    pub granted_date: Option<String>,
    pub reason: Option<String>,
    pub decided_at: i64,
    pub decided_by: String,
    pub decided_by_name: String,
}

/// A decision as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionResponse {
    pub seq: i64,
    pub org: OrgRef,
    /// The request it answers; `null` for a grant the owners gave unasked.
    pub request: Option<i64>,
    pub granted: bool,
    /// The granted svarsdatum (`YYYY-MM-DD`), when granted.
    pub date: Option<String>,
    /// Why (required when refused).
    pub reason: Option<String>,
    /// Epoch milliseconds.
    pub decided_at: i64,
    pub decided_by_name: String,
}

/// A request as the API shows it, with its decision once made.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestResponse {
    pub seq: i64,
    pub org: OrgRef,
    /// The date asked for, `YYYY-MM-DD`.
    pub date: String,
    pub reason: String,
    /// Epoch milliseconds.
    pub requested_at: i64,
    pub requested_by_name: String,
    /// `null` while pending.
    pub decision: Option<DecisionResponse>,
}

/// `GET /api/documents/{id}/remiss/extensions`: requests and decisions, oldest first.
/// Owners see every organisation's; an invitee sees its own.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExtensionsResponse {
    pub requests: Vec<RequestResponse>,
    /// Every decision, on a request or not.
    pub decisions: Vec<DecisionResponse>,
}

/// `POST /api/documents/{id}/remiss/extensions`: an invitee asks for a later svarsdatum.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionRequest {
    /// `YYYY-MM-DD`, later than the organisation's current svarsdatum.
    pub date: String,
    pub reason: String,
}

/// `POST /api/documents/{id}/remiss/extensions/decisions`: the owners grant or refuse.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DecisionRequest {
    /// The organisation the decision concerns.
    pub org: String,
    /// The request answered; absent for a grant without a request.
    pub request: Option<i64>,
    pub grant: bool,
    /// The granted date (required when granting), later than the round's svarsdatum.
    pub date: Option<String>,
    /// Why (required when refusing).
    pub reason: Option<String>,
}

fn org_ref(id: String, name: Option<String>) -> OrgRef {
    OrgRef {
        name: name.unwrap_or_else(|| id.clone()),
        id,
    }
}

impl DecisionRow {
    /// The API's form.
    pub fn into_response(self) -> DecisionResponse {
        DecisionResponse {
            seq: self.seq,
            org: org_ref(self.org_id, self.org_name),
            request: self.request_seq,
            granted: self.granted == 1,
            date: self.granted_date,
            reason: self.reason,
            decided_at: self.decided_at,
            decided_by_name: self.decided_by_name,
        }
    }
}

/// Joins requests with their decisions; keeps the rows of `only` (an organisation) if given.
pub fn response(
    requests: Vec<RequestRow>,
    decisions: Vec<DecisionRow>,
    only: Option<&OrgId>,
) -> ExtensionsResponse {
    let keep = |org: &str| only.is_none_or(|o| o.as_str() == org);
    let decisions: Vec<DecisionResponse> = decisions
        .into_iter()
        .filter(|d| keep(&d.org_id))
        .map(DecisionRow::into_response)
        .collect();
    let requests = requests
        .into_iter()
        .filter(|r| keep(&r.org_id))
        .map(|r| RequestResponse {
            decision: decisions.iter().find(|d| d.request == Some(r.seq)).cloned(),
            seq: r.seq,
            org: org_ref(r.org_id, r.org_name),
            date: r.requested_date,
            reason: r.reason,
            requested_at: r.requested_at,
            requested_by_name: r.requested_by_name,
        })
        .collect();
    ExtensionsResponse {
        requests,
        decisions,
    }
}

/// A checked decision, as the use case stores it.
#[derive(Debug, Clone)]
pub struct NewDecision<'a> {
    pub org: &'a OrgId,
    pub request: Option<i64>,
    pub granted_date: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub by: &'a Identity,
}

impl Db {
    /// The document's extension requests, oldest first.
    pub async fn extension_requests(&self, doc: &DocId) -> Result<Vec<RequestRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, RequestRow>(
                "SELECT r.seq, r.org_id, o.name AS org_name, r.requested_date, r.reason, r.requested_at, \
                 r.requested_by, r.requested_by_name FROM remiss_extension_requests r \
                 LEFT JOIN organisations o ON o.id = r.org_id WHERE r.doc_id = $1 ORDER BY r.seq",
            )
            .bind(doc.as_str())
            .fetch_all(pool)
            .await?
        }))
    }

    /// The document's extension decisions, oldest first.
    pub async fn extension_decisions(&self, doc: &DocId) -> Result<Vec<DecisionRow>, StoreError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as::<_, DecisionRow>(
                "SELECT x.seq, x.org_id, o.name AS org_name, x.request_seq, x.granted, x.granted_date, \
                 x.reason, x.decided_at, x.decided_by, x.decided_by_name FROM remiss_extension_decisions x \
                 LEFT JOIN organisations o ON o.id = x.org_id WHERE x.doc_id = $1 ORDER BY x.seq",
            )
            .bind(doc.as_str())
            .fetch_all(pool)
            .await?
        }))
    }
}

impl Tx {
    /// The latest date granted to `org` on `doc`, if any.
    pub async fn granted_date(
        &mut self,
        doc: &DocId,
        org: &OrgId,
    ) -> Result<Option<String>, StoreError> {
        Ok(on_tx!(self, conn => {
            sqlx::query_scalar::<_, Option<String>>(
                "SELECT granted_date FROM remiss_extension_decisions \
                 WHERE doc_id = $1 AND org_id = $2 AND granted = 1 ORDER BY seq DESC LIMIT 1",
            )
            .bind(doc.as_str())
            .bind(org.as_str())
            .fetch_optional(&mut *conn)
            .await?
            .flatten()
        }))
    }

    /// `org`'s request `seq` on `doc` and whether it was decided, if it exists.
    pub async fn extension_request(
        &mut self,
        doc: &DocId,
        seq: i64,
    ) -> Result<Option<(String, bool)>, StoreError> {
        Ok(on_tx!(self, conn => {
            sqlx::query_as::<_, (String, bool)>(
                "SELECT r.org_id, EXISTS (SELECT 1 FROM remiss_extension_decisions x \
                 WHERE x.doc_id = r.doc_id AND x.request_seq = r.seq) FROM remiss_extension_requests r \
                 WHERE r.doc_id = $1 AND r.seq = $2",
            )
            .bind(doc.as_str())
            .bind(seq)
            .fetch_optional(&mut *conn)
            .await?
        }))
    }

    /// How many of `org`'s requests on `doc` await a decision.
    pub async fn pending_extension_requests(
        &mut self,
        doc: &DocId,
        org: &OrgId,
    ) -> Result<i64, StoreError> {
        Ok(on_tx!(self, conn => {
            sqlx::query_scalar::<_, i64>(
                "SELECT COUNT(*) FROM remiss_extension_requests r WHERE r.doc_id = $1 AND r.org_id = $2 \
                 AND NOT EXISTS (SELECT 1 FROM remiss_extension_decisions x \
                 WHERE x.doc_id = r.doc_id AND x.request_seq = r.seq)",
            )
            .bind(doc.as_str())
            .bind(org.as_str())
            .fetch_one(&mut *conn)
            .await?
        }))
    }

    /// Appends `who`'s organisation's request; returns its number.
    pub async fn insert_extension_request(
        &mut self,
        doc: &DocId,
        who: &Identity,
        date: &str,
        reason: &str,
    ) -> Result<i64, StoreError> {
        Ok(on_tx!(self, conn => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO remiss_extension_requests (doc_id, seq, org_id, requested_date, reason, \
                 requested_at, requested_by, requested_by_name) \
                 SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7 \
                 FROM remiss_extension_requests WHERE doc_id = $1 RETURNING seq",
            )
            .bind(doc.as_str())
            .bind(who.org.as_str())
            .bind(date)
            .bind(reason)
            .bind(now_ms())
            .bind(who.user.as_str())
            .bind(&who.name)
            .fetch_one(&mut *conn)
            .await?
        }))
    }

    /// Appends a decision; returns its number.
    pub async fn insert_extension_decision(
        &mut self,
        doc: &DocId,
        decision: &NewDecision<'_>,
    ) -> Result<i64, StoreError> {
        Ok(on_tx!(self, conn => {
            sqlx::query_scalar::<_, i64>(
                "INSERT INTO remiss_extension_decisions (doc_id, seq, org_id, request_seq, granted, \
                 granted_date, reason, decided_at, decided_by, decided_by_name) \
                 SELECT $1, COALESCE(MAX(seq), 0) + 1, $2, $3, $4, $5, $6, $7, $8, $9 \
                 FROM remiss_extension_decisions WHERE doc_id = $1 RETURNING seq",
            )
            .bind(doc.as_str())
            .bind(decision.org.as_str())
            .bind(decision.request)
            .bind(i64::from(decision.granted_date.is_some()))
            .bind(decision.granted_date)
            .bind(decision.reason)
            .bind(now_ms())
            .bind(decision.by.user.as_str())
            .bind(&decision.by.name)
            .fetch_one(&mut *conn)
            .await?
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_later_grant_moves_the_svarsdatum() {
        assert_eq!(
            effective(Some("2031-05-20"), None).as_deref(),
            Some("2031-05-20")
        );
        assert_eq!(
            effective(Some("2031-05-20"), Some("2031-06-03")).as_deref(),
            Some("2031-06-03")
        );
        // The owners moved the round's date past an earlier grant: the round's counts.
        assert_eq!(
            effective(Some("2031-07-01"), Some("2031-06-03")).as_deref(),
            Some("2031-07-01")
        );
        assert_eq!(effective(None, Some("2031-06-03")), None);
    }
}
