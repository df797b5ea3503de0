//! The page a browser lands on when a sign-in through the provider is refused.
//!
//! The callback is a top-level navigation, not a call from the web app, so a JSON error
//! would leave the user looking at raw text. The page says what happened and what to do,
//! in Swedish unless the browser's first language is English, with a link to start
//! again; any text from the request (a provider's `error_description` can be forged in a
//! link) is escaped.

use axum::http::{HeaderMap, StatusCode, header::ACCEPT_LANGUAGE};

use crate::auth::oidc::OidcError;
use crate::html_text::escape;

/// The two languages of the web app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Sv,
    En,
}

impl Lang {
    /// English when the browser's first preference is English, Swedish otherwise.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let first = headers
            .get(ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if first.starts_with("en") {
            Lang::En
        } else {
            Lang::Sv
        }
    }
}

/// The status, title and explanation of a refused sign-in.
pub fn explain(error: &OidcError, lang: Lang) -> (StatusCode, &'static str, String) {
    use Lang::{En, Sv};
    match (error, lang) {
        (OidcError::Unmapped { claim, values }, Sv) => (
            StatusCode::FORBIDDEN,
            "Din organisation är inte ansluten",
            format!(
                "Inloggningen lyckades hos identitetsleverantören, men organisationen ({claim}: {}) \
                 är inte kopplad till någon organisation i Förankra. Be administratören koppla den \
                 med \u{201c}forankra org map\u{201d}.",
                shown(values)
            ),
        ),
        (OidcError::Unmapped { claim, values }, En) => (
            StatusCode::FORBIDDEN,
            "Your organisation is not connected",
            format!(
                "You signed in at the identity provider, but your organisation ({claim}: {}) is \
                 not mapped to an organisation in Förankra. Ask the administrator to map it with \
                 \u{201c}forankra org map\u{201d}.",
                shown(values)
            ),
        ),
        (OidcError::Ambiguous { values }, Sv) => (
            StatusCode::FORBIDDEN,
            "Flera organisationer",
            format!(
                "Värdena {} hör till flera organisationer i Förankra. Be administratören rätta kopplingen.",
                shown(values)
            ),
        ),
        (OidcError::Ambiguous { values }, En) => (
            StatusCode::FORBIDDEN,
            "Several organisations",
            format!(
                "The values {} map to several organisations in Förankra. Ask the administrator to correct the mapping.",
                shown(values)
            ),
        ),
        (OidcError::Disabled, Sv) => (
            StatusCode::FORBIDDEN,
            "Kontot är avstängt",
            "Ditt konto i Förankra är avstängt. Kontakta administratören.".into(),
        ),
        (OidcError::Disabled, En) => (
            StatusCode::FORBIDDEN,
            "The account is disabled",
            "Your Förankra account is disabled. Contact the administrator.".into(),
        ),
        (OidcError::NotConfigured, Sv) => (
            StatusCode::NOT_FOUND,
            "Inloggning via identitetsleverantör är inte påslagen",
            "Den här servern använder inte OpenID Connect. Logga in med lösenord.".into(),
        ),
        (OidcError::NotConfigured, En) => (
            StatusCode::NOT_FOUND,
            "Sign-in through an identity provider is off",
            "This server does not use OpenID Connect. Sign in with a password.".into(),
        ),
        (OidcError::Provider(_) | OidcError::Store(_) | OidcError::Session(_), Sv) => (
            StatusCode::BAD_GATEWAY,
            "Inloggningen kunde inte slutföras",
            "Identitetsleverantören gick inte att nå eller svarade fel. Försök igen om en stund."
                .into(),
        ),
        (OidcError::Provider(_) | OidcError::Store(_) | OidcError::Session(_), En) => (
            StatusCode::BAD_GATEWAY,
            "The sign-in could not be completed",
            "The identity provider could not be reached or answered wrongly. Try again shortly."
                .into(),
        ),
        (other, Sv) => (
            StatusCode::BAD_REQUEST,
            "Inloggningen nekades",
            format!("Inloggningen kunde inte godtas: {}. Börja om.", other),
        ),
        (other, En) => (
            StatusCode::BAD_REQUEST,
            "The sign-in was refused",
            format!("The sign-in could not be accepted: {other}. Start again."),
        ),
    }
}

fn shown(values: &[String]) -> String {
    if values.is_empty() {
        return "–".into();
    }
    values
        .iter()
        .take(10)
        .map(|v| format!("\u{201c}{v}\u{201d}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The whole page.
pub fn render(title: &str, message: &str, lang: Lang) -> String {
    let (code, again, home) = match lang {
        Lang::Sv => ("sv", "Logga in igen", "Till startsidan"),
        Lang::En => ("en", "Sign in again", "To the start page"),
    };
    format!(
        "<!doctype html>\n<html lang=\"{code}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} – Förankra</title></head>\
         <body><main><h1>{title}</h1><p>{message}</p>\
         <p><a href=\"/auth/oidc/login\">{again}</a> · <a href=\"/\">{home}</a></p></main></body></html>\n",
        title = escape(title),
        message = escape(message),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_came_from_the_request_and_speaks_swedish_by_default() {
        let error = OidcError::Refused {
            error: "access_denied".into(),
            description: Some("<script>alert(1)</script>".into()),
        };
        let (status, title, message) = explain(&error, Lang::from_headers(&HeaderMap::new()));
        assert_eq!(status, StatusCode::BAD_REQUEST);
        let page = render(title, &message, Lang::Sv);
        assert!(page.contains("lang=\"sv\"") && page.contains("Inloggningen nekades"));
        assert!(page.contains("&lt;script&gt;") && !page.contains("<script>"));
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_LANGUAGE, "en-GB,sv;q=0.5".parse().unwrap());
        assert_eq!(Lang::from_headers(&headers), Lang::En);
    }
}
