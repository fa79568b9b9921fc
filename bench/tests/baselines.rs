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
