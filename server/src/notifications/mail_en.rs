//! The words of a notification e-mail in English, for users who chose it
//! (`preferences::Language::En`); the Swedish ones, and how a message is put together,
//! are in `mail`.

use serde_json::Value;

use crate::notifications::mail::{Words, mentioned_whom};
use crate::notifications::model::{Kind, NotificationRow};

/// The English words.
pub const ENGLISH: Words = Words {
    lang: "en",
    greeting: "Hello,",
    open: "Open",
    open_html: "Open in Förankra",
    footer: "You get this message from Förankra.",
    stop: |label| format!("Stop e-mail about {label}"),
    many_on: |n, title| format!("{n} new activities in “{title}”"),
    many: |n| format!("Förankra: {n} new activities"),
    subject,
    sentence,
    label: kind_label,
};

/// What a kind is about, as the unsubscribe link names it.
pub fn kind_label(kind: Kind) -> &'static str {
    match kind {
        Kind::RemissInvited => "invitations to consultations",
        Kind::ThreadReply => "replies in threads you follow",
        Kind::Mentioned => "mentions of you or your organisation",
        Kind::ThreadOpened => "new threads in documents you follow",
        Kind::ParagraphActivity => "new comments on paragraphs your organisation commented on",
        Kind::ThreadResolved => "decided threads",
        Kind::ProposalDecided => "decisions on change proposals",
        Kind::StatementReceived => "statements received",
        Kind::DeadlineReminder => "reminders of the response date",
        Kind::RoundChanged => "changes of phase or response date",
        Kind::ExtensionRequested => "requests for a later response date",
        Kind::ExtensionDecided => "decisions on a later response date",
    }
}

fn subject(item: &NotificationRow) -> String {
    let title = &item.doc_title;
    match item.kind {
        Kind::RemissInvited => format!("Invitation to a consultation: {title}"),
        Kind::ThreadReply => format!("New reply in a thread in “{title}”"),
        Kind::Mentioned => format!("You were mentioned in “{title}”"),
        Kind::ThreadOpened => format!("New thread in “{title}”"),
        Kind::ParagraphActivity => {
            format!("New comment on a paragraph you commented on in “{title}”")
        }
        Kind::ThreadResolved => format!("A thread was decided in “{title}”"),
        Kind::ProposalDecided => format!("Decision on a change proposal in “{title}”"),
        Kind::StatementReceived => format!("Statement received: {title}"),
        Kind::DeadlineReminder => format!("Response date reminder: {title}"),
        Kind::RoundChanged => format!("The consultation on “{title}” has changed"),
        Kind::ExtensionRequested => format!("Request for a later response date: {title}"),
        Kind::ExtensionDecided => format!("Decision on a later response date: {title}"),
    }
}

/// One notification as a sentence.
fn sentence(item: &NotificationRow, payload: &Value) -> String {
    let field = |key: &str| payload.get(key).and_then(Value::as_str).unwrap_or("");
    let by = match field("by") {
        "" => "Someone".to_owned(),
        name => name.to_owned(),
    };
    let title = &item.doc_title;
    let on_quote = match field("quote") {
        "" => String::new(),
        quote => format!(" on “{quote}”"),
    };
    let reason = |label: &str, text: &str| {
        if text.is_empty() {
            String::new()
        } else {
            format!("{label}: {text}")
        }
    };
    match item.kind {
        Kind::RemissInvited => {
            let deadline = match field("deadline") {
                "" => "No response date is set yet.".to_owned(),
                date => format!("Response date: {date}."),
            };
            format!("{by} invited you to the consultation on “{title}”. {deadline}")
        }
        Kind::ThreadReply => format!(
            "{by} replied in the thread{on_quote} in “{title}”: {}",
            field("excerpt")
        ),
        Kind::Mentioned => {
            let whom = mentioned_whom(payload, "you", "your organisation");
            format!(
                "{by} mentioned {whom} in a comment{on_quote} in “{title}”: {}",
                field("excerpt")
            )
        }
        Kind::ThreadOpened => format!(
            "{by} opened a new thread{on_quote} in “{title}”: {}",
            field("excerpt")
        ),
        Kind::ParagraphActivity => {
            let what = if payload.get("reply").and_then(Value::as_bool) == Some(true) {
                "replied in a thread"
            } else {
                "opened a new thread"
            };
            format!(
                "{by} {what}{on_quote} on a paragraph your organisation commented on in “{title}”: {}",
                field("excerpt")
            )
        }
        Kind::ThreadResolved => format!(
            "{by} decided the thread{on_quote} in “{title}”: {}. {}",
            outcome(field("outcome")),
            reason("Motivation", field("motivation"))
        ),
        Kind::ProposalDecided => {
            let verdict = if payload.get("accepted").and_then(Value::as_bool) == Some(true) {
                "accepted"
            } else {
                "rejected"
            };
            format!(
                "{by} {verdict} the change proposal{on_quote} in “{title}”. {}",
                reason("Motivation", field("motivation"))
            )
        }
        Kind::StatementReceived => {
            let org = match field("org") {
                "" => "An organisation",
                org => org,
            };
            if field("answer") == "declined" {
                format!("{org} declined to answer the consultation on “{title}”.")
            } else {
                format!("{org} gave its statement on “{title}”.")
            }
        }
        Kind::DeadlineReminder => {
            let date = field("deadline");
            let when = match payload.get("daysLeft").and_then(Value::as_i64) {
                Some(n) if n > 1 => format!("is {date}, in {n} days"),
                Some(1) => format!("is tomorrow, {date}"),
                Some(0) => format!("is today, {date}"),
                Some(_) => format!("was {date}"),
                None => format!("is {date}"),
            };
            format!(
                "The response date of the consultation on “{title}” {when}, and your organisation has not answered."
            )
        }
        Kind::RoundChanged => {
            let deadline = match field("deadline") {
                "" => "no response date".to_owned(),
                date => format!("response date {date}"),
            };
            format!(
                "{by} changed the consultation on “{title}”: it is now {}, with {deadline}.",
                phase(field("phase"))
            )
        }
        Kind::ExtensionRequested => format!(
            "{by} ({}) asks for a later response date for the consultation on “{title}”: {} (now {}). Reason: {}",
            field("org"),
            field("date"),
            field("deadline"),
            field("reason")
        ),
        Kind::ExtensionDecided => {
            if payload.get("granted").and_then(Value::as_bool) == Some(true) {
                format!(
                    "{by} moved your organisation's response date for the consultation on “{title}” to {}.",
                    field("date")
                )
            } else {
                format!(
                    "{by} refused your request for a later response date for the consultation on “{title}”; the response date is still {}. {}",
                    field("deadline"),
                    reason("Reason", field("reason"))
                )
            }
        }
    }
}

fn phase(word: &str) -> &str {
    match word {
        "beredning" => "in preparation",
        "remiss" => "out for consultation",
        "avslutad" => "closed",
        _ => "changed",
    }
}

fn outcome(word: &str) -> &str {
    match word {
        "beaktad" => "taken into account",
        "delvis_beaktad" => "partly taken into account",
        "ej_beaktad" => "not taken into account",
        "noterad" => "noted",
        _ => "decided",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{DocId, NotificationId, UserId};
    use crate::notifications::mail::{Links, compose};

    struct Base;
    impl Links for Base {
        fn web(&self, path: &str) -> String {
            format!("https://f.example{path}")
        }
        fn unsubscribe(&self, kind: Kind) -> String {
            format!("https://f.example/u/{}", kind.as_str())
        }
    }

    #[test]
    fn an_english_message_is_english_in_both_parts() {
        let row = NotificationRow {
            id: NotificationId::generate(),
            recipient_id: UserId::parse("u").unwrap(),
            kind: Kind::ExtensionDecided,
            doc_id: DocId::parse("d1").unwrap(),
            doc_title: "Plan".into(),
            thread_id: None,
            payload: r#"{"by":"Stina","granted":true,"date":"2031-06-03"}"#.into(),
            created_at: 0,
            read_at: None,
        };
        let mail = compose(&[row], &Base, &ENGLISH);
        assert_eq!(mail.subject, "Decision on a later response date: Plan");
        assert!(mail.text.starts_with("Hello,"));
        assert!(mail.text.contains("to 2031-06-03"));
        assert!(mail.html.contains("<html lang=\"en\">"));
        assert!(
            mail.html
                .contains("Stop e-mail about decisions on a later response date")
        );
    }
}
