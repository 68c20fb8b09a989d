//! One repository conformance suite, run against every backend: each function in
//! `suite` takes a `&dyn Store`, and `conformance!` instantiates it as a test for
//! SQLite and for MySQL/MariaDB (see `support` for how those databases are made).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

mod suite {
    use std::collections::HashSet;
    use std::sync::Arc;

    use chrono::{Duration, NaiveDate, Utc};
    use oncall_core::ErrorCode;
    use oncall_core::analysis::{ALERT_PREVIEW_CHARS, Analysis, AnalysisStatus};
    use oncall_core::connectors::{AuthKind, DataSource, DataSourceKind};
    use oncall_core::store::{AnalysisFilter, NewTicketRecord, PageRequest, Store, TicketFilter};
    use oncall_core::tickets::{Severity, Ticket, TicketHistoryEntry, TicketStatus};
    use oncall_core::users::{Role, User};
    use serde_json::json;
    use uuid::Uuid;

    fn user(email: &str, role: Role) -> User {
        let now = Utc::now();
        User {
            id: Uuid::now_v7(),
            email: email.into(),
            name: "王小明".into(),
            role,
            disabled: false,
            password_is_default: false,
            created_at: now,
            updated_at: now,
            token_version: 0,
        }
    }

    fn page(page: u32, size: u32) -> PageRequest {
        PageRequest::new(page, size).unwrap()
    }

    /// Times come back at microsecond precision.
    fn micros(t: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
        use chrono::DurationRound;
        t.duration_trunc(chrono::TimeDelta::microseconds(1))
            .unwrap()
    }

    pub async fn users_round_trip(s: &dyn Store) {
        let u = user("zhang.san@example.com", Role::Engineer);
        s.insert_user(&u, "$argon2id$fake").await.unwrap();
        let got = s.user(u.id).await.unwrap();
        assert_eq!(got.email, u.email);
        assert_eq!(got.name, "王小明", "Chinese text round-trips");
        assert_eq!(got.role, Role::Engineer);
        assert_eq!(got.created_at, micros(u.created_at));
        let (by_email, hash) = s
            .user_by_email("zhang.san@example.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((by_email.id, hash.as_str()), (u.id, "$argon2id$fake"));
        assert!(
            s.user_by_email("nobody@example.com")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(s.count_users().await.unwrap(), 1);
    }

    pub async fn users_tokens_are_revoked(s: &dyn Store) {
        let u = user("revoked@example.com", Role::Viewer);
        s.insert_user(&u, "h").await.unwrap();
        s.revoke_tokens(u.id).await.unwrap();
        s.revoke_tokens(u.id).await.unwrap();
        assert_eq!(s.user(u.id).await.unwrap().token_version, 2);
        let e = s.revoke_tokens(Uuid::now_v7()).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound, "{e}");
    }

    pub async fn login_throttle_charges_by_compare_and_set(s: &dyn Store) {
        use oncall_core::store::ThrottleState;
        let now = micros(Utc::now());
        let key = "a".repeat(64);
        assert_eq!(s.login_throttle(&key).await.unwrap(), None);
        let first = ThrottleState {
            failures: 1,
            next_allowed_at: now,
        };
        assert!(
            s.charge_login_attempt(&key, None, first, now)
                .await
                .unwrap()
        );
        // A second "first" attempt lost the race: nothing written.
        assert!(
            !s.charge_login_attempt(&key, None, first, now)
                .await
                .unwrap()
        );
        assert_eq!(s.login_throttle(&key).await.unwrap(), Some(first));
        let second = ThrottleState {
            failures: 2,
            next_allowed_at: now + Duration::seconds(4),
        };
        assert!(
            s.charge_login_attempt(&key, Some(first), second, now)
                .await
                .unwrap()
        );
        assert!(
            !s.charge_login_attempt(&key, Some(first), second, now)
                .await
                .unwrap(),
            "stale read"
        );
        assert_eq!(s.login_throttle(&key).await.unwrap(), Some(second));
        s.clear_login_throttle(&key).await.unwrap();
        assert_eq!(s.login_throttle(&key).await.unwrap(), None);
        let other = "b".repeat(64);
        assert!(
            s.charge_login_attempt(&other, None, first, now - Duration::days(2))
                .await
                .unwrap()
        );
        assert!(
            s.charge_login_attempt(&key, None, first, now)
                .await
                .unwrap()
        );
        assert_eq!(
            s.prune_login_throttle(now - Duration::days(1))
                .await
                .unwrap(),
            1
        );
        assert!(s.login_throttle(&other).await.unwrap().is_none());
        assert!(s.login_throttle(&key).await.unwrap().is_some());
    }

    /// Many attempts at once on one key: each charge is seen by exactly one.
    pub async fn login_throttle_parallel_charges_are_counted_once_each(s: Arc<dyn Store>) {
        use oncall_core::store::ThrottleState;
        let key = "c".repeat(64);
        let mut tasks = Vec::new();
        for _ in 0..24 {
            let s = s.clone();
            let key = key.clone();
            tasks.push(tokio::spawn(async move {
                let now = Utc::now();
                let seen = s.login_throttle(&key).await.unwrap();
                let next = ThrottleState {
                    failures: seen.map_or(0, |t| t.failures) + 1,
                    next_allowed_at: now,
                };
                s.charge_login_attempt(&key, seen, next, now).await.unwrap()
            }));
        }
        let mut won = 0;
        for t in tasks {
            won += i64::from(t.await.unwrap());
        }
        let stored = s.login_throttle(&key).await.unwrap().unwrap();
        assert_eq!(
            stored.failures, won,
            "every successful charge counted, no lost update"
        );
    }

    pub async fn users_unique_email_is_conflict(s: &dyn Store) {
        let u = user("dup@example.com", Role::Viewer);
        s.insert_user(&u, "h").await.unwrap();
        let again = user("dup@example.com", Role::Admin);
        let e = s.insert_user(&again, "h").await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
        assert_eq!(s.count_users().await.unwrap(), 1, "nothing half-inserted");
    }

    pub async fn users_update_and_password(s: &dyn Store) {
        let mut u = user("ops@example.com", Role::Viewer);
        u.password_is_default = true;
        s.insert_user(&u, "old").await.unwrap();
        u.role = Role::Admin;
        u.disabled = true;
        u.name = "Ops".into();
        s.update_user(&u).await.unwrap();
        s.set_password_hash(u.id, "new", false).await.unwrap();
        let (got, hash) = s.user_by_email("ops@example.com").await.unwrap().unwrap();
        assert_eq!(
            (got.role, got.disabled, got.name.as_str()),
            (Role::Admin, true, "Ops")
        );
        assert!(!got.password_is_default);
        assert_eq!(hash, "new");
        assert_eq!(
            got.token_version, 1,
            "a new password revokes earlier tokens"
        );
        s.update_user(&got).await.unwrap();
        assert_eq!(
            s.user(u.id).await.unwrap().token_version,
            1,
            "other edits keep it"
        );

        let ghost = user("ghost@example.com", Role::Viewer);
        assert_eq!(
            s.update_user(&ghost).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
        let e = s.set_password_hash(ghost.id, "x", false).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound);
        assert_eq!(
            s.user(ghost.id).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
    }

    pub async fn users_paginate_in_email_order(s: &dyn Store) {
        for i in [3, 1, 4, 0, 2] {
            s.insert_user(&user(&format!("u{i}@example.com"), Role::Viewer), "h")
                .await
                .unwrap();
        }
        let p1 = s.list_users(page(1, 2)).await.unwrap();
        let p3 = s.list_users(page(3, 2)).await.unwrap();
        let p4 = s.list_users(page(4, 2)).await.unwrap();
        assert_eq!(p1.total, 5);
        let emails: Vec<_> = p1.items.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(emails, ["u0@example.com", "u1@example.com"]);
        assert_eq!(p3.items.len(), 1);
        assert_eq!(p3.items[0].email, "u4@example.com");
        assert!(p4.items.is_empty());
        assert_eq!((p3.page, p3.page_size), (3, 2));
    }

    fn datasource(name: &str, kind: DataSourceKind) -> DataSource {
        let now = Utc::now();
        DataSource {
            id: Uuid::now_v7(),
            name: name.into(),
            kind,
            url: format!("http://127.0.0.1:{}", kind.default_port()),
            auth_kind: AuthKind::Basic,
            username: Some("elastic".into()),
            password_sealed: Some("sealed:abc".into()),
            token_sealed: None,
            config: json!({"index": "logs-*", "note": "生产集群"}),
            enabled: true,
            timeout_ms: 10_000,
            created_at: now,
            updated_at: now,
        }
    }

    pub async fn datasources_crud(s: &dyn Store) {
        let mut d = datasource("prod-logs", DataSourceKind::Elk);
        s.insert_datasource(&d).await.unwrap();
        let got = s.datasource(d.id).await.unwrap();
        assert_eq!(got.config, json!({"index": "logs-*", "note": "生产集群"}));
        assert_eq!(got.password_sealed.as_deref(), Some("sealed:abc"));
        assert_eq!(
            (got.kind, got.auth_kind),
            (DataSourceKind::Elk, AuthKind::Basic)
        );

        d.name = "prod-logs-2".into();
        d.enabled = false;
        d.auth_kind = AuthKind::Bearer;
        d.token_sealed = Some("sealed:tok".into());
        d.password_sealed = None;
        s.update_datasource(&d).await.unwrap();
        let got = s.datasource(d.id).await.unwrap();
        assert_eq!(got.name, "prod-logs-2");
        assert!(!got.enabled);
        assert_eq!(got.token_sealed.as_deref(), Some("sealed:tok"));
        assert_eq!(got.password_sealed, None);

        s.delete_datasource(d.id).await.unwrap();
        assert_eq!(
            s.datasource(d.id).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            s.delete_datasource(d.id).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            s.update_datasource(&d).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
    }

    pub async fn datasources_unique_name_and_order(s: &dyn Store) {
        s.insert_datasource(&datasource("b-prom", DataSourceKind::Prometheus))
            .await
            .unwrap();
        let a = datasource("a-loki", DataSourceKind::Loki);
        s.insert_datasource(&a).await.unwrap();
        let e = s
            .insert_datasource(&datasource("a-loki", DataSourceKind::Elk))
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict);

        let mut renamed = datasource("c", DataSourceKind::Elk);
        s.insert_datasource(&renamed).await.unwrap();
        renamed.name = "b-prom".into();
        let e = s.update_datasource(&renamed).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict, "renaming onto a taken name");

        let list = s.list_datasources(page(1, 20)).await.unwrap();
        let names: Vec<_> = list.items.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["a-loki", "b-prom", "c"]);
        assert_eq!(list.total, 3);
    }

    /// Issue #19: a test's outcome is kept with its time, replaced by the next one,
    /// and goes with its data source.
    pub async fn datasource_tests_are_kept(s: &dyn Store) {
        let d = datasource("prom", DataSourceKind::Prometheus);
        s.insert_datasource(&d).await.unwrap();
        assert!(s.datasource_tests().await.unwrap().is_empty());
        let first = Utc::now() - Duration::minutes(5);
        s.record_datasource_test(d.id, &json!({"ok": false, "message": "refused"}), first)
            .await
            .unwrap();
        let later = Utc::now();
        let result =
            json!({"ok": true, "latency_ms": 12, "version": "Prometheus 2.42.0", "message": "ok"});
        s.record_datasource_test(d.id, &result, later)
            .await
            .unwrap();
        let kept = s.datasource_tests().await.unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].0, d.id);
        assert_eq!(kept[0].1, result);
        assert_eq!(kept[0].2.timestamp_micros(), later.timestamp_micros());
        let e = s
            .record_datasource_test(uuid::Uuid::now_v7(), &result, later)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound);
        s.delete_datasource(d.id).await.unwrap();
        assert!(s.datasource_tests().await.unwrap().is_empty());
    }

    /// Issue #19: history rows carry the parsed alert's start and scope, and a
    /// search finds an analysis by a service only its parsed alert names.
    pub async fn analysis_history_rows_carry_scope(s: &dyn Store) {
        let mut a = analysis("EntrySLODegraded", "{\"alerts\": []}", 5);
        let at = "2023-01-29T10:05:00Z"
            .parse::<chrono::DateTime<Utc>>()
            .unwrap();
        a.alert = json!({
            "format": "text", "name": "x", "status": "firing", "starts_at": at,
            "labels": {}, "annotations": {}, "summary": "x", "fingerprint": "f",
            "language": "en", "alert_count": 1, "confidence": {},
            "scope": {"services": ["ts-ui-dashboard"], "pods": ["ts-ui-dashboard-7f-x"], "instances": ["10.0.0.7:8080"], "hosts": [], "ips": []}
        });
        a.completed_at = Some(a.created_at + Duration::milliseconds(1500));
        s.insert_analysis(&a).await.unwrap();
        s.insert_analysis(&analysis("Other", "other text", 1))
            .await
            .unwrap();
        let f = AnalysisFilter {
            text: Some("ts-ui-dashboard".into()),
            ..Default::default()
        };
        let got = s.list_analysis_summaries(&f, page(1, 20)).await.unwrap();
        assert_eq!(got.total, 1);
        let row = &got.items[0];
        assert_eq!(row.id, a.id);
        assert_eq!(row.alert_start, Some(at));
        assert_eq!(row.services, vec!["ts-ui-dashboard"]);
        assert_eq!(row.instances, vec!["ts-ui-dashboard-7f-x", "10.0.0.7:8080"]);
        assert_eq!(row.duration_ms, Some(1500));
    }

    fn analysis(title: &str, raw: &str, age_minutes: i64) -> Analysis {
        let mut a = Analysis::pending(
            title.into(),
            raw.into(),
            json!({"language": "zh"}),
            "e@x.io".into(),
        );
        a.created_at = Utc::now() - Duration::minutes(age_minutes);
        a
    }

    pub async fn analyses_round_trip_and_update(s: &dyn Store) {
        let mut a = analysis("HighErrorRate", "服务 ts-order 错误率升高", 0);
        s.insert_analysis(&a).await.unwrap();
        let got = s.analysis(a.id).await.unwrap();
        assert_eq!(got.status, AnalysisStatus::Pending);
        assert_eq!(got.raw_alert, "服务 ts-order 错误率升高");
        assert_eq!(got.options, json!({"language": "zh"}));
        assert_eq!(got.result, None);

        a.status = AnalysisStatus::Completed;
        a.evidence =
            json!({"log_templates": [{"template": "Timeout after <*> ms", "incident": 42}]});
        a.result = Some(json!({"summary": "数据库连接池耗尽", "confidence": 0.8}));
        a.analyzer = Some("statistical".into());
        a.usage = Some(json!({"seconds": 1.5}));
        a.started_at = Some(Utc::now());
        a.completed_at = Some(Utc::now());
        s.update_analysis(&a).await.unwrap();
        let got = s.analysis(a.id).await.unwrap();
        assert_eq!(got.status, AnalysisStatus::Completed);
        assert_eq!(got.evidence, a.evidence);
        assert_eq!(got.result, a.result);
        assert_eq!(got.completed_at, a.completed_at.map(micros));

        let ghost = analysis("x", "y", 0);
        assert_eq!(
            s.analysis(ghost.id).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            s.update_analysis(&ghost).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
    }

    pub async fn due_refreshes_become_new_revisions(s: &dyn Store) {
        let now = Utc::now();
        let mut a = analysis("HighCPU on node-1", "{}", 5);
        a.status = AnalysisStatus::Completed;
        a.evidence = json!({"suspects": [{"component": "node-1"}]});
        a.result =
            Some(json!({"root_cause": "CPU on node-1", "suspects": [{"component": "node-1"}]}));
        a.analyzer = Some("statistical".into());
        a.started_at = Some(now - Duration::minutes(4));
        a.completed_at = Some(now - Duration::minutes(3));
        a.refresh_at = Some(now + Duration::minutes(2));
        s.insert_analysis(&a).await.unwrap();
        // Not due yet: nothing moves.
        assert!(s.requeue_due_refreshes(now, 8).await.unwrap().is_empty());
        assert!(s.analysis_revisions(a.id).await.unwrap().is_empty());
        // Due: back to pending as revision 2, the first run kept as it was.
        let later = now + Duration::minutes(3);
        assert_eq!(s.requeue_due_refreshes(later, 8).await.unwrap(), vec![a.id]);
        let got = s.analysis(a.id).await.unwrap();
        assert_eq!(got.status, AnalysisStatus::Pending);
        assert_eq!(got.revision, 2);
        assert_eq!(
            (got.refresh_at, got.started_at, got.completed_at),
            (None, None, None)
        );
        assert_eq!(
            got.result, a.result,
            "the last answer stays readable while it runs again"
        );
        let revs = s.analysis_revisions(a.id).await.unwrap();
        assert_eq!(revs.len(), 1);
        assert_eq!(revs[0].revision, 1);
        assert_eq!(revs[0].result, a.result);
        assert_eq!(revs[0].evidence, a.evidence);
        assert_eq!(revs[0].completed_at, a.completed_at.map(micros));
        // Once only: a second look (another process) finds nothing due.
        assert!(s.requeue_due_refreshes(later, 8).await.unwrap().is_empty());
        // The pending revision is claimed like any new analysis.
        let claimed = s
            .claim_analysis("w1", later + Duration::seconds(30), later)
            .await
            .unwrap()
            .expect("the refresh is claimable");
        assert_eq!((claimed.analysis.id, claimed.attempts), (a.id, 1));
        // A running or failed analysis is never put back, whatever its refresh time.
        let mut b = analysis("other", "{}", 1);
        b.refresh_at = Some(now);
        s.insert_analysis(&b).await.unwrap();
        assert!(s.requeue_due_refreshes(later, 8).await.unwrap().is_empty());
        assert_eq!(
            s.analysis_revisions(Uuid::now_v7())
                .await
                .unwrap_err()
                .code(),
            ErrorCode::NotFound
        );
    }

    pub async fn analyses_filter_and_paginate(s: &dyn Store) {
        let old = analysis("DiskFull on node-1", "disk almost full", 120);
        let mid = analysis("HighLatency", "p99 latency 5s on checkout", 60);
        let mut new = analysis("数据库告警", "MySQL 连接数过高 50% 以上", 1);
        new.status = AnalysisStatus::Failed;
        for a in [&old, &mid, &new] {
            s.insert_analysis(a).await.unwrap();
        }
        let all = s
            .list_analyses(&AnalysisFilter::default(), page(1, 20))
            .await
            .unwrap();
        let ids: Vec<_> = all.items.iter().map(|a| a.id).collect();
        assert_eq!(ids, [new.id, mid.id, old.id], "newest first");

        let f = AnalysisFilter {
            status: Some(AnalysisStatus::Failed),
            ..Default::default()
        };
        let got = s.list_analyses(&f, page(1, 20)).await.unwrap();
        assert_eq!((got.total, got.items[0].id), (1, new.id));

        let f = AnalysisFilter {
            text: Some("LATENCY".into()),
            ..Default::default()
        };
        assert_eq!(
            s.list_analyses(&f, page(1, 20)).await.unwrap().items[0].id,
            mid.id
        );
        let f = AnalysisFilter {
            text: Some("连接数".into()),
            ..Default::default()
        };
        assert_eq!(s.list_analyses(&f, page(1, 20)).await.unwrap().total, 1);
        // `%` is matched literally: "50%" is in one alert, "5%" in none.
        let f = AnalysisFilter {
            text: Some("5%".into()),
            ..Default::default()
        };
        assert_eq!(s.list_analyses(&f, page(1, 20)).await.unwrap().total, 0);
        let f = AnalysisFilter {
            text: Some("50%".into()),
            ..Default::default()
        };
        assert_eq!(s.list_analyses(&f, page(1, 20)).await.unwrap().total, 1);

        let f = AnalysisFilter {
            since: Some(Utc::now() - Duration::minutes(90)),
            until: Some(Utc::now() - Duration::minutes(30)),
            ..Default::default()
        };
        let got = s.list_analyses(&f, page(1, 20)).await.unwrap();
        assert_eq!(got.items.iter().map(|a| a.id).collect::<Vec<_>>(), [mid.id]);

        let p2 = s
            .list_analyses(&AnalysisFilter::default(), page(2, 2))
            .await
            .unwrap();
        assert_eq!((p2.total, p2.items.len(), p2.items[0].id), (3, 1, old.id));
        // Past the last page: no rows, the total still exact.
        let p9 = s
            .list_analyses(&AnalysisFilter::default(), page(9, 2))
            .await
            .unwrap();
        assert_eq!((p9.total, p9.items.len()), (3, 0));
        let f = AnalysisFilter {
            text: Some("latency".into()),
            ..Default::default()
        };
        let p9 = s.list_analyses(&f, page(9, 2)).await.unwrap();
        assert_eq!((p9.total, p9.items.len()), (1, 0));

        // List rows: same order, filters and totals, with the start of the alert.
        let rows = s
            .list_analysis_summaries(&AnalysisFilter::default(), page(1, 20))
            .await
            .unwrap();
        let ids: Vec<_> = rows.items.iter().map(|a| a.id).collect();
        assert_eq!((rows.total, ids), (3, vec![new.id, mid.id, old.id]));
        assert_eq!(rows.items[0].raw_alert_preview, "MySQL 连接数过高 50% 以上");
        assert_eq!(rows.items[0].status, AnalysisStatus::Failed);
        let f = AnalysisFilter {
            text: Some("连接数".into()),
            ..Default::default()
        };
        let got = s.list_analysis_summaries(&f, page(1, 20)).await.unwrap();
        assert_eq!((got.total, got.items[0].id), (1, new.id));
        let p2 = s
            .list_analysis_summaries(&AnalysisFilter::default(), page(2, 2))
            .await
            .unwrap();
        assert_eq!((p2.total, p2.items.len(), p2.items[0].id), (3, 1, old.id));
        let p9 = s
            .list_analysis_summaries(&AnalysisFilter::default(), page(9, 2))
            .await
            .unwrap();
        assert_eq!((p9.total, p9.items.len()), (3, 0));
        let f = AnalysisFilter {
            since: Some(Utc::now() + Duration::hours(1)),
            ..Default::default()
        };
        let none = s.list_analysis_summaries(&f, page(1, 20)).await.unwrap();
        assert_eq!((none.total, none.items.len()), (0, 0));

        // The preview is the first ALERT_PREVIEW_CHARS characters (not bytes).
        let long = analysis("Long", &"告警".repeat(400), 0);
        s.insert_analysis(&long).await.unwrap();
        let rows = s
            .list_analysis_summaries(&AnalysisFilter::default(), page(1, 1))
            .await
            .unwrap();
        assert_eq!(rows.items[0].id, long.id);
        assert_eq!(
            rows.items[0].raw_alert_preview,
            "告警"
                .repeat(400)
                .chars()
                .take(ALERT_PREVIEW_CHARS)
                .collect::<String>()
        );
    }

    pub async fn analyses_are_claimed_with_leases(s: &dyn Store) {
        let first = analysis("first", "a", 10);
        let second = analysis("second", "b", 5);
        let mut done = analysis("done", "c", 20);
        done.status = AnalysisStatus::Completed;
        for a in [&first, &second, &done] {
            s.insert_analysis(a).await.unwrap();
        }
        let now = Utc::now();
        let lease = now + Duration::seconds(60);
        let c1 = s.claim_analysis("w1", lease, now).await.unwrap().unwrap();
        assert_eq!(
            (c1.analysis.id, c1.attempts),
            (first.id, 1),
            "oldest first, final ones skipped"
        );
        let c2 = s.claim_analysis("w2", lease, now).await.unwrap().unwrap();
        assert_eq!(c2.analysis.id, second.id);
        assert!(
            s.claim_analysis("w3", lease, now).await.unwrap().is_none(),
            "all leased"
        );

        assert!(
            s.renew_lease(first.id, "w1", lease + Duration::seconds(30))
                .await
                .unwrap()
        );
        assert!(
            !s.renew_lease(first.id, "w2", lease).await.unwrap(),
            "not w2's lease"
        );

        // w1 dies: after its lease runs out another worker takes the analysis over,
        // and w1's late writes are refused.
        let later = lease + Duration::seconds(31);
        let c3 = s
            .claim_analysis("w3", later + Duration::seconds(60), later)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((c3.analysis.id, c3.attempts), (first.id, 2));
        let mut stale = c1.analysis.clone();
        stale.status = AnalysisStatus::Completed;
        let e = s.update_claimed_analysis(&stale, "w1").await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict);
        let mut fresh = c3.analysis.clone();
        fresh.status = AnalysisStatus::Collecting;
        s.update_claimed_analysis(&fresh, "w3").await.unwrap();
        assert_eq!(
            s.analysis(first.id).await.unwrap().status,
            AnalysisStatus::Collecting
        );
    }

    pub async fn released_claims_are_pending_again_and_uncharged(s: &dyn Store) {
        let running = analysis("running", "a", 10);
        let other = analysis("other's", "b", 5);
        for a in [&running, &other] {
            s.insert_analysis(a).await.unwrap();
        }
        let now = Utc::now();
        let lease = now + Duration::seconds(60);
        let c1 = s
            .claim_analysis("stopping", lease, now)
            .await
            .unwrap()
            .unwrap();
        let mut collecting = c1.analysis.clone();
        collecting.status = AnalysisStatus::Collecting;
        s.update_claimed_analysis(&collecting, "stopping")
            .await
            .unwrap();
        let c2 = s
            .claim_analysis("staying", lease, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((c1.analysis.id, c2.analysis.id), (running.id, other.id));

        // The stopping worker hands back what it holds, and only that.
        assert_eq!(s.release_claims("stopping").await.unwrap(), 1);
        assert_eq!(s.release_claims("stopping").await.unwrap(), 0);
        let back = s.analysis(running.id).await.unwrap();
        assert_eq!(back.status, AnalysisStatus::Pending);
        // Another worker takes it at once (no lease to wait out), as its first attempt.
        let taken = s
            .claim_analysis("other", lease, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((taken.analysis.id, taken.attempts), (running.id, 1));
        assert!(
            s.renew_lease(other.id, "staying", lease).await.unwrap(),
            "the other worker's claim is untouched"
        );
        let e = s
            .update_claimed_analysis(&collecting, "stopping")
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict, "the released claim is gone");
    }

    pub async fn analysis_events_are_kept_in_order(s: &dyn Store) {
        use oncall_core::analysis::{AnalysisEvent, Stage};
        let a = analysis("evented", "x", 0);
        s.insert_analysis(&a).await.unwrap();
        for (seq, stage) in (1..).zip([Stage::Parsed, Stage::Collecting, Stage::Done]) {
            let e = AnalysisEvent {
                seq,
                stage,
                message: format!("第 {seq} 步"),
                data: (seq == 2).then(|| json!({"source": "prom"})),
                at: Utc::now(),
            };
            s.append_event(a.id, &e).await.unwrap();
        }
        let all = s.events(a.id, 0).await.unwrap();
        assert_eq!(
            all.iter().map(|e| e.stage).collect::<Vec<_>>(),
            [Stage::Parsed, Stage::Collecting, Stage::Done]
        );
        assert_eq!(all[1].data, Some(json!({"source": "prom"})));
        assert_eq!(all[0].message, "第 1 步");
        assert_eq!(s.events(a.id, 2).await.unwrap().len(), 1);
        let dup = AnalysisEvent {
            seq: 3,
            stage: Stage::Failed,
            message: "x".into(),
            data: None,
            at: Utc::now(),
        };
        assert_eq!(
            s.append_event(a.id, &dup).await.unwrap_err().code(),
            ErrorCode::Conflict
        );
    }

    pub async fn competing_workers_claim_each_analysis_once(s: Arc<dyn Store>) {
        let mut ids = HashSet::new();
        for i in 0..30 {
            let a = analysis(&format!("job {i}"), "x", 0);
            ids.insert(a.id);
            s.insert_analysis(&a).await.unwrap();
        }
        let mut workers = Vec::new();
        for w in 0..3 {
            let s = s.clone();
            workers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                let owner = format!("worker-{w}");
                while let Some(c) = s
                    .claim_analysis(&owner, Utc::now() + Duration::seconds(60), Utc::now())
                    .await
                    .unwrap()
                {
                    mine.push(c.analysis.id);
                }
                mine
            }));
        }
        let mut claimed = Vec::new();
        for w in workers {
            claimed.extend(w.await.unwrap());
        }
        assert_eq!(claimed.len(), 30, "no analysis claimed twice");
        assert_eq!(
            claimed.into_iter().collect::<HashSet<_>>(),
            ids,
            "every analysis claimed"
        );
    }

    fn new_ticket(title: &str, severity: Severity, assignee: Option<&str>) -> NewTicketRecord {
        NewTicketRecord {
            title: title.into(),
            root_cause: "连接池耗尽".into(),
            severity,
            assignee: assignee.map(Into::into),
            analysis_id: None,
            description: None,
            created_by: "li.lei@example.com".into(),
        }
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    pub async fn tickets_are_numbered_per_day(s: &dyn Store) {
        let a = s
            .create_ticket(&new_ticket("a", Severity::P1, None), day(24))
            .await
            .unwrap();
        let b = s
            .create_ticket(&new_ticket("b", Severity::P1, None), day(24))
            .await
            .unwrap();
        let c = s
            .create_ticket(&new_ticket("c", Severity::P1, None), day(25))
            .await
            .unwrap();
        assert_eq!(a.no, "INC-20261124-0001");
        assert_eq!(b.no, "INC-20261124-0002");
        assert_eq!(c.no, "INC-20261125-0001");
        assert_eq!((a.status, a.version), (TicketStatus::Open, 1));

        let got = s.ticket(&a.no).await.unwrap();
        assert_eq!(got, a);
        let history = s.ticket_history(&a.no).await.unwrap();
        assert_eq!(history.len(), 1);
        assert_eq!(history[0].action, "created");
        assert_eq!(history[0].to_status, Some(TicketStatus::Open));
        assert_eq!(
            s.ticket("INC-19990101-0001").await.unwrap_err().code(),
            ErrorCode::NotFound
        );
    }

    fn change(t: &Ticket, to: TicketStatus) -> (Ticket, TicketHistoryEntry) {
        let mut next = t.clone();
        next.status = to;
        next.version = t.version + 1;
        next.updated_at = Utc::now();
        let entry = TicketHistoryEntry {
            id: Uuid::now_v7(),
            ticket_no: t.no.clone(),
            actor: "han.meimei@example.com".into(),
            action: "status".into(),
            from_status: Some(t.status),
            to_status: Some(to),
            changes: json!({"status": {"from": t.status, "to": to}}),
            reason: Some("开始处理".into()),
            at: Utc::now(),
        };
        (next, entry)
    }

    pub async fn tickets_update_with_version_check(s: &dyn Store) {
        let t = s
            .create_ticket(&new_ticket("t", Severity::P2, None), day(24))
            .await
            .unwrap();
        let (next, entry) = change(&t, TicketStatus::Processing);
        s.update_ticket(&next, t.version, &entry).await.unwrap();
        let got = s.ticket(&t.no).await.unwrap();
        assert_eq!((got.status, got.version), (TicketStatus::Processing, 2));

        // A write based on the old version loses and leaves no trace.
        let (stale, stale_entry) = change(&t, TicketStatus::Closed);
        let e = s
            .update_ticket(&stale, t.version, &stale_entry)
            .await
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::Conflict, "{e}");
        let history = s.ticket_history(&t.no).await.unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[1].reason.as_deref(), Some("开始处理"));
        assert_eq!(history[1].from_status, Some(TicketStatus::Open));

        let mut ghost = t.clone();
        ghost.no = "INC-19990101-0009".into();
        let (ghost, ghost_entry) = change(&ghost, TicketStatus::Processing);
        let e = s.update_ticket(&ghost, 1, &ghost_entry).await.unwrap_err();
        assert_eq!(e.code(), ErrorCode::NotFound);
    }

    /// Sets `t`'s confirmation (and status) the way the engine does.
    fn confirm(
        t: &Ticket,
        to: TicketStatus,
        cause: Option<&str>,
        resolution: Option<&str>,
    ) -> (Ticket, TicketHistoryEntry) {
        let (mut next, mut entry) = change(t, to);
        next.confirmed_root_cause = cause.map(Into::into);
        next.resolution = resolution.map(Into::into);
        next.confirmed_by = Some("han.meimei@example.com".into());
        next.confirmed_at = Some(next.updated_at);
        entry.changes = json!({
            "status": {"from": t.status, "to": to},
            "confirmed_root_cause": {"from": t.confirmed_root_cause, "to": cause},
        });
        (next, entry)
    }

    pub async fn tickets_keep_their_confirmation(s: &dyn Store) {
        let t = s
            .create_ticket(&new_ticket("pool", Severity::P1, None), day(24))
            .await
            .unwrap();
        assert_eq!(
            (
                t.confirmed_root_cause.as_deref(),
                t.resolution.as_deref(),
                t.confirmed_at
            ),
            (None, None, None)
        );
        let (next, entry) = change(&t, TicketStatus::Processing);
        s.update_ticket(&next, t.version, &entry).await.unwrap();
        let t = s.ticket(&t.no).await.unwrap();
        let (next, entry) = confirm(
            &t,
            TicketStatus::Resolved,
            Some("ts-order-service-5d9f7-abc12"),
            Some("调大连接池 (raised the pool size)\nfrom 10 to 50"),
        );
        s.update_ticket(&next, t.version, &entry).await.unwrap();
        let got = s.ticket(&t.no).await.unwrap();
        assert_eq!(
            got.confirmed_root_cause.as_deref(),
            Some("ts-order-service-5d9f7-abc12")
        );
        assert_eq!(
            got.resolution.as_deref(),
            Some("调大连接池 (raised the pool size)\nfrom 10 to 50")
        );
        assert_eq!(got.confirmed_by.as_deref(), Some("han.meimei@example.com"));
        assert_eq!(got.confirmed_at, next.confirmed_at.map(micros));
        // Lists read the same columns (SQLite's direct path included).
        let listed = s
            .list_tickets(&TicketFilter::default(), page(1, 20))
            .await
            .unwrap();
        assert_eq!(listed.items, vec![got.clone()]);
        let history = s.ticket_history(&t.no).await.unwrap();
        assert_eq!(
            history.last().unwrap().changes["confirmed_root_cause"]["to"],
            "ts-order-service-5d9f7-abc12"
        );
        // Cleared again (a reopen): NULLs, not empty texts.
        let mut next = got.clone();
        next.status = TicketStatus::Processing;
        next.confirmed_root_cause = None;
        next.resolution = None;
        next.confirmed_by = None;
        next.confirmed_at = None;
        next.version += 1;
        let (_, entry) = change(&got, TicketStatus::Processing);
        s.update_ticket(&next, got.version, &entry).await.unwrap();
        let got = s.ticket(&t.no).await.unwrap();
        assert_eq!(
            (
                got.confirmed_root_cause,
                got.resolution,
                got.confirmed_by,
                got.confirmed_at
            ),
            (None, None, None, None)
        );
    }

    /// A completed analysis whose result ranks `suspects`, padded to a realistic
    /// size (the accuracy read must not need the rest).
    async fn analysed(s: &dyn Store, alert: &str, suspects: &[&str]) -> Uuid {
        let mut a = analysis(alert, "raw", 0);
        a.status = AnalysisStatus::Completed;
        a.alert = json!({"name": alert, "labels": {"alertname": alert}});
        a.result = Some(json!({
            "summary": "x".repeat(20_000),
            "root_cause": suspects.first(),
            "suspects": suspects
                .iter()
                .map(|c| json!({"component": c, "kind": "service", "score": 0.5, "reasons": ["r"]}))
                .collect::<Vec<_>>(),
        }));
        s.insert_analysis(&a).await.unwrap();
        a.id
    }

    pub async fn accuracy_rows_read_the_top_suspects(s: &dyn Store) {
        let before = Utc::now() - Duration::seconds(5);
        let mut made = Vec::new();
        // (alert, suspects, final status, confirmed cause)
        let cases: [(&str, &[&str], TicketStatus, Option<&str>); 6] = [
            (
                "HighLatency",
                &["cart", "db", "web", "gateway"],
                TicketStatus::Resolved,
                Some("db"),
            ),
            ("HighLatency", &["cart"], TicketStatus::Closed, Some("cart")),
            ("订单错误率升高", &[], TicketStatus::Resolved, None),
            (
                "PodCrashLooping",
                &["redis"],
                TicketStatus::Processing,
                Some("redis"),
            ),
            ("", &[], TicketStatus::Resolved, Some("manual-host")),
            ("", &[], TicketStatus::Resolved, None),
        ];
        for (i, (alert, suspects, status, cause)) in cases.iter().enumerate() {
            let mut new = new_ticket(&format!("t{i}"), Severity::P2, None);
            if !alert.is_empty() {
                new.analysis_id = Some(analysed(s, alert, suspects).await);
            }
            let t = s.create_ticket(&new, day(24)).await.unwrap();
            let (next, entry) = change(&t, TicketStatus::Processing);
            s.update_ticket(&next, t.version, &entry).await.unwrap();
            let t = s.ticket(&t.no).await.unwrap();
            if *status != TicketStatus::Processing {
                let (mut next, entry) = confirm(&t, TicketStatus::Resolved, *cause, None);
                if cause.is_none() {
                    (next.confirmed_by, next.confirmed_at) = (None, None);
                }
                s.update_ticket(&next, t.version, &entry).await.unwrap();
                if *status == TicketStatus::Closed {
                    let t = s.ticket(&t.no).await.unwrap();
                    let (next, entry) = change(&t, TicketStatus::Closed);
                    s.update_ticket(&next, t.version, &entry).await.unwrap();
                }
            } else {
                let (next, entry) = confirm(&t, TicketStatus::Processing, *cause, None);
                s.update_ticket(&next, t.version, &entry).await.unwrap();
            }
            made.push(t.no.clone());
        }
        let mut rows = s.accuracy_rows(Some(before), None).await.unwrap();
        rows.sort_by(|a, b| a.ticket_no.cmp(&b.ticket_no));
        let got: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.ticket_no.as_str(),
                    r.alert_name.as_str(),
                    r.has_result,
                    r.confirmed_root_cause.as_deref(),
                    r.suspects.iter().map(String::as_str).collect::<Vec<_>>(),
                )
            })
            .collect();
        // The open (processing) ticket and the one with neither analysis nor
        // confirmation are left out; only the first three suspects come back.
        assert_eq!(
            got,
            vec![
                (
                    made[0].as_str(),
                    "HighLatency",
                    true,
                    Some("db"),
                    vec!["cart", "db", "web"]
                ),
                (
                    made[1].as_str(),
                    "HighLatency",
                    true,
                    Some("cart"),
                    vec!["cart"]
                ),
                (made[2].as_str(), "订单错误率升高", true, None, vec![]),
                (made[4].as_str(), "", false, Some("manual-host"), vec![]),
            ]
        );
        assert_eq!(rows[0].title, "t0");
        assert!(rows[0].created_at >= micros(before));
        // The time bounds apply to the tickets' creation.
        assert!(
            s.accuracy_rows(None, Some(before))
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            s.accuracy_rows(Some(Utc::now() + Duration::seconds(5)), None)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(s.accuracy_rows(None, None).await.unwrap().len(), 4);
    }

    pub async fn tickets_filter_and_paginate(s: &dyn Store) {
        let a = s
            .create_ticket(
                &new_ticket("Redis down", Severity::P0, Some("a@x.io")),
                day(20),
            )
            .await
            .unwrap();
        let b = s
            .create_ticket(&new_ticket("磁盘满", Severity::P2, Some("b@x.io")), day(21))
            .await
            .unwrap();
        let c = s
            .create_ticket(&new_ticket("Slow checkout", Severity::P2, None), day(22))
            .await
            .unwrap();
        let (next, entry) = change(&c, TicketStatus::Processing);
        s.update_ticket(&next, 1, &entry).await.unwrap();

        let all = s
            .list_tickets(&TicketFilter::default(), page(1, 20))
            .await
            .unwrap();
        assert_eq!(all.total, 3);
        let f = TicketFilter {
            severity: Some(Severity::P2),
            ..Default::default()
        };
        assert_eq!(s.list_tickets(&f, page(1, 20)).await.unwrap().total, 2);
        let f = TicketFilter {
            status: Some(TicketStatus::Processing),
            ..Default::default()
        };
        let got = s.list_tickets(&f, page(1, 20)).await.unwrap();
        assert_eq!(
            got.items.iter().map(|t| t.no.as_str()).collect::<Vec<_>>(),
            [c.no.as_str()]
        );
        let f = TicketFilter {
            assignee: Some("a@x.io".into()),
            ..Default::default()
        };
        assert_eq!(
            s.list_tickets(&f, page(1, 20)).await.unwrap().items[0].no,
            a.no
        );
        let f = TicketFilter {
            text: Some("磁盘".into()),
            ..Default::default()
        };
        assert_eq!(
            s.list_tickets(&f, page(1, 20)).await.unwrap().items[0].no,
            b.no
        );
        let f = TicketFilter {
            text: Some("20261122".into()),
            ..Default::default()
        };
        assert_eq!(
            s.list_tickets(&f, page(1, 20)).await.unwrap().items[0].no,
            c.no
        );
        let f = TicketFilter {
            since: Some(Utc::now() + Duration::hours(1)),
            ..Default::default()
        };
        assert_eq!(s.list_tickets(&f, page(1, 20)).await.unwrap().total, 0);

        let p = s
            .list_tickets(&TicketFilter::default(), page(2, 2))
            .await
            .unwrap();
        assert_eq!((p.total, p.items.len()), (3, 1));
        // Past the last page: no rows, the total still exact, with and without filters.
        let p = s
            .list_tickets(&TicketFilter::default(), page(5, 2))
            .await
            .unwrap();
        assert_eq!((p.total, p.items.len()), (3, 0));
        let f = TicketFilter {
            severity: Some(Severity::P2),
            status: Some(TicketStatus::Open),
            ..Default::default()
        };
        let p = s.list_tickets(&f, page(1, 20)).await.unwrap();
        assert_eq!((p.total, p.items.len()), (1, 1));
        assert_eq!(p.items[0].no, b.no);
        let p = s.list_tickets(&f, page(2, 20)).await.unwrap();
        assert_eq!((p.total, p.items.len()), (1, 0));
        let f = TicketFilter {
            since: Some(Utc::now() - Duration::hours(1)),
            until: Some(Utc::now() + Duration::hours(1)),
            text: Some("INC-".into()),
            ..Default::default()
        };
        let p = s.list_tickets(&f, page(1, 2)).await.unwrap();
        assert_eq!((p.total, p.items.len()), (3, 2));
    }

    pub async fn tickets_numbers_are_unique_under_concurrency(s: Arc<dyn Store>) {
        let mut tasks = Vec::new();
        for i in 0..50 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.create_ticket(
                    &new_ticket(&format!("storm {i}"), Severity::P3, None),
                    day(24),
                )
                .await
            }));
        }
        let mut numbers = HashSet::new();
        for t in tasks {
            numbers.insert(t.await.unwrap().unwrap().no);
        }
        let expected: HashSet<String> = (1..=50).map(|i| format!("INC-20261124-{i:04}")).collect();
        assert_eq!(numbers, expected);
    }

    pub async fn tickets_concurrent_changes_one_wins(s: Arc<dyn Store>) {
        let t = s
            .create_ticket(&new_ticket("race", Severity::P1, None), day(24))
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for to in [TicketStatus::Processing, TicketStatus::Closed] {
            let s = s.clone();
            let (next, entry) = change(&t, to);
            tasks.push(tokio::spawn(async move {
                s.update_ticket(&next, 1, &entry).await
            }));
        }
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        let loser = results.into_iter().find_map(Result::err).unwrap();
        assert_eq!(loser.code(), ErrorCode::Conflict);
        assert_eq!(s.ticket_history(&t.no).await.unwrap().len(), 2);
        assert_eq!(s.ticket(&t.no).await.unwrap().version, 2);
    }

    pub async fn outbox_prunes_only_finished_old_deliveries(s: &dyn Store) {
        use oncall_core::notify::{ChannelKind, Notice, NotificationChannel, NotificationEvent};
        use oncall_core::store::DeliveryResult;
        let now = Utc::now();
        let channel = NotificationChannel {
            id: Uuid::now_v7(),
            name: "ops chat".into(),
            kind: ChannelKind::Webhook,
            url_sealed: "sealed:url".into(),
            url_hint: "http://chat.example/…".into(),
            secret_sealed: None,
            events: vec![NotificationEvent::AnalysisCompleted],
            enabled: true,
            created_at: now,
            updated_at: now,
        };
        s.insert_channel(&channel).await.unwrap();
        let notice = Notice {
            event: NotificationEvent::AnalysisCompleted,
            title: "done".into(),
            text: "root cause".into(),
            link: "http://oncall.local/analyses/1".into(),
            analysis_id: None,
            ticket_no: None,
            severity: None,
            status: None,
            summary: None,
            root_cause: None,
        };
        // Five old deliveries (40 days) ending as delivered, failed, retried,
        // in flight and never tried; one recent delivered one.
        let old = now - Duration::days(40);
        for i in 0..5 {
            s.enqueue_deliveries(&[channel.id], &format!("old:{i}"), &notice, old)
                .await
                .unwrap();
        }
        s.enqueue_deliveries(&[channel.id], "new", &notice, now)
            .await
            .unwrap();
        let results = [
            Some(DeliveryResult::Delivered),
            Some(DeliveryResult::Failed {
                error: "gone".into(),
            }),
            Some(DeliveryResult::Retry {
                at: now,
                error: "busy".into(),
            }),
            None, // claimed, still sending
        ];
        for result in results {
            let claimed = s
                .claim_delivery(now, now + Duration::seconds(60))
                .await
                .unwrap()
                .unwrap();
            assert!(claimed.delivery.event_key.starts_with("old:"));
            if let Some(r) = result {
                s.finish_delivery(claimed.delivery.id, &r, now)
                    .await
                    .unwrap();
            }
        }
        // the oldest due next: the fifth old one (the retried one is due at `now`)
        let fifth = s
            .claim_delivery(now, now + Duration::seconds(60))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(fifth.delivery.event_key, "old:4");
        s.finish_delivery(fifth.delivery.id, &DeliveryResult::Delivered, now)
            .await
            .unwrap();
        let pruned = s.prune_deliveries(now - Duration::days(30)).await.unwrap();
        assert_eq!(pruned, 3, "the old delivered and given-up ones");
        let left: Vec<String> = s
            .deliveries(channel.id, PageRequest::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|d| d.event_key)
            .collect();
        assert_eq!(left.len(), 3, "{left:?}");
        assert!(left.contains(&"new".to_owned()), "{left:?}");
        assert_eq!(
            s.prune_deliveries(now - Duration::days(30)).await.unwrap(),
            0
        );
    }
}

/// Instantiates each suite function as a test for one backend.
macro_rules! conformance {
    ($backend:ident, $fresh:path, [$($test:ident),* $(,)?], shared: [$($shared:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(db) = $fresh().await else { return };
                    crate::suite::$test(&*db.store).await;
                    db.finish().await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $shared() {
                    let Some(db) = $fresh().await else { return };
                    crate::suite::$shared(db.store.clone()).await;
                    db.finish().await;
                }
            )*
        }
    };
}

macro_rules! all_backends {
    ($($backend:ident => $fresh:path),* $(,)?) => {
        $(
            conformance!($backend, $fresh, [
                users_round_trip,
                users_unique_email_is_conflict,
                users_tokens_are_revoked,
                login_throttle_charges_by_compare_and_set,
                users_update_and_password,
                users_paginate_in_email_order,
                datasources_crud,
                datasources_unique_name_and_order,
                datasource_tests_are_kept,
                analysis_history_rows_carry_scope,
                analyses_round_trip_and_update,
                due_refreshes_become_new_revisions,
                analyses_filter_and_paginate,
                analyses_are_claimed_with_leases,
                released_claims_are_pending_again_and_uncharged,
                analysis_events_are_kept_in_order,
                tickets_are_numbered_per_day,
                tickets_update_with_version_check,
                tickets_filter_and_paginate,
                tickets_keep_their_confirmation,
                accuracy_rows_read_the_top_suspects,
                outbox_prunes_only_finished_old_deliveries,
            ], shared: [
                tickets_numbers_are_unique_under_concurrency,
                tickets_concurrent_changes_one_wins,
                competing_workers_claim_each_analysis_once,
                login_throttle_parallel_charges_are_counted_once_each,
            ]);
        )*
    };
}

all_backends!(sqlite => crate::support::fresh_sqlite, mysql => crate::support::fresh_mysql);

/// Processes started together on an empty database all come up: the migrations
/// run once, under a lock that holds on MariaDB (sqlx's own does not). Several
/// rounds, each on a new database, three stores opened at the same moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn mysql_stores_opened_at_once_on_an_empty_database_all_open() {
    use oncall_core::store::{MysqlStore, Store};
    for round in 0..4 {
        let Some((server_url, name, url)) = support::fresh_mysql_url().await else {
            return;
        };
        let opens = (0..3).map(|_| {
            let url = url.clone();
            tokio::spawn(async move { MysqlStore::open(&url).await })
        });
        let opened = futures_util::future::join_all(opens).await;
        let mut stores = Vec::new();
        for (i, o) in opened.into_iter().enumerate() {
            match o.unwrap() {
                Ok(s) => stores.push(s),
                Err(e) => panic!("round {round}: store {i} failed to open: {e}"),
            }
        }
        let applied: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(stores[0].pool())
                .await
                .unwrap();
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations/mysql"))
            .unwrap()
            .count();
        assert_eq!(applied as usize, files, "each migration applied once");
        for s in &stores {
            s.ping().await.unwrap();
            s.close().await;
        }
        support::drop_mysql_database(&server_url, &name).await;
    }
}

/// The same for SQLite: processes opening one new file at the same moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_stores_opened_at_once_on_a_new_file_all_open() {
    use oncall_core::store::{SqliteStore, Store};
    for round in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        let url = support::sqlite_url(&dir);
        let opens = (0..3).map(|_| {
            let url = url.clone();
            tokio::spawn(async move { SqliteStore::open(&url).await })
        });
        let opened = futures_util::future::join_all(opens).await;
        for (i, o) in opened.into_iter().enumerate() {
            match o.unwrap() {
                Ok(s) => {
                    s.ping().await.unwrap();
                    s.close().await;
                }
                Err(e) => panic!("round {round}: store {i} failed to open: {e}"),
            }
        }
    }
}
