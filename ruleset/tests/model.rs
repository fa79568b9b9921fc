//! The checked model says what a rule means, the way nft does: these pin
//! the implicit relations, normalisations and conversions that
//! `nft --debug=netlink` shows for the same rules (flag matches, prefixes,
//! wildcards, bitwise masks), and how names resolve.

use ruleset::model::*;
use ruleset::registry::{Layer, MetaRef};

fn checked(rules: &str) -> CheckedRuleset {
    let text = format!(
        "table netdev t {{\n chain web {{\n  accept\n }}\n chain c {{\n  type filter hook ingress device \"veth0\" priority 0; policy drop;\n  {rules}\n }}\n}}\n"
    );
    ruleset::check_str("t.nft", &text).unwrap_or_else(|d| panic!("{}", d.render(false)))
}

/// The statements of the single rule of chain `c`.
fn stmts(rule: &str) -> Vec<StmtKind> {
    let c = checked(rule);
    c.tables[0].chains[1].rules[0]
        .stmts
        .iter()
        .map(|s| s.kind.clone())
        .collect()
}

/// The match of a one-match rule.
fn the_match(rule: &str) -> Match {
    match stmts(rule).remove(0) {
        StmtKind::Match(m) => m,
        other => panic!("not a match: {other:?}"),
    }
}

fn rel(rule: &str) -> Relation {
    the_match(rule).rel
}

#[test]
fn flag_types_follow_nft_implicit_relations() {
    // [ bitwise reg 1 = ( reg 1 & 0x12 ) ^ 0 ] [ cmp neq reg 1 0 ]
    assert!(matches!(
        rel("tcp flags syn,ack"),
        Relation::FlagsAny {
            negate: false,
            mask: 0x12
        }
    ));
    assert!(matches!(
        rel("tcp flags syn|ack"),
        Relation::FlagsAny {
            negate: false,
            mask: 0x12
        }
    ));
    // [ bitwise ... & 0x02 ] [ cmp eq reg 1 0 ]
    assert!(matches!(
        rel("tcp flags ! syn"),
        Relation::FlagsAny {
            negate: true,
            mask: 0x02
        }
    ));
    // [ bitwise ... & 0x12 ] [ cmp eq reg 1 0x02 ]
    assert!(matches!(
        rel("tcp flags syn / syn,ack"),
        Relation::Masked {
            negate: false,
            value: 0x02,
            mask: 0x12
        }
    ));
    // explicit operators compare exactly: [ cmp neq reg 1 0x02 ]
    assert!(
        matches!(rel("tcp flags != syn"), Relation::Cmp { op: CmpOp::Ne, ref values } if values == &[2])
    );
    assert!(
        matches!(rel("tcp flags == syn|ack"), Relation::Cmp { op: CmpOp::Eq, ref values } if values == &[0x12])
    );
    // a number after `/` is a prefix length, as in nft: the top 2 bits
    assert!(matches!(
        rel("tcp flags syn / 2"),
        Relation::Prefix {
            negate: false,
            value: 0,
            len: 2
        }
    ));
    // ranges of flag values are ranges, as in nft
    assert!(matches!(
        rel("tcp flags 0x02-0x12"),
        Relation::Range {
            negate: false,
            low: 2,
            high: 0x12
        }
    ));
    assert!(matches!(
        rel("tcp flags != 0x02-0x12"),
        Relation::Range { negate: true, .. }
    ));
    // a set of flags compares exactly against each element
    let Relation::InSet {
        negate: false,
        set: SetRef::Anonymous(body),
    } = rel("tcp flags { syn, syn|ack }")
    else {
        panic!()
    };
    let keys: Vec<_> = body.elements.iter().map(|e| e.key.clone()).collect();
    assert_eq!(keys, vec![vec![Atom::Value(0x02)], vec![Atom::Value(0x12)]]);
}

#[test]
fn bitwise_matches_keep_mask_and_xor() {
    let m = the_match("tcp flags & (syn|ack) == syn");
    assert_eq!(m.key[0].bitwise, Some(Bitwise { mask: 0x12, xor: 0 }));
    assert!(matches!(m.rel, Relation::Cmp { op: CmpOp::Eq, ref values } if values == &[2]));
    let m = the_match("meta mark | 0x10 == 0x10");
    assert_eq!(
        m.key[0].bitwise,
        Some(Bitwise {
            mask: 0xffff_ffef,
            xor: 0x10
        })
    );
    let m = the_match("meta mark ^ 1 == 0");
    assert_eq!(
        m.key[0].bitwise,
        Some(Bitwise {
            mask: 0xffff_ffff,
            xor: 1
        })
    );
}

#[test]
fn prefixes_are_normalised() {
    assert!(matches!(
        rel("ip saddr 10.1.2.3/8"),
        Relation::Prefix {
            negate: false,
            value: 0x0a00_0000,
            len: 8
        }
    ));
    assert!(matches!(
        rel("ip saddr != 10.0.0.0/8"),
        Relation::Prefix { negate: true, .. }
    ));
    // nft: [ payload load 1b @ transport header + 2 ] [ cmp eq reg 1 0 ]
    assert!(matches!(
        rel("tcp dport 22/8"),
        Relation::Prefix {
            value: 0,
            len: 8,
            ..
        }
    ));
    let Relation::Prefix { value, len, .. } = rel("ip6 daddr 2001:db8::1/32") else {
        panic!()
    };
    assert_eq!((value, len), (0x2001_0db8 << 96, 32));
    // iifname "veth*": the first four bytes
    let Relation::Prefix { value, len, .. } = rel("meta iifname \"veth*\"") else {
        panic!()
    };
    assert_eq!(
        (value, len),
        (u128::from_be_bytes(*b"veth\0\0\0\0\0\0\0\0\0\0\0\0"), 32)
    );
}

#[test]
fn literals_take_the_field_type() {
    assert!(
        matches!(rel("ether type 8021ad"), Relation::Cmp { ref values, .. } if values == &[0x88a8])
    );
    assert!(
        matches!(rel("ip6 saddr ::ffff:1.2.3.4"), Relation::Cmp { ref values, .. } if values == &[0xffff_0102_0304])
    );
    assert!(
        matches!(rel("ether saddr 00:11:22:33:44:55"), Relation::Cmp { ref values, .. } if values == &[0x0011_2233_4455])
    );
    assert!(matches!(rel("tcp dport ssh"), Relation::Cmp { ref values, .. } if values == &[22]));
    assert!(matches!(rel("ip dscp cs1"), Relation::Cmp { ref values, .. } if values == &[8]));
    assert!(matches!(
        rel("vlan id 100-200"),
        Relation::Range {
            negate: false,
            low: 100,
            high: 200
        }
    ));
    // A wildcard name is a prefix of the NUL-padded name.
    assert!(matches!(
        rel("meta iifname \"veth*\""),
        Relation::Prefix { negate: false, value, len: 32 } if value == u128::from_be_bytes(*b"veth\0\0\0\0\0\0\0\0\0\0\0\0")
    ));
}

/// `meta iifname` against exact names is `meta iif` against the ports of
/// those names (the device `veth0` is port 0); other name matches stay.
#[test]
fn exact_interface_names_match_as_ports() {
    let iif = |m: &Match| {
        let registry = checked("").registry;
        m.key[0].load == Load::Meta(registry.meta("iif").unwrap())
    };
    let m = the_match("meta iifname \"veth0\"");
    assert!(iif(&m) && matches!(m.rel, Relation::Cmp { ref values, .. } if values == &[0]));
    let m = the_match("meta iifname != { \"veth1\", \"veth0\" }");
    let Relation::InSet {
        negate: true,
        set: SetRef::Anonymous(body),
    } = &m.rel
    else {
        panic!("{:?}", m.rel)
    };
    let ids: Vec<_> = body.elements.iter().map(|e| e.key.clone()).collect();
    assert!(iif(&m) && ids == [vec![Atom::Value(1)], vec![Atom::Value(0)]]);
    assert!(!iif(&the_match("meta iifname \"veth*\"")));
}

#[test]
fn fields_resolve_to_offsets_in_the_registry() {
    let c = checked("arp saddr ip 10.0.0.1");
    let StmtKind::Match(m) = &c.tables[0].chains[1].rules[0].stmts[0].kind else {
        panic!()
    };
    let Load::Field { header, field } = m.key[0].load else {
        panic!()
    };
    let f = c.registry.field(header, field);
    assert_eq!(
        (
            c.registry.header(header).name.as_str(),
            f.name.as_str(),
            f.offset,
            f.bits
        ),
        ("arp", "saddr ip", 112, 32)
    );
    assert!(matches!(
        the_match("meta l4proto tcp").key[0].load,
        Load::Meta(MetaRef::LayerKey(Layer::Transport))
    ));
    assert!(matches!(
        the_match("@nh,72,8 6").key[0].load,
        Load::Raw {
            base: RawBase::Layer(Layer::Network),
            offset: 72,
            bits: 8
        }
    ));
}

#[test]
fn ports_become_indices() {
    let c = checked("meta iif \"veth1\" dup to \"veth2\" fwd to \"veth1\"");
    assert_eq!(c.ports, ["veth0", "veth1", "veth2"]);
    let s: Vec<_> = c.tables[0].chains[1].rules[0]
        .stmts
        .iter()
        .map(|s| s.kind.clone())
        .collect();
    assert!(
        matches!(&s[0], StmtKind::Match(Match { rel: Relation::Cmp { values, .. }, .. }) if values == &[1])
    );
    assert!(matches!(s[1], StmtKind::Dup(PortId(2))));
    assert!(matches!(s[2], StmtKind::Verdict(Verdict::Fwd(PortId(1)))));
    assert_eq!(
        c.tables[0].chains[1].base.unwrap(),
        BaseChain {
            device: Some(PortId(0)),
            priority: 0,
            policy: Policy::Drop
        }
    );
}

#[test]
fn statements_are_normalised() {
    let s =
        stmts("limit rate over 1 mbytes/second burst 2 mbytes counter packets 3 bytes 4 jump web");
    assert_eq!(
        s[0].clone().limit(),
        Limit {
            rate: 1 << 20,
            per_seconds: 1,
            bytes: true,
            burst: 2 << 20,
            over: true
        }
    );
    assert!(matches!(
        s[1],
        StmtKind::Counter {
            packets: 3,
            bytes: 4
        }
    ));
    assert!(matches!(s[2], StmtKind::Verdict(Verdict::Jump(ChainId(0)))));
    let s = stmts("limit rate 10/minute");
    assert_eq!(
        s[0].clone().limit(),
        Limit {
            rate: 10,
            per_seconds: 60,
            bytes: false,
            burst: 5,
            over: false
        }
    );
    let s = stmts("meta mark set tcp dport map { 22 : 1, 80-90 : 2 }");
    let StmtKind::Write {
        value: WriteValue::Map {
            map: SetRef::Anonymous(body),
            ..
        },
        ..
    } = &s[0]
    else {
        panic!()
    };
    assert!(body.interval);
    assert_eq!(
        body.elements[1].key,
        vec![Atom::Range { low: 80, high: 90 }]
    );
    assert_eq!(body.elements[1].data, Some(MapValue::Value(2)));
}

#[test]
fn variables_are_substituted_and_concatenations_typed() {
    let text = "define net = 10.0.0.0/8\ndefine ports = { 22, 80 }\ntable netdev t {\n chain c {\n  ip saddr $net tcp dport $ports\n  ip saddr . tcp dport { 10.0.0.1 . 22, $net . 80 }\n }\n}\n";
    let c = ruleset::check_str("v.nft", text).unwrap();
    let rules = &c.tables[0].chains[0].rules;
    let StmtKind::Match(m) = &rules[0].stmts[0].kind else {
        panic!()
    };
    assert!(matches!(
        m.rel,
        Relation::Prefix {
            value: 0x0a00_0000,
            len: 8,
            ..
        }
    ));
    let StmtKind::Match(m) = &rules[1].stmts[0].kind else {
        panic!()
    };
    let Relation::InSet {
        set: SetRef::Anonymous(body),
        ..
    } = &m.rel
    else {
        panic!()
    };
    assert_eq!(body.key.len(), 2);
    assert_eq!(
        body.elements[1].key,
        vec![
            Atom::Prefix {
                value: 0x0a00_0000,
                len: 8
            },
            Atom::Value(80)
        ]
    );
}

#[test]
fn user_headers_join_the_registry() {
    let text = "header vxlan { flags : 8; _ : 24; vni : 24; _ : 8; }\nparse udp dport 4789 => vxlan;\ntable netdev t {\n chain c {\n  vxlan vni 100 @vxlan,32,24 100\n }\n}\n";
    let c = ruleset::check_str("x.nft", text).unwrap();
    let vx = c.registry.header_id("vxlan").unwrap();
    let h = c.registry.header(vx);
    assert_eq!((h.bits, h.fields.len(), h.fields[1].offset), (64, 2, 32));
    let edge = c.registry.edges.last().unwrap();
    assert_eq!(edge.target, vx);
    let StmtKind::Match(m) = &c.tables[0].chains[0].rules[0].stmts[1].kind else {
        panic!()
    };
    assert!(
        matches!(m.key[0].load, Load::Raw { base: RawBase::Header(h), offset: 32, bits: 24 } if h == vx)
    );
}

trait AsLimit {
    fn limit(self) -> Limit;
}

impl AsLimit for StmtKind {
    fn limit(self) -> Limit {
        match self {
            StmtKind::Limit(l) => l,
            other => panic!("not a limit: {other:?}"),
        }
    }
}
