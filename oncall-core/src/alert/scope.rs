//! Filling a [`Scope`] (and its confidences) from labels and from matched names.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr};

use super::{Confidence, Scope};

/// At most this many values per scope list; the rest are dropped.
pub const MAX_NAMES: usize = 32;

/// Label names read as services, in order of preference.
pub(crate) const SERVICE_LABELS: &[&str] = &[
    "service",
    "app",
    "app_kubernetes_io_name",
    "container",
    "deployment",
];
/// Label names read as pods.
pub(crate) const POD_LABELS: &[&str] = &["pod", "pod_name"];
/// Label names read as hosts.
pub(crate) const HOST_LABELS: &[&str] = &["host", "hostname", "node", "nodename"];

/// Which scope list a value goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Field {
    Namespace,
    Job,
    Service,
    Pod,
    Instance,
    Host,
    Ip,
}

impl Field {
    fn key(self) -> &'static str {
        match self {
            Field::Namespace => "namespace",
            Field::Job => "job",
            Field::Service => "services",
            Field::Pod => "pods",
            Field::Instance => "instances",
            Field::Host => "hosts",
            Field::Ip => "ips",
        }
    }
}

/// Collects scope values, deduplicated (case-insensitively) in order of arrival,
/// capped at [`MAX_NAMES`] per list. A field's confidence is the highest
/// confidence of any value put into it.
#[derive(Debug, Default)]
pub(crate) struct ScopeBuilder {
    pub scope: Scope,
    pub confidence: Confidence,
}

impl ScopeBuilder {
    /// Adds one value.
    pub fn add(&mut self, field: Field, value: &str, confidence: f64) {
        let value = value.trim();
        if value.is_empty() || value.len() > 253 {
            return;
        }
        let s = &mut self.scope;
        let added = match field {
            Field::Namespace => set_once(&mut s.namespace, value),
            Field::Job => set_once(&mut s.job, value),
            Field::Service => push(&mut s.services, value),
            Field::Pod => push(&mut s.pods, value),
            Field::Instance => push(&mut s.instances, value),
            Field::Host => push(&mut s.hosts, value),
            Field::Ip => push(&mut s.ips, value),
        };
        if added || self.has(field, value) {
            let c = self.confidence.entry(field.key().to_owned()).or_insert(0.0);
            if confidence > *c {
                *c = confidence;
            }
        }
    }

    fn has(&self, field: Field, value: &str) -> bool {
        let s = &self.scope;
        let eq = |v: &String| v.eq_ignore_ascii_case(value);
        match field {
            Field::Namespace => s.namespace.as_ref().is_some_and(eq),
            Field::Job => s.job.as_ref().is_some_and(eq),
            Field::Service => s.services.iter().any(eq),
            Field::Pod => s.pods.iter().any(eq),
            Field::Instance => s.instances.iter().any(eq),
            Field::Host => s.hosts.iter().any(eq),
            Field::Ip => s.ips.iter().any(eq),
        }
    }

    /// Adds a `host:port` instance, and its host part to hosts or IPs.
    pub fn add_instance(&mut self, instance: &str, confidence: f64) {
        self.add(Field::Instance, instance, confidence);
        let host = instance_host(instance);
        self.add_host_or_ip(host, confidence);
    }

    /// Adds a host name to hosts, or to IPs when it is an IP address.
    pub fn add_host_or_ip(&mut self, host: &str, confidence: f64) {
        if host.parse::<IpAddr>().is_ok() {
            self.add(Field::Ip, host, confidence);
        } else {
            self.add(Field::Host, host, confidence);
        }
    }

    /// Fills the scope from Prometheus-style labels (namespace, job, service/app/...,
    /// pod, instance, host/node).
    pub fn add_labels(&mut self, labels: &BTreeMap<String, String>, confidence: f64) {
        let get = |k: &str| labels.get(k).map(String::as_str).filter(|v| !v.is_empty());
        if let Some(ns) = get("namespace") {
            self.add(Field::Namespace, ns, confidence);
        }
        if let Some(job) = get("job") {
            self.add(Field::Job, job, confidence);
        }
        for key in SERVICE_LABELS {
            if let Some(v) = get(key) {
                self.add(Field::Service, v, confidence);
            }
        }
        for key in POD_LABELS {
            if let Some(v) = get(key) {
                self.add(Field::Pod, v, confidence);
            }
        }
        if let Some(v) = get("instance") {
            self.add_instance(v, confidence);
        }
        for key in HOST_LABELS {
            if let Some(v) = get(key) {
                self.add(Field::Host, v, confidence);
                if v.parse::<IpAddr>().is_ok() {
                    self.add(Field::Ip, v, confidence);
                }
            }
        }
        for key in ["ip", "ip_address", "address"] {
            if let Some(v) = get(key).filter(|v| v.parse::<IpAddr>().is_ok()) {
                self.add(Field::Ip, v, confidence);
            }
        }
    }
}

fn set_once(slot: &mut Option<String>, value: &str) -> bool {
    if slot.is_none() {
        *slot = Some(value.to_owned());
        true
    } else {
        false
    }
}

fn push(list: &mut Vec<String>, value: &str) -> bool {
    if list.len() >= MAX_NAMES || list.iter().any(|v| v.eq_ignore_ascii_case(value)) {
        return false;
    }
    list.push(value.to_owned());
    true
}

/// The host part of an instance: `web-1:9100` → `web-1`, `[::1]:9100` → `::1`,
/// `10.0.0.1` → `10.0.0.1`, `::1` → `::1`.
pub(crate) fn instance_host(instance: &str) -> &str {
    let s = instance.trim();
    if let Some(rest) = s.strip_prefix('[') {
        if let Some(end) = rest.find(']') {
            return &rest[..end];
        }
    }
    if s.parse::<Ipv6Addr>().is_ok() {
        return s;
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_hosts() {
        assert_eq!(instance_host("web-1:9100"), "web-1");
        assert_eq!(instance_host("10.0.0.1:9100"), "10.0.0.1");
        assert_eq!(instance_host("[fe80::1]:9100"), "fe80::1");
        assert_eq!(instance_host("fe80::1"), "fe80::1");
        assert_eq!(instance_host("web-1"), "web-1");
    }

    #[test]
    fn labels_fill_scope() {
        let labels: BTreeMap<String, String> = [
            ("namespace", "prod"),
            ("job", "node"),
            ("app", "payment"),
            ("container", "payment"),
            ("pod", "payment-7d9f8c6b5-x2z9q"),
            ("instance", "10.0.0.7:9100"),
            ("node", "worker-3"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut b = ScopeBuilder::default();
        b.add_labels(&labels, 1.0);
        let s = &b.scope;
        assert_eq!(s.namespace.as_deref(), Some("prod"));
        assert_eq!(s.job.as_deref(), Some("node"));
        assert_eq!(s.services, vec!["payment"]);
        assert_eq!(s.pods, vec!["payment-7d9f8c6b5-x2z9q"]);
        assert_eq!(s.instances, vec!["10.0.0.7:9100"]);
        assert_eq!(s.ips, vec!["10.0.0.7"]);
        assert_eq!(s.hosts, vec!["worker-3"]);
        assert_eq!(b.confidence.get("services"), Some(&1.0));
        // A weaker second source keeps the stronger confidence.
        b.add(Field::Service, "Payment", 0.6);
        assert_eq!(b.scope.services.len(), 1);
        assert_eq!(b.confidence.get("services"), Some(&1.0));
    }

    #[test]
    fn lists_are_capped() {
        let mut b = ScopeBuilder::default();
        for i in 0..100 {
            b.add(Field::Host, &format!("h{i}"), 0.5);
        }
        assert_eq!(b.scope.hosts.len(), MAX_NAMES);
    }
}
