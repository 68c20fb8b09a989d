//! Notification channels through the facade (admin CRUD, secrets sealed like
//! data-source credentials), the outbox they are fed from, and the sender that
//! drains it with retries and backoff. A failing channel never blocks or fails an
//! analysis: enqueueing is one insert per channel, sending happens elsewhere.

use std::sync::atomic::Ordering;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::OnCall;
use super::claims::ClaimLoop;
use crate::analysis::AnalysisStatus;
use crate::error::{Error, Result};
use crate::notify::{self, ChannelKind, Notice, NotificationChannel, NotificationEvent};
use crate::store::{self, ClaimedDelivery, Delivery, DeliveryResult, Page, PageRequest};
use crate::tickets::{Ticket, TicketStatus};
use crate::users::{Role, User};

/// How long a claimed delivery stays locked (longer than one HTTP attempt).
const DELIVERY_LOCK: Duration = Duration::from_secs(60);
/// Timeout of one HTTP attempt.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How often an idle sender looks for due deliveries.
const IDLE_POLL: Duration = Duration::from_millis(250);
/// Deliveries sent at once per process.
const SENDERS: usize = 4;
/// How often a process prunes the outbox of deliveries past
/// [`crate::Settings::notify_retention_days`].
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// A channel as an admin creates or replaces it. Secrets are write-only: omitted
/// on an edit, the stored ones are kept.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
pub struct ChannelInput {
    /// Unique display name.
    pub name: String,
    /// `webhook`, `slack`, `feishu`, `dingtalk` or `wecom`.
    pub kind: ChannelKind,
    /// The webhook / bot URL (it usually carries the bot's token, so it is stored
    /// encrypted and shown only as a hint). Required on create.
    pub url: Option<String>,
    /// Signing secret (Feishu, DingTalk `SEC...`); empty string removes it.
    pub secret: Option<String>,
    /// Events to send (default: analysis completed/failed, ticket status).
    pub events: Option<Vec<NotificationEvent>>,
    /// Defaults to true.
    pub enabled: Option<bool>,
}

/// A channel as shown: no URL token, no secret.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ChannelView {
    /// Id.
    pub id: Uuid,
    /// Unique display name.
    pub name: String,
    /// Service.
    pub kind: ChannelKind,
    /// Scheme and host of the URL (the rest is secret).
    pub url_hint: String,
    /// A signing secret is stored.
    pub has_secret: bool,
    /// Events it receives.
    pub events: Vec<NotificationEvent>,
    /// Gets nothing when false.
    pub enabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<NotificationChannel> for ChannelView {
    fn from(c: NotificationChannel) -> Self {
        ChannelView {
            id: c.id,
            name: c.name,
            kind: c.kind,
            url_hint: c.url_hint,
            has_secret: c.secret_sealed.is_some(),
            events: c.events,
            enabled: c.enabled,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// The answer of a test message.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct ChannelTest {
    /// The channel accepted it.
    pub ok: bool,
    /// What happened.
    pub message: String,
}

/// The running notification sender; [`Notifier::shutdown`] stops it (it stops
/// taking deliveries and waits for those being sent).
pub type Notifier = super::Background;

fn sealing_context(id: Uuid, what: &str) -> String {
    format!("channel:{id}:{what}")
}

fn http_client() -> Result<reqwest::Client> {
    crate::connectors::install_default_tls_provider();
    reqwest::Client::builder()
        .tls_backend_preconfigured(crate::connectors::tls_config(None, false)?)
        .timeout(SEND_TIMEOUT)
        .connect_timeout(SEND_TIMEOUT)
        .dns_resolver(std::sync::Arc::new(
            crate::connectors::outbound::GuardedResolver::default(),
        ))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("oncall-assistant/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Internal(format!("building the HTTP client: {e}")))
}

impl OnCall {
    fn apply_channel_input(&self, c: &mut NotificationChannel, input: ChannelInput) -> Result<()> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid("name", "must be 1 to 100 characters"));
        }
        c.name = name.to_owned();
        c.kind = input.kind;
        let secrets = self.secret_box()?;
        match input
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
        {
            Some(raw) => {
                if raw.len() > super::MAX_URL_LEN {
                    return Err(Error::invalid(
                        "url",
                        format!("must be at most {} bytes", super::MAX_URL_LEN),
                    ));
                }
                let url = url::Url::parse(raw)
                    .map_err(|e| Error::invalid("url", format!("not a URL: {e}")))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(Error::invalid("url", "must be an http(s) URL with a host"));
                }
                crate::connectors::outbound::check_url(&url)?;
                c.url_sealed = secrets.seal(url.as_str(), &sealing_context(c.id, "url"))?;
                c.url_hint = notify::url_hint(&url);
            }
            None if c.url_sealed.is_empty() => {
                return Err(Error::invalid("url", "is required"));
            }
            None => {}
        }
        match input.secret.as_deref().map(str::trim) {
            Some("") => c.secret_sealed = None,
            Some(s) => {
                if !input.kind.signs() {
                    return Err(Error::invalid(
                        "secret",
                        "only feishu and dingtalk channels sign their messages",
                    ));
                }
                c.secret_sealed = Some(secrets.seal(s, &sealing_context(c.id, "secret"))?);
            }
            None => {}
        }
        if !input.kind.signs() {
            c.secret_sealed = None;
        }
        c.events = match input.events {
            Some(e) if e.is_empty() => {
                return Err(Error::invalid("events", "name at least one event"));
            }
            Some(mut e) => {
                e.dedup();
                e
            }
            None => NotificationEvent::DEFAULT.to_vec(),
        };
        c.enabled = input.enabled.unwrap_or(true);
        Ok(())
    }

    /// Adds a channel (admin).
    pub async fn create_channel(&self, actor: &User, input: ChannelInput) -> Result<ChannelView> {
        actor.require(Role::Admin)?;
        let now = Utc::now();
        let mut c = NotificationChannel {
            id: Uuid::now_v7(),
            name: String::new(),
            kind: input.kind,
            url_sealed: String::new(),
            url_hint: String::new(),
            secret_sealed: None,
            events: Vec::new(),
            enabled: true,
            created_at: now,
            updated_at: now,
        };
        self.apply_channel_input(&mut c, input)?;
        self.store.insert_channel(&c).await?;
        Ok(c.into())
    }

    /// Replaces a channel's settings (admin); omitted URL and secret are kept.
    pub async fn update_channel(
        &self,
        actor: &User,
        id: Uuid,
        input: ChannelInput,
    ) -> Result<ChannelView> {
        actor.require(Role::Admin)?;
        let mut c = self.store.channel(id).await?;
        self.apply_channel_input(&mut c, input)?;
        c.updated_at = Utc::now();
        self.store.update_channel(&c).await?;
        Ok(c.into())
    }

    /// Removes a channel and its pending deliveries (admin).
    pub async fn delete_channel(&self, actor: &User, id: Uuid) -> Result<()> {
        actor.require(Role::Admin)?;
        self.store.delete_channel(id).await
    }

    /// One channel (admin).
    pub async fn channel(&self, actor: &User, id: Uuid) -> Result<ChannelView> {
        actor.require(Role::Admin)?;
        Ok(self.store.channel(id).await?.into())
    }

    /// Channels by name (admin).
    pub async fn list_channels(
        &self,
        actor: &User,
        page: PageRequest,
    ) -> Result<Page<ChannelView>> {
        actor.require(Role::Admin)?;
        Ok(self.store.list_channels(page).await?.map(Into::into))
    }

    /// A channel's deliveries, newest first (admin).
    pub async fn channel_deliveries(
        &self,
        actor: &User,
        id: Uuid,
        page: PageRequest,
    ) -> Result<Page<Delivery>> {
        actor.require(Role::Admin)?;
        self.store.channel(id).await?;
        self.store.deliveries(id, page).await
    }

    /// Sends a test message to a channel now, bypassing the outbox (admin).
    pub async fn test_channel(&self, actor: &User, id: Uuid) -> Result<ChannelTest> {
        actor.require(Role::Admin)?;
        let c = self.store.channel(id).await?;
        let notice = Notice {
            event: NotificationEvent::Test,
            title: format!("oncall-assistant: test message for {}", c.name),
            text: format!(
                "Sent by {}. If you read this, the channel works.",
                actor.email
            ),
            link: self.settings.ui_base_url(),
            analysis_id: None,
            ticket_no: None,
            severity: None,
            status: None,
            summary: None,
            root_cause: None,
        };
        let client = http_client()?;
        Ok(match self.send_notice(&client, &c, &notice).await {
            Ok(()) => ChannelTest {
                ok: true,
                message: "delivered".into(),
            },
            Err(message) => ChannelTest { ok: false, message },
        })
    }

    /// Counts of deliveries by status (for metrics).
    pub async fn delivery_counts(&self) -> Result<Vec<(String, u64)>> {
        self.store.count_deliveries_by_status().await
    }

    /// Enqueues `notice` under `event_key` for every enabled channel that wants
    /// `notice.event`; a key already enqueued for a channel is not enqueued again.
    pub(crate) async fn enqueue_notice(&self, event_key: &str, notice: &Notice) -> Result<u64> {
        let channels = store::all_pages(|p| self.store.list_channels(p)).await?;
        let targets: Vec<Uuid> = channels
            .iter()
            .filter(|c| c.enabled && c.events.contains(&notice.event))
            .map(|c| c.id)
            .collect();
        if targets.is_empty() {
            return Ok(0);
        }
        let added = self
            .store
            .enqueue_deliveries(&targets, event_key, notice, Utc::now())
            .await?;
        if added > 0 {
            self.outbox_wake.notify_one();
        }
        Ok(added)
    }

    /// Called when a worker is done with analysis `id`: if it is final, its result
    /// is enqueued for the channels. Never fails the analysis (errors are logged).
    pub(crate) async fn analysis_settled(&self, id: Uuid) {
        if let Err(e) = self.try_analysis_settled(id).await {
            tracing::warn!(analysis = %id, error = %e, "enqueueing notifications");
        }
    }

    async fn try_analysis_settled(&self, id: Uuid) -> Result<()> {
        let a = self.store.analysis(id).await?;
        super::analyses::log_outcome(&a);
        let (event, word) = match a.status {
            AnalysisStatus::Completed => (NotificationEvent::AnalysisCompleted, "completed"),
            AnalysisStatus::Failed => (NotificationEvent::AnalysisFailed, "failed"),
            _ => return Ok(()),
        };
        // A refresh tells the channels only when it changed the answer.
        let mut word = word.to_owned();
        if a.revision > 1 {
            let top = |r: Option<&Value>| {
                r.and_then(|r| r.pointer("/suspects/0/component"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let before = self.store.analysis_revisions(id).await?;
            let previous = before.last().and_then(|r| top(r.result.as_ref()));
            if previous == top(a.result.as_ref()) && event == NotificationEvent::AnalysisCompleted {
                return Ok(());
            }
            word = format!("{word} (revision {}: the answer changed)", a.revision);
        }
        let field = |k: &str| {
            a.result
                .as_ref()
                .and_then(|r| r.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let severity = field("severity");
        let summary = field("summary");
        let root_cause = field("root_cause");
        let confidence = a
            .result
            .as_ref()
            .and_then(|r| r.get("confidence"))
            .and_then(Value::as_f64);
        let mut lines = Vec::new();
        if let Some(rc) = &root_cause {
            lines.push(format!("Root cause: {rc}"));
        }
        if let Some(c) = confidence {
            lines.push(format!("Confidence: {c:.2}"));
        }
        if let Some(s) = &summary {
            lines.push(s.chars().take(500).collect());
        }
        if let Some(e) = &a.error {
            lines.push(format!("Note: {}", e.chars().take(300).collect::<String>()));
        }
        let alerts = self.store.analysis_alerts(id, 0).await?;
        if alerts.firing > 1 {
            lines.push(format!(
                "Alerts: {} firing ({} distinct)",
                alerts.firing, alerts.distinct_alerts
            ));
        }
        let title = format!(
            "{}{}: analysis {word}",
            severity
                .as_deref()
                .map(|s| format!("[{s}] "))
                .unwrap_or_default(),
            a.title
        );
        let notice = Notice {
            event,
            title,
            text: lines.join("\n"),
            link: format!("{}/analyses/{id}", self.settings.ui_base_url()),
            analysis_id: Some(id),
            ticket_no: None,
            severity,
            status: Some(a.status.as_str().to_owned()),
            summary,
            root_cause,
        };
        let key = match a.revision {
            1 => format!("analysis:{id}:{}", a.status.as_str()),
            n => format!("analysis:{id}:r{n}:{}", a.status.as_str()),
        };
        self.enqueue_notice(&key, &notice).await?;
        Ok(())
    }

    /// Called after a ticket changed status: enqueued for the channels; errors are
    /// logged, never returned to the editor.
    pub(crate) async fn ticket_status_changed(
        &self,
        ticket: &Ticket,
        from: TicketStatus,
        actor: &User,
        reason: Option<&str>,
    ) {
        let mut lines = vec![ticket.title.clone(), format!("By: {}", actor.email)];
        if let Some(r) = reason {
            lines.push(format!("Reason: {r}"));
        }
        let notice = Notice {
            event: NotificationEvent::TicketStatus,
            title: format!(
                "[{}] {}: {} → {}",
                ticket.severity.as_str(),
                ticket.no,
                from.as_str(),
                ticket.status.as_str()
            ),
            text: lines.join("\n"),
            link: format!("{}/tickets/{}", self.settings.ui_base_url(), ticket.no),
            analysis_id: ticket.analysis_id,
            ticket_no: Some(ticket.no.clone()),
            severity: Some(ticket.severity.as_str().to_owned()),
            status: Some(ticket.status.as_str().to_owned()),
            summary: None,
            root_cause: Some(ticket.root_cause.clone()).filter(|r| !r.is_empty()),
        };
        let key = format!("ticket:{}:v{}", ticket.no, ticket.version);
        if let Err(e) = self.enqueue_notice(&key, &notice).await {
            tracing::warn!(ticket = %ticket.no, error = %e, "enqueueing notifications");
        }
    }

    /// Starts the outbox sender of this process.
    pub fn start_notifier(&self) -> Result<Notifier> {
        let client = http_client()?;
        let claiming = self.clone();
        let sending = self.clone();
        let retention = chrono::Duration::days(i64::from(self.settings.notify_retention_days));
        let mut next_prune = std::time::Instant::now();
        Ok(ClaimLoop {
            what: "notifications",
            slots: SENDERS,
            idle: IDLE_POLL,
            backoff: IDLE_POLL * 4,
            wake: self.outbox_wake.clone(),
            release: None,
        }
        .spawn(
            move || {
                let engine = claiming.clone();
                // now and then, the outbox forgets deliveries that ended long ago
                let prune = std::time::Instant::now() >= next_prune;
                if prune {
                    next_prune = std::time::Instant::now() + PRUNE_EVERY;
                }
                async move {
                    let now = Utc::now();
                    if prune {
                        match engine.store.prune_deliveries(now - retention).await {
                            Ok(0) => {}
                            Ok(n) => {
                                tracing::info!(deliveries = n, "pruned the notification outbox")
                            }
                            Err(e) => tracing::warn!(error = %e, "pruning the notification outbox"),
                        }
                    }
                    let lock = chrono::Duration::from_std(DELIVERY_LOCK)
                        .unwrap_or(chrono::Duration::seconds(60));
                    engine.store.claim_delivery(now, now + lock).await
                }
            },
            move |job| {
                let (engine, client) = (sending.clone(), client.clone());
                async move { engine.deliver(&client, job).await }
            },
        ))
    }

    /// One attempt at a claimed delivery, and its bookkeeping.
    async fn deliver(&self, client: &reqwest::Client, job: ClaimedDelivery) {
        let ClaimedDelivery { delivery, notice } = job;
        let outcome = match self.store.channel(delivery.channel_id).await {
            Ok(c) if c.enabled => self.send_notice(client, &c, &notice).await,
            Ok(_) => Err("the channel is disabled".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        let attempts = u32::try_from(delivery.attempts).unwrap_or(u32::MAX);
        let counters = &self.intake;
        let result = match outcome {
            Ok(()) => {
                counters.delivered.fetch_add(1, Ordering::Relaxed);
                DeliveryResult::Delivered
            }
            Err(error) if attempts < self.settings.notify_max_attempts => {
                counters.retried.fetch_add(1, Ordering::Relaxed);
                let delay = notify::retry_delay(
                    Duration::from_millis(self.settings.notify_retry_ms),
                    attempts,
                );
                let at = Utc::now()
                    + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
                tracing::info!(delivery = %delivery.id, attempts, %error, "notification failed; will retry");
                DeliveryResult::Retry { at, error }
            }
            Err(error) => {
                counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(delivery = %delivery.id, attempts, %error, "notification given up");
                DeliveryResult::Failed { error }
            }
        };
        if let Err(e) = self
            .store
            .finish_delivery(delivery.id, &result, Utc::now())
            .await
        {
            tracing::warn!(delivery = %delivery.id, error = %e, "recording a delivery");
        }
    }

    /// Posts `notice` to channel `c`; the error says why not, for people.
    async fn send_notice(
        &self,
        client: &reqwest::Client,
        c: &NotificationChannel,
        notice: &Notice,
    ) -> std::result::Result<(), String> {
        let secrets = self.secret_box().map_err(|e| e.to_string())?;
        let url = secrets
            .open(&c.url_sealed, &sealing_context(c.id, "url"))
            .map_err(|e| e.to_string())?;
        let secret = c
            .secret_sealed
            .as_deref()
            .map(|s| secrets.open(s, &sealing_context(c.id, "secret")))
            .transpose()
            .map_err(|e| e.to_string())?;
        let out = notify::prepare(c.kind, &url, secret.as_deref(), notice, Utc::now())
            .map_err(|e| e.to_string())?;
        let resp = client
            .post(&out.url)
            .header("content-type", "application/json")
            .body(out.body.to_string())
            .send()
            .await
            .map_err(|e| format!("POST to {} failed: {}", c.url_hint, without_url(&e)))?;
        let status = resp.status();
        let body = read_capped(resp, 64 * 1024).await;
        if !status.is_success() {
            // Say what kind of answer came back, never its content: the URL may
            // point at something internal.
            return Err(format!(
                "{} answered {status} with {}",
                c.url_hint,
                crate::connectors::describe_body(body.as_bytes())
            ));
        }
        notify::accepted_body(c.kind, &body)
    }
}

/// At most `max` bytes of an answer, as text (a broken body is cut short).
async fn read_capped(mut resp: reqwest::Response, max: usize) -> String {
    let mut buf = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        buf.extend_from_slice(&chunk[..chunk.len().min(max - buf.len())]);
        if buf.len() >= max {
            break;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// A reqwest error without the URL (it may carry the bot's token).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request error"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}
