//! Which URLs a webhook may point at.
//!
//! Only `https://` unless the server runs with `--webhook-allow-http`; an absolute URL
//! with a host, no user name or password (they would be stored and shown in clear), no
//! fragment, at most [`MAX_URL_CHARS`]. Without the flag, literal addresses of this
//! machine, its private networks and link-local space (where cloud metadata services
//! live) are refused too, so an owner cannot make the server probe its own
//! neighbourhood. Names are not resolved here: a name that resolves to such an address
//! is the operator's DNS to police. Redirects are never followed (`delivery`).

use std::net::{Ipv4Addr, Ipv6Addr};

use url::Url;

/// Longest URL accepted.
pub const MAX_URL_CHARS: usize = 2048;

/// Why a URL is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("the URL is longer than {MAX_URL_CHARS} characters")]
    TooLong,
    #[error("the URL does not parse: {0}")]
    Malformed(String),
    #[error("only https:// URLs are accepted")]
    NotHttps,
    #[error("the URL has no host")]
    NoHost,
    #[error("the URL must not carry a user name or password")]
    Credentials,
    #[error("the URL must not have a #fragment")]
    Fragment,
    #[error("the URL points at a loopback, private or link-local address")]
    InternalAddress,
}

/// Checks `raw` and returns it normalised.
pub fn check(raw: &str, allow_http: bool) -> Result<Url, TargetError> {
    let raw = raw.trim();
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(TargetError::TooLong);
    }
    let url = Url::parse(raw).map_err(|e| TargetError::Malformed(e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        _ => return Err(TargetError::NotHttps),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    if url.fragment().is_some() {
        return Err(TargetError::Fragment);
    }
    let internal = match url.host() {
        None => return Err(TargetError::NoHost),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => internal_v4(ip),
        Some(url::Host::Ipv6(ip)) => internal_v6(ip),
    };
    if internal && !allow_http {
        return Err(TargetError::InternalAddress);
    }
    Ok(url)
}

fn internal_v4(ip: Ipv4Addr) -> bool {
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        // 100.64.0.0/10, carrier-grade NAT.
        || (ip.octets()[0] == 100 && (ip.octets()[1] & 0xc0) == 64)
}

fn internal_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return internal_v4(v4);
    }
    let first = ip.segments()[0];
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_urls_to_public_hosts_pass() {
        let url = check(" https://hooks.example.se/forankra?k=1 ", false).expect("ok");
        assert_eq!(url.as_str(), "https://hooks.example.se/forankra?k=1");
    }

    #[test]
    fn everything_else_is_refused() {
        use TargetError::*;
        for (raw, why) in [
            ("http://hooks.example.se/", NotHttps),
            ("ftp://hooks.example.se/", NotHttps),
            ("javascript:alert(1)", NotHttps),
            ("https://user:pw@hooks.example.se/", Credentials),
            ("https://hooks.example.se/#x", Fragment),
            ("https://127.0.0.1/", InternalAddress),
            ("https://localhost:8080/", InternalAddress),
            ("https://10.1.2.3/", InternalAddress),
            ("https://169.254.169.254/latest/meta-data", InternalAddress),
            ("https://[::1]/", InternalAddress),
            ("https://[::ffff:192.168.1.1]/", InternalAddress),
            ("https://[fd00::1]/", InternalAddress),
        ] {
            assert_eq!(check(raw, false), Err(why), "{raw}");
        }
        assert!(matches!(check("not a url", false), Err(Malformed(_))));
        assert!(matches!(
            check("https://", false),
            Err(Malformed(_) | NoHost)
        ));
        let long = format!("https://example.se/{}", "a".repeat(MAX_URL_CHARS));
        assert_eq!(check(&long, false), Err(TooLong));
    }

    #[test]
    fn the_flag_allows_http_and_loopback() {
        assert!(check("http://127.0.0.1:9999/hook", true).is_ok());
        assert!(check("https://193.10.1.1/hook", false).is_ok());
    }
}
