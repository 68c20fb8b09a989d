//! Where the server may connect to on a user's behalf (data sources, notification
//! channels): a deny-list (`ONCALL_OUTBOUND_DENY`, by default the cloud metadata
//! services) and an optional allow-list (`ONCALL_OUTBOUND_ALLOW`).
//!
//! Each entry is an address range in CIDR notation (`169.254.0.0/16`,
//! `fd00:ec2::254/128`, a bare address), a host name (`metadata.google.internal`)
//! or a domain suffix (`.internal`: the domain and every name under it). Names are
//! checked as written in the URL; addresses are checked after resolution, on
//! every connection (so also after a redirect, and whatever a DNS answer changes
//! to later), by the resolver every outbound client uses ([`GuardedResolver`]).
//! An IP literal in a URL is checked before the request ([`check_url`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock, RwLock};

use crate::error::{Error, Result};

/// What `ONCALL_OUTBOUND_DENY` is when unset: link-local addresses (the AWS,
/// GCP, Azure and OpenStack metadata service at 169.254.169.254 among them), AWS's
/// IPv6 metadata address, Alibaba Cloud's metadata address and the metadata
/// services' host names.
pub const DEFAULT_DENY: &str = "169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200, \
     metadata, metadata.google.internal, metadata.goog, instance-data, \
     instance-data.ec2.internal, metadata.tencentyun.com";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    Net(IpAddr, u8),
    Host(String),
    Suffix(String),
}

impl Rule {
    fn parse(raw: &str, var: &str) -> Result<Rule> {
        let bad = |why: &str| Error::Config(format!("{var}: `{raw}` {why}"));
        let item = raw.trim().to_ascii_lowercase();
        if let Some(suffix) = item.strip_prefix("*.").or_else(|| item.strip_prefix('.')) {
            if suffix.is_empty() {
                return Err(bad("is not a domain"));
            }
            return Ok(Rule::Suffix(suffix.to_owned()));
        }
        let (addr, bits) = match item.split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (item.as_str(), None),
        };
        if let Ok(ip) = addr.trim_matches(['[', ']']).parse::<IpAddr>() {
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| bad("has a bad prefix length"))?,
            };
            return Ok(Rule::Net(canonical(ip), bits));
        }
        if bits.is_some()
            || item.is_empty()
            || !item
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(bad("is neither an address range nor a host name"));
        }
        Ok(Rule::Host(item.trim_end_matches('.').to_owned()))
    }

    fn matches_ip(&self, ip: IpAddr) -> bool {
        let Rule::Net(net, bits) = self else {
            return false;
        };
        match (canonical(ip), net) {
            (IpAddr::V4(a), IpAddr::V4(n)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*bits)).unwrap_or(0);
                u32::from(a) & mask == u32::from(*n) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(n)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*bits)).unwrap_or(0);
                u128::from(a) & mask == u128::from(*n) & mask
            }
            _ => false,
        }
    }

    fn matches_host(&self, host: &str) -> bool {
        match self {
            Rule::Host(h) => h == host,
            Rule::Suffix(s) => host == s || host.ends_with(&format!(".{s}")),
            Rule::Net(..) => host
                .trim_matches(['[', ']'])
                .parse::<IpAddr>()
                .is_ok_and(|ip| self.matches_ip(ip)),
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:169.254.169.254`) count as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn parse_list(raw: &str, var: &str) -> Result<Vec<Rule>> {
    raw.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| Rule::parse(s, var))
        .collect()
}

/// The deny- and allow-lists outbound connections are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundPolicy {
    deny: Vec<Rule>,
    allow: Option<Vec<Rule>>,
}

impl Default for OutboundPolicy {
    fn default() -> Self {
        OutboundPolicy {
            deny: parse_list(DEFAULT_DENY, "ONCALL_OUTBOUND_DENY").unwrap_or_default(),
            allow: None,
        }
    }
}

impl OutboundPolicy {
    /// A policy from the two variables' values: `deny` unset means
    /// [`DEFAULT_DENY`], `none` an empty deny-list; `allow` unset means anything
    /// not denied.
    pub fn parse(deny: Option<&str>, allow: Option<&str>) -> Result<Self> {
        let deny = match deny.map(str::trim) {
            None => return Self::parse(Some(DEFAULT_DENY), allow),
            Some(d) if d.eq_ignore_ascii_case("none") => Vec::new(),
            Some(d) => parse_list(d, "ONCALL_OUTBOUND_DENY")?,
        };
        let allow = allow
            .map(|a| parse_list(a, "ONCALL_OUTBOUND_ALLOW"))
            .transpose()?;
        Ok(OutboundPolicy { deny, allow })
    }

    /// Fails when `host` (as written in a URL: a name or an address literal) is
    /// denied, or an allow-list is set and neither names it nor, for a literal,
    /// covers it. A name not on the allow-list may still be allowed by the
    /// addresses it resolves to ([`OutboundPolicy::check_addr`]).
    pub fn check_host(&self, host: &str) -> Result<()> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if self.deny.iter().any(|r| r.matches_host(&host)) {
            return Err(denied(&host, "ONCALL_OUTBOUND_DENY"));
        }
        let literal = host.trim_matches(['[', ']']).parse::<IpAddr>().is_ok();
        if literal
            && let Some(allow) = &self.allow
            && !allow.iter().any(|r| r.matches_host(&host))
        {
            return Err(denied(&host, "ONCALL_OUTBOUND_ALLOW (not on it)"));
        }
        Ok(())
    }

    /// Fails when `ip`, resolved for `host`, is denied or (with an allow-list)
    /// neither it nor the host name is allowed.
    pub fn check_addr(&self, host: &str, ip: IpAddr) -> Result<()> {
        if self.deny.iter().any(|r| r.matches_ip(ip)) {
            return Err(denied(&format!("{host} ({ip})"), "ONCALL_OUTBOUND_DENY"));
        }
        if let Some(allow) = &self.allow {
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            if !allow
                .iter()
                .any(|r| r.matches_ip(ip) || r.matches_host(&host))
            {
                return Err(denied(
                    &format!("{host} ({ip})"),
                    "ONCALL_OUTBOUND_ALLOW (not on it)",
                ));
            }
        }
        Ok(())
    }
}

fn denied(what: &str, by: &str) -> Error {
    Error::invalid(
        "url",
        format!("connections to {what} are not allowed by {by}"),
    )
}

fn slot() -> &'static RwLock<Arc<OutboundPolicy>> {
    static POLICY: OnceLock<RwLock<Arc<OutboundPolicy>>> = OnceLock::new();
    POLICY.get_or_init(|| RwLock::new(Arc::new(OutboundPolicy::default())))
}

/// The process's policy (the default until [`install`] is called).
pub fn policy() -> Arc<OutboundPolicy> {
    slot().read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Makes `policy` the process's policy ([`crate::OnCall::open`] installs the
/// configured one).
pub fn install(policy: OutboundPolicy) {
    *slot().write().unwrap_or_else(|p| p.into_inner()) = Arc::new(policy);
}

/// Checks a URL's host as written (before any request).
pub fn check_url(url: &url::Url) -> Result<()> {
    match url.host_str() {
        Some(host) => policy().check_host(host),
        None => Err(Error::invalid("url", "must name a host")),
    }
}

/// The DNS resolver of every outbound client: the system's resolver, then every
/// address is checked against the policy; one denied address refuses the name.
#[derive(Debug, Clone, Default)]
pub struct GuardedResolver {
    /// A fixed policy; `None`: the process's policy at the time of the lookup.
    fixed: Option<Arc<OutboundPolicy>>,
}

impl GuardedResolver {
    /// A resolver checking against `policy` instead of the process's.
    pub fn with_policy(policy: OutboundPolicy) -> Self {
        GuardedResolver {
            fixed: Some(Arc::new(policy)),
        }
    }

    /// Resolves `host` and checks the addresses.
    pub async fn lookup(&self, host: &str) -> Result<Vec<SocketAddr>> {
        let policy = self.fixed.clone().unwrap_or_else(policy);
        policy.check_host(host)?;
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(|e| Error::Unavailable(format!("cannot resolve {host}: {e}")))?
            .collect();
        for a in &addrs {
            policy.check_addr(host, a.ip())?;
        }
        Ok(addrs)
    }
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = this.lookup(&host).await.map_err(|e| {
                Box::new(std::io::Error::other(e.to_string()))
                    as Box<dyn std::error::Error + Send + Sync>
            })?;
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A redirect policy for outbound clients: redirects are followed (at most 5)
/// only within the same origin (scheme, host and port), so credentials are never
/// carried to another server; a redirect elsewhere ends the request with the
/// redirect as the answer.
pub fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same = attempt.previous().last().is_some_and(|prev| {
            prev.scheme() == attempt.url().scheme()
                && prev.host_str() == attempt.url().host_str()
                && prev.port_or_known_default() == attempt.url().port_or_known_default()
        });
        if attempt.previous().len() > 5 {
            attempt.error("more than 5 redirects")
        } else if same {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_default_denies_metadata_services_only() {
        let p = OutboundPolicy::default();
        for denied in [
            "169.254.169.254",
            "metadata.google.internal",
            "METADATA.google.internal.",
            "[fd00:ec2::254]",
            "[::ffff:169.254.169.254]",
        ] {
            assert!(p.check_host(denied).is_err(), "{denied}");
        }
        for fine in ["127.0.0.1", "prometheus.example.com", "10.1.2.3", "[::1]"] {
            assert!(p.check_host(fine).is_ok(), "{fine}");
        }
        assert!(
            p.check_addr("x.example.com", "169.254.169.254".parse().unwrap())
                .is_err()
        );
        assert!(
            p.check_addr("x.example.com", "::ffff:169.254.1.1".parse().unwrap())
                .is_err()
        );
        assert!(
            p.check_addr("x.example.com", "10.0.0.1".parse().unwrap())
                .is_ok()
        );
    }

    #[test]
    fn lists_parse_and_allow_lists_restrict() {
        let p = OutboundPolicy::parse(
            Some("10.0.0.0/8, .corp"),
            Some("192.168.0.0/16, prom.example.com"),
        )
        .unwrap();
        assert!(p.check_host("db.corp").is_err());
        assert!(
            p.check_addr("a.example.com", "10.9.9.9".parse().unwrap())
                .is_err()
        );
        assert!(
            p.check_addr("prom.example.com", "172.16.0.1".parse().unwrap())
                .is_ok()
        );
        assert!(
            p.check_addr("else.example.com", "172.16.0.1".parse().unwrap())
                .is_err()
        );
        assert!(
            p.check_addr("else.example.com", "192.168.1.1".parse().unwrap())
                .is_ok()
        );
        assert!(
            p.check_host("172.16.0.1").is_err(),
            "a literal must be on the allow-list"
        );
        let none = OutboundPolicy::parse(Some("none"), None).unwrap();
        assert!(none.check_host("169.254.169.254").is_ok());
        for bad in ["10.0.0.0/33", "a b", "1.2.3.4/x", "."] {
            assert!(OutboundPolicy::parse(Some(bad), None).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn resolved_addresses_are_checked() {
        let r = GuardedResolver::with_policy(
            OutboundPolicy::parse(Some("127.0.0.0/8, ::1"), None).unwrap(),
        );
        let e = r.lookup("localhost").await.unwrap_err();
        assert!(e.to_string().contains("ONCALL_OUTBOUND_DENY"), "{e}");
        let open = GuardedResolver::with_policy(OutboundPolicy::parse(Some("none"), None).unwrap());
        assert!(!open.lookup("localhost").await.unwrap().is_empty());
    }
}
