//! How the exporters see inline content: a flat list of items, each with the marks it
//! carries, walked as properly nested open/close steps.
//!
//! Markdown and HTML both need marks as nested spans, while Yjs stores them per run of
//! text; this module does that conversion once, in linear time.

use super::blocks::plain_inline;
use super::schema::{HARD_BREAK, LinkMark, Node};

/// A mark as the inline exporters nest it (`code` is a property of the text instead).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Span {
    Link(LinkMark),
    Bold,
    Italic,
    Strike,
    Underline,
}

impl Span {
    pub(super) fn is_emphasis(&self) -> bool {
        matches!(self, Span::Bold | Span::Italic | Span::Strike)
    }

    /// Opening order among marks that start together and last equally long.
    fn rank(&self) -> u8 {
        match self {
            Span::Link(_) => 0,
            Span::Bold => 1,
            Span::Italic => 2,
            Span::Strike => 3,
            Span::Underline => 4,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum InlineKind {
    Text(String),
    Code(String),
    Break,
    /// The text of an inline node we do not know.
    Other(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Inline {
    pub(super) kind: InlineKind,
    pub(super) spans: Vec<Span>,
}

/// Flattens inline content, keeping the marks `keep` accepts.
pub(super) fn inline_items(children: &[Node], keep: impl Fn(&Span) -> bool) -> Vec<Inline> {
    let mut items = Vec::new();
    for child in children {
        match child {
            Node::Text(runs) => {
                for run in runs.iter().filter(|r| !r.text.is_empty()) {
                    let m = &run.marks;
                    let mut spans = Vec::new();
                    if let Some(link) = &m.link {
                        spans.push(Span::Link(link.clone()));
                    }
                    for (on, span) in [
                        (m.bold, Span::Bold),
                        (m.italic, Span::Italic),
                        (m.strike, Span::Strike),
                        (m.underline, Span::Underline),
                    ] {
                        if on {
                            spans.push(span);
                        }
                    }
                    spans.retain(|s| keep(s));
                    let kind = if m.code {
                        InlineKind::Code(run.text.clone())
                    } else {
                        InlineKind::Text(run.text.clone())
                    };
                    items.push(Inline { kind, spans });
                }
            }
            Node::Element(el) if el.name == HARD_BREAK => items.push(Inline {
                kind: InlineKind::Break,
                spans: Vec::new(),
            }),
            Node::Element(el) => {
                let text = plain_inline(&el.children);
                if !text.is_empty() {
                    items.push(Inline {
                        kind: InlineKind::Other(text),
                        spans: Vec::new(),
                    });
                }
            }
        }
    }
    // Inline nodes carry no marks in Yjs; let them continue the marks around them so a
    // link is not split by an image or a break. Emphasis stops at a break, though: a
    // delimiter at the edge of a line is not read as one.
    for i in 0..items.len() {
        let is_break = items[i].kind == InlineKind::Break;
        if (is_break || matches!(items[i].kind, InlineKind::Other(_)))
            && i > 0
            && let Some(next) = items.get(i + 1)
        {
            let shared = items[i - 1]
                .spans
                .iter()
                .filter(|s| next.spans.contains(s) && !(is_break && s.is_emphasis()))
                .cloned()
                .collect();
            items[i].spans = shared;
        }
    }
    items
}

pub(super) enum Step<'a> {
    Open(&'a Span),
    Close(&'a Span),
    Item(&'a Inline),
}

/// Walks inline items as properly nested open/close steps. When several marks open at
/// once, the one that lasts longest opens first, so it is not closed and reopened.
pub(super) fn walk_inline<'a>(items: &'a [Inline], mut step: impl FnMut(Step<'a>)) {
    // remaining[i][k]: for how many items, from i on, items[i].spans[k] stays active.
    let mut remaining: Vec<Vec<usize>> = vec![Vec::new(); items.len()];
    for i in (0..items.len()).rev() {
        remaining[i] = items[i]
            .spans
            .iter()
            .map(|span| {
                let next = items.get(i + 1).and_then(|next| {
                    let k = next.spans.iter().position(|s| s == span)?;
                    remaining.get(i + 1).and_then(|r| r.get(k)).copied()
                });
                1 + next.unwrap_or(0)
            })
            .collect();
    }
    let mut stack: Vec<&'a Span> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let keep = stack
            .iter()
            .take_while(|open| item.spans.contains(open))
            .count();
        while stack.len() > keep {
            if let Some(span) = stack.pop() {
                step(Step::Close(span));
            }
        }
        let mut opening: Vec<(usize, &'a Span)> = item
            .spans
            .iter()
            .enumerate()
            .filter(|(_, span)| !stack.contains(span))
            .map(|(k, span)| (remaining[i].get(k).copied().unwrap_or(1), span))
            .collect();
        opening.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.rank().cmp(&b.1.rank())));
        for (_, span) in opening {
            step(Step::Open(span));
            stack.push(span);
        }
        step(Step::Item(item));
    }
    while let Some(span) = stack.pop() {
        step(Step::Close(span));
    }
}
