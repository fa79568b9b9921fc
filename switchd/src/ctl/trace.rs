//! `switchctl trace`: run frames through a ruleset (or a saved program) and
//! show, for each, the verdict, the rule that gave it and the way there.
//!
//! Without a ruleset or `--program`, the frames run through the program of
//! the running daemon (on a copy of it: its counters do not move), and
//! `--live [MATCH]` shows how the next `--count` frames the daemon receives
//! that fit MATCH are decided.
//!
//! The program is loaded from RON and verified; a program the verifier
//! refuses is not run, and the verifier's reason is the error. The running
//! and printing part ([`trace_frames`]) takes the program made runnable by
//! an engine (`--engine`, the JIT by default), so that `switchctl test` and
//! the daemon's `trace` share it.

use super::client::{call, request, unexpected};
use crate::capture::{parse_hex, read_capture, read_hex_lines};
use crate::config::Engine;
use crate::control::protocol::{Op, Reply};
use crate::engine::Code;
use anyhow::Context;
use serde::Serialize;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use vm::listing::{insn_line, verdict_text};
use vm::outcome::Decider;
use vm::runtime::MonotonicClock;
use vm::trace::TraceEvent;
use vm::{Final, InputPort, Instance, Outcome, Packet, Policy, Program, RuleResult, TraceLog};

/// Run frames through a ruleset (or a saved program) and show the verdicts.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The ruleset file to compile and run; the running daemon's program
    /// when neither it nor --program is given.
    #[arg(conflicts_with = "program")]
    pub ruleset: Option<PathBuf>,
    /// A saved program (RON) to verify and run instead of a ruleset.
    #[arg(long, value_name = "FILE.ron")]
    pub program: Option<PathBuf>,
    /// A frame in hex (whitespace allowed); may be given several times.
    #[arg(long, value_name = "HEX", required_unless_present_any = ["packets", "pcap", "live"])]
    pub packet: Vec<String>,
    /// A file with one frame in hex a line; blank lines and lines starting
    /// with `#` are skipped.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["packet", "pcap"])]
    pub packets: Option<PathBuf>,
    /// A packet capture (pcap or pcapng, Ethernet).
    #[arg(long, value_name = "FILE", conflicts_with = "packet")]
    pub pcap: Option<PathBuf>,
    /// Print one JSON object per frame per line.
    #[arg(long)]
    pub json: bool,
    /// The name of the port the frames come in on.
    #[arg(long, value_name = "NAME")]
    pub iif: Option<String>,
    /// That port's link address (offline traces; default
    /// 02:00:00:00:00:fe): `meta pkttype host` means a frame sent to it.
    #[arg(long, value_name = "MAC", value_parser = crate::cases::parse_mac)]
    pub iif_addr: Option<[u8; 6]>,
    /// The engine that runs the program (offline traces).
    #[arg(long, value_enum, default_value_t)]
    pub engine: Engine,
    /// Trace the frames the running daemon receives that fit MATCH (a
    /// match in the ruleset language, `udp dport 53`; every frame without
    /// one), rule by rule, as they are decided.
    #[arg(long, value_name = "MATCH", num_args = 0..=1, default_missing_value = "",
          conflicts_with_all = ["ruleset", "program", "packet", "packets", "pcap"])]
    pub live: Option<String>,
    /// How many frames a live trace shows.
    #[arg(long, value_name = "N", default_value_t = 10, requires = "live")]
    pub count: u64,
}

/// Runs `switchctl trace`.
pub fn run(args: Args, socket: &Path) -> anyhow::Result<ExitCode> {
    if let Some(filter) = &args.live {
        return live(&args, filter, socket);
    }
    let verified = match (&args.ruleset, &args.program) {
        (Some(ruleset), _) => match compiler::compile_file(ruleset) {
            Ok((_, verified)) => Some(verified),
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render(io::stderr().is_terminal()));
                return Ok(ExitCode::FAILURE);
            }
        },
        (None, Some(path)) => {
            let bytes = read(path)?;
            let program =
                vm::saved::from_ron_bytes(&bytes).with_context(|| format!("{}", path.display()))?;
            Some(
                vm::verify(program)
                    .with_context(|| format!("{}: refused by the verifier", path.display()))?,
            )
        }
        (None, None) => None,
    };
    let frames = if let Some(path) = &args.packets {
        let text = String::from_utf8(read(path)?).with_context(|| format!("{}", path.display()))?;
        read_hex_lines(&text).with_context(|| format!("{}", path.display()))?
    } else if let Some(path) = &args.pcap {
        read_capture(&read(path)?).with_context(|| format!("{}", path.display()))?
    } else {
        args.packet
            .iter()
            .enumerate()
            .map(|(i, h)| {
                parse_hex(h).map_err(|e| anyhow::anyhow!("--packet number {}: {e}", i + 1))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let mut stdout = io::stdout().lock();
    let Some(verified) = verified else {
        for frame in &frames {
            let op = Op::Trace {
                frame: hex(frame),
                iif: args.iif.clone(),
                json: args.json,
            };
            match call(socket, op)? {
                Reply::Trace(text) => write!(stdout, "{text}")?,
                other => return Err(unexpected(&other)),
            }
        }
        return Ok(ExitCode::SUCCESS);
    };
    let port = InputPort::new(
        verified.program(),
        args.iif.as_deref().unwrap_or(""),
        args.iif_addr.unwrap_or(super::OFFLINE_PORT_ADDR),
    );
    let instance = Instance::new(Arc::new(verified), Arc::new(MonotonicClock::new()));
    let code = Code::new(args.engine, Arc::new(instance))?;
    trace_frames(&code, &frames, &port, args.json, &mut stdout)?;
    Ok(ExitCode::SUCCESS)
}

/// A frame in hex.
fn hex(frame: &[u8]) -> String {
    frame.iter().map(|b| format!("{b:02x}")).collect()
}

/// `--live`: prints the daemon's traces of the frames that fit `filter` as
/// they come.
fn live(args: &Args, filter: &str, socket: &Path) -> anyhow::Result<ExitCode> {
    let op = Op::TraceLive {
        filter: (!filter.trim().is_empty()).then(|| filter.to_string()),
        count: args.count,
        json: args.json,
    };
    let reply = request(socket, op, |f| {
        let mut stdout = io::stdout().lock();
        if args.json {
            serde_json::to_writer(&mut stdout, &f)?;
            writeln!(stdout)?;
        } else {
            writeln!(
                stdout,
                "# received on {} ({} bytes): {}",
                f.port,
                f.frame.len() / 2,
                f.frame
            )?;
            write!(stdout, "{}", f.trace)?;
        }
        stdout.flush()?;
        Ok(())
    })?;
    match reply {
        Reply::TraceDone(n) if n < args.count => {
            eprintln!("switchctl: {n} of {} frames traced", args.count);
            Ok(ExitCode::FAILURE)
        }
        Reply::TraceDone(_) => Ok(ExitCode::SUCCESS),
        other => Err(unexpected(&other)),
    }
}

fn read(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// The JSON line printed for a frame.
#[derive(Serialize)]
struct JsonVerdict<'a> {
    packet: usize,
    verdict: &'static str,
    port: Option<&'a str>,
    chain: Option<&'a str>,
    rule: Option<usize>,
    line: Option<u32>,
}

/// Runs each frame through `code` and prints the verdicts to `out`: with
/// `json`, one JSON object a line; otherwise a header line per frame and
/// the rules it went through.
pub fn trace_frames(
    code: &Code,
    frames: &[Vec<u8>],
    port: &InputPort,
    json: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let program = code.instance().program().program();
    let mut outcome = Outcome::new();
    let mut trace = TraceLog::default();
    for (n, frame) in frames.iter().enumerate() {
        let mut bytes = frame.clone();
        trace.events.clear();
        code.run(
            Packet {
                frame: &mut bytes,
                port,
                mark: 0,
            },
            &mut outcome,
            &mut trace,
        );
        print_outcome(program, n, &outcome, &trace.events, json, out)?;
    }
    Ok(())
}

/// Prints what was decided about frame number `n`, given the outcome and
/// the trace events of its run: with `json`, one JSON object on a line;
/// otherwise a header line and the rules it went through.
pub fn print_outcome(
    program: &Program,
    n: usize,
    outcome: &Outcome,
    events: &[TraceEvent],
    json: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    let (chain, rule) = match outcome.decider {
        Decider::Rule { chain, rule } => (Some(chain), Some(rule)),
        Decider::Policy { chain } => (Some(chain), None),
        Decider::NoChain => (None, None),
    };
    let chain_name = chain
        .and_then(|c| program.chains.get(usize::from(c.0)))
        .map(|c| c.name.as_str());
    let source = outcome.rule(program).and_then(|r| r.source.as_ref());
    if json {
        let line = JsonVerdict {
            packet: n,
            verdict: verdict_word(outcome.verdict),
            port: match outcome.verdict {
                Final::Fwd(p) => Some(port_name(program, p)),
                Final::Accept | Final::Drop | Final::Flood => None,
            },
            chain: chain_name,
            rule,
            line: source.map(|s| s.line),
        };
        serde_json::to_writer(&mut *out, &line)?;
        return writeln!(out);
    }
    write!(out, "packet {n}: {}", final_text(program, outcome.verdict))?;
    match (chain_name, rule) {
        (Some(c), Some(r)) => write!(out, " by {c} rule {r}")?,
        (Some(c), None) => write!(out, " by the policy of {c}")?,
        (None, _) => write!(out, " (no base chain saw it)")?,
    }
    if let Some(s) = source {
        write!(out, " ({}:{}: {})", s.file, s.line, s.text)?;
    }
    writeln!(out)?;
    if outcome.mark != 0 {
        writeln!(out, "  mark 0x{:08x}", outcome.mark)?;
    }
    for m in &outcome.mirrors {
        writeln!(out, "  mirrored to {:?}", port_name(program, m.port))?;
    }
    for prefix in outcome.log_prefixes(program) {
        writeln!(out, "  log {prefix:?}")?;
    }
    for event in events {
        print_event(program, event, out)?;
    }
    Ok(())
}

fn print_event(program: &Program, event: &TraceEvent, out: &mut dyn Write) -> io::Result<()> {
    let name = |c: vm::ChainId| {
        program
            .chains
            .get(usize::from(c.0))
            .map_or("?", |c| c.name.as_str())
    };
    match *event {
        // The parse section is the prelude's, not the user's: not shown.
        TraceEvent::Rule { chain: None, .. } => Ok(()),
        TraceEvent::Rule {
            chain: Some(c),
            rule,
            result,
        } => {
            write!(out, "  {} rule {rule}: ", name(c))?;
            match result {
                RuleResult::Verdict(v) => writeln!(out, "{}", verdict_text(program, v)),
                // Chain rules never skip (the verifier sees to it).
                RuleResult::End | RuleResult::Skip { .. } => writeln!(out, "matched, no verdict"),
                RuleResult::Broke { insn } => {
                    let text = program.chains[usize::from(c.0)]
                        .rules
                        .get(rule)
                        .and_then(|r| r.insns.get(insn));
                    let text = text.map_or_else(String::new, |i| insn_line(program, i));
                    writeln!(out, "no match at instruction {insn} ({text})")
                }
            }
        }
        TraceEvent::Policy { chain, policy } => {
            let p = match policy {
                Policy::Accept => "accept",
                Policy::Drop => "drop",
            };
            writeln!(out, "  {}: policy {p}", name(chain))
        }
    }
}

fn verdict_word(f: Final) -> &'static str {
    match f {
        Final::Accept => "accept",
        Final::Drop => "drop",
        Final::Fwd(_) => "fwd",
        Final::Flood => "flood",
    }
}

fn final_text(program: &Program, f: Final) -> String {
    match f {
        Final::Fwd(p) => format!("fwd to {:?}", port_name(program, p)),
        _ => verdict_word(f).to_string(),
    }
}

/// A port's name (`?` if the program does not name it: a verified
/// program always does).
fn port_name(program: &Program, p: vm::PortId) -> &str {
    program
        .ports
        .get(usize::from(p.0))
        .map_or("?", String::as_str)
}
