//! Payload writes keep every checksum right: the rule writes a field, the
//! engine updates the checksums the prelude names incrementally (RFC 1624),
//! and etherparse, recomputing them from scratch, must agree.

use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use std::sync::Arc;
use switchd::cases::{Fields, Ip, Ip6, Tcp, Udp};

/// Runs `rule` (one statement list) on `frame` and returns the frame after.
fn rewrite(rule: &str, frame: &[u8]) -> Vec<u8> {
    let text = format!(
        "table netdev t {{\n  chain c {{\n    type filter hook ingress priority 0; policy accept;\n    {rule}\n  }}\n}}\n"
    );
    let checked =
        ruleset::check_str("write.nft", &text).unwrap_or_else(|d| panic!("{}", d.render(false)));
    let verified = compiler::compile_verified(&checked).unwrap_or_else(|e| {
        panic!(
            "{}",
            compiler::error::diagnostics(&checked, e).render(false)
        )
    });
    let instance = vm::Instance::new(
        Arc::new(verified),
        Arc::new(vm::runtime::MonotonicClock::new()),
    );
    let mut bytes = frame.to_vec();
    let port = vm::InputPort::unnamed();
    let mut out = vm::Outcome::new();
    vm::interpreter::run(
        &instance,
        vm::Packet {
            frame: &mut bytes,
            port: &port,
            mark: 0,
        },
        &mut out,
        &mut vm::NoTrace,
    );
    bytes
}

/// Checks the IPv4 header checksum and the TCP/UDP/ICMPv6 checksum of a frame.
fn assert_checksums(frame: &[u8], what: &str) {
    let p = SlicedPacket::from_ethernet(frame).unwrap_or_else(|e| panic!("{what}: {e}"));
    let payload = |t: &TransportSlice| match t {
        TransportSlice::Tcp(s) => s.payload().to_vec(),
        TransportSlice::Udp(s) => s.payload().to_vec(),
        TransportSlice::Icmpv6(s) => s.payload().to_vec(),
        _ => Vec::new(),
    };
    match (&p.net, &p.transport) {
        (Some(NetSlice::Ipv4(ip)), t) => {
            let h = ip.header().to_header();
            assert_eq!(
                h.header_checksum,
                h.calc_header_checksum(),
                "{what}: IPv4 header checksum"
            );
            match t {
                Some(TransportSlice::Tcp(s)) => {
                    let want = s
                        .to_header()
                        .calc_checksum_ipv4(&h, &payload(t.as_ref().unwrap()))
                        .unwrap();
                    assert_eq!(s.checksum(), want, "{what}: TCP checksum");
                }
                Some(TransportSlice::Udp(s)) if s.checksum() != 0 => {
                    let want = s
                        .to_header()
                        .calc_checksum_ipv4(&h, &payload(t.as_ref().unwrap()))
                        .unwrap();
                    assert_eq!(s.checksum(), want, "{what}: UDP checksum");
                }
                _ => {}
            }
        }
        (Some(NetSlice::Ipv6(ip)), Some(t)) => {
            let h = ip.header().to_header();
            match t {
                TransportSlice::Tcp(s) => {
                    assert_eq!(
                        s.checksum(),
                        s.to_header().calc_checksum_ipv6(&h, &payload(t)).unwrap(),
                        "{what}: TCP"
                    );
                }
                TransportSlice::Udp(s) => {
                    assert_eq!(
                        s.checksum(),
                        s.to_header().calc_checksum_ipv6(&h, &payload(t)).unwrap(),
                        "{what}: UDP"
                    );
                }
                _ => {}
            }
        }
        _ => panic!("{what}: no IP header"),
    }
}

fn v4(tcp: bool) -> Vec<u8> {
    Fields {
        ip: Some(Ip {
            src: Some("10.0.0.1".into()),
            ..Ip::default()
        }),
        tcp: tcp.then(|| Tcp {
            dport: Some(80),
            flags: "syn".into(),
            ..Tcp::default()
        }),
        udp: (!tcp).then(|| Udp {
            dport: Some(53),
            ..Udp::default()
        }),
        payload: Some("0102030405".into()),
        ..Fields::default()
    }
    .build()
    .unwrap()
}

fn v6(tcp: bool) -> Vec<u8> {
    Fields {
        ip6: Some(Ip6::default()),
        tcp: tcp.then(|| Tcp {
            dport: Some(80),
            ..Tcp::default()
        }),
        udp: (!tcp).then(|| Udp {
            dport: Some(53),
            ..Udp::default()
        }),
        payload: Some("0a0b0c".into()),
        ..Fields::default()
    }
    .build()
    .unwrap()
}

#[test]
fn ipv4_writes_keep_header_and_transport_checksums() {
    for rule in [
        "ip saddr set 192.168.7.9",
        "ip daddr set 10.255.0.3",
        "ip ttl set 3",
        "ip dscp set ef",
        "ip ecn set ce",
        "ip id set 4242",
        "tcp dport set 8080",
        "tcp sport set 1",
        "tcp flags set 0x12",
        "udp dport set 5353",
        "udp sport set 7",
        "ip saddr set 1.2.3.4 ip daddr set 5.6.7.8 tcp dport set 443",
    ] {
        for tcp in [true, false] {
            let before = v4(tcp);
            let after = rewrite(rule, &before);
            assert_checksums(&after, &format!("{rule} (tcp: {tcp})"));
        }
    }
    // The write happened.
    let after = rewrite("ip saddr set 192.168.7.9", &v4(true));
    assert_eq!(&after[26..30], &[192, 168, 7, 9]);
}

#[test]
fn ipv6_writes_keep_transport_checksums() {
    for rule in [
        "ip6 saddr set 2001:db8::99",
        "ip6 daddr set fe80::1",
        "ip6 hoplimit set 1",
        "tcp dport set 22",
    ] {
        for tcp in [true, false] {
            let after = rewrite(rule, &v6(tcp));
            assert_checksums(&after, &format!("{rule} (tcp: {tcp})"));
        }
    }
}

#[test]
fn a_udp_packet_without_checksum_keeps_none() {
    let mut frame = v4(false);
    // Zero the UDP checksum: "no checksum" over IPv4.
    frame[40] = 0;
    frame[41] = 0;
    let after = rewrite("ip saddr set 192.168.7.9", &frame);
    assert_eq!(&after[40..42], &[0, 0]);
    assert_checksums(&after, "udp without checksum");
}

#[test]
fn the_test_frames_start_with_right_checksums() {
    for tcp in [true, false] {
        assert_checksums(&v4(tcp), "v4");
        assert_checksums(&v6(tcp), "v6");
    }
}
