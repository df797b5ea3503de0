//! Password attempts: a growing delay per account *and* address, a budget per address,
//! and a bound on everything remembered.
//!
//! Issue 13 found two faults in the first version. Five wrong passwords from anywhere
//! locked an account for everyone, so a stranger could keep a colleague out; now the
//! count is per (account, address) pair: after `free_failures` failures from one address
//! that address must wait before its next try on that account, a wait that doubles with
//! each further failure ([`LoginPolicy::delay_after`]) but never becomes a lock. The
//! account's owner, from their own address, is not slowed at all. Spraying many
//! accounts from one address is still capped by the address's token bucket.
//!
//! And the limiter kept every username it was sent, whole: 4 MB usernames grew memory
//! by 80–110 MB a minute from one address. Now the handler refuses oversized fields
//! before the throttle sees them, the throttle keys accounts by a SHA-256 of the
//! normalised name (32 bytes whatever was sent), IPv6 addresses by their /64 (one
//! machine has a whole /64 to rotate through), and each map holds at most
//! [`LoginPolicy::max_tracked`] entries: expired ones are swept first, then the least
//! recently used half. Evicting a pair only forgets its delay; an attacker who can fill
//! the map from many addresses gains that, and still pays the per-address budget.
//!
//! An attempt counts as a failure from the moment it is let through and is forgiven when
//! the password turns out right, so a thousand concurrent guesses cannot slip past the
//! check while the first ones are still being hashed. The state lives in this node's
//! memory; a cluster of N nodes allows up to N times the rate (see docs/SECURITY.md).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::bucket::{Rate, TokenBucket};

/// Default most pairs or addresses remembered per map: a few MB at most.
pub const DEFAULT_MAX_TRACKED: usize = 50_000;
/// Longest wait a run of failures can build up.
pub const MAX_LOGIN_DELAY: Duration = Duration::from_secs(15 * 60);

/// Which login limit refused an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginLimit {
    /// This account, from this address, must wait after its failures.
    Account,
    /// This address has spent its failures across accounts.
    Address,
}

/// An attempt refused: by which limit, and when to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub limit: LoginLimit,
    pub retry_after: Duration,
}

/// The rules, apart from the state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoginPolicy {
    /// Failures on one account from one address before any delay.
    pub free_failures: u32,
    /// The first delay; each further failure doubles it, up to [`MAX_LOGIN_DELAY`] (or
    /// this delay, if longer).
    pub first_delay: Duration,
    /// Failures per `window` from one address, whatever the accounts.
    pub per_address: u32,
    /// The address budget's window, and how long a pair's failures are remembered once
    /// its delay has passed.
    pub window: Duration,
    /// Most entries per map.
    pub max_tracked: usize,
}

impl LoginPolicy {
    /// The wait after `failures` failures (0 while they are within the free ones).
    pub fn delay_after(&self, failures: u32) -> Duration {
        let Some(beyond) = failures.checked_sub(self.free_failures) else {
            return Duration::ZERO;
        };
        let cap = MAX_LOGIN_DELAY.max(self.first_delay);
        self.first_delay
            .saturating_mul(1u32 << beyond.min(20))
            .min(cap)
    }
}

/// Failures of one account from one address.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// When this address may try this account again.
    fn next_try(&self, policy: &LoginPolicy) -> Instant {
        self.last + policy.delay_after(self.count)
    }

    /// Whether forgetting the failures changes nothing any more.
    fn expired(&self, policy: &LoginPolicy, now: Instant) -> bool {
        now >= self.next_try(policy) + policy.window
    }
}

/// An account and an address: the key of the delay.
type PairKey = ([u8; 32], IpAddr);

/// A map that never holds more than `max` entries.
#[derive(Debug)]
struct Bounded<K, V> {
    map: HashMap<K, (V, Instant)>,
}

impl<K: Hash + Eq + Copy, V> Bounded<K, V> {
    fn new() -> Self {
        Self {
            map: HashMap::new(),
        }
    }

    /// The entry for `key`, made with `make` if absent; makes room first when full, by
    /// dropping what `expired` says is stale and then the least recently used half.
    fn entry(
        &mut self,
        key: K,
        now: Instant,
        max: usize,
        make: impl FnOnce() -> V,
        mut expired: impl FnMut(&mut V) -> bool,
    ) -> &mut V {
        if !self.map.contains_key(&key) && self.map.len() >= max.max(1) {
            self.map.retain(|_, (value, _)| !expired(value));
            if self.map.len() >= max.max(1) {
                let mut used: Vec<Instant> = self.map.values().map(|(_, at)| *at).collect();
                let middle = used.len() / 2;
                let (_, median, _) = used.select_nth_unstable(middle);
                let median = *median;
                self.map.retain(|_, (_, at)| *at > median);
            }
        }
        let slot = self.map.entry(key).or_insert_with(|| (make(), now));
        slot.1 = now;
        &mut slot.0
    }

    fn remove(&mut self, key: &K) {
        self.map.remove(key);
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// The login throttle of one node.
#[derive(Debug)]
pub struct LoginThrottle {
    policy: LoginPolicy,
    pairs: Mutex<Bounded<PairKey, Failures>>,
    addresses: Mutex<Bounded<IpAddr, TokenBucket>>,
}

/// An attempt that was let through; [`LoginAttempt::succeeded`] makes it not count.
#[must_use]
#[derive(Debug)]
pub struct LoginAttempt<'a> {
    throttle: &'a LoginThrottle,
    pair: PairKey,
}

impl LoginThrottle {
    /// A throttle with these rules and nothing remembered.
    pub fn new(policy: LoginPolicy) -> Self {
        Self {
            policy,
            pairs: Mutex::new(Bounded::new()),
            addresses: Mutex::new(Bounded::new()),
        }
    }

    /// Lets an attempt on `username` from `ip` go ahead, or says which limit it hit.
    pub fn attempt(&self, username: &str, ip: IpAddr) -> Result<LoginAttempt<'_>, Throttled> {
        self.attempt_at(username, ip, Instant::now())
    }

    fn attempt_at(
        &self,
        username: &str,
        ip: IpAddr,
        now: Instant,
    ) -> Result<LoginAttempt<'_>, Throttled> {
        let policy = self.policy;
        let ip = address_key(ip);
        let pair = (account_key(username), ip);
        let mut pairs = self.pairs.lock().unwrap_or_else(PoisonError::into_inner);
        let failures = pairs.entry(
            pair,
            now,
            policy.max_tracked,
            || Failures {
                count: 0,
                last: now,
            },
            |f| f.expired(&policy, now),
        );
        if failures.expired(&policy, now) {
            failures.count = 0;
        }
        let next_try = failures.next_try(&policy);
        if now < next_try {
            return Err(Throttled {
                limit: LoginLimit::Account,
                retry_after: next_try - now,
            });
        }
        let rate = Rate::per(policy.per_address, policy.window);
        let mut addresses = self
            .addresses
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        addresses
            .entry(
                ip,
                now,
                policy.max_tracked,
                || TokenBucket::new(rate, now),
                |bucket| bucket.is_full(now),
            )
            .take(now)
            .map_err(|retry_after| Throttled {
                limit: LoginLimit::Address,
                retry_after,
            })?;
        failures.count = failures.count.saturating_add(1);
        failures.last = now;
        Ok(LoginAttempt {
            throttle: self,
            pair,
        })
    }

    /// Pairs and addresses remembered now (each map is bounded by `max_tracked`).
    pub fn tracked(&self) -> (usize, usize) {
        let pairs = self.pairs.lock().unwrap_or_else(PoisonError::into_inner);
        let addresses = self
            .addresses
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        (pairs.len(), addresses.len())
    }
}

impl LoginAttempt<'_> {
    /// The password was right: the pair's failures are forgotten and the address gets
    /// its token back.
    pub fn succeeded(self) {
        let throttle = self.throttle;
        throttle
            .pairs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.pair);
        let mut addresses = throttle
            .addresses
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some((bucket, _)) = addresses.map.get_mut(&self.pair.1) {
            bucket.give_back();
        }
    }
}

/// A fixed-size key for an account name, compared trimmed and lower-cased.
fn account_key(username: &str) -> [u8; 32] {
    Sha256::digest(username.trim().to_lowercase().as_bytes()).into()
}

/// IPv4 addresses as they are; IPv6 by their /64, which one client usually holds whole.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: Duration = Duration::from_secs(60);

    fn policy(free_failures: u32, per_address: u32) -> LoginPolicy {
        LoginPolicy {
            free_failures,
            first_delay: Duration::from_secs(1),
            per_address,
            window: MINUTE,
            max_tracked: DEFAULT_MAX_TRACKED,
        }
    }

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn the_delay_doubles_after_the_free_failures_and_is_capped() {
        let p = policy(3, 100);
        let delays: Vec<u64> = (0..7).map(|n| p.delay_after(n).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 1, 2, 4, 8]);
        assert_eq!(p.delay_after(40), MAX_LOGIN_DELAY);
    }

    #[test]
    fn failures_slow_the_pair_down_step_by_step() {
        let throttle = LoginThrottle::new(policy(2, 100));
        let t0 = Instant::now();
        for _ in 0..2 {
            let _failed = throttle.attempt_at("Anna", ip(1), t0).expect("free");
        }
        let refused = throttle
            .attempt_at(" anna ", ip(1), t0)
            .expect_err("a delay now");
        assert_eq!(refused.limit, LoginLimit::Account);
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        let t1 = t0 + Duration::from_secs(1);
        let _failed = throttle.attempt_at("anna", ip(1), t1).expect("waited");
        let refused = throttle.attempt_at("anna", ip(1), t1).expect_err("longer");
        assert_eq!(refused.retry_after, Duration::from_secs(2), "it grew");
        // Long after, the failures are forgotten.
        let later = t1 + Duration::from_secs(2) + MINUTE;
        for _ in 0..2 {
            let _failed = throttle.attempt_at("anna", ip(1), later).expect("fresh");
        }
    }

    #[test]
    fn a_stranger_does_not_slow_the_owner_from_their_own_address() {
        let throttle = LoginThrottle::new(policy(2, 100));
        let now = Instant::now();
        for _ in 0..2 {
            let _failed = throttle.attempt_at("anna", ip(66), now).expect("free");
        }
        assert!(throttle.attempt_at("anna", ip(66), now).is_err());
        throttle
            .attempt_at("anna", ip(1), now)
            .expect("the owner's address is untouched")
            .succeeded();
    }

    #[test]
    fn failures_are_capped_per_address_across_accounts() {
        let throttle = LoginThrottle::new(policy(100, 3));
        let now = Instant::now();
        for user in ["a", "b", "c"] {
            let _failed = throttle.attempt_at(user, ip(1), now).expect("allowed");
        }
        let refused = throttle
            .attempt_at("d", ip(1), now)
            .expect_err("fourth from one address");
        assert_eq!(refused.limit, LoginLimit::Address);
        assert!(throttle.attempt_at("d", ip(2), now).is_ok());
    }

    #[test]
    fn successful_logins_do_not_count() {
        let throttle = LoginThrottle::new(policy(1, 1));
        for _ in 0..10 {
            throttle
                .attempt("anna", ip(1))
                .expect("allowed")
                .succeeded();
        }
        let _failed = throttle.attempt("anna", ip(1)).expect("allowed");
        assert!(throttle.attempt("anna", ip(1)).is_err());
    }

    #[test]
    fn what_is_remembered_stays_bounded() {
        let throttle = LoginThrottle::new(LoginPolicy {
            max_tracked: 1_000,
            ..policy(5, u32::MAX)
        });
        let now = Instant::now();
        let long = "x".repeat(4096);
        for i in 0..20_000u32 {
            let address = IpAddr::from(i.to_be_bytes());
            let _failed = throttle
                .attempt_at(&format!("{long}{i}"), address, now)
                .expect("allowed");
            let (pairs, addresses) = throttle.tracked();
            assert!(pairs <= 1_000 && addresses <= 1_000, "{pairs} {addresses}");
        }
    }

    #[test]
    fn an_ipv6_client_is_one_address_per_64() {
        let a: IpAddr = "2001:6b0:1:2:aaaa::1".parse().expect("v6");
        let b: IpAddr = "2001:6b0:1:2:bbbb::2".parse().expect("v6");
        assert_eq!(address_key(a), address_key(b));
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().expect("v6");
        assert_eq!(address_key(mapped), ip(1));
    }
}
