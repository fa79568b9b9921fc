//! Rule identity: handles and content fingerprints.
//!
//! A rule's fingerprint hashes what the rule means: its chain, its
//! instructions, and the content of every object they refer to (an
//! anonymous set's elements, a named set's name, a limiter's rate, a port's
//! name, a jump target's name) rather than the objects' indices, which shift
//! when other rules change. Two rules with the same meaning in the same
//! chain are told apart by their order. A reload compares fingerprints to
//! tell which rules are unchanged and carries their counters over.
//!
//! Handles number the rules in program order from 1; the daemon keeps the
//! handles of unchanged rules across reloads.

use std::collections::HashMap;
use std::fmt::Write;
use vm::{Insn, Program, Verdict};

/// FNV-1a, 64 bits: stable across builds and platforms, unlike the
/// standard library's hasher.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The canonical text of one instruction, objects replaced by their content.
fn canonical(program: &Program, insn: &Insn, out: &mut String) {
    let chain = |c: vm::ChainId| {
        program
            .chains
            .get(usize::from(c.0))
            .map_or("?", |c| c.name.as_str())
    };
    let port = |p: vm::PortId| {
        program
            .ports
            .get(usize::from(p.0))
            .map_or("?", String::as_str)
    };
    let set = |s: vm::SetId| {
        program
            .sets
            .get(usize::from(s.0))
            .map_or_else(String::new, |s| {
                if crate::objects::is_anonymous(&s.name) {
                    format!("{:?}{:?}{:?}", s.key, s.kind, s.elements)
                } else {
                    s.name.clone()
                }
            })
    };
    let map = |m: vm::MapId| {
        program
            .maps
            .get(usize::from(m.0))
            .map_or_else(String::new, |m| {
                if crate::objects::is_anonymous(&m.name) {
                    format!("{:?}{:?}{:?}{:?}", m.key, m.kind, m.data, m.elements)
                } else {
                    m.name.clone()
                }
            })
    };
    let verdict = |v: &Verdict| match v {
        Verdict::Jump(c) => format!("jump {}", chain(*c)),
        Verdict::Goto(c) => format!("goto {}", chain(*c)),
        Verdict::Fwd(p) => format!("fwd {}", port(*p)),
        other => format!("{other:?}"),
    };
    let _ = match insn {
        Insn::Lookup {
            src,
            set: s,
            negate,
        } => write!(out, "lookup {src:?} {} {negate}", set(*s)),
        Insn::MapLookup { src, map: m, dst } => write!(out, "map {src:?} {} {dst:?}", map(*m)),
        Insn::VmapLookup { src, map: m } => write!(out, "vmap {src:?} {}", map(*m)),
        Insn::Counter { .. } => write!(out, "counter"),
        Insn::Limit { limit } => {
            write!(out, "limit {:?}", program.limits.get(usize::from(limit.0)))
        }
        Insn::Mirror { port: p } => write!(out, "mirror {}", port(*p)),
        Insn::Verdict(v) => write!(out, "verdict {}", verdict(v)),
        other => write!(out, "{other:?}"),
    };
    out.push(';');
}

/// Numbers the rules of every chain from 1 and computes their fingerprints.
pub fn assign(program: &mut Program) {
    let mut fingerprints = Vec::new();
    for chain in &program.chains {
        let mut seen: HashMap<u64, u32> = HashMap::new();
        for rule in &chain.rules {
            let mut text = format!("{}|", chain.name);
            for insn in &rule.insns {
                canonical(program, insn, &mut text);
            }
            let content = fnv1a(&text);
            let n = seen.entry(content).or_insert(0);
            *n += 1;
            fingerprints.push(fnv1a(&format!("{text}#{n}")));
        }
    }
    let mut handle = 0;
    for (rule, fingerprint) in program
        .chains
        .iter_mut()
        .flat_map(|c| &mut c.rules)
        .zip(fingerprints)
    {
        handle += 1;
        rule.handle = handle;
        rule.fingerprint = fingerprint;
    }
}
