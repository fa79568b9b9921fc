//! A program: the parse section, the chains and their rules, and the tables
//! of runtime objects (sets, maps, counters, limiters, ports) the rules refer
//! to by index.
//!
//! A `Program` is plain data: it serialises to RON and back exactly, and it
//! runs only after [`crate::verifier::verify`] has accepted it.

use crate::insn::{BaseId, Insn, KeyId, PortId, Value, Verdict};
use serde::{Deserialize, Serialize};

/// A whole compiled ruleset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    /// Names of the header base slots, by [`BaseId`] (`ll`, `nh`, ...).
    pub bases: Vec<String>,
    /// Names of the parse keys, by [`KeyId`] (`protocol`, ...).
    pub keys: Vec<String>,
    /// Rules run once per packet before any chain; the only code that may
    /// write bases and keys. Their verdicts are ignored.
    pub parse: Vec<Rule>,
    /// All chains; base chains are the entry points.
    pub chains: Vec<Chain>,
    /// Sets, by [`crate::SetId`].
    pub sets: Vec<SetDecl>,
    /// Maps and verdict maps, by [`crate::MapId`].
    pub maps: Vec<MapDecl>,
    /// Counters, by [`crate::CounterId`].
    pub counters: Vec<CounterDecl>,
    /// Rate limiters, by [`crate::LimitId`].
    pub limits: Vec<LimitDecl>,
    /// Port names, by [`PortId`]: the ports the program sends to, runs on
    /// or matches (`meta iif`); an input port's id is the index of its name
    /// here ([`crate::InputPort::new`]).
    pub ports: Vec<String>,
}

/// A chain of rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chain {
    /// The chain's name, qualified by its table (`filter/input`).
    pub name: String,
    /// Present for base chains (entry points).
    pub base: Option<BaseChain>,
    /// The rules, in order.
    pub rules: Vec<Rule>,
}

/// What makes a chain an entry point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseChain {
    /// Base chains run in increasing priority, then in declaration order.
    pub priority: i32,
    /// When set, the chain sees only frames received on this port.
    pub device: Option<PortId>,
    /// What happens to a frame that falls off the end of the chain.
    pub policy: Policy,
}

/// The policy of a base chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Policy {
    /// On to the next base chain, then to the L2 switch.
    Accept,
    /// Drop the frame.
    Drop,
}

/// One rule: straight-line instructions with its identity and origin.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable handle; unchanged rules keep theirs across reloads.
    pub handle: u64,
    /// Hash of the rule's meaning (its instructions and the objects they
    /// use), so a reload can tell unchanged rules.
    pub fingerprint: u64,
    /// Where the rule came from, when it came from a ruleset file.
    pub source: Option<SourceRef>,
    /// The counter of the rule's `counter` statement, shown as the rule's
    /// statistics. Engines count it only through the rule's
    /// [`crate::Insn::Counter`] instruction, never implicitly.
    pub counter: Option<crate::insn::CounterId>,
    /// The instructions.
    pub insns: Vec<Insn>,
}

/// The origin of a rule in a ruleset file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    /// File name as given to the compiler.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// The rule's text, trimmed.
    pub text: String,
    /// The rule's `comment "..."`, if any.
    pub comment: Option<String>,
}

/// A set of keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetDecl {
    /// Name (`@name`, or `__set0` for an anonymous set).
    pub name: String,
    /// Width in bytes of each component of the key; each component starts
    /// at a new register.
    pub key: Vec<u8>,
    /// Whether elements are exact keys or ranges.
    pub kind: SetKind,
    /// Initial elements; the runtime may add and delete more.
    pub elements: Vec<SetElem>,
}

/// How a set matches keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SetKind {
    /// Exact keys (a hash lookup).
    Hash,
    /// Each component a range `low..=high` (prefixes are ranges).
    Interval,
}

/// One set element (or map key): each component a closed range; exact
/// elements have `low == high`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SetElem {
    /// Lower bounds, one value per key component.
    pub low: Vec<Value>,
    /// Upper bounds, one value per key component.
    pub high: Vec<Value>,
}

/// A map from keys to data or to verdicts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapDecl {
    /// Name (`@name`, or `__map0` for an anonymous map).
    pub name: String,
    /// Width in bytes of each key component.
    pub key: Vec<u8>,
    /// Whether keys are exact or ranges.
    pub kind: SetKind,
    /// What the map yields.
    pub data: MapData,
    /// Initial entries.
    pub elements: Vec<MapElem>,
}

/// The kind of value a map yields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MapData {
    /// A value of this many bytes, loaded into registers.
    Value(u8),
    /// A verdict (a verdict map).
    Verdict,
}

/// One map entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MapElem {
    /// The key.
    pub key: SetElem,
    /// What the key maps to.
    pub data: MapValue,
}

/// The value of a map entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MapValue {
    /// Data for a value map.
    Value(Value),
    /// A verdict for a verdict map.
    Verdict(Verdict),
}

/// A packet and byte counter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CounterDecl {
    /// What the counter counts, for listings (`rule 4`, ...).
    pub name: String,
}

/// A token-bucket rate limiter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitDecl {
    /// Tokens added per `per_ns` nanoseconds.
    pub rate: u64,
    /// The period of `rate`, in nanoseconds.
    pub per_ns: u64,
    /// Tokens the bucket holds beyond one period's worth (`burst N`).
    pub burst: u64,
    /// What a token stands for.
    pub unit: LimitUnit,
    /// `limit rate over`: the rule matches when the rate is exceeded.
    pub over: bool,
}

/// What a rate limiter counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LimitUnit {
    /// Packets.
    Packets,
    /// Bytes.
    Bytes,
}

impl Program {
    /// The base chains in the order a packet visits them: increasing
    /// priority, then declaration order.
    pub fn entry_order(&self) -> Vec<crate::insn::ChainId> {
        let mut entries: Vec<(i32, usize)> = self
            .chains
            .iter()
            .enumerate()
            .filter_map(|(i, c)| c.base.as_ref().map(|b| (b.priority, i)))
            .collect();
        entries.sort();
        entries
            .into_iter()
            .map(|(_, i)| crate::insn::ChainId(i as u16))
            .collect()
    }

    /// The name of a base slot, for listings.
    pub fn base_name(&self, base: BaseId) -> &str {
        self.bases.get(base.0 as usize).map_or("?", String::as_str)
    }

    /// The name of a key slot, for listings.
    pub fn key_name(&self, key: KeyId) -> &str {
        self.keys.get(key.0 as usize).map_or("?", String::as_str)
    }
}
