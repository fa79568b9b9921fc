//! `switchctl`: the command-line client of jitswitch. Offline commands work
//! on ruleset files and saved programs; online commands talk to a running
//! `switchd` over its control socket.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Check, compile, trace and test jitswitch rulesets; control a running switch.
#[derive(Parser)]
#[command(name = "switchctl", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and check ruleset files; print diagnostics, exit non-zero on errors.
    Check(switchd::ctl::check::Args),
    /// Compile a ruleset and print the verified program (listing or RON).
    Compile(switchd::ctl::compile::Args),
    /// Run frames through a saved program: the verdict and the rule that gave it.
    Trace(switchd::ctl::trace::Args),
    /// Run packet test vectors (RON) against a ruleset.
    Test(switchd::ctl::test::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => switchd::ctl::check::run(args),
        Command::Compile(args) => switchd::ctl::compile::run(args),
        Command::Trace(args) => switchd::ctl::trace::run(args),
        Command::Test(args) => switchd::ctl::test::run(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("switchctl: {e:#}");
        ExitCode::FAILURE
    })
}
