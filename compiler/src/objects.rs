//! The program's runtime object tables: sets, maps, counters and rate
//! limiters, built as rules are lowered.
//!
//! Named sets and maps are declared up front, in table order, so the
//! runtime can change them by name even when no rule uses them. Their keys
//! and data are stored as numbers right-aligned in the datatype's width, so
//! every rule that uses them reads the same layout (rules shift sub-byte
//! fields down before a lookup). Anonymous sets belong to one rule and store
//! their keys in place, like the rule's compares.

use crate::error::CompileError;
use ruleset::model::{self, Atom, Element, MapValue, NamedSet, SetBody};
use vm::{
    CounterDecl, CounterId, LimitDecl, LimitId, LimitUnit, MapDecl, MapElem, MapId, SetDecl,
    SetElem, SetId, SetKind, Value,
};

/// How the key parts of a set are laid out in registers: for each part, its
/// width in bytes and the shift of the value within it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyLayout {
    /// Bytes and shift of each part.
    pub parts: Vec<(usize, u32)>,
}

impl KeyLayout {
    /// The layout a named set of these types uses: right-aligned values in
    /// whole bytes.
    pub fn right_aligned(types: &[ruleset::registry::ValueType]) -> KeyLayout {
        KeyLayout {
            parts: types
                .iter()
                .map(|t| (t.bits.div_ceil(8) as usize, 0))
                .collect(),
        }
    }

    fn widths(&self) -> Vec<u8> {
        self.parts.iter().map(|(bytes, _)| *bytes as u8).collect()
    }

    /// One element converted to bounds in this layout.
    fn element(&self, key: &[Atom], bits: &[u32]) -> SetElem {
        let (mut low, mut high) = (Vec::new(), Vec::new());
        for ((atom, (bytes, shift)), bits) in key.iter().zip(&self.parts).zip(bits) {
            let (lo, hi) = bounds(*atom, *bits);
            low.push(Value::from_u128(lo << shift, *bytes));
            high.push(Value::from_u128(hi << shift, *bytes));
        }
        SetElem { low, high }
    }
}

/// The lowest and highest value an atom stands for, in a `bits`-bit type.
pub fn bounds(atom: Atom, bits: u32) -> (u128, u128) {
    match atom {
        Atom::Value(v) => (v, v),
        Atom::Range { low, high } => (low, high),
        Atom::Prefix { value, len } => (
            value,
            value | !model::prefix_mask(len, bits) & crate::emit::low_mask(bits),
        ),
    }
}

/// Converts a checked verdict into the VM's, given the program-wide chain
/// ids of the verdict's table.
pub type VerdictMap<'a> = dyn Fn(model::Verdict) -> vm::Verdict + 'a;

/// The object tables being built.
#[derive(Debug, Default)]
pub struct Objects {
    /// Sets, by [`SetId`].
    pub sets: Vec<SetDecl>,
    /// Maps, by [`MapId`].
    pub maps: Vec<MapDecl>,
    /// Counters, by [`CounterId`].
    pub counters: Vec<CounterDecl>,
    /// Limiters, by [`LimitId`].
    pub limits: Vec<LimitDecl>,
}

/// What a named set or map of the ruleset became.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    /// A set.
    Set(SetId),
    /// A map or verdict map.
    Map(MapId),
}

impl Objects {
    /// Declares a named set or map.
    pub fn declare_named(
        &mut self,
        name: String,
        set: &NamedSet,
        verdict: &VerdictMap<'_>,
    ) -> Result<Named, CompileError> {
        let layout = KeyLayout::right_aligned(&set.body.key);
        Ok(match set.body.data {
            None => Named::Set(self.set(name, &layout, &set.body)?),
            Some(_) => Named::Map(self.map(name, &layout, &set.body, verdict)?),
        })
    }

    /// Declares an anonymous set with keys laid out as `layout`.
    pub fn anonymous_set(
        &mut self,
        layout: &KeyLayout,
        body: &SetBody,
    ) -> Result<SetId, CompileError> {
        let name = format!("__set{}", self.sets.len());
        self.set(name, layout, body)
    }

    /// Declares an anonymous map with keys laid out as `layout`.
    pub fn anonymous_map(
        &mut self,
        layout: &KeyLayout,
        body: &SetBody,
        verdict: &VerdictMap<'_>,
    ) -> Result<MapId, CompileError> {
        let name = format!("__map{}", self.maps.len());
        self.map(name, layout, body, verdict)
    }

    fn set(
        &mut self,
        name: String,
        layout: &KeyLayout,
        body: &SetBody,
    ) -> Result<SetId, CompileError> {
        let bits: Vec<u32> = body.key.iter().map(|t| t.bits).collect();
        let mut elements: Vec<SetElem> = body
            .elements
            .iter()
            .map(|e| layout.element(&e.key, &bits))
            .collect();
        elements.sort();
        elements.dedup();
        let decl = SetDecl {
            name,
            key: layout.widths(),
            kind: kind(body),
            elements,
        };
        // Equal anonymous sets (the same dependency in many rules) share one.
        let same = |s: &SetDecl| {
            is_anonymous(&s.name)
                && s.key == decl.key
                && s.kind == decl.kind
                && s.elements == decl.elements
        };
        if let Some(i) = self
            .sets
            .iter()
            .position(same)
            .filter(|_| is_anonymous(&decl.name))
        {
            return Ok(SetId(i as u16));
        }
        let id = SetId(u16::try_from(self.sets.len()).map_err(|_| CompileError::TooManyObjects)?);
        self.sets.push(decl);
        Ok(id)
    }

    fn map(
        &mut self,
        name: String,
        layout: &KeyLayout,
        body: &SetBody,
        verdict: &VerdictMap<'_>,
    ) -> Result<MapId, CompileError> {
        let id = MapId(u16::try_from(self.maps.len()).map_err(|_| CompileError::TooManyObjects)?);
        let bits: Vec<u32> = body.key.iter().map(|t| t.bits).collect();
        let data = match body.data {
            Some(model::MapData::Value(t)) => vm::MapData::Value(t.bits.div_ceil(8) as u8),
            _ => vm::MapData::Verdict,
        };
        let value = |e: &Element| match (e.data, data) {
            (Some(MapValue::Verdict(v)), _) => vm::MapValue::Verdict(verdict(v)),
            (Some(MapValue::Value(v)), vm::MapData::Value(bytes)) => {
                vm::MapValue::Value(Value::from_u128(v, bytes.into()))
            }
            _ => vm::MapValue::Verdict(vm::Verdict::Continue),
        };
        let elements = body
            .elements
            .iter()
            .map(|e| MapElem {
                key: layout.element(&e.key, &bits),
                data: value(e),
            })
            .collect();
        self.maps.push(MapDecl {
            name,
            key: layout.widths(),
            kind: kind(body),
            data,
            elements,
        });
        Ok(id)
    }

    /// Declares a counter.
    pub fn counter(&mut self, name: String) -> CounterId {
        self.counters.push(CounterDecl { name });
        CounterId(self.counters.len() as u32 - 1)
    }

    /// Declares a rate limiter.
    pub fn limit(&mut self, limit: &model::Limit) -> Result<LimitId, CompileError> {
        let id =
            LimitId(u16::try_from(self.limits.len()).map_err(|_| CompileError::TooManyObjects)?);
        self.limits.push(LimitDecl {
            rate: limit.rate,
            per_ns: limit.per_seconds.saturating_mul(1_000_000_000),
            burst: limit.burst,
            unit: if limit.bytes {
                LimitUnit::Bytes
            } else {
                LimitUnit::Packets
            },
            over: limit.over,
        });
        Ok(id)
    }
}

/// Anonymous sets and maps are named `__set<N>` / `__map<N>`.
pub fn is_anonymous(name: &str) -> bool {
    name.starts_with("__")
}

fn kind(body: &SetBody) -> SetKind {
    if body.interval {
        SetKind::Interval
    } else {
        SetKind::Hash
    }
}
