//! The compilation (remissammanställning): every thread twice, once under its paragraph
//! (the paragraph's text, then each organisation's comments with its stance and the
//! owners' outcome and motivation) and once under its organisation (its statement, then
//! its threads in document order). Threads whose text was deleted get their own section
//! with the text they were opened on; where the text changed, the original wording is shown
//! beside the current one. An organisation's statement is the last one received by the
//! svarsdatum ([`statements::counted`]); one received later is shown as late.

use crate::comments::model::{AnchorState, ThreadResponse};
use crate::consultation::model::OrgRef;
use crate::remiss::gather::{Gathered, is_orphaned};
use crate::remiss::render::{Writer, labels};
use crate::remiss::round::invitee_response;
use crate::remiss::statements;
use crate::storage::now_ms;

/// Writes the compilation in Markdown, HTML or DOCX.
pub fn write(out: &mut dyn Writer, gathered: &Gathered) {
    out.heading(1, &format!("Remissammanställning: {}", gathered.title));
    if let Some(number) = &gathered.round.diarienummer {
        out.field("Diarienummer", number);
    }
    out.field("Fas", labels::phase(gathered.round.phase));
    out.field(
        "Svarsdatum",
        gathered
            .round
            .deadline
            .as_deref()
            .unwrap_or("inget fastställt"),
    );
    out.field("Sammanställd", &labels::when(now_ms()));
    write_by_paragraph(out, gathered);
    write_by_organisation(out, gathered);
}

fn write_by_paragraph(out: &mut dyn Writer, gathered: &Gathered) {
    out.heading(2, "Synpunkter per stycke");
    let mut current = None;
    for thread in gathered.threads.iter().filter(|t| !is_orphaned(t)) {
        let paragraph = thread.anchor.paragraph.unwrap_or_default();
        if current != Some(paragraph) {
            current = Some(paragraph);
            out.heading(3, &format!("Stycke {}", paragraph + 1));
            out.quote(gathered.paragraph(paragraph).unwrap_or_default());
        }
        out.heading(
            4,
            &format!("{} – {}", thread.org_name, labels::stance(thread.stance)),
        );
        write_thread(out, thread);
    }
    if current.is_none() {
        out.paragraph("Inga synpunkter på den nuvarande texten.");
    }
    let orphaned: Vec<&ThreadResponse> = gathered.orphaned().collect();
    if !orphaned.is_empty() {
        out.heading(2, "Synpunkter på borttagen text");
        for thread in orphaned {
            out.heading(
                4,
                &format!("{} – {}", thread.org_name, labels::stance(thread.stance)),
            );
            write_thread(out, thread);
        }
    }
}

/// The organisations in the compilation: the invitees in the order they were invited,
/// then any other organisation that commented (the owners among them), in document order.
fn organisations(gathered: &Gathered) -> Vec<(OrgRef, Option<&'static str>)> {
    let mut orgs: Vec<(OrgRef, Option<&'static str>)> = gathered
        .invitees
        .iter()
        .cloned()
        .map(invitee_response)
        .map(|i| (i.org, Some(labels::invitee_status(i.status))))
        .collect();
    for thread in &gathered.threads {
        if !orgs.iter().any(|(o, _)| o.id == thread.org) {
            let org = OrgRef {
                id: thread.org.clone(),
                name: thread.org_name.clone(),
            };
            orgs.push((org, None));
        }
    }
    orgs
}

fn write_by_organisation(out: &mut dyn Writer, gathered: &Gathered) {
    out.heading(2, "Synpunkter per organisation");
    for (org, status) in organisations(gathered) {
        let owner = org.id == gathered.owner.id;
        out.heading(
            3,
            &if owner {
                format!("{} (ägare)", org.name)
            } else {
                org.name.clone()
            },
        );
        if let Some(status) = status {
            out.field("Status", status);
        }
        statements::write(
            out,
            gathered.submissions_of(&org.id),
            gathered.round.deadline.as_deref(),
            (!owner).then_some("Inget yttrande har lämnats."),
        );
        let mut any = false;
        for thread in gathered.threads.iter().filter(|t| t.org == org.id) {
            any = true;
            let place = match thread.anchor.paragraph.filter(|_| !is_orphaned(thread)) {
                Some(index) => format!("Stycke {}", index + 1),
                None => "Borttagen text".to_owned(),
            };
            out.heading(4, &format!("{place} – {}", labels::stance(thread.stance)));
            write_thread(out, thread);
        }
        if !any {
            out.paragraph("Inga synpunkter i texten.");
        }
    }
}

/// A thread's quote, its comments, and how it was handled.
fn write_thread(out: &mut dyn Writer, thread: &ThreadResponse) {
    match thread.anchor.state {
        AnchorState::Orphaned => out.field("Ursprunglig text", &thread.anchor.original_quote),
        AnchorState::Changed => {
            out.field("Markerad text", &thread.anchor.quote);
            out.field("Ursprunglig text", &thread.anchor.original_quote);
        }
        AnchorState::Attached => out.field("Markerad text", &thread.anchor.quote),
    }
    for comment in &thread.comments {
        match (comment.deleted_at, comment.edited_at) {
            (Some(at), _) => out.paragraph(&format!(
                "{} ({}): kommentaren återtogs {}",
                comment.author_name,
                comment.org_name,
                labels::when(at)
            )),
            (None, Some(at)) => out.paragraph(&format!(
                "{} ({}): {} (redigerad {}; tidigare lydelser finns i kommentarens historik)",
                comment.author_name,
                comment.org_name,
                comment.body,
                labels::when(at)
            )),
            (None, None) => out.paragraph(&format!(
                "{} ({}): {}",
                comment.author_name, comment.org_name, comment.body
            )),
        }
    }
    if let Some(proposal) = &thread.proposal {
        out.field("Föreslagen text", proposal);
    }
    match &thread.resolution {
        Some(resolution) => {
            out.field("Utfall", labels::outcome(resolution.outcome));
            if !resolution.motivation.is_empty() {
                out.field("Motivering", &resolution.motivation);
            }
        }
        None => out.field("Utfall", "Ej avgjord"),
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
