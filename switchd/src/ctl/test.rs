//! `switchctl test RULESET CASES.ron`: run packet test vectors against a
//! ruleset and report like `cargo test`: one line per case, the trace of
//! every failing case, and a closing `N passed, M failed` line. Exits
//! non-zero when any case fails.

use crate::cases::{Case, CaseFile};
use crate::config::Engine;
use crate::ctl::trace::trace_frames;
use crate::engine::Code;
use anyhow::Context;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use vm::outcome::Decider;
use vm::runtime::MonotonicClock;
use vm::{Final, InputPort, Instance, NoTrace, Outcome, Packet, Program};

/// Run packet test vectors against a ruleset.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The ruleset file.
    pub ruleset: PathBuf,
    /// The test vectors (RON).
    pub cases: PathBuf,
    /// The engine that runs the ruleset.
    #[arg(long, value_enum, default_value_t)]
    pub engine: Engine,
    /// The input port's link address (default 02:00:00:00:00:fe): `meta
    /// pkttype host` means a frame sent to it.
    #[arg(long, value_name = "MAC", value_parser = crate::cases::parse_mac)]
    pub iif_addr: Option<[u8; 6]>,
}

/// Runs `switchctl test`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let verified = match compiler::compile_file(&args.ruleset) {
        Ok((_, verified)) => verified,
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render(std::io::stderr().is_terminal()));
            return Ok(ExitCode::FAILURE);
        }
    };
    let text = std::fs::read_to_string(&args.cases)
        .with_context(|| format!("cannot read {}", args.cases.display()))?;
    let file = CaseFile::parse(&text).with_context(|| format!("{}", args.cases.display()))?;
    let instance = Instance::new(Arc::new(verified), Arc::new(MonotonicClock::new()));
    let code = Code::new(args.engine, Arc::new(instance))?;
    let mut out = std::io::stdout().lock();
    let port_addr = args.iif_addr.unwrap_or(super::OFFLINE_PORT_ADDR);
    let failed = run_cases(&code, &file.cases, DEFAULT_IIF, port_addr, &mut out)?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The input port of a case that names none.
pub const DEFAULT_IIF: &str = "eth0";

/// Runs every case (those that name no input port arrive on `default_iif`;
/// every input port has the link address `port_addr`), prints the report
/// to `out`, and returns how many failed.
pub fn run_cases(
    code: &Code,
    cases: &[Case],
    default_iif: &str,
    port_addr: [u8; 6],
    out: &mut dyn Write,
) -> anyhow::Result<usize> {
    let program = code.instance().program().program();
    writeln!(out, "running {} cases", cases.len())?;
    let mut failures = Vec::new();
    let mut outcome = Outcome::new();
    for case in cases {
        let frame = case
            .packet
            .build()
            .with_context(|| format!("case {:?}: building the packet", case.name))?;
        let port = InputPort::new(
            program,
            case.iif.as_deref().unwrap_or(default_iif),
            port_addr,
        );
        let mut bytes = frame.clone();
        code.run(
            Packet {
                frame: &mut bytes,
                port: &port,
                mark: 0,
            },
            &mut outcome,
            &mut NoTrace,
        );
        let mismatch = mismatch(program, case, &outcome);
        writeln!(
            out,
            "case {} ... {}",
            case.name,
            if mismatch.is_empty() { "ok" } else { "FAILED" }
        )?;
        if !mismatch.is_empty() {
            failures.push((case, frame, port, mismatch));
        }
    }
    if !failures.is_empty() {
        writeln!(out, "\nfailures:")?;
        for (case, frame, port, mismatch) in &failures {
            writeln!(out, "\n---- {} ----\n{mismatch}trace:", case.name)?;
            trace_frames(code, std::slice::from_ref(frame), port, false, out)?;
        }
    }
    let failed = failures.len();
    let status = if failed == 0 { "ok" } else { "FAILED" };
    writeln!(
        out,
        "\ntest result: {status}. {} passed, {failed} failed",
        cases.len() - failed
    )?;
    Ok(failed)
}

/// What the outcome got wrong, one line per expectation; empty when the
/// case passes.
fn mismatch(program: &Program, case: &Case, outcome: &Outcome) -> String {
    let e = &case.expect;
    let (chain, rule) = match outcome.decider {
        Decider::Rule { chain, rule } => (Some(chain), Some(rule as i64)),
        Decider::Policy { chain } => (Some(chain), Some(-1)),
        Decider::NoChain => (None, None),
    };
    let chain = chain
        .and_then(|c| program.chains.get(usize::from(c.0)))
        .map(|c| c.name.as_str());
    let source = outcome.rule(program).and_then(|r| r.source.as_ref());
    let (verdict, port) = match outcome.verdict {
        Final::Accept => ("accept", None),
        Final::Drop => ("drop", None),
        Final::Flood => ("flood", None),
        Final::Fwd(p) => (
            "fwd",
            program.ports.get(usize::from(p.0)).map(String::as_str),
        ),
    };
    let mut text = String::new();
    let mut check = |what: &str, expected: Option<String>, got: Option<String>| {
        if let Some(expected) = expected
            && Some(&expected) != got.as_ref()
        {
            let got = got.unwrap_or_else(|| "nothing".into());
            let _ = writeln!(text, "expected {what} {expected}, got {got}");
        }
    };
    check("verdict", e.verdict.clone(), Some(verdict.into()));
    check("port", e.port.clone(), port.map(Into::into));
    check("chain", e.chain.clone(), chain.map(Into::into));
    check(
        "rule",
        e.rule.map(|r| r.to_string()),
        rule.map(|r| r.to_string()),
    );
    check(
        "line",
        e.line.map(|l| l.to_string()),
        source.map(|s| s.line.to_string()),
    );
    check(
        "comment",
        e.comment.clone(),
        source.and_then(|s| s.comment.clone()),
    );
    check(
        "mark",
        e.mark.map(|m| m.to_string()),
        Some(outcome.mark.to_string()),
    );
    text
}
