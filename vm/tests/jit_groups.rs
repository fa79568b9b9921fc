//! The JIT's rule groups (runs of rules of one shape run as one hash
//! lookup) decide exactly as the interpreter's rule-by-rule scan: first
//! match, duplicates, guards that fail, loads past the end, counters, every
//! final verdict, and rules before and after the group.

mod common;

use common::*;
use vm::{CmpOp, CounterDecl, CounterId, Insn, PortId, Verdict};

/// Rule `n` of the group: `b0[0..2] == n`, `b0[2] == n % 3`, a guard on
/// `b0[3]` that is the same in every rule (`< 0xf0`), a counter, and one
/// of the final verdicts. Rule 30 repeats rule 10's key (never reached).
fn group_rule(n: u16) -> vm::Rule {
    let key = if n == 30 { 10 } else { n };
    let decision = match n % 4 {
        0 => Verdict::Accept,
        1 => Verdict::Drop,
        2 => Verdict::Fwd(PortId(0)),
        _ => Verdict::Flood,
    };
    let mut r = rule(vec![
        load(0, 0, 0, 2),
        cmp(0, CmpOp::Eq, &key.to_be_bytes()),
        load(1, 0, 2, 1),
        cmp(1, CmpOp::Eq, &[(key % 3) as u8]),
        load(2, 0, 3, 1),
        cmp(2, CmpOp::Lt, &[0xf0]),
        Insn::Counter {
            counter: CounterId(u32::from(n)),
        },
        verdict(decision),
    ]);
    r.counter = Some(CounterId(u32::from(n)));
    r
}

#[test]
fn groups_decide_as_the_scan_does() {
    const RULES: u16 = 40;
    let mut rules = vec![rule(vec![
        load(0, 0, 0, 2),
        cmp(0, CmpOp::Eq, &[0xff, 0xff]),
        verdict(Verdict::Drop),
    ])];
    rules.extend((0..RULES).map(group_rule));
    rules.push(rule(vec![
        load(0, 0, 2, 1),
        cmp(0, CmpOp::Eq, &[1]),
        verdict(Verdict::Accept),
    ]));
    let mut p = program(vec![base_chain("t/in", 0, vm::Policy::Drop, rules)]);
    p.ports = vec!["out".into()];
    p.counters = (0..RULES)
        .map(|n| CounterDecl {
            name: format!("rule {n}"),
        })
        .collect();
    let p_clone = p.clone();
    let (interp, jit) = (instance(p.clone()), instance(p));
    let engine = Jit::default();
    let grouped = vm::jit::JitProgram::compile(&instance(p_clone))
        .expect("compiles")
        .grouped_rules();
    assert_eq!(grouped, usize::from(RULES), "the whole run is one group");
    let mut frames: Vec<Vec<u8>> = vec![vec![], vec![0], vec![0, 5], vec![0, 5, 2]];
    for n in 0..RULES + 3 {
        for third in 0..4u8 {
            for guard in [0x00, 0xef, 0xf0] {
                let [a, b] = n.to_be_bytes();
                frames.push(vec![a, b, third, guard]);
                frames.push(vec![a, b, third, guard, 0x99]);
            }
        }
    }
    frames.push(vec![0xff, 0xff, 0, 0]);
    for frame in &frames {
        let want = run(&Interp, &interp, frame);
        let got = run(&engine, &jit, frame);
        assert_eq!(want, got, "frame {frame:02x?}");
    }
    for (n, (a, b)) in interp.counters().iter().zip(jit.counters()).enumerate() {
        assert_eq!(a.get(), b.get(), "counter of rule {n}");
    }
    // The group really decided: rule 7's frames were counted by rule 7,
    // and the duplicate key's second rule never counted.
    assert!(jit.counters()[7].get().packets > 0);
    assert_eq!(jit.counters()[30].get().packets, 0);
}
