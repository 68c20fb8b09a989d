//! The loop behind every background worker of the engine: claim a job from the
//! database, run it with bounded concurrency, sleep when there is none (a local
//! wake-up ends the sleep at once), back off when claiming fails, and on stop let
//! the running jobs finish. Analyses and notification deliveries both run on it.
//!
//! Stopping has two steps: from the moment it begins nothing more is claimed (the
//! stop flag is checked after a worker slot is free, right before claiming); when
//! the grace period ends, the jobs still running are cancelled and the loop's
//! release hook hands their claims back, so another process takes them at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

use crate::error::Result;

/// Hands back the claims of the jobs cancelled at the end of a stop's grace period.
pub(crate) type ReleaseHook = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// How long the release hook may take once the grace period has ended.
const RELEASE_LIMIT: Duration = Duration::from_secs(5);

/// A running background loop; dropping it does not stop it, [`Background::shutdown`]
/// does.
#[derive(Debug)]
pub struct Background {
    stop: watch::Sender<bool>,
    cancel: Arc<Notify>,
    handle: JoinHandle<()>,
}

impl Background {
    /// Stops claiming new jobs, at once; the running ones go on. Call
    /// [`Background::shutdown`] afterwards to wait for them.
    pub fn stop_claiming(&self) {
        let _ = self.stop.send(true);
    }

    /// Stops claiming new jobs and waits for the running ones (at most `grace`).
    /// Those still running when it passes are cancelled and their claims handed
    /// back (analyses: released without charging an attempt, so another process
    /// takes them at once; other jobs: left to their lease). True when every job
    /// finished within the grace period.
    pub async fn shutdown(mut self, grace: Duration) -> bool {
        let _ = self.stop.send(true);
        if tokio::time::timeout(grace, &mut self.handle).await.is_ok() {
            return true;
        }
        self.cancel.notify_one();
        let _ = tokio::time::timeout(RELEASE_LIMIT, self.handle).await;
        false
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
    /// Hands back the claims of jobs cancelled when a stop's grace period ends;
    /// `None` leaves them to their lease.
    pub release: Option<ReleaseHook>,
}

impl std::fmt::Debug for ClaimLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClaimLoop")
            .field("what", &self.what)
            .field("slots", &self.slots)
            .finish_non_exhaustive()
    }
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
        let cancel = Arc::new(Notify::new());
        let handle = tokio::spawn(self.run(stopped, cancel.clone(), claim, run));
        Background {
            stop,
            cancel,
            handle,
        }
    }

    async fn run<J, C, CF, R, RF>(
        mut self,
        mut stopped: watch::Receiver<bool>,
        cancel: Arc<Notify>,
        mut claim: C,
        run: R,
    ) where
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
            // Wait for a free slot, unless the stop comes first.
            let permit = tokio::select! {
                permit = slots.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
                _ = stopped.wait_for(|stop| *stop) => break,
            };
            // The stop may have begun while this waited: claim nothing then.
            if *stopped.borrow() {
                break;
            }
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
                    tokio::select! {
                        _ = tokio::time::sleep(self.backoff) => {}
                        _ = stopped.changed() => {}
                    }
                }
            }
            while running.try_join_next().is_some() {}
        }
        let drained = async { while running.join_next().await.is_some() {} };
        tokio::select! {
            () = drained => return,
            () = cancel.notified() => {}
        }
        // The grace period is over: cancel what still runs and hand it back.
        let left = running.len();
        running.abort_all();
        while running.join_next().await.is_some() {}
        tracing::warn!(
            what = self.what,
            left,
            "the stop's grace period ended with jobs still running; handing them back"
        );
        if let Some(release) = self.release.take() {
            release().await;
        }
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
            release: None,
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

    /// A loop whose every claim yields a job, counting the claims; each job waits
    /// for `gate` (forever unless opened) and sets `ended` when it ends or is
    /// cancelled.
    fn gated_loop(
        slots: usize,
        claims: Arc<AtomicUsize>,
        gate: Arc<Notify>,
        release: Option<ReleaseHook>,
    ) -> Background {
        ClaimLoop {
            what: "test jobs",
            slots,
            idle: Duration::from_millis(10),
            backoff: Duration::from_millis(10),
            wake: Arc::new(Notify::new()),
            release,
        }
        .spawn(
            move || {
                claims.fetch_add(1, Ordering::SeqCst);
                async { Ok(Some(())) }
            },
            move |()| {
                let gate = gate.clone();
                async move { gate.notified().await }
            },
        )
    }

    async fn until(what: &str, f: impl Fn() -> bool) {
        for _ in 0..500 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting for {what}");
    }

    #[tokio::test]
    async fn nothing_is_claimed_once_the_stop_begins() {
        // One slot, taken by a job; the loop waits for the slot when the stop
        // begins. When the job then ends, the free slot must not lead to a claim.
        let (claims, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        let bg = gated_loop(1, claims.clone(), gate.clone(), None);
        until("the first claim", || claims.load(Ordering::SeqCst) == 1).await;
        tokio::time::sleep(Duration::from_millis(30)).await;
        bg.stop_claiming();
        tokio::time::sleep(Duration::from_millis(30)).await;
        gate.notify_one();
        assert!(
            bg.shutdown(Duration::from_secs(5)).await,
            "the job finished"
        );
        assert_eq!(
            claims.load(Ordering::SeqCst),
            1,
            "no claim after the stop began"
        );
    }

    #[tokio::test]
    async fn jobs_running_at_the_end_of_the_grace_period_are_cancelled_and_handed_back() {
        let (claims, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Notify::new()));
        let released = Arc::new(AtomicUsize::new(0));
        let hook: ReleaseHook = {
            let released = released.clone();
            Box::new(move || {
                Box::pin(async move {
                    released.fetch_add(1, Ordering::SeqCst);
                })
            })
        };
        let bg = gated_loop(2, claims.clone(), gate, Some(hook));
        until("two jobs", || claims.load(Ordering::SeqCst) == 2).await;
        let started = std::time::Instant::now();
        let finished = bg.shutdown(Duration::from_millis(200)).await;
        assert!(!finished, "the jobs never end by themselves");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "bounded by the grace period"
        );
        assert_eq!(
            released.load(Ordering::SeqCst),
            1,
            "the release hook ran once"
        );
        assert_eq!(claims.load(Ordering::SeqCst), 2);
    }
}
