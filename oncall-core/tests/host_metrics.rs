//! The most common page, end to end on real parts: node_exporter (Debian's
//! `prometheus-node-exporter`) on this machine, scraped every 5 s by a real
//! Prometheus with no history before the test, a memory hog and then a CPU burn
//! (`stress-ng`), each alert delivered through the webhook path exactly as
//! Alertmanager posts it. The analysis must name the resource (memory, then CPU)
//! on the alert's instance, with the numbers, from under five minutes of history.
//!
//! One test function, so the two loads never overlap; it takes about five
//! minutes. The binaries are found on PATH or through
//! `ONCALL_TEST_NODE_EXPORTER_BIN` / `ONCALL_TEST_STRESS_BIN` /
//! `ONCALL_TEST_PROMETHEUS_BIN`; a missing one fails the test with the command
//! that installs it (`scripts/test` installs them). Outside CI,
//! `ONCALL_TEST_SERVICES=skip` skips it, loudly.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may panic

mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use oncall_core::analysis::AnalysisStatus;
use oncall_core::connectors::DataSourceKind;
use oncall_core::secrets::SecretBox;
use oncall_core::webhooks::{WebhookKind, WebhookOptions};
use oncall_core::{AuthInput, DataSourceInput, OnCall, Settings, WebhookInput};
use serde_json::{Value, json};
use support::services;

/// A child process killed when dropped (also when the test panics).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spawn(cmd: &mut Command) -> Running {
    Running(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {cmd:?}: {e}")),
    )
}

async fn wait_ready(url: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{url} did not answer within 60 s");
}

/// Posts a firing alert on `instance` as Alertmanager would, waits for its
/// analysis and returns it.
async fn alert_and_analyse(
    oncall: &OnCall,
    webhook: (uuid::Uuid, &str),
    name: &str,
    expr: &str,
    instance: &str,
    starts: chrono::DateTime<Utc>,
) -> oncall_core::analysis::Analysis {
    let labels = json!({"alertname": name, "instance": instance, "severity": "warning"});
    let fingerprint =
        oncall_core::alert::labels_fingerprint(&serde_json::from_value(labels.clone()).unwrap());
    let body = json!({
        "version": "4", "status": "firing", "receiver": "oncall",
        "groupKey": format!("{{}}:{{alertname=\"{name}\"}}"), "truncatedAlerts": 0,
        "groupLabels": {"alertname": name}, "commonLabels": labels, "commonAnnotations": {},
        "externalURL": "http://alertmanager.test",
        "alerts": [{
            "status": "firing", "labels": labels,
            "annotations": {"summary": format!("{name} on {instance}")},
            "startsAt": starts.to_rfc3339(), "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": format!("http://prometheus.test/graph?g0.expr={}", expr.replace(' ', "+")),
            "fingerprint": fingerprint
        }]
    });
    let receipt = oncall
        .receive_webhook(WebhookKind::Alertmanager, webhook.0, webhook.1, &body)
        .await
        .unwrap();
    assert_eq!(receipt.started, 1, "{receipt:?}");
    oncall
        .run_until_done(receipt.analysis_ids[0], Duration::from_secs(120))
        .await
        .unwrap()
}

/// Checks that the analysis names `resource` (`cpu`/`memory`) on `instance`.
fn assert_names(
    done: &oncall_core::analysis::Analysis,
    resource: &str,
    label: &str,
    instance: &str,
) {
    assert_eq!(done.status, AnalysisStatus::Completed, "{:?}", done.error);
    let result = done.result.as_ref().unwrap();
    let why = || {
        format!(
            "root cause: {}\nsubject: {:#}\nsummary: {}",
            result["root_cause"], done.evidence["subject"], result["summary"]
        )
    };
    assert_eq!(done.evidence["subject"]["component"], instance, "{}", why());
    assert_eq!(
        done.evidence["subject"]["findings"][0]["resource"],
        resource,
        "{}",
        why()
    );
    assert_eq!(result["suspects"][0]["component"], instance, "{}", why());
    let root = result["root_cause"].as_str().unwrap();
    assert!(
        root.starts_with(&format!("{label} on {instance} ")),
        "{}",
        why()
    );
    assert!(
        root.contains(" from ") && root.contains(" to "),
        "with the numbers: {}",
        why()
    );
    // What paged comes first: the rule's expression, evaluated without its
    // threshold, over both windows.
    let paged = &done.evidence["alert_query"];
    assert!(paged["threshold"]["op"].is_string(), "{paged:#}");
    assert!(paged["series"][0]["peak"].is_number(), "{paged:#}");
    assert_eq!(result["evidence"][0]["kind"], "alert", "{}", why());
    assert!(
        done.refresh_at.is_some(),
        "a webhook's analysis whose window is still open is run again later"
    );
    for shift in done.evidence["metric_shifts"].as_array().unwrap() {
        let score = shift["score"].as_f64().unwrap();
        assert!(
            score <= 1e4,
            "a score of {score} robust deviations: {shift}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_alert_names_memory_then_cpu_on_the_instance() {
    if services::services_skipped("a_host_alert_names_memory_then_cpu_on_the_instance") {
        return;
    }
    let node_exporter = services::find_binary(
        "ONCALL_TEST_NODE_EXPORTER_BIN",
        "prometheus-node-exporter",
        &[],
        "apt-get install -y prometheus-node-exporter",
    );
    let stress = services::find_binary(
        "ONCALL_TEST_STRESS_BIN",
        "stress-ng",
        &[],
        "apt-get install -y stress-ng",
    );
    let prometheus = services::find_binary(
        "ONCALL_TEST_PROMETHEUS_BIN",
        "prometheus",
        &[],
        "apt-get install -y prometheus",
    );
    oncall_core::connectors::install_default_tls_provider();

    let exporter_port = free_port();
    let instance = format!("127.0.0.1:{exporter_port}");
    let _exporter =
        spawn(Command::new(&node_exporter).arg(format!("--web.listen-address={instance}")));
    wait_ready(&format!("http://{instance}/metrics")).await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 5s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['{instance}']\n"
        ),
    )
    .unwrap();
    let prom_port = free_port();
    let _prometheus = spawn(
        Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}")),
    );
    let prom_url = format!("http://127.0.0.1:{prom_port}");
    wait_ready(&format!("{prom_url}/-/ready")).await;

    let mut settings =
        Settings::with_database(format!("sqlite://{}", dir.path().join("t.db").display()));
    settings.encryption_key = Some(SecretBox::generate_key());
    let oncall = OnCall::open(settings).await.unwrap();
    let admin = oncall.local_admin();
    oncall
        .create_datasource(
            &admin,
            DataSourceInput {
                name: "prom".into(),
                kind: DataSourceKind::Prometheus,
                url: prom_url,
                auth: AuthInput::default(),
                config: Some(json!({})),
                enabled: Some(true),
                timeout_ms: Some(10_000),
            },
        )
        .await
        .unwrap();
    let created = oncall
        .create_webhook(
            &admin,
            WebhookInput {
                name: "alertmanager".into(),
                kind: WebhookKind::Alertmanager,
                options: Some(WebhookOptions::default()),
                enabled: None,
            },
        )
        .await
        .unwrap();
    let webhook = (created.webhook.id, created.token.as_str());

    // Quiet history: the incident window starts 2 min before an alert, so the
    // baseline holds the first minute or so of scrapes.
    tokio::time::sleep(Duration::from_secs(170)).await;

    // Memory: 4 GiB allocated, touched once, then held without using CPU.
    let hog = spawn(Command::new(&stress).args([
        "--vm",
        "1",
        "--vm-bytes",
        "4G",
        "--vm-hang",
        "0",
        "--timeout",
        "120s",
    ]));
    let starts = Utc::now() + chrono::Duration::seconds(15);
    tokio::time::sleep(Duration::from_secs(45)).await;
    let done = alert_and_analyse(
        &oncall,
        webhook,
        "HostLowMemory",
        "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes < 0.8",
        &instance,
        starts,
    )
    .await;
    drop(hog);
    assert_names(&done, "memory", "memory", &instance);

    // CPU: every core burnt.
    let burn = spawn(Command::new(&stress).args(["--cpu", "0", "--timeout", "120s"]));
    let starts = Utc::now() + chrono::Duration::seconds(15);
    tokio::time::sleep(Duration::from_secs(45)).await;
    let done = alert_and_analyse(
        &oncall,
        webhook,
        "HostHighCpu",
        "100 * (1 - avg by(instance)(rate(node_cpu_seconds_total{mode=\"idle\"}[1m]))) > 70",
        &instance,
        starts,
    )
    .await;
    drop(burn);
    assert_names(&done, "cpu", "CPU", &instance);
    let peak = done.evidence["alert_query"]["series"][0]["peak"]
        .as_f64()
        .unwrap();
    assert!(
        peak > 70.0,
        "every core burnt: the rule's value peaked at {peak}"
    );
    let notes: Value = done.result.as_ref().unwrap()["summary"].clone();
    assert!(
        notes.as_str().unwrap().contains("the baseline"),
        "the short history is said: {notes}"
    );
}
