//! The analyzer's accuracy on real incidents: resolved tickets whose confirmed root
//! cause was the analysis' #1 suspect, or in its top 3. Pure code: the store reads
//! one [`AccuracyRow`] per resolved ticket, [`accuracy_report`] counts them.
//!
//! Names are compared by one rule, [`same_component`]: equal ignoring ASCII case,
//! or the same service once a Kubernetes pod suffix or an instance's `:port` is
//! taken off ([`service_of_pod`]). `ts-order-service-5d9f7-abc12` is a pod of
//! `ts-order-service`; `carts-db` is not `carts` (no plain prefix matching).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How many misses a report lists (newest first); the totals count them all.
pub const MAX_LISTED_MISSES: usize = 200;

/// The service `name` is a pod or an instance of, when it is one:
///
/// - an instance address `service:port` (Prometheus' `instance` label) → `service`;
/// - a Deployment's pod `service-<template hash>-<pod suffix>` → `service`, where the
///   template hash has 5 to 10 and the pod suffix exactly 5 characters;
/// - a DaemonSet's or Job's pod `service-<pod suffix>` (5 characters) → `service`;
/// - a StatefulSet's pod `service-<ordinal>` (1 to 4 digits) → `service`.
///
/// Hash parts are lower-case ASCII letters and digits and look generated: they hold a
/// digit or no vowel (Kubernetes draws them from `bcdfghjklmnpqrstvwxz2456789`),
/// so a word such as `cache` in `order-cache` is never taken for one. Without such a
/// suffix (`carts-db`, `payment-api`) the answer is `None`: a plain prefix is not a
/// service.
pub fn service_of_pod(name: &str) -> Option<&str> {
    if let Some((host, port)) = name.rsplit_once(':')
        && !host.is_empty()
        && !port.is_empty()
        && port.len() <= 5
        && port.bytes().all(|b| b.is_ascii_digit())
    {
        return Some(service_of_pod(host).unwrap_or(host));
    }
    let (rest, last) = name.rsplit_once('-')?;
    if rest.is_empty() {
        return None;
    }
    if last.len() == 5 && hash_like(last) {
        if let Some((service, template)) = rest.rsplit_once('-')
            && !service.is_empty()
            && (5..=10).contains(&template.len())
            && hash_like(template)
        {
            return Some(service);
        }
        return Some(rest);
    }
    if (1..=4).contains(&last.len()) && last.bytes().all(|b| b.is_ascii_digit()) {
        return Some(rest);
    }
    None
}

/// Lower-case letters and digits that look generated: a digit, or no vowel.
fn hash_like(part: &str) -> bool {
    part.bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && (part.bytes().any(|b| b.is_ascii_digit())
            || !part.bytes().any(|b| b"aeiou".contains(&b)))
}

/// Whether `a` and `b` name the same component: equal ignoring ASCII case and
/// surrounding space, or the same service once each is reduced by
/// [`service_of_pod`] (a pod or instance of a service is that service).
pub fn same_component(a: &str, b: &str) -> bool {
    let a = a.trim().to_ascii_lowercase();
    let b = b.trim().to_ascii_lowercase();
    if a.is_empty() || b.is_empty() {
        return false;
    }
    a == b || service_of_pod(&a).unwrap_or(&a) == service_of_pod(&b).unwrap_or(&b)
}

/// One resolved (or closed) ticket as the accuracy report needs it: a row of one
/// read that joins the ticket to its analysis and takes only the analysis' top
/// suspects' names, never the whole result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccuracyRow {
    /// The ticket.
    pub ticket_no: String,
    /// Its title.
    pub title: String,
    /// When the ticket was opened (the incident's month).
    pub created_at: DateTime<Utc>,
    /// The component the engineer confirmed, if any.
    pub confirmed_root_cause: Option<String>,
    /// Whether the ticket's analysis exists and has a result.
    pub has_result: bool,
    /// The analysed alert's name (empty when unknown).
    pub alert_name: String,
    /// The analysis' first three suspects, #1 first (fewer when it named fewer).
    pub suspects: Vec<String>,
}

/// Hits and shares for one group of tickets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct AccuracyCount {
    /// Resolved tickets with a confirmed root cause and an analysis result.
    pub confirmed: u64,
    /// Of those, how many had the confirmed cause as the analysis' #1 suspect.
    pub hit_at_1: u64,
    /// Of those, how many had it among the first three suspects.
    pub hit_at_3: u64,
    /// `hit_at_1 / confirmed`; absent when nothing was confirmed.
    pub share_at_1: Option<f64>,
    /// `hit_at_3 / confirmed`; absent when nothing was confirmed.
    pub share_at_3: Option<f64>,
    /// Resolved tickets with an analysis but no confirmed root cause (not misses).
    pub unconfirmed: u64,
}

impl AccuracyCount {
    fn add(&mut self, rank: Option<Option<usize>>) {
        match rank {
            None => self.unconfirmed += 1,
            Some(rank) => {
                self.confirmed += 1;
                if rank == Some(1) {
                    self.hit_at_1 += 1;
                }
                if rank.is_some_and(|r| r <= 3) {
                    self.hit_at_3 += 1;
                }
            }
        }
    }

    fn finish(mut self) -> Self {
        if self.confirmed > 0 {
            let n = self.confirmed as f64;
            self.share_at_1 = Some(self.hit_at_1 as f64 / n);
            self.share_at_3 = Some(self.hit_at_3 as f64 / n);
        }
        self
    }
}

/// Accuracy for the tickets opened in one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct MonthAccuracy {
    /// `YYYY-MM` (UTC) of the tickets' creation.
    pub month: String,
    /// The counts.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", oai(flatten))]
    pub count: AccuracyCount,
}

/// Accuracy for the tickets of one alert name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct AlertAccuracy {
    /// The alert's name (empty when the analysis did not know it).
    pub alert_name: String,
    /// The counts.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", oai(flatten))]
    pub count: AccuracyCount,
}

/// A ticket whose confirmed root cause was not the analysis' #1 suspect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct AccuracyMiss {
    /// The ticket.
    pub ticket_no: String,
    /// Its title.
    pub title: String,
    /// The alert's name.
    pub alert_name: String,
    /// When the ticket was opened.
    pub created_at: DateTime<Utc>,
    /// The analysis' #1 suspect; absent when it named none.
    pub analyzer_top: Option<String>,
    /// The analysis' first three suspects, #1 first.
    pub analyzer_top3: Vec<String>,
    /// What the engineer confirmed.
    pub confirmed_root_cause: String,
    /// Where the confirmed cause stood among the first three suspects (2 or 3);
    /// absent when it was not among them.
    pub rank: Option<u32>,
}

/// The analyzer's accuracy on resolved tickets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct AccuracyReport {
    /// Tickets opened at or after this time were counted.
    pub since: Option<DateTime<Utc>>,
    /// Tickets opened before this time were counted.
    pub until: Option<DateTime<Utc>>,
    /// Over every counted ticket.
    pub totals: AccuracyCount,
    /// Resolved tickets with a confirmed root cause but no analysis result to judge.
    pub without_analysis: u64,
    /// Per month of the tickets' creation, oldest first.
    pub by_month: Vec<MonthAccuracy>,
    /// Per alert name, most confirmed tickets first.
    pub by_alert: Vec<AlertAccuracy>,
    /// How many confirmed tickets missed at #1 (all of them, listed or not).
    pub misses_total: u64,
    /// The misses, newest first, at most [`MAX_LISTED_MISSES`].
    pub misses: Vec<AccuracyMiss>,
}

/// Counts `rows` (one per resolved ticket, any order) into a report.
pub fn accuracy_report(
    mut rows: Vec<AccuracyRow>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> AccuracyReport {
    // Newest first, so the listed misses are the latest ones.
    rows.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.ticket_no.cmp(&a.ticket_no))
    });
    let mut totals = AccuracyCount::default();
    let mut without_analysis = 0;
    let mut months: BTreeMap<String, AccuracyCount> = BTreeMap::new();
    let mut alerts: BTreeMap<String, AccuracyCount> = BTreeMap::new();
    let mut misses = Vec::new();
    let mut misses_total = 0;
    for mut row in rows {
        row.suspects.truncate(3);
        if !row.has_result {
            if row.confirmed_root_cause.is_some() {
                without_analysis += 1;
            }
            continue;
        }
        // None: unconfirmed; Some(None): confirmed, not among the suspects read.
        let rank = row.confirmed_root_cause.as_deref().map(|confirmed| {
            row.suspects
                .iter()
                .position(|s| same_component(s, confirmed))
                .map(|i| i + 1)
        });
        totals.add(rank);
        months
            .entry(row.created_at.format("%Y-%m").to_string())
            .or_default()
            .add(rank);
        alerts.entry(row.alert_name.clone()).or_default().add(rank);
        if let (Some(confirmed), Some(rank)) = (row.confirmed_root_cause, rank)
            && rank != Some(1)
        {
            misses_total += 1;
            if misses.len() < MAX_LISTED_MISSES {
                misses.push(AccuracyMiss {
                    ticket_no: row.ticket_no,
                    title: row.title,
                    alert_name: row.alert_name,
                    created_at: row.created_at,
                    analyzer_top: row.suspects.first().cloned(),
                    analyzer_top3: row.suspects,
                    confirmed_root_cause: confirmed,
                    rank: rank.and_then(|r| u32::try_from(r).ok()),
                });
            }
        }
    }
    let mut by_alert: Vec<AlertAccuracy> = alerts
        .into_iter()
        .map(|(alert_name, count)| AlertAccuracy {
            alert_name,
            count: count.finish(),
        })
        .collect();
    by_alert.sort_by(|a, b| {
        (b.count.confirmed + b.count.unconfirmed)
            .cmp(&(a.count.confirmed + a.count.unconfirmed))
            .then_with(|| a.alert_name.cmp(&b.alert_name))
    });
    AccuracyReport {
        since,
        until,
        totals: totals.finish(),
        without_analysis,
        by_month: months
            .into_iter()
            .map(|(month, count)| MonthAccuracy {
                month,
                count: count.finish(),
            })
            .collect(),
        by_alert,
        misses_total,
        misses,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn pods_and_instances_belong_to_their_service() {
        for (name, service) in [
            ("ts-order-service-5d9f7-abc12", "ts-order-service"),
            ("web-7f9c8d6b4-x2k9p", "web"),
            ("checkout-6c8f9b7d5c-zqxwv", "checkout"),
            ("node-exporter-x2k9p", "node-exporter"),
            ("order-cache-x2k9p", "order-cache"),
            ("carts-db-0", "carts-db"),
            ("kafka-12", "kafka"),
            ("db-01.prod:9100", "db-01.prod"),
            ("payment-5d9f7-abc12:8080", "payment"),
        ] {
            assert_eq!(service_of_pod(name), Some(service), "{name}");
        }
        for name in [
            "carts-db",
            "carts",
            "order-cache",
            "payment-api",
            "api-v2",
            "ts-order-service",
            "-abc12",
            "db-01.prod",
            "host:http",
            "Web-7F9C8-X2K9P",
        ] {
            assert_eq!(service_of_pod(name), None, "{name}");
        }
    }

    #[test]
    fn names_match_exactly_ignoring_case_or_as_pods_of_a_service() {
        assert!(same_component("ts-order-service", "TS-Order-Service "));
        assert!(same_component(
            "ts-order-service-5d9f7-abc12",
            "ts-order-service"
        ));
        assert!(same_component(
            "ts-order-service",
            "TS-ORDER-SERVICE-5D9F7-ABC12"
        ));
        assert!(same_component(
            "ts-order-service-5d9f7-abc12",
            "ts-order-service-5d9f7-zzz99"
        ));
        assert!(same_component("mysql-0", "mysql"));
        assert!(same_component("db-01:9104", "db-01"));
        // A prefix is not a service, nor the other way round.
        assert!(!same_component("carts-db", "carts"));
        assert!(!same_component("carts", "carts-db-0"));
        assert!(!same_component("order-cache", "order"));
        assert!(!same_component("ts-order-service", "ts-order"));
        assert!(!same_component("", ""));
        assert!(!same_component("a", " "));
    }

    fn row(no: &str, day: u32, confirmed: Option<&str>, suspects: &[&str]) -> AccuracyRow {
        AccuracyRow {
            ticket_no: no.into(),
            title: format!("ticket {no}"),
            created_at: Utc
                .with_ymd_and_hms(2026, 10 + day / 31, 1 + day % 31, 3, 0, 0)
                .unwrap(),
            confirmed_root_cause: confirmed.map(str::to_owned),
            has_result: true,
            alert_name: if day < 31 {
                "HighLatency"
            } else {
                "PodCrashLooping"
            }
            .into(),
            suspects: suspects.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn reports_count_hits_misses_and_unconfirmed_apart() {
        let mut no_analysis = row("T6", 3, Some("db"), &[]);
        no_analysis.has_result = false;
        let mut neither = row("T7", 4, None, &[]);
        neither.has_result = false;
        let rows = vec![
            row("T1", 1, Some("cart"), &["cart", "db", "web"]),
            row("T2", 2, Some("db-0"), &["cart", "db", "web"]),
            row("T3", 35, Some("web"), &["cart", "db", "gateway", "web"]),
            row("T4", 36, None, &["cart"]),
            row("T5", 37, Some("cart"), &[]),
            no_analysis,
            neither,
        ];
        let r = accuracy_report(rows, None, None);
        assert_eq!(
            (
                r.totals.confirmed,
                r.totals.hit_at_1,
                r.totals.hit_at_3,
                r.totals.unconfirmed
            ),
            (4, 1, 2, 1)
        );
        assert_eq!(r.totals.share_at_1, Some(0.25));
        assert_eq!(r.totals.share_at_3, Some(0.5));
        assert_eq!(r.without_analysis, 1);
        let months: Vec<_> = r
            .by_month
            .iter()
            .map(|m| {
                (
                    m.month.as_str(),
                    m.count.confirmed,
                    m.count.hit_at_1,
                    m.count.unconfirmed,
                )
            })
            .collect();
        assert_eq!(months, [("2026-10", 2, 1, 0), ("2026-11", 2, 0, 1)]);
        assert_eq!(r.by_month[0].count.share_at_1, Some(0.5));
        let alerts: Vec<_> = r
            .by_alert
            .iter()
            .map(|a| (a.alert_name.as_str(), a.count.confirmed, a.count.hit_at_3))
            .collect();
        assert_eq!(alerts, [("PodCrashLooping", 2, 0), ("HighLatency", 2, 2)]);
        // Misses: newest first; T2 at rank 2, T3 beyond the top 3, T5 no suspect.
        let misses: Vec<_> = r
            .misses
            .iter()
            .map(|m| (m.ticket_no.as_str(), m.analyzer_top.as_deref(), m.rank))
            .collect();
        assert_eq!(
            misses,
            [
                ("T5", None, None),
                ("T3", Some("cart"), None),
                ("T2", Some("cart"), Some(2))
            ]
        );
        assert_eq!(r.misses_total, 3);
        assert_eq!(r.misses[1].confirmed_root_cause, "web");
    }

    #[test]
    fn an_empty_report_has_no_shares() {
        let r = accuracy_report(Vec::new(), None, None);
        assert_eq!(r.totals, AccuracyCount::default());
        assert!(r.by_month.is_empty() && r.by_alert.is_empty() && r.misses.is_empty());
        let r = accuracy_report(vec![row("T1", 1, None, &["a"])], None, None);
        assert_eq!((r.totals.unconfirmed, r.totals.share_at_1), (1, None));
    }

    #[test]
    fn listed_misses_are_bounded_but_all_counted() {
        let rows = (0..MAX_LISTED_MISSES + 5)
            .map(|i| row(&format!("T{i:04}"), 1, Some("x"), &["y"]))
            .collect();
        let r = accuracy_report(rows, None, None);
        assert_eq!(r.misses.len(), MAX_LISTED_MISSES);
        assert_eq!(r.misses_total, (MAX_LISTED_MISSES + 5) as u64);
        assert_eq!(
            r.misses[0].ticket_no,
            format!("T{:04}", MAX_LISTED_MISSES + 4)
        );
    }
}
