//! Which link addresses we keep.
//!
//! The importer and the Markdown exporter keep the schemes Tiptap's Link accepts; the HTML
//! exporter, whose output may be shown in a browser as is, keeps fewer. One check serves
//! both, written so that the tricks browsers forgive (`java\tscript:`) do not get past it.

/// URL schemes Tiptap's Link accepts by default; links to anything else are dropped on
/// import and on Markdown export (the text stays).
pub(in crate::documents) const EDITOR_SCHEMES: &[&str] = &[
    "http", "https", "ftp", "ftps", "mailto", "tel", "callto", "sms", "cid", "xmpp",
];
/// URL schemes allowed in exported HTML, which may be shown in a browser as is.
pub(super) const HTML_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Whether `href` is relative or uses one of `schemes`. Browsers ignore whitespace and
/// control characters inside a URL (`java\tscript:`), so they are ignored here too, and a
/// colon before any `/`, `?` or `#` counts as a scheme even when it is not a valid one.
pub(in crate::documents) fn href_allowed(href: &str, schemes: &[&str]) -> bool {
    let cleaned: String = href
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let Some(end) = cleaned.find([':', '/', '?', '#']) else {
        return true;
    };
    if !cleaned[end..].starts_with(':') {
        return true;
    }
    let scheme = cleaned[..end].to_ascii_lowercase();
    schemes.contains(&scheme.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn href_filter() {
        for ok in [
            "https://a.se",
            "http://a.se",
            "mailto:x@y.se",
            "/rel",
            "rel/a:b",
            "#frag",
            "?q=a:b",
            "",
        ] {
            assert!(href_allowed(ok, HTML_SCHEMES), "{ok}");
        }
        for bad in [
            "javascript:x",
            " JAVASCRIPT:x",
            "java\nscript:x",
            "data:x",
            "tel:123",
            "weird:x",
        ] {
            assert!(!href_allowed(bad, HTML_SCHEMES), "{bad}");
        }
        assert!(href_allowed("tel:123", EDITOR_SCHEMES));
    }
}
