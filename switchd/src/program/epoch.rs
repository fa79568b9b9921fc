//! Quiescence: knowing when every worker has finished the batches it began
//! under an older program.
//!
//! Each worker owns an [`Epoch`], a counter it bumps when it begins a batch
//! (odd: inside a batch) and again when it ends it (even: between
//! batches). It bumps before loading the current program, with a
//! sequentially consistent fence in between; the control side swaps the
//! program in, fences, and reads the counters ([`Epochs::quiesce`]). Either
//! the control side sees a worker's odd count, and waits until it changes
//! (that batch is over), or the worker's next load sees the new program.
//! So once `quiesce` returns, no worker runs the old program any more and
//! its counters are final.
//!
//! The cost on the packet path is two uncontended atomic adds per batch, on
//! a cache line of the worker's own.

use std::sync::atomic::{AtomicU64, Ordering, fence};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One worker's batch counter.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct Epoch(AtomicU64);

impl Epoch {
    /// Marks the start of a batch; call before loading the program.
    #[inline]
    pub fn enter(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    /// Marks the end of a batch.
    #[inline]
    pub fn leave(&self) {
        self.0.fetch_add(1, Ordering::Release);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The epochs of all workers.
#[derive(Debug, Default)]
pub struct Epochs {
    all: Mutex<Vec<Arc<Epoch>>>,
}

impl Epochs {
    /// A new worker's epoch.
    pub fn register(&self) -> Arc<Epoch> {
        let e = Arc::new(Epoch::default());
        self.all
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(e.clone());
        e
    }

    /// Waits until every worker that was inside a batch when this was
    /// called has left it. Call after swapping a program in.
    pub fn quiesce(&self) {
        fence(Ordering::SeqCst);
        let all = self.all.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for e in all {
            let seen = e.get();
            if seen % 2 == 0 {
                continue;
            }
            let mut spins = 0u32;
            while e.get() == seen {
                spins += 1;
                if spins < 1000 {
                    std::hint::spin_loop();
                } else {
                    std::thread::sleep(Duration::from_micros(50));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn waits_for_the_batch_in_progress_only() {
        let epochs = Arc::new(Epochs::default());
        let idle = epochs.register();
        let busy = epochs.register();
        idle.enter();
        idle.leave();
        busy.enter();
        let done = Arc::new(AtomicBool::new(false));
        let t = {
            let (epochs, done) = (epochs.clone(), done.clone());
            std::thread::spawn(move || {
                epochs.quiesce();
                done.store(true, Ordering::SeqCst);
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!done.load(Ordering::SeqCst), "the busy worker is mid-batch");
        busy.leave();
        t.join().unwrap();
        assert!(done.load(Ordering::SeqCst));
    }
}
