//! Connector throughput against real servers, compared with `curl` fetching the same
//! raw answers in the same run (the ratio is our parsing and paging overhead):
//!
//! - 100,000 log lines from the OpenSearch-API server (osmem), ten `_search` pages of
//!   10,000 with `search_after`;
//! - a 24 h × 1 min range (1,441 points) of 500 series from Prometheus.
//!
//! ```sh
//! CARGO_TARGET_DIR=... cargo bench -p oncall-core --bench connectors
//! ```
//!
//! Needs prometheus, promtool, osmem-server (as the tests; `scripts/test` installs
//! them) and GNU `/usr/bin/time` for peak memory. Each measured fetch runs in its own
//! process — this binary re-run with `--fetch-*`, or `curl` — under
//! `/usr/bin/time -f %M`, so both sides are timed and measured the same way: wall
//! time of the process, and its peak RSS. Prints a Markdown table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may panic

#[allow(dead_code)]
#[path = "../tests/support/services.rs"]
mod services;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use oncall_core::connectors::{
    AuthKind, Credentials, DataSource, DataSourceKind, LogFilter, LogOrder, LogQuery, TimeRange,
    connector_for,
};
use serde_json::{Value, json};

const RUNS: usize = 5;
const SERIES: usize = 500;
const POINTS: i64 = 1_441;
const PROM_START: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z
const LOG_LINES: usize = 100_000;
const LOG_INDEX: &str = "bench-logs";
const PAGE: usize = 10_000;
/// The fixture spans 76 s; copies are laid 90 s apart.
const COPY_SPACING_S: i64 = 90;

fn data_source(kind: DataSourceKind, url: &str, config: Value) -> DataSource {
    let now = Utc::now();
    DataSource {
        id: uuid::Uuid::now_v7(),
        name: "bench".into(),
        kind,
        url: url.into(),
        auth_kind: AuthKind::None,
        username: None,
        password_sealed: None,
        token_sealed: None,
        config,
        enabled: true,
        timeout_ms: 120_000,
        created_at: now,
        updated_at: now,
    }
}

fn log_range() -> TimeRange {
    let start = DateTime::parse_from_rfc3339("2023-01-29T08:42:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let copies = LOG_LINES.div_ceil(3000) as i64;
    TimeRange::new(
        start,
        start + chrono::Duration::seconds(COPY_SPACING_S * (copies + 1)),
    )
    .unwrap()
}

fn prom_range() -> TimeRange {
    TimeRange::new(
        DateTime::from_timestamp(PROM_START, 0).unwrap(),
        DateTime::from_timestamp(PROM_START + (POINTS - 1) * 60, 0).unwrap(),
    )
    .unwrap()
}

/// The child side: one fetch through the connector, then exit.
async fn fetch(args: &[String]) {
    let started = Instant::now();
    match args[0].as_str() {
        "--fetch-prometheus" => {
            let c = connector_for(
                &data_source(DataSourceKind::Prometheus, &args[1], json!({})),
                Credentials::default(),
            )
            .unwrap();
            let data = c
                .metric_range("bench_gauge", &prom_range(), Some(Duration::from_secs(60)))
                .await
                .unwrap();
            let points: usize = data.series.iter().map(|s| s.samples.len()).sum();
            assert_eq!(data.series.len(), SERIES);
            assert_eq!(points, SERIES * POINTS as usize);
            eprintln!("fetched {points} points in {:?}", started.elapsed());
        }
        "--fetch-logs" => {
            let c = connector_for(
                &data_source(
                    DataSourceKind::Elk,
                    &args[1],
                    json!({"index": LOG_INDEX, "page_size": PAGE}),
                ),
                Credentials::default(),
            )
            .unwrap();
            let batch = c
                .logs(&LogQuery {
                    range: log_range(),
                    filter: LogFilter::default(),
                    limit: LOG_LINES,
                    order: LogOrder::OldestFirst,
                })
                .await
                .unwrap();
            assert_eq!(batch.records.len(), LOG_LINES);
            eprintln!(
                "fetched {} lines in {:?}",
                batch.records.len(),
                started.elapsed()
            );
        }
        other => panic!("unknown mode {other}"),
    }
}

/// 500 gauges, one sample a minute for 24 h, as OpenMetrics, gzipped.
fn write_prometheus_data(path: &Path) {
    let mut text = String::with_capacity(SERIES * POINTS as usize * 80);
    text.push_str("# HELP bench_gauge A synthetic gauge.\n# TYPE bench_gauge gauge\n");
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for s in 0..SERIES {
        for p in 0..POINTS {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x % 1_000_000) as f64 / 1000.0;
            text.push_str(&format!(
                "bench_gauge{{service=\"svc-{:02}\",pod=\"svc-{:02}-{s}\"}} {v} {}\n",
                s % 50,
                s % 50,
                PROM_START + p * 60
            ));
        }
    }
    text.push_str("# EOF\n");
    let plain = path.with_extension("");
    std::fs::write(&plain, text).unwrap();
    let ok = Command::new("gzip")
        .args(["-f", "-1"])
        .arg(&plain)
        .status()
        .unwrap()
        .success();
    assert!(ok, "gzip");
}

/// The log fixture repeated until there are 100,000 lines, 90 s between copies.
fn log_lines() -> Vec<u8> {
    let out = Command::new("gzip")
        .arg("-dc")
        .arg(services::data_dir().join(services::LOGS_FIXTURE))
        .output()
        .unwrap();
    let fixture: Vec<Value> = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap())
        .collect();
    let mut lines = Vec::new();
    for i in 0..LOG_LINES {
        let copy = (i / fixture.len()) as i64;
        let mut doc = fixture[i % fixture.len()].clone();
        let t = DateTime::parse_from_rfc3339(doc["@timestamp"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::seconds(copy * COPY_SPACING_S);
        doc["@timestamp"] = json!(t.to_rfc3339_opts(SecondsFormat::Millis, true));
        lines.extend_from_slice(&serde_json::to_vec(&doc).unwrap());
        lines.push(b'\n');
    }
    lines
}

/// The `_search` bodies the connector sends, with the `search_after` of each page
/// found in an untimed pass.
async fn search_bodies(url: &str) -> Vec<Value> {
    let range = log_range();
    let query = json!({"bool": {"filter": [{"range": {"@timestamp": {
        "gte": range.start.to_rfc3339_opts(SecondsFormat::Millis, true),
        "lt": range.end.to_rfc3339_opts(SecondsFormat::Millis, true),
        "format": "strict_date_optional_time",
    }}}], "must": []}});
    let client = reqwest::Client::new();
    let mut bodies = Vec::new();
    let mut after: Option<Value> = None;
    for page in 0..LOG_LINES / PAGE {
        let mut body = json!({
            "size": PAGE,
            "query": query,
            "sort": [
                {"@timestamp": {"order": "asc", "unmapped_type": "date"}},
                {"_doc": {"order": "asc"}},
            ],
            "track_total_hits": page == 0,
        });
        if let Some(a) = &after {
            body["search_after"] = a.clone();
        }
        let resp = client
            .post(format!("{url}/{LOG_INDEX}/_search"))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&body).unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let resp: Value = serde_json::from_slice(&resp).unwrap();
        after = resp["hits"]["hits"]
            .as_array()
            .unwrap()
            .last()
            .map(|h| h["sort"].clone());
        bodies.push(body);
    }
    bodies
}

struct Measure {
    wall: Duration,
    peak_kib: u64,
}

/// Runs `cmd` under `/usr/bin/time -f %M`: wall time and peak RSS.
fn measure(cmd: &[String]) -> Measure {
    let out = tempfile::NamedTempFile::new().unwrap();
    let started = Instant::now();
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(out.path())
        .args(cmd)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("/usr/bin/time (GNU time) is needed for peak memory");
    let wall = started.elapsed();
    assert!(status.success(), "{cmd:?} failed");
    let peak_kib = std::fs::read_to_string(out.path())
        .unwrap()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap();
    Measure { wall, peak_kib }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn compare(name: &str, ours: &[String], curl: &[String]) -> String {
    let (mut ours_t, mut curl_t, mut ours_m, mut curl_m) = (vec![], vec![], 0, 0);
    for _ in 0..RUNS {
        let c = measure(curl);
        curl_t.push(c.wall);
        curl_m = curl_m.max(c.peak_kib);
        let o = measure(ours);
        ours_t.push(o.wall);
        ours_m = ours_m.max(o.peak_kib);
    }
    let (o, c) = (median(ours_t), median(curl_t));
    format!(
        "| {name} | {:.0} ms | {:.0} ms | {:.2}× | {:.0} MiB | {:.0} MiB |",
        o.as_secs_f64() * 1000.0,
        c.as_secs_f64() * 1000.0,
        o.as_secs_f64() / c.as_secs_f64(),
        ours_m as f64 / 1024.0,
        curl_m as f64 / 1024.0,
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().is_some_and(|a| a.starts_with("--fetch-")) {
        fetch(&args).await;
        return;
    }
    if !args.is_empty() {
        // `cargo test --benches` and filters: nothing to do.
        return;
    }
    oncall_core::connectors::install_default_tls_provider();
    let me = std::env::current_exe().unwrap().display().to_string();
    let dir = tempfile::tempdir().unwrap();

    eprintln!("preparing Prometheus: {SERIES} series × {POINTS} points ...");
    let om = dir.path().join("bench.om.gz");
    write_prometheus_data(&om);
    let prom = services::start_prometheus(&om).await;
    let range = prom_range();
    let prom_url = format!(
        "{}/api/v1/query_range?query=bench_gauge&start={}.000&end={}.000&step=60",
        prom.url,
        range.start.timestamp(),
        range.end.timestamp()
    );
    let bytes = reqwest::get(&prom_url)
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    eprintln!("Prometheus answer: {:.1} MiB", bytes as f64 / 1048576.0);

    eprintln!("preparing OpenSearch API: {LOG_LINES} lines ...");
    let os = services::start_opensearch();
    services::bulk_load(&os.url, LOG_INDEX, &log_lines()).await;
    let bodies = search_bodies(&os.url).await;
    let mut curl_logs: Vec<String> = vec!["curl".into(), "-sS".into(), "--fail".into()];
    let mut log_bytes = 0;
    for (i, body) in bodies.iter().enumerate() {
        let file = dir.path().join(format!("page{i}.json"));
        std::fs::write(&file, serde_json::to_vec(body).unwrap()).unwrap();
        if i > 0 {
            curl_logs.push("--next".into());
        }
        curl_logs.extend([
            "-o".into(),
            "/dev/null".into(),
            "-H".into(),
            "content-type: application/json".into(),
            "--data-binary".into(),
            format!("@{}", file.display()),
            format!("{}/{LOG_INDEX}/_search", os.url),
        ]);
        log_bytes += reqwest::Client::new()
            .post(format!("{}/{LOG_INDEX}/_search", os.url))
            .header("content-type", "application/json")
            .body(serde_json::to_vec(body).unwrap())
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .len();
    }
    eprintln!(
        "OpenSearch answers: {:.1} MiB in {} pages",
        log_bytes as f64 / 1048576.0,
        bodies.len()
    );

    let prom_row = compare(
        &format!(
            "Prometheus: {SERIES} series × {POINTS} points ({:.1} MiB JSON)",
            bytes as f64 / 1048576.0
        ),
        &[me.clone(), "--fetch-prometheus".into(), prom.url.clone()],
        &[
            "curl".into(),
            "-sS".into(),
            "--fail".into(),
            "-o".into(),
            "/dev/null".into(),
            prom_url.clone(),
        ],
    );
    let logs_row = compare(
        &format!(
            "OpenSearch API: {LOG_LINES} lines, {} pages ({:.1} MiB JSON)",
            bodies.len(),
            log_bytes as f64 / 1048576.0
        ),
        &[me, "--fetch-logs".into(), os.url.clone()],
        &curl_logs,
    );
    println!("| fetch | connector | curl | ratio | connector peak RSS | curl peak RSS |");
    println!("|---|---|---|---|---|---|");
    println!("{prom_row}");
    println!("{logs_row}");
    println!("\n(median of {RUNS} runs each, alternating; wall time of the whole process)");
}
