//! Webhook endpoints through the facade: admin CRUD with tokens shown once, and
//! the receivers Alertmanager and Grafana post to (token-checked, deduplicated,
//! stored at once, bounded by the analysis backlog).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::{AnalysisOptions, OnCall};
use crate::analysis::Analysis;
use crate::error::{Error, Result};
use crate::store::{AnalysisAlerts, Page, PageRequest};
use crate::users::{Role, User};
use crate::webhooks::{
    self, AlertBatch, AlertOutcome, IncomingAlert, Webhook, WebhookKind, WebhookOptions,
};

/// How long a counted backlog is trusted before it is counted again.
const BACKLOG_TTL: Duration = Duration::from_millis(250);

/// An endpoint as an admin creates or replaces it.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
pub struct WebhookInput {
    /// Unique display name.
    pub name: String,
    /// `alertmanager` or `grafana`.
    pub kind: WebhookKind,
    /// What to do with its alerts (defaults: analyse everything, group, 30 min window).
    #[serde(default)]
    pub options: Option<WebhookOptions>,
    /// Defaults to true.
    pub enabled: Option<bool>,
}

/// An endpoint as shown: never the token.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(skip_serializing_if_is_none)
)]
pub struct WebhookView {
    /// Id.
    pub id: Uuid,
    /// Unique display name.
    pub name: String,
    /// `alertmanager` or `grafana`.
    pub kind: WebhookKind,
    /// Where the sender posts: `/api/webhooks/<kind>/<id>`.
    pub path: String,
    /// What it does with alerts.
    pub options: WebhookOptions,
    /// Refuses notifications when false.
    pub enabled: bool,
    /// Email of the creator.
    pub created_by: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it last accepted a notification.
    pub last_received_at: Option<DateTime<Utc>>,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        WebhookView {
            path: format!("/api/webhooks/{}/{}", w.kind.as_str(), w.id),
            id: w.id,
            name: w.name,
            kind: w.kind,
            options: w.options,
            enabled: w.enabled,
            created_by: w.created_by,
            created_at: w.created_at,
            updated_at: w.updated_at,
            last_received_at: w.last_received_at,
        }
    }
}

/// A new endpoint (or a new token) with its token, shown this once.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct WebhookWithToken {
    /// The endpoint.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", oai(flatten))]
    pub webhook: WebhookView,
    /// Send as `Authorization: Bearer <token>` or `?token=<token>`. Stored hashed:
    /// it cannot be shown again (rotate it to get a new one).
    pub token: String,
}

/// What a receiver did with one notification.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct WebhookReceipt {
    /// Alerts stored.
    pub accepted: u64,
    /// New analyses started.
    pub started: u64,
    /// Alerts that joined their own earlier analysis (same fingerprint in the window).
    pub duplicates: u64,
    /// Alerts that joined their group's analysis.
    pub grouped: u64,
    /// Resolved alerts recorded.
    pub resolved: u64,
    /// Alerts stored without analysis (auto-analysis off or severity filtered).
    pub recorded: u64,
    /// The analyses the alerts went to (distinct, in order).
    pub analysis_ids: Vec<Uuid>,
}

/// Intake counters of this process, for `/metrics`.
#[derive(Debug, Default)]
pub(crate) struct IntakeCounters {
    notifications: AtomicU64,
    alerts: AtomicU64,
    started: AtomicU64,
    duplicates: AtomicU64,
    grouped: AtomicU64,
    resolved: AtomicU64,
    recorded: AtomicU64,
    rejected_backlog: AtomicU64,
    rejected_auth: AtomicU64,
    pub(crate) delivered: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) failed: AtomicU64,
    backlog: Mutex<Option<(Instant, u64)>>,
    /// Intake transactions of this process, one at a time: they serialise on the
    /// endpoints' rows (or SQLite's single writer) anyway, and queueing here is a
    /// fair FIFO instead of the database's busy-wait with growing sleeps.
    serial: Arc<tokio::sync::Mutex<()>>,
    /// Notifications waiting for the next intake transaction (group commit).
    waiting: Arc<Mutex<Vec<Waiting>>>,
}

/// A notification waiting to be stored, and where its outcome goes.
type Waiting = (AlertBatch, oneshot::Sender<Result<Vec<AlertOutcome>>>);

/// A snapshot of the intake and notification counters of this process (since start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IntakeMetrics {
    /// Webhook notifications accepted.
    pub notifications: u64,
    /// Alerts accepted (stored).
    pub alerts: u64,
    /// Analyses started by webhooks.
    pub analyses_started: u64,
    /// Alerts deduplicated onto their earlier analysis.
    pub duplicates: u64,
    /// Alerts grouped onto their group's analysis.
    pub grouped: u64,
    /// Resolved alerts recorded.
    pub resolved: u64,
    /// Alerts stored without analysis.
    pub recorded: u64,
    /// Notifications refused with 429 (backlog full).
    pub rejected_backlog: u64,
    /// Notifications refused with 401 (unknown endpoint, wrong token, disabled).
    pub rejected_auth: u64,
    /// Chat notifications delivered.
    pub deliveries_delivered: u64,
    /// Chat notification attempts that failed and will be retried.
    pub deliveries_retried: u64,
    /// Chat notifications given up.
    pub deliveries_failed: u64,
}

fn check_name(name: &str) -> Result<String> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > 100 {
        return Err(Error::invalid("name", "must be 1 to 100 characters"));
    }
    Ok(n.to_owned())
}

impl OnCall {
    /// Creates an endpoint (admin); the answer carries its token, shown only here.
    pub async fn create_webhook(
        &self,
        actor: &User,
        input: WebhookInput,
    ) -> Result<WebhookWithToken> {
        actor.require(Role::Admin)?;
        let options = input.options.unwrap_or_default();
        options.validate()?;
        let token = webhooks::new_token();
        let now = Utc::now();
        let w = Webhook {
            id: Uuid::now_v7(),
            name: check_name(&input.name)?,
            kind: input.kind,
            token_hash: webhooks::token_hash(&token),
            options,
            enabled: input.enabled.unwrap_or(true),
            created_by: actor.email.clone(),
            created_at: now,
            updated_at: now,
            last_received_at: None,
        };
        self.store.insert_webhook(&w).await?;
        Ok(WebhookWithToken {
            webhook: w.into(),
            token,
        })
    }

    /// Endpoints by name (admin).
    pub async fn list_webhooks(
        &self,
        actor: &User,
        page: PageRequest,
    ) -> Result<Page<WebhookView>> {
        actor.require(Role::Admin)?;
        Ok(self.store.list_webhooks(page).await?.map(Into::into))
    }

    /// One endpoint (admin).
    pub async fn webhook(&self, actor: &User, id: Uuid) -> Result<WebhookView> {
        actor.require(Role::Admin)?;
        Ok(self.store.webhook(id).await?.into())
    }

    /// Replaces an endpoint's name, kind, options and enabled flag (admin); the
    /// token stays.
    pub async fn update_webhook(
        &self,
        actor: &User,
        id: Uuid,
        input: WebhookInput,
    ) -> Result<WebhookView> {
        actor.require(Role::Admin)?;
        let mut w = self.store.webhook(id).await?;
        let options = input.options.unwrap_or_default();
        options.validate()?;
        w.name = check_name(&input.name)?;
        w.kind = input.kind;
        w.options = options;
        w.enabled = input.enabled.unwrap_or(true);
        w.updated_at = Utc::now();
        self.store.update_webhook(&w).await?;
        Ok(w.into())
    }

    /// Gives an endpoint a new token (admin); the old one stops working at once.
    pub async fn rotate_webhook_token(&self, actor: &User, id: Uuid) -> Result<WebhookWithToken> {
        actor.require(Role::Admin)?;
        let mut w = self.store.webhook(id).await?;
        let token = webhooks::new_token();
        w.token_hash = webhooks::token_hash(&token);
        w.updated_at = Utc::now();
        self.store.update_webhook(&w).await?;
        Ok(WebhookWithToken {
            webhook: w.into(),
            token,
        })
    }

    /// Deletes an endpoint (admin). Alerts it accepted stay on their analyses.
    pub async fn delete_webhook(&self, actor: &User, id: Uuid) -> Result<()> {
        actor.require(Role::Admin)?;
        self.store.delete_webhook(id).await
    }

    /// The alerts an analysis gathered from webhooks (any role): firing and
    /// resolved counts, distinct alerts, first/last seen and the latest 50.
    pub async fn analysis_alerts(&self, actor: &User, id: Uuid) -> Result<AnalysisAlerts> {
        actor.require(Role::Viewer)?;
        self.store.analysis(id).await?;
        self.store.analysis_alerts(id, 50).await
    }

    /// Accepts one notification posted to endpoint `id` of `kind` with `token`.
    /// See [`OnCall::receive_webhook_at`].
    pub async fn receive_webhook(
        &self,
        kind: WebhookKind,
        id: Uuid,
        token: &str,
        body: &Value,
    ) -> Result<WebhookReceipt> {
        self.receive_webhook_at(kind, id, token, body, Utc::now())
            .await
    }

    /// Accepts one notification as if received at `now` (tests drive the dedup
    /// window with it): checks the token ([`Error::Unauthorized`] for an unknown or
    /// disabled endpoint, another kind's endpoint or a wrong token), refuses with
    /// [`Error::RateLimited`] while the analysis backlog is full, splits the
    /// notification into alerts and stores them, deduplicated, in one transaction.
    /// Returns once stored; the analyses run in the workers.
    pub async fn receive_webhook_at(
        &self,
        kind: WebhookKind,
        id: Uuid,
        token: &str,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Result<WebhookReceipt> {
        let counters = &self.intake;
        let refuse = || {
            counters.rejected_auth.fetch_add(1, Ordering::Relaxed);
            Error::Unauthorized("unknown webhook, wrong token, or the webhook is disabled".into())
        };
        let w = match self.store.webhook(id).await {
            Ok(w) => w,
            Err(Error::NotFound { .. }) => return Err(refuse()),
            Err(e) => return Err(e),
        };
        if !w.enabled || w.kind != kind || !webhooks::token_matches(token, &w.token_hash) {
            return Err(refuse());
        }
        // A quick refusal from a recent count; the exact check is made again inside
        // the intake transaction, under the backlog's lock.
        let limit = self.settings.webhook_backlog;
        let backlog = self.intake_backlog().await?;
        if backlog >= limit {
            counters.rejected_backlog.fetch_add(1, Ordering::Relaxed);
            return Err(Error::RateLimited(format!(
                "{backlog} analyses are waiting (limit {limit}); retry later"
            )));
        }
        let mut batch = build_batch(&w, body, now)?;
        batch.backlog_limit = Some(limit);
        let outcomes = match self.ingest(batch).await {
            Err(e @ Error::RateLimited(_)) => {
                counters.rejected_backlog.fetch_add(1, Ordering::Relaxed);
                return Err(e);
            }
            other => other?,
        };
        let mut receipt = WebhookReceipt {
            accepted: outcomes.len() as u64,
            ..WebhookReceipt::default()
        };
        for o in &outcomes {
            match o {
                AlertOutcome::Started(_) => receipt.started += 1,
                AlertOutcome::Duplicate(_) => receipt.duplicates += 1,
                AlertOutcome::Grouped(_) => receipt.grouped += 1,
                AlertOutcome::Resolved(_) => receipt.resolved += 1,
                AlertOutcome::Recorded => receipt.recorded += 1,
            }
            if let Some(a) = o.analysis_id()
                && !receipt.analysis_ids.contains(&a)
            {
                receipt.analysis_ids.push(a);
            }
        }
        counters.notifications.fetch_add(1, Ordering::Relaxed);
        counters
            .alerts
            .fetch_add(receipt.accepted, Ordering::Relaxed);
        counters
            .started
            .fetch_add(receipt.started, Ordering::Relaxed);
        counters
            .duplicates
            .fetch_add(receipt.duplicates, Ordering::Relaxed);
        counters
            .grouped
            .fetch_add(receipt.grouped, Ordering::Relaxed);
        counters
            .resolved
            .fetch_add(receipt.resolved, Ordering::Relaxed);
        counters
            .recorded
            .fetch_add(receipt.recorded, Ordering::Relaxed);
        if receipt.started > 0 {
            if let Ok(mut cached) = counters.backlog.lock()
                && let Some((_, n)) = cached.as_mut()
            {
                *n += receipt.started;
            }
            self.wake.notify_one();
        }
        Ok(receipt)
    }

    /// Stores one notification, in a transaction shared with the others that
    /// arrived while the previous one ran (group commit: one commit, one fsync, for
    /// all of them). Each gets its own outcome; when the shared transaction fails,
    /// each is retried alone so one bad notification fails only itself.
    async fn ingest(&self, batch: AlertBatch) -> Result<Vec<AlertOutcome>> {
        let (done, mut outcome) = oneshot::channel();
        if let Ok(mut w) = self.intake.waiting.lock() {
            w.push((batch, done));
        }
        {
            // Stored by another request's transaction meanwhile: done, no turn needed.
            let _turn = tokio::select! {
                biased;
                stored = &mut outcome => {
                    return stored.map_err(|_| {
                        Error::Unavailable("the intake transaction was interrupted; retry".into())
                    })?;
                }
                turn = self.intake.serial.lock() => turn,
            };
            let group: Vec<Waiting> = self
                .intake
                .waiting
                .lock()
                .map(|mut w| std::mem::take(&mut *w))
                .unwrap_or_default();
            if !group.is_empty() {
                // Run it apart from this request, so a client hanging up cannot
                // interrupt a transaction others wait on.
                let store = self.store.clone();
                let run = tokio::spawn(async move {
                    let (batches, senders): (Vec<_>, Vec<_>) = group.into_iter().unzip();
                    match store.ingest_alerts(&batches).await {
                        Ok(all) => {
                            for (out, to) in all.into_iter().zip(senders) {
                                let _ = to.send(out);
                            }
                        }
                        Err(e) if batches.len() == 1 => {
                            if let Some(to) = senders.into_iter().next() {
                                let _ = to.send(Err(e));
                            }
                        }
                        Err(_) => {
                            for (b, to) in batches.iter().zip(senders) {
                                let one = store
                                    .ingest_alerts(std::slice::from_ref(b))
                                    .await
                                    .and_then(|mut all| all.pop().unwrap_or(Ok(Vec::new())));
                                let _ = to.send(one);
                            }
                        }
                    }
                });
                if let Err(e) = run.await {
                    tracing::warn!(error = %e, "webhook intake task");
                }
            }
        }
        outcome.await.map_err(|_| {
            Error::Unavailable("the intake transaction was interrupted; retry".into())
        })?
    }

    /// Pending analyses, counted at most every [`BACKLOG_TTL`].
    async fn intake_backlog(&self) -> Result<u64> {
        if let Ok(cached) = self.intake.backlog.lock()
            && let Some((at, n)) = *cached
            && at.elapsed() < BACKLOG_TTL
        {
            return Ok(n);
        }
        let n = self.store.count_pending_analyses().await?;
        if let Ok(mut cached) = self.intake.backlog.lock() {
            *cached = Some((Instant::now(), n));
        }
        Ok(n)
    }

    /// Intake and notification counters of this process.
    pub fn intake_metrics(&self) -> IntakeMetrics {
        let c = &self.intake;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        IntakeMetrics {
            notifications: get(&c.notifications),
            alerts: get(&c.alerts),
            analyses_started: get(&c.started),
            duplicates: get(&c.duplicates),
            grouped: get(&c.grouped),
            resolved: get(&c.resolved),
            recorded: get(&c.recorded),
            rejected_backlog: get(&c.rejected_backlog),
            rejected_auth: get(&c.rejected_auth),
            deliveries_delivered: get(&c.delivered),
            deliveries_retried: get(&c.retried),
            deliveries_failed: get(&c.failed),
        }
    }
}

/// The analysis a notification (or one alert of it) starts, if it starts one.
fn new_analysis(w: &Webhook, title: &str, raw: &Value) -> Result<Analysis> {
    let options = AnalysisOptions {
        llm: w.options.llm,
        language: w.options.language.clone(),
        ..AnalysisOptions::default()
    };
    let options = serde_json::to_value(&options).map_err(|e| Error::Internal(e.to_string()))?;
    let raw = raw.to_string();
    if raw.len() > super::MAX_ALERT_BYTES {
        return Err(Error::TooLarge(format!(
            "the notification is {} bytes; the limit is {}",
            raw.len(),
            super::MAX_ALERT_BYTES
        )));
    }
    Ok(Analysis::pending(
        title.chars().take(200).collect(),
        raw,
        options,
        format!("webhook:{}", w.name),
    ))
}

/// Splits `body` and decides, per alert, the analysis it would start.
fn build_batch(w: &Webhook, body: &Value, now: DateTime<Utc>) -> Result<AlertBatch> {
    let split = webhooks::split_notification(body, now)?;
    let window = chrono::Duration::minutes(i64::from(w.options.dedup_window_minutes));
    let wants = |a: &crate::alert::Alert| a.status == "firing" && w.options.analyses(a.severity);
    let group = if w.options.group_alerts {
        split
            .alerts
            .iter()
            .find(|(a, _)| wants(a))
            .map(|(a, _)| new_analysis(w, &a.name, body))
            .transpose()?
    } else {
        None
    };
    let envelope: Map<String, Value> = body
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| k.as_str() != "alerts")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    let mut alerts = Vec::with_capacity(split.alerts.len());
    for (parsed, raw) in split.alerts {
        let analysis = if !wants(&parsed) {
            None
        } else if let Some(g) = &group {
            Some(g.clone())
        } else {
            let mut one = envelope.clone();
            one.insert("alerts".into(), Value::Array(vec![raw.clone()]));
            Some(new_analysis(w, &parsed.name, &Value::Object(one))?)
        };
        alerts.push(IncomingAlert {
            fingerprint: parsed.fingerprint,
            name: parsed.name,
            firing: parsed.status == "firing",
            severity: parsed.severity,
            payload: raw.to_string(),
            analysis,
        });
    }
    Ok(AlertBatch {
        webhook_id: w.id,
        actor: format!("webhook:{}", w.name),
        received_at: now,
        window_start: now - window,
        group_key: if w.options.group_alerts {
            split.group_key
        } else {
            None
        },
        alerts,
        backlog_limit: None,
    })
}
