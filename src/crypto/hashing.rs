//! The bound on argon2id work: each run holds ~19 MiB and a blocking thread for tens of
//! milliseconds, so without a cap a burst of passphrase requests takes as many threads (tokio's
//! blocking pool allows 512) and their memory at once. Runs take a permit first; a request that
//! cannot get one within the wait is refused (the API answers 503), so memory stays at
//! `workers × 19 MiB` above the baseline whatever arrives.

use std::time::Duration;

use tokio::sync::Semaphore;

use super::CryptoError;

/// How many argon2id runs go at once and how long a run may wait for its turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// Runs at once; more wait their turn.
    pub workers: usize,
    /// How long a run waits for a turn before the request is refused.
    pub wait: Duration,
}

impl HashingLimits {
    /// One run per core (argon2id is CPU-bound: more at once would only share the cores), and a
    /// 5 s wait: at ~50 ms a run, about a hundred requests per core queue before any is refused.
    pub fn for_this_machine() -> Self {
        Self {
            workers: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            wait: Duration::from_secs(5),
        }
    }
}

/// Runs argon2id work on the blocking pool, at most [`HashingLimits::workers`] at a time.
#[derive(Debug)]
pub struct PassphraseHashing {
    permits: Semaphore,
    wait: Duration,
}

impl PassphraseHashing {
    /// A bound of `limits.workers` runs at once (at least one).
    pub fn new(limits: HashingLimits) -> Self {
        Self {
            permits: Semaphore::new(limits.workers.max(1)),
            wait: limits.wait,
        }
    }

    /// Runs `work` on the blocking pool once a turn is free.
    ///
    /// # Errors
    /// [`CryptoError::HashingBusy`] when no turn came within the wait (nothing was run);
    /// [`CryptoError::PassphraseHash`] when the run panicked; else what `work` returned.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, CryptoError> + Send + 'static,
    ) -> Result<T, CryptoError> {
        let permit = tokio::time::timeout(self.wait, self.permits.acquire())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(|| {
                metrics::counter!(crate::telemetry::PASSPHRASE_HASHING_REFUSED).increment(1);
                CryptoError::HashingBusy
            })?;
        metrics::gauge!(crate::telemetry::PASSPHRASE_HASHING).increment(1.0);
        let outcome = tokio::task::spawn_blocking(work).await;
        metrics::gauge!(crate::telemetry::PASSPHRASE_HASHING).decrement(1.0);
        drop(permit);
        outcome.map_err(|e| CryptoError::PassphraseHash(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn bound(workers: usize, wait: Duration) -> Arc<PassphraseHashing> {
        Arc::new(PassphraseHashing::new(HashingLimits { workers, wait }))
    }

    #[tokio::test]
    async fn no_more_than_the_workers_run_at_once() {
        let hashing = bound(2, Duration::from_secs(30));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let runs: Vec<_> = (0..6)
            .map(|_| {
                let (hashing, running, peak) = (
                    Arc::clone(&hashing),
                    Arc::clone(&running),
                    Arc::clone(&peak),
                );
                tokio::spawn(async move {
                    hashing
                        .run(move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            peak.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(50));
                            running.fetch_sub(1, Ordering::SeqCst);
                            Ok(())
                        })
                        .await
                })
            })
            .collect();
        for run in runs {
            run.await.expect("joined").expect("every run gets its turn");
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2, "two at once, never more");
    }

    #[tokio::test]
    async fn a_run_that_gets_no_turn_within_the_wait_is_refused_and_never_runs() {
        let hashing = bound(1, Duration::from_millis(50));
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, began) = tokio::sync::oneshot::channel();
        let holder = {
            let hashing = Arc::clone(&hashing);
            tokio::spawn(async move {
                hashing
                    .run(move || {
                        let _ = started.send(());
                        let _ = held.recv();
                        Ok(())
                    })
                    .await
            })
        };
        began.await.expect("the first run started");
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&ran);
        let refused = hashing
            .run(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                Ok(())
            })
            .await;
        assert!(
            matches!(refused, Err(CryptoError::HashingBusy)),
            "{refused:?}"
        );
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        release.send(()).expect("released");
        holder
            .await
            .expect("joined")
            .expect("the first run finished");
        hashing.run(|| Ok(())).await.expect("a free turn is taken");
    }
}
