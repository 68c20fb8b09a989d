//! The SQL of alert intake and notifications, shared by both stores like
//! [`super::sql`]: [`intake_sql_store!`] implements [`super::WebhookStore`] and
//! [`super::NotificationStore`] once for SQLite and MySQL.

macro_rules! webhook_columns {
    () => {
        "id, name, kind, token_hash, options, enabled, created_by, created_at, updated_at, last_received_at"
    };
}
pub(crate) use webhook_columns;

macro_rules! channel_columns {
    () => {
        "id, name, kind, url_sealed, url_hint, secret_sealed, events, enabled, created_at, updated_at"
    };
}
pub(crate) use channel_columns;

macro_rules! delivery_columns {
    () => {
        "id, channel_id, event_key, status, attempts, next_attempt_at, last_error, created_at, delivered_at"
    };
}
pub(crate) use delivery_columns;

/// Implements the intake and notification repositories for `$store` (which has a
/// `pool: Pool<$db>`). `$insert_ignore` is the dialect's "insert unless the key
/// exists" prefix.
macro_rules! intake_sql_store {
    (
        $store:ident,
        $db:ty,
        insert_ignore = $insert_ignore:literal,
        limit = ($limit_open:literal, $limit_close:literal)
    ) => {
        mod intake_repositories {
        use super::$store;
        use async_trait::async_trait;
        use chrono::{DateTime, Utc};
        use sqlx::Row;
        use uuid::Uuid;

        use $crate::analysis::Analysis;
        use $crate::error::{Error, Result};
        use $crate::notify::{Notice, NotificationChannel};
        use $crate::store::sql::{
            backoff, conflict_on_unique, from_json, is_retryable, parse_enum, parse_uuid, to_json,
        };
        use $crate::store::{
            micros, AlertOccurrence, AnalysisAlerts, ClaimedDelivery, Delivery, DeliveryResult,
            NotificationStore, Page, PageRequest, WebhookStore,
        };
        use $crate::webhooks::{fingerprint_key, AlertBatch, AlertOutcome, IncomingAlert, Webhook};

        type DbRow = <$db as sqlx::Database>::Row;
        type Tx<'c> = sqlx::Transaction<'c, $db>;

        fn page_of<T>(items: Vec<T>, total: i64, page: PageRequest) -> Page<T> {
            Page {
                items,
                total: u64::try_from(total).unwrap_or_default(),
                page: page.page,
                page_size: page.page_size,
            }
        }

        fn count(n: i64) -> u64 {
            u64::try_from(n).unwrap_or_default()
        }

        fn webhook_from_row(r: &DbRow) -> Result<Webhook> {
            Ok(Webhook {
                id: parse_uuid("webhooks.id", &r.try_get::<String, _>("id")?)?,
                name: r.try_get("name")?,
                kind: parse_enum("webhooks.kind", &r.try_get::<String, _>("kind")?)?,
                token_hash: r.try_get("token_hash")?,
                options: from_json("webhooks.options", &r.try_get::<String, _>("options")?)?,
                enabled: r.try_get("enabled")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
                last_received_at: r.try_get("last_received_at")?,
            })
        }

        fn occurrence_from_row(r: &DbRow) -> Result<AlertOccurrence> {
            let analysis_id: Option<String> = r.try_get("analysis_id")?;
            Ok(AlertOccurrence {
                id: parse_uuid("alert_occurrences.id", &r.try_get::<String, _>("id")?)?,
                webhook_id: parse_uuid("alert_occurrences.webhook_id", &r.try_get::<String, _>("webhook_id")?)?,
                analysis_id: analysis_id
                    .map(|s| parse_uuid("alert_occurrences.analysis_id", &s))
                    .transpose()?,
                fingerprint: r.try_get("fingerprint")?,
                name: r.try_get("name")?,
                status: r.try_get("status")?,
                outcome: r.try_get("outcome")?,
                received_at: r.try_get("received_at")?,
            })
        }

        fn channel_from_row(r: &DbRow) -> Result<NotificationChannel> {
            Ok(NotificationChannel {
                id: parse_uuid("notification_channels.id", &r.try_get::<String, _>("id")?)?,
                name: r.try_get("name")?,
                kind: parse_enum("notification_channels.kind", &r.try_get::<String, _>("kind")?)?,
                url_sealed: r.try_get("url_sealed")?,
                url_hint: r.try_get("url_hint")?,
                secret_sealed: r.try_get("secret_sealed")?,
                events: from_json("notification_channels.events", &r.try_get::<String, _>("events")?)?,
                enabled: r.try_get("enabled")?,
                created_at: r.try_get("created_at")?,
                updated_at: r.try_get("updated_at")?,
            })
        }

        fn delivery_from_row(r: &DbRow) -> Result<Delivery> {
            Ok(Delivery {
                id: parse_uuid("notification_outbox.id", &r.try_get::<String, _>("id")?)?,
                channel_id: parse_uuid("notification_outbox.channel_id", &r.try_get::<String, _>("channel_id")?)?,
                event_key: r.try_get("event_key")?,
                status: r.try_get("status")?,
                attempts: r.try_get::<i64, _>("attempts").or_else(|_| r.try_get::<i32, _>("attempts").map(i64::from))?,
                next_attempt_at: r.try_get("next_attempt_at")?,
                last_error: r.try_get("last_error")?,
                created_at: r.try_get("created_at")?,
                delivered_at: r.try_get("delivered_at")?,
            })
        }

        /// The open-or-not dedup key: its analysis and when it was last seen.
        async fn dedup_entry(tx: &mut Tx<'_>, webhook: &str, key: &str) -> Result<Option<(Uuid, DateTime<Utc>)>> {
            let row = sqlx::query("SELECT analysis_id, last_seen_at FROM alert_dedup WHERE webhook_id = ? AND dedup_key = ?")
                .bind(webhook)
                .bind(key)
                .fetch_optional(&mut **tx)
                .await?;
            row.map(|r| {
                Ok((
                    parse_uuid("alert_dedup.analysis_id", &r.try_get::<String, _>("analysis_id")?)?,
                    r.try_get("last_seen_at")?,
                ))
            })
            .transpose()
        }

        /// Points `key` at `target` as seen `now`; `existing` is what it pointed at.
        async fn set_entry(
            tx: &mut Tx<'_>,
            webhook: &str,
            key: &str,
            existing: Option<Uuid>,
            target: Uuid,
            now: DateTime<Utc>,
        ) -> Result<()> {
            match existing {
                Some(old) if old == target => {
                    sqlx::query("UPDATE alert_dedup SET last_seen_at = ? WHERE webhook_id = ? AND dedup_key = ?")
                        .bind(now)
                        .bind(webhook)
                        .bind(key)
                        .execute(&mut **tx)
                        .await?;
                }
                Some(_) => {
                    sqlx::query("UPDATE alert_dedup SET analysis_id = ?, first_seen_at = ?, last_seen_at = ? WHERE webhook_id = ? AND dedup_key = ?")
                        .bind(target.to_string())
                        .bind(now)
                        .bind(now)
                        .bind(webhook)
                        .bind(key)
                        .execute(&mut **tx)
                        .await?;
                }
                None => {
                    sqlx::query("INSERT INTO alert_dedup (webhook_id, dedup_key, analysis_id, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?)")
                        .bind(webhook)
                        .bind(key)
                        .bind(target.to_string())
                        .bind(now)
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                }
            }
            Ok(())
        }

        async fn insert_occurrence(
            tx: &mut Tx<'_>,
            batch: &AlertBatch,
            alert: &IncomingAlert,
            outcome: AlertOutcome,
        ) -> Result<()> {
            sqlx::query(
                "INSERT INTO alert_occurrences (id, webhook_id, analysis_id, fingerprint, name, status, \
                 outcome, payload, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(Uuid::now_v7().to_string())
            .bind(batch.webhook_id.to_string())
            .bind(outcome.analysis_id().map(|u| u.to_string()))
            .bind(alert.fingerprint.chars().take(96).collect::<String>())
            .bind(alert.name.chars().take(500).collect::<String>())
            .bind(if alert.firing { "firing" } else { "resolved" })
            .bind(outcome.as_str())
            .bind(&alert.payload)
            .bind(micros(batch.received_at))
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        async fn insert_analysis(tx: &mut Tx<'_>, a: &Analysis) -> Result<()> {
            let sql = $crate::store::sql::analysis_insert!();
            sqlx::query(sql)
                .bind(a.id.to_string())
                .bind(a.status.as_str())
                .bind(&a.title)
                .bind(&a.raw_alert)
                .bind(to_json(&a.options)?)
                .bind(to_json(&a.alert)?)
                .bind(to_json(&a.window)?)
                .bind(to_json(&a.sources)?)
                .bind(to_json(&a.evidence)?)
                .bind(a.result.as_ref().map(to_json).transpose()?)
                .bind(&a.error)
                .bind(&a.analyzer)
                .bind(a.usage.as_ref().map(to_json).transpose()?)
                .bind(&a.created_by)
                .bind(micros(a.created_at))
                .bind(a.started_at.map(micros))
                .bind(a.completed_at.map(micros))
                .bind(a.revision)
                .bind(a.refresh_at.map(micros))
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        /// A history entry on each ticket of `analysis`: the alert resolved.
        async fn note_resolved_on_tickets(
            tx: &mut Tx<'_>,
            batch: &AlertBatch,
            alert: &IncomingAlert,
            analysis: Uuid,
        ) -> Result<()> {
            let tickets: Vec<String> = sqlx::query_scalar("SELECT no FROM tickets WHERE analysis_id = ?")
                .bind(analysis.to_string())
                .fetch_all(&mut **tx)
                .await?;
            let ends_at = serde_json::from_str::<serde_json::Value>(&alert.payload)
                .ok()
                .and_then(|p| p.get("endsAt").cloned())
                .unwrap_or(serde_json::Value::Null);
            for no in tickets {
                let changes = serde_json::json!({
                    "alert": alert.name,
                    "fingerprint": alert.fingerprint,
                    "ends_at": ends_at,
                    "analysis_id": analysis,
                });
                sqlx::query(
                    "INSERT INTO ticket_history (id, ticket_no, actor, action, from_status, to_status, \
                     changes, reason, at) VALUES (?, ?, ?, ?, NULL, NULL, ?, NULL, ?)",
                )
                .bind(Uuid::now_v7().to_string())
                .bind(&no)
                .bind(&batch.actor)
                .bind("alert_resolved")
                .bind(to_json(&changes)?)
                .bind(micros(batch.received_at))
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        impl $store {
            /// One attempt at [`WebhookStore::ingest_alerts`].
            async fn try_ingest(&self, batches: &[AlertBatch]) -> Result<Vec<Result<Vec<AlertOutcome>>>> {
                let mut tx = self.pool.begin().await?;
                // The backlog's lock first (every process takes it before anything
                // else, so there is no lock-order deadlock): the pending analyses
                // counted below cannot grow under us until we commit.
                let limited = batches.iter().any(|b| b.backlog_limit.is_some());
                if limited {
                    sqlx::query("UPDATE intake_lock SET locked_at = ? WHERE id = 1")
                        .bind(micros(Utc::now()))
                        .execute(&mut *tx)
                        .await?;
                }
                // Lock the endpoints' rows next, in id order: intake of one endpoint
                // is serialised (across processes on MySQL; SQLite has one writer).
                let mut endpoints: Vec<(Uuid, DateTime<Utc>)> =
                    batches.iter().map(|b| (b.webhook_id, micros(b.received_at))).collect();
                endpoints.sort();
                endpoints.dedup_by_key(|e| e.0);
                for (id, at) in endpoints {
                    let locked = sqlx::query("UPDATE webhooks SET last_received_at = ? WHERE id = ?")
                        .bind(at)
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await?;
                    // Both drivers count matched rows (sqlx asks MySQL for FOUND_ROWS).
                    if locked.rows_affected() == 0 {
                        return Err(Error::not_found("webhook", id));
                    }
                }
                let mut pending = if limited {
                    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM analyses WHERE status = 'pending'")
                        .fetch_one(&mut *tx)
                        .await?;
                    count(n)
                } else {
                    0
                };
                let mut inserted: Vec<Uuid> = Vec::new();
                let mut all = Vec::with_capacity(batches.len());
                for batch in batches {
                    let Some(limit) = batch.backlog_limit else {
                        all.push(Ok(ingest_one(&mut tx, batch, &mut inserted).await?));
                        continue;
                    };
                    // Each limited batch under a savepoint, undone alone when over.
                    let before = inserted.len();
                    let mut one = sqlx::Acquire::begin(&mut *tx).await?;
                    let outcomes = ingest_one(&mut one, batch, &mut inserted).await?;
                    let started = (inserted.len() - before) as u64;
                    if started > 0 && pending + started > limit {
                        one.rollback().await?;
                        inserted.truncate(before);
                        all.push(Err(Error::RateLimited(format!(
                            "{pending} analyses are waiting and this notification would start {started} more \
                             (limit {limit}); retry later"
                        ))));
                    } else {
                        one.commit().await?;
                        pending += started;
                        all.push(Ok(outcomes));
                    }
                }
                tx.commit().await?;
                Ok(all)
            }
        }

        /// One notification's alerts, inside the intake transaction.
        async fn ingest_one(
            tx: &mut Tx<'_>,
            batch: &AlertBatch,
            inserted: &mut Vec<Uuid>,
        ) -> Result<Vec<AlertOutcome>> {
                let now = micros(batch.received_at);
                let webhook = batch.webhook_id.to_string();
                let open = |seen: DateTime<Utc>| seen >= batch.window_start;
                let mut outcomes = Vec::with_capacity(batch.alerts.len());
                for alert in &batch.alerts {
                    let fp_key = fingerprint_key(&alert.fingerprint);
                    let fp = dedup_entry(tx, &webhook, &fp_key).await?;
                    let outcome = if !alert.firing {
                        let target = fp.map(|(id, _)| id);
                        if let Some(id) = target {
                            note_resolved_on_tickets(tx, batch, alert, id).await?;
                            // The alert ended: firing again starts anew (or joins its
                            // group while that is open).
                            sqlx::query("DELETE FROM alert_dedup WHERE webhook_id = ? AND dedup_key = ?")
                                .bind(&webhook)
                                .bind(&fp_key)
                                .execute(&mut **tx)
                                .await?;
                        }
                        AlertOutcome::Resolved(target)
                    } else if let Some(new) = &alert.analysis {
                        match fp {
                            Some((id, seen)) if open(seen) => {
                                set_entry(tx, &webhook, &fp_key, Some(id), id, now).await?;
                                AlertOutcome::Duplicate(id)
                            }
                            _ => {
                                let group = match &batch.group_key {
                                    Some(g) => dedup_entry(tx, &webhook, g).await?,
                                    None => None,
                                };
                                let outcome = match (&batch.group_key, group) {
                                    (Some(g), Some((id, seen))) if open(seen) => {
                                        set_entry(tx, &webhook, g, Some(id), id, now).await?;
                                        AlertOutcome::Grouped(id)
                                    }
                                    (g, previous) => {
                                        if !inserted.contains(&new.id) {
                                            insert_analysis(tx, new).await?;
                                            inserted.push(new.id);
                                        }
                                        if let Some(g) = g {
                                            set_entry(tx, &webhook, g, previous.map(|p| p.0), new.id, now).await?;
                                        }
                                        AlertOutcome::Started(new.id)
                                    }
                                };
                                if let Some(target) = outcome.analysis_id() {
                                    set_entry(tx, &webhook, &fp_key, fp.map(|p| p.0), target, now).await?;
                                }
                                outcome
                            }
                        }
                    } else {
                        AlertOutcome::Recorded
                    };
                    insert_occurrence(tx, batch, alert, outcome).await?;
                    outcomes.push(outcome);
                }
                Ok(outcomes)
        }

        #[async_trait]
        impl WebhookStore for $store {
            async fn insert_webhook(&self, w: &Webhook) -> Result<()> {
                let sql = concat!("INSERT INTO webhooks (", $crate::store::intake_sql::webhook_columns!(), ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
                sqlx::query(sql)
                    .bind(w.id.to_string())
                    .bind(&w.name)
                    .bind(w.kind.as_str())
                    .bind(&w.token_hash)
                    .bind(to_json(&w.options)?)
                    .bind(w.enabled)
                    .bind(&w.created_by)
                    .bind(micros(w.created_at))
                    .bind(micros(w.updated_at))
                    .bind(w.last_received_at.map(micros))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| conflict_on_unique(e, || format!("a webhook named {} exists", w.name)))?;
                Ok(())
            }

            async fn webhook(&self, id: Uuid) -> Result<Webhook> {
                let sql = concat!("SELECT ", $crate::store::intake_sql::webhook_columns!(), " FROM webhooks WHERE id = ?");
                let row = sqlx::query(sql).bind(id.to_string()).fetch_optional(&self.pool).await?;
                row.as_ref().map(webhook_from_row).transpose()?.ok_or_else(|| Error::not_found("webhook", id))
            }

            async fn list_webhooks(&self, page: PageRequest) -> Result<Page<Webhook>> {
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhooks").fetch_one(&self.pool).await?;
                let sql = concat!("SELECT ", $crate::store::intake_sql::webhook_columns!(), " FROM webhooks ORDER BY name ", $limit_open, "?", $limit_close, " OFFSET ?");
                let rows = sqlx::query(sql).bind(page.limit()).bind(page.offset()).fetch_all(&self.pool).await?;
                let items = rows.iter().map(webhook_from_row).collect::<Result<_>>()?;
                Ok(page_of(items, total, page))
            }

            async fn update_webhook(&self, w: &Webhook) -> Result<()> {
                let done = sqlx::query(
                    "UPDATE webhooks SET name = ?, options = ?, enabled = ?, token_hash = ?, updated_at = ? WHERE id = ?",
                )
                .bind(&w.name)
                .bind(to_json(&w.options)?)
                .bind(w.enabled)
                .bind(&w.token_hash)
                .bind(micros(w.updated_at))
                .bind(w.id.to_string())
                .execute(&self.pool)
                .await
                .map_err(|e| conflict_on_unique(e, || format!("a webhook named {} exists", w.name)))?;
                if done.rows_affected() == 0 {
                    self.webhook(w.id).await?;
                }
                Ok(())
            }

            async fn delete_webhook(&self, id: Uuid) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM alert_dedup WHERE webhook_id = ?")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                let done = sqlx::query("DELETE FROM webhooks WHERE id = ?")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(Error::not_found("webhook", id));
                }
                tx.commit().await?;
                Ok(())
            }

            async fn ingest_alerts(&self, batches: &[AlertBatch]) -> Result<Vec<Result<Vec<AlertOutcome>>>> {
                let mut attempt = 0;
                loop {
                    match self.try_ingest(batches).await {
                        Err(e) if is_retryable(&e) && attempt < 20 => {
                            backoff(attempt).await;
                            attempt += 1;
                        }
                        other => return other,
                    }
                }
            }

            async fn analysis_alerts(&self, analysis_id: Uuid, limit: u32) -> Result<AnalysisAlerts> {
                let id = analysis_id.to_string();
                let n = |sql: &'static str| {
                    let id = id.clone();
                    async move {
                        let v: i64 = sqlx::query_scalar(sql).bind(id).fetch_one(&self.pool).await?;
                        Ok::<u64, Error>(count(v))
                    }
                };
                let firing = n("SELECT COUNT(*) FROM alert_occurrences WHERE analysis_id = ? AND status = 'firing'").await?;
                let resolved = n("SELECT COUNT(*) FROM alert_occurrences WHERE analysis_id = ? AND status = 'resolved'").await?;
                let distinct_alerts = n("SELECT COUNT(DISTINCT fingerprint) FROM alert_occurrences WHERE analysis_id = ?").await?;
                let at = |sql: &'static str| {
                    let id = id.clone();
                    async move {
                        let v: Option<DateTime<Utc>> = sqlx::query_scalar(sql).bind(id).fetch_optional(&self.pool).await?;
                        Ok::<_, Error>(v)
                    }
                };
                let first_seen_at = at("SELECT received_at FROM alert_occurrences WHERE analysis_id = ? ORDER BY received_at, id LIMIT 1").await?;
                let last_seen_at = at("SELECT received_at FROM alert_occurrences WHERE analysis_id = ? ORDER BY received_at DESC, id DESC LIMIT 1").await?;
                let resolved_at = at("SELECT received_at FROM alert_occurrences WHERE analysis_id = ? AND status = 'resolved' ORDER BY received_at DESC, id DESC LIMIT 1").await?;
                let rows = sqlx::query(concat!(
                    "SELECT id, webhook_id, analysis_id, fingerprint, name, status, outcome, received_at \
                     FROM alert_occurrences WHERE analysis_id = ? ORDER BY received_at DESC, id DESC ",
                    $limit_open, "?", $limit_close
                ))
                .bind(&id)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
                let recent = rows.iter().map(occurrence_from_row).collect::<Result<_>>()?;
                Ok(AnalysisAlerts {
                    analysis_id,
                    firing,
                    resolved,
                    distinct_alerts,
                    first_seen_at,
                    last_seen_at,
                    resolved_at,
                    recent,
                })
            }

            async fn count_alert_occurrences(&self) -> Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_occurrences").fetch_one(&self.pool).await?;
                Ok(count(n))
            }

            async fn count_pending_analyses(&self) -> Result<u64> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM analyses WHERE status = 'pending'")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(count(n))
            }
        }

        #[async_trait]
        impl NotificationStore for $store {
            async fn insert_channel(&self, c: &NotificationChannel) -> Result<()> {
                let sql = concat!("INSERT INTO notification_channels (", $crate::store::intake_sql::channel_columns!(), ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
                sqlx::query(sql)
                    .bind(c.id.to_string())
                    .bind(&c.name)
                    .bind(c.kind.as_str())
                    .bind(&c.url_sealed)
                    .bind(&c.url_hint)
                    .bind(&c.secret_sealed)
                    .bind(to_json(&c.events)?)
                    .bind(c.enabled)
                    .bind(micros(c.created_at))
                    .bind(micros(c.updated_at))
                    .execute(&self.pool)
                    .await
                    .map_err(|e| conflict_on_unique(e, || format!("a channel named {} exists", c.name)))?;
                Ok(())
            }

            async fn channel(&self, id: Uuid) -> Result<NotificationChannel> {
                let sql = concat!("SELECT ", $crate::store::intake_sql::channel_columns!(), " FROM notification_channels WHERE id = ?");
                let row = sqlx::query(sql).bind(id.to_string()).fetch_optional(&self.pool).await?;
                row.as_ref().map(channel_from_row).transpose()?.ok_or_else(|| Error::not_found("notification channel", id))
            }

            async fn list_channels(&self, page: PageRequest) -> Result<Page<NotificationChannel>> {
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notification_channels").fetch_one(&self.pool).await?;
                let sql = concat!("SELECT ", $crate::store::intake_sql::channel_columns!(), " FROM notification_channels ORDER BY name ", $limit_open, "?", $limit_close, " OFFSET ?");
                let rows = sqlx::query(sql).bind(page.limit()).bind(page.offset()).fetch_all(&self.pool).await?;
                let items = rows.iter().map(channel_from_row).collect::<Result<_>>()?;
                Ok(page_of(items, total, page))
            }

            async fn update_channel(&self, c: &NotificationChannel) -> Result<()> {
                let done = sqlx::query(
                    "UPDATE notification_channels SET name = ?, kind = ?, url_sealed = ?, url_hint = ?, \
                     secret_sealed = ?, events = ?, enabled = ?, updated_at = ? WHERE id = ?",
                )
                .bind(&c.name)
                .bind(c.kind.as_str())
                .bind(&c.url_sealed)
                .bind(&c.url_hint)
                .bind(&c.secret_sealed)
                .bind(to_json(&c.events)?)
                .bind(c.enabled)
                .bind(micros(c.updated_at))
                .bind(c.id.to_string())
                .execute(&self.pool)
                .await
                .map_err(|e| conflict_on_unique(e, || format!("a channel named {} exists", c.name)))?;
                if done.rows_affected() == 0 {
                    self.channel(c.id).await?;
                }
                Ok(())
            }

            async fn delete_channel(&self, id: Uuid) -> Result<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query("DELETE FROM notification_outbox WHERE channel_id = ?")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                let done = sqlx::query("DELETE FROM notification_channels WHERE id = ?")
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(Error::not_found("notification channel", id));
                }
                tx.commit().await?;
                Ok(())
            }

            async fn enqueue_deliveries(
                &self,
                channels: &[Uuid],
                event_key: &str,
                notice: &Notice,
                now: DateTime<Utc>,
            ) -> Result<u64> {
                let now = micros(now);
                let body = to_json(notice)?;
                let mut added = 0;
                for channel in channels {
                    let done = sqlx::query(concat!(
                        $insert_ignore,
                        " notification_outbox (id, channel_id, event_key, notice, status, attempts, \
                         next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)"
                    ))
                    .bind(Uuid::now_v7().to_string())
                    .bind(channel.to_string())
                    .bind(event_key)
                    .bind(&body)
                    .bind(now)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                    added += done.rows_affected();
                }
                Ok(added)
            }

            async fn claim_delivery(
                &self,
                now: DateTime<Utc>,
                lock_until: DateTime<Utc>,
            ) -> Result<Option<ClaimedDelivery>> {
                let now = micros(now);
                let candidates: Vec<String> = sqlx::query_scalar(
                    "SELECT id FROM notification_outbox WHERE (status = 'pending' AND next_attempt_at <= ?) \
                     OR (status = 'sending' AND locked_until < ?) ORDER BY next_attempt_at, id LIMIT 8",
                )
                .bind(now)
                .bind(now)
                .fetch_all(&self.pool)
                .await?;
                for id in candidates {
                    let done = sqlx::query(
                        "UPDATE notification_outbox SET status = 'sending', locked_until = ?, attempts = attempts + 1 \
                         WHERE id = ? AND ((status = 'pending' AND next_attempt_at <= ?) \
                         OR (status = 'sending' AND locked_until < ?))",
                    )
                    .bind(micros(lock_until))
                    .bind(&id)
                    .bind(now)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                    if done.rows_affected() == 1 {
                        let row = sqlx::query(concat!(
                            "SELECT ", $crate::store::intake_sql::delivery_columns!(), ", notice FROM notification_outbox WHERE id = ?"
                        ))
                        .bind(&id)
                        .fetch_one(&self.pool)
                        .await?;
                        return Ok(Some(ClaimedDelivery {
                            delivery: delivery_from_row(&row)?,
                            notice: from_json("notification_outbox.notice", &row.try_get::<String, _>("notice")?)?,
                        }));
                    }
                }
                Ok(None)
            }

            async fn finish_delivery(
                &self,
                id: Uuid,
                result: &DeliveryResult,
                now: DateTime<Utc>,
            ) -> Result<()> {
                let q = match result {
                    DeliveryResult::Delivered => sqlx::query(
                        "UPDATE notification_outbox SET status = 'delivered', delivered_at = ?, locked_until = NULL, \
                         last_error = NULL WHERE id = ?",
                    )
                    .bind(micros(now)),
                    DeliveryResult::Retry { at, error } => sqlx::query(
                        "UPDATE notification_outbox SET status = 'pending', next_attempt_at = ?, locked_until = NULL, \
                         last_error = ? WHERE id = ?",
                    )
                    .bind(micros(*at))
                    .bind(error.chars().take(2000).collect::<String>()),
                    DeliveryResult::Failed { error } => sqlx::query(
                        "UPDATE notification_outbox SET status = 'failed', locked_until = NULL, last_error = ? WHERE id = ?",
                    )
                    .bind(error.chars().take(2000).collect::<String>()),
                };
                q.bind(id.to_string()).execute(&self.pool).await?;
                Ok(())
            }

            async fn deliveries(&self, channel_id: Uuid, page: PageRequest) -> Result<Page<Delivery>> {
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notification_outbox WHERE channel_id = ?")
                    .bind(channel_id.to_string())
                    .fetch_one(&self.pool)
                    .await?;
                let rows = sqlx::query(concat!(
                    "SELECT ", $crate::store::intake_sql::delivery_columns!(),
                    " FROM notification_outbox WHERE channel_id = ? ORDER BY created_at DESC, id DESC ", $limit_open, "?", $limit_close, " OFFSET ?"
                ))
                .bind(channel_id.to_string())
                .bind(page.limit())
                .bind(page.offset())
                .fetch_all(&self.pool)
                .await?;
                let items = rows.iter().map(delivery_from_row).collect::<Result<_>>()?;
                Ok(page_of(items, total, page))
            }

            async fn prune_deliveries(&self, before: DateTime<Utc>) -> Result<u64> {
                let done = sqlx::query(
                    "DELETE FROM notification_outbox WHERE status IN ('delivered', 'failed') AND created_at < ?",
                )
                .bind(micros(before))
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected())
            }

            async fn count_deliveries_by_status(&self) -> Result<Vec<(String, u64)>> {
                let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM notification_outbox GROUP BY status")
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| Ok((r.try_get::<String, _>("status")?, count(r.try_get::<i64, _>("n")?))))
                    .collect()
            }
        }
        }
    };
}

pub(crate) use intake_sql_store;
