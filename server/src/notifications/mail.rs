//! The words of a notification e-mail, in Swedish (English in `mail_en`, for users who
//! chose it), as plain text and HTML.
//!
//! A message carries one notification or several on one thread (batched), and is
//! written when it is sent, from the inbox rows linked to it, so a batch holds every
//! activity that joined it. Every text that came from a user (names, comments, quotes,
//! titles) is escaped in the HTML part.

use serde_json::Value;

use crate::html_text::escape;
use crate::notifications::model::{Kind, NotificationRow, link_path};
use crate::notifications::preferences::Language;

/// A composed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Links the message needs: the web app's base URL and an unsubscribe URL per kind.
pub trait Links {
    /// The absolute URL of a web-app path.
    fn web(&self, path: &str) -> String;
    /// The absolute unsubscribe URL for one kind.
    fn unsubscribe(&self, kind: Kind) -> String;
}

/// The words of a message in one language: the Swedish ones here, the English ones in
/// `mail_en`.
pub struct Words {
    pub lang: &'static str,
    pub greeting: &'static str,
    pub open: &'static str,
    pub open_html: &'static str,
    pub footer: &'static str,
    /// "Stop getting e-mail about …", with the kind's label.
    pub stop: fn(&str) -> String,
    /// The subject of a message with several notifications on one document.
    pub many_on: fn(usize, &str) -> String,
    /// The subject of a message with notifications on several documents (a digest).
    pub many: fn(usize) -> String,
    pub subject: fn(&NotificationRow) -> String,
    pub sentence: fn(&NotificationRow, &Value) -> String,
    pub label: fn(Kind) -> &'static str,
}

/// The Swedish words (the default).
pub const SWEDISH: Words = Words {
    lang: "sv",
    greeting: "Hej!",
    open: "Öppna",
    open_html: "Öppna i Förankra",
    footer: "Du får det här brevet från Förankra.",
    stop: |label| format!("Sluta få e-post om {label}"),
    many_on: |n, title| format!("{n} nya händelser i ”{title}”"),
    many: |n| format!("Förankra: {n} nya händelser"),
    subject,
    sentence,
    label: kind_label,
};

/// The words for a user's language.
pub fn words(language: Language) -> &'static Words {
    match language {
        Language::Sv => &SWEDISH,
        Language::En => &crate::notifications::mail_en::ENGLISH,
    }
}

/// Writes the message carrying `items` (at least one, oldest first) in `words`'s language.
pub fn compose(items: &[NotificationRow], links: &impl Links, words: &Words) -> Composed {
    let first = &items[0];
    let subject = if items.len() == 1 {
        (words.subject)(first)
    } else if items.iter().all(|i| i.doc_id == first.doc_id) {
        (words.many_on)(items.len(), &first.doc_title)
    } else {
        (words.many)(items.len())
    };
    let greeting = words.greeting;
    let mut text = format!("{greeting}\n\n");
    let mut html = format!(
        "<!doctype html><html lang=\"{}\"><body>\n<p>{greeting}</p>\n",
        words.lang
    );
    for item in items {
        let payload: Value = serde_json::from_str(&item.payload).unwrap_or(Value::Null);
        let line = (words.sentence)(item, &payload);
        let url = links.web(&link_path(&item.doc_id, item.thread_id.as_ref()));
        text.push_str(&format!("{line}\n{}: {url}\n\n", words.open));
        html.push_str(&format!(
            "<p>{}<br><a href=\"{}\">{}</a></p>\n",
            escape(&line),
            escape(&url),
            words.open_html
        ));
    }
    let mut kinds: Vec<Kind> = items.iter().map(|i| i.kind).collect();
    kinds.sort_by_key(|k| k.as_str());
    kinds.dedup();
    text.push_str(&format!("-- \n{}\n", words.footer));
    html.push_str(&format!("<hr><p><small>{}", words.footer));
    for kind in kinds {
        let url = links.unsubscribe(kind);
        let stop = (words.stop)((words.label)(kind));
        text.push_str(&format!("{stop}: {url}\n"));
        html.push_str(&format!(
            " <a href=\"{}\">{}</a>.",
            escape(&url),
            escape(&stop)
        ));
    }
    html.push_str("</small></p>\n</body></html>\n");
    Composed {
        subject,
        text,
        html,
    }
}

/// What a kind is about, as the unsubscribe link names it.
pub fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::RemissInvited => "inbjudningar till remisser",
        Kind::ThreadReply => "svar i trådar du följer",
        Kind::Mentioned => "omnämnanden av dig eller din organisation",
        Kind::ThreadOpened => "nya trådar i dokument du följer",
        Kind::ParagraphActivity => "nya kommentarer på stycken din organisation kommenterat",
        Kind::ThreadResolved => "avgjorda trådar",
        Kind::ProposalDecided => "beslut om ändringsförslag",
        Kind::StatementReceived => "inkomna remissvar",
        Kind::DeadlineReminder => "påminnelser om svarsdatum",
        Kind::RoundChanged => "ändrad fas eller svarsdatum",
        Kind::ExtensionRequested => "begärda förlängningar av svarsdatum",
        Kind::ExtensionDecided => "beslut om förlängt svarsdatum",
    }
}

pub fn subject(item: &NotificationRow) -> String {
    let title = &item.doc_title;
    match item.kind {
        Kind::RemissInvited => format!("Inbjudan till remiss: {title}"),
        Kind::ThreadReply => format!("Nytt svar i en tråd i ”{title}”"),
        Kind::Mentioned => format!("Du har nämnts i ”{title}”"),
        Kind::ThreadOpened => format!("Ny tråd i ”{title}”"),
        Kind::ParagraphActivity => {
            format!("Ny kommentar på ett stycke ni kommenterat i ”{title}”")
        }
        Kind::ThreadResolved => format!("En tråd har avgjorts i ”{title}”"),
        Kind::ProposalDecided => format!("Beslut om ändringsförslag i ”{title}”"),
        Kind::StatementReceived => format!("Remissvar inkommet: {title}"),
        Kind::DeadlineReminder => format!("Påminnelse om svarsdatum: {title}"),
        Kind::RoundChanged => format!("Remissen av ”{title}” har ändrats"),
        Kind::ExtensionRequested => format!("Begäran om förlängt svarsdatum: {title}"),
        Kind::ExtensionDecided => format!("Beslut om förlängt svarsdatum: {title}"),
    }
}

/// One notification as a sentence.
pub fn sentence(item: &NotificationRow, payload: &Value) -> String {
    let field = |key: &str| payload.get(key).and_then(Value::as_str).unwrap_or("");
    let by = match field("by") {
        "" => "Någon".to_owned(),
        name => name.to_owned(),
    };
    let title = &item.doc_title;
    let on_quote = match field("quote") {
        "" => String::new(),
        quote => format!(" om ”{quote}”"),
    };
    match item.kind {
        Kind::RemissInvited => {
            let deadline = match field("deadline") {
                "" => "Inget svarsdatum är satt ännu.".to_owned(),
                date => format!("Svarsdatum: {date}."),
            };
            format!("{by} har bjudit in er till remissen av ”{title}”. {deadline}")
        }
        Kind::ThreadReply => format!(
            "{by} svarade i tråden{on_quote} i ”{title}”: {}",
            field("excerpt")
        ),
        Kind::Mentioned => {
            let whom = mentioned_whom(payload, "dig", "din organisation");
            format!(
                "{by} nämnde {whom} i en kommentar{on_quote} i ”{title}”: {}",
                field("excerpt")
            )
        }
        Kind::ThreadOpened => format!(
            "{by} öppnade en ny tråd{on_quote} i ”{title}”: {}",
            field("excerpt")
        ),
        Kind::ParagraphActivity => {
            let what = if payload.get("reply").and_then(Value::as_bool) == Some(true) {
                "svarade i en tråd"
            } else {
                "öppnade en ny tråd"
            };
            format!(
                "{by} {what}{on_quote} på ett stycke som er organisation har kommenterat i ”{title}”: {}",
                field("excerpt")
            )
        }
        Kind::ThreadResolved => format!(
            "{by} avgjorde tråden{on_quote} i ”{title}”: {}. {}",
            outcome(field("outcome")),
            motivation(field("motivation"))
        ),
        Kind::ProposalDecided => {
            let verdict = if payload.get("accepted").and_then(Value::as_bool) == Some(true) {
                "godtog"
            } else {
                "avslog"
            };
            format!(
                "{by} {verdict} ändringsförslaget{on_quote} i ”{title}”. {}",
                motivation(field("motivation"))
            )
        }
        Kind::StatementReceived => {
            let org = match field("org") {
                "" => "En organisation",
                org => org,
            };
            if field("answer") == "declined" {
                format!("{org} har avstått från att svara på remissen av ”{title}”.")
            } else {
                format!("{org} har lämnat sitt remissvar på ”{title}”.")
            }
        }
        Kind::DeadlineReminder => {
            let date = field("deadline");
            let when = match payload.get("daysLeft").and_then(Value::as_i64) {
                Some(n) if n > 1 => format!("är {date}, om {n} dagar"),
                Some(1) => format!("är i morgon, {date}"),
                Some(0) => format!("är i dag, {date}"),
                Some(_) => format!("var {date}"),
                None => format!("är {date}"),
            };
            format!(
                "Svarsdatum för remissen av ”{title}” {when}, och er organisation har inte svarat."
            )
        }
        Kind::RoundChanged => {
            let deadline = match field("deadline") {
                "" => "inget svarsdatum".to_owned(),
                date => format!("svarsdatum {date}"),
            };
            format!(
                "{by} ändrade remissen av ”{title}”: den är nu {}, med {deadline}.",
                phase(field("phase"))
            )
        }
        Kind::ExtensionRequested => format!(
            "{by} ({}) ber om förlängt svarsdatum för remissen av ”{title}”, till {} (nu {}). Skäl: {}",
            field("org"),
            field("date"),
            field("deadline"),
            field("reason")
        ),
        Kind::ExtensionDecided => {
            if payload.get("granted").and_then(Value::as_bool) == Some(true) {
                format!(
                    "{by} har förlängt er organisations svarsdatum för remissen av ”{title}” till {}.",
                    field("date")
                )
            } else {
                format!(
                    "{by} har avslagit er begäran om förlängt svarsdatum för remissen av ”{title}”; svarsdatum är fortfarande {}. {}",
                    field("deadline"),
                    motivation(field("reason"))
                )
            }
        }
    }
}

/// A round's phase in words.
/// Who a `mentioned` notification names: the organisation by its name when it was the
/// one mentioned, else the reader (`you`); the words are the language's.
pub(super) fn mentioned_whom(payload: &Value, you: &str, your_org: &str) -> String {
    match payload["mentioned"]["kind"].as_str() {
        Some("org") => match payload["mentioned"]["name"].as_str() {
            Some(name) if !name.is_empty() => name.to_owned(),
            _ => your_org.to_owned(),
        },
        _ => you.to_owned(),
    }
}

fn phase(word: &str) -> &str {
    match word {
        "beredning" => "under beredning",
        "remiss" => "ute på remiss",
        "avslutad" => "avslutad",
        _ => "ändrad",
    }
}

fn outcome(word: &str) -> &str {
    match word {
        "beaktad" => "beaktad",
        "delvis_beaktad" => "delvis beaktad",
        "ej_beaktad" => "ej beaktad",
        "noterad" => "noterad",
        _ => "avgjord",
    }
}

fn motivation(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("Motivering: {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{DocId, NotificationId, ThreadId, UserId};

    struct Base;
    impl Links for Base {
        fn web(&self, path: &str) -> String {
            format!("https://f.example{path}")
        }
        fn unsubscribe(&self, kind: Kind) -> String {
            format!("https://f.example/u/{}", kind.as_str())
        }
    }

    fn row(kind: Kind, payload: &str) -> NotificationRow {
        NotificationRow {
            id: NotificationId::generate(),
            recipient_id: UserId::parse("u").unwrap(),
            kind,
            doc_id: DocId::parse("d1").unwrap(),
            doc_title: "Program <b>".into(),
            thread_id: Some(ThreadId::parse("t1").unwrap()),
            payload: payload.into(),
            created_at: 0,
            read_at: None,
        }
    }

    #[test]
    fn a_batch_lists_every_activity_and_escapes_what_users_wrote() {
        let items = [
            row(
                Kind::ThreadReply,
                r#"{"by":"Eva","excerpt":"<script>x</script>","quote":"skolan"}"#,
            ),
            row(Kind::ThreadReply, r#"{"by":"Olle","excerpt":"Håller med"}"#),
        ];
        let mail = compose(&items, &Base, &SWEDISH);
        assert_eq!(mail.subject, "2 nya händelser i ”Program <b>”");
        assert!(mail.text.contains("Eva svarade i tråden om ”skolan”"));
        assert!(mail.text.contains("Olle svarade"));
        assert!(mail.text.contains("https://f.example/d/d1?thread=t1"));
        assert!(mail.html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(!mail.html.contains("<script>"));
        assert_eq!(
            mail.text
                .matches("https://f.example/u/thread_reply")
                .count(),
            1
        );
    }

    #[test]
    fn an_invitation_names_the_deadline() {
        let mail = compose(
            &[row(
                Kind::RemissInvited,
                r#"{"by":"Stina","deadline":"2027-03-01"}"#,
            )],
            &Base,
            &SWEDISH,
        );
        assert_eq!(mail.subject, "Inbjudan till remiss: Program <b>");
        assert!(mail.text.contains("Svarsdatum: 2027-03-01."));
    }
}
