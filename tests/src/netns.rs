//! Throwaway network namespaces for tests that need real interfaces.
//!
//! A [`Netns`] is created with a name unique to this process and deleted when
//! dropped, including when the test panics. Commands run inside it with
//! `ip netns exec`; sockets are opened inside it by a short-lived thread that
//! enters the namespace with `setns(2)`, so the socket belongs to the
//! namespace while the rest of the test process stays where it was.
//!
//! These tests need root. [`Netns::available`] says whether they can run, so
//! a test can skip itself with a note instead of failing on a developer's
//! unprivileged machine.

use anyhow::{Context, Result, bail};
use std::fs::File;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// Prefix of every namespace the tests create, so stale ones are recognisable.
pub const PREFIX: &str = "jsw-test";

static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// A network namespace that exists for the lifetime of this value.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// True when this process can create namespaces (it runs as root and
    /// `ip` is installed).
    pub fn available() -> bool {
        nix::unistd::geteuid().is_root()
            && Command::new("ip")
                .arg("-V")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
    }

    /// Creates a namespace named `jsw-test-<tag>-<pid>-<n>` with loopback up
    /// and IPv6 off (so the kernel sends no router or neighbour solicitations
    /// that would disturb counters).
    pub fn new(tag: &str) -> Result<Netns> {
        let name = format!(
            "{PREFIX}-{tag}-{}-{}",
            std::process::id(),
            NEXT_ID.fetch_add(1, Ordering::Relaxed)
        );
        run_checked(Command::new("ip").args(["netns", "add", &name]))?;
        let ns = Netns { name };
        ns.exec_checked(&["ip", "link", "set", "lo", "up"])?;
        for key in ["all", "default"] {
            ns.exec_checked(&[
                "sysctl",
                "-qw",
                &format!("net.ipv6.conf.{key}.disable_ipv6=1"),
            ])?;
        }
        Ok(ns)
    }

    /// The namespace's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs a command inside the namespace and returns its output, whatever
    /// its exit status.
    pub fn exec(&self, argv: &[&str]) -> Result<Output> {
        Command::new("ip")
            .args(["netns", "exec", &self.name])
            .args(argv)
            .output()
            .with_context(|| format!("running {argv:?} in {}", self.name))
    }

    /// Runs a command inside the namespace; an error carries its stderr when
    /// it fails.
    pub fn exec_checked(&self, argv: &[&str]) -> Result<Output> {
        let out = self.exec(argv)?;
        if !out.status.success() {
            bail!(
                "{argv:?} in {} failed: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(out)
    }

    /// Creates a veth pair `a`/`b` inside the namespace, both up.
    pub fn add_veth(&self, a: &str, b: &str) -> Result<()> {
        self.exec_checked(&["ip", "link", "add", a, "type", "veth", "peer", "name", b])?;
        self.exec_checked(&["ip", "link", "set", a, "up"])?;
        self.exec_checked(&["ip", "link", "set", b, "up"])?;
        Ok(())
    }

    /// Runs `f` on a thread that has entered this namespace and returns its
    /// result: file descriptors it opens (sockets) stay bound to the
    /// namespace.
    pub fn enter<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let path = format!("/run/netns/{}", self.name);
        let file = File::open(&path).with_context(|| format!("opening {path}"))?;
        std::thread::spawn(move || -> Result<T> {
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET)
                .context("setns into the test namespace")?;
            f()
        })
        .join()
        .map_err(|_| anyhow::anyhow!("namespace thread panicked"))?
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

/// Runs a command and fails with its stderr when it does not succeed.
pub fn run_checked(cmd: &mut Command) -> Result<Output> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

/// A raw AF_PACKET socket bound to one interface, for sending whole
/// Ethernet frames (no receive: it is opened with protocol 0).
#[derive(Debug)]
pub struct FrameSender {
    fd: OwnedFd,
    ifindex: i32,
}

impl FrameSender {
    /// Opens a sender on `ifname` in the calling thread's namespace (call it
    /// inside [`Netns::enter`]).
    pub fn open(ifname: &str) -> Result<FrameSender> {
        let ifindex = nix::net::if_::if_nametoindex(ifname)
            .with_context(|| format!("no interface {ifname}"))? as i32;
        // SAFETY: plain socket(2) call; the result is checked before use and
        // owned by an OwnedFd from then on.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(std::io::Error::last_os_error()).context("socket(AF_PACKET)");
        }
        // SAFETY: `raw` is a fresh, valid descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(FrameSender { fd, ifindex })
    }

    /// Sends one frame exactly as given (the kernel adds no header).
    pub fn send(&self, frame: &[u8]) -> Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: sockaddr_ll is plain old data; all-zero is a valid value.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_ifindex = self.ifindex;
        addr.sll_halen = 6;
        addr.sll_addr[..6].copy_from_slice(frame.get(..6).unwrap_or(&[0; 6]));
        // SAFETY: the buffer and address pointers are valid for the lengths
        // passed, for the duration of the call.
        let n = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&raw const addr).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if n < 0 {
            return Err(std::io::Error::last_os_error())
                .with_context(|| format!("sending a {}-byte frame", frame.len()));
        }
        Ok(())
    }
}
