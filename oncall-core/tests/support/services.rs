//! Real servers for the connector tests, started by the test binary itself on free
//! ports and loaded with the fixtures in `tests/data/`:
//!
//! - **Prometheus**: `promtool tsdb create-blocks-from openmetrics` backfills a TSDB
//!   in a temporary directory, then `prometheus` serves it.
//! - **OpenSearch API**: `osmem-server` (from `pip install osmem-server`), loaded with
//!   log lines through `_bulk`.
//!
//! Binaries are found through `ONCALL_TEST_PROMETHEUS_BIN`, `ONCALL_TEST_PROMTOOL_BIN`,
//! `ONCALL_TEST_OSMEM_BIN`, else `PATH` (and, for osmem, the Python site-packages).
//! A missing binary FAILS the test with the command that installs it
//! (`scripts/test` installs both). Outside CI a developer may set
//! `ONCALL_TEST_SERVICES=skip`: the tests then print `SKIPPED` and pass.
//!
//! Each server is started once per test binary and shared; it goes away with the
//! test process (Prometheus through a shell that kills it when our pipe to its stdin
//! closes, osmem through its own stdin watch and `-parent-pid`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::sync::OnceCell;

/// The fixture directory.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// True when the developer opted out (outside CI only); says so loudly.
pub fn services_skipped(test: &str) -> bool {
    let opted_out = std::env::var("ONCALL_TEST_SERVICES").is_ok_and(|v| v == "skip");
    let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    if opted_out && in_ci {
        panic!(
            "ONCALL_TEST_SERVICES=skip is not allowed when CI=true: the real-server tests must run"
        );
    }
    if opted_out {
        // Straight to stderr: the test harness captures eprintln! of passing tests.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED {test}: ONCALL_TEST_SERVICES=skip (real Prometheus / OpenSearch-API tests not run) ***"
        );
    }
    opted_out
}

/// Resolves a binary: `env` var, then `PATH`, then `extra` places; panics with
/// `install` when none exists.
pub fn find_binary(env: &str, name: &str, extra: &[PathBuf], install: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "{env}={} does not exist; unset it or fix it",
            p.display()
        );
        return p;
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain(extra.iter().cloned())
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` not found (looked at ${env}, PATH{}). Install it: {install} \
                 (scripts/test does), or set {env}; outside CI only, \
                 ONCALL_TEST_SERVICES=skip skips these tests",
                if extra.is_empty() {
                    ""
                } else {
                    ", Python site-packages"
                }
            )
        })
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("addr").port()
}

fn gunzip(path: &Path) -> Vec<u8> {
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(path)
        .output()
        .expect("run gzip -dc");
    assert!(out.status.success(), "gzip -dc {} failed", path.display());
    out.stdout
}

async fn wait_until_ready(url: &str, what: &str, log: Option<&Path>) {
    oncall_core::connectors::install_default_tls_provider();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = client.get(url).send().await {
            if r.status().is_success() {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = log
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    let tail: String = log.lines().rev().take(20).collect::<Vec<_>>().join("\n");
    panic!("{what} did not become ready at {url} within 60 s; log tail:\n{tail}");
}

/// A running Prometheus over the fixture TSDB.
#[derive(Debug)]
pub struct Prometheus {
    pub url: String,
    _guard: Child,
}

/// The Prometheus fixture: `prometheus-ts-2023-01-29-01.om.gz` (4 metric families of
/// one Nezha scenario).
pub const PROMETHEUS_FIXTURE: &str = "prometheus-ts-2023-01-29-01.om.gz";

static PROMETHEUS: OnceCell<Prometheus> = OnceCell::const_new();

/// The shared Prometheus, or `None` when skipped.
pub async fn prometheus(test: &str) -> Option<&'static Prometheus> {
    if services_skipped(test) {
        return None;
    }
    Some(
        PROMETHEUS
            .get_or_init(|| async { start_prometheus(&data_dir().join(PROMETHEUS_FIXTURE)).await })
            .await,
    )
}

/// Backfills `openmetrics_gz` into a fresh TSDB and serves it on a free port.
pub async fn start_prometheus(openmetrics_gz: &Path) -> Prometheus {
    let install = "apt-get install -y prometheus";
    let prometheus = find_binary("ONCALL_TEST_PROMETHEUS_BIN", "prometheus", &[], install);
    let promtool = find_binary("ONCALL_TEST_PROMTOOL_BIN", "promtool", &[], install);
    let dir = tempfile::Builder::new()
        .prefix("oncall-prometheus-")
        .tempdir()
        .expect("temp dir")
        .keep();
    let input = dir.join("metrics.om");
    std::fs::write(&input, gunzip(openmetrics_gz)).expect("write OpenMetrics");
    let tsdb = dir.join("tsdb");
    let out = Command::new(&promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(&input)
        .arg(&tsdb)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool tsdb create-blocks-from openmetrics failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        "global:\n  scrape_interval: 1h\nscrape_configs: []\n",
    )
    .expect("config");
    let port = free_port();
    let log = dir.join("prometheus.log");
    // The shell keeps Prometheus alive exactly as long as this process holds the
    // pipe to its stdin, then removes the temporary directory.
    let guard = Command::new("sh")
        .arg("-c")
        .arg(
            r#"dir="$1"; shift; "$@" >"$dir/prometheus.log" 2>&1 </dev/null & pid=$!
               read _ignored; kill "$pid" 2>/dev/null; wait "$pid"; rm -rf "$dir""#,
        )
        .arg("sh")
        .arg(&dir)
        .arg(&prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", tsdb.display()))
        .arg("--storage.tsdb.retention.time=100000d")
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start prometheus");
    let url = format!("http://127.0.0.1:{port}");
    wait_until_ready(&format!("{url}/-/ready"), "Prometheus", Some(&log)).await;
    Prometheus { url, _guard: guard }
}

/// A running OpenSearch-API server (osmem).
#[derive(Debug)]
pub struct OpenSearch {
    pub url: String,
    _child: Child,
}

/// The log fixture: the first 3,000 lines of one Nezha scenario's `logs.jsonl.gz`.
pub const LOGS_FIXTURE: &str = "opensearch-ts-2023-01-29-01.logs.jsonl.gz";
/// The index the fixture is loaded into.
pub const LOGS_INDEX: &str = "logs-train-ticket";

static OPENSEARCH: OnceCell<OpenSearch> = OnceCell::const_new();

/// The shared OpenSearch-API server with [`LOGS_FIXTURE`] in [`LOGS_INDEX`], or
/// `None` when skipped.
pub async fn opensearch(test: &str) -> Option<&'static OpenSearch> {
    if services_skipped(test) {
        return None;
    }
    Some(
        OPENSEARCH
            .get_or_init(|| async {
                let server = start_opensearch();
                let lines = gunzip(&data_dir().join(LOGS_FIXTURE));
                bulk_load(&server.url, LOGS_INDEX, &lines).await;
                server
            })
            .await,
    )
}

fn osmem_site_packages() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for python in ["python3", "python"] {
        let out = Command::new(python)
            .args([
                "-c",
                "import sysconfig,site;print(sysconfig.get_paths()['purelib']);print('\\n'.join(site.getsitepackages()+[site.getusersitepackages()]))",
            ])
            .output();
        if let Ok(out) = out {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                found.push(Path::new(line.trim()).join("osmem_server/bin/osmem-server"));
            }
        }
    }
    found
}

/// Starts osmem-server on a free port (it prints its URL when ready).
pub fn start_opensearch() -> OpenSearch {
    let bin = find_binary(
        "ONCALL_TEST_OSMEM_BIN",
        "osmem-server",
        &osmem_site_packages(),
        "pip install osmem-server",
    );
    let mut child = Command::new(&bin)
        .args(["-addr", "127.0.0.1:0", "-no-ja", "-parent-pid"])
        .arg(std::process::id().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
    let stdout = child.stdout.take().expect("osmem stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read osmem's ready line");
    let ready: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| {
        panic!("osmem-server's first line is not its ready JSON ({e}): {line}")
    });
    let url = ready["url"].as_str().expect("url in ready line").to_owned();
    OpenSearch { url, _child: child }
}

/// Loads JSON lines into `index` through `_bulk` (refreshed, so searchable at once).
pub async fn bulk_load(url: &str, index: &str, jsonl: &[u8]) {
    oncall_core::connectors::install_default_tls_provider();
    let client = reqwest::Client::new();
    let action = format!("{{\"index\":{{\"_index\":\"{index}\"}}}}\n");
    let lines: Vec<&[u8]> = jsonl
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    for chunk in lines.chunks(20_000) {
        let mut body = Vec::new();
        for line in chunk {
            body.extend_from_slice(action.as_bytes());
            body.extend_from_slice(line);
            body.push(b'\n');
        }
        let resp = client
            .post(format!("{url}/_bulk?refresh=true"))
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .expect("bulk request");
        let status = resp.status();
        let text = resp.text().await.expect("bulk answer");
        assert!(status.is_success(), "bulk load failed: {status} {text}");
        assert!(
            text.contains("\"errors\":false"),
            "bulk load reported errors: {}",
            &text[..text.len().min(500)]
        );
    }
}
