//! The `OnCall` facade: opening databases, the first admin account, login and the
//! role rules, on SQLite and MySQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::time::{Duration, Instant};

use oncall_core::users::{NewUser, Role};
use oncall_core::{ErrorCode, OnCall, Settings, UserPatch};

fn new_user(email: &str, role: Role) -> NewUser {
    NewUser {
        email: email.into(),
        name: None,
        password: "long-enough-pw".into(),
        role,
    }
}

async fn accounts_and_roles(url: String) {
    let oncall = OnCall::open(Settings::with_database(url.clone()))
        .await
        .unwrap();
    assert!(oncall.default_password_in_use().await.unwrap());
    let admin = oncall
        .authenticate("ADMIN@oncall.example.com", "admin123")
        .await
        .unwrap();
    assert_eq!(admin.role, Role::Admin);

    let e = oncall
        .authenticate("admin@oncall.example.com", "wrong")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Unauthorized);
    let e2 = oncall
        .authenticate("nobody@example.com", "wrong")
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        e2.to_string(),
        "no hint whether the email exists"
    );

    let eng = oncall
        .create_user(&admin, new_user("eng@example.com", Role::Engineer))
        .await
        .unwrap();
    let e = oncall
        .create_user(&admin, new_user("Eng@Example.com", Role::Viewer))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Conflict);
    let e = oncall
        .create_user(&eng, new_user("v@example.com", Role::Viewer))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden, "roles are enforced in core");
    let e = oncall
        .list_users(&eng, Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Forbidden);
    assert_eq!(
        oncall.user(&eng, eng.id).await.unwrap().email,
        "eng@example.com"
    );
    let mut weak = new_user("w@example.com", Role::Viewer);
    weak.password = "short".into();
    assert_eq!(
        oncall.create_user(&admin, weak).await.unwrap_err().code(),
        ErrorCode::Invalid
    );

    // Disabling locks the account out; admins cannot lock themselves out.
    let patch = UserPatch {
        disabled: Some(true),
        ..Default::default()
    };
    oncall
        .update_user(&admin, eng.id, patch.clone())
        .await
        .unwrap();
    let e = oncall
        .authenticate("eng@example.com", "long-enough-pw")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Unauthorized);
    assert_eq!(
        oncall
            .update_user(&admin, admin.id, patch)
            .await
            .unwrap_err()
            .code(),
        ErrorCode::Conflict
    );

    // Changing the default password clears the warning; the old one stops working.
    let e = oncall
        .change_password(&admin, "not-current", "new-admin-pw")
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);
    assert!(oncall.identify(admin.id, admin.token_version).await.is_ok());
    let changed = oncall
        .change_password(&admin, "admin123", "new-admin-pw")
        .await
        .unwrap();
    assert_eq!(changed.token_version, admin.token_version + 1);
    // tokens issued before the change are refused, at once (the cache is cleared)
    let e = oncall
        .identify(admin.id, admin.token_version)
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Unauthorized);
    assert_eq!(
        oncall
            .identify(admin.id, changed.token_version)
            .await
            .unwrap()
            .id,
        admin.id
    );
    assert!(!oncall.default_password_in_use().await.unwrap());
    assert!(
        oncall
            .authenticate("admin@oncall.example.com", "admin123")
            .await
            .is_err()
    );
    oncall.close().await;

    // Reopening does not create a second admin.
    let again = OnCall::open(Settings::with_database(url)).await.unwrap();
    let admin = again
        .authenticate("admin@oncall.example.com", "new-admin-pw")
        .await
        .unwrap();
    assert_eq!(
        again
            .list_users(&admin, Default::default())
            .await
            .unwrap()
            .total,
        2
    );
    again.close().await;
}

#[tokio::test]
async fn sqlite_accounts_and_roles() {
    let dir = tempfile::tempdir().unwrap();
    accounts_and_roles(support::sqlite_url(&dir)).await;
}

#[tokio::test]
async fn mysql_accounts_and_roles() {
    let Some(db) = support::fresh_mysql().await else {
        return;
    };
    accounts_and_roles(db.url.clone()).await;
    db.finish().await;
}

#[tokio::test]
async fn the_first_admin_comes_from_the_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::with_database(support::sqlite_url(&dir));
    settings.admin_email = "root@corp.example.com".into();
    settings.admin_password = "chosen-by-ops".into();
    let oncall = OnCall::open(settings).await.unwrap();
    assert!(!oncall.default_password_in_use().await.unwrap());
    oncall
        .authenticate("root@corp.example.com", "chosen-by-ops")
        .await
        .unwrap();
}

#[tokio::test]
async fn the_default_database_folder_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("nested/deeper/oncall.db").display()
    );
    OnCall::open(Settings::with_database(url)).await.unwrap();
    assert!(dir.path().join("nested/deeper/oncall.db").exists());
}

#[tokio::test]
async fn bad_database_urls_fail_clearly() {
    let e = OnCall::open(Settings::with_database("postgres://x/y"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Invalid);

    // Nothing listens on port 1: refused at once, reported as unavailable.
    let started = Instant::now();
    let e = OnCall::open(Settings::with_database(
        "mysql://root:pw@127.0.0.1:1/oncall",
    ))
    .await
    .unwrap_err();
    assert_eq!(e.code(), ErrorCode::Unavailable, "{e}");
    assert!(!e.to_string().contains(":pw@"), "password leaked: {e}");
    assert!(started.elapsed() < Duration::from_secs(15));

    let e = OnCall::open(Settings::with_database("sqlite:///proc/no/such/oncall.db"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("/proc/no/such"), "{e}");
}

/// A data source that accepts connections and never answers.
fn hanging_source() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let thread = std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            match conn {
                Ok(c) => held.push(c),
                Err(_) => break,
            }
        }
    });
    (port, thread)
}

/// A free-text alert first matches its names against the metric sources. With a
/// source that hangs (5 s timeout) the analysis still leaves `pending` at once
/// (the look-ups run in the worker, shown as progress), the look-ups run at once
/// and are bounded by the source's timeout, and the analysis ends well within
/// 15 s; a second analysis reuses the source's (failed) look-up.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hanging_source_delays_name_matching_by_one_timeout_and_is_shown() {
    use oncall_core::DataSourceInput;
    use oncall_core::analysis::AnalysisStatus;
    use oncall_core::connectors::DataSourceKind;

    let dir = tempfile::tempdir().unwrap();
    let oncall = OnCall::open(Settings::with_database(support::sqlite_url(&dir)))
        .await
        .unwrap();
    let admin = oncall.local_admin();
    let (port, _hang) = hanging_source();
    let mut input = DataSourceInput::new(
        "prom",
        DataSourceKind::Prometheus,
        format!("http://127.0.0.1:{port}"),
    );
    input.timeout_ms = Some(5_000);
    oncall.create_datasource(&admin, input).await.unwrap();
    let workers = oncall.start_workers();

    let text = serde_json::json!("payment-service 延迟升高 on checkout, p99 above 2s");
    let submitted = Instant::now();
    let a = oncall
        .submit_analysis(&admin, text.clone(), Default::default())
        .await
        .unwrap();
    let mut left_pending = None;
    let finished = loop {
        let now = oncall.analysis(&admin, a.id).await.unwrap();
        if left_pending.is_none() && now.status != AnalysisStatus::Pending {
            left_pending = Some(submitted.elapsed());
        }
        if now.status.is_final() {
            break submitted.elapsed();
        }
        assert!(
            submitted.elapsed() < Duration::from_secs(15),
            "not finished within 15 s: {:?}",
            now.status
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let left_pending = left_pending.unwrap();
    assert!(
        left_pending < Duration::from_secs(2),
        "left pending after {left_pending:?}"
    );
    assert!(finished < Duration::from_secs(15), "{finished:?}");
    let events = oncall.analysis_events(&admin, a.id, 0).await.unwrap();
    let messages: Vec<&str> = events.iter().map(|e| e.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("matching names in prom")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("names from prom: 0") && m.contains("5000 ms")),
        "the timeout is named: {messages:?}"
    );

    // The next one does not wait for the names again.
    let b = oncall
        .submit_analysis(&admin, text, Default::default())
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let events = oncall.analysis_events(&admin, b.id, 0).await.unwrap();
        if events.iter().any(|e| e.message.starts_with("parsed")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "names looked up again: {events:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    workers.shutdown(Duration::from_millis(100)).await;
    oncall.close().await;
}
