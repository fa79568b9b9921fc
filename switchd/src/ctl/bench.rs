//! `switchctl bench`: what a ruleset costs per packet before it is
//! deployed. Compiles the ruleset, prepares it for each engine asked for,
//! and runs the given frames through it in-process, round-robin, for a few
//! seconds per engine; prints the time to compile and verify, the time to
//! JIT and the code size, and packets per second and nanoseconds per packet
//! for each engine (with the JIT's speed-up over the interpreter when both
//! ran).
//!
//! Frames run in place, as in the switch: a ruleset that writes to packets
//! sees its own earlier writes on the next round, and rate limits and
//! counters work as in the daemon (they start fresh for each engine).

use crate::capture::read_hex_lines;
use crate::config::Engine;
use crate::engine::Code;
use anyhow::Context;
use serde::Serialize;
use std::hint::black_box;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use vm::runtime::MonotonicClock;
use vm::{InputPort, Instance, NoTrace, Outcome, Packet};

/// Measure what a ruleset costs per packet, per engine.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The ruleset file.
    pub ruleset: PathBuf,
    /// Frames to run, one in hex a line (`#` comments and blank lines
    /// skipped), as `switchctl trace --packets` reads them.
    #[arg(long, value_name = "FILE")]
    pub packets: PathBuf,
    /// Which engines to measure.
    #[arg(long, value_enum, default_value_t = Engines::Both)]
    pub engine: Engines,
    /// Seconds of running per engine.
    #[arg(long, value_name = "S", default_value_t = 2.0)]
    pub seconds: f64,
    /// The port the frames come in on.
    #[arg(long, value_name = "NAME", default_value = "eth0")]
    pub iif: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// The engines `switchctl bench` measures.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engines {
    /// The interpreter only.
    Interp,
    /// The JIT only.
    Jit,
    /// Both, interpreter first.
    Both,
}

impl Engines {
    fn list(self) -> &'static [Engine] {
        match self {
            Engines::Interp => &[Engine::Interp],
            Engines::Jit => &[Engine::Jit],
            Engines::Both => &[Engine::Interp, Engine::Jit],
        }
    }
}

/// What one engine did.
#[derive(Debug, Serialize)]
struct Run {
    engine: &'static str,
    /// Time to prepare the program (0 for the interpreter), milliseconds.
    prepare_ms: f64,
    /// Bytes of machine code (JIT only).
    code_bytes: Option<usize>,
    /// Rules run as rule groups, hash lookups (JIT only).
    grouped_rules: Option<usize>,
    /// Resident memory one prepared copy of the program holds (runtime
    /// objects, and for the JIT its code pages and tables), bytes.
    resident_bytes: usize,
    packets: u64,
    seconds: f64,
    packets_per_second: f64,
    ns_per_packet: f64,
}

/// Everything `switchctl bench` measured.
#[derive(Debug, Serialize)]
struct Report {
    ruleset: String,
    rules: usize,
    frames: usize,
    /// Parse, check, compile and verify, milliseconds.
    compile_ms: f64,
    runs: Vec<Run>,
}

/// Runs `switchctl bench`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.seconds > 0.0 && args.seconds.is_finite(),
        "--seconds must be a positive number"
    );
    let text = std::fs::read_to_string(&args.packets)
        .with_context(|| format!("cannot read {}", args.packets.display()))?;
    let mut frames =
        read_hex_lines(&text).with_context(|| format!("{}", args.packets.display()))?;
    anyhow::ensure!(!frames.is_empty(), "{}: no frames", args.packets.display());
    let started = Instant::now();
    let verified = match compiler::compile_file(&args.ruleset) {
        Ok((_, verified)) => Arc::new(verified),
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render(std::io::stderr().is_terminal()));
            return Ok(ExitCode::FAILURE);
        }
    };
    let compile_ms = ms(started.elapsed());
    let port = InputPort::new(verified.program(), &args.iif, super::OFFLINE_PORT_ADDR);
    let mut runs = Vec::new();
    for &engine in args.engine.list() {
        let instance = Instance::new(verified.clone(), Arc::new(MonotonicClock::new()));
        let started = Instant::now();
        let code = Code::new(engine, Arc::new(instance))?;
        let prepare_ms = ms(started.elapsed());
        let resident_bytes = resident_per_copy(engine, &verified)?;
        let (code_bytes, grouped_rules) = match &code {
            Code::Jit(jit) => (Some(jit.code_bytes()), Some(jit.grouped_rules())),
            Code::Interpreter(_) => (None, None),
        };
        let (packets, elapsed) = measure(&code, &mut frames, &port, args.seconds);
        let seconds = elapsed.as_secs_f64();
        runs.push(Run {
            engine: match engine {
                Engine::Interp => "interp",
                Engine::Jit => "jit",
            },
            prepare_ms,
            code_bytes,
            grouped_rules,
            resident_bytes,
            packets,
            seconds,
            packets_per_second: packets as f64 / seconds,
            ns_per_packet: seconds * 1e9 / packets as f64,
        });
    }
    let report = Report {
        ruleset: args.ruleset.display().to_string(),
        rules: verified
            .program()
            .chains
            .iter()
            .map(|c| c.rules.len())
            .sum(),
        frames: frames.len(),
        compile_ms,
        runs,
    };
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report);
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the frames round-robin through `code` for about `seconds`; the
/// packets run and the time they took.
fn measure(code: &Code, frames: &mut [Vec<u8>], port: &InputPort, seconds: f64) -> (u64, Duration) {
    /// Rounds between looks at the clock.
    const ROUNDS: u64 = 64;
    let budget = Duration::from_secs_f64(seconds);
    let mut out = Outcome::new();
    let mut packets = 0u64;
    let started = Instant::now();
    loop {
        for _ in 0..ROUNDS {
            for frame in frames.iter_mut() {
                code.run(
                    Packet {
                        frame,
                        port,
                        mark: 0,
                    },
                    &mut out,
                    &mut NoTrace,
                );
                black_box(&out.verdict);
            }
        }
        packets += ROUNDS * frames.len() as u64;
        let elapsed = started.elapsed();
        if elapsed >= budget {
            return (packets, elapsed);
        }
    }
}

fn print_report(r: &Report) {
    println!(
        "{}: {} rules, {} frames; compile and verify {:.2} ms",
        r.ruleset, r.rules, r.frames, r.compile_ms
    );
    for run in &r.runs {
        let prepared = match (run.code_bytes, run.grouped_rules) {
            (Some(bytes), Some(grouped)) => format!(
                " (jit {:.2} ms, {:.1} KiB of code, {grouped} rules in groups)",
                run.prepare_ms,
                bytes as f64 / 1024.0,
            ),
            _ => String::new(),
        };
        println!(
            "{:<7} {:>12.0} packets/s {:>9.1} ns/packet, {} KiB resident{prepared}",
            run.engine,
            run.packets_per_second,
            run.ns_per_packet,
            run.resident_bytes / 1024
        );
    }
    if let [interp, jit] = &r.runs[..] {
        println!(
            "jit/interp: {:.1}x faster",
            interp.ns_per_packet / jit.ns_per_packet
        );
    }
}

/// Resident memory one more prepared copy of the program holds: how much
/// resident memory grows while [`COPIES`] more are prepared and kept,
/// divided by their number (one copy alone is lost in allocator noise).
fn resident_per_copy(engine: Engine, verified: &Arc<vm::Verified>) -> anyhow::Result<usize> {
    /// Copies prepared to measure one.
    const COPIES: usize = 16;
    let before = resident_bytes();
    let copies = (0..COPIES)
        .map(|_| {
            let instance = Instance::new(verified.clone(), Arc::new(MonotonicClock::new()));
            Code::new(engine, Arc::new(instance))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let grown = resident_bytes().saturating_sub(before);
    drop(copies);
    Ok(grown / COPIES)
}

/// Resident memory of this process (`/proc/self/statm`), or 0 where that
/// cannot be read.
fn resident_bytes() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * usize::try_from(page).unwrap_or(4096)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
