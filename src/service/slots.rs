//! The slots of large bodies: file uploads and text secrets over [`LARGE_BODY_BYTES`] each hold
//! one while they arrive and are stored, so the memory, disk and connections they take are
//! bounded. Anonymous callers cannot take the share kept for API keys, and no one caller (an
//! address, or an account) can take more than its own share, so a few clients cannot lock
//! everyone else out of sending files.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::{Caller, ServiceError};

/// A text body over this many bytes needs a slot, as a file does.
pub const LARGE_BODY_BYTES: u64 = 1 << 20;

/// The slots of one node.
#[derive(Debug, Clone)]
pub struct UploadSlots {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    /// Slots in all.
    total: usize,
    /// Slots anonymous callers may hold together.
    anonymous_max: usize,
    /// Slots one caller may hold.
    per_caller_max: usize,
    taken: Mutex<Taken>,
}

#[derive(Debug, Default)]
struct Taken {
    all: usize,
    anonymous: usize,
    /// By the caller's rate key (an address, a /64 network or an account).
    by_caller: HashMap<String, usize>,
}

impl UploadSlots {
    /// `total` slots: a quarter (at least one, when there are two or more) kept for callers with
    /// an API key, and a quarter (at least one) the most one caller may hold.
    pub fn new(total: usize) -> Self {
        let total = total.max(1);
        let kept_for_keys = if total >= 2 { (total / 4).max(1) } else { 0 };
        Self {
            shared: Arc::new(Shared {
                total,
                anonymous_max: total - kept_for_keys,
                per_caller_max: (total / 4).max(1),
                taken: Mutex::new(Taken::default()),
            }),
        }
    }

    /// Takes a slot for `caller`, held until the returned [`UploadSlot`] is dropped.
    ///
    /// # Errors
    /// [`ServiceError::Busy`] when every slot the caller may use is taken.
    pub fn acquire(&self, caller: &Caller) -> Result<UploadSlot, ServiceError> {
        let anonymous = caller.email().is_none();
        let key = caller.rate_key();
        let shared = &self.shared;
        let mut taken = shared.taken.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = taken.by_caller.get(&key).copied().unwrap_or(0);
        if taken.all >= shared.total
            || (anonymous && taken.anonymous >= shared.anonymous_max)
            || mine >= shared.per_caller_max
        {
            return Err(ServiceError::Busy);
        }
        taken.all += 1;
        if anonymous {
            taken.anonymous += 1;
        }
        taken.by_caller.insert(key.clone(), mine + 1);
        Ok(UploadSlot {
            shared: Arc::clone(shared),
            key,
            anonymous,
        })
    }
}

/// One taken slot; dropping it frees it.
#[derive(Debug)]
pub struct UploadSlot {
    shared: Arc<Shared>,
    key: String,
    anonymous: bool,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut taken = self
            .shared
            .taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        taken.all = taken.all.saturating_sub(1);
        if self.anonymous {
            taken.anonymous = taken.anonymous.saturating_sub(1);
        }
        if let Some(count) = taken.by_caller.get_mut(&self.key) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                taken.by_caller.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ApiToken, Email, Scope, Tier};

    fn anonymous(ip: &str) -> Caller {
        Caller::Anonymous {
            ip: ip.parse().expect("address"),
        }
    }

    fn account(email: &str) -> Caller {
        Caller::Account {
            email: Email::parse(email).expect("address"),
            tier: Tier::Api,
            token: ApiToken::from_random_bytes([1; 32]),
            scope: Scope::Full,
        }
    }

    #[test]
    fn anonymous_callers_leave_the_keys_their_share() {
        let slots = UploadSlots::new(8);
        let held: Vec<_> = (0..6)
            .map(|n| slots.acquire(&anonymous(&format!("192.0.2.{n}"))))
            .collect::<Result<_, _>>()
            .expect("six anonymous slots");
        assert!(matches!(
            slots.acquire(&anonymous("192.0.2.99")),
            Err(ServiceError::Busy)
        ));
        let keyed = [
            slots.acquire(&account("a@example.com")),
            slots.acquire(&account("b@example.com")),
        ];
        assert!(keyed.iter().all(Result::is_ok), "the two kept for API keys");
        assert!(matches!(
            slots.acquire(&account("c@example.com")),
            Err(ServiceError::Busy)
        ));
        drop(held);
        assert!(slots.acquire(&anonymous("192.0.2.99")).is_ok());
    }

    #[test]
    fn one_caller_holds_a_quarter_at_most_and_gets_it_back() {
        let slots = UploadSlots::new(16);
        let mine: Vec<_> = (0..4)
            .map(|_| slots.acquire(&anonymous("2001:db8::1")))
            .collect::<Result<_, _>>()
            .expect("four");
        // Another address of the same /64 is the same caller.
        assert!(matches!(
            slots.acquire(&anonymous("2001:db8::2")),
            Err(ServiceError::Busy)
        ));
        assert!(slots.acquire(&anonymous("2001:db8:0:1::1")).is_ok());
        drop(mine);
        assert!(slots.acquire(&anonymous("2001:db8::2")).is_ok());
        let account_slots: Vec<_> = (0..4)
            .map(|_| slots.acquire(&account("a@example.com")))
            .collect::<Result<_, _>>()
            .expect("four");
        assert!(slots.acquire(&account("a@example.com")).is_err());
        assert_eq!(account_slots.len(), 4);
    }

    #[test]
    fn a_single_slot_is_anyones() {
        let slots = UploadSlots::new(1);
        let held = slots
            .acquire(&anonymous("192.0.2.1"))
            .expect("the one slot");
        assert!(slots.acquire(&account("a@example.com")).is_err());
        drop(held);
        assert!(slots.acquire(&account("a@example.com")).is_ok());
    }
}
