//! The hand-written `edge` decides every benchmark frame exactly as
//! jitswitch does (verdict, deciding rule, mark, mirror, the frame after
//! its writes): the baseline is the same work, not less.

use jitswitch_bench::{frames, native};
use std::path::Path;
use std::sync::Arc;
use vm::runtime::MonotonicClock;
use vm::{Decider, Final, InputPort, Instance, NoTrace, Outcome, Packet, interpreter};

#[test]
fn native_edge_agrees_with_the_interpreter() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/rulesets/edge.nft");
    let (_, verified) =
        compiler::compile_file(&file).unwrap_or_else(|d| panic!("{}", d.render(false)));
    let instance = Instance::new(Arc::new(verified), Arc::new(MonotonicClock::new()));
    let program = instance.program().program();
    let mut state = native::Edge::default();
    for name in ["veth1", "veth2", "veth3", "eth0"] {
        let port = InputPort::new(program, name, [2, 0, 0, 0, 0, 0xfe]);
        for frame in frames::edge() {
            let (mut ours, mut theirs) = (frame.bytes.clone(), frame.bytes.clone());
            let mut out = Outcome::new();
            interpreter::run(
                &instance,
                Packet {
                    frame: &mut ours,
                    port: &port,
                    mark: 0,
                },
                &mut out,
                &mut NoTrace,
            );
            let d = native::edge(&mut state, &mut theirs, native::Port::named(name));
            let verdict = match out.verdict {
                Final::Accept => native::Verdict::Accept,
                Final::Drop => native::Verdict::Drop,
                Final::Fwd(_) => native::Verdict::FwdUplink,
                Final::Flood => native::Verdict::Flood,
            };
            let decider = match out.decider {
                Decider::Rule { chain, rule } => native::Decider::Rule {
                    chain: u8::from(program.chains[usize::from(chain.0)].name.ends_with("admin")),
                    rule: rule as u8,
                },
                _ => native::Decider::Policy,
            };
            let what = format!("{} on {name}", frame.what);
            assert_eq!((verdict, decider), (d.verdict, d.decider), "{what}");
            assert_eq!(out.mark, d.mark, "{what}");
            assert_eq!(!out.mirrors.is_empty(), d.mirrored, "{what}");
            assert_eq!(ours, theirs, "{what}: the frame after the writes");
        }
    }
}

#[test]
fn ebpf_edge_agrees_with_the_native_edge() {
    let code = jitswitch_bench::ebpf::bytecode();
    let mut interp = rbpf::EbpfVmMbuff::new(Some(&code)).expect("rbpf takes the program");
    jitswitch_bench::ebpf::register_helpers(&mut interp);
    let mut jit = rbpf::EbpfVmMbuff::new(Some(&code)).expect("rbpf takes the program");
    jitswitch_bench::ebpf::register_helpers(&mut jit);
    jit.jit_compile().expect("rbpf's JIT compiles the program");
    let mut state = native::Edge::default();
    for name in ["veth1", "veth2", "veth3", "eth0"] {
        let port = native::Port::named(name);
        for frame in frames::edge() {
            let what = format!("{} on {name}", frame.what);
            let mut want_frame = frame.bytes.clone();
            let want = native::edge(&mut state, &mut want_frame, port);
            let mut a = frame.bytes.clone();
            let m = jitswitch_bench::ebpf::mbuff(&mut a, port);
            let r = interp.execute_program(&a, &m).expect("runs");
            assert_eq!(
                jitswitch_bench::ebpf::decision(r),
                want,
                "{what} (rbpf interpreter)"
            );
            assert_eq!(
                a, want_frame,
                "{what} (rbpf interpreter): the frame after the writes"
            );
            let mut b = frame.bytes.clone();
            let mut m = jitswitch_bench::ebpf::mbuff(&mut b, port);
            // SAFETY: the program checks every packet access against
            // `data_end` and touches only its mbuff and stack otherwise.
            let r = unsafe { jit.execute_program_jit(&mut b, &mut m) }.expect("runs");
            assert_eq!(
                jitswitch_bench::ebpf::decision(r),
                want,
                "{what} (rbpf JIT)"
            );
            assert_eq!(
                b, want_frame,
                "{what} (rbpf JIT): the frame after the writes"
            );
        }
    }
    // The helpers counted every frame twice (interpreter and JIT) where the
    // native function counted it once.
    let mut counted = 0;
    for (i, c) in jitswitch_bench::ebpf::counters().iter().enumerate() {
        let (got, want) = (c.get(), state.counters[i].get());
        assert_eq!(
            (got.packets, got.bytes),
            (2 * want.packets, 2 * want.bytes),
            "counter {i}"
        );
        counted += want.packets;
    }
    assert!(counted > 0, "no frame was counted");
    // SYNs go over `limit rate over 200/second burst 50 packets` within 250
    // more, through the LIMIT helper, under both rbpf engines.
    let syn = frames::edge()
        .into_iter()
        .find(|f| f.what.contains("syn"))
        .expect("a SYN frame");
    let over = native::Decision {
        verdict: native::Verdict::Drop,
        decider: native::Decider::Rule { chain: 0, rule: 10 },
        mark: 0,
        mirrored: false,
    };
    let port = native::Port::Veth3;
    let over_interp = (0..260).any(|_| {
        let mut f = syn.bytes.clone();
        let m = jitswitch_bench::ebpf::mbuff(&mut f, port);
        jitswitch_bench::ebpf::decision(interp.execute_program(&f, &m).expect("runs")) == over
    });
    assert!(over_interp, "rbpf interpreter: SYNs never over the limit");
    let mut f = syn.bytes.clone();
    let mut m = jitswitch_bench::ebpf::mbuff(&mut f, port);
    // SAFETY: as above.
    let r = unsafe { jit.execute_program_jit(&mut f, &mut m) }.expect("runs");
    assert_eq!(
        jitswitch_bench::ebpf::decision(r),
        over,
        "rbpf JIT: over the limit"
    );
}
