//! The rule builder: instruction emission and register allocation for one
//! rule.
//!
//! Fields are read the way nf_tables reads them: the bytes that cover the
//! field are loaded and, when the field does not fill them, masked in place
//! (`ip version` is the top nibble of one byte: load 1 byte, and `0xf0`).
//! Constants are shifted into the same place, so compares, ranges, sets and
//! maps all work on the in-place value and no shift is needed at run time.
//! [`FieldLoad::place`] converts a constant to that form.

use crate::error::CompileError;
use vm::{BaseId, Insn, KeyId, Meta, NUM_REGS, Reg, Value, chunks_for};

/// Where a field lies: a base and a bit range from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BitRange {
    /// The header base it is read from.
    pub base: BaseId,
    /// Offset in bits from the base, counted from the most significant bit
    /// of the first byte.
    pub offset: u32,
    /// Length in bits.
    pub len: u32,
}

impl BitRange {
    /// First byte of the covering load, relative to the base.
    pub fn first_byte(&self) -> u32 {
        self.offset / 8
    }

    /// Number of bytes that cover the field.
    pub fn covering_bytes(&self) -> u32 {
        (self.offset + self.len).div_ceil(8) - self.first_byte()
    }

    /// Bits below the field in its covering bytes.
    pub fn shift(&self) -> u32 {
        self.covering_bytes() * 8 - (self.offset % 8) - self.len
    }

    /// True when the field fills its covering bytes exactly.
    pub fn is_byte_aligned(&self) -> bool {
        self.offset.is_multiple_of(8) && self.len.is_multiple_of(8)
    }
}

/// A field loaded into registers, in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldLoad {
    /// First register of the value.
    pub reg: Reg,
    /// The value's width in bytes (the covering bytes).
    pub bytes: usize,
    /// Bits of the field below the low end of the value.
    pub shift: u32,
    /// The field's length in bits.
    pub bits: u32,
}

impl FieldLoad {
    /// A constant field value (the low `bits` bits of `v`) moved to where
    /// the field lies in the loaded value.
    pub fn place(&self, v: u128) -> Value {
        Value::from_u128((v & low_mask(self.bits)) << self.shift, self.bytes)
    }

    /// The mask that keeps the field's bits of the loaded value.
    pub fn mask(&self) -> Value {
        Value::from_u128(low_mask(self.bits) << self.shift, self.bytes)
    }
}

/// Sets of at most this many single-part elements are written inline
/// ([`Insn::InList`]): an engine tests them with a few compares.
pub const INLINE_SET_LIMIT: usize = 8;

/// `reg` (a value of `bytes` bytes, its field `shift` bits up) is one of
/// `values` (with `negate`, none of them): a compare for one value, an
/// inline list for more.
pub fn in_list(reg: Reg, bytes: usize, shift: u32, values: &[u128], negate: bool) -> Insn {
    let place = |v: u128| Value::from_u128(v << shift, bytes);
    let mut values = values.to_vec();
    values.sort_unstable();
    values.dedup();
    match values.as_slice() {
        [v] => Insn::Cmp {
            src: reg,
            op: if negate { vm::CmpOp::Ne } else { vm::CmpOp::Eq },
            value: place(*v),
        },
        _ => Insn::InList {
            src: reg,
            list: values.iter().map(|v| (place(*v), place(*v))).collect(),
            negate,
        },
    }
}

/// A mask of the `bits` least significant bits.
pub fn low_mask(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// Builds the instructions of one rule.
#[derive(Clone, Debug, Default)]
pub struct RuleBuilder {
    insns: Vec<Insn>,
    next_reg: u8,
}

impl RuleBuilder {
    /// An empty rule.
    pub fn new() -> RuleBuilder {
        RuleBuilder::default()
    }

    /// Appends an instruction.
    pub fn push(&mut self, insn: Insn) {
        self.insns.push(insn);
    }

    /// The instructions so far.
    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }

    /// Finishes the rule.
    pub fn finish(self) -> Vec<Insn> {
        self.insns
    }

    /// Allocates consecutive registers for a value of `bytes` bytes.
    pub fn alloc(&mut self, bytes: usize) -> Result<Reg, CompileError> {
        let need = chunks_for(bytes.max(1));
        let reg = self.next_reg;
        if usize::from(reg) + need > NUM_REGS {
            return Err(CompileError::TooManyRegisters);
        }
        self.next_reg += need as u8;
        Ok(Reg(reg))
    }

    /// The register watermark: allocations after [`RuleBuilder::release_to`]
    /// with this mark reuse the registers allocated since.
    pub fn mark(&self) -> u8 {
        self.next_reg
    }

    /// Frees every register allocated since `mark`.
    pub fn release_to(&mut self, mark: u8) {
        self.next_reg = mark;
    }

    /// Loads a field in place; when it does not fill its covering bytes,
    /// the masked value goes to a fresh register so the raw load stays
    /// available to other matches on the same bytes.
    pub fn load_field(&mut self, range: BitRange) -> Result<FieldLoad, CompileError> {
        self.load_field_masked(range, false)
    }

    /// Loads a field like [`RuleBuilder::load_field`]; with `in_place` the
    /// mask is applied to the loaded register itself, so the value occupies
    /// exactly the registers the load allocated (parts of a concatenated key
    /// must be consecutive).
    pub fn load_field_masked(
        &mut self,
        range: BitRange,
        in_place: bool,
    ) -> Result<FieldLoad, CompileError> {
        let bytes = range.covering_bytes() as usize;
        if bytes > vm::MAX_VALUE_BYTES {
            return Err(CompileError::FieldTooWide { bits: range.len });
        }
        let offset = u16::try_from(range.first_byte()).map_err(|_| CompileError::OffsetTooLarge)?;
        let raw = self.alloc(bytes)?;
        self.push(Insn::Load {
            dst: raw,
            base: range.base,
            offset,
            len: bytes as u8,
        });
        let mut load = FieldLoad {
            reg: raw,
            bytes,
            shift: range.shift(),
            bits: range.len,
        };
        if !range.is_byte_aligned() {
            if !in_place {
                load.reg = self.alloc(bytes)?;
            }
            self.push(Insn::Bitwise {
                dst: load.reg,
                src: raw,
                mask: load.mask(),
                xor: Value(vec![0; bytes]),
            });
        }
        Ok(load)
    }

    /// The class of the 48-bit link address at `range` as one byte (see
    /// `ruleset::registry::MetaKey::class_of`): `classes[0]` when it is the
    /// input port's address, else `classes[1]` when all its bits are set,
    /// else `classes[2]` when its group bit (the first byte's lowest) is set,
    /// else `classes[3]`. The VM has no conditional value, so each choice
    /// is arithmetic on a condition c of 0 or 1 (`b + c * (a - b)`), and
    /// "x is not 0" is the top bit of `(0 - x) | x`.
    pub fn address_class(
        &mut self,
        range: BitRange,
        classes: [u32; 4],
    ) -> Result<FieldLoad, CompileError> {
        use vm::{AluOp, Operand};
        let [host, broadcast, multicast, other] = classes;
        let out = self.alloc(4)?;
        let after = self.mark();
        let addr = self.load_field(range)?.reg;
        // Two registers, consecutive: temporaries, then the port's address.
        let t = self.alloc(Meta::IifAddr.len())?;
        let next = |r: Reg| Reg(r.0 + 1);
        let u = next(t);
        let alu = |b: &mut Self, dst: Reg, a: Reg, op: AluOp, with: Operand| {
            b.push(Insn::Alu {
                dst,
                a,
                op,
                b: with,
            });
        };
        let imm = |b: &mut Self, dst: Reg, n: u32| {
            b.push(Insn::Imm {
                dst,
                value: Value(n.to_be_bytes().to_vec()),
            });
        };
        // dst = 1 when src is not 0, else 0 (src kept).
        let nonzero = |b: &mut Self, dst: Reg, src: Reg| {
            imm(b, dst, 0);
            alu(b, dst, dst, AluOp::Sub, Operand::Reg(src));
            alu(b, dst, dst, AluOp::Or, Operand::Reg(src));
            alu(b, dst, dst, AluOp::Shr, Operand::Imm(31));
        };
        // dst stays when c is 1 and becomes `otherwise` when c is 0:
        // otherwise + c * (dst - otherwise).
        let choose = |b: &mut Self, dst: Reg, c: Reg, otherwise: u32| {
            alu(b, dst, dst, AluOp::Sub, Operand::Imm(otherwise));
            alu(b, dst, dst, AluOp::Mul, Operand::Reg(c));
            alu(b, dst, dst, AluOp::Add, Operand::Imm(otherwise));
        };
        // t = 1 when the address is not all ones (not broadcast).
        alu(self, u, addr, AluOp::Xor, Operand::Imm(u32::MAX));
        alu(self, t, next(addr), AluOp::Xor, Operand::Imm(0xffff));
        alu(self, u, u, AluOp::Or, Operand::Reg(t));
        nonzero(self, t, u);
        // out = broadcast or multicast; then, when the group bit is clear,
        // other.
        imm(self, out, multicast);
        choose(self, out, t, broadcast);
        alu(self, u, addr, AluOp::Shr, Operand::Imm(24));
        alu(self, u, u, AluOp::And, Operand::Imm(1));
        choose(self, out, u, other);
        // u = 1 when the address is not the port's: out, or host.
        self.push(Insn::LoadMeta {
            dst: t,
            meta: Meta::IifAddr,
        });
        alu(self, addr, addr, AluOp::Xor, Operand::Reg(t));
        alu(self, next(addr), next(addr), AluOp::Xor, Operand::Reg(u));
        alu(self, addr, addr, AluOp::Or, Operand::Reg(next(addr)));
        nonzero(self, u, addr);
        choose(self, out, u, host);
        self.release_to(after);
        Ok(FieldLoad {
            reg: out,
            bytes: 1,
            shift: 0,
            bits: 8,
        })
    }

    /// Loads a parse key (such as the network protocol) of `bytes` width.
    pub fn load_key(&mut self, key: KeyId, bits: u32) -> Result<FieldLoad, CompileError> {
        let reg = self.alloc(4)?;
        self.push(Insn::LoadKey { dst: reg, key });
        Ok(FieldLoad {
            reg,
            bytes: 4,
            shift: 0,
            bits: bits.min(32),
        })
    }

    /// Loads runtime metadata.
    pub fn load_meta(&mut self, meta: Meta) -> Result<FieldLoad, CompileError> {
        let bytes = meta.len();
        let reg = self.alloc(bytes)?;
        self.push(Insn::LoadMeta { dst: reg, meta });
        Ok(FieldLoad {
            reg,
            bytes,
            shift: 0,
            bits: bytes as u32 * 8,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: BaseId = BaseId(1);

    #[test]
    fn nibble_fields_are_masked_into_a_fresh_register() {
        let mut r = RuleBuilder::new();
        let version = r
            .load_field(BitRange {
                base: B,
                offset: 0,
                len: 4,
            })
            .unwrap();
        assert_eq!(version.bytes, 1);
        assert_eq!(version.place(4), Value(vec![0x40]));
        assert_eq!(
            r.insns(),
            &[
                Insn::Load {
                    dst: Reg(0),
                    base: B,
                    offset: 0,
                    len: 1
                },
                Insn::Bitwise {
                    dst: Reg(1),
                    src: Reg(0),
                    mask: Value(vec![0xf0]),
                    xor: Value(vec![0])
                },
            ]
        );
    }

    #[test]
    fn byte_fields_need_no_mask() {
        let mut r = RuleBuilder::new();
        let saddr = r
            .load_field(BitRange {
                base: B,
                offset: 96,
                len: 32,
            })
            .unwrap();
        assert_eq!(
            r.insns(),
            &[Insn::Load {
                dst: Reg(0),
                base: B,
                offset: 12,
                len: 4
            }]
        );
        assert_eq!(saddr.place(0x0a000001), Value(vec![10, 0, 0, 1]));
    }

    #[test]
    fn fields_across_bytes_keep_their_position() {
        // The 12-bit VLAN id after 4 bits of priority and DEI.
        let id = BitRange {
            base: B,
            offset: 4,
            len: 12,
        };
        assert_eq!(
            (id.first_byte(), id.covering_bytes(), id.shift()),
            (0, 2, 0)
        );
        // A 5-bit raw load at bit 3: the low 5 bits of byte 0.
        let raw = BitRange {
            base: B,
            offset: 3,
            len: 5,
        };
        assert_eq!((raw.covering_bytes(), raw.shift()), (1, 0));
        // 20-bit IPv6 flow label at bit 12: bytes 1..4, no shift.
        let fl = BitRange {
            base: B,
            offset: 12,
            len: 20,
        };
        assert_eq!(
            (fl.first_byte(), fl.covering_bytes(), fl.shift()),
            (1, 3, 0)
        );
        // DSCP: 6 bits at bit 8 of IPv4: byte 1, shifted by 2.
        let mut r = RuleBuilder::new();
        let dscp = r
            .load_field(BitRange {
                base: B,
                offset: 8,
                len: 6,
            })
            .unwrap();
        assert_eq!(dscp.place(8), Value(vec![0x20]));
        assert_eq!(dscp.mask(), Value(vec![0xfc]));
    }

    #[test]
    fn registers_run_out_cleanly() {
        let mut r = RuleBuilder::new();
        for _ in 0..4 {
            r.alloc(16).unwrap();
        }
        assert!(matches!(r.alloc(1), Err(CompileError::TooManyRegisters)));
        r.release_to(0);
        assert_eq!(r.alloc(4).unwrap(), Reg(0));
    }
}
