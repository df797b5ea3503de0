//! How many WebSocket connections each client address holds.
//!
//! A slot is taken before the upgrade and given back when the connection ends (the
//! [`IpSlot`] guard drops), so a refused client never costs a socket task.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Open WebSocket connections per client address, capped at `max`.
#[derive(Debug)]
pub struct IpConnections {
    max: u32,
    open: Mutex<HashMap<IpAddr, u32>>,
}

/// One connection's place in the count; dropping it frees the place.
#[derive(Debug)]
pub struct IpSlot {
    owner: Arc<IpConnections>,
    ip: IpAddr,
}

impl IpConnections {
    /// A counter that lets each address hold `max` connections.
    pub fn new(max: u32) -> Arc<Self> {
        Arc::new(Self {
            max,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more connection from `ip`, or `None` when it holds `max` already.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Option<IpSlot> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let count = open.entry(ip).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(IpSlot {
            owner: Arc::clone(self),
            ip,
        })
    }

    /// Connections `ip` holds now.
    pub fn open(&self, ip: IpAddr) -> u32 {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.get(&ip).copied().unwrap_or(0)
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        let mut open = self
            .owner
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_address_is_capped_and_slots_come_back() {
        let limit = IpConnections::new(2);
        let a: IpAddr = "192.0.2.1".parse().expect("address");
        let b: IpAddr = "192.0.2.2".parse().expect("address");
        let first = limit.acquire(a).expect("first");
        let _second = limit.acquire(a).expect("second");
        assert!(limit.acquire(a).is_none());
        assert!(
            limit.acquire(b).is_some(),
            "another address is not affected"
        );
        drop(first);
        assert_eq!(limit.open(a), 1);
        assert!(limit.acquire(a).is_some());
    }
}
