//! In-process API tests (poem's TestClient) for every endpoint: happy path, 401,
//! 403, 404, 409, 422 and pagination, on an embedded SQLite database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::path::Path;

use oncall_core::{OnCall, Settings, secrets::SecretBox};
use oncall_server::{AppState, app};
use poem::Endpoint;
use poem::http::StatusCode;
use poem::test::{TestClient, TestResponse};
use serde_json::{Value, json};

struct Api<E: Endpoint> {
    cli: TestClient<E>,
    _dir: tempfile::TempDir,
    /// Whether [`Api::admin`] already replaced the default password.
    admin_changed: std::sync::atomic::AtomicBool,
}

/// The first admin's password once [`Api::admin`] has changed the default one
/// (a token of an account with the default password may do nothing else).
const ADMIN_PASSWORD: &str = "admin-changed-pw";

async fn api() -> Api<impl Endpoint> {
    let dir = tempfile::tempdir().unwrap();
    let mut settings =
        Settings::with_database(format!("sqlite://{}", dir.path().join("t.db").display()));
    settings.encryption_key = Some(SecretBox::generate_key());
    let oncall = OnCall::open(settings).await.unwrap();
    let state = AppState::new(oncall, "test-secret-0123456789abcdef");
    Api {
        cli: TestClient::new(app(state, Path::new("/nonexistent"))),
        _dir: dir,
        admin_changed: Default::default(),
    }
}

async fn json_of(resp: TestResponse) -> (StatusCode, Value) {
    let status = resp.0.status();
    let text = resp.0.into_body().into_string().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

impl<E: Endpoint> Api<E> {
    async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = json_of(
            self.cli
                .post("/api/auth/login")
                .body_json(&json!({"email": email, "password": password}))
                .send()
                .await,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "bearer");
        assert!(body["expires_in"].as_i64().unwrap() > 0);
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A token of the first admin, whose default password is changed first.
    async fn admin(&self) -> String {
        use std::sync::atomic::Ordering;
        if self.admin_changed.swap(true, Ordering::SeqCst) {
            return self.login("admin@oncall.example.com", ADMIN_PASSWORD).await;
        }
        let token = self.login("admin@oncall.example.com", "admin123").await;
        let (s, b) = self
            .call(
                "POST",
                "/api/auth/password",
                Some(&token),
                Some(json!({"current_password": "admin123", "new_password": ADMIN_PASSWORD})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        b["access_token"].as_str().unwrap().to_owned()
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = match method {
            "GET" => self.cli.get(path),
            "POST" => self.cli.post(path),
            "PUT" => self.cli.put(path),
            "PATCH" => self.cli.patch(path),
            "DELETE" => self.cli.delete(path),
            other => panic!("{other}"),
        };
        if let Some(t) = token {
            req = req.header("Authorization", format!("Bearer {t}"));
        }
        if let Some(b) = body {
            req = req.body_json(&b);
        }
        json_of(req.send().await).await
    }

    /// Creates a user with `role` and returns a token for them.
    async fn user(&self, admin: &str, email: &str, role: &str) -> String {
        let (s, b) = self
            .call(
                "POST",
                "/api/users",
                Some(admin),
                Some(json!({"email": email, "password": "password-123", "role": role})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        self.login(email, "password-123").await
    }
}

fn assert_error(status: StatusCode, body: &Value, want: StatusCode, code: &str) {
    assert_eq!(status, want, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

#[tokio::test]
async fn auth_login_me_password_and_info() {
    let api = api().await;
    let (s, info) = api.call("GET", "/api/info", None, None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(info["default_account"], "admin@oncall.example.com");

    let (s, b) = api
        .call(
            "POST",
            "/api/auth/login",
            None,
            Some(json!({"email": "admin@oncall.example.com", "password": "nope"})),
        )
        .await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let (s, b) = api
        .call("POST", "/api/auth/login", None, Some(json!({"email": 1})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert_eq!(b["code"], "bad_request");

    let token = api.login("admin@oncall.example.com", "admin123").await;
    let (s, me) = api.call("GET", "/api/auth/me", Some(&token), None).await;
    assert_eq!((s, me["role"].as_str()), (StatusCode::OK, Some("admin")));
    assert_eq!(me["password_is_default"], true);
    assert!(me.get("password_hash").is_none());
    // With the default password nothing but the password change is open.
    for (method, path) in [
        ("GET", "/api/users"),
        ("GET", "/api/tickets"),
        ("POST", "/api/analysis"),
    ] {
        let body = (method == "POST").then(|| json!({"alert": "x"}));
        let (s, b) = api.call(method, path, Some(&token), body).await;
        assert_error(s, &b, StatusCode::FORBIDDEN, "password_change_required");
    }
    let (s, b) = api.call("GET", "/api/auth/me", None, None).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let (s, b) = api
        .call("GET", "/api/auth/me", Some("not.a.jwt"), None)
        .await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");

    let (s, b) = api
        .call(
            "POST",
            "/api/auth/password",
            Some(&token),
            Some(json!({"current_password": "wrong", "new_password": "new-password-1"})),
        )
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    // a second session of the same account, to see it logged out
    let other = api.login("admin@oncall.example.com", "admin123").await;
    let (s, changed) = api
        .call(
            "POST",
            "/api/auth/password",
            Some(&token),
            Some(json!({"current_password": "admin123", "new_password": "new-password-1"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{changed}");
    assert_eq!(changed["user"]["email"], "admin@oncall.example.com");
    assert_eq!(changed["token_type"], "bearer");
    assert!(changed["user"].get("token_version").is_none(), "{changed}");
    let (_, info) = api.call("GET", "/api/info", None, None).await;
    assert_eq!(
        info["default_account"],
        Value::Null,
        "hint gone once the password changed"
    );
    // every token issued before the change is refused, the one it returned works
    for old in [&token, &other] {
        let (s, b) = api.call("GET", "/api/auth/me", Some(old), None).await;
        assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let fresh = changed["access_token"].as_str().unwrap().to_owned();
    let (s, _) = api.call("GET", "/api/users", Some(&fresh), None).await;
    assert_eq!(s, StatusCode::OK, "open once the password changed");
    let (s, me) = api.call("GET", "/api/auth/me", Some(&fresh), None).await;
    assert_eq!(
        (s, me["email"].as_str()),
        (StatusCode::OK, Some("admin@oncall.example.com"))
    );
    let relogin = api
        .login("admin@oncall.example.com", "new-password-1")
        .await;
    let (s, _) = api.call("GET", "/api/auth/me", Some(&relogin), None).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn logins_are_rate_limited() {
    let api = api().await;
    let wrong = json!({"email": "admin@oncall.example.com", "password": "guess"});
    for _ in 0..oncall_core::users::throttle::FREE_ATTEMPTS {
        let (s, _) = api
            .call("POST", "/api/auth/login", None, Some(wrong.clone()))
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let resp = api
        .cli
        .post("/api/auth/login")
        .body_json(&wrong)
        .send()
        .await;
    let retry_after = resp.0.headers().get("retry-after").cloned();
    let (s, b) = json_of(resp).await;
    assert_error(s, &b, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(retry_after.unwrap(), "1", "the first wait is a second");
    // From this client even the right password waits, until the wait is over.
    let right = json!({"email": "admin@oncall.example.com", "password": "admin123"});
    let (s, _) = api
        .call("POST", "/api/auth/login", None, Some(right.clone()))
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (s, _) = api.call("POST", "/api/auth/login", None, Some(right)).await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn users_admin_only() {
    let api = api().await;
    let admin = api.admin().await;
    let viewer = api.user(&admin, "viewer@example.com", "viewer").await;
    let engineer = api.user(&admin, "eng@example.com", "engineer").await;

    let (s, b) = api.call("GET", "/api/users", Some(&viewer), None).await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, b) = api
        .call(
            "POST",
            "/api/users",
            Some(&engineer),
            Some(json!({"email": "x@example.com", "password": "password-123", "role": "admin"})),
        )
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, b) = api
        .call(
            "POST",
            "/api/users",
            Some(&admin),
            Some(json!({"email": "eng@example.com", "password": "password-123", "role": "viewer"})),
        )
        .await;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    let (s, b) = api
        .call(
            "POST",
            "/api/users",
            Some(&admin),
            Some(json!({"email": "r@example.com", "password": "password-123", "role": "root"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");

    let (s, page) = api
        .call("GET", "/api/users?page=1&page_size=2", Some(&admin), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(3), 2)
    );
    // bounds declared in the OpenAPI document (1..=200) and checked by it
    for query in ["page_size=500", "page_size=0", "page=0"] {
        let (s, b) = api
            .call("GET", &format!("/api/users?{query}"), Some(&admin), None)
            .await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
        let name = query.split('=').next().unwrap();
        assert!(
            b["message"]
                .as_str()
                .unwrap()
                .contains(&format!("`{name}`")),
            "{b}"
        );
    }

    let (_, me) = api.call("GET", "/api/auth/me", Some(&viewer), None).await;
    let id = me["id"].as_str().unwrap();
    let (s, u) = api
        .call(
            "PATCH",
            &format!("/api/users/{id}"),
            Some(&admin),
            Some(json!({"role": "engineer"})),
        )
        .await;
    assert_eq!((s, u["role"].as_str()), (StatusCode::OK, Some("engineer")));
    let (s, _) = api.call("GET", "/api/auth/me", Some(&viewer), None).await;
    assert_eq!(s, StatusCode::OK, "a role change keeps the session");
    let (s, _) = api
        .call(
            "PATCH",
            &format!("/api/users/{id}"),
            Some(&admin),
            Some(json!({"password": "reset-password-1"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = api.call("GET", "/api/auth/me", Some(&viewer), None).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "a reset password revokes the token"
    );
    let viewer = api.login("viewer@example.com", "reset-password-1").await;
    let (s, _) = api
        .call(
            "PATCH",
            &format!("/api/users/{id}"),
            Some(&admin),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = api.call("GET", "/api/auth/me", Some(&viewer), None).await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "a disabled account's token stops working"
    );
    let (s, b) = api
        .call(
            "PATCH",
            "/api/users/0190f1f2-0000-7000-8000-000000000000",
            Some(&admin),
            Some(json!({"name": "x"})),
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn datasources_crud_with_write_only_credentials() {
    let api = api().await;
    let admin = api.admin().await;
    let viewer = api.user(&admin, "v@example.com", "viewer").await;
    let body = json!({
        "name": "prod-es", "type": "elk", "url": "http://127.0.0.1:9200",
        "auth": {"type": "basic", "username": "elastic", "password": "s3cr3t-pw"},
        "config": {"index": "logs-*"}
    });
    let (s, b) = api
        .call(
            "POST",
            "/api/datasources",
            Some(&viewer),
            Some(body.clone()),
        )
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, ds) = api
        .call("POST", "/api/datasources", Some(&admin), Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::OK, "{ds}");
    assert_eq!(ds["auth"]["has_password"], true);
    assert!(!ds.to_string().contains("s3cr3t-pw"), "secret echoed: {ds}");
    assert_eq!(ds["timeout_ms"], 10000);
    let id = ds["id"].as_str().unwrap().to_owned();

    let (s, b) = api
        .call("POST", "/api/datasources", Some(&admin), Some(body.clone()))
        .await;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    let mut bad = body.clone();
    bad["name"] = json!("other");
    bad["url"] = json!("ftp://x");
    let (s, b) = api
        .call("POST", "/api/datasources", Some(&admin), Some(bad))
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(b["message"].as_str().unwrap().contains("url"), "{b}");
    let mut unknown = body.clone();
    unknown["colour"] = json!("red");
    let (s, b) = api
        .call("POST", "/api/datasources", Some(&admin), Some(unknown))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
    assert!(
        b["message"].as_str().unwrap().contains("colour"),
        "names the field: {b}"
    );

    // Viewers read; edits without a password keep the stored one.
    let (s, list) = api
        .call("GET", "/api/datasources", Some(&viewer), None)
        .await;
    assert_eq!((s, list["total"].as_u64()), (StatusCode::OK, Some(1)));
    let mut edit = body.clone();
    edit["auth"] = json!({"type": "basic", "username": "elastic2"});
    edit["enabled"] = json!(false);
    let (s, ds) = api
        .call(
            "PUT",
            &format!("/api/datasources/{id}"),
            Some(&admin),
            Some(edit),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{ds}");
    assert_eq!(
        (
            ds["auth"]["username"].as_str(),
            ds["auth"]["has_password"].as_bool(),
            ds["enabled"].as_bool()
        ),
        (Some("elastic2"), Some(true), Some(false))
    );
    let (s, got) = api
        .call(
            "GET",
            &format!("/api/datasources/{id}"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!((s, got["name"].as_str()), (StatusCode::OK, Some("prod-es")));

    let (s, _) = api
        .call(
            "DELETE",
            &format!("/api/datasources/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = api
        .call("GET", &format!("/api/datasources/{id}"), Some(&admin), None)
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = api
        .call(
            "DELETE",
            &format!("/api/datasources/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn analyses_are_accepted_pending_and_listed() {
    let api = api().await;
    let admin = api.admin().await;
    let viewer = api.user(&admin, "v@example.com", "viewer").await;
    let eng = api.user(&admin, "e@example.com", "engineer").await;
    let alert = json!({"version": "4", "status": "firing", "alerts": [{"labels": {"alertname": "HighErrorRate", "service": "ts-order"}, "startsAt": "2026-11-24T10:32:05Z"}]});

    let (s, b) = api
        .call(
            "POST",
            "/api/analysis",
            Some(&viewer),
            Some(json!({"alert": alert})),
        )
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, acc) = api
        .call(
            "POST",
            "/api/analysis",
            Some(&eng),
            Some(json!({"alert": alert, "options": {"language": "en"}})),
        )
        .await;
    assert_eq!(
        (s, acc["status"].as_str()),
        (StatusCode::OK, Some("pending")),
        "{acc}"
    );
    let id = acc["id"].as_str().unwrap().to_owned();
    let (s, _) = api
        .call(
            "POST",
            "/api/analysis",
            Some(&eng),
            Some(json!({"alert": "订单服务 5 分钟前 错误率 升高"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    let (s, a) = api
        .call("GET", &format!("/api/analysis/{id}"), Some(&viewer), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (a["status"].as_str(), a["title"].as_str()),
        (Some("pending"), Some("HighErrorRate"))
    );
    assert!(a["raw_alert"].as_str().unwrap().contains("ts-order"));

    let (s, page) = api
        .call(
            "GET",
            "/api/analysis?q=%E8%AE%A2%E5%8D%95&page_size=10",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(
        (s, page["total"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{page}"
    );
    // List rows are light: the start of the alert, no evidence or source reports.
    let row = &page["items"][0];
    assert_eq!(
        row["raw_alert_preview"], "订单服务 5 分钟前 错误率 升高",
        "{row}"
    );
    assert_eq!(row["status"], "pending");
    for heavy in ["raw_alert", "evidence", "sources", "result", "alert"] {
        assert!(row.get(heavy).is_none(), "{heavy} in a list row: {row}");
    }
    let (_, page) = api
        .call("GET", "/api/analysis?status=pending", Some(&viewer), None)
        .await;
    assert_eq!(page["total"], 2);
    let (s, b) = api
        .call("GET", "/api/analysis?status=bogus", Some(&viewer), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");

    let (s, b) = api
        .call(
            "GET",
            "/api/analysis/0190f1f2-0000-7000-8000-000000000000",
            Some(&viewer),
            None,
        )
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = api
        .call(
            "POST",
            "/api/analysis",
            Some(&eng),
            Some(json!({"alert": "   "})),
        )
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let (s, b) = api
        .call(
            "POST",
            "/api/analysis",
            Some(&eng),
            Some(json!({"alert": {"receiver": "x"}})),
        )
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(
        b["message"].as_str().unwrap().starts_with("alert"),
        "names the field: {b}"
    );
    let (s, b) = api
        .call(
            "POST",
            "/api/analysis",
            Some(&eng),
            Some(json!({"alert": "x".repeat(1_100_000)})),
        )
        .await;
    assert_error(s, &b, StatusCode::PAYLOAD_TOO_LARGE, "too_large");
}

#[tokio::test]
async fn tickets_walk_their_states_with_history_and_version_checks() {
    let api = api().await;
    let admin = api.admin().await;
    let eng = api.user(&admin, "e@example.com", "engineer").await;
    let viewer = api.user(&admin, "v@example.com", "viewer").await;
    let (_, acc) = api
        .call(
            "POST",
            "/api/analysis",
            Some(&eng),
            Some(json!({"alert": "DB connection pool exhausted"})),
        )
        .await;

    let (s, b) = api
        .call(
            "POST",
            "/api/tickets",
            Some(&viewer),
            Some(json!({"title": "x"})),
        )
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, t) = api
        .call(
            "POST",
            "/api/tickets",
            Some(&eng),
            Some(json!({"analysis_id": acc["id"], "severity": "P1", "assignee": "e@example.com"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(
        t["title"], "DB connection pool exhausted",
        "title pre-filled from the analysis"
    );
    assert_eq!(
        (t["status"].as_str(), t["version"].as_i64()),
        (Some("open"), Some(1))
    );
    let no = t["no"].as_str().unwrap().to_owned();
    assert!(
        no.starts_with("INC-") && no.len() == "INC-20261124-0001".len(),
        "{no}"
    );

    let (s, b) = api
        .call(
            "PATCH",
            &format!("/api/tickets/{no}"),
            Some(&eng),
            Some(json!({"status": "resolved", "version": 1})),
        )
        .await;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    let (s, b) = api
        .call(
            "PATCH",
            &format!("/api/tickets/{no}"),
            Some(&eng),
            Some(json!({"status": "closed", "version": 1})),
        )
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    for (version, to) in (1..).zip(["processing", "resolved", "closed"]) {
        let (s, t) = api
            .call(
                "PATCH",
                &format!("/api/tickets/{no}"),
                Some(&eng),
                Some(json!({"status": to, "version": version})),
            )
            .await;
        assert_eq!((s, t["status"].as_str()), (StatusCode::OK, Some(to)), "{t}");
    }
    let (s, b) = api
        .call(
            "PATCH",
            &format!("/api/tickets/{no}"),
            Some(&eng),
            Some(json!({"title": "stale", "version": 1})),
        )
        .await;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");

    // If-Match carries the version too.
    let (_, t2) = api
        .call(
            "POST",
            "/api/tickets",
            Some(&eng),
            Some(json!({"title": "磁盘满", "severity": "P3"})),
        )
        .await;
    let no2 = t2["no"].as_str().unwrap().to_owned();
    let resp = api
        .cli
        .patch(format!("/api/tickets/{no2}"))
        .header("Authorization", format!("Bearer {eng}"))
        .header("If-Match", "\"7\"")
        .body_json(&json!({"title": "x"}))
        .send()
        .await;
    assert_eq!(resp.0.status(), StatusCode::CONFLICT);
    let resp = api
        .cli
        .patch(format!("/api/tickets/{no2}"))
        .header("Authorization", format!("Bearer {eng}"))
        .header("If-Match", "\"1\"")
        .body_json(&json!({"assignee": null, "reason": "false alarm", "status": "closed"}))
        .send()
        .await;
    assert_eq!(resp.0.status(), StatusCode::OK);

    let (s, d) = api
        .call("GET", &format!("/api/tickets/{no}"), Some(&viewer), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    let history = d["history"].as_array().unwrap();
    let steps: Vec<_> = history
        .iter()
        .map(|h| h["to_status"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(steps, ["open", "processing", "resolved", "closed"]);
    assert!(history.iter().all(|h| h["actor"] == "e@example.com"));

    let (_, page) = api
        .call(
            "GET",
            "/api/tickets?status=closed&page_size=1",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    let (_, page) = api
        .call(
            "GET",
            "/api/tickets?severity=P3&q=%E7%A3%81%E7%9B%98",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(page["total"], 1);
    let (_, page) = api
        .call(
            "GET",
            "/api/tickets?assignee=e@example.com",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(page["total"], 1);
    let (s, b) = api
        .call("GET", "/api/tickets/INC-19990101-0001", Some(&viewer), None)
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (s, b) = api
        .call(
            "POST",
            "/api/tickets",
            Some(&eng),
            Some(json!({"title": "t", "assignee": "ghost@example.com"})),
        )
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
}

/// A completed analysis of `alert` ranking `suspects`, written straight into the
/// server's database (the analyzer's ranking is what is under test here).
async fn completed_analysis(db: &str, alert: &str, suspects: &[&str]) -> String {
    let store = oncall_core::store::open(db).await.unwrap();
    let mut a = oncall_core::analysis::Analysis::pending(
        alert.into(),
        format!("{alert} firing"),
        json!({}),
        "e@example.com".into(),
    );
    a.status = oncall_core::analysis::AnalysisStatus::Completed;
    a.alert = json!({"name": alert});
    a.result = Some(json!({
        "summary": format!("{alert}: {}", suspects.first().unwrap_or(&"nothing")),
        "root_cause": suspects.first(),
        "confidence": 0.7,
        "severity": "P2",
        "evidence": [],
        "suggestions": [],
        "suspects": suspects
            .iter()
            .map(|c| json!({"component": c, "kind": "service", "score": 0.5, "reasons": ["r"]}))
            .collect::<Vec<_>>(),
    }));
    a.completed_at = Some(chrono::Utc::now());
    store.insert_analysis(&a).await.unwrap();
    store.close().await;
    a.id.to_string()
}

#[tokio::test]
async fn resolving_confirms_the_root_cause_and_accuracy_counts_it() {
    let api = api().await;
    let db = format!("sqlite://{}", api._dir.path().join("t.db").display());
    let admin = api.admin().await;
    let eng = api.user(&admin, "e@example.com", "engineer").await;
    let viewer = api.user(&admin, "v@example.com", "viewer").await;
    let latency =
        completed_analysis(&db, "HighLatency", &["ts-order-service", "mysql", "redis"]).await;
    let errors = completed_analysis(&db, "HighErrorRate", &["ts-order-service", "mysql"]).await;
    let crash = completed_analysis(&db, "PodCrashLooping", &["carts"]).await;

    let mut nos = Vec::new();
    for id in [&latency, &errors, &crash] {
        let (s, t) = api
            .call(
                "POST",
                "/api/tickets",
                Some(&eng),
                Some(json!({"analysis_id": id})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{t}");
        let no = t["no"].as_str().unwrap().to_owned();
        let (s, t) = api
            .call(
                "PATCH",
                &format!("/api/tickets/{no}"),
                Some(&eng),
                Some(json!({"status": "processing"})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{t}");
        nos.push(no);
    }
    let path = |i: usize| format!("/api/tickets/{}", nos[i]);

    // Bad input: clear 422s naming the field, and nothing changes.
    for (body, field) in [
        (
            json!({"status": "resolved", "confirmed_root_cause": "the database"}),
            "confirmed_root_cause",
        ),
        (
            json!({"status": "resolved", "confirmed_root_cause": "x".repeat(254)}),
            "confirmed_root_cause",
        ),
        (
            json!({"status": "resolved", "resolution": "y".repeat(2001)}),
            "resolution",
        ),
    ] {
        let (s, b) = api.call("PATCH", &path(0), Some(&eng), Some(body)).await;
        assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert!(b["message"].as_str().unwrap().starts_with(field), "{b}");
    }
    let (s, b) = api
        .call(
            "PATCH",
            &path(0),
            Some(&viewer),
            Some(json!({"status": "resolved", "confirmed_root_cause": "mysql"})),
        )
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (_, t) = api.call("GET", &path(0), Some(&viewer), None).await;
    assert_eq!(
        (t["status"].as_str(), t["version"].as_i64()),
        (Some("processing"), Some(2))
    );
    assert!(t.get("confirmed_root_cause").is_none(), "{t}");

    // Resolve with a pod of the analysis' #1 and what fixed it.
    let (s, t) = api
        .call(
            "PATCH",
            &path(0),
            Some(&eng),
            Some(json!({
                "status": "resolved",
                "confirmed_root_cause": "  ts-order-service-5d9f7-abc12 ",
                "resolution": "rolled back v2.3",
                "version": 2,
            })),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["confirmed_root_cause"], "ts-order-service-5d9f7-abc12");
    assert_eq!(t["resolution"], "rolled back v2.3");
    assert_eq!(t["confirmed_by"], "e@example.com");
    assert!(t["confirmed_at"].is_string(), "{t}");
    let last = t["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["to_status"], "resolved");
    assert_eq!(
        last["changes"]["confirmed_root_cause"]["to"],
        "ts-order-service-5d9f7-abc12"
    );
    assert_eq!(last["changes"]["resolution"]["to"], "rolled back v2.3");
    // Lists carry it too.
    let (_, page) = api
        .call("GET", "/api/tickets?status=resolved", Some(&viewer), None)
        .await;
    assert_eq!(
        page["items"][0]["confirmed_root_cause"],
        "ts-order-service-5d9f7-abc12"
    );

    // Reopening clears it; the history keeps what it was.
    let (s, t) = api
        .call(
            "PATCH",
            &path(0),
            Some(&eng),
            Some(json!({"status": "processing"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    for k in [
        "confirmed_root_cause",
        "resolution",
        "confirmed_by",
        "confirmed_at",
    ] {
        assert!(t.get(k).is_none(), "{k} kept after reopening: {t}");
    }
    let last = t["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["changes"]["confirmed_root_cause"]["from"],
        "ts-order-service-5d9f7-abc12"
    );
    assert_eq!(last["changes"]["resolution"]["from"], "rolled back v2.3");
    // Resolved again, the analysis was right ("one click": its #1, any case).
    let (s, _) = api
        .call(
            "PATCH",
            &path(0),
            Some(&eng),
            Some(json!({"status": "resolved", "confirmed_root_cause": "TS-Order-Service"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // #2 of the second analysis; the third resolved without confirming.
    let (s, _) = api
        .call(
            "PATCH",
            &path(1),
            Some(&eng),
            Some(json!({"status": "resolved", "confirmed_root_cause": "mysql", "resolution": "raised the pool size"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = api
        .call(
            "PATCH",
            &path(2),
            Some(&eng),
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    let (s, r) = api
        .call("GET", "/api/stats/accuracy", Some(&viewer), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let totals = &r["totals"];
    assert_eq!(
        (
            totals["confirmed"].as_u64(),
            totals["hit_at_1"].as_u64(),
            totals["hit_at_3"].as_u64(),
            totals["unconfirmed"].as_u64()
        ),
        (Some(2), Some(1), Some(2), Some(1)),
        "{r}"
    );
    assert_eq!(totals["share_at_1"], 0.5);
    assert_eq!(totals["share_at_3"], 1.0);
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    assert_eq!(r["by_month"][0]["month"], month.as_str());
    assert_eq!(r["by_month"][0]["confirmed"], 2);
    let alerts: Vec<_> = r["by_alert"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["alert_name"].as_str().unwrap(),
                a["hit_at_1"].as_u64().unwrap(),
                a["unconfirmed"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        alerts,
        [
            ("HighErrorRate", 0, 0),
            ("HighLatency", 1, 0),
            ("PodCrashLooping", 0, 1)
        ]
    );
    assert_eq!(r["misses_total"], 1);
    let miss = &r["misses"][0];
    assert_eq!(miss["ticket_no"], nos[1].as_str());
    assert_eq!(miss["analyzer_top"], "ts-order-service");
    assert_eq!(miss["confirmed_root_cause"], "mysql");
    assert_eq!(miss["rank"], 2);

    // A period with no tickets, a backwards one, no token.
    let (s, r) = api
        .call(
            "GET",
            "/api/stats/accuracy?until=2020-01-01T00:00:00Z",
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(
        (s, r["totals"]["confirmed"].as_u64()),
        (StatusCode::OK, Some(0))
    );
    assert!(r["totals"].get("share_at_1").is_none(), "{r}");
    let (s, b) = api
        .call(
            "GET",
            "/api/stats/accuracy?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z",
            Some(&viewer),
            None,
        )
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let (s, b) = api.call("GET", "/api/stats/accuracy", None, None).await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test]
async fn health_metrics_docs_and_the_committed_spec() {
    let api = api().await;
    assert_eq!(
        api.cli.get("/healthz").send().await.0.status(),
        StatusCode::OK
    );
    assert_eq!(
        api.cli.get("/readyz").send().await.0.status(),
        StatusCode::OK
    );
    assert_eq!(api.cli.get("/docs").send().await.0.status(), StatusCode::OK);
    let (s, b) = api.call("GET", "/api/nope", None, None).await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
    let (_, root) = json_of(api.cli.get("/").send().await).await;
    assert!(
        root.as_str().unwrap().contains("npm run build"),
        "no UI built: says how"
    );

    let metrics = api
        .cli
        .get("/metrics")
        .send()
        .await
        .0
        .into_body()
        .into_string()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "oncall_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    // API routes are labelled by their route template, unknown API paths by one
    // label, whatever path was asked for.
    let token = api.admin().await;
    for no in ["INC-20250101-0001", "INC-20250101-0002"] {
        let (s, _) = api
            .call("GET", &format!("/api/tickets/{no}"), Some(&token), None)
            .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    let (s, _) = api.call("GET", "/api/nope/2", None, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let metrics = api
        .cli
        .get("/metrics")
        .send()
        .await
        .0
        .into_body()
        .into_string()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "oncall_http_requests_total{route=\"/api/tickets/{no}\",method=\"GET\",status=\"404\"} 2"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "oncall_http_requests_total{route=\"/api/auth/login\",method=\"POST\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "oncall_http_requests_total{route=\"api_unmatched\",method=\"GET\",status=\"404\"} 2"
        ),
        "{metrics}"
    );
    assert!(!metrics.contains("INC-2025"), "{metrics}");
    assert!(
        metrics.contains("oncall_analyses{status=\"pending\"} 0"),
        "{metrics}"
    );

    let served = api
        .cli
        .get("/api/openapi.json")
        .send()
        .await
        .0
        .into_body()
        .into_string()
        .await
        .unwrap();
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json")).unwrap();
    let served: Value = serde_json::from_str(&served).unwrap();
    let committed: Value = serde_json::from_str(&committed).unwrap();
    assert!(
        served == committed,
        "oncall-server/openapi.json is stale: run `cargo run -p oncall-server -- --openapi > oncall-server/openapi.json`"
    );
    // every list declares the page size the store accepts
    let mut lists = 0;
    for (path, ops) in served["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["name"] == "page_size" {
                    lists += 1;
                    assert_eq!(
                        p["schema"]["maximum"].as_f64(),
                        Some(f64::from(oncall_core::store::MAX_PAGE_SIZE)),
                        "{method} {path}"
                    );
                }
            }
        }
    }
    assert!(lists >= 7, "{lists} lists");
}

/// An Alertmanager webhook notification (the fixture of `oncall-core`, written from
/// Alertmanager's documented `webhook_config` payload).
fn alertmanager_fixture() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../oncall-core/tests/data/alerts/alertmanager-v4.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn webhooks_receive_deduplicate_and_count() {
    let api = api().await;
    let admin = api.admin().await;
    let engineer = api.user(&admin, "eng@example.com", "engineer").await;
    let input =
        json!({"name": "prod", "kind": "alertmanager", "options": {"dedup_window_minutes": 10}});
    let (s, b) = api
        .call(
            "POST",
            "/api/webhooks",
            Some(&engineer),
            Some(input.clone()),
        )
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, created) = api
        .call("POST", "/api/webhooks", Some(&admin), Some(input.clone()))
        .await;
    assert_eq!(s, StatusCode::OK, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["path"], format!("/api/webhooks/alertmanager/{id}"));
    assert_eq!(created["options"]["dedup_window_minutes"], 10);
    assert_eq!(created["options"]["group_alerts"], true);
    let (s, b) = api
        .call("POST", "/api/webhooks", Some(&admin), Some(input))
        .await;
    assert_error(s, &b, StatusCode::CONFLICT, "conflict");
    let (s, listed) = api.call("GET", "/api/webhooks", Some(&admin), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(listed["total"], 1);
    assert!(!listed.to_string().contains(&token), "token shown once");

    let path = format!("/api/webhooks/alertmanager/{id}");
    let body = alertmanager_fixture();
    // No token, wrong token, JWT instead of the webhook token.
    let (s, b) = api.call("POST", &path, None, Some(body.clone())).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{b}");
    let (s, b) = api
        .call("POST", &path, Some("owh_nope"), Some(body.clone()))
        .await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    let (s, b) = api
        .call("POST", &path, Some(&admin), Some(body.clone()))
        .await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");
    // The Grafana receiver refuses an Alertmanager endpoint's token.
    let (s, b) = api
        .call(
            "POST",
            &format!("/api/webhooks/grafana/{id}"),
            Some(&token),
            Some(body.clone()),
        )
        .await;
    assert_error(s, &b, StatusCode::UNAUTHORIZED, "unauthorized");

    let (s, first) = api
        .call("POST", &path, Some(&token), Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{first}");
    assert_eq!(first["accepted"], 2);
    assert_eq!(first["started"], 1);
    assert_eq!(first["resolved"], 1);
    // The same notification again, with the token in the query this time.
    let (s, again) = api
        .call(
            "POST",
            &format!("{path}?token={token}"),
            None,
            Some(body.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{again}");
    assert_eq!(again["duplicates"], 1);
    assert_eq!(again["analysis_ids"], first["analysis_ids"]);
    let analysis = first["analysis_ids"][0].as_str().unwrap();
    let (s, alerts) = api
        .call(
            "GET",
            &format!("/api/analysis/{analysis}/alerts"),
            Some(&engineer),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{alerts}");
    assert_eq!(alerts["firing"], 2);
    assert_eq!(alerts["distinct_alerts"], 1);
    assert_eq!(alerts["recent"].as_array().unwrap().len(), 2);
    let (s, b) = api
        .call("POST", &path, Some(&token), Some(json!({"alerts": "nope"})))
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");

    // Rotating the token retires the old one.
    let (s, rotated) = api
        .call(
            "POST",
            &format!("/api/webhooks/{id}/token"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{rotated}");
    let (s, _) = api
        .call("POST", &path, Some(&token), Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let new_token = rotated["token"].as_str().unwrap();
    let (s, _) = api
        .call("POST", &path, Some(new_token), Some(body.clone()))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);

    let metrics = api
        .cli
        .get("/metrics")
        .send()
        .await
        .0
        .into_body()
        .into_string()
        .await
        .unwrap();
    for line in [
        "oncall_webhook_notifications_total 3",
        "oncall_webhook_alerts_total 6",
        "oncall_webhook_analyses_started_total 1",
        "oncall_webhook_alerts_deduplicated_total 2",
        "oncall_webhook_alerts_resolved_total 3",
        "oncall_notification_outbox{status=\"pending\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    // A request without any token is refused by the security scheme before the
    // engine sees it; the four with a wrong one are counted.
    assert!(
        metrics.contains("oncall_webhook_rejected_auth_total 4"),
        "{metrics}"
    );

    let (s, _) = api
        .call(
            "PUT",
            &format!("/api/webhooks/{id}"),
            Some(&admin),
            Some(json!({"name": "prod", "kind": "alertmanager", "enabled": false})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = api.call("POST", &path, Some(new_token), Some(body)).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = api
        .call("DELETE", &format!("/api/webhooks/{id}"), Some(&admin), None)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, b) = api
        .call("GET", &format!("/api/webhooks/{id}"), Some(&admin), None)
        .await;
    assert_error(s, &b, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn notification_channels_crud_with_write_only_secrets() {
    let api = api().await;
    let admin = api.admin().await;
    let engineer = api.user(&admin, "eng@example.com", "engineer").await;
    let ding = json!({
        "name": "oncall 群",
        "kind": "dingtalk",
        "url": "https://oapi.dingtalk.com/robot/send?access_token=TOKEN123",
        "secret": "SECabc",
    });
    let (s, b) = api
        .call(
            "POST",
            "/api/notification-channels",
            Some(&engineer),
            Some(ding.clone()),
        )
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, c) = api
        .call(
            "POST",
            "/api/notification-channels",
            Some(&admin),
            Some(ding.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["url_hint"], "https://oapi.dingtalk.com/robot/…");
    assert_eq!(c["has_secret"], true);
    assert_eq!(
        c["events"],
        json!(["analysis_completed", "analysis_failed", "ticket_status"])
    );
    assert!(!c.to_string().contains("TOKEN123") && !c.to_string().contains("SECabc"));
    let id = c["id"].as_str().unwrap();
    // An edit without url/secret keeps them.
    let (s, c2) = api
        .call(
            "PUT",
            &format!("/api/notification-channels/{id}"),
            Some(&admin),
            Some(
                json!({"name": "oncall 群", "kind": "dingtalk", "events": ["analysis_completed"]}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{c2}");
    assert_eq!(c2["has_secret"], true);
    assert_eq!(c2["events"], json!(["analysis_completed"]));
    let (s, b) = api
        .call("POST", "/api/notification-channels", Some(&admin),
              Some(json!({"name": "s", "kind": "slack", "url": "https://hooks.slack.com/x", "secret": "no"})))
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let (s, b) = api
        .call(
            "POST",
            "/api/notification-channels",
            Some(&admin),
            Some(json!({"name": "s", "kind": "slack"})),
        )
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let (s, list) = api
        .call("GET", "/api/notification-channels", Some(&admin), None)
        .await;
    assert_eq!((s, list["total"].as_u64()), (StatusCode::OK, Some(1)));
    let (s, d) = api
        .call(
            "GET",
            &format!("/api/notification-channels/{id}/deliveries"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!((s, d["total"].as_u64()), (StatusCode::OK, Some(0)));
    let (s, _) = api
        .call(
            "DELETE",
            &format!("/api/notification-channels/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn every_429_and_503_carries_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings =
        Settings::with_database(format!("sqlite://{}", dir.path().join("t.db").display()));
    settings.encryption_key = Some(SecretBox::generate_key());
    settings.webhook_backlog = 1;
    let oncall = OnCall::open(settings).await.unwrap();
    let state = AppState::new(oncall.clone(), "test-secret-0123456789abcdef");
    let api = Api {
        cli: TestClient::new(app(state, Path::new("/nonexistent"))),
        _dir: dir,
        admin_changed: Default::default(),
    };
    let admin = api.admin().await;
    let (s, created) = api
        .call(
            "POST",
            "/api/webhooks",
            Some(&admin),
            Some(json!({"name": "prod", "kind": "alertmanager"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let path = format!(
        "/api/webhooks/alertmanager/{}",
        created["id"].as_str().unwrap()
    );
    let (s, b) = api
        .call("POST", &path, Some(&token), Some(alertmanager_fixture()))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{b}");
    // The backlog (one pending analysis) is full: a new alert is refused.
    let mut other = alertmanager_fixture();
    other["groupKey"] = json!("another-group");
    other["alerts"][1]["fingerprint"] = json!("0123456789abcdef");
    let resp = api
        .cli
        .post(&path)
        .header("Authorization", format!("Bearer {token}"))
        .body_json(&other)
        .send()
        .await;
    assert_eq!(resp.0.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry = resp.0.headers().get("retry-after").cloned();
    let (_, body) = json_of(resp).await;
    assert_eq!(body["code"], "rate_limited", "{body}");
    let secs: u64 = retry
        .expect("429 carries Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&secs), "{secs}");

    // A 503 (the database is gone) carries one too.
    oncall.close().await;
    let resp = api.cli.get("/readyz").send().await;
    assert_eq!(resp.0.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        resp.0.headers().contains_key("retry-after"),
        "503 carries Retry-After"
    );
}

/// Issue #19: what was understood, before it runs; path errors in the user's words;
/// history rows that tell identical alerts apart; a closed ticket reopened with a
/// reason; a data source's last test after a reload.
#[tokio::test]
async fn understood_alerts_plain_errors_history_reopen_and_kept_tests() {
    let api = api().await;
    let admin = api.admin().await;
    let viewer = api.user(&admin, "v19@example.com", "viewer").await;

    // Understood, not started.
    let text = "ts-ui-dashboard SLO degraded since 10:05 UTC on 2023-01-29";
    let (s, u) = api
        .call(
            "POST",
            "/api/analysis/understand",
            Some(&admin),
            Some(json!({"alert": text})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(u["starts_at"], "2023-01-29T10:05:00+00:00");
    assert_eq!(u["time_found"], true);
    // No source knows ts-ui-dashboard here: no scope, and the notice says how to fix it.
    assert_eq!(u["scope_found"], false);
    assert!(
        u["notices"][0].as_str().unwrap().starts_with("No service"),
        "{u}"
    );
    let (s, u) = api
        .call(
            "POST",
            "/api/analysis/understand",
            Some(&admin),
            Some(json!({"alert": text, "options": {"services": ["ts-ui-dashboard"], "starts_at": "2023-01-29T10:04:00Z"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{u}");
    assert_eq!(u["services"], json!(["ts-ui-dashboard"]));
    assert_eq!(u["starts_at"], "2023-01-29T10:04:00+00:00");
    assert_eq!(u["notices"], json!([]));
    let (s, b) = api
        .call(
            "POST",
            "/api/analysis/understand",
            Some(&viewer),
            Some(json!({"alert": text})),
        )
        .await;
    assert_error(s, &b, StatusCode::FORBIDDEN, "forbidden");
    let (s, b) = api
        .call(
            "POST",
            "/api/analysis/understand",
            Some(&admin),
            Some(json!({"alert": text, "options": {"services": ["a\u{7}b"]}})),
        )
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert!(
        b["message"].as_str().unwrap().contains("options.services"),
        "{b}"
    );

    // Malformed ids, in the user's words.
    for (path, words) in [
        (
            "/api/analysis/not-an-id",
            "`not-an-id` is not a valid analysis id",
        ),
        (
            "/api/analysis/12%2034/events",
            "`12 34` is not a valid analysis id",
        ),
        (
            "/api/datasources/xyz",
            "`xyz` is not a valid data source id",
        ),
        (
            "/api/webhooks/xyz",
            "`xyz` is not a valid webhook endpoint id",
        ),
        (
            "/api/notification-channels/xyz",
            "`xyz` is not a valid notification channel id",
        ),
    ] {
        let (s, b) = api.call("GET", path, Some(&admin), None).await;
        assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
        let m = b["message"].as_str().unwrap();
        assert!(m.starts_with(words), "{path}: {m}");
        assert!(!m.contains("param0") && !m.contains("string_uuid"), "{m}");
    }
    let (s, b) = api
        .call("GET", "/api/analysis?page=zero", Some(&admin), None)
        .await;
    assert_error(s, &b, StatusCode::BAD_REQUEST, "bad_request");
    assert!(b["message"].as_str().unwrap().contains("`page`"), "{b}");

    // History rows: alert start and scope, found by service.
    let alert = json!({"version": "4", "status": "firing", "alerts": [{"labels": {"alertname": "HighErrorRate", "service": "ts-order", "instance": "10.0.0.7:8080"}, "startsAt": "2026-11-24T10:32:05Z"}]});
    let (s, acc) = api
        .call(
            "POST",
            "/api/analysis",
            Some(&admin),
            Some(json!({"alert": alert})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{acc}");
    let id = acc["id"].as_str().unwrap().to_owned();

    // Tickets: reopen a closed one with a reason, kept in its history.
    let (s, t) = api
        .call(
            "POST",
            "/api/tickets",
            Some(&admin),
            Some(json!({"title": "checkout 5xx", "severity": "P2", "analysis_id": id})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let no = t["no"].as_str().unwrap().to_owned();
    let patch = |status: &str, reason: Option<&str>, version: i64| {
        let mut b = json!({"status": status, "version": version});
        if let Some(r) = reason {
            b["reason"] = json!(r);
        }
        b
    };
    let path = format!("/api/tickets/{no}");
    let (s, t) = api
        .call(
            "PATCH",
            &path,
            Some(&admin),
            Some(patch("closed", Some("noise"), 1)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let (s, b) = api
        .call(
            "PATCH",
            &path,
            Some(&admin),
            Some(patch("processing", None, 2)),
        )
        .await;
    assert_error(s, &b, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    let (s, t) = api
        .call(
            "PATCH",
            &path,
            Some(&admin),
            Some(patch("processing", Some("it came back at 03:10"), 2)),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["status"], "processing");
    let history = t["history"].as_array().unwrap();
    let last = history.last().unwrap();
    assert_eq!(
        (&last["from_status"], &last["to_status"], &last["reason"]),
        (
            &json!("closed"),
            &json!("processing"),
            &json!("it came back at 03:10")
        ),
        "{t}"
    );

    // A data source's last test, after a reload.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (s, ds) = api
        .call(
            "POST",
            "/api/datasources",
            Some(&admin),
            Some(json!({"name": "bad-url", "type": "prometheus", "url": format!("http://127.0.0.1:{port}")})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{ds}");
    assert!(ds.get("last_test").is_none_or(Value::is_null), "{ds}");
    let ds_id = ds["id"].as_str().unwrap();
    let (s, tested) = api
        .call(
            "POST",
            &format!("/api/datasources/{ds_id}/test"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (s, &tested["ok"]),
        (StatusCode::OK, &json!(false)),
        "{tested}"
    );
    let (_, list) = api
        .call("GET", "/api/datasources", Some(&viewer), None)
        .await;
    let kept = &list["items"][0]["last_test"];
    assert_eq!(kept["result"], tested, "{list}");
    assert!(kept["tested_at"].as_str().is_some(), "{list}");
}
