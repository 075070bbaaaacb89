//! The life of a secret as pure state transitions.
//!
//! `Live` → `Received` (its last allowed view was taken) | `Burned` (by the sender) |
//! `Expired` (its TTL passed). The record — the receipt — outlives the content until `purge_at`
//! (twice the TTL after creation) so the sender can still see what happened. Every backend applies
//! [`SecretMeta::apply`] inside one atomic write, so the rules live here once.

use serde::{Deserialize, Serialize};

use super::{Email, ReceiptId, StoredFile, Timestamp, Ttl, ViewLimit};

/// Where a secret is in its life, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lifecycle {
    /// Readable: views left and TTL not passed (check [`SecretMeta::lifecycle_at`] for the TTL).
    Live,
    /// Its last allowed view was taken.
    Received,
    /// The sender burned it.
    Burned,
    /// Its TTL passed.
    Expired,
}

/// Why a secret can no longer be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gone {
    /// All allowed views were taken.
    MaxViewsReached,
    /// The sender burned it.
    Burned,
    /// Its TTL passed.
    Expired,
}

/// A change asked of a stored secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Count one view (the content is then handed out).
    TakeView,
    /// The sender destroys the content now.
    Burn,
    /// The node's sweeper: expire the content when its TTL passed, drop the record when its
    /// receipt lifetime passed.
    Sweep,
    /// The sender read the receipt (the Onetime Secret `viewed` state).
    ViewReceipt,
    /// A wrong passphrase was given: count it, and lock the secret when there were too many.
    FailPassphrase(LockoutPolicy),
}

/// How many wrong passphrases lock a secret, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Wrong passphrases within `window_ms` that lock the secret.
    pub max_failures: u32,
    /// How far back failures count, in milliseconds.
    pub window_ms: u64,
    /// How long the lock lasts, in milliseconds.
    pub lock_ms: u64,
}

impl LockoutPolicy {
    /// 5 wrong passphrases within 10 minutes lock the secret for 30 minutes.
    pub const DEFAULT: LockoutPolicy = LockoutPolicy {
        max_failures: 5,
        window_ms: 600_000,
        lock_ms: 1_800_000,
    };
}

/// Who created a secret, when an account did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ownership {
    /// The account.
    pub email: Email,
    /// The receipt key, sealed under a key derived from the API token that created the secret,
    /// so the owner's receipt list can show it to that token's holder and to no one else.
    pub sealed_receipt_key: Vec<u8>,
}

/// What applying an [`Operation`] does to the stored record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "short-lived values; boxing would allocate on every state change"
)]
pub enum Change {
    /// Store this new metadata; when it is final, delete the content in the same write.
    Update(SecretMeta),
    /// Nothing changes; the operation is refused for this reason.
    Refuse(Gone),
    /// Nothing to do now.
    Unchanged,
    /// Delete the whole record: content, metadata, receipt and index entries.
    Purge,
}

/// Everything the store keeps about a secret except its content. Holds no key and no plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretMeta {
    /// The receipt that belongs to this secret.
    pub receipt_id: ReceiptId,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it last changed state or was viewed.
    pub updated_at: Timestamp,
    /// The TTL requested at creation.
    pub ttl: Ttl,
    /// When the content stops being readable.
    pub expires_at: Timestamp,
    /// When the record (the receipt) is deleted.
    pub purge_at: Timestamp,
    /// How many views are allowed.
    pub view_limit: ViewLimit,
    /// How many views were taken.
    pub view_count: u32,
    /// Where it is in its life.
    pub lifecycle: Lifecycle,
    /// When its last view was taken, if it was.
    pub received_at: Option<Timestamp>,
    /// Whether reading needs a passphrase.
    pub has_passphrase: bool,
    /// The Burn the Secret option: the page asks for a click before revealing.
    pub one_click_retrieval: bool,
    /// The Burn the Secret option: the recipient may delete it after viewing.
    pub allow_deletion: bool,
    /// The secret key, sealed under a key derived from the receipt key (so only the receipt's
    /// holder can read it back).
    pub sealed_secret_key: Vec<u8>,
    /// Whether the sender has read the receipt since creating the secret.
    pub receipt_viewed: bool,
    /// Recipients named at creation, already obscured (`a***@example.com`).
    pub recipients: Vec<String>,
    /// The account that created it, if one did.
    pub owner: Option<Ownership>,
    /// Recent wrong passphrases (within the lockout window).
    pub passphrase_failures: Vec<Timestamp>,
    /// Passphrase attempts are refused until then.
    pub locked_until: Option<Timestamp>,
    /// Set for a file secret: its contents are a blob, its sealed content the blob's key.
    /// (Records written before files existed decode with it absent.)
    pub file: Option<StoredFile>,
    /// The content was encrypted by the sender's client with a key the server never holds (see
    /// `docs/end-to-end.md`): the server keeps and returns it as sent. (Records written before
    /// end-to-end secrets decode with it false.)
    pub end_to_end: bool,
    /// The id of the master key the secret was made under, so `burnbox master-key retire` can
    /// tell what still needs a key. (Last field: records written before it decode with
    /// [`UNKNOWN_KEY_ID`].)
    pub key_id: u32,
}

/// The key id of a record or API key made before they kept one: it may need any master key.
pub const UNKNOWN_KEY_ID: u32 = 0;

impl SecretMeta {
    /// The state at `now`: a live secret whose TTL passed is expired even before a sweep.
    pub fn lifecycle_at(&self, now: Timestamp) -> Lifecycle {
        match self.lifecycle {
            Lifecycle::Live if now >= self.expires_at => Lifecycle::Expired,
            other => other,
        }
    }

    /// Why it cannot be read at `now`, or `None` while it can.
    pub fn gone_at(&self, now: Timestamp) -> Option<Gone> {
        match self.lifecycle_at(now) {
            Lifecycle::Live => None,
            Lifecycle::Received => Some(Gone::MaxViewsReached),
            Lifecycle::Burned => Some(Gone::Burned),
            Lifecycle::Expired => Some(Gone::Expired),
        }
    }

    /// Views left, `None` when unlimited.
    pub fn views_remaining(&self) -> Option<u32> {
        self.view_limit
            .as_option()
            .map(|max| u32::from(max).saturating_sub(self.view_count))
    }

    /// The next instant the sweeper must look at this record.
    pub fn deadline(&self) -> Timestamp {
        match self.lifecycle {
            Lifecycle::Live => self.expires_at,
            _ => self.purge_at,
        }
    }

    /// Until when passphrase attempts are refused, if they are at `now`.
    pub fn locked_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.locked_until.filter(|until| *until > now)
    }

    /// Wrong passphrases it takes under `policy` to lock the secret at `now` (0 while locked).
    pub fn passphrase_tries_left(&self, policy: LockoutPolicy, now: Timestamp) -> u32 {
        if self.locked_at(now).is_some() {
            return 0;
        }
        let since = Timestamp::from_millis(now.as_millis().saturating_sub(policy.window_ms));
        let recent = self
            .passphrase_failures
            .iter()
            .filter(|at| **at > since)
            .count();
        policy
            .max_failures
            .saturating_sub(u32::try_from(recent).unwrap_or(u32::MAX))
    }

    /// Orders versions of one record: every change takes a view or makes the state final, so a
    /// larger revision is a newer record.
    pub fn revision(&self) -> (bool, u32, bool, Timestamp) {
        (
            self.is_final(),
            self.view_count,
            self.receipt_viewed,
            self.updated_at,
        )
    }

    /// Whether the content is gone for good in this state (it must be deleted).
    pub fn is_final(&self) -> bool {
        self.lifecycle != Lifecycle::Live
    }

    /// What `op` at `now` does to this record.
    pub fn apply(&self, op: Operation, now: Timestamp) -> Change {
        if now >= self.purge_at {
            return match op {
                Operation::Sweep => Change::Purge,
                _ => Change::Refuse(self.gone_at(now).unwrap_or(Gone::Expired)),
            };
        }
        if let Some(gone) = self.gone_at(now) {
            return match (op, self.lifecycle) {
                (Operation::Sweep, Lifecycle::Live) => {
                    Change::Update(self.with(Lifecycle::Expired, now))
                }
                (Operation::Sweep | Operation::ViewReceipt | Operation::FailPassphrase(_), _) => {
                    Change::Unchanged
                }
                _ => Change::Refuse(gone),
            };
        }
        match op {
            Operation::Sweep => Change::Unchanged,
            Operation::ViewReceipt if self.receipt_viewed => Change::Unchanged,
            Operation::ViewReceipt => Change::Update(Self {
                receipt_viewed: true,
                updated_at: now,
                ..self.clone()
            }),
            Operation::FailPassphrase(policy) => {
                let mut next = self.clone();
                let since =
                    Timestamp::from_millis(now.as_millis().saturating_sub(policy.window_ms));
                next.passphrase_failures.retain(|at| *at > since);
                next.passphrase_failures.push(now);
                if next.passphrase_failures.len() >= policy.max_failures as usize {
                    next.locked_until = Some(now.plus_millis(policy.lock_ms));
                    next.passphrase_failures.clear();
                }
                next.updated_at = now;
                Change::Update(next)
            }
            Operation::Burn => Change::Update(self.with(Lifecycle::Burned, now)),
            Operation::TakeView => {
                let mut next = self.clone();
                next.view_count = next.view_count.saturating_add(1);
                next.updated_at = now;
                if next.views_remaining() == Some(0) {
                    next.lifecycle = Lifecycle::Received;
                    next.received_at = Some(now);
                    next.forget_file_details();
                }
                Change::Update(next)
            }
        }
    }

    /// The record in a final `lifecycle` from `now`.
    fn with(&self, lifecycle: Lifecycle, now: Timestamp) -> Self {
        let mut next = Self {
            lifecycle,
            updated_at: now,
            ..self.clone()
        };
        next.forget_file_details();
        next
    }

    /// A file's name and type go with its content: only its size stays on the receipt.
    fn forget_file_details(&mut self) {
        if let Some(file) = &mut self.file {
            file.sealed_details = Vec::new();
        }
    }
}

impl SecretMeta {
    /// A live record created at `created` with a 30-minute TTL and a one-hour receipt, for tests
    /// (the storage conformance suite, which integration tests run against real servers).
    #[doc(hidden)]
    pub fn fixture(receipt_id: ReceiptId, created: Timestamp, views: ViewLimit) -> Self {
        let ttl = Ttl::parse(Some(1800), super::TtlRange::BURN_THE_SECRET)
            .unwrap_or_else(|_| unreachable!("valid ttl"));
        Self {
            receipt_id,
            created_at: created,
            updated_at: created,
            ttl,
            expires_at: created.plus_secs(1800),
            purge_at: created.plus_secs(3600),
            view_limit: views,
            view_count: 0,
            lifecycle: Lifecycle::Live,
            received_at: None,
            has_passphrase: false,
            one_click_retrieval: true,
            allow_deletion: true,
            sealed_secret_key: vec![],
            receipt_viewed: false,
            recipients: vec![],
            owner: None,
            passphrase_failures: vec![],
            locked_until: None,
            file: None,
            end_to_end: false,
            key_id: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(views: ViewLimit) -> SecretMeta {
        SecretMeta::fixture(
            ReceiptId::from_bytes([7; 32]),
            Timestamp::from_millis(1_000_000),
            views,
        )
    }

    fn update(step: Change) -> SecretMeta {
        match step {
            Change::Update(m) => m,
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn tries_left_count_down_to_the_lock_and_recover_with_the_window() {
        let policy = LockoutPolicy {
            lock_ms: 60_000,
            ..LockoutPolicy::DEFAULT
        };
        let mut meta = meta(ViewLimit::Limited(1));
        let mut now = Timestamp::from_millis(1_001_000);
        assert_eq!(meta.passphrase_tries_left(policy, now), 5);
        for left in (0..5).rev() {
            meta = update(meta.apply(Operation::FailPassphrase(policy), now));
            assert_eq!(meta.passphrase_tries_left(policy, now), left);
            now = now.plus_millis(1_000);
        }
        // Locked for a minute, then all tries are back, and one wrong guess does not lock
        // it again.
        let after = now.plus_millis(policy.lock_ms);
        assert_eq!(meta.passphrase_tries_left(policy, after), 5);
        let meta = update(meta.apply(Operation::FailPassphrase(policy), after));
        assert_eq!(meta.locked_at(after), None);
        assert_eq!(meta.passphrase_tries_left(policy, after), 4);
    }

    #[test]
    fn views_count_down_to_received() {
        let now = Timestamp::from_millis(1_000_500);
        let mut m = meta(ViewLimit::Limited(3));
        for expected in [2, 1, 0] {
            m = update(m.apply(Operation::TakeView, now));
            assert_eq!(m.views_remaining(), Some(expected));
        }
        assert_eq!(m.lifecycle, Lifecycle::Received);
        assert_eq!(m.received_at, Some(now));
        assert_eq!(
            m.apply(Operation::TakeView, now),
            Change::Refuse(Gone::MaxViewsReached)
        );
        assert_eq!(
            m.apply(Operation::Burn, now),
            Change::Refuse(Gone::MaxViewsReached)
        );
        assert_eq!(m.deadline(), m.purge_at);
    }

    #[test]
    fn unlimited_never_runs_out() {
        let now = Timestamp::from_millis(1_000_500);
        let mut m = meta(ViewLimit::Unlimited);
        for _ in 0..2000 {
            m = update(m.apply(Operation::TakeView, now));
        }
        assert_eq!(m.lifecycle, Lifecycle::Live);
        assert_eq!(m.views_remaining(), None);
    }

    #[test]
    fn expiry_is_checked_on_every_access() {
        let m = meta(ViewLimit::Limited(1));
        let after = m.expires_at;
        assert_eq!(m.lifecycle_at(after), Lifecycle::Expired);
        assert_eq!(
            m.apply(Operation::TakeView, after),
            Change::Refuse(Gone::Expired)
        );
        assert_eq!(
            m.apply(Operation::Burn, after),
            Change::Refuse(Gone::Expired)
        );
        let swept = update(m.apply(Operation::Sweep, after));
        assert_eq!(swept.lifecycle, Lifecycle::Expired);
        assert_eq!(swept.apply(Operation::Sweep, after), Change::Unchanged);
        assert_eq!(swept.apply(Operation::Sweep, m.purge_at), Change::Purge);
    }

    #[test]
    fn burn_is_final() {
        let now = Timestamp::from_millis(1_000_500);
        let burned = update(meta(ViewLimit::Limited(5)).apply(Operation::Burn, now));
        assert_eq!(burned.lifecycle, Lifecycle::Burned);
        assert!(burned.is_final());
        assert_eq!(
            burned.apply(Operation::TakeView, now),
            Change::Refuse(Gone::Burned)
        );
    }

    #[test]
    fn reading_the_receipt_marks_it_viewed_once() {
        let now = Timestamp::from_millis(1_000_500);
        let m = meta(ViewLimit::Limited(1));
        let viewed = update(m.apply(Operation::ViewReceipt, now));
        assert!(viewed.receipt_viewed && viewed.revision() > m.revision());
        assert_eq!(viewed.apply(Operation::ViewReceipt, now), Change::Unchanged);
        let burned = update(m.apply(Operation::Burn, now));
        assert_eq!(burned.apply(Operation::ViewReceipt, now), Change::Unchanged);
    }

    #[test]
    fn five_wrong_passphrases_lock_for_half_an_hour() {
        let policy = LockoutPolicy::DEFAULT;
        let mut m = meta(ViewLimit::Limited(1));
        let t0 = Timestamp::from_millis(1_000_000);
        for n in 0..4 {
            m = update(m.apply(Operation::FailPassphrase(policy), t0.plus_secs(n)));
            assert_eq!(m.locked_at(t0.plus_secs(n)), None);
        }
        m = update(m.apply(Operation::FailPassphrase(policy), t0.plus_secs(5)));
        assert_eq!(m.locked_at(t0.plus_secs(5)), Some(t0.plus_secs(1805)));
        assert_eq!(m.locked_at(t0.plus_secs(1805)), None, "the lock ends");
        assert_eq!(m.view_count, 0, "failures cost no view");
    }

    #[test]
    fn old_failures_do_not_count() {
        let policy = LockoutPolicy::DEFAULT;
        let mut m = meta(ViewLimit::Limited(1));
        let t0 = Timestamp::from_millis(1_000_000);
        for n in 0..4 {
            m = update(m.apply(Operation::FailPassphrase(policy), t0.plus_secs(n)));
        }
        m = update(m.apply(Operation::FailPassphrase(policy), t0.plus_secs(700)));
        assert_eq!(
            m.locked_at(t0.plus_secs(700)),
            None,
            "a fifth failure 10 minutes later does not lock"
        );
        assert_eq!(m.passphrase_failures.len(), 1);
    }

    #[test]
    fn sweep_leaves_live_secrets_alone() {
        let m = meta(ViewLimit::Limited(1));
        assert_eq!(
            m.apply(Operation::Sweep, Timestamp::from_millis(1_000_001)),
            Change::Unchanged
        );
    }
}
