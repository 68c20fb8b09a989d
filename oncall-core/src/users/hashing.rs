//! [`HashPool`]: every argon2id hash and check of a process runs on a few fixed
//! threads, so the memory they take (19 MiB per hash in flight) is bounded by the
//! number of threads, not by how many logins arrive at once.
//!
//! Why fixed threads rather than `spawn_blocking` behind a semaphore: the blocking
//! pool grows to hundreds of threads, and the allocator keeps per-thread arenas;
//! 19 MiB blocks freed on many different threads stayed with the process (the
//! resident set grew past 1 GiB under 150 parallel logins and did not come back).
//! With a handful of long-lived threads the same few arenas are reused.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

type Job = Box<dyn FnOnce() + Send>;

/// A bounded queue in front of a fixed number of hashing threads. When the queue
/// is full, [`HashPool::run`] refuses at once with [`Error::RateLimited`]
/// (a front end answers 429 with `Retry-After`) instead of piling up work.
#[derive(Debug, Clone)]
pub struct HashPool {
    queue: SyncSender<Job>,
    threads: usize,
}

impl HashPool {
    /// `threads` hashing threads (at least one) and room for `queued` waiting jobs.
    /// The threads end when the last clone of the pool is dropped.
    pub fn new(threads: usize, queued: usize) -> Result<Self> {
        let threads = threads.max(1);
        let (queue, jobs) = sync_channel::<Job>(queued);
        let jobs = Arc::new(Mutex::new(jobs));
        for n in 0..threads {
            let jobs = jobs.clone();
            std::thread::Builder::new()
                .name(format!("oncall-hash-{n}"))
                .spawn(move || work(&jobs))
                .map_err(|e| Error::Internal(format!("starting a hashing thread: {e}")))?;
        }
        Ok(HashPool { queue, threads })
    }

    /// A pool sized to the machine: one thread per core, four waiting jobs per
    /// thread.
    pub fn for_this_machine() -> Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(cores, cores * 4)
    }

    /// How many hashes run at once at most.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on a hashing thread, or refuses with [`Error::RateLimited`] when
    /// as many jobs as the queue holds are already waiting.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let (done, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = done.send(f());
        });
        match self.queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(Error::RateLimited(
                    "the server is busy checking passwords; try again in a second".into(),
                ));
            }
            Err(TrySendError::Disconnected(_)) => {
                return Err(Error::Internal("the hashing threads are gone".into()));
            }
        }
        answer
            .await
            .map_err(|_| Error::Internal("a password hash did not finish".into()))
    }
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = {
            let jobs = jobs.lock().unwrap_or_else(|p| p.into_inner());
            jobs.recv()
        };
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn runs_jobs_and_refuses_beyond_the_queue() {
        let pool = HashPool::new(1, 1).unwrap();
        assert_eq!(pool.run(|| 2 + 2).await.unwrap(), 4);
        // One job holds the thread, one waits; a third is refused at once.
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let busy = tokio::spawn({
            let pool = pool.clone();
            async move {
                pool.run(move || gate.recv_timeout(Duration::from_secs(5)).is_ok())
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let waiting = tokio::spawn({
            let pool = pool.clone();
            async move { pool.run(|| 1).await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = pool.run(|| 0).await.unwrap_err();
        assert_eq!(refused.code(), crate::ErrorCode::RateLimited);
        release.send(()).unwrap();
        assert!(busy.await.unwrap().unwrap());
        assert_eq!(waiting.await.unwrap().unwrap(), 1);
    }
}
