//! # oncall-server
//!
//! The REST API (poem + poem-openapi) and web UI host of oncall-assistant: a thin
//! translation of HTTP onto [`oncall_core::OnCall`]. Auth is a bearer JWT; the
//! roles themselves are enforced in `oncall-core`.

use std::path::Path;
use std::sync::Arc;

use oncall_core::OnCall;
use poem::http::StatusCode;
use poem::middleware::Tracing;
use poem::web::Data;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, get, handler};

pub mod api;
mod auth;
mod error;
mod observe;
mod refusals;
mod web;

pub use auth::TokenKeys;
pub use refusals::url_to_open;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What every request handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The engine.
    pub oncall: OnCall,
    /// Access-token keys.
    pub tokens: TokenKeys,
    metrics: Arc<observe::RequestMetrics>,
}

impl AppState {
    /// State for `oncall`, signing tokens with `jwt_secret`.
    pub fn new(oncall: OnCall, jwt_secret: &str) -> Arc<Self> {
        let hours = oncall.settings().jwt_expire_hours;
        Arc::new(AppState {
            tokens: TokenKeys::new(jwt_secret, hours),
            oncall,
            metrics: Arc::default(),
        })
    }
}

#[handler]
fn healthz() -> &'static str {
    "ok"
}

#[handler]
async fn readyz(Data(state): Data<&Arc<AppState>>) -> (StatusCode, String) {
    match state.oncall.ping().await {
        Ok(()) => (StatusCode::OK, "ready".into()),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("database unavailable: {e}"),
        ),
    }
}

#[handler]
async fn metrics(Data(state): Data<&Arc<AppState>>) -> poem::Response {
    let mut out = String::with_capacity(4096);
    state.metrics.render(&mut out);
    match state.oncall.analysis_counts().await {
        Ok(counts) => {
            out.push_str(
                "# HELP oncall_analyses Analyses by state.\n# TYPE oncall_analyses gauge\n",
            );
            for (status, n) in counts {
                out.push_str(&format!(
                    "oncall_analyses{{status=\"{}\"}} {n}\n",
                    status.as_str()
                ));
            }
        }
        Err(e) => tracing::warn!(error = %e, "counting analyses for /metrics"),
    }
    render_intake(&state.oncall, &mut out).await;
    poem::Response::builder()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}

/// Webhook intake, deduplication and notification counters of this process, and
/// the outbox by status (from the database).
async fn render_intake(oncall: &OnCall, out: &mut String) {
    use std::fmt::Write;
    let m = oncall.intake_metrics();
    let counters: [(&str, &str, u64); 11] = [
        (
            "oncall_webhook_notifications_total",
            "Webhook notifications accepted.",
            m.notifications,
        ),
        (
            "oncall_webhook_alerts_total",
            "Alerts accepted (stored) from webhooks.",
            m.alerts,
        ),
        (
            "oncall_webhook_analyses_started_total",
            "Analyses started by webhook alerts.",
            m.analyses_started,
        ),
        (
            "oncall_webhook_alerts_deduplicated_total",
            "Alerts that joined their own earlier analysis (same fingerprint within the window).",
            m.duplicates,
        ),
        (
            "oncall_webhook_alerts_grouped_total",
            "Alerts that joined their group's analysis.",
            m.grouped,
        ),
        (
            "oncall_webhook_alerts_resolved_total",
            "Resolved alerts recorded.",
            m.resolved,
        ),
        (
            "oncall_webhook_alerts_recorded_total",
            "Alerts stored without starting an analysis.",
            m.recorded,
        ),
        (
            "oncall_webhook_rejected_backlog_total",
            "Webhook notifications refused with 429 (analysis backlog full).",
            m.rejected_backlog,
        ),
        (
            "oncall_webhook_rejected_auth_total",
            "Webhook notifications refused with 401.",
            m.rejected_auth,
        ),
        (
            "oncall_notifications_delivered_total",
            "Channel notifications delivered.",
            m.deliveries_delivered,
        ),
        (
            "oncall_notifications_retried_total",
            "Channel notification attempts that failed and were rescheduled.",
            m.deliveries_retried,
        ),
    ];
    for (name, help, value) in counters {
        let _ = write!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}\n"
        );
    }
    let _ = write!(
        out,
        "# HELP oncall_notifications_failed_total Channel notifications given up.\n\
         # TYPE oncall_notifications_failed_total counter\noncall_notifications_failed_total {}\n",
        m.deliveries_failed
    );
    match oncall.delivery_counts().await {
        Ok(counts) => {
            out.push_str("# HELP oncall_notification_outbox Outbox deliveries by status.\n# TYPE oncall_notification_outbox gauge\n");
            for status in ["pending", "sending", "delivered", "failed"] {
                let n = counts
                    .iter()
                    .find(|(s, _)| s == status)
                    .map_or(0, |(_, n)| *n);
                let _ = writeln!(out, "oncall_notification_outbox{{status=\"{status}\"}} {n}");
            }
        }
        Err(e) => tracing::warn!(error = %e, "counting deliveries for /metrics"),
    }
}

/// Refuses bodies over [`MAX_BODY_BYTES`] with 413: by `Content-Length` when
/// given, else by reading a chunked body up to the limit.
async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let too_large = || poem::Error::from_status(StatusCode::PAYLOAD_TOO_LARGE);
    let declared = req
        .headers()
        .get(poem::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(n) if n > MAX_BODY_BYTES => return Err(too_large()),
        Some(_) => {}
        None => {
            let body = req.take_body();
            if !body.is_empty() {
                let bytes = body
                    .into_bytes_limit(MAX_BODY_BYTES)
                    .await
                    .map_err(|_| too_large())?;
                req.set_body(bytes);
            }
        }
    }
    Ok(next.call(req).await?.into_response())
}

/// Accepts TCP connections with `TCP_NODELAY` set, so small responses are not held
/// back by Nagle's algorithm waiting for the client's delayed ACK (several
/// milliseconds per request on keep-alive connections).
pub struct NoDelayAcceptor(poem::listener::TcpAcceptor);

impl std::fmt::Debug for NoDelayAcceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use poem::listener::Acceptor;
        f.debug_tuple("NoDelayAcceptor")
            .field(&self.0.local_addr())
            .finish()
    }
}

impl NoDelayAcceptor {
    /// Binds `addr`.
    pub async fn bind(addr: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        Ok(NoDelayAcceptor(poem::listener::TcpAcceptor::from_tokio(
            listener,
        )?))
    }
}

impl poem::listener::Acceptor for NoDelayAcceptor {
    type Io = tokio::net::TcpStream;

    fn local_addr(&self) -> Vec<poem::web::LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(
        &mut self,
    ) -> std::io::Result<(
        Self::Io,
        poem::web::LocalAddr,
        poem::web::RemoteAddr,
        poem::http::uri::Scheme,
    )> {
        let (io, local, remote, scheme) = self.0.accept().await?;
        io.set_nodelay(true)?;
        Ok((io, local, remote, scheme))
    }
}

/// Runs the server until SIGTERM or SIGINT (Ctrl-C): resolves the secrets
/// (development mode generates missing ones into `./data/dev-secrets.json`), opens
/// the engine, starts the analysis workers and serves the API and web UI on
/// `settings.addr`.
///
/// A stop signal stops the claiming of new work at once and closes the listener;
/// requests and analyses in flight get `settings.stop_grace` in all, after which
/// the analyses still running are handed back for another replica (released,
/// attempt not charged). Returns `Ok` after a clean stop.
pub async fn serve(mut settings: oncall_core::Settings) -> Result<(), Box<dyn std::error::Error>> {
    use oncall_core::secrets::{SecretSource, resolve_secrets};
    if let SecretSource::DevelopmentFile(file) =
        resolve_secrets(&mut settings, Path::new("data/dev-secrets.json"))?
    {
        tracing::warn!(
            %file,
            "DEVELOPMENT MODE: using generated JWT and encryption keys kept in {file}; \
             set JWT_SECRET_KEY and ONCALL_ENCRYPTION_KEY in production"
        );
    }
    let jwt_secret = settings.jwt_secret_key.clone().unwrap_or_default();
    let addr = settings.addr.clone();
    let web_dir = settings.web_dir.clone();
    let grace = settings.stop_grace;
    let mut signals = StopSignals::install()?;
    oncall_core::connectors::install_default_tls_provider();
    let oncall = OnCall::open(settings).await?;
    let workers = oncall.start_workers();
    let notifier = oncall.start_notifier()?;
    let state = AppState::new(oncall.clone(), &jwt_secret);
    let acceptor = NoDelayAcceptor::bind(&addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let url = url_to_open(&addr);
    tracing::info!(%addr, dialect = oncall.database_dialect(), "oncall-server listening: open {url} (API docs at {url}docs)");
    // The stop: from the signal on, the listener closes and requests drain while,
    // at the same time, the workers claim nothing more and finish what they run;
    // both within the grace period. (A long-lived request such as a progress
    // stream must not eat the analyses' grace.)
    let (stop, mut stopping) = tokio::sync::watch::channel(false);
    let serving = async {
        let served = poem::Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                app(state, &web_dir),
                async {
                    let signal = signals.recv().await;
                    tracing::info!(
                        signal,
                        grace_seconds = grace.as_secs(),
                        "stopping: no new work taken; finishing requests and analyses in flight"
                    );
                    let _ = stop.send(true);
                },
                Some(grace),
            )
            .await;
        // Also when serving failed: the workers must stop either way.
        let _ = stop.send(true);
        served
    };
    let draining = async {
        let _ = stopping.wait_for(|stop| *stop).await;
        tokio::join!(workers.shutdown(grace), notifier.shutdown(grace))
    };
    let (served, (finished, _)) = tokio::join!(serving, draining);
    if !finished {
        tracing::warn!("the grace period ended with analyses running; handed them back");
    }
    oncall.close().await;
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// The signals that start a graceful stop: SIGTERM (what docker, Kubernetes and
/// systemd send) and SIGINT (Ctrl-C). Installed before the engine opens, so a
/// stop signal never kills the process outright once serving starts.
struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }

    /// Waits for the first stop signal; returns its name.
    async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// The OpenAPI document of the API, as served at `/api/openapi.json`.
pub fn openapi_json() -> String {
    api::service().spec()
}

/// The whole HTTP application: API, docs, health, metrics and the web UI.
pub fn app(state: Arc<AppState>, web_dir: &Path) -> impl Endpoint + use<> {
    let service = api::service();
    let spec = service.spec_endpoint();
    let docs = service.swagger_ui();
    let metrics_store = state.metrics.clone();
    Route::new()
        .nest("/", web::endpoint(web_dir))
        .at("/api/openapi.json", spec)
        .nest("/docs", docs)
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at(
            "/metrics",
            get(metrics).around(observe::require_metrics_token),
        )
        .nest_no_strip("/api", service)
        .around(auth::require_password_change)
        .around(limit_body)
        .data(state)
        .around(move |ep, req| observe::record(ep, req, metrics_store.clone()))
        .around(error::retry_after)
        .around(web::security_headers)
        .with(Tracing)
}
