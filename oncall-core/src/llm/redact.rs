//! Redaction before anything leaves for an LLM: secrets, emails and (optionally)
//! IP addresses are replaced by stable placeholders (`<EMAIL_1>`, `<SECRET_2>`),
//! the same value always by the same placeholder within one analysis, so the
//! model can still correlate lines. [`Redactor::restore`] puts the values back
//! into the model's answer before a person reads it.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// What a placeholder stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Secret,
    Email,
    Ip,
}

impl Kind {
    fn tag(self) -> &'static str {
        match self {
            Kind::Secret => "SECRET",
            Kind::Email => "EMAIL",
            Kind::Ip => "IP",
        }
    }
}

struct Rule {
    kind: Kind,
    re: Regex,
    /// The capture group holding the sensitive part (0: the whole match).
    group: usize,
}

fn rule(kind: Kind, pattern: &str, group: usize) -> Option<Rule> {
    match Regex::new(pattern) {
        Ok(re) => Some(Rule { kind, re, group }),
        Err(e) => {
            tracing::error!(pattern, error = %e, "a redaction pattern does not compile");
            None
        }
    }
}

/// Secret rules first: a password inside a URL must go before the URL's host is
/// looked at as an email or IP.
static SECRET_RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    [
        // Authorization: Bearer <token> / Basic <b64>
        (r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9\-._~+/]{8,}=*)", 1),
        // scheme://user:password@host
        (r"(?i)\b[a-z][a-z0-9+.\-]*://[^/\s:@]+:([^@\s/]+)@", 1),
        // password=..., "api_key": "...", secret: ...
        (
            r#"(?i)\b(?:password|passwd|pwd|secret|client_secret|token|access_token|refresh_token|api[_\-]?key|apikey|access[_\-]?key|secret[_\-]?key|auth|authorization|credentials?)\b"?\s*[=:]\s*"?([^\s,;&"'}]+)"#,
            1,
        ),
        // Well-known key shapes.
        (r"\bsk-[A-Za-z0-9_\-]{16,}", 0),
        (r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", 0),
        (r"\bgh[pousr]_[A-Za-z0-9]{30,}\b", 0),
        (r"\bxox[abprs]-[A-Za-z0-9\-]{10,}", 0),
        (r"\bglpat-[A-Za-z0-9_\-]{20,}", 0),
        (r"\bAIza[0-9A-Za-z_\-]{35}\b", 0),
        // JSON Web Tokens.
        (r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+", 0),
        // PEM private keys.
        (
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----",
            0,
        ),
    ]
    .into_iter()
    .filter_map(|(p, g)| rule(Kind::Secret, p, g))
    .collect()
});

static EMAIL_RULE: LazyLock<Option<Rule>> = LazyLock::new(|| {
    rule(
        Kind::Email,
        r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b",
        0,
    )
});

static IP_RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    [
        r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b",
        // IPv6: the full eight groups, or a compressed form with `::` (so times
        // like `10:32:05` are left alone).
        r"\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b",
        r"(?:\b[0-9A-Fa-f]{1,4})?(?::[0-9A-Fa-f]{1,4})*::(?:[0-9A-Fa-f]{1,4}:)*[0-9A-Fa-f]{1,4}\b",
    ]
    .into_iter()
    .filter_map(|p| rule(Kind::Ip, p, 0))
    .collect()
});

static PLACEHOLDER: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"<(?:SECRET|EMAIL|IP)_\d+>").ok());

/// Replaces sensitive values by placeholders, remembering them for [`Redactor::restore`].
#[derive(Debug, Default)]
pub struct Redactor {
    redact_ips: bool,
    by_value: HashMap<String, String>,
    by_placeholder: HashMap<String, String>,
    counts: HashMap<&'static str, usize>,
}

impl Redactor {
    /// A redactor; `redact_ips` also replaces IPv4/IPv6 addresses.
    pub fn new(redact_ips: bool) -> Self {
        Redactor {
            redact_ips,
            ..Redactor::default()
        }
    }

    /// How many distinct values have been replaced so far.
    pub fn replaced(&self) -> usize {
        self.by_value.len()
    }

    fn placeholder(&mut self, kind: Kind, value: &str) -> String {
        if let Some(p) = self.by_value.get(value) {
            return p.clone();
        }
        let n = self.counts.entry(kind.tag()).or_insert(0);
        *n += 1;
        let p = format!("<{}_{}>", kind.tag(), n);
        self.by_value.insert(value.to_owned(), p.clone());
        self.by_placeholder.insert(p.clone(), value.to_owned());
        p
    }

    fn apply(&mut self, rule: &Rule, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for caps in rule.re.captures_iter(text) {
            let Some(m) = caps.get(rule.group) else {
                continue;
            };
            // Already a placeholder (e.g. `token=<SECRET_1>` seen again): keep it.
            if m.as_str().starts_with('<') && m.as_str().ends_with('>') {
                continue;
            }
            out.push_str(&text[last..m.start()]);
            out.push_str(&self.placeholder(rule.kind, m.as_str()));
            last = m.end();
        }
        out.push_str(&text[last..]);
        out
    }

    /// `text` with every sensitive value replaced.
    pub fn redact(&mut self, text: &str) -> String {
        let mut out = text.to_owned();
        for rule in SECRET_RULES.iter() {
            if rule.re.is_match(&out) {
                out = self.apply(rule, &out);
            }
        }
        if let Some(rule) = EMAIL_RULE.as_ref() {
            if rule.re.is_match(&out) {
                out = self.apply(rule, &out);
            }
        }
        if self.redact_ips {
            for rule in IP_RULES.iter() {
                if rule.re.is_match(&out) {
                    out = self.apply(rule, &out);
                }
            }
        }
        out
    }

    /// Redacts every string inside a JSON value.
    pub fn redact_json(&mut self, value: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match value {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.redact_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Puts the original values back in place of the placeholders this redactor made.
    pub fn restore(&self, text: &str) -> String {
        let Some(re) = PLACEHOLDER.as_ref() else {
            return text.to_owned();
        };
        re.replace_all(text, |c: &Captures<'_>| {
            let p = &c[0];
            self.by_placeholder
                .get(p)
                .cloned()
                .unwrap_or_else(|| p.to_owned())
        })
        .into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_of_every_kind_are_replaced() {
        let mut r = Redactor::new(false);
        let cases = [
            "Authorization: Bearer abcdef0123456789xyz",
            "connecting to mysql://app:hunter2@db.internal:3306/shop",
            "login failed password=Sup3rS3cret! for user",
            r#"{"api_key": "k-1234567890abcdef"}"#,
            "using sk-proj-ABCDEFGHIJKLMNOPQRSTUV",
            "aws AKIAIOSFODNN7EXAMPLE",
            "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        ];
        let secrets = [
            "abcdef0123456789xyz",
            "hunter2",
            "Sup3rS3cret!",
            "k-1234567890abcdef",
            "sk-proj-ABCDEFGHIJKLMNOPQRSTUV",
            "AKIAIOSFODNN7EXAMPLE",
            "eyJhbGciOiJIUzI1NiJ9",
        ];
        for (case, secret) in cases.iter().zip(secrets) {
            let out = r.redact(case);
            assert!(!out.contains(secret), "{case} → {out}");
            assert!(out.contains("<SECRET_"), "{case} → {out}");
        }
    }

    #[test]
    fn emails_and_ips_get_stable_placeholders_and_come_back() {
        let mut r = Redactor::new(true);
        let a = r.redact("user alice@example.com from 10.1.2.3 failed");
        let b = r.redact("again alice@example.com from 10.1.2.3 and bob@example.org");
        assert_eq!(a, "user <EMAIL_1> from <IP_1> failed");
        assert_eq!(b, "again <EMAIL_1> from <IP_1> and <EMAIL_2>");
        assert_eq!(
            r.restore("<EMAIL_2> on <IP_1>, not <IP_9>"),
            "bob@example.org on 10.1.2.3, not <IP_9>"
        );
    }

    #[test]
    fn ips_stay_when_not_asked_and_times_are_not_ips() {
        let mut r = Redactor::new(false);
        assert_eq!(r.redact("from 10.1.2.3"), "from 10.1.2.3");
        let mut r = Redactor::new(true);
        assert_eq!(
            r.redact("at 2026-11-24 10:32:05 version 1.2.3"),
            "at 2026-11-24 10:32:05 version 1.2.3"
        );
        assert_eq!(r.redact("peer fe80::1:2:3"), "peer <IP_1>");
    }

    #[test]
    fn json_strings_are_redacted_in_place() {
        let mut r = Redactor::new(true);
        let v = serde_json::json!({"a": ["x@y.io", 1], "b": {"c": "Bearer 0123456789abcdef"}});
        let out = r.redact_json(&v).to_string();
        assert!(
            !out.contains("x@y.io") && !out.contains("0123456789abcdef"),
            "{out}"
        );
    }
}
