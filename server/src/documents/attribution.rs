//! Who wrote the text standing in a document now, and who deleted what (issue 16).
//!
//! Every character in a Yjs document is an item named by the client id that inserted
//! it, and the sync core binds each client id to the user and organisation that first
//! wrote under it (`sync::authorship`, `storage::authorship`). So the text standing now
//! is attributed by walking the current state: each top-level block (the paragraph the
//! threads and the report count), each text in it, each live item's client id → its
//! organisation. Deletions leave no item behind once collected, so they are counted
//! from the delete sets kept beside each stored update, in log order, each deleted
//! unit credited to the first organisation that deleted it.
//!
//! Units: kept text is counted in characters as Yjs and the editor count them (UTF-16
//! code units). Deletions are counted in Yjs clock units: one per character, plus one
//! per deleted paragraph, list item or formatting mark, because the deleted content is
//! gone from the collected state and cannot be told apart any more.
//!
//! The walk runs on a copy of the document decoded from the room's state, never on the
//! room's own `Doc`: yrs computes attribution with a write transaction (it splits items
//! at the snapshot's edges), and a room's `Doc` only ever takes stored updates.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use yrs::types::text::YChange;
use yrs::types::xml::XmlOut;
use yrs::updates::decoder::Decode;
use yrs::{
    Any, Doc, IdSet, Out, ReadTxn, Snapshot, StateVector, Text, Transact, Update, XmlFragment,
};

use crate::error::AppError;
use crate::ids::{DocId, OrgId};
use crate::storage::authorship::{self, Binding, Deletion};
use crate::storage::{Db, StoreError};
use crate::sync::RoomRegistry;
use crate::sync::crdt::{FRAGMENT, new_doc};
use crate::sync::registry::RoomError;

/// The characters one organisation wrote in one paragraph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrgCharacters {
    pub org: String,
    pub name: String,
    pub characters: u64,
}

/// One top-level block and who wrote the text standing in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ParagraphAttribution {
    /// 0-based index of the block, as threads and the report count paragraphs.
    pub index: usize,
    /// Characters standing in it (UTF-16 code units, as the editor counts).
    pub characters: u64,
    /// The organisations that wrote them, most characters first.
    pub organisations: Vec<OrgCharacters>,
    /// Characters written under a client id bound to nobody (before authorship was kept).
    pub unattributed: u64,
}

/// One organisation's part in the whole text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganisationAttribution {
    pub org: String,
    pub name: String,
    /// Characters it inserted that still stand.
    pub kept: u64,
    /// What it deleted, in Yjs units (characters, plus one per deleted block or mark).
    pub deleted: u64,
}

/// `GET /api/documents/{id}/attribution`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttributionResponse {
    /// Characters standing in the document.
    pub characters: u64,
    /// Of them, written before authorship was kept.
    pub unattributed: u64,
    pub paragraphs: Vec<ParagraphAttribution>,
    /// Most characters kept first.
    pub organisations: Vec<OrganisationAttribution>,
}

/// One Yjs client id and the organisation that writes under it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientAttribution {
    pub client_id: i64,
    pub org: String,
    /// The organisation's name (its id if the organisation is gone).
    pub org_name: String,
}

/// `GET /api/documents/{id}/attribution/clients`: a page of the document's client ids,
/// so the editor can mark the text by the organisation that wrote it (issue 16).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClientsResponse {
    /// In client id order.
    pub clients: Vec<ClientAttribution>,
    /// Pass as `after` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_after: Option<i64>,
}

/// Largest page of [`ClientsResponse`]: a document gathers one client id per page load
/// per writer, so a long-lived one has thousands; the editor pages through them.
pub const MAX_CLIENTS_PAGE: i64 = 1000;

/// A page of `doc`'s client ids above `after`, at most `limit` (1..=[`MAX_CLIENTS_PAGE`]).
#[tracing::instrument(skip(db))]
pub async fn clients(
    db: &Db,
    doc: &DocId,
    after: Option<i64>,
    limit: i64,
) -> Result<ClientsResponse, StoreError> {
    let mut rows = authorship::client_orgs(db, doc, after, limit + 1).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_after = if more {
        rows.last().map(|r| r.client_id)
    } else {
        None
    };
    let clients = rows
        .into_iter()
        .map(|row| ClientAttribution {
            client_id: row.client_id,
            org_name: row
                .org_name
                .unwrap_or_else(|| row.org_id.as_str().to_owned()),
            org: row.org_id.as_str().to_owned(),
        })
        .collect();
    Ok(ClientsResponse {
        clients,
        next_after,
    })
}

/// Why attribution could not be computed: stored data that does not decode.
#[derive(Debug, thiserror::Error)]
pub enum AttributionError {
    #[error("the document's state does not decode: {0}")]
    State(String),
    #[error("a stored delete set does not decode: {0}")]
    DeleteSet(#[source] yrs::encoding::read::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the document could not be read: {0}")]
    Room(#[from] RoomError),
}

impl From<AttributionError> for AppError {
    fn from(error: AttributionError) -> Self {
        match error {
            AttributionError::Store(error) => AppError::Storage(error),
            AttributionError::Room(error) => AppError::Unavailable(error.to_string()),
            other => AppError::Internal(other.into()),
        }
    }
}

/// Reads `doc`'s attribution: the state from its room (loaded if nobody has it open),
/// then the bindings and deletions, which the journal stores before the room applies
/// an update, so every client id in the state is bound by the time it is read.
#[tracing::instrument(skip(db, rooms))]
pub async fn read(
    db: &Db,
    rooms: &RoomRegistry,
    doc: &DocId,
) -> Result<AttributionResponse, AttributionError> {
    let state = rooms
        .read(doc, |d| {
            d.transact()
                .encode_state_as_update_v1(&StateVector::default())
        })
        .await?;
    let bindings = authorship::bindings(db, doc).await?;
    let deletions = authorship::deletions(db, doc).await?;
    let (by_client, deleted) = tokio::task::spawn_blocking(move || {
        let by_client = written_by_client(&state)?;
        let deleted = deleted_by_org(&deletions).map_err(AttributionError::DeleteSet)?;
        Ok::<_, AttributionError>((by_client, deleted))
    })
    .await
    .map_err(|e| AttributionError::State(e.to_string()))??;
    let mut names = HashMap::new();
    let orgs = bindings.iter().map(|b| &b.org_id).chain(deleted.keys());
    for org in orgs {
        if !names.contains_key(org.as_str()) {
            let name = db.org(org).await?.map(|row| row.name);
            names.insert(
                org.as_str().to_owned(),
                name.unwrap_or_else(|| org.as_str().to_owned()),
            );
        }
    }
    Ok(attribute(&by_client, &bindings, &deleted, &names))
}

/// The client ids a server-made update (an imported first version) writes under.
pub fn clients_of(update: &[u8]) -> Result<Vec<u64>, AttributionError> {
    let update = Update::decode_v1(update).map_err(|e| AttributionError::State(e.to_string()))?;
    Ok(update
        .insertions(true)
        .client_ids()
        .map(|c| c.get())
        .collect())
}

/// Characters standing now per client id, for each top-level block of `state` (a v1
/// update of the whole document).
pub fn written_by_client(state: &[u8]) -> Result<Vec<HashMap<u64, u64>>, AttributionError> {
    let doc = new_doc();
    let update = Update::decode_v1(state).map_err(|e| AttributionError::State(e.to_string()))?;
    doc.transact_mut()
        .apply_update(update)
        .map_err(|e| AttributionError::State(e.to_string()))?;
    Ok(walk(&doc))
}

fn walk(doc: &Doc) -> Vec<HashMap<u64, u64>> {
    let mut txn = doc.transact_mut();
    let Some(fragment) = txn.get_xml_fragment(FRAGMENT) else {
        return Vec::new();
    };
    // Nothing is visible in the empty snapshot, so every item is "added" and yrs hands
    // each one back with its id. The upper snapshot has no delete set: yrs splits the
    // whole store by a snapshot's delete set on every call, once per text, which is
    // quadratic in a document with many texts and deletions; deleted items are skipped
    // below instead (a deletion splits its item, so a chunk is deleted whole or not).
    let deleted = txn.snapshot().delete_set;
    let now = Snapshot::new(txn.state_vector(), IdSet::new());
    let before = Snapshot::default();
    let blocks: Vec<XmlOut> = fragment.children(&txn).collect();
    let mut paragraphs = Vec::with_capacity(blocks.len());
    for block in blocks {
        let mut counts: HashMap<u64, u64> = HashMap::new();
        // An explicit stack: the room bounds nesting, but a walk must not recurse anyway.
        let mut stack = vec![block];
        while let Some(node) = stack.pop() {
            match node {
                XmlOut::Text(text) => {
                    let chunks =
                        text.diff_range(&mut txn, Some(&now), Some(&before), |c: YChange| c);
                    for chunk in chunks {
                        let (Some(change), Out::Any(Any::String(s))) =
                            (chunk.ychange, &chunk.insert)
                        else {
                            continue;
                        };
                        if deleted.contains(&change.id) {
                            continue;
                        }
                        let units = s.encode_utf16().count() as u64;
                        *counts.entry(change.id.client.get()).or_default() += units;
                    }
                }
                XmlOut::Element(element) => stack.extend(element.children(&txn)),
                XmlOut::Fragment(inner) => stack.extend(inner.children(&txn)),
            }
        }
        paragraphs.push(counts);
    }
    paragraphs
}

/// Deleted units per organisation: each stored delete set in log order, each unit
/// credited once, to the first that deleted it. A row that does not decode is corrupt.
pub fn deleted_by_org(
    deletions: &[Deletion],
) -> Result<HashMap<OrgId, u64>, yrs::encoding::read::Error> {
    let mut counted = IdSet::new();
    let mut by_org: HashMap<OrgId, u64> = HashMap::new();
    for deletion in deletions {
        let mut set = IdSet::decode_v1(&deletion.delete_set)?;
        set.diff_with(&counted);
        let units: u64 = set
            .iter()
            .flat_map(|(_, ranges)| ranges.iter().map(|r| u64::from(r.end - r.start)))
            .sum();
        if units > 0 {
            *by_org.entry(deletion.org_id.clone()).or_default() += units;
        }
        counted.merge_with(set);
    }
    Ok(by_org)
}

/// Puts the counts together: client ids to organisations (named by `names`, id if
/// unknown), per paragraph and in total.
pub fn attribute(
    by_client: &[HashMap<u64, u64>],
    bindings: &[Binding],
    deleted: &HashMap<OrgId, u64>,
    names: &HashMap<String, String>,
) -> AttributionResponse {
    let org_of: HashMap<u64, &OrgId> = bindings.iter().map(|b| (b.client(), &b.org_id)).collect();
    let name = |org: &str| names.get(org).cloned().unwrap_or_else(|| org.to_owned());
    let mut totals: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (org, units) in deleted {
        totals.entry(org.as_str().to_owned()).or_default().1 += units;
    }
    let mut paragraphs = Vec::with_capacity(by_client.len());
    let (mut characters, mut unattributed) = (0, 0);
    for (index, counts) in by_client.iter().enumerate() {
        let mut orgs: BTreeMap<String, u64> = BTreeMap::new();
        let mut nobody = 0;
        for (client, units) in counts {
            match org_of.get(client) {
                Some(org) => *orgs.entry(org.as_str().to_owned()).or_default() += units,
                None => nobody += units,
            }
        }
        let mut organisations: Vec<OrgCharacters> = orgs
            .into_iter()
            .map(|(org, chars)| {
                totals.entry(org.clone()).or_default().0 += chars;
                OrgCharacters {
                    name: name(&org),
                    org,
                    characters: chars,
                }
            })
            .collect();
        organisations.sort_by(|a, b| b.characters.cmp(&a.characters).then(a.org.cmp(&b.org)));
        let here = organisations.iter().map(|o| o.characters).sum::<u64>() + nobody;
        characters += here;
        unattributed += nobody;
        paragraphs.push(ParagraphAttribution {
            index,
            characters: here,
            organisations,
            unattributed: nobody,
        });
    }
    let mut organisations: Vec<OrganisationAttribution> = totals
        .into_iter()
        .map(|(org, (kept, deleted))| OrganisationAttribution {
            name: name(&org),
            org,
            kept,
            deleted,
        })
        .collect();
    organisations.sort_by(|a, b| b.kept.cmp(&a.kept).then(a.org.cmp(&b.org)));
    AttributionResponse {
        characters,
        unattributed,
        paragraphs,
        organisations,
    }
}

#[cfg(test)]
mod tests {
    use yrs::updates::encoder::Encode;
    use yrs::{ClientID, GetString, Options, WriteTxn, XmlElementPrelim, XmlTextPrelim};

    use super::*;
    use crate::ids::UserId;

    fn doc_of(client: u64) -> Doc {
        Doc::with_options(Options {
            client_id: ClientID::new(client),
            offset_kind: yrs::OffsetKind::Utf16,
            ..Options::default()
        })
    }

    fn sync(from: &Doc, to: &Doc) {
        let sv = to.transact().state_vector();
        let update = from.transact().encode_diff_v1(&sv);
        to.transact_mut()
            .apply_update(Update::decode_v1(&update).expect("decodes"))
            .expect("applies");
    }

    fn binding(client: i64, org: &str) -> Binding {
        Binding {
            client_id: client,
            user_id: UserId::parse(format!("u{client}")).expect("user"),
            org_id: OrgId::parse(org).expect("org"),
        }
    }

    #[test]
    fn a_paragraph_written_by_two_organisations_is_split_by_who_wrote_what_stands() {
        let anna = doc_of(1);
        {
            let mut txn = anna.transact_mut();
            let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
            let p = fragment.insert(&mut txn, 0, XmlElementPrelim::empty("paragraph"));
            p.insert(&mut txn, 0, XmlTextPrelim::new("Skolan är viktig."));
        }
        let bo = doc_of(2);
        sync(&anna, &bo);
        {
            let mut txn = bo.transact_mut();
            let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
            let Some(XmlOut::Element(p)) = fragment.get(&txn, 0) else {
                panic!("a paragraph")
            };
            let Some(XmlOut::Text(text)) = p.get(&txn, 0) else {
                panic!("its text")
            };
            // "Skolan är viktig." → "Skolan är mycket viktig för barnen."
            text.insert(&mut txn, 10, "mycket ");
            text.remove_range(&mut txn, 23, 1);
            text.insert(&mut txn, 23, " för barnen.");
            assert_eq!(text.get_string(&txn), "Skolan är mycket viktig för barnen.");
        }
        let state = bo
            .transact()
            .encode_state_as_update_v1(&yrs::StateVector::default());
        let by_client = written_by_client(&state).expect("decodes");
        assert_eq!(by_client.len(), 1);
        assert_eq!(by_client[0].get(&1), Some(&16));
        assert_eq!(by_client[0].get(&2), Some(&19));
        let deleted = vec![Deletion {
            seq: 2,
            user_id: UserId::parse("u2").expect("user"),
            org_id: OrgId::parse("miljo").expect("org"),
            deleted_at: 0,
            delete_set: {
                let mut set = IdSet::new();
                set.insert(yrs::ID::new(ClientID::new(1), 16), 1);
                set.encode_v1()
            },
        }];
        let deleted = deleted_by_org(&deleted).expect("decodes");
        let names = HashMap::from([("miljo".to_owned(), "Miljöförvaltningen".to_owned())]);
        let report = attribute(
            &by_client,
            &[binding(1, "utbildning"), binding(2, "miljo")],
            &deleted,
            &names,
        );
        assert_eq!(report.characters, 35);
        assert_eq!(report.unattributed, 0);
        let p = &report.paragraphs[0];
        assert_eq!(
            (
                p.organisations[0].org.as_str(),
                p.organisations[0].characters
            ),
            ("miljo", 19)
        );
        assert_eq!(p.organisations[0].name, "Miljöförvaltningen");
        assert_eq!(
            (
                p.organisations[1].org.as_str(),
                p.organisations[1].characters
            ),
            ("utbildning", 16)
        );
        assert_eq!(
            p.organisations[1].name, "utbildning",
            "an unknown name falls back to the id"
        );
        let miljo = &report.organisations[0];
        assert_eq!((miljo.kept, miljo.deleted), (19, 1));
    }

    #[test]
    fn a_unit_deleted_twice_is_credited_to_the_first_deleter() {
        let set = |from: u32, len: u32| {
            let mut set = IdSet::new();
            set.insert(yrs::ID::new(ClientID::new(1), from), len);
            set.encode_v1()
        };
        let row = |seq: i64, org: &str, delete_set: Vec<u8>| Deletion {
            seq,
            user_id: UserId::parse("u").expect("user"),
            org_id: OrgId::parse(org).expect("org"),
            deleted_at: 0,
            delete_set,
        };
        let deleted =
            deleted_by_org(&[row(1, "a", set(0, 5)), row(2, "b", set(3, 5))]).expect("decodes");
        assert_eq!(deleted[&OrgId::parse("a").expect("org")], 5);
        assert_eq!(deleted[&OrgId::parse("b").expect("org")], 3);
        assert!(deleted_by_org(&[row(3, "a", vec![0xff, 0xff])]).is_err());
    }
}
