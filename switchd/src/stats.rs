//! Packet counters: per port (received, sent, dropped) and per worker
//! (frames handled, time spent). Each worker writes only its own counters,
//! on cache lines of their own, with plain loads and stores (no locked
//! instructions); readers add up the workers' counters.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Adds `n` to a counter that only the calling worker writes.
fn bump(c: &AtomicU64, n: u64) {
    c.store(c.load(Ordering::Relaxed).wrapping_add(n), Ordering::Relaxed);
}

/// One worker's counters for one port.
#[derive(Debug, Default)]
pub struct PortCounters {
    rx_packets: AtomicU64,
    rx_bytes: AtomicU64,
    rx_drops: AtomicU64,
    tx_packets: AtomicU64,
    tx_bytes: AtomicU64,
    tx_drops: AtomicU64,
    filtered: AtomicU64,
}

impl PortCounters {
    /// Counts a frame received.
    pub fn received(&self, bytes: usize) {
        bump(&self.rx_packets, 1);
        bump(&self.rx_bytes, bytes as u64);
    }

    /// Counts frames lost on receive (ring full, truncated).
    pub fn rx_dropped(&self, n: u64) {
        bump(&self.rx_drops, n);
    }

    /// Counts frames sent.
    pub fn sent(&self, packets: usize, bytes: usize) {
        bump(&self.tx_packets, packets as u64);
        bump(&self.tx_bytes, bytes as u64);
    }

    /// Counts frames that could not be sent.
    pub fn tx_dropped(&self, n: usize) {
        bump(&self.tx_drops, n as u64);
    }

    /// Counts a received frame dropped by the ruleset or by L2 filtering.
    pub fn filtered(&self) {
        bump(&self.filtered, 1);
    }

    fn snapshot(&self) -> PortStats {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        PortStats {
            rx_packets: r(&self.rx_packets),
            rx_bytes: r(&self.rx_bytes),
            rx_drops: r(&self.rx_drops),
            tx_packets: r(&self.tx_packets),
            tx_bytes: r(&self.tx_bytes),
            tx_drops: r(&self.tx_drops),
            filtered: r(&self.filtered),
        }
    }
}

/// A port's counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PortStats {
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Frames lost on receive (ring full, truncated).
    pub rx_drops: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Frames that could not be sent (port down, too large, queue full).
    pub tx_drops: u64,
    /// Received frames dropped by the ruleset or by L2 filtering.
    pub filtered: u64,
}

impl std::ops::AddAssign for PortStats {
    fn add_assign(&mut self, o: PortStats) {
        self.rx_packets += o.rx_packets;
        self.rx_bytes += o.rx_bytes;
        self.rx_drops += o.rx_drops;
        self.tx_packets += o.tx_packets;
        self.tx_bytes += o.tx_bytes;
        self.tx_drops += o.tx_drops;
        self.filtered += o.filtered;
    }
}

/// One worker's counters. Aligned so that two workers never share a cache
/// line.
#[derive(Debug)]
#[repr(align(128))]
pub struct WorkerCounters {
    packets: AtomicU64,
    busy_ns: AtomicU64,
    batches: AtomicU64,
    ports: Box<[PortCounters]>,
}

impl WorkerCounters {
    /// Counters for a worker of a switch with `ports` ports.
    pub fn new(ports: usize) -> WorkerCounters {
        WorkerCounters {
            packets: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            batches: AtomicU64::new(0),
            ports: (0..ports).map(|_| PortCounters::default()).collect(),
        }
    }

    /// The counters of port `i`.
    pub fn port(&self, i: usize) -> &PortCounters {
        &self.ports[i]
    }

    /// Counts a batch of `packets` frames that took `ns` nanoseconds.
    pub fn batch(&self, packets: usize, ns: u64) {
        bump(&self.packets, packets as u64);
        bump(&self.busy_ns, ns);
        bump(&self.batches, 1);
    }

    /// The worker's totals now.
    pub fn snapshot(&self) -> WorkerStats {
        WorkerStats {
            packets: self.packets.load(Ordering::Relaxed),
            busy_ns: self.busy_ns.load(Ordering::Relaxed),
            batches: self.batches.load(Ordering::Relaxed),
        }
    }
}

/// A worker's totals at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkerStats {
    /// Frames handled.
    pub packets: u64,
    /// Time spent handling them, in nanoseconds (receive to send).
    pub busy_ns: u64,
    /// Batches handled.
    pub batches: u64,
}

impl WorkerStats {
    /// Average time per frame in nanoseconds, if any frame was handled.
    pub fn ns_per_packet(&self) -> Option<f64> {
        (self.packets > 0).then(|| self.busy_ns as f64 / self.packets as f64)
    }
}

/// All workers' counters, for readers.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    workers: Vec<Arc<WorkerCounters>>,
}

impl Stats {
    /// Creates the counters of a new worker and keeps a handle on them.
    pub fn add_worker(&mut self, ports: usize) -> Arc<WorkerCounters> {
        let w = Arc::new(WorkerCounters::new(ports));
        self.workers.push(w.clone());
        w
    }

    /// Per-worker totals, by worker.
    pub fn workers(&self) -> Vec<WorkerStats> {
        self.workers.iter().map(|w| w.snapshot()).collect()
    }

    /// Per-port totals over all workers, by port.
    pub fn ports(&self) -> Vec<PortStats> {
        let n = self.workers.first().map_or(0, |w| w.ports.len());
        let mut out = vec![PortStats::default(); n];
        for w in &self.workers {
            for (o, p) in out.iter_mut().zip(w.ports.iter()) {
                *o += p.snapshot();
            }
        }
        out
    }
}
