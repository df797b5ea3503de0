//! Suggestions as the compilation reads them: tracked changes (issue 16).
//!
//! A suggestion thread is a change someone typed in the text. In the compilation a
//! registrator should read it as a word processor shows a tracked change, not as a
//! comment with a "proposal" cell: what was to be inserted, struck or replaced, and
//! whether the owners accepted it (it is then in the text), rejected it, or have not
//! decided, with who decided and when. The words are fixed Swedish, as the rest of the
//! compilation. A pure unit, so every format (Markdown, HTML, DOCX, PDF) says the same.

use crate::comments::model::{Outcome, ThreadKind, ThreadResponse};
use crate::remiss::render::labels;

/// What happened to a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Accepted: the server applied it (outcome `beaktad`).
    Accepted,
    /// Rejected (outcome `ej_beaktad`).
    Rejected,
    /// Resolved by hand with another outcome (`delvis_beaktad`, `noterad`).
    Other(Outcome),
    /// Not decided yet.
    Open,
}

impl Decision {
    /// The decision on `thread`.
    pub fn of(thread: &ThreadResponse) -> Self {
        match thread.resolution.as_ref().map(|r| r.outcome) {
            None => Self::Open,
            Some(Outcome::Beaktad) => Self::Accepted,
            Some(Outcome::EjBeaktad) => Self::Rejected,
            Some(other) => Self::Other(other),
        }
    }
}

/// The suggested change in words: "Infoga ”x”", "Stryk ”y”", "Ersätt ”y” med ”x”". The
/// replaced text is the text the suggestion was made on (its original quote), as the
/// decision was made on it. `None` for a thread that is not a suggestion.
pub fn change(thread: &ThreadResponse) -> Option<String> {
    if thread.kind != ThreadKind::Suggestion {
        return None;
    }
    let proposal = thread.proposal.as_deref().unwrap_or_default();
    let replaced = thread.anchor.original_quote.as_str();
    Some(match (replaced.is_empty(), proposal.is_empty()) {
        (true, _) => format!("Infoga ”{proposal}”"),
        (false, true) => format!("Stryk ”{replaced}”"),
        (false, false) => format!("Ersätt ”{replaced}” med ”{proposal}”"),
    })
}

/// The decision in words, with who decided and when: "Godkänd och införd av Maria
/// 2026-12-06 10:15", "Avvisad av …", "Öppen (inte avgjord)".
pub fn decision(thread: &ThreadResponse) -> String {
    let by = |word: &str| match &thread.resolution {
        Some(r) => format!(
            "{word} av {} {}",
            r.resolved_by_name,
            labels::when(r.resolved_at)
        ),
        None => word.to_owned(),
    };
    match Decision::of(thread) {
        Decision::Accepted => by("Godkänd och införd"),
        Decision::Rejected => by("Avvisad"),
        Decision::Other(outcome) => by(&format!("Avgjord ({})", labels::outcome(outcome))),
        Decision::Open => "Öppen (inte avgjord)".to_owned(),
    }
}

/// Counts of one organisation's suggestions by decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub accepted: usize,
    pub rejected: usize,
    pub other: usize,
    pub open: usize,
}

impl Counts {
    /// The suggestions among `threads`, counted.
    pub fn of<'a>(threads: impl IntoIterator<Item = &'a ThreadResponse>) -> Self {
        let mut counts = Self::default();
        for thread in threads {
            if thread.kind != ThreadKind::Suggestion {
                continue;
            }
            match Decision::of(thread) {
                Decision::Accepted => counts.accepted += 1,
                Decision::Rejected => counts.rejected += 1,
                Decision::Other(_) => counts.other += 1,
                Decision::Open => counts.open += 1,
            }
        }
        counts
    }

    /// All of them.
    pub fn total(self) -> usize {
        self.accepted + self.rejected + self.other + self.open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggestion(original: &str, proposal: &str, outcome: Option<Outcome>) -> ThreadResponse {
        use crate::comments::model::{
            AnchorResponse, AnchorState, ResolutionResponse, ThreadStatus,
        };
        ThreadResponse {
            id: "t".into(),
            document: "d".into(),
            status: if outcome.is_some() {
                ThreadStatus::Resolved
            } else {
                ThreadStatus::Open
            },
            stance: None,
            proposal: Some(proposal.to_owned()),
            kind: ThreadKind::Suggestion,
            author: "ulla".into(),
            author_name: "Ulla".into(),
            org: "utb".into(),
            org_name: "Utbildningsförvaltningen".into(),
            anchor: AnchorResponse {
                start: String::new(),
                end: String::new(),
                paragraph: Some(1),
                quote: original.to_owned(),
                original_quote: original.to_owned(),
                original_paragraph: 1,
                state: AnchorState::Attached,
            },
            version: String::new(),
            named_version: None,
            resolution: outcome.map(|outcome| ResolutionResponse {
                outcome,
                motivation: String::new(),
                resolved_by: "maria".into(),
                resolved_by_name: "Maria".into(),
                resolved_at: 0,
            }),
            comments: Vec::new(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_suggestion_reads_as_a_tracked_change() {
        let insert = suggestion("", " och studiestöd", Some(Outcome::Beaktad));
        assert_eq!(change(&insert).as_deref(), Some("Infoga ” och studiestöd”"));
        assert!(decision(&insert).starts_with("Godkänd och införd av Maria "));
        let strike = suggestion("varje vecka", "", Some(Outcome::EjBeaktad));
        assert_eq!(change(&strike).as_deref(), Some("Stryk ”varje vecka”"));
        assert!(decision(&strike).starts_with("Avvisad av Maria "));
        let replace = suggestion("alla", "varje", None);
        assert_eq!(
            change(&replace).as_deref(),
            Some("Ersätt ”alla” med ”varje”")
        );
        assert_eq!(decision(&replace), "Öppen (inte avgjord)");
        let counts = Counts::of([&insert, &strike, &replace]);
        assert_eq!(
            counts,
            Counts {
                accepted: 1,
                rejected: 1,
                other: 0,
                open: 1
            }
        );
        assert_eq!(counts.total(), 3);
    }
}
