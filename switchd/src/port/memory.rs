//! In-memory ports for tests: a [`MemoryPort`] is the switch's side of a
//! simulated link, a [`MemoryPeer`] the test's side (inject frames, collect
//! what the switch sent). In the spirit of smoltcp's `phy` fault injector,
//! a link can drop or truncate frames, refuse frames over an MTU, and go
//! down and up again.
//!
//! Readiness is an eventfd, so workers poll memory ports exactly as they
//! poll AF_PACKET sockets. Clones of a `MemoryPort` share the link: several
//! workers take frames from one queue, as AF_PACKET fanout members do.

use super::{Port, PortError, TxBatch};
use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Faults a link injects into the frames the switch receives and sends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Faults {
    /// Drop every n-th frame sent to the switch (0: none).
    pub drop_every: u64,
    /// Cut frames sent to the switch to this many bytes (reported as
    /// truncated and dropped, as an AF_PACKET ring does).
    pub truncate_to: Option<usize>,
    /// Refuse to carry frames from the switch longer than this (an MTU).
    pub max_len: Option<usize>,
}

#[derive(Debug)]
struct Link {
    name: String,
    inbound: Mutex<VecDeque<Vec<u8>>>,
    outbound: Mutex<VecDeque<Vec<u8>>>,
    event: OwnedFd,
    faults: Faults,
    down: AtomicBool,
    injected: AtomicU64,
    rx_drops: AtomicU64,
}

impl Link {
    fn signal(&self) {
        let one = 1u64.to_ne_bytes();
        // SAFETY: writes 8 bytes from a live local buffer to our eventfd.
        // A full counter (EAGAIN) still leaves the fd readable, which is
        // all the signal means.
        unsafe { libc::write(self.event.as_raw_fd(), one.as_ptr().cast(), one.len()) };
    }

    fn drain_signal(&self) {
        let mut buf = [0u8; 8];
        // SAFETY: reads at most 8 bytes into a live local buffer from our
        // non-blocking eventfd; EAGAIN (nothing pending) is fine.
        unsafe { libc::read(self.event.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
    }

    fn down_error(&self) -> PortError {
        PortError::from_io(
            &self.name,
            "link",
            io::Error::from_raw_os_error(libc::ENETDOWN),
        )
    }
}

/// The switch's side of an in-memory link.
#[derive(Clone, Debug)]
pub struct MemoryPort {
    link: Arc<Link>,
    open: bool,
}

/// The test's side of an in-memory link.
#[derive(Clone, Debug)]
pub struct MemoryPeer {
    link: Arc<Link>,
}

/// A link named `name` with `faults`: the switch's end and the test's end.
pub fn link(name: &str, faults: Faults) -> io::Result<(MemoryPort, MemoryPeer)> {
    // SAFETY: eventfd(2) takes no pointers; the result is checked below.
    let raw = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a new descriptor that nothing else owns.
    let event = unsafe { OwnedFd::from_raw_fd(raw) };
    let link = Arc::new(Link {
        name: name.to_owned(),
        inbound: Mutex::default(),
        outbound: Mutex::default(),
        event,
        faults,
        down: AtomicBool::new(false),
        injected: AtomicU64::new(0),
        rx_drops: AtomicU64::new(0),
    });
    Ok((
        MemoryPort {
            link: link.clone(),
            open: false,
        },
        MemoryPeer { link },
    ))
}

impl MemoryPeer {
    /// Sends `frame` to the switch, through the link's faults.
    pub fn inject(&self, frame: &[u8]) {
        let l = &self.link;
        let n = l.injected.fetch_add(1, Ordering::Relaxed) + 1;
        if l.faults.drop_every != 0 && n.is_multiple_of(l.faults.drop_every) {
            return;
        }
        l.inbound
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back(frame.to_vec());
        l.signal();
    }

    /// The frames the switch sent on this link so far, oldest first.
    pub fn take(&self) -> Vec<Vec<u8>> {
        self.link
            .outbound
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect()
    }

    /// Takes the link down (`true`) or brings it back up.
    pub fn set_down(&self, down: bool) {
        self.link.down.store(down, Ordering::Relaxed);
        self.link.signal();
    }
}

impl Port for MemoryPort {
    fn name(&self) -> &str {
        &self.link.name
    }

    fn open(&mut self) -> Result<(), PortError> {
        if self.link.down.load(Ordering::Relaxed) {
            self.open = false;
            return Err(self.link.down_error());
        }
        self.open = true;
        Ok(())
    }

    fn close(&mut self) {
        self.open = false;
    }

    fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.open.then(|| self.link.event.as_fd())
    }

    fn check(&mut self) -> Result<(), PortError> {
        if self.link.down.load(Ordering::Relaxed) {
            return Err(self.link.down_error());
        }
        Ok(())
    }

    fn recv(&mut self, budget: usize, each: &mut dyn FnMut(&mut [u8])) -> Result<usize, PortError> {
        self.check()?;
        let l = &self.link;
        l.drain_signal();
        let mut n = 0;
        while n < budget {
            let Some(mut frame) = l
                .inbound
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop_front()
            else {
                return Ok(n);
            };
            if l.faults.truncate_to.is_some_and(|t| frame.len() > t) {
                l.rx_drops.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            each(&mut frame);
            n += 1;
        }
        if !l
            .inbound
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
        {
            l.signal();
        }
        Ok(n)
    }

    fn send(&mut self, batch: &TxBatch) -> Result<usize, PortError> {
        self.check()?;
        let max = self.link.faults.max_len.unwrap_or(usize::MAX);
        let mut out = self.link.outbound.lock().unwrap_or_else(|e| e.into_inner());
        let before = out.len();
        out.extend(batch.iter().filter(|f| f.len() <= max).map(<[u8]>::to_vec));
        Ok(out.len() - before)
    }

    fn take_rx_drops(&mut self) -> u64 {
        self.link.rx_drops.swap(0, Ordering::Relaxed)
    }
}
