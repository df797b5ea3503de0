//! The address a request comes from, for the per-address limits.
//!
//! Normally the TCP peer. Behind a reverse proxy every peer is the proxy, so with
//! `--trust-proxy-headers` the last `X-Forwarded-For` entry counts instead: the one our
//! own proxy appended (nginx's `$proxy_add_x_forwarded_for`). Entries before it are
//! whatever the client sent and are never believed. Off by default, because without a
//! proxy in front the header is the client's to forge.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::limits::Limits;

/// The client's address as far as this server can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// Needs only the limits (whether proxy headers are trusted), so any state with them does.
impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    Arc<Limits>: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let forwarded = Arc::<Limits>::from_ref(state)
            .trust_proxy_headers
            .then(|| last_forwarded_for(&parts.headers))
            .flatten();
        Ok(Self(
            forwarded
                .or(peer)
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}

/// The last address in the last `X-Forwarded-For` header, if it parses.
fn last_forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers.get_all("x-forwarded-for").iter().next_back()?;
    let hop = last.to_str().ok()?.rsplit(',').next()?.trim();
    hop.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_hop_counts_and_junk_is_ignored() {
        let mut headers = HeaderMap::new();
        assert_eq!(last_forwarded_for(&headers), None);
        headers.append(
            "x-forwarded-for",
            "6.6.6.6, 198.51.100.7".parse().expect("value"),
        );
        assert_eq!(last_forwarded_for(&headers), Some([198, 51, 100, 7].into()));
        headers.append("x-forwarded-for", " 2001:db8::1 ".parse().expect("value"));
        assert_eq!(
            last_forwarded_for(&headers),
            Some("2001:db8::1".parse().expect("v6"))
        );
        let mut forged = HeaderMap::new();
        forged.insert(
            "x-forwarded-for",
            "1.2.3.4, not-an-address".parse().expect("value"),
        );
        assert_eq!(last_forwarded_for(&forged), None);
    }
}
