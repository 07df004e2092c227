//! Who is asking (ALL-5, RA-4): the client's address, taken from `X-Forwarded-For` only
//! when the TCP peer is one of the configured trusted proxies — otherwise anyone could
//! name any address and slip past the per-client rate limits.

use std::net::IpAddr;

/// The requester, for rate limits and the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub addr: IpAddr,
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
