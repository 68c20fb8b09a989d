//! Alert intake and hand-off through the engine, on SQLite and MySQL: webhook
//! tokens, Alertmanager and Grafana notifications (the fixtures of
//! `tests/data/alerts/`, written from both projects' documentation), deduplication
//! and grouping with an injected clock, resolved alerts on tickets, the backlog
//! limit, and notifications posted to a local HTTP receiver (each channel's body,
//! DingTalk's and Feishu's signatures, retries).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use oncall_core::notify::{ChannelKind, NotificationEvent};
use oncall_core::secrets::SecretBox;
use oncall_core::tickets::Severity;
use oncall_core::users::User;
use oncall_core::webhooks::{WebhookKind, WebhookOptions};
use oncall_core::{ChannelInput, ErrorCode, OnCall, Settings, TicketInput, WebhookInput};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/data/alerts/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The Alertmanager fixture with its alerts replaced by firing alerts on `pods`
/// (fingerprints computed as Alertmanager does), under `group_key`.
fn alertmanager(group_key: &str, pods: &[&str], status: &str) -> Value {
    let mut n = fixture("alertmanager-v4.json");
    let template = n["alerts"][1].clone();
    let alerts: Vec<Value> = pods
        .iter()
        .map(|pod| {
            let mut a = template.clone();
            a["status"] = json!(status);
            a["labels"]["pod"] = json!(pod);
            let labels: BTreeMap<String, String> =
                serde_json::from_value(a["labels"].clone()).unwrap();
            a["fingerprint"] = json!(oncall_core::alert::labels_fingerprint(&labels));
            a
        })
        .collect();
    n["groupKey"] = json!(group_key);
    n["status"] = json!(status);
    n["alerts"] = json!(alerts);
    n
}

fn t0() -> DateTime<Utc> {
    "2026-11-24T10:00:00Z".parse().unwrap()
}

fn minutes(m: i64) -> chrono::Duration {
    chrono::Duration::minutes(m)
}

async fn engine(url: &str, tune: impl FnOnce(&mut Settings)) -> OnCall {
    let mut s = Settings::with_database(url);
    s.encryption_key = Some(SecretBox::generate_key());
    s.public_url = Some("http://oncall.test".into());
    s.notify_retry_ms = 20;
    tune(&mut s);
    OnCall::open(s).await.unwrap()
}

async fn endpoint(
    oncall: &OnCall,
    admin: &User,
    kind: WebhookKind,
    options: WebhookOptions,
) -> (Uuid, String) {
    let created = oncall
        .create_webhook(
            admin,
            WebhookInput {
                name: format!("{}-{}", kind.as_str(), Uuid::new_v4().simple()),
                kind,
                options: Some(options),
                enabled: None,
            },
        )
        .await
        .unwrap();
    (created.webhook.id, created.token)
}

// ---------------------------------------------------------------- scenarios

async fn tokens_are_checked(url: String) {
    let oncall = engine(&url, |_| {}).await;
    let admin = oncall.local_admin();
    let created = oncall
        .create_webhook(
            &admin,
            WebhookInput {
                name: "prod alertmanager".into(),
                kind: WebhookKind::Alertmanager,
                options: None,
                enabled: None,
            },
        )
        .await
        .unwrap();
    let (id, token) = (created.webhook.id, created.token.clone());
    assert_eq!(
        created.webhook.path,
        format!("/api/webhooks/alertmanager/{id}")
    );
    let listed = oncall
        .list_webhooks(&admin, oncall_core::store::PageRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.total, 1);
    assert!(
        !serde_json::to_string(&listed.items)
            .unwrap()
            .contains(&token),
        "the token is shown once"
    );
    let body = alertmanager("g", &["cart-1"], "firing");
    let am = WebhookKind::Alertmanager;
    let refused = |e: oncall_core::Error| assert_eq!(e.code(), ErrorCode::Unauthorized, "{e}");
    refused(
        oncall
            .receive_webhook(am, id, "owh_wrong", &body)
            .await
            .unwrap_err(),
    );
    refused(
        oncall
            .receive_webhook(am, Uuid::now_v7(), &token, &body)
            .await
            .unwrap_err(),
    );
    refused(
        oncall
            .receive_webhook(WebhookKind::Grafana, id, &token, &body)
            .await
            .unwrap_err(),
    );
    let ok = oncall.receive_webhook(am, id, &token, &body).await.unwrap();
    assert_eq!((ok.accepted, ok.started), (1, 1));

    let rotated = oncall.rotate_webhook_token(&admin, id).await.unwrap();
    refused(
        oncall
            .receive_webhook(am, id, &token, &body)
            .await
            .unwrap_err(),
    );
    oncall
        .receive_webhook(am, id, &rotated.token, &body)
        .await
        .unwrap();

    let mut input = WebhookInput {
        name: "prod alertmanager".into(),
        kind: WebhookKind::Alertmanager,
        options: None,
        enabled: Some(false),
    };
    oncall
        .update_webhook(&admin, id, input.clone())
        .await
        .unwrap();
    refused(
        oncall
            .receive_webhook(am, id, &rotated.token, &body)
            .await
            .unwrap_err(),
    );
    input.enabled = Some(true);
    oncall.update_webhook(&admin, id, input).await.unwrap();
    let m = oncall.intake_metrics();
    assert_eq!(m.rejected_auth, 5);
    assert_eq!(m.alerts, 2);

    // Only admins manage endpoints.
    let viewer = User {
        role: oncall_core::users::Role::Engineer,
        ..admin.clone()
    };
    let e = oncall
        .list_webhooks(&viewer, oncall_core::store::PageRequest::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden);
    oncall.delete_webhook(&admin, id).await.unwrap();
    refused(
        oncall
            .receive_webhook(am, id, &rotated.token, &body)
            .await
            .unwrap_err(),
    );
    oncall.close().await;
}

async fn the_same_alert_twenty_times_is_one_analysis(url: String) {
    let oncall = engine(&url, |_| {}).await;
    let admin = oncall.local_admin();
    let (id, token) = endpoint(
        &oncall,
        &admin,
        WebhookKind::Alertmanager,
        WebhookOptions::default(),
    )
    .await;
    let body = alertmanager(
        "{}:{alertname=\"KubePodCrashLooping\"}",
        &["checkout-1"],
        "firing",
    );
    // Twenty posts within one minute, all at once (they race for the same key).
    let posts = (0..20).map(|i| {
        let (oncall, token, body) = (oncall.clone(), token.clone(), body.clone());
        async move {
            oncall
                .receive_webhook_at(
                    WebhookKind::Alertmanager,
                    id,
                    &token,
                    &body,
                    t0() + chrono::Duration::seconds(i * 3),
                )
                .await
                .unwrap()
        }
    });
    let receipts = futures_util::future::join_all(posts).await;
    let analyses: std::collections::HashSet<Uuid> = receipts
        .iter()
        .flat_map(|r| r.analysis_ids.clone())
        .collect();
    assert_eq!(analyses.len(), 1, "{receipts:?}");
    assert_eq!(receipts.iter().map(|r| r.started).sum::<u64>(), 1);
    assert_eq!(receipts.iter().map(|r| r.duplicates).sum::<u64>(), 19);
    let analysis = *analyses.iter().next().unwrap();
    let alerts = oncall.analysis_alerts(&admin, analysis).await.unwrap();
    assert_eq!(
        (alerts.firing, alerts.distinct_alerts, alerts.resolved),
        (20, 1, 0)
    );
    let page = oncall
        .list_analyses(&admin, &Default::default(), Default::default())
        .await
        .unwrap();
    assert_eq!(page.total, 1);
    let a = &page.items[0];
    assert_eq!(a.title, "KubePodCrashLooping");
    assert!(a.created_by.starts_with("webhook:"), "{}", a.created_by);
    let m = oncall.intake_metrics();
    assert_eq!((m.analyses_started, m.duplicates, m.alerts), (1, 19, 20));
    oncall.close().await;
}

async fn a_storm_of_one_group_is_one_analysis(url: String) {
    let oncall = engine(&url, |_| {}).await;
    let admin = oncall.local_admin();
    let (id, token) = endpoint(
        &oncall,
        &admin,
        WebhookKind::Alertmanager,
        WebhookOptions::default(),
    )
    .await;
    let am = WebhookKind::Alertmanager;
    // 50 distinct alerts in one notification.
    let pods: Vec<String> = (0..50).map(|i| format!("checkout-{i}")).collect();
    let refs: Vec<&str> = pods.iter().map(String::as_str).collect();
    let r = oncall
        .receive_webhook_at(
            am,
            id,
            &token,
            &alertmanager("storm-a", &refs, "firing"),
            t0(),
        )
        .await
        .unwrap();
    assert_eq!((r.accepted, r.started, r.grouped), (50, 1, 49));
    assert_eq!(r.analysis_ids.len(), 1);
    let alerts = oncall
        .analysis_alerts(&admin, r.analysis_ids[0])
        .await
        .unwrap();
    assert_eq!((alerts.firing, alerts.distinct_alerts), (50, 50));

    // 50 distinct alerts of another group, one notification each, seconds apart.
    let mut ids = std::collections::HashSet::new();
    for (i, pod) in refs.iter().enumerate() {
        let body = alertmanager("storm-b", &[&format!("b-{pod}")], "firing");
        let at = t0() + chrono::Duration::seconds(i as i64);
        let r = oncall
            .receive_webhook_at(am, id, &token, &body, at)
            .await
            .unwrap();
        ids.extend(r.analysis_ids);
    }
    assert_eq!(ids.len(), 1);
    let b = *ids.iter().next().unwrap();
    assert_eq!(
        oncall
            .analysis_alerts(&admin, b)
            .await
            .unwrap()
            .distinct_alerts,
        50
    );
    let total = oncall
        .list_analyses(&admin, &Default::default(), Default::default())
        .await
        .unwrap()
        .total;
    assert_eq!(total, 2, "one analysis per group");

    // With grouping off, each distinct alert is its own analysis.
    let options = WebhookOptions {
        group_alerts: false,
        ..WebhookOptions::default()
    };
    let (id2, token2) = endpoint(&oncall, &admin, am, options).await;
    let r = oncall
        .receive_webhook_at(
            am,
            id2,
            &token2,
            &alertmanager("storm-c", &["x", "y", "z"], "firing"),
            t0(),
        )
        .await
        .unwrap();
    assert_eq!((r.started, r.analysis_ids.len()), (3, 3));
    let one: Value = serde_json::from_str(
        &oncall
            .analysis(&admin, r.analysis_ids[1])
            .await
            .unwrap()
            .raw_alert,
    )
    .unwrap();
    assert_eq!(
        one["alerts"].as_array().unwrap().len(),
        1,
        "each analysis has its alert"
    );
    assert_eq!(one["alerts"][0]["labels"]["pod"], "y");
    oncall.close().await;
}

async fn after_the_window_a_new_analysis_starts(url: String) {
    let oncall = engine(&url, |_| {}).await;
    let admin = oncall.local_admin();
    let (id, token) = endpoint(
        &oncall,
        &admin,
        WebhookKind::Alertmanager,
        WebhookOptions::default(),
    )
    .await;
    let am = WebhookKind::Alertmanager;
    let body = alertmanager("g1", &["cart-1"], "firing");
    let first = oncall
        .receive_webhook_at(am, id, &token, &body, t0())
        .await
        .unwrap();
    // 25 minutes later: within 30 minutes of the first.
    let again = oncall
        .receive_webhook_at(am, id, &token, &body, t0() + minutes(25))
        .await
        .unwrap();
    assert_eq!(again.duplicates, 1);
    assert_eq!(again.analysis_ids, first.analysis_ids);
    // 50 minutes: 25 after the last sighting, so still the same (the window slides).
    let still = oncall
        .receive_webhook_at(am, id, &token, &body, t0() + minutes(50))
        .await
        .unwrap();
    assert_eq!(still.analysis_ids, first.analysis_ids);
    // 81 minutes: 31 after the last sighting — a new analysis.
    let later = oncall
        .receive_webhook_at(am, id, &token, &body, t0() + minutes(81))
        .await
        .unwrap();
    assert_eq!(later.started, 1);
    assert_ne!(later.analysis_ids, first.analysis_ids);
    // A shorter window per endpoint.
    let options = WebhookOptions {
        dedup_window_minutes: 5,
        ..WebhookOptions::default()
    };
    let (id2, token2) = endpoint(&oncall, &admin, am, options).await;
    let a = oncall
        .receive_webhook_at(am, id2, &token2, &body, t0())
        .await
        .unwrap();
    let b = oncall
        .receive_webhook_at(am, id2, &token2, &body, t0() + minutes(6))
        .await
        .unwrap();
    assert_eq!((a.started, b.started), (1, 1));
    assert_ne!(a.analysis_ids, b.analysis_ids);
    oncall.close().await;
}

/// A webhook's alert arrives as it fires: the first run sees only the start of its
/// incident window, so it is run again once the window has filled, as revision 2,
/// and the first run is kept for comparison (the engine's own clock decides when;
/// here the refresh time is passed in instead of waiting ten minutes).
async fn an_analysis_started_by_a_webhook_is_refreshed_once_its_window_filled(url: String) {
    let oncall = engine(&url, |_| {}).await;
    let admin = oncall.local_admin();
    let (id, token) = endpoint(
        &oncall,
        &admin,
        WebhookKind::Alertmanager,
        WebhookOptions::default(),
    )
    .await;
    let now = Utc::now();
    let mut body = alertmanager("refresh", &["cart-1"], "firing");
    body["alerts"][0]["startsAt"] = json!(now.to_rfc3339());
    let receipt = oncall
        .receive_webhook(WebhookKind::Alertmanager, id, &token, &body)
        .await
        .unwrap();
    let analysis = receipt.analysis_ids[0];
    let first = oncall
        .run_until_done(analysis, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(first.revision, 1);
    let refresh_at = first
        .refresh_at
        .expect("the window was still open: a refresh is planned");
    let incident_end = now
        + minutes(i64::from(
            oncall_core::analysis::window::DEFAULT_INCIDENT_MINUTES,
        ));
    assert!(
        refresh_at >= incident_end && refresh_at <= incident_end + minutes(2),
        "{refresh_at} vs window end {incident_end}"
    );
    assert!(
        first.error.as_deref().unwrap_or("").contains("runs again"),
        "{:?}",
        first.error
    );
    // Not before its time.
    assert!(
        oncall
            .requeue_due_refreshes(Utc::now())
            .await
            .unwrap()
            .is_empty()
    );
    // Once the window has filled: revision 2 runs; the first run is kept.
    let requeued = oncall.requeue_due_refreshes(refresh_at).await.unwrap();
    assert_eq!(requeued, vec![analysis]);
    let second = oncall
        .run_until_done(analysis, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(second.revision, 2);
    assert_eq!(second.refresh_at, None, "a refresh is not refreshed again");
    let revisions = oncall.analysis_revisions(&admin, analysis).await.unwrap();
    assert_eq!(revisions.len(), 1);
    assert_eq!(revisions[0].revision, 1);
    assert_eq!(revisions[0].completed_at, first.completed_at);
    assert!(revisions[0].result.is_some());
    let events = oncall.analysis_events(&admin, analysis, 0).await.unwrap();
    assert!(
        events.iter().any(|e| e.message.starts_with("revision 2:")),
        "the re-run says what it is"
    );
    // A person's submission is not refreshed: they chose the moment.
    let mine = oncall
        .submit_analysis(&admin, body["alerts"][0].clone(), Default::default())
        .await
        .unwrap();
    let done = oncall
        .run_until_done(mine.id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(done.refresh_at, None);
    oncall.close().await;
}

async fn resolved_alerts_reach_the_analysis_and_its_ticket(url: String) {
    let oncall = engine(&url, |_| {}).await;
    let admin = oncall.local_admin();
    let (id, token) = endpoint(
        &oncall,
        &admin,
        WebhookKind::Alertmanager,
        WebhookOptions::default(),
    )
    .await;
    let am = WebhookKind::Alertmanager;
    let fired = oncall
        .receive_webhook_at(
            am,
            id,
            &token,
            &alertmanager("g", &["pay-1"], "firing"),
            t0(),
        )
        .await
        .unwrap();
    let analysis = fired.analysis_ids[0];
    let ticket = oncall
        .create_ticket(
            &admin,
            TicketInput {
                title: Some("payments down".into()),
                analysis_id: Some(analysis),
                ..TicketInput::default()
            },
        )
        .await
        .unwrap();
    let resolved = oncall
        .receive_webhook_at(
            am,
            id,
            &token,
            &alertmanager("g", &["pay-1"], "resolved"),
            t0() + minutes(40),
        )
        .await
        .unwrap();
    assert_eq!(resolved.resolved, 1);
    assert_eq!(
        resolved.analysis_ids,
        vec![analysis],
        "any age: found after the window"
    );
    let alerts = oncall.analysis_alerts(&admin, analysis).await.unwrap();
    assert_eq!((alerts.firing, alerts.resolved), (1, 1));
    assert_eq!(alerts.resolved_at.unwrap(), t0() + minutes(40));
    let detail = oncall.ticket(&admin, &ticket.ticket.no).await.unwrap();
    let last = detail.history.last().unwrap();
    assert_eq!(last.action, "alert_resolved");
    assert!(last.actor.starts_with("webhook:"));
    assert_eq!(last.changes["alert"], "KubePodCrashLooping");
    assert_eq!(detail.ticket.version, 1, "a note, not an edit");
    // Firing again after it resolved (and after the group's window) starts anew.
    let refire = oncall
        .receive_webhook_at(
            am,
            id,
            &token,
            &alertmanager("g", &["pay-1"], "firing"),
            t0() + minutes(41),
        )
        .await
        .unwrap();
    assert_eq!(refire.started, 1);
    assert_ne!(refire.analysis_ids[0], analysis);
    // A resolved alert nobody saw firing is still stored.
    let stray = oncall
        .receive_webhook_at(
            am,
            id,
            &token,
            &alertmanager("other", &["zzz"], "resolved"),
            t0(),
        )
        .await
        .unwrap();
    assert_eq!((stray.accepted, stray.resolved), (1, 1));
    assert!(stray.analysis_ids.is_empty());
    oncall.close().await;
}

async fn grafana_notifications_and_filters(url: String) {
    let oncall = engine(&url, |_| {}).await;
    let admin = oncall.local_admin();
    let (id, token) = endpoint(
        &oncall,
        &admin,
        WebhookKind::Grafana,
        WebhookOptions {
            llm: Some(false),
            language: Some("zh".into()),
            ..WebhookOptions::default()
        },
    )
    .await;
    let body = fixture("grafana-unified.json");
    let r = oncall
        .receive_webhook_at(WebhookKind::Grafana, id, &token, &body, t0())
        .await
        .unwrap();
    // One firing (starts), one resolved (never seen firing: recorded).
    assert_eq!((r.accepted, r.started, r.resolved), (2, 1, 1));
    let a = oncall.analysis(&admin, r.analysis_ids[0]).await.unwrap();
    assert_eq!(a.title, "支付接口错误率过高");
    assert_eq!(a.options, json!({"llm": false, "language": "zh"}));
    let raw: Value = serde_json::from_str(&a.raw_alert).unwrap();
    assert_eq!(raw["orgId"], 1, "the notification as received");

    // Only P0 alerts analysed: the fixture's critical (P1) alert is only recorded.
    let (id2, token2) = endpoint(
        &oncall,
        &admin,
        WebhookKind::Grafana,
        WebhookOptions {
            severities: vec![Severity::P0],
            ..WebhookOptions::default()
        },
    )
    .await;
    let r = oncall
        .receive_webhook_at(WebhookKind::Grafana, id2, &token2, &body, t0())
        .await
        .unwrap();
    assert_eq!((r.accepted, r.started, r.recorded), (2, 0, 1));
    let bad = oncall
        .receive_webhook_at(
            WebhookKind::Grafana,
            id2,
            &token2,
            &json!({"alerts": []}),
            t0(),
        )
        .await
        .unwrap_err();
    assert_eq!(bad.code(), ErrorCode::Invalid);
    oncall.close().await;
}

async fn a_full_backlog_is_refused_and_nothing_accepted_is_lost(url: String) {
    let oncall = engine(&url, |s| s.webhook_backlog = 2).await;
    let admin = oncall.local_admin();
    let (id, token) = endpoint(
        &oncall,
        &admin,
        WebhookKind::Alertmanager,
        WebhookOptions::default(),
    )
    .await;
    let am = WebhookKind::Alertmanager;
    for g in ["a", "b"] {
        oncall
            .receive_webhook(am, id, &token, &alertmanager(g, &[g], "firing"))
            .await
            .unwrap();
    }
    let e = oncall
        .receive_webhook(am, id, &token, &alertmanager("c", &["c"], "firing"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::RateLimited, "{e}");
    assert_eq!(oncall.intake_metrics().rejected_backlog, 1);
    // Workers drain the backlog; then intake is open again.
    let page = oncall
        .list_analyses(&admin, &Default::default(), Default::default())
        .await
        .unwrap();
    for a in &page.items {
        oncall
            .run_until_done(a.id, Duration::from_secs(60))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    oncall
        .receive_webhook(am, id, &token, &alertmanager("c", &["c"], "firing"))
        .await
        .unwrap();
    let stored = oncall
        .list_analyses(&admin, &Default::default(), Default::default())
        .await
        .unwrap()
        .total;
    assert_eq!(stored, 3, "every accepted notification is stored");
    oncall.close().await;
}

/// Notifications posted all at once to two engines sharing the database (two
/// replicas): the pending analyses never pass the limit, and exactly the room
/// there was is taken; the rest are refused as rate-limited, storing nothing.
async fn the_backlog_limit_holds_exactly_under_concurrent_posts(url: String) {
    const LIMIT: u64 = 10;
    let first = engine(&url, |s| s.webhook_backlog = LIMIT).await;
    let second = engine(&url, |s| s.webhook_backlog = LIMIT).await;
    let admin = first.local_admin();
    let (id, token) = endpoint(
        &first,
        &admin,
        WebhookKind::Alertmanager,
        WebhookOptions::default(),
    )
    .await;
    let posts = (0..40).map(|i| {
        let oncall = if i % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let token = token.clone();
        tokio::spawn(async move {
            let group = format!("g{i}");
            oncall
                .receive_webhook(
                    WebhookKind::Alertmanager,
                    id,
                    &token,
                    &alertmanager(&group, &[group.as_str()], "firing"),
                )
                .await
        })
    });
    let mut accepted = 0;
    for outcome in futures_util::future::join_all(posts).await {
        match outcome.unwrap() {
            Ok(r) => {
                assert_eq!(r.started, 1);
                accepted += 1;
            }
            Err(e) => assert_eq!(e.code(), ErrorCode::RateLimited, "{e}"),
        }
    }
    let stored = first
        .list_analyses(&admin, &Default::default(), Default::default())
        .await
        .unwrap()
        .total;
    assert_eq!(stored, LIMIT, "the backlog never passes its limit");
    assert_eq!(accepted, LIMIT, "and all the room there was is used");
    let refused =
        first.intake_metrics().rejected_backlog + second.intake_metrics().rejected_backlog;
    assert_eq!(refused, 40 - LIMIT);
    first.close().await;
    second.close().await;
}

// ---------------------------------------------------------------- notifications

#[derive(Debug, Clone)]
struct Hit {
    target: String,
    body: Value,
    status: u16,
}

/// A tiny HTTP server: records each POST, answers 500 to the first `fail_first`
/// requests, then 200 `{"errcode":0,...}`.
struct Receiver {
    base: String,
    hits: Arc<Mutex<Vec<Hit>>>,
}

async fn receiver(fail_first: usize) -> Receiver {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
    let seen = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        break (i + 4, len);
                    }
                };
                while buf.len() < head_end + length {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let target = head.split_whitespace().nth(1).unwrap_or("").to_owned();
                let body = serde_json::from_slice(&buf[head_end..]).unwrap_or(Value::Null);
                let status = {
                    let mut hits = seen.lock().unwrap();
                    let status = if hits.len() < fail_first { 500 } else { 200 };
                    hits.push(Hit {
                        target,
                        body,
                        status,
                    });
                    status
                };
                let reply = if status == 200 {
                    r#"{"errcode":0,"errmsg":"ok"}"#
                } else {
                    "try later"
                };
                let resp = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Receiver { base, hits }
}

impl Receiver {
    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }

    async fn wait_for(&self, what: impl Fn(&[Hit]) -> bool) -> Vec<Hit> {
        let started = std::time::Instant::now();
        loop {
            let hits = self.hits();
            if what(&hits) {
                return hits;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "timed out; got {hits:#?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn channel(name: &str, kind: ChannelKind, url: String, secret: Option<&str>) -> ChannelInput {
    ChannelInput {
        name: name.into(),
        kind,
        url: Some(url),
        secret: secret.map(str::to_owned),
        events: None,
        enabled: None,
    }
}

fn hmac_b64(key: &[u8], msg: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn query(target: &str) -> BTreeMap<String, String> {
    let q = target.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

async fn each_channel_gets_its_format(url: String) {
    let oncall = engine(&url, |_| {}).await;
    let admin = oncall.local_admin();
    let rx = receiver(0).await;
    let base = rx.base.clone();
    for (name, kind, path, secret) in [
        ("json", ChannelKind::Webhook, "/hook", None),
        ("slack", ChannelKind::Slack, "/slack/T0/B0/xyz", None),
        (
            "feishu",
            ChannelKind::Feishu,
            "/feishu/hook/abc",
            Some("fs-secret"),
        ),
        (
            "dingtalk",
            ChannelKind::Dingtalk,
            "/dingtalk/robot/send?access_token=dt",
            Some("SECdt"),
        ),
        ("wecom", ChannelKind::Wecom, "/wecom/send?key=wk", None),
    ] {
        let c = oncall
            .create_channel(&admin, channel(name, kind, format!("{base}{path}"), secret))
            .await
            .unwrap();
        assert!(
            !c.url_hint.contains("access_token") && !c.url_hint.contains("xyz"),
            "{}",
            c.url_hint
        );
        assert_eq!(c.has_secret, secret.is_some());
    }
    let notifier = oncall.start_notifier().unwrap();
    let (id, token) = endpoint(
        &oncall,
        &admin,
        WebhookKind::Alertmanager,
        WebhookOptions::default(),
    )
    .await;
    let r = oncall
        .receive_webhook(
            WebhookKind::Alertmanager,
            id,
            &token,
            &alertmanager("g", &["pay-1"], "firing"),
        )
        .await
        .unwrap();
    let analysis = r.analysis_ids[0];
    let done = oncall
        .run_until_done(analysis, Duration::from_secs(60))
        .await
        .unwrap();
    let word = done.status.as_str();
    let hits = rx.wait_for(|h| h.len() >= 5).await;
    let by = |prefix: &str| {
        hits.iter()
            .find(|h| h.target.starts_with(prefix))
            .unwrap()
            .clone()
    };

    let hook = by("/hook");
    assert_eq!(hook.body["event"], format!("analysis_{word}"));
    assert_eq!(hook.body["analysis_id"], analysis.to_string());
    assert_eq!(
        hook.body["link"],
        format!("http://oncall.test/analyses/{analysis}")
    );
    assert!(
        hook.body["title"]
            .as_str()
            .unwrap()
            .contains("KubePodCrashLooping")
    );

    let slack = by("/slack");
    let text = slack.body["text"].as_str().unwrap();
    assert!(
        text.contains("KubePodCrashLooping") && text.contains("|Open in oncall-assistant>"),
        "{text}"
    );

    let feishu = by("/feishu");
    assert_eq!(feishu.body["msg_type"], "text");
    assert!(
        feishu.body["content"]["text"]
            .as_str()
            .unwrap()
            .contains(&analysis.to_string())
    );
    let ts: i64 = feishu.body["timestamp"].as_str().unwrap().parse().unwrap();
    assert!((Utc::now().timestamp() - ts).abs() < 3600);
    // Feishu: base64(HMAC-SHA256(key = "timestamp\nsecret", message = "")).
    assert_eq!(
        feishu.body["sign"].as_str().unwrap(),
        hmac_b64(format!("{ts}\nfs-secret").as_bytes(), b"")
    );

    let ding = by("/dingtalk");
    let q = query(&ding.target);
    assert_eq!(q["access_token"], "dt");
    let ts: i64 = q["timestamp"].parse().unwrap();
    assert!((Utc::now().timestamp_millis() - ts).abs() < 3_600_000);
    // DingTalk: base64(HMAC-SHA256(key = secret, message = "timestamp\nsecret")),
    // URL-encoded in `sign` (the parsed query has it decoded again).
    assert_eq!(
        q["sign"],
        hmac_b64(b"SECdt", format!("{ts}\nSECdt").as_bytes())
    );
    assert!(
        !ding.target.contains('+') && !ding.target.contains("=&"),
        "{}",
        ding.target
    );
    assert_eq!(ding.body["msgtype"], "markdown");
    assert!(
        ding.body["markdown"]["title"]
            .as_str()
            .unwrap()
            .contains("KubePodCrashLooping")
    );

    let wecom = by("/wecom");
    assert_eq!(query(&wecom.target)["key"], "wk");
    assert_eq!(wecom.body["msgtype"], "markdown");
    assert!(
        wecom.body["markdown"]["content"]
            .as_str()
            .unwrap()
            .contains("/analyses/")
    );

    // Settling again (another worker finishing the same analysis) sends nothing new.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(rx.hits().len(), 5);

    // A ticket's status change goes out too.
    let t = oncall
        .create_ticket(
            &admin,
            TicketInput {
                analysis_id: Some(analysis),
                title: Some("pay".into()),
                ..TicketInput::default()
            },
        )
        .await
        .unwrap();
    oncall
        .update_ticket(
            &admin,
            &t.ticket.no,
            oncall_core::TicketPatch {
                status: Some(oncall_core::tickets::TicketStatus::Processing),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let hits = rx.wait_for(|h| h.len() >= 10).await;
    let ticket_hook = hits.iter().skip(5).find(|h| h.target == "/hook").unwrap();
    assert_eq!(ticket_hook.body["event"], "ticket_status");
    assert_eq!(ticket_hook.body["ticket_no"], t.ticket.no);
    assert!(
        ticket_hook.body["title"]
            .as_str()
            .unwrap()
            .contains("open → processing")
    );

    // The sealed URL and secret are not in the database in clear.
    let stored = oncall
        .list_channels(&admin, Default::default())
        .await
        .unwrap();
    assert_eq!(stored.total, 5);
    let test = oncall
        .test_channel(&admin, stored.items[0].id)
        .await
        .unwrap();
    assert!(test.ok, "{test:?}");
    notifier.shutdown(Duration::from_secs(5)).await;
    oncall.close().await;
}

async fn a_failing_receiver_gets_exactly_one_delivery(url: String) {
    let oncall = engine(&url, |_| {}).await;
    let admin = oncall.local_admin();
    let rx = receiver(3).await;
    let c = oncall
        .create_channel(
            &admin,
            ChannelInput {
                events: Some(vec![
                    NotificationEvent::AnalysisCompleted,
                    NotificationEvent::AnalysisFailed,
                ]),
                ..channel(
                    "flaky",
                    ChannelKind::Webhook,
                    format!("{}/flaky", rx.base),
                    None,
                )
            },
        )
        .await
        .unwrap();
    let notifier = oncall.start_notifier().unwrap();
    let (id, token) = endpoint(
        &oncall,
        &admin,
        WebhookKind::Alertmanager,
        WebhookOptions::default(),
    )
    .await;
    let r = oncall
        .receive_webhook(
            WebhookKind::Alertmanager,
            id,
            &token,
            &alertmanager("g", &["x"], "firing"),
        )
        .await
        .unwrap();
    oncall
        .run_until_done(r.analysis_ids[0], Duration::from_secs(60))
        .await
        .unwrap();
    rx.wait_for(|h| h.iter().any(|h| h.status == 200)).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hits = rx.hits();
    let statuses: Vec<u16> = hits.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        vec![500, 500, 500, 200],
        "three failures, then exactly one delivery"
    );
    assert!(
        hits.iter().all(|h| h.body == hits[0].body),
        "the same message each time"
    );
    let deliveries = oncall
        .channel_deliveries(&admin, c.id, Default::default())
        .await
        .unwrap();
    assert_eq!(deliveries.total, 1);
    let d = &deliveries.items[0];
    assert_eq!((d.status.as_str(), d.attempts), ("delivered", 4));
    assert!(d.last_error.is_none() && d.delivered_at.is_some());
    let m = oncall.intake_metrics();
    assert_eq!((m.deliveries_retried, m.deliveries_delivered), (3, 1));

    // A channel that never works is given up after the configured attempts, and
    // the analysis is unaffected.
    let counts = oncall.delivery_counts().await.unwrap();
    assert_eq!(counts, vec![("delivered".to_owned(), 1)]);
    notifier.shutdown(Duration::from_secs(5)).await;
    oncall.close().await;
}

async fn a_dead_channel_is_given_up(url: String) {
    let oncall = engine(&url, |s| s.notify_max_attempts = 3).await;
    let admin = oncall.local_admin();
    // Nothing listens on this port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let c = oncall
        .create_channel(
            &admin,
            channel(
                "dead",
                ChannelKind::Slack,
                format!("http://127.0.0.1:{port}/x"),
                None,
            ),
        )
        .await
        .unwrap();
    let notifier = oncall.start_notifier().unwrap();
    let (id, token) = endpoint(
        &oncall,
        &admin,
        WebhookKind::Alertmanager,
        WebhookOptions::default(),
    )
    .await;
    let r = oncall
        .receive_webhook(
            WebhookKind::Alertmanager,
            id,
            &token,
            &alertmanager("g", &["x"], "firing"),
        )
        .await
        .unwrap();
    let done = oncall
        .run_until_done(r.analysis_ids[0], Duration::from_secs(60))
        .await
        .unwrap();
    assert!(done.status.is_final());
    let started = std::time::Instant::now();
    loop {
        let d = oncall
            .channel_deliveries(&admin, c.id, Default::default())
            .await
            .unwrap();
        if d.items.first().is_some_and(|d| d.status == "failed") {
            let d = &d.items[0];
            assert_eq!(d.attempts, 3);
            assert!(
                d.last_error
                    .as_deref()
                    .unwrap()
                    .contains("could not connect"),
                "{d:?}"
            );
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{d:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(oncall.intake_metrics().deliveries_failed, 1);
    notifier.shutdown(Duration::from_secs(5)).await;
    oncall.close().await;
}

macro_rules! on_both {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let dir = tempfile::tempdir().unwrap();
                    crate::$test(crate::support::sqlite_url(&dir)).await;
                }
            )*
        }
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(db) = crate::support::fresh_mysql().await else { return };
                    crate::$test(db.url.clone()).await;
                    db.finish().await;
                }
            )*
        }
    };
}

on_both!(
    tokens_are_checked,
    the_same_alert_twenty_times_is_one_analysis,
    a_storm_of_one_group_is_one_analysis,
    an_analysis_started_by_a_webhook_is_refreshed_once_its_window_filled,
    after_the_window_a_new_analysis_starts,
    resolved_alerts_reach_the_analysis_and_its_ticket,
    grafana_notifications_and_filters,
    a_full_backlog_is_refused_and_nothing_accepted_is_lost,
    the_backlog_limit_holds_exactly_under_concurrent_posts,
    each_channel_gets_its_format,
    a_failing_receiver_gets_exactly_one_delivery,
    a_dead_channel_is_given_up,
);
