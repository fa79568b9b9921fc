//! Rule identity: handles and content fingerprints.
//!
//! A rule's fingerprint hashes what the rule means: its chain, its
//! instructions, and the content of every object they refer to (an
//! anonymous set's elements, a named set's name, a limiter's rate, a port's
//! name, a jump target's name) rather than the objects' indices, which shift
//! when other rules change. Two rules with the same meaning in the same
//! chain are told apart by their rank among them. A reload compares
//! fingerprints to tell which rules are unchanged and carries their
//! counters over.
//!
//! Handles number the rules in program order from 1; the daemon keeps the
//! handles of unchanged rules across reloads.

use crate::objects::is_anonymous;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use vm::{Insn, Program, Verdict};

/// FNV-1a, 64 bits: stable across runs and platforms, unlike the standard
/// library's randomly keyed hasher.
struct Fnv(u64);

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

/// Hashes one instruction, objects replaced by their content.
fn hash_insn(program: &Program, insn: &Insn, h: &mut Fnv) {
    let chain = |c: vm::ChainId| {
        program
            .chains
            .get(usize::from(c.0))
            .map(|c| c.name.as_str())
    };
    let port = |p: vm::PortId| program.ports.get(usize::from(p.0)).map(String::as_str);
    std::mem::discriminant(insn).hash(h);
    match insn {
        Insn::Lookup { src, set, negate } => {
            (src, negate).hash(h);
            match program.sets.get(usize::from(set.0)) {
                Some(s) if is_anonymous(&s.name) => (&s.key, s.kind, &s.elements).hash(h),
                Some(s) => s.name.hash(h),
                None => set.hash(h),
            }
        }
        Insn::MapLookup { src, map, .. } | Insn::VmapLookup { src, map } => {
            src.hash(h);
            if let Insn::MapLookup { dst, .. } = insn {
                dst.hash(h);
            }
            match program.maps.get(usize::from(map.0)) {
                Some(m) if is_anonymous(&m.name) => (&m.key, m.kind, m.data, &m.elements).hash(h),
                Some(m) => m.name.hash(h),
                None => map.hash(h),
            }
        }
        Insn::Counter { .. } => {}
        Insn::Limit { limit } => {
            if let Some(l) = program.limits.get(usize::from(limit.0)) {
                (l.rate, l.per_ns, l.burst, l.unit, l.over).hash(h);
            }
        }
        Insn::Mirror { port: p } => port(*p).hash(h),
        Insn::Verdict(v) => match v {
            Verdict::Jump(c) | Verdict::Goto(c) => (v, chain(*c)).hash(h),
            Verdict::Fwd(p) => port(*p).hash(h),
            other => other.hash(h),
        },
        other => other.hash(h),
    }
}

/// Numbers the rules of every chain from 1 and computes their fingerprints.
pub fn assign(program: &mut Program) {
    let mut fingerprints = Vec::new();
    for chain in &program.chains {
        let mut seen: HashMap<u64, u64> = HashMap::new();
        for rule in &chain.rules {
            let mut h = Fnv::new();
            chain.name.hash(&mut h);
            for insn in &rule.insns {
                hash_insn(program, insn, &mut h);
            }
            let rank = seen.entry(h.finish()).or_insert(0);
            *rank += 1;
            rank.hash(&mut h);
            fingerprints.push(h.finish());
        }
    }
    let rules = program.chains.iter_mut().flat_map(|c| &mut c.rules);
    for ((handle, rule), fingerprint) in (1..).zip(rules).zip(fingerprints) {
        rule.handle = handle;
        rule.fingerprint = fingerprint;
    }
}
