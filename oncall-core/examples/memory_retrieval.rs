//! Retrieval over many stored incident signatures: fills a scratch SQLite database
//! with `N` synthetic signatures (default 100,000) shaped like real ones, then times
//! "seen before" queries through the inverted index.
//!
//! `cargo run --release -p oncall-core --example memory_retrieval -- [N] [queries]`
//!
//! The signatures are drawn with skewed (Zipf-like) popularity, as in production: 300
//! alert names, 2,000 services, 20,000 log templates, 40 metric families. Rows are
//! written in bulk (one transaction, the same tables and counts
//! `MemoryStore::remember_signature` keeps); then one signature is stored and
//! forgotten through the store to time the write path too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a tool, not the engine

use std::collections::HashMap;
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use oncall_core::analysis::Analysis;
use oncall_core::evidence::suspects::EvidenceKind;
use oncall_core::memory::replay::scratch_database_url;
use oncall_core::memory::{Signature, SignatureSuspect, recall};
use oncall_core::store::{AnalysisStore, MemoryStore, SqliteStore, Store};

/// A Zipf-like draw in `0..n`: small indexes are much more popular.
fn skewed(n: usize) -> usize {
    let u = fastrand::f64().max(1e-12);
    // Inverse CDF of a continuous 1/x law over [1, n+1).
    (((n as f64 + 1.0).powf(u)) - 1.0)
        .floor()
        .min(n as f64 - 1.0) as usize
}

fn synthetic(i: usize) -> Signature {
    let service = |k: usize| format!("svc-{k:04}");
    let alert = skewed(300);
    let home = skewed(2000);
    let kinds = [
        EvidenceKind::Templates,
        EvidenceKind::Metrics,
        EvidenceKind::Origins,
        EvidenceKind::Latency,
    ];
    let mut suspects = vec![SignatureSuspect {
        component: service(home),
        lead: Some(kinds[i % kinds.len()]),
        score: 1.0,
    }];
    for j in 1..5 {
        suspects.push(SignatureSuspect {
            component: service(skewed(2000)),
            lead: Some(kinds[(i + j) % kinds.len()]),
            score: 1.0 / (j as f64 + 1.0),
        });
    }
    suspects.dedup_by(|a, b| a.component == b.component);
    Signature {
        alert_name: format!("Alert{alert:03}"),
        scope: vec![
            format!("service={}", service(home)),
            format!("namespace=ns-{}", home % 40),
        ],
        suspects,
        templates: (0..8)
            .map(|_| {
                format!(
                    "{:016x}",
                    (skewed(20_000) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
                )
            })
            .collect(),
        shifts: (0..8)
            .map(|_| {
                format!(
                    "family_{}/{}/{}",
                    skewed(40),
                    service(skewed(2000)),
                    if fastrand::bool() { "up" } else { "down" }
                )
            })
            .collect(),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).map_or(100_000, |s| s.parse().unwrap());
    let queries: usize = args.get(2).map_or(200, |s| s.parse().unwrap());
    fastrand::seed(22);
    let dir = tempfile::tempdir().unwrap();
    let url = scratch_database_url(&dir.path().join("memory-bench.db")).unwrap();
    let store = SqliteStore::open(&url).await.unwrap();
    let t0 = Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap();

    let fill = Instant::now();
    let mut df: HashMap<String, i64> = HashMap::new();
    let mut tx = store.pool().begin().await.unwrap();
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let id = uuid::Uuid::now_v7();
        let at = t0 + Duration::minutes(5 * i as i64);
        let sig = synthetic(i);
        sqlx::query(
            "INSERT INTO analyses (id, status, title, raw_alert, options, alert, time_window, sources, evidence, created_by, created_at) \
             VALUES (?, 'completed', ?, '{}', '{}', 'null', 'null', '[]', 'null', 'bench', ?)",
        )
        .bind(id.to_string())
        .bind(&sig.alert_name)
        .bind(at)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query("INSERT INTO memory_signatures (analysis_id, incident_at, stored_at, alert_name, signature) VALUES (?, ?, ?, ?, ?)")
            .bind(id.to_string())
            .bind(at)
            .bind(at)
            .bind(&sig.alert_name)
            .bind(serde_json::to_string(&sig).unwrap())
            .execute(&mut *tx)
            .await
            .unwrap();
        for (term, w) in sig.terms() {
            sqlx::query("INSERT INTO memory_terms (term, incident_at, analysis_id, weight) VALUES (?, ?, ?, ?)")
                .bind(&term)
                .bind(at)
                .bind(id.to_string())
                .bind(w)
                .execute(&mut *tx)
                .await
                .unwrap();
            *df.entry(term).or_default() += 1;
        }
        ids.push((id, at, sig));
    }
    df.insert("#signatures".into(), n as i64);
    for (term, d) in &df {
        sqlx::query("INSERT INTO memory_term_counts (term, documents) VALUES (?, ?)")
            .bind(term)
            .bind(d)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(store.pool()).await.unwrap();
    let postings: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory_terms")
        .fetch_one(store.pool())
        .await
        .unwrap();
    println!(
        "stored {n} signatures ({postings} postings, {} distinct terms) in {:.1} s",
        df.len() - 1,
        fill.elapsed().as_secs_f64()
    );

    // Queries: a recurrence of a stored incident (its signature with some terms
    // changed), looking back from just after it.
    let mut times = Vec::with_capacity(queries);
    let mut found_self = 0;
    for q in 0..queries {
        let (orig, at, sig) = &ids[fastrand::usize(n / 2..n)];
        let mut query = sig.clone();
        query.templates.truncate(5);
        query
            .templates
            .push(format!("{:016x}", (q as u64).wrapping_mul(7919)));
        query.shifts.truncate(6);
        let me = uuid::Uuid::now_v7();
        let started = Instant::now();
        let found = recall(&store, &query, me, *at + Duration::minutes(1), 3)
            .await
            .unwrap();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        if found.first().is_some_and(|p| p.analysis_id == *orig) {
            found_self += 1;
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    println!(
        "recall over {n} signatures, {queries} queries: p50 {:.2} ms  p95 {:.2} ms  max {:.2} ms; the recurring incident ranked first in {found_self} of {queries}",
        pct(0.5),
        pct(0.95),
        times.last().copied().unwrap_or_default()
    );

    // The write path: store and forget one signature through the store.
    let a = Analysis::pending(
        "bench".into(),
        "{}".into(),
        serde_json::json!({}),
        "bench".into(),
    );
    store.insert_analysis(&a).await.unwrap();
    let started = Instant::now();
    store
        .remember_signature(a.id, Utc::now(), Utc::now(), &synthetic(7))
        .await
        .unwrap();
    let remember_ms = started.elapsed().as_secs_f64() * 1000.0;
    let started = Instant::now();
    store.forget_signature(a.id).await.unwrap();
    println!(
        "remember one signature {remember_ms:.2} ms, forget it {:.2} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    store.close().await;
}
