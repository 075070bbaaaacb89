//! Request windows shared by every node: each caller's requests in the last window kept in a
//! sorted set per window, counted, trimmed and added to by one script on the server's clock, so a
//! tier's quota holds for the whole deployment and every node agrees on the time.

use std::time::Duration;

use redis::Script;

use super::connection::{Connection, RedisTarget};
use super::{BACKEND, fail};
use crate::storage::StoreError;

/// One window to count a request in: its length and its limit.
#[derive(Debug, Clone, Copy)]
pub struct WindowSpec {
    /// How far back requests count.
    pub length: Duration,
    /// How many may fall in it.
    pub limit: u32,
}

/// What one window held when a request was counted (or refused).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowCount {
    /// Requests in the window before this one.
    pub used: u32,
    /// When the oldest of them came, in milliseconds.
    pub oldest_ms: Option<u64>,
}

/// The answer for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// Whether it was within every window's limit (and so counted).
    pub allowed: bool,
    /// The server's time, in milliseconds.
    pub now_ms: u64,
    /// Each window asked for, in order.
    pub windows: [Option<WindowCount>; 2],
}

/// KEYS: the two windows' sets. ARGV: for each window its length (ms) and limit (-1: not
/// counted), then a unique member for this request.
const SCRIPT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {0, now}
local allowed = 1
for i = 1, 2 do
  local length = tonumber(ARGV[i * 2 - 1])
  local limit = tonumber(ARGV[i * 2])
  if limit >= 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - length)
    local used = redis.call('ZCARD', KEYS[i])
    local oldest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    if used >= limit then allowed = 0 end
    out[#out + 1] = used
    out[#out + 1] = oldest[2] and tonumber(oldest[2]) or -1
  else
    out[#out + 1] = -1
    out[#out + 1] = -1
  end
end
if allowed == 1 then
  for i = 1, 2 do
    if tonumber(ARGV[i * 2]) >= 0 then
      redis.call('ZADD', KEYS[i], now, ARGV[5])
      redis.call('PEXPIRE', KEYS[i], ARGV[i * 2 - 1])
    end
  end
end
out[1] = allowed
return out
";

/// The shared windows of a deployment.
pub struct RedisQuotas {
    connection: Connection,
    script: Script,
}

impl RedisQuotas {
    /// Connects to `target`, every answer held to `timeout`.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it cannot be reached.
    pub async fn connect(target: &RedisTarget, timeout: Duration) -> Result<Self, StoreError> {
        Ok(Self {
            connection: Connection::open(target, timeout).await.map_err(fail)?,
            script: Script::new(SCRIPT),
        })
    }

    /// The server's clock (`TIME`).
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when Redis does not answer.
    pub async fn server_time(&self) -> Result<crate::domain::Timestamp, StoreError> {
        let (secs, micros): (u64, u64) = self
            .connection
            .query(&redis::cmd("TIME"))
            .await
            .map_err(fail)?;
        Ok(crate::domain::Timestamp::from_millis(
            secs.saturating_mul(1000).saturating_add(micros / 1000),
        ))
    }

    /// Counts a request of `caller` in `windows` (a `None` window is not kept), unless one of
    /// them is full.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when Redis does not answer.
    pub async fn take(
        &self,
        caller: &str,
        windows: [Option<WindowSpec>; 2],
    ) -> Result<Counted, StoreError> {
        let nonce: [u8; 12] =
            crate::crypto::random_bytes().map_err(|e| StoreError::backend(BACKEND, e))?;
        let mut invocation = self.script.prepare_invoke();
        invocation
            .key(format!("bb:{{q:{caller}}}:short"))
            .key(format!("bb:{{q:{caller}}}:long"));
        for window in windows {
            match window {
                Some(spec) => invocation
                    .arg(u64::try_from(spec.length.as_millis()).unwrap_or(u64::MAX))
                    .arg(i64::from(spec.limit)),
                None => invocation.arg(0).arg(-1),
            };
        }
        invocation.arg(super::keys::hex(&nonce));
        let answer: Vec<i64> = self.connection.invoke(&invocation).await.map_err(fail)?;
        let [
            allowed,
            now,
            short_used,
            short_oldest,
            long_used,
            long_oldest,
        ] = answer[..]
        else {
            return Err(StoreError::Corrupt(
                "unexpected answer from the quota script".into(),
            ));
        };
        let window = |spec: Option<WindowSpec>, used: i64, oldest: i64| {
            spec.map(|_| WindowCount {
                used: u32::try_from(used).unwrap_or(u32::MAX),
                oldest_ms: u64::try_from(oldest).ok(),
            })
        };
        Ok(Counted {
            allowed: allowed == 1,
            now_ms: u64::try_from(now).unwrap_or(0),
            windows: [
                window(windows[0], short_used, short_oldest),
                window(windows[1], long_used, long_oldest),
            ],
        })
    }
}
