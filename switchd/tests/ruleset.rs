//! End-to-end tests of `switchd` running a ruleset, with real traffic
//! between network namespaces, driven over its control socket:
//!
//! - forwarding through a ruleset: L2 learning and flooding for `accept`,
//!   VLAN access and trunk ports, `fwd`, `dup` (the mirror port sees every
//!   copy, and nothing else), `drop`;
//! - 100 reloads between two rulesets while numbered UDP datagrams flow:
//!   each arrives exactly once;
//! - a rule deleted while frames that all hit it flow: its final counter
//!   plus the count of the rule that takes over is exactly the number sent;
//! - a reload of a ruleset with errors changes nothing and traffic flows
//!   under the old rules;
//! - malformed, unknown and oversize requests, abrupt disconnects and too
//!   many clients leave the daemon serving;
//! - garbage frames through a realistic ruleset leave it forwarding.
//!
//! They need root (network namespaces) and `ping`; without them they print
//! a note and pass.

mod common;

use anyhow::{Result, bail};
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::net::UdpSocket;
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use switchd::control::protocol::{Op, Reply, RuleSelector};

/// A test frame of a local experimental ethertype whose payload starts
/// with `marker`.
fn marked(dst: [u8; 6], src: [u8; 6], marker: &[u8]) -> Vec<u8> {
    frame(dst, src, None, marker)
}

#[test]
fn forwards_through_a_ruleset_with_fwd_dup_and_drop() -> Result<()> {
    if !can_run() {
        return Ok(());
    }
    let t = topology("rfwd", 5)?;
    let [h1, h2, h3, h4, h5] = &t.hosts[..] else {
        unreachable!()
    };
    addr(h1, "eth0", "10.50.0.1/24")?;
    addr(h4, "eth0", "10.50.0.4/24")?;
    addr(h3, "eth0", "10.50.0.3/24")?;
    // The payload's first four bytes (after the ethertype 0x88b5) say what
    // the ruleset does with a test frame.
    let rules = ruleset(
        &t.sw,
        "rules",
        r#"
table netdev t {
    chain in {
        type filter hook ingress priority 0; policy accept;
        ether type 0x88b5 @ll,112,32 0x44524f50 counter drop comment "DROP"
        ether type 0x88b5 @ll,112,32 0x46574434 counter fwd to "s4" comment "FWD4"
        ether type 0x88b5 @ll,112,32 0x44555035 counter dup to "s5" comment "DUP5"
        counter comment "switched"
    }
}
"#,
    )?;
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
            "--port",
            "s5:access=30",
            "--workers",
            "2",
            "--ruleset",
            rules.to_str().unwrap(),
        ],
    )?;
    // accept: L2 switching, VLANs kept apart.
    assert!(ping(h1, "10.50.0.4")?, "h1 -> h4, both access 10");
    assert!(
        !ping(h1, "10.50.0.3")?,
        "h1 (VLAN 10) must not reach h3 (VLAN 20)"
    );
    let (m1, m4) = (mac_of(h1, "eth0")?, mac_of(h4, "eth0")?);
    let unknown = [2, 0x99, 0, 0, 0, 1];
    // Unknown unicast, switched: flooded in VLAN 10, tagged on the trunk.
    let f = marked(unknown, m1, b"FLOD");
    let len = f.len();
    #[rustfmt::skip]
    deliveries(h1, &f, b"FLOD", &[
        (h4, &[Seen { len, vid: None }], "h4 gets the flood"),
        (h2, &[Seen { len: len + 4, vid: Some(10) }], "the trunk gets it tagged 10"),
        (h3, &[], "not in VLAN 20"),
        (h5, &[], "the mirror port is in VLAN 30"),
    ])?;
    // Known unicast, switched: to h4 only (h4 was learned by the ping).
    let f = marked(m4, m1, b"KNWN");
    #[rustfmt::skip]
    deliveries(h1, &f, b"KNWN", &[
        (h4, &[Seen { len, vid: None }], "h4 gets it"),
        (h2, &[], "h4 is learned: no flood"),
    ])?;
    // fwd: to s4 whatever the destination, nowhere else.
    let f = marked(unknown, m1, b"FWD4");
    #[rustfmt::skip]
    deliveries(h1, &f, b"FWD4", &[
        (h4, &[Seen { len, vid: None }], "fwd to s4"),
        (h2, &[], "fwd is not flooded"),
    ])?;
    // drop: nowhere.
    let f = marked([0xff; 6], m1, b"DROP");
    #[rustfmt::skip]
    deliveries(h1, &f, b"DROP", &[
        (h4, &[], "dropped"),
        (h2, &[], "dropped"),
    ])?;
    // dup: every copy reaches the mirror, and the frame goes on to h4.
    let dups: Vec<Vec<u8>> = (0..50).map(|_| marked(m4, m1, b"DUP5")).collect();
    let at_mirror = capture(h5, Duration::from_millis(800), b"DUP5", || {
        send_frames(h1, dups.clone())
    })?;
    assert_eq!(at_mirror.len(), 50, "the mirror port sees every copy");
    let at_h4 = capture(h4, Duration::from_millis(800), b"DUP5", || {
        send_frames(h1, dups.clone())
    })?;
    assert_eq!(at_h4.len(), 50, "and the frames still reach h4");
    // The counters saw it all: 2 DROP and 2 FWD4 frames (`deliveries`
    // sends once per expectation), 100 DUP5.
    assert_eq!(d.counter("DROP")?, 2);
    assert_eq!(d.counter("FWD4")?, 2);
    assert_eq!(d.counter("DUP5")?, 100);
    assert!(d.counter("switched")? > 0);
    let (status, log) = d.stop()?;
    assert!(status.success(), "{status}\n{log}");
    Ok(())
}

const PORT: u16 = 7000;

/// Two rulesets that both forward UDP to port 7000, differently worded.
const RULES_A: &str = r#"
table netdev t {
    chain in {
        type filter hook ingress priority 0; policy accept;
        udp dport 7000 counter accept comment "udp"
        tcp dport 23 drop
    }
}
"#;
const RULES_B: &str = r#"
table netdev t {
    chain in {
        type filter hook ingress priority 0; policy accept;
        udp dport 7001 drop
        udp dport 7000 counter accept comment "udp"
        tcp dport 22 drop
    }
}
"#;

/// Two hosts, h1 10.60.0.1 and h2 10.60.0.2, with static neighbours (no
/// ARP during the measurement), behind a switch running `rules`.
fn pair(tag: &str, rules: &str) -> Result<(Topology, Daemon)> {
    let t = topology(tag, 2)?;
    let (h1, h2) = (&t.hosts[0], &t.hosts[1]);
    addr(h1, "eth0", "10.60.0.1/24")?;
    addr(h2, "eth0", "10.60.0.2/24")?;
    let (m1, m2) = (mac_of(h1, "eth0")?, mac_of(h2, "eth0")?);
    let text = |m: [u8; 6]| {
        m.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    h1.exec_checked(&[
        "ip",
        "neigh",
        "add",
        "10.60.0.2",
        "lladdr",
        &text(m2),
        "dev",
        "eth0",
    ])?;
    h2.exec_checked(&[
        "ip",
        "neigh",
        "add",
        "10.60.0.1",
        "lladdr",
        &text(m1),
        "dev",
        "eth0",
    ])?;
    let rules = ruleset(&t.sw, "a", rules)?;
    let d = Daemon::start(
        &t.sw,
        &[
            "--port",
            "s1",
            "--port",
            "s2",
            "--workers",
            "2",
            "--ruleset",
            rules.to_str().unwrap(),
        ],
    )?;
    Ok((t, d))
}

/// Receives numbered datagrams on h2 until `done` is set and nothing came
/// for half a second; returns how many times each number arrived.
fn receiver(
    h2: &jitswitch_tests::netns::Netns,
    done: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<Result<Vec<u32>>>> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let t = spawn_in(h2, move || {
        let sock = UdpSocket::bind(("10.60.0.2", PORT))?;
        let fd = std::os::fd::AsRawFd::as_raw_fd(&sock);
        let size: libc::c_int = 8 << 20;
        // SAFETY: setsockopt with a live int of the right size.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&raw const size).cast(),
                std::mem::size_of::<libc::c_int>() as u32,
            )
        };
        sock.set_read_timeout(Some(Duration::from_millis(500)))?;
        ready_tx.send(()).ok();
        let mut seen: Vec<u32> = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match sock.recv(&mut buf) {
                Ok(n) if n >= 4 => {
                    let seq = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                    if seen.len() <= seq {
                        seen.resize(seq + 1, 0);
                    }
                    seen[seq] += 1;
                }
                Ok(_) => {}
                Err(_) if done.load(Ordering::SeqCst) => return Ok(seen),
                Err(_) => {}
            }
        }
    })?;
    ready_rx.recv_timeout(Duration::from_secs(5))?;
    Ok(t)
}

/// Sends numbered datagrams from h1 at `rate` per second until `done` is
/// set; returns how many were sent.
fn sender(
    h1: &jitswitch_tests::netns::Netns,
    rate: u64,
    done: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<Result<u32>>> {
    spawn_in(h1, move || {
        let sock = UdpSocket::bind("10.60.0.1:0")?;
        sock.connect(("10.60.0.2", PORT))?;
        // No UDP checksum: with checksum offload on the veth, the frames
        // the switch reads would carry a partial one that the receiver
        // refuses.
        let one: libc::c_int = 1;
        // SAFETY: setsockopt with a live int of the right size.
        unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(&sock),
                libc::SOL_SOCKET,
                libc::SO_NO_CHECK,
                (&raw const one).cast(),
                std::mem::size_of::<libc::c_int>() as u32,
            )
        };
        let start = Instant::now();
        let mut seq: u32 = 0;
        while !done.load(Ordering::SeqCst) {
            let due = start + Duration::from_nanos(u64::from(seq) * 1_000_000_000 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let mut payload = [0u8; 18];
            payload[..4].copy_from_slice(&seq.to_be_bytes());
            if sock.send(&payload).is_ok() {
                seq += 1;
            }
        }
        Ok(seq)
    })
}

#[test]
fn every_datagram_arrives_once_across_100_reloads() -> Result<()> {
    if !can_run() {
        return Ok(());
    }
    let (t, d) = pair("rreload", RULES_A)?;
    let (h1, h2) = (&t.hosts[0], &t.hosts[1]);
    let b = ruleset(&t.sw, "b", RULES_B)?;
    let a = ruleset(&t.sw, "a", RULES_A)?;
    let (stop_rx, stop_tx) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let rx = receiver(h2, stop_rx.clone())?;
    let tx = sender(h1, 5000, stop_tx.clone())?;
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    for i in 0..100 {
        let file = if i % 2 == 0 { &b } else { &a };
        let Reply::Reloaded(r) = d.call(Op::Reload {
            file: Some(file.clone()),
        })?
        else {
            bail!("not a reload report");
        };
        assert_eq!(r.generation, i + 2);
        // The rule forwarding the datagrams is the same rule throughout.
        assert!(r.removed.iter().all(|x| x.comment.is_none()), "{r:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
    let took = start.elapsed();
    std::thread::sleep(Duration::from_millis(200));
    stop_tx.store(true, Ordering::SeqCst);
    let sent = tx.join().unwrap()?;
    stop_rx.store(true, Ordering::SeqCst);
    let seen = rx.join().unwrap()?;
    let lost: Vec<usize> = (0..sent as usize)
        .filter(|&i| seen.get(i).copied().unwrap_or(0) == 0)
        .collect();
    let twice: Vec<usize> = (0..seen.len()).filter(|&i| seen[i] > 1).collect();
    eprintln!(
        "{sent} datagrams across 100 reloads in {took:?}: {} lost, {} duplicated",
        lost.len(),
        twice.len()
    );
    assert!(sent > 1000, "the sender sent {sent}");
    assert!(
        lost.is_empty(),
        "lost, the first: {:?}",
        &lost[..lost.len().min(20)]
    );
    assert!(
        twice.is_empty(),
        "duplicated, the first: {:?}",
        &twice[..twice.len().min(20)]
    );
    assert_eq!(seen.len(), sent as usize, "nothing that was not sent");
    // The counter of the unchanged rule was carried across all reloads.
    assert_eq!(d.counter("udp")?, u64::from(sent));
    Ok(())
}

#[test]
fn a_deleted_rules_final_count_and_its_successors_add_up() -> Result<()> {
    if !can_run() {
        return Ok(());
    }
    let rules = r#"
table netdev t {
    chain in {
        type filter hook ingress priority 0; policy accept;
        udp dport 7000 counter accept comment "first"
        udp dport 7000 counter accept comment "second"
    }
}
"#;
    let (t, d) = pair("rdelete", rules)?;
    let (h1, h2) = (&t.hosts[0], &t.hosts[1]);
    let (stop_rx, stop_tx) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let rx = receiver(h2, stop_rx.clone())?;
    let tx = sender(h1, 4000, stop_tx.clone())?;
    std::thread::sleep(Duration::from_millis(700));
    let Reply::Deleted(gone) = d.call(Op::DeleteRule {
        rule: RuleSelector::Words("first".into()),
    })?
    else {
        bail!("not a deletion");
    };
    std::thread::sleep(Duration::from_millis(700));
    stop_tx.store(true, Ordering::SeqCst);
    let sent = u64::from(tx.join().unwrap()?);
    std::thread::sleep(Duration::from_millis(300));
    stop_rx.store(true, Ordering::SeqCst);
    let seen = rx.join().unwrap()?;
    let before = gone.counter.expect("the rule counted").packets;
    let after = d.counter("second")?;
    let Reply::Ports(ports) = d.call(Op::Ports)? else {
        bail!("not ports");
    };
    eprintln!(
        "{sent} sent: {before} counted by the deleted rule, {after} by its successor; {} received by h2; at the switch: {:?}",
        seen.iter().filter(|&&n| n > 0).count(),
        ports[0].stats
    );
    assert!(
        before > 1000 && after > 1000,
        "deleted mid-stream: {before} / {after}"
    );
    assert_eq!(before + after, sent, "every datagram counted exactly once");
    assert_eq!(seen.iter().filter(|&&n| n == 1).count() as u64, sent);
    // The final count stays readable.
    let Reply::Ruleset(view) = d.call(Op::List { deleted: true })? else {
        bail!("not a ruleset");
    };
    let history = view.deleted.unwrap_or_default();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].counter, gone.counter);
    assert_eq!(view.deleted_since_load, [gone.handle]);
    Ok(())
}

#[test]
fn a_ruleset_with_errors_changes_nothing() -> Result<()> {
    if !can_run() {
        return Ok(());
    }
    let rules = r#"
table netdev t {
    chain in {
        type filter hook ingress priority 0; policy drop;
        ether type arp accept
        icmp type { echo-request, echo-reply } counter accept comment "ping"
    }
}
"#;
    let (t, d) = pair("rerror", rules)?;
    let h1 = &t.hosts[0];
    assert!(ping(h1, "10.60.0.2")?);
    let bad = ruleset(
        &t.sw,
        "bad",
        "table netdev t {\n    chain in {\n        type filter hook ingress priority 0; policy accept;\n        ip saddr 80 accept\n    }\n}\n",
    )?;
    let err = d
        .call(Op::Reload {
            file: Some(bad.clone()),
        })
        .unwrap_err();
    assert!(err.to_string().contains("errors"), "{err}");
    // The diagnostics come with the answer, rendered and as JSON.
    let mut conn = UnixStream::connect(&d.socket)?;
    writeln!(
        conn,
        "{}",
        serde_json::json!({"id": 9, "op": "reload", "file": bad})
    )?;
    let mut line = String::new();
    BufReader::new(&conn).read_line(&mut line)?;
    let answer: serde_json::Value = serde_json::from_str(&line)?;
    assert_eq!(answer["id"], 9);
    let diags = &answer["error"]["diagnostics"];
    assert!(
        diags["rendered"].as_str().unwrap().contains("bad.nft:4:"),
        "{answer}"
    );
    assert_eq!(diags["json"][0]["line"], 4, "{answer}");
    // Still the old rules: ping passes, the policy still drops the rest.
    let before = d.counter("ping")?;
    assert!(ping(h1, "10.60.0.2")?);
    assert!(d.counter("ping")? >= before + 4);
    let Reply::Ruleset(view) = d.call(Op::List { deleted: false })? else {
        bail!("not a ruleset");
    };
    assert_eq!(view.generation, 1);
    Ok(())
}

/// One raw request line and its answer.
fn raw(socket: &std::path::Path, line: &[u8]) -> Result<serde_json::Value> {
    let mut conn = UnixStream::connect(socket)?;
    conn.write_all(line)?;
    let mut answer = String::new();
    BufReader::new(&conn).read_line(&mut answer)?;
    Ok(serde_json::from_str(&answer)?)
}

#[test]
fn bad_requests_and_rude_clients_leave_the_daemon_serving() -> Result<()> {
    if !can_run() {
        return Ok(());
    }
    let (t, d) = pair("rabuse", RULES_A)?;
    let sock = d.socket.clone();
    // Mode 0600.
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&sock)?.permissions());
    assert_eq!(mode & 0o777, 0o600);
    // Not JSON; JSON without an op; an unknown op; a bad argument.
    let a = raw(&sock, b"hello there\n")?;
    assert!(
        a["id"].is_null() && a["error"]["message"].is_string(),
        "{a}"
    );
    let a = raw(&sock, b"{\"id\": 4}\n")?;
    assert_eq!(a["id"], 4, "{a}");
    let a = raw(&sock, b"{\"id\": 5, \"op\": \"explode\"}\n")?;
    assert_eq!(a["id"], 5);
    assert!(
        a["error"]["message"].as_str().unwrap().contains("explode"),
        "{a}"
    );
    let a = raw(
        &sock,
        b"{\"id\": 6, \"op\": \"delete_rule\", \"rule\": {\"handle\": 999}}\n",
    )?;
    assert!(
        a["error"]["message"].as_str().unwrap().contains("no rule"),
        "{a}"
    );
    let a = raw(
        &sock,
        b"{\"id\": 7, \"op\": \"trace\", \"frame\": \"zz\"}\n",
    )?;
    assert!(a["error"].is_object(), "{a}");
    // Oversize: an error, then the same connection still serves.
    let mut conn = UnixStream::connect(&sock)?;
    let big = vec![b'x'; switchd::control::protocol::MAX_REQUEST + 10];
    conn.write_all(&big)?;
    conn.write_all(b"\n{\"id\": 8, \"op\": \"stats\"}\n")?;
    let mut reader = BufReader::new(&conn);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    assert!(line.contains("longer than"), "{line}");
    line.clear();
    reader.read_line(&mut line)?;
    assert!(
        line.contains("\"id\":8") && line.contains("\"ok\""),
        "{line}"
    );
    // Disconnects: in the middle of a request, and before the answer of a
    // slow one; clients that connect and say nothing.
    for _ in 0..20 {
        let mut c = UnixStream::connect(&sock)?;
        c.write_all(b"{\"id\": 1, \"op\": \"li")?;
        drop(c);
        let mut c = UnixStream::connect(&sock)?;
        c.write_all(b"{\"id\": 2, \"op\": \"list\", \"deleted\": true}\n")?;
        drop(c);
    }
    let idle: Vec<UnixStream> = (0..40)
        .map(|_| UnixStream::connect(&sock))
        .collect::<std::io::Result<_>>()?;
    std::thread::sleep(Duration::from_millis(300));
    drop(idle);
    std::thread::sleep(Duration::from_millis(300));
    // Still serving: requests answered, frames forwarded.
    assert!(matches!(d.call(Op::Stats)?, Reply::Stats(_)));
    assert!(ping(&t.hosts[0], "10.60.0.2")?);
    let (status, log) = d.stop()?;
    assert!(status.success(), "{status}\n{log}");
    assert!(!sock.exists(), "the socket file is removed on exit");
    Ok(())
}

#[test]
fn garbage_frames_through_the_edge_ruleset() -> Result<()> {
    if !can_run() {
        return Ok(());
    }
    let t = jumbo_pair("rjunk", "10.10.0")?;
    let [h1, h2] = &t.hosts[..] else {
        unreachable!()
    };
    let edge = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/rulesets/edge.nft");
    let mut d = Daemon::start(
        &t.sw,
        &[
            "--port",
            "s1",
            "--port",
            "s2",
            "--workers",
            "2",
            "--ruleset",
            edge,
        ],
    )?;
    assert!(ping(h1, "10.10.0.2")?);
    send_frames(h1, garbage())?;
    send_frames(h2, garbage())?;
    std::thread::sleep(Duration::from_millis(300));
    assert!(d.alive(), "switchd died:\n{}", d.log());
    assert!(ping(h1, "10.10.0.2")?, "still forwarding after the garbage");
    assert!(matches!(
        d.call(Op::List { deleted: false })?,
        Reply::Ruleset(_)
    ));
    let (status, log) = d.stop()?;
    assert!(status.success(), "{status}\n{log}");
    Ok(())
}
