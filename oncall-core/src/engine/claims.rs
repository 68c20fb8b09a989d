//! The loop behind every background worker of the engine: claim a job from the
//! database, run it with bounded concurrency, sleep when there is none (a local
//! wake-up ends the sleep at once), back off when claiming fails, and on stop let
//! the running jobs finish. Analyses and notification deliveries both run on it.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::error::Result;

/// A running background loop; dropping it does not stop it, [`Background::shutdown`]
/// does.
#[derive(Debug)]
pub struct Background {
    stop: watch::Sender<bool>,
    handle: JoinHandle<()>,
}

impl Background {
    /// Stops claiming new jobs and waits for the running ones (at most `grace`);
    /// those still running when it passes are left to their lease or lock.
    pub async fn shutdown(self, grace: Duration) {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(grace, self.handle).await;
    }
}

/// How one claim loop behaves.
pub(crate) struct ClaimLoop {
    /// What it claims, for the log (`"analyses"`).
    pub what: &'static str,
    /// Jobs run at once.
    pub slots: usize,
    /// Sleep between looks when there is nothing to claim.
    pub idle: Duration,
    /// Sleep after a failed claim.
    pub backoff: Duration,
    /// Ends the idle sleep early (a job was just stored in this process).
    pub wake: Arc<Notify>,
}

impl ClaimLoop {
    /// Spawns the loop: `claim` takes the next job if there is one, `run` does it.
    pub fn spawn<J, C, CF, R, RF>(self, claim: C, run: R) -> Background
    where
        J: Send + 'static,
        C: FnMut() -> CF + Send + 'static,
        CF: Future<Output = Result<Option<J>>> + Send + 'static,
        R: Fn(J) -> RF + Send + 'static,
        RF: Future<Output = ()> + Send + 'static,
    {
        let (stop, stopped) = watch::channel(false);
        let handle = tokio::spawn(self.run(stopped, claim, run));
        Background { stop, handle }
    }

    async fn run<J, C, CF, R, RF>(self, mut stopped: watch::Receiver<bool>, mut claim: C, run: R)
    where
        J: Send + 'static,
        C: FnMut() -> CF,
        CF: Future<Output = Result<Option<J>>>,
        R: Fn(J) -> RF,
        RF: Future<Output = ()> + Send + 'static,
    {
        let slots = Arc::new(Semaphore::new(self.slots.max(1)));
        let mut running = JoinSet::new();
        loop {
            if *stopped.borrow() {
                break;
            }
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            match claim().await {
                Ok(Some(job)) => {
                    let job = run(job);
                    running.spawn(async move {
                        job.await;
                        drop(permit);
                    });
                }
                Ok(None) => {
                    drop(permit);
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(self.idle) => {}
                        _ = stopped.changed() => {}
                    }
                }
                Err(e) => {
                    drop(permit);
                    tracing::warn!(error = %e, "claiming {}", self.what);
                    tokio::time::sleep(self.backoff).await;
                }
            }
            while running.try_join_next().is_some() {}
        }
        while running.join_next().await.is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn runs_every_job_within_its_slots_and_drains_on_stop() {
        let queue = Arc::new(std::sync::Mutex::new((0..20).collect::<Vec<u32>>()));
        let (now, peak, done) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let wake = Arc::new(Notify::new());
        let bg = ClaimLoop {
            what: "test jobs",
            slots: 3,
            idle: Duration::from_millis(10),
            backoff: Duration::from_millis(10),
            wake,
        }
        .spawn(
            {
                let queue = queue.clone();
                move || {
                    let job = queue.lock().unwrap().pop();
                    async move { Ok(job) }
                }
            },
            {
                let (now, peak, done) = (now.clone(), peak.clone(), done.clone());
                move |_job: u32| {
                    let (now, peak, done) = (now.clone(), peak.clone(), done.clone());
                    async move {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(n, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        now.fetch_sub(1, Ordering::SeqCst);
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                }
            },
        );
        for _ in 0..200 {
            if done.load(Ordering::SeqCst) == 20 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        bg.shutdown(Duration::from_secs(5)).await;
        assert_eq!(done.load(Ordering::SeqCst), 20);
        assert!(peak.load(Ordering::SeqCst) <= 3, "at most 3 at once");
        assert!(peak.load(Ordering::SeqCst) >= 2, "jobs ran side by side");
    }
}
