//! `switchctl add element SET { ... }` and `switchctl delete element SET
//! { ... }`: change a named set or map of the running program without a
//! reload. Elements are written as in a ruleset file, for the set's types.

use super::client::{call, print_json, unexpected};
use crate::control::protocol::{Op, Reply};
use std::path::Path;
use std::process::ExitCode;

/// A set and elements.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The named set or map.
    pub set: String,
    /// The elements in braces: `{ 192.0.2.1, 10.9.0.0/16 }` (one argument
    /// or several words).
    #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
    pub elements: Vec<String>,
}

/// Arguments of `switchctl add`.
#[derive(clap::Args, Debug)]
pub struct AddArgs {
    #[command(subcommand)]
    pub what: AddWhat,
    /// Print the answer as JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

/// What to add.
#[derive(clap::Subcommand, Debug)]
pub enum AddWhat {
    /// Elements of a named set or map: `add element blocklist { 192.0.2.1 }`.
    Element(Args),
}

/// Runs `switchctl add`.
pub fn run_add(args: AddArgs, socket: &Path) -> anyhow::Result<ExitCode> {
    let AddWhat::Element(e) = args.what;
    run(e, true, args.json, socket)
}

/// Adds (`add`) or deletes the elements.
pub fn run(args: Args, add: bool, json: bool, socket: &Path) -> anyhow::Result<ExitCode> {
    let (set, elements) = (args.set, args.elements.join(" "));
    let op = if add {
        Op::AddElement { set, elements }
    } else {
        Op::DeleteElement { set, elements }
    };
    let reply = call(socket, op)?;
    let Reply::Elements(r) = reply else {
        return Err(unexpected(&reply));
    };
    if json {
        print_json(&r)?;
    } else {
        let (did, not) = if add {
            ("added", "already there")
        } else {
            ("deleted", "not there")
        };
        println!(
            "{}: {} {did}, {} {not}; {} elements now",
            r.set, r.changed, r.unchanged, r.size
        );
    }
    Ok(ExitCode::SUCCESS)
}
