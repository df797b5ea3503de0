//! Who made each change of a version diff: the organisation (and user) that wrote each
//! inserted run and that deleted each deleted one (issue 16).
//!
//! The diff itself (`diff`) compares plain text. To name authors, each side is also read
//! as Yjs items: every character of a paragraph's text is traced to the id of the item
//! it comes from (its client id and clock). An inserted run is attributed through the
//! client ids of its characters in `to`, each bound to a user and organisation
//! (`document_authors`); a deleted run through the ids of its characters in `from`,
//! looked up in the stored delete sets (`document_deletions`) in log order, each id
//! credited to the first update that deleted it, as `documents::attribution` counts.
//! Both tables survive compaction, so a diff reads the same after a restart.
//!
//! The text comparison and the items need not agree: a word diff may call a space or a
//! moved word inserted that was there all along. So white space is never attributed, a
//! deleted run only counts characters whose items are really gone in `to`, and an
//! inserted run prefers characters whose items are new since `from` (falling back to
//! whoever wrote the text, when all of it stood before somewhere else). A character
//! under a client id bound to nobody (content from before authorship was kept), or
//! deleted by no stored update, is unknown: the run then lists an author with a `null`
//! organisation.
//!
//! Cost: reading a side is one walk over its items (linear in the document, like
//! decoding it); attributing is linear in the changed text, with a binary search per
//! character among the deleted ranges, and stops at [`AUTHORS_DEADLINE`], after which
//! the remaining runs carry no attribution (`null`) rather than delaying the answer.
//! Measured (debug build, `tests::costs`, 2,000 paragraphs of 60 words each edited by
//! another client): reading both sides 0.53 s (6.4 s before the upper snapshot lost its
//! delete set, see `item_texts`), the diff 0.4–0.5 s, attributing its 4,080 runs 50–62 ms.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde::Serialize;
use yrs::types::text::YChange;
use yrs::types::xml::XmlOut;
use yrs::updates::decoder::Decode;
use yrs::{
    Any, Array, ArrayRef, Doc, ID, IdSet, Out, ReadTxn, Snapshot, Text, Transact, XmlFragment,
};

use crate::documents::content::FRAGMENT;
use crate::documents::markdown::block_texts;
use crate::ids::{OrgId, UserId};
use crate::storage::authorship::{Binding, Deletion};
use crate::versions::model::{ParagraphChange, ParagraphDiff, WordOp};

/// Time attributing one diff may take; runs not reached by then carry no attribution.
pub const AUTHORS_DEADLINE: Duration = Duration::from_millis(300);

/// Characters of the raw item text looked ahead for a character of the paragraph text
/// that the next item character does not match (the plain text adds separators and
/// replaces tabs in table cells; it never reorders).
const RESYNC_LOOKAHEAD: usize = 64;

/// An organisation (and the users of it) that inserted or deleted a run; `org: null` for
/// text whose author is unknown (written before authorship was kept, or deleted by no
/// stored update).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiffAuthor {
    /// The organisation id; `null` when unknown.
    pub org: Option<String>,
    /// Its name; `null` when unknown.
    pub org_name: Option<String>,
    /// The users of that organisation who did it, by name.
    pub users: Vec<DiffUser>,
}

/// A user named in a [`DiffAuthor`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DiffUser {
    pub id: String,
    pub name: String,
}

/// One side of a diff: the paragraphs it compares (as `diff::paragraphs` gives them) and,
/// for every character of each, the Yjs item id it comes from (`None` for a separator
/// the plain text adds).
pub struct Side {
    pub texts: Vec<String>,
    ids: Vec<Vec<Option<ID>>>,
    /// What is visible on this side, to tell moved text from inserted or deleted text.
    snapshot: Snapshot,
}

impl Side {
    /// Reads `doc` (a copy: the walk takes a write transaction, because yrs splits items
    /// to report their ids).
    pub fn read(doc: &Doc) -> Self {
        let texts = {
            let txn = doc.transact();
            match txn.get_xml_fragment(FRAGMENT) {
                Some(fragment) => block_texts(&txn, &fragment),
                None => Vec::new(),
            }
        };
        let raw = item_texts(doc);
        let snapshot = doc.transact().snapshot();
        let mut side = Side {
            texts: Vec::with_capacity(texts.len()),
            ids: Vec::with_capacity(texts.len()),
            snapshot,
        };
        // One entry per top-level block on both; if not, trace nothing rather than
        // attribute one paragraph's items to another.
        let aligned = raw.len() == texts.len();
        for (i, text) in texts.into_iter().enumerate() {
            if text.trim().is_empty() {
                continue;
            }
            let ids = match raw.get(i).filter(|_| aligned) {
                Some(items) => align(&text, items),
                None => vec![None; text.chars().count()],
            };
            side.texts.push(text);
            side.ids.push(ids);
        }
        side
    }

    fn visible(&self, id: &ID) -> bool {
        self.snapshot.state_map.get(&id.client) > id.clock && !self.snapshot.delete_set.contains(id)
    }
}

/// The characters of each top-level block's texts, in document order, each with its
/// item id.
fn item_texts(doc: &Doc) -> Vec<Vec<(char, ID)>> {
    let mut txn = doc.transact_mut();
    let Some(fragment) = txn.get_xml_fragment(FRAGMENT) else {
        return Vec::new();
    };
    // Nothing is visible in the empty snapshot, so yrs hands back every item as its own
    // chunk with its id (as `documents::attribution` reads them). The upper snapshot has
    // no delete set: yrs splits the whole store by a snapshot's delete set on every
    // call, once per text, which made a 2,000-paragraph document take seconds. Deleted
    // items are skipped below instead (a deletion always splits its item, so a chunk is
    // deleted whole or not at all).
    let deleted = txn.snapshot().delete_set;
    let now = Snapshot::new(txn.state_vector(), IdSet::new());
    let empty = Snapshot::default();
    let blocks: Vec<Out> = AsRef::<ArrayRef>::as_ref(&fragment)
        .iter(&txn)
        .filter(|v| {
            matches!(
                v,
                Out::YXmlElement(_) | Out::YXmlText(_) | Out::YXmlFragment(_)
            )
        })
        .collect();
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        let mut chars = Vec::new();
        let first = match block {
            Out::YXmlElement(e) => XmlOut::Element(e),
            Out::YXmlText(t) => XmlOut::Text(t),
            Out::YXmlFragment(f) => XmlOut::Fragment(f),
            _ => continue,
        };
        // Pre-order, children in order: the order the plain text is written in. An
        // explicit stack: the room bounds nesting, but a walk must not recurse anyway.
        let mut stack = vec![first];
        while let Some(node) = stack.pop() {
            match node {
                XmlOut::Text(text) => {
                    let chunks =
                        text.diff_range(&mut txn, Some(&now), Some(&empty), |c: YChange| c);
                    for chunk in chunks {
                        let (Some(change), Out::Any(Any::String(s))) =
                            (chunk.ychange, &chunk.insert)
                        else {
                            continue;
                        };
                        if deleted.contains(&change.id) {
                            continue;
                        }
                        let mut clock = change.id.clock;
                        for c in s.chars() {
                            chars.push((c, ID::new(change.id.client, clock)));
                            clock += c.len_utf16() as u32;
                        }
                    }
                }
                XmlOut::Element(element) => {
                    let children: Vec<XmlOut> = element.children(&txn).collect();
                    stack.extend(children.into_iter().rev());
                }
                XmlOut::Fragment(inner) => {
                    let children: Vec<XmlOut> = inner.children(&txn).collect();
                    stack.extend(children.into_iter().rev());
                }
            }
        }
        out.push(chars);
    }
    out
}

/// The item id of each character of `text`, matched in order against the block's item
/// characters: equal characters pair up; a separator the plain text adds (a line break
/// between lines, a tab between cells) has none; a tab or line break the plain text
/// turned into a space keeps its item; anything else skips ahead a little to resync.
fn align(text: &str, items: &[(char, ID)]) -> Vec<Option<ID>> {
    let mut out = Vec::with_capacity(text.len());
    let mut k = 0;
    for c in text.chars() {
        match items.get(k) {
            Some((item, id)) if *item == c => {
                out.push(Some(*id));
                k += 1;
            }
            Some((item, id)) if c == ' ' && matches!(item, '\t' | '\n') => {
                out.push(Some(*id));
                k += 1;
            }
            _ if matches!(c, '\n' | '\t' | ' ') => out.push(None),
            _ => {
                let end = items.len().min(k + RESYNC_LOOKAHEAD);
                match items[k.min(end)..end]
                    .iter()
                    .position(|(item, _)| *item == c)
                {
                    Some(skip) => {
                        out.push(Some(items[k + skip].1));
                        k += skip + 1;
                    }
                    None => out.push(None),
                }
            }
        }
    }
    out
}

/// Who is who: client ids to people, deleted ids to the people who deleted them first.
pub struct Authorship {
    people: Vec<(OrgId, UserId)>,
    writer_of: HashMap<u64, usize>,
    /// Per client: disjoint deleted clock ranges `(start, end, person)`, sorted.
    deleted: HashMap<u64, Vec<(u32, u32, usize)>>,
}

impl Authorship {
    /// The document's bindings and stored deletions (oldest first). A delete set that
    /// does not decode is corrupt data, reported as such.
    pub fn new(
        bindings: &[Binding],
        deletions: &[Deletion],
    ) -> Result<Self, yrs::encoding::read::Error> {
        let mut people = Vec::new();
        let mut index: HashMap<(OrgId, UserId), usize> = HashMap::new();
        let mut person = |org: &OrgId, user: &UserId| {
            *index.entry((org.clone(), user.clone())).or_insert_with(|| {
                people.push((org.clone(), user.clone()));
                people.len() - 1
            })
        };
        let writer_of = bindings
            .iter()
            .map(|b| (b.client(), person(&b.org_id, &b.user_id)))
            .collect();
        let mut counted = IdSet::new();
        let mut deleted: HashMap<u64, Vec<(u32, u32, usize)>> = HashMap::new();
        for deletion in deletions {
            let mut set = IdSet::decode_v1(&deletion.delete_set)?;
            set.diff_with(&counted);
            let who = person(&deletion.org_id, &deletion.user_id);
            for (client, ranges) in set.iter() {
                let list = deleted.entry(client.get()).or_default();
                list.extend(ranges.iter().map(|r| (r.start, r.end, who)));
            }
            counted.merge_with(set);
        }
        for list in deleted.values_mut() {
            list.sort_unstable();
        }
        Ok(Self {
            people,
            writer_of,
            deleted,
        })
    }

    fn writer(&self, id: &ID) -> Option<usize> {
        self.writer_of.get(&id.client.get()).copied()
    }

    fn deleter(&self, id: &ID) -> Option<usize> {
        let list = self.deleted.get(&id.client.get())?;
        let at = list.partition_point(|&(start, _, _)| start <= id.clock);
        let &(start, end, who) = list.get(at.checked_sub(1)?)?;
        (start <= id.clock && id.clock < end).then_some(who)
    }

    /// The people named in `authors`, grouped by organisation (in id order), the
    /// unknown last; names are ids until [`name`] fills them in.
    fn authors(&self, found: &BTreeSet<Option<usize>>) -> Vec<DiffAuthor> {
        let mut orgs: BTreeMap<&str, Vec<&UserId>> = BTreeMap::new();
        let mut unknown = false;
        for who in found {
            match who.and_then(|i| self.people.get(i)) {
                Some((org, user)) => orgs.entry(org.as_str()).or_default().push(user),
                None => unknown = true,
            }
        }
        let mut out: Vec<DiffAuthor> = orgs
            .into_iter()
            .map(|(org, users)| DiffAuthor {
                org: Some(org.to_owned()),
                org_name: Some(org.to_owned()),
                users: users
                    .into_iter()
                    .map(|u| DiffUser {
                        id: u.as_str().to_owned(),
                        name: u.as_str().to_owned(),
                    })
                    .collect(),
            })
            .collect();
        if unknown {
            out.push(DiffAuthor {
                org: None,
                org_name: None,
                users: Vec::new(),
            });
        }
        out
    }

    /// Who wrote `ids` (characters of a run in `to`): the writers of the characters new
    /// since `from`, or of all of them if none is.
    fn inserted(&self, ids: &[Option<ID>], from: &Side) -> Vec<DiffAuthor> {
        let traced: Vec<ID> = ids.iter().flatten().copied().collect();
        let new: Vec<&ID> = traced.iter().filter(|id| !from.visible(id)).collect();
        let counted: Vec<&ID> = if new.is_empty() {
            traced.iter().collect()
        } else {
            new
        };
        let mut found: BTreeSet<Option<usize>> = counted.iter().map(|id| self.writer(id)).collect();
        if found.is_empty() {
            found.insert(None);
        }
        self.authors(&found)
    }

    /// Who deleted `ids` (characters of a run in `from`): the first deleter of each that
    /// is gone in `to`.
    fn deleted(&self, ids: &[Option<ID>], to: &Side) -> Vec<DiffAuthor> {
        let mut found: BTreeSet<Option<usize>> = ids
            .iter()
            .flatten()
            .filter(|id| !to.visible(id))
            .map(|id| self.deleter(id))
            .collect();
        if found.is_empty() {
            found.insert(None);
        }
        self.authors(&found)
    }
}

/// The item ids of the non-white-space characters of `text`, which starts at character
/// `at` of a paragraph whose ids are `ids`.
fn run_ids(ids: &[Option<ID>], at: usize, text: &str) -> Vec<Option<ID>> {
    text.chars()
        .enumerate()
        .filter(|(_, c)| !c.is_whitespace())
        .map(|(i, _)| ids.get(at + i).copied().flatten())
        .collect()
}

/// Fills in who inserted and deleted each run of `diff` (the diff of `before.texts`
/// against `after.texts`), until [`AUTHORS_DEADLINE`].
pub fn attribute(diff: &mut [ParagraphDiff], before: &Side, after: &Side, who: &Authorship) {
    let deadline = Instant::now() + AUTHORS_DEADLINE;
    let empty: Vec<Option<ID>> = Vec::new();
    let (mut i, mut j) = (0, 0);
    for paragraph in diff.iter_mut() {
        let old = before.ids.get(i).unwrap_or(&empty);
        let new = after.ids.get(j).unwrap_or(&empty);
        let on_time = Instant::now() < deadline;
        match paragraph.change {
            ParagraphChange::Unchanged => (i, j) = (i + 1, j + 1),
            ParagraphChange::Added => {
                if on_time {
                    let text = paragraph.after.as_deref().unwrap_or_default();
                    paragraph.inserted_by = Some(who.inserted(&run_ids(new, 0, text), before));
                }
                j += 1;
            }
            ParagraphChange::Removed => {
                if on_time {
                    let text = paragraph.before.as_deref().unwrap_or_default();
                    paragraph.deleted_by = Some(who.deleted(&run_ids(old, 0, text), after));
                }
                i += 1;
            }
            ParagraphChange::Changed => {
                let (mut at_old, mut at_new) = (0, 0);
                for run in paragraph.words.iter_mut().flatten() {
                    let len = run.text.chars().count();
                    match run.op {
                        WordOp::Equal => {
                            at_old += len;
                            at_new += len;
                        }
                        WordOp::Insert => {
                            if on_time {
                                let ids = run_ids(new, at_new, &run.text);
                                run.inserted_by = Some(who.inserted(&ids, before));
                            }
                            at_new += len;
                        }
                        WordOp::Delete => {
                            if on_time {
                                let ids = run_ids(old, at_old, &run.text);
                                run.deleted_by = Some(who.deleted(&ids, after));
                            }
                            at_old += len;
                        }
                    }
                }
                (i, j) = (i + 1, j + 1);
            }
        }
    }
}

/// Every author named in `diff`, for looking up their names.
pub fn named(diff: &[ParagraphDiff]) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut orgs, mut users) = (BTreeSet::new(), BTreeSet::new());
    for author in authors_of(diff) {
        orgs.extend(author.org.clone());
        users.extend(author.users.iter().map(|u| u.id.clone()));
    }
    (orgs, users)
}

fn authors_of(diff: &[ParagraphDiff]) -> impl Iterator<Item = &DiffAuthor> {
    diff.iter().flat_map(|p| {
        let runs = p.words.iter().flatten();
        let lists = [&p.inserted_by, &p.deleted_by]
            .into_iter()
            .chain(runs.flat_map(|w| [&w.inserted_by, &w.deleted_by]));
        lists.flatten().flatten()
    })
}

/// Replaces the ids standing in for names by the names in `orgs` and `users` (an id
/// with no name, e.g. a removed user, stays as it is).
pub fn name(
    diff: &mut [ParagraphDiff],
    orgs: &HashMap<String, String>,
    users: &HashMap<String, String>,
) {
    let rename = |list: &mut Option<Vec<DiffAuthor>>| {
        for author in list.iter_mut().flatten() {
            if let Some(name) = author.org.as_ref().and_then(|o| orgs.get(o)) {
                author.org_name = Some(name.clone());
            }
            for user in &mut author.users {
                if let Some(name) = users.get(&user.id) {
                    user.name = name.clone();
                }
            }
        }
    };
    for p in diff {
        rename(&mut p.inserted_by);
        rename(&mut p.deleted_by);
        for w in p.words.iter_mut().flatten() {
            rename(&mut w.inserted_by);
            rename(&mut w.deleted_by);
        }
    }
}

#[cfg(test)]
mod tests {
    use yrs::updates::encoder::Encode;
    use yrs::{
        ClientID, Options, StateVector, Update, WriteTxn, XmlElementPrelim, XmlFragment,
        XmlTextPrelim,
    };

    use super::*;
    use crate::documents::content::doc_from_parts;
    use crate::versions::diff::diff_paragraphs;
    use crate::versions::model::WordChange;

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

    fn append(doc: &Doc, text: &str) {
        let mut txn = doc.transact_mut();
        let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
        let at = fragment.len(&txn);
        let p = fragment.insert(&mut txn, at, XmlElementPrelim::empty("paragraph"));
        p.insert(&mut txn, 0, XmlTextPrelim::new(text));
    }

    /// A copy of `doc` as a version stores it.
    fn version(doc: &Doc) -> Side {
        let state = doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        Side::read(&doc_from_parts(None, [state.as_slice()]))
    }

    fn binding(client: i64, user: &str, org: &str) -> Binding {
        Binding {
            client_id: client,
            user_id: UserId::parse(user).expect("user"),
            org_id: OrgId::parse(org).expect("org"),
        }
    }

    fn orgs(authors: &Option<Vec<DiffAuthor>>) -> Vec<Option<String>> {
        authors.iter().flatten().map(|a| a.org.clone()).collect()
    }

    fn run<'a>(words: &'a [WordChange], op: WordOp, text: &str) -> &'a WordChange {
        words
            .iter()
            .find(|w| w.op == op && w.text.contains(text))
            .unwrap_or_else(|| panic!("no {op:?} run with {text:?} in {words:?}"))
    }

    #[test]
    fn each_inserted_and_deleted_run_names_who_did_it() {
        let anna = doc_of(1);
        append(&anna, "Skolan är viktig för barnen.");
        append(&anna, "Ett stycke som ska bort.");
        append(&anna, "Sista stycket står kvar.");
        let bo = doc_of(2);
        sync(&anna, &bo);
        let from = version(&bo);
        let deleted_before = bo.transact().snapshot().delete_set;
        {
            let mut txn = bo.transact_mut();
            let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
            let Some(XmlOut::Element(p)) = fragment.get(&txn, 0) else {
                panic!("a paragraph")
            };
            let Some(XmlOut::Text(text)) = p.get(&txn, 0) else {
                panic!("its text")
            };
            // "Skolan är viktig för barnen." → "Skolan är mycket viktig för barnen i staden."
            text.insert(&mut txn, 10, "mycket ");
            text.remove_range(&mut txn, 34, 1);
            text.insert(&mut txn, 34, " i staden.");
            fragment.remove_range(&mut txn, 1, 1);
        }
        append(&bo, "Miljöns nya stycke.");
        // Content under a client id bound to nobody: written before authorship was kept.
        let old = doc_of(3);
        sync(&bo, &old);
        append(&old, "Okänt ursprung.");
        sync(&old, &bo);
        let to = version(&bo);
        let mut delete_set = bo.transact().snapshot().delete_set;
        delete_set.diff_with(&deleted_before);
        let deletions = [Deletion {
            seq: 1,
            user_id: UserId::parse("bo").expect("user"),
            org_id: OrgId::parse("miljo").expect("org"),
            deleted_at: 0,
            delete_set: delete_set.encode_v1(),
        }];
        let who = Authorship::new(
            &[binding(1, "anna", "utbildning"), binding(2, "bo", "miljo")],
            &deletions,
        )
        .expect("decodes");

        let mut diff = diff_paragraphs(&from.texts, &to.texts);
        attribute(&mut diff, &from, &to, &who);
        use ParagraphChange::*;
        let changes: Vec<ParagraphChange> = diff.iter().map(|p| p.change).collect();
        assert_eq!(changes, [Changed, Removed, Unchanged, Added, Added]);
        let miljo = vec![Some("miljo".to_owned())];

        let words = diff[0].words.as_deref().expect("word runs");
        let mycket = run(words, WordOp::Insert, "mycket");
        assert_eq!(orgs(&mycket.inserted_by), miljo, "{words:?}");
        let users = &mycket.inserted_by.as_ref().expect("authors")[0].users;
        assert_eq!(users[0].id, "bo");
        // "barnen." became "barnen i staden.": the new words are Bo's, the full stop
        // he deleted too; the word "barnen" that stood all along is nobody's change.
        assert_eq!(
            orgs(&run(words, WordOp::Insert, "staden").inserted_by),
            miljo
        );
        assert_eq!(
            orgs(&run(words, WordOp::Delete, "barnen.").deleted_by),
            miljo
        );
        assert!(
            words
                .iter()
                .all(|w| w.op != WordOp::Equal
                    || (w.inserted_by.is_none() && w.deleted_by.is_none()))
        );

        assert_eq!(orgs(&diff[1].deleted_by), miljo);
        assert_eq!(diff[1].inserted_by, None);
        assert_eq!((&diff[2].inserted_by, &diff[2].deleted_by), (&None, &None));
        assert_eq!(orgs(&diff[3].inserted_by), miljo);
        assert_eq!(orgs(&diff[4].inserted_by), [None], "unknown authorship");
    }

    #[test]
    fn text_deleted_by_no_stored_update_is_of_unknown_deleter() {
        let anna = doc_of(1);
        append(&anna, "Första.");
        append(&anna, "Andra.");
        let from = version(&anna);
        {
            let mut txn = anna.transact_mut();
            let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
            fragment.remove_range(&mut txn, 1, 1);
        }
        let to = version(&anna);
        let who = Authorship::new(&[binding(1, "anna", "utbildning")], &[]).expect("decodes");
        let mut diff = diff_paragraphs(&from.texts, &to.texts);
        attribute(&mut diff, &from, &to, &who);
        assert_eq!(diff[1].change, ParagraphChange::Removed);
        assert_eq!(orgs(&diff[1].deleted_by), [None]);
    }

    #[test]
    fn separators_the_plain_text_adds_have_no_item() {
        let a = ID::new(ClientID::new(1), 0);
        let b = ID::new(ClientID::new(1), 1);
        let items = [('a', a), ('b', b)];
        assert_eq!(align("a\nb", &items), [Some(a), None, Some(b)]);
        assert_eq!(align("ab", &items), [Some(a), Some(b)]);
        assert_eq!(align("xb", &items), [None, Some(b)]);
    }

    /// What attribution adds to a big diff (`cargo test -p forankra --lib
    /// versions::authors::tests::costs -- --ignored --nocapture`).
    #[test]
    #[ignore = "prints timings"]
    fn costs() {
        let anna = doc_of(1);
        for i in 0..2000 {
            let words: Vec<String> = (0..60)
                .map(|w| format!("ord{}", (i * 7 + w) % 500))
                .collect();
            append(&anna, &words.join(" "));
        }
        let bo = doc_of(2);
        sync(&anna, &bo);
        let from_state = bo
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        {
            let mut txn = bo.transact_mut();
            let fragment = txn.get_or_insert_xml_fragment(FRAGMENT);
            for i in 0..2000 {
                let Some(XmlOut::Element(p)) = fragment.get(&txn, i) else {
                    continue;
                };
                let Some(XmlOut::Text(text)) = p.get(&txn, 0) else {
                    continue;
                };
                text.remove_range(&mut txn, 0, 6);
                text.insert(&mut txn, 0, "ändrat ");
            }
        }
        let to_state = bo
            .transact()
            .encode_state_as_update_v1(&StateVector::default());
        let deletions = [Deletion {
            seq: 1,
            user_id: UserId::parse("bo").expect("user"),
            org_id: OrgId::parse("miljo").expect("org"),
            deleted_at: 0,
            delete_set: bo.transact().snapshot().delete_set.encode_v1(),
        }];
        let started = Instant::now();
        let from = Side::read(&doc_from_parts(None, [from_state.as_slice()]));
        let to = Side::read(&doc_from_parts(None, [to_state.as_slice()]));
        let read = started.elapsed();
        let mut diff = diff_paragraphs(&from.texts, &to.texts);
        let diffed = started.elapsed();
        let who = Authorship::new(
            &[binding(1, "anna", "a"), binding(2, "bo", "b")],
            &deletions,
        )
        .expect("decodes");
        attribute(&mut diff, &from, &to, &who);
        let attributed = diff
            .iter()
            .flat_map(|p| p.words.iter().flatten())
            .filter(|w| w.inserted_by.is_some() || w.deleted_by.is_some())
            .count();
        println!(
            "2,000 paragraphs of 60 words, each edited: reading both sides {read:?}, diff {:?}, attribution {:?} ({attributed} runs attributed)",
            diffed - read,
            started.elapsed() - diffed
        );
    }
}
