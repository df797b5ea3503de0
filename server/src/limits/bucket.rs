//! A token bucket: `burst` tokens, refilled at `per_sec`.
//!
//! The one shape every limit here shares. A bucket is plain data with no clock of its
//! own (the caller passes `now`), so tests step time by hand.

use std::time::{Duration, Instant};

/// How fast a bucket refills and how much it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Tokens added per second.
    pub per_sec: f64,
    /// Tokens a full bucket holds: the largest burst allowed.
    pub burst: u32,
}

impl Rate {
    /// `count` per `window`, all of which may be spent at once.
    pub fn per(count: u32, window: Duration) -> Self {
        Self {
            per_sec: f64::from(count) / window.as_secs_f64().max(f64::EPSILON),
            burst: count,
        }
    }
}

/// A bucket of tokens; taking one is allowed while any is left.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    rate: Rate,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(rate: Rate, now: Instant) -> Self {
        Self {
            rate,
            tokens: f64::from(rate.burst),
            updated: now,
        }
    }

    /// Takes a token, or says how long until one is back.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        self.take_many(1, now)
    }

    /// Takes `count` tokens at once (the messages in one frame, the bytes of one
    /// message), or takes none and says how long until that many are back. More than a
    /// full bucket holds is never allowed.
    pub fn take_many(&mut self, count: u64, now: Instant) -> Result<(), Duration> {
        self.refill(now);
        let count = count as f64;
        if self.tokens >= count {
            self.tokens -= count;
            return Ok(());
        }
        if self.rate.per_sec <= 0.0 || count > f64::from(self.rate.burst) {
            return Err(Duration::MAX);
        }
        Err(Duration::from_secs_f64(
            (count - self.tokens) / self.rate.per_sec,
        ))
    }

    /// Returns a token taken for an attempt that turned out not to count.
    pub fn give_back(&mut self) {
        self.tokens = (self.tokens + 1.0).min(f64::from(self.rate.burst));
    }

    /// Whether the bucket has refilled completely, so forgetting it changes nothing.
    pub fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= f64::from(self.rate.burst)
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate.per_sec).min(f64::from(self.rate.burst));
        self.updated = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_sustained_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(
            Rate {
                per_sec: 10.0,
                burst: 3,
            },
            start,
        );
        for _ in 0..3 {
            assert!(bucket.take(start).is_ok());
        }
        let wait = bucket.take(start).expect_err("the burst is spent");
        assert!(wait <= Duration::from_millis(100) && wait > Duration::ZERO);
        assert!(bucket.take(start + Duration::from_millis(100)).is_ok());
        assert!(bucket.take(start + Duration::from_millis(100)).is_err());
        assert!(bucket.is_full(start + Duration::from_secs(1)));
    }

    #[test]
    fn a_token_given_back_can_be_taken_again() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(Rate::per(1, Duration::from_secs(60)), now);
        assert!(bucket.take(now).is_ok());
        let wait = bucket.take(now).expect_err("spent");
        assert!(wait > Duration::from_secs(59));
        bucket.give_back();
        assert!(bucket.take(now).is_ok());
    }

    #[test]
    fn many_tokens_are_taken_at_once_or_not_at_all() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(
            Rate {
                per_sec: 10.0,
                burst: 100,
            },
            now,
        );
        assert!(bucket.take_many(60, now).is_ok());
        assert!(bucket.take_many(60, now).is_err());
        assert!(bucket.take_many(40, now).is_ok());
        assert_eq!(bucket.take_many(101, now), Err(Duration::MAX));
    }

    #[test]
    fn a_zero_rate_never_refills() {
        let now = Instant::now();
        let mut bucket = TokenBucket::new(
            Rate {
                per_sec: 0.0,
                burst: 0,
            },
            now,
        );
        assert_eq!(bucket.take(now), Err(Duration::MAX));
    }
}
