//! The ZIP package of a .docx, read with bounds: an upload is at most `--max-body-bytes`
//! (4 MiB by default), but deflate packs a run of identical bytes about 1000:1, so a
//! 4 MiB upload can unpack to gigabytes (a zip bomb). Every part is read through a
//! `take` of its own limit, whatever size the archive declares for it, and only the few
//! XML parts the import needs are unpacked at all (images are never opened).

use std::io::{Cursor, Read};

use zip::ZipArchive;
use zip::result::ZipError;

use super::WordError;

/// Most bytes the main part (`word/document.xml`) may unpack to. Word's XML for a
/// 200-page draft programme is about 5 MB; this is ten times that.
pub const MAX_DOCUMENT_XML_BYTES: u64 = 48 * 1024 * 1024;
/// Most bytes any other part we read (styles, numbering, relationships, properties) may
/// unpack to; Word's own are tens of kilobytes.
pub const MAX_SIDE_PART_BYTES: u64 = 8 * 1024 * 1024;
/// Most entries the archive may list; a real .docx has 10 to a few hundred.
pub const MAX_ENTRIES: usize = 10_000;

/// The main part's name in every .docx Word and LibreOffice write.
pub const DOCUMENT_PART: &str = "word/document.xml";

/// An opened package.
pub struct Package {
    archive: ZipArchive<Cursor<Vec<u8>>>,
}

impl Package {
    /// Opens `bytes` as a ZIP archive and checks it is a Word document, not an
    /// OpenDocument text or some other ZIP.
    pub fn open(bytes: Vec<u8>) -> Result<Self, WordError> {
        if !bytes.starts_with(b"PK") {
            return Err(WordError::NotAZip);
        }
        let archive = ZipArchive::new(Cursor::new(bytes)).map_err(|_| WordError::NotAZip)?;
        if archive.len() > MAX_ENTRIES {
            return Err(WordError::TooManyEntries(MAX_ENTRIES));
        }
        let mut package = Package { archive };
        if package.has(DOCUMENT_PART) {
            return Ok(package);
        }
        let mimetype = package.part("mimetype", 200).ok().flatten();
        if mimetype.is_some_and(|m| m.starts_with("application/vnd.oasis.opendocument")) {
            return Err(WordError::OpenDocument);
        }
        Err(WordError::NoDocumentPart)
    }

    fn has(&self, name: &str) -> bool {
        self.archive.index_for_name(name).is_some()
    }

    /// The text of part `name`, at most `limit` bytes unpacked; `None` when the package has
    /// no such part.
    pub fn part(&mut self, name: &str, limit: u64) -> Result<Option<String>, WordError> {
        let file = match self.archive.by_name(name) {
            Ok(file) => file,
            Err(ZipError::FileNotFound) => return Ok(None),
            Err(ZipError::UnsupportedArchive(_) | ZipError::InvalidPassword) => {
                return Err(WordError::Encrypted);
            }
            Err(_) => return Err(WordError::BrokenPart(name.to_owned())),
        };
        let mut bytes = Vec::new();
        file.take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|_| WordError::BrokenPart(name.to_owned()))?;
        if bytes.len() as u64 > limit {
            return Err(WordError::PartTooLarge {
                part: name.to_owned(),
                limit,
            });
        }
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| WordError::BrokenPart(name.to_owned()))
    }
}
