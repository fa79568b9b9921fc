//! Ports: where frames come from and go to. A worker holds one [`Port`]
//! handle per switch port; the daemon's are AF_PACKET sockets
//! ([`afpacket`]), the tests' are in-memory queues with fault injection
//! ([`memory`]). [`tpacket`] reads the kernel's TPACKET_V3 ring blocks.

pub mod afpacket;
pub mod memory;
pub mod tpacket;

use std::io;
use std::os::fd::BorrowedFd;

/// Why a port cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The interface is down or gone (ENETDOWN, ENXIO, ENODEV, ...): worth
    /// retrying later.
    #[error("port {port} is down: {source}")]
    Down {
        /// The interface name.
        port: String,
        /// What the kernel said.
        source: io::Error,
    },
    /// Any other failure of a system call on the port.
    #[error("port {port}: {op}: {source}")]
    Io {
        /// The interface name.
        port: String,
        /// The operation that failed.
        op: &'static str,
        /// What the kernel said.
        source: io::Error,
    },
}

impl PortError {
    /// Classifies the OS error `source` of `op` on `port`: the errors of a
    /// link that is down or gone become [`PortError::Down`].
    pub fn from_io(port: &str, op: &'static str, source: io::Error) -> PortError {
        let down = matches!(
            source.raw_os_error(),
            Some(libc::ENETDOWN | libc::ENXIO | libc::ENODEV | libc::ENETUNREACH | libc::ENOLINK)
        );
        let port = port.to_owned();
        if down {
            PortError::Down { port, source }
        } else {
            PortError::Io { port, op, source }
        }
    }

    /// Whether the port is down or gone (rather than failing otherwise).
    pub fn is_down(&self) -> bool {
        matches!(self, PortError::Down { .. })
    }
}

/// Frames waiting to be sent out of one port, in one buffer so that filling
/// it does not allocate once it has grown to a batch's size.
#[derive(Debug, Default)]
pub struct TxBatch {
    bytes: Vec<u8>,
    frames: Vec<(usize, usize)>,
}

impl TxBatch {
    /// Appends a frame that `write` appends to the buffer it is given.
    pub fn push_with(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.bytes.len();
        write(&mut self.bytes);
        self.frames.push((start, self.bytes.len() - start));
    }

    /// Appends a copy of `frame`.
    pub fn push(&mut self, frame: &[u8]) {
        self.push_with(|b| b.extend_from_slice(frame));
    }

    /// The frames, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u8]> {
        self.frames.iter().map(|&(s, l)| &self.bytes[s..s + l])
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// Whether there are no frames.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Bytes in all frames.
    pub fn bytes(&self) -> usize {
        self.bytes.len()
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        self.bytes.clear();
        self.frames.clear();
    }
}

/// One worker's handle on one switch port. Several workers' handles on the
/// same port share its load (the kernel spreads frames by flow hash).
pub trait Port: Send {
    /// The port's name.
    fn name(&self) -> &str;

    /// (Re)opens the port; an open port is closed first.
    fn open(&mut self) -> Result<(), PortError>;

    /// Closes the port; sends and receives fail until it is opened again.
    fn close(&mut self);

    /// The descriptor that polls readable when frames may be waiting, or
    /// `None` while the port is closed.
    fn fd(&self) -> Option<BorrowedFd<'_>>;

    /// The pending error of the port, when its descriptor polled an error.
    fn check(&mut self) -> Result<(), PortError>;

    /// Calls `each` with up to `budget` received frames, each complete and
    /// with its outer VLAN tag in place; returns how many. `each` may change
    /// the frame's bytes. Never blocks.
    fn recv(&mut self, budget: usize, each: &mut dyn FnMut(&mut [u8])) -> Result<usize, PortError>;

    /// Sends the frames of `batch`, without blocking; returns how many were
    /// sent (the others were dropped: too large for the link, or no room
    /// in the kernel's queue).
    fn send(&mut self, batch: &TxBatch) -> Result<usize, PortError>;

    /// Frames dropped on receive since the last call: lost by the kernel
    /// for want of room in the ring, or truncated.
    fn take_rx_drops(&mut self) -> u64;
}
