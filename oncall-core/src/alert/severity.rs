//! Severity words → [`Severity`].
//!
//! | severity | label values (structured alerts) | also found in free text |
//! |---|---|---|
//! | P0 | `P0`, `sev0`, `emergency`, `fatal`, `disaster`, `blocker`, `page`, `紧急`, `致命`, `灾难` | all but `page` |
//! | P1 | `P1`, `sev1`, `critical`, `crit`, `high`, `major`, `error`, `severe`, `严重`, `重要`, `高` | `critical`, `crit`, `severe`, `严重`, `重要` |
//! | P2 | `P2`, `sev2`, `warning`, `warn`, `medium`, `moderate`, `minor`, `警告`, `一般`, `中` | `warning`, `warn`, `警告` |
//! | P3 | `P3`, `sev3`…`sev5`, `info`, `informational`, `low`, `notice`, `none`, `提示`, `通知`, `信息`, `低` | `info`, `informational`, `提示` |
//!
//! `sevN` maps to `P{N}` (capped at P3), whatever a given company's SEV scale is.
//! `critical` is P1, not P0: Prometheus rules call almost every paging alert
//! critical, and P0 is kept for words that say "outage, all hands". Words that are
//! too common in prose (`high`, `error`, `low`, `信息`, ...) count only as label
//! values, never in free text.

use crate::tickets::Severity;

/// Severity of a label value (`severity`, `priority`, `level` labels): the whole
/// value, case-insensitive, trimmed.
pub(crate) fn from_label_value(value: &str) -> Option<Severity> {
    let v = value.trim().to_ascii_lowercase();
    if let Some(s) = from_code(&v) {
        return Some(s);
    }
    Some(match v.as_str() {
        "emergency" | "fatal" | "disaster" | "blocker" | "page" | "紧急" | "致命" | "灾难" => {
            Severity::P0
        }
        "critical" | "crit" | "high" | "major" | "error" | "err" | "severe" | "严重" | "重要"
        | "高" => Severity::P1,
        "warning" | "warn" | "medium" | "moderate" | "minor" | "警告" | "一般" | "中" => {
            Severity::P2
        }
        "info" | "informational" | "low" | "notice" | "none" | "提示" | "通知" | "信息" | "低" => {
            Severity::P3
        }
        _ => return None,
    })
}

/// Severity of one ASCII word found in free text (already lowercase), with the
/// confidence it deserves: codes (`p1`, `sev2`) are explicit, words less so.
pub(crate) fn from_text_word(lower: &str) -> Option<(Severity, f64)> {
    if let Some(s) = from_code(lower) {
        return Some((s, 0.85));
    }
    let s = match lower {
        "emergency" | "fatal" | "disaster" | "blocker" => Severity::P0,
        "critical" | "crit" | "severe" => Severity::P1,
        "warning" | "warn" => Severity::P2,
        "info" | "informational" => Severity::P3,
        _ => return None,
    };
    Some((s, 0.6))
}

/// Chinese severity words searched for as substrings of free text (Chinese has no
/// spaces between words), most urgent first.
pub(crate) const CHINESE_TEXT_WORDS: &[(&str, Severity)] = &[
    ("紧急", Severity::P0),
    ("致命", Severity::P0),
    ("灾难", Severity::P0),
    ("严重", Severity::P1),
    ("重要", Severity::P1),
    ("警告", Severity::P2),
    ("提示", Severity::P3),
];

/// `p0`..`p3`, `sev0`..`sev5`, `sev-1`, `sev_1` (lowercase input).
fn from_code(lower: &str) -> Option<Severity> {
    let digits = if let Some(rest) = lower.strip_prefix("sev") {
        rest.trim_start_matches(['-', '_'])
    } else {
        lower.strip_prefix('p')?
    };
    if digits.len() != 1 {
        return None;
    }
    match digits.as_bytes().first() {
        Some(b'0') => Some(Severity::P0),
        Some(b'1') => Some(Severity::P1),
        Some(b'2') => Some(Severity::P2),
        Some(b'3'..=b'5') => Some(Severity::P3),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values() {
        assert_eq!(from_label_value("critical"), Some(Severity::P1));
        assert_eq!(from_label_value(" Warning "), Some(Severity::P2));
        assert_eq!(from_label_value("P0"), Some(Severity::P0));
        assert_eq!(from_label_value("SEV-2"), Some(Severity::P2));
        assert_eq!(from_label_value("sev4"), Some(Severity::P3));
        assert_eq!(from_label_value("紧急"), Some(Severity::P0));
        assert_eq!(from_label_value("严重"), Some(Severity::P1));
        assert_eq!(from_label_value("info"), Some(Severity::P3));
        assert_eq!(from_label_value("p9"), None);
        assert_eq!(from_label_value("purple"), None);
        assert_eq!(from_label_value(""), None);
    }

    #[test]
    fn text_words_skip_common_prose() {
        assert_eq!(from_text_word("p1"), Some((Severity::P1, 0.85)));
        assert_eq!(from_text_word("critical").map(|s| s.0), Some(Severity::P1));
        assert_eq!(from_text_word("fatal").map(|s| s.0), Some(Severity::P0));
        assert_eq!(from_text_word("high"), None);
        assert_eq!(from_text_word("error"), None);
        assert_eq!(from_text_word("pod"), None);
    }
}
