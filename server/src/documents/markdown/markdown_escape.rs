//! Markdown escaping: literal text, code spans and link destinations written so that they
//! read back as exactly the same characters.
//!
//! The exporters never emit markup from document text; this is where that is enforced for
//! Markdown.

/// Escapes text so that it reads back as the same literal text.
pub fn escape_md(text: &str, line_start: bool, heading: bool, out: &mut String) {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    if line_start {
        let digits = chars.iter().take_while(|c| c.is_ascii_digit()).count();
        match chars.first() {
            // Leading whitespace is dropped (or starts an indented code block).
            Some(' ') => {
                out.push_str("&#32;");
                i = 1;
            }
            Some('\t') => {
                out.push_str("&#9;");
                i = 1;
            }
            // Headings, list items, setext underlines, quotes.
            Some(c @ ('#' | '-' | '+' | '=' | '>')) => {
                out.push('\\');
                out.push(*c);
                i = 1;
            }
            // "1. " or "1) " starts an ordered list.
            Some(_)
                if (1..=9).contains(&digits)
                    && matches!(chars.get(digits), Some('.' | ')'))
                    && matches!(chars.get(digits + 1), None | Some(' ' | '\t')) =>
            {
                out.extend(&chars[..digits]);
                out.push('\\');
                out.extend(chars.get(digits));
                i = digits + 1;
            }
            _ => {}
        }
    }
    while i < chars.len() {
        let c = chars[i];
        let previous = i.checked_sub(1).and_then(|p| chars.get(p));
        let next = chars.get(i + 1);
        match c {
            '\\' | '*' | '`' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            // An underscore inside a word cannot open or close emphasis.
            '_' if previous.is_some_and(|p| p.is_alphanumeric())
                && next.is_some_and(|n| n.is_alphanumeric()) =>
            {
                out.push('_')
            }
            '_' => out.push_str("\\_"),
            // A tag, comment or autolink.
            '<' if next
                .is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) =>
            {
                out.push_str("\\<")
            }
            // An entity or character reference.
            '&' if looks_like_entity(&chars[i + 1..]) => out.push_str("\\&"),
            // A closing sequence of a heading.
            '#' if heading => out.push_str("\\#"),
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
        i += 1;
    }
}

/// Whether the characters after an `&` would be read as an entity (`amp;`, `#32;`, `#x20;`).
pub(super) fn looks_like_entity(rest: &[char]) -> bool {
    let body = rest
        .iter()
        .take(33)
        .take_while(|c| c.is_ascii_alphanumeric() || **c == '#')
        .count();
    body > 0 && rest.get(body) == Some(&';')
}

pub(super) fn md_code_span(code: &str, out: &mut String) {
    let code = code.replace(['\n', '\r'], " ");
    // The fence is a backtick run whose length does not occur in the code.
    let mut runs = Vec::new();
    let mut current = 0;
    for c in code.chars().chain(std::iter::once('\0')) {
        if c == '`' {
            current += 1;
        } else if current > 0 {
            runs.push(current);
            current = 0;
        }
    }
    let runs: std::collections::HashSet<usize> = runs.into_iter().collect();
    let mut n = 1;
    while runs.contains(&n) {
        n += 1;
    }
    let fence = "`".repeat(n);
    // One space on each side is stripped when both are there; pad when the code needs it.
    let pad = code.starts_with('`')
        || code.ends_with('`')
        || (code.starts_with(' ') && code.ends_with(' ') && !code.trim_matches(' ').is_empty());
    out.push_str(&fence);
    if pad {
        out.push(' ');
    }
    out.push_str(&code);
    if pad {
        out.push(' ');
    }
    out.push_str(&fence);
}

/// A link destination: bare when possible, in `<…>` when it has spaces.
pub(super) fn md_destination(href: &str) -> String {
    let chars: Vec<char> = href.chars().collect();
    let bare = !chars
        .iter()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>'));
    let mut out = String::new();
    if !bare {
        out.push('<');
    }
    for (i, c) in chars.iter().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '(' | ')' if bare => {
                out.push('\\');
                out.push(*c);
            }
            '<' | '>' => {
                out.push('\\');
                out.push(*c);
            }
            '&' if looks_like_entity(&chars[i + 1..]) => out.push_str("\\&"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            _ => out.push(*c),
        }
    }
    if !bare {
        out.push('>');
    }
    out
}
