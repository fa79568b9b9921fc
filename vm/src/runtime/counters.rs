//! Packet and byte counters shared between worker threads.
//!
//! A counter is two relaxed atomic adds per packet: exact under concurrency
//! (no increment is ever lost) and readable at any time without stopping the
//! threads that count. Counters live behind `Arc` so that a reload can hand
//! the counter of an unchanged rule to the new program.

use std::sync::atomic::{AtomicU64, Ordering};

/// A packet and byte counter.
///
/// `repr(C)`: the JIT's code adds to the two numbers in place, at offsets 0
/// and 8.
#[derive(Debug, Default)]
#[repr(C)]
pub struct Counter {
    packets: AtomicU64,
    bytes: AtomicU64,
}

/// The values of a counter at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CounterValue {
    /// Packets counted.
    pub packets: u64,
    /// Bytes counted (frame lengths).
    pub bytes: u64,
}

impl Counter {
    /// A counter at zero.
    pub fn new() -> Counter {
        Counter::default()
    }

    /// Counts one packet of `bytes` bytes.
    #[inline]
    pub fn add(&self, bytes: u64) {
        self.packets.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// The current values. The two numbers are read one after the other, so
    /// while packets are running the bytes may include a packet that the
    /// packet count does not yet (or the reverse); each number is exact.
    pub fn get(&self) -> CounterValue {
        CounterValue {
            packets: self.packets.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }
}
