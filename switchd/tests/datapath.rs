//! End-to-end tests of the worker loop over in-memory ports: learning,
//! flooding, VLAN access and trunk ports, the ruleset verdicts (`fwd`,
//! `dup`, `drop`, `flood`) with edits, fault injection, a port that goes
//! down and comes back, and several workers sharing the ports.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use switchd::classify::{AcceptAll, Classifier, PortNo};
use switchd::config::VlanRole;
use switchd::l2::bridge::Bridge;
use switchd::l2::fdb::Fdb;
use switchd::port::memory::{Faults, MemoryPeer, MemoryPort, link};
use switchd::stats::Stats;
use switchd::worker::{Shared, Worker};
use vm::{Edit, Final, Outcome, PortId};

/// A switch over in-memory ports with one worker that the test steps.
struct Rig<C> {
    worker: Worker<MemoryPort, C>,
    peers: Vec<MemoryPeer>,
    shared: Arc<Shared>,
    stats: Stats,
}

fn role(spec: &str) -> VlanRole {
    format!("p:{spec}")
        .parse::<switchd::config::PortConfig>()
        .unwrap()
        .vlan
}

fn rig<C: Classifier>(roles: &[&str], faults: Faults, classifier: C) -> Rig<C> {
    let (ports, peers): (Vec<_>, Vec<_>) = (0..roles.len())
        .map(|i| link(&format!("m{i}"), faults).unwrap())
        .unzip();
    let bridge = Bridge::new(
        roles.iter().map(|r| role(r).membership()).collect(),
        Fdb::new(64, 300_000),
    );
    let shared = Arc::new(Shared::new(bridge));
    let mut stats = Stats::default();
    let worker = Worker::new(
        0,
        ports,
        classifier,
        shared.clone(),
        stats.add_worker(roles.len()),
    );
    Rig {
        worker,
        peers,
        shared,
        stats,
    }
}

impl<C: Classifier> Rig<C> {
    /// Injects `frame` on port `from`, runs the worker, and returns what
    /// every port sent.
    fn send(&mut self, from: usize, frame: &[u8]) -> Vec<Vec<Vec<u8>>> {
        self.peers[from].inject(frame);
        self.worker.step(Duration::from_millis(50));
        self.peers.iter().map(MemoryPeer::take).collect()
    }
}

const BCAST: [u8; 6] = [0xff; 6];

fn mac(n: u8) -> [u8; 6] {
    [2, 0, 0, 0, 0, n]
}

/// An IPv4-looking frame, tagged when `vlan` is given.
fn frame(dst: [u8; 6], src: [u8; 6], vlan: Option<u16>) -> Vec<u8> {
    let mut f = dst.to_vec();
    f.extend_from_slice(&src);
    if let Some(v) = vlan {
        f.extend_from_slice(&[0x81, 0x00]);
        f.extend_from_slice(&v.to_be_bytes());
    }
    f.extend_from_slice(&[0x08, 0x00]);
    f.extend_from_slice(&[0x45; 46]);
    f
}

fn who(out: &[Vec<Vec<u8>>]) -> Vec<usize> {
    out.iter()
        .enumerate()
        .flat_map(|(i, v)| std::iter::repeat_n(i, v.len()))
        .collect()
}

#[test]
fn learns_floods_and_forwards() {
    let mut r = rig(
        &["access=1", "access=1", "access=1"],
        Faults::default(),
        AcceptAll,
    );
    // Broadcast and unknown unicast are flooded to every other port.
    let out = r.send(0, &frame(BCAST, mac(1), None));
    assert_eq!(who(&out), [1, 2]);
    assert_eq!(out[1][0], frame(BCAST, mac(1), None));
    let out = r.send(1, &frame(mac(9), mac(2), None));
    assert_eq!(who(&out), [0, 2], "unknown unicast is flooded");
    // Learned stations get their frames on their port only.
    assert_eq!(who(&r.send(1, &frame(mac(1), mac(2), None))), [0]);
    assert_eq!(who(&r.send(0, &frame(mac(2), mac(1), None))), [1]);
    // A multicast destination is flooded even if some station used it.
    let mut group = mac(1);
    group[0] |= 1;
    assert_eq!(who(&r.send(0, &frame(group, mac(1), None))), [1, 2]);
    // The station moves to port 2.
    r.send(2, &frame(BCAST, mac(1), None));
    assert_eq!(who(&r.send(1, &frame(mac(1), mac(2), None))), [2]);
    let fdb = r.shared.bridge.fdb();
    let entries = fdb.entries(r.shared.millis());
    let learned: Vec<_> = entries.iter().map(|e| (e.mac, e.port)).collect();
    assert_eq!(learned, [(mac(1), PortNo(2)), (mac(2), PortNo(1))]);
    assert_eq!(fdb.stats().moved, 1);
    let ports = r.stats.ports();
    assert_eq!(ports[0].rx_packets, 3);
    assert_eq!(ports[2].tx_packets, 4);
    assert_eq!(r.stats.workers()[0].packets, 7);
}

#[test]
fn vlan_access_and_trunk() {
    let mut r = rig(
        &[
            "access=10",
            "access=20",
            "trunk=10,20:native=1",
            "access=10",
        ],
        Faults::default(),
        AcceptAll,
    );
    // VLAN 10 broadcast: the other VLAN 10 access port untagged, the trunk tagged.
    let out = r.send(0, &frame(BCAST, mac(1), None));
    assert_eq!(who(&out), [2, 3]);
    assert_eq!(out[2][0], frame(BCAST, mac(1), Some(10)));
    assert_eq!(out[3][0], frame(BCAST, mac(1), None));
    // Tagged 20 from the trunk reaches the VLAN 20 access port untagged.
    let out = r.send(2, &frame(BCAST, mac(2), Some(20)));
    assert_eq!(who(&out), [1]);
    assert_eq!(out[1][0], frame(BCAST, mac(2), None));
    // Untagged on the trunk is the native VLAN 1: nobody else is in it.
    assert!(who(&r.send(2, &frame(BCAST, mac(3), None))).is_empty());
    // A host on an access port cannot hop into VLAN 20 by tagging.
    assert!(who(&r.send(0, &frame(BCAST, mac(1), Some(20)))).is_empty());
    // It may tag with its own VLAN.
    assert_eq!(who(&r.send(0, &frame(BCAST, mac(1), Some(10)))), [2, 3]);
    // A VLAN the trunk does not carry is dropped.
    assert!(who(&r.send(2, &frame(BCAST, mac(2), Some(30)))).is_empty());
    // Unicast between VLANs stays apart: mac(2) is known in VLAN 20 only.
    assert_eq!(
        who(&r.send(0, &frame(mac(2), mac(1), None))),
        [2, 3],
        "flooded in VLAN 10"
    );
    let ports = r.stats.ports();
    assert_eq!(ports[0].filtered, 1);
    assert_eq!(
        ports[2].filtered, 1,
        "VLAN 30 (native VLAN 1 has no other member: flooded to nobody)"
    );
}

/// A ruleset stand-in: the frame's last byte picks the verdict.
struct ByLastByte;

impl Classifier for ByLastByte {
    fn classify(&mut self, frame: &mut [u8], _input: PortNo, out: &mut Outcome) {
        out.clear(0);
        let Some(&last) = frame.last() else { return };
        match last {
            1 => out.verdict = Final::Drop,
            2 => out.verdict = Final::Fwd(PortId(2)),
            3 => out.verdict = Final::Flood,
            4 if frame.len() > 14 => {
                // dup to 3, then rewrite a byte and push a VLAN tag, fwd to 1.
                out.push_mirror(PortId(3));
                out.freeze_mirrors(frame);
                frame[14] = 0x99;
                let mut bytes = [0; vm::MAX_VALUE_BYTES];
                bytes[..4].copy_from_slice(&[0x81, 0x00, 0x00, 0x07]);
                out.edits.push(Edit::Insert {
                    at: 12,
                    len: 4,
                    bytes,
                });
                out.verdict = Final::Fwd(PortId(1));
            }
            5 => out.verdict = Final::Fwd(PortId(40)),
            _ => {}
        }
    }

    fn port(&self, id: PortId) -> Option<PortNo> {
        (id.0 < 4).then_some(PortNo(id.0))
    }
}

#[test]
fn ruleset_verdicts_mirrors_and_edits() {
    let mut r = rig(&["access=1"; 4], Faults::default(), ByLastByte);
    let with_last = |b: u8| {
        let mut f = frame(mac(2), mac(1), None);
        *f.last_mut().unwrap() = b;
        f
    };
    assert!(who(&r.send(0, &with_last(1))).is_empty(), "drop");
    assert_eq!(who(&r.send(0, &with_last(2))), [2], "fwd");
    assert_eq!(who(&r.send(1, &with_last(3))), [0, 2, 3], "flood");
    let out = r.send(0, &with_last(4));
    assert_eq!(who(&out), [1, 3], "fwd and dup");
    assert_eq!(
        out[3][0],
        with_last(4),
        "the mirror is the frame at the dup"
    );
    let mut edited = with_last(4);
    edited[14] = 0x99;
    edited.splice(12..12, [0x81, 0x00, 0x00, 0x07]);
    assert_eq!(out[1][0], edited);
    assert!(
        who(&r.send(0, &with_last(5))).is_empty(),
        "fwd to a port the switch lacks"
    );
    // Accept goes to L2 switching: unknown destination, flooded.
    assert_eq!(who(&r.send(0, &with_last(6))), [1, 2, 3]);
    assert_eq!(r.stats.ports()[0].filtered, 2);
}

#[test]
fn garbage_frames_do_not_crash() {
    let mut r = rig(
        &["access=1", "trunk=1-4094", "access=7"],
        Faults::default(),
        ByLastByte,
    );
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..3000 {
        let len = match i % 4 {
            0 => (next() % 20) as usize,
            1 => 14,
            2 => (next() % 200) as usize,
            _ => 9000,
        };
        let mut f: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if i % 3 == 0 && len >= 14 {
            f[12..14].copy_from_slice(&[0x81, 0x00]);
        }
        r.peers[i % 3].inject(&f);
        if i % 50 == 0 {
            r.worker.step(Duration::ZERO);
        }
    }
    while r.worker.step(Duration::ZERO) > 0 {}
    assert_eq!(r.stats.workers()[0].packets, 3000);
}

#[test]
fn faults_drop_and_truncate() {
    let faults = Faults {
        drop_every: 3,
        truncate_to: Some(100),
        max_len: Some(80),
    };
    let mut r = rig(&["access=1", "access=1"], faults, AcceptAll);
    let small = frame(BCAST, mac(1), None);
    let mut big = small.clone();
    big.resize(90, 0);
    let mut huge = small.clone();
    huge.resize(200, 0);
    for _ in 0..6 {
        r.peers[0].inject(&small);
    }
    r.peers[0].inject(&big);
    r.peers[0].inject(&huge);
    r.peers[0].inject(&small);
    while r.worker.step(Duration::ZERO) > 0 {}
    // 9 injected, every third lost on the link (3, 6, 9): the two large
    // frames got in, the one over the ring size was truncated and dropped,
    // the one over the far side's MTU was not carried.
    assert_eq!(r.peers[1].take().len(), 4);
    let ports = r.stats.ports();
    assert_eq!(ports[0].rx_packets, 5);
    assert_eq!((ports[1].tx_packets, ports[1].tx_drops), (4, 1));
}

fn run_until(r: &mut Rig<AcceptAll>, mut done: impl FnMut(&mut Rig<AcceptAll>) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        r.worker.step(Duration::from_millis(10));
        if done(r) {
            return true;
        }
    }
    false
}

#[test]
fn a_port_goes_down_and_comes_back() {
    let mut r = rig(&["access=1"; 3], Faults::default(), AcceptAll);
    r.send(1, &frame(BCAST, mac(2), None));
    r.send(2, &frame(BCAST, mac(3), None));
    r.peers[1].set_down(true);
    r.worker.step(Duration::from_millis(10));
    // Port 1 is down: the stations learned there are forgotten, port 2 still works.
    assert_eq!(
        r.shared.bridge.fdb().lookup(
            switchd::l2::vlan::Vid::new(1).unwrap(),
            &mac(2),
            r.shared.millis()
        ),
        None
    );
    let out = r.send(0, &frame(mac(3), mac(1), None));
    assert_eq!(who(&out), [2]);
    let out = r.send(0, &frame(BCAST, mac(1), None));
    assert_eq!(who(&out), [2]);
    assert_eq!(
        r.stats.ports()[1].tx_drops,
        1,
        "flooded copy for the down port"
    );
    // Back up: after the backoff, port 1 receives and sends again.
    r.peers[1].set_down(false);
    let peer = r.peers[1].clone();
    assert!(run_until(&mut r, |r| {
        r.peers[0].inject(&frame(BCAST, mac(1), None));
        !peer.take().is_empty()
    }));
    r.peers[1].inject(&frame(mac(1), mac(2), None));
    assert!(run_until(&mut r, |r| !r.peers[0].take().is_empty()));
}

#[test]
fn workers_share_ports() {
    let (ports, peers): (Vec<_>, Vec<_>) = (0..2)
        .map(|i| link(&format!("w{i}"), Faults::default()).unwrap())
        .unzip();
    let bridge = Bridge::new(
        vec![role("access=1").membership(); 2],
        Fdb::new(64, 300_000),
    );
    let shared = Arc::new(Shared::new(bridge));
    let mut stats = Stats::default();
    let threads: Vec<_> = (0..3)
        .map(|w| {
            let worker = Worker::new(
                w,
                ports.clone(),
                AcceptAll,
                shared.clone(),
                stats.add_worker(2),
            );
            std::thread::spawn(move || worker.run())
        })
        .collect();
    let n = 3000u16;
    for i in 0..n {
        let mut f = frame(mac(2), mac(1), None);
        f[20..22].copy_from_slice(&i.to_be_bytes());
        peers[0].inject(&f);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while got.len() < usize::from(n) && Instant::now() < deadline {
        got.extend(peers[1].take());
        std::thread::sleep(Duration::from_millis(5));
    }
    shared.stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let mut seq: Vec<u16> = got
        .iter()
        .map(|f| u16::from_be_bytes([f[20], f[21]]))
        .collect();
    seq.sort_unstable();
    assert_eq!(seq, (0..n).collect::<Vec<_>>(), "every frame exactly once");
    assert_eq!(
        stats.workers().iter().map(|w| w.packets).sum::<u64>(),
        u64::from(n)
    );
}
