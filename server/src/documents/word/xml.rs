//! A flat walk over one XML part: start tags (with their attributes), end tags and
//! text, by local name, so the readers match `p`, `r`, `t` whatever prefix the
//! writer chose. The walk is a loop, not a recursion, so no nesting can overflow a
//! stack; it still refuses nesting past [`MAX_XML_DEPTH`], which no real document
//! comes near (Word's deepest structures, tables in tables, nest about 40 levels).

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::WordError;

/// Deepest element nesting a part may have.
pub const MAX_XML_DEPTH: usize = 256;

/// A start tag: its local name and attributes (local name, unescaped value).
#[derive(Debug)]
pub struct Tag {
    pub name: String,
    attrs: Vec<(String, String)>,
}

impl Tag {
    /// The value of the attribute with local name `key` (`w:val` → `val`).
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A WordprocessingML on/off property (`<w:b/>`, `<w:b w:val="false"/>`).
    pub fn on(&self) -> bool {
        !matches!(self.attr("val"), Some("0" | "false" | "off" | "none"))
    }
}

/// One step of the walk.
pub enum Step<'a> {
    Start(Tag),
    End(&'a str),
    Text(Cow<'a, str>),
}

/// Walks `xml`, calling `visit` for each step; an empty element gives a start and an
/// end. `part` names the part in errors.
pub fn walk(xml: &str, part: &str, mut visit: impl FnMut(Step<'_>)) -> Result<(), WordError> {
    let broken = |_: ()| WordError::BrokenPart(part.to_owned());
    let mut reader = Reader::from_str(xml);
    let mut names: Vec<String> = Vec::new();
    loop {
        match reader.read_event().map_err(|_| broken(()))? {
            Event::Start(start) => {
                let tag = tag(&start).map_err(broken)?;
                if names.len() >= MAX_XML_DEPTH {
                    return Err(WordError::TooDeep(MAX_XML_DEPTH));
                }
                names.push(tag.name.clone());
                visit(Step::Start(tag));
            }
            Event::Empty(start) => {
                let tag = tag(&start).map_err(broken)?;
                let name = tag.name.clone();
                visit(Step::Start(tag));
                visit(Step::End(&name));
            }
            Event::End(_) => {
                let name = names.pop().ok_or_else(|| broken(()))?;
                visit(Step::End(&name));
            }
            Event::Text(text) => visit(Step::Text(text.decode().map_err(|_| broken(()))?)),
            Event::CData(text) => visit(Step::Text(text.decode().map_err(|_| broken(()))?)),
            Event::GeneralRef(reference) => {
                if let Some(c) = entity(&reference) {
                    visit(Step::Text(Cow::Owned(c.to_string())));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if names.is_empty() {
        Ok(())
    } else {
        Err(broken(()))
    }
}

/// The character a reference stands for: the five predefined entities and character
/// references; anything else (an entity from a DTD, which a .docx has none of) is dropped.
fn entity(reference: &quick_xml::events::BytesRef<'_>) -> Option<char> {
    if let Ok(Some(c)) = reference.resolve_char_ref() {
        return Some(c);
    }
    match &**reference {
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"amp" => Some('&'),
        b"apos" => Some('\''),
        b"quot" => Some('"'),
        _ => None,
    }
}

fn tag(start: &quick_xml::events::BytesStart<'_>) -> Result<Tag, ()> {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|_| ())?;
        let key = String::from_utf8_lossy(attr.key.local_name().as_ref()).into_owned();
        let value = attr
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|_| ())?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Tag { name, attrs })
}
