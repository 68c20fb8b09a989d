//! Analysis workers: claim pending analyses from the database with a lease, run
//! them with bounded concurrency and a deadline, renew the lease every heartbeat
//! while running (`ONCALL_HEARTBEAT_SECONDS`; a lease is three heartbeats).
//! Several processes may share one database: the claim is a compare-and-set, so
//! each analysis runs once; one whose worker died is taken over when its lease
//! runs out (seconds), and given up (failed, with the reason) after
//! [`MAX_ATTEMPTS`]. A clean stop claims nothing more and, when its grace period
//! ends, hands back what still runs without charging an attempt.

use std::time::Duration;

use chrono::Utc;

use super::ClaimedAnalysis;
use super::pipeline;
use crate::engine::OnCall;
use crate::engine::claims::ClaimLoop;

/// Claims of one analysis before it is failed for good.
pub const MAX_ATTEMPTS: i64 = 3;
/// How often an idle worker looks for work (a local submit wakes it at once).
const IDLE_POLL: Duration = Duration::from_millis(1000);

/// Running workers; dropping it does not stop them, [`Workers::shutdown`] does
/// (it stops claiming and waits for the running analyses; those still running
/// when the grace period ends are released, pending again with the attempt not
/// charged, for another process to take at once).
pub type Workers = crate::engine::Background;

impl OnCall {
    /// Starts `settings.analysis_workers` workers in this process.
    pub fn start_workers(&self) -> Workers {
        let owner = format!("{}-{}", hostname(), uuid::Uuid::new_v4().simple());
        let claiming = (self.clone(), owner.clone());
        let running = (self.clone(), owner.clone());
        let release: crate::engine::claims::ReleaseHook = {
            let store = self.store.clone();
            Box::new(move || {
                Box::pin(async move {
                    match store.release_claims(&owner).await {
                        Ok(n) => tracing::info!(released = n, "handed back unfinished analyses"),
                        Err(e) => tracing::warn!(
                            error = %e,
                            "handing back unfinished analyses; they are taken over when their lease ends"
                        ),
                    }
                })
            })
        };
        ClaimLoop {
            what: "analyses",
            slots: self.settings.analysis_workers,
            idle: IDLE_POLL,
            backoff: IDLE_POLL * 3,
            wake: self.wake.clone(),
            release: Some(release),
        }
        .spawn(
            move || {
                let (engine, owner) = claiming.clone();
                async move {
                    // Webhook analyses whose incident window has filled since
                    // they ran go back to pending first (a new revision).
                    let now = Utc::now();
                    match engine.requeue_due_refreshes(now).await {
                        Ok(ids) => {
                            for id in ids {
                                tracing::info!(analysis = %id, "incident window filled: running it again");
                            }
                        }
                        Err(e) => tracing::warn!(error = %e, "putting due refreshes back"),
                    }
                    engine
                        .store
                        .claim_analysis(&owner, engine.lease_until(), now)
                        .await
                }
            },
            move |job| {
                let (engine, owner) = running.clone();
                async move { engine.run_claimed(job, &owner).await }
            },
        )
    }

    /// Runs one claimed analysis to its end, then hands a final result off to the
    /// notification channels.
    pub(crate) async fn run_claimed(&self, job: ClaimedAnalysis, owner: &str) {
        let id = job.analysis.id;
        self.run_claimed_to_end(job, owner).await;
        self.analysis_settled(id).await;
    }

    /// Runs one claimed analysis to its end, renewing the lease meanwhile.
    async fn run_claimed_to_end(&self, job: ClaimedAnalysis, owner: &str) {
        let ClaimedAnalysis { analysis, attempts } = job;
        let id = analysis.id;
        if attempts > MAX_ATTEMPTS {
            let reason = format!(
                "gave up after {} attempts: the workers running it stopped or timed out",
                attempts - 1
            );
            if let Err(e) = pipeline::fail(self, analysis, owner, reason).await {
                tracing::warn!(analysis = %id, error = %e, "failing an abandoned analysis");
            }
            return;
        }
        // The heartbeat: renew the lease until the run ends (a dead process stops
        // renewing, and its analysis is taken over when the lease runs out). It ends
        // with this run, also when the run is cancelled at the end of a stop.
        let renew = StopOnDrop({
            let engine = self.clone();
            let owner = owner.to_owned();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(engine.settings.heartbeat).await;
                    let until = engine.lease_until();
                    match engine.store.renew_lease(id, &owner, until).await {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => tracing::warn!(analysis = %id, error = %e, "renewing a lease"),
                    }
                }
            })
        });
        let deadline = self.settings.analysis_deadline;
        let outcome =
            tokio::time::timeout(deadline, pipeline::run(self, analysis.clone(), owner)).await;
        drop(renew);
        let reason = match outcome {
            Ok(Ok(())) => return,
            Ok(Err(e)) if e.code() == crate::ErrorCode::Conflict => {
                tracing::warn!(analysis = %id, error = %e, "lost the lease; another worker has it");
                return;
            }
            Ok(Err(e)) => format!("analysis failed: {e}"),
            Err(_) => format!("analysis exceeded its deadline of {} s", deadline.as_secs()),
        };
        // Keep what the pipeline already stored (alert, window, sources).
        let latest = self.store.analysis(id).await.unwrap_or(analysis);
        if let Err(e) = pipeline::fail(self, latest, owner, reason).await {
            tracing::warn!(analysis = %id, error = %e, "recording a failed analysis");
        }
    }

    /// Runs pending analyses in this process until `id` is final (for the CLI and
    /// scripts without a server), or `timeout` passes.
    pub async fn run_until_done(
        &self,
        id: uuid::Uuid,
        timeout: Duration,
    ) -> crate::Result<super::Analysis> {
        let owner = format!("{}-inline-{}", hostname(), uuid::Uuid::new_v4().simple());
        let started = std::time::Instant::now();
        loop {
            let current = self.store.analysis(id).await?;
            if current.status.is_final() {
                return Ok(current);
            }
            if started.elapsed() > timeout {
                return Err(crate::Error::Unavailable(format!(
                    "analysis {id} did not finish within {} s",
                    timeout.as_secs()
                )));
            }
            match self
                .store
                .claim_analysis(&owner, self.lease_until(), Utc::now())
                .await?
            {
                Some(job) => self.run_claimed(job, &owner).await,
                None => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

/// Aborts a task when dropped.
struct StopOnDrop(tokio::task::JoinHandle<()>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl OnCall {
    /// When a claim taken or renewed now runs out.
    fn lease_until(&self) -> chrono::DateTime<Utc> {
        Utc::now()
            + chrono::Duration::from_std(self.settings.lease())
                .unwrap_or(chrono::Duration::seconds(6))
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|s| s.trim().to_owned())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "oncall".into())
        .chars()
        .take(24)
        .collect()
}
