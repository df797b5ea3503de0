//! Which URLs a webhook may point at, and which addresses a delivery may connect to.
//!
//! Only `https://` unless the server runs with `--webhook-allow-http`; an absolute URL
//! with a host, no user name or password (they would be stored and shown in clear), no
//! fragment, at most [`MAX_URL_CHARS`]. Without the flag, a webhook must not reach this
//! machine, its private networks or link-local space (where cloud metadata services
//! live), so an owner cannot make the server probe its own neighbourhood.
//!
//! A literal address is classified as it is written; a name is resolved and refused if
//! **any** of its addresses is internal ([`is_public`]). That happens when the webhook
//! is registered and again at every delivery, through [`CheckedResolver`], the resolver
//! the delivery client connects with: the connection goes to exactly the addresses that
//! were checked, so a name that answers a public address at registration and
//! `127.0.0.1` later (DNS rebinding) is refused at delivery. Issue 13 found `vm`,
//! `runsc` (both in this machine's /etc/hosts) and `[::127.0.0.1]` accepted before.
//! Redirects are never followed and no proxy is used (`delivery`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

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
    #[error(
        "the URL points at a loopback, private, link-local or otherwise internal address ({0})"
    )]
    InternalAddress(String),
}

impl TargetError {
    /// The stable `error` code of the JSON answer.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InternalAddress(_) => "webhook_internal_address",
            _ => "webhook_bad_url",
        }
    }
}

/// Checks `raw` as written (scheme, parts, a literal address) and returns it normalised.
/// Names are resolved by [`check_resolved`].
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
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
    };
    if internal && !allow_http {
        let host = url.host_str().unwrap_or_default().to_owned();
        return Err(TargetError::InternalAddress(host));
    }
    Ok(url)
}

/// [`check`], then resolves a named host and refuses it if any address it resolves to
/// is internal. A name that does not resolve now passes: it reaches nothing, and every
/// delivery resolves it again through [`CheckedResolver`].
pub async fn check_resolved(raw: &str, allow_http: bool) -> Result<Url, TargetError> {
    let url = check(raw, allow_http)?;
    if allow_http {
        return Ok(url);
    }
    if let (Some(url::Host::Domain(name)), Some(port)) = (url.host(), url.port_or_known_default())
        && let Ok(addrs) = tokio::net::lookup_host((name.trim_end_matches('.'), port)).await
    {
        refuse_internal(name, addrs)?;
    }
    Ok(url)
}

/// Fails with the first internal address among `addrs`.
fn refuse_internal(
    name: &str,
    addrs: impl IntoIterator<Item = SocketAddr>,
) -> Result<Vec<SocketAddr>, TargetError> {
    let addrs: Vec<SocketAddr> = addrs.into_iter().collect();
    match addrs.iter().find(|a| !is_public(a.ip())) {
        Some(bad) => Err(TargetError::InternalAddress(format!(
            "{name} is {}",
            bad.ip()
        ))),
        None => Ok(addrs),
    }
}

/// Whether `ip` is an ordinary address on the public internet. False for loopback,
/// unspecified, private (RFC 1918, unique local fc00::/7), link-local, carrier-grade
/// NAT (100.64/10), broadcast, multicast, documentation and benchmarking ranges, the
/// reserved 0/8 and 240/4, and every IPv6 form that carries an IPv4 address
/// (IPv4-mapped `::ffff:a.b.c.d`, the deprecated IPv4-compatible `::a.b.c.d`, NAT64
/// `64:ff9b::/96`, 6to4 `2002::/16`) whose IPv4 address is any of those.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || a >= 240 // reserved
        || (a == 100 && (b & 0xc0) == 64) // 100.64.0.0/10, carrier-grade NAT
        || (a == 192 && b == 0 && c == 0) // 192.0.0.0/24, protocol assignments
        || (a == 198 && (b & 0xfe) == 18)) // 198.18.0.0/15, benchmarking
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    // IPv4-compatible ::a.b.c.d (deprecated, but routed to a.b.c.d by some stacks).
    if segments[..6].iter().all(|s| *s == 0) {
        return !ip.is_unspecified() && !ip.is_loopback() && public_v4(embedded_v4(ip, 6));
    }
    // NAT64 64:ff9b::/96 reaches the IPv4 address in its last 32 bits.
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return public_v4(embedded_v4(ip, 6));
    }
    // 6to4 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
    if segments[0] == 0x2002 {
        return public_v4(embedded_v4(ip, 1));
    }
    let first = segments[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local fec0::/10 (deprecated)
        || (first == 0x2001 && segments[1] == 0x0db8) // documentation 2001:db8::/32
        || (first == 0x0100 && segments[1..4] == [0, 0, 0])) // discard-only 100::/64
}

/// The IPv4 address held in the two segments from `at`.
fn embedded_v4(ip: Ipv6Addr, at: usize) -> Ipv4Addr {
    let s = ip.segments();
    let [a, b] = s[at].to_be_bytes();
    let [c, d] = s[at + 1].to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// The resolver of the delivery client: the system's resolver, then the same check as
/// at registration on every address, so the client only ever connects to an address
/// that was checked. With `allow_internal` (`--webhook-allow-http`) nothing is refused.
#[derive(Debug, Clone, Copy)]
pub struct CheckedResolver {
    pub allow_internal: bool,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_internal = self.allow_internal;
        Box::pin(async move {
            let host = name.as_str().trim_end_matches('.').to_owned();
            // Port 0: reqwest puts the URL's port (or the scheme's) in its place.
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let addrs: Vec<SocketAddr> = if allow_internal {
                addrs.collect()
            } else {
                refuse_internal(&host, addrs)?
            };
            let addrs: reqwest::dns::Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

impl CheckedResolver {
    /// The resolver as reqwest's builder takes it.
    pub fn shared(allow_internal: bool) -> Arc<Self> {
        Arc::new(Self { allow_internal })
    }
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
        ] {
            assert_eq!(check(raw, false), Err(why), "{raw}");
        }
        for raw in [
            "https://127.0.0.1/",
            "https://localhost:8080/",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[::127.0.0.1]/",
            "https://[::ffff:192.168.1.1]/",
            "https://[fd00::1]/",
        ] {
            assert!(
                matches!(check(raw, false), Err(InternalAddress(_))),
                "{raw}"
            );
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

    #[test]
    fn the_classifier_refuses_every_internal_range_of_both_families() {
        for internal in [
            "127.0.0.1",
            "127.255.255.254",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.255",
            "255.255.255.255",
            "224.0.0.1",
            "240.0.0.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "::",
            "::1",
            "::127.0.0.1",
            "::10.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::7f00:1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "100::1",
        ] {
            let ip: IpAddr = internal.parse().expect(internal);
            assert!(!is_public(ip), "{internal} counts as public");
        }
        for public in [
            "193.10.1.1",
            "8.8.8.8",
            "100.128.0.1",
            "172.32.0.1",
            "::8.8.8.8",
            "::ffff:193.10.1.1",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:6b0::1",
            "2a00:1450:4001::1",
        ] {
            let ip: IpAddr = public.parse().expect(public);
            assert!(is_public(ip), "{public} counts as internal");
        }
    }

    #[tokio::test]
    async fn names_that_resolve_to_this_machine_are_refused() {
        // /etc/hosts holds `localhost`; the resolver is the system's.
        for raw in ["https://localhost./", "https://LOCALHOST:8443/x"] {
            assert!(
                matches!(
                    check_resolved(raw, false).await,
                    Err(TargetError::InternalAddress(_))
                ),
                "{raw}"
            );
        }
        assert!(check_resolved("http://localhost:9/", true).await.is_ok());
    }

    #[tokio::test]
    async fn the_delivery_resolver_refuses_internal_answers() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().expect("name");
        assert!(
            CheckedResolver {
                allow_internal: false
            }
            .resolve(name)
            .await
            .is_err()
        );
        let name: reqwest::dns::Name = "localhost".parse().expect("name");
        let addrs: Vec<SocketAddr> = CheckedResolver {
            allow_internal: true,
        }
        .resolve(name)
        .await
        .expect("allowed")
        .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()) && !addrs.is_empty());
    }
}
