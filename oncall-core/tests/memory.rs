//! Incident memory through the engine: analyses that complete store their
//! signature, a later analysis of a similar alert finds the earlier one "seen
//! before" with its ticket, an earlier one never sees a later one, and memory can be
//! turned off.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::time::Duration;

use chrono::{DateTime, Utc};
use oncall_core::analysis::AnalysisStatus;
use oncall_core::users::{NewUser, Role};
use oncall_core::{AnalysisOptions, ErrorCode, OnCall, Settings, TicketInput};
use serde_json::{Value, json};

async fn engine(retention_days: u32) -> (OnCall, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::with_database(support::sqlite_url(&dir));
    settings.memory_retention_days = retention_days;
    (OnCall::open(settings).await.unwrap(), dir)
}

fn alert(starts: DateTime<Utc>) -> Value {
    json!({
        "receiver": "oncall",
        "status": "firing",
        "alerts": [{
            "status": "firing",
            "labels": {"alertname": "KafkaConsumerLag", "namespace": "payments", "service": "ledger-writer", "severity": "warning"},
            "annotations": {"summary": "ledger-writer consumer lag above 10k"},
            "startsAt": starts.to_rfc3339(),
        }]
    })
}

async fn analyse(oncall: &OnCall, starts: DateTime<Utc>) -> uuid::Uuid {
    let me = oncall.local_admin();
    let a = oncall
        .submit_analysis(&me, alert(starts), AnalysisOptions::default())
        .await
        .unwrap();
    let done = oncall
        .run_until_done(a.id, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(done.status, AnalysisStatus::Completed, "{:?}", done.error);
    done.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recurrence_is_seen_before_with_its_ticket_and_never_the_other_way() {
    let (oncall, _dir) = engine(365).await;
    let me = oncall.local_admin();
    let t0 = Utc::now() - chrono::Duration::hours(3);
    let first = analyse(&oncall, t0).await;
    let ticket = oncall
        .create_ticket(
            &me,
            TicketInput {
                analysis_id: Some(first),
                ..TicketInput::default()
            },
        )
        .await
        .unwrap();
    let second = analyse(&oncall, t0 + chrono::Duration::hours(2)).await;

    let seen = oncall.similar_analyses(&me, second).await.unwrap();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].analysis_id, first);
    assert!(seen[0].similarity > 0.9, "same alert and scope: {seen:?}");
    assert_eq!(
        seen[0].ticket_no.as_deref(),
        Some(ticket.ticket.no.as_str())
    );
    assert_eq!(seen[0].ticket_status.as_deref(), Some("open"));
    assert_eq!(seen[0].alert_name, "KafkaConsumerLag");
    assert!(
        seen[0].shared.iter().any(|s| s.contains("ledger-writer")),
        "{:?}",
        seen[0].shared
    );

    // The digest the analysis was ranked with is kept in its evidence.
    let stored = oncall.analysis(&me, second).await.unwrap();
    let raw = serde_json::to_value(&stored).unwrap();
    let memory = &raw["evidence"]["memory"];
    assert_eq!(
        memory["similar"][0]["analysis_id"],
        json!(first.to_string()),
        "{memory}"
    );

    // An older analysis never lists a newer one.
    assert!(
        oncall
            .similar_analyses(&me, first)
            .await
            .unwrap()
            .is_empty()
    );

    // Any role may read it; unknown ids are 404.
    let viewer = oncall
        .create_user(
            &me,
            NewUser {
                email: "viewer@example.com".into(),
                name: None,
                password: "viewer-pass-1".into(),
                role: Role::Viewer,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        oncall
            .similar_analyses(&viewer, second)
            .await
            .unwrap()
            .len(),
        1
    );
    let e = oncall
        .similar_analyses(&me, uuid::Uuid::now_v7())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::NotFound);

    // Forgetting is for engineers; then it is no longer found.
    let e = oncall
        .forget_analysis_memory(&viewer, first)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden);
    assert!(oncall.forget_analysis_memory(&me, first).await.unwrap());
    assert!(
        oncall
            .similar_analyses(&me, second)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_off_stores_and_shows_nothing() {
    let (oncall, _dir) = engine(0).await;
    let me = oncall.local_admin();
    let t0 = Utc::now() - chrono::Duration::hours(3);
    analyse(&oncall, t0).await;
    let second = analyse(&oncall, t0 + chrono::Duration::hours(1)).await;
    assert!(
        oncall
            .similar_analyses(&me, second)
            .await
            .unwrap()
            .is_empty()
    );
    let raw = serde_json::to_value(oncall.analysis(&me, second).await.unwrap()).unwrap();
    assert!(raw["evidence"].get("memory").is_none_or(Value::is_null));
}
