//! Seeded generation of test frames: untagged and VLAN-tagged (802.1Q,
//! 802.1ad, QinQ), IPv4 with and without options, fragments and malformed
//! headers, IPv6 with extension headers, TCP, UDP, ICMP, ICMPv6, ARP,
//! unknown ethertypes, and truncated copies of all of them.
//!
//! Field values come from small pools so that generated rules, which take
//! their values from these frames, hit often and miss by one often.

use etherparse::{
    ArpHardwareId, ArpOperation, ArpPacket, EtherType, Ethernet2Header, IcmpEchoHeader,
    Icmpv4Header, Icmpv4Type, Icmpv6Header, Icmpv6Type, IpDscp, IpEcn, IpFragOffset, IpNumber,
    Ipv4Header, Ipv6FlowLabel, Ipv6FragmentHeader, Ipv6Header, Ipv6RawExtHeader, SingleVlanHeader,
    TcpHeader, UdpHeader, VlanId, VlanPcp,
};
use rand::Rng;
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;

/// A generated frame and a short description of how it was made.
#[derive(Clone, Debug)]
pub struct Frame {
    /// What the frame is, for failure messages (`8021q(10)/ipv4+opt/tcp trunc 37`).
    pub what: String,
    /// The bytes as sent on the wire.
    pub bytes: Vec<u8>,
}

/// The big-endian 16-bit number at `at` of `b`, if `b` holds it.
pub fn be16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

/// Where the network header of `b` starts as the ingress hook sees it:
/// after the Ethernet header and at most one (offloaded) 802.1Q or 802.1ad
/// tag. The network protocol is the type field just before it.
pub fn network_offset(b: &[u8]) -> usize {
    match be16(b, 12) {
        Some(0x8100 | 0x88a8) => 18,
        _ => 14,
    }
}

/// MAC addresses frames are built from: two stations, broadcast, a
/// multicast group and the receiving port's own address (`meta pkttype`).
pub const MACS: [[u8; 6]; 5] = [
    [0x02, 0, 0, 0, 0, 0x01],
    [0x02, 0, 0, 0, 0, 0x02],
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    [0x01, 0x00, 0x5e, 0, 0, 0x01],
    crate::kernel::DEVICE_ADDR,
];
/// IPv4 addresses frames are built from.
pub const IPV4: [[u8; 4]; 5] = [
    [10, 0, 0, 1],
    [10, 0, 0, 2],
    [10, 1, 2, 3],
    [192, 168, 1, 1],
    [172, 16, 0, 255],
];
/// Ports frames are built from.
pub const PORTS: [u16; 8] = [0, 22, 53, 80, 443, 1024, 4789, 65535];

fn ipv6(rng: &mut SmallRng) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[0] = 0x20;
    a[1] = 0x01;
    a[2] = 0x0d;
    a[3] = 0xb8;
    a[15] = *[1u8, 2, 0xff].choose(rng).unwrap();
    a
}

fn port(rng: &mut SmallRng) -> u16 {
    if rng.random_bool(0.8) {
        *PORTS.choose(rng).unwrap()
    } else {
        rng.random()
    }
}

/// Generates `n` frames.
pub fn generate(rng: &mut SmallRng, n: usize) -> Vec<Frame> {
    (0..n).map(|_| one(rng)).collect()
}

fn one(rng: &mut SmallRng) -> Frame {
    if rng.random_bool(0.03) {
        let len = rng.random_range(14..80);
        return Frame {
            what: format!("random {len}"),
            bytes: (0..len).map(|_| rng.random()).collect(),
        };
    }
    let (net_what, ether_type, mut payload) = match rng.random_range(0..100) {
        0..45 => ipv4_packet(rng),
        45..75 => ipv6_packet(rng),
        75..88 => arp_packet(rng),
        88..94 => (
            "mpls".to_string(),
            0x8847,
            (0..rng.random_range(0..40)).map(|_| rng.random()).collect(),
        ),
        _ => {
            let t = if rng.random_bool(0.5) {
                rng.random_range(0..0x600)
            } else {
                rng.random()
            };
            let mut payload: Vec<u8> = (0..rng.random_range(0..40)).map(|_| rng.random()).collect();
            // Raw 802.3 (Novell): a length, then ff ff.
            if t < 0x600 && rng.random_bool(0.3) {
                payload.splice(0..payload.len().min(2), [0xff, 0xff]);
            }
            (format!("type {t:#06x}"), t, payload)
        }
    };
    let (tag_what, tags): (&str, Vec<(u16, u16)>) = match rng.random_range(0..100) {
        0..60 => ("", vec![]),
        60..78 => ("8021q/", vec![(0x8100, vid(rng))]),
        78..86 => ("8021ad/", vec![(0x88a8, vid(rng))]),
        86..93 => ("qinq/", vec![(0x88a8, vid(rng)), (0x8100, vid(rng))]),
        _ => ("dot1q-dot1q/", vec![(0x8100, vid(rng)), (0x8100, vid(rng))]),
    };
    let mut bytes = Vec::new();
    let first_type = tags.first().map_or(ether_type, |t| t.0);
    Ethernet2Header {
        destination: *MACS.choose(rng).unwrap(),
        source: MACS[rng.random_range(0..2)],
        ether_type: EtherType(first_type),
    }
    .write(&mut bytes)
    .unwrap();
    for (i, (_, tci)) in tags.iter().enumerate() {
        let next = tags.get(i + 1).map_or(ether_type, |t| t.0);
        SingleVlanHeader {
            pcp: VlanPcp::try_new((tci >> 13) as u8).unwrap(),
            drop_eligible_indicator: tci & 0x1000 != 0,
            vlan_id: VlanId::try_new(tci & 0xfff).unwrap(),
            ether_type: EtherType(next),
        }
        .write(&mut bytes)
        .unwrap();
    }
    bytes.append(&mut payload);
    let mut what = format!("{tag_what}{net_what}");
    if rng.random_bool(0.2) && bytes.len() > 15 {
        let len = rng.random_range(14..bytes.len());
        bytes.truncate(len);
        what.push_str(&format!(" trunc {len}"));
    }
    Frame { what, bytes }
}

fn vid(rng: &mut SmallRng) -> u16 {
    let id = *[0u16, 1, 10, 100, 4095].choose(rng).unwrap();
    let pcp: u16 = *[0u16, 5, 7].choose(rng).unwrap();
    let dei = u16::from(rng.random_bool(0.1));
    (pcp << 13) | (dei << 12) | id
}

/// A transport header and payload for `proto` over IPv4 or IPv6.
fn transport(rng: &mut SmallRng, v6: bool) -> (String, IpNumber, Vec<u8>) {
    let mut out = Vec::new();
    let (what, proto) = match rng.random_range(0..100) {
        0..40 => {
            let mut tcp = TcpHeader::new(port(rng), port(rng), rng.random(), rng.random());
            tcp.acknowledgment_number = rng.random();
            tcp.syn = rng.random_bool(0.5);
            tcp.ack = rng.random_bool(0.5);
            tcp.fin = rng.random_bool(0.1);
            tcp.rst = rng.random_bool(0.1);
            tcp.urgent_pointer = *[0u16, 1].choose(rng).unwrap();
            tcp.write(&mut out).unwrap();
            ("tcp", IpNumber::TCP)
        }
        40..70 => {
            let len = rng.random_range(0..16usize);
            let udp = UdpHeader {
                source_port: port(rng),
                destination_port: port(rng),
                length: (8 + len) as u16,
                checksum: rng.random(),
            };
            udp.write(&mut out).unwrap();
            out.extend((0..len).map(|_| rng.random::<u8>()));
            ("udp", IpNumber::UDP)
        }
        70..90 if v6 => {
            let t = *[
                Icmpv6Type::EchoRequest(IcmpEchoHeader {
                    id: rng.random(),
                    seq: 1,
                }),
                Icmpv6Type::EchoReply(IcmpEchoHeader {
                    id: 7,
                    seq: rng.random(),
                }),
            ]
            .choose(rng)
            .unwrap();
            Icmpv6Header::new(t).write(&mut out).unwrap();
            ("icmpv6", IpNumber::IPV6_ICMP)
        }
        70..90 => {
            let t = match rng.random_range(0..3) {
                0 => Icmpv4Type::EchoRequest(IcmpEchoHeader {
                    id: rng.random_range(0..3),
                    seq: 1,
                }),
                1 => Icmpv4Type::EchoReply(IcmpEchoHeader {
                    id: 7,
                    seq: rng.random_range(0..3),
                }),
                _ => Icmpv4Type::TimeExceeded(
                    etherparse::icmpv4::TimeExceededCode::TtlExceededInTransit,
                ),
            };
            Icmpv4Header::new(t).write(&mut out).unwrap();
            ("icmp", IpNumber::ICMP)
        }
        _ => {
            out.extend((0..rng.random_range(0..24)).map(|_| rng.random::<u8>()));
            *[
                ("icmp-in-other", IpNumber::ICMP),
                ("gre", IpNumber::GRE),
                ("esp", IpNumber(50)),
            ]
            .choose(rng)
            .unwrap()
        }
    };
    (what.to_string(), proto, out)
}

fn ipv4_packet(rng: &mut SmallRng) -> (String, u16, Vec<u8>) {
    let (l4_what, proto, l4) = transport(rng, false);
    let mut ip = Ipv4Header::new(
        l4.len() as u16,
        *[1u8, 64, 128, 255].choose(rng).unwrap(),
        proto,
        *IPV4.choose(rng).unwrap(),
        *IPV4.choose(rng).unwrap(),
    )
    .unwrap();
    ip.dscp = IpDscp::try_new(*[0u8, 8, 10, 46].choose(rng).unwrap()).unwrap();
    ip.ecn = IpEcn::try_new(rng.random_range(0..4)).unwrap();
    ip.identification = rng.random_range(0..3);
    let mut what = String::from("ipv4");
    if rng.random_bool(0.2) {
        let words = rng.random_range(1..=10usize);
        let mut opts = vec![1u8; words * 4];
        opts[words * 4 - 1] = 0;
        ip.options = opts.as_slice().try_into().unwrap();
        what.push_str(&format!("+opt{}", words * 4));
    }
    if rng.random_bool(0.15) {
        ip.more_fragments = rng.random_bool(0.5);
        ip.fragment_offset = IpFragOffset::try_new(*[0u16, 1, 185].choose(rng).unwrap()).unwrap();
        what.push_str(&format!("+frag{}", ip.fragment_offset.value()));
    }
    ip.dont_fragment = rng.random_bool(0.3);
    ip.total_len = (ip.header_len() + l4.len()) as u16;
    ip.header_checksum = ip.calc_header_checksum();
    let mut bytes = ip.to_bytes().to_vec();
    if rng.random_bool(0.1) {
        match rng.random_range(0..4) {
            0 => {
                bytes[0] = (bytes[0] & 0xf0) | rng.random_range(0..5);
                what.push_str("+badihl");
            }
            1 => {
                bytes[0] = 0x60 | (bytes[0] & 0x0f);
                what.push_str("+v6");
            }
            2 => {
                let long = ip.total_len.saturating_add(rng.random_range(1..100));
                bytes[2..4].copy_from_slice(&long.to_be_bytes());
                what.push_str("+longlen");
            }
            _ => {
                let short = rng.random_range(0..ip.header_len() as u16);
                bytes[2..4].copy_from_slice(&short.to_be_bytes());
                what.push_str("+shortlen");
            }
        }
    }
    bytes.extend(l4);
    if rng.random_bool(0.1) {
        bytes.extend(std::iter::repeat_n(0, rng.random_range(1..20)));
        what.push_str("+pad");
    }
    (format!("{what}/{l4_what}"), 0x0800, bytes)
}

fn ipv6_packet(rng: &mut SmallRng) -> (String, u16, Vec<u8>) {
    let (l4_what, proto, l4) = transport(rng, true);
    let mut what = String::from("ipv6");
    // Extension headers, innermost last: each (number, bytes without next header).
    let mut exts: Vec<(IpNumber, Vec<u8>)> = Vec::new();
    for _ in 0..rng.random_range(0..=3) {
        match rng.random_range(0..4) {
            0 => exts.push((IpNumber::IPV6_HEADER_HOP_BY_HOP, vec![0; 6])),
            1 => exts.push((IpNumber::IPV6_DESTINATION_OPTIONS, vec![0; 14])),
            2 => exts.push((IpNumber::IPV6_ROUTE_HEADER, vec![0; 6])),
            _ => exts.push((IpNumber::IPV6_FRAGMENTATION_HEADER, vec![])),
        }
    }
    let mut chain = Vec::new();
    for (i, (number, body)) in exts.iter().enumerate() {
        let next = exts.get(i + 1).map_or(proto, |e| e.0);
        if *number == IpNumber::IPV6_FRAGMENTATION_HEADER {
            let offset = *[0u16, 0, 1, 100].choose(rng).unwrap();
            let frag = Ipv6FragmentHeader::new(
                next,
                IpFragOffset::try_new(offset).unwrap(),
                rng.random_bool(0.5),
                7,
            );
            frag.write(&mut chain).unwrap();
            what.push_str(&format!("+frag{offset}"));
        } else {
            Ipv6RawExtHeader::new_raw(next, body)
                .unwrap()
                .write(&mut chain)
                .unwrap();
            what.push_str(&format!("+ext{}", number.0));
        }
    }
    let header = Ipv6Header {
        traffic_class: *[0u8, 0x20, 0xb8, 0x03].choose(rng).unwrap(),
        flow_label: Ipv6FlowLabel::try_new(*[0u32, 1, 0xfffff].choose(rng).unwrap()).unwrap(),
        payload_length: (chain.len() + l4.len()) as u16,
        next_header: exts.first().map_or(proto, |e| e.0),
        hop_limit: *[1u8, 64, 255].choose(rng).unwrap(),
        source: ipv6(rng),
        destination: ipv6(rng),
    };
    let mut bytes = header.to_bytes().to_vec();
    if rng.random_bool(0.08) {
        if rng.random_bool(0.5) {
            bytes[0] = 0x40 | (bytes[0] & 0x0f);
            what.push_str("+v4");
        } else {
            let long = header
                .payload_length
                .saturating_add(rng.random_range(1..100));
            bytes[4..6].copy_from_slice(&long.to_be_bytes());
            what.push_str("+longlen");
        }
    }
    bytes.extend(chain);
    bytes.extend(l4);
    (format!("{what}/{l4_what}"), 0x86dd, bytes)
}

fn arp_packet(rng: &mut SmallRng) -> (String, u16, Vec<u8>) {
    let op = *[ArpOperation::REQUEST, ArpOperation::REPLY]
        .choose(rng)
        .unwrap();
    let arp = ArpPacket::new(
        ArpHardwareId::ETHERNET,
        EtherType::IPV4,
        op,
        &MACS[rng.random_range(0..2)],
        IPV4.choose(rng).unwrap(),
        &MACS[rng.random_range(0..3)],
        IPV4.choose(rng).unwrap(),
    )
    .unwrap();
    let mut bytes = Vec::new();
    arp.write(&mut bytes).unwrap();
    (format!("arp op {}", op.0), 0x0806, bytes)
}
