//! The verifier: one test per rejection reason, and acceptance of good
//! programs.

mod common;

use common::{
    base_chain, chain, cmp, exact, load, load_key, lookup, matcher, program, rule, set_base,
    set_key, v, verdict,
};
use vm::verifier::Loc;
use vm::{
    BaseId, ChainId, ChecksumFix, CmpOp, CounterId, Insn, KeyId, LimitId, MAX_CALL_DEPTH, MapData,
    MapDecl, MapElem, MapId, MapValue, Meta, Operand, Policy, PortId, Program, Reg, SetDecl,
    SetElem, SetId, SetKind, ShiftDir, Value, Verdict, VerifyError, verify,
};

fn err(p: Program) -> VerifyError {
    match verify(p) {
        Ok(_) => panic!("program verified"),
        Err(e) => e,
    }
}

/// The error of a matcher program with these instructions.
fn insn_err(insns: Vec<Insn>) -> VerifyError {
    err(matcher(insns))
}

fn at(rule: usize, insn: usize) -> Loc {
    Loc::Insn {
        chain: Some((ChainId(0), "t/in".into())),
        rule,
        insn,
    }
}

fn set(key: Vec<u8>, elements: Vec<SetElem>) -> SetDecl {
    SetDecl {
        name: "s".into(),
        key,
        kind: SetKind::Hash,
        elements,
    }
}

fn vmap(elements: Vec<MapElem>) -> MapDecl {
    MapDecl {
        name: "m".into(),
        key: vec![1],
        kind: SetKind::Hash,
        data: MapData::Verdict,
        elements,
    }
}

#[test]
fn accepts_good_programs() {
    verify(matcher(vec![
        load(0, 0, 0, 4),
        cmp(0, CmpOp::Eq, &[1, 2, 3, 4]),
    ]))
    .unwrap();
    verify(common::edge_acl::program()).unwrap();
    verify(Program::default()).unwrap();
}

#[test]
fn register_out_of_range() {
    let e = insn_err(vec![load(16, 0, 0, 1)]);
    assert_eq!(
        e,
        VerifyError::RegOutOfRange {
            at: at(0, 0),
            reg: 16
        }
    );
}

#[test]
fn value_past_last_register() {
    let e = insn_err(vec![load(13, 0, 0, 16)]);
    assert_eq!(
        e,
        VerifyError::RegsPastEnd {
            at: at(0, 0),
            reg: 13,
            regs: 4
        }
    );
    let mut p = matcher(vec![
        load(15, 0, 0, 4),
        load(14, 0, 4, 4),
        lookup(15, 0, false),
    ]);
    p.sets = vec![SetDecl {
        name: "s".into(),
        key: vec![4, 2],
        kind: SetKind::Hash,
        elements: vec![],
    }];
    assert!(matches!(err(p), VerifyError::RegsPastEnd { regs: 2, .. }));
    // A store of 8 bytes reads two registers; a map's 6-byte data writes two.
    let store = Insn::Store {
        base: BaseId(0),
        offset: 0,
        len: 8,
        src: Reg(15),
        checksums: vec![],
    };
    let e = insn_err(vec![load(15, 0, 0, 4), store]);
    assert_eq!(
        e,
        VerifyError::RegsPastEnd {
            at: at(0, 1),
            reg: 15,
            regs: 2
        }
    );
    let mut p = matcher(vec![
        load(0, 0, 0, 1),
        Insn::MapLookup {
            src: Reg(0),
            map: MapId(0),
            dst: Reg(15),
        },
    ]);
    p.maps = vec![MapDecl {
        name: "m".into(),
        key: vec![1],
        kind: SetKind::Hash,
        data: MapData::Value(6),
        elements: vec![],
    }];
    assert_eq!(
        err(p),
        VerifyError::RegsPastEnd {
            at: at(0, 1),
            reg: 15,
            regs: 2
        }
    );
}

#[test]
fn undefined_register() {
    let e = insn_err(vec![cmp(3, CmpOp::Eq, &[1])]);
    assert_eq!(
        e,
        VerifyError::UndefinedReg {
            at: at(0, 0),
            reg: 3
        }
    );
    // Per chunk: a 4-byte load defines r0 only, an 8-byte compare reads r1.
    let e = insn_err(vec![load(0, 0, 0, 4), cmp(0, CmpOp::Eq, &[0; 8])]);
    assert_eq!(
        e,
        VerifyError::UndefinedReg {
            at: at(0, 1),
            reg: 1
        }
    );
    // Registers do not carry across rules.
    let mut p = matcher(vec![cmp(0, CmpOp::Eq, &[1])]);
    p.chains[0].rules.insert(0, rule(vec![load(0, 0, 0, 1)]));
    assert_eq!(
        err(p),
        VerifyError::UndefinedReg {
            at: at(1, 0),
            reg: 0
        }
    );
}

#[test]
fn undefined_base() {
    let e = insn_err(vec![load(0, 3, 0, 1)]);
    assert_eq!(
        e,
        VerifyError::UndefinedBase {
            at: at(0, 0),
            base: 3
        }
    );
}

#[test]
fn undefined_key() {
    let e = insn_err(vec![load_key(0, 2)]);
    assert_eq!(
        e,
        VerifyError::UndefinedKey {
            at: at(0, 0),
            key: 2
        }
    );
}

#[test]
fn undefined_set() {
    let e = insn_err(vec![load(0, 0, 0, 1), lookup(0, 0, false)]);
    assert_eq!(
        e,
        VerifyError::UndefinedSet {
            at: at(0, 1),
            set: 0
        }
    );
}

#[test]
fn undefined_map() {
    let e = insn_err(vec![
        load(0, 0, 0, 1),
        Insn::VmapLookup {
            src: Reg(0),
            map: MapId(2),
        },
    ]);
    assert_eq!(
        e,
        VerifyError::UndefinedMap {
            at: at(0, 1),
            map: 2
        }
    );
}

#[test]
fn undefined_counter() {
    let e = insn_err(vec![Insn::Counter {
        counter: CounterId(0),
    }]);
    assert_eq!(
        e,
        VerifyError::UndefinedCounter {
            at: at(0, 0),
            counter: 0
        }
    );
    let mut p = matcher(vec![]);
    p.chains[0].rules[0].counter = Some(CounterId(4));
    let e = err(p);
    let rule_loc = Loc::Rule {
        chain: Some((ChainId(0), "t/in".into())),
        rule: 0,
    };
    assert_eq!(
        e,
        VerifyError::UndefinedCounter {
            at: rule_loc,
            counter: 4
        }
    );
}

#[test]
fn undefined_limit() {
    let e = insn_err(vec![Insn::Limit { limit: LimitId(1) }]);
    assert_eq!(
        e,
        VerifyError::UndefinedLimit {
            at: at(0, 0),
            limit: 1
        }
    );
}

#[test]
fn undefined_port() {
    let e = insn_err(vec![Insn::Mirror { port: PortId(0) }]);
    assert_eq!(
        e,
        VerifyError::UndefinedPort {
            at: at(0, 0),
            port: 0
        }
    );
    let e = insn_err(vec![verdict(Verdict::Fwd(PortId(1)))]);
    assert_eq!(
        e,
        VerifyError::UndefinedPort {
            at: at(0, 0),
            port: 1
        }
    );
    let mut p = matcher(vec![]);
    p.chains[0].base.as_mut().unwrap().device = Some(PortId(0));
    assert_eq!(
        err(p),
        VerifyError::UndefinedPort {
            at: Loc::Chain(ChainId(0), "t/in".into()),
            port: 0
        }
    );
}

#[test]
fn undefined_chain() {
    let e = insn_err(vec![verdict(Verdict::Jump(ChainId(5)))]);
    assert_eq!(
        e,
        VerifyError::UndefinedChain {
            at: at(0, 0),
            chain: 5
        }
    );
    // In a verdict map too.
    let mut p = matcher(vec![
        load(0, 0, 0, 1),
        Insn::VmapLookup {
            src: Reg(0),
            map: MapId(0),
        },
    ]);
    p.maps = vec![vmap(vec![MapElem {
        key: exact(&[&[1]]),
        data: MapValue::Verdict(Verdict::Goto(ChainId(9))),
    }])];
    assert_eq!(
        err(p),
        VerifyError::UndefinedChain {
            at: Loc::Map(MapId(0), "m".into(), Some(0)),
            chain: 9
        }
    );
}

#[test]
fn value_lengths() {
    let e = insn_err(vec![load(0, 0, 0, 0)]);
    assert_eq!(
        e,
        VerifyError::ValueLength {
            at: at(0, 0),
            len: 0
        }
    );
    let e = insn_err(vec![load(0, 0, 0, 17)]);
    assert_eq!(
        e,
        VerifyError::ValueLength {
            at: at(0, 0),
            len: 17
        }
    );
    let e = insn_err(vec![Insn::Imm {
        dst: Reg(0),
        value: Value(vec![]),
    }]);
    assert_eq!(
        e,
        VerifyError::ValueLength {
            at: at(0, 0),
            len: 0
        }
    );
    let e = insn_err(vec![load(0, 0, 0, 4), cmp(0, CmpOp::Eq, &[0; 20])]);
    assert_eq!(
        e,
        VerifyError::ValueLength {
            at: at(0, 1),
            len: 20
        }
    );
    let e = insn_err(vec![
        load(0, 0, 0, 4),
        Insn::Store {
            base: BaseId(0),
            offset: 0,
            len: 0,
            src: Reg(0),
            checksums: vec![],
        },
    ]);
    assert_eq!(
        e,
        VerifyError::ValueLength {
            at: at(0, 1),
            len: 0
        }
    );
    let e = insn_err(vec![Insn::Remove {
        base: BaseId(0),
        offset: 0,
        len: 0,
    }]);
    assert_eq!(
        e,
        VerifyError::ValueLength {
            at: at(0, 0),
            len: 0
        }
    );
}

#[test]
fn mask_and_xor_lengths_differ() {
    let e = insn_err(vec![
        load(0, 0, 0, 2),
        Insn::Bitwise {
            dst: Reg(0),
            src: Reg(0),
            mask: v(&[1, 2]),
            xor: v(&[0]),
        },
    ]);
    assert_eq!(
        e,
        VerifyError::MaskXorLength {
            at: at(0, 1),
            mask: 2,
            xor: 1
        }
    );
}

#[test]
fn range_bounds_lengths_differ() {
    let e = insn_err(vec![
        load(0, 0, 0, 2),
        Insn::Range {
            src: Reg(0),
            low: v(&[0, 1]),
            high: v(&[0, 0, 2]),
            negate: false,
        },
    ]);
    assert_eq!(
        e,
        VerifyError::RangeLength {
            at: at(0, 1),
            low: 2,
            high: 3
        }
    );
}

#[test]
fn key_layouts() {
    for key in [vec![], vec![0], vec![17], vec![16, 16, 16, 16, 1]] {
        let mut p = matcher(vec![]);
        p.sets = vec![set(key.clone(), vec![])];
        assert_eq!(
            err(p),
            VerifyError::KeyLayout {
                at: Loc::Set(SetId(0), "s".into(), None),
                widths: key
            }
        );
    }
}

#[test]
fn map_data_width() {
    let mut p = matcher(vec![]);
    p.maps = vec![MapDecl {
        name: "m".into(),
        key: vec![1],
        kind: SetKind::Hash,
        data: MapData::Value(17),
        elements: vec![],
    }];
    assert_eq!(
        err(p),
        VerifyError::MapDataWidth {
            at: Loc::Map(MapId(0), "m".into(), None),
            len: 17
        }
    );
}

#[test]
fn map_kind_mismatch() {
    let mut p = matcher(vec![
        load(0, 0, 0, 1),
        Insn::MapLookup {
            src: Reg(0),
            map: MapId(0),
            dst: Reg(1),
        },
    ]);
    p.maps = vec![vmap(vec![])];
    assert_eq!(
        err(p),
        VerifyError::MapKind {
            at: at(0, 1),
            map: 0
        }
    );
    let mut p = matcher(vec![
        load(0, 0, 0, 1),
        Insn::VmapLookup {
            src: Reg(0),
            map: MapId(0),
        },
    ]);
    p.maps = vec![MapDecl {
        name: "m".into(),
        key: vec![1],
        kind: SetKind::Hash,
        data: MapData::Value(4),
        elements: vec![],
    }];
    assert_eq!(
        err(p),
        VerifyError::MapKind {
            at: at(0, 1),
            map: 0
        }
    );
}

#[test]
fn set_elements_must_fit_the_key() {
    use vm::runtime::ElemError;
    let cases = [
        (
            exact(&[&[1, 2, 3]]),
            ElemError::Width {
                component: 0,
                expected: 2,
                got: 3,
            },
        ),
        (
            SetElem {
                low: vec![],
                high: vec![],
            },
            ElemError::ComponentCount {
                expected: 1,
                got: 0,
            },
        ),
        (
            SetElem {
                low: vec![v(&[0, 2])],
                high: vec![v(&[0, 3])],
            },
            ElemError::NotExact { component: 0 },
        ),
    ];
    for (elem, source) in cases {
        let mut p = matcher(vec![]);
        p.sets = vec![set(vec![2], vec![exact(&[&[0, 1]]), elem])];
        assert_eq!(
            err(p),
            VerifyError::SetElement {
                at: Loc::Set(SetId(0), "s".into(), Some(1)),
                source
            }
        );
    }
    let mut p = matcher(vec![]);
    let backwards = SetElem {
        low: vec![v(&[0, 3])],
        high: vec![v(&[0, 2])],
    };
    p.sets = vec![SetDecl {
        kind: SetKind::Interval,
        ..set(vec![2], vec![backwards])
    }];
    assert!(matches!(
        err(p),
        VerifyError::SetElement {
            source: ElemError::LowAboveHigh { component: 0 },
            ..
        }
    ));
}

#[test]
fn map_elements_must_fit() {
    use vm::runtime::ElemError;
    let mut p = matcher(vec![]);
    p.maps = vec![MapDecl {
        name: "m".into(),
        key: vec![1],
        kind: SetKind::Interval,
        data: MapData::Value(2),
        elements: vec![
            MapElem {
                key: SetElem {
                    low: vec![v(&[0])],
                    high: vec![v(&[10])],
                },
                data: MapValue::Value(v(&[0, 1])),
            },
            MapElem {
                key: SetElem {
                    low: vec![v(&[10])],
                    high: vec![v(&[20])],
                },
                data: MapValue::Value(v(&[0, 2])),
            },
        ],
    }];
    assert!(matches!(
        err(p.clone()),
        VerifyError::MapElement {
            source: ElemError::Overlap,
            ..
        }
    ));
    p.maps[0].elements.pop();
    p.maps[0].elements[0].data = MapValue::Value(v(&[1]));
    assert!(matches!(
        err(p.clone()),
        VerifyError::MapElement {
            source: ElemError::Data,
            ..
        }
    ));
    p.maps[0].elements[0].data = MapValue::Verdict(Verdict::Accept);
    assert!(matches!(
        err(p),
        VerifyError::MapElement {
            source: ElemError::Data,
            ..
        }
    ));
}

#[test]
fn offsets_must_not_overflow() {
    let e = insn_err(vec![load(0, 0, u16::MAX - 1, 4)]);
    assert_eq!(
        e,
        VerifyError::OffsetOverflow {
            at: at(0, 0),
            offset: u16::MAX - 1,
            len: 4
        }
    );
    let fix = ChecksumFix {
        base: BaseId(0),
        offset: u16::MAX,
        zero_means_none: false,
        when: None,
    };
    let e = insn_err(vec![
        load(0, 0, 0, 1),
        Insn::Store {
            base: BaseId(0),
            offset: 0,
            len: 1,
            src: Reg(0),
            checksums: vec![fix],
        },
    ]);
    assert_eq!(
        e,
        VerifyError::OffsetOverflow {
            at: at(0, 1),
            offset: u16::MAX,
            len: 2
        }
    );
}

#[test]
fn shift_amount_in_range() {
    let e = insn_err(vec![
        load(0, 0, 0, 2),
        Insn::Shift {
            dst: Reg(0),
            src: Reg(0),
            len: 2,
            dir: ShiftDir::Left,
            bits: 16,
        },
    ]);
    assert_eq!(
        e,
        VerifyError::ShiftAmount {
            at: at(0, 1),
            bits: 16,
            len: 2
        }
    );
}

#[test]
fn parse_only_instructions() {
    for insn in [
        set_base(1, Some(0), 14),
        Insn::ClearBase { dst: BaseId(1) },
        Insn::ClearKey { dst: KeyId(0) },
        Insn::Skip { rules: 0 },
    ] {
        let name = insn.mnemonic();
        assert_eq!(
            insn_err(vec![insn]),
            VerifyError::ParseOnly {
                at: at(0, 0),
                what: name
            }
        );
    }
    let e = insn_err(vec![load(0, 0, 0, 4), set_key(0, 0)]);
    assert_eq!(
        e,
        VerifyError::ParseOnly {
            at: at(0, 1),
            what: "setkey"
        }
    );
}

#[test]
fn nothing_but_parsing_in_the_parse_section() {
    let parse_at = |insn| Loc::Insn {
        chain: None,
        rule: 1,
        insn,
    };
    let one = |insn: Insn| {
        let mut p = matcher(vec![]);
        p.ports = vec!["p".into()];
        p.counters = vec![vm::CounterDecl { name: "c".into() }];
        p.parse.push(rule(vec![load(0, 0, 0, 4), insn]));
        err(p)
    };
    for insn in [
        verdict(Verdict::Accept),
        verdict(Verdict::Continue),
        Insn::Counter {
            counter: CounterId(0),
        },
        Insn::SetMark { src: Reg(0) },
        Insn::Store {
            base: BaseId(0),
            offset: 0,
            len: 4,
            src: Reg(0),
            checksums: vec![],
        },
        Insn::Mirror { port: PortId(0) },
        Insn::Log { prefix: "x".into() },
        Insn::Insert {
            base: BaseId(0),
            offset: 0,
            bytes: v(&[1]),
        },
        Insn::Remove {
            base: BaseId(0),
            offset: 0,
            len: 1,
        },
    ] {
        let name = insn.mnemonic();
        assert_eq!(
            one(insn),
            VerifyError::NotInParse {
                at: parse_at(1),
                what: name
            }
        );
    }
    let mut p = matcher(vec![]);
    p.counters = vec![vm::CounterDecl { name: "c".into() }];
    p.parse[0].counter = Some(CounterId(0));
    assert!(matches!(
        err(p),
        VerifyError::NotInParse {
            what: "a rule counter",
            ..
        }
    ));
}

#[test]
fn no_jump_to_a_base_chain() {
    let p = program(vec![
        base_chain(
            "t/in",
            0,
            Policy::Accept,
            vec![rule(vec![verdict(Verdict::Goto(ChainId(1)))])],
        ),
        base_chain("t/other", 1, Policy::Accept, vec![]),
    ]);
    assert_eq!(
        err(p),
        VerifyError::JumpToBase {
            at: at(0, 0),
            chain: 1
        }
    );
}

#[test]
fn no_jump_to_itself() {
    let p = program(vec![
        base_chain("t/in", 0, Policy::Accept, vec![]),
        chain(
            "t/loop",
            vec![rule(vec![verdict(Verdict::Jump(ChainId(1)))])],
        ),
    ]);
    let here = Loc::Insn {
        chain: Some((ChainId(1), "t/loop".into())),
        rule: 0,
        insn: 0,
    };
    assert_eq!(err(p), VerifyError::JumpToSelf { at: here });
}

#[test]
fn no_cycles() {
    let p = program(vec![
        base_chain(
            "t/in",
            0,
            Policy::Accept,
            vec![rule(vec![verdict(Verdict::Jump(ChainId(1)))])],
        ),
        chain("t/a", vec![rule(vec![verdict(Verdict::Jump(ChainId(2)))])]),
        chain("t/b", vec![rule(vec![verdict(Verdict::Goto(ChainId(1)))])]),
    ]);
    let e = err(p);
    assert_eq!(
        e,
        VerifyError::Cycle {
            chains: vec!["t/a".into(), "t/b".into(), "t/a".into()]
        }
    );
    assert_eq!(e.to_string(), "chains jump in a cycle: t/a -> t/b -> t/a");
    // A cycle through a verdict map counts too.
    let mut p = program(vec![
        base_chain(
            "t/in",
            0,
            Policy::Accept,
            vec![rule(vec![verdict(Verdict::Jump(ChainId(1)))])],
        ),
        chain(
            "t/a",
            vec![rule(vec![
                load(0, 0, 0, 1),
                Insn::VmapLookup {
                    src: Reg(0),
                    map: MapId(0),
                },
            ])],
        ),
        chain("t/b", vec![rule(vec![verdict(Verdict::Jump(ChainId(1)))])]),
    ]);
    p.maps = vec![vmap(vec![MapElem {
        key: exact(&[&[1]]),
        data: MapValue::Verdict(Verdict::Jump(ChainId(2))),
    }])];
    assert!(matches!(err(p), VerifyError::Cycle { .. }));
}

#[test]
fn call_depth_is_bounded() {
    let deep = |n: usize| {
        let mut chains = vec![base_chain(
            "t/in",
            0,
            Policy::Accept,
            vec![rule(vec![verdict(Verdict::Jump(ChainId(1)))])],
        )];
        for i in 1..n {
            let next = if i + 1 < n {
                vec![rule(vec![verdict(Verdict::Jump(ChainId(i as u16 + 1)))])]
            } else {
                vec![]
            };
            chains.push(chain(&format!("t/c{i}"), next));
        }
        program(chains)
    };
    verify(deep(MAX_CALL_DEPTH)).unwrap();
    match err(deep(MAX_CALL_DEPTH + 1)) {
        VerifyError::CallDepth { chains } => assert_eq!(chains.len(), MAX_CALL_DEPTH + 1),
        e => panic!("{e}"),
    }
}

#[test]
fn too_many_slots() {
    let mut p = matcher(vec![]);
    p.bases = (0..17).map(|i| format!("b{i}")).collect();
    assert_eq!(
        err(p),
        VerifyError::TooMany {
            what: "bases",
            count: 17,
            max: 16
        }
    );
    let mut p = matcher(vec![]);
    p.keys = (0..9).map(|i| format!("k{i}")).collect();
    assert_eq!(
        err(p),
        VerifyError::TooMany {
            what: "keys",
            count: 9,
            max: 8
        }
    );
}

#[test]
fn errors_name_their_place() {
    let e = insn_err(vec![
        load(0, 0, 0, 1),
        Insn::Alu {
            dst: Reg(1),
            a: Reg(0),
            op: vm::AluOp::Add,
            b: Operand::Reg(Reg(7)),
        },
    ]);
    assert_eq!(
        e.to_string(),
        "chain t/in (c0), rule 0, instruction 1: r7 is read before this rule writes it"
    );
    let mut p = matcher(vec![]);
    p.parse.push(rule(vec![
        Insn::LoadMeta {
            dst: Reg(0),
            meta: Meta::Mark,
        },
        verdict(Verdict::Drop),
    ]));
    assert_eq!(
        err(p).to_string(),
        "parse section, rule 1, instruction 1: verdict is not allowed in the parse section"
    );
}

#[test]
fn skips_stay_inside_the_parse_section() {
    let mut p = matcher(vec![]);
    p.parse = vec![rule(vec![Insn::Skip { rules: 1 }]), rule(vec![])];
    assert!(verify(p.clone()).is_ok());
    p.parse[0] = rule(vec![Insn::Skip { rules: 2 }]);
    assert_eq!(
        err(p),
        VerifyError::SkipPastEnd {
            at: Loc::Insn {
                chain: None,
                rule: 0,
                insn: 0
            },
            rules: 2
        }
    );
}

#[test]
fn inline_lists_are_not_empty_and_of_one_width() {
    let e = insn_err(vec![
        load(0, 0, 0, 2),
        Insn::InList {
            src: Reg(0),
            list: vec![],
            negate: false,
        },
    ]);
    assert_eq!(e, VerifyError::EmptyList { at: at(0, 1) });
    let e = insn_err(vec![
        load(0, 0, 0, 2),
        Insn::InList {
            src: Reg(0),
            list: vec![(v(&[0, 1]), v(&[0, 2])), (v(&[3]), v(&[4]))],
            negate: false,
        },
    ]);
    assert_eq!(
        e,
        VerifyError::RangeLength {
            at: at(0, 1),
            low: 2,
            high: 1
        }
    );
}
