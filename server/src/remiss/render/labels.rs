//! Swedish labels for the read-outs, the same words the web app shows (web/src/i18n/sv.ts).

use jiff::tz::TimeZone;

use crate::auth::Role;
use crate::comments::model::{Outcome, Stance, ThreadStatus};
use crate::consultation::deadline::ZONE;
use crate::consultation::model::{Answer, InviteeStatus, Phase};

/// A stance, or that none was taken.
pub fn stance(stance: Option<Stance>) -> &'static str {
    match stance {
        Some(Stance::Tillstyrker) => "Tillstyrker",
        Some(Stance::Avstyrker) => "Avstyrker",
        Some(Stance::Andringsforslag) => "Ändringsförslag",
        Some(Stance::IngenErinran) => "Ingen erinran",
        None => "Utan ställningstagande",
    }
}

/// How the owners handled a thread.
pub fn outcome(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Beaktad => "Beaktad",
        Outcome::DelvisBeaktad => "Delvis beaktad",
        Outcome::EjBeaktad => "Ej beaktad",
        Outcome::Noterad => "Noterad",
    }
}

/// Open or resolved.
pub fn thread_status(status: ThreadStatus) -> &'static str {
    match status {
        ThreadStatus::Open => "Öppen",
        ThreadStatus::Resolved => "Avslutad",
    }
}

/// An invitee's status.
pub fn invitee_status(status: InviteeStatus) -> &'static str {
    match status {
        InviteeStatus::Invited => "Inbjuden",
        InviteeStatus::Opened => "Har öppnat",
        InviteeStatus::Commenting => "Lämnar synpunkter",
        InviteeStatus::Done => "Yttrande lämnat",
        InviteeStatus::Declined => "Avstår",
    }
}

/// An invitee's answer.
pub fn answer(answer: Answer) -> &'static str {
    match answer {
        Answer::Done => "Yttrande lämnat",
        Answer::Declined => "Avstår",
    }
}

/// The round's phase.
pub fn phase(phase: Phase) -> &'static str {
    match phase {
        Phase::Beredning => "Beredning",
        Phase::Remiss => "Remiss",
        Phase::Avslutad => "Avslutad",
    }
}

/// A role on the document.
pub fn role(role: Role) -> &'static str {
    match role {
        Role::Owner => "Ägare",
        Role::Editor => "Redaktör",
        Role::Commenter => "Kommentator",
        Role::Viewer => "Läsare",
    }
}

/// An epoch-millisecond time as Swedish local time, `2020-11-30 14:05`.
pub fn when(ms: i64) -> String {
    let Ok(at) = jiff::Timestamp::from_millisecond(ms) else {
        return ms.to_string();
    };
    let zone = TimeZone::get(ZONE).unwrap_or(TimeZone::UTC);
    at.to_zoned_datetime(zone)
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// An optional time, or a dash.
pub fn when_or_dash(ms: Option<i64>) -> String {
    ms.map(when).unwrap_or_else(|| "–".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_swedish_local() {
        // 2020-11-30T23:30Z is 00:30 on 1 December in Stockholm (UTC+1 in winter).
        assert_eq!(when(1_606_779_000_000), "2020-12-01 00:30");
        // In summer Stockholm is UTC+2.
        assert_eq!(when(1_593_561_600_000), "2020-07-01 02:00");
    }
}
