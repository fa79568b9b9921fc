//! `switchctl reload [FILE]`: compile a ruleset in the daemon and swap it in
//! atomically; a ruleset with errors changes nothing and its diagnostics
//! are printed.

use super::client::{call, print_json, unexpected};
use crate::control::protocol::{Op, Reply};
use anyhow::Context;
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `switchctl reload`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The ruleset file; the daemon's configured one when absent.
    pub file: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `switchctl reload`.
pub fn run(args: Args, socket: &Path) -> anyhow::Result<ExitCode> {
    // The daemon may run elsewhere in the file system: an absolute path.
    let file = match args.file {
        Some(f) => Some(std::path::absolute(&f).with_context(|| format!("{}", f.display()))?),
        None => None,
    };
    let reply = call(socket, Op::Reload { file })?;
    let Reply::Reloaded(r) = reply else {
        return Err(unexpected(&reply));
    };
    if args.json {
        print_json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "reloaded {} (generation {}): {} rules kept, {} added, {} removed",
        r.file,
        r.generation,
        r.kept.len(),
        r.added.len(),
        r.removed.len()
    );
    if !r.added.is_empty() {
        println!("  new handles: {:?}", r.added);
    }
    for d in &r.removed {
        println!("  removed {}", super::list::deleted_line(d));
    }
    Ok(ExitCode::SUCCESS)
}
