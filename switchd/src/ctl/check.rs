//! `switchctl check FILE...`: parse, check, compile and verify rulesets
//! offline (everything a reload does before the swap).
//!
//! Prints nothing and exits 0 when every file is valid (`-v` adds a
//! one-line summary per file); otherwise prints the diagnostics on stderr
//! (or, with `--json`, one JSON object per diagnostic per line on stdout)
//! and exits 1.

use anyhow::Result;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `switchctl check`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Ruleset files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print a one-line summary for each valid file.
    #[arg(short, long)]
    pub verbose: bool,
    /// Print diagnostics as JSON objects, one per line, on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Checks every file; exit code 1 if any has errors.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut failed = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in &args.files {
        match compiler::compile_file(path) {
            Ok((checked, _verified)) => {
                if args.verbose {
                    let s = checked.summary();
                    writeln!(
                        out,
                        "{}: ok: {} tables, {} chains, {} rules, {} sets",
                        path.display(),
                        s.tables,
                        s.chains,
                        s.rules,
                        s.sets
                    )?;
                }
            }
            Err(diags) => {
                failed = true;
                if args.json {
                    for d in diags.json() {
                        writeln!(out, "{}", serde_json::to_string(&d)?)?;
                    }
                } else {
                    let color = std::io::stderr().is_terminal();
                    eprint!("{}", diags.render(color));
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
