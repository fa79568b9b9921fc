//! Which registers each instruction reads and writes.
//!
//! The verifier checks def-before-use with it, and the compiler's passes
//! rename registers with it; keeping one description of every
//! instruction's operands means the two can never disagree.

use crate::insn::{Insn, Operand, Reg, chunks_for};
use crate::program::{MapData, Program};

/// A run of consecutive registers: the first and how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RegSpan {
    /// The first register.
    pub first: Reg,
    /// How many registers, at least 1.
    pub count: usize,
}

impl RegSpan {
    /// The span a value of `bytes` bytes starting at `first` occupies.
    pub fn for_bytes(first: Reg, bytes: usize) -> RegSpan {
        RegSpan {
            first,
            count: chunks_for(bytes).max(1),
        }
    }

    /// Register indices of the span (possibly past the last register: the
    /// verifier reports that).
    pub fn indices(&self) -> std::ops::Range<usize> {
        let start = usize::from(self.first.0);
        start..start + self.count
    }

    /// True when every register of `other` is in this span.
    pub fn covers(&self, other: &RegSpan) -> bool {
        let (a, b) = (self.indices(), other.indices());
        a.start <= b.start && b.end <= a.end
    }

    /// True when the two spans share a register.
    pub fn overlaps(&self, other: &RegSpan) -> bool {
        let (a, b) = (self.indices(), other.indices());
        a.start < b.end && b.start < a.end
    }
}

/// The spans an instruction reads, in operand order: at most two (kept
/// inline: the compiler's passes ask for them once per instruction).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reads([Option<RegSpan>; 2]);

impl Reads {
    /// One span.
    pub fn one(a: RegSpan) -> Reads {
        Reads([Some(a), None])
    }

    /// Two spans.
    pub fn two(a: RegSpan, b: RegSpan) -> Reads {
        Reads([Some(a), Some(b)])
    }

    /// The spans.
    pub fn iter(&self) -> impl Iterator<Item = &RegSpan> {
        self.0.iter().flatten()
    }

    /// The first span, if any.
    pub fn first(&self) -> Option<&RegSpan> {
        self.0[0].as_ref()
    }
}

impl IntoIterator for Reads {
    type Item = RegSpan;
    type IntoIter = std::iter::Flatten<std::array::IntoIter<Option<RegSpan>, 2>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter().flatten()
    }
}

impl<'a> IntoIterator for &'a Reads {
    type Item = &'a RegSpan;
    type IntoIter = std::iter::Flatten<std::slice::Iter<'a, Option<RegSpan>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().flatten()
    }
}

/// The registers an instruction reads and writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegUse {
    /// Spans read, in operand order.
    pub reads: Reads,
    /// The span written, if any.
    pub writes: Option<RegSpan>,
}

/// Key width in bytes of a set or map with these components: each component
/// starts at a new register.
pub fn key_registers(components: &[u8]) -> usize {
    components.iter().map(|c| chunks_for(usize::from(*c))).sum()
}

impl Insn {
    /// The registers this instruction reads and writes. Widths that depend
    /// on a set or map come from `program`; an undefined set or map counts
    /// as a one-register key (the verifier rejects it separately).
    pub fn reg_use(&self, program: &Program) -> RegUse {
        let span = RegSpan::for_bytes;
        let regs = |first: Reg, count: usize| RegSpan {
            first,
            count: count.max(1),
        };
        let set_key = |i: usize| program.sets.get(i).map_or(1, |s| key_registers(&s.key));
        let map_key = |i: usize| program.maps.get(i).map_or(1, |m| key_registers(&m.key));
        let (reads, writes) = match self {
            Insn::Load { dst, len, .. } => (Reads::default(), Some(span(*dst, usize::from(*len)))),
            Insn::LoadBase { dst, .. } | Insn::LoadKey { dst, .. } => {
                (Reads::default(), Some(span(*dst, 4)))
            }
            Insn::LoadMeta { dst, meta } => (Reads::default(), Some(span(*dst, meta.len()))),
            Insn::Imm { dst, value } => (Reads::default(), Some(span(*dst, value.len()))),
            Insn::Bitwise { dst, src, mask, .. } => (
                Reads::one(span(*src, mask.len())),
                Some(span(*dst, mask.len())),
            ),
            Insn::Shift { dst, src, len, .. } => (
                Reads::one(span(*src, usize::from(*len))),
                Some(span(*dst, usize::from(*len))),
            ),
            Insn::Alu { dst, a, b, .. } => {
                let r = match b {
                    Operand::Reg(b) => Reads::two(span(*a, 4), span(*b, 4)),
                    Operand::Imm(_) => Reads::one(span(*a, 4)),
                };
                (r, Some(span(*dst, 4)))
            }
            Insn::Cmp { src, value, .. } => (Reads::one(span(*src, value.len())), None),
            Insn::CmpReg { a, b, .. } => (Reads::two(span(*a, 4), span(*b, 4)), None),
            Insn::Range { src, low, .. } => (Reads::one(span(*src, low.len())), None),
            Insn::InList { src, list, .. } => (
                Reads::one(span(*src, list.first().map_or(1, |(low, _)| low.len()))),
                None,
            ),
            Insn::Lookup { src, set, .. } => {
                (Reads::one(regs(*src, set_key(usize::from(set.0)))), None)
            }
            Insn::MapLookup { src, map, dst } => {
                let data = match program.maps.get(usize::from(map.0)).map(|m| m.data) {
                    Some(MapData::Value(bytes)) => usize::from(bytes),
                    _ => 4,
                };
                (
                    Reads::one(regs(*src, map_key(usize::from(map.0)))),
                    Some(span(*dst, data)),
                )
            }
            Insn::VmapLookup { src, map } => {
                (Reads::one(regs(*src, map_key(usize::from(map.0)))), None)
            }
            Insn::SetMark { src } | Insn::SetKey { src, .. } => (Reads::one(span(*src, 4)), None),
            Insn::Store { src, len, .. } => (Reads::one(span(*src, usize::from(*len))), None),
            Insn::SetBase { add, .. } => (Reads([add.map(|r| span(r, 4)), None]), None),
            Insn::Counter { .. }
            | Insn::Limit { .. }
            | Insn::Log { .. }
            | Insn::Mirror { .. }
            | Insn::Insert { .. }
            | Insn::Remove { .. }
            | Insn::Verdict(_)
            | Insn::ClearBase { .. }
            | Insn::ClearKey { .. }
            | Insn::Skip { .. } => (Reads::default(), None),
        };
        RegUse { reads, writes }
    }

    /// Rewrites every register this instruction *reads* through `f`.
    pub fn map_reads(&mut self, mut f: impl FnMut(Reg) -> Reg) {
        match self {
            Insn::Bitwise { src, .. }
            | Insn::Shift { src, .. }
            | Insn::Cmp { src, .. }
            | Insn::Range { src, .. }
            | Insn::InList { src, .. }
            | Insn::Lookup { src, .. }
            | Insn::MapLookup { src, .. }
            | Insn::VmapLookup { src, .. }
            | Insn::SetMark { src }
            | Insn::SetKey { src, .. }
            | Insn::Store { src, .. } => *src = f(*src),
            Insn::Alu { a, b, .. } => {
                *a = f(*a);
                if let Operand::Reg(b) = b {
                    *b = f(*b);
                }
            }
            Insn::CmpReg { a, b, .. } => {
                *a = f(*a);
                *b = f(*b);
            }
            Insn::SetBase { add, .. } => {
                if let Some(r) = add {
                    *r = f(*r);
                }
            }
            Insn::Load { .. }
            | Insn::LoadBase { .. }
            | Insn::LoadKey { .. }
            | Insn::LoadMeta { .. }
            | Insn::Imm { .. }
            | Insn::Counter { .. }
            | Insn::Limit { .. }
            | Insn::Log { .. }
            | Insn::Mirror { .. }
            | Insn::Insert { .. }
            | Insn::Remove { .. }
            | Insn::Verdict(_)
            | Insn::ClearBase { .. }
            | Insn::ClearKey { .. }
            | Insn::Skip { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::{BaseId, CmpOp, Value};

    #[test]
    fn wide_values_span_several_registers() {
        let p = Program::default();
        let load = Insn::Load {
            dst: Reg(2),
            base: BaseId(0),
            offset: 8,
            len: 16,
        };
        assert_eq!(
            load.reg_use(&p).writes,
            Some(RegSpan {
                first: Reg(2),
                count: 4
            })
        );
        let cmp = Insn::Cmp {
            src: Reg(1),
            op: CmpOp::Eq,
            value: Value(vec![0; 6]),
        };
        assert_eq!(
            cmp.reg_use(&p).reads,
            Reads::one(RegSpan {
                first: Reg(1),
                count: 2
            })
        );
        assert!(
            RegSpan {
                first: Reg(1),
                count: 2
            }
            .overlaps(&RegSpan {
                first: Reg(2),
                count: 4
            })
        );
        assert!(
            !RegSpan {
                first: Reg(0),
                count: 2
            }
            .overlaps(&RegSpan {
                first: Reg(2),
                count: 1
            })
        );
    }

    #[test]
    fn map_reads_leaves_writes_alone() {
        let mut insn = Insn::Bitwise {
            dst: Reg(0),
            src: Reg(0),
            mask: Value(vec![0xf0]),
            xor: Value(vec![0]),
        };
        insn.map_reads(|_| Reg(5));
        assert_eq!(
            insn.reg_use(&Program::default())
                .reads
                .first()
                .unwrap()
                .first,
            Reg(5)
        );
        assert_eq!(
            insn.reg_use(&Program::default()).writes.unwrap().first,
            Reg(0)
        );
    }
}
