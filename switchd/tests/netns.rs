//! End-to-end tests of the `switchd` binary with real traffic: a switch
//! namespace running `switchd` over veth pairs to four host namespaces.
//!
//! - h1 (access 10) and h4 (access 10), h2 on a trunk (VLANs 10 and 20,
//!   raw tagged frames), h3 (access 20);
//! - pings within VLAN 10, none from VLAN 10 into VLAN 20;
//! - tags pushed toward the trunk and popped from it (seen on the wire with
//!   `PACKET_AUXDATA`), stations learned (the daemon's debug log), unknown
//!   unicast flooded in its VLAN only, known unicast sent to its port only;
//! - garbage frames (random bytes, 14-byte frames, cut headers, 9000-byte
//!   jumbo frames over a raised MTU) leave the daemon forwarding;
//! - SIGTERM stops it cleanly; a bad configuration stops it from starting.
//!
//! They need root (network namespaces) and `ping`; without them they print
//! a note and pass.

use anyhow::{Context, Result, bail};
use jitswitch_tests::netns::{FrameSender, Netns};
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn can_run() -> bool {
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
struct Daemon {
    child: Child,
    log: std::path::PathBuf,
}

impl Daemon {
    fn start(sw: &Netns, args: &[&str]) -> Result<Daemon> {
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
        let d = Daemon { child, log };
        if !d.logs("switchd running") {
            bail!("switchd did not start:\n{}", d.log());
        }
        Ok(d)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the log comes to contain `needle` within five seconds.
    fn logs(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !self.log().contains(needle) {
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().is_ok_and(|s| s.is_none())
    }

    /// SIGTERM, then the exit status and the log.
    fn stop(mut self) -> Result<(std::process::ExitStatus, String)> {
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
    }
}

/// The switch namespace and the hosts: `hosts[i]` is behind switch port
/// `s{i+1}`, with its end of the link named `eth0`.
struct Topology {
    // Hosts first: dropped before the switch.
    hosts: Vec<Netns>,
    sw: Netns,
}

fn topology(tag: &str, n: usize) -> Result<Topology> {
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

fn addr(h: &Netns, dev: &str, cidr: &str) -> Result<()> {
    h.exec_checked(&["ip", "addr", "add", cidr, "dev", dev])?;
    Ok(())
}

fn ping(h: &Netns, to: &str) -> Result<bool> {
    Ok(h.exec(&["ping", "-c", "2", "-i", "0.2", "-W", "1", to])?
        .status
        .success())
}

fn mac_of(h: &Netns, dev: &str) -> Result<[u8; 6]> {
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
struct Seen {
    len: usize,
    vid: Option<u16>,
}

/// The frames containing `marker` received (not sent) on `eth0` of `h`
/// during `dur`. The frames are sent by `send` once the capture is running.
fn capture(
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
fn deliveries(
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
fn raw_listener(ifname: &str) -> Result<OwnedFd> {
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
fn send_frames(h: &Netns, frames: Vec<Vec<u8>>) -> Result<()> {
    h.enter(move || {
        let s = FrameSender::open("eth0")?;
        for f in &frames {
            // Frames the kernel refuses (too short) are fine to lose.
            let _ = s.send(f);
        }
        Ok(())
    })
}

fn frame(dst: [u8; 6], src: [u8; 6], vlan: Option<u16>, payload: &[u8]) -> Vec<u8> {
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

#[test]
fn forwards_learns_floods_and_isolates_vlans() -> Result<()> {
    if !can_run() {
        return Ok(());
    }
    let t = topology("fwd", 4)?;
    let [h1, h2, h3, h4] = &t.hosts[..] else {
        unreachable!()
    };
    addr(h1, "eth0", "10.10.0.1/24")?;
    addr(h4, "eth0", "10.10.0.4/24")?;
    addr(h3, "eth0", "10.20.0.3/24")?;
    // h3 also claims a VLAN 10 address: only VLAN isolation keeps h1 away.
    addr(h3, "eth0", "10.10.0.3/24")?;
    // h2 is on a trunk; this kernel may lack 802.1Q subinterfaces, so it
    // speaks in raw tagged frames.
    let d = Daemon::start(
        &t.sw,
        &[
            "--port",
            "s1:access=10",
            "--port",
            "s2:trunk=10,20",
            "--port",
            "s3:access=20",
            "--port",
            "s4:access=10",
            "--workers",
            "2",
        ],
    )?;

    assert!(ping(h1, "10.10.0.4")?, "h1 -> h4, both access 10");
    assert!(
        !ping(h1, "10.10.0.3")?,
        "h1 (VLAN 10) must not reach h3 (VLAN 20)"
    );

    let (m1, m2, m4) = (
        mac_of(h1, "eth0")?,
        mac_of(h2, "eth0")?,
        mac_of(h4, "eth0")?,
    );
    // Unknown unicast from h1 is flooded in VLAN 10: h4 untagged, h2 tagged 10, not h3.
    let unknown = frame([2, 0x99, 0, 0, 0, 1], m1, None, b"FLOOD-ME");
    let (len, tagged) = (unknown.len(), |len| Seen { len, vid: Some(10) });
    #[rustfmt::skip]
    deliveries(h1, &unknown, b"FLOOD-ME", &[
        (h4, &[Seen { len, vid: None }], "h4 gets the flood"),
        (h2, &[tagged(len + 4)], "the trunk gets it tagged 10"),
        (h3, &[], "not in VLAN 20"),
    ])?;
    // A broadcast from the trunk tagged 20 reaches h3 only, untagged.
    let from_trunk = frame([0xff; 6], m2, Some(20), b"TRUNK-20");
    let len = from_trunk.len() - 4;
    #[rustfmt::skip]
    deliveries(h2, &from_trunk, b"TRUNK-20", &[
        (h3, &[Seen { len, vid: None }], "h3 gets it untagged"),
        (h1, &[], "VLAN 10 does not see VLAN 20"),
    ])?;
    // Known unicast from the trunk (tagged 10) to h1 goes to h1 only, untagged.
    let known = frame(m1, m2, Some(10), b"FOR-H1");
    let len = known.len() - 4;
    #[rustfmt::skip]
    deliveries(h2, &known, b"FOR-H1", &[
        (h1, &[Seen { len, vid: None }], "h1 gets it untagged"),
        (h4, &[], "h4 does not: h1 is learned"),
    ])?;

    let log = d.log();
    for (m, port, vlan) in [(m1, 0, 10), (m4, 3, 10), (m2, 1, 10), (m2, 1, 20)] {
        let m = m
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        let line = format!("vlan={vlan} mac={m} port={port}");
        assert!(log.contains(&line), "no '{line}' learned in:\n{log}");
    }
    let (status, log) = d.stop()?;
    assert!(status.success(), "clean exit on SIGTERM: {status}\n{log}");
    assert!(log.contains("shutting down"), "{log}");
    Ok(())
}

#[test]
fn garbage_frames_do_not_crash_the_daemon() -> Result<()> {
    if !can_run() {
        return Ok(());
    }
    let t = topology("junk", 2)?;
    let [h1, h2] = &t.hosts[..] else {
        unreachable!()
    };
    for (h, i) in [(h1, 1), (h2, 2)] {
        h.exec_checked(&["ip", "link", "set", "eth0", "mtu", "9000"])?;
        t.sw.exec_checked(&["ip", "link", "set", &format!("s{i}"), "mtu", "9000"])?;
        addr(h, "eth0", &format!("10.30.0.{i}/24"))?;
    }
    let mut d = Daemon::start(&t.sw, &["--port", "s1", "--port", "s2", "--workers", "2"])?;
    assert!(ping(h1, "10.30.0.2")?);

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
            // Cut VLAN and IPv4 headers behind plausible types.
            f[12..14].copy_from_slice(if i % 4 == 0 {
                &[0x81, 0x00]
            } else {
                &[0x08, 0x00]
            });
        }
        junk.push(f);
    }
    // A jumbo frame with a marker, broadcast, to see that it is carried.
    let mut jumbo = frame([0xff; 6], [2, 0, 0, 0, 0, 1], None, b"JUMBO");
    jumbo.resize(9000, 0x5a);
    send_frames(h1, junk)?;
    std::thread::sleep(Duration::from_millis(300));
    let send = || send_frames(h1, vec![jumbo.clone()]);
    let seen = capture(h2, Duration::from_millis(500), b"JUMBO", send)?;
    assert_eq!(
        seen,
        [Seen {
            len: 9000,
            vid: None
        }],
        "the jumbo frame crossed the switch"
    );
    assert!(d.alive(), "switchd died:\n{}", d.log());
    assert!(ping(h1, "10.30.0.2")?, "still forwarding after the garbage");
    let (status, log) = d.stop()?;
    assert!(status.success(), "{status}\n{log}");
    Ok(())
}

#[test]
fn ports_that_go_down_or_disappear_are_retried() -> Result<()> {
    if !can_run() {
        return Ok(());
    }
    let t = topology("down", 3)?;
    for (i, h) in t.hosts.iter().enumerate() {
        addr(h, "eth0", &format!("10.40.0.{}/24", i + 1))?;
    }
    let [h1, h2, _] = &t.hosts[..] else {
        unreachable!()
    };
    let mut d = Daemon::start(
        &t.sw,
        &[
            "--port", "s1", "--port", "s2", "--port", "s3", "--port", "s4",
        ],
    )?;
    assert!(
        d.logs("port s4 is down"),
        "a missing port is reported:\n{}",
        d.log()
    );
    assert!(ping(h1, "10.40.0.2")?);

    t.sw.exec_checked(&["ip", "link", "set", "s2", "down"])?;
    assert!(ping(h1, "10.40.0.3")?, "the other ports keep forwarding");
    assert!(!ping(h1, "10.40.0.2")?);
    t.sw.exec_checked(&["ip", "link", "set", "s2", "up"])?;
    // Reopened within the backoff (at most 5 s).
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ping(h1, "10.40.0.2")? {
        assert!(
            Instant::now() < deadline,
            "s2 never came back:\n{}",
            d.log()
        );
    }
    assert!(d.logs("port is up again"), "{}", d.log());

    // s3 disappears (its peer with it); s4 appears and is picked up.
    t.sw.exec_checked(&["ip", "link", "del", "s3"])?;
    let h4 = Netns::new("down-h4")?;
    t.sw.add_veth("s4", "h4")?;
    t.sw.exec_checked(&["ip", "link", "set", "h4", "netns", h4.name()])?;
    h4.exec_checked(&["ip", "link", "set", "h4", "up"])?;
    addr(&h4, "h4", "10.40.0.4/24")?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !ping(&h4, "10.40.0.1")? {
        assert!(Instant::now() < deadline, "s4 never came up:\n{}", d.log());
    }
    assert!(ping(h2, "10.40.0.1")?);
    assert!(d.alive());
    let (status, log) = d.stop()?;
    assert!(status.success(), "{status}\n{log}");
    assert!(log.contains("port s3"), "the lost port is reported:\n{log}");
    Ok(())
}

#[test]
fn a_bad_configuration_is_reported_with_its_position() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("switchd-badcfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("bad.ron");
    std::fs::write(
        &path,
        "(\n    ports: [\n        (name: \"veth1\", vlan: Access(9999)),\n    ],\n)\n",
    )?;
    let out = Command::new(env!("CARGO_BIN_EXE_switchd"))
        .arg("--config")
        .arg(&path)
        .output()?;
    let mut err = String::from_utf8_lossy(&out.stderr).into_owned();
    std::fs::remove_dir_all(&dir)?;
    assert!(!out.status.success());
    assert!(err.contains("bad.ron:3:"), "{err}");
    err.clear();
    // A ruleset with errors: its diagnostics, and no daemon.
    let rules = dir.join("bad.nft");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        &rules,
        "table netdev t {\n  chain c {\n    ip saddr 80 drop\n  }\n}\n",
    )?;
    let out = Command::new(env!("CARGO_BIN_EXE_switchd"))
        .args(["--port", "x", "--ruleset"])
        .arg(&rules)
        .output()?;
    std::io::Cursor::new(out.stderr).read_to_string(&mut err)?;
    std::fs::remove_dir_all(&dir)?;
    assert!(!out.status.success());
    assert!(err.contains("bad.nft:3:"), "{err}");
    assert!(err.contains("not started"), "{err}");
    // The JIT is refused until it exists, not replaced by the interpreter.
    let out = Command::new(env!("CARGO_BIN_EXE_switchd"))
        .args(["--port", "x", "--engine", "jit"])
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("jit engine is not available"), "{err}");
    Ok(())
}
