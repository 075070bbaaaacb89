//! A file upload's body as it streams to its handler: cut at the caller's size limit (flagging
//! [`UploadOverLimit`], so the handler answers 413 rather than a broken form), after
//! [`UPLOAD_IDLE`] without a byte, and once it averages under [`MIN_UPLOAD_BYTES_PER_SEC`] past
//! [`UPLOAD_GRACE`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use poem::Body;

/// How long an upload may send nothing before it is cut off.
pub const UPLOAD_IDLE: Duration = Duration::from_secs(30);

/// Set in a file upload's request when its body crossed the size limit and was cut.
#[derive(Debug, Clone, Default)]
pub struct UploadOverLimit(Arc<AtomicBool>);

impl UploadOverLimit {
    /// Whether the body was cut for its size.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// How long an upload may take before it must keep up [`MIN_UPLOAD_BYTES_PER_SEC`].
pub const UPLOAD_GRACE: Duration = Duration::from_secs(30);
/// The slowest an upload may average after [`UPLOAD_GRACE`] (128 kbit/s: 50 MB in 51 minutes),
/// so a client trickling bytes cannot hold one of the few upload slots for hours.
pub const MIN_UPLOAD_BYTES_PER_SEC: u64 = 16 * 1024;

/// Whether an upload that has sent `seen` bytes in `elapsed` is too slow to keep its slot.
fn too_slow(seen: u64, elapsed: Duration) -> bool {
    elapsed > UPLOAD_GRACE
        && u128::from(seen) * 1000 < u128::from(MIN_UPLOAD_BYTES_PER_SEC) * elapsed.as_millis()
}

/// `body`, ending in an error after `max` bytes (flagging `over`), after [`UPLOAD_IDLE`] of
/// silence, or once it averages under [`MIN_UPLOAD_BYTES_PER_SEC`] past [`UPLOAD_GRACE`].
pub fn limit_upload(body: Body, max: u64, over: UploadOverLimit) -> Body {
    let source = Box::pin(body.into_bytes_stream());
    let started = tokio::time::Instant::now();
    let cut = |reason: &'static str| std::io::Error::new(std::io::ErrorKind::TimedOut, reason);
    let limited =
        futures_util::stream::unfold((source, 0u64, false), move |(mut source, seen, ended)| {
            let over = over.clone();
            async move {
                if ended {
                    return None;
                }
                match tokio::time::timeout(UPLOAD_IDLE, source.next()).await {
                    Err(_) => Some((
                        Err(cut("the upload sent nothing for too long")),
                        (source, seen, true),
                    )),
                    Ok(None) => None,
                    Ok(Some(Err(err))) => Some((Err(err), (source, seen, true))),
                    Ok(Some(Ok(bytes))) => {
                        let seen = seen + bytes.len() as u64;
                        if seen > max {
                            over.0.store(true, Ordering::Relaxed);
                            Some((
                                Err(std::io::Error::other("the upload is over its size limit")),
                                (source, seen, true),
                            ))
                        } else if too_slow(seen, started.elapsed()) {
                            Some((Err(cut("the upload is too slow")), (source, seen, true)))
                        } else {
                            Some((Ok(bytes), (source, seen, false)))
                        }
                    }
                }
            }
        });
    Body::from_bytes_stream(limited)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upload body of `chunks` of `size` bytes, one every `every`.
    fn paced(chunks: usize, size: usize, every: Duration) -> Body {
        let stream = futures_util::stream::unfold(0, move |sent| async move {
            if sent == chunks {
                return None;
            }
            tokio::time::sleep(every).await;
            Some((
                Ok::<_, std::io::Error>(bytes::Bytes::from(vec![7u8; size])),
                sent + 1,
            ))
        });
        Body::from_bytes_stream(stream)
    }

    /// What the limited body yields: bytes passed before it ended, and its error if any.
    async fn drain(body: Body) -> (usize, Option<std::io::Error>) {
        let mut stream = Box::pin(body.into_bytes_stream());
        let mut passed = 0;
        while let Some(item) = stream.next().await {
            match item {
                Ok(bytes) => passed += bytes.len(),
                Err(err) => return (passed, Some(err)),
            }
        }
        (passed, None)
    }

    #[tokio::test(start_paused = true)]
    async fn a_trickle_is_cut_once_past_the_grace_period() {
        // A byte every 20 s: never idle for 30 s, but far under the minimum rate.
        let body = limit_upload(
            paced(100, 1, Duration::from_secs(20)),
            1 << 20,
            UploadOverLimit::default(),
        );
        let (passed, err) = drain(body).await;
        let err = err.expect("cut off");
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        assert!(err.to_string().contains("too slow"), "{err}");
        assert_eq!(
            passed, 1,
            "the chunk at 20 s passes, the one at 40 s is cut"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_upload_at_the_minimum_rate_passes_whole() {
        // 20 KiB a second for two minutes.
        let body = limit_upload(
            paced(120, 20 * 1024, Duration::from_secs(1)),
            50 << 20,
            UploadOverLimit::default(),
        );
        let (passed, err) = drain(body).await;
        assert!(err.is_none(), "{err:?}");
        assert_eq!(passed, 120 * 20 * 1024);
    }

    #[tokio::test(start_paused = true)]
    async fn silence_and_size_still_cut() {
        let (_, err) = drain(limit_upload(
            paced(2, 1, Duration::from_secs(31)),
            1 << 20,
            UploadOverLimit::default(),
        ))
        .await;
        assert!(
            err.expect("cut")
                .to_string()
                .contains("nothing for too long")
        );
        let over = UploadOverLimit::default();
        let (passed, err) = drain(limit_upload(
            paced(3, 10, Duration::from_millis(1)),
            25,
            over.clone(),
        ))
        .await;
        assert!(err.is_some() && over.is_set());
        assert_eq!(passed, 20);
    }
}
