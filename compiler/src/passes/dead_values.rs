//! Removal of register values that nothing reads.
//!
//! After [`super::load_cse`] renames reads to registers that already hold a
//! value, the instructions that computed the duplicate can be left with no
//! reader (a field reloaded only to be masked again). Such an instruction is
//! removed when removing it cannot change whether the rule matches: it
//! cannot break, or it is a load of bytes that an earlier load in the rule
//! already read from the same base (so it would have succeeded).

use vm::{BaseId, Insn, Program, RegSpan};

/// True when the instruction's only effect is the registers it writes.
fn is_pure(insn: &Insn) -> bool {
    matches!(
        insn,
        Insn::Load { .. }
            | Insn::LoadBase { .. }
            | Insn::LoadKey { .. }
            | Insn::LoadMeta { .. }
            | Insn::Imm { .. }
            | Insn::Bitwise { .. }
            | Insn::Shift { .. }
            | Insn::Alu { .. }
    )
}

/// Whether a pure instruction at `at` would certainly succeed, given what
/// ran before it.
fn cannot_break(insns: &[Insn], at: usize) -> bool {
    let covered = |base: &BaseId, start: u16, end: u32| {
        insns[..at].iter().any(|earlier| match earlier {
            Insn::Load {
                base: b,
                offset,
                len,
                ..
            } => b == base && *offset <= start && u32::from(*offset) + u32::from(*len) >= end,
            _ => false,
        })
    };
    match &insns[at] {
        Insn::Load { base, offset, len, .. } => covered(base, *offset, u32::from(*offset) + u32::from(*len)),
        Insn::LoadBase { base, .. } => insns[..at].iter().any(|e| matches!(e, Insn::Load { base: b, .. } | Insn::LoadBase { base: b, .. } if b == base)),
        Insn::LoadKey { key, .. } => insns[..at].iter().any(|e| matches!(e, Insn::LoadKey { key: k, .. } if k == key)),
        _ => true,
    }
}

/// Runs the pass on one rule.
pub fn run(insns: &mut Vec<Insn>, program: &Program) {
    // Walk backwards keeping the registers still to be read.
    let mut live: Vec<RegSpan> = Vec::new();
    let mut keep = vec![true; insns.len()];
    for at in (0..insns.len()).rev() {
        let uses = insns[at].reg_use(program);
        let dead = uses
            .writes
            .is_some_and(|w| !live.iter().any(|l| l.overlaps(&w)));
        if is_pure(&insns[at]) && dead && cannot_break(insns, at) {
            keep[at] = false;
            continue;
        }
        if let Some(w) = uses.writes {
            live.retain(|l| !w.covers(l));
        }
        live.extend(uses.reads);
    }
    let mut flags = keep.into_iter();
    insns.retain(|_| flags.next().unwrap_or(true));
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm::{CmpOp, Reg, Value};

    fn load(dst: u8, offset: u16, len: u8) -> Insn {
        Insn::Load {
            dst: Reg(dst),
            base: BaseId(1),
            offset,
            len,
        }
    }

    #[test]
    fn an_unread_reload_is_removed() {
        let cmp = Insn::Cmp {
            src: Reg(0),
            op: CmpOp::Eq,
            value: Value(vec![1, 2]),
        };
        let mut rule = vec![load(0, 0, 2), cmp.clone(), load(1, 0, 2)];
        run(&mut rule, &Program::default());
        assert_eq!(rule, vec![load(0, 0, 2), cmp]);
    }

    #[test]
    fn an_unread_first_load_stays_because_it_can_break() {
        // A load past the end of the frame ends the rule: it is a test.
        let mut rule = vec![load(0, 40, 2)];
        run(&mut rule, &Program::default());
        assert_eq!(rule, vec![load(0, 40, 2)]);
    }

    #[test]
    fn unread_arithmetic_is_removed() {
        let imm = Insn::Imm {
            dst: Reg(3),
            value: Value(vec![0, 0, 0, 7]),
        };
        let mut rule = vec![imm];
        run(&mut rule, &Program::default());
        assert!(rule.is_empty());
    }
}
