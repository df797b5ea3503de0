//! @mentions of users and organisations in comments (issue 17), stored structurally.
//!
//! A comment's body is plain text and stays so: parsing `@Anna Berg` back out of it
//! would guess (names have spaces, two people share a name, a name changes). So the
//! client sends who it mentioned beside the body (`mentions`, at most
//! [`MAX_MENTIONS`]), the server checks each is a member of the document (a user of an
//! organisation with a role, a user with a role of their own, or such an organisation;
//! the owner organisation counts) and keeps them in `comment_mentions`; the thread JSON
//! returns them on each comment so a client can mark the visible `@name` as a mention,
//! as text, never as markup.
//!
//! An edit sends the whole list again: a principal no earlier wording mentioned is new
//! and is notified (the use case's audit entry carries only the new ones, which
//! `notifications::raise` turns into `mentioned` notifications); one taken out stays
//! recorded as not current, so putting it back later notifies nobody twice.
//!
//! `GET /api/documents/{id}/mentionable?q=` lists whom a member can mention, for the
//! web app's autocomplete.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRef, State};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{AuthUser, Role, TokenKeys};
use crate::comments::CommentsContext;
use crate::error::{ApiJson, ApiPath, ApiQuery, ApiResult, AppError, ErrorResponse};
use crate::ids::{CommentId, DocId, OrgId, ThreadId, UserId};
use crate::storage::{Db, StoreError, Tx, now_ms};
use crate::vocabulary::text_vocabulary;
use crate::{on_pool, on_tx};

/// Most principals one comment may mention: a comment that names more is a mailing, and
/// each mention of an organisation reaches all of its users.
pub const MAX_MENTIONS: usize = 20;

/// Most entries the autocomplete answers with.
pub const MAX_SUGGESTIONS: usize = 20;

/// Longest autocomplete prefix, in characters.
const MAX_QUERY_CHARS: usize = 100;

/// Most members read to filter for the autocomplete (an organisation of a city can have
/// thousands of users; names are filtered here, as SQLite's `LOWER` knows only ASCII).
const MAX_CANDIDATES: i64 = 5_000;

/// Whom a mention names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MentionKind {
    /// One user.
    User,
    /// Every active user of an organisation.
    Org,
}

text_vocabulary!(MentionKind, "mention kind" { User = "user", Org = "org" });

/// One mention as a client sends it with a comment.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MentionRequest {
    pub kind: MentionKind,
    /// The user's or the organisation's id.
    pub id: String,
}

/// A checked mention: the kind and a well-formed id (not yet known to be a member).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mention {
    pub kind: MentionKind,
    pub id: String,
}

/// A mention on a comment in the thread JSON, with the name to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MentionResponse {
    pub kind: MentionKind,
    pub id: String,
    /// The user's or organisation's name now (the body holds the text as written).
    pub name: String,
}

/// Checks the shape of a request's mentions: at most [`MAX_MENTIONS`], ids that can be
/// ids. Repeats are merged. Membership is checked in the use case ([`Tx::check_mentionable`]).
pub fn parse(requests: Option<&[MentionRequest]>) -> ApiResult<Vec<Mention>> {
    let requests = requests.unwrap_or_default();
    if requests.len() > MAX_MENTIONS {
        return Err(AppError::Unprocessable(format!(
            "a comment may mention at most {MAX_MENTIONS} users and organisations"
        )));
    }
    let mut mentions: Vec<Mention> = Vec::with_capacity(requests.len());
    for request in requests {
        let valid = match request.kind {
            MentionKind::User => UserId::parse(request.id.as_str()).is_ok(),
            MentionKind::Org => OrgId::parse(request.id.as_str()).is_ok(),
        };
        if !valid {
            return Err(AppError::Unprocessable(format!(
                "mention: `{}` is not a {} id",
                request.id.chars().take(80).collect::<String>(),
                request.kind.as_str()
            )));
        }
        let mention = Mention {
            kind: request.kind,
            id: request.id.clone(),
        };
        if !mentions.contains(&mention) {
            mentions.push(mention);
        }
    }
    Ok(mentions)
}

/// Whether a user is an active member of the document `$1`: a user `u` of the owner
/// organisation or of a member organisation, or a member by name.
const USER_IS_MEMBER: &str = "u.disabled_at IS NULL AND (u.org_id = (SELECT owner_org FROM documents WHERE id = $1) \
     OR EXISTS (SELECT 1 FROM document_members m WHERE m.doc_id = $1 AND ((m.principal_kind = 'org' \
     AND m.principal_id = u.org_id) OR (m.principal_kind = 'user' AND m.principal_id = u.id))))";

/// Whether an organisation `o` is the owner of the document `$1` or one of its members.
const ORG_IS_MEMBER: &str = "(o.id = (SELECT owner_org FROM documents WHERE id = $1) OR EXISTS (SELECT 1 \
     FROM document_members m WHERE m.doc_id = $1 AND m.principal_kind = 'org' AND m.principal_id = o.id))";

impl Tx {
    /// Refuses (422, naming it) the first mention that is not a member of `doc`.
    pub async fn check_mentionable(&mut self, doc: &DocId, mentions: &[Mention]) -> ApiResult<()> {
        for mention in mentions {
            if !self.is_mentionable(doc, mention).await? {
                let what = match mention.kind {
                    MentionKind::User => "user",
                    MentionKind::Org => "organisation",
                };
                return Err(AppError::Unprocessable(format!(
                    "mention: the {what} `{}` is not a member of this document",
                    mention.id
                )));
            }
        }
        Ok(())
    }

    async fn is_mentionable(&mut self, doc: &DocId, mention: &Mention) -> Result<bool, StoreError> {
        let sql = match mention.kind {
            MentionKind::User => {
                format!("SELECT COUNT(*) FROM users u WHERE u.id = $2 AND {USER_IS_MEMBER}")
            }
            MentionKind::Org => {
                format!("SELECT COUNT(*) FROM organisations o WHERE o.id = $2 AND {ORG_IS_MEMBER}")
            }
        };
        let found: i64 = on_tx!(self, conn => {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .bind(doc.as_str())
                .bind(&mention.id)
                .fetch_one(&mut *conn)
                .await?
        });
        Ok(found > 0)
    }

    /// Records that `comment`'s latest wording mentions exactly `mentions`, and returns
    /// those no earlier wording mentioned (the ones to notify).
    pub async fn record_mentions(
        &mut self,
        comment: &CommentId,
        mentions: &[Mention],
    ) -> Result<Vec<Mention>, StoreError> {
        let known: Vec<(MentionKind, String)> = on_tx!(self, conn => {
            sqlx::query_as("SELECT principal_kind, principal_id FROM comment_mentions WHERE comment_id = $1")
                .bind(comment.as_str())
                .fetch_all(&mut *conn)
                .await?
        });
        let now = now_ms();
        on_tx!(self, conn => {
            sqlx::query("UPDATE comment_mentions SET current = 0 WHERE comment_id = $1")
                .bind(comment.as_str())
                .execute(&mut *conn)
                .await?;
        });
        let mut added = Vec::new();
        for mention in mentions {
            let seen = known
                .iter()
                .any(|(kind, id)| *kind == mention.kind && *id == mention.id);
            on_tx!(self, conn => {
                if seen {
                    sqlx::query("UPDATE comment_mentions SET current = 1 WHERE comment_id = $1 \
                         AND principal_kind = $2 AND principal_id = $3")
                        .bind(comment.as_str())
                        .bind(mention.kind)
                        .bind(&mention.id)
                        .execute(&mut *conn)
                        .await?;
                } else {
                    sqlx::query("INSERT INTO comment_mentions (comment_id, principal_kind, principal_id, \
                         current, added_at) VALUES ($1, $2, $3, 1, $4)")
                        .bind(comment.as_str())
                        .bind(mention.kind)
                        .bind(&mention.id)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                }
            });
            if !seen {
                added.push(mention.clone());
            }
        }
        Ok(added)
    }
}

/// The mentions as the audit entry records them (`[{"kind", "id"}]`).
pub fn to_json(mentions: &[Mention]) -> serde_json::Value {
    serde_json::Value::Array(
        mentions
            .iter()
            .map(|m| serde_json::json!({ "kind": m.kind, "id": m.id }))
            .collect(),
    )
}

/// A current mention with its comment and the name to show.
#[derive(Debug, sqlx::FromRow)]
struct MentionRow {
    comment_id: CommentId,
    principal_kind: MentionKind,
    principal_id: String,
    name: Option<String>,
}

/// The names of mentioned users and organisations, joined for display.
const MENTION_COLUMNS: &str = "x.comment_id, x.principal_kind, x.principal_id, \
     CASE WHEN x.principal_kind = 'user' THEN (SELECT u.name FROM users u WHERE u.id = x.principal_id) \
     ELSE (SELECT o.name FROM organisations o WHERE o.id = x.principal_id) END AS name";

impl Db {
    /// The current mentions of every comment of a document (`thread` set: of one thread),
    /// by comment, in the order they were added.
    pub async fn mentions(
        &self,
        doc: &DocId,
        thread: Option<&ThreadId>,
    ) -> Result<HashMap<CommentId, Vec<MentionResponse>>, StoreError> {
        let sql = format!(
            "SELECT {MENTION_COLUMNS} FROM comment_mentions x JOIN comments c ON c.id = x.comment_id \
             JOIN threads t ON t.id = c.thread_id WHERE t.doc_id = $1 AND ($2 = '' OR t.id = $2) \
             AND x.current = 1 ORDER BY x.added_at, x.principal_kind, x.principal_id"
        );
        let rows: Vec<MentionRow> = on_pool!(self, pool => {
            sqlx::query_as::<_, MentionRow>(sqlx::AssertSqlSafe(sql))
                .bind(doc.as_str())
                .bind(thread.map(ThreadId::as_str).unwrap_or_default())
                .fetch_all(pool)
                .await?
        });
        let mut by_comment: HashMap<CommentId, Vec<MentionResponse>> = HashMap::new();
        for row in rows {
            by_comment
                .entry(row.comment_id)
                .or_default()
                .push(MentionResponse {
                    kind: row.principal_kind,
                    name: row.name.unwrap_or_else(|| row.principal_id.clone()),
                    id: row.principal_id,
                });
        }
        Ok(by_comment)
    }

    /// Every user and organisation that can be mentioned in `doc`, with their names and
    /// users' organisations' names, at most [`MAX_CANDIDATES`] of each.
    async fn mentionable(&self, doc: &DocId) -> Result<Vec<Mentionable>, StoreError> {
        let users = format!(
            "SELECT 'user' AS kind, u.id, u.name, o.name AS org_name FROM users u \
             LEFT JOIN organisations o ON o.id = u.org_id WHERE {USER_IS_MEMBER} ORDER BY u.name, u.id LIMIT $2"
        );
        let orgs = format!(
            "SELECT 'org' AS kind, o.id, o.name, NULL AS org_name FROM organisations o \
             WHERE {ORG_IS_MEMBER} ORDER BY o.name, o.id LIMIT $2"
        );
        let mut all = Vec::new();
        for sql in [orgs, users] {
            let rows: Vec<Mentionable> = on_pool!(self, pool => {
                sqlx::query_as::<_, Mentionable>(sqlx::AssertSqlSafe(sql))
                    .bind(doc.as_str())
                    .bind(MAX_CANDIDATES)
                    .fetch_all(pool)
                    .await?
            });
            all.extend(rows);
        }
        Ok(all)
    }
}

/// Someone who can be mentioned in a document, for the autocomplete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Mentionable {
    pub kind: MentionKind,
    pub id: String,
    pub name: String,
    /// A user's organisation's name (users only).
    pub org_name: Option<String>,
}

/// `GET …/mentionable`'s filter.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct MentionableQuery {
    /// A prefix of the name or of one of its words, any case (`an` finds "Anna Berg"
    /// and "Maria Andersson"); empty or absent: everyone, up to the bound.
    pub q: Option<String>,
}

/// Whether `name` or one of its words begins with `prefix` (already lower case).
fn matches(name: &str, prefix: &str) -> bool {
    if prefix.is_empty() {
        return true;
    }
    let name = name.to_lowercase();
    name.starts_with(prefix)
        || name
            .split(|c: char| c.is_whitespace() || c == '-')
            .any(|word| word.starts_with(prefix))
}

/// The routes of this module.
pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    CommentsContext: FromRef<S>,
    Arc<TokenKeys>: FromRef<S>,
{
    OpenApiRouter::new().routes(routes!(list_mentionable))
}

/// Whom the caller can mention in this document's comments: its member organisations
/// (the owner included) and their active users, and users with a role of their own,
/// organisations first, at most 20, filtered by a name prefix. Any member may ask.
#[utoipa::path(get, path = "/api/documents/{id}/mentionable", tag = "threads", security(("bearer" = [])),
    params(("id" = String, Path), MentionableQuery),
    responses((status = 200, body = [Mentionable]), (status = 403, body = ErrorResponse),
        (status = 404, body = ErrorResponse), (status = 422, body = ErrorResponse)))]
#[tracing::instrument(skip_all, fields(user = %who.user))]
pub async fn list_mentionable(
    State(state): State<CommentsContext>,
    AuthUser(who): AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<MentionableQuery>,
) -> ApiResult<ApiJson<Vec<Mentionable>>> {
    let doc = crate::auth::authorize(&state.db, &who, &id, Role::Viewer)
        .await?
        .doc;
    let prefix = query.q.unwrap_or_default().trim().to_lowercase();
    if prefix.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::Unprocessable(format!(
            "q is over {MAX_QUERY_CHARS} characters"
        )));
    }
    let all = state.db.mentionable(&doc).await?;
    Ok(ApiJson(
        all.into_iter()
            .filter(|m| matches(&m.name, &prefix))
            .take(MAX_SUGGESTIONS)
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: MentionKind, id: &str) -> MentionRequest {
        MentionRequest {
            kind,
            id: id.into(),
        }
    }

    #[test]
    fn repeats_merge_and_the_count_is_bounded() {
        let twice = [
            request(MentionKind::Org, "utb"),
            request(MentionKind::Org, "utb"),
        ];
        assert_eq!(parse(Some(&twice)).expect("parsed").len(), 1);
        let many: Vec<MentionRequest> = (0..=MAX_MENTIONS)
            .map(|i| request(MentionKind::User, &format!("u{i}")))
            .collect();
        assert!(parse(Some(&many)).is_err());
        assert!(parse(None).expect("none").is_empty());
        assert!(parse(Some(&[request(MentionKind::Org, "bad id")])).is_err());
    }

    #[test]
    fn a_prefix_matches_the_name_or_any_of_its_words_in_any_case() {
        assert!(matches("Anna Berg", "an"));
        assert!(matches("Maria Andersson", "an"));
        assert!(matches("Utbildningsförvaltningen", "utb"));
        assert!(matches("Östermalms stadsdelsförvaltning", "öst"));
        assert!(!matches("Anna Berg", "erg"));
        assert!(matches("Anna Berg", ""));
    }
}
