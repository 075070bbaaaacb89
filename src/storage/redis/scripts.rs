//! The server-side steps, each one atomic and within one slot. The rules are not here: Rust
//! plans a transition from the record it read ([`crate::storage::transition::plan`]) and the
//! script carries it out only if the record is still exactly what was read (compare-and-swap on
//! the stored bytes, which begin with a fresh random nonce per write, so two writes never store
//! the same bytes and a resent write can tell it already happened).

use redis::Script;

/// KEYS: meta, content, due, live, owned (or meta when there is no owner).
/// ARGV: value, content, deadline, member, meta expires at (ms), content expires at (ms), has
/// owner (1/0), created (ms).
/// Returns 1 when stored (or already stored by this same write), 0 when the id is taken.
pub fn insert() -> Script {
    Script::new(
        r"
local current = redis.call('GET', KEYS[1])
if current then
  if current == ARGV[1] then return 1 end
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[5])
redis.call('SET', KEYS[2], ARGV[2], 'PXAT', ARGV[6])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4])
if ARGV[7] == '1' then redis.call('ZADD', KEYS[5], ARGV[8], ARGV[4]) end
redis.call('INCR', KEYS[4])
return 1
",
    )
}

/// KEYS: meta, content, due, live, owned (or meta when there is no owner), this write's marker.
/// ARGV: expected value, action (`put` or `purge`), new value, new deadline (or empty when it
/// does not move), member, delete content (1/0), live delta, meta expires at (ms), has owner
/// (1/0).
/// Returns `{2}` when written, `{3}` when this very write was done before (its marker is there: a
/// resend after a lost reply, whatever was written since), `{1, current}` when the record is not
/// the expected one, `{0}` when it is missing (its stale expiry-index entry is dropped on the
/// way).
pub fn compare_and_swap() -> Script {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[6]) == 1 then return {3} end
local current = redis.call('GET', KEYS[1])
if not current then
  redis.call('ZREM', KEYS[3], ARGV[5])
  return {0}
end
if current ~= ARGV[1] then return {1, current} end
if ARGV[2] == 'purge' then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[5])
  if ARGV[9] == '1' then redis.call('ZREM', KEYS[5], ARGV[5]) end
else
  redis.call('SET', KEYS[1], ARGV[3], 'PXAT', ARGV[8])
  if ARGV[4] ~= '' then redis.call('ZADD', KEYS[3], ARGV[4], ARGV[5]) end
  if ARGV[6] == '1' then redis.call('DEL', KEYS[2]) end
end
if ARGV[7] ~= '0' then redis.call('INCRBY', KEYS[4], ARGV[7]) end
redis.call('SET', KEYS[6], '1', 'PX', 30000)
return {2}
",
    )
}

/// KEYS: any key in the tokens' slot (only to route the script to the node that holds them).
/// ARGV: the pattern of token keys.
/// Returns every token's grant: SCAN here walks this node's keys, which hold every token, as
/// they share one hash tag.
pub fn token_grants() -> Script {
    Script::new(
        r"
local cursor = '0'
local grants = {}
repeat
  local reply = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = reply[1]
  for _, key in ipairs(reply[2]) do
    local grant = redis.call('GET', key)
    if grant then table.insert(grants, grant) end
  end
until cursor == '0'
return grants
",
    )
}
