//! The token-bucket rate limiter behind `limit rate`.
//!
//! The bucket gains `rate` tokens every `per_ns` nanoseconds and holds at
//! most one period's tokens plus the burst; it starts full. A packet costs
//! one token (or its length in bytes, for byte limits) and is *within* the
//! rate when the bucket holds that many tokens, which are then taken. A
//! limiter declared `over` inverts the answer, as `limit rate over` does in
//! nf_tables: tokens are still taken by packets within the rate.
//!
//! Token levels are kept multiplied by `per_ns` so that refills are exact
//! integer arithmetic whatever the rate. The state sits in a tiny critical
//! section (a spin lock held for a few arithmetic operations).

use super::SpinLock;
use crate::program::{LimitDecl, LimitUnit};

/// A token bucket shared by the threads running a program.
#[derive(Debug)]
pub struct Limiter {
    decl: LimitDecl,
    /// `per_ns`, at least 1: a token's worth of `Bucket::level`.
    token: u128,
    /// The most `Bucket::level` can be: one period's tokens and the burst.
    capacity: u128,
    state: SpinLock<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    /// Tokens times `per_ns`.
    level: u128,
    /// When `level` was last brought up to date.
    last_ns: u64,
}

impl Limiter {
    /// A full bucket for `decl`, as of time `now_ns`.
    pub fn new(decl: &LimitDecl, now_ns: u64) -> Limiter {
        let token = u128::from(decl.per_ns.max(1));
        let capacity = (u128::from(decl.rate) + u128::from(decl.burst)).saturating_mul(token);
        Limiter {
            decl: decl.clone(),
            token,
            capacity,
            state: SpinLock::new(Bucket {
                level: capacity,
                last_ns: now_ns,
            }),
        }
    }

    /// The declaration this limiter implements.
    pub fn decl(&self) -> &LimitDecl {
        &self.decl
    }

    /// Decides for one packet of `len` bytes at time `now_ns`: true when the
    /// rule goes on (within the rate, or over it for an `over` limiter).
    pub fn admit(&self, len: usize, now_ns: u64) -> bool {
        let cost = match self.decl.unit {
            LimitUnit::Packets => self.token,
            LimitUnit::Bytes => (len as u128).saturating_mul(self.token),
        };
        let within = self.state.with(|b| {
            let elapsed = u128::from(now_ns.saturating_sub(b.last_ns));
            b.last_ns = b.last_ns.max(now_ns);
            // At most (2^64 - 1)^2: no overflow.
            let refill = elapsed * u128::from(self.decl.rate);
            b.level = b.level.saturating_add(refill).min(self.capacity);
            if b.level >= cost {
                b.level -= cost;
                true
            } else {
                false
            }
        });
        within != self.decl.over
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Threads taking tokens at one instant take exactly the bucket's
    /// tokens between them, no more and no fewer.
    #[test]
    fn concurrent_packets_take_each_token_once() {
        let decl = LimitDecl {
            rate: 1000,
            per_ns: 1_000_000_000,
            burst: 24,
            unit: LimitUnit::Packets,
            over: false,
        };
        let limiter = Arc::new(Limiter::new(&decl, 5));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let limiter = limiter.clone();
                std::thread::spawn(move || (0..2000).filter(|_| limiter.admit(60, 5)).count())
            })
            .collect();
        let admitted: usize = threads
            .into_iter()
            .map(|t| t.join().expect("no panic"))
            .sum();
        assert_eq!(admitted, 1024);
        // A millisecond later, one more token.
        assert!(limiter.admit(60, 1_000_005));
        assert!(!limiter.admit(60, 1_000_005));
    }
}
