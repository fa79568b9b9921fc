//! A spin lock for critical sections of a few arithmetic operations: a
//! rate limiter's bucket, which the kernel's `nft_limit` also keeps under a
//! spin lock.
//!
//! Taking it is one atomic read-modify-write and releasing it a plain
//! release store, where `std::sync::Mutex` does two read-modify-writes (its
//! release checks for sleeping waiters). A thread that finds it held spins
//! on plain loads for a while, then yields, so a holder that was preempted
//! gets the CPU back.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Spins before a waiter starts yielding its time slice.
const SPINS_BEFORE_YIELD: u32 = 64;

/// A value behind a spin lock.
pub struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through `with`, by one thread at a time
// (the lock's acquire and release order the accesses), so sharing the lock
// is sharing the value by moving it between threads: sound when `T: Send`.
unsafe impl<T: Send> Sync for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// An unlocked `value`.
    pub fn new(value: T) -> SpinLock<T> {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Runs `f` on the value with the lock held. Keep `f` short: waiters
    /// spin.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut spins = 0;
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            while self.locked.load(Ordering::Relaxed) {
                if spins < SPINS_BEFORE_YIELD {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
        }
        // Released when `f` returns or unwinds.
        let _held = Held(&self.locked);
        // SAFETY: the lock is held until `_held` drops, after `f`: no other
        // reference to the value exists meanwhile.
        f(unsafe { &mut *self.value.get() })
    }
}

impl<T> std::fmt::Debug for SpinLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SpinLock")
    }
}

/// Releases the lock when dropped.
struct Held<'a>(&'a AtomicBool);

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn increments_from_many_threads_all_count() {
        let lock = Arc::new(SpinLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..50_000 {
                        lock.with(|v| *v += 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("no panic");
        }
        assert_eq!(lock.with(|v| *v), 200_000);
    }

    #[test]
    fn a_panic_inside_releases_the_lock() {
        let lock = SpinLock::new(1);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            lock.with(|_| panic!("inside"));
        }));
        assert!(caught.is_err());
        assert_eq!(lock.with(|v| *v), 1);
    }
}
