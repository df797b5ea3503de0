//! Password attempts, throttled per account and per client address.
//!
//! Each attempt takes a token from both the account's and the address's bucket before
//! the password is checked, and a successful login gives them back: only failures
//! count, yet a thousand concurrent guesses cannot all slip past the check while the
//! first ones are still being hashed. The buckets live in this node's memory; a
//! cluster of N nodes therefore allows up to N times the rate (see docs/SECURITY.md).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use super::bucket::{Rate, TokenBucket};

/// Keys tracked per map before full buckets are swept out.
const SWEEP_ABOVE: usize = 10_000;

/// Which login limit refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginLimit {
    Account,
    Address,
}

/// An attempt refused: by which limit, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub limit: LoginLimit,
    pub retry_after: Duration,
}

/// Buckets by key, forgotten once they have refilled.
#[derive(Debug)]
struct Buckets<K> {
    rate: Rate,
    map: Mutex<HashMap<K, TokenBucket>>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(rate: Rate) -> Self {
        Self {
            rate,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn take(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, bucket| !bucket.is_full(now));
        }
        let rate = self.rate;
        map.entry(key.clone())
            .or_insert_with(|| TokenBucket::new(rate, now))
            .take(now)
    }

    fn give_back(&self, key: &K) {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(bucket) = map.get_mut(key) {
            bucket.give_back();
        }
    }
}

/// The login throttle of one node.
#[derive(Debug)]
pub struct LoginThrottle {
    accounts: Buckets<String>,
    addresses: Buckets<IpAddr>,
}

/// An attempt that was let through; [`LoginAttempt::succeeded`] makes it not count.
#[must_use]
#[derive(Debug)]
pub struct LoginAttempt<'a> {
    throttle: &'a LoginThrottle,
    account: String,
    ip: IpAddr,
}

impl LoginThrottle {
    /// A throttle allowing `per_account` and `per_address` failed attempts per `window`.
    pub fn new(per_account: u32, per_address: u32, window: Duration) -> Self {
        Self {
            accounts: Buckets::new(Rate::per(per_account, window)),
            addresses: Buckets::new(Rate::per(per_address, window)),
        }
    }

    /// Lets an attempt on `username` from `ip` go ahead, or says which limit it hit.
    pub fn attempt(&self, username: &str, ip: IpAddr) -> Result<LoginAttempt<'_>, Throttled> {
        let now = Instant::now();
        let account = username.trim().to_lowercase();
        self.addresses
            .take(&ip, now)
            .map_err(|retry_after| Throttled {
                limit: LoginLimit::Address,
                retry_after,
            })?;
        if let Err(retry_after) = self.accounts.take(&account, now) {
            self.addresses.give_back(&ip);
            return Err(Throttled {
                limit: LoginLimit::Account,
                retry_after,
            });
        }
        Ok(LoginAttempt {
            throttle: self,
            account,
            ip,
        })
    }
}

impl LoginAttempt<'_> {
    /// The password was right: this attempt does not count against either limit.
    pub fn succeeded(self) {
        self.throttle.accounts.give_back(&self.account);
        self.throttle.addresses.give_back(&self.ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn failures_are_capped_per_account_whatever_the_address() {
        let throttle = LoginThrottle::new(2, 100, MINUTE);
        for i in 0..2 {
            let _failed = throttle.attempt("Anna", ip(i)).expect("allowed");
        }
        let refused = throttle
            .attempt(" anna ", ip(9))
            .expect_err("third failure");
        assert_eq!(refused.limit, LoginLimit::Account);
        assert!(refused.retry_after > Duration::from_secs(25));
        assert!(throttle.attempt("bertil", ip(9)).is_ok());
    }

    #[test]
    fn failures_are_capped_per_address_across_accounts() {
        let throttle = LoginThrottle::new(100, 3, MINUTE);
        for user in ["a", "b", "c"] {
            let _failed = throttle.attempt(user, ip(1)).expect("allowed");
        }
        let refused = throttle
            .attempt("d", ip(1))
            .expect_err("fourth from one address");
        assert_eq!(refused.limit, LoginLimit::Address);
        assert!(throttle.attempt("d", ip(2)).is_ok());
    }

    #[test]
    fn successful_logins_do_not_count() {
        let throttle = LoginThrottle::new(1, 1, MINUTE);
        for _ in 0..10 {
            throttle
                .attempt("anna", ip(1))
                .expect("allowed")
                .succeeded();
        }
        let _failed = throttle.attempt("anna", ip(1)).expect("allowed");
        assert!(throttle.attempt("anna", ip(1)).is_err());
    }
}
