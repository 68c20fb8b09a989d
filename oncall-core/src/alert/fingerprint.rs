//! A stable fingerprint of a label set.
//!
//! The hash is 64-bit FNV-1a over the label names in sorted order, each name and
//! each value followed by the byte `0xff`, printed as 16 lowercase hex digits. This
//! is the same scheme as Prometheus' `model.LabelSet.Fingerprint`, which
//! Alertmanager sends as `fingerprint`, so an alert we hash ourselves gets the
//! fingerprint Alertmanager would have given it. It does not depend on the Rust
//! version or the process (unlike `std::collections::hash_map::DefaultHasher`).

use std::collections::BTreeMap;

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;
const SEPARATOR: u8 = 0xff;

/// 64-bit FNV-1a, fed incrementally.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(OFFSET)
    }
}

impl Fnv1a {
    /// Feeds bytes.
    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(PRIME);
        }
    }

    /// The hash as 16 lowercase hex digits.
    pub(crate) fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// The stable fingerprint of `labels`: FNV-1a 64 of the sorted `name 0xff value 0xff`
/// sequence, as 16 hex digits (Prometheus' label-set fingerprint). An empty label
/// set gives the FNV offset basis `cbf29ce484222325`, as in Prometheus.
pub fn labels_fingerprint(labels: &BTreeMap<String, String>) -> String {
    let mut h = Fnv1a::default();
    for (name, value) in labels {
        h.write(name.as_bytes());
        h.write(&[SEPARATOR]);
        h.write(value.as_bytes());
        h.write(&[SEPARATOR]);
    }
    h.hex()
}

/// The fingerprint of a text alert: FNV-1a 64 of its words joined by one space, so
/// re-wrapped or re-indented copies of the same text hash alike.
pub(crate) fn text_fingerprint(text: &str) -> String {
    let mut h = Fnv1a::default();
    for (i, word) in text.split_whitespace().enumerate() {
        if i > 0 {
            h.write(b" ");
        }
        h.write(word.as_bytes());
    }
    h.hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn fnv1a_known_vectors() {
        // Published FNV-1a 64 test vectors.
        let mut h = Fnv1a::default();
        h.write(b"");
        assert_eq!(h.hex(), "cbf29ce484222325");
        let mut h = Fnv1a::default();
        h.write(b"a");
        assert_eq!(h.hex(), "af63dc4c8601ec8c");
        let mut h = Fnv1a::default();
        h.write(b"foobar");
        assert_eq!(h.hex(), "85944171f73967e8");
    }

    #[test]
    fn matches_alertmanager_fingerprints() {
        // Label sets and fingerprints from Alertmanager's `template/template_test.go`.
        let l = labels(&[("severity", "warning"), ("job", "foo")]);
        assert_eq!(labels_fingerprint(&l), "9266ef3da838ad95");
        let l = labels(&[("severity", "critical"), ("job", "foo")]);
        assert_eq!(labels_fingerprint(&l), "3b15fd163d36582e");
    }

    #[test]
    fn stable_and_order_independent() {
        let a = labels(&[("a", "1"), ("b", "2")]);
        let b = labels(&[("b", "2"), ("a", "1")]);
        assert_eq!(labels_fingerprint(&a), labels_fingerprint(&b));
        // Pinned: changing the scheme would change stored fingerprints.
        assert_eq!(text_fingerprint("disk full"), "46ab161881a7d411");
        assert_ne!(
            labels_fingerprint(&a),
            labels_fingerprint(&labels(&[("a", "12")]))
        );
        // The separator keeps `ab=c` and `a=bc` apart.
        assert_ne!(
            labels_fingerprint(&labels(&[("ab", "c")])),
            labels_fingerprint(&labels(&[("a", "bc")]))
        );
        assert_eq!(labels_fingerprint(&BTreeMap::new()), "cbf29ce484222325");
    }

    #[test]
    fn text_fingerprint_ignores_spacing() {
        assert_eq!(
            text_fingerprint("disk  full\n on web-1"),
            text_fingerprint("disk full on web-1 ")
        );
        assert_ne!(text_fingerprint("disk full"), text_fingerprint("disk fool"));
    }
}
