//! Several threads run the same program over the same counters and sets
//! while another thread adds and deletes set elements: counters equal the
//! packets run, exactly, and lookups of elements nobody touches never miss;
//! under the interpreter and under the JIT (whose code holds the elements
//! of small sets until they change).

mod common;

use common::{Engine, Interp, base_chain, load, lookup, program, rule, v, verdict};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use vm::jit::JitProgram;
use vm::runtime::MonotonicClock;
use vm::{
    CounterDecl, CounterId, Final, InputPort, Insn, Instance, NoTrace, Outcome, Packet, Policy,
    SetDecl, SetElem, SetId, SetKind, Verdict, verify,
};

const THREADS: usize = 4;
const PACKETS: usize = 20_000;

fn exact(x: u16) -> SetElem {
    SetElem {
        low: vec![v(&x.to_be_bytes())],
        high: vec![v(&x.to_be_bytes())],
    }
}

/// Runs one packet.
type Run = dyn Fn(&Arc<Instance>, Packet<'_>, &mut Outcome) + Send + Sync;

#[test]
fn counters_are_exact_while_sets_change() {
    exact_while_sets_change(100, 1000, Arc::new(|i, p, o| Interp.run(i, p, o)));
}

/// The same under the JIT, with a set small enough to be compiled into the
/// code: packets use the compiled elements until the first change and look
/// up after it.
#[test]
fn counters_are_exact_while_sets_change_under_the_jit() {
    let compiled: Arc<std::sync::OnceLock<JitProgram>> = Arc::default();
    exact_while_sets_change(
        6,
        8,
        Arc::new(move |i, p, o| {
            compiled
                .get_or_init(|| JitProgram::compile(i).expect("compiles"))
                .run(p, o, &mut NoTrace)
        }),
    );
}

/// `stable` elements (1..=stable) stay in the set while a thread adds and
/// deletes `churn` others (1000..1000 + churn) over and over.
fn exact_while_sets_change(stable: u16, churned: u16, run: Arc<Run>) {
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
    // 1..=stable stay in the set; the churn thread adds and deletes the rest.
    p.sets = vec![SetDecl {
        name: "s".into(),
        key: vec![2],
        kind: SetKind::Hash,
        elements: (1..=stable).map(exact).collect(),
    }];
    let instance = Arc::new(Instance::new(
        Arc::new(verify(p).unwrap()),
        Arc::new(MonotonicClock::new()),
    ));
    // Compile (for the JIT) before the churn starts.
    run(
        &instance,
        Packet {
            frame: &mut [0, 0, 0, 0],
            port: &InputPort::unnamed(),
            mark: 0,
        },
        &mut Outcome::new(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let churn = {
        let (instance, stop) = (instance.clone(), stop.clone());
        thread::spawn(move || {
            let mut changes = 0u64;
            loop {
                for x in 1000..1000 + churned {
                    instance.add_set_element(SetId(0), exact(x)).unwrap();
                }
                for x in 1000..1000 + churned {
                    assert!(instance.delete_set_element(SetId(0), &exact(x)).unwrap());
                }
                changes += 2 * u64::from(churned);
                if stop.load(Ordering::Relaxed) {
                    break changes;
                }
            }
        })
    };
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (instance, run) = (instance.clone(), run.clone());
            thread::spawn(move || {
                let port = InputPort::unnamed();
                let mut out = Outcome::new();
                let mut accepted = 0usize;
                for n in 0..PACKETS {
                    // Even packets carry a stable element, odd ones a churned one.
                    let key: u16 = if n % 2 == 0 {
                        1 + (n % usize::from(stable)) as u16
                    } else {
                        1000 + ((n + t) % usize::from(churned)) as u16
                    };
                    let mut frame = [key.to_be_bytes()[0], key.to_be_bytes()[1], 0, 0];
                    run(
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
    let total = (THREADS * PACKETS) as u64 + 1;
    for c in [0, 1] {
        let got = instance.counter(CounterId(c)).unwrap().get();
        assert_eq!((got.packets, got.bytes), (total, 4 * total), "counter {c}");
    }
    let matched = instance.counter(CounterId(2)).unwrap().get();
    assert_eq!(matched.packets, accepted as u64);
    assert!(accepted >= THREADS * PACKETS / 2);
    // The first packet (the one that compiled) was not in the set.
    assert!(changes > 0);
    assert_eq!(instance.set(SetId(0)).unwrap().len(), usize::from(stable));
}
