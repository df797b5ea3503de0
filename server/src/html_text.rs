//! User text made safe for HTML, for every page and part the server writes itself (the
//! Markdown and remiss exports, sign-in refusal pages, notification e-mail): one
//! escaping rule, kept apart from all of them so none depends on another.

/// Appends `text` entity-encoded for element content and for double- or single-quoted
/// attribute values.
pub fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// `text` entity-encoded, as [`escape_into`] writes it.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(text, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_both_quotes_become_entities() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("Förankra – åäö"), "Förankra – åäö");
    }
}
