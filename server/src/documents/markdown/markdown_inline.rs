//! Markdown export of inline content: marks as emphasis, links and code spans.
//!
//! CommonMark decides whether a delimiter run is emphasis from the characters around it,
//! so delimiters stay tokens until the end, whitespace moves out of emphasis, and a letter
//! that would stop a run from opening or closing is written as a character reference.

use super::href::{EDITOR_SCHEMES, href_allowed};
use super::inline::{Inline, InlineKind, Span, Step, inline_items, walk_inline};
use super::markdown_escape::{escape_md, md_code_span, md_destination};
use super::schema::{LinkMark, Node};

/// A piece of inline Markdown. Emphasis delimiters stay separate until the end, because
/// whether CommonMark reads them as emphasis depends on the characters around them.
#[derive(Debug)]
enum Tok {
    Lit(String),
    /// A hard break (`\` and a newline).
    Break,
    /// An emphasis delimiter; `pair` links an opener to its closer.
    Delim {
        ch: char,
        len: usize,
        open: bool,
        pair: usize,
    },
}

/// Inline Markdown of a paragraph or heading.
pub(super) fn md_inline(children: &[Node], heading: bool) -> String {
    let items = inline_items(children, |span| match span {
        Span::Underline => false,
        Span::Link(link) => href_allowed(&link.href, EDITOR_SCHEMES),
        _ => true,
    });
    // An ATX heading is one line: its breaks become spaces.
    let items = if heading {
        items
            .into_iter()
            .map(|item| match item.kind {
                InlineKind::Break => Inline {
                    kind: InlineKind::Text(" ".to_string()),
                    spans: item.spans,
                },
                _ => item,
            })
            .collect()
    } else {
        items
    };
    let mut items = hoist_whitespace(items);
    // A backslash at the very end of a paragraph is literal, not a break.
    while items.last().is_some_and(|i| i.kind == InlineKind::Break) {
        items.pop();
    }
    let toks = inline_tokens(&items, heading);
    let mut toks = move_whitespace_out(toks);
    protect_line_edges(&mut toks);
    fix_flanking(&mut toks);
    let mut out = String::new();
    for tok in &toks {
        match tok {
            Tok::Lit(lit) => out.push_str(lit),
            Tok::Break => out.push_str("\\\n"),
            Tok::Delim { ch, len, .. } => (0..*len).for_each(|_| out.push(*ch)),
        }
    }
    out
}

fn inline_tokens(items: &[Inline], heading: bool) -> Vec<Tok> {
    let mut toks: Vec<Tok> = Vec::new();
    // Delimiter character and pair id of each open emphasis, innermost last.
    let mut open: Vec<(char, usize)> = Vec::new();
    let mut pairs = 0;
    walk_inline(items, |step| match step {
        Step::Open(Span::Link(_)) => {
            // `!` right before the bracket would make the link an image.
            if let Some(Tok::Lit(last)) = toks.last_mut()
                && last.ends_with('!')
            {
                last.pop();
                last.push_str("\\!");
            }
            toks.push(Tok::Lit("[".to_string()));
        }
        Step::Open(span @ (Span::Bold | Span::Italic | Span::Strike)) => {
            // `*` and `**`, but `_` or `__` right after another `*` run: a merged run such
            // as `***` may pair with the wrong opener (CommonMark's "rule of 3" keeps
            // `*` and `**` runs apart, not a run of three).
            let ch = match span {
                Span::Strike => '~',
                _ if matches!(toks.last(), Some(Tok::Delim { ch: '*', .. })) => '_',
                _ => '*',
            };
            let len = if matches!(span, Span::Italic) { 1 } else { 2 };
            pairs += 1;
            open.push((ch, pairs));
            toks.push(Tok::Delim {
                ch,
                len,
                open: true,
                pair: pairs,
            });
        }
        Step::Close(Span::Link(link)) => toks.push(Tok::Lit(md_link_tail(link))),
        Step::Close(span @ (Span::Bold | Span::Italic | Span::Strike)) => {
            let (ch, pair) = open.pop().unwrap_or(('*', 0));
            let len = if matches!(span, Span::Italic) { 1 } else { 2 };
            toks.push(Tok::Delim {
                ch,
                len,
                open: false,
                pair,
            });
        }
        Step::Open(Span::Underline) | Step::Close(Span::Underline) => {}
        Step::Item(item) => match &item.kind {
            InlineKind::Text(text) | InlineKind::Other(text) => {
                let line_start = matches!(toks.last(), None | Some(Tok::Break));
                let mut lit = String::new();
                escape_md(text, line_start, heading, &mut lit);
                toks.push(Tok::Lit(lit));
            }
            InlineKind::Code(code) => {
                let mut lit = String::new();
                md_code_span(code, &mut lit);
                toks.push(Tok::Lit(lit));
            }
            InlineKind::Break => toks.push(Tok::Break),
        },
    });
    toks
}

/// CommonMark does not read `** bold**` or `*italic *` as emphasis: whitespace right
/// inside an emphasis moves outside it, and an emphasis left empty goes away.
fn move_whitespace_out(toks: Vec<Tok>) -> Vec<Tok> {
    let is_opener = |t: &Tok| matches!(t, Tok::Delim { open: true, .. });
    let is_closer = |t: &Tok| matches!(t, Tok::Delim { open: false, .. });
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len() + 8);
    // Whitespace taken from the end of a literal, waiting for the closers after it.
    let mut pending: Option<String> = None;
    let mut toks = toks.into_iter().peekable();
    while let Some(tok) = toks.next() {
        if !is_closer(&tok)
            && let Some(ws) = pending.take()
        {
            out.push(Tok::Lit(ws));
        }
        let Tok::Lit(mut lit) = tok else {
            out.push(tok);
            continue;
        };
        let openers = out.iter().rev().take_while(|t| is_opener(t)).count();
        let lead = lit.len() - lit.trim_start().len();
        if openers > 0 && lead > 0 {
            let opened = out.split_off(out.len() - openers);
            out.push(Tok::Lit(lit.drain(..lead).collect()));
            out.extend(opened);
        }
        let keep = lit.trim_end().len();
        if keep < lit.len() && toks.peek().is_some_and(is_closer) {
            pending = Some(lit.split_off(keep));
        }
        if !lit.is_empty() {
            out.push(Tok::Lit(lit));
        }
    }
    if let Some(ws) = pending {
        out.push(Tok::Lit(ws));
    }
    // Drop empty emphasis (an opener met by its own closer).
    let mut kept: Vec<Tok> = Vec::with_capacity(out.len());
    for tok in out {
        match (&tok, kept.last()) {
            (
                Tok::Delim {
                    open: false, pair, ..
                },
                Some(Tok::Delim {
                    open: true,
                    pair: p,
                    ..
                }),
            ) if pair == p => {
                kept.pop();
            }
            _ => kept.push(tok),
        }
    }
    kept
}

/// CommonMark drops whitespace at the start and end of a line (and four spaces start a
/// code block): keep such a space as a character reference.
fn protect_line_edges(toks: &mut [Tok]) {
    for i in 0..toks.len() {
        let starts_line = i == 0 || matches!(toks.get(i - 1), Some(Tok::Break));
        let ends_line = matches!(toks.get(i + 1), None | Some(Tok::Break));
        if let Some(Tok::Lit(lit)) = toks.get_mut(i) {
            if starts_line {
                match lit.chars().next() {
                    Some(' ') => lit.replace_range(..1, "&#32;"),
                    Some('\t') => lit.replace_range(..1, "&#9;"),
                    _ => {}
                }
            }
            if ends_line {
                protect_line_end(lit);
            }
        }
    }
}

fn md_link_tail(link: &LinkMark) -> String {
    let mut out = String::from("](");
    out.push_str(&md_destination(&link.href));
    if let Some(title) = &link.title {
        out.push_str(" \"");
        for c in title.chars() {
            match c {
                '"' | '\\' => {
                    out.push('\\');
                    out.push(c);
                }
                '\n' | '\r' => out.push(' '),
                _ => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(')');
    out
}

/// CommonMark only reads a delimiter run as opening when it is left-flanking and as
/// closing when it is right-flanking, which fails where emphasis starts or ends with
/// punctuation next to a letter (`ord**"citat"**`), and for `_` inside a word. The letter
/// outside is then written as a character reference, which counts as punctuation (what
/// remark's mdast-util-to-markdown does).
fn fix_flanking(toks: &mut [Tok]) {
    let delim_ch = |t: Option<&Tok>| match t {
        Some(Tok::Delim { ch, .. }) => Some(*ch),
        _ => None,
    };
    // Every run start; a fix turns a letter into punctuation, which may matter to the run
    // on the literal's other side, so that run is checked again. Each fix removes a
    // letter at a literal's edge, so this ends, in linear time.
    let mut queue: std::collections::VecDeque<usize> = (0..toks.len())
        .filter(|&i| {
            delim_ch(toks.get(i)).is_some()
                && delim_ch(i.checked_sub(1).and_then(|p| toks.get(p))) != delim_ch(toks.get(i))
        })
        .collect();
    while let Some(start) = queue.pop_front() {
        let Some(changed) = fix_run(toks, start) else {
            continue;
        };
        if let Some(before) = changed.checked_sub(1)
            && let Some(ch) = delim_ch(toks.get(before))
        {
            let mut first = before;
            while first > 0 && delim_ch(toks.get(first - 1)) == Some(ch) {
                first -= 1;
            }
            queue.push_back(first);
        }
        if delim_ch(toks.get(changed + 1)).is_some() {
            queue.push_back(changed + 1);
        }
    }
}

/// Checks the delimiter run starting at `start`; when it cannot do its job, encodes the
/// letter next to it and returns the index of the literal it changed.
fn fix_run(toks: &mut [Tok], start: usize) -> Option<usize> {
    fn is_punct(c: char) -> bool {
        !c.is_alphanumeric() && !c.is_whitespace()
    }
    fn edge(tok: Option<&Tok>, last: bool) -> char {
        match tok {
            Some(Tok::Lit(lit)) if last => lit.chars().next_back().unwrap_or(' '),
            Some(Tok::Lit(lit)) => lit.chars().next().unwrap_or(' '),
            Some(Tok::Delim { ch, .. }) => *ch,
            Some(Tok::Break) | None => '\n',
        }
    }
    fn encode(c: char) -> String {
        format!("&#x{:X};", u32::from(c))
    }
    let Some(Tok::Delim { ch, open, .. }) = toks.get(start) else {
        return None;
    };
    let (ch, open) = (*ch, *open);
    // The run: consecutive delimiters of one character (all openers or all closers).
    let mut end = start + 1;
    while matches!(toks.get(end), Some(Tok::Delim { ch: c, .. }) if *c == ch) {
        end += 1;
    }
    let before = edge(start.checked_sub(1).and_then(|p| toks.get(p)), true);
    let after = edge(toks.get(end), false);
    let left =
        !after.is_whitespace() && (!is_punct(after) || before.is_whitespace() || is_punct(before));
    let right =
        !before.is_whitespace() && (!is_punct(before) || after.is_whitespace() || is_punct(after));
    let (can_open, can_close) = if ch == '_' {
        (
            left && (!right || is_punct(before)),
            right && (!left || is_punct(after)),
        )
    } else {
        (left, right)
    };
    if open && !can_open && before.is_alphanumeric() {
        let index = start.checked_sub(1)?;
        if let Some(Tok::Lit(lit)) = toks.get_mut(index)
            && let Some(c) = lit.pop()
        {
            lit.push_str(&encode(c));
            return Some(index);
        }
    } else if !open
        && !can_close
        && after.is_alphanumeric()
        && let Some(Tok::Lit(lit)) = toks.get_mut(end)
        && let Some(c) = lit.chars().next()
    {
        lit.replace_range(..c.len_utf8(), &encode(c));
        return Some(end);
    }
    None
}

/// Moves whitespace at the edges of bold, italic and strike text outside the delimiters:
/// CommonMark does not read `** bold**` or `*italic *` as emphasis.
fn hoist_whitespace(items: Vec<Inline>) -> Vec<Inline> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let InlineKind::Text(text) = &item.kind else {
            out.push(item.clone());
            continue;
        };
        if !item.spans.iter().any(Span::is_emphasis) {
            out.push(item.clone());
            continue;
        }
        let previous = i.checked_sub(1).and_then(|p| items.get(p));
        let next = items.get(i + 1);
        // The emphasis the whitespace may keep: what continues from (or into) the neighbour.
        let shared = |neighbour: Option<&Inline>| -> Vec<Span> {
            item.spans
                .iter()
                .filter(|s| !s.is_emphasis() || neighbour.is_some_and(|n| n.spans.contains(s)))
                .cloned()
                .collect()
        };
        let core_start = text.len() - text.trim_start().len();
        let core_end = text.trim_end().len();
        if core_start >= core_end {
            let spans = shared(previous)
                .into_iter()
                .filter(|s| !s.is_emphasis() || next.is_some_and(|n| n.spans.contains(s)))
                .collect();
            out.push(Inline {
                kind: item.kind.clone(),
                spans,
            });
            continue;
        }
        if core_start > 0 {
            out.push(Inline {
                kind: InlineKind::Text(text[..core_start].to_string()),
                spans: shared(previous),
            });
        }
        out.push(Inline {
            kind: InlineKind::Text(text[core_start..core_end].to_string()),
            spans: item.spans.clone(),
        });
        if core_end < text.len() {
            out.push(Inline {
                kind: InlineKind::Text(text[core_end..].to_string()),
                spans: shared(next),
            });
        }
    }
    out
}

/// Whitespace at the end of a line is dropped by CommonMark: keep the last one as an entity.
fn protect_line_end(out: &mut String) {
    if out.ends_with(' ') {
        out.pop();
        out.push_str("&#32;");
    } else if out.ends_with('\t') {
        out.pop();
        out.push_str("&#9;");
    }
}

#[cfg(test)]
mod tests {
    use yrs::Transact;

    use super::super::read::read_fragment;
    use super::super::test_support::{import, signature, to_markdown};
    use super::super::{block_texts, export_markdown};

    #[test]
    fn tricky_inline_markdown_round_trips() {
        let cases = [
            // Punctuation inside emphasis next to a letter outside it.
            "or&#x64;**\"citat\"**&#x6F;rd och *(parentes)*&#x73;lut",
            // An exclamation mark right before a link.
            "Hej![länk](https://example.se)",
            // Bold and italic that end and start at one point.
            "**fet***kursiv*",
            // Emphasis around a hard break.
            "*kursiv rad\\\nny rad*",
            // Leading, trailing and indenting spaces.
            "&#32;   inledande och avslutande&#32;",
        ];
        for case in cases {
            let (doc, fragment) = import(case);
            let txn = doc.transact();
            let texts = block_texts(&txn, &fragment);
            let mut marks = Vec::new();
            signature(&read_fragment(&txn, &fragment), "", &mut marks);
            let exported = export_markdown(&txn, &fragment);
            let (doc2, fragment2) = import(&exported);
            let txn2 = doc2.transact();
            let mut marks2 = Vec::new();
            signature(&read_fragment(&txn2, &fragment2), "", &mut marks2);
            assert_eq!(
                block_texts(&txn2, &fragment2),
                texts,
                "{case:?} → {exported:?}"
            );
            assert_eq!(marks2, marks, "{case:?} → {exported:?}");
        }
        let glued = "or&#x64;**\"citat\"**&#x6F;rd\n";
        assert_eq!(to_markdown(glued), glued);
        assert_eq!(to_markdown("**fet***kursiv*"), "**fet**_kursiv_\n");
    }
}
