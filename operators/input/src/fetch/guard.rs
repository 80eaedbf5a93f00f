//! The SSRF guard: which IP addresses a fetch may never connect to, the `allow_hosts` exception list, and host
//! resolution that checks every address before anything connects.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::{Host, Url};

use super::error::FetchError;

/// Whether `ip` is an address a fetch must not reach: loopback, private (10/8, 172.16/12, 192.168/16), CGNAT
/// (100.64/10), link-local (169.254/16, fe80::/10), unique-local (fc00::/7), site-local (fec0::/10), multicast,
/// broadcast, unspecified, "this network" (0/8), documentation, benchmarking and other reserved ranges, anything
/// outside IPv6 global unicast (2000::/3), and IPv4-mapped, IPv4-compatible, NAT64 and 6to4 IPv6 forms of those.
///
/// ```
/// use clipstream_input::is_forbidden;
/// assert!(is_forbidden("127.0.0.1".parse().unwrap()));
/// assert!(is_forbidden("::ffff:10.0.0.1".parse().unwrap()));
/// assert!(!is_forbidden("93.184.216.34".parse().unwrap()));
/// ```
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    a == 0 // "this network", includes 0.0.0.0
        || a == 10 // private
        || a == 127 // loopback
        || (a == 100 && (64..128).contains(&b)) // CGNAT shared address space
        || (a == 169 && b == 254) // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 168) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224 // multicast 224/4, reserved 240/4, broadcast
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4); // ::ffff:0:0/96
    }
    if s[..6] == [0; 6] {
        return forbidden_v4(embedded(s[6], s[7])); // IPv4-compatible ::/96, includes :: and ::1
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return forbidden_v4(embedded(s[6], s[7])); // NAT64 well-known prefix 64:ff9b::/96
    }
    if s[0] == 0x2002 {
        return forbidden_v4(embedded(s[1], s[2])); // 6to4 2002::/16
    }
    (s[0] & 0xe000) != 0x2000 // not global unicast: fc00::/7, fe80::/10, fec0::/10, ff00::/8, 100::/64, 64:ff9b:1::/48
        || (s[0] == 0x2001 && s[1] < 0x0200) // IETF protocol assignments 2001::/23 (Teredo, benchmarking, ORCHID)
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || (s[0] == 0x3fff && s[1] < 0x1000) // documentation 3fff::/20
}

/// The hosts that may resolve to forbidden addresses (`fetch.allow_hosts`): names or IP literals, optionally with a
/// port, compared case-insensitively.
#[derive(Debug, Clone, Default)]
pub(crate) struct AllowList {
    entries: Vec<(HostName, Option<u16>)>,
}

/// A normalised host: an IP address or a lower-case domain without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostName {
    Ip(IpAddr),
    Domain(String),
}

impl HostName {
    fn parse(text: &str) -> Self {
        let text = text.trim().trim_start_matches('[').trim_end_matches(']');
        match text.parse::<IpAddr>() {
            Ok(ip) => Self::Ip(ip),
            Err(_) => Self::Domain(text.trim_end_matches('.').to_ascii_lowercase()),
        }
    }

    fn of_url(url: &Url) -> Option<Self> {
        match url.host()? {
            Host::Ipv4(ip) => Some(Self::Ip(ip.into())),
            Host::Ipv6(ip) => Some(Self::Ip(ip.into())),
            Host::Domain(domain) => Some(Self::parse(domain)),
        }
    }
}

impl AllowList {
    /// Parses entries like `localhost`, `minio:9000`, `127.0.0.1`, `[::1]:8080`, `::1`.
    pub fn new(hosts: &[String]) -> Self {
        let entries = hosts.iter().map(|entry| split_port(entry.trim())).collect();
        Self { entries }
    }

    /// Whether the host (and port, when the entry names one) of `url` is listed.
    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = HostName::of_url(url) else { return false };
        let port = url.port_or_known_default();
        self.entries.iter().any(|(name, want)| *name == host && want.is_none_or(|p| Some(p) == port))
    }
}

fn split_port(entry: &str) -> (HostName, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[')
        && let Some((host, after)) = rest.split_once(']')
    {
        return (HostName::parse(host), after.strip_prefix(':').and_then(|p| p.parse().ok()));
    }
    if entry.parse::<IpAddr>().is_ok() {
        return (HostName::parse(entry), None);
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => match port.parse() {
            Ok(port) => (HostName::parse(host), Some(port)),
            Err(_) => (HostName::parse(entry), None),
        },
        _ => (HostName::parse(entry), None),
    }
}

/// Resolves the host of `url` and checks every address: refused if any is forbidden, unless the host is allowed.
/// The returned addresses are the only ones the connection may use.
pub(crate) async fn resolve_checked(url: &Url, allow: &AllowList) -> Result<Vec<SocketAddr>, FetchError> {
    let port = url.port_or_known_default().unwrap_or(80);
    let host_text = url.host_str().unwrap_or_default().to_string();
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Domain(domain)) => tokio::net::lookup_host((domain, port))
            .await
            .map_err(|source| FetchError::Dns { host: host_text.clone(), source })?
            .collect(),
        None => return Err(FetchError::Setup(format!("url {url} has no host"))),
    };
    if addrs.is_empty() {
        let source = std::io::Error::new(std::io::ErrorKind::NotFound, "no addresses");
        return Err(FetchError::Dns { host: host_text, source });
    }
    if !allow.allows(url)
        && let Some(bad) = addrs.iter().find(|addr| is_forbidden(addr.ip()))
    {
        return Err(FetchError::RefusedAddress { host: host_text, addr: bad.ip() });
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_table() {
        let forbidden = [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::ffff:192.168.0.1",
            "::127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "2002:7f00:1::1",
            "2002:c0a8:101::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "ff0e::1",
            "100::1",
            "2001::1",
            "2001:2::1",
            "2001:10::1",
            "2001:db8::1",
            "3fff::1",
            "4000::1",
        ];
        for ip in forbidden {
            assert!(is_forbidden(ip.parse().expect(ip)), "{ip} must be forbidden");
        }
        let allowed = [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "169.253.1.1",
            "192.0.1.1",
            "192.169.0.1",
            "198.20.0.1",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2001:4860:4860::8888",
        ];
        for ip in allowed {
            assert!(!is_forbidden(ip.parse().expect(ip)), "{ip} must be allowed");
        }
    }

    fn url(text: &str) -> Url {
        Url::parse(text).expect(text)
    }

    #[test]
    fn allow_list_matching() {
        let allow = AllowList::new(&[
            "LocalHost".into(),
            "127.0.0.1".into(),
            "minio:9000".into(),
            "[::1]:8080".into(),
            "0:0::2".into(),
        ]);
        assert!(allow.allows(&url("http://localhost/x")));
        assert!(allow.allows(&url("http://LOCALHOST.:81/x")));
        assert!(allow.allows(&url("http://127.0.0.1:1234/x")));
        assert!(allow.allows(&url("http://minio:9000/b")));
        assert!(!allow.allows(&url("http://minio:9001/b")));
        assert!(allow.allows(&url("http://[::1]:8080/")));
        assert!(!allow.allows(&url("http://[::1]:8081/")));
        assert!(allow.allows(&url("http://[::2]/")));
        assert!(!allow.allows(&url("http://127.0.0.2/")));
        assert!(!allow.allows(&url("http://evil.com/")));
        assert!(!AllowList::default().allows(&url("http://localhost/")));
    }

    #[test]
    fn resolution_refuses_forbidden_literals() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let allow = AllowList::default();
        for text in ["http://127.0.0.1/", "http://[::ffff:7f00:1]/", "http://2130706433/", "http://0x7f.1/"] {
            let got = runtime.block_on(resolve_checked(&url(text), &allow));
            assert!(matches!(got, Err(FetchError::RefusedAddress { .. })), "{text}: {got:?}");
        }
        let ok = runtime.block_on(resolve_checked(&url("http://8.8.8.8:81/"), &allow)).expect("public literal");
        assert_eq!(ok, vec![SocketAddr::from(([8, 8, 8, 8], 81))]);
    }
}
