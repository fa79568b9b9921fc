//! What the code of a chain knows about a run where a rule starts, so that
//! rules can skip the tests earlier rules made.
//!
//! Nothing a chain runs changes the keys, the bases, the input port or the
//! frame's length: each is fixed once the parse section is done. So when a
//! rule's test of one of them passes or fails, the result holds for every
//! later rule of the run, and a rule reached only along edges where a test
//! is known can skip it. Two uses:
//!
//! - *threading*: a rule's *pure prefix* (its instructions up to the first
//!   with an effect) only reads; when one of its tests is known to fail,
//!   the rule breaks without doing anything, so an edge into it can go
//!   straight to the rule after it. `meta l4proto udp` failing in one rule
//!   skips the next rule that needs it too;
//! - *known tests*: a rule whose every incoming edge knows a test passed
//!   does not make it again (the second of two rules on `meta protocol ip`,
//!   the bounds check of bytes an earlier rule checked).
//!
//! The facts of a rule's entry are those all its incoming edges know
//! ([`meet`]); the translator records each edge as it makes it, and edges
//! only go forward, so a rule's entry is complete when its turn comes.

use crate::insn::{CmpOp, Insn, KeyId, Meta, NUM_BASES, Reg};
use crate::program::Rule;

/// What a test reads: a key or the input port's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Subject {
    Key(KeyId),
    Iif,
}

/// A test a rule's pure prefix makes; when it fails, the rule breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Test {
    /// The subject equals the value (an absent key equals none).
    Is(Subject, u32),
    /// The frame holds `end` bytes past the base (an absent base holds
    /// none).
    Reaches(usize, u32),
}

/// A test's result, known on an edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Fact {
    pub test: Test,
    pub holds: bool,
}

/// What `facts` say of `test`: `Some(result)` when they decide it.
pub(super) fn known(facts: &[Fact], test: Test) -> Option<bool> {
    facts.iter().find_map(|f| match (f.test, test) {
        (Test::Is(s, v), Test::Is(t, w)) if s == t => match f.holds {
            // Equal to one value: unequal to every other.
            true => Some(v == w),
            false => (v == w).then_some(false),
        },
        (Test::Reaches(b, e), Test::Reaches(c, n)) if b == c => match f.holds {
            true => (e >= n).then_some(true),
            false => (e <= n).then_some(false),
        },
        _ => None,
    })
}

/// Narrows `entry` (the facts of the edges into a rule recorded so far,
/// `None` for none yet) to what the new edge's `facts` also know.
pub(super) fn meet(entry: &mut Option<Vec<Fact>>, facts: &[Fact]) {
    let Some(old) = entry else {
        *entry = Some(facts.to_vec());
        return;
    };
    let implied = |by: &[Fact], f: &Fact| known(by, f.test) == Some(f.holds);
    let mut both: Vec<Fact> = old.iter().filter(|f| implied(facts, f)).copied().collect();
    for f in facts {
        if implied(old, f) && !both.contains(f) {
            both.push(*f);
        }
    }
    *old = both;
}

/// The tests of `rule`'s pure prefix: when any of them fails, the rule
/// breaks before doing anything.
pub(super) fn prefix_tests(rule: &Rule) -> Vec<Test> {
    let pure: Vec<&Insn> = rule.insns.iter().take_while(|i| i.is_pure()).collect();
    let mut tests = Vec::new();
    for (i, insn) in pure.iter().enumerate() {
        if let Some((_, subject, value)) = equality_guard(insn, pure.get(i + 1).copied()) {
            tests.push(Test::Is(subject, value));
        }
        if let Insn::Load {
            base, offset, len, ..
        } = insn
        {
            let base = usize::from(base.0).min(NUM_BASES - 1);
            tests.push(Test::Reaches(base, u32::from(*offset) + u32::from(*len)));
        }
    }
    tests
}

/// `insn` and `then` as one test of a key or the input port against a
/// 4-byte value (`loadkey r, k` or `meta r, iif`, then `cmp r == v`): the
/// register, the subject and the value.
pub(super) fn equality_guard(insn: &Insn, then: Option<&Insn>) -> Option<(Reg, Subject, u32)> {
    let (dst, subject) = match insn {
        Insn::LoadKey { dst, key } => (*dst, Subject::Key(*key)),
        Insn::LoadMeta {
            dst,
            meta: Meta::Iif,
        } => (*dst, Subject::Iif),
        _ => return None,
    };
    match then {
        Some(Insn::Cmp {
            src,
            op: CmpOp::Eq,
            value,
        }) if *src == dst && value.len() == 4 => Some((dst, subject, value.to_chunks()[0])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: Subject = Subject::Key(KeyId(0));
    /// Two values a key may hold.
    const ONE: u32 = 7;
    const OTHER: u32 = 9;

    fn fact(test: Test, holds: bool) -> Fact {
        Fact { test, holds }
    }

    #[test]
    fn equality_decides_other_values() {
        let one = [fact(Test::Is(KEY, ONE), true)];
        assert_eq!(known(&one, Test::Is(KEY, ONE)), Some(true));
        assert_eq!(known(&one, Test::Is(KEY, OTHER)), Some(false));
        assert_eq!(known(&one, Test::Is(Subject::Iif, ONE)), None);
        let not_one = [fact(Test::Is(KEY, ONE), false)];
        assert_eq!(known(&not_one, Test::Is(KEY, ONE)), Some(false));
        assert_eq!(known(&not_one, Test::Is(KEY, OTHER)), None);
    }

    #[test]
    fn reach_decides_shorter_and_longer_spans() {
        let reaches = [fact(Test::Reaches(1, 20), true)];
        assert_eq!(known(&reaches, Test::Reaches(1, 16)), Some(true));
        assert_eq!(known(&reaches, Test::Reaches(1, 24)), None);
        assert_eq!(known(&reaches, Test::Reaches(2, 4)), None);
        let short = [fact(Test::Reaches(1, 20), false)];
        assert_eq!(known(&short, Test::Reaches(1, 24)), Some(false));
        assert_eq!(known(&short, Test::Reaches(1, 16)), None);
    }

    #[test]
    fn meet_keeps_what_both_edges_know() {
        let mut entry = None;
        meet(
            &mut entry,
            &[
                fact(Test::Is(KEY, ONE), true),
                fact(Test::Reaches(1, 20), true),
            ],
        );
        meet(
            &mut entry,
            &[
                fact(Test::Is(KEY, ONE), true),
                fact(Test::Reaches(1, 16), true),
                fact(Test::Is(Subject::Iif, 2), true),
            ],
        );
        let entry = entry.unwrap();
        assert_eq!(entry.len(), 2);
        assert!(entry.contains(&fact(Test::Is(KEY, ONE), true)));
        // The weaker of the two spans.
        assert!(entry.contains(&fact(Test::Reaches(1, 16), true)));
        let mut other = Some(entry);
        meet(&mut other, &[fact(Test::Is(KEY, ONE), false)]);
        assert_eq!(other, Some(Vec::new()));
    }
}
