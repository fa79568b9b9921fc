//! Rule groups: runs of consecutive rules that differ only in the
//! constants they test for equality, run as one hash lookup.
//!
//! A 5-tuple ACL written rule by rule (`ip saddr A ip daddr B tcp sport C
//! tcp dport D counter accept`, ten thousand times) is a linear scan in the
//! interpreter and would be ten thousand compiled rules in native code:
//! megabytes of code, seconds of Cranelift, and an instruction-cache miss
//! per rule per packet. Tuple-space search reads it differently: every rule
//! has the same *shape* (the same loads and guards, `==` compares against
//! different constants, then a counter and a final verdict), so the packet's
//! values for the compared fields form a key, and the first rule whose
//! constants equal that key is the one that matches.
//!
//! A run of at least [`MIN_RULES`] such rules becomes a [`Group`]: the
//! shared instructions run once, the compared values go into the context's
//! scratch as a key, and a hash table (the runtime's [`Table`], the index
//! sets use) gives the offset of the first rule with that key, whose
//! counter and verdict then apply. This is exact, not a heuristic:
//!
//! - a rule of the group matches exactly when all its instructions
//!   complete, i.e. when the shared instructions complete and the key equals
//!   its constants; the table keeps the first rule of each key, so the
//!   first matching rule decides, as in a scan;
//! - the shared instructions are pure (loads, arithmetic, compares,
//!   lookups), so running all of them where a rule might have stopped at an
//!   earlier compare changes nothing; if one breaks, every rule of the group
//!   would have broken too, and evaluation goes on after the group;
//! - the tails are a counter and `accept`, `drop`, `fwd` or `flood`, which
//!   always decide: a matching rule ends the chain, so the rules after it
//!   in the group are never reached in either reading.
//!
//! Traced code does not use groups: a trace shows every rule it passed.

use crate::insn::{Insn, NUM_REGS, Verdict, chunks_for};
use crate::program::{Chain, SetElem, SetKind};
use crate::runtime::{Instance, KeyLayout, Table};

use super::context;

/// Fewest rules worth a group: below this a scan is as fast.
pub(super) const MIN_RULES: usize = 8;

/// What a rule of a group does when it matches.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(super) struct Tail {
    /// Its counter's address ([`context::counter_address`]), or 0.
    pub counter: i64,
    /// Its verdict ([`context::encode`]).
    pub code: u32,
    /// The verdict's argument (a `fwd` port).
    pub arg: u32,
}

/// A run of rules of one shape, indexed by the constants they compare.
pub(super) struct Group {
    /// Index in its chain of the group's first rule.
    pub first: usize,
    /// The shared instructions (the first rule's, tail removed); its `==`
    /// compares give the key instead of comparing.
    pub body: Vec<Insn>,
    /// Offset in the scratch of each key component, by compare, in body
    /// order.
    pub key_offsets: Vec<usize>,
    /// Key (the compared values, each from a new register) to the offset of
    /// the first rule with those constants.
    pub index: Table<u32>,
    /// Each rule's tail, by offset.
    pub tails: Box<[Tail]>,
}

impl Group {
    /// Number of rules in the group.
    pub fn len(&self) -> usize {
        self.tails.len()
    }
}

/// Finds the groups of `chain` (in chain order, not overlapping).
pub(super) fn find(chain: &Chain, instance: &Instance) -> Vec<Group> {
    let mut groups = Vec::new();
    let rules = &chain.rules;
    let mut r = 0;
    while r < rules.len() {
        let Some((body, _)) = split(&rules[r].insns, instance) else {
            r += 1;
            continue;
        };
        let end = (r + 1..rules.len())
            .find(|&k| {
                !split(&rules[k].insns, instance).is_some_and(|(other, _)| same_shape(body, other))
            })
            .unwrap_or(rules.len());
        if end - r >= MIN_RULES
            && let Some(group) = build(r, &rules[r..end], instance)
        {
            groups.push(group);
            r = end;
        } else {
            r += 1;
        }
    }
    groups
}

/// A rule's body and tail, when the rule can be in a group: pure
/// instructions with at least one `==` compare, then an optional counter
/// and a final verdict.
fn split<'a>(insns: &'a [Insn], instance: &Instance) -> Option<(&'a [Insn], Tail)> {
    let (verdict, rest) = insns.split_last()?;
    let Insn::Verdict(v) = verdict else {
        return None;
    };
    if !matches!(
        v,
        Verdict::Accept | Verdict::Drop | Verdict::Fwd(_) | Verdict::Flood
    ) {
        return None;
    }
    let (counter, body) = match rest.split_last() {
        Some((Insn::Counter { counter }, body)) => {
            (context::counter_address(instance, *counter), body)
        }
        _ => (None, rest),
    };
    let pure = body.iter().all(Insn::is_pure);
    let keyed = body.iter().any(is_key);
    let (code, arg) = context::encode(*v);
    (pure && keyed).then_some((
        body,
        Tail {
            counter: counter.unwrap_or(0),
            code,
            arg,
        },
    ))
}

/// Whether an instruction is a key component: an `==` compare.
fn is_key(insn: &Insn) -> bool {
    matches!(
        insn,
        Insn::Cmp {
            op: crate::insn::CmpOp::Eq,
            ..
        }
    )
}

/// Whether two bodies are the same but for the constants of `==` compares.
fn same_shape(a: &[Insn], b: &[Insn]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (
                Insn::Cmp {
                    src: s1,
                    op: crate::insn::CmpOp::Eq,
                    value: v1,
                },
                Insn::Cmp {
                    src: s2,
                    op: crate::insn::CmpOp::Eq,
                    value: v2,
                },
            ) => s1 == s2 && v1.len() == v2.len(),
            _ => x == y,
        })
}

/// Builds the group of `rules` (all of one shape), the first at `first`.
fn build(first: usize, rules: &[crate::program::Rule], instance: &Instance) -> Option<Group> {
    let (body, _) = split(&rules[0].insns, instance)?;
    let widths: Vec<u8> = body
        .iter()
        .filter_map(|i| match i {
            Insn::Cmp { value, .. } if is_key(i) => Some(value.len() as u8),
            _ => None,
        })
        .collect();
    let layout = KeyLayout::new(&widths, SetKind::Hash);
    if layout.regs() > NUM_REGS {
        return None;
    }
    let key_offsets = widths
        .iter()
        .scan(0, |at, w| {
            let here = *at;
            *at += chunks_for(usize::from(*w));
            Some(here)
        })
        .collect();
    let mut tails = Vec::with_capacity(rules.len());
    let mut keys = Vec::with_capacity(rules.len());
    for (offset, rule) in rules.iter().enumerate() {
        let (body, tail) = split(&rule.insns, instance)?;
        let key: Vec<_> = body
            .iter()
            .filter_map(|i| match i {
                Insn::Cmp { value, .. } if is_key(i) => Some(value.clone()),
                _ => None,
            })
            .collect();
        keys.push((
            SetElem {
                low: key.clone(),
                high: key,
            },
            offset as u32,
        ));
        tails.push(tail);
    }
    // A later duplicate key must not hide the first rule with it: the table
    // keeps the last insertion, so insert from the end.
    keys.reverse();
    let index = Table::new(layout, false, keys).ok()?;
    Some(Group {
        first,
        body: body.to_vec(),
        key_offsets,
        index,
        tails: tails.into_boxed_slice(),
    })
}

/// Looks the key in the context's scratch up in `group`: the offset of the
/// rule that matches, or `u32::MAX`.
pub(super) extern "C" fn lookup(ctx: *mut context::Context, group: *const Group) -> u32 {
    // SAFETY: native code passes the context of the run in progress and a
    // group its `JitProgram` owns.
    let (ctx, group) = unsafe { (&mut *ctx, &*group) };
    // SAFETY: the scratch is the run's (see `context::Context::scratch`).
    unsafe { ctx.scratch() }
        .regs
        .get(..group.index.layout().regs())
        .and_then(|key| group.index.lookup_with(key, |offset| *offset))
        .unwrap_or(u32::MAX)
}
