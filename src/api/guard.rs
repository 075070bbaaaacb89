//! The guard in front of both dialects: who is calling (API token, HTTP Basic, or an anonymous
//! address behind trusted proxies), whether their quota allows this request, and the
//! `X-RateLimit-*` headers on the answer. Wrong credentials are refused, never downgraded to
//! anonymous. The caller goes into the request for handlers and the body limit.

use std::net::IpAddr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use poem::http::HeaderValue;
use poem::http::header::AUTHORIZATION;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use super::dialect::Dialect;
use crate::clock;
use crate::service::accounts::{Accounts, Credentials};
use crate::service::ratelimit::{Exceeded, RateLimiter, Standing};
use crate::service::tiers::TierTable;
use crate::service::{Caller, ServiceError};
use crate::telemetry;

/// What the guard needs.
#[derive(Clone)]
pub struct Guard {
    /// Checks credentials.
    pub accounts: Accounts,
    /// Counts requests; `None` when quotas are off.
    pub limiter: Option<RateLimiter>,
    /// The quotas of each tier.
    pub tiers: TierTable,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
}

impl<E: Endpoint> Middleware<E> for Guard {
    type Output = GuardEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        GuardEndpoint {
            inner: ep,
            guard: self.clone(),
        }
    }
}

/// The endpoint [`Guard`] wraps.
pub struct GuardEndpoint<E> {
    inner: E,
    guard: Guard,
}

/// Reads the `Authorization` header. `Err` for a header that is there but not understood.
fn credentials(req: &Request) -> std::result::Result<Option<Credentials>, ()> {
    let Some(value) = req.headers().get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| ())?.trim();
    let (scheme, rest) = value.split_once(' ').ok_or(())?;
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return Ok(Some(Credentials::Bearer(rest.to_owned())));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = BASE64.decode(rest).map_err(|_| ())?;
        let text = String::from_utf8(decoded).map_err(|_| ())?;
        let (username, password) = text.split_once(':').ok_or(())?;
        return Ok(Some(Credentials::Basic {
            username: username.to_owned(),
            password: password.to_owned(),
        }));
    }
    Err(())
}

/// The client's address: the peer, or, behind trusted proxies, the last address in
/// `X-Forwarded-For` that is not a trusted proxy.
fn client_ip(req: &Request, trusted: &[IpAddr]) -> IpAddr {
    let peer = req
        .remote_addr()
        .as_socket_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |addr| addr.ip().to_canonical());
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<&[u8]> = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    forwarded_client(peer, &forwarded, trusted)
}

/// Walks `X-Forwarded-For` (its header lines in order) from the right, starting at the trusted
/// `peer`: the first hop that is not a trusted proxy is the client. A hop that does not parse
/// ends the walk, and the request counts against the trusted proxy that wrote it: skipping it
/// would believe whatever the client put further left, and give it a fresh quota each time.
/// Lines are taken as bytes and split on commas, so a byte that is not text spoils only its own
/// hop, not the addresses a proxy appended after it on the same line.
fn forwarded_client(peer: IpAddr, header_lines: &[&[u8]], trusted: &[IpAddr]) -> IpAddr {
    let mut nearest_trusted = peer;
    for hop in header_lines
        .iter()
        .rev()
        .flat_map(|line| line.rsplit(|b| *b == b','))
    {
        let Some(ip) = std::str::from_utf8(hop).ok().and_then(parse_hop) else {
            return nearest_trusted;
        };
        if !trusted.contains(&ip) {
            return ip;
        }
        nearest_trusted = ip;
    }
    nearest_trusted
}

/// One `X-Forwarded-For` hop: an address, `ip:port`, `[v6]` or `[v6]:port`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = hop
        .parse::<IpAddr>()
        .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|addr| addr.ip()))
        .ok()
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|rest| rest.strip_suffix(']'))
                .and_then(|inner| inner.parse::<std::net::Ipv6Addr>().ok())
                .map(IpAddr::V6)
        })?;
    Some(ip.to_canonical())
}

fn stamp(response: &mut Response, standing: Option<Standing>) {
    let Some(standing) = standing else { return };
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(standing.limit));
    headers.insert(
        "x-ratelimit-remaining",
        HeaderValue::from(standing.remaining),
    );
    headers.insert("x-ratelimit-reset", HeaderValue::from(standing.reset_unix));
}

impl<E> GuardEndpoint<E> {
    /// Charges `caller`'s quota: its standing for the headers, or how it is exceeded.
    async fn charge(&self, caller: &Caller) -> Result<Option<Standing>, Exceeded> {
        let Some(limiter) = &self.guard.limiter else {
            return Ok(None);
        };
        limiter
            .check(
                &caller.rate_key(),
                self.guard.tiers.of(caller.tier()),
                clock::now(),
            )
            .await
            .inspect_err(|_| {
                metrics::counter!(telemetry::RATE_LIMITED, "tier" => caller.tier().name())
                    .increment(1);
            })
    }

    /// The answer to refused credentials. It costs the client address's anonymous quota, so
    /// guessing keys is as limited as anonymous use, and it carries that quota's headers.
    async fn refuse_credentials(
        &self,
        dialect: Dialect,
        ip: IpAddr,
        err: ServiceError,
    ) -> Response {
        match self.charge(&Caller::Anonymous { ip }).await {
            Ok(standing) => {
                let mut response = dialect.respond(err);
                stamp(&mut response, standing);
                response
            }
            Err(exceeded) => too_many(dialect, exceeded),
        }
    }
}

/// The 429 of an exceeded quota, with its headers.
fn too_many(dialect: Dialect, exceeded: Exceeded) -> Response {
    let mut response = dialect.respond(ServiceError::RateLimited {
        retry_after_secs: exceeded.retry_after_secs,
    });
    stamp(&mut response, Some(exceeded.standing));
    response
}

impl<E: Endpoint> Endpoint for GuardEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> Result<Response> {
        if !req.original_uri().path().starts_with("/api/") {
            // Probes are not API requests: no credentials, no quota.
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        let dialect = Dialect::of(&req);
        let ip = client_ip(&req, &self.guard.trusted_proxies);
        let caller = match credentials(&req) {
            Err(()) => {
                return Ok(self
                    .refuse_credentials(dialect, ip, ServiceError::Unauthorized)
                    .await);
            }
            Ok(None) => Caller::Anonymous { ip },
            Ok(Some(credentials)) => match self.guard.accounts.authenticate(credentials).await {
                Ok(caller) => caller,
                Err(err) => return Ok(self.refuse_credentials(dialect, ip, err).await),
            },
        };
        let standing = match self.charge(&caller).await {
            Ok(standing) => standing,
            Err(exceeded) => return Ok(too_many(dialect, exceeded)),
        };
        req.extensions_mut().insert(caller);
        // An error of the inner layers (the router's 404 and 405) becomes its response here, in
        // the dialect's shape, so it carries the quota headers too.
        let mut response = match self.inner.call(req).await {
            Ok(output) => output.into_response(),
            Err(err) => dialect
                .no_route(&err)
                .unwrap_or_else(|| err.into_response()),
        };
        stamp(&mut response, standing);
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().expect("address")
    }

    #[test]
    fn hops_parse_with_ports_and_brackets() {
        assert_eq!(parse_hop(" 203.0.113.7 "), Some(ip("203.0.113.7")));
        assert_eq!(parse_hop("203.0.113.7:41234"), Some(ip("203.0.113.7")));
        assert_eq!(parse_hop("[2001:db8::1]:443"), Some(ip("2001:db8::1")));
        assert_eq!(parse_hop("[2001:db8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(parse_hop("2001:db8::1"), Some(ip("2001:db8::1")));
        assert_eq!(parse_hop("::ffff:192.0.2.1"), Some(ip("192.0.2.1")));
        for bad in ["", "unknown", "_hidden", "203.0.113.7:port", "[2001:db8::1"] {
            assert_eq!(parse_hop(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_walk_stops_at_a_hop_it_cannot_read() {
        let proxy = ip("127.0.0.1");
        let trusted = [proxy, ip("10.0.0.2")];
        // A proxy that writes `ip:port`: the client's own entry further left is not believed.
        assert_eq!(
            forwarded_client(proxy, &[b"198.51.100.1, 203.0.113.7:5555"], &trusted),
            ip("203.0.113.7")
        );
        // Unreadable: the proxy that wrote it is who the request counts against.
        assert_eq!(
            forwarded_client(proxy, &[b"198.51.100.1, garbage"], &trusted),
            proxy
        );
        assert_eq!(
            forwarded_client(proxy, &[b"198.51.100.1, garbage, 10.0.0.2"], &trusted),
            ip("10.0.0.2")
        );
        // Several header lines read as one list, the last line nearest.
        assert_eq!(
            forwarded_client(
                proxy,
                &[b"198.51.100.1", b"203.0.113.9, 10.0.0.2"],
                &trusted
            ),
            ip("203.0.113.9")
        );
        assert_eq!(forwarded_client(proxy, &[], &trusted), proxy);
        // A byte that is not text spoils its own hop only: the address nginx appended after it
        // on the same line is still the client.
        assert_eq!(
            forwarded_client(proxy, &[b"\xff, 203.0.113.8"], &trusted),
            ip("203.0.113.8")
        );
    }
}
