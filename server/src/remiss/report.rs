//! The participation report (förankringsrapport): per organisation, when it was invited,
//! first opened, commented and answered, and what it said; per thread, in document order,
//! where it is, what it said and how the owners handled it.

use serde::Serialize;

use crate::auth::Role;
use crate::comments::model::{AnchorState, Outcome, Stance, ThreadResponse, ThreadStatus};
use crate::consultation::model::{InviteeStatus, OrgRef, Phase, SubmissionResponse};
use crate::documents::attribution::{AttributionResponse, OrganisationAttribution};
use crate::error::ApiResult;
use crate::remiss::gather::Gathered;
use crate::remiss::render::{Writer, labels};
use crate::remiss::round::invitee_response;
use crate::remiss::statements;
use crate::storage::now_ms;

/// A document by id and title.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DocumentRef {
    pub id: String,
    pub title: String,
}

/// Threads opened, by stance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StanceCounts {
    pub total: i64,
    pub tillstyrker: i64,
    pub avstyrker: i64,
    pub andringsforslag: i64,
    pub ingen_erinran: i64,
    pub without_stance: i64,
}

impl StanceCounts {
    fn add(&mut self, stance: Option<Stance>) {
        self.total += 1;
        *match stance {
            Some(Stance::Tillstyrker) => &mut self.tillstyrker,
            Some(Stance::Avstyrker) => &mut self.avstyrker,
            Some(Stance::Andringsforslag) => &mut self.andringsforslag,
            Some(Stance::IngenErinran) => &mut self.ingen_erinran,
            None => &mut self.without_stance,
        } += 1;
    }
}

/// One organisation's part in the round.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Participation {
    pub org: OrgRef,
    /// The owner organisation (listed last; it is no invitee, so it has no status).
    pub owner: bool,
    pub role: Role,
    pub status: Option<InviteeStatus>,
    pub invited_at: Option<i64>,
    pub opened_at: Option<i64>,
    pub first_comment_at: Option<i64>,
    pub done_at: Option<i64>,
    pub declined_at: Option<i64>,
    /// The statement the record uses: the last one received by the svarsdatum.
    pub statement: Option<String>,
    /// Every answer it submitted, oldest first, each marked `late` if received after the
    /// svarsdatum.
    pub submissions: Vec<SubmissionResponse>,
    pub threads: StanceCounts,
    /// Replies it wrote in threads (first comments not counted, deleted ones neither).
    pub replies: i64,
    /// Its own svarsdatum when a later one than the round's was granted to it.
    pub extended_deadline: Option<String>,
}

/// One thread as the report lists it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportThread {
    pub id: String,
    /// 0-based index of the paragraph now; `null` when its text is gone.
    pub paragraph: Option<i64>,
    pub quote: String,
    pub original_quote: String,
    pub anchor_state: AnchorState,
    pub org: OrgRef,
    pub author_name: String,
    pub stance: Option<Stance>,
    pub status: ThreadStatus,
    pub outcome: Option<Outcome>,
    pub motivation: Option<String>,
    pub replies: i64,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
}

/// `GET /api/documents/{id}/report`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportResponse {
    pub document: DocumentRef,
    pub diarienummer: Option<String>,
    pub phase: Phase,
    pub deadline: Option<String>,
    pub generated_at: i64,
    /// Invitees in the order they were invited, then the owner organisation.
    pub organisations: Vec<Participation>,
    /// In document order; threads whose text is gone last.
    pub threads: Vec<ReportThread>,
    /// Who wrote the text standing now, per organisation (`documents::attribution`).
    pub text_shares: TextShares,
}

/// Each organisation's share of the text standing now.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TextShares {
    /// Characters standing in the document.
    pub characters: u64,
    /// Of them, written before authorship was kept.
    pub unattributed: u64,
    /// Most characters kept first.
    pub organisations: Vec<OrganisationAttribution>,
}

impl TextShares {
    fn of(text: AttributionResponse) -> Self {
        Self {
            characters: text.characters,
            unattributed: text.unattributed,
            organisations: text.organisations,
        }
    }
}

/// Replies in a thread: every comment after the first that is not deleted.
fn replies(
    thread: &ThreadResponse,
) -> impl Iterator<Item = &crate::comments::model::CommentResponse> {
    thread.comments.iter().skip(1).filter(|c| !c.deleted)
}

fn participation(gathered: &Gathered, mut base: Participation) -> Participation {
    for thread in gathered.threads.iter().filter(|t| t.org == base.org.id) {
        base.threads.add(thread.stance);
    }
    base.replies = gathered
        .threads
        .iter()
        .flat_map(replies)
        .filter(|c| c.org == base.org.id)
        .count() as i64;
    base
}

/// Builds the report, with `text` the document's attribution.
pub fn build(gathered: &Gathered, text: AttributionResponse) -> ApiResult<ReportResponse> {
    let mut organisations = Vec::new();
    for row in gathered.invitees.iter().cloned() {
        let invitee = invitee_response(row);
        let submissions = gathered.submissions_of(&invitee.org.id).to_vec();
        let statement = statements::counted(&submissions).and_then(|s| s.statement.clone());
        organisations.push(participation(
            gathered,
            Participation {
                org: invitee.org,
                owner: false,
                role: invitee.role,
                status: Some(invitee.status),
                invited_at: Some(invitee.invited_at),
                opened_at: invitee.opened_at,
                first_comment_at: invitee.first_comment_at,
                done_at: invitee.done_at,
                declined_at: invitee.declined_at,
                statement,
                submissions,
                threads: StanceCounts::default(),
                replies: 0,
                extended_deadline: invitee.extended.then_some(invitee.deadline).flatten(),
            },
        ));
    }
    organisations.push(participation(
        gathered,
        Participation {
            org: gathered.owner.clone(),
            owner: true,
            role: Role::Owner,
            status: None,
            invited_at: None,
            opened_at: None,
            first_comment_at: None,
            done_at: None,
            declined_at: None,
            statement: None,
            submissions: Vec::new(),
            threads: StanceCounts::default(),
            replies: 0,
            extended_deadline: None,
        },
    ));
    Ok(ReportResponse {
        document: DocumentRef {
            id: gathered.doc_id.clone(),
            title: gathered.title.clone(),
        },
        diarienummer: gathered.round.diarienummer.clone(),
        phase: gathered.round.phase,
        deadline: gathered.round.deadline.clone(),
        generated_at: now_ms(),
        organisations,
        threads: gathered.threads.iter().map(report_thread).collect(),
        text_shares: TextShares::of(text),
    })
}

fn report_thread(thread: &ThreadResponse) -> ReportThread {
    ReportThread {
        id: thread.id.clone(),
        paragraph: thread.anchor.paragraph,
        quote: thread.anchor.quote.clone(),
        original_quote: thread.anchor.original_quote.clone(),
        anchor_state: thread.anchor.state,
        org: OrgRef {
            id: thread.org.clone(),
            name: thread.org_name.clone(),
        },
        author_name: thread.author_name.clone(),
        stance: thread.stance,
        status: thread.status,
        outcome: thread.resolution.as_ref().map(|r| r.outcome),
        motivation: thread
            .resolution
            .as_ref()
            .map(|r| r.motivation.clone())
            .filter(|m| !m.is_empty()),
        replies: replies(thread).count() as i64,
        opened_at: thread.created_at,
        resolved_at: thread.resolution.as_ref().map(|r| r.resolved_at),
    }
}

/// Writes the report's header: title, diarienummer, phase, svarsdatum.
pub fn write_header(out: &mut dyn Writer, heading: &str, report: &ReportResponse) {
    out.heading(1, &format!("{heading}: {}", report.document.title));
    if let Some(number) = &report.diarienummer {
        out.field("Diarienummer", number);
    }
    out.field("Fas", labels::phase(report.phase));
    out.field(
        "Svarsdatum",
        report.deadline.as_deref().unwrap_or("inget fastställt"),
    );
    out.field("Sammanställd", &labels::when(report.generated_at));
}

/// Writes the report in Markdown, HTML or DOCX.
pub fn write(out: &mut dyn Writer, report: &ReportResponse) {
    write_header(out, "Förankringsrapport", report);
    out.heading(2, "Deltagande per organisation");
    for org in &report.organisations {
        let deadline = org.extended_deadline.as_ref().or(report.deadline.as_ref());
        write_participation(out, org, deadline.map(String::as_str));
    }
    write_text_shares(out, &report.text_shares);
    out.heading(2, "Synpunkter");
    if report.threads.is_empty() {
        out.paragraph("Inga synpunkter har lämnats.");
    }
    for thread in &report.threads {
        write_thread(out, thread);
    }
}

fn write_participation(out: &mut dyn Writer, org: &Participation, deadline: Option<&str>) {
    if org.owner {
        out.heading(3, &format!("{} (ägare)", org.org.name));
    } else {
        out.heading(3, &org.org.name);
        out.field("Roll", labels::role(org.role));
    }
    if let Some(date) = &org.extended_deadline {
        out.field("Förlängt svarsdatum", date);
    }
    if let Some(status) = org.status {
        out.field("Status", labels::invitee_status(status));
        if org.done_at.is_none() && org.declined_at.is_none() {
            out.field("Svar", "Har inte svarat");
        }
        out.field("Inbjuden", &labels::when_or_dash(org.invited_at));
        out.field("Öppnade dokumentet", &labels::when_or_dash(org.opened_at));
        out.field(
            "Första synpunkt",
            &labels::when_or_dash(org.first_comment_at),
        );
    }
    if let Some(at) = org.done_at {
        out.field("Yttrande lämnat", &labels::when(at));
    }
    if let Some(at) = org.declined_at {
        out.field("Avstod", &labels::when(at));
    }
    let t = &org.threads;
    out.field(
        "Synpunkter",
        &format!(
            "{} (Tillstyrker {}, Avstyrker {}, Ändringsförslag {}, Ingen erinran {}, utan ställningstagande {})",
            t.total, t.tillstyrker, t.avstyrker, t.andringsforslag, t.ingen_erinran, t.without_stance
        ),
    );
    out.field("Svar i trådar", &org.replies.to_string());
    statements::write(out, &org.submissions, deadline, None);
}

/// The section on who wrote the text: each organisation's characters standing now and
/// its share of the whole, and what it deleted.
fn write_text_shares(out: &mut dyn Writer, shares: &TextShares) {
    out.heading(2, "Andel av texten");
    if shares.characters == 0 && shares.organisations.is_empty() {
        out.paragraph("Dokumentet har ingen text ännu.");
        return;
    }
    out.paragraph(&format!(
        "Texten består nu av {} tecken. Andelen är den del av dem som organisationen har skrivit; \
         borttaget räknas i tecken, och varje borttaget stycke eller format räknas som ett.",
        shares.characters
    ));
    for org in &shares.organisations {
        out.field(
            &org.name,
            &format!(
                "{} tecken ({}), {} borttaget",
                org.kept,
                percent(org.kept, shares.characters),
                org.deleted
            ),
        );
    }
    if shares.unattributed > 0 {
        out.field(
            "Skrivet innan författarskap registrerades",
            &format!(
                "{} tecken ({})",
                shares.unattributed,
                percent(shares.unattributed, shares.characters)
            ),
        );
    }
}

/// `part` of `whole` as a whole percentage in Swedish style ("42 %"); "0 %" of nothing.
fn percent(part: u64, whole: u64) -> String {
    let share = (part * 100).checked_div(whole).unwrap_or(0);
    format!("{share} %")
}

fn write_thread(out: &mut dyn Writer, thread: &ReportThread) {
    let place = match thread.paragraph {
        Some(index) => format!("Stycke {}", index + 1),
        None => "Borttagen text".to_owned(),
    };
    out.heading(3, &format!("{place} – {}", thread.org.name));
    let quote = if thread.anchor_state == AnchorState::Orphaned {
        &thread.original_quote
    } else {
        &thread.quote
    };
    out.quote(quote);
    if thread.anchor_state == AnchorState::Changed {
        out.field("Ursprunglig text", &thread.original_quote);
    }
    out.field("Organisation", &thread.org.name);
    out.field("Ställningstagande", labels::stance(thread.stance));
    out.field("Status", labels::thread_status(thread.status));
    out.field("Utfall", thread.outcome.map(labels::outcome).unwrap_or("–"));
    if let Some(motivation) = &thread.motivation {
        out.field("Motivering", motivation);
    }
    out.field("Svar", &thread.replies.to_string());
}
