//! The instruction set: registers, operands, instructions and verdicts.
//!
//! The machine follows the kernel's nf_tables VM: a rule is a straight
//! sequence of instructions over 32-bit data registers and a verdict; any
//! instruction that cannot complete (a compare that fails, a lookup that
//! misses, a load past the end of the frame or from an absent header base)
//! *breaks* the rule, and evaluation continues with the next rule.
//!
//! Registers hold numbers. A value of `n` bytes occupies `ceil(n / 4)`
//! consecutive registers; chunk `i` holds bytes `4i .. min(4i + 4, n)` of the
//! value read as a big-endian number. Ordering compares therefore compare
//! chunk by chunk in the byte order of the value, which is the order of
//! `memcmp` on the bytes.
//!
//! Nothing here names a protocol. Header bases and keys (`b0`.., `k0`..) are
//! computed by the program's parse section, which the compiler emits from
//! the ruleset prelude.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Number of 32-bit data registers.
pub const NUM_REGS: usize = 16;
/// Number of header base slots a program may declare.
pub const NUM_BASES: usize = 16;
/// Number of parse keys a program may declare.
pub const NUM_KEYS: usize = 8;
/// Longest value a single load, compare or store handles, in bytes.
pub const MAX_VALUE_BYTES: usize = 16;
/// Deepest chain nesting through `jump`/`goto`, counting the base chain.
pub const MAX_CALL_DEPTH: usize = 16;

/// A data register, `r0`..`r15`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reg(pub u8);

/// A header base slot, `b0`..`b15`: a byte offset into the frame, or absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BaseId(pub u8);

/// A parse key slot, `k0`..`k7`: a 32-bit value computed by the parse
/// section (such as the network layer's protocol), or absent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyId(pub u8);

/// Index of a chain in [`crate::Program::chains`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(transparent)]
pub struct ChainId(pub u16);

/// Index of a set in [`crate::Program::sets`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SetId(pub u16);

/// Index of a map in [`crate::Program::maps`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MapId(pub u16);

/// Index of a counter in [`crate::Program::counters`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CounterId(pub u32);

/// Index of a rate limiter in [`crate::Program::limits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LimitId(pub u16);

/// Index of a port name in [`crate::Program::ports`]. The runtime maps
/// these names to its own ports when it instantiates the program.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(transparent)]
pub struct PortId(pub u16);

/// The register chunks of a value (at most 4) as one number, one 32-bit
/// lane a chunk, the first highest: its unsigned order is the VM's order of
/// values, chunk by chunk, each chunk the whole register (the interpreter's
/// compares, the JIT's packed compares and the tables' intervals).
pub fn pack_chunks(chunks: &[u32]) -> u128 {
    chunks
        .iter()
        .fold(0u128, |acc, c| acc << 32 | u128::from(*c))
}

/// A constant of 1 to 16 bytes, stored in the byte order of the frame.
///
/// In registers it occupies `ceil(len / 4)` chunks (see the module docs).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Value(pub Vec<u8>);

impl Value {
    /// A value of `len` bytes holding `n` as a big-endian number, truncated
    /// to its low `len` bytes.
    pub fn from_u128(n: u128, len: usize) -> Value {
        Value(n.to_be_bytes()[16 - len..].to_vec())
    }

    /// The value's register chunks as one number ([`pack_chunks`]).
    pub fn packed(&self) -> u128 {
        pack_chunks(&self.to_chunks())
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for a zero-length value (never valid in a verified program).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of registers the value occupies.
    pub fn chunks(&self) -> usize {
        chunks_for(self.0.len())
    }

    /// The register chunks of the value (see the module docs).
    pub fn to_chunks(&self) -> Vec<u32> {
        self.0
            .chunks(4)
            .map(|c| c.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
            .collect()
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

impl fmt::Display for Value {
    /// Values up to 4 bytes print as one hex number; longer ones as their
    /// chunks joined by `:` so a reader can match them to registers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chunks = self.to_chunks();
        for (i, c) in chunks.iter().enumerate() {
            let width = self.0[i * 4..].len().min(4) * 2;
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "0x{c:0width$x}")?;
        }
        Ok(())
    }
}

/// Number of 32-bit registers a value of `len` bytes occupies.
pub fn chunks_for(len: usize) -> usize {
    len.div_ceil(4)
}

/// Relation of a compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CmpOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less than, in the byte order of the value.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
}

/// Operation of a 32-bit arithmetic instruction ([`Insn::Alu`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AluOp {
    /// Wrapping addition.
    Add,
    /// Wrapping subtraction.
    Sub,
    /// Wrapping multiplication.
    Mul,
    /// Bitwise and.
    And,
    /// Bitwise or.
    Or,
    /// Bitwise exclusive or.
    Xor,
    /// Shift left; amounts of 32 or more give 0.
    Shl,
    /// Logical shift right; amounts of 32 or more give 0.
    Shr,
}

/// Direction of a multi-register shift ([`Insn::Shift`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ShiftDir {
    /// Toward the most significant byte.
    Left,
    /// Toward the least significant byte.
    Right,
}

/// The second operand of an [`Insn::Alu`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Operand {
    /// A register.
    Reg(Reg),
    /// A constant.
    Imm(u32),
}

/// Metadata the runtime provides with every packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Meta {
    /// Frame length in bytes (4 bytes).
    Len,
    /// Input port as an index into [`crate::Program::ports`], or
    /// `u32::MAX` when the port is not named by the program (4 bytes).
    Iif,
    /// Input port name, NUL padded (16 bytes).
    IifName,
    /// Input port link-layer address (6 bytes).
    IifAddr,
    /// Packet mark (4 bytes); starts at 0.
    Mark,
}

impl Meta {
    /// Width of the metadata value in bytes.
    #[allow(clippy::len_without_is_empty, reason = "a width, never empty")]
    pub fn len(self) -> usize {
        match self {
            Meta::Len | Meta::Iif | Meta::Mark => 4,
            Meta::IifName => 16,
            Meta::IifAddr => 6,
        }
    }
}

/// A checksum to keep right when a store changes bytes it covers,
/// updated incrementally (RFC 1624).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChecksumFix {
    /// Base of the header holding the checksum field; if it is absent the
    /// fix is skipped.
    pub base: BaseId,
    /// Offset of the 16-bit checksum field from `base`.
    pub offset: u16,
    /// A checksum field of zero means "no checksum" and is left alone.
    pub zero_means_none: bool,
    /// The fix applies only when this key is present and has this value
    /// (the checksum of whichever transport header the packet carries).
    pub when: Option<(KeyId, u32)>,
}

/// How evaluation continues after a rule's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Verdict {
    /// Go on with the next rule.
    Continue,
    /// Leave the current chain: back to the rule after the jump, or to the
    /// policy in a base chain.
    Return,
    /// Enter a chain; come back to the next rule when it returns.
    Jump(ChainId),
    /// Enter a chain in place of the current one.
    Goto(ChainId),
    /// Accept: on to the next base chain, then to the L2 switch.
    Accept,
    /// Drop the frame; final.
    Drop,
    /// Send the frame out of one port; final.
    Fwd(PortId),
    /// Send the frame out of every port but the input one; final.
    Flood,
}

/// One instruction. Field names say which registers are read (`src`) and
/// written (`dst`); widths are in bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Insn {
    /// `dst.. := frame[base + offset .. + len]`. Breaks when `base` is
    /// absent or the bytes are not all inside the frame.
    Load {
        dst: Reg,
        base: BaseId,
        offset: u16,
        len: u8,
    },
    /// `dst := base` as a byte offset. Breaks when `base` is absent.
    LoadBase { dst: Reg, base: BaseId },
    /// `dst := key`. Breaks when `key` is absent.
    LoadKey { dst: Reg, key: KeyId },
    /// `dst.. := metadata`.
    LoadMeta { dst: Reg, meta: Meta },
    /// `dst.. := value`.
    Imm { dst: Reg, value: Value },
    /// `dst.. := (src.. & mask) ^ xor`, chunk by chunk; `mask` and `xor`
    /// have the same length, which is the width of the operation.
    Bitwise {
        dst: Reg,
        src: Reg,
        mask: Value,
        xor: Value,
    },
    /// `dst.. := src.. << bits` or `>> bits`, the `len`-byte value taken as
    /// one big-endian number.
    Shift {
        dst: Reg,
        src: Reg,
        len: u8,
        dir: ShiftDir,
        bits: u8,
    },
    /// `dst := a op b` on single 32-bit registers.
    Alu {
        dst: Reg,
        a: Reg,
        op: AluOp,
        b: Operand,
    },
    /// Break unless `src.. op value` holds.
    Cmp { src: Reg, op: CmpOp, value: Value },
    /// Break unless `a op b` holds, on single 32-bit registers.
    CmpReg { a: Reg, op: CmpOp, b: Reg },
    /// Break unless `low <= src.. <= high` (or, with `negate`, unless it
    /// lies outside).
    Range {
        src: Reg,
        low: Value,
        high: Value,
        negate: bool,
    },
    /// Break unless `src..` lies in one of the closed ranges of `list` (an
    /// exact value is a range with `low == high`), or, with `negate`, unless
    /// it lies in none: a small anonymous set written inline, which an
    /// engine tests with compares.
    InList {
        src: Reg,
        list: Vec<(Value, Value)>,
        negate: bool,
    },
    /// Break unless the key at `src..` is in the set (or, with `negate`,
    /// unless it is not).
    Lookup { src: Reg, set: SetId, negate: bool },
    /// `dst.. := map[src..]`; breaks on a miss.
    MapLookup { src: Reg, map: MapId, dst: Reg },
    /// Verdict `map[src..]`; breaks on a miss (the next rule runs).
    VmapLookup { src: Reg, map: MapId },
    /// Count the packet and its bytes.
    Counter { counter: CounterId },
    /// Break when the packet is over the limiter's rate.
    Limit { limit: LimitId },
    /// `mark := src`.
    SetMark { src: Reg },
    /// `frame[base + offset .. + len] := src..`, then fix `checksums`.
    /// Breaks like a load when the bytes are not all inside the frame.
    Store {
        base: BaseId,
        offset: u16,
        len: u8,
        src: Reg,
        checksums: Vec<ChecksumFix>,
    },
    /// Record a log line for the packet.
    Log { prefix: String },
    /// Send a copy of the frame out of `port` (applied after the verdict,
    /// with the edits made so far).
    Mirror { port: PortId },
    /// Insert `bytes` at `base + offset` when the frame is sent (VLAN push).
    /// Breaks when `base` is absent or `base + offset` is past the end of
    /// the frame.
    Insert {
        base: BaseId,
        offset: u16,
        bytes: Value,
    },
    /// Remove `len` bytes at `base + offset` when the frame is sent (VLAN pop).
    /// Breaks like a load when the bytes are not all inside the frame.
    Remove { base: BaseId, offset: u16, len: u8 },
    /// End the rule with a verdict.
    Verdict(Verdict),
    /// Parse section only: `dst := from + offset (+ add)`, absent when
    /// `from` is absent. `from = None` is the start of the frame.
    SetBase {
        dst: BaseId,
        from: Option<BaseId>,
        offset: u16,
        add: Option<Reg>,
    },
    /// Parse section only: `dst := absent`.
    ClearBase { dst: BaseId },
    /// Parse section only: `dst := src`.
    SetKey { dst: KeyId, src: Reg },
    /// Parse section only: `dst := absent`.
    ClearKey { dst: KeyId },
    /// Parse section only: end this rule and skip the next `rules` rules
    /// of the parse section (a forward jump, so the section stays
    /// loop-free).
    Skip { rules: u16 },
}

impl Insn {
    /// True for instructions whose only effects are the registers they
    /// write and whether the rule goes on (loads, arithmetic, compares,
    /// lookups); the others change the packet, the runtime objects, the
    /// parse state or the outcome.
    pub fn is_pure(&self) -> bool {
        matches!(
            self,
            Insn::Load { .. }
                | Insn::LoadBase { .. }
                | Insn::LoadKey { .. }
                | Insn::LoadMeta { .. }
                | Insn::Imm { .. }
                | Insn::Bitwise { .. }
                | Insn::Shift { .. }
                | Insn::Alu { .. }
                | Insn::Cmp { .. }
                | Insn::CmpReg { .. }
                | Insn::Range { .. }
                | Insn::InList { .. }
                | Insn::Lookup { .. }
                | Insn::MapLookup { .. }
        )
    }

    /// The instruction's mnemonic, as listings print it.
    pub fn mnemonic(&self) -> &'static str {
        match self {
            Insn::Load { .. } => "load",
            Insn::LoadBase { .. } => "loadbase",
            Insn::LoadKey { .. } => "loadkey",
            Insn::LoadMeta { .. } => "meta",
            Insn::Imm { .. } => "imm",
            Insn::Bitwise { .. } => "bitwise",
            Insn::Shift { .. } => "shift",
            Insn::Alu { .. } => "alu",
            Insn::Cmp { .. } => "cmp",
            Insn::CmpReg { .. } => "cmpreg",
            Insn::Range { .. } => "range",
            Insn::InList { .. } => "in",
            Insn::Lookup { .. } => "lookup",
            Insn::MapLookup { .. } => "map",
            Insn::VmapLookup { .. } => "vmap",
            Insn::Counter { .. } => "counter",
            Insn::Limit { .. } => "limit",
            Insn::SetMark { .. } => "setmark",
            Insn::Store { .. } => "store",
            Insn::Log { .. } => "log",
            Insn::Mirror { .. } => "mirror",
            Insn::Insert { .. } => "insert",
            Insn::Remove { .. } => "remove",
            Insn::Verdict(_) => "verdict",
            Insn::SetBase { .. } => "setbase",
            Insn::ClearBase { .. } => "clearbase",
            Insn::SetKey { .. } => "setkey",
            Insn::ClearKey { .. } => "clearkey",
            Insn::Skip { .. } => "skip",
        }
    }
}
