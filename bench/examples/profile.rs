//! One engine over the `edge` mix (or one frame of it), round after round:
//! a loop for profilers. Instructions a packet are what `valgrind
//! --tool=cachegrind` counts at N rounds less what it counts at 0 rounds,
//! divided by N times the frames (the loop's own cost is in every engine's
//! figure alike). Prints nanoseconds a packet, for a rough look only: the
//! engines benchmark (`benches/engines.rs`) is what measures.
//!
//! `cargo run --release -p jitswitch-bench --example profile --
//! jit|interp|native|rbpf ROUNDS [FRAME]`

use jitswitch_bench::engines::{Run, interp, jit, load, native, rbpf};
use jitswitch_bench::{ebpf, frames};
use std::time::Instant;

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
    let edge = load("examples/rulesets/edge.nft", "veth3")?;
    let code = ebpf::bytecode();
    let mut run: Run<'_> = match engine.as_str() {
        "jit" => jit(&edge),
        "interp" => interp(&edge),
        "native" => native(),
        "rbpf" => rbpf(&code, true)?,
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
