//! The client's address, for throttling, the audit log and session records.
//!
//! It is the TCP peer, unless the peer is a trusted proxy (GATEHOUSE_TRUSTED_PROXIES):
//! then `Forwarded` (RFC 7239) or else `X-Forwarded-For` is read from the right,
//! skipping trusted hops, and the first untrusted address is the client. Headers
//! from an untrusted peer are ignored: anyone can send them.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::state::AppState;

/// The client address ("unknown" when the server was started without connection
/// info).
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(ClientIp("unknown".into()));
        };
        let ip = client_address(peer.ip(), &parts.headers, &state.trusted_proxies);
        Ok(ClientIp(ip.to_string()))
    }
}

fn trusted(ip: IpAddr, proxies: &[IpNet]) -> bool {
    // An IPv4 peer may arrive as an IPv4-mapped IPv6 address on a dual-stack socket.
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    proxies.iter().any(|net| net.contains(&ip))
}

/// The client address of a request from `peer` (pure).
pub fn client_address(peer: IpAddr, headers: &HeaderMap, proxies: &[IpNet]) -> IpAddr {
    if !trusted(peer, proxies) {
        return peer;
    }
    let chain = forwarded_chain(headers);
    // From the nearest hop outwards: the first address not ours is the client. A
    // hop we cannot read (RFC 7239 §6: "unknown" or an obfuscated name) ends the
    // walk at the last trusted hop that reported it.
    let mut client = peer;
    for hop in chain.iter().rev() {
        match hop {
            Some(ip) if trusted(*ip, proxies) => client = *ip,
            Some(ip) => return *ip,
            None => return client,
        }
    }
    client
}

/// The addresses the proxies appended, in order (None for a hop that is not an
/// address). `Forwarded` wins over `X-Forwarded-For` when both are present.
fn forwarded_chain(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .map(|element| forwarded_for(element))
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .map(|hop| parse_node(hop))
        .collect()
}

/// The `for=` parameter of one forwarded-element (RFC 7239 §4).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("for"))
        .and_then(|(_, value)| parse_node(value.trim().trim_matches('"')))
}

/// A node (RFC 7239 §6): an IPv4 address, a bracketed IPv6 address, either with
/// an optional port; anything else is not an address.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    type Header = (&'static str, &'static str);

    fn headers(pairs: &[Header]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn walks_from_the_right_skipping_trusted_hops() {
        let proxies: Vec<IpNet> = vec![
            "10.0.0.0/8".parse().unwrap(),
            "192.0.2.1/32".parse().unwrap(),
        ];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // (what, TCP peer, headers, client)
        type Case = (&'static str, &'static str, Vec<Header>, &'static str);
        let cases: Vec<Case> = vec![
            (
                "untrusted peer: headers ignored",
                "203.0.113.9",
                vec![("x-forwarded-for", "198.51.100.1")],
                "203.0.113.9",
            ),
            ("no header", "10.0.0.2", vec![], "10.0.0.2"),
            (
                "one proxy",
                "10.0.0.2",
                vec![("x-forwarded-for", "198.51.100.1")],
                "198.51.100.1",
            ),
            (
                "spoofed left part is skipped",
                "10.0.0.2",
                vec![("x-forwarded-for", "1.2.3.4, 198.51.100.1")],
                "198.51.100.1",
            ),
            (
                "two trusted hops",
                "10.0.0.2",
                vec![("x-forwarded-for", "198.51.100.1, 192.0.2.1")],
                "198.51.100.1",
            ),
            (
                "split over two headers",
                "10.0.0.2",
                vec![
                    ("x-forwarded-for", "198.51.100.1"),
                    ("x-forwarded-for", "10.1.1.1"),
                ],
                "198.51.100.1",
            ),
            (
                "all trusted: the farthest",
                "10.0.0.2",
                vec![("x-forwarded-for", "10.9.9.9, 10.1.1.1")],
                "10.9.9.9",
            ),
            (
                "garbage ends at the last trusted hop",
                "10.0.0.2",
                vec![("x-forwarded-for", "nonsense")],
                "10.0.0.2",
            ),
            (
                "Forwarded",
                "10.0.0.2",
                vec![("forwarded", "for=198.51.100.1;proto=https")],
                "198.51.100.1",
            ),
            (
                "Forwarded IPv6 with port",
                "10.0.0.2",
                vec![("forwarded", "for=\"[2001:db8::7]:4711\"")],
                "2001:db8::7",
            ),
            (
                "Forwarded IPv4 with port",
                "10.0.0.2",
                vec![("forwarded", "for=\"198.51.100.1:80\", for=10.3.3.3")],
                "198.51.100.1",
            ),
            (
                "Forwarded wins",
                "10.0.0.2",
                vec![
                    ("forwarded", "for=198.51.100.1"),
                    ("x-forwarded-for", "198.51.100.2"),
                ],
                "198.51.100.1",
            ),
            (
                "Forwarded unknown",
                "10.0.0.2",
                vec![("forwarded", "for=unknown, for=10.3.3.3")],
                "10.3.3.3",
            ),
            (
                "Forwarded obfuscated",
                "10.0.0.2",
                vec![("forwarded", "for=_hidden")],
                "10.0.0.2",
            ),
        ];
        for (name, peer, pairs, expected) in cases {
            assert_eq!(
                client_address(ip(peer), &headers(&pairs), &proxies),
                ip(expected),
                "{name}"
            );
        }
        assert_eq!(
            client_address(
                ip("::ffff:10.0.0.2"),
                &headers(&[("x-forwarded-for", "198.51.100.1")]),
                &proxies
            ),
            ip("198.51.100.1"),
            "IPv4-mapped peer"
        );
    }
}
