//! The verifier: only programs it accepts run, in the interpreter or the JIT.
//!
//! It proves, once per program, what the engines then take for granted:
//!
//! - every register an instruction names exists, and a value of several
//!   registers ends at `r15` at the latest, so no engine indexes past the
//!   register file;
//! - every register is written before it is read *in the same rule*:
//!   registers do not carry across rules (an engine may reuse them freely),
//!   so each rule starts with all of them undefined; this is tracked per
//!   32-bit chunk;
//! - every base, key, set, map, counter, limiter, port and chain an
//!   instruction names is declared, so lookups of runtime objects cannot
//!   miss;
//! - values are 1 to 16 bytes and the widths that must agree do (a mask and
//!   its xor, a range's bounds, a set's elements and its key, a map's data),
//!   so no engine reads past a constant;
//! - payload offsets plus lengths fit 16-bit arithmetic, so bounds checks
//!   at run time cannot overflow (those checks stay: frames vary);
//! - only the parse section writes bases and keys, and it has no side
//!   effects or verdicts (it runs before any chain, for every packet);
//! - no chain jumps to a base chain (entry points are entered only by the
//!   runtime) or to itself, the chain graph, verdict maps included, is
//!   acyclic, and no path through it is deeper than [`MAX_CALL_DEPTH`](crate::insn::MAX_CALL_DEPTH).
//!
//! A rule is straight-line code: instructions run in order and nothing
//! jumps backwards inside a rule. "The program cannot loop" therefore
//! reduces to "the chain graph is a DAG" (see [`crate::callgraph`]).
//!
//! Bounds of packet loads and stores and the presence of bases and keys
//! depend on the packet; engines check them at run time and break the rule.

use crate::callgraph::{CallGraph, GraphError};
use crate::insn::{
    BaseId, ChainId, CounterId, Insn, KeyId, LimitId, MAX_VALUE_BYTES, MapId, NUM_BASES, NUM_KEYS,
    NUM_REGS, PortId, SetId, Value, Verdict,
};
use crate::operands::{RegSpan, key_registers};
use crate::program::{MapData, MapElem, MapValue, Program, Rule, SetElem};
use crate::runtime::tables::{ElemError, KeyLayout, check_map_data};
use std::fmt;
use thiserror::Error;

/// Where in a program the verifier found a problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Loc {
    /// An instruction of a rule; `chain` is `None` in the parse section.
    Insn {
        /// The chain and its name, or `None` for the parse section.
        chain: Option<(ChainId, String)>,
        /// Index of the rule in its chain.
        rule: usize,
        /// Index of the instruction in its rule.
        insn: usize,
    },
    /// A rule as a whole (its statistics counter).
    Rule {
        /// The chain and its name, or `None` for the parse section.
        chain: Option<(ChainId, String)>,
        /// Index of the rule in its chain.
        rule: usize,
    },
    /// A chain's declaration.
    Chain(ChainId, String),
    /// A set's declaration, or one of its elements.
    Set(SetId, String, Option<usize>),
    /// A map's declaration, or one of its elements.
    Map(MapId, String, Option<usize>),
    /// The program's tables of bases, keys or chains.
    Program,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chain = |f: &mut fmt::Formatter<'_>, c: &Option<(ChainId, String)>| match c {
            None => f.write_str("parse section"),
            Some((id, name)) => write!(f, "chain {name} (c{})", id.0),
        };
        let elem = |f: &mut fmt::Formatter<'_>, e: &Option<usize>| match e {
            None => Ok(()),
            Some(i) => write!(f, ", element {i}"),
        };
        match self {
            Loc::Insn {
                chain: c,
                rule,
                insn,
            } => {
                chain(f, c)?;
                write!(f, ", rule {rule}, instruction {insn}")
            }
            Loc::Rule { chain: c, rule } => {
                chain(f, c)?;
                write!(f, ", rule {rule}")
            }
            Loc::Chain(id, name) => write!(f, "chain {name} (c{})", id.0),
            Loc::Set(id, name, e) => {
                write!(f, "set {name} (@s{})", id.0)?;
                elem(f, e)
            }
            Loc::Map(id, name, e) => {
                write!(f, "map {name} (@m{})", id.0)?;
                elem(f, e)
            }
            Loc::Program => f.write_str("program"),
        }
    }
}

/// Why the verifier refused a program.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// A register index above `r15`.
    #[error("{at}: register r{reg} does not exist (r0..r15)")]
    RegOutOfRange {
        /// Where.
        at: Loc,
        /// The register index.
        reg: u8,
    },
    /// A value of several registers that runs past `r15`.
    #[error("{at}: a value of {regs} registers starting at r{reg} runs past r15")]
    RegsPastEnd {
        /// Where.
        at: Loc,
        /// The first register.
        reg: u8,
        /// Registers the value needs.
        regs: usize,
    },
    /// A register read before the rule wrote it.
    #[error("{at}: r{reg} is read before this rule writes it")]
    UndefinedReg {
        /// Where.
        at: Loc,
        /// The register read.
        reg: u8,
    },
    /// A header base that the program does not declare.
    #[error("{at}: base b{base} is not declared")]
    UndefinedBase {
        /// Where.
        at: Loc,
        /// The base.
        base: u8,
    },
    /// A parse key that the program does not declare.
    #[error("{at}: key k{key} is not declared")]
    UndefinedKey {
        /// Where.
        at: Loc,
        /// The key.
        key: u8,
    },
    /// A set that the program does not declare.
    #[error("{at}: set @s{set} is not declared")]
    UndefinedSet {
        /// Where.
        at: Loc,
        /// The set.
        set: u16,
    },
    /// A map that the program does not declare.
    #[error("{at}: map @m{map} is not declared")]
    UndefinedMap {
        /// Where.
        at: Loc,
        /// The map.
        map: u16,
    },
    /// A counter that the program does not declare.
    #[error("{at}: counter ctr{counter} is not declared")]
    UndefinedCounter {
        /// Where.
        at: Loc,
        /// The counter.
        counter: u32,
    },
    /// A rate limiter that the program does not declare.
    #[error("{at}: limiter lim{limit} is not declared")]
    UndefinedLimit {
        /// Where.
        at: Loc,
        /// The limiter.
        limit: u16,
    },
    /// A port that the program does not declare.
    #[error("{at}: port p{port} is not declared")]
    UndefinedPort {
        /// Where.
        at: Loc,
        /// The port.
        port: u16,
    },
    /// A chain that the program does not have.
    #[error("{at}: chain c{chain} does not exist")]
    UndefinedChain {
        /// Where.
        at: Loc,
        /// The chain.
        chain: u16,
    },
    /// A value, load, store or shift width of 0 or more than 16 bytes.
    #[error("{at}: a width of {len} bytes (1..=16 allowed)")]
    ValueLength {
        /// Where.
        at: Loc,
        /// The width.
        len: usize,
    },
    /// A bitwise operation whose mask and xor differ in width.
    #[error("{at}: mask of {mask} bytes and xor of {xor} bytes")]
    MaskXorLength {
        /// Where.
        at: Loc,
        /// Width of the mask.
        mask: usize,
        /// Width of the xor.
        xor: usize,
    },
    /// A range whose bounds differ in width.
    #[error("{at}: range bounds of {low} and {high} bytes")]
    RangeLength {
        /// Where.
        at: Loc,
        /// Width of the low bound.
        low: usize,
        /// Width of the high bound.
        high: usize,
    },
    /// A set or map key without components, with a component of 0 or more
    /// than 16 bytes, or needing more than 16 registers.
    #[error("{at}: key components {widths:?} (each 1..=16 bytes, 16 registers in all)")]
    KeyLayout {
        /// Where.
        at: Loc,
        /// The component widths.
        widths: Vec<u8>,
    },
    /// A value map's data width of 0 or more than 16 bytes.
    #[error("{at}: map data of {len} bytes (1..=16 allowed)")]
    MapDataWidth {
        /// Where.
        at: Loc,
        /// The width.
        len: usize,
    },
    /// A data lookup on a verdict map, or a verdict lookup on a data map.
    #[error("{at}: map @m{map} does not hold what the instruction looks up")]
    MapKind {
        /// Where.
        at: Loc,
        /// The map.
        map: u16,
    },
    /// A set element that does not fit the set's key.
    #[error("{at}: {source}")]
    SetElement {
        /// Where.
        at: Loc,
        /// What is wrong.
        source: ElemError,
    },
    /// A map entry that does not fit the map's key or data.
    #[error("{at}: {source}")]
    MapElement {
        /// Where.
        at: Loc,
        /// What is wrong.
        source: ElemError,
    },
    /// A payload offset plus length past 16-bit arithmetic.
    #[error("{at}: offset {offset} + {len} bytes overflows 16 bits")]
    OffsetOverflow {
        /// Where.
        at: Loc,
        /// The offset.
        offset: u16,
        /// The length.
        len: usize,
    },
    /// A shift by the width of its value or more.
    #[error("{at}: shift of {bits} bits on a {len}-byte value")]
    ShiftAmount {
        /// Where.
        at: Loc,
        /// The shift amount.
        bits: u8,
        /// Width of the value.
        len: u8,
    },
    /// An inline list with no element.
    #[error("{at}: an inline list must have at least one element")]
    EmptyList {
        /// Where.
        at: Loc,
    },
    /// A parse-section skip past the last parse rule.
    #[error("{at}: skipping {rules} rules goes past the end of the parse section")]
    SkipPastEnd {
        /// Where.
        at: Loc,
        /// The rules skipped.
        rules: u16,
    },
    /// An instruction that writes bases or keys outside the parse section.
    #[error("{at}: {what} is allowed only in the parse section")]
    ParseOnly {
        /// Where.
        at: Loc,
        /// The instruction's name.
        what: &'static str,
    },
    /// A verdict, side effect or rule counter in the parse section.
    #[error("{at}: {what} is not allowed in the parse section")]
    NotInParse {
        /// Where.
        at: Loc,
        /// The instruction's name.
        what: &'static str,
    },
    /// A jump or goto to a base chain.
    #[error("{at}: jump or goto to base chain c{chain}")]
    JumpToBase {
        /// Where.
        at: Loc,
        /// The target.
        chain: u16,
    },
    /// A jump or goto from a chain to itself.
    #[error("{at}: jump or goto to its own chain")]
    JumpToSelf {
        /// Where.
        at: Loc,
    },
    /// Chains that enter each other in a cycle.
    #[error("chains jump in a cycle: {}", .chains.join(" -> "))]
    Cycle {
        /// The chains of the cycle, the first repeated at the end.
        chains: Vec<String>,
    },
    /// A path of chains deeper than [`MAX_CALL_DEPTH`](crate::insn::MAX_CALL_DEPTH).
    #[error("chains nest deeper than {max}: {}", .chains.join(" -> "), max = crate::insn::MAX_CALL_DEPTH)]
    CallDepth {
        /// The chains of the path, from a base chain.
        chains: Vec<String>,
    },
    /// More bases, keys or chains than the machine has slots or ids for.
    #[error("{count} {what} declared, at most {max} allowed")]
    TooMany {
        /// `bases`, `keys` or `chains`.
        what: &'static str,
        /// How many the program declares.
        count: usize,
        /// The limit.
        max: usize,
    },
}

/// A program the verifier accepted: the only input the engines take.
///
/// It can be built only by [`verify`], and it gives out its program only
/// by shared reference, so what runs is what was verified.
#[derive(Debug)]
pub struct Verified {
    program: Program,
    entry: Vec<ChainId>,
    graph: CallGraph,
    map_users: Vec<Vec<ChainId>>,
}

impl Verified {
    /// The verified program.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The base chains in the order a packet visits them.
    pub fn entry_order(&self) -> &[ChainId] {
        &self.entry
    }

    /// Gives the program back.
    pub fn into_program(self) -> Program {
        self.program
    }

    /// The chain graph, verdict maps' initial elements included.
    pub fn call_graph(&self) -> &CallGraph {
        &self.graph
    }

    /// The chains whose rules look up verdict map `map`.
    pub fn map_users(&self, map: MapId) -> &[ChainId] {
        self.map_users
            .get(usize::from(map.0))
            .map_or(&[], Vec::as_slice)
    }

    /// Checks an element to be added to set `set` at run time.
    pub fn check_set_element(&self, set: SetId, elem: &SetElem) -> Result<(), VerifyError> {
        let decl = self.program.sets.get(usize::from(set.0));
        let decl = decl.ok_or(VerifyError::UndefinedSet {
            at: Loc::Program,
            set: set.0,
        })?;
        let at = Loc::Set(set, decl.name.clone(), None);
        KeyLayout::new(&decl.key, decl.kind)
            .check(elem)
            .map_err(|source| VerifyError::SetElement { at, source })
    }

    /// Checks an entry to be added to map `map` at run time, except for the
    /// chain graph (see [`crate::runtime::Instance::add_map_element`]).
    pub fn check_map_element(&self, map: MapId, elem: &MapElem) -> Result<(), VerifyError> {
        let decl = self.program.maps.get(usize::from(map.0));
        let decl = decl.ok_or(VerifyError::UndefinedMap {
            at: Loc::Program,
            map: map.0,
        })?;
        let at = Loc::Map(map, decl.name.clone(), None);
        let checker = Checker { p: &self.program };
        checker.map_elem(map, &at, elem, self.map_users(map))
    }
}

/// Verifies `program`; on success it can run.
pub fn verify(program: Program) -> Result<Verified, VerifyError> {
    let checker = Checker { p: &program };
    checker.tables()?;
    let entry = program.entry_order();
    let mut graph = CallGraph::new(program.chains.len(), &entry);
    let mut map_users = vec![Vec::new(); program.maps.len()];
    for (i, rule) in program.parse.iter().enumerate() {
        checker.rule(None, i, rule, &mut graph, &mut map_users)?;
    }
    for (c, chain) in program.chains.iter().enumerate() {
        let id = ChainId(c as u16);
        if let Some(base) = &chain.base
            && let Some(port) = base.device
        {
            checker.port(&Loc::Chain(id, chain.name.clone()), port)?;
        }
        for (i, rule) in chain.rules.iter().enumerate() {
            checker.rule(
                Some((id, chain.name.clone())),
                i,
                rule,
                &mut graph,
                &mut map_users,
            )?;
        }
    }
    for (m, users) in map_users.iter_mut().enumerate() {
        users.sort();
        users.dedup();
        let decl = &program.maps[m];
        for (e, elem) in decl.elements.iter().enumerate() {
            let at = Loc::Map(MapId(m as u16), decl.name.clone(), Some(e));
            checker.map_elem(MapId(m as u16), &at, elem, users)?;
            if let MapValue::Verdict(Verdict::Jump(t) | Verdict::Goto(t)) = elem.data {
                for u in users.iter() {
                    graph.add(*u, t);
                }
            }
        }
    }
    graph.check().map_err(|e| graph_error(&program, e))?;
    Ok(Verified {
        program,
        entry,
        graph,
        map_users,
    })
}

/// Names the chains of a graph error.
pub(crate) fn graph_error(program: &Program, e: GraphError) -> VerifyError {
    let names = |path: Vec<ChainId>| {
        path.iter()
            .map(|c| {
                program
                    .chains
                    .get(usize::from(c.0))
                    .map_or_else(|| format!("c{}", c.0), |ch| ch.name.clone())
            })
            .collect::<Vec<_>>()
    };
    match e {
        GraphError::Cycle(mut path) => {
            if let Some(first) = path.first().copied() {
                path.push(first);
            }
            VerifyError::Cycle {
                chains: names(path),
            }
        }
        GraphError::TooDeep(path) => VerifyError::CallDepth {
            chains: names(path),
        },
    }
}

/// The checks, over one program.
struct Checker<'p> {
    p: &'p Program,
}

/// Registers written so far in a rule, one bit per register.
struct Defined(u32);

impl Checker<'_> {
    fn tables(&self) -> Result<(), VerifyError> {
        let p = self.p;
        for (what, count, max) in [
            ("bases", p.bases.len(), NUM_BASES),
            ("keys", p.keys.len(), NUM_KEYS),
            ("chains", p.chains.len(), usize::from(u16::MAX) + 1),
        ] {
            if count > max {
                return Err(VerifyError::TooMany { what, count, max });
            }
        }
        // Element shapes and overlaps are checked by building the tables
        // the runtime will use.
        for (s, decl) in p.sets.iter().enumerate() {
            let at = |e| Loc::Set(SetId(s as u16), decl.name.clone(), e);
            key_layout(&at(None), &decl.key)?;
            let layout = KeyLayout::new(&decl.key, decl.kind);
            let elems = decl.elements.iter().map(|e| (e.clone(), ()));
            if let Err((e, source)) = crate::runtime::Set::new(layout, true, elems) {
                return Err(VerifyError::SetElement { at: at(e), source });
            }
        }
        for (m, decl) in p.maps.iter().enumerate() {
            let at = |e| Loc::Map(MapId(m as u16), decl.name.clone(), e);
            key_layout(&at(None), &decl.key)?;
            if let MapData::Value(len) = decl.data
                && !(1..=MAX_VALUE_BYTES).contains(&usize::from(len))
            {
                let len = usize::from(len);
                return Err(VerifyError::MapDataWidth { at: at(None), len });
            }
            let layout = KeyLayout::new(&decl.key, decl.kind);
            let elems = decl
                .elements
                .iter()
                .map(|e| (e.key.clone(), e.data.clone()));
            if let Err((e, source)) = crate::runtime::Map::new(layout, false, elems) {
                return Err(VerifyError::MapElement { at: at(e), source });
            }
        }
        Ok(())
    }

    /// Checks a map entry: key and data shapes, and verdict targets as seen
    /// from the chains that look the map up.
    fn map_elem(
        &self,
        map: MapId,
        at: &Loc,
        elem: &MapElem,
        users: &[ChainId],
    ) -> Result<(), VerifyError> {
        let decl = &self.p.maps[usize::from(map.0)];
        let bad = |source| VerifyError::MapElement {
            at: at.clone(),
            source,
        };
        KeyLayout::new(&decl.key, decl.kind)
            .check(&elem.key)
            .map_err(bad)?;
        check_map_data(decl.data, &elem.data).map_err(bad)?;
        if let MapValue::Verdict(v) = elem.data {
            for u in users {
                self.verdict(at, Some(*u), v)?;
            }
            if users.is_empty() {
                self.verdict(at, None, v)?;
            }
        }
        Ok(())
    }

    fn rule(
        &self,
        chain: Option<(ChainId, String)>,
        r: usize,
        rule: &Rule,
        graph: &mut CallGraph,
        map_users: &mut [Vec<ChainId>],
    ) -> Result<(), VerifyError> {
        let in_parse = chain.is_none();
        if let Some(counter) = rule.counter {
            let at = Loc::Rule {
                chain: chain.clone(),
                rule: r,
            };
            if in_parse {
                return Err(VerifyError::NotInParse {
                    at,
                    what: "a rule counter",
                });
            }
            self.counter(&at, counter)?;
        }
        let this = chain.as_ref().map(|(id, _)| *id);
        let mut def = Defined(0);
        for (i, insn) in rule.insns.iter().enumerate() {
            let at = Loc::Insn {
                chain: chain.clone(),
                rule: r,
                insn: i,
            };
            let parse_only = matches!(
                insn,
                Insn::SetBase { .. }
                    | Insn::ClearBase { .. }
                    | Insn::SetKey { .. }
                    | Insn::ClearKey { .. }
                    | Insn::Skip { .. }
            );
            if parse_only && !in_parse {
                return Err(VerifyError::ParseOnly {
                    at,
                    what: insn.mnemonic(),
                });
            }
            let side_effect = !parse_only && !insn.is_pure();
            if side_effect && in_parse {
                return Err(VerifyError::NotInParse {
                    at,
                    what: insn.mnemonic(),
                });
            }
            self.insn(&at, this, insn, &mut def)?;
            match insn {
                Insn::Verdict(Verdict::Jump(t) | Verdict::Goto(t)) => {
                    if let Some(from) = this {
                        graph.add(from, *t);
                    }
                }
                Insn::VmapLookup { map, .. } => {
                    if let (Some(from), Some(users)) = (this, map_users.get_mut(usize::from(map.0)))
                    {
                        users.push(from);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks one instruction's operands, then its registers (through
    /// [`Insn::reg_use`], the one description of every instruction's
    /// register operands).
    fn insn(
        &self,
        at: &Loc,
        this: Option<ChainId>,
        insn: &Insn,
        def: &mut Defined,
    ) -> Result<(), VerifyError> {
        self.operands(at, this, insn)?;
        let uses = insn.reg_use(self.p);
        for span in &uses.reads {
            def.read(at, span)?;
        }
        if let Some(span) = &uses.writes {
            def.write(at, span)?;
        }
        Ok(())
    }

    /// Checks what an instruction names and the widths it uses.
    fn operands(&self, at: &Loc, this: Option<ChainId>, insn: &Insn) -> Result<(), VerifyError> {
        match insn {
            Insn::Load {
                base, offset, len, ..
            }
            | Insn::Remove { base, offset, len } => {
                self.base(at, *base)?;
                span(at, *offset, width(at, usize::from(*len))?)
            }
            Insn::LoadBase { base, .. } | Insn::ClearBase { dst: base } => self.base(at, *base),
            Insn::LoadKey { key, .. }
            | Insn::SetKey { dst: key, .. }
            | Insn::ClearKey { dst: key } => self.key(at, *key),
            Insn::LoadMeta { .. }
            | Insn::Alu { .. }
            | Insn::CmpReg { .. }
            | Insn::SetMark { .. }
            | Insn::Log { .. } => Ok(()),
            Insn::Imm { value, .. } | Insn::Cmp { value, .. } => value_len(at, value).map(|_| ()),
            Insn::Bitwise { mask, xor, .. } => {
                let len = value_len(at, mask)?;
                if xor.len() != len {
                    return Err(VerifyError::MaskXorLength {
                        at: at.clone(),
                        mask: len,
                        xor: xor.len(),
                    });
                }
                Ok(())
            }
            Insn::Shift { len, bits, .. } => {
                let n = width(at, usize::from(*len))?;
                if usize::from(*bits) >= n * 8 {
                    return Err(VerifyError::ShiftAmount {
                        at: at.clone(),
                        bits: *bits,
                        len: *len,
                    });
                }
                Ok(())
            }
            Insn::Range { low, high, .. } => {
                let len = value_len(at, low)?;
                value_len(at, high)?;
                if high.len() != len {
                    return Err(VerifyError::RangeLength {
                        at: at.clone(),
                        low: len,
                        high: high.len(),
                    });
                }
                Ok(())
            }
            Insn::InList { list, .. } => {
                let Some((first, _)) = list.first() else {
                    return Err(VerifyError::EmptyList { at: at.clone() });
                };
                let len = value_len(at, first)?;
                for (low, high) in list {
                    for v in [low, high] {
                        if value_len(at, v)? != len {
                            return Err(VerifyError::RangeLength {
                                at: at.clone(),
                                low: len,
                                high: v.len(),
                            });
                        }
                    }
                }
                Ok(())
            }
            Insn::Skip { rules } => {
                let Loc::Insn { rule, .. } = at else {
                    return Ok(());
                };
                if rule + 1 + usize::from(*rules) > self.p.parse.len() {
                    return Err(VerifyError::SkipPastEnd {
                        at: at.clone(),
                        rules: *rules,
                    });
                }
                Ok(())
            }
            Insn::Lookup { set, .. } => match self.p.sets.get(usize::from(set.0)) {
                Some(_) => Ok(()),
                None => Err(VerifyError::UndefinedSet {
                    at: at.clone(),
                    set: set.0,
                }),
            },
            Insn::MapLookup { map, .. } => match self.map(at, *map)?.data {
                MapData::Value(_) => Ok(()),
                MapData::Verdict => Err(VerifyError::MapKind {
                    at: at.clone(),
                    map: map.0,
                }),
            },
            Insn::VmapLookup { map, .. } => match self.map(at, *map)?.data {
                MapData::Verdict => Ok(()),
                MapData::Value(_) => Err(VerifyError::MapKind {
                    at: at.clone(),
                    map: map.0,
                }),
            },
            Insn::Counter { counter } => self.counter(at, *counter),
            Insn::Limit { limit } => self.limit(at, *limit),
            Insn::Store {
                base,
                offset,
                len,
                checksums,
                ..
            } => {
                self.base(at, *base)?;
                span(at, *offset, width(at, usize::from(*len))?)?;
                for fix in checksums {
                    self.base(at, fix.base)?;
                    span(at, fix.offset, 2)?;
                    if let Some((key, _)) = fix.when {
                        self.key(at, key)?;
                    }
                }
                Ok(())
            }
            Insn::Mirror { port } => self.port(at, *port),
            Insn::Insert {
                base,
                offset,
                bytes,
            } => {
                self.base(at, *base)?;
                span(at, *offset, value_len(at, bytes)?)
            }
            Insn::Verdict(v) => self.verdict(at, this, *v),
            Insn::SetBase { dst, from, .. } => {
                self.base(at, *dst)?;
                match from {
                    Some(from) => self.base(at, *from),
                    None => Ok(()),
                }
            }
        }
    }

    /// Checks a verdict given in chain `this` (`None`: no chain known).
    fn verdict(&self, at: &Loc, this: Option<ChainId>, v: Verdict) -> Result<(), VerifyError> {
        match v {
            Verdict::Jump(t) | Verdict::Goto(t) => {
                let target = self.p.chains.get(usize::from(t.0));
                let target = target.ok_or(VerifyError::UndefinedChain {
                    at: at.clone(),
                    chain: t.0,
                })?;
                if target.base.is_some() {
                    return Err(VerifyError::JumpToBase {
                        at: at.clone(),
                        chain: t.0,
                    });
                }
                if this == Some(t) {
                    return Err(VerifyError::JumpToSelf { at: at.clone() });
                }
                Ok(())
            }
            Verdict::Fwd(port) => self.port(at, port),
            Verdict::Continue
            | Verdict::Return
            | Verdict::Accept
            | Verdict::Drop
            | Verdict::Flood => Ok(()),
        }
    }

    fn base(&self, at: &Loc, base: BaseId) -> Result<(), VerifyError> {
        declared(self.p.bases.len(), base.0.into(), || {
            VerifyError::UndefinedBase {
                at: at.clone(),
                base: base.0,
            }
        })
    }

    fn key(&self, at: &Loc, key: KeyId) -> Result<(), VerifyError> {
        declared(self.p.keys.len(), key.0.into(), || {
            VerifyError::UndefinedKey {
                at: at.clone(),
                key: key.0,
            }
        })
    }

    fn map(&self, at: &Loc, map: MapId) -> Result<&crate::program::MapDecl, VerifyError> {
        self.p
            .maps
            .get(usize::from(map.0))
            .ok_or(VerifyError::UndefinedMap {
                at: at.clone(),
                map: map.0,
            })
    }

    fn counter(&self, at: &Loc, c: CounterId) -> Result<(), VerifyError> {
        let i = usize::try_from(c.0).unwrap_or(usize::MAX);
        declared(self.p.counters.len(), i, || VerifyError::UndefinedCounter {
            at: at.clone(),
            counter: c.0,
        })
    }

    fn limit(&self, at: &Loc, l: LimitId) -> Result<(), VerifyError> {
        declared(self.p.limits.len(), l.0.into(), || {
            VerifyError::UndefinedLimit {
                at: at.clone(),
                limit: l.0,
            }
        })
    }

    fn port(&self, at: &Loc, port: PortId) -> Result<(), VerifyError> {
        declared(self.p.ports.len(), port.0.into(), || {
            VerifyError::UndefinedPort {
                at: at.clone(),
                port: port.0,
            }
        })
    }
}

impl Defined {
    /// The bits of the registers of `span`, which must exist.
    fn bits(at: &Loc, span: &RegSpan) -> Result<u32, VerifyError> {
        let first = usize::from(span.first.0);
        if first >= NUM_REGS {
            return Err(VerifyError::RegOutOfRange {
                at: at.clone(),
                reg: span.first.0,
            });
        }
        if first + span.count > NUM_REGS {
            return Err(VerifyError::RegsPastEnd {
                at: at.clone(),
                reg: span.first.0,
                regs: span.count,
            });
        }
        Ok(((1u32 << span.count) - 1) << first)
    }

    fn read(&self, at: &Loc, span: &RegSpan) -> Result<(), VerifyError> {
        let bits = Defined::bits(at, span)?;
        match span.indices().find(|i| bits & !self.0 & (1 << i) != 0) {
            Some(i) => Err(VerifyError::UndefinedReg {
                at: at.clone(),
                reg: i as u8,
            }),
            None => Ok(()),
        }
    }

    fn write(&mut self, at: &Loc, span: &RegSpan) -> Result<(), VerifyError> {
        self.0 |= Defined::bits(at, span)?;
        Ok(())
    }
}

fn declared(
    count: usize,
    index: usize,
    err: impl FnOnce() -> VerifyError,
) -> Result<(), VerifyError> {
    if index < count { Ok(()) } else { Err(err()) }
}

fn width(at: &Loc, len: usize) -> Result<usize, VerifyError> {
    if (1..=MAX_VALUE_BYTES).contains(&len) {
        Ok(len)
    } else {
        Err(VerifyError::ValueLength {
            at: at.clone(),
            len,
        })
    }
}

fn value_len(at: &Loc, v: &Value) -> Result<usize, VerifyError> {
    width(at, v.len())
}

fn span(at: &Loc, offset: u16, len: usize) -> Result<(), VerifyError> {
    if usize::from(offset) + len > usize::from(u16::MAX) {
        return Err(VerifyError::OffsetOverflow {
            at: at.clone(),
            offset,
            len,
        });
    }
    Ok(())
}

fn key_layout(at: &Loc, widths: &[u8]) -> Result<(), VerifyError> {
    let ok = !widths.is_empty()
        && widths
            .iter()
            .all(|w| (1..=MAX_VALUE_BYTES).contains(&usize::from(*w)))
        && key_registers(widths) <= NUM_REGS;
    if ok {
        Ok(())
    } else {
        Err(VerifyError::KeyLayout {
            at: at.clone(),
            widths: widths.to_vec(),
        })
    }
}
