//! The checked model: a ruleset with every name resolved and every
//! constant converted, ready for the compiler.
//!
//! What the compiler can rely on:
//!
//! - **Loads** ([`Load`]) are resolved to a header field (header and field
//!   index into the [`Registry`]), a meta key, or a raw load (a layer or
//!   header base, a bit offset and a bit length).
//! - **Values** are plain numbers (`u128`) at the width of the key part
//!   they belong to ([`KeyPart::ty`]`.bits`): IPv4/IPv6/MAC/strings are
//!   already converted (strings NUL padded), symbols resolved, flag lists
//!   OR-ed, `$var` substituted, port names replaced by indices into
//!   [`CheckedRuleset::ports`]. [`be_bytes`] gives the big-endian bytes.
//! - **Prefixes** are normalised (`10.1.2.3/8` is value `10.0.0.0`, len 8),
//!   ranges have `low <= high`.
//! - **Implicit relations** are explicit: [`Relation::FlagsAny`] is the
//!   nftables "bare value on a flag type" (`tcp flags syn` is
//!   `flags & syn != 0`), [`Relation::Masked`] is `v / mask`, and a plain
//!   [`Relation::Cmp`] is an exact compare.
//! - Statements keep their order; the compiler adds implied protocol
//!   dependencies itself from the registry's parse graph (design.md 2.2).
//! - Chains, sets and maps are referenced by index within their table;
//!   jump/goto graphs are acyclic.

use crate::registry::{FieldId, HeaderId, Layer, MetaRef, Registry, ValueType};
use crate::span::{SourceMap, Span};
use serde::Serialize;

/// A checked ruleset.
#[derive(Clone, Debug)]
pub struct CheckedRuleset {
    /// The protocols: the prelude's plus the user's declarations.
    pub registry: Registry,
    /// The files the ruleset was read from (the prelude's first).
    pub sources: SourceMap,
    /// Tables in the order they were first declared.
    pub tables: Vec<Table>,
    /// Every port named by the ruleset (`device`, `fwd to`, `dup to`,
    /// `meta iif`, and `meta iifname` matched against exact names, which the
    /// checker turns into `meta iif` matches), in order of first mention.
    /// [`PortId`] indexes it.
    pub ports: Vec<String>,
}

impl CheckedRuleset {
    /// Numbers of tables, chains, rules and named sets/maps.
    pub fn summary(&self) -> Summary {
        Summary {
            tables: self.tables.len(),
            chains: self.tables.iter().map(|t| t.chains.len()).sum(),
            rules: self
                .tables
                .iter()
                .flat_map(|t| &t.chains)
                .map(|c| c.rules.len())
                .sum(),
            sets: self.tables.iter().map(|t| t.sets.len()).sum(),
        }
    }

    /// The file name, 1-based line and the line's text where a span starts.
    pub fn source_line(&self, span: Span) -> (&str, u32, &str) {
        let f = self.sources.get(span.file);
        let (line, _) = f.line_col(span.start);
        (&f.name, line, f.line_text(line))
    }
}

/// Counts for `switchctl check -v`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Tables.
    pub tables: usize,
    /// Chains.
    pub chains: usize,
    /// Rules.
    pub rules: usize,
    /// Named sets and maps.
    pub sets: usize,
}

/// Index of a chain in [`Table::chains`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ChainId(pub u32);

/// Index of a named set or map in [`Table::sets`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct SetId(pub u32);

/// Index of a port name in [`CheckedRuleset::ports`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct PortId(pub u16);

/// A table family.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Family {
    /// `netdev`.
    Netdev,
    /// `bridge`.
    Bridge,
    /// `inet`.
    Inet,
}

/// A table.
#[derive(Clone, Debug)]
pub struct Table {
    /// Its family.
    pub family: Family,
    /// Its name.
    pub name: String,
    /// Chains, in order of first declaration.
    pub chains: Vec<Chain>,
    /// Named sets and maps.
    pub sets: Vec<NamedSet>,
    /// Its first declaration.
    pub span: Span,
}

/// A chain.
#[derive(Clone, Debug)]
pub struct Chain {
    /// Its name.
    pub name: String,
    /// For a base chain (an entry point): hook parameters.
    pub base: Option<BaseChain>,
    /// Rules in order.
    pub rules: Vec<Rule>,
    /// Its (first) declaration.
    pub span: Span,
}

/// The hook of a base chain (`type filter hook ingress ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseChain {
    /// `device "X"`; `None`: every port.
    pub device: Option<PortId>,
    /// Priority (named priorities resolved; lower runs first).
    pub priority: i32,
    /// What happens when the chain falls off its end.
    pub policy: Policy,
}

/// A base chain's policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Policy {
    /// Accept (the default).
    Accept,
    /// Drop.
    Drop,
}

/// A rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Matches and statements, in source order.
    pub stmts: Vec<Stmt>,
    /// `comment "..."`.
    pub comment: Option<String>,
    /// The rule's source.
    pub span: Span,
}

/// A statement with its source span.
#[derive(Clone, Debug)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// Where it was written.
    pub span: Span,
}

/// Matches, actions and verdicts.
#[derive(Clone, Debug)]
pub enum StmtKind {
    /// A match: the rule goes on only if it holds.
    Match(Match),
    /// `KEY vmap ...`: look up a verdict; a miss goes on with the next
    /// statement.
    VMap {
        /// The lookup key.
        key: Vec<KeyPart>,
        /// A map whose data are verdicts.
        map: SetRef,
    },
    /// `counter`, with initial values.
    Counter {
        /// Initial packets.
        packets: u64,
        /// Initial bytes.
        bytes: u64,
    },
    /// `limit rate ...`.
    Limit(Limit),
    /// `log ...`.
    Log {
        /// `prefix "..."`.
        prefix: Option<String>,
        /// `level L` (`emerg` .. `debug`, `audit`).
        level: Option<String>,
    },
    /// A payload or meta write (`ip ttl set 64`, `meta mark set ...`).
    /// Field writes keep checksums right: see [`crate::registry::Header::checksum`].
    Write {
        /// What is written (a field, a settable meta key or a raw range).
        target: Load,
        /// Its type.
        ty: ValueType,
        /// The new value.
        value: WriteValue,
    },
    /// `dup to PORT`: send a copy, go on.
    Dup(PortId),
    /// `vlan push ID`: add an 802.1Q tag before output.
    VlanPush(u16),
    /// `vlan pop`: remove the outer tag before output.
    VlanPop,
    /// A verdict (always the last statement).
    Verdict(Verdict),
}

/// The value of a [`StmtKind::Write`].
#[derive(Clone, Debug)]
pub enum WriteValue {
    /// A constant at the target's width.
    Const(u128),
    /// `KEY map { ... }` / `KEY map @M`: no write when the lookup misses.
    Map {
        /// The lookup key.
        key: Vec<KeyPart>,
        /// A map whose data have the target's type.
        map: SetRef,
    },
}

/// `limit rate [over] N/UNIT [burst M]`, normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Limit {
    /// Packets, or bytes when `bytes` is set, per `per_seconds`.
    pub rate: u64,
    /// The time unit in seconds (1, 60, 3600, 86400, 604800).
    pub per_seconds: u64,
    /// The rate and burst count bytes.
    pub bytes: bool,
    /// Burst (packets or bytes; nft's defaults: 5 packets, 0 bytes).
    pub burst: u64,
    /// `over`: the statement holds while the rate is exceeded.
    pub over: bool,
}

/// A verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Verdict {
    /// `accept`.
    Accept,
    /// `drop`.
    Drop,
    /// `continue`.
    Continue,
    /// `return`.
    Return,
    /// `jump C`.
    Jump(ChainId),
    /// `goto C`.
    Goto(ChainId),
    /// `fwd to PORT`.
    Fwd(PortId),
    /// `flood`.
    Flood,
}

/// Something read from the packet or its metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Load {
    /// A header field.
    Field {
        /// The header.
        header: HeaderId,
        /// Its field.
        field: FieldId,
    },
    /// A meta key (runtime or layer key).
    Meta(MetaRef),
    /// `@BASE,OFFSET,LEN`.
    Raw {
        /// Where offsets count from.
        base: RawBase,
        /// Offset in bits from the base.
        offset: u32,
        /// Length in bits.
        bits: u32,
    },
}

/// The base of a raw load.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum RawBase {
    /// `@ll`, `@nh`, `@th`: a layer's base, with no dependency.
    Layer(Layer),
    /// `@HEADER`: a header's base, with the header's dependency.
    Header(HeaderId),
}

/// One component of a key (a concatenation has several).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct KeyPart {
    /// What is loaded.
    pub load: Load,
    /// Its type; values compared with it have `ty.bits` bits.
    pub ty: ValueType,
    /// `(x & mask) ^ xor`, applied after the load (`&`, `|`, `^`).
    pub bitwise: Option<Bitwise>,
    /// Where it was written.
    pub span: Span,
}

/// A bitwise operation on a loaded value: `(x & mask) ^ xor`.
/// `x & a` is `mask = a, xor = 0`; `x | a` is `mask = !a, xor = a`;
/// `x ^ a` is `mask = all ones, xor = a`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Bitwise {
    /// The mask.
    pub mask: u128,
    /// The xor value.
    pub xor: u128,
}

/// A match: a key and how it must relate to constants.
#[derive(Clone, Debug)]
pub struct Match {
    /// The key (one part, or a concatenation).
    pub key: Vec<KeyPart>,
    /// The relation.
    pub rel: Relation,
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CmpOp {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

/// How a key relates to constants. Values have the key part's width.
#[derive(Clone, Debug)]
pub enum Relation {
    /// `key OP value`, one value per key part. Ordering operators only
    /// occur with single-part keys.
    Cmp {
        /// The operator (the implicit relation on a non-flag type is `Eq`).
        op: CmpOp,
        /// The values.
        values: Vec<u128>,
    },
    /// `key [!=] value/len`: the top `len` bits equal `value`'s (`value`
    /// has its other bits zero).
    Prefix {
        /// `!=`.
        negate: bool,
        /// The prefix.
        value: u128,
        /// Its length in bits.
        len: u32,
    },
    /// `key [!=] low-high`, inclusive.
    Range {
        /// `!=`.
        negate: bool,
        /// The lowest value.
        low: u128,
        /// The highest value.
        high: u128,
    },
    /// A bare value on a flag type: `(key & mask) != 0`; negated
    /// (`! flags`): `(key & mask) == 0`.
    FlagsAny {
        /// `! v`.
        negate: bool,
        /// The OR of the flags given.
        mask: u128,
    },
    /// `value / mask` on a flag type: `(key & mask) == value`; negated
    /// with `!=`.
    Masked {
        /// `!=`.
        negate: bool,
        /// The expected bits.
        value: u128,
        /// The bits looked at.
        mask: u128,
    },
    /// `key [!=] { ... }` or `key [!=] @S`: membership.
    InSet {
        /// `!=`.
        negate: bool,
        /// The set.
        set: SetRef,
    },
}

/// A set or map used by a rule.
#[derive(Clone, Debug)]
pub enum SetRef {
    /// A named set or map of the rule's table.
    Named(SetId),
    /// An anonymous one, written in the rule.
    Anonymous(SetBody),
}

/// A named set or map.
#[derive(Clone, Debug)]
pub struct NamedSet {
    /// Its name.
    pub name: String,
    /// Its type and elements.
    pub body: SetBody,
    /// Where it was declared.
    pub span: Span,
}

/// The type and elements of a set or map.
#[derive(Clone, Debug)]
pub struct SetBody {
    /// The key type, one per concatenated part.
    pub key: Vec<ValueType>,
    /// For maps: the data type.
    pub data: Option<MapData>,
    /// Elements may be prefixes or ranges (`flags interval`, or an
    /// anonymous set that has some).
    pub interval: bool,
    /// The elements.
    pub elements: Vec<Element>,
}

/// The data type of a map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MapData {
    /// Verdicts (`vmap`).
    Verdict,
    /// Values of this type.
    Value(ValueType),
}

/// One element of a set or map.
#[derive(Clone, Debug)]
pub struct Element {
    /// One atom per key part.
    pub key: Vec<Atom>,
    /// For maps: the data.
    pub data: Option<MapValue>,
    /// Where it was written.
    pub span: Span,
}

/// One key part of a set element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Atom {
    /// Exactly this value.
    Value(u128),
    /// A prefix, normalised.
    Prefix {
        /// The prefix (other bits zero).
        value: u128,
        /// Its length in bits.
        len: u32,
    },
    /// An inclusive range.
    Range {
        /// The lowest value.
        low: u128,
        /// The highest value.
        high: u128,
    },
}

/// The data of a map element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MapValue {
    /// A verdict.
    Verdict(Verdict),
    /// A value of the map's data type.
    Value(u128),
}

/// The big-endian bytes of a value of `bits` bits (`ceil(bits / 8)` bytes;
/// the value sits in the low bits).
pub fn be_bytes(value: u128, bits: u32) -> Vec<u8> {
    let n = bits.div_ceil(8) as usize;
    value.to_be_bytes()[16 - n..].to_vec()
}

/// The mask of a `len`-bit prefix of a `bits`-bit value.
pub fn prefix_mask(len: u32, bits: u32) -> u128 {
    let all = crate::literal::max_value(bits);
    if len == 0 {
        0
    } else {
        all & !(crate::literal::max_value(bits - len.min(bits)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_masks() {
        assert_eq!(be_bytes(0x0a000001, 32), vec![10, 0, 0, 1]);
        assert_eq!(be_bytes(0xabc, 12), vec![0x0a, 0xbc]);
        assert_eq!(prefix_mask(8, 32), 0xff00_0000);
        assert_eq!(prefix_mask(0, 32), 0);
        assert_eq!(prefix_mask(32, 32), 0xffff_ffff);
        assert_eq!(prefix_mask(128, 128), u128::MAX);
    }
}
