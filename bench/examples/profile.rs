//! One engine over the `edge` mix (or one frame of it), round after round:
//! a loop for profilers. Instructions a packet are what `valgrind
//! --tool=cachegrind` counts at N rounds less what it counts at 0 rounds,
//! divided by N times the frames (the loop's own cost is in every engine's
//! figure alike). Prints nanoseconds a packet, for a rough look only: the
//! engines benchmark (`benches/engines.rs`) is what measures.
//!
//! `cargo run --release -p jitswitch-bench --example profile --
//! jit|interp|native|rbpf ROUNDS [FRAME]`

use jitswitch_bench::{ebpf, frames, native};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use vm::jit::JitProgram;
use vm::runtime::MonotonicClock;
use vm::{InputPort, Instance, NoTrace, Outcome, Packet, interpreter};

/// Runs one frame; the chosen engine.
type Run<'a> = Box<dyn FnMut(&mut [u8]) + 'a>;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: profile jit|interp|native|rbpf ROUNDS [FRAME]";
    let engine = args.next().ok_or_else(|| anyhow::anyhow!(usage))?;
    let rounds: usize = args.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;
    let mut frames: Vec<Vec<u8>> = frames::edge().into_iter().map(|f| f.bytes).collect();
    if let Some(i) = args.next() {
        let i: usize = i.parse()?;
        let one = frames
            .get(i)
            .ok_or_else(|| anyhow::anyhow!("no frame {i}"))?;
        frames = vec![one.clone()];
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (_, verified) = compiler::compile_file(&root.join("examples/rulesets/edge.nft"))
        .map_err(|d| anyhow::anyhow!("{}", d.render(false)))?;
    let port = InputPort::new(verified.program(), "veth3", [2, 0, 0, 0, 0, 0xfe]);
    let instance = Arc::new(Instance::new(
        Arc::new(verified),
        Arc::new(MonotonicClock::new()),
    ));
    let jit = JitProgram::compile(&instance)?;
    let mut out = Outcome::new();
    let mut state = native::Edge::default();
    let code = ebpf::bytecode();
    let mut peer = rbpf::EbpfVmMbuff::new(Some(&code))?;
    ebpf::register_helpers(&mut peer);
    peer.jit_compile()?;
    let mut run: Run<'_> = match engine.as_str() {
        "jit" => Box::new(|frame| {
            let packet = Packet {
                frame,
                port: &port,
                mark: 0,
            };
            jit.run(packet, &mut out, &mut NoTrace);
            black_box(&out.verdict);
        }),
        "interp" => Box::new(|frame| {
            let packet = Packet {
                frame,
                port: &port,
                mark: 0,
            };
            interpreter::run(&instance, packet, &mut out, &mut NoTrace);
            black_box(&out.verdict);
        }),
        "native" => Box::new(|frame| {
            black_box(native::edge(&mut state, frame, native::Port::Veth3));
        }),
        "rbpf" => Box::new(|frame| {
            let mut m = ebpf::mbuff(frame, native::Port::Veth3);
            // SAFETY: the program checks every packet access against
            // `data_end` (`tests/baselines.rs` runs it on every frame).
            black_box(unsafe { peer.execute_program_jit(frame, &mut m) }.expect("runs"));
        }),
        _ => anyhow::bail!(usage),
    };
    let started = Instant::now();
    for _ in 0..rounds {
        for frame in frames.iter_mut() {
            run(frame);
        }
    }
    let packets = (rounds * frames.len()).max(1);
    println!(
        "{:.2} ns/packet",
        started.elapsed().as_nanos() as f64 / packets as f64
    );
    Ok(())
}
