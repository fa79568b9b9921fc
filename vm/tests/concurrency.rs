//! Several threads run the same program over the same counters and sets
//! while another thread adds and deletes set elements: counters equal the
//! packets run, exactly, and lookups of elements nobody touches never miss.

mod common;

use common::{Engine, Interp, base_chain, load, lookup, program, rule, v, verdict};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use vm::runtime::MonotonicClock;
use vm::{
    CounterDecl, CounterId, Final, InputPort, Insn, Instance, Outcome, Packet, Policy, SetDecl,
    SetElem, SetId, SetKind, Verdict, verify,
};

const THREADS: usize = 4;
const PACKETS: usize = 20_000;

fn exact(x: u16) -> SetElem {
    SetElem {
        low: vec![v(&x.to_be_bytes())],
        high: vec![v(&x.to_be_bytes())],
    }
}

#[test]
fn counters_are_exact_while_sets_change() {
    // Rule 0 counts every packet twice over (two counter statements);
    // rule 1 accepts frames whose first two bytes are in the set, counting
    // them; the policy drops the rest.
    let mut p = program(vec![base_chain(
        "t/in",
        0,
        Policy::Drop,
        vec![
            rule(vec![
                Insn::Counter {
                    counter: CounterId(0),
                },
                Insn::Counter {
                    counter: CounterId(1),
                },
            ]),
            rule(vec![
                load(0, 0, 0, 2),
                lookup(0, 0, false),
                Insn::Counter {
                    counter: CounterId(2),
                },
                verdict(Verdict::Accept),
            ]),
        ],
    )]);
    p.chains[0].rules[0].counter = Some(CounterId(0));
    p.counters = (0..3)
        .map(|i| CounterDecl {
            name: format!("c{i}"),
        })
        .collect();
    // 1..=100 stay in the set; the churn thread adds and deletes 1000..2000.
    p.sets = vec![SetDecl {
        name: "s".into(),
        key: vec![2],
        kind: SetKind::Hash,
        elements: (1..=100).map(exact).collect(),
    }];
    let instance = Arc::new(Instance::new(
        Arc::new(verify(p).unwrap()),
        Arc::new(MonotonicClock::new()),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let (instance, stop) = (instance.clone(), stop.clone());
        thread::spawn(move || {
            let mut changes = 0u64;
            loop {
                for x in 1000..2000 {
                    instance.add_set_element(SetId(0), exact(x)).unwrap();
                }
                for x in 1000..2000 {
                    assert!(instance.delete_set_element(SetId(0), &exact(x)).unwrap());
                }
                changes += 2000;
                if stop.load(Ordering::Relaxed) {
                    break changes;
                }
            }
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let instance = instance.clone();
            thread::spawn(move || {
                let port = InputPort::unnamed();
                let mut out = Outcome::new();
                let mut accepted = 0usize;
                for n in 0..PACKETS {
                    // Even packets carry a stable element, odd ones a churned one.
                    let key: u16 = if n % 2 == 0 {
                        1 + (n % 100) as u16
                    } else {
                        1000 + ((n + t) % 1000) as u16
                    };
                    let mut frame = [key.to_be_bytes()[0], key.to_be_bytes()[1], 0, 0];
                    Interp.run(
                        &instance,
                        Packet {
                            frame: &mut frame,
                            port: &port,
                            mark: 0,
                        },
                        &mut out,
                    );
                    if n % 2 == 0 {
                        assert_eq!(out.verdict, Final::Accept, "stable element {key} missed");
                    }
                    accepted += usize::from(out.verdict == Final::Accept);
                }
                accepted
            })
        })
        .collect();
    let accepted: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    stop.store(true, Ordering::Relaxed);
    let changes = churn.join().unwrap();
    let total = (THREADS * PACKETS) as u64;
    for c in [0, 1] {
        let got = instance.counter(CounterId(c)).unwrap().get();
        assert_eq!((got.packets, got.bytes), (total, 4 * total), "counter {c}");
    }
    let matched = instance.counter(CounterId(2)).unwrap().get();
    assert_eq!(matched.packets, accepted as u64);
    assert!(accepted >= THREADS * PACKETS / 2);
    assert!(changes > 0);
    assert_eq!(instance.set(SetId(0)).unwrap().len(), 100);
}
