//! Lowering of header expressions (`length`, `valid`, `fragment` and the
//! cases of `next` in a `header` declaration) to arithmetic on 32-bit
//! registers.
//!
//! Fields are read as numbers here (loaded, masked and shifted down), unlike
//! rule matches, which compare fields in place. An expression used as a
//! condition becomes a conjunction of checks that end the rule when they
//! fail; only `and`, comparisons and `not` of a comparison can be lowered
//! that way, since a rule has no branches.

use crate::emit::{BitRange, RuleBuilder, low_mask};
use crate::error::CompileError;
use crate::layout::Place;
use ruleset::registry::{HBinOp, Header, HeaderExpr, HeaderId, Registry};
use vm::{AluOp, CmpOp, Insn, Meta, Operand, Reg, Value};

/// A header at a place, whose expressions are being lowered.
pub struct HeaderAt<'a> {
    /// The protocols.
    pub registry: &'a Registry,
    /// The header.
    pub header: HeaderId,
    /// Where it starts.
    pub at: Place,
}

impl HeaderAt<'_> {
    /// The bit range of one of the header's fields.
    pub fn field_range(&self, field: ruleset::registry::FieldId) -> BitRange {
        let f = self.registry.field(self.header, field);
        BitRange {
            base: self.at.base,
            offset: self.at.offset * 8 + f.offset,
            len: f.bits,
        }
    }

    /// Emits code leaving the numeric value of `expr` in a register.
    pub fn value(&self, b: &mut RuleBuilder, expr: &HeaderExpr) -> Result<Reg, CompileError> {
        match expr {
            HeaderExpr::Const(c) => {
                let reg = b.alloc(4)?;
                b.push(Insn::Imm {
                    dst: reg,
                    value: Value::from_u128(*c, 4),
                });
                Ok(reg)
            }
            HeaderExpr::Field(f) => self.numeric_field(b, self.field_range(*f)),
            HeaderExpr::Remaining => {
                let len = b.load_meta(Meta::Len)?.reg;
                let base = b.alloc(4)?;
                b.push(Insn::LoadBase {
                    dst: base,
                    base: self.at.base,
                });
                b.push(Insn::Alu {
                    dst: len,
                    a: len,
                    op: AluOp::Sub,
                    b: Operand::Reg(base),
                });
                if self.at.offset != 0 {
                    b.push(Insn::Alu {
                        dst: len,
                        a: len,
                        op: AluOp::Sub,
                        b: Operand::Imm(self.at.offset),
                    });
                }
                Ok(len)
            }
            HeaderExpr::Payload(bits) => {
                let h = self.registry.header(self.header);
                let len = fixed_length(h).ok_or_else(|| {
                    CompileError::NotSupported(format!(
                        "`payload` after `{}`, a header of variable length",
                        h.name
                    ))
                })?;
                self.numeric_field(
                    b,
                    BitRange {
                        base: self.at.base,
                        offset: (self.at.offset + len) * 8,
                        len: *bits,
                    },
                )
            }
            HeaderExpr::Binary(op, l, r) => {
                let alu = match op {
                    HBinOp::BitOr => AluOp::Or,
                    HBinOp::BitAnd => AluOp::And,
                    HBinOp::Shl => AluOp::Shl,
                    HBinOp::Shr => AluOp::Shr,
                    HBinOp::Add => AluOp::Add,
                    HBinOp::Sub => AluOp::Sub,
                    HBinOp::Mul => AluOp::Mul,
                    _ => return Err(CompileError::ConditionAsValue),
                };
                let a = self.value(b, l)?;
                let operand = match &**r {
                    HeaderExpr::Const(c) => {
                        Operand::Imm(u32::try_from(*c).map_err(|_| CompileError::ConstantTooWide)?)
                    }
                    other => Operand::Reg(self.value(b, other)?),
                };
                b.push(Insn::Alu {
                    dst: a,
                    a,
                    op: alu,
                    b: operand,
                });
                Ok(a)
            }
            HeaderExpr::Not(_) => Err(CompileError::ConditionAsValue),
        }
    }

    /// Emits checks that end the rule unless `expr` holds.
    pub fn condition(&self, b: &mut RuleBuilder, expr: &HeaderExpr) -> Result<(), CompileError> {
        match expr {
            HeaderExpr::Binary(HBinOp::And, l, r) => {
                self.condition(b, l)?;
                self.condition(b, r)
            }
            HeaderExpr::Binary(op, l, r) if let Some(op) = cmp_op(*op) => self.compare(b, op, l, r),
            HeaderExpr::Not(inner) => match &**inner {
                HeaderExpr::Binary(op, l, r) if let Some(op) = cmp_op(*op) => {
                    self.compare(b, negate(op), l, r)
                }
                _ => Err(CompileError::UnsupportedCondition),
            },
            HeaderExpr::Binary(HBinOp::Or, ..) => Err(CompileError::UnsupportedCondition),
            value => {
                let reg = self.value(b, value)?;
                b.push(Insn::Cmp {
                    src: reg,
                    op: CmpOp::Ne,
                    value: Value::from_u128(0, 4),
                });
                Ok(())
            }
        }
    }

    fn compare(
        &self,
        b: &mut RuleBuilder,
        op: CmpOp,
        l: &HeaderExpr,
        r: &HeaderExpr,
    ) -> Result<(), CompileError> {
        let a = self.value(b, l)?;
        match r {
            HeaderExpr::Const(c) => {
                let c = u32::try_from(*c).map_err(|_| CompileError::ConstantTooWide)?;
                b.push(Insn::Cmp {
                    src: a,
                    op,
                    value: Value::from_u128(c.into(), 4),
                });
            }
            other => {
                let rb = self.value(b, other)?;
                b.push(Insn::CmpReg { a, op, b: rb });
            }
        }
        Ok(())
    }

    /// Loads a field of at most 32 bits as a number. The raw bytes stay in
    /// their own register, so other fields of the same bytes reuse the load.
    fn numeric_field(&self, b: &mut RuleBuilder, range: BitRange) -> Result<Reg, CompileError> {
        if range.covering_bytes() > 4 {
            return Err(CompileError::FieldTooWide { bits: range.len });
        }
        let offset = u16::try_from(range.first_byte()).map_err(|_| CompileError::OffsetTooLarge)?;
        let raw = b.alloc(4)?;
        b.push(Insn::Load {
            dst: raw,
            base: range.base,
            offset,
            len: range.covering_bytes() as u8,
        });
        let at_top = range.shift() + range.len == range.covering_bytes() * 8;
        if range.shift() == 0 && at_top {
            return Ok(raw);
        }
        let reg = b.alloc(4)?;
        let mut src = raw;
        if range.shift() > 0 {
            b.push(Insn::Alu {
                dst: reg,
                a: src,
                op: AluOp::Shr,
                b: Operand::Imm(range.shift()),
            });
            src = reg;
        }
        if !at_top {
            b.push(Insn::Alu {
                dst: reg,
                a: src,
                op: AluOp::And,
                b: Operand::Imm(low_mask(range.len) as u32),
            });
        }
        Ok(reg)
    }
}

/// The length of a header in bytes, if it is the same in every packet.
pub fn fixed_length(header: &Header) -> Option<u32> {
    match &header.length {
        None => Some(header.bits / 8),
        Some(expr) => constant(expr).and_then(|c| u32::try_from(c).ok()),
    }
}

/// The constant value of an expression without fields, if it has one.
pub fn constant(expr: &HeaderExpr) -> Option<u128> {
    match expr {
        HeaderExpr::Const(c) => Some(*c),
        HeaderExpr::Binary(op, l, r) => {
            let (l, r) = (constant(l)?, constant(r)?);
            match op {
                HBinOp::Add => l.checked_add(r),
                HBinOp::Sub => l.checked_sub(r),
                HBinOp::Mul => l.checked_mul(r),
                HBinOp::BitAnd => Some(l & r),
                HBinOp::BitOr => Some(l | r),
                HBinOp::Shl => l.checked_shl(u32::try_from(r).ok()?),
                HBinOp::Shr => l.checked_shr(u32::try_from(r).ok()?),
                _ => None,
            }
        }
        _ => None,
    }
}

fn cmp_op(op: HBinOp) -> Option<CmpOp> {
    Some(match op {
        HBinOp::Eq => CmpOp::Eq,
        HBinOp::Ne => CmpOp::Ne,
        HBinOp::Lt => CmpOp::Lt,
        HBinOp::Le => CmpOp::Le,
        HBinOp::Gt => CmpOp::Gt,
        HBinOp::Ge => CmpOp::Ge,
        _ => return None,
    })
}

/// The relation that holds exactly when `op` does not.
pub fn negate(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Eq => CmpOp::Ne,
        CmpOp::Ne => CmpOp::Eq,
        CmpOp::Lt => CmpOp::Ge,
        CmpOp::Le => CmpOp::Gt,
        CmpOp::Gt => CmpOp::Le,
        CmpOp::Ge => CmpOp::Lt,
    }
}
