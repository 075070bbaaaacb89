//! The HTTP server under the routes: accepts connections, serves HTTP/1.1 and HTTP/2 on them
//! through hyper, and holds each one to [`ConnectionLimits`] so slow or idle clients cannot keep
//! sockets (and file descriptors) forever: a request head must arrive within the header-read
//! timeout once it starts, a connection with no bytes either way for the idle timeout is closed,
//! and one client address holds at most so many connections at once (proxies it trusts are not
//! capped: many clients share their address). Refused and timed-out connections are counted
//! ([`crate::telemetry::CONNECTIONS_REFUSED`]) and logged at most once a second per reason.
//!
//! Request bodies get their read deadline above, in [`crate::api::body_limit`]: only the routes
//! know which bodies are files (held to a minimum rate instead of a total time).

mod deadlines;
mod per_client;
mod refusals;

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use poem::endpoint::BoxEndpoint;
use poem::web::{LocalAddr, RemoteAddr};
use poem::{Addr, Endpoint, EndpointExt, Response};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::task::TaskTracker;

use crate::config::ConnectionLimits;
use deadlines::{Clock, Deadline, Timed, TrackedBody};
use per_client::PerClient;
pub use refusals::Refusal;

/// How long to wait before accepting again when accepting failed (out of file descriptors,
/// most often): retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// One listening socket and how its connections are held.
pub struct Server {
    listener: TcpListener,
    limits: ConnectionLimits,
    uncapped: Vec<IpAddr>,
}

impl Server {
    /// Serves `listener` under `limits`; clients at `uncapped` (the trusted proxies) have no
    /// per-address connection cap.
    pub fn new(listener: TcpListener, limits: ConnectionLimits, uncapped: Vec<IpAddr>) -> Self {
        Self {
            listener,
            limits,
            uncapped,
        }
    }

    /// Serves `endpoint` until `shutdown` completes, then stops accepting and gives requests in
    /// flight `grace` to finish before their connections are dropped.
    pub async fn run(
        self,
        endpoint: impl Endpoint + 'static,
        shutdown: impl Future<Output = ()> + Send,
        grace: Duration,
    ) {
        let endpoint: Arc<BoxEndpoint<'static, Response>> =
            Arc::new(endpoint.map_to_response().boxed());
        let local = self.listener.local_addr().ok();
        let per_client = PerClient::new(self.limits.per_client, self.uncapped);
        let connections = TaskTracker::new();
        let (stop, stopped) = watch::channel(false);
        tokio::pin!(shutdown);
        loop {
            let (stream, remote) = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        refusals::note(Refusal::AcceptFailed, None, Some(&err));
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                },
            };
            let Some(slot) = per_client.admit(remote.ip()) else {
                refusals::note(Refusal::PerClientCap, Some(remote.ip()), None);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let endpoint = Arc::clone(&endpoint);
            let limits = self.limits;
            let stopped = stopped.clone();
            connections.spawn(async move {
                serve_connection(stream, local, remote, endpoint, limits, stopped, grace).await;
                drop(slot);
            });
        }
        let _ = stop.send(true);
        connections.close();
        let _ = tokio::time::timeout(grace, connections.wait()).await;
    }
}

/// Serves one connection until it ends, breaks a limit, or the server stops.
async fn serve_connection(
    stream: TcpStream,
    local: Option<SocketAddr>,
    remote: SocketAddr,
    endpoint: Arc<BoxEndpoint<'static, Response>>,
    limits: ConnectionLimits,
    mut stopped: watch::Receiver<bool>,
    grace: Duration,
) {
    let clock = Clock::new(limits);
    let io = TokioIo::new(Timed::new(stream, clock.clone()));
    let service = hyper::service::service_fn({
        let clock = clock.clone();
        move |request: hyper::Request<Incoming>| {
            let endpoint = Arc::clone(&endpoint);
            let request = poem::Request::from((
                request,
                LocalAddr(local.map_or(Addr::Custom("unknown", "".into()), Addr::SocketAddr)),
                RemoteAddr(Addr::SocketAddr(remote)),
                poem::http::uri::Scheme::HTTP,
            ));
            let in_flight = clock.request_started();
            async move {
                let response: hyper::Response<_> = endpoint.get_response(request).await.into();
                Ok::<_, Infallible>(response.map(|body| TrackedBody::new(body, in_flight)))
            }
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let connection = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(connection);
    loop {
        let check = tokio::time::sleep_until(clock.next_check());
        tokio::select! {
            _ = connection.as_mut() => return,
            () = clock.head_began() => {}
            () = check => match clock.overdue() {
                Some(Deadline::HeaderRead) => {
                    refusals::note(Refusal::HeaderReadTimeout, Some(remote.ip()), None);
                    return;
                }
                Some(Deadline::Idle) => {
                    refusals::note(Refusal::IdleTimeout, Some(remote.ip()), None);
                    return;
                }
                None => {}
            },
            _ = stopped.wait_for(|stop| *stop) => break,
        }
    }
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(grace, connection).await;
}
