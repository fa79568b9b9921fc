//! A realistic edge ACL written by hand in bytecode, the way the compiler
//! will emit it from the prelude (docs/design.md §2.2): a parse section
//! computing `ll`, `nh`, `th`, `protocol` and `l4proto` for Ethernet,
//! 802.1Q, IPv4 (validated, options skipped, later fragments without a
//! transport header) and IPv6, then a 20-rule filter chain with compares,
//! set lookups, a range, counters, limits, a verdict map and a jump.
//!
//! Protocol knowledge lives here, in the tests and the benchmark, never in
//! `vm/src`. Also builds the frames the benchmark and tests run.

use super::{
    base_chain, chain, cmp, exact, imm, load, load_key, lookup, rule, set_base, set_key, v, verdict,
};
use vm::{
    AluOp, BaseId, CmpOp, CounterDecl, CounterId, Insn, LimitDecl, LimitId, LimitUnit, MapData,
    MapDecl, MapElem, MapId, MapValue, Meta, Operand, Policy, Program, Reg, SetDecl, SetElem,
    SetKind, SourceRef, Value, Verdict,
};

/// Base slots.
pub const LL: u8 = 0;
/// Network header base.
pub const NH: u8 = 1;
/// Transport header base.
pub const TH: u8 = 2;
/// Key: the network protocol (ethertype after an outer tag).
pub const PROTOCOL: u8 = 0;
/// Key: the transport protocol.
pub const L4PROTO: u8 = 1;

const ETH_IP4: [u8; 2] = [0x08, 0x00];
const ETH_IP6: [u8; 2] = [0x86, 0xdd];
const ETH_ARP: [u8; 2] = [0x08, 0x06];
const ETH_VLAN: [u8; 2] = [0x81, 0x00];
const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;
const ICMP6: u8 = 58;

fn key4(k: &[u8; 2]) -> Vec<u8> {
    vec![0, 0, k[0], k[1]]
}

fn prefix4(addr: [u8; 4], len: u32) -> SetElem {
    let a = u32::from_be_bytes(addr);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    SetElem {
        low: vec![v(&(a & mask).to_be_bytes())],
        high: vec![v(&(a | !mask).to_be_bytes())],
    }
}

fn src(line: u32, text: &str) -> Option<SourceRef> {
    Some(SourceRef {
        file: "edge.nft".into(),
        line,
        text: text.into(),
        comment: None,
    })
}

fn proto_is(reg: u8, key: u8, value: &[u8]) -> [Insn; 2] {
    [load_key(reg, key), cmp(reg, CmpOp::Eq, value)]
}

fn alu(dst: u8, a: u8, op: AluOp, b: u32) -> Insn {
    Insn::Alu {
        dst: Reg(dst),
        a: Reg(a),
        op,
        b: Operand::Imm(b),
    }
}

fn parse_section() -> Vec<vm::Rule> {
    vec![
        // The frame starts with the link header.
        rule(vec![set_base(LL, None, 0)]),
        // Untagged: the ethertype is the protocol, the network header at 14.
        rule(vec![
            load(0, LL, 12, 2),
            set_key(PROTOCOL, 0),
            set_base(NH, Some(LL), 14),
        ]),
        // One outer 802.1Q tag is taken off before the hook.
        rule(vec![
            load(0, LL, 12, 2),
            cmp(0, CmpOp::Eq, &ETH_VLAN),
            load(1, LL, 16, 2),
            set_key(PROTOCOL, 1),
            set_base(NH, Some(LL), 18),
        ]),
        // IPv4: version 4, ihl >= 5, total length within the frame and at
        // least ihl * 4; the transport header after the options, absent in
        // later fragments.
        rule(vec![
            load_key(0, PROTOCOL),
            cmp(0, CmpOp::Eq, &key4(&ETH_IP4)),
            load(1, NH, 0, 1),
            Insn::Bitwise {
                dst: Reg(2),
                src: Reg(1),
                mask: v(&[0xf0]),
                xor: v(&[0]),
            },
            cmp(2, CmpOp::Eq, &[0x40]),
            alu(3, 1, AluOp::And, 0x0f),
            cmp(3, CmpOp::Ge, &[0, 0, 0, 5]),
            alu(3, 3, AluOp::Shl, 2),
            load(4, NH, 2, 2),
            Insn::CmpReg {
                a: Reg(4),
                op: CmpOp::Ge,
                b: Reg(3),
            },
            Insn::LoadBase {
                dst: Reg(5),
                base: BaseId(NH),
            },
            Insn::Alu {
                dst: Reg(5),
                a: Reg(5),
                op: AluOp::Add,
                b: Operand::Reg(Reg(4)),
            },
            Insn::LoadMeta {
                dst: Reg(6),
                meta: Meta::Len,
            },
            Insn::CmpReg {
                a: Reg(5),
                op: CmpOp::Le,
                b: Reg(6),
            },
            load(7, NH, 9, 1),
            set_key(L4PROTO, 7),
            load(8, NH, 6, 2),
            Insn::Bitwise {
                dst: Reg(8),
                src: Reg(8),
                mask: v(&[0x1f, 0xff]),
                xor: v(&[0, 0]),
            },
            cmp(8, CmpOp::Eq, &[0, 0]),
            Insn::SetBase {
                dst: BaseId(TH),
                from: Some(BaseId(NH)),
                offset: 0,
                add: Some(Reg(3)),
            },
        ]),
        // IPv6: version 6, payload within the frame; no extension headers.
        rule(vec![
            load_key(0, PROTOCOL),
            cmp(0, CmpOp::Eq, &key4(&ETH_IP6)),
            load(1, NH, 0, 1),
            Insn::Bitwise {
                dst: Reg(1),
                src: Reg(1),
                mask: v(&[0xf0]),
                xor: v(&[0]),
            },
            cmp(1, CmpOp::Eq, &[0x60]),
            load(2, NH, 4, 2),
            Insn::LoadBase {
                dst: Reg(3),
                base: BaseId(NH),
            },
            Insn::Alu {
                dst: Reg(3),
                a: Reg(3),
                op: AluOp::Add,
                b: Operand::Reg(Reg(2)),
            },
            alu(3, 3, AluOp::Add, 40),
            Insn::LoadMeta {
                dst: Reg(4),
                meta: Meta::Len,
            },
            Insn::CmpReg {
                a: Reg(3),
                op: CmpOp::Le,
                b: Reg(4),
            },
            load(5, NH, 6, 1),
            set_key(L4PROTO, 5),
            set_base(TH, Some(NH), 40),
        ]),
    ]
}

/// The edge ACL program.
pub fn program() -> Program {
    let ip4 = || proto_is(0, PROTOCOL, &key4(&ETH_IP4));
    let l4 = |p: u8| proto_is(1, L4PROTO, &[p]);
    let mut rules = vec![
        // 0
        (1, "meta iifname \"mgmt0\" accept", {
            let mut name = [0u8; 16];
            name[..5].copy_from_slice(b"mgmt0");
            vec![
                Insn::LoadMeta {
                    dst: Reg(0),
                    meta: Meta::IifName,
                },
                cmp(0, CmpOp::Eq, &name),
                verdict(Verdict::Accept),
            ]
        }),
        // 1
        (
            2,
            "ether saddr @blocked_macs drop",
            vec![
                load(0, LL, 6, 6),
                lookup(0, 0, false),
                verdict(Verdict::Drop),
            ],
        ),
        // 2
        (
            3,
            "meta protocol arp accept",
            [
                proto_is(0, PROTOCOL, &key4(&ETH_ARP)).to_vec(),
                vec![verdict(Verdict::Accept)],
            ]
            .concat(),
        ),
        // 3
        (
            4,
            "ip saddr @blocklist counter drop",
            [
                ip4().to_vec(),
                vec![
                    load(1, NH, 12, 4),
                    lookup(1, 1, false),
                    Insn::Counter {
                        counter: CounterId(1),
                    },
                    verdict(Verdict::Drop),
                ],
            ]
            .concat(),
        ),
        // 4
        (
            5,
            "ip ttl < 2 drop",
            [
                ip4().to_vec(),
                vec![
                    load(1, NH, 8, 1),
                    cmp(1, CmpOp::Lt, &[2]),
                    verdict(Verdict::Drop),
                ],
            ]
            .concat(),
        ),
        // 5
        (
            6,
            "meta length > 1514 drop",
            vec![
                Insn::LoadMeta {
                    dst: Reg(0),
                    meta: Meta::Len,
                },
                cmp(0, CmpOp::Gt, &1514u32.to_be_bytes()),
                verdict(Verdict::Drop),
            ],
        ),
        // 6
        (
            7,
            "tcp flags & (fin|syn) == fin|syn drop",
            [
                l4(TCP).to_vec(),
                vec![
                    load(2, TH, 13, 1),
                    Insn::Bitwise {
                        dst: Reg(2),
                        src: Reg(2),
                        mask: v(&[0x03]),
                        xor: v(&[0]),
                    },
                    cmp(2, CmpOp::Eq, &[0x03]),
                    verdict(Verdict::Drop),
                ],
            ]
            .concat(),
        ),
        // 7
        (
            8,
            "ip6 saddr fe80::/10 accept",
            [
                proto_is(0, PROTOCOL, &key4(&ETH_IP6)).to_vec(),
                vec![
                    load(1, NH, 8, 16),
                    Insn::Bitwise {
                        dst: Reg(1),
                        src: Reg(1),
                        mask: v(&[0xff, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
                        xor: v(&[0; 16]),
                    },
                    cmp(
                        1,
                        CmpOp::Eq,
                        &[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
                    ),
                    verdict(Verdict::Accept),
                ],
            ]
            .concat(),
        ),
        // 8
        (
            9,
            "tcp dport 22 ip saddr 10.0.0.0/8 counter accept",
            [
                l4(TCP).to_vec(),
                vec![load(2, TH, 2, 2), cmp(2, CmpOp::Eq, &[0, 22])],
                ip4().to_vec(),
                vec![
                    load(3, NH, 12, 4),
                    Insn::Bitwise {
                        dst: Reg(3),
                        src: Reg(3),
                        mask: v(&[0xff, 0, 0, 0]),
                        xor: v(&[0; 4]),
                    },
                    cmp(3, CmpOp::Eq, &[10, 0, 0, 0]),
                    Insn::Counter {
                        counter: CounterId(0),
                    },
                    verdict(Verdict::Accept),
                ],
            ]
            .concat(),
        ),
        // 9
        (
            10,
            "tcp dport 22 drop",
            [
                l4(TCP).to_vec(),
                vec![
                    load(2, TH, 2, 2),
                    cmp(2, CmpOp::Eq, &[0, 22]),
                    verdict(Verdict::Drop),
                ],
            ]
            .concat(),
        ),
        // 10
        (
            11,
            "ip daddr . tcp dport @services counter accept",
            [
                ip4().to_vec(),
                l4(TCP).to_vec(),
                vec![
                    load(2, NH, 16, 4),
                    load(3, TH, 2, 2),
                    lookup(2, 2, false),
                    Insn::Counter {
                        counter: CounterId(2),
                    },
                    verdict(Verdict::Accept),
                ],
            ]
            .concat(),
        ),
        // 11
        (
            12,
            "tcp dport { 80, 443 } accept",
            [
                l4(TCP).to_vec(),
                vec![
                    load(2, TH, 2, 2),
                    lookup(2, 3, false),
                    verdict(Verdict::Accept),
                ],
            ]
            .concat(),
        ),
        // 12
        (
            13,
            "tcp dport 1024-65535 tcp flags & ack == ack accept",
            [
                l4(TCP).to_vec(),
                vec![
                    load(2, TH, 2, 2),
                    Insn::Range {
                        src: Reg(2),
                        low: v(&[4, 0]),
                        high: v(&[0xff, 0xff]),
                        negate: false,
                    },
                    load(3, TH, 13, 1),
                    Insn::Bitwise {
                        dst: Reg(3),
                        src: Reg(3),
                        mask: v(&[0x10]),
                        xor: v(&[0]),
                    },
                    cmp(3, CmpOp::Eq, &[0x10]),
                    verdict(Verdict::Accept),
                ],
            ]
            .concat(),
        ),
        // 13
        (
            14,
            "udp dport vmap { 4789 : jump vxlan }",
            [
                l4(UDP).to_vec(),
                vec![
                    load(2, TH, 2, 2),
                    Insn::VmapLookup {
                        src: Reg(2),
                        map: MapId(0),
                    },
                ],
            ]
            .concat(),
        ),
        // 14
        (
            15,
            "udp dport 53 limit rate 1000/second accept",
            [
                l4(UDP).to_vec(),
                vec![
                    load(2, TH, 2, 2),
                    cmp(2, CmpOp::Eq, &[0, 53]),
                    Insn::Limit { limit: LimitId(0) },
                    verdict(Verdict::Accept),
                ],
            ]
            .concat(),
        ),
        // 15
        (
            16,
            "udp dport 67-68 accept",
            [
                l4(UDP).to_vec(),
                vec![
                    load(2, TH, 2, 2),
                    Insn::Range {
                        src: Reg(2),
                        low: v(&[0, 67]),
                        high: v(&[0, 68]),
                        negate: false,
                    },
                    verdict(Verdict::Accept),
                ],
            ]
            .concat(),
        ),
        // 16
        (
            17,
            "icmp type echo-request limit rate 10/second accept",
            [
                ip4().to_vec(),
                l4(ICMP).to_vec(),
                vec![
                    load(2, TH, 0, 1),
                    cmp(2, CmpOp::Eq, &[8]),
                    Insn::Limit { limit: LimitId(1) },
                    verdict(Verdict::Accept),
                ],
            ]
            .concat(),
        ),
        // 17
        (
            18,
            "meta l4proto ipv6-icmp accept",
            [l4(ICMP6).to_vec(), vec![verdict(Verdict::Accept)]].concat(),
        ),
        // 18
        (
            19,
            "ip dscp ef meta mark set 46",
            [
                ip4().to_vec(),
                vec![
                    load(1, NH, 1, 1),
                    Insn::Bitwise {
                        dst: Reg(1),
                        src: Reg(1),
                        mask: v(&[0xfc]),
                        xor: v(&[0]),
                    },
                    cmp(1, CmpOp::Eq, &[46 << 2]),
                    imm(2, &[0, 0, 0, 46]),
                    Insn::SetMark { src: Reg(2) },
                ],
            ]
            .concat(),
        ),
        // 19
        (
            20,
            "log prefix \"edge drop: \" counter drop",
            vec![
                Insn::Log {
                    prefix: "edge drop: ".into(),
                },
                Insn::Counter {
                    counter: CounterId(3),
                },
                verdict(Verdict::Drop),
            ],
        ),
    ];
    let mut filter = Vec::new();
    for (i, (line, text, insns)) in rules.drain(..).enumerate() {
        let mut r = rule(insns);
        r.handle = i as u64 + 1;
        r.fingerprint = 0x5eed_0000 + i as u64;
        r.source = src(line, text);
        // The rule's statistics counter is that of its counter statement.
        r.counter = r.insns.iter().find_map(|insn| match insn {
            Insn::Counter { counter } => Some(*counter),
            _ => None,
        });
        filter.push(r);
    }
    let vxlan = vec![
        {
            let mut r = rule(vec![
                load(0, TH, 8, 1),
                cmp(0, CmpOp::Eq, &[0x08]),
                verdict(Verdict::Accept),
            ]);
            r.handle = 30;
            r.source = src(24, "@th,64,8 0x08 accept");
            r
        },
        {
            let mut r = rule(vec![verdict(Verdict::Drop)]);
            r.handle = 31;
            r.source = src(25, "drop");
            r
        },
    ];
    Program {
        bases: vec!["ll".into(), "nh".into(), "th".into()],
        keys: vec!["protocol".into(), "l4proto".into()],
        parse: parse_section(),
        chains: vec![
            base_chain("filter/input", 0, Policy::Drop, filter),
            chain("filter/vxlan", vxlan),
        ],
        sets: vec![
            SetDecl {
                name: "blocked_macs".into(),
                key: vec![6],
                kind: SetKind::Hash,
                elements: vec![
                    exact(&[&[0x02, 0, 0, 0, 0, 0x66]]),
                    exact(&[&[0x02, 0, 0, 0, 0, 0x67]]),
                ],
            },
            SetDecl {
                name: "blocklist".into(),
                key: vec![4],
                kind: SetKind::Interval,
                elements: vec![
                    prefix4([192, 0, 2, 0], 24),
                    prefix4([198, 51, 100, 0], 24),
                    prefix4([203, 0, 113, 7], 32),
                ],
            },
            SetDecl {
                name: "services".into(),
                key: vec![4, 2],
                kind: SetKind::Hash,
                elements: vec![
                    exact(&[&[10, 0, 0, 2], &[0, 25]]),
                    exact(&[&[10, 0, 0, 2], &[0x01, 0xbb]]),
                ],
            },
            SetDecl {
                name: "__set0".into(),
                key: vec![2],
                kind: SetKind::Hash,
                elements: vec![exact(&[&[0, 80]]), exact(&[&[0x01, 0xbb]])],
            },
        ],
        maps: vec![MapDecl {
            name: "__map0".into(),
            key: vec![2],
            kind: SetKind::Hash,
            data: MapData::Verdict,
            elements: vec![MapElem {
                key: exact(&[&[0x12, 0xb5]]),
                data: MapValue::Verdict(Verdict::Jump(vm::ChainId(1))),
            }],
        }],
        counters: ["rule 9", "blocklist", "services", "default drop"]
            .iter()
            .map(|n| CounterDecl { name: (*n).into() })
            .collect(),
        limits: vec![
            LimitDecl {
                rate: 1000,
                per_ns: 1_000_000_000,
                burst: 0,
                unit: LimitUnit::Packets,
                over: false,
            },
            LimitDecl {
                rate: 10,
                per_ns: 1_000_000_000,
                burst: 5,
                unit: LimitUnit::Packets,
                over: false,
            },
        ],
        ports: vec!["mgmt0".into(), "eth1".into()],
    }
}

/// An Ethernet header to a fixed MAC from `src_mac`, with `ethertype`.
fn ether(src_mac: [u8; 6], ethertype: [u8; 2]) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x01];
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&ethertype);
    f
}

/// An IPv4 header (no options) with a valid checksum, for a payload of
/// `payload` bytes.
pub fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], ttl: u8, payload: usize) -> Vec<u8> {
    let total = (20 + payload) as u16;
    let mut h = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, ttl, proto, 0, 0];
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let c = vm::checksum::compute(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h
}

/// A TCP header (20 bytes) with these ports and flags, checksum 0.
pub fn tcp(sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut h = vec![0u8; 20];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[12] = 0x50;
    h[13] = flags;
    h
}

/// A UDP header (8 bytes) for `payload` bytes, checksum 0.
pub fn udp(sport: u16, dport: u16, payload: usize) -> Vec<u8> {
    let mut h = vec![0u8; 8];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..6].copy_from_slice(&((8 + payload) as u16).to_be_bytes());
    h
}

fn ipv4_frame(
    src_mac: [u8; 6],
    proto: u8,
    src: [u8; 4],
    dst: [u8; 4],
    l4: &[u8],
    payload: usize,
) -> Vec<u8> {
    let mut f = ether(src_mac, ETH_IP4);
    f.extend(ipv4(proto, src, dst, 64, l4.len() + payload));
    f.extend_from_slice(l4);
    f.extend(std::iter::repeat_n(0xa5, payload));
    f
}

const HOST: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];

/// A named frame and the verdict and deciding rule the edge ACL gives it
/// (`None`: the policy).
pub struct Case {
    /// What the frame is.
    pub what: &'static str,
    /// The bytes.
    pub frame: Vec<u8>,
    /// The expected verdict: true accept, false drop.
    pub accept: bool,
    /// The expected deciding rule of `filter/input` or, when jumped to,
    /// of `filter/vxlan` (index + 100), or `None` for the policy.
    pub rule: Option<usize>,
}

/// The mix of frames the benchmark runs and the tests check.
pub fn cases() -> Vec<Case> {
    let ssh_syn = ipv4_frame(
        HOST,
        TCP,
        [10, 1, 2, 3],
        [10, 0, 0, 1],
        &tcp(40000, 22, 0x02),
        0,
    );
    let mut tagged = ether(HOST, ETH_VLAN);
    tagged.extend_from_slice(&[0x00, 0x0a]);
    tagged.extend_from_slice(&ETH_IP4);
    tagged.extend(ipv4(TCP, [10, 1, 2, 3], [10, 0, 0, 1], 64, 20));
    tagged.extend(tcp(40000, 22, 0x02));
    let mut ip6 = ether(HOST, ETH_IP6);
    ip6.extend_from_slice(&[0x60, 0, 0, 0, 0, 20, TCP, 64]);
    ip6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    ip6.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    ip6.extend(tcp(40000, 443, 0x02));
    let mut arp = ether(HOST, ETH_ARP);
    arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    arp.extend_from_slice(&[0; 20]);
    let mut vxlan = udp(40000, 4789, 8);
    vxlan.extend_from_slice(&[0x08, 0, 0, 0, 0, 0, 100, 0]);
    let mut truncated = ssh_syn.clone();
    truncated.truncate(14 + 20 + 3);
    let mut blocked_mac = ssh_syn.clone();
    blocked_mac[11] = 0x66;
    vec![
        Case {
            what: "ssh syn from 10/8",
            frame: ssh_syn,
            accept: true,
            rule: Some(8),
        },
        Case {
            what: "ssh syn from outside",
            frame: ipv4_frame(
                HOST,
                TCP,
                [192, 168, 1, 1],
                [10, 0, 0, 1],
                &tcp(40000, 22, 0x02),
                0,
            ),
            accept: false,
            rule: Some(9),
        },
        Case {
            what: "https ack",
            frame: ipv4_frame(
                HOST,
                TCP,
                [192, 168, 1, 1],
                [10, 0, 0, 1],
                &tcp(40000, 443, 0x10),
                100,
            ),
            accept: true,
            rule: Some(11),
        },
        Case {
            what: "smtp to the service",
            frame: ipv4_frame(
                HOST,
                TCP,
                [192, 168, 1, 1],
                [10, 0, 0, 2],
                &tcp(40000, 25, 0x02),
                0,
            ),
            accept: true,
            rule: Some(10),
        },
        Case {
            what: "high port ack",
            frame: ipv4_frame(
                HOST,
                TCP,
                [192, 168, 1, 1],
                [10, 0, 0, 1],
                &tcp(443, 50000, 0x10),
                1000,
            ),
            accept: true,
            rule: Some(12),
        },
        Case {
            what: "dns query",
            frame: ipv4_frame(
                HOST,
                UDP,
                [192, 168, 1, 1],
                [10, 0, 0, 1],
                &udp(5353, 53, 30),
                30,
            ),
            accept: true,
            rule: Some(14),
        },
        Case {
            what: "vxlan",
            frame: ipv4_frame(HOST, UDP, [192, 168, 1, 1], [10, 0, 0, 1], &vxlan, 0),
            accept: true,
            rule: Some(100),
        },
        Case {
            what: "ping",
            frame: ipv4_frame(
                HOST,
                ICMP,
                [192, 168, 1, 1],
                [10, 0, 0, 1],
                &[8, 0, 0, 0, 0, 1, 0, 1],
                56,
            ),
            accept: true,
            rule: Some(16),
        },
        Case {
            what: "blocklisted source",
            frame: ipv4_frame(
                HOST,
                TCP,
                [198, 51, 100, 9],
                [10, 0, 0, 1],
                &tcp(40000, 443, 0x02),
                0,
            ),
            accept: false,
            rule: Some(3),
        },
        Case {
            what: "802.1Q ssh syn from 10/8",
            frame: tagged,
            accept: true,
            rule: Some(8),
        },
        Case {
            what: "ipv6 https syn",
            frame: ip6,
            accept: true,
            rule: Some(11),
        },
        Case {
            what: "arp request",
            frame: arp,
            accept: true,
            rule: Some(2),
        },
        Case {
            what: "blocked mac",
            frame: blocked_mac,
            accept: false,
            rule: Some(1),
        },
        Case {
            what: "truncated tcp",
            frame: truncated,
            accept: false,
            rule: Some(19),
        },
        Case {
            what: "syn+fin",
            frame: ipv4_frame(
                HOST,
                TCP,
                [192, 168, 1, 1],
                [10, 0, 0, 1],
                &tcp(1, 2, 0x03),
                0,
            ),
            accept: false,
            rule: Some(6),
        },
        Case {
            what: "unknown udp",
            frame: ipv4_frame(
                HOST,
                UDP,
                [192, 168, 1, 1],
                [10, 0, 0, 1],
                &udp(1, 9999, 4),
                4,
            ),
            accept: false,
            rule: Some(19),
        },
    ]
}

/// The value of a key as the parse section stores it, for tests.
pub fn protocol_key(ethertype: [u8; 2]) -> Value {
    v(&key4(&ethertype))
}
