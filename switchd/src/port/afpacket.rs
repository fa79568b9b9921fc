//! AF_PACKET ports: one worker's sockets on one Linux interface.
//!
//! Receive: a `TPACKET_V3` memory-mapped ring (blocks of frames the kernel
//! fills and hands over whole; [`super::tpacket`] reads them), promiscuous
//! membership, `PACKET_IGNORE_OUTGOING` so the frames the switch itself
//! sends out of the interface are never read back as input, and
//! `PACKET_FANOUT_HASH` in one group per port so that the workers' sockets
//! on a port share its frames by flow.
//!
//! Transmit: a second socket, bound with protocol 0 so it receives nothing,
//! with `PACKET_QDISC_BYPASS`, sending a whole batch per `sendmmsg(2)` call
//! with `MSG_DONTWAIT` (what cannot be queued is dropped and counted, a
//! switch never blocks on one port). A `TPACKET_V2` transmit ring was
//! measured against it (60-byte frames between veth namespaces, 80k
//! frames/s, one worker, alternating runs): 3.0-7.4 us per frame for the
//! ring against 2.9-3.6 us for `sendmmsg`, no gain beyond the noise. The
//! profile says why: over 90% of the time is the kernel building, sending
//! and delivering the skb, which both methods do alike; the per-message
//! cost a ring saves is about 12%. `sendmmsg` stays: it sends frames of
//! any size (a ring's slots cap them), and reports each refused frame.
//!
//! The `afpacket` crate is not used: it has no rings, fanout, auxdata or
//! ignore-outgoing, and its descriptor owner is `Clone` (double close). All
//! system calls go through `libc` here.

use super::tpacket::{self, BLOCK_STATUS, HEADROOM};
use super::{Port, PortError, TxBatch};
use std::ffi::CString;
use std::io;
use std::mem::size_of;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

/// Shape of a receive ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingConfig {
    /// Bytes per block, a multiple of the page size. Frames longer than a
    /// block (less its headers) arrive truncated and are dropped.
    pub block_size: u32,
    /// Blocks in the ring.
    pub blocks: u32,
    /// How long the kernel keeps a partly filled block before handing it
    /// over, in milliseconds: the added latency at low rates.
    pub retire_ms: u32,
}

impl Default for RingConfig {
    /// 64 blocks of 128 KiB (8 MiB, about 50,000 small frames), retired
    /// after 1 ms. At low rates a block holds what 1 ms brings, so the
    /// ring covers a worker's absence of 64 ms (32 blocks lost frames in
    /// the tests when two workers, a sender and a receiver shared 2
    /// cores).
    fn default() -> Self {
        RingConfig {
            block_size: 1 << 17,
            blocks: 64,
            retire_ms: 1,
        }
    }
}

/// A memory-mapped ring, unmapped on drop.
#[derive(Debug)]
struct Ring {
    base: NonNull<u8>,
    len: usize,
    block_size: usize,
    blocks: usize,
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: `base`/`len` are exactly the mapping made in `open`, and
        // no slice into it outlives a `recv` call.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.len) };
    }
}

/// The sockets and ring of an open port.
#[derive(Debug)]
struct Open {
    rx: OwnedFd,
    tx: OwnedFd,
    ring: Ring,
    /// The block being read.
    block: usize,
    /// Frames left in the block being read and the offset of the next one,
    /// or `None` when the block has not been started.
    cursor: Option<(u32, usize)>,
    iovs: Vec<libc::iovec>,
    msgs: Vec<libc::mmsghdr>,
}

/// One worker's AF_PACKET handle on an interface.
#[derive(Debug)]
pub struct AfPacketPort {
    name: String,
    fanout_group: u16,
    ring: RingConfig,
    open: Option<Open>,
    rx_drops: u64,
}

// SAFETY: the raw pointers inside (the ring mapping and the scratch
// iovec/mmsghdr arrays) are owned by this value, used only through
// `&mut self`, and the scratch pointers are rewritten before each use; so
// moving the value to another thread is sound.
unsafe impl Send for AfPacketPort {}

fn last_error(name: &str, op: &'static str) -> PortError {
    PortError::from_io(name, op, io::Error::last_os_error())
}

/// `setsockopt(fd, level, opt, value)` for a plain-data `value`.
fn setopt<T>(fd: RawFd, level: i32, opt: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` is a live, initialised `T` and the length passed is
    // its size, so the kernel reads only memory we own.
    let r = unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `getsockopt(fd, level, opt)` for a C structure or integer `T`, for
/// which all zeroes is a valid value.
fn getopt<T>(fd: RawFd, level: i32, opt: i32) -> io::Result<T> {
    // SAFETY: only called with C plain-data types (integers, kernel
    // structures), valid when zeroed.
    let mut value: T = unsafe { std::mem::zeroed() };
    let mut len = size_of::<T>() as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `value`, which is
    // a live `T` of that size.
    let r = unsafe { libc::getsockopt(fd, level, opt, (&raw mut value).cast(), &mut len) };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(value)
}

fn packet_socket(name: &str) -> Result<OwnedFd, PortError> {
    // Protocol 0: the socket receives nothing until `bind` names one, so no
    // frame of another interface slips in while it is set up.
    // SAFETY: socket(2) takes no pointers; the result is checked.
    let raw = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        )
    };
    if raw < 0 {
        return Err(last_error(name, "socket(AF_PACKET)"));
    }
    // SAFETY: `raw` is a new descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn bind(fd: RawFd, name: &str, ifindex: i32, protocol: u16) -> Result<(), PortError> {
    // SAFETY: sockaddr_ll is plain data; all zeroes is a valid value.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = protocol.to_be();
    addr.sll_ifindex = ifindex;
    // SAFETY: `addr` is a live sockaddr_ll and the length is its size.
    let r = unsafe {
        libc::bind(
            fd,
            (&raw const addr).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(last_error(name, "bind"));
    }
    Ok(())
}

/// The interface's index, after checking that it exists and is up.
fn interface(fd: RawFd, name: &str) -> Result<i32, PortError> {
    let cname = CString::new(name).map_err(|_| {
        PortError::from_io(
            name,
            "interface name",
            io::Error::from_raw_os_error(libc::EINVAL),
        )
    })?;
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = cname.as_bytes_with_nul();
    if bytes.len() > req.ifr_name.len() {
        return Err(PortError::from_io(
            name,
            "interface name",
            io::Error::from_raw_os_error(libc::ENAMETOOLONG),
        ));
    }
    for (d, s) in req.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: `req` is a live ifreq with a NUL-terminated name; the kernel
    // writes the flags into it.
    if unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &raw mut req) } < 0 {
        return Err(last_error(name, "SIOCGIFFLAGS"));
    }
    // SAFETY: SIOCGIFFLAGS filled the `ifru_flags` member of the union.
    let flags = unsafe { req.ifr_ifru.ifru_flags };
    if flags & libc::IFF_UP as i16 == 0 {
        return Err(PortError::from_io(
            name,
            "link",
            io::Error::from_raw_os_error(libc::ENETDOWN),
        ));
    }
    // SAFETY: as above, now for SIOCGIFINDEX, which fills `ifru_ifindex`.
    if unsafe { libc::ioctl(fd, libc::SIOCGIFINDEX, &raw mut req) } < 0 {
        return Err(last_error(name, "SIOCGIFINDEX"));
    }
    // SAFETY: SIOCGIFINDEX filled the `ifru_ifindex` member.
    Ok(unsafe { req.ifr_ifru.ifru_ifindex })
}

impl AfPacketPort {
    /// A closed handle on interface `name`, joining fanout group
    /// `fanout_group` (the same for every worker's handle on this port, and
    /// different for every port) when opened.
    pub fn new(name: &str, fanout_group: u16, ring: RingConfig) -> AfPacketPort {
        AfPacketPort {
            name: name.to_owned(),
            fanout_group,
            ring,
            open: None,
            rx_drops: 0,
        }
    }

    fn open_sockets(&self) -> Result<Open, PortError> {
        let name = self.name.as_str();
        let err = |op| move |e| PortError::from_io(name, op, e);
        let rx = packet_socket(name)?;
        let fd = rx.as_raw_fd();
        let ifindex = interface(fd, name)?;
        setopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_VERSION,
            &(libc::tpacket_versions::TPACKET_V3 as libc::c_int),
        )
        .map_err(err("PACKET_VERSION"))?;
        setopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_RESERVE,
            &(HEADROOM as libc::c_uint),
        )
        .map_err(err("PACKET_RESERVE"))?;
        let r = self.ring;
        let req = libc::tpacket_req3 {
            tp_block_size: r.block_size,
            tp_block_nr: r.blocks,
            // Frames are packed in V3 blocks; this only has to divide the
            // block size.
            tp_frame_size: 2048,
            tp_frame_nr: r.block_size / 2048 * r.blocks,
            tp_retire_blk_tov: r.retire_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        setopt(fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req).map_err(err("PACKET_RX_RING"))?;
        let len = r.block_size as usize * r.blocks as usize;
        // SAFETY: maps the ring the kernel just allocated for `fd`; the
        // result is checked and owned by `Ring` (unmapped on drop).
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(last_error(name, "mmap"));
        }
        let ring = Ring {
            base: NonNull::new(base.cast()).ok_or_else(|| last_error(name, "mmap"))?,
            len,
            block_size: r.block_size as usize,
            blocks: r.blocks as usize,
        };
        setopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_IGNORE_OUTGOING,
            &(1 as libc::c_int),
        )
        .map_err(err("PACKET_IGNORE_OUTGOING"))?;
        bind(fd, name, ifindex, libc::ETH_P_ALL as u16)?;
        let promisc = libc::packet_mreq {
            mr_ifindex: ifindex,
            mr_type: libc::PACKET_MR_PROMISC as u16,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        setopt(fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &promisc)
            .map_err(err("PACKET_ADD_MEMBERSHIP"))?;
        let fanout = u32::from(self.fanout_group) | (libc::PACKET_FANOUT_HASH << 16);
        setopt(fd, libc::SOL_PACKET, libc::PACKET_FANOUT, &fanout).map_err(err("PACKET_FANOUT"))?;

        let tx = packet_socket(name)?;
        setopt(
            tx.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_QDISC_BYPASS,
            &(1 as libc::c_int),
        )
        .map_err(err("PACKET_QDISC_BYPASS"))?;
        bind(tx.as_raw_fd(), name, ifindex, 0)?;
        Ok(Open {
            rx,
            tx,
            ring,
            block: 0,
            cursor: None,
            iovs: Vec::new(),
            msgs: Vec::new(),
        })
    }

    fn closed(&self) -> PortError {
        PortError::from_io(
            &self.name,
            "closed",
            io::Error::from_raw_os_error(libc::ENETDOWN),
        )
    }
}

impl Port for AfPacketPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn open(&mut self) -> Result<(), PortError> {
        self.open = None;
        self.open = Some(self.open_sockets()?);
        Ok(())
    }

    fn close(&mut self) {
        self.open = None;
    }

    fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.open.as_ref().map(|o| o.rx.as_fd())
    }

    fn check(&mut self) -> Result<(), PortError> {
        let Some(o) = &self.open else {
            return Err(self.closed());
        };
        let err: libc::c_int = getopt(o.rx.as_raw_fd(), libc::SOL_SOCKET, libc::SO_ERROR)
            .map_err(|e| PortError::from_io(&self.name, "SO_ERROR", e))?;
        if err != 0 {
            return Err(PortError::from_io(
                &self.name,
                "receive",
                io::Error::from_raw_os_error(err),
            ));
        }
        Ok(())
    }

    fn recv(&mut self, budget: usize, each: &mut dyn FnMut(&mut [u8])) -> Result<usize, PortError> {
        let Some(o) = &mut self.open else {
            return Err(self.closed());
        };
        let mut n = 0;
        while n < budget {
            // SAFETY: `block < blocks`, so the block lies inside the mapping.
            let start = unsafe { o.ring.base.as_ptr().add(o.block * o.ring.block_size) };
            // SAFETY: the block status is an aligned u32 inside the mapping,
            // shared with the kernel, which writes it atomically.
            let status = unsafe { AtomicU32::from_ptr(start.add(BLOCK_STATUS).cast()) };
            if status.load(Ordering::Acquire) & libc::TP_STATUS_USER == 0 {
                break;
            }
            // SAFETY: the block is ours until we hand it back below (the
            // kernel does not touch a block whose status has TP_STATUS_USER),
            // and the slice does not outlive this iteration.
            let block = unsafe { std::slice::from_raw_parts_mut(start, o.ring.block_size) };
            let (mut left, mut at) = match o.cursor {
                Some(c) => c,
                None => tpacket::block_frames(block).unwrap_or((0, 0)),
            };
            while left > 0 && n < budget {
                match tpacket::frame_at(block, at) {
                    Ok(f) => {
                        match f.data {
                            Some(r) => {
                                each(&mut block[r]);
                                n += 1;
                            }
                            None => self.rx_drops += 1,
                        }
                        left -= 1;
                        match f.next {
                            Some(next) => at = next,
                            None => {
                                self.rx_drops += u64::from(left);
                                left = 0;
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(port = %self.name, "{e}; {left} frames skipped");
                        self.rx_drops += u64::from(left);
                        left = 0;
                    }
                }
            }
            if left > 0 {
                o.cursor = Some((left, at));
                break;
            }
            status.store(libc::TP_STATUS_KERNEL, Ordering::Release);
            o.cursor = None;
            o.block = (o.block + 1) % o.ring.blocks;
        }
        Ok(n)
    }

    fn send(&mut self, batch: &TxBatch) -> Result<usize, PortError> {
        let Some(o) = &mut self.open else {
            return Err(self.closed());
        };
        o.iovs.clear();
        o.iovs.extend(batch.iter().map(|f| libc::iovec {
            iov_base: f.as_ptr().cast_mut().cast(),
            iov_len: f.len(),
        }));
        o.msgs.clear();
        for iov in &mut o.iovs {
            // SAFETY: mmsghdr is plain data; all zeroes is a valid value.
            let mut m: libc::mmsghdr = unsafe { std::mem::zeroed() };
            m.msg_hdr.msg_iov = iov;
            m.msg_hdr.msg_iovlen = 1;
            o.msgs.push(m);
        }
        let mut i = 0;
        let mut sent = 0;
        while i < o.msgs.len() {
            let count = (o.msgs.len() - i).min(1024) as libc::c_uint;
            // SAFETY: `msgs[i..i + count]` are initialised mmsghdrs whose
            // iovecs point into `batch`, borrowed for this whole call.
            let r = unsafe {
                libc::sendmmsg(
                    o.tx.as_raw_fd(),
                    o.msgs[i..].as_mut_ptr(),
                    count,
                    libc::MSG_DONTWAIT,
                )
            };
            if r >= 0 {
                i += r as usize;
                sent += r as usize;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => {}
                // The frame at `i` is too large for the link, or too short to
                // be a frame: drop it, send the rest.
                Some(libc::EMSGSIZE | libc::EINVAL) => i += 1,
                // No room in the kernel: drop the rest of the batch.
                Some(libc::EAGAIN | libc::ENOBUFS) => break,
                _ => return Err(PortError::from_io(&self.name, "sendmmsg", e)),
            }
        }
        Ok(sent)
    }

    fn take_rx_drops(&mut self) -> u64 {
        let ring = self
            .open
            .as_ref()
            .and_then(|o| {
                getopt::<libc::tpacket_stats_v3>(
                    o.rx.as_raw_fd(),
                    libc::SOL_PACKET,
                    libc::PACKET_STATISTICS,
                )
                .ok()
            })
            .map_or(0, |s| u64::from(s.tp_drops));
        ring + std::mem::take(&mut self.rx_drops)
    }
}
