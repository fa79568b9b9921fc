//! The engines side by side, in one run: nanoseconds per packet of the
//! interpreter, the JIT, the hand-written Rust `edge` and the same logic as
//! an eBPF program under rbpf (interpreter and JIT) on the `edge` mix, and
//! of the engines on the ACLs (1,000 and 10,000 rules written one by one,
//! and 10,000 as one verdict map), then the ratios the JIT issue
//! states its goals in. Cells run in interleaved rounds and the medians are
//! kept, because these machines are shared and noisy.
//!
//! `cargo bench -p jitswitch-bench --bench engines` (`BENCH_ROUNDS`,
//! `BENCH_MS` per cell; `BENCH_PER_FRAME=1` adds each `edge` frame alone
//! under the JIT, the hand-written function and rbpf's JIT). Run any other
//! way (as a test target), it does nothing.

use jitswitch_bench::engines::{Run, interp, jit, load, native, rbpf};
use jitswitch_bench::{ebpf, frames};
use std::time::{Duration, Instant};

/// Nanoseconds per packet of `run` over `frames`, round-robin, for about
/// `budget`.
fn measure(run: &mut Run<'_>, frames: &mut [Vec<u8>], budget: Duration) -> f64 {
    let started = Instant::now();
    let mut packets = 0u64;
    while started.elapsed() < budget {
        for _ in 0..16 {
            for f in frames.iter_mut() {
                run(f);
            }
        }
        packets += 16 * frames.len() as u64;
    }
    started.elapsed().as_nanos() as f64 / packets as f64
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; test runners (`cargo test
    // --all-targets`, nextest's `--list`) do not, and get no tests.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let rounds: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let budget = Duration::from_millis(
        std::env::var("BENCH_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300),
    );
    let load = |file, port| load(file, port).unwrap_or_else(|e| panic!("{e:#}"));
    let edge = load("examples/rulesets/edge.nft", "veth3");
    let acl1k = load("examples/rulesets/acl-1k.nft", "veth0");
    let acl10k = load("examples/rulesets/acl-10k.nft", "veth0");
    let sets = load("examples/rulesets/acl-10k-sets.nft", "veth0");
    let edge_mix = frames::edge();
    let edge_frames: Vec<Vec<u8>> = edge_mix.iter().map(|f| f.bytes.clone()).collect();
    let acl_frames: Vec<Vec<u8>> = frames::acl(10_000, jitswitch_bench::acl::tuple)
        .into_iter()
        .map(|f| f.bytes)
        .collect();
    let acl1k_frames: Vec<Vec<u8>> = frames::acl(1_000, jitswitch_bench::acl::tuple)
        .into_iter()
        .map(|f| f.bytes)
        .collect();
    let code = ebpf::bytecode();
    let peer_interp = rbpf(&code, false).expect("rbpf takes the program");
    let peer_jit = rbpf(&code, true).expect("rbpf's JIT compiles it");
    let mut cells: Vec<(&str, Run<'_>, Vec<Vec<u8>>)> = vec![
        ("edge interp", interp(&edge), edge_frames.clone()),
        ("edge jit", jit(&edge), edge_frames.clone()),
        ("edge native", native(), edge_frames.clone()),
        ("edge rbpf interp", peer_interp, edge_frames.clone()),
        ("edge rbpf jit", peer_jit, edge_frames),
        ("acl-1k interp", interp(&acl1k), acl1k_frames.clone()),
        ("acl-1k jit", jit(&acl1k), acl1k_frames),
        ("acl-10k interp", interp(&acl10k), acl_frames.clone()),
        ("acl-10k jit", jit(&acl10k), acl_frames.clone()),
        ("acl-10k-sets interp", interp(&sets), acl_frames.clone()),
        ("acl-10k-sets jit", jit(&sets), acl_frames),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); cells.len()];
    for round in 0..rounds {
        for (i, (_, run, frames)) in cells.iter_mut().enumerate() {
            times[i].push(measure(run, frames, budget));
        }
        eprintln!("round {} of {rounds} done", round + 1);
    }
    let ns: Vec<f64> = times.into_iter().map(median).collect();
    println!("{:<22} {:>12}", "cell (median)", "ns/packet");
    for ((name, _, _), t) in cells.iter().zip(&ns) {
        println!("{name:<22} {t:>12.1}");
    }
    let at = |name: &str| {
        ns[cells
            .iter()
            .position(|(n, _, _)| *n == name)
            .expect("a cell")]
    };
    println!();
    println!("ratios (goal in brackets)");
    let ratios = [
        ("edge: interp / jit", "edge interp", "edge jit", "[>= 5]"),
        ("edge: jit / native", "edge jit", "edge native", "[<= 1.5]"),
        (
            "edge: rbpf interp / jit",
            "edge rbpf interp",
            "edge jit",
            "[> 1]",
        ),
        ("edge: rbpf jit / jit", "edge rbpf jit", "edge jit", "[> 1]"),
        (
            "acl-10k-sets jit / edge jit",
            "acl-10k-sets jit",
            "edge jit",
            "[<= 2]",
        ),
        ("acl-10k jit / edge jit", "acl-10k jit", "edge jit", ""),
        ("acl-10k: interp / jit", "acl-10k interp", "acl-10k jit", ""),
    ];
    for (label, a, b, goal) in ratios {
        println!("  {label:<28} {:>9.2}x  {goal}", at(a) / at(b));
    }
    if std::env::var_os("BENCH_PER_FRAME").is_some() {
        per_frame(&mut cells, &edge_mix, rounds, budget);
    }
}

/// `BENCH_PER_FRAME=1`: each `edge` frame alone (one frame over and over)
/// under the JIT, the hand-written function and rbpf's JIT, in interleaved
/// rounds: where the differences between them come from.
fn per_frame(
    cells: &mut [(&str, Run<'_>, Vec<Vec<u8>>)],
    mix: &[frames::Frame],
    rounds: usize,
    budget: Duration,
) {
    let engines = ["edge jit", "edge native", "edge rbpf jit"];
    let at: Vec<usize> = engines
        .iter()
        .map(|e| cells.iter().position(|(n, _, _)| n == e).expect("a cell"))
        .collect();
    let mut times = vec![vec![Vec::new(); engines.len()]; mix.len()];
    for round in 0..rounds {
        for (f, frame) in mix.iter().enumerate() {
            for (e, &cell) in at.iter().enumerate() {
                let mut one = vec![frame.bytes.clone()];
                times[f][e].push(measure(&mut cells[cell].1, &mut one, budget));
            }
        }
        eprintln!("per-frame round {} of {rounds} done", round + 1);
    }
    println!();
    println!(
        "{:<30} {:>8} {:>8} {:>9} {:>10}",
        "edge frame alone (median ns)", "jit", "native", "rbpf jit", "jit/rbpf"
    );
    for (frame, t) in mix.iter().zip(times) {
        let ns: Vec<f64> = t.into_iter().map(median).collect();
        println!(
            "{:<30} {:>8.1} {:>8.1} {:>9.1} {:>9.2}x",
            frame.what,
            ns[0],
            ns[1],
            ns[2],
            ns[0] / ns[2]
        );
    }
}
