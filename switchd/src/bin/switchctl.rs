//! `switchctl`: the command-line client of jitswitch. Offline commands work
//! on ruleset files and saved programs; online commands talk to a running
//! `switchd` over its control socket.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use switchd::control::protocol::Op;

/// Check, compile, trace and test jitswitch rulesets; control a running switch.
#[derive(Parser)]
#[command(name = "switchctl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The control socket of the running switch (online commands).
    #[arg(long, global = true, value_name = "PATH", default_value = switchd::config::DEFAULT_SOCKET)]
    socket: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Check, compile and verify ruleset files; print diagnostics, exit non-zero on errors.
    Check(switchd::ctl::check::Args),
    /// Compile a ruleset and print the verified program (listing or RON).
    Compile(switchd::ctl::compile::Args),
    /// Run frames through a ruleset, a saved program or the running switch
    /// (`--live`: as they arrive): the verdict and the rules on the way.
    Trace(switchd::ctl::trace::Args),
    /// Run packet test vectors (RON) against a ruleset.
    Test(switchd::ctl::test::Args),
    /// Measure what a ruleset costs per packet under each engine.
    Bench(switchd::ctl::bench::Args),
    /// Compile a ruleset in the running switch and swap it in.
    Reload(switchd::ctl::reload::Args),
    /// The running ruleset with handles and live counters.
    List(switchd::ctl::list::Args),
    /// Delete a rule or set elements from the running switch.
    Delete(switchd::ctl::delete::Args),
    /// Add elements to a named set or map of the running switch.
    Add(switchd::ctl::element::AddArgs),
    /// Per-port counters of the running switch.
    Ports(switchd::ctl::status::Args),
    /// The running switch's learned MAC table.
    Fdb(switchd::ctl::status::Args),
    /// Per-worker counters of the running switch.
    Stats(switchd::ctl::status::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let socket = &cli.socket;
    let result = match cli.command {
        Command::Check(args) => switchd::ctl::check::run(args),
        Command::Compile(args) => switchd::ctl::compile::run(args),
        Command::Trace(args) => switchd::ctl::trace::run(args, socket),
        Command::Test(args) => switchd::ctl::test::run(args),
        Command::Bench(args) => switchd::ctl::bench::run(args),
        Command::Reload(args) => switchd::ctl::reload::run(args, socket),
        Command::List(args) => switchd::ctl::list::run(args, socket),
        Command::Delete(args) => switchd::ctl::delete::run(args, socket),
        Command::Add(args) => switchd::ctl::element::run_add(args, socket),
        Command::Ports(args) => switchd::ctl::status::run(args, Op::Ports, socket),
        Command::Fdb(args) => switchd::ctl::status::run(args, Op::Fdb, socket),
        Command::Stats(args) => switchd::ctl::status::run(args, Op::Stats, socket),
    };
    result.unwrap_or_else(|e| {
        eprintln!("switchctl: {e:#}");
        ExitCode::FAILURE
    })
}
