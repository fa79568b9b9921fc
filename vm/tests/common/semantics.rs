//! The semantic tests, one function per behaviour, generic over the engine
//! (see [`crate::engine_tests!`]). Each builds small programs by hand and
//! checks verdicts, registers (through compares), counters and outcomes.

use super::edge_acl;
use super::*;
use std::sync::Arc;
use vm::outcome::Decider;
use vm::runtime::ManualClock;
use vm::{
    AluOp, ChainId, ChecksumFix, CounterDecl, CounterId, Final, LimitDecl, LimitId, LimitUnit,
    MapData, MapDecl, MapElem, MapId, MapValue, Meta, Operand, PortId, SetDecl, SetElem, SetId,
    SetKind, ShiftDir, apply_edits,
};

fn interval(low: &[u8], high: &[u8]) -> SetElem {
    SetElem {
        low: vec![v(low)],
        high: vec![v(high)],
    }
}

fn set(key: Vec<u8>, kind: SetKind, elements: Vec<SetElem>) -> SetDecl {
    SetDecl {
        name: "s".into(),
        key,
        kind,
        elements,
    }
}

/// A matcher program over a frame, with these sets.
fn with_sets(insns: Vec<Insn>, sets: Vec<SetDecl>) -> Program {
    let mut p = matcher(insns);
    p.sets = sets;
    p
}

pub fn load_byte_order<E: Engine>(e: &E) {
    let frame = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde];
    let cases: Vec<(u16, u8, &[u8])> = vec![
        (0, 1, &[0x12]),
        (0, 2, &[0x12, 0x34]),
        (1, 3, &[0x34, 0x56, 0x78]),
        (0, 4, &[0x12, 0x34, 0x56, 0x78]),
        (0, 6, &[0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc]),
        (1, 6, &[0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde]),
    ];
    for (off, len, want) in cases {
        let i = instance(matcher(vec![load(0, 0, off, len), cmp(0, CmpOp::Eq, want)]));
        assert!(matches(e, &i, &frame), "load {len} @ {off}");
        // Chunks are big-endian numbers: the register holds 0x1234 for a
        // 2-byte load, so a compare with the bytes swapped fails.
        let mut swapped = want.to_vec();
        swapped.reverse();
        if swapped != want {
            let i = instance(matcher(vec![
                load(0, 0, off, len),
                cmp(0, CmpOp::Eq, &swapped),
            ]));
            assert!(!matches(e, &i, &frame));
        }
    }
    // A 6-byte value is r0 = bytes 0..4 and r1 = bytes 4..6.
    let i = instance(matcher(vec![
        load(0, 0, 0, 6),
        cmp(1, CmpOp::Eq, &[0x9a, 0xbc]),
    ]));
    assert!(matches(e, &i, &frame));
    let i = instance(matcher(vec![
        load(0, 0, 0, 6),
        cmp(0, CmpOp::Eq, &[0x12, 0x34, 0x56, 0x78]),
    ]));
    assert!(matches(e, &i, &frame));
}

pub fn loads_at_every_base_respect_bounds<E: Engine>(e: &E) {
    // Bases at 0, 5 and 9: a load of `len` at `off` from base `b` matches
    // exactly when base + off + len <= frame length.
    for base in 0..3u8 {
        for len in [1u8, 2, 3, 4, 6, 16] {
            for off in [0u16, 1, 7] {
                let mut p = matcher(vec![load(0, base, off, len)]);
                p.parse
                    .push(rule(vec![set_base(1, Some(0), 5), set_base(2, Some(1), 4)]));
                let i = instance(p);
                let at = [0usize, 5, 9][usize::from(base)] + usize::from(off);
                for frame_len in 0..40usize {
                    let frame = vec![0xee; frame_len];
                    let want = at + usize::from(len) <= frame_len;
                    assert_eq!(
                        matches(e, &i, &frame),
                        want,
                        "base {base} off {off} len {len} frame {frame_len}"
                    );
                }
            }
        }
    }
}

pub fn absent_bases_and_keys<E: Engine>(e: &E) {
    let frame = [0u8; 64];
    // nh is never set: loads from it break, `!=` included.
    let i = instance(matcher(vec![load(0, 1, 0, 1), cmp(0, CmpOp::Ne, &[1])]));
    assert!(!matches(e, &i, &frame));
    let i = instance(matcher(vec![Insn::LoadBase {
        dst: Reg(0),
        base: BaseId(1),
    }]));
    assert!(!matches(e, &i, &frame));
    let i = instance(matcher(vec![load_key(0, 0)]));
    assert!(!matches(e, &i, &frame));
    // Set then cleared.
    let mut p = matcher(vec![load_key(0, 0)]);
    p.parse.push(rule(vec![
        imm(0, &[0, 0, 0, 7]),
        set_key(0, 0),
        Insn::ClearKey { dst: KeyId(0) },
    ]));
    assert!(!matches(e, &instance(p), &frame));
    let mut p = matcher(vec![load(0, 1, 0, 1)]);
    p.parse.push(rule(vec![
        set_base(1, Some(0), 14),
        Insn::ClearBase { dst: BaseId(1) },
    ]));
    assert!(!matches(e, &instance(p), &frame));
    // A base derived from an absent one is absent.
    let mut p = matcher(vec![load(0, 2, 0, 1)]);
    p.parse.push(rule(vec![set_base(2, Some(1), 0)]));
    assert!(!matches(e, &instance(p), &frame));
    // Present key and base.
    let mut p = matcher(vec![
        load_key(0, 1),
        cmp(0, CmpOp::Eq, &[0, 0, 0, 7]),
        Insn::LoadBase {
            dst: Reg(1),
            base: BaseId(1),
        },
        cmp(1, CmpOp::Eq, &[0, 0, 0, 14]),
    ]);
    p.parse.push(rule(vec![
        imm(0, &[0, 0, 0, 7]),
        set_key(1, 0),
        Insn::SetBase {
            dst: BaseId(1),
            from: Some(BaseId(0)),
            offset: 7,
            add: Some(Reg(0)),
        },
    ]));
    assert!(matches(e, &instance(p), &frame));
}

pub fn cmp_all_ops<E: Engine>(e: &E) {
    let frame = [0x00, 0x50];
    let table = [
        (CmpOp::Eq, [true, false, false]),
        (CmpOp::Ne, [false, true, true]),
        (CmpOp::Lt, [false, false, true]),
        (CmpOp::Le, [true, false, true]),
        (CmpOp::Gt, [false, true, false]),
        (CmpOp::Ge, [true, true, false]),
    ];
    // Against 0x0050 (equal), 0x004f (frame greater), 0x0051 (frame less).
    for (op, want) in table {
        for (value, w) in [[0x00, 0x50], [0x00, 0x4f], [0x00, 0x51]].iter().zip(want) {
            let i = instance(matcher(vec![load(0, 0, 0, 2), cmp(0, op, value)]));
            assert_eq!(matches(e, &i, &frame), w, "{op:?} {value:?}");
        }
    }
    // Registers against registers.
    for (op, want) in [
        (CmpOp::Lt, true),
        (CmpOp::Gt, false),
        (CmpOp::Ne, true),
        (CmpOp::Eq, false),
    ] {
        let i = instance(matcher(vec![
            load(0, 0, 0, 1),
            load(1, 0, 1, 1),
            Insn::CmpReg {
                a: Reg(0),
                op,
                b: Reg(1),
            },
        ]));
        assert_eq!(matches(e, &i, &frame), want, "{op:?}");
    }
    // Edges: 0 and the maximum.
    for (frame, value, op, want) in [
        ([0u8, 0], [0u8, 0], CmpOp::Lt, false),
        ([0, 0], [0, 0], CmpOp::Le, true),
        ([0xff, 0xff], [0xff, 0xff], CmpOp::Gt, false),
        ([0xff, 0xff], [0xff, 0xff], CmpOp::Ge, true),
        ([0xff, 0xff], [0, 0], CmpOp::Gt, true),
    ] {
        let i = instance(matcher(vec![load(0, 0, 0, 2), cmp(0, op, &value)]));
        assert_eq!(matches(e, &i, &frame), want);
    }
}

pub fn cmp_128_bit<E: Engine>(e: &E) {
    let addr: Vec<u8> = (1..=16).collect();
    let i = instance(matcher(vec![load(0, 0, 0, 16), cmp(0, CmpOp::Eq, &addr)]));
    assert!(matches(e, &i, &addr));
    // Each chunk decides in turn: a difference in the first byte outweighs
    // one in the last.
    for k in [0usize, 3, 4, 7, 8, 12, 15] {
        let mut bigger = addr.clone();
        bigger[k] += 1;
        let lt = instance(matcher(vec![load(0, 0, 0, 16), cmp(0, CmpOp::Lt, &bigger)]));
        assert!(matches(e, &lt, &addr), "byte {k}");
        let ne = instance(matcher(vec![load(0, 0, 0, 16), cmp(0, CmpOp::Ne, &bigger)]));
        assert!(matches(e, &ne, &addr));
        let mut mixed = bigger.clone();
        mixed[15] = 0;
        if k < 15 {
            let gt = instance(matcher(vec![load(0, 0, 0, 16), cmp(0, CmpOp::Gt, &mixed)]));
            assert!(!matches(e, &gt, &addr), "byte {k}");
        }
    }
    // Registers 12..15 hold the last value that fits.
    let i = instance(matcher(vec![
        load(12, 0, 0, 16),
        cmp(12, CmpOp::Eq, &addr),
        cmp(15, CmpOp::Eq, &[13, 14, 15, 16]),
    ]));
    assert!(matches(e, &i, &addr));
}

pub fn prefix_by_bitwise<E: Engine>(e: &E) {
    // ip saddr 10.1.0.0/16, as the compiler emits it.
    let p = matcher(vec![
        load(0, 0, 0, 4),
        Insn::Bitwise {
            dst: Reg(0),
            src: Reg(0),
            mask: v(&[0xff, 0xff, 0, 0]),
            xor: v(&[0; 4]),
        },
        cmp(0, CmpOp::Eq, &[10, 1, 0, 0]),
    ]);
    let i = instance(p);
    for (addr, want) in [
        ([10, 1, 0, 0], true),
        ([10, 1, 255, 255], true),
        ([10, 0, 255, 255], false),
        ([10, 2, 0, 0], false),
    ] {
        assert_eq!(matches(e, &i, &addr), want, "{addr:?}");
    }
    // /0 matches everything, /32 one address.
    let i = instance(matcher(vec![
        load(0, 0, 0, 4),
        Insn::Bitwise {
            dst: Reg(0),
            src: Reg(0),
            mask: v(&[0; 4]),
            xor: v(&[0; 4]),
        },
        cmp(0, CmpOp::Eq, &[0; 4]),
    ]));
    assert!(matches(e, &i, &[1, 2, 3, 4]));
}

pub fn prefix_by_interval_set<E: Engine>(e: &E) {
    let sets = vec![set(
        vec![4],
        SetKind::Interval,
        vec![
            interval(&[10, 0, 0, 0], &[10, 255, 255, 255]),
            interval(&[192, 168, 1, 0], &[192, 168, 1, 255]),
            interval(&[0, 0, 0, 0], &[0, 0, 0, 0]),
            interval(&[255, 255, 255, 255], &[255, 255, 255, 255]),
        ],
    )];
    let i = instance(with_sets(
        vec![load(0, 0, 0, 4), lookup(0, 0, false)],
        sets.clone(),
    ));
    for (addr, want) in [
        ([10, 0, 0, 0], true),
        ([10, 255, 255, 255], true),
        ([9, 255, 255, 255], false),
        ([11, 0, 0, 0], false),
        ([192, 168, 1, 77], true),
        ([192, 168, 2, 0], false),
        ([0, 0, 0, 0], true),
        ([0, 0, 0, 1], false),
        ([255, 255, 255, 255], true),
        ([255, 255, 255, 254], false),
    ] {
        assert_eq!(matches(e, &i, &addr), want, "{addr:?}");
    }
    let i = instance(with_sets(vec![load(0, 0, 0, 4), lookup(0, 0, true)], sets));
    assert!(!matches(e, &i, &[10, 9, 9, 9]));
    assert!(matches(e, &i, &[11, 9, 9, 9]));
    // Overlapping intervals in a set are merged: membership is the union.
    let merged = vec![set(
        vec![2],
        SetKind::Interval,
        vec![interval(&[0, 10], &[0, 20]), interval(&[0, 15], &[0, 30])],
    )];
    let i = instance(with_sets(
        vec![load(0, 0, 0, 2), lookup(0, 0, false)],
        merged,
    ));
    for (x, want) in [
        (9u16, false),
        (10, true),
        (25, true),
        (30, true),
        (31, false),
    ] {
        assert_eq!(matches(e, &i, &x.to_be_bytes()), want, "{x}");
    }
}

pub fn range_edges<E: Engine>(e: &E) {
    for (low, high) in [(0u16, 0u16), (0, 0xffff), (0xffff, 0xffff), (1000, 2000)] {
        for negate in [false, true] {
            let i = instance(matcher(vec![
                load(0, 0, 0, 2),
                Insn::Range {
                    src: Reg(0),
                    low: v(&low.to_be_bytes()),
                    high: v(&high.to_be_bytes()),
                    negate,
                },
            ]));
            for x in [0u16, 1, 999, 1000, 1500, 2000, 2001, 0xfffe, 0xffff] {
                let inside = low <= x && x <= high;
                assert_eq!(
                    matches(e, &i, &x.to_be_bytes()),
                    inside != negate,
                    "{low}-{high} {x} negate {negate}"
                );
            }
        }
    }
    // A 16-byte range.
    let low = [0u8; 16];
    let mut high = [0xffu8; 16];
    high[0] = 0x7f;
    let i = instance(matcher(vec![
        load(0, 0, 0, 16),
        Insn::Range {
            src: Reg(0),
            low: v(&low),
            high: v(&high),
            negate: false,
        },
    ]));
    assert!(matches(e, &i, &high));
    let mut above = [0u8; 16];
    above[0] = 0x80;
    assert!(!matches(e, &i, &above));
}

pub fn lookups<E: Engine>(e: &E) {
    let sets = vec![set(
        vec![2],
        SetKind::Hash,
        vec![
            exact(&[&[0, 22]]),
            exact(&[&[0, 80]]),
            exact(&[&[0xff, 0xff]]),
        ],
    )];
    let i = instance(with_sets(
        vec![load(0, 0, 0, 2), lookup(0, 0, false)],
        sets.clone(),
    ));
    for (x, want) in [
        (22u16, true),
        (80, true),
        (0xffff, true),
        (0, false),
        (23, false),
    ] {
        assert_eq!(matches(e, &i, &x.to_be_bytes()), want);
    }
    let i = instance(with_sets(vec![load(0, 0, 0, 2), lookup(0, 0, true)], sets));
    assert!(!matches(e, &i, &[0, 22]));
    assert!(matches(e, &i, &[0, 23]));
    // Elements added and deleted at run time take effect at once.
    let s = SetId(0);
    i.add_set_element(s, exact(&[&[0, 23]])).unwrap();
    assert!(!matches(e, &i, &[0, 23]));
    assert!(i.delete_set_element(s, &exact(&[&[0, 23]])).unwrap());
    assert!(matches(e, &i, &[0, 23]));
    assert!(
        i.add_set_element(s, exact(&[&[0, 0, 23]])).is_err(),
        "wrong width"
    );
}

pub fn concatenated_keys<E: Engine>(e: &E) {
    // ip saddr . tcp dport: each component at a new register (r0, r1).
    let insns = || vec![load(0, 0, 0, 4), load(1, 0, 4, 2), lookup(0, 0, false)];
    let hash = vec![set(
        vec![4, 2],
        SetKind::Hash,
        vec![exact(&[&[10, 0, 0, 1], &[0, 22]])],
    )];
    let i = instance(with_sets(insns(), hash));
    assert!(matches(e, &i, &[10, 0, 0, 1, 0, 22]));
    assert!(!matches(e, &i, &[10, 0, 0, 1, 0, 23]));
    assert!(!matches(e, &i, &[10, 0, 0, 2, 0, 22]));
    // With ranges per component.
    let elem = SetElem {
        low: vec![v(&[10, 0, 0, 0]), v(&[0, 1])],
        high: vec![v(&[10, 0, 0, 255]), v(&[0x03, 0xff])],
    };
    let i = instance(with_sets(
        insns(),
        vec![set(vec![4, 2], SetKind::Interval, vec![elem])],
    ));
    assert!(matches(e, &i, &[10, 0, 0, 9, 0, 22]));
    assert!(matches(e, &i, &[10, 0, 0, 255, 0x03, 0xff]));
    assert!(!matches(e, &i, &[10, 0, 1, 0, 0, 22]));
    assert!(!matches(e, &i, &[10, 0, 0, 9, 0x04, 0]));
    assert!(!matches(e, &i, &[10, 0, 0, 9, 0, 0]));
    // Components of 1, 3 and 2 bytes, with a byte between the last two
    // that is no part of the key (the JIT may compare the whole key as one
    // word, reading that byte and masking it off).
    let insns = vec![
        load(0, 0, 0, 1),
        load(1, 0, 1, 3),
        load(2, 0, 5, 2),
        lookup(0, 0, false),
    ];
    let three = vec![set(
        vec![1, 3, 2],
        SetKind::Hash,
        vec![
            exact(&[&[7], &[1, 2, 3], &[0, 9]]),
            exact(&[&[8], &[1, 2, 3], &[0, 9]]),
        ],
    )];
    let i = instance(with_sets(insns, three));
    let hit = [7, 1, 2, 3, 0xee, 0, 9];
    assert!(matches(e, &i, &hit));
    assert!(matches(e, &i, &[8, 1, 2, 3, 0x11, 0, 9]));
    for k in [0, 1, 2, 3, 5, 6] {
        let mut frame = hit;
        frame[k] ^= 0x40;
        assert!(!matches(e, &i, &frame), "byte {k} differs");
    }
}

pub fn map_lookup_loads_data<E: Engine>(e: &E) {
    let mut p = matcher(vec![
        load(0, 0, 0, 2),
        Insn::MapLookup {
            src: Reg(0),
            map: MapId(0),
            dst: Reg(1),
        },
        cmp(1, CmpOp::Eq, &[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]),
    ]);
    p.maps = vec![MapDecl {
        name: "m".into(),
        key: vec![2],
        kind: SetKind::Interval,
        data: MapData::Value(6),
        elements: vec![MapElem {
            key: interval(&[0, 10], &[0, 20]),
            data: MapValue::Value(v(&[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])),
        }],
    }];
    let i = instance(p);
    assert!(matches(e, &i, &[0, 15]));
    assert!(!matches(e, &i, &[0, 21]), "a miss breaks the rule");
}

pub fn bitwise_shift_alu<E: Engine>(e: &E) {
    let frame = [0x45, 0x12, 0x34];
    // (x & 0x0f) ^ 0x01
    let i = instance(matcher(vec![
        load(0, 0, 0, 1),
        Insn::Bitwise {
            dst: Reg(1),
            src: Reg(0),
            mask: v(&[0x0f]),
            xor: v(&[0x01]),
        },
        cmp(1, CmpOp::Eq, &[0x04]),
        cmp(0, CmpOp::Eq, &[0x45]),
    ]));
    assert!(matches(e, &i, &frame));
    // Shifts of a multi-byte value as one number, truncated to its width.
    for (dir, bits, want) in [
        (ShiftDir::Right, 4u8, [0x04, 0x51, 0x23]),
        (ShiftDir::Left, 4, [0x51, 0x23, 0x40]),
        (ShiftDir::Left, 8, [0x12, 0x34, 0x00]),
        (ShiftDir::Right, 23, [0, 0, 0]),
    ] {
        let i = instance(matcher(vec![
            load(0, 0, 0, 3),
            Insn::Shift {
                dst: Reg(2),
                src: Reg(0),
                len: 3,
                dir,
                bits,
            },
            cmp(2, CmpOp::Eq, &want),
        ]));
        assert!(matches(e, &i, &frame), "{dir:?} {bits}");
    }
    let wide: Vec<u8> = (0..16).map(|i| 0x80 | i).collect();
    let i = instance(matcher(vec![
        load(0, 0, 0, 16),
        Insn::Shift {
            dst: Reg(4),
            src: Reg(0),
            len: 16,
            dir: ShiftDir::Left,
            bits: 100,
        },
        cmp(4, CmpOp::Eq, &shl_bytes(&wide, 100)),
    ]));
    assert!(matches(e, &i, &wide));
    // ALU on 32-bit registers, wrapping, shifts of 32 or more give 0.
    let alu = |op, a: u32, b: u32| {
        let mut frame = a.to_be_bytes().to_vec();
        frame.extend(b.to_be_bytes());
        (frame, op)
    };
    for ((frame, op), want) in [
        (alu(AluOp::Add, u32::MAX, 2), 1u32),
        (alu(AluOp::Sub, 1, 2), u32::MAX),
        (alu(AluOp::Mul, 0x10000, 0x10000), 0),
        (alu(AluOp::And, 0xf0f0, 0xff00), 0xf000),
        (alu(AluOp::Or, 0xf0, 0x0f), 0xff),
        (alu(AluOp::Xor, 0xff, 0x0f), 0xf0),
        (alu(AluOp::Shl, 1, 31), 0x8000_0000),
        (alu(AluOp::Shl, 1, 32), 0),
        (alu(AluOp::Shr, 0x8000_0000, 31), 1),
        (alu(AluOp::Shr, 0x8000_0000, 40), 0),
    ] {
        let by_reg = instance(matcher(vec![
            load(0, 0, 0, 4),
            load(1, 0, 4, 4),
            Insn::Alu {
                dst: Reg(2),
                a: Reg(0),
                op,
                b: Operand::Reg(Reg(1)),
            },
            cmp(2, CmpOp::Eq, &want.to_be_bytes()),
        ]));
        assert!(matches(e, &by_reg, &frame), "{op:?}");
        let b = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
        let by_imm = instance(matcher(vec![
            load(0, 0, 0, 4),
            Insn::Alu {
                dst: Reg(0),
                a: Reg(0),
                op,
                b: Operand::Imm(b),
            },
            cmp(0, CmpOp::Eq, &want.to_be_bytes()),
        ]));
        assert!(matches(e, &by_imm, &frame), "{op:?} imm");
    }
}

/// `bytes` as one big-endian number shifted left by `bits`, same width.
fn shl_bytes(bytes: &[u8], bits: u32) -> Vec<u8> {
    let n = bytes.iter().fold(0u128, |a, b| a << 8 | u128::from(*b));
    (n << bits).to_be_bytes()[16 - bytes.len()..].to_vec()
}

pub fn meta_values<E: Engine>(e: &E) {
    let mut p = matcher(vec![
        Insn::LoadMeta {
            dst: Reg(0),
            meta: Meta::Len,
        },
        cmp(0, CmpOp::Eq, &[0, 0, 0, 3]),
        Insn::LoadMeta {
            dst: Reg(1),
            meta: Meta::Iif,
        },
        cmp(1, CmpOp::Eq, &[0, 0, 0, 1]),
        Insn::LoadMeta {
            dst: Reg(2),
            meta: Meta::IifName,
        },
        cmp(2, CmpOp::Eq, b"eth1\0\0\0\0\0\0\0\0\0\0\0\0"),
        Insn::LoadMeta {
            dst: Reg(6),
            meta: Meta::IifAddr,
        },
        cmp(6, CmpOp::Eq, &[2, 0, 0, 0, 0, 9]),
        Insn::LoadMeta {
            dst: Reg(8),
            meta: Meta::Mark,
        },
        cmp(8, CmpOp::Eq, &[0, 0, 0, 0]),
    ]);
    p.ports = vec!["eth0".into(), "eth1".into()];
    let port = InputPort::new(&p, "eth1", [2, 0, 0, 0, 0, 9]);
    let i = instance(p);
    assert!(run_on(e, &i, &[1, 2, 3], &port).verdict == Final::Accept);
    assert_eq!(run_on(e, &i, &[1, 2], &port).verdict, Final::Drop);
    // A port the program does not name has iif u32::MAX.
    let mut p = matcher(vec![
        Insn::LoadMeta {
            dst: Reg(0),
            meta: Meta::Iif,
        },
        cmp(0, CmpOp::Eq, &[0xff; 4]),
    ]);
    p.ports = vec!["eth0".into()];
    let port = InputPort::new(&p, "other", [0; 6]);
    assert_eq!(run_on(e, &instance(p), &[], &port).verdict, Final::Accept);
}

pub fn parse_break_keeps_earlier_effects<E: Engine>(e: &E) {
    let mut p = matcher(vec![load(0, 1, 0, 1), cmp(0, CmpOp::Eq, &[0xbb])]);
    // Sets nh, then breaks: nh stays.
    p.parse.push(rule(vec![
        set_base(1, Some(0), 1),
        load(0, 0, 0, 1),
        cmp(0, CmpOp::Eq, &[0xff]),
        set_base(1, Some(0), 0),
    ]));
    let i = instance(p);
    assert!(matches(e, &i, &[0xaa, 0xbb]));
    // The same rule not breaking overwrites nh with the frame start.
    assert!(!matches(e, &i, &[0xff, 0xbb]));
}

/// Verdict of a program whose base chain is `rules` (policy drop) with
/// chains `others`; and the decider.
fn run_chains<E: Engine>(
    e: &E,
    base: Vec<Vec<Insn>>,
    others: Vec<Vec<Vec<Insn>>>,
) -> (Final, Decider, u32) {
    let mut chains = vec![base_chain(
        "t/in",
        0,
        Policy::Drop,
        base.into_iter().map(rule).collect(),
    )];
    for (n, rules) in others.into_iter().enumerate() {
        chains.push(chain(
            &format!("t/c{}", n + 1),
            rules.into_iter().map(rule).collect(),
        ));
    }
    let i = instance(program(chains));
    let out = run(e, &i, &[0u8; 8]);
    (out.verdict, out.decider, out.mark)
}

fn mark(n: u32) -> Vec<Insn> {
    vec![imm(0, &n.to_be_bytes()), Insn::SetMark { src: Reg(0) }]
}

/// An instruction that always breaks: a load past any test frame.
fn fails() -> Insn {
    load(15, 0, 60_000, 1)
}

pub fn jump_and_return<E: Engine>(e: &E) {
    let r = |c: u16, n: usize| Decider::Rule {
        chain: ChainId(c),
        rule: n,
    };
    // The callee returns: the rule after the jump runs.
    let (f, d, m) = run_chains(
        e,
        vec![
            vec![verdict(Verdict::Jump(ChainId(1)))],
            [mark(2), vec![verdict(Verdict::Accept)]].concat(),
        ],
        vec![vec![
            mark(1),
            vec![verdict(Verdict::Return)],
            vec![verdict(Verdict::Drop)],
        ]],
    );
    assert_eq!((f, d, m), (Final::Accept, r(0, 1), 2));
    // The callee falls off its end: same.
    let (f, d, _) = run_chains(
        e,
        vec![
            vec![verdict(Verdict::Jump(ChainId(1)))],
            vec![verdict(Verdict::Accept)],
        ],
        vec![vec![mark(1)]],
    );
    assert_eq!((f, d), (Final::Accept, r(0, 1)));
    // A terminal verdict in the callee is final.
    let (f, d, _) = run_chains(
        e,
        vec![
            vec![verdict(Verdict::Jump(ChainId(1)))],
            vec![verdict(Verdict::Accept)],
        ],
        vec![vec![vec![verdict(Verdict::Drop)]]],
    );
    assert_eq!((f, d), (Final::Drop, r(1, 0)));
    // A jump in a rule that breaks first does not happen.
    let (f, d, _) = run_chains(
        e,
        vec![
            vec![fails(), verdict(Verdict::Jump(ChainId(1)))],
            vec![verdict(Verdict::Accept)],
        ],
        vec![vec![vec![verdict(Verdict::Drop)]]],
    );
    assert_eq!((f, d), (Final::Accept, r(0, 1)));
    // Nested jumps unwind one level at a time.
    let (f, d, m) = run_chains(
        e,
        vec![vec![verdict(Verdict::Jump(ChainId(1)))]],
        vec![
            vec![
                vec![verdict(Verdict::Jump(ChainId(2)))],
                [mark(5), vec![verdict(Verdict::Return)]].concat(),
            ],
            vec![mark(4), vec![verdict(Verdict::Return)]],
        ],
    );
    assert_eq!(
        (f, d, m),
        (Final::Drop, Decider::Policy { chain: ChainId(0) }, 5)
    );
    // `continue` goes on with the next rule; `return` in a base chain is its policy.
    let (f, d, _) = run_chains(
        e,
        vec![
            vec![verdict(Verdict::Continue)],
            vec![verdict(Verdict::Return)],
            vec![verdict(Verdict::Accept)],
        ],
        vec![],
    );
    assert_eq!((f, d), (Final::Drop, Decider::Policy { chain: ChainId(0) }));
}

pub fn goto_from_base_applies_policy<E: Engine>(e: &E) {
    // From the base chain: when the goto target falls off or returns, the
    // policy applies, not the next rule.
    for callee in [vec![mark(1)], vec![vec![verdict(Verdict::Return)]]] {
        let (f, d, _) = run_chains(
            e,
            vec![
                vec![verdict(Verdict::Goto(ChainId(1)))],
                vec![verdict(Verdict::Accept)],
            ],
            vec![callee],
        );
        assert_eq!((f, d), (Final::Drop, Decider::Policy { chain: ChainId(0) }));
    }
}

pub fn goto_returns_to_the_jumper<E: Engine>(e: &E) {
    // base: jump c1; c1: goto c2; c2 falls off: back in base after the jump.
    let (f, d, m) = run_chains(
        e,
        vec![
            vec![verdict(Verdict::Jump(ChainId(1)))],
            [mark(9), vec![verdict(Verdict::Accept)]].concat(),
        ],
        vec![
            vec![
                vec![verdict(Verdict::Goto(ChainId(2)))],
                vec![verdict(Verdict::Drop)],
            ],
            vec![mark(3)],
        ],
    );
    assert_eq!(
        (f, d, m),
        (
            Final::Accept,
            Decider::Rule {
                chain: ChainId(0),
                rule: 1
            },
            9
        )
    );
}

pub fn chain_entered_twice<E: Engine>(e: &E) {
    // A chain can be entered twice for one frame; its mark sets add up.
    let add = vec![
        Insn::LoadMeta {
            dst: Reg(0),
            meta: Meta::Mark,
        },
        Insn::Alu {
            dst: Reg(0),
            a: Reg(0),
            op: AluOp::Add,
            b: Operand::Imm(1),
        },
        Insn::SetMark { src: Reg(0) },
    ];
    let (f, _, m) = run_chains(
        e,
        vec![
            vec![verdict(Verdict::Jump(ChainId(1)))],
            vec![verdict(Verdict::Jump(ChainId(1)))],
            vec![verdict(Verdict::Accept)],
        ],
        vec![vec![add]],
    );
    assert_eq!((f, m), (Final::Accept, 2));
}

pub fn vmap_semantics<E: Engine>(e: &E) {
    let build = |elems: Vec<(u8, Verdict)>| {
        let mut p = program(vec![
            base_chain(
                "t/in",
                0,
                Policy::Drop,
                vec![
                    rule(vec![
                        load(0, 0, 0, 1),
                        Insn::VmapLookup {
                            src: Reg(0),
                            map: MapId(0),
                        },
                    ]),
                    rule([mark(7), vec![verdict(Verdict::Accept)]].concat()),
                ],
            ),
            chain("t/c1", vec![rule(mark(1))]),
        ]);
        p.maps = vec![MapDecl {
            name: "vm".into(),
            key: vec![1],
            kind: SetKind::Hash,
            data: MapData::Verdict,
            elements: elems
                .into_iter()
                .map(|(k, d)| MapElem {
                    key: exact(&[&[k]]),
                    data: MapValue::Verdict(d),
                })
                .collect(),
        }];
        instance(p)
    };
    let i = build(vec![
        (1, Verdict::Jump(ChainId(1))),
        (2, Verdict::Goto(ChainId(1))),
        (3, Verdict::Return),
        (4, Verdict::Continue),
        (5, Verdict::Drop),
    ]);
    let policy = Decider::Policy { chain: ChainId(0) };
    let next = Decider::Rule {
        chain: ChainId(0),
        rule: 1,
    };
    let cases = [
        (1u8, Final::Accept, next, 7),
        (2, Final::Drop, policy, 1),
        (3, Final::Drop, policy, 0),
        (4, Final::Accept, next, 7),
        (
            5,
            Final::Drop,
            Decider::Rule {
                chain: ChainId(0),
                rule: 0,
            },
            0,
        ),
        (9, Final::Accept, next, 7),
    ];
    for (k, f, d, m) in cases {
        let out = run(e, &i, &[k]);
        assert_eq!((out.verdict, out.decider, out.mark), (f, d, m), "key {k}");
    }
    // Entries added at run time: a jump keeps the graph acyclic, or is refused.
    let elem = |k: u8, v| MapElem {
        key: exact(&[&[k]]),
        data: MapValue::Verdict(v),
    };
    assert!(i.add_map_element(MapId(0), elem(9, Verdict::Drop)).unwrap());
    assert_eq!(run(e, &i, &[9]).verdict, Final::Drop);
    assert!(
        i.add_map_element(MapId(0), elem(10, Verdict::Jump(ChainId(0))))
            .is_err(),
        "jump to a base chain"
    );
    assert!(
        i.add_map_element(MapId(0), elem(10, Verdict::Jump(ChainId(7))))
            .is_err(),
        "no such chain"
    );
    assert!(i.delete_map_element(MapId(0), &exact(&[&[9]])).unwrap());
    assert_eq!(run(e, &i, &[9]).verdict, Final::Accept);
}

pub fn mark_semantics<E: Engine>(e: &E) {
    // The mark starts at the packet's; a map miss leaves it unchanged.
    let mut p = matcher(vec![
        load(0, 0, 0, 1),
        Insn::MapLookup {
            src: Reg(0),
            map: MapId(0),
            dst: Reg(1),
        },
        Insn::SetMark { src: Reg(1) },
    ]);
    p.chains[0].rules.insert(0, rule(mark(5)));
    p.maps = vec![MapDecl {
        name: "m".into(),
        key: vec![1],
        kind: SetKind::Hash,
        data: MapData::Value(4),
        elements: vec![MapElem {
            key: exact(&[&[1]]),
            data: MapValue::Value(v(&[0, 0, 0, 42])),
        }],
    }];
    let i = instance(p);
    assert_eq!(run(e, &i, &[1]).mark, 42);
    let out = run(e, &i, &[2]);
    assert_eq!((out.verdict, out.mark), (Final::Drop, 5));
    // A packet's initial mark is visible.
    let i = instance(matcher(vec![
        Insn::LoadMeta {
            dst: Reg(0),
            meta: Meta::Mark,
        },
        cmp(0, CmpOp::Eq, &[0, 0, 0, 3]),
    ]));
    let mut frame = [0u8; 1];
    let out = run_mut(e, &i, &mut frame, 3);
    assert_eq!((out.verdict, out.mark), (Final::Accept, 3));
}

pub fn base_chains_in_order<E: Engine>(e: &E) {
    // Priority order, then declaration order; accept goes on to the next.
    let p = program(vec![
        base_chain(
            "t/late",
            10,
            Policy::Accept,
            vec![rule([mark(3), vec![verdict(Verdict::Accept)]].concat())],
        ),
        base_chain(
            "t/early",
            -5,
            Policy::Accept,
            vec![rule([mark(1), vec![verdict(Verdict::Accept)]].concat())],
        ),
        base_chain("t/mid", 0, Policy::Accept, vec![rule(mark(2))]),
    ]);
    let i = instance(p);
    let out = run(e, &i, &[]);
    assert_eq!(
        (out.verdict, out.decider, out.mark),
        (
            Final::Accept,
            Decider::Rule {
                chain: ChainId(0),
                rule: 0
            },
            3
        )
    );
    // A drop in an earlier chain is final.
    let p = program(vec![
        base_chain("t/b", 1, Policy::Accept, vec![rule(mark(3))]),
        base_chain("t/a", 0, Policy::Drop, vec![]),
    ]);
    let out = run(e, &instance(p), &[]);
    assert_eq!(
        (out.verdict, out.decider, out.mark),
        (Final::Drop, Decider::Policy { chain: ChainId(1) }, 0)
    );
    // No base chain: accepted by default.
    let out = run(e, &instance(program(vec![])), &[]);
    assert_eq!(
        (out.verdict, out.decider),
        (Final::Accept, Decider::NoChain)
    );
}

pub fn device_bound_chains<E: Engine>(e: &E) {
    let mut p = program(vec![base_chain("t/eth0", 0, Policy::Drop, vec![])]);
    p.ports = vec!["eth0".into()];
    p.chains[0].base.as_mut().unwrap().device = Some(PortId(0));
    let on_eth0 = InputPort::new(&p, "eth0", [0; 6]);
    let on_eth1 = InputPort::new(&p, "eth1", [0; 6]);
    let i = instance(p);
    assert_eq!(run_on(e, &i, &[], &on_eth0).verdict, Final::Drop);
    assert_eq!(run_on(e, &i, &[], &on_eth1).verdict, Final::Accept);
}

pub fn terminal_verdicts<E: Engine>(e: &E) {
    let mut p = program(vec![base_chain(
        "t/in",
        0,
        Policy::Accept,
        vec![
            rule(vec![
                load(0, 0, 0, 1),
                cmp(0, CmpOp::Eq, &[1]),
                verdict(Verdict::Fwd(PortId(1))),
            ]),
            rule(vec![
                load(0, 0, 0, 1),
                cmp(0, CmpOp::Eq, &[2]),
                verdict(Verdict::Flood),
            ]),
            rule(vec![
                load(0, 0, 0, 1),
                cmp(0, CmpOp::Eq, &[3]),
                verdict(Verdict::Drop),
            ]),
        ],
    )]);
    p.ports = vec!["a".into(), "b".into()];
    let i = instance(p);
    let r = |n| Decider::Rule {
        chain: ChainId(0),
        rule: n,
    };
    for (b, f, d) in [
        (1u8, Final::Fwd(PortId(1)), r(0)),
        (2, Final::Flood, r(1)),
        (3, Final::Drop, r(2)),
        (4, Final::Accept, Decider::Policy { chain: ChainId(0) }),
    ] {
        let out = run(e, &i, &[b]);
        assert_eq!((out.verdict, out.decider), (f, d));
    }
}

pub fn counters_count<E: Engine>(e: &E) {
    let mut p = matcher(vec![
        Insn::Counter {
            counter: CounterId(0),
        },
        load(0, 0, 0, 1),
        Insn::Counter {
            counter: CounterId(1),
        },
    ]);
    p.counters = vec![
        CounterDecl { name: "all".into() },
        CounterDecl {
            name: "long".into(),
        },
    ];
    let i = instance(p);
    for len in [0usize, 1, 5] {
        run(e, &i, &vec![0; len]);
    }
    let all = i.counter(CounterId(0)).unwrap().get();
    let long = i.counter(CounterId(1)).unwrap().get();
    assert_eq!((all.packets, all.bytes), (3, 6));
    assert_eq!((long.packets, long.bytes), (2, 6));
    // Counters carried into a new instance keep counting from where they were.
    let carried = vec![(CounterId(1), i.counter(CounterId(1)).unwrap().clone())];
    let next = Arc::new(vm::Instance::with_counters(
        i.program().clone(),
        Arc::new(ManualClock::new(0)),
        carried,
    ));
    run(e, &next, &[1]);
    assert_eq!(next.counter(CounterId(1)).unwrap().get().packets, 3);
    assert_eq!(next.counter(CounterId(0)).unwrap().get().packets, 1);
}

pub fn rule_counter_is_counted_by_its_statement<E: Engine>(e: &E) {
    // As the compiler emits `... counter accept`: the rule's counter field
    // names the counter of its `counter` statement, which alone counts, when
    // the matches before it pass.
    let counted = vec![
        load(0, 0, 0, 1),
        cmp(0, CmpOp::Eq, &[1]),
        Insn::Counter {
            counter: CounterId(0),
        },
        verdict(Verdict::Continue),
    ];
    let mut p = program(vec![base_chain(
        "t/in",
        0,
        Policy::Accept,
        vec![rule(counted), rule(vec![verdict(Verdict::Continue)])],
    )]);
    p.chains[0].rules[0].counter = Some(CounterId(0));
    p.chains[0].rules[1].counter = Some(CounterId(1));
    p.counters = vec![
        CounterDecl { name: "r0".into() },
        CounterDecl { name: "r1".into() },
    ];
    let i = instance(p);
    for f in [[1u8], [2], [1]] {
        run(e, &i, &f);
    }
    assert_eq!(i.counter(CounterId(0)).unwrap().get().packets, 2);
    assert_eq!(i.counter(CounterId(1)).unwrap().get().packets, 0);
}

pub fn limits_with_a_clock<E: Engine>(e: &E) {
    for over in [false, true] {
        let mut p = matcher(vec![Insn::Limit { limit: LimitId(0) }]);
        p.limits = vec![LimitDecl {
            rate: 2,
            per_ns: 1_000,
            burst: 1,
            unit: LimitUnit::Packets,
            over,
        }];
        let clock = Arc::new(ManualClock::new(1_000_000));
        let i = instance_with_clock(p, clock.clone());
        // Capacity 3 (one period's 2 + burst 1), full at the start.
        let got: Vec<bool> = (0..4).map(|_| matches(e, &i, &[])).collect();
        assert_eq!(
            got,
            [true, true, true, false].map(|b| b != over),
            "over {over}"
        );
        // Half a period brings one token back.
        clock.advance(500);
        assert_eq!(matches(e, &i, &[]), !over);
        assert_eq!(matches(e, &i, &[]), over);
        // A long pause fills the bucket only to its capacity.
        clock.advance(1_000_000);
        let got: Vec<bool> = (0..4).map(|_| matches(e, &i, &[])).collect();
        assert_eq!(got, [true, true, true, false].map(|b| b != over));
    }
    // Byte limits take the frame length.
    let mut p = matcher(vec![Insn::Limit { limit: LimitId(0) }]);
    p.limits = vec![LimitDecl {
        rate: 100,
        per_ns: 1_000,
        burst: 0,
        unit: LimitUnit::Bytes,
        over: false,
    }];
    let i = instance(p);
    assert!(matches(e, &i, &[0; 60]));
    assert!(!matches(e, &i, &[0; 60]));
    assert!(matches(e, &i, &[0; 40]));
}

pub fn store_fixes_checksums<E: Engine>(e: &E) {
    // An IPv4-like header at nh = 14 with its checksum at nh + 10, and a
    // UDP-like checksum at th + 6 that may be 0 ("none").
    let header = edge_acl::ipv4(17, [10, 0, 0, 1], [10, 0, 0, 2], 64, 8);
    let mut frame = vec![0u8; 14];
    frame.extend(&header);
    frame.extend_from_slice(&[0, 53, 0, 53, 0, 8, 0x12, 0x34]);
    let fixes = vec![
        ChecksumFix {
            base: BaseId(1),
            offset: 10,
            zero_means_none: false,
            when: None,
        },
        ChecksumFix {
            base: BaseId(2),
            offset: 6,
            zero_means_none: true,
            when: None,
        },
    ];
    // `value` stored at nh + `off`, fixing both checksums.
    let store = |value: &[u8], off: u16| {
        let mut p = matcher(vec![
            imm(0, value),
            Insn::Store {
                base: BaseId(1),
                offset: off,
                len: value.len() as u8,
                src: Reg(0),
                checksums: fixes.clone(),
            },
        ]);
        p.parse.push(rule(vec![
            set_base(1, Some(0), 14),
            set_base(2, Some(1), 20),
        ]));
        instance(p)
    };
    // Writes of every width at every offset of the header but the checksum.
    for len in [1u8, 2, 3, 4, 5] {
        for off in 0..(20 - u16::from(len)) {
            if (10..12).contains(&off) || (off < 12 && off + u16::from(len) > 10) {
                continue;
            }
            let value: Vec<u8> = (0..len)
                .map(|k| 0x5a ^ (off as u8) ^ k.wrapping_mul(37))
                .collect();
            let i = store(&value, off);
            let mut bytes = frame.clone();
            let out = run_mut(e, &i, &mut bytes, 0);
            assert_eq!(out.verdict, Final::Accept);
            let at = 14 + usize::from(off);
            assert_eq!(&bytes[at..at + usize::from(len)], &value[..]);
            // The header checksum verifies, and equals a recomputation.
            let mut zeroed = bytes[14..34].to_vec();
            zeroed[10] = 0;
            zeroed[11] = 0;
            let want = vm::checksum::compute(&zeroed);
            assert_eq!(
                u16::from_be_bytes([bytes[24], bytes[25]]),
                want,
                "len {len} off {off}"
            );
            // The UDP checksum field is at an even distance from nh + 10, so
            // it moves by the same amount.
            let udp_before = u16::from_be_bytes([0x12, 0x34]);
            let ip_before = u16::from_be_bytes([frame[24], frame[25]]);
            let delta = |old: u16, new: u16| vm::checksum::fold(u64::from(!new) + u64::from(old));
            assert_eq!(
                delta(udp_before, u16::from_be_bytes([bytes[40], bytes[41]])),
                delta(ip_before, want)
            );
        }
    }
    // A zero "no checksum" field stays zero.
    let i = store(&[9], 8);
    let mut bytes = frame.clone();
    bytes[40] = 0;
    bytes[41] = 0;
    run_mut(e, &i, &mut bytes, 0);
    assert_eq!(&bytes[40..42], &[0, 0]);
    // A store past the end of the frame breaks and writes nothing.
    let mut short = frame[..20].to_vec();
    let before = short.clone();
    let out = run_mut(e, &i, &mut short, 0);
    assert_eq!((out.verdict, short), (Final::Drop, before));
}

pub fn checksum_fixes_apply_when_their_key_matches<E: Engine>(e: &E) {
    // A 2-byte store at offset 0 fixing a checksum at offset 4, only when
    // key 0 (set by the parse section from byte 2) is 6.
    let fix = ChecksumFix {
        base: BaseId(0),
        offset: 4,
        zero_means_none: false,
        when: Some((KeyId(0), 6)),
    };
    let mut p = matcher(vec![
        imm(0, &[0x12, 0x34]),
        Insn::Store {
            base: BaseId(0),
            offset: 0,
            len: 2,
            src: Reg(0),
            checksums: vec![fix],
        },
    ]);
    p.parse.push(rule(vec![load(0, 0, 2, 1), set_key(0, 0)]));
    let i = instance(p);
    for (key, fixed) in [(6u8, true), (17, false)] {
        let mut frame = vec![0, 0, key, 0, 0xff, 0xff];
        run_mut(e, &i, &mut frame, 0);
        assert_eq!(&frame[..2], &[0x12, 0x34]);
        assert_eq!(frame[4..6] != [0xff, 0xff], fixed, "key {key}");
    }
}

pub fn insert_remove_and_mirror<E: Engine>(e: &E) {
    // Two mirrors around an insertion, a removal, then (with `write`) a
    // payload write: a mirror's copy has the edits before it and never the
    // write after it, whether it was taken before the write or is still the
    // frame.
    for write in [true, false] {
        let mut insns = vec![
            Insn::Mirror { port: PortId(0) },
            Insn::Insert {
                base: BaseId(0),
                offset: 2,
                bytes: v(&[0xaa, 0xbb]),
            },
            Insn::Mirror { port: PortId(1) },
            Insn::Remove {
                base: BaseId(0),
                offset: 4,
                len: 2,
            },
        ];
        if write {
            insns.extend(write_first_byte());
        }
        let mut p = matcher(insns);
        p.ports = vec!["m0".into(), "m1".into()];
        let i = instance(p);
        let mut frame = vec![0, 1, 2, 3, 4, 5, 6];
        let out = run_mut(e, &i, &mut frame, 0);
        assert_eq!(out.verdict, Final::Accept);
        let mut sent = Vec::new();
        apply_edits(&frame, &out.edits, &mut sent);
        let first = if write { 0x77 } else { 0 };
        assert_eq!(sent, [first, 1, 0xaa, 0xbb, 2, 3, 6]);
        let copies = mirror_copies(&out, &frame);
        assert_eq!(copies.len(), 2);
        assert_eq!(copies[0], [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(copies[1], [0, 1, 0xaa, 0xbb, 2, 3, 4, 5, 6]);
        assert_eq!(out.mirrors[1].port, PortId(1));
    }
    // Insert at the very end is allowed, past it breaks; remove past it breaks.
    let i = instance(matcher(vec![Insn::Insert {
        base: BaseId(0),
        offset: 3,
        bytes: v(&[1]),
    }]));
    assert!(matches(e, &i, &[0, 0, 0]));
    assert!(!matches(e, &i, &[0, 0]));
    let i = instance(matcher(vec![Insn::Remove {
        base: BaseId(0),
        offset: 1,
        len: 2,
    }]));
    assert!(matches(e, &i, &[0, 0, 0]));
    assert!(!matches(e, &i, &[0, 0]));
}

pub fn logs_record_prefixes<E: Engine>(e: &E) {
    let p = matcher(vec![
        Insn::Log {
            prefix: "first: ".into(),
        },
        load(0, 0, 0, 1),
        Insn::Log {
            prefix: "second: ".into(),
        },
    ]);
    let i = instance(p);
    let out = run(e, &i, &[]);
    assert_eq!(
        out.log_prefixes(i.program().program()).collect::<Vec<_>>(),
        ["first: "]
    );
    let out = run(e, &i, &[1]);
    assert_eq!(
        out.log_prefixes(i.program().program()).collect::<Vec<_>>(),
        ["first: ", "second: "]
    );
}

pub fn many_mirrors_and_logs_keep_their_order<E: Engine>(e: &E) {
    // Six `dup` and six `log` statements, around an insertion and before a
    // payload write: all of them, in order, each copy with the edits made
    // before its `dup` and without the write.
    let mut insns = Vec::new();
    for k in 0..6u16 {
        insns.push(Insn::Mirror {
            port: PortId(k % 2),
        });
        insns.push(Insn::Log {
            prefix: format!("p{k}"),
        });
        if k == 2 {
            insns.push(Insn::Insert {
                base: BaseId(0),
                offset: 1,
                bytes: v(&[0xaa]),
            });
        }
    }
    insns.extend(write_first_byte());
    let mut p = matcher(insns);
    p.ports = vec!["m0".into(), "m1".into()];
    let i = instance(p);
    let mut frame = vec![0, 1, 2];
    let out = run_mut(e, &i, &mut frame, 0);
    assert_eq!(frame, [0x77, 1, 2]);
    let ports: Vec<u16> = out.mirrors.iter().map(|m| m.port.0).collect();
    assert_eq!(ports, [0, 1, 0, 1, 0, 1]);
    let copies = mirror_copies(&out, &frame);
    let (before, after) = (vec![0u8, 1, 2], vec![0u8, 0xaa, 1, 2]);
    assert_eq!(
        copies,
        [
            before.clone(),
            before.clone(),
            before,
            after.clone(),
            after.clone(),
            after
        ]
    );
    assert_eq!(
        out.log_prefixes(i.program().program()).collect::<Vec<_>>(),
        ["p0", "p1", "p2", "p3", "p4", "p5"]
    );
}

pub fn edge_acl_verdicts<E: Engine>(e: &E) {
    let i = instance(edge_acl::program());
    for case in edge_acl::cases() {
        let out = run(e, &i, &case.frame);
        let want = if case.accept {
            Final::Accept
        } else {
            Final::Drop
        };
        let decider = match case.rule {
            Some(n) if n >= 100 => Decider::Rule {
                chain: ChainId(1),
                rule: n - 100,
            },
            Some(n) => Decider::Rule {
                chain: ChainId(0),
                rule: n,
            },
            None => Decider::Policy { chain: ChainId(0) },
        };
        assert_eq!((out.verdict, out.decider), (want, decider), "{}", case.what);
    }
    // Every truncation of every frame runs (and never panics).
    for case in edge_acl::cases() {
        for n in 0..case.frame.len() {
            run(e, &i, &case.frame[..n]);
        }
    }
}

pub fn tiny_and_huge_frames<E: Engine>(e: &E) {
    let i = instance(edge_acl::program());
    for len in [0usize, 1, 13, 14, 15, 65_535, 65_536, 100_000] {
        let out = run(e, &i, &vec![0x45; len]);
        assert_eq!(out.verdict, Final::Drop, "{len}");
    }
    // 64 KiB IPv4 frame with a valid header.
    let mut big = edge_acl::cases().remove(0).frame;
    big.resize(65_536, 0);
    run(e, &i, &big);
}

/// Accepts the frames whose first `len` bytes are in `list` (with
/// `negate`, those whose bytes are not).
fn list_matcher(len: u8, list: Vec<(Value, Value)>, negate: bool) -> Arc<Instance> {
    instance(matcher(vec![
        load(0, 0, 0, len),
        Insn::InList {
            src: Reg(0),
            list,
            negate,
        },
    ]))
}

pub fn inline_lists<E: Engine>(e: &E) {
    let list = vec![
        (v(&[0, 22]), v(&[0, 22])),
        (v(&[0, 80]), v(&[0, 80])),
        (v(&[0x03, 0xe8]), v(&[0x07, 0xd0])),
    ];
    for negate in [false, true] {
        let i = list_matcher(2, list.clone(), negate);
        for (x, inside) in [
            (22u16, true),
            (23, false),
            (80, true),
            (999, false),
            (1000, true),
            (2000, true),
            (2001, false),
        ] {
            assert_eq!(
                matches(e, &i, &x.to_be_bytes()),
                inside != negate,
                "{x} negate {negate}"
            );
        }
        // A frame too short to load from matches neither way.
        assert!(!matches(e, &i, &[0]));
    }
}

pub fn parse_skips_rules<E: Engine>(e: &E) {
    // Rule 0 skips rule 1 when byte 0 is 0xaa; rule 1 would set nh past the frame.
    let mut p = matcher(vec![load(0, 1, 0, 1), cmp(0, CmpOp::Eq, &[0xbb])]);
    p.parse.extend([
        rule(vec![set_base(1, Some(0), 1)]),
        rule(vec![
            load(0, 0, 0, 1),
            cmp(0, CmpOp::Eq, &[0xaa]),
            Insn::Skip { rules: 1 },
        ]),
        rule(vec![set_base(1, Some(0), 100)]),
    ]);
    let i = instance(p);
    assert!(matches(e, &i, &[0xaa, 0xbb]));
    assert!(!matches(e, &i, &[0xab, 0xbb]));
}

/// A loaded value is the bytes as they were when it was loaded, whatever
/// is written to the frame or to its registers later (the JIT reads loaded
/// bytes only when they are needed, and compares them in place).
pub fn loaded_values_outlive_writes<E: Engine>(e: &E) {
    let frame = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11];
    let store = |src: u8, len: u8| Insn::Store {
        base: BaseId(0),
        offset: 0,
        len,
        src: Reg(src),
        checksums: Vec::new(),
    };
    // Loaded, overwritten in the frame, then compared: the old bytes.
    for op in [CmpOp::Eq, CmpOp::Ne] {
        let i = instance(matcher(vec![
            load(0, 0, 0, 4),
            imm(4, &[0xaa, 0xbb, 0xcc, 0xdd]),
            store(4, 4),
            cmp(0, op, &[0x12, 0x34, 0x56, 0x78]),
        ]));
        let mut bytes = frame;
        let out = run_mut(e, &i, &mut bytes, 0);
        assert_eq!(out.verdict == Final::Accept, op == CmpOp::Eq, "{op:?}");
        assert_eq!(bytes[..4], [0xaa, 0xbb, 0xcc, 0xdd]);
    }
    // One register of an 8-byte value replaced: the other keeps its chunk.
    let i = instance(matcher(vec![
        load(0, 0, 0, 8),
        imm(1, &[1, 2, 3, 4]),
        cmp(0, CmpOp::Eq, &[0x12, 0x34, 0x56, 0x78, 1, 2, 3, 4]),
    ]));
    assert!(matches(e, &i, &frame));
    // Loaded twice into the same register: the second load counts.
    let i = instance(matcher(vec![
        load(0, 0, 0, 4),
        load(0, 0, 1, 4),
        cmp(0, CmpOp::Eq, &[0x34, 0x56, 0x78, 0x9a]),
    ]));
    assert!(matches(e, &i, &frame));
    // A 16-byte value compared in place, equal and one bit off.
    let long: Vec<u8> = (0..16).map(|k| 0x40 + k).collect();
    let i = instance(matcher(vec![load(0, 0, 0, 16), cmp(0, CmpOp::Eq, &long)]));
    assert!(matches(e, &i, &long));
    let mut off = long.clone();
    off[15] ^= 1;
    assert!(!matches(e, &i, &off));
}

/// Ordered compares, ranges and lists compare a value chunk by chunk, each
/// chunk the whole 32-bit register, the last one too when the value's last
/// chunk is narrower (as the interpreter defines them, and as table
/// lookups pack keys): a register holding 4 bytes, read as the 2-byte tail
/// of a 6-byte value, is above every constant with the same first chunk.
pub fn ordered_compares_take_whole_chunks<E: Engine>(e: &E) {
    let six = |b: [u8; 6]| v(&b);
    let all = six([0xc5; 6]);
    let below = six([0xc5, 0xc5, 0x29, 0xc5, 0xc5, 0xc5]);
    let above = six([0xc5, 0xc5, 0xc5, 0xc6, 0, 0]);
    let cmp = |op, value: &Value| Insn::Cmp {
        src: Reg(0),
        op,
        value: value.clone(),
    };
    let list = |list: Vec<(Value, Value)>| Insn::InList {
        src: Reg(0),
        list,
        negate: false,
    };
    let cases = [
        (cmp(CmpOp::Gt, &all), true),
        (cmp(CmpOp::Le, &all), false),
        (cmp(CmpOp::Eq, &all), false),
        (cmp(CmpOp::Lt, &above), true),
        (
            Insn::Range {
                src: Reg(0),
                low: below.clone(),
                high: all.clone(),
                negate: false,
            },
            false,
        ),
        (
            list(vec![
                (all.clone(), all.clone()),
                (below.clone(), all.clone()),
            ]),
            false,
        ),
        (list(vec![(all.clone(), all.clone()), (below, above)]), true),
    ];
    for (test, want) in cases {
        let i = instance(matcher(vec![imm(0, &[0xc5; 8]), test.clone()]));
        assert_eq!(matches(e, &i, &[0; 4]), want, "{test:?}");
    }
}

/// An equality compare of a loaded value of any width matches on the
/// value's bytes alone, whatever the bytes after it, at the frame's end as
/// within it (the JIT may read a word past a value where the frame surely
/// holds those bytes, and mask them off); an inline list of adjoining
/// values matches each of them (the JIT merges them into ranges).
pub fn compares_read_the_value_alone<E: Engine>(e: &E) {
    for len in 1..=9u8 {
        let value: Vec<u8> = (1..=len).collect();
        let at = 2 + usize::from(len);
        // Without, then with a load past the value checking more of the
        // frame first.
        for farther in [None, Some(load(4, 0, at as u16 + 8, 1))] {
            let mut insns: Vec<Insn> = farther.iter().cloned().collect();
            insns.extend([load(0, 0, 2, len), cmp(0, CmpOp::Eq, &value)]);
            let i = instance(matcher(insns));
            for junk in [0x00, 0x5a, 0xff] {
                let mut frame = vec![junk; at + 9];
                frame[2..at].copy_from_slice(&value);
                let end = if farther.is_some() { at + 9 } else { at };
                assert!(matches(e, &i, &frame[..end]), "len {len} junk {junk:#x}");
                frame[at - 1] ^= 0x80;
                assert!(!matches(e, &i, &frame[..end]), "len {len} junk {junk:#x}");
            }
        }
    }
    // Two lists on one loaded value: the first hits an equal element
    // before its range; the second reads the value as a number.
    let range = |low: u8, high: u8| (v(&[low]), v(&[high]));
    let i = instance(matcher(vec![
        load(0, 0, 0, 1),
        Insn::InList {
            src: Reg(0),
            list: vec![range(1, 1), range(0x11, 0x12)],
            negate: false,
        },
        Insn::InList {
            src: Reg(0),
            list: vec![range(1, 2), range(0x12, 0x13)],
            negate: false,
        },
    ]));
    for b in 0..=255u8 {
        assert_eq!(matches(e, &i, &[b, 0]), matches!(b, 1 | 0x12), "{b:#x}");
    }
    let list = [0x87, 0x10, 0x85, 0x88, 0x86]
        .map(|b| (v(&[b]), v(&[b])))
        .to_vec();
    for negate in [false, true] {
        let i = list_matcher(1, list.clone(), negate);
        for b in 0..=255u8 {
            let inside = matches!(b, 0x10 | 0x85..=0x88);
            assert_eq!(matches(e, &i, &[b, 0]), inside != negate, "{b:#x}");
        }
    }
}

/// Tests of the input port decide by the port a frame came in on, named
/// by the program or not (the JIT makes code for each port, with these
/// tests decided).
pub fn input_port_tests<E: Engine>(e: &E) {
    let iif = || Insn::LoadMeta {
        dst: Reg(1),
        meta: Meta::Iif,
    };
    let port_is = |op, id: u32| cmp(1, op, &id.to_be_bytes());
    let mut marked = vec![
        iif(),
        Insn::InList {
            src: Reg(1),
            list: [0u32, 2]
                .map(|p| (v(&p.to_be_bytes()), v(&p.to_be_bytes())))
                .to_vec(),
            negate: false,
        },
    ];
    marked.extend(mark(0x10));
    let mut p = program(vec![base_chain(
        "t/in",
        0,
        Policy::Drop,
        vec![
            rule(marked),
            rule(vec![iif(), port_is(CmpOp::Eq, 1), verdict(Verdict::Drop)]),
            rule(vec![iif(), port_is(CmpOp::Ne, 2), verdict(Verdict::Accept)]),
        ],
    )]);
    p.ports = vec!["eth0".into(), "eth1".into(), "eth2".into()];
    let ports = ["eth0", "eth1", "eth2", "other"].map(|name| InputPort::new(&p, name, [0; 6]));
    let i = instance(p);
    let want = [
        (Final::Accept, 0x10),
        (Final::Drop, 0),
        (Final::Drop, 0x10),
        (Final::Accept, 0),
    ];
    for (port, (verdict, mark)) in ports.iter().zip(want) {
        let out = run_on(e, &i, &[0; 64], port);
        assert_eq!((out.verdict, out.mark), (verdict, mark), "{port:?}");
    }
}
