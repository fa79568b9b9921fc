//! Load and computation reuse within a rule (common subexpression
//! elimination).
//!
//! Every register value a rule computes without side effects (a load of
//! frame bytes, a key, metadata, a base, a constant, and bitwise, shift and
//! arithmetic results of those) gets a value number: two instructions that
//! compute the same [`Value`] from the same value numbers compute the same
//! value. When an instruction would compute a value that a register still
//! holds, the instruction is dropped and later reads of its destination
//! are renamed to the register that holds it, provided that register is not
//! overwritten while the renamed reads still need it.
//!
//! A store to the frame invalidates every value derived from frame bytes; a
//! mark change invalidates the loaded mark.

use vm::{AluOp, BaseId, Insn, KeyId, Meta, Program, Reg, RegSpan, ShiftDir};

/// A value number: an index into [`Values::computed`].
type Vn = usize;

/// How a register value was computed, from the value numbers of its
/// sources (borrowing constants from the rule's instructions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Value<'a> {
    Load { base: BaseId, offset: u16, len: u8 },
    Base(BaseId),
    Key(KeyId),
    Meta(Meta),
    Imm(&'a vm::Value),
    Bitwise(Vn, &'a vm::Value, &'a vm::Value),
    Shift(Vn, u8, ShiftDir, u8),
    Alu(Vn, AluOp, Arg),
}

/// The second operand of an arithmetic value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    Vn(Vn),
    Imm(u32),
}

/// The values computed so far and which registers hold them.
#[derive(Default)]
struct Values<'a> {
    computed: Vec<(Value<'a>, bool)>,
    held: Vec<(RegSpan, Vn)>,
}

impl<'a> Values<'a> {
    /// The value number a register span holds.
    fn held_in(&self, first: Reg, count: usize) -> Option<Vn> {
        self.held
            .iter()
            .find(|(span, _)| span.first == first && span.count == count)
            .map(|(_, vn)| *vn)
    }

    /// The value number of `value` (a new one if it was never computed),
    /// and whether it depends on frame bytes.
    fn number(&mut self, value: Value<'a>) -> Vn {
        if let Some(vn) = self.computed.iter().position(|(v, _)| *v == value) {
            return vn;
        }
        let reads_frame = match value {
            Value::Load { .. } => true,
            Value::Base(_) | Value::Key(_) | Value::Meta(_) | Value::Imm(_) => false,
            Value::Bitwise(s, ..) | Value::Shift(s, ..) | Value::Alu(s, _, Arg::Imm(_)) => {
                self.computed[s].1
            }
            Value::Alu(a, _, Arg::Vn(b)) => self.computed[a].1 || self.computed[b].1,
        };
        self.computed.push((value, reads_frame));
        self.computed.len() - 1
    }

    /// A register span that holds `vn`.
    fn holder(&self, vn: Vn, count: usize) -> Option<RegSpan> {
        self.held
            .iter()
            .find(|(span, v)| *v == vn && span.count == count)
            .map(|(span, _)| *span)
    }

    fn clobber(&mut self, span: &RegSpan) {
        self.held.retain(|(held, _)| !held.overlaps(span));
    }

    /// Forgets the values the frame's bytes went into (after a store), or
    /// the loaded mark (after a mark change).
    fn forget(&mut self, frame: bool, mark: bool) {
        let computed = &self.computed;
        self.held.retain(|(_, vn)| {
            let (value, reads_frame) = computed[*vn];
            !(frame && reads_frame || mark && value == Value::Meta(Meta::Mark))
        });
    }

    /// The value `insn` computes, when it is free of side effects and its
    /// sources (its registers as `rename` maps them) are held.
    fn of(&mut self, insn: &'a Insn, rename: impl Fn(Reg) -> Reg) -> Option<Vn> {
        let src = |r: Reg, bytes: usize| self.held_in(rename(r), vm::chunks_for(bytes));
        let value = match insn {
            Insn::Load {
                base, offset, len, ..
            } => Value::Load {
                base: *base,
                offset: *offset,
                len: *len,
            },
            Insn::LoadBase { base, .. } => Value::Base(*base),
            Insn::LoadKey { key, .. } => Value::Key(*key),
            Insn::LoadMeta { meta, .. } => Value::Meta(*meta),
            Insn::Imm { value, .. } => Value::Imm(value),
            Insn::Bitwise {
                src: s, mask, xor, ..
            } => Value::Bitwise(src(*s, mask.len())?, mask, xor),
            Insn::Shift {
                src: s,
                len,
                dir,
                bits,
                ..
            } => Value::Shift(src(*s, usize::from(*len))?, *len, *dir, *bits),
            Insn::Alu { a, op, b, .. } => {
                let b = match b {
                    vm::Operand::Reg(r) => Arg::Vn(src(*r, 4)?),
                    vm::Operand::Imm(v) => Arg::Imm(*v),
                };
                Value::Alu(src(*a, 4)?, *op, b)
            }
            _ => return None,
        };
        Some(self.number(value))
    }
}

/// Whether the reads of `dst` after instruction `at` can be served by
/// `holder` instead: every such read names exactly the start of `dst`, and
/// `holder` is not overwritten before the last of them (an instruction
/// reads its operands before it writes its result).
fn can_rename(
    insns: &[Insn],
    program: &Program,
    at: usize,
    dst: &RegSpan,
    holder: &RegSpan,
) -> bool {
    let mut last_read = None;
    let mut first_clobber = None;
    for (j, insn) in insns.iter().enumerate().skip(at + 1) {
        let uses = insn.reg_use(program);
        for read in uses.reads.iter().filter(|r| r.overlaps(dst)) {
            if read.first != dst.first || read.count > dst.count {
                return false;
            }
            last_read = Some(j);
        }
        if let Some(w) = uses.writes {
            if w.overlaps(holder) && first_clobber.is_none() {
                first_clobber = Some(j);
            }
            if w.overlaps(dst) {
                break;
            }
        }
    }
    match (last_read, first_clobber) {
        (Some(read), Some(clobber)) => clobber >= read,
        _ => true,
    }
}

/// Runs the pass on one rule.
pub fn run(insns: &mut Vec<Insn>, program: &Program) {
    // Decide first (borrowing the instructions), then rewrite in place:
    // for each instruction, dropped (`None`) or the renames of its reads.
    let mut plan: Vec<Option<Renames>> = Vec::with_capacity(insns.len());
    {
        let mut values = Values::default();
        // Live renames: reads of `.0` go to `.1`.
        let mut renames: Vec<(RegSpan, Reg)> = Vec::new();
        for (at, insn) in insns.iter().enumerate() {
            let rename = |r: Reg| {
                renames
                    .iter()
                    .find(|(d, _)| d.first == r)
                    .map_or(r, |(_, to)| *to)
            };
            let vn = values.of(insn, rename);
            let mut own = Renames::default();
            for (slot, span) in own.0.iter_mut().zip(insn.reg_use(program).reads) {
                *slot = Some((span.first, rename(span.first)));
            }
            let dst = insn.reg_use(program).writes;
            if let (Some(vn), Some(dst)) = (vn, dst)
                && let Some(holder) = values.holder(vn, dst.count)
                && (holder == dst || can_rename(insns, program, at, &dst, &holder))
            {
                renames.retain(|(d, _)| !d.overlaps(&dst));
                if holder != dst {
                    renames.push((dst, holder.first));
                }
                plan.push(None);
                continue;
            }
            if let Some(dst) = dst {
                values.clobber(&dst);
                renames.retain(|(d, _)| !d.overlaps(&dst));
            }
            match insn {
                Insn::Store { .. } => values.forget(true, false),
                Insn::SetMark { .. } => values.forget(false, true),
                _ => {}
            }
            if let (Some(vn), Some(dst)) = (vn, dst) {
                values.held.push((dst, vn));
            }
            plan.push(Some(own));
        }
    }
    let mut plan = plan.into_iter();
    insns.retain_mut(|insn| match plan.next().flatten() {
        Some(renames) => {
            insn.map_reads(|r| {
                renames
                    .0
                    .iter()
                    .flatten()
                    .find(|(from, _)| *from == r)
                    .map_or(r, |(_, to)| *to)
            });
            true
        }
        None => false,
    });
}

/// The renames of one instruction's reads (at most two operands).
#[derive(Default)]
struct Renames([Option<(Reg, Reg)>; 2]);

#[cfg(test)]
mod tests {
    use super::*;
    use vm::CmpOp;

    const TH: BaseId = BaseId(2);

    fn cmp(src: u8, v: u8) -> Insn {
        Insn::Cmp {
            src: Reg(src),
            op: CmpOp::Ne,
            value: vm::Value(vec![0, v]),
        }
    }

    fn load(dst: u8, offset: u16) -> Insn {
        Insn::Load {
            dst: Reg(dst),
            base: TH,
            offset,
            len: 2,
        }
    }

    #[test]
    fn a_field_tested_twice_is_loaded_once() {
        let mut rule = vec![load(0, 2), cmp(0, 22), load(1, 2), cmp(1, 80)];
        run(&mut rule, &Program::default());
        assert_eq!(rule, vec![load(0, 2), cmp(0, 22), cmp(0, 80)]);
    }

    #[test]
    fn different_fields_are_both_loaded() {
        let mut rule = vec![load(0, 0), cmp(0, 22), load(1, 2), cmp(1, 80)];
        let before = rule.clone();
        run(&mut rule, &Program::default());
        assert_eq!(rule, before);
    }

    #[test]
    fn masked_values_are_reused_with_their_mask() {
        let mask = |dst: u8| Insn::Bitwise {
            dst: Reg(dst),
            src: Reg(dst),
            mask: vm::Value(vec![0x0f, 0xff]),
            xor: vm::Value(vec![0, 0]),
        };
        let mut rule = vec![
            load(0, 0),
            mask(0),
            cmp(0, 1),
            load(1, 0),
            mask(1),
            cmp(1, 2),
        ];
        run(&mut rule, &Program::default());
        // The reload stays for `dead_values` to remove; its mask is reused.
        assert_eq!(
            rule,
            vec![load(0, 0), mask(0), cmp(0, 1), load(1, 0), cmp(0, 2)]
        );
    }

    #[test]
    fn a_store_invalidates_loaded_bytes() {
        let store = Insn::Store {
            base: TH,
            offset: 2,
            len: 2,
            src: Reg(0),
            checksums: vec![],
        };
        let mut rule = vec![
            load(0, 2),
            cmp(0, 22),
            store.clone(),
            load(1, 2),
            cmp(1, 80),
        ];
        let before = rule.clone();
        run(&mut rule, &Program::default());
        assert_eq!(rule, before);
    }

    #[test]
    fn no_reuse_when_the_holder_is_overwritten_first() {
        // r1 would be renamed to r0, but r0 is reloaded before r1 is read.
        let mut rule = vec![load(0, 2), load(1, 2), load(0, 4), cmp(1, 80), cmp(0, 1)];
        let before = rule.clone();
        run(&mut rule, &Program::default());
        assert_eq!(rule, before);
    }
}
