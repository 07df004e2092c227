//! Who is asking (ALL-5, RA-4): the client's address, taken from `X-Forwarded-For` only
//! when the TCP peer is one of the configured trusted proxies — otherwise anyone could
//! name any address and slip past the per-client rate limits.

use std::net::IpAddr;

/// The requester, for rate limits and the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub addr: IpAddr,
}

impl Client {
    /// Whom the per-address limits count (ALL-5): an IPv4 address, or an IPv6 client's
    /// /64 — one subscriber's network, which can draw any number of addresses from it.
    pub fn limit_key(&self) -> String {
        match self.addr {
            IpAddr::V4(v4) => v4.to_string(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let [a, b, c, d, ..] = v6.segments();
                    format!("{a:x}:{b:x}:{c:x}:{d:x}::/64")
                }
            },
        }
    }
}

/// The client address: the peer itself unless it is a trusted proxy; then the nearest
/// `X-Forwarded-For` hop (from the right) that is not a trusted proxy. A hop that does
/// not parse stops the walk at the last address we can vouch for.
pub fn client_addr(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpAddr]) -> IpAddr {
    let mut client = peer;
    if !trusted.contains(&peer) {
        return client;
    }
    for hop in forwarded_for
        .iter()
        .flat_map(|header| header.split(','))
        .rev()
    {
        match hop.trim().parse::<IpAddr>() {
            Ok(addr) => {
                client = addr;
                if !trusted.contains(&addr) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn all_5_an_untrusted_peer_cannot_name_its_own_address() {
        let peer = ip("203.0.113.9");
        assert_eq!(client_addr(peer, &["10.0.0.1"], &[ip("192.0.2.1")]), peer);
    }

    #[test]
    fn all_5_behind_a_trusted_proxy_the_nearest_untrusted_hop_is_the_client() {
        let proxy = ip("192.0.2.1");
        let inner = ip("192.0.2.2");
        let trusted = [proxy, inner];
        // The left-most entry is whatever the client claimed; only our proxies' hops count.
        let hops = ["198.51.100.7, 203.0.113.5", "192.0.2.2"];
        assert_eq!(client_addr(proxy, &hops, &trusted), ip("203.0.113.5"));
        assert_eq!(client_addr(proxy, &[], &trusted), proxy);
        assert_eq!(
            client_addr(proxy, &["nonsense, 192.0.2.2"], &trusted),
            inner
        );
        assert_eq!(
            client_addr(proxy, &["2001:db8::1"], &trusted),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn all_5_ipv6_clients_are_counted_per_64_and_ipv4_per_address() {
        let key = |text: &str| Client { addr: ip(text) }.limit_key();
        assert_eq!(key("2001:db8:1:2:aaaa::1"), key("2001:db8:1:2:ffff:1:2:3"));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("203.0.113.9"), "203.0.113.9");
        assert_ne!(key("203.0.113.9"), key("203.0.113.10"));
        assert_eq!(key("::ffff:203.0.113.9"), "203.0.113.9");
    }

    proptest! {
        // ALL-5 / ALL-2: any header gives some address, never a panic, and an untrusted
        // peer always stays itself.
        #[test]
        fn all_5_any_forwarded_header_is_handled(header in "\\PC{0,80}", trusted_peer: bool) {
            let peer = ip("192.0.2.1");
            let trusted = if trusted_peer { vec![peer] } else { vec![] };
            let addr = client_addr(peer, &[header.as_str()], &trusted);
            if !trusted_peer {
                prop_assert_eq!(addr, peer);
            }
        }
    }
}
