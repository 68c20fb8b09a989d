//! Alert parsing over the fixtures in `tests/data/alerts/` (see its README): two
//! real Alertmanager payloads from the Nezha-derived scenarios and our own
//! Alertmanager, Grafana and Prometheus fixtures written from their documentation.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::path::PathBuf;

use chrono::{DateTime, Duration, TimeZone, Utc};
use oncall_core::ErrorCode;
use oncall_core::alert::{AlertFormat, KnownNames, Language, labels_fingerprint, parse};
use oncall_core::tickets::Severity;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/alerts")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn train_ticket() -> KnownNames {
    KnownNames {
        services: vec!["ts-ui-dashboard".into(), "ts-order-service".into()],
        pods: vec!["ts-travel-service-5d8b9c7f6d-abcde".into()],
        hosts: vec!["33.33.33.76".into()],
        instances: vec![],
        namespaces: vec!["train-ticket".into()],
    }
}

#[test]
fn nezha_scenarios() {
    for (file, start, fp) in [
        (
            "nezha-ts-2023-01-29-01.json",
            "2023-01-29T08:44:04Z",
            "337930af7a1a7d7e",
        ),
        (
            "nezha-ts-2023-01-29-14.json",
            "2023-01-29T10:13:48Z",
            "b23a67253bbfc854",
        ),
    ] {
        let a = parse(&fixture(file), &train_ticket(), now()).unwrap();
        assert_eq!(a.format, AlertFormat::Alertmanager, "{file}");
        assert_eq!(a.name, "EntrySLODegraded");
        assert_eq!(a.status, "firing");
        assert_eq!(a.severity, Some(Severity::P1));
        assert_eq!(a.starts_at, start.parse::<DateTime<Utc>>().unwrap());
        assert_eq!(a.ends_at, None);
        assert_eq!(a.fingerprint, fp);
        assert_eq!(a.alert_count, 1);
        assert_eq!(a.language, Language::En);
        assert_eq!(a.scope.namespace.as_deref(), Some("train-ticket"));
        assert_eq!(a.scope.services, vec!["ts-ui-dashboard"]);
        assert!(a.scope.pods.is_empty());
        assert_eq!(a.confidence["services"], 1.0);
        assert!(
            a.summary
                .starts_with("SLO degraded at train-ticket entry service")
        );
        assert!(
            a.generator_url
                .as_deref()
                .unwrap()
                .starts_with("http://prometheus.")
        );
    }
}

#[test]
fn alertmanager_fixture() {
    let known = KnownNames {
        services: vec!["payment".into()],
        ..Default::default()
    };
    let a = parse(&fixture("alertmanager-v4.json"), &known, now()).unwrap();
    assert_eq!(a.format, AlertFormat::Alertmanager);
    assert_eq!(a.alert_count, 2);
    // The resolved alert comes first; the firing one is parsed.
    assert_eq!(a.status, "firing");
    assert_eq!(a.fingerprint, "9a8b7c6d5e4f3a2b");
    assert_eq!(a.severity, Some(Severity::P2));
    assert_eq!(
        a.starts_at,
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 2, 0).unwrap()
    );
    assert_eq!(a.ends_at, None);
    assert_eq!(a.scope.namespace.as_deref(), Some("shop"));
    assert_eq!(a.scope.job.as_deref(), Some("kube-state-metrics"));
    // `container` label, then the known service named in the description.
    assert_eq!(a.scope.services, vec!["checkout", "payment"]);
    assert_eq!(a.scope.pods, vec!["checkout-6c9d8f7b5-q2w4e"]);
    assert_eq!(a.scope.instances, vec!["10.42.1.23:8080"]);
    assert_eq!(a.scope.ips, vec!["10.42.1.23"]);
    assert_eq!(a.scope.hosts, vec!["worker-2"]);
    assert_eq!(
        a.annotations.get("runbook_url").map(String::as_str),
        Some("https://runbooks.example.com/kubernetes/kubepodcrashlooping")
    );

    // All resolved: the first alert, with its end.
    let mut v = fixture("alertmanager-v4.json");
    v["alerts"][1]["status"] = "resolved".into();
    let a = parse(&v, &known, now()).unwrap();
    assert_eq!(a.status, "resolved");
    assert_eq!(a.scope.pods, vec!["cart-5b7f9d8c6d-7xk2p"]);
    assert_eq!(a.starts_at.timestamp_subsec_nanos(), 123_456_789);
    assert_eq!(
        a.ends_at,
        Some(Utc.with_ymd_and_hms(2026, 11, 24, 9, 40, 30).unwrap())
    );
}

#[test]
fn grafana_fixture() {
    let a = parse(
        &fixture("grafana-unified.json"),
        &KnownNames::default(),
        now(),
    )
    .unwrap();
    assert_eq!(a.format, AlertFormat::Grafana);
    assert_eq!(a.alert_count, 2);
    assert_eq!(a.name, "支付接口错误率过高");
    assert_eq!(a.status, "firing");
    assert_eq!(a.severity, Some(Severity::P1));
    assert_eq!(a.language, Language::Zh);
    assert_eq!(
        a.starts_at,
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 31, 0).unwrap()
    );
    assert_eq!(a.fingerprint, "bc97ff14869b13e3");
    assert_eq!(a.scope.services, vec!["payment-api"]);
    assert_eq!(a.scope.namespace.as_deref(), Some("prod"));
    assert_eq!(a.summary, "payment-api 5xx 错误率 12%，超过阈值 5%");
    assert_eq!(
        a.annotations.get("values").map(String::as_str),
        Some("B=0.12, C=1")
    );
    assert!(a.annotations["value_string"].starts_with("[ var='B'"));
    assert_eq!(
        a.annotations.get("panel_url").map(String::as_str),
        Some("https://grafana.example.com/d/payments?orgId=1&viewPanel=4")
    );
}

#[test]
fn prometheus_alert_array_and_single() {
    let v = fixture("prometheus-alerts.json");
    let a = parse(&v, &KnownNames::default(), now()).unwrap();
    assert_eq!(a.format, AlertFormat::PrometheusAlert);
    assert_eq!(a.alert_count, 2);
    assert_eq!(a.name, "HostHighCpuLoad");
    assert_eq!(a.status, "firing");
    assert_eq!(a.severity, Some(Severity::P1));
    assert_eq!(a.scope.instances, vec!["web-03.prod.example.com:9100"]);
    assert_eq!(a.scope.hosts, vec!["web-03.prod.example.com", "web-03"]);
    assert_eq!(a.fingerprint, labels_fingerprint(&a.labels));

    let single = v[0].clone();
    let a = parse(&single, &KnownNames::default(), now()).unwrap();
    assert_eq!(a.format, AlertFormat::PrometheusAlert);
    assert_eq!(a.alert_count, 1);
    assert_eq!(a.severity, Some(Severity::P2));
    // No status, end in the past.
    assert_eq!(a.status, "resolved");
    assert_eq!(a.scope.instances, vec!["[2001:db8::7]:9100"]);
    assert_eq!(a.scope.ips, vec!["2001:db8::7"]);
}

#[test]
fn free_text_in_both_languages() {
    let known = train_ticket();
    let zh = "【严重】ts-order-service 下单接口超时，10 分钟前开始，节点 33.33.33.76，namespace: train-ticket";
    let a = parse(&zh.into(), &known, now()).unwrap();
    assert_eq!(a.format, AlertFormat::Text);
    assert_eq!(a.language, Language::Zh);
    assert_eq!(a.severity, Some(Severity::P1));
    assert_eq!(a.starts_at, now() - Duration::minutes(10));
    assert_eq!(a.scope.services, vec!["ts-order-service"]);
    assert_eq!(a.scope.ips, vec!["33.33.33.76"]);
    assert_eq!(a.scope.hosts, vec!["33.33.33.76"]);
    assert_eq!(a.scope.namespace.as_deref(), Some("train-ticket"));

    let en = "P0: ts-travel-service errors since 2026-11-24T11:20:00+08:00, users cannot book";
    let a = parse(&en.into(), &known, now()).unwrap();
    assert_eq!(a.language, Language::En);
    assert_eq!(a.severity, Some(Severity::P0));
    assert_eq!(
        a.starts_at,
        Utc.with_ymd_and_hms(2026, 11, 24, 3, 20, 0).unwrap()
    );
    assert_eq!(a.confidence["starts_at"], 0.9);
    // The service prefix of a known pod.
    assert_eq!(a.scope.services, vec!["ts-travel-service"]);
    // `users` and `book` are not names.
    assert!(a.scope.hosts.is_empty() && a.scope.pods.is_empty());
}

#[test]
fn bad_input() {
    for v in [
        Value::from(""),
        Value::from(3.5),
        Value::from(false),
        Value::Null,
        serde_json::json!({"alerts": "none"}),
        serde_json::json!({"alerts": [{"labels": {}, "startsAt": "2026-13-45"}]}),
    ] {
        let e = parse(&v, &KnownNames::default(), now()).unwrap_err();
        assert_eq!(e.code(), ErrorCode::Invalid, "{v}: {e}");
    }
}

#[test]
fn a_mebibyte_of_text() {
    let mut text = String::with_capacity(1 << 20);
    let mut i = 0u32;
    while text.len() < 1 << 20 {
        text.push_str(&format!(
            "2026-11-24 10:{:02}:00 WARN pod ts-order-service-7f9c-{i} host-{i}.svc 10.0.{}.{} 请求超时 key{i}=v ",
            i % 60,
            i / 256 % 256,
            i % 256
        ));
        i += 1;
    }
    let started = std::time::Instant::now();
    let a = parse(&text.into(), &train_ticket(), now()).unwrap();
    let took = started.elapsed();
    // generous: a debug build on a loaded 2-core machine; a quadratic scan would take minutes
    assert!(took < std::time::Duration::from_secs(10), "took {took:?}");
    assert_eq!(
        a.starts_at,
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 0, 0).unwrap()
    );
    assert_eq!(a.severity, Some(Severity::P2));
    assert!(a.scope.ips.len() <= 32 && a.scope.hosts.len() <= 32);
    assert!(a.labels.len() <= 64);
}

/// Issue #19: typed alerts keep their date, zone and service.
#[test]
fn free_text_dates_zones_and_known_names() {
    let known = train_ticket();
    let jan29 = |h, m| Utc.with_ymd_and_hms(2023, 1, 29, h, m, 0).unwrap();
    let a = parse(
        &"ts-ui-dashboard SLO degraded since 10:05 UTC on 2023-01-29".into(),
        &known,
        now(),
    )
    .unwrap();
    assert_eq!(a.starts_at, jan29(10, 5));
    assert_eq!(a.confidence["starts_at"], 0.9);
    assert_eq!(a.scope.services, vec!["ts-ui-dashboard"]);

    for (text, want) in [
        ("2023-01-29 10:05 ts-ui-dashboard 超时", jan29(10, 5)),
        (
            "ts-ui-dashboard slow, 2023-01-29 18:05 +08:00",
            jan29(10, 5),
        ),
        (
            "北京时间 2023-01-29 18:05 ts-ui-dashboard 告警",
            jan29(10, 5),
        ),
        ("2023-01-29 18:05 CST ts-ui-dashboard", jan29(10, 5)),
        ("Jan 29 2023 10:05 ts-ui-dashboard down", jan29(10, 5)),
    ] {
        let a = parse(&text.into(), &known, now()).unwrap();
        assert_eq!(a.starts_at, want, "{text}");
        assert_eq!(a.scope.services, vec!["ts-ui-dashboard"], "{text}");
    }
    let ago = |m| now() - Duration::minutes(m);
    for (text, want) in [
        (
            "昨天 10:05 ts-order-service 报错",
            now() - Duration::hours(25) - Duration::minutes(55),
        ),
        ("ts-order-service errors started 10 minutes ago", ago(10)),
        ("ts-order-service 10分钟前开始报错", ago(10)),
        (
            "Jan 29 10:05 ts-order-service",
            Utc.with_ymd_and_hms(2026, 1, 29, 10, 5, 0).unwrap(),
        ),
    ] {
        let a = parse(&text.into(), &known, now()).unwrap();
        assert_eq!(a.starts_at, want, "{text}");
        assert_eq!(a.scope.services, vec!["ts-order-service"], "{text}");
    }
}

/// The README's example: `checkout` is scope when a source knows it, and only then.
#[test]
fn readme_example_scope_from_known_names() {
    let known = KnownNames {
        services: vec!["checkout".into(), "payment".into()],
        pods: vec!["checkout-7d9f8c6b5-x2z9q".into()],
        namespaces: vec!["shop".into()],
        ..KnownNames::default()
    };
    let a = parse(&"checkout 5xx since 10:32".into(), &known, now()).unwrap();
    assert_eq!(a.scope.services, vec!["checkout"]);
    assert_eq!(
        a.starts_at,
        Utc.with_ymd_and_hms(2026, 11, 24, 10, 32, 0).unwrap()
    );
    let a = parse(
        &"pod checkout-7d9f8c6b5-x2z9q in shop restarting".into(),
        &known,
        now(),
    )
    .unwrap();
    assert_eq!(a.scope.pods, vec!["checkout-7d9f8c6b5-x2z9q"]);
    assert_eq!(a.scope.namespace.as_deref(), Some("shop"));
    let a = parse(
        &"checkout 5xx since 10:32".into(),
        &KnownNames::default(),
        now(),
    )
    .unwrap();
    assert!(a.scope.services.is_empty());
}
