//! Matching text against the names the data sources know ([`KnownNames`]).
//!
//! Text is cut into tokens — runs of ASCII letters, digits and `._-:[]%` — so
//! Chinese text (no spaces) and punctuation separate names. A token matches a
//! known name when it equals it, ignoring ASCII case; `name:port` also matches by
//! its `name`. Two derived matches, both weaker:
//!
//! * a known pod's **service prefix** (the pod name without its ReplicaSet hash and
//!   pod suffix, or without a StatefulSet ordinal: `payment-7d9f8c6b5-x2z9q` →
//!   `payment`) named in the text counts as that service;
//! * a token shaped like a pod of a **known service** (`payment-5c9d7b8f4-abcde`
//!   with `payment` known) counts as that service (the pod itself is not invented);
//! * a known instance's host named alone (`10.0.0.5` for `10.0.0.5:9100`) counts as
//!   that instance.
//!
//! Nothing that is not in [`KnownNames`] is ever added here.
//!
//! [`NameLookups`] gathers those names from the data sources around the alert's
//! time (metric sources' service/app/pod/namespace/node/instance labels, log
//! sources' service/pod/namespace fields): every label of every source at once,
//! each source bounded by its own timeout (at most
//! [`crate::engine::DISCOVERY_TIMEOUT`]), and the answer kept per source and
//! five-minute stretch of time for a short while, so a free-text alert waits at
//! most one source timeout for its names (and usually not at all).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::KnownNames;
use super::scope::{Field, ScopeBuilder, instance_host};
use crate::connectors::{Connector, DataSource, DataSourceKind, TimeRange};

/// How long a source's names are reused.
pub const NAMES_TTL: Duration = Duration::from_secs(60);
/// How long a failed or timed-out look-up is remembered (the source is not asked
/// again meanwhile; its names count as none).
pub const FAILED_NAMES_TTL: Duration = Duration::from_secs(15);
/// The timeout of a source whose own is not positive.
const DEFAULT_SOURCE_TIMEOUT: Duration = Duration::from_secs(10);

/// Which fields of a log source name what.
const LOG_NAME_LABELS: [(&str, Field); 3] = [
    ("service", Field::Service),
    ("pod", Field::Pod),
    ("namespace", Field::Namespace),
];

/// Look-ups are cached per stretch of this many seconds (the range asked is
/// widened to whole stretches, so alerts minutes apart share one look-up).
const RANGE_BUCKET_SECONDS: i64 = 300;

/// Which labels of a metric source name what, asked all at once.
const NAME_LABELS: [(&str, Field); 6] = [
    ("service", Field::Service),
    ("app", Field::Service),
    ("pod", Field::Pod),
    ("namespace", Field::Namespace),
    ("node", Field::Host),
    ("instance", Field::Instance),
];

/// What one source's look-up gave.
#[derive(Debug, Clone)]
pub(crate) struct SourceNames {
    /// The names found (empty when the look-up failed).
    pub names: KnownNames,
    /// Why some label could not be read, if one could not.
    pub error: Option<String>,
    /// Taken from the cache, not asked now.
    pub cached: bool,
}

/// Name look-ups of the metric sources, cached per source (shared by the clones
/// of an engine).
#[derive(Debug, Default)]
pub(crate) struct NameLookups {
    cache: Mutex<HashMap<(Uuid, i64, i64), CachedNames>>,
}

/// A cached look-up: when it was made, the source's `updated_at` then, the answer.
type CachedNames = (Instant, DateTime<Utc>, SourceNames);

impl NameLookups {
    /// One source's names in `range` (widened to whole five-minute stretches):
    /// from the cache while fresh (and the source unchanged), else every label at
    /// once, bounded by the source's timeout (at most
    /// [`crate::engine::DISCOVERY_TIMEOUT`]) in all.
    pub async fn names(
        &self,
        ds: &DataSource,
        conn: Arc<dyn Connector>,
        range: &TimeRange,
    ) -> SourceNames {
        let bucket = (
            range.start.timestamp().div_euclid(RANGE_BUCKET_SECONDS),
            (range.end.timestamp() + RANGE_BUCKET_SECONDS - 1).div_euclid(RANGE_BUCKET_SECONDS),
        );
        let key = (ds.id, bucket.0, bucket.1);
        if let Some(found) = self.cached(ds, key) {
            return found;
        }
        let timeout = u64::try_from(ds.timeout_ms)
            .ok()
            .filter(|ms| *ms > 0)
            .map_or(DEFAULT_SOURCE_TIMEOUT, Duration::from_millis)
            .min(crate::engine::DISCOVERY_TIMEOUT);
        let at = |b: i64| DateTime::<Utc>::from_timestamp(b * RANGE_BUCKET_SECONDS, 0);
        let range = match (at(bucket.0), at(bucket.1)) {
            (Some(start), Some(end)) => TimeRange::new(start, end),
            _ => Ok(*range),
        };
        let labels: &[(&str, Field)] = match ds.kind {
            DataSourceKind::Prometheus => &NAME_LABELS,
            DataSourceKind::Elk | DataSourceKind::Loki => &LOG_NAME_LABELS,
        };
        let asked = async {
            let range = range.map_err(|e| e.to_string())?;
            let asks = labels.iter().map(|(label, field)| {
                let (conn, range) = (conn.clone(), &range);
                async move { (*field, conn.label_values(label, None, range).await) }
            });
            let mut names = KnownNames::default();
            let mut error = None;
            for (field, answer) in futures_util::future::join_all(asks).await {
                match answer {
                    Ok(values) => match field {
                        Field::Service => names.services.extend(values),
                        Field::Pod => names.pods.extend(values),
                        Field::Namespace => names.namespaces.extend(values),
                        Field::Host => names.hosts.extend(values),
                        _ => names.instances.extend(values),
                    },
                    Err(e) => {
                        error.get_or_insert_with(|| e.to_string());
                    }
                }
            }
            Ok::<_, String>((names, error))
        };
        let found = match tokio::time::timeout(timeout, asked).await {
            Ok(Ok((names, error))) => SourceNames {
                names,
                error,
                cached: false,
            },
            Ok(Err(e)) => SourceNames {
                names: KnownNames::default(),
                error: Some(e),
                cached: false,
            },
            Err(_) => SourceNames {
                names: KnownNames::default(),
                error: Some(format!(
                    "no answer within {} ms (the data source's timeout)",
                    timeout.as_millis()
                )),
                cached: false,
            },
        };
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|_, (at, _, f)| at.elapsed() < ttl(f));
            cache.insert(key, (Instant::now(), ds.updated_at, found.clone()));
        }
        found
    }

    fn cached(&self, ds: &DataSource, key: (Uuid, i64, i64)) -> Option<SourceNames> {
        let cache = self.cache.lock().ok()?;
        let (at, updated_at, found) = cache.get(&key)?;
        (*updated_at == ds.updated_at && at.elapsed() < ttl(found)).then(|| SourceNames {
            cached: true,
            ..found.clone()
        })
    }
}

fn ttl(found: &SourceNames) -> Duration {
    let failed = found.error.is_some() && found.names == KnownNames::default();
    if failed { FAILED_NAMES_TTL } else { NAMES_TTL }
}

/// Confidence of a name matched exactly.
pub const EXACT: f64 = 0.6;
/// Confidence of a name matched through a derived form.
pub const DERIVED: f64 = 0.5;

/// Known names by lowercase form.
#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    map: HashMap<String, Vec<(Field, String, f64)>>,
}

impl NameIndex {
    /// Indexes the known names.
    pub fn new(known: &KnownNames) -> Self {
        let mut ix = NameIndex::default();
        for s in &known.services {
            ix.insert(s, Field::Service, s, EXACT);
        }
        for p in &known.pods {
            ix.insert(p, Field::Pod, p, EXACT);
            let prefix = pod_service_prefix(p);
            if prefix != p.as_str() {
                ix.insert(prefix, Field::Service, prefix, DERIVED);
            }
        }
        for h in &known.hosts {
            ix.insert(h, Field::Host, h, EXACT);
        }
        for i in &known.instances {
            ix.insert(i, Field::Instance, i, EXACT);
            let host = instance_host(i);
            if host != i.as_str() {
                ix.insert(host, Field::Instance, i, DERIVED);
            }
        }
        for n in &known.namespaces {
            ix.insert(n, Field::Namespace, n, EXACT);
        }
        ix
    }

    fn insert(&mut self, key: &str, field: Field, value: &str, confidence: f64) {
        let key = key.trim();
        if key.is_empty() {
            return;
        }
        let entry = self.map.entry(key.to_ascii_lowercase()).or_default();
        if !entry.iter().any(|(f, v, _)| *f == field && v == value) {
            entry.push((field, value.to_owned(), confidence));
        }
    }

    /// True when nothing is known.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Matches one token; adds what it names to `scope`, scaled by `weight` (1 for
    /// text alerts, less for annotations of structured ones). True if it matched.
    pub fn match_token(&self, token: &str, scope: &mut ScopeBuilder, weight: f64) -> bool {
        if self.map.is_empty() || token.is_empty() {
            return false;
        }
        let lower: Cow<'_, str> = if token.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(token.to_ascii_lowercase())
        } else {
            Cow::Borrowed(token)
        };
        let lower = lower.as_ref();
        let mut matched = self.apply(lower, scope, weight);
        if !matched {
            let host = instance_host(lower);
            if host != lower {
                matched = self.apply(host, scope, weight);
            }
        }
        if !matched {
            // A pod of a known service: add the service only.
            let prefix = pod_service_prefix(lower);
            if prefix != lower {
                if let Some(entries) = self.map.get(prefix) {
                    for (field, value, c) in entries {
                        if *field == Field::Service {
                            scope.add(Field::Service, value, c.min(DERIVED) * weight);
                            matched = true;
                        }
                    }
                }
            }
        }
        matched
    }

    fn apply(&self, key: &str, scope: &mut ScopeBuilder, weight: f64) -> bool {
        let Some(entries) = self.map.get(key) else {
            return false;
        };
        for (field, value, c) in entries {
            let conf = c * weight;
            match field {
                Field::Instance => scope.add_instance(value, conf),
                Field::Host => {
                    // Known hosts stay hosts even when they are addresses (a `node`
                    // label of `10.0.0.7`), as with labels.
                    scope.add(Field::Host, value, conf);
                    if value.parse::<std::net::IpAddr>().is_ok() {
                        scope.add(Field::Ip, value, conf);
                    }
                }
                f => scope.add(*f, value, conf),
            }
        }
        true
    }
}

/// Calls `f` with every token of `text` (see the module doc), with its byte range.
pub(crate) fn tokens(text: &str, mut f: impl FnMut(usize, &str)) {
    let b = text.as_bytes();
    let is_tok = |c: u8| {
        c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b':' | b'[' | b']' | b'%')
    };
    let mut i = 0;
    while i < b.len() {
        if !is_tok(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_tok(b[i]) {
            i += 1;
        }
        // Trim punctuation that ends sentences or starts lists.
        let mut s = start;
        let mut e = i;
        while e > s && matches!(b[e - 1], b'.' | b':' | b'-' | b'_') {
            // Keep `::` of IPv6 addresses such as `fe80::`.
            if b[e - 1] == b':' && e - s >= 2 && b[e - 2] == b':' {
                break;
            }
            e -= 1;
        }
        while s < e && matches!(b[s], b'.' | b'-' | b'_') {
            s += 1;
        }
        if s < e {
            f(s, &text[s..e]);
        }
    }
}

/// The service part of a Kubernetes pod name: drops a trailing 5-character pod
/// suffix and a ReplicaSet hash before it, or a StatefulSet ordinal.
/// `ts-order-service-866bd68c97-xcqfx` → `ts-order-service`, `redis-0` → `redis`.
/// Names that do not look like pods come back unchanged.
pub(crate) fn pod_service_prefix(pod: &str) -> &str {
    let Some((head, last)) = pod.rsplit_once('-') else {
        return pod;
    };
    if head.is_empty() {
        return pod;
    }
    let lower_alnum = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    if !last.is_empty() && last.len() <= 3 && last.bytes().all(|b| b.is_ascii_digit()) {
        return head; // StatefulSet ordinal
    }
    if last.len() != 5 || !lower_alnum(last) {
        return pod;
    }
    if let Some((head2, hash)) = head.rsplit_once('-') {
        let has_digit = hash.bytes().any(|b| b.is_ascii_digit());
        if !head2.is_empty() && (6..=10).contains(&hash.len()) && lower_alnum(hash) && has_digit {
            return head2;
        }
    }
    // DaemonSet pods: `<name>-<5 chars>`; require a digit so `payment-gate` stays.
    if last.bytes().any(|b| b.is_ascii_digit()) {
        return head;
    }
    pod
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> KnownNames {
        KnownNames {
            services: vec!["payment".into(), "Order-Service".into()],
            pods: vec!["ts-travel-service-5d8b9c7f6d-abcde".into()],
            hosts: vec!["worker-3".into()],
            instances: vec!["10.0.0.5:9100".into()],
            namespaces: vec!["prod".into()],
        }
    }

    fn scope_of(text: &str) -> super::super::Scope {
        let ix = NameIndex::new(&known());
        let mut b = ScopeBuilder::default();
        tokens(text, |_, t| {
            ix.match_token(t, &mut b, 1.0);
        });
        b.scope
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            pod_service_prefix("ts-order-service-866bd68c97-xcqfx"),
            "ts-order-service"
        );
        assert_eq!(pod_service_prefix("redis-0"), "redis");
        assert_eq!(pod_service_prefix("node-exporter-x7k2p"), "node-exporter");
        assert_eq!(pod_service_prefix("payment-gate"), "payment-gate");
        assert_eq!(pod_service_prefix("payment"), "payment");
    }

    #[test]
    fn tokenizer_splits_cjk_and_punctuation() {
        let mut got = vec![];
        tokens(
            "支付服务payment报错, host=web-1. 见 10.0.0.1:9100。fe80::",
            |_, t| got.push(t.to_string()),
        );
        assert_eq!(
            got,
            vec!["payment", "host", "web-1", "10.0.0.1:9100", "fe80::"]
        );
    }

    #[test]
    fn matches_whole_tokens_only() {
        let s = scope_of("PAYMENT is slow; payments and prepayment are not; order-service too");
        assert_eq!(s.services, vec!["payment", "Order-Service"]);
        let s = scope_of("ts-travel-service 超时, worker-3 与 10.0.0.5 异常, ns prod");
        assert_eq!(s.services, vec!["ts-travel-service"]);
        assert_eq!(s.hosts, vec!["worker-3"]);
        assert_eq!(s.instances, vec!["10.0.0.5:9100"]);
        assert_eq!(s.ips, vec!["10.0.0.5"]);
        assert_eq!(s.namespace.as_deref(), Some("prod"));
        // A pod of a known service names the service, not an invented pod.
        let s = scope_of("payment-5c9d7b8f4-k2j4x restarted");
        assert_eq!(s.services, vec!["payment"]);
        assert!(s.pods.is_empty());
        // Unknown words never become names.
        let s = scope_of("inventory gateway checkout down");
        assert_eq!(s, Default::default());
    }
}
