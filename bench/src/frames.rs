//! The frames the engine benchmarks run, built with `etherparse`: a mix for
//! the `edge` ruleset and 5-tuple hits and misses for the ACLs. The binary
//! `bench_frames` writes them to `bench/frames/*.hex`, one hex frame a
//! line after a `#` line saying what it is (`switchctl trace --packets`
//! and `switchctl bench --packets` read that format).

use etherparse::PacketBuilder;

/// A frame and what it is.
pub struct Frame {
    /// What the frame is, for the comment line.
    pub what: String,
    /// The bytes.
    pub bytes: Vec<u8>,
}

const HOST: [u8; 6] = [2, 0, 0, 0, 0, 1];
const ROUTER: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// A TCP or UDP frame over IPv4, optionally behind a VLAN tag.
fn ip4(
    vlan: Option<u16>,
    src: [u8; 4],
    dst: [u8; 4],
    tcp: Option<(u16, u16, bool)>,
    udp: Option<(u16, u16)>,
) -> Vec<u8> {
    let eth = PacketBuilder::ethernet2(HOST, ROUTER);
    let ip = match vlan {
        Some(id) => eth
            .single_vlan(id.try_into().expect("a VLAN id"))
            .ipv4(src, dst, 64),
        None => eth.ipv4(src, dst, 64),
    };
    let mut out = Vec::new();
    let written = match (tcp, udp) {
        (Some((sport, dport, syn)), _) => {
            let t = ip.tcp(sport, dport, 1, 1024);
            let t = if syn { t.syn() } else { t.ack(1) };
            t.write(&mut out, &[])
        }
        (None, Some((sport, dport))) => ip.udp(sport, dport).write(&mut out, &[0; 18]),
        (None, None) => ip.icmpv4_echo_reply(1, 1).write(&mut out, &[0; 8]),
    };
    written.expect("a valid frame");
    out.resize(out.len().max(60), 0);
    out
}

/// The `edge` mix, as received on the uplink (`veth3`): every rule of the
/// ruleset decides some frame, and some fall through to the policy.
pub fn edge() -> Vec<Frame> {
    let f = |what: &str, bytes: Vec<u8>| Frame {
        what: what.into(),
        bytes,
    };
    let mut arp = Vec::new();
    PacketBuilder::ethernet2(HOST, [0xff; 6])
        .arp(
            etherparse::ArpPacket::new(
                etherparse::ArpHardwareId::ETHERNET,
                etherparse::EtherType::IPV4,
                etherparse::ArpOperation::REQUEST,
                &HOST,
                &[10, 10, 0, 1],
                &[0; 6],
                &[10, 10, 0, 2],
            )
            .expect("an ARP packet"),
        )
        .write(&mut arp)
        .expect("a valid frame");
    arp.resize(60, 0);
    let mut lldp = vec![0x01, 0x80, 0xc2, 0, 0, 0x0e, 2, 0, 0, 0, 0, 1, 0x88, 0xcc];
    lldp.resize(60, 0);
    let mut nd = Vec::new();
    PacketBuilder::ethernet2(HOST, ROUTER)
        .ipv6(
            [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 2],
            255,
        )
        .icmpv6(etherparse::Icmpv6Type::Unknown {
            type_u8: 135,
            code_u8: 0,
            bytes5to8: [0; 4],
        })
        .write(&mut nd, &[0; 16])
        .expect("a valid frame");
    let up = [10, 30, 0, 9];
    vec![
        f("arp request", arp),
        f("lldp", lldp),
        f("ipv6 neighbour solicitation", nd),
        f(
            "from a blocked source",
            ip4(
                None,
                [192, 0, 2, 9],
                [10, 10, 0, 9],
                None,
                Some((1000, 2000)),
            ),
        ),
        f(
            "to a blocked host",
            ip4(None, up, [203, 0, 113, 7], Some((40000, 443, false)), None),
        ),
        f(
            "voice on vlan 30",
            ip4(Some(30), up, [10, 10, 0, 9], None, Some((16384, 16384))),
        ),
        f(
            "tcp syn to a web server",
            ip4(None, up, [10, 10, 0, 80], Some((40001, 80, true)), None),
        ),
        f(
            "dns query",
            ip4(None, up, [10, 10, 0, 53], None, Some((5353, 53))),
        ),
        f(
            "sip",
            ip4(None, up, [10, 10, 0, 9], None, Some((5060, 5060))),
        ),
        f(
            "https to the web server",
            ip4(None, up, [10, 10, 0, 80], Some((40002, 443, false)), None),
        ),
        f(
            "ssh to the admin host",
            ip4(None, up, [10, 10, 0, 22], Some((40003, 22, false)), None),
        ),
        f(
            "to the management network",
            ip4(None, up, [10, 99, 0, 3], Some((40004, 8443, false)), None),
        ),
        f(
            "rdp",
            ip4(None, up, [10, 10, 0, 7], Some((40005, 3389, false)), None),
        ),
        f(
            "plain tcp",
            ip4(None, up, [10, 10, 0, 7], Some((40006, 8080, false)), None),
        ),
        f(
            "plain udp",
            ip4(None, up, [10, 20, 0, 7], None, Some((40007, 9999))),
        ),
        f("icmp echo reply", ip4(None, up, [10, 10, 0, 7], None, None)),
    ]
}

/// Frames for the `acl-N` rulesets (`ruleset/benches/five_tuple.rs`):
/// hits on rules spread through the list (first, middle, last) and misses
/// by one port.
pub fn acl(n: usize, tuple: impl Fn(usize) -> (String, String, bool, u16, u16)) -> Vec<Frame> {
    let addr = |s: &str| -> [u8; 4] {
        let v: Vec<u8> = s
            .split('.')
            .map(|x| x.parse().expect("an address"))
            .collect();
        [v[0], v[1], v[2], v[3]]
    };
    let mut out = Vec::new();
    for i in [0, n / 4, n / 2, 3 * n / 4, n - 1] {
        let (s, d, tcp, sport, dport) = tuple(i);
        for (what, dport) in [("hits", dport), ("misses by one port", dport + 1)] {
            let bytes = if tcp {
                ip4(None, addr(&s), addr(&d), Some((sport, dport, false)), None)
            } else {
                ip4(None, addr(&s), addr(&d), None, Some((sport, dport)))
            };
            out.push(Frame {
                what: format!("{what} rule {i}"),
                bytes,
            });
        }
    }
    out
}

/// Writes frames in the `--packets` format.
pub fn to_hex(frames: &[Frame]) -> String {
    let mut out = String::new();
    for f in frames {
        out += &format!("# {}\n", f.what);
        out.extend(f.bytes.iter().map(|b| format!("{b:02x}")));
        out.push('\n');
    }
    out
}
