//! `switchctl delete rule SELECTOR` and `switchctl delete element SET
//! { ... }`: remove a rule from the running program (its final counters are
//! printed), or elements from a named set or map.

use super::client::{call, print_json, unexpected};
use crate::control::protocol::{Op, Reply, RuleSelector};
use std::path::Path;
use std::process::ExitCode;

/// Arguments of `switchctl delete`.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
    /// Print the answer as JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

/// What to delete.
#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// A rule, by handle, or by its comment or its exact text as `list`
    /// shows them. The ruleset file is not rewritten.
    Rule {
        /// A handle, a comment or a rule's text.
        #[arg(required = true, num_args = 1..)]
        selector: Vec<String>,
    },
    /// Elements of a named set or map: `delete element blocklist { 192.0.2.1 }`.
    Element(super::element::Args),
}

/// Which rule the words name: a handle if they are a number; otherwise a
/// comment or the text of a rule.
fn selector(words: &[String]) -> RuleSelector {
    let text = words.join(" ");
    match text.trim().parse() {
        Ok(handle) => RuleSelector::Handle(handle),
        Err(_) => RuleSelector::Words(text),
    }
}

/// Runs `switchctl delete`.
pub fn run(args: Args, socket: &Path) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Element(e) => super::element::run(e, false, args.json, socket),
        What::Rule { selector: words } => {
            let rule = selector(&words);
            let reply = call(socket, Op::DeleteRule { rule })?;
            let Reply::Deleted(d) = reply else {
                return Err(unexpected(&reply));
            };
            if args.json {
                print_json(&d)?;
            } else {
                println!("deleted {}", super::list::deleted_line(&d));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
