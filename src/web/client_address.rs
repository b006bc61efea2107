//! Who is on the other end of a request: the peer address, or, behind a configured trusted
//! proxy, the nearest address in `X-Forwarded-For` that is not one of the proxies.
//!
//! A client chooses its own `X-Forwarded-For`, so the header is read only when the peer is a
//! trusted proxy, and from the right (the proxies' end), never from the client's end.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

/// The client's address, as far as the configured proxies let us know it.
pub fn client_ip(req: &HttpRequest, trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    Some(resolve(peer, &forwarded, trusted_proxies))
}

/// `peer` unless it is a trusted proxy; then the rightmost forwarded address that is not one.
pub fn resolve(peer: IpAddr, forwarded_headers: &[&str], trusted_proxies: &[IpNet]) -> IpAddr {
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|n| n.contains(ip));
    if !trusted(&peer) {
        return peer;
    }
    let hops = forwarded_headers
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(ip) if trusted(&ip) => client = ip,
            Ok(ip) => return ip,
            // Garbage in the chain: the last trusted hop is as far as we can vouch for.
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_cannot_choose_their_address() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            resolve(ip("203.0.113.9"), &["1.2.3.4"], &proxies),
            ip("203.0.113.9")
        );
        assert_eq!(
            resolve(ip("203.0.113.9"), &["1.2.3.4"], &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client put a fake first hop in; the proxies appended the real one.
        assert_eq!(
            resolve(
                ip("10.0.0.2"),
                &["6.6.6.6, 198.51.100.4, 10.0.0.3"],
                &proxies
            ),
            ip("198.51.100.4")
        );
        assert_eq!(
            resolve(ip("10.0.0.2"), &["6.6.6.6", "198.51.100.4"], &proxies),
            ip("198.51.100.4")
        );
        assert_eq!(resolve(ip("10.0.0.2"), &[], &proxies), ip("10.0.0.2"));
        assert_eq!(
            resolve(ip("10.0.0.2"), &["nonsense, 10.0.0.7"], &proxies),
            ip("10.0.0.7")
        );
    }
}
