//! The jitswitch ruleset language: the nftables rule language (the subset
//! of `docs/design.md` 2.1) plus the switch's declaration language (2.2).
//!
//! Pipeline, one module per stage:
//!
//! - [`lexer`]: text to tokens (logos);
//! - [`parser`]: tokens to the syntax tree ([`ast`]), with error recovery;
//!   [`loader`] handles files and `include`;
//! - [`prelude`]: the standard protocols, declared in the language;
//! - [`registry`]: declarations resolved into the protocol registry;
//! - [`resolve`](crate::check_str): names and types checked, constants
//!   converted ([`literal`]), producing the [`model`] the compiler reads;
//! - [`diagnostics`]: errors with spans, rendered with ariadne or as JSON.
//!
//! Entry points: [`check_file`], [`check_str`], [`parse_str`] and
//! [`prelude::prelude`].

#![warn(missing_docs)]

pub mod ast;
pub mod diagnostics;
pub mod lexer;
pub mod literal;
pub mod loader;
pub mod model;
pub mod parser;
pub mod prelude;
pub mod registry;
mod resolve;
pub mod span;

pub use diagnostics::{Diagnostic, Diagnostics};
pub use model::CheckedRuleset;

use loader::Loader;
use std::path::Path;

/// Reads, parses and checks a ruleset file (and the files it includes).
pub fn check_file(path: &Path) -> Result<CheckedRuleset, Diagnostics> {
    let mut loader = start();
    let file = loader.parse_path(path).map_err(|d| {
        loader.diags.push(d);
    });
    finish(loader, file.ok())
}

/// Parses and checks a ruleset given as text. `name` is shown in
/// diagnostics; includes are resolved relative to the current directory.
pub fn check_str(name: &str, text: &str) -> Result<CheckedRuleset, Diagnostics> {
    let mut loader = start();
    let file = loader.parse_text(name, None, text.to_owned());
    finish(loader, Some(file))
}

/// Parses a text without resolving it (no includes are read from a
/// nameless text's directory). Returns the syntax tree and the syntax
/// errors.
pub fn parse_str(text: &str) -> (ast::File, Vec<Diagnostic>) {
    let mut loader = start();
    let file = loader.parse_text("<input>", None, text.to_owned());
    (file, loader.diags)
}

fn start() -> Loader {
    let p = prelude::prelude();
    Loader::new(p.sources.clone(), p.names.clone())
}

fn finish(loader: Loader, file: Option<ast::File>) -> Result<CheckedRuleset, Diagnostics> {
    let Loader {
        sources, mut diags, ..
    } = loader;
    let mut registry = prelude::prelude().registry.clone();
    let (tables, ports) = match &file {
        Some(f) => resolve::resolve(f, &mut registry, &mut diags),
        None => Default::default(),
    };
    diags.sort_by_key(|d| (d.span.file, d.span.start));
    if diags
        .iter()
        .any(|d| d.severity == diagnostics::Severity::Error)
    {
        return Err(Diagnostics {
            sources,
            list: diags,
        });
    }
    Ok(CheckedRuleset {
        registry,
        sources,
        tables,
        ports,
    })
}
