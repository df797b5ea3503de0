//! What a paragraph's or a run's style, its list numbering and its link mean, from the
//! package's side parts (`styles.xml`, `numbering.xml`, the relationships, the core
//! properties).
//!
//! A heading is recognised by its style, not by how it looks: Word's built-in heading
//! styles keep their English names ("heading 1") whatever the user's language, but
//! templates made in a localised Word or LibreOffice often carry the translated name
//! ("Rubrik 1"), and custom styles based on a heading style, or any style with an outline
//! level, are headings too (Word's navigation pane shows them). Inheritance (`basedOn`) is
//! followed at most [`MAX_BASED_ON`] steps, so a cycle in a hostile file ends.

use std::collections::HashMap;

use super::WordError;
use super::xml::{Step, walk};

/// Longest `basedOn` chain followed.
const MAX_BASED_ON: usize = 16;

/// Heading style names by language, lower case without spaces, each followed by the
/// level digit: English (Word's internal names), Swedish, German, French, Danish and
/// Norwegian, Finnish, Dutch.
const HEADING_PREFIXES: &[&str] = &[
    "heading",
    "rubrik",
    "überschrift",
    "titre",
    "overskrift",
    "otsikko",
    "kop",
];
/// Title style names (Word's "Title", Swedish "Rubrik"): imported as level 1.
const TITLE_NAMES: &[&str] = &["title", "rubrik", "titel", "titre", "otsikko"];

/// Run formatting that a character style (or a run) sets; `None` leaves it as inherited.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunFlags {
    pub bold: Option<bool>,
    pub italic: Option<bool>,
    pub underline: Option<bool>,
    pub strike: Option<bool>,
}

impl RunFlags {
    /// Applies one run property element (`b`, `i`, `u`, `strike`, `dstrike`).
    pub fn set(&mut self, name: &str, tag: &super::xml::Tag) {
        match name {
            "b" => self.bold = Some(tag.on()),
            "i" => self.italic = Some(tag.on()),
            "u" => self.underline = Some(tag.on()),
            "strike" | "dstrike" => self.strike = Some(tag.on()),
            _ => {}
        }
    }

    /// `self` over `base`: what `self` sets wins.
    pub fn over(self, base: RunFlags) -> RunFlags {
        RunFlags {
            bold: self.bold.or(base.bold),
            italic: self.italic.or(base.italic),
            underline: self.underline.or(base.underline),
            strike: self.strike.or(base.strike),
        }
    }
}

/// A list reference: `numId` and level (`ilvl`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumRef {
    pub num_id: String,
    pub level: u8,
}

#[derive(Debug, Default)]
struct Style {
    kind: String,
    name: String,
    based_on: Option<String>,
    outline: Option<u8>,
    num_id: Option<String>,
    num_level: Option<u8>,
    run: RunFlags,
}

/// The styles of a package.
#[derive(Debug, Default)]
pub struct Styles {
    styles: HashMap<String, Style>,
}

impl Styles {
    pub fn parse(xml: &str) -> Result<Self, WordError> {
        let mut styles = HashMap::new();
        let mut current: Option<(String, Style)> = None;
        let mut in_rpr = false;
        walk(xml, "word/styles.xml", |step| match step {
            Step::Start(tag) => match tag.name.as_str() {
                "style" => {
                    let id = tag.attr("styleId").unwrap_or_default().to_owned();
                    let kind = tag.attr("type").unwrap_or("paragraph").to_owned();
                    current = Some((
                        id,
                        Style {
                            kind,
                            ..Style::default()
                        },
                    ));
                }
                "rPr" => in_rpr = true,
                name => {
                    let Some((_, style)) = current.as_mut() else {
                        return;
                    };
                    let val = tag.attr("val");
                    match name {
                        "name" => style.name = val.unwrap_or_default().to_owned(),
                        "basedOn" => style.based_on = val.map(str::to_owned),
                        "outlineLvl" => style.outline = val.and_then(|v| v.parse().ok()),
                        "numId" => style.num_id = val.map(str::to_owned),
                        "ilvl" => style.num_level = val.and_then(|v| v.parse().ok()),
                        _ if in_rpr => style.run.set(name, &tag),
                        _ => {}
                    }
                }
            },
            Step::End("rPr") => in_rpr = false,
            Step::End("style") => {
                if let Some((id, style)) = current.take() {
                    styles.insert(id, style);
                }
            }
            _ => {}
        })?;
        Ok(Styles { styles })
    }

    /// The chain of paragraph or character style `id` and its bases, nearest first.
    fn chain<'a>(&'a self, id: &str) -> impl Iterator<Item = &'a Style> + 'a {
        let mut next = self.styles.get(id);
        std::iter::from_fn(move || {
            let style = next?;
            next = style.based_on.as_deref().and_then(|b| self.styles.get(b));
            Some(style)
        })
        .take(MAX_BASED_ON)
    }

    /// The heading level (1–6) paragraph style `id` gives, if it is a heading style.
    pub fn heading_level(&self, id: &str) -> Option<u8> {
        if let Some(level) = heading_by_name(id) {
            return Some(level);
        }
        self.chain(id).find_map(|style| {
            heading_by_name(&style.name).or_else(|| style.outline.filter(|o| *o < 6).map(|o| o + 1))
        })
    }

    /// The list numbering paragraph style `id` carries, if any.
    pub fn numbering(&self, id: &str) -> Option<NumRef> {
        self.chain(id).find_map(|style| {
            style.num_id.clone().map(|num_id| NumRef {
                num_id,
                level: style.num_level.unwrap_or(0),
            })
        })
    }

    /// The run formatting of character style `id`.
    pub fn run_flags(&self, id: &str) -> RunFlags {
        self.chain(id)
            .filter(|s| s.kind == "character")
            .fold(RunFlags::default(), |flags, style| flags.over(style.run))
    }
}

/// The level a heading style's name or id says: "heading 2", "Heading2", "Rubrik 2".
pub fn heading_by_name(name: &str) -> Option<u8> {
    let key: String = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect();
    if TITLE_NAMES.contains(&key.as_str()) {
        return Some(1);
    }
    HEADING_PREFIXES.iter().find_map(|prefix| {
        let level: u8 = key.strip_prefix(prefix)?.parse().ok()?;
        (1..=6).contains(&level).then_some(level)
    })
}

/// How one list level is numbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    pub ordered: bool,
    pub start: i64,
}

/// The list definitions of a package.
#[derive(Debug, Default)]
pub struct Numbering {
    /// `numId` → `abstractNumId`.
    nums: HashMap<String, String>,
    /// (`abstractNumId`, level) → how it is numbered; `None` for format `none`.
    levels: HashMap<(String, u8), Option<Level>>,
}

impl Numbering {
    pub fn parse(xml: &str) -> Result<Self, WordError> {
        let mut numbering = Numbering::default();
        let mut abstract_id: Option<String> = None;
        let mut num_id: Option<String> = None;
        let mut level: Option<(u8, Level, bool)> = None;
        walk(xml, "word/numbering.xml", |step| match step {
            Step::Start(tag) => match tag.name.as_str() {
                "abstractNum" => abstract_id = tag.attr("abstractNumId").map(str::to_owned),
                "num" => num_id = tag.attr("numId").map(str::to_owned),
                "abstractNumId" => {
                    if let (Some(num), Some(target)) = (num_id.clone(), tag.attr("val")) {
                        numbering.nums.insert(num, target.to_owned());
                    }
                }
                "lvl" if abstract_id.is_some() => {
                    let ilvl = tag.attr("ilvl").and_then(|v| v.parse().ok()).unwrap_or(0);
                    let plain = Level {
                        ordered: false,
                        start: 1,
                    };
                    level = Some((ilvl, plain, true));
                }
                "start" => {
                    if let Some((_, lvl, _)) = level.as_mut() {
                        lvl.start = tag.attr("val").and_then(|v| v.parse().ok()).unwrap_or(1);
                    }
                }
                "numFmt" => {
                    if let Some((_, lvl, shown)) = level.as_mut() {
                        let format = tag.attr("val").unwrap_or("bullet");
                        lvl.ordered = format != "bullet";
                        *shown = format != "none";
                    }
                }
                _ => {}
            },
            Step::End("lvl") => {
                if let (Some((ilvl, lvl, shown)), Some(id)) = (level.take(), abstract_id.clone()) {
                    numbering.levels.insert((id, ilvl), shown.then_some(lvl));
                }
            }
            Step::End("abstractNum") => abstract_id = None,
            Step::End("num") => num_id = None,
            _ => {}
        })?;
        Ok(numbering)
    }

    /// How list `num` numbers its level; `None` when it is no list (`numId` 0, an
    /// unknown id, or format `none`).
    pub fn level(&self, num: &NumRef) -> Option<Level> {
        if num.num_id == "0" {
            return None;
        }
        match self.nums.get(&num.num_id) {
            Some(abstract_id) => self
                .levels
                .get(&(abstract_id.clone(), num.level))
                .copied()
                .unwrap_or(Some(Level {
                    ordered: false,
                    start: 1,
                })),
            None => None,
        }
    }
}

/// The main part's relationships: id → target (for hyperlinks, the address).
#[derive(Debug, Default)]
pub struct Relationships {
    targets: HashMap<String, String>,
}

impl Relationships {
    pub fn parse(xml: &str) -> Result<Self, WordError> {
        let mut targets = HashMap::new();
        walk(xml, "word/_rels/document.xml.rels", |step| {
            if let Step::Start(tag) = step
                && tag.name == "Relationship"
                && let (Some(id), Some(target)) = (tag.attr("Id"), tag.attr("Target"))
            {
                targets.insert(id.to_owned(), target.to_owned());
            }
        })?;
        Ok(Relationships { targets })
    }

    pub fn target(&self, id: &str) -> Option<&str> {
        self.targets.get(id).map(String::as_str)
    }
}

/// The title in the core properties (`docProps/core.xml`), if set.
pub fn core_title(xml: &str) -> Result<Option<String>, WordError> {
    let mut in_title = false;
    let mut title = String::new();
    walk(xml, "docProps/core.xml", |step| match step {
        Step::Start(tag) if tag.name == "title" => in_title = true,
        Step::End("title") => in_title = false,
        Step::Text(text) if in_title => title.push_str(&text),
        _ => {}
    })?;
    let title = title.trim();
    Ok((!title.is_empty()).then(|| title.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heading_names_in_several_languages() {
        assert_eq!(heading_by_name("heading 1"), Some(1));
        assert_eq!(heading_by_name("Heading3"), Some(3));
        assert_eq!(heading_by_name("Rubrik 2"), Some(2));
        assert_eq!(heading_by_name("Überschrift 4"), Some(4));
        assert_eq!(heading_by_name("Title"), Some(1));
        assert_eq!(heading_by_name("Heading 7"), None);
        assert_eq!(heading_by_name("Normal"), None);
        assert_eq!(heading_by_name("Brödtext"), None);
    }

    #[test]
    fn custom_styles_inherit_heading_levels_and_a_cycle_ends() {
        let xml = r#"<w:styles xmlns:w="w">
            <w:style w:type="paragraph" w:styleId="Rubrik2"><w:name w:val="heading 2"/></w:style>
            <w:style w:type="paragraph" w:styleId="Egen"><w:name w:val="Min rubrik"/><w:basedOn w:val="Rubrik2"/></w:style>
            <w:style w:type="paragraph" w:styleId="Disp"><w:name w:val="Disposition"/><w:pPr><w:outlineLvl w:val="2"/></w:pPr></w:style>
            <w:style w:type="paragraph" w:styleId="A"><w:name w:val="A"/><w:basedOn w:val="B"/></w:style>
            <w:style w:type="paragraph" w:styleId="B"><w:name w:val="B"/><w:basedOn w:val="A"/></w:style>
            <w:style w:type="character" w:styleId="Strong"><w:name w:val="Strong"/><w:rPr><w:b/></w:rPr></w:style>
        </w:styles>"#;
        let styles = Styles::parse(xml).expect("parses");
        assert_eq!(styles.heading_level("Egen"), Some(2));
        assert_eq!(styles.heading_level("Disp"), Some(3));
        assert_eq!(styles.heading_level("A"), None);
        assert_eq!(styles.run_flags("Strong").bold, Some(true));
    }
}
