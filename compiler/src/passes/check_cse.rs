//! Removal of checks that earlier checks in the rule already decided.
//!
//! A check that did not end the rule holds for the rest of it, as long as
//! the registers it tested are not overwritten. So a later check that is
//! identical to a passed one is redundant, and once `r == v` has passed,
//! every later compare, range or list test of `r` can be decided from `v`: the
//! ones that hold are dropped. (A check that cannot hold is kept: the rule
//! then never matches, which is what the user wrote.)
//!
//! Run after [`super::load_cse`], which makes equal values share registers.

use vm::{CmpOp, Insn, Program, RegSpan, Value};

/// Whether `op` holds between `a` and `b`, two values of the same width
/// (byte order is numeric order).
fn holds(a: &Value, op: CmpOp, b: &Value) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// Decides `insn` from the known value of the registers it tests, when it
/// is a compare or range test of exactly those registers.
fn decide(span: &RegSpan, known: &Value, insn: &Insn) -> Option<bool> {
    match insn {
        Insn::Cmp { src, op, value } if *src == span.first && value.len() == known.len() => {
            Some(holds(known, *op, value))
        }
        Insn::Range {
            src,
            low,
            high,
            negate,
        } if *src == span.first && low.len() == known.len() => {
            Some((low <= known && known <= high) != *negate)
        }
        Insn::InList { src, list, negate }
            if *src == span.first
                && list
                    .first()
                    .is_some_and(|(low, _)| low.len() == known.len()) =>
        {
            Some(list.iter().any(|(low, high)| low <= known && known <= high) != *negate)
        }
        _ => None,
    }
}

/// True for instructions that only test registers.
fn is_check(insn: &Insn) -> bool {
    matches!(
        insn,
        Insn::Cmp { .. } | Insn::CmpReg { .. } | Insn::Range { .. } | Insn::InList { .. }
    )
}

/// Runs the pass on one rule.
pub fn run(insns: &mut Vec<Insn>, program: &Program) {
    // Checks that passed (with the span they read), and the exact values
    // they proved, borrowed from the rule.
    let mut passed: Vec<(&Insn, RegSpan)> = Vec::new();
    let mut known: Vec<(RegSpan, &Value)> = Vec::new();
    let mut keep = Vec::with_capacity(insns.len());
    for insn in insns.iter() {
        let uses = insn.reg_use(program);
        let mut redundant = false;
        if let (true, Some(span)) = (is_check(insn), uses.reads.first()) {
            let decided = known
                .iter()
                .find_map(|(k, v)| (k == span).then(|| decide(span, v, insn)).flatten());
            redundant = decided == Some(true) || passed.iter().any(|(p, _)| *p == insn);
            if !redundant {
                if let Insn::Cmp {
                    op: CmpOp::Eq,
                    value,
                    ..
                } = insn
                {
                    known.push((*span, value));
                }
                passed.push((insn, *span));
            }
        }
        if let Some(w) = uses.writes {
            known.retain(|(span, _)| !span.overlaps(&w));
            passed.retain(|(p, first)| {
                !first.overlaps(&w) && !p.reg_use(program).reads.iter().any(|r| r.overlaps(&w))
            });
        }
        keep.push(!redundant);
    }
    let mut keep = keep.into_iter();
    insns.retain(|_| keep.next().unwrap_or(true));
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm::{BaseId, KeyId, Reg};

    fn key(dst: u8) -> Insn {
        Insn::LoadKey {
            dst: Reg(dst),
            key: KeyId(1),
        }
    }

    fn cmp(src: u8, op: CmpOp, v: u8) -> Insn {
        Insn::Cmp {
            src: Reg(src),
            op,
            value: Value(vec![0, 0, 0, v]),
        }
    }

    #[test]
    fn a_repeated_dependency_is_checked_once() {
        let mut rule = vec![key(0), cmp(0, CmpOp::Eq, 6), cmp(0, CmpOp::Eq, 6)];
        run(&mut rule, &Program::default());
        assert_eq!(rule, vec![key(0), cmp(0, CmpOp::Eq, 6)]);
    }

    #[test]
    fn checks_implied_by_a_known_value_are_dropped() {
        let range = Insn::Range {
            src: Reg(0),
            low: Value(vec![0, 0, 0, 1]),
            high: Value(vec![0, 0, 0, 10]),
            negate: false,
        };
        let mut rule = vec![
            key(0),
            cmp(0, CmpOp::Eq, 6),
            cmp(0, CmpOp::Ne, 17),
            range,
            cmp(0, CmpOp::Lt, 7),
        ];
        run(&mut rule, &Program::default());
        assert_eq!(rule, vec![key(0), cmp(0, CmpOp::Eq, 6)]);
    }

    #[test]
    fn contradictions_are_kept() {
        let mut rule = vec![key(0), cmp(0, CmpOp::Eq, 6), cmp(0, CmpOp::Eq, 17)];
        let before = rule.clone();
        run(&mut rule, &Program::default());
        assert_eq!(rule, before);
    }

    #[test]
    fn an_overwritten_register_is_checked_again() {
        let load = Insn::Load {
            dst: Reg(0),
            base: BaseId(0),
            offset: 0,
            len: 4,
        };
        let mut rule = vec![key(0), cmp(0, CmpOp::Eq, 6), load, cmp(0, CmpOp::Eq, 6)];
        let before = rule.clone();
        run(&mut rule, &Program::default());
        assert_eq!(rule, before);
    }

    #[test]
    fn a_list_decided_by_a_known_value_is_dropped() {
        let list = Insn::InList {
            src: Reg(0),
            list: vec![
                (Value(vec![0, 0, 0, 1]), Value(vec![0, 0, 0, 1])),
                (Value(vec![0, 0, 0, 6]), Value(vec![0, 0, 0, 6])),
            ],
            negate: false,
        };
        let mut rule = vec![key(0), cmp(0, CmpOp::Eq, 6), list];
        run(&mut rule, &Program::default());
        assert_eq!(rule, vec![key(0), cmp(0, CmpOp::Eq, 6)]);
    }
}
