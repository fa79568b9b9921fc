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

mod common;

use anyhow::Result;
use common::*;
use jitswitch_tests::netns::Netns;
use std::io::Read;
use std::process::Command;
use std::time::{Duration, Instant};

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
    let t = jumbo_pair("junk", "10.30.0")?;
    let [h1, h2] = &t.hosts[..] else {
        unreachable!()
    };
    let mut d = Daemon::start(&t.sw, &["--port", "s1", "--port", "s2", "--workers", "2"])?;
    assert!(ping(h1, "10.30.0.2")?);

    let junk = garbage();
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
    // An engine that does not exist is refused, naming the ones that do.
    let out = Command::new(env!("CARGO_BIN_EXE_switchd"))
        .args(["--port", "x", "--engine", "fast"])
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("interp") && err.contains("jit"), "{err}");
    Ok(())
}
