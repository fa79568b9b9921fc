//! The parse section: what runs once per packet before any chain, computed
//! from the registry's layer declarations (design.md 2.2).
//!
//! - the link base is the start of the frame;
//! - each `network` / `transport` declaration becomes a rule that checks its
//!   conditions and its header's validity, then sets the layer's key (what
//!   the header's `next` names) and base (the header's end); a `next` of
//!   several cases gives a rule per case, the first that applies skipping
//!   the others. Declarations are
//!   emitted last first, so that the first declaration that applies is the
//!   last to write and wins;
//! - a header with a `fragment` expression gives two rules: a first
//!   fragment sets the base, a later one clears it (the key stays);
//! - `through H1, H2...` unrolls the chain of extension headers to a fixed
//!   depth; a chain still unfinished after it (too long, or cut short)
//!   leaves the layer absent;
//! - bases of headers that follow a header of variable length come last.
//!
//! Only the layers the rules read are computed.

use crate::emit::{RuleBuilder, in_list};
use crate::error::CompileError;
use crate::header_expr::HeaderAt;
use crate::layout::{Layout, Place};
use crate::parse_graph::{Length, ParseGraph, Source};
use ruleset::registry::{Cond, CondSubject, HeaderId, Layer, LayerRule};
use vm::{BaseId, CmpOp, Insn, KeyId, Value};

/// How deep a chain of extension headers is followed.
pub const THROUGH_DEPTH: usize = 8;

/// Builds the parse section's rules.
pub struct ParseSection<'a> {
    graph: &'a ParseGraph<'a>,
    rules: Vec<Vec<Insn>>,
}

impl<'a> ParseSection<'a> {
    /// Emits the parse section for what `layout` says the rules use.
    pub fn build(
        graph: &'a ParseGraph<'a>,
        layout: &Layout,
    ) -> Result<Vec<Vec<Insn>>, CompileError> {
        let mut s = ParseSection {
            graph,
            rules: Vec::new(),
        };
        s.rules.push(vec![Insn::SetBase {
            dst: Layout::layer_base(Layer::Link),
            from: None,
            offset: 0,
            add: None,
        }]);
        for layer in [Layer::Network, Layer::Transport] {
            if layout.layer_used(layer) {
                for rule in graph.registry().layer(layer).rules.iter().rev() {
                    s.layer_rule(layer, rule)?;
                }
            }
        }
        for c in layout.computed() {
            let mut b = RuleBuilder::new();
            let end = s.end_of(&mut b, c.parent, c.parent_at)?;
            b.push(end.set(c.slot));
            s.rules.push(b.finish());
        }
        Ok(s.rules)
    }

    /// Where a header lies for the layer declarations: through its first
    /// edge, with no dependency checked (the declaration's own conditions
    /// say when it applies).
    fn place(&self, header: HeaderId) -> Result<Place, CompileError> {
        let registry = self.graph.registry();
        if registry.link == Some(header) {
            return Ok(Place {
                base: Layout::layer_base(Layer::Link),
                offset: 0,
            });
        }
        let name = || registry.header(header).name.clone();
        match self
            .graph
            .edges_into(header)
            .first()
            .map(|e| ParseGraph::source(e))
        {
            Some(Source::Layer(layer)) => Ok(Place {
                base: Layout::layer_base(layer),
                offset: 0,
            }),
            Some(Source::Header(parent)) => {
                let at = self.place(parent)?;
                match self.graph.length(parent) {
                    Length::Const(n) => Ok(Place {
                        base: at.base,
                        offset: at.offset + n,
                    }),
                    Length::Variable => Err(CompileError::LayerHeaderNotFixed(name())),
                }
            }
            None => registry
                .header(header)
                .at
                .map(|l| Place {
                    base: Layout::layer_base(l),
                    offset: 0,
                })
                .ok_or_else(|| CompileError::Unreachable(name())),
        }
    }

    /// Emits the checks of declaration conditions.
    fn conds(&mut self, b: &mut RuleBuilder, conds: &[Cond]) -> Result<(), CompileError> {
        for cond in conds {
            let load = self.cond_load(b, cond)?;
            b.push(in_list(
                load.reg,
                load.bytes,
                load.shift,
                &cond.values,
                false,
            ));
        }
        Ok(())
    }

    /// Loads what a declaration condition tests.
    fn cond_load(
        &self,
        b: &mut RuleBuilder,
        cond: &Cond,
    ) -> Result<crate::emit::FieldLoad, CompileError> {
        match cond.subject {
            CondSubject::LayerKey(layer) => {
                let key = Layout::layer_key(layer)
                    .ok_or(CompileError::Unreachable("link layer key".into()))?;
                b.load_key(key, 32)
            }
            CondSubject::Field { header, field } => {
                let at = self.place(header)?;
                b.load_field(
                    HeaderAt {
                        registry: self.graph.registry(),
                        header,
                        at,
                    }
                    .field_range(field),
                )
            }
        }
    }

    /// The rules of one `network` or `transport` declaration. A declaration
    /// of more than two rules (a chain of extension headers) starts with
    /// guards that skip it when its conditions do not hold, and its walk
    /// with one that skips the walk when no extension header follows: a
    /// packet of another protocol passes over it in one rule.
    fn layer_rule(&mut self, layer: Layer, rule: &LayerRule) -> Result<(), CompileError> {
        let registry = self.graph.registry();
        let key =
            Layout::layer_key(layer).ok_or(CompileError::Unreachable("link layer key".into()))?;
        let base = Layout::layer_base(layer);
        let at = self.place(rule.header)?;
        let mut block = Vec::new();
        for first_fragment in fragment_variants(registry.header(rule.header).fragment.is_some()) {
            let mut b = RuleBuilder::new();
            self.conds(&mut b, &rule.conds)?;
            block.extend(self.header_step(b, rule.header, at, key, base, first_fragment)?);
        }
        if !rule.through.is_empty() {
            let walk = self.walk(rule, key, base)?;
            let all = walk.1;
            let mut guard = RuleBuilder::new();
            let k = guard.load_key(key, 32)?;
            guard.push(in_list(k.reg, 4, 0, &all, true));
            guard.push(skip(walk.0.len())?);
            block.push(guard.finish());
            block.extend(walk.0);
        }
        if block.len() > 2 {
            let mut guards = Vec::new();
            for (i, cond) in rule.conds.iter().enumerate() {
                let mut b = RuleBuilder::new();
                let load = self.cond_load(&mut b, cond)?;
                b.push(in_list(
                    load.reg,
                    load.bytes,
                    load.shift,
                    &cond.values,
                    true,
                ));
                b.push(skip(rule.conds.len() - i - 1 + block.len())?);
                guards.push(b.finish());
            }
            self.rules.extend(guards);
        }
        self.rules.extend(block);
        Ok(())
    }

    /// The unrolled chain of extension headers of a `through` declaration,
    /// ending with the rule that leaves the layer absent when the chain is
    /// still unfinished (too long, or cut short); and every value that
    /// leads to an extension header.
    fn walk(
        &mut self,
        rule: &LayerRule,
        key: KeyId,
        base: BaseId,
    ) -> Result<(Vec<Vec<Insn>>, Vec<u128>), CompileError> {
        let registry = self.graph.registry();
        let mut from = vec![rule.header];
        from.extend(&rule.through);
        let mut rules = Vec::new();
        let mut all = Vec::new();
        for _ in 0..THROUGH_DEPTH {
            for &ext in &rule.through {
                let values = self.graph.next_values(&from, ext);
                if values.is_empty() {
                    continue;
                }
                all.extend(values.iter().copied());
                let here = Place { base, offset: 0 };
                for first_fragment in fragment_variants(registry.header(ext).fragment.is_some()) {
                    let mut b = RuleBuilder::new();
                    let k = b.load_key(key, 32)?;
                    b.push(in_list(k.reg, 4, 0, &values, false));
                    rules.extend(self.header_step(b, ext, here, key, base, first_fragment)?);
                }
            }
        }
        all.sort_unstable();
        all.dedup();
        let mut b = RuleBuilder::new();
        let k = b.load_key(key, 32)?;
        b.push(in_list(k.reg, 4, 0, &all, false));
        let present = b.alloc(4)?;
        b.push(Insn::LoadBase { dst: present, base });
        b.push(Insn::ClearKey { dst: key });
        b.push(Insn::ClearBase { dst: base });
        rules.push(b.finish());
        Ok((rules, all))
    }

    /// The rules that check that `header` (at `at`) is valid, then set the
    /// layer key to what its `next` names and the layer base to its end
    /// (or, for a later fragment, clear the base): one rule per case of
    /// `next`, each after `prefix` (the checks of when the step applies).
    /// The first case whose condition holds skips the rest, and a first
    /// fragment's also skips the later-fragment rules that follow them
    /// ([`fragment_variants`]) when the step reads its header from another
    /// base than the one it sets: they test the same value for the
    /// opposite, so they could only fail (a step of an extension-header
    /// walk moves the base it reads, and the later-fragment rules then read
    /// the next header); a condition
    /// that cannot be read ends its rule, leaving the later cases. Every
    /// case needs the field that names the next protocol in the frame (a
    /// header cut short before it gives the layer nothing).
    /// `first_fragment` is `None` for a header that is never a fragment.
    fn header_step(
        &mut self,
        prefix: RuleBuilder,
        header: HeaderId,
        at: Place,
        key: KeyId,
        base: BaseId,
        first_fragment: Option<bool>,
    ) -> Result<Vec<Vec<Insn>>, CompileError> {
        let registry = self.graph.registry();
        let h = registry.header(header);
        let here = HeaderAt {
            registry,
            header,
            at,
        };
        let next = h
            .next
            .as_ref()
            .ok_or_else(|| CompileError::NoNextField(h.name.clone()))?;
        let excluded = match first_fragment {
            Some(true) if at.base != base => next.cases.len(),
            _ => 0,
        };
        let mut rules = Vec::new();
        for (i, case) in next.cases.iter().enumerate() {
            let mut b = prefix.clone();
            if let Some(valid) = &h.valid {
                here.condition(&mut b, valid)?;
            }
            if let (Some(first), Some(fragment)) = (first_fragment, &h.fragment) {
                let reg = here.value(&mut b, fragment)?;
                let op = if first { CmpOp::Eq } else { CmpOp::Ne };
                b.push(Insn::Cmp {
                    src: reg,
                    op,
                    value: Value::from_u128(0, 4),
                });
            }
            if i > 0 {
                // As for the first case, which reads it: the header is in
                // the frame up to the field that names the next protocol.
                b.load_field(here.field_range(next.field))?;
            }
            if let Some(when) = &case.when {
                here.condition(&mut b, when)?;
            }
            let value = here.value(&mut b, &case.value)?;
            let end = if first_fragment == Some(false) {
                None
            } else {
                Some(self.end_of(&mut b, header, at)?)
            };
            b.push(Insn::SetKey {
                dst: key,
                src: value,
            });
            b.push(match end {
                Some(end) => end.set(base),
                None => Insn::ClearBase { dst: base },
            });
            let later = next.cases.len() - i - 1 + excluded;
            if later > 0 {
                b.push(skip(later)?);
            }
            rules.push(b.finish());
        }
        Ok(rules)
    }

    /// Emits what the end of `header` (at `at`) needs and says how to set
    /// a base to it.
    fn end_of(
        &mut self,
        b: &mut RuleBuilder,
        header: HeaderId,
        at: Place,
    ) -> Result<End, CompileError> {
        let offset = |n: u32| u16::try_from(n).map_err(|_| CompileError::OffsetTooLarge);
        Ok(match self.graph.length(header) {
            Length::Const(n) => End {
                from: at.base,
                offset: offset(at.offset + n)?,
                add: None,
            },
            Length::Variable => {
                let registry = self.graph.registry();
                let expr =
                    registry
                        .header(header)
                        .length
                        .as_ref()
                        .ok_or(CompileError::Unreachable(
                            registry.header(header).name.clone(),
                        ))?;
                let len = HeaderAt {
                    registry,
                    header,
                    at,
                }
                .value(b, expr)?;
                End {
                    from: at.base,
                    offset: offset(at.offset)?,
                    add: Some(len),
                }
            }
        })
    }
}

/// How to set a base to the end of a header.
struct End {
    from: BaseId,
    offset: u16,
    add: Option<vm::Reg>,
}

impl End {
    fn set(&self, dst: BaseId) -> Insn {
        Insn::SetBase {
            dst,
            from: Some(self.from),
            offset: self.offset,
            add: self.add,
        }
    }
}

/// A parse-section skip over `n` rules.
fn skip(n: usize) -> Result<Insn, CompileError> {
    Ok(Insn::Skip {
        rules: u16::try_from(n).map_err(|_| CompileError::TooManyObjects)?,
    })
}

/// For a header that can be a fragment: the rules for first fragments,
/// then those for later ones; otherwise one set of rules.
fn fragment_variants(fragments: bool) -> Vec<Option<bool>> {
    if fragments {
        vec![Some(true), Some(false)]
    } else {
        vec![None]
    }
}
