//! `switchctl list [--json] [--deleted]`: the running ruleset as the
//! daemon runs it, like `nft -a list ruleset`: chains and rules with their
//! handles and live counters, and the named sets and maps with their
//! current elements; with `--deleted`, the final counters of recently
//! deleted rules.

use super::client::{call, print_json, unexpected};
use crate::control::protocol::{Counts, DeletedRule, Op, Reply, RulesetView};
use std::path::Path;
use std::process::ExitCode;

/// Arguments of `switchctl list`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Print the ruleset as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Also the rules deleted recently, with their final counters.
    #[arg(long)]
    pub deleted: bool,
}

/// Runs `switchctl list`.
pub fn run(args: Args, socket: &Path) -> anyhow::Result<ExitCode> {
    let reply = call(
        socket,
        Op::List {
            deleted: args.deleted,
        },
    )?;
    let Reply::Ruleset(view) = reply else {
        return Err(unexpected(&reply));
    };
    if args.json {
        print_json(&view)?;
    } else {
        print!("{}", text(&view));
    }
    Ok(ExitCode::SUCCESS)
}

fn counts(c: &Counts) -> String {
    format!("packets {} bytes {}", c.packets, c.bytes)
}

/// One deleted rule, on one line.
pub fn deleted_line(d: &DeletedRule) -> String {
    let mut line = format!("handle {} in {}: {}", d.handle, d.chain, d.text);
    if let Some(c) = &d.counter {
        line.push_str(&format!(" ({})", counts(c)));
    }
    line.push_str(&format!(" [{} at {}]", d.by, d.at));
    line
}

/// The ruleset as text.
pub fn text(view: &RulesetView) -> String {
    let mut out = String::new();
    match &view.file {
        None => out.push_str("# no ruleset loaded: every frame is switched\n"),
        Some(file) => {
            out.push_str(&format!("# {file} (generation {})\n", view.generation));
            if !view.deleted_since_load.is_empty() {
                out.push_str(&format!(
                    "# rules deleted since it was loaded (the file still has them): {:?}\n",
                    view.deleted_since_load
                ));
            }
        }
    }
    for set in &view.sets {
        out.push_str(&format!(
            "{} {} {{ {} }}\n",
            set.kind,
            set.name,
            set.elements.join(", ")
        ));
    }
    for chain in &view.chains {
        out.push_str(&format!("chain {} {{", chain.name));
        if let Some(base) = &chain.base {
            out.push_str(&format!(" # {base}"));
        }
        out.push('\n');
        for rule in &chain.rules {
            out.push_str(&format!("    {} # handle {}", rule.text, rule.handle));
            if let Some(c) = &rule.counter {
                out.push_str(&format!(": {}", counts(c)));
            }
            if let Some(c) = &rule.comment {
                out.push_str(&format!(" comment {c:?}"));
            }
            out.push('\n');
        }
        out.push_str("}\n");
    }
    if let Some(deleted) = &view.deleted {
        out.push_str(&format!("# deleted rules ({}):\n", deleted.len()));
        for d in deleted {
            out.push_str(&format!("#   {}\n", deleted_line(d)));
        }
    }
    out
}
