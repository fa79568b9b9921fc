//! The jitswitch compiler: checked rulesets to verified VM programs.
//!
//! The stages, one module each:
//!
//! - [`parse_graph`]: the registry's parse graph as the compiler reads it
//!   (which edge reaches a header, where it places it);
//! - [`layout`]: the program's header base and key slots;
//! - [`lower`]: one rule's matches and statements to instructions, with
//!   their implied dependencies; [`emit`] is the instruction builder and
//!   [`header_expr`] lowers header declarations' expressions;
//! - [`objects`]: sets, maps, counters and limiters;
//! - [`parse_section`]: the per-packet pre-parsing from the layer
//!   declarations;
//! - [`passes`]: optimisation passes over each rule;
//! - [`identity`]: rule handles and fingerprints;
//! - [`error`]: what can go wrong, as diagnostics.

pub mod emit;
pub mod error;
pub mod header_expr;
pub mod identity;
pub mod layout;
pub mod lower;
pub mod objects;
pub mod parse_graph;
pub mod parse_section;
pub mod passes;

pub use error::{CompileError, Located};

use layout::Layout;
use lower::{RuleLowering, verdict};
use objects::{Named, Objects};
use parse_graph::ParseGraph;
use parse_section::ParseSection;
use ruleset::CheckedRuleset;
use ruleset::model;
use std::path::Path;
use vm::{BaseChain, Chain, ChainId, Policy, PortId, Program, Rule, SourceRef, Verified};

/// Compiles a checked ruleset to a program (not yet verified). Every rule
/// that cannot be compiled is reported.
pub fn compile(checked: &CheckedRuleset) -> Result<Program, Vec<Located>> {
    let graph = ParseGraph::new(&checked.registry);
    let mut layout = Layout::new();
    let mut objects = Objects::default();
    let mut errors = Vec::new();

    // Program-wide chain ids, by table; a chain name is qualified by its
    // table only where two tables use it.
    let mut chains: Vec<Chain> = Vec::new();
    let mut ids: Vec<Vec<ChainId>> = Vec::new();
    for table in &checked.tables {
        let mut table_ids = Vec::new();
        for chain in &table.chains {
            table_ids.push(ChainId(chains.len() as u16));
            let shared = checked
                .tables
                .iter()
                .filter(|t| t.chains.iter().any(|c| c.name == chain.name))
                .count()
                > 1;
            chains.push(Chain {
                name: if shared {
                    format!("{}/{}", table.name, chain.name)
                } else {
                    chain.name.clone()
                },
                base: chain.base.map(|b| BaseChain {
                    priority: b.priority,
                    device: b.device.map(|d| PortId(d.0)),
                    policy: match b.policy {
                        model::Policy::Accept => Policy::Accept,
                        model::Policy::Drop => Policy::Drop,
                    },
                }),
                rules: Vec::new(),
            });
        }
        ids.push(table_ids);
    }

    let mut named: Vec<Vec<Named>> = Vec::new();
    for (table, table_ids) in checked.tables.iter().zip(&ids) {
        let shared = |name: &str| {
            checked
                .tables
                .iter()
                .filter(|t| t.sets.iter().any(|s| s.name == name))
                .count()
                > 1
        };
        let mut table_named = Vec::new();
        for set in &table.sets {
            let name = if shared(&set.name) {
                format!("{}/{}", table.name, set.name)
            } else {
                set.name.clone()
            };
            match objects.declare_named(name, set, &|v| verdict(table_ids, v)) {
                Ok(n) => table_named.push(n),
                Err(error) => {
                    errors.push(Located {
                        span: Some(set.span),
                        error,
                    });
                    table_named.push(Named::Set(vm::SetId(0)));
                }
            }
        }
        named.push(table_named);
    }

    for (t, table) in checked.tables.iter().enumerate() {
        for (c, chain) in table.chains.iter().enumerate() {
            let id = ids[t][c];
            for (r, rule) in chain.rules.iter().enumerate() {
                let name = format!("{} rule {r}", chains[usize::from(id.0)].name);
                let mut prog = lower::Program {
                    graph: &graph,
                    layout: &mut layout,
                    objects: &mut objects,
                    chains: &ids[t],
                    named: &named[t],
                };
                match RuleLowering::new(&mut prog, rule.span).lower(rule, &name) {
                    Ok((insns, counter)) => {
                        let (file, line, text) = checked.source_line(rule.span);
                        // The comment has a field of its own.
                        let text = match (&rule.comment, text.rfind("comment")) {
                            (Some(_), Some(at)) => &text[..at],
                            _ => text,
                        };
                        chains[usize::from(id.0)].rules.push(Rule {
                            handle: 0,
                            fingerprint: 0,
                            source: Some(SourceRef {
                                file: file.to_string(),
                                line,
                                text: text.trim().to_string(),
                                comment: rule.comment.clone(),
                            }),
                            counter,
                            insns,
                        });
                    }
                    Err((span, error)) => errors.push(Located {
                        span: Some(span),
                        error,
                    }),
                }
            }
        }
    }

    let parse = match ParseSection::build(&graph, &layout) {
        Ok(rules) => rules,
        Err(error) => {
            errors.push(Located { span: None, error });
            Vec::new()
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }

    let mut program = Program {
        bases: layout.base_names(),
        keys: Layout::key_names(&checked.registry),
        parse: parse
            .into_iter()
            .map(|insns| Rule {
                handle: 0,
                fingerprint: 0,
                source: None,
                counter: None,
                insns,
            })
            .collect(),
        chains,
        sets: objects.sets,
        maps: objects.maps,
        counters: objects.counters,
        limits: objects.limits,
        ports: checked.ports.clone(),
    };
    // The passes read the program's set and map layouts; the rules are
    // taken out while they run.
    let (mut parse, mut chains) = (
        std::mem::take(&mut program.parse),
        std::mem::take(&mut program.chains),
    );
    for rule in parse
        .iter_mut()
        .chain(chains.iter_mut().flat_map(|c| c.rules.iter_mut()))
    {
        passes::optimise(&mut rule.insns, &program);
    }
    (program.parse, program.chains) = (parse, chains);
    identity::assign(&mut program);
    Ok(program)
}

/// Compiles and verifies a checked ruleset.
pub fn compile_verified(checked: &CheckedRuleset) -> Result<Verified, Vec<Located>> {
    let program = compile(checked)?;
    vm::verify(program).map_err(|e| {
        vec![Located {
            span: None,
            error: e.into(),
        }]
    })
}

/// Why a ruleset file could not be turned into a verified program: its
/// diagnostics, from the checker or the compiler.
pub fn compile_file(path: &Path) -> Result<(CheckedRuleset, Verified), ruleset::Diagnostics> {
    let checked = ruleset::check_file(path)?;
    match compile_verified(&checked) {
        Ok(v) => Ok((checked, v)),
        Err(errors) => Err(error::diagnostics(&checked, errors)),
    }
}
