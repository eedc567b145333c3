//! Which peers may tell us the client's address (X-Forwarded-For), and reading it.
//!
//! A forwarded address is believed only from a configured proxy: anyone else could name
//! any address and so escape per-address rate limits. Behind a chain of proxies the client
//! is the right-most address in X-Forwarded-For that is not one of ours: each trusted
//! proxy appends the address it got the request from, and anything left of the first
//! untrusted one was written by the client.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;

/// One address or network, e.g. `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, as a dual-stack socket reports IPv4
/// peers) compare as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for Network {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or CIDR network"))?;
        let address = canonical(address);
        let max = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => prefix
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0..={max}"))?,
        };
        Ok(Network { address, prefix })
    }
}

/// The proxies whose X-Forwarded-For is believed (`SIPREMS_TRUSTED_PROXIES`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// A comma-separated list; empty trusts no one.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .filter(|part| !part.trim().is_empty())
            .map(Network::from_str)
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    /// Loopback only: what `SIPREMS_TRUST_PROXY=1` has always meant in practice (nginx on
    /// the same host, deploy/local-cluster.sh).
    pub fn loopback() -> Self {
        Self::parse("127.0.0.0/8,::1").unwrap_or_default()
    }

    pub fn with(mut self, other: &TrustedProxies) -> Self {
        self.0.extend(other.0.iter().copied());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|network| network.contains(ip))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy, then the
    /// right-most untrusted address of X-Forwarded-For (X-Real-IP when there is none).
    pub fn client_address(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        let peer = canonical(peer?.ip());
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        if hops.is_empty()
            && let Some(real) = headers.get("x-real-ip").and_then(|v| v.to_str().ok())
        {
            hops.push(real.trim());
        }
        let mut client = peer;
        for hop in hops.iter().rev() {
            // Garbage ends the chain: what is left of it cannot be believed either.
            let Ok(ip) = hop.parse::<IpAddr>() else {
                break;
            };
            client = canonical(ip);
            if !self.trusts(client) {
                break;
            }
        }
        Some(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(forwarded: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", HeaderValue::from_str(forwarded).unwrap());
        headers
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn peer(text: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip(text), 5000))
    }

    #[test]
    fn networks_parse_and_match() {
        let proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8,fd00::/8").unwrap();
        assert!(proxies.trusts(ip("127.0.0.1")));
        assert!(!proxies.trusts(ip("127.0.0.2")));
        assert!(proxies.trusts(ip("10.200.3.4")));
        assert!(proxies.trusts(ip("::ffff:10.1.1.1")));
        assert!(!proxies.trusts(ip("11.0.0.1")));
        assert!(proxies.trusts(ip("fd12::1")));
        assert!(!proxies.trusts(ip("fe80::1")));
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .trusts(ip("8.8.8.8"))
        );
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        for bad in ["10.0.0.0/33", "nginx", "10.0.0.0/x", "::/129"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_a_trusted_peer_is_believed() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let spoofed = headers("203.0.113.9");
        assert_eq!(
            proxies.client_address(&spoofed, peer("198.51.100.7")),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            TrustedProxies::default().client_address(&spoofed, peer("10.0.0.1")),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(
            proxies.client_address(&spoofed, peer("10.0.0.1")),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8,127.0.0.1").unwrap();
        // The client wrote 1.1.1.1 itself; the edge proxy appended its real address.
        let chain = headers("1.1.1.1, 203.0.113.9, 10.0.0.2");
        assert_eq!(
            proxies.client_address(&chain, peer("127.0.0.1")),
            Some(ip("203.0.113.9"))
        );
        // Only trusted hops: the left-most is as far as we can see.
        let internal = headers("10.0.0.3, 10.0.0.2");
        assert_eq!(
            proxies.client_address(&internal, peer("127.0.0.1")),
            Some(ip("10.0.0.3"))
        );
        // Garbage in the chain stops the walk at the last believable hop.
        let garbage = headers("203.0.113.9, not-an-ip, 10.0.0.2");
        assert_eq!(
            proxies.client_address(&garbage, peer("127.0.0.1")),
            Some(ip("10.0.0.2"))
        );
        let mut real = HeaderMap::new();
        real.insert("x-real-ip", HeaderValue::from_static("203.0.113.5"));
        assert_eq!(
            proxies.client_address(&real, peer("127.0.0.1")),
            Some(ip("203.0.113.5"))
        );
        assert_eq!(
            proxies.client_address(&HeaderMap::new(), peer("127.0.0.1")),
            Some(ip("127.0.0.1"))
        );
    }
}
