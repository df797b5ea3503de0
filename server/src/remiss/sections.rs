//! The draft's own section numbering, read from its headings, so the compilation can
//! say "3.2 Stadsutveckling, stycke 2" where it used to say "Stycke 14": a registrator
//! and a nämnd find a point by the section number printed in the draft, not by a block
//! counter that nobody sees.
//!
//! The rules, in order:
//! - a heading whose text starts with a number ("3.2 Stadsutveckling", "4. Mål") keeps
//!   the draft's own number;
//! - the first block, when it is a heading and no later heading is as high or higher, is
//!   the document's title: it gets no number and does not count as a level;
//! - every other heading is numbered by its level among the headings below the title,
//!   as Word's outline numbering does (1, 1.1, 1.2, 2 …; a skipped level counts 0);
//! - text before the first section heading belongs to "Inledning";
//! - a block's paragraph number counts the non-heading blocks with text in its section,
//!   from 1.

/// Where a top-level block of the draft sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The section's label: its number and heading text, e.g. "3.2 Stadsutveckling".
    pub section: String,
    /// Which section, counting from 0 in document order (the "Inledning" before any
    /// heading included); for grouping.
    pub section_index: usize,
    /// The block's number among the text blocks of its section, from 1; `None` for the
    /// heading itself.
    pub paragraph: Option<usize>,
}

impl Place {
    /// "3.2 Stadsutveckling, stycke 2", or the section's label for its heading.
    pub fn label(&self) -> String {
        match self.paragraph {
            Some(n) => format!("{}, stycke {n}", self.section),
            None => self.section.clone(),
        }
    }
}

/// The label of text before the first section heading.
pub const PREAMBLE: &str = "Inledning";

/// The place of every top-level block, given each block's heading level (`None` for
/// other blocks) and text, as `block_heading_levels` and `block_texts` give them.
pub fn places(levels: &[Option<u8>], texts: &[String]) -> Vec<Place> {
    let title = title_index(levels);
    let top = levels
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != title)
        .filter_map(|(_, l)| *l)
        .min()
        .unwrap_or(1);
    let mut counters = [0usize; 6];
    let mut section = title
        .and_then(|i| texts.get(i).cloned())
        .unwrap_or_else(|| PREAMBLE.to_owned());
    let mut section_index = 0;
    let mut paragraph = 0;
    let mut out = Vec::with_capacity(levels.len());
    for (i, level) in levels.iter().enumerate() {
        let text = texts.get(i).map(String::as_str).unwrap_or_default();
        match level {
            Some(level) if Some(i) != title => {
                let depth = usize::from(level.saturating_sub(top)).min(counters.len() - 1);
                counters[depth] += 1;
                counters[depth + 1..].fill(0);
                section = if own_number(text) {
                    text.to_owned()
                } else {
                    let number: Vec<String> =
                        counters[..=depth].iter().map(usize::to_string).collect();
                    format!("{} {text}", number.join("."))
                };
                if i > 0 {
                    section_index += 1;
                }
                paragraph = 0;
                out.push(place(&section, section_index, None));
            }
            Some(_) => out.push(place(&section, section_index, None)),
            None => {
                if !text.trim().is_empty() {
                    paragraph += 1;
                }
                out.push(place(&section, section_index, Some(paragraph.max(1))));
            }
        }
    }
    out
}

fn place(section: &str, section_index: usize, paragraph: Option<usize>) -> Place {
    Place {
        section: section.to_owned(),
        section_index,
        paragraph,
    }
}

/// The first block, if it is a heading that no later heading equals or outranks.
fn title_index(levels: &[Option<u8>]) -> Option<usize> {
    let first = (*levels.first()?)?;
    levels[1..]
        .iter()
        .flatten()
        .all(|l| *l > first)
        .then_some(0)
}

/// Whether a heading's text starts with its own number: digits, optionally dotted
/// ("3", "3.2", "3.2."), then a space.
fn own_number(text: &str) -> bool {
    let Some(number) = text.split_whitespace().next() else {
        return false;
    };
    text.len() > number.len()
        && number.starts_with(|c: char| c.is_ascii_digit())
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !number.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(blocks: &[(Option<u8>, &str)]) -> Vec<String> {
        let levels: Vec<Option<u8>> = blocks.iter().map(|b| b.0).collect();
        let texts: Vec<String> = blocks.iter().map(|b| b.1.to_owned()).collect();
        places(&levels, &texts).iter().map(Place::label).collect()
    }

    #[test]
    fn a_title_then_numbered_sections() {
        assert_eq!(
            labels(&[
                (Some(1), "Program för trygghet"),
                (None, "Inledande text."),
                (Some(2), "Mål"),
                (None, "Ett."),
                (None, ""),
                (None, "Två."),
                (Some(3), "Skolan"),
                (None, "Tre."),
                (Some(2), "Uppföljning"),
                (Some(4), "Djupt"),
                (None, "Fyra."),
            ]),
            vec![
                "Program för trygghet",
                "Program för trygghet, stycke 1",
                "1 Mål",
                "1 Mål, stycke 1",
                "1 Mål, stycke 1",
                "1 Mål, stycke 2",
                "1.1 Skolan",
                "1.1 Skolan, stycke 1",
                "2 Uppföljning",
                "2.0.1 Djupt",
                "2.0.1 Djupt, stycke 1",
            ]
        );
    }

    #[test]
    fn the_drafts_own_numbers_are_kept() {
        assert_eq!(
            labels(&[
                (None, "Förord."),
                (Some(1), "3 Samhälle"),
                (Some(2), "3.2 Stadsutveckling"),
                (None, "Text."),
                (Some(2), "2020 års mål"),
            ]),
            vec![
                "Inledning, stycke 1",
                "3 Samhälle",
                "3.2 Stadsutveckling",
                "3.2 Stadsutveckling, stycke 1",
                "2020 års mål",
            ]
        );
    }

    #[test]
    fn several_top_headings_are_no_title() {
        let levels = [Some(1), None, Some(1), None];
        let texts = ["A", "a", "B", "b"].map(str::to_owned);
        let got = places(&levels, &texts);
        assert_eq!(got[1].label(), "1 A, stycke 1");
        assert_eq!(got[3].label(), "2 B, stycke 1");
        assert_eq!(
            got.iter().map(|p| p.section_index).collect::<Vec<_>>(),
            [0, 0, 1, 1]
        );
    }

    #[test]
    fn numbers_are_recognised_only_when_they_are_numbers() {
        assert!(own_number("3.2 Stadsutveckling"));
        assert!(own_number("4. Mål"));
        assert!(!own_number("3..2 x"));
        assert!(!own_number("Mål 3"));
        assert!(!own_number("42"));
        assert!(!own_number(""));
    }
}
