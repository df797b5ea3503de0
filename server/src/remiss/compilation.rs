//! The compilation (remissammanställning) as a city files it with the nämnd and in the
//! archive, in this order:
//! 1. a cover: title, diarienummer, owner, date, svarsdatum, and the invited
//!    organisations with their answer (svarat / avstått / har inte svarat);
//! 2. a summary per organisation: its points counted by stance and by outcome, and its
//!    suggestions typed in the text counted by decision ([`tracked`]);
//! 3. the consensus matrix ([`matrix`]): paragraph × organisation, contested first;
//! 4. per section of the draft (its own numbering, [`crate::remiss::sections`]) a table
//!    of points: organisation, stance, the quoted text (original beside the current
//!    where they differ), the comments, any proposal, outcome and motivation (a
//!    suggestion reads as a tracked change: "Ersätt ”y” med ”x”", godkänd/avvisad/öppen
//!    with who decided and when); threads
//!    whose text was deleted in a last table with the text they were opened on;
//! 5. each organisation's statement in full: the last one received by the svarsdatum
//!    ([`statements::counted`]); one received later is shown as late.
//!
//! Every part is written through [`Writer`] tables, so the DOCX, HTML and Markdown say
//! the same thing and each table has a real header row.

use crate::comments::model::{AnchorState, Outcome, Stance, ThreadResponse};
use crate::consultation::model::{Answer, OrgRef};
use crate::remiss::gather::{Gathered, is_orphaned};
use crate::remiss::matrix;
use crate::remiss::render::{Table, Writer, labels};
use crate::remiss::round::invitee_response;
use crate::remiss::statements;
use crate::remiss::tracked;
use crate::storage::now_ms;

/// The title every format uses, e.g. "Remissammanställning: Trygghetsprogram".
pub fn title(gathered: &Gathered) -> String {
    format!("Remissammanställning: {}", gathered.title)
}

/// Writes the compilation in Markdown, HTML or DOCX.
pub fn write(out: &mut dyn Writer, gathered: &Gathered) {
    let orgs = organisations(gathered);
    write_cover(out, gathered);
    write_summary(out, gathered, &orgs);
    write_matrix(out, gathered, &orgs);
    write_points(out, gathered);
    write_statements(out, gathered, &orgs);
}

fn write_cover(out: &mut dyn Writer, gathered: &Gathered) {
    out.heading(1, &title(gathered));
    out.field(
        "Diarienummer",
        gathered.round.diarienummer.as_deref().unwrap_or("–"),
    );
    out.field("Ägare", &gathered.owner.name);
    out.field("Datum", &labels::when(now_ms()));
    out.field(
        "Svarsdatum",
        gathered
            .round
            .deadline
            .as_deref()
            .unwrap_or("inget fastställt"),
    );
    out.field("Fas", labels::phase(gathered.round.phase));
    let mut table = Table::new(
        "Remissinstanser och deras svar",
        &["Organisation", "Svar", "Inkommet"],
    );
    let mut extended = Vec::new();
    for invitee in gathered.invitees.iter().cloned().map(invitee_response) {
        let used = statements::counted(gathered.submissions_of(&invitee.org.id));
        let (answer, at) = match used {
            Some(s) if s.status == Answer::Done => ("Svarat", labels::when(s.submitted_at)),
            Some(s) => ("Avstått", labels::when(s.submitted_at)),
            None => ("Har inte svarat", "–".to_owned()),
        };
        if let (true, Some(date)) = (invitee.extended, &invitee.deadline) {
            extended.push(format!("{} {date}", invitee.org.name));
        }
        table.row(vec![invitee.org.name, answer.to_owned(), at]);
    }
    if !extended.is_empty() {
        out.field("Förlängt svarsdatum", &extended.join(", "));
    }
    if table.rows.is_empty() {
        out.paragraph("Inga organisationer är inbjudna.");
    } else {
        out.table(&table);
    }
}

/// The stances in the order the summary counts them (`None`: no stance taken).
const STANCES: [Option<Stance>; 5] = [
    Some(Stance::Tillstyrker),
    Some(Stance::Avstyrker),
    Some(Stance::Andringsforslag),
    Some(Stance::IngenErinran),
    None,
];
/// The outcomes in the order the summary counts them (`None`: not yet decided).
const OUTCOMES: [Option<Outcome>; 5] = [
    Some(Outcome::Beaktad),
    Some(Outcome::DelvisBeaktad),
    Some(Outcome::EjBeaktad),
    Some(Outcome::Noterad),
    None,
];

fn write_summary(out: &mut dyn Writer, gathered: &Gathered, orgs: &[OrgRef]) {
    out.heading(2, "Sammanfattning per organisation");
    let mut header = vec!["Organisation"];
    header.extend(STANCES.iter().map(|s| labels::stance(*s)));
    header.push("Totalt");
    let mut stances = Table::new("Synpunkter per ställningstagande", &header);
    let mut header = vec!["Organisation"];
    header.extend(
        OUTCOMES
            .iter()
            .map(|o| o.map_or("Ej avgjord", labels::outcome)),
    );
    let mut outcomes = Table::new("Synpunkter per utfall", &header);
    let mut suggestions = Table::new(
        "Förslag i texten per beslut",
        &[
            "Organisation",
            "Godkända och införda",
            "Avvisade",
            "Avgjorda på annat sätt",
            "Öppna",
            "Totalt",
        ],
    );
    for org in orgs {
        let threads: Vec<&ThreadResponse> = gathered
            .threads
            .iter()
            .filter(|t| t.org == org.id)
            .collect();
        let mut row = vec![org.name.clone()];
        row.extend(STANCES.iter().map(|s| {
            threads
                .iter()
                .filter(|t| t.stance == *s)
                .count()
                .to_string()
        }));
        row.push(threads.len().to_string());
        stances.row(row);
        let mut row = vec![org.name.clone()];
        row.extend(OUTCOMES.iter().map(|o| {
            threads
                .iter()
                .filter(|t| t.resolution.as_ref().map(|r| r.outcome) == *o)
                .count()
                .to_string()
        }));
        outcomes.row(row);
        let counts = tracked::Counts::of(threads.iter().copied());
        if counts.total() > 0 {
            suggestions.row(vec![
                org.name.clone(),
                counts.accepted.to_string(),
                counts.rejected.to_string(),
                counts.other.to_string(),
                counts.open.to_string(),
                counts.total().to_string(),
            ]);
        }
    }
    out.table(&stances);
    out.table(&outcomes);
    if !suggestions.rows.is_empty() {
        out.table(&suggestions);
    }
}

fn write_matrix(out: &mut dyn Writer, gathered: &Gathered, orgs: &[OrgRef]) {
    out.heading(2, "Samsynsmatris");
    let rows = matrix::rows(gathered, orgs);
    if rows.is_empty() {
        out.paragraph("Inga synpunkter har lämnats.");
        return;
    }
    out.paragraph(
        "Varje cell visar organisationens ställningstagande och utfallet. Omstridda stycken \
         (avstyrkta, eller med olika ändringsförslag) står först.",
    );
    let mut header = vec!["Stycke"];
    header.extend(orgs.iter().map(|o| o.name.as_str()));
    let mut table = Table::new(
        "Ställningstagande och utfall per stycke och organisation",
        &header,
    );
    for row in rows {
        let label = if row.contested {
            format!("{} (omstritt)", row.label)
        } else {
            row.label
        };
        let mut cells = vec![label];
        cells.extend(row.cells.iter().map(|points| {
            match points.as_slice() {
                [] => "–".to_owned(),
                points => points
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n"),
            }
        }));
        table.row(cells);
    }
    out.table(&table);
}

/// The columns of a section's table of points.
const POINT_COLUMNS: [&str; 8] = [
    "Stycke",
    "Organisation",
    "Ställningstagande",
    "Markerad text",
    "Synpunkt",
    "Förslag",
    "Utfall",
    "Motivering",
];

fn write_points(out: &mut dyn Writer, gathered: &Gathered) {
    out.heading(2, "Synpunkter per avsnitt");
    let mut current: Option<(usize, Table)> = None;
    for thread in gathered.threads.iter().filter(|t| !is_orphaned(t)) {
        let paragraph = thread.anchor.paragraph.unwrap_or_default();
        let place = gathered.place(paragraph);
        let section = place.map_or(0, |p| p.section_index);
        if current.as_ref().is_none_or(|(s, _)| *s != section) {
            if let Some((_, table)) = current.take() {
                out.table(&table);
            }
            let name = place.map_or_else(
                || format!("Stycke {}", paragraph + 1),
                |p| p.section.clone(),
            );
            out.heading(3, &name);
            current = Some((
                section,
                Table::new(format!("Synpunkter på {name}"), &POINT_COLUMNS),
            ));
        }
        if let Some((_, table)) = current.as_mut() {
            let label = place.map_or_else(|| format!("Stycke {}", paragraph + 1), |p| p.label());
            table.row(point_row(label, thread));
        }
    }
    match current {
        Some((_, table)) => out.table(&table),
        None => out.paragraph("Inga synpunkter på den nuvarande texten."),
    }
    let orphaned: Vec<&ThreadResponse> = gathered.orphaned().collect();
    if !orphaned.is_empty() {
        out.heading(3, "Synpunkter på borttagen text");
        let mut table = Table::new("Synpunkter på text som har tagits bort", &POINT_COLUMNS);
        for thread in orphaned {
            table.row(point_row(matrix::DELETED_TEXT.to_owned(), thread));
        }
        out.table(&table);
    }
}

/// One thread as a row of [`POINT_COLUMNS`].
fn point_row(place: String, thread: &ThreadResponse) -> Vec<String> {
    let quote = match thread.anchor.state {
        AnchorState::Orphaned => format!("Ursprunglig text: {}", thread.anchor.original_quote),
        AnchorState::Changed => format!(
            "Nuvarande text: {}\nUrsprunglig text: {}",
            thread.anchor.quote, thread.anchor.original_quote
        ),
        AnchorState::Attached => thread.anchor.quote.clone(),
    };
    let (outcome, motivation) = match &thread.resolution {
        Some(r) => (labels::outcome(r.outcome).to_owned(), r.motivation.clone()),
        None => ("Ej avgjord".to_owned(), String::new()),
    };
    // A suggestion reads as a tracked change: what it changes, and its decision.
    let (proposal, outcome) = match tracked::change(thread) {
        Some(change) => (change, tracked::decision(thread)),
        None => (thread.proposal.clone().unwrap_or_default(), outcome),
    };
    vec![
        place,
        thread.org_name.clone(),
        labels::stance(thread.stance).to_owned(),
        quote,
        comments(thread),
        proposal,
        outcome,
        motivation,
    ]
}

/// A thread's comments, one a line, each with who wrote it; an edited comment says so,
/// a withdrawn one says when, without its text.
fn comments(thread: &ThreadResponse) -> String {
    let lines: Vec<String> = thread
        .comments
        .iter()
        .map(|comment| match (comment.deleted_at, comment.edited_at) {
            (Some(at), _) => format!(
                "{} ({}): kommentaren återtogs {}",
                comment.author_name,
                comment.org_name,
                labels::when(at)
            ),
            (None, Some(at)) => format!(
                "{} ({}): {} (redigerad {}; tidigare lydelser finns i kommentarens historik)",
                comment.author_name,
                comment.org_name,
                comment.body,
                labels::when(at)
            ),
            (None, None) => format!(
                "{} ({}): {}",
                comment.author_name, comment.org_name, comment.body
            ),
        })
        .collect();
    lines.join("\n")
}

/// The organisations in the compilation: the invitees in the order they were invited,
/// then any other organisation that commented (the owners among them), in document order.
/// The matrix's columns: the invitees, then any other organisation with threads.
pub fn organisations(gathered: &Gathered) -> Vec<OrgRef> {
    let mut orgs: Vec<OrgRef> = gathered
        .invitees
        .iter()
        .cloned()
        .map(|i| invitee_response(i).org)
        .collect();
    for thread in &gathered.threads {
        if !orgs.iter().any(|o| o.id == thread.org) {
            orgs.push(OrgRef {
                id: thread.org.clone(),
                name: thread.org_name.clone(),
            });
        }
    }
    orgs
}

fn write_statements(out: &mut dyn Writer, gathered: &Gathered, orgs: &[OrgRef]) {
    out.heading(2, "Yttranden");
    for org in orgs {
        let owner = org.id == gathered.owner.id;
        out.heading(
            3,
            &if owner {
                format!("{} (ägare)", org.name)
            } else {
                org.name.clone()
            },
        );
        let invitee = gathered
            .invitees
            .iter()
            .find(|i| i.org_id == org.id)
            .cloned()
            .map(invitee_response);
        let status = invitee.as_ref().map(|i| labels::invitee_status(i.status));
        let deadline = match &invitee {
            Some(i) if i.extended => i.deadline.clone(),
            _ => gathered.round.deadline.clone(),
        };
        if let Some(status) = status {
            out.field("Status", status);
        }
        let points = gathered.threads.iter().filter(|t| t.org == org.id).count();
        out.field("Synpunkter i texten", &points.to_string());
        statements::write(
            out,
            gathered.submissions_of(&org.id),
            deadline.as_deref(),
            (!owner).then_some("Inget yttrande har lämnats."),
        );
    }
}

/// The CSV columns, one row per comment.
const CSV_HEADER: [&str; 16] = [
    "Stycke",
    "Styckets text",
    "Markerad text",
    "Textens läge",
    "Tråd",
    "Organisation",
    "Ställningstagande",
    "Trådens status",
    "Utfall",
    "Motivering",
    "Kommentar nr",
    "Skriven av",
    "Skribentens organisation",
    "Skriven",
    "Kommentar",
    // Added last, so programs that read the earlier columns by position keep working.
    "Ursprunglig text",
];

/// The compilation as CSV (UTF-8 with a byte-order mark, so spreadsheet programs read
/// å, ä and ö right): one row per comment, threads in document order.
pub fn csv(gathered: &Gathered) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
    writer.write_record(CSV_HEADER)?;
    for thread in &gathered.threads {
        let orphaned = is_orphaned(thread);
        let paragraph = thread.anchor.paragraph.filter(|_| !orphaned);
        let (outcome, motivation) = match &thread.resolution {
            Some(r) => (labels::outcome(r.outcome), r.motivation.as_str()),
            None => ("", ""),
        };
        let place = match thread.anchor.state {
            AnchorState::Attached => "Oförändrad",
            AnchorState::Changed => "Ändrad",
            AnchorState::Orphaned => "Borttagen",
        };
        for (n, comment) in thread.comments.iter().enumerate() {
            let body = if comment.deleted {
                "(borttagen)"
            } else {
                &comment.body
            };
            writer.write_record([
                paragraph.map(|p| (p + 1).to_string()).unwrap_or_default(),
                cell(
                    paragraph
                        .and_then(|p| gathered.paragraph(p))
                        .unwrap_or_default(),
                ),
                cell(if orphaned {
                    &thread.anchor.original_quote
                } else {
                    &thread.anchor.quote
                }),
                place.to_owned(),
                thread.id.clone(),
                cell(&thread.org_name),
                labels::stance(thread.stance).to_owned(),
                labels::thread_status(thread.status).to_owned(),
                outcome.to_owned(),
                cell(motivation),
                (n + 1).to_string(),
                cell(&comment.author_name),
                cell(&comment.org_name),
                labels::when(comment.created_at),
                cell(body),
                cell(if thread.anchor.state == AnchorState::Attached {
                    ""
                } else {
                    &thread.anchor.original_quote
                }),
            ])?;
        }
    }
    Ok(writer.into_inner()?)
}

/// Kept for callers being moved to [`crate::csv_cell::cell`].
pub(crate) use crate::csv_cell::cell;

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_stay_text() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("Bra förslag"), "Bra förslag");
    }
}
