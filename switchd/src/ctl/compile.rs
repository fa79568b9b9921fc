//! `switchctl compile`: compile a ruleset file and print the verified
//! program, as a listing or as RON.

use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Compile a ruleset and print the verified program.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The ruleset file.
    pub file: PathBuf,
    /// What to print.
    #[arg(long, value_enum, default_value_t = Emit::Listing)]
    pub emit: Emit,
}

/// Output forms of `switchctl compile`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Emit {
    /// The human-readable listing.
    Listing,
    /// The RON form, which `switchctl trace --program` loads.
    Ron,
}

/// Runs `switchctl compile`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let verified = match compiler::compile_file(&args.file) {
        Ok((_, verified)) => verified,
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render(std::io::stderr().is_terminal()));
            return Ok(ExitCode::FAILURE);
        }
    };
    let text = match args.emit {
        Emit::Listing => vm::listing::listing(verified.program()),
        Emit::Ron => {
            vm::saved::to_ron_pretty(verified.program()).context("serialising the program")?
        }
    };
    // A reader that stops early (`| head`) is not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).context("writing the program")
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}
