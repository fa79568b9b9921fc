//! Helpers of the end-to-end tests of the `switchd` binary: network
//! namespaces around a switch namespace, the daemon, frames sent and
//! captured on hosts' interfaces.
//!
//! Each test binary uses some of them.
#![allow(dead_code)]

use anyhow::{Context, Result, bail};
use jitswitch_tests::netns::{FrameSender, Netns};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use switchd::control::protocol::{Op, Reply};

pub fn can_run() -> bool {
    if !Netns::available() {
        eprintln!("note: skipped: needs root and iproute2 for network namespaces");
        return false;
    }
    if Command::new("ping").arg("-V").output().is_err() {
        eprintln!("note: skipped: needs ping (iputils-ping)");
        return false;
    }
    true
}

/// A running `switchd`: stopped with SIGTERM when dropped.
pub struct Daemon {
    child: Child,
    log: std::path::PathBuf,
    /// Its control socket.
    pub socket: std::path::PathBuf,
}

impl Daemon {
    pub fn start(sw: &Netns, args: &[&str]) -> Result<Daemon> {
        let log = std::env::temp_dir().join(format!("{}.log", sw.name()));
        // The file system is shared between namespaces: a socket of its own.
        let socket = std::env::temp_dir().join(format!("{}.sock", sw.name()));
        let child = Command::new("ip")
            .args(["netns", "exec", sw.name(), env!("CARGO_BIN_EXE_switchd")])
            .args(args)
            .arg("--socket")
            .arg(&socket)
            .env("RUST_LOG", "switchd=debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .context("starting switchd")?;
        let d = Daemon { child, log, socket };
        if !d.logs("switchd running") {
            bail!("switchd did not start:\n{}", d.log());
        }
        Ok(d)
    }

    /// Sends `op` over the control socket; an error answer is an error.
    pub fn call(&self, op: Op) -> Result<Reply> {
        switchd::ctl::client::call(&self.socket, op)
    }

    /// The counter of the rule with comment `comment` in `list`.
    pub fn counter(&self, comment: &str) -> Result<u64> {
        let Reply::Ruleset(view) = self.call(Op::List { deleted: false })? else {
            bail!("not a ruleset");
        };
        view.chains
            .iter()
            .flat_map(|c| &c.rules)
            .find(|r| r.comment.as_deref() == Some(comment))
            .and_then(|r| r.counter)
            .map(|c| c.packets)
            .with_context(|| format!("no counted rule {comment:?}"))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the log comes to contain `needle` within five seconds.
    pub fn logs(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.log().contains(needle) {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    pub fn alive(&mut self) -> bool {
        self.child.try_wait().is_ok_and(|s| s.is_none())
    }

    /// SIGTERM, then the exit status and the log.
    pub fn stop(mut self) -> Result<(std::process::ExitStatus, String)> {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM)?;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok((status, self.log()));
            }
            if Instant::now() > deadline {
                bail!("switchd did not stop on SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
        let _ = std::fs::remove_file(&self.socket);
    }
}

/// The switch namespace and the hosts: `hosts[i]` is behind switch port
/// `s{i+1}`, with its end of the link named `eth0`.
pub struct Topology {
    // Hosts first: dropped before the switch.
    pub hosts: Vec<Netns>,
    pub sw: Netns,
}

pub fn topology(tag: &str, n: usize) -> Result<Topology> {
    let sw = Netns::new(&format!("{tag}-sw"))?;
    let mut hosts = Vec::new();
    for i in 1..=n {
        let h = Netns::new(&format!("{tag}-h{i}"))?;
        let (s, e) = (format!("s{i}"), format!("h{i}"));
        sw.add_veth(&s, &e)?;
        sw.exec_checked(&["ip", "link", "set", &e, "netns", h.name()])?;
        h.exec_checked(&["ip", "link", "set", &e, "name", "eth0"])?;
        h.exec_checked(&["ip", "link", "set", "eth0", "up"])?;
        hosts.push(h);
    }
    Ok(Topology { hosts, sw })
}

pub fn addr(h: &Netns, dev: &str, cidr: &str) -> Result<()> {
    h.exec_checked(&["ip", "addr", "add", cidr, "dev", dev])?;
    Ok(())
}

pub fn ping(h: &Netns, to: &str) -> Result<bool> {
    Ok(h.exec(&["ping", "-c", "2", "-i", "0.2", "-W", "1", to])?
        .status
        .success())
}

pub fn mac_of(h: &Netns, dev: &str) -> Result<[u8; 6]> {
    let out = h.exec_checked(&["cat", &format!("/sys/class/net/{dev}/address")])?;
    let text = String::from_utf8(out.stdout)?;
    let mut mac = [0u8; 6];
    for (b, part) in mac.iter_mut().zip(text.trim().split(':')) {
        *b = u8::from_str_radix(part, 16)?;
    }
    Ok(mac)
}

/// A frame seen by [`capture`]: its length on the wire and the VID of the
/// 802.1Q tag it carried, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub len: usize,
    pub vid: Option<u16>,
}

/// The frames containing `marker` received (not sent) on `eth0` of `h`
/// during `dur`. The frames are sent by `send` once the capture is running.
pub fn capture(
    h: &Netns,
    dur: Duration,
    marker: &'static [u8],
    send: impl FnOnce() -> Result<()>,
) -> Result<Vec<Seen>> {
    std::thread::scope(|s| {
        let name = h.name().to_owned();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let t = s.spawn(move || {
            let ns = std::fs::File::open(format!("/run/netns/{name}"))?;
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)?;
            let fd = raw_listener("eth0")?;
            ready_tx.send(()).ok();
            let deadline = Instant::now() + dur;
            let mut seen = Vec::new();
            let mut buf = vec![0u8; 16384];
            let mut cmsg = [0u64; 16];
            while Instant::now() < deadline {
                // SAFETY: zeroed sockaddr_ll and msghdr are valid values.
                let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
                let mut iov = libc::iovec {
                    iov_base: buf.as_mut_ptr().cast(),
                    iov_len: buf.len(),
                };
                // SAFETY: as above.
                let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
                msg.msg_name = (&raw mut from).cast();
                msg.msg_namelen = std::mem::size_of::<libc::sockaddr_ll>() as u32;
                msg.msg_iov = &mut iov;
                msg.msg_iovlen = 1;
                msg.msg_control = cmsg.as_mut_ptr().cast();
                msg.msg_controllen = std::mem::size_of_val(&cmsg);
                // SAFETY: every pointer in `msg` is live with its length.
                let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, 0) };
                if n <= 0 || from.sll_pkttype == libc::PACKET_OUTGOING {
                    continue;
                }
                let f = &buf[..n as usize];
                if !f.windows(marker.len()).any(|w| w == marker) {
                    continue;
                }
                let mut vid = None;
                // SAFETY: walks the control messages the kernel wrote into
                // `cmsg`, within `msg_controllen`.
                unsafe {
                    let mut c = libc::CMSG_FIRSTHDR(&msg);
                    while !c.is_null() {
                        if (*c).cmsg_level == libc::SOL_PACKET
                            && (*c).cmsg_type == libc::PACKET_AUXDATA
                        {
                            let aux: libc::tpacket_auxdata =
                                std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                            if aux.tp_status & libc::TP_STATUS_VLAN_VALID != 0 {
                                vid = Some(aux.tp_vlan_tci & 0x0fff);
                            }
                        }
                        c = libc::CMSG_NXTHDR(&msg, c);
                    }
                }
                let tag = if vid.is_some() { 4 } else { 0 };
                seen.push(Seen {
                    len: f.len() + tag,
                    vid,
                });
            }
            anyhow::Ok(seen)
        });
        ready_rx.recv_timeout(Duration::from_secs(5)).ok();
        send()?;
        t.join()
            .map_err(|_| anyhow::anyhow!("capture thread panicked"))?
    })
}

/// Sends `frame` from `from` once for each expectation, capturing the
/// frames with `marker` at that expectation's host, and checks that the
/// host saw exactly what it expects.
pub fn deliveries(
    from: &Netns,
    frame: &[u8],
    marker: &'static [u8],
    expect: &[(&Netns, &[Seen], &str)],
) -> Result<()> {
    for (to, seen, why) in expect {
        let send = || send_frames(from, vec![frame.to_vec()]);
        let got = capture(to, Duration::from_millis(400), marker, send)?;
        assert_eq!(&got, seen, "{why}");
    }
    Ok(())
}

/// A raw socket receiving every frame of `ifname` with its VLAN metadata
/// (`PACKET_AUXDATA`), with a 50 ms timeout.
pub fn raw_listener(ifname: &str) -> Result<OwnedFd> {
    let ifindex = nix::net::if_::if_nametoindex(ifname)? as i32;
    let proto = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: socket(2) takes no pointers; checked below.
    let raw = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            i32::from(proto),
        )
    };
    if raw < 0 {
        return Err(std::io::Error::last_os_error().into());
    }
    // SAFETY: a new descriptor nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: zeroed sockaddr_ll is valid; the pointers passed below are
    // live for the calls with the right lengths.
    unsafe {
        let mut a: libc::sockaddr_ll = std::mem::zeroed();
        a.sll_family = libc::AF_PACKET as u16;
        a.sll_protocol = proto;
        a.sll_ifindex = ifindex;
        if libc::bind(
            fd.as_raw_fd(),
            (&raw const a).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        ) < 0
        {
            return Err(std::io::Error::last_os_error().into());
        }
        let tv = libc::timeval {
            tv_sec: 0,
            tv_usec: 50_000,
        };
        let one: libc::c_int = 1;
        let int = std::mem::size_of::<libc::c_int>() as u32;
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const tv).cast(),
            std::mem::size_of::<libc::timeval>() as u32,
        );
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_PACKET,
            libc::PACKET_AUXDATA,
            (&raw const one).cast(),
            int,
        );
    }
    Ok(fd)
}

/// Sends frames from `eth0` of `h`.
pub fn send_frames(h: &Netns, frames: Vec<Vec<u8>>) -> Result<()> {
    h.enter(move || {
        let s = FrameSender::open("eth0")?;
        for f in &frames {
            // Frames the kernel refuses (too short) are fine to lose.
            let _ = s.send(f);
        }
        Ok(())
    })
}

pub fn frame(dst: [u8; 6], src: [u8; 6], vlan: Option<u16>, payload: &[u8]) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    if let Some(v) = vlan {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&[0x88, 0xb5]); // local experimental ethertype
    f.extend_from_slice(payload);
    f.resize(f.len().max(60), 0);
    f
}

/// Runs `f` on a new thread inside namespace `h` (sockets it opens belong
/// to the namespace) and returns the thread's handle.
pub fn spawn_in<T: Send + 'static>(
    h: &Netns,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<std::thread::JoinHandle<Result<T>>> {
    let ns = std::fs::File::open(format!("/run/netns/{}", h.name()))?;
    Ok(std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)?;
        f()
    }))
}

/// Writes a ruleset to a file of its own for switch `sw` and returns its
/// path.
pub fn ruleset(sw: &Netns, name: &str, text: &str) -> Result<std::path::PathBuf> {
    let path = std::env::temp_dir().join(format!("{}-{name}.nft", sw.name()));
    std::fs::write(&path, text)?;
    Ok(path)
}

/// 2000 frames of garbage from a fixed seed: random bytes, 14-byte
/// frames, runts, cut VLAN and IPv4 headers behind plausible types, and
/// 9000-byte jumbo frames.
pub fn garbage() -> Vec<Vec<u8>> {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut junk = Vec::new();
    for i in 0..2000 {
        let len = match i % 5 {
            0 => 14,
            1 => 15 + (rnd() % 4) as usize,
            2 => 14 + (rnd() % 1500) as usize,
            3 => 9000,
            _ => (rnd() % 14) as usize,
        };
        let mut f: Vec<u8> = (0..len).map(|_| rnd() as u8).collect();
        if i % 2 == 0 && len >= 14 {
            f[12..14].copy_from_slice(if i % 4 == 0 {
                &[0x81, 0x00]
            } else {
                &[0x08, 0x00]
            });
        }
        junk.push(f);
    }
    junk
}

/// Two hosts with jumbo frames (MTU 9000 on both ends of their links),
/// h1 and h2 at `net`.1/24 and `net`.2/24.
pub fn jumbo_pair(tag: &str, net: &str) -> Result<Topology> {
    let t = topology(tag, 2)?;
    for (i, h) in t.hosts.iter().enumerate() {
        h.exec_checked(&["ip", "link", "set", "eth0", "mtu", "9000"])?;
        t.sw.exec_checked(&["ip", "link", "set", &format!("s{}", i + 1), "mtu", "9000"])?;
        addr(h, "eth0", &format!("{net}.{}/24", i + 1))?;
    }
    Ok(t)
}
