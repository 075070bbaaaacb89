//! How many connections each client address holds, so one address cannot take them all.

use std::net::IpAddr;
use std::sync::Arc;

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

/// Open connections per client address, capped.
#[derive(Clone)]
pub struct PerClient {
    open: Arc<DashMap<IpAddr, usize>>,
    cap: usize,
    uncapped: Arc<[IpAddr]>,
}

/// One admitted connection; dropping it frees the slot.
pub struct Slot {
    open: Arc<DashMap<IpAddr, usize>>,
    ip: Option<IpAddr>,
}

impl PerClient {
    /// At most `cap` connections per address, except from `uncapped` ones.
    pub fn new(cap: usize, uncapped: Vec<IpAddr>) -> Self {
        Self {
            open: Arc::new(DashMap::new()),
            cap,
            uncapped: uncapped.into(),
        }
    }

    /// A slot for a connection from `ip`, or `None` when that address holds its cap already.
    pub fn admit(&self, ip: IpAddr) -> Option<Slot> {
        let ip = canonical(ip);
        if self.uncapped.contains(&ip) {
            return Some(Slot {
                open: Arc::clone(&self.open),
                ip: None,
            });
        }
        match self.open.entry(ip) {
            Entry::Occupied(held) if *held.get() >= self.cap => return None,
            Entry::Occupied(mut held) => *held.get_mut() += 1,
            Entry::Vacant(free) => {
                free.insert(1);
            }
        }
        Some(Slot {
            open: Arc::clone(&self.open),
            ip: Some(ip),
        })
    }
}

/// An IPv4 client seen through an IPv6 socket counts as its IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(ip) = self.ip {
            self.open.remove_if_mut(&ip, |_, held| {
                *held -= 1;
                *held == 0
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_cap_and_slots_come_back_when_dropped() {
        let per_client = PerClient::new(2, vec!["10.0.0.9".parse().expect("ip")]);
        let client: IpAddr = "192.0.2.1".parse().expect("ip");
        let first = per_client.admit(client).expect("first");
        let _second = per_client.admit(client).expect("second");
        assert!(per_client.admit(client).is_none(), "third refused");
        assert!(
            per_client.admit("192.0.2.2".parse().expect("ip")).is_some(),
            "another address has its own cap"
        );
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("ip");
        assert!(
            per_client.admit(mapped).is_none(),
            "the same client over IPv6"
        );
        drop(first);
        assert!(
            per_client.admit(client).is_some(),
            "a freed slot is taken again"
        );
        let proxy: IpAddr = "10.0.0.9".parse().expect("ip");
        let held: Vec<_> = (0..10).filter_map(|_| per_client.admit(proxy)).collect();
        assert_eq!(held.len(), 10, "a trusted proxy is not capped");
    }
}
