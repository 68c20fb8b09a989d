//! The incident-memory SQL both stores share (see [`crate::memory`]):
//! [`memory_sql_store!`] implements [`super::MemoryStore`]. What differs between the
//! dialects is the upsert of a document frequency and the `LIMIT` form.

/// The row of `memory_term_counts` that counts the signatures themselves (no real
/// term starts with `#`: they all start with their kind and a colon).
pub(crate) const SIGNATURES_ROW: &str = "#signatures";

/// Values per `IN (…)` list: lists are always this long (a short chunk repeats its
/// last value), so every statement is a fixed string the statement cache keeps.
pub(crate) const IN_LIST: usize = 32;

/// [`IN_LIST`] placeholders.
macro_rules! in_list {
    () => {
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
    };
}
pub(crate) use in_list;

/// `chunk` padded to [`IN_LIST`] values by repeating its last one.
pub(crate) fn padded<T: Clone>(chunk: &[T]) -> Vec<T> {
    let mut v = chunk.to_vec();
    if let Some(last) = chunk.last() {
        v.resize(IN_LIST, last.clone());
    }
    v
}

/// Implements [`super::MemoryStore`] for `$store` (which has a `pool: Pool<$db>`).
/// `$count_up` inserts a term's count as 1 or adds one to it.
macro_rules! memory_sql_store {
    (
        $store:ident,
        $db:ty,
        count_up = $count_up:literal,
        limit = ($limit_open:literal, $limit_close:literal)
    ) => {
        mod memory_repositories {
        use super::$store;
        use async_trait::async_trait;
        use chrono::{DateTime, Utc};
        use sqlx::Row;
        use uuid::Uuid;

        use $crate::error::{Error, Result};
        use $crate::memory::Signature;
        use $crate::store::memory_sql::{padded, IN_LIST, SIGNATURES_ROW};
        use $crate::store::sql::{backoff, from_json, is_retryable, parse_uuid, to_json};
        use $crate::store::{micros, MemoryStore, RecalledSignature, RecalledTicket};

        type Tx<'c> = sqlx::Transaction<'c, $db>;

        /// Most signatures one prune call forgets.
        const PRUNE_BATCH: i64 = 500;

        /// The rows `sql` (with one `IN (…)` list of [`IN_LIST`] placeholders)
        /// returns for `chunk` of at most [`IN_LIST`] analysis ids.
        async fn rows_for_ids(
            pool: &sqlx::Pool<$db>,
            sql: &'static str,
            chunk: &[Uuid],
        ) -> Result<Vec<<$db as sqlx::Database>::Row>> {
            let mut q = sqlx::query(sql);
            for id in padded(chunk) {
                q = q.bind(id.to_string());
            }
            Ok(q.fetch_all(pool).await?)
        }

        async fn count_up(tx: &mut Tx<'_>, term: &str) -> Result<()> {
            sqlx::query($count_up).bind(term).execute(&mut **tx).await?;
            Ok(())
        }

        async fn count_down(tx: &mut Tx<'_>, term: &str) -> Result<()> {
            sqlx::query("UPDATE memory_term_counts SET documents = documents - 1 WHERE term = ?")
                .bind(term)
                .execute(&mut **tx)
                .await?;
            sqlx::query("DELETE FROM memory_term_counts WHERE term = ? AND documents <= 0")
                .bind(term)
                .execute(&mut **tx)
                .await?;
            Ok(())
        }

        /// Deletes `id`'s signature in `tx`, lowering the counts of its terms (in
        /// term order, so concurrent writers lock rows in one order).
        async fn forget_in(tx: &mut Tx<'_>, id: &str) -> Result<bool> {
            let mut terms: Vec<String> =
                sqlx::query_scalar("SELECT term FROM memory_terms WHERE analysis_id = ?")
                    .bind(id)
                    .fetch_all(&mut **tx)
                    .await?;
            let gone = sqlx::query("DELETE FROM memory_signatures WHERE analysis_id = ?")
                .bind(id)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            if gone == 0 {
                return Ok(false);
            }
            sqlx::query("DELETE FROM memory_terms WHERE analysis_id = ?")
                .bind(id)
                .execute(&mut **tx)
                .await?;
            terms.push(SIGNATURES_ROW.to_owned());
            terms.sort();
            for t in &terms {
                count_down(tx, t).await?;
            }
            Ok(true)
        }

        #[async_trait]
        impl MemoryStore for $store {
            async fn remember_signature(
                &self,
                analysis_id: Uuid,
                incident_at: DateTime<Utc>,
                stored_at: DateTime<Utc>,
                signature: &Signature,
            ) -> Result<()> {
                let id = analysis_id.to_string();
                let json = to_json(signature)?;
                let terms = signature.terms();
                let mut attempt = 0;
                loop {
                    let outcome: Result<()> = async {
                        let mut tx = self.pool.begin().await?;
                        let exists: Option<String> =
                            sqlx::query_scalar("SELECT id FROM analyses WHERE id = ?")
                                .bind(&id)
                                .fetch_optional(&mut *tx)
                                .await?;
                        if exists.is_none() {
                            return Err(Error::not_found("analysis", &id));
                        }
                        forget_in(&mut tx, &id).await?;
                        sqlx::query(
                            "INSERT INTO memory_signatures (analysis_id, incident_at, stored_at, alert_name, signature) \
                             VALUES (?, ?, ?, ?, ?)",
                        )
                        .bind(&id)
                        .bind(micros(incident_at))
                        .bind(micros(stored_at))
                        .bind(&signature.alert_name)
                        .bind(&json)
                        .execute(&mut *tx)
                        .await?;
                        for (term, weight) in &terms {
                            sqlx::query(
                                "INSERT INTO memory_terms (term, incident_at, analysis_id, weight) VALUES (?, ?, ?, ?)",
                            )
                            .bind(term)
                            .bind(micros(incident_at))
                            .bind(&id)
                            .bind(*weight)
                            .execute(&mut *tx)
                            .await?;
                        }
                        // Terms come sorted; the signatures row sorts first ('#').
                        count_up(&mut tx, SIGNATURES_ROW).await?;
                        for (term, _) in &terms {
                            count_up(&mut tx, term).await?;
                        }
                        tx.commit().await?;
                        Ok(())
                    }
                    .await;
                    match outcome {
                        Err(e) if attempt < 8 && is_retryable(&e) => {
                            backoff(attempt).await;
                            attempt += 1;
                        }
                        other => return other,
                    }
                }
            }

            async fn forget_signature(&self, analysis_id: Uuid) -> Result<bool> {
                let id = analysis_id.to_string();
                let mut attempt = 0;
                loop {
                    let outcome: Result<bool> = async {
                        let mut tx = self.pool.begin().await?;
                        let gone = forget_in(&mut tx, &id).await?;
                        tx.commit().await?;
                        Ok(gone)
                    }
                    .await;
                    match outcome {
                        Err(e) if attempt < 8 && is_retryable(&e) => {
                            backoff(attempt).await;
                            attempt += 1;
                        }
                        other => return other,
                    }
                }
            }

            async fn signature(
                &self,
                analysis_id: Uuid,
            ) -> Result<Option<(DateTime<Utc>, Signature)>> {
                let row = sqlx::query(
                    "SELECT incident_at, signature FROM memory_signatures WHERE analysis_id = ?",
                )
                .bind(analysis_id.to_string())
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    None => Ok(None),
                    Some(r) => {
                        let at: DateTime<Utc> = r.try_get("incident_at")?;
                        let s: String = r.try_get("signature")?;
                        Ok(Some((at, from_json("memory_signatures.signature", &s)?)))
                    }
                }
            }

            async fn document_frequencies(
                &self,
                terms: &[String],
            ) -> Result<(u64, Vec<(String, u64)>)> {
                let mut out = Vec::new();
                let mut n = 0u64;
                let mut all: Vec<&str> = vec![SIGNATURES_ROW];
                all.extend(terms.iter().map(String::as_str));
                for chunk in all.chunks(IN_LIST) {
                    let sql = concat!(
                        "SELECT term, documents FROM memory_term_counts WHERE term IN (",
                        $crate::store::memory_sql::in_list!(),
                        ")"
                    );
                    let mut q = sqlx::query(sql);
                    for t in padded(chunk) {
                        q = q.bind(t);
                    }
                    for r in q.fetch_all(&self.pool).await? {
                        let term: String = r.try_get("term")?;
                        let docs: i64 = r.try_get("documents")?;
                        let docs = u64::try_from(docs).unwrap_or_default();
                        if term == SIGNATURES_ROW {
                            n = docs;
                        } else {
                            out.push((term, docs));
                        }
                    }
                }
                Ok((n, out))
            }

            async fn postings(
                &self,
                term: &str,
                before: DateTime<Utc>,
                exclude: Uuid,
                limit: u32,
            ) -> Result<Vec<(Uuid, f64)>> {
                let sql = concat!(
                    "SELECT analysis_id, weight FROM memory_terms \
                     WHERE term = ? AND incident_at < ? AND analysis_id <> ? \
                     ORDER BY incident_at DESC ",
                    $limit_open, "?", $limit_close
                );
                let rows = sqlx::query(sql)
                    .bind(term)
                    .bind(micros(before))
                    .bind(exclude.to_string())
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let id: String = r.try_get("analysis_id")?;
                        Ok((parse_uuid("memory_terms.analysis_id", &id)?, r.try_get("weight")?))
                    })
                    .collect()
            }

            async fn signature_terms(&self, ids: &[Uuid]) -> Result<Vec<(Uuid, String, f64, u64)>> {
                let mut out = Vec::new();
                for chunk in ids.chunks(IN_LIST) {
                    let sql = concat!(
                        "SELECT m.analysis_id, m.term, m.weight, c.documents FROM memory_terms m \
                         JOIN memory_term_counts c ON c.term = m.term \
                         WHERE m.analysis_id IN (",
                        $crate::store::memory_sql::in_list!(),
                        ")"
                    );
                    for r in rows_for_ids(&self.pool, sql, chunk).await? {
                        let id: String = r.try_get("analysis_id")?;
                        let docs: i64 = r.try_get("documents")?;
                        out.push((
                            parse_uuid("memory_terms.analysis_id", &id)?,
                            r.try_get("term")?,
                            r.try_get("weight")?,
                            u64::try_from(docs).unwrap_or_default(),
                        ));
                    }
                }
                Ok(out)
            }

            async fn recall_signatures(&self, ids: &[Uuid]) -> Result<Vec<RecalledSignature>> {
                let mut out: Vec<RecalledSignature> = Vec::new();
                for chunk in ids.chunks(IN_LIST) {
                    let sql = concat!(
                        "SELECT s.analysis_id, s.incident_at, s.signature, a.title \
                         FROM memory_signatures s JOIN analyses a ON a.id = s.analysis_id \
                         WHERE s.analysis_id IN (",
                        $crate::store::memory_sql::in_list!(),
                        ")"
                    );
                    for r in rows_for_ids(&self.pool, sql, chunk).await? {
                        let id: String = r.try_get("analysis_id")?;
                        let s: String = r.try_get("signature")?;
                        out.push(RecalledSignature {
                            analysis_id: parse_uuid("memory_signatures.analysis_id", &id)?,
                            title: r.try_get("title")?,
                            incident_at: r.try_get("incident_at")?,
                            signature: from_json("memory_signatures.signature", &s)?,
                            ticket: None,
                        });
                    }
                    // Tickets as they are now: the one with a confirmed root cause,
                    // else the newest.
                    let sql = concat!(
                        "SELECT analysis_id, no, status, confirmed_root_cause, resolution, created_at \
                         FROM tickets WHERE analysis_id IN (",
                        $crate::store::memory_sql::in_list!(),
                        ") ORDER BY created_at, no"
                    );
                    for r in rows_for_ids(&self.pool, sql, chunk).await? {
                        let id: String = r.try_get("analysis_id")?;
                        let id = parse_uuid("tickets.analysis_id", &id)?;
                        let t = RecalledTicket {
                            no: r.try_get("no")?,
                            status: r.try_get("status")?,
                            confirmed_root_cause: r
                                .try_get::<Option<String>, _>("confirmed_root_cause")?
                                .filter(|c| !c.trim().is_empty()),
                            resolution: r.try_get("resolution")?,
                        };
                        if let Some(rec) = out.iter_mut().find(|x| x.analysis_id == id) {
                            let keep_old = rec.ticket.as_ref().is_some_and(|old| {
                                old.confirmed_root_cause.is_some() && t.confirmed_root_cause.is_none()
                            });
                            if !keep_old {
                                rec.ticket = Some(t);
                            }
                        }
                    }
                }
                Ok(out)
            }

            async fn prune_signatures(&self, before: DateTime<Utc>) -> Result<u64> {
                let mut total = 0u64;
                loop {
                    let sql = concat!(
                        "SELECT analysis_id FROM memory_signatures WHERE stored_at < ? ORDER BY stored_at ",
                        $limit_open, "?", $limit_close
                    );
                    let ids: Vec<String> = sqlx::query_scalar(sql)
                        .bind(micros(before))
                        .bind(PRUNE_BATCH)
                        .fetch_all(&self.pool)
                        .await?;
                    let n = ids.len();
                    for id in ids {
                        if self
                            .forget_signature(parse_uuid("memory_signatures.analysis_id", &id)?)
                            .await?
                        {
                            total += 1;
                        }
                    }
                    if n < PRUNE_BATCH as usize {
                        return Ok(total);
                    }
                }
            }
        }
        }
    };
}
pub(crate) use memory_sql_store;
