//! The interpreter and the JIT on a realistic 20-rule edge ACL (see
//! `tests/common/edge_acl.rs`): nanoseconds per packet over a mix of frames,
//! and for the earliest and latest deciding rules, under each engine in
//! the same run (compare the two: the machines are shared and noisy).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use vm::jit::JitProgram;
use vm::runtime::MonotonicClock;
use vm::{InputPort, Instance, NoTrace, Outcome, Packet, interpreter, verify};

#[path = "../tests/common/mod.rs"]
mod common;

/// Runs one packet under an engine.
type Run<'a> = dyn Fn(Packet<'_>, &mut Outcome) + 'a;

fn edge_acl(c: &mut Criterion) {
    let verified = verify(common::edge_acl::program()).expect("the edge ACL verifies");
    let instance = Arc::new(Instance::new(
        Arc::new(verified),
        Arc::new(MonotonicClock::new()),
    ));
    let jit = JitProgram::compile(&instance).expect("the edge ACL compiles");
    let port = InputPort::new(instance.program().program(), "eth1", [2, 0, 0, 0, 0, 1]);
    let cases = common::edge_acl::cases();
    let mut out = Outcome::new();
    let interp = |packet: Packet<'_>, out: &mut Outcome| {
        interpreter::run(&instance, packet, out, &mut NoTrace)
    };
    let native = |packet: Packet<'_>, out: &mut Outcome| jit.run(packet, out, &mut NoTrace);
    let engines: [(&str, &Run); 2] = [("interpreter", &interp), ("jit", &native)];
    for (name, run) in engines {
        let mut group = c.benchmark_group(format!("{name}/edge_acl"));
        let mut frames: Vec<Vec<u8>> = cases.iter().map(|c| c.frame.clone()).collect();
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.bench_function("mix", |b| {
            b.iter(|| {
                for frame in frames.iter_mut() {
                    run(
                        Packet {
                            frame,
                            port: &port,
                            mark: 0,
                        },
                        &mut out,
                    );
                    black_box(out.verdict);
                }
            })
        });
        group.throughput(Throughput::Elements(1));
        for what in ["arp request", "ssh syn from 10/8", "unknown udp"] {
            let mut frame = cases
                .iter()
                .find(|c| c.what == what)
                .expect("a known case")
                .frame
                .clone();
            group.bench_function(what, |b| {
                b.iter(|| {
                    run(
                        Packet {
                            frame: &mut frame,
                            port: &port,
                            mark: 0,
                        },
                        &mut out,
                    );
                    black_box(out.verdict);
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, edge_acl);
criterion_main!(benches);
