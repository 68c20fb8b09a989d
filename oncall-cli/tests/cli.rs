//! The real `oncall` binary, run as a person would: exit codes, output, and every
//! command group against a temporary SQLite database.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Cli {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_env(args, &[])
    }

    fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_oncall"))
            .args(args)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", self.dir.path().join("cli.db").display()),
            )
            .env("ONCALL_DEV", "1")
            .env("ONCALL_NEW_PASSWORD", "password-123")
            .env("RUST_LOG", "error")
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// Runs a command that must succeed; its standard output and error.
    fn ok_env(&self, args: &[&str], env: &[(&str, &str)]) -> (String, String) {
        let out = self.run_env(args, env);
        assert!(
            out.status.success(),
            "oncall {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }

    /// Runs a command that must fail with `code` and say why in one line.
    fn fails_env(&self, args: &[&str], env: &[(&str, &str)], code: i32) -> String {
        let out = self.run_env(args, env);
        assert_eq!(
            out.status.code(),
            Some(code),
            "oncall {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("error: "), "one clear line: {err}");
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        err
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "oncall {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(code),
            "oncall {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.starts_with("error: "), "one clear line: {err}");
        assert!(!err.contains("panicked"), "{err}");
        err
    }
}

#[test]
fn help_documents_exit_codes_and_tools_print() {
    let cli = Cli::new();
    assert!(cli.ok(&["--help"]).contains("Exit codes"));
    let spec: serde_json::Value = serde_json::from_str(&cli.ok(&["openapi"])).unwrap();
    assert!(spec["paths"]["/api/tickets"].is_object());
    assert!(cli.ok(&["completions", "bash"]).contains("complete"));
    assert!(cli.ok(&["migrate"]).contains("sqlite"));
}

#[test]
fn users_and_exit_codes_by_error_kind() {
    let cli = Cli::new();
    assert!(
        cli.ok(&["user", "add", "ops@example.com", "--role", "engineer"])
            .contains("created ops@example.com")
    );
    assert!(
        cli.fails(&["user", "add", "ops@example.com"], 4)
            .contains("exists")
    );
    cli.fails(&["user", "add", "not-an-email"], 2);
    cli.fails(&["user", "set-role", "ghost@example.com", "viewer"], 3);
    let list: serde_json::Value =
        serde_json::from_str(&cli.ok(&["user", "list", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2, "admin and ops");
    assert!(
        cli.ok(&["user", "set-role", "ops@example.com", "viewer"])
            .contains("viewer")
    );
    let table = cli.ok(&["user", "list"]);
    assert!(
        table.lines().next().unwrap().starts_with("EMAIL"),
        "{table}"
    );
}

#[test]
fn datasources_analysis_and_tickets() {
    let cli = Cli::new();
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{dead}");
    assert!(
        cli.ok(&[
            "datasource",
            "add",
            "prom",
            "--type",
            "prometheus",
            "--url",
            &url
        ])
        .contains("added prom")
    );
    cli.fails(
        &[
            "datasource",
            "add",
            "bad",
            "--type",
            "graphite",
            "--url",
            &url,
        ],
        2,
    );
    assert!(cli.ok(&["datasource", "list"]).contains("prom"));
    // A dead port: the test answers (JSON on stdout) and the exit code says unavailable.
    let out = cli.run(&["datasource", "test", "prom"]);
    assert_eq!(out.status.code(), Some(6));
    let test: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(test["ok"], false);

    let alert = r#"{"labels":{"alertname":"HighErrorRate","namespace":"shop","severity":"critical"},"startsAt":"2026-11-24T10:32:05Z"}"#;
    let done: serde_json::Value =
        serde_json::from_str(&cli.ok(&["analyze", "--json", alert])).unwrap();
    assert_eq!(done["status"], "completed", "{done}");
    assert!(
        done["error"].as_str().unwrap().contains("prom"),
        "partial: the dead source is named"
    );
    let id = done["id"].as_str().unwrap().to_owned();
    let text = cli.ok(&["analyze", "订单服务 错误率 升高 严重"]);
    assert!(text.contains("root cause"), "{text}");
    assert!(cli.ok(&["analysis", "list"]).contains("HighErrorRate"));

    let created = cli.ok(&[
        "ticket",
        "create",
        "--from-analysis",
        &id,
        "--severity",
        "P1",
    ]);
    let no = created.split_whitespace().nth(1).unwrap().to_owned();
    assert!(no.starts_with("INC-"), "{created}");
    assert!(
        cli.ok(&["ticket", "set-status", &no, "processing"])
            .contains("processing")
    );
    cli.fails(&["ticket", "set-status", &no, "open"], 4);
    cli.fails(&["ticket", "show", "INC-19990101-0001"], 3);
    let detail: serde_json::Value =
        serde_json::from_str(&cli.ok(&["ticket", "show", &no])).unwrap();
    assert_eq!(detail["history"].as_array().unwrap().len(), 2);
    assert!(cli.ok(&["datasource", "rm", "prom"]).contains("removed"));
    cli.fails(&["datasource", "rm", "prom"], 3);
}

#[test]
fn an_unusable_database_is_one_clear_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_oncall"))
        .args(["migrate", "--database-url", "postgres://nowhere/db"])
        .env_clear()
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("DATABASE_URL must start with sqlite: or mysql:"),
        "{err}"
    );
}

/// `oncall serve` in its own directory and database, killed when dropped.
struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_oncall"))
            .args(["serve", "--dev", "--addr", &format!("127.0.0.1:{port}")])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", dir.path().join("server.db").display()),
            )
            .env("ONCALL_WEB_DIR", dir.path().join("no-ui"))
            .env("ONCALL_ADMIN_PASSWORD", SERVER_ADMIN_PASSWORD)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let started = Instant::now();
        // The server listens once its database is open.
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("oncall serve exited: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// A token for the first admin, as a script would get one.
    fn admin_token(&self) -> String {
        oncall_core::connectors::install_default_tls_provider();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let body: serde_json::Value = reqwest::Client::new()
                .post(format!("{}/api/auth/login", self.base))
                .json(&serde_json::json!({"email": ADMIN, "password": SERVER_ADMIN_PASSWORD}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["access_token"].as_str().unwrap().to_owned()
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ADMIN: &str = "admin@oncall.example.com";
/// The first admin's password on a test server (the default one would have to be
/// changed before anything else).
const SERVER_ADMIN_PASSWORD: &str = "cli-test-admin-pw";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn analyze_on_a_running_server_prints_what_in_process_prints() {
    let server = Server::start();
    let cli = Cli::new();
    let alert = r#"{"labels":{"alertname":"HighErrorRate","namespace":"shop","severity":"critical"},"startsAt":"2026-11-24T10:32:05Z"}"#;

    // Logging in with an account; JSON on stdout, nothing else on stderr.
    let (out, err) = cli.ok_env(
        &[
            "analyze",
            "--json",
            "--server",
            &server.base,
            "--email",
            ADMIN,
            alert,
        ],
        &[("ONCALL_PASSWORD", SERVER_ADMIN_PASSWORD)],
    );
    let remote: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(remote["status"], "completed", "{remote}");
    assert_eq!(remote["title"], "HighErrorRate");
    assert!(err.is_empty(), "--json prints no progress lines: {err}");
    let local: serde_json::Value =
        serde_json::from_str(&cli.ok(&["analyze", "--json", alert])).unwrap();
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&remote),
        keys(&local),
        "the same AnalysisView both ways"
    );
    assert_eq!(
        keys(&remote["result"]),
        keys(&local["result"]),
        "the same result shape"
    );

    // A token and the server from the environment; readable result, plain stage lines.
    let token = server.admin_token();
    let env = [
        ("ONCALL_SERVER", server.base.as_str()),
        ("ONCALL_TOKEN", token.as_str()),
    ];
    let (out, err) = cli.ok_env(&["analyze", "订单服务 错误率 升高 严重"], &env);
    assert!(out.contains("root cause"), "{out}");
    assert!(out.starts_with("analysis "), "{out}");
    assert!(err.contains("analysing "), "{err}");
    assert!(err.contains(&format!("on {}", server.base)), "{err}");
    for stage in ["parsed: ", "reducing: ", "analyzing: ", "done: "] {
        assert!(err.contains(stage), "stage line {stage:?} in {err}");
    }
    assert!(
        !err.contains('\u{1b}'),
        "no terminal codes when not a TTY: {err:?}"
    );
    // The analysis is the server's: it is not in this CLI's own database.
    let id = out.split_whitespace().nth(1).unwrap();
    cli.fails(&["analysis", "show", id], 3);

    // Failures by kind, in one line.
    let e = cli.fails_env(
        &["analyze", "x"],
        &[
            ("ONCALL_SERVER", &server.base),
            ("ONCALL_TOKEN", "not-a-token"),
        ],
        5,
    );
    assert!(e.contains("--token"), "{e}");
    let e = cli.fails_env(
        &["analyze", "--server", &server.base, "--email", ADMIN, "x"],
        &[("ONCALL_PASSWORD", "wrong-password")],
        5,
    );
    assert!(e.contains("logging in as"), "{e}");
    let e = cli.fails_env(&["analyze", "--server", &server.base, "x"], &[], 5);
    assert!(e.contains("ONCALL_TOKEN"), "{e}");
    cli.fails_env(
        &["analyze", "--server", &server.base, "   "],
        &[("ONCALL_TOKEN", &token)],
        2,
    );
    let dead = format!("http://127.0.0.1:{}", free_port());
    let e = cli.fails_env(
        &["analyze", "--server", &dead, "x"],
        &[("ONCALL_TOKEN", &token)],
        6,
    );
    assert!(e.contains("cannot reach"), "{e}");
    cli.fails_env(&["analyze", "--server", "oncall:8000", "x"], &[], 2);
}

#[test]
fn analyze_shows_its_stages_on_stderr() {
    let cli = Cli::new();
    // Not a terminal: one plain line per stage, no terminal codes; the result on stdout.
    let (out, err) = cli.ok_env(&["analyze", "订单服务 错误率 升高 严重"], &[]);
    assert!(out.contains("root cause"), "{out}");
    assert!(
        !out.contains("parsed: "),
        "progress stays off stdout: {out}"
    );
    let lines: Vec<&str> = err.lines().collect();
    assert!(lines[0].starts_with("analysing "), "{err}");
    for (stage, next) in [
        ("parsed: ", "reducing: "),
        ("reducing: ", "analyzing: "),
        ("analyzing: ", "done: "),
    ] {
        let at = |s: &str| lines.iter().position(|l| l.starts_with(s));
        assert!(
            at(stage).unwrap() < at(next).unwrap(),
            "{stage} before {next}: {err}"
        );
    }
    assert!(!err.contains('\u{1b}'), "{err:?}");
    let (_, err) = cli.ok_env(&["analyze", "--quiet", "订单服务 错误率 升高"], &[]);
    assert!(err.is_empty(), "--quiet: {err}");
    let (out, err) = cli.ok_env(
        &["analyze", "--json", "--no-llm", "订单服务 错误率 升高"],
        &[],
    );
    assert!(err.is_empty(), "--json: {err}");
    let done: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(done["options"]["llm"], false, "{done}");
}

#[test]
fn tables_fit_the_width_and_cut_with_an_ellipsis() {
    let cli = Cli::new();
    let title = "支付服务 payment-svc 错误率超过 5% since the last deploy of the checkout flow";
    cli.ok(&["ticket", "create", "--title", title, "--severity", "P1"]);
    cli.ok(&[
        "ticket",
        "create",
        "--title",
        "disk full",
        "--severity",
        "P3",
    ]);

    let (full, _) = cli.ok_env(&["ticket", "list"], &[]);
    assert!(full.contains(title), "not cut without COLUMNS: {full}");
    assert!(!full.contains('…'));

    let (cut, _) = cli.ok_env(&["ticket", "list"], &[("COLUMNS", "40")]);
    let lines: Vec<&str> = cut.lines().collect();
    assert_eq!(lines.len(), 3, "{cut}");
    assert!(lines[0].starts_with("NO "), "{cut}");
    for l in &lines {
        let width = console::measure_text_width(l);
        assert!(width <= 40, "{width} columns: {l:?}");
    }
    assert!(lines.iter().any(|l| l.contains('…')), "{cut}");
    // Columns line up: the severity starts at the same place on every row.
    let col = |l: &str, what: &[&str]| {
        let at = what.iter().find_map(|w| l.find(w)).unwrap();
        console::measure_text_width(&l[..at])
    };
    assert_eq!(
        col(lines[1], &["P1", "P3"]),
        col(lines[2], &["P1", "P3"]),
        "{cut}"
    );
    assert_eq!(
        col(lines[0], &["SEV"]),
        col(lines[1], &["P1", "P3"]),
        "{cut}"
    );

    // Wide enough for the numbers: the title gives way first.
    let (cut, _) = cli.ok_env(&["ticket", "list"], &[("COLUMNS", "60")]);
    for l in cut.lines() {
        assert!(console::measure_text_width(l) <= 60, "{l:?}");
    }
    let row = cut.lines().find(|l| l.contains("支付")).unwrap();
    assert!(row.ends_with('…'), "{cut}");
    let no = row.split_whitespace().next().unwrap();
    assert!(no.starts_with("INC-") && no.len() == 17, "{cut}");

    let (narrow, _) = cli.ok_env(&["ticket", "list"], &[("COLUMNS", "not-a-number")]);
    assert_eq!(narrow, full, "an unreadable COLUMNS is ignored");
}

#[test]
fn datasource_edit_changes_only_what_is_given() {
    let cli = Cli::new();
    let show = |name: &str| -> serde_json::Value {
        let all: serde_json::Value =
            serde_json::from_str(&cli.ok(&["datasource", "list", "--json"])).unwrap();
        all.as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name} in {all}"))
    };
    cli.ok(&[
        "datasource",
        "add",
        "prom",
        "--type",
        "prometheus",
        "--url",
        "http://127.0.0.1:9",
        "--token",
        "tok-1",
        "--timeout-ms",
        "2000",
    ]);
    // Another host or port: the stored token is not carried there (#20).
    let e = cli.fails_env(
        &[
            "datasource",
            "edit",
            "prom",
            "--url",
            "http://127.0.0.1:19090/",
        ],
        &[],
        2,
    );
    assert!(e.contains("again"), "{e}");
    let out = cli.ok(&[
        "datasource",
        "edit",
        "prom",
        "--url",
        "http://127.0.0.1:9/prom/",
        "--disabled",
        "--name",
        "metrics",
    ]);
    assert!(out.contains("updated metrics"), "{out}");
    let d = show("metrics");
    assert_eq!(d["url"], "http://127.0.0.1:9/prom");
    assert_eq!(d["enabled"], false);
    assert_eq!(d["timeout_ms"], 2000, "untouched settings are kept");
    assert_eq!(d["auth"]["type"], "bearer");
    assert_eq!(d["auth"]["has_token"], true, "the stored token is kept");

    // By id, with JSON out; credentials switched to basic.
    let id = d["id"].as_str().unwrap().to_owned();
    let edited: serde_json::Value = serde_json::from_str(&cli.ok(&[
        "datasource",
        "edit",
        &id,
        "--user",
        "grafana",
        "--password",
        "pw-1",
        "--enabled",
        "--config",
        r#"{"step": "30s"}"#,
        "--json",
    ]))
    .unwrap();
    assert_eq!(edited["auth"]["type"], "basic");
    assert_eq!(edited["auth"]["username"], "grafana");
    assert_eq!(edited["auth"]["has_password"], true);
    assert_eq!(edited["auth"]["has_token"], false);
    assert_eq!(edited["enabled"], true);
    assert_eq!(edited["config"]["step"], "30s");
    assert!(
        !edited.to_string().contains("pw-1"),
        "secrets are never shown"
    );
    // A secret from the environment, as `add` takes it.
    let (_, _) = cli.ok_env(
        &["datasource", "edit", "metrics", "--user", "grafana2"],
        &[("ONCALL_DS_PASSWORD", "pw-2")],
    );
    assert_eq!(show("metrics")["auth"]["username"], "grafana2");
    assert!(
        cli.ok(&["datasource", "edit", "metrics", "--no-auth"])
            .contains("updated")
    );
    assert_eq!(show("metrics")["auth"]["type"], "none");

    // Refusals by kind, in one line.
    let e = cli.fails_env(&["datasource", "edit", "metrics", "--user", "u"], &[], 2);
    assert!(e.contains("password"), "basic auth needs a password: {e}");
    cli.fails_env(
        &["datasource", "edit", "metrics", "--url", "ftp://x"],
        &[],
        2,
    );
    cli.fails_env(&["datasource", "edit", "metrics", "--config", "{"], &[], 2);
    cli.fails_env(&["datasource", "edit", "nope", "--url", "http://x"], &[], 3);
    cli.ok(&[
        "datasource",
        "add",
        "other",
        "--type",
        "prometheus",
        "--url",
        "http://127.0.0.1:9",
    ]);
    cli.fails_env(
        &["datasource", "edit", "other", "--name", "metrics"],
        &[],
        4,
    );
}

#[test]
fn ticket_edit_with_versions_and_errors_by_kind() {
    let cli = Cli::new();
    cli.ok(&["user", "add", "ops@example.com"]);
    let created = cli.ok(&[
        "ticket",
        "create",
        "--title",
        "disk full",
        "--severity",
        "P3",
    ]);
    let no = created.split_whitespace().nth(1).unwrap().to_owned();

    let out = cli.ok(&[
        "ticket",
        "edit",
        &no,
        "--title",
        "disk full on db-1",
        "--severity",
        "P1",
        "--root-cause",
        "binlogs never purged",
        "--assignee",
        "ops@example.com",
        "--description",
        "see runbook",
        "--version",
        "1",
    ]);
    assert!(out.contains(&format!("updated {no} (version 2)")), "{out}");
    let t: serde_json::Value = serde_json::from_str(&cli.ok(&["ticket", "show", &no])).unwrap();
    assert_eq!(t["title"], "disk full on db-1");
    assert_eq!(t["severity"], "P1");
    assert_eq!(t["root_cause"], "binlogs never purged");
    assert_eq!(t["assignee"], "ops@example.com");
    assert_eq!(t["description"], "see runbook");
    assert_eq!(t["status"], "open", "an edit leaves the status alone");
    assert_eq!(t["history"].as_array().unwrap().len(), 2);

    // Clearing with '', JSON out, and the current version when none is given.
    let t: serde_json::Value = serde_json::from_str(&cli.ok(&[
        "ticket",
        "edit",
        &no,
        "--assignee",
        "",
        "--description",
        "",
        "--json",
    ]))
    .unwrap();
    assert!(t["assignee"].is_null(), "{t}");
    assert!(t["description"].is_null(), "{t}");
    assert_eq!(t["version"], 3);

    // A stale version is a conflict; the ticket is unchanged.
    let e = cli.fails_env(
        &["ticket", "edit", &no, "--title", "x", "--version", "2"],
        &[],
        4,
    );
    assert!(e.contains("changed by someone else"), "{e}");
    let e = cli.fails_env(
        &["ticket", "set-status", &no, "processing", "--version", "1"],
        &[],
        4,
    );
    assert!(e.contains("version 3"), "{e}");
    cli.fails_env(
        &["ticket", "edit", "INC-19990101-0001", "--title", "x"],
        &[],
        3,
    );
    cli.fails_env(&["ticket", "edit", &no], &[], 2);
    cli.fails_env(&["ticket", "edit", &no, "--severity", "P9"], &[], 2);
    cli.fails_env(
        &["ticket", "edit", &no, "--assignee", "ghost@example.com"],
        &[],
        2,
    );
    let t: serde_json::Value = serde_json::from_str(&cli.ok(&["ticket", "show", &no])).unwrap();
    assert_eq!(
        (t["version"].as_i64(), t["title"].as_str()),
        (Some(3), Some("disk full on db-1"))
    );
}

#[test]
fn help_names_the_environment_and_exit_codes() {
    let cli = Cli::new();
    let help = cli.ok(&["analyze", "--help"]);
    for needle in [
        "--server",
        "ONCALL_SERVER",
        "ONCALL_TOKEN",
        "ONCALL_EMAIL",
        "ONCALL_PASSWORD",
        "--no-llm",
        "Exit codes",
    ] {
        assert!(help.contains(needle), "{needle} in {help}");
    }
    assert!(cli.ok(&["ticket", "edit", "--help"]).contains("--version"));
    assert!(
        cli.ok(&["datasource", "edit", "--help"])
            .contains("ONCALL_DS_TOKEN")
    );
    // Options from ./.env, with the process environment winning.
    std::fs::write(cli.dir.path().join(".env"), "ONCALL_SERVER=oncall:8000\n").unwrap();
    cli.fails_env(&["analyze", "x"], &[], 2);
    cli.fails_env(
        &["analyze", "x"],
        &[("ONCALL_SERVER", "http://127.0.0.1:1")],
        5,
    );
}

#[test]
fn resolving_with_a_confirmed_cause_shows_in_stats() {
    let cli = Cli::new();
    let a: serde_json::Value = serde_json::from_str(&cli.ok(&[
        "analyze",
        "--json",
        "--quiet",
        "订单服务 错误率 升高 service=order-api namespace=shop",
    ]))
    .unwrap();
    let id = a["id"].as_str().unwrap();
    let top = a["result"]["suspects"][0]["component"].as_str();
    let mut nos = Vec::new();
    for _ in 0..2 {
        let created = cli.ok(&["ticket", "create", "--from-analysis", id]);
        let no = created.split_whitespace().nth(1).unwrap().to_owned();
        cli.ok(&["ticket", "set-status", &no, "processing"]);
        nos.push(no);
    }
    let e = cli.fails_env(
        &[
            "ticket",
            "set-status",
            &nos[0],
            "resolved",
            "--confirmed-root-cause",
            "the database",
        ],
        &[],
        2,
    );
    assert!(e.contains("confirmed_root_cause"), "{e}");
    cli.ok(&[
        "ticket",
        "set-status",
        &nos[0],
        "resolved",
        "--confirmed-root-cause",
        "orders-db-0",
        "--resolution",
        "raised the pool size",
    ]);
    let t: serde_json::Value = serde_json::from_str(&cli.ok(&["ticket", "show", &nos[0]])).unwrap();
    assert_eq!(t["status"], "resolved");
    assert_eq!(t["confirmed_root_cause"], "orders-db-0");
    assert_eq!(t["resolution"], "raised the pool size");
    // The second through `edit`, after resolving: the analysis' #1 when it named one.
    cli.ok(&["ticket", "set-status", &nos[1], "resolved"]);
    let second = top.unwrap_or("order-api");
    cli.ok(&["ticket", "edit", &nos[1], "--confirmed-root-cause", second]);

    let r: serde_json::Value = serde_json::from_str(&cli.ok(&["stats", "--json"])).unwrap();
    let hits = u64::from(top.is_some());
    assert_eq!(r["totals"]["confirmed"], 2, "{r}");
    assert_eq!(r["totals"]["hit_at_1"], hits, "{r}");
    assert_eq!(r["misses_total"], 2 - hits, "{r}");
    assert_eq!(
        r["misses"][r["misses"].as_array().unwrap().len() - 1]["ticket_no"],
        nos[0].as_str()
    );

    let table = cli.ok(&["stats", "--since", "2020-01-01"]);
    assert!(
        table.contains("resolved tickets with a confirmed root cause: 2"),
        "{table}"
    );
    assert!(
        table.contains("MONTH") && table.contains("ALERT"),
        "{table}"
    );
    assert!(table.contains("orders-db-0"), "the miss is listed: {table}");
    let none = cli.ok(&["stats", "--since", "2999-01-01T00:00:00Z"]);
    assert!(
        none.contains("resolved tickets with a confirmed root cause: 0"),
        "{none}"
    );
    let e = cli.fails_env(&["stats", "--since", "yesterday"], &[], 2);
    assert!(e.contains("since"), "{e}");
}
