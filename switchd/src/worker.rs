//! The worker loop: each worker polls its own handle on every port, runs
//! the classifier on each received frame, applies the decision (L2
//! switching for `accept`, `fwd`, `flood`, `dup`, `drop`, edits before
//! output), and sends what it produced in one batch per output port.
//!
//! The packet path allocates nothing once the batch buffers have grown to a
//! batch's size, and shares no lock with other workers except the MAC
//! table's read locks (see [`crate::l2::fdb`]). A port that fails is closed,
//! reported, and reopened with exponential backoff while the other ports
//! keep forwarding.

use crate::classify::{Classifier, PortNo};
use crate::l2::bridge::{Bridge, Switched};
use crate::l2::fdb::Millis;
use crate::port::{Port, PortError, TxBatch};
use crate::stats::WorkerCounters;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use vm::{Final, Outcome, apply_edits};

/// Most frames taken from one port in one round.
pub const BATCH: usize = 64;
/// First delay before reopening a failed port; it doubles up to
/// [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// Longest delay between two attempts to reopen a port.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How often kernel-side receive drops are collected.
const DROPS_EVERY: Duration = Duration::from_secs(1);

/// State the workers of a switch share.
#[derive(Debug)]
pub struct Shared {
    /// The L2 switch: port VLAN roles and the MAC table.
    pub bridge: Bridge,
    /// Set to make the workers return (signal handlers set it).
    pub stop: Arc<AtomicBool>,
    /// Workers that have made their first attempt to open every port.
    pub started: AtomicUsize,
    start: Instant,
}

impl Shared {
    /// Shared state around `bridge`; time starts now.
    pub fn new(bridge: Bridge) -> Shared {
        Shared {
            bridge,
            stop: Arc::new(AtomicBool::new(false)),
            started: AtomicUsize::new(0),
            start: Instant::now(),
        }
    }

    /// Milliseconds since the switch started: the MAC table's clock.
    pub fn millis(&self) -> Millis {
        self.start.elapsed().as_millis() as Millis
    }
}

/// When to try reopening a port that is down.
#[derive(Debug)]
struct Backoff {
    at: Instant,
    delay: Duration,
    reported: bool,
}

/// A port and, while it is down, when to retry it.
#[derive(Debug)]
struct Slot<P> {
    port: P,
    down: Option<Backoff>,
}

/// Everything the per-frame path touches, apart from the ports.
struct Forwarder<C> {
    classifier: C,
    outcome: Outcome,
    scratch: Vec<u8>,
    tx: Vec<TxBatch>,
    shared: Arc<Shared>,
    counters: Arc<WorkerCounters>,
    now: Millis,
}

impl<C: Classifier> Forwarder<C> {
    fn frame(&mut self, frame: &mut [u8], input: PortNo) {
        let Forwarder {
            classifier,
            outcome,
            scratch,
            tx,
            shared,
            counters,
            now,
        } = self;
        let counters = counters.port(input.index());
        counters.received(frame.len());
        classifier.classify(frame, input, outcome);
        for m in &outcome.mirrors {
            if let Some(p) = classifier.port(m.port).and_then(|p| tx.get_mut(p.index())) {
                p.push_with(|b| outcome.write_mirror(m, frame, b));
            }
        }
        let out: &[u8] = if outcome.edits.is_empty() {
            frame
        } else {
            scratch.clear();
            apply_edits(frame, &outcome.edits, scratch);
            scratch
        };
        match outcome.verdict {
            Final::Drop => counters.filtered(),
            Final::Fwd(id) => match classifier.port(id).and_then(|p| tx.get_mut(p.index())) {
                Some(batch) => batch.push(out),
                None => counters.filtered(),
            },
            Final::Flood => {
                for (i, batch) in tx.iter_mut().enumerate() {
                    if i != input.index() {
                        batch.push(out);
                    }
                }
            }
            Final::Accept => {
                let r = shared.bridge.switch(out, input, *now, |p, edits| {
                    tx[p.index()].push_with(|b| apply_edits(out, edits, b))
                });
                if r == Switched::Filtered {
                    counters.filtered();
                }
            }
        }
    }
}

/// One worker: a handle on every port, a classifier, and its counters.
pub struct Worker<P, C> {
    id: usize,
    slots: Vec<Slot<P>>,
    fwd: Forwarder<C>,
    pollfds: Vec<libc::pollfd>,
    polled: Vec<usize>,
    more: bool,
    drops_at: Instant,
}

impl<P: Port, C: Classifier> Worker<P, C> {
    /// Worker `id` over `ports` (indexed by [`PortNo`], not yet open: the
    /// first [`Worker::step`] opens them), deciding with `classifier`.
    pub fn new(
        id: usize,
        ports: Vec<P>,
        classifier: C,
        shared: Arc<Shared>,
        counters: Arc<WorkerCounters>,
    ) -> Worker<P, C> {
        let now = Instant::now();
        let n = ports.len();
        Worker {
            id,
            slots: ports
                .into_iter()
                .map(|port| Slot {
                    port,
                    down: Some(Backoff {
                        at: now,
                        delay: FIRST_BACKOFF,
                        reported: false,
                    }),
                })
                .collect(),
            fwd: Forwarder {
                classifier,
                outcome: Outcome::new(),
                scratch: Vec::new(),
                tx: (0..n).map(|_| TxBatch::default()).collect(),
                shared,
                counters,
                now: 0,
            },
            pollfds: Vec::with_capacity(n),
            polled: Vec::with_capacity(n),
            more: false,
            drops_at: now,
        }
    }

    /// Runs until [`Shared::stop`] is set.
    pub fn run(mut self) {
        tracing::debug!(worker = self.id, "worker started");
        // Open the ports before saying so: frames that arrive before a
        // port's socket exists are never seen.
        self.reopen_due(Instant::now());
        self.fwd.shared.started.fetch_add(1, Ordering::SeqCst);
        while !self.fwd.shared.stop.load(Ordering::Relaxed) {
            self.step(Duration::from_millis(100));
        }
        tracing::debug!(worker = self.id, "worker stopped");
    }

    /// One round: reopens ports that are due, waits up to `timeout` for
    /// frames, handles up to a batch from each port and sends the results.
    /// Returns the number of frames received.
    pub fn step(&mut self, timeout: Duration) -> usize {
        let now = Instant::now();
        self.reopen_due(now);
        self.wait(now, timeout);
        self.fwd.classifier.begin_batch(&mut self.fwd.outcome);
        self.fwd.now = self.fwd.shared.millis();
        let start = Instant::now();
        let mut received = 0;
        self.more = false;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            if slot.down.is_some() {
                continue;
            }
            let fwd = &mut self.fwd;
            match slot
                .port
                .recv(BATCH, &mut |f| fwd.frame(f, PortNo(i as u16)))
            {
                Ok(n) => {
                    received += n;
                    self.more |= n == BATCH;
                }
                Err(e) => fail(self.id, i, slot, &self.fwd.shared, e),
            }
        }
        self.flush();
        self.fwd.classifier.end_batch();
        if received > 0 {
            let ns = start.elapsed().as_nanos() as u64;
            self.fwd.counters.batch(received, ns);
        }
        if now.duration_since(self.drops_at) >= DROPS_EVERY {
            self.drops_at = now;
            for (i, slot) in self.slots.iter_mut().enumerate() {
                self.fwd
                    .counters
                    .port(i)
                    .rx_dropped(slot.port.take_rx_drops());
            }
        }
        received
    }

    fn reopen_due(&mut self, now: Instant) {
        for slot in &mut self.slots {
            let Some(b) = &mut slot.down else { continue };
            if now < b.at {
                continue;
            }
            match slot.port.open() {
                Ok(()) => {
                    if b.reported {
                        tracing::info!(
                            port = slot.port.name(),
                            worker = self.id,
                            "port is up again"
                        );
                    }
                    slot.down = None;
                }
                Err(e) => {
                    if !b.reported {
                        tracing::warn!(worker = self.id, "{e}; retrying");
                        b.reported = true;
                    }
                    b.at = now + b.delay;
                    b.delay = (b.delay * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Polls the open ports; handles descriptors that report an error.
    fn wait(&mut self, now: Instant, timeout: Duration) {
        self.pollfds.clear();
        self.polled.clear();
        let mut timeout = if self.more { Duration::ZERO } else { timeout };
        for (i, slot) in self.slots.iter().enumerate() {
            match (&slot.down, slot.port.fd()) {
                (Some(b), _) => timeout = timeout.min(b.at.saturating_duration_since(now)),
                (None, Some(fd)) => {
                    self.pollfds.push(libc::pollfd {
                        fd: fd.as_raw_fd(),
                        events: libc::POLLIN,
                        revents: 0,
                    });
                    self.polled.push(i);
                }
                (None, None) => {}
            }
        }
        // Round up so a sub-millisecond timeout does not spin.
        let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        // SAFETY: `pollfds` is a live array of `len` pollfd structures that
        // the kernel updates in place.
        let r = unsafe {
            libc::poll(
                self.pollfds.as_mut_ptr(),
                self.pollfds.len() as libc::nfds_t,
                ms,
            )
        };
        if r <= 0 {
            return;
        }
        for (pfd, &i) in self.pollfds.iter().zip(&self.polled) {
            if pfd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                let slot = &mut self.slots[i];
                if let Err(e) = slot.port.check() {
                    fail(self.id, i, slot, &self.fwd.shared, e);
                }
            }
        }
    }

    /// Sends every port's batch and counts what was sent and dropped.
    fn flush(&mut self) {
        for (i, (slot, batch)) in self.slots.iter_mut().zip(&mut self.fwd.tx).enumerate() {
            if batch.is_empty() {
                continue;
            }
            let counters = self.fwd.counters.port(i);
            let sent = match &slot.down {
                Some(_) => 0,
                None => match slot.port.send(batch) {
                    Ok(n) => n,
                    Err(e) => {
                        fail(self.id, i, slot, &self.fwd.shared, e);
                        0
                    }
                },
            };
            let bytes = if sent == batch.len() {
                batch.bytes()
            } else {
                batch.iter().take(sent).map(<[u8]>::len).sum()
            };
            counters.sent(sent, bytes);
            counters.tx_dropped(batch.len() - sent);
            batch.clear();
        }
    }
}

/// Takes a failed port out of service until its backoff expires, and
/// forgets the stations learned on it.
fn fail<P: Port>(worker: usize, i: usize, slot: &mut Slot<P>, shared: &Shared, e: PortError) {
    tracing::warn!(worker, "{e}; retrying in {FIRST_BACKOFF:?}");
    slot.port.close();
    slot.down = Some(Backoff {
        at: Instant::now() + FIRST_BACKOFF,
        delay: FIRST_BACKOFF * 2,
        reported: true,
    });
    shared.bridge.fdb().forget_port(PortNo(i as u16));
}
