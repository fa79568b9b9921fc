//! Load and computation reuse within a rule (common subexpression
//! elimination).
//!
//! Every register value a rule computes without side effects (a load of
//! frame bytes, a key, metadata, a base, a constant, and bitwise, shift and
//! arithmetic results of those) is described by a [`Sym`]. When an
//! instruction would compute a value that a register still holds, the
//! instruction is dropped and later reads of its destination are renamed to
//! the register that holds it, provided that register is not overwritten
//! while the renamed reads still need it.
//!
//! A store to the frame invalidates every value derived from frame bytes; a
//! mark change invalidates the loaded mark.

use vm::{AluOp, BaseId, Insn, KeyId, Meta, Operand, Program, Reg, RegSpan, ShiftDir, Value};

/// How a register value was computed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sym {
    Load { base: BaseId, offset: u16, len: u8 },
    Base(BaseId),
    Key(KeyId),
    Meta(Meta),
    Imm(Value),
    Bitwise(Box<Sym>, Value, Value),
    Shift(Box<Sym>, u8, ShiftDir, u8),
    Alu(Box<Sym>, AluOp, Box<Arg>),
}

/// The second operand of an arithmetic value.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Arg {
    Sym(Sym),
    Imm(u32),
}

impl Sym {
    /// True when the value depends on the frame's bytes.
    fn reads_frame(&self) -> bool {
        match self {
            Sym::Load { .. } => true,
            Sym::Base(_) | Sym::Key(_) | Sym::Meta(_) | Sym::Imm(_) => false,
            Sym::Bitwise(s, ..) | Sym::Shift(s, ..) => s.reads_frame(),
            Sym::Alu(a, _, b) => a.reads_frame() || matches!(&**b, Arg::Sym(s) if s.reads_frame()),
        }
    }
}

/// What registers hold as the pass walks the rule.
#[derive(Default)]
struct Held {
    values: Vec<(RegSpan, Sym)>,
}

impl Held {
    fn get(&self, first: Reg, count: usize) -> Option<&Sym> {
        self.values
            .iter()
            .find(|(span, _)| span.first == first && span.count == count)
            .map(|(_, sym)| sym)
    }

    fn find(&self, sym: &Sym, count: usize) -> Option<RegSpan> {
        self.values
            .iter()
            .find(|(span, s)| s == sym && span.count == count)
            .map(|(span, _)| *span)
    }

    fn clobber(&mut self, span: &RegSpan) {
        self.values.retain(|(held, _)| !held.overlaps(span));
    }

    fn forget(&mut self, pred: impl Fn(&Sym) -> bool) {
        self.values.retain(|(_, sym)| !pred(sym));
    }
}

/// The value `insn` computes, when it is free of side effects and its
/// sources are known.
fn symbol(insn: &Insn, held: &Held) -> Option<Sym> {
    let of = |r: Reg, bytes: usize| held.get(r, vm::chunks_for(bytes)).cloned();
    Some(match insn {
        Insn::Load {
            base, offset, len, ..
        } => Sym::Load {
            base: *base,
            offset: *offset,
            len: *len,
        },
        Insn::LoadBase { base, .. } => Sym::Base(*base),
        Insn::LoadKey { key, .. } => Sym::Key(*key),
        Insn::LoadMeta { meta, .. } => Sym::Meta(*meta),
        Insn::Imm { value, .. } => Sym::Imm(value.clone()),
        Insn::Bitwise { src, mask, xor, .. } => {
            Sym::Bitwise(Box::new(of(*src, mask.len())?), mask.clone(), xor.clone())
        }
        Insn::Shift {
            src,
            len,
            dir,
            bits,
            ..
        } => Sym::Shift(Box::new(of(*src, usize::from(*len))?), *len, *dir, *bits),
        Insn::Alu { a, op, b, .. } => {
            let b = match b {
                Operand::Reg(r) => Arg::Sym(of(*r, 4)?),
                Operand::Imm(v) => Arg::Imm(*v),
            };
            Sym::Alu(Box::new(of(*a, 4)?), *op, Box::new(b))
        }
        _ => return None,
    })
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
    let original = std::mem::take(insns);
    let mut held = Held::default();
    // Live renames: reads of `.0` go to `.1`.
    let mut renames: Vec<(RegSpan, Reg)> = Vec::new();
    for (at, mut insn) in original.iter().cloned().enumerate() {
        insn.map_reads(|r| {
            renames
                .iter()
                .find(|(d, _)| d.first == r)
                .map_or(r, |(_, to)| *to)
        });
        let uses = insn.reg_use(program);
        let sym = symbol(&insn, &held);
        if let (Some(sym), Some(dst)) = (&sym, uses.writes) {
            if let Some(holder) = held.find(sym, dst.count) {
                if holder == dst || can_rename(&original, program, at, &dst, &holder) {
                    renames.retain(|(d, _)| !d.overlaps(&dst));
                    if holder != dst {
                        renames.push((dst, holder.first));
                    }
                    continue;
                }
            }
        }
        if let Some(dst) = uses.writes {
            held.clobber(&dst);
            renames.retain(|(d, _)| !d.overlaps(&dst));
        }
        match &insn {
            Insn::Store { .. } => held.forget(Sym::reads_frame),
            Insn::SetMark { .. } => held.forget(|s| *s == Sym::Meta(Meta::Mark)),
            _ => {}
        }
        if let (Some(sym), Some(dst)) = (sym, uses.writes) {
            held.values.push((dst, sym));
        }
        insns.push(insn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vm::CmpOp;

    const TH: BaseId = BaseId(2);

    fn cmp(src: u8, v: u8) -> Insn {
        Insn::Cmp {
            src: Reg(src),
            op: CmpOp::Ne,
            value: Value(vec![0, v]),
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
            mask: Value(vec![0x0f, 0xff]),
            xor: Value(vec![0, 0]),
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
