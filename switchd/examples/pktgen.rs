//! `pktgen`: the packet generator of `bench/forwarding.sh`.
//!
//! Sends 64-byte UDP frames (Ethernet + IPv4 + UDP, no checksum offload
//! involved: the IPv4 checksum is computed, the UDP one is 0) out of one
//! interface with an AF_PACKET socket that bypasses the qdisc, 64 frames
//! per `sendmmsg(2)`, either as fast as it can (`--rate 0`) or paced to a
//! fixed rate, for a given time. Frames cycle through `--flows` source
//! ports so that a switch spreading flows over workers sees several.
//! Prints what it sent as `sent=N seconds=S rate=R`.
//!
//! Build: `cargo build --release -p switchd --example pktgen`.

use anyhow::{Context, Result, bail};
use clap::Parser;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Frames per `sendmmsg` call.
const BATCH: usize = 64;

/// Send UDP frames as fast as possible or at a fixed rate.
#[derive(Parser, Debug)]
struct Args {
    /// The interface to send from.
    #[arg(long)]
    dev: String,
    /// Destination MAC address.
    #[arg(long)]
    dst_mac: String,
    /// Source MAC address (the interface's own when absent).
    #[arg(long)]
    src_mac: Option<String>,
    /// Source IPv4 address.
    #[arg(long)]
    src_ip: Ipv4Addr,
    /// Destination IPv4 address.
    #[arg(long)]
    dst_ip: Ipv4Addr,
    /// Frames per second; 0 for as many as possible.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// How long to send.
    #[arg(long, default_value_t = 5.0)]
    seconds: f64,
    /// Frame length in bytes (at least 42).
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Distinct UDP source ports.
    #[arg(long, default_value_t = 16)]
    flows: u16,
}

fn mac(text: &str) -> Result<[u8; 6]> {
    let mut m = [0u8; 6];
    let parts: Vec<&str> = text.trim().split(':').collect();
    if parts.len() != 6 {
        bail!("not a MAC address: {text:?}");
    }
    for (b, p) in m.iter_mut().zip(parts) {
        *b = u8::from_str_radix(p, 16).with_context(|| format!("not a MAC address: {text:?}"))?;
    }
    Ok(m)
}

/// The internet checksum of `bytes`.
fn checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// One frame of `size` bytes from UDP source port `sport`.
fn frame(a: &Args, src: [u8; 6], dst: [u8; 6], sport: u16) -> Vec<u8> {
    let mut f = Vec::with_capacity(a.size);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&[0x08, 0x00]);
    let ip_len = (a.size - 14) as u16;
    let mut ip = [0u8; 20];
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    ip[6] = 0x40; // don't fragment
    ip[8] = 64;
    ip[9] = 17;
    ip[12..16].copy_from_slice(&a.src_ip.octets());
    ip[16..20].copy_from_slice(&a.dst_ip.octets());
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    f.extend_from_slice(&ip);
    f.extend_from_slice(&sport.to_be_bytes());
    f.extend_from_slice(&9u16.to_be_bytes());
    f.extend_from_slice(&(ip_len - 20).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.resize(a.size, 0);
    f
}

fn main() -> Result<()> {
    let a = Args::parse();
    if a.size < 42 {
        bail!("--size: at least 42 bytes");
    }
    let dst = mac(&a.dst_mac)?;
    let src = match &a.src_mac {
        Some(m) => mac(m)?,
        None => mac(&std::fs::read_to_string(format!(
            "/sys/class/net/{}/address",
            a.dev
        ))?)?,
    };
    let ifindex = nix::net::if_::if_nametoindex(a.dev.as_str())
        .with_context(|| format!("no interface {}", a.dev))? as i32;
    // SAFETY: socket(2) takes no pointers; the result is checked.
    let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error()).context("socket(AF_PACKET)");
    }
    // SAFETY: a fresh descriptor nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let one: libc::c_int = 1;
    // SAFETY: a live int of the right size.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_QDISC_BYPASS,
            (&raw const one).cast(),
            std::mem::size_of::<libc::c_int>() as u32,
        )
    };
    let frames: Vec<Vec<u8>> = (0..a.flows.max(1))
        .map(|i| frame(&a, src, dst, 10_000 + i))
        .collect();
    // SAFETY: all-zero sockaddr_ll is valid.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_ifindex = ifindex;
    addr.sll_halen = 6;
    addr.sll_addr[..6].copy_from_slice(&dst);
    let mut iovs: Vec<libc::iovec> = (0..BATCH)
        .map(|i| {
            let f = &frames[i % frames.len()];
            libc::iovec {
                iov_base: f.as_ptr() as *mut libc::c_void,
                iov_len: f.len(),
            }
        })
        .collect();
    let mut msgs: Vec<libc::mmsghdr> = iovs
        .iter_mut()
        .map(|iov| {
            // SAFETY: all-zero msghdr is valid; the pointers set below live
            // as long as `msgs` is used.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = (&raw mut addr).cast();
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .collect();
    let duration = Duration::from_secs_f64(a.seconds);
    let start = Instant::now();
    let mut sent: u64 = 0;
    loop {
        let now = Instant::now();
        let elapsed = now - start;
        if elapsed >= duration {
            break;
        }
        let mut n = BATCH;
        if a.rate > 0 {
            let due = (elapsed.as_secs_f64() * a.rate as f64) as u64;
            if due <= sent {
                std::thread::sleep(Duration::from_micros(50));
                continue;
            }
            n = n.min((due - sent) as usize);
        }
        // SAFETY: `msgs[..n]` are valid headers pointing at live frames.
        let r = unsafe { libc::sendmmsg(fd.as_raw_fd(), msgs.as_mut_ptr(), n as u32, 0) };
        if r > 0 {
            sent += r as u64;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "sent={sent} seconds={secs:.3} rate={:.0}",
        sent as f64 / secs
    );
    Ok(())
}
