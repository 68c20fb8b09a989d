//! Free-text alerts, Chinese or English: what an engineer pastes.
//!
//! One pass each, by hand (no regex), so a megabyte of text parses in well under a
//! second even unoptimised:
//!
//! * **time** — see [`super::time`]; no time means `now` (confidence 0.3);
//! * **label pairs** — `key=value`, `key="quoted value"`, and `key: value` /
//!   `key：value` when `key` is one of [`COLON_KEYS`] (so prose such as `Error: x` is
//!   not a label), plus Chinese keys (`服务=payment`, `命名空间：prod`, see
//!   [`CHINESE_KEYS`]). Keys are lowercased; the first value of a key wins; at most
//!   [`MAX_LABELS`]. They fill the scope like a structured alert's labels
//!   (confidence 0.8);
//! * **addresses** — IPv4 and IPv6 addresses (0.8), `host:port` / `[v6]:port`
//!   instances (0.8; the host part must contain a dot, a digit or a dash, so
//!   `Error:500` is not one), fully qualified host names ending in a common suffix
//!   (`db-1.prod.internal`, `api.example.com`; 0.6), and a name right after the word
//!   `host`/`node`/`server`/`主机`/`节点`/`服务器`/`机器` when it has a digit, dash or dot
//!   (`主机 web-01`; 0.6);
//! * **known names** — see [`super::names`]: services, pods, hosts, instances and
//!   namespaces only when [`KnownNames`] has them (0.6, derived matches 0.5);
//! * **severity** — see [`super::severity`]: the most urgent word found (codes such
//!   as `P1`/`sev2` 0.85, words 0.6).
//!
//! The alert's name is the `alertname` label if the text has one, else its first
//! line (at most [`NAME_CHARS`] characters); the summary is the text, trimmed, cut at
//! [`SUMMARY_CHARS`] characters. Text alerts are always `firing`.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Utc};

use super::fingerprint::{labels_fingerprint, text_fingerprint};
use super::names::{NameIndex, tokens};
use super::scope::{Field, ScopeBuilder};
use super::severity::{self, CHINESE_TEXT_WORDS};
use super::time::find_time;
use super::{Alert, AlertFormat, Confidence, KnownNames, Language};
use crate::error::{Error, Result};
use crate::tickets::Severity;

/// Keys accepted in `key: value` form.
pub const COLON_KEYS: &[&str] = &[
    "alertname",
    "app",
    "cluster",
    "container",
    "deployment",
    "env",
    "environment",
    "host",
    "hostname",
    "instance",
    "ip",
    "job",
    "namespace",
    "node",
    "nodename",
    "pod",
    "priority",
    "region",
    "service",
    "severity",
    "team",
    "zone",
];

/// Chinese keys and the label each stands for (longest first where one ends another).
pub const CHINESE_KEYS: &[(&str, &str)] = &[
    ("命名空间", "namespace"),
    ("告警名称", "alertname"),
    ("告警级别", "severity"),
    ("告警等级", "severity"),
    ("级别", "severity"),
    ("等级", "severity"),
    ("服务", "service"),
    ("应用", "app"),
    ("主机", "host"),
    ("节点", "node"),
    ("实例", "instance"),
    ("容器", "container"),
    ("集群", "cluster"),
    ("环境", "env"),
    ("任务", "job"),
];

/// At most this many label pairs are read from text.
pub const MAX_LABELS: usize = 64;
/// Longest label value read from text, in bytes.
const MAX_VALUE: usize = 256;
/// The name of a text alert is cut at this many characters.
pub const NAME_CHARS: usize = 80;
/// The summary of a text alert is cut at this many characters.
pub const SUMMARY_CHARS: usize = 500;

/// Suffixes that make a dotted lowercase word a host name.
const HOST_SUFFIXES: &[&str] = &[
    "com",
    "net",
    "org",
    "io",
    "cn",
    "local",
    "internal",
    "lan",
    "svc",
    "corp",
    "intra",
    "intranet",
    "localdomain",
    "cloud",
    "edu",
    "gov",
];

/// Words after which a name is a host.
const HOST_WORDS: &[&str] = &["host", "hostname", "node", "server", "machine"];
const CHINESE_HOST_WORDS: &[&str] = &["主机", "节点", "服务器", "机器"];

/// Parses a free-text alert.
pub(crate) fn parse_text(text: &str, known: &KnownNames, now: DateTime<Utc>) -> Result<Alert> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(Error::invalid("alert", "the alert text is empty"));
    }
    let mut confidence = Confidence::new();

    let labels = label_pairs(trimmed);
    let mut scope = ScopeBuilder::default();
    scope.add_labels(&labels, 0.8);

    let index = NameIndex::new(known);
    let mut sev: Option<(Severity, f64)> = None;
    let mut consider = |s: Severity, c: f64| {
        if sev.is_none_or(|(old, oc)| s < old || (s == old && c > oc)) {
            sev = Some((s, c));
        }
    };
    if let Some(s) = labels
        .get("severity")
        .or_else(|| labels.get("priority"))
        .and_then(|v| severity::from_label_value(v))
    {
        consider(s, 0.8);
    }

    let mut prev_end = 0usize;
    let mut prev_host_word = false;
    tokens(trimmed, |start, tok| {
        let gap = &trimmed[prev_end..start];
        let after_host_word =
            (prev_host_word && gap.bytes().all(|b| matches!(b, b' ' | b'\t' | b':'))) || {
                let g = gap.trim_end_matches([' ', ':', '：', '\t']);
                CHINESE_HOST_WORDS.iter().any(|w| g.ends_with(w))
            };
        // The host of a link (`https://grafana.example.com/...`) is not what the
        // alert is about.
        if !gap.ends_with("//") {
            classify(tok, after_host_word, &mut scope);
        }
        index.match_token(tok, &mut scope, 1.0);
        let bare = tok.trim_matches(['[', ']']);
        if bare.len() <= 13 {
            let lower = bare.to_ascii_lowercase();
            if let Some((s, c)) = severity::from_text_word(&lower) {
                consider(s, c);
            }
            prev_host_word = HOST_WORDS.contains(&lower.as_str());
        } else {
            prev_host_word = false;
        }
        prev_end = start + tok.len();
    });
    for (word, s) in CHINESE_TEXT_WORDS {
        let found = trimmed
            .match_indices(word)
            // `告警告知` holds `警告` across two words; `告警` (alert) is not a severity.
            .any(|(pos, _)| !(*word == "警告" && trimmed[..pos].ends_with('告')));
        if found {
            consider(*s, 0.6);
        }
    }
    if let Some((_, c)) = sev {
        confidence.insert("severity".into(), c);
    }

    let (starts_at, c) = match find_time(trimmed, now) {
        Some(t) => (t.at, t.confidence),
        None => (now, 0.3),
    };
    confidence.insert("starts_at".into(), c);

    let (name, c) = match labels.get("alertname") {
        Some(n) => (n.clone(), 0.8),
        None => (first_line_name(trimmed), 0.5),
    };
    confidence.insert("name".into(), c);
    confidence.insert("status".into(), 0.5);
    if !labels.is_empty() {
        confidence.insert("labels".into(), 0.8);
    }
    let fingerprint = if labels.is_empty() {
        text_fingerprint(trimmed)
    } else {
        labels_fingerprint(&labels)
    };
    confidence.extend(scope.confidence);
    Ok(Alert {
        format: AlertFormat::Text,
        name,
        status: "firing".into(),
        severity: sev.map(|s| s.0),
        starts_at,
        ends_at: None,
        labels,
        annotations: BTreeMap::new(),
        scope: scope.scope,
        summary: cut(trimmed, SUMMARY_CHARS),
        fingerprint,
        generator_url: None,
        language: language_of(trimmed),
        alert_count: 1,
        confidence,
    })
}

/// `Zh` when the text has CJK ideographs, else `En`.
pub(crate) fn language_of(text: &str) -> Language {
    if text.chars().any(is_cjk) {
        Language::Zh
    } else {
        Language::En
    }
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF)
}

/// Cuts `s` at `max` characters, marking the cut with `…`.
pub(crate) fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", s[..i].trim_end()),
        None => s.to_owned(),
    }
}

fn first_line_name(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(text);
    cut(line, NAME_CHARS)
}

/// Adds what a token is by its shape: an IP, an instance, a host name.
fn classify(tok: &str, after_host_word: bool, scope: &mut ScopeBuilder) {
    if tok.parse::<Ipv4Addr>().is_ok() {
        scope.add(Field::Ip, tok, 0.8);
        return;
    }
    if let Some(rest) = tok.strip_prefix('[') {
        if let Some((addr, port)) = rest.split_once("]:") {
            if addr.parse::<Ipv6Addr>().is_ok() && is_port(port) {
                scope.add_instance(tok, 0.8);
            }
        }
        return;
    }
    if tok.contains("::") || tok.bytes().filter(|&b| b == b':').count() >= 7 {
        if tok.len() > 2 && tok.parse::<Ipv6Addr>().is_ok() {
            scope.add(Field::Ip, tok, 0.8);
        }
        return;
    }
    if let Some((host, port)) = tok.rsplit_once(':') {
        if is_port(port)
            && (host.parse::<Ipv4Addr>().is_ok()
                || (is_hostname(host)
                    && (host == "localhost"
                        || host
                            .bytes()
                            .any(|b| b == b'.' || b == b'-' || b.is_ascii_digit()))))
        {
            scope.add_instance(tok, 0.8);
        }
        return;
    }
    if is_fqdn(tok) {
        scope.add(Field::Host, tok, 0.6);
        return;
    }
    if after_host_word
        && is_hostname(tok)
        && tok
            .bytes()
            .any(|b| b == b'.' || b == b'-' || b.is_ascii_digit())
    {
        scope.add(Field::Host, tok, 0.6);
    }
}

fn is_port(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 5
        && p.bytes().all(|b| b.is_ascii_digit())
        && p.parse::<u16>().is_ok_and(|n| n > 0)
}

/// Letters, digits, `-` and `.`, labels neither empty nor starting or ending with
/// `-`, and at least one letter.
fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes().any(|b| b.is_ascii_alphabetic())
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// A lowercase dotted name ending in one of [`HOST_SUFFIXES`].
fn is_fqdn(s: &str) -> bool {
    if !s.contains('.') || s.bytes().any(|b| b.is_ascii_uppercase()) || !is_hostname(s) {
        return false;
    }
    s.rsplit('.')
        .next()
        .is_some_and(|last| HOST_SUFFIXES.contains(&last))
}

/// Label pairs found in the text (see the module doc).
pub(crate) fn label_pairs(text: &str) -> BTreeMap<String, String> {
    let b = text.as_bytes();
    let mut labels = BTreeMap::new();
    let mut i = 0;
    while i < b.len() && labels.len() < MAX_LABELS {
        let c = b[i];
        // `=`, `:` or the full-width colon `：` (EF BC 9A).
        let (sep_len, colon) = match c {
            b'=' => (1, false),
            b':' => (1, true),
            0xEF if b.get(i + 1) == Some(&0xBC) && b.get(i + 2) == Some(&0x9A) => (3, true),
            _ => {
                i += 1;
                continue;
            }
        };
        if !colon
            && (b.get(i + 1) == Some(&b'=')
                || (i > 0 && matches!(b[i - 1], b'!' | b'<' | b'>' | b'=')))
        {
            i += sep_len;
            continue;
        }
        let Some(key) = key_before(text, i, colon) else {
            i += sep_len;
            continue;
        };
        let Some((value, end)) = value_after(text, i + sep_len) else {
            i += sep_len;
            continue;
        };
        labels.entry(key).or_insert(value);
        i = end.max(i + sep_len);
    }
    labels
}

/// The label key that ends right before the separator at `sep`.
fn key_before(text: &str, sep: usize, colon: bool) -> Option<String> {
    let b = text.as_bytes();
    let is_key = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-');
    let mut start = sep;
    while start > 0 && is_key(b[start - 1]) && sep - start <= 64 {
        start -= 1;
    }
    if start == sep {
        let head = text.get(..sep)?;
        return CHINESE_KEYS
            .iter()
            .find(|(zh, _)| head.ends_with(zh))
            .map(|(_, en)| (*en).to_owned());
    }
    if sep - start > 64 {
        return None;
    }
    // Query strings of URLs are not labels.
    if start > 0 && matches!(b[start - 1], b'?' | b'&' | b'/' | b'%') {
        return None;
    }
    let key = text.get(start..sep)?.to_ascii_lowercase();
    let first = key.as_bytes().first()?;
    if !(first.is_ascii_alphabetic() || *first == b'_') {
        return None;
    }
    if colon && !COLON_KEYS.contains(&key.as_str()) {
        return None;
    }
    Some(key)
}

/// The value after a separator ending at `from`: (value, end).
fn value_after(text: &str, from: usize) -> Option<(String, usize)> {
    let b = text.as_bytes();
    let mut i = from;
    while i < b.len() && b[i] == b' ' && i - from < 4 {
        i += 1;
    }
    let quote = match b.get(i) {
        Some(&q @ (b'"' | b'\'' | b'`')) => Some(q),
        _ => None,
    };
    if let Some(q) = quote {
        let start = i + 1;
        let rest = b.get(start..)?;
        let len = rest
            .iter()
            .take(MAX_VALUE)
            .position(|&c| c == q || c == b'\n')?;
        if rest.get(len) != Some(&q) {
            return None;
        }
        let v = text.get(start..start + len)?.trim();
        return (!v.is_empty()).then(|| (v.to_owned(), start + len + 1));
    }
    let start = i;
    while i < b.len()
        && i - start < MAX_VALUE
        && (b[i].is_ascii_alphanumeric()
            || matches!(
                b[i],
                b'.' | b'_' | b'-' | b':' | b'/' | b'@' | b'%' | b'+' | b'[' | b']'
            ))
    {
        i += 1;
    }
    let v = text.get(start..i)?.trim_end_matches(['.', ':', ',', '-']);
    (!v.is_empty()).then(|| (v.to_owned(), i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    fn known() -> KnownNames {
        KnownNames {
            services: vec!["payment".into(), "order".into()],
            pods: vec!["order-6f7b9c8d5-q8w2e".into()],
            hosts: vec!["node-7".into()],
            instances: vec!["10.1.2.3:9100".into()],
            namespaces: vec!["prod".into()],
        }
    }

    fn parse(text: &str) -> Alert {
        parse_text(text, &known(), now()).unwrap()
    }

    #[test]
    fn chinese_alert() {
        let a = parse(
            "【P1】2026-11-24 10:32:05 支付服务 payment 响应超时，错误率 35%，\
             主机 web-01 (10.0.3.7) CPU 使用率 95%，namespace: prod",
        );
        assert_eq!(a.format, AlertFormat::Text);
        assert_eq!(a.language, Language::Zh);
        assert_eq!(a.severity, Some(Severity::P1));
        assert_eq!(
            a.starts_at,
            Utc.with_ymd_and_hms(2026, 11, 24, 10, 32, 5).unwrap()
        );
        assert_eq!(a.confidence["starts_at"], 0.8);
        assert_eq!(a.scope.services, vec!["payment"]);
        assert_eq!(a.scope.hosts, vec!["web-01"]);
        assert_eq!(a.scope.ips, vec!["10.0.3.7"]);
        assert_eq!(a.scope.namespace.as_deref(), Some("prod"));
        assert_eq!(a.labels.get("namespace").map(String::as_str), Some("prod"));
        assert_eq!(a.confidence["namespace"], 0.8);
        assert_eq!(a.confidence["services"], 0.6);
        assert_eq!(a.status, "firing");
        assert!(a.name.starts_with("【P1】2026-11-24"));
    }

    #[test]
    fn english_alert() {
        let a = parse(
            "CRITICAL: order-6f7b9c8d5-q8w2e OOMKilled 5 minutes ago on node-7, \
             instance 10.1.2.3:9100, see db-1.prod.internal and [fe80::1]:9090",
        );
        assert_eq!(a.language, Language::En);
        assert_eq!(a.severity, Some(Severity::P1));
        assert_eq!(a.confidence["severity"], 0.6);
        assert_eq!(a.starts_at, now() - Duration::minutes(5));
        assert_eq!(a.confidence["starts_at"], 0.7);
        assert_eq!(a.scope.pods, vec!["order-6f7b9c8d5-q8w2e"]);
        assert!(a.scope.services.is_empty(), "{:?}", a.scope.services);
        assert_eq!(a.scope.hosts, vec!["node-7", "db-1.prod.internal"]);
        assert_eq!(a.scope.instances, vec!["10.1.2.3:9100", "[fe80::1]:9090"]);
        assert_eq!(a.scope.ips, vec!["10.1.2.3", "fe80::1"]);
        // Hosts of links are not scope.
        let a = parse("see https://runbooks.example.com/x and http://10.9.9.9:3000/d");
        assert!(a.scope.hosts.is_empty() && a.scope.ips.is_empty() && a.scope.instances.is_empty());
    }

    #[test]
    fn service_prefix_of_known_pod() {
        let a = parse("order is returning 500s");
        assert_eq!(a.scope.services, vec!["order"]);
        assert_eq!(a.confidence["services"], 0.6);
    }

    #[test]
    fn label_pairs_and_unknown_words() {
        let a = parse(
            "service=checkout namespace=\"shop\" severity=warning env: staging \
             Error: timeout http://x/graph?g0.expr=up&g0.tab=1 a==b",
        );
        assert_eq!(
            a.labels,
            [
                ("env", "staging"),
                ("namespace", "shop"),
                ("service", "checkout"),
                ("severity", "warning"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
        );
        assert_eq!(a.severity, Some(Severity::P2));
        // `checkout` came from a label, not from guessing.
        assert_eq!(a.scope.services, vec!["checkout"]);
        assert_eq!(a.scope.namespace.as_deref(), Some("shop"));
        // Unknown words are not names.
        let a = parse("gateway inventory checkout are slow");
        assert!(a.scope.services.is_empty());
        assert!(a.scope.hosts.is_empty());
        assert!(a.labels.is_empty());
    }

    #[test]
    fn chinese_keys_and_words() {
        let a = parse("服务：支付 命名空间=prod 主机=node-7 告警级别：严重 半小时前开始告警");
        assert_eq!(a.labels.get("service").map(String::as_str), None);
        assert_eq!(a.labels.get("namespace").map(String::as_str), Some("prod"));
        assert_eq!(a.labels.get("host").map(String::as_str), Some("node-7"));
        assert_eq!(a.severity, Some(Severity::P1));
        assert_eq!(a.starts_at, now() - Duration::minutes(30));
        let a = parse("服务=\"支付\" 紧急：数据库宕机 刚刚");
        assert_eq!(a.labels.get("service").map(String::as_str), Some("支付"));
        assert_eq!(a.severity, Some(Severity::P0));
        assert_eq!(a.starts_at, now());
        // `告警` is "alert", and `告警告知` holds no `警告`.
        let a = parse("触发告警告知值班人员");
        assert_eq!(a.severity, None);
    }

    #[test]
    fn severity_codes() {
        assert_eq!(parse("[P0] site down").severity, Some(Severity::P0));
        assert_eq!(parse("SEV-2 latency").severity, Some(Severity::P2));
        assert_eq!(parse("p3 notice, disk 70%").severity, Some(Severity::P3));
        // The most urgent word wins.
        assert_eq!(parse("warning then critical").severity, Some(Severity::P1));
        assert_eq!(parse("high latency, low traffic").severity, None);
    }

    #[test]
    fn no_time_means_now() {
        let a = parse("payment is down");
        assert_eq!(a.starts_at, now());
        assert_eq!(a.confidence["starts_at"], 0.3);
        assert_eq!(a.name, "payment is down");
    }

    #[test]
    fn empty_text_is_invalid() {
        for t in ["", "   \n\t "] {
            let e = parse_text(t, &known(), now()).unwrap_err();
            assert_eq!(e.code(), crate::ErrorCode::Invalid);
            assert!(e.to_string().contains("empty"), "{e}");
        }
    }

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(
            parse("disk full on web-1").fingerprint,
            parse(" disk  full on web-1\n").fingerprint
        );
        assert_ne!(
            parse("disk full on web-1").fingerprint,
            parse("disk full on web-2").fingerprint
        );
        assert_eq!(
            parse("service=a ns=b x").fingerprint,
            parse("ns=b service=a y").fingerprint
        );
    }

    #[test]
    fn long_text_is_cut_and_capped() {
        let line = "payment 10.0.0.1 service=x host-1.example.com 5 分钟前\n";
        let mut text = String::new();
        let mut n = 0;
        while text.len() < (1 << 20) {
            text.push_str(line);
            text.push_str(&format!(
                "10.9.{}.{} h{n}.svc k{n}=v ",
                n / 250 % 250,
                n % 250
            ));
            n += 1;
        }
        let started = std::time::Instant::now();
        let a = parse_text(&text, &known(), now()).unwrap();
        let took = started.elapsed();
        // Not a benchmark: a guard against quadratic scans (which take minutes on
        // a megabyte), loose enough for a debug build on a loaded machine.
        assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
        assert!(a.summary.chars().count() <= SUMMARY_CHARS + 1);
        assert!(a.scope.ips.len() <= super::super::scope::MAX_NAMES);
        assert!(a.scope.hosts.len() <= super::super::scope::MAX_NAMES);
        assert!(a.labels.len() <= MAX_LABELS);
        // Label pairs fill the scope before names are matched.
        assert_eq!(a.scope.services, vec!["x", "payment"]);
    }
}
