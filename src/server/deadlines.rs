//! The clock of one connection: when it last moved a byte, when the request head now arriving
//! began, and how many requests are in flight, so the connection's task can tell when it broke
//! [`ConnectionLimits`]. The socket ([`Timed`]) and the response bodies ([`TrackedBody`]) keep it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use hyper::body::{Body, Frame, SizeHint};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::config::ConnectionLimits;

/// No request head is arriving.
const NO_HEAD: u64 = u64::MAX;

/// Which limit a connection broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// A request head began and did not end in time.
    HeaderRead,
    /// No byte moved either way for the idle timeout.
    Idle,
}

/// The shared clock of one connection (cheap to clone).
#[derive(Clone)]
pub struct Clock(Arc<State>);

struct State {
    opened: Instant,
    limits: ConnectionLimits,
    /// Milliseconds after `opened` of the last byte read or written.
    last_io: AtomicU64,
    /// Milliseconds after `opened` of the first byte of the request head arriving, or [`NO_HEAD`].
    head_began: AtomicU64,
    in_flight: AtomicUsize,
    /// Told when a head begins: its deadline may be sooner than the one being waited for.
    head_began_now: Notify,
}

impl Clock {
    /// The clock of a connection opened now.
    pub fn new(limits: ConnectionLimits) -> Self {
        Self(Arc::new(State {
            opened: Instant::now(),
            limits,
            last_io: AtomicU64::new(0),
            head_began: AtomicU64::new(NO_HEAD),
            in_flight: AtomicUsize::new(0),
            head_began_now: Notify::new(),
        }))
    }

    fn now(&self) -> u64 {
        u64::try_from(self.0.opened.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    fn moved(&self, read: bool) {
        let now = self.now();
        self.0.last_io.store(now, Ordering::Relaxed);
        // Bytes read while no request is being served start the next request's head.
        if read
            && self.0.in_flight.load(Ordering::Acquire) == 0
            && self
                .0
                .head_began
                .compare_exchange(NO_HEAD, now, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            self.0.head_began_now.notify_one();
        }
    }

    /// A request's head has been read; it is in flight until the returned guard (held by its
    /// response body) drops.
    pub fn request_started(&self) -> InFlight {
        self.0.in_flight.fetch_add(1, Ordering::AcqRel);
        self.0.head_began.store(NO_HEAD, Ordering::Release);
        InFlight(self.clone())
    }

    fn at(&self, millis: u64, limit: Duration) -> Instant {
        self.0.opened + Duration::from_millis(millis) + limit
    }

    /// When a limit could next be broken: the sooner of the idle deadline and, while a head is
    /// arriving, its deadline.
    pub fn next_check(&self) -> Instant {
        let idle = self.at(self.0.last_io.load(Ordering::Relaxed), self.0.limits.idle);
        match self.0.head_began.load(Ordering::Acquire) {
            NO_HEAD => idle,
            began => idle.min(self.at(began, self.0.limits.header_read)),
        }
    }

    /// Completes when a request head begins to arrive (at once if one began since last asked).
    pub async fn head_began(&self) {
        self.0.head_began_now.notified().await;
    }

    /// The limit this connection has broken by now, if any.
    pub fn overdue(&self) -> Option<Deadline> {
        let now = Instant::now();
        let began = self.0.head_began.load(Ordering::Acquire);
        if began != NO_HEAD
            && self.0.in_flight.load(Ordering::Acquire) == 0
            && now >= self.at(began, self.0.limits.header_read)
        {
            return Some(Deadline::HeaderRead);
        }
        (now >= self.at(self.0.last_io.load(Ordering::Relaxed), self.0.limits.idle))
            .then_some(Deadline::Idle)
    }
}

/// A request in flight on a connection; see [`Clock::request_started`].
pub struct InFlight(Clock);

impl Drop for InFlight {
    fn drop(&mut self) {
        // The idle time of a kept-alive connection counts from its last answer.
        self.0.0.last_io.store(self.0.now(), Ordering::Relaxed);
        self.0.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A socket that tells its [`Clock`] about every byte it moves.
pub struct Timed {
    stream: TcpStream,
    clock: Clock,
}

impl Timed {
    /// `stream`, timed by `clock`.
    pub fn new(stream: TcpStream, clock: Clock) -> Self {
        Self { stream, clock }
    }
}

impl AsyncRead for Timed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.clock.moved(true);
        }
        polled
    }
}

impl AsyncWrite for Timed {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.clock.moved(false);
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.clock.moved(false);
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// A response body that keeps its request [`InFlight`] until it is sent (or dropped).
pub struct TrackedBody {
    inner: BoxBody<Bytes, io::Error>,
    _in_flight: InFlight,
}

impl TrackedBody {
    /// `inner`, keeping `in_flight` alive with it.
    pub fn new(inner: BoxBody<Bytes, io::Error>, in_flight: InFlight) -> Self {
        Self {
            inner,
            _in_flight: in_flight,
        }
    }
}

impl Body for TrackedBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
