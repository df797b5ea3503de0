//! Realistic edits: a person typing a Swedish draft in Tiptap, one keystroke per update.
//!
//! Tiptap keeps its tree in the XmlFragment "default": each paragraph a `paragraph`
//! element holding one XmlText. The typist inserts one character at a time at the end of
//! the current paragraph, as the Collaboration extension sends one update per keystroke,
//! and may start a new paragraph after each pass over the text (as pressing Enter adds a
//! sibling element). The text is Swedish so UTF-16 offsets are exercised: "å ä ö" count
//! one UTF-16 unit but two UTF-8 bytes.

use std::iter::Cycle;
use std::str::Chars;

use yrs::{
    Doc, ReadTxn, Text, Transact, XmlElementPrelim, XmlFragment, XmlFragmentRef, XmlTextPrelim,
    XmlTextRef,
};

/// The field Tiptap's Collaboration extension keeps its tree in.
pub const FRAGMENT: &str = "default";

/// What the typist types, over and over: from a real consultation response, with å ä ö.
/// Free of `<`, `>` and `&`, so the fragment's XML form is the text itself inside its tags.
pub const TYPED_TEXT: &str = "Förvaltningen har inte fått möjlighet att medverka i beredningen \
    av förslaget. En sådan förankringsprocess hade kunnat bidra till kvaliteten på \
    programmet. Förebyggande arbete i skolan är viktigt, och ansvarsfördelningen behöver \
    bli tydligare för att programmet ska kunna genomföras. ";

/// Types [`TYPED_TEXT`] one character per edit at the end of the current paragraph of
/// the fragment, creating the paragraph (element and text) with its first character.
pub struct Typist {
    fragment: XmlFragmentRef,
    source: Cycle<Chars<'static>>,
    text: Option<XmlTextRef>,
    /// Where the next character goes, in UTF-16 units (the `Doc`'s offset kind).
    offset: u32,
    /// Start a new paragraph after each pass over the text, or keep to one.
    paragraphs: bool,
    /// Characters typed into the current paragraph.
    in_paragraph: usize,
    /// Paragraphs created so far (the next one goes at this index).
    created: u32,
    /// Everything typed, when the caller wants to check it.
    typed: Option<String>,
}

impl Typist {
    /// A typist for `doc`. With `paragraphs`, each pass over the text goes into a new
    /// paragraph; `keep_typed` keeps a copy of what was typed for checking.
    pub fn new(doc: &Doc, paragraphs: bool, keep_typed: bool) -> Self {
        Self {
            fragment: doc.get_or_insert_xml_fragment(FRAGMENT),
            source: TYPED_TEXT.chars().cycle(),
            text: None,
            offset: 0,
            paragraphs,
            in_paragraph: 0,
            created: 0,
            typed: keep_typed.then(String::new),
        }
    }

    /// Makes the next edit; returns its update (v1) and the writer's clock after it.
    pub fn type_next(&mut self, doc: &Doc) -> (Vec<u8>, u32) {
        // The source is a non-empty constant, so the cycle never ends.
        let ch = self.source.next().unwrap_or(' ');
        let mut buf = [0; 4];
        let chunk: &str = ch.encode_utf8(&mut buf);
        if self.paragraphs && self.in_paragraph == TYPED_TEXT.chars().count() {
            self.text = None;
        }
        let update = {
            let mut txn = doc.transact_mut();
            match &self.text {
                Some(text) => text.insert(&mut txn, self.offset, chunk),
                None => {
                    let paragraph = self.fragment.insert(
                        &mut txn,
                        self.created,
                        XmlElementPrelim::empty("paragraph"),
                    );
                    self.text = Some(paragraph.insert(&mut txn, 0, XmlTextPrelim::new(chunk)));
                    self.created += 1;
                    self.offset = 0;
                    self.in_paragraph = 0;
                }
            }
            txn.encode_update_v1()
        };
        let clock = doc.transact().state_vector().get(&doc.client_id());
        // A char is one or two UTF-16 units.
        self.offset += ch.len_utf16() as u32;
        self.in_paragraph += 1;
        if let Some(typed) = &mut self.typed {
            typed.push(ch);
        }
        (update, clock)
    }

    /// What was typed, if the typist keeps it.
    pub fn typed(&self) -> Option<&str> {
        self.typed.as_deref()
    }
}
