//! Which browsers' pages and which host names may reach the node.
//!
//! A node listening on loopback is still reachable from any web page its
//! operator opens: a page may POST to `http://127.0.0.1:8545/rpc` (a form
//! or `text/plain` body needs no CORS preflight), open a WebSocket to it,
//! or, through DNS rebinding, make its own domain resolve to 127.0.0.1 and
//! read the answers. So the node checks the `Origin` a browser sends (a
//! page's origin must be allowed; loopback pages are) and the `Host` every
//! client sends (an IP address, `localhost`, or a name the operator
//! allows: a rebinding domain is none of these).

use std::net::IpAddr;

/// The node's access rules (`ward serve --allow-origin`, `--allow-host`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Access {
    /// Origins (`scheme://host[:port]`) whose pages may call `/rpc` and
    /// `/ws`, besides pages served from a loopback address or
    /// `localhost`; `*` allows every origin.
    pub origins: Vec<String>,
    /// Host names a request's `Host` may name, besides IP addresses and
    /// `localhost`; `*` allows every name.
    pub hosts: Vec<String>,
}

impl Access {
    /// Whether a page of `origin` may call the node.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim().trim_end_matches('/');
        if self.origins.iter().any(|o| o == "*") {
            return true;
        }
        let Some((scheme, rest)) = origin.split_once("://") else {
            // `null` (a sandboxed page, a file) and anything malformed.
            return false;
        };
        if !matches!(scheme, "http" | "https") {
            return false;
        }
        if is_loopback_host(strip_port(rest)) {
            return true;
        }
        self.origins
            .iter()
            .any(|allowed| allowed.trim_end_matches('/').eq_ignore_ascii_case(origin))
    }

    /// Whether the node answers requests naming `host` (a `Host` header,
    /// with or without its port).
    pub fn host_allowed(&self, host: &str) -> bool {
        let name = strip_port(host.trim());
        if name.is_empty() {
            return false;
        }
        if name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok()
            || is_loopback_host(name)
        {
            return true;
        }
        self.hosts
            .iter()
            .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(name))
    }
}

/// `host` without a trailing `:port` (an IPv6 literal keeps its brackets).
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    }
}

/// `localhost`, a name under it, or a loopback address.
fn is_loopback_host(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return true;
    }
    lower
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_pages_are_allowed_and_others_are_not_by_default() {
        let access = Access::default();
        for origin in [
            "http://127.0.0.1:8545",
            "http://localhost:3000",
            "https://localhost",
            "http://[::1]:8545",
            "http://app.localhost:8080/",
        ] {
            assert!(access.origin_allowed(origin), "{origin}");
        }
        for origin in [
            "http://evil.example",
            "https://evil.example:443",
            "null",
            "file://",
            "http://127.0.0.1.evil.example",
            "",
        ] {
            assert!(!access.origin_allowed(origin), "{origin}");
        }
    }

    #[test]
    fn listed_origins_and_the_wildcard_are_allowed() {
        let access = Access {
            origins: vec!["https://wallet.example".into()],
            hosts: Vec::new(),
        };
        assert!(access.origin_allowed("https://wallet.example"));
        assert!(access.origin_allowed("https://WALLET.example/"));
        assert!(!access.origin_allowed("http://wallet.example"));
        let any = Access {
            origins: vec!["*".into()],
            hosts: Vec::new(),
        };
        assert!(any.origin_allowed("http://evil.example"));
    }

    #[test]
    fn hosts_must_be_addresses_localhost_or_listed() {
        let access = Access {
            origins: Vec::new(),
            hosts: vec!["node.example".into()],
        };
        for host in [
            "127.0.0.1:8545",
            "localhost:8545",
            "[::1]:8545",
            "10.0.0.7",
            "node.example:8545",
            "NODE.example",
        ] {
            assert!(access.host_allowed(host), "{host}");
        }
        for host in ["rebind.evil.example:8545", "evil.example", "", ":8545"] {
            assert!(!access.host_allowed(host), "{host}");
        }
    }
}
