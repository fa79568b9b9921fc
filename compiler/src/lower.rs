//! Lowering of one checked rule to VM instructions.
//!
//! Matches and statements are lowered in source order. Before a header
//! field is read, the header is *required*: the edge that reaches it is
//! chosen (design.md 2.2: the most recent header of the rule that has an
//! edge to it, else the first edge), the edge's conditions are emitted as
//! checks (requiring their own headers first), and the header's place is
//! recorded for the rest of the rule. A condition the rule already proved
//! (by an explicit match or an earlier dependency) is not emitted again; one
//! that contradicts what the rule proved is the nftables "conflicting
//! protocols" error.
//!
//! Loads are compared in place (see [`crate::emit`]); lookups in named sets
//! and maps shift sub-byte fields down first, since named objects store
//! right-aligned keys.

use crate::emit::{BitRange, FieldLoad, INLINE_SET_LIMIT, RuleBuilder, in_list};
use crate::error::CompileError;
use crate::header_expr::HeaderAt;
use crate::layout::{Layout, Place};
use crate::objects::bounds;
use crate::objects::{KeyLayout, Named, Objects};
use crate::parse_graph::{Length, ParseGraph, Source};
use ruleset::model::{self, KeyPart, Load, Match, RawBase, Relation, SetRef, StmtKind, WriteValue};
use ruleset::registry::{CondSubject, HeaderId, Layer, MetaRef, Registry};
use ruleset::span::Span;
use vm::{ChecksumFix, CmpOp, Insn, Meta, PortId, Reg, ShiftDir, Value};

/// What every rule of the program shares while it is lowered.
pub struct Program<'a> {
    /// The parse graph (and through it the registry).
    pub graph: &'a ParseGraph<'a>,
    /// Base and key slots.
    pub layout: &'a mut Layout,
    /// Sets, maps, counters, limiters.
    pub objects: &'a mut Objects,
    /// Program-wide ids of the current table's chains, by checked id.
    pub chains: &'a [vm::ChainId],
    /// What the current table's named sets and maps became.
    pub named: &'a [Named],
}

impl<'a> Program<'a> {
    fn registry(&self) -> &'a Registry {
        self.graph.registry()
    }

    /// The VM verdict of a checked verdict.
    pub fn verdict(&self, v: model::Verdict) -> vm::Verdict {
        verdict(self.chains, v)
    }
}

/// The VM verdict of a checked verdict, given the table's chain ids.
pub fn verdict(chains: &[vm::ChainId], v: model::Verdict) -> vm::Verdict {
    let chain = |c: model::ChainId| chains[c.0 as usize];
    match v {
        model::Verdict::Accept => vm::Verdict::Accept,
        model::Verdict::Drop => vm::Verdict::Drop,
        model::Verdict::Continue => vm::Verdict::Continue,
        model::Verdict::Return => vm::Verdict::Return,
        model::Verdict::Jump(c) => vm::Verdict::Jump(chain(c)),
        model::Verdict::Goto(c) => vm::Verdict::Goto(chain(c)),
        model::Verdict::Fwd(p) => vm::Verdict::Fwd(PortId(p.0)),
        model::Verdict::Flood => vm::Verdict::Flood,
    }
}

/// How one key part is read.
#[derive(Clone, Copy, Debug)]
enum Source2 {
    /// Bits of the frame.
    Bits(BitRange),
    /// A parse key.
    Key(vm::KeyId),
    /// Runtime metadata.
    Meta(Meta),
    /// `meta length`: the frame length from the network base on.
    LengthFromNetwork,
    /// The class of a link address (`meta pkttype`): see
    /// [`ruleset::registry::MetaKey::class_of`].
    AddressClass {
        /// The address's bits.
        range: BitRange,
        /// The class values: host, broadcast, multicast, other.
        classes: [u32; 4],
    },
}

impl Source2 {
    /// The width in bytes and the shift of the part as it is loaded.
    fn layout(self) -> (usize, u32) {
        match self {
            Source2::Bits(range) => (range.covering_bytes() as usize, range.shift()),
            Source2::Key(_) | Source2::LengthFromNetwork => (4, 0),
            Source2::Meta(meta) => (meta.len(), 0),
            Source2::AddressClass { .. } => (1, 0),
        }
    }
}

/// The lowering of one rule.
pub struct RuleLowering<'p, 'a> {
    prog: &'p mut Program<'a>,
    b: RuleBuilder,
    /// Headers the rule has reached, with their places, in order.
    placed: Vec<(HeaderId, Place)>,
    /// What the rule has proved about dependency subjects: one of these values.
    known: Vec<(CondSubject, Vec<u128>)>,
    /// The rule's statistics counter.
    counter: Option<vm::CounterId>,
    span: Span,
}

impl<'p, 'a> RuleLowering<'p, 'a> {
    /// Starts lowering a rule.
    pub fn new(prog: &'p mut Program<'a>, span: Span) -> RuleLowering<'p, 'a> {
        RuleLowering {
            prog,
            b: RuleBuilder::new(),
            placed: Vec::new(),
            known: Vec::new(),
            counter: None,
            span,
        }
    }

    /// Lowers the rule's statements and returns its instructions and
    /// statistics counter.
    pub fn lower(
        mut self,
        rule: &model::Rule,
        name: &str,
    ) -> Result<(Vec<Insn>, Option<vm::CounterId>), (Span, CompileError)> {
        for stmt in &rule.stmts {
            self.span = stmt.span;
            // Statements pass nothing to each other in registers: each
            // starts from r0 (a rule of several 16-byte matches fits), and
            // the `load_cse` pass finds the values a later one reloads.
            self.b.release_to(0);
            self.stmt(&stmt.kind, name).map_err(|e| (stmt.span, e))?;
        }
        Ok((self.b.finish(), self.counter))
    }

    fn stmt(&mut self, stmt: &StmtKind, name: &str) -> Result<(), CompileError> {
        match stmt {
            StmtKind::Match(m) => self.matches(m),
            StmtKind::VMap { key, map } => {
                let (map, loads) = self.map_lookup_key(key, map)?;
                self.b.push(Insn::VmapLookup {
                    src: loads[0].reg,
                    map,
                });
                Ok(())
            }
            StmtKind::Counter { .. } => {
                let id = *self
                    .counter
                    .get_or_insert_with(|| self.prog.objects.counter(name.to_string()));
                self.b.push(Insn::Counter { counter: id });
                Ok(())
            }
            StmtKind::Limit(limit) => {
                let limit = self.prog.objects.limit(limit)?;
                self.b.push(Insn::Limit { limit });
                Ok(())
            }
            StmtKind::Log { prefix, .. } => {
                self.b.push(Insn::Log {
                    prefix: prefix.clone().unwrap_or_default(),
                });
                Ok(())
            }
            StmtKind::Write { target, value, .. } => self.write(target, value),
            StmtKind::Dup(port) => {
                self.b.push(Insn::Mirror {
                    port: PortId(port.0),
                });
                Ok(())
            }
            StmtKind::VlanPush(id) => self.vlan_push(*id),
            StmtKind::VlanPop => self.vlan_pop(),
            StmtKind::Verdict(v) => {
                let v = self.prog.verdict(*v);
                self.b.push(Insn::Verdict(v));
                Ok(())
            }
        }
    }

    // ---- headers and their dependencies ----

    /// Makes sure `header` is present (emitting its dependency) and returns
    /// where it lies.
    fn require(&mut self, header: HeaderId) -> Result<Place, CompileError> {
        if let Some((_, at)) = self.placed.iter().find(|(h, _)| *h == header) {
            return Ok(*at);
        }
        let registry = self.prog.registry();
        let at = if registry.link == Some(header) {
            self.layer_place(Layer::Link)
        } else {
            let context: Vec<HeaderId> = self.placed.iter().map(|(h, _)| *h).collect();
            match self.prog.graph.choose(header, &context) {
                Some(edge) => {
                    let source = ParseGraph::source(edge);
                    if let Source::Header(parent) = source {
                        self.check_stacking(header, parent)?;
                    }
                    let (last, before) = edge.conds.split_last().ok_or_else(|| {
                        CompileError::Unreachable(registry.header(header).name.clone())
                    })?;
                    for cond in before {
                        self.side_cond(cond.subject, &cond.values)?;
                    }
                    self.cond(last.subject, &last.values)?;
                    match source {
                        Source::Layer(layer) => self.layer_place(layer),
                        Source::Header(parent) => self.after(parent)?,
                    }
                }
                None => match registry.header(header).at {
                    Some(layer) => self.layer_place(layer),
                    None => {
                        return Err(CompileError::Unreachable(
                            registry.header(header).name.clone(),
                        ));
                    }
                },
            }
        };
        self.placed.push((header, at));
        Ok(at)
    }

    /// nftables refuses a header stacked on the link header (a VLAN tag)
    /// once the rule has settled which network protocol follows the link
    /// layer (`ip saddr A vlan id 10`, `meta protocol ip vlan id 10`).
    fn check_stacking(&self, header: HeaderId, parent: HeaderId) -> Result<(), CompileError> {
        // A parent the rule has not placed yet is on the link layer only if
        // it is the link header itself (`vlan` on `ether`); `vxlan` on a
        // `udp` still to be found is not stacked on the link.
        let parent_on_link = self
            .placed
            .iter()
            .find(|(h, _)| *h == parent)
            .map_or(self.prog.registry().link == Some(parent), |(_, at)| {
                at.base == Layout::layer_base(Layer::Link)
            });
        let network = CondSubject::LayerKey(Layer::Network);
        let settled = self
            .known
            .iter()
            .find(|(s, _)| *s == network)
            .and_then(|(_, v)| self.selected(network, v));
        match settled {
            Some(other) if parent_on_link && other != header => Err(self.conflict(other, header)),
            _ => Ok(()),
        }
    }

    /// The header that `subject` having one of `values` leads to: the one
    /// every value that names a protocol (by an edge) names, if they agree
    /// and at least one does. Other values are protocols the registry does
    /// not know (`ether type { vlan, 0x8101 }` leads to vlan).
    fn selected(&self, subject: CondSubject, values: &[u128]) -> Option<HeaderId> {
        let edges = &self.prog.registry().edges;
        let target = |v: &u128| {
            edges.iter().find_map(|e| {
                let last = e.conds.last()?;
                (last.subject == subject && last.values.contains(v)).then_some(e.target)
            })
        };
        let mut named = values.iter().filter_map(target);
        let first = named.next()?;
        named.all(|t| t == first).then_some(first)
    }

    fn conflict(&self, a: HeaderId, b: HeaderId) -> CompileError {
        let name = |h: HeaderId| self.prog.registry().header(h).name.clone();
        CompileError::ConflictingProtocols(format!("{} vs. {}", name(a), name(b)))
    }

    /// The key of `layer` (`meta protocol`), which the rule reads.
    fn layer_key(&mut self, layer: Layer) -> Result<vm::KeyId, CompileError> {
        self.prog.layout.use_layer(layer);
        Layout::layer_key(layer).ok_or(CompileError::Unreachable("link layer key".into()))
    }

    fn layer_place(&mut self, layer: Layer) -> Place {
        self.prog.layout.use_layer(layer);
        Place {
            base: Layout::layer_base(layer),
            offset: 0,
        }
    }

    /// The place right after `parent` (which the rule has reached).
    fn after(&mut self, parent: HeaderId) -> Result<Place, CompileError> {
        let at = self.require(parent)?;
        Ok(match self.prog.graph.length(parent) {
            Length::Const(n) => Place {
                base: at.base,
                offset: at.offset + n,
            },
            Length::Variable => {
                let registry = self.prog.graph.registry();
                Place {
                    base: self.prog.layout.computed_base(registry, parent, at)?,
                    offset: 0,
                }
            }
        })
    }

    /// Emits a dependency condition unless the rule already proved it. A
    /// condition that contradicts a protocol the rule already settled is a
    /// conflict; one that contradicts some other value is emitted (the rule
    /// then never matches, as with nft).
    fn cond(&mut self, subject: CondSubject, values: &[u128]) -> Result<(), CompileError> {
        if let Some((_, known)) = self.known.iter().find(|(s, _)| *s == subject) {
            let overlap = known.iter().filter(|v| values.contains(v)).count();
            if overlap == known.len() {
                return Ok(());
            }
            if overlap == 0
                && let (Some(had), Some(wants)) = (
                    self.selected(subject, known),
                    self.selected(subject, values),
                )
            {
                return Err(self.conflict(had, wants));
            }
        }
        if let CondSubject::LayerKey(Layer::Transport) = subject {
            self.check_transport_possible()?;
        }
        let registry = self.prog.registry();
        let (source, bits) = match subject {
            CondSubject::LayerKey(layer) => {
                let bits = registry.meta_type(MetaRef::LayerKey(layer)).bits;
                (Source2::Key(self.layer_key(layer)?), bits)
            }
            CondSubject::Field { header, field } => {
                let bits = registry.field(header, field).bits;
                (self.field_source(header, field)?, bits)
            }
        };
        let load = self.read(source, bits, true)?;
        self.b
            .push(in_list(load.reg, load.bytes, load.shift, values, false));
        self.learn(subject, values.to_vec());
        Ok(())
    }

    /// A condition of an edge besides the one that places its header (the
    /// `meta protocol ip` of `icmp`), read as nft does: once the rule has
    /// settled the network protocol it is not checked at all (nft adds it
    /// only while the network layer is unknown, so `ip6 saddr A icmp type 8`
    /// matches ICMP over IPv6); otherwise a network protocol that names a
    /// header is that header's dependency, which follows the context (after
    /// an `ether` match, `ether type ip`).
    fn side_cond(&mut self, subject: CondSubject, values: &[u128]) -> Result<(), CompileError> {
        if subject != CondSubject::LayerKey(Layer::Network) {
            return self.cond(subject, values);
        }
        if self.network_settled() {
            return Ok(());
        }
        match self.selected(subject, values) {
            Some(header) => self.require(header).map(drop),
            None => self.cond(subject, values),
        }
    }

    /// True once the rule has proved which protocol the network layer
    /// carries: a network key match or dependency, or a header that the
    /// network key can name.
    fn network_settled(&self) -> bool {
        let network = CondSubject::LayerKey(Layer::Network);
        self.known.iter().any(|(s, _)| *s == network)
            || self.placed.iter().any(|(h, _)| {
                self.prog
                    .registry()
                    .edges
                    .iter()
                    .any(|e| e.target == *h && e.conds.last().is_some_and(|c| c.subject == network))
            })
    }

    /// A transport dependency needs a network protocol that has a transport
    /// layer: `meta protocol 0x8847 udp sport 53` is a conflict.
    fn check_transport_possible(&self) -> Result<(), CompileError> {
        let subject = CondSubject::LayerKey(Layer::Network);
        let Some((_, known)) = self.known.iter().find(|(s, _)| *s == subject) else {
            return Ok(());
        };
        let registry = self.prog.registry();
        let carriers: Vec<u128> = registry
            .transport
            .rules
            .iter()
            .flat_map(|r| {
                r.conds
                    .iter()
                    .filter(|c| c.subject == subject)
                    .flat_map(|c| c.values.iter().copied())
            })
            .collect();
        if known.iter().any(|v| carriers.contains(v)) {
            Ok(())
        } else {
            Err(CompileError::ConflictingProtocols(format!(
                "{} {} has no transport layer",
                self.subject_name(subject),
                list(known)
            )))
        }
    }

    fn learn(&mut self, subject: CondSubject, values: Vec<u128>) {
        self.known.retain(|(s, _)| *s != subject);
        self.known.push((subject, values));
    }

    fn subject_name(&self, subject: CondSubject) -> String {
        let registry = self.prog.registry();
        match subject {
            CondSubject::LayerKey(l) => {
                format!("meta {}", registry.meta_name(MetaRef::LayerKey(l)))
            }
            CondSubject::Field { header, field } => {
                format!(
                    "{} {}",
                    registry.header(header).name,
                    registry.field(header, field).name
                )
            }
        }
    }

    // ---- keys ----

    /// Requires what a key part needs and says how to read it.
    fn source(&mut self, part: &KeyPart) -> Result<Source2, CompileError> {
        Ok(match part.load {
            Load::Field { header, field } => {
                let source = self.field_source(header, field)?;
                if let Some(cond) = &self.prog.registry().field(header, field).cond {
                    self.cond(
                        CondSubject::Field {
                            header,
                            field: cond.field,
                        },
                        &cond.values.clone(),
                    )?;
                }
                source
            }
            Load::Meta(MetaRef::LayerKey(layer)) => Source2::Key(self.layer_key(layer)?),
            Load::Meta(MetaRef::Runtime(id)) => {
                let registry = self.prog.registry();
                let meta = &registry.metas[usize::from(id.0)];
                if let Some((header, field)) = meta.class_of {
                    return self.address_class(id, header, field);
                }
                match meta.name.as_str() {
                    "iif" => Source2::Meta(Meta::Iif),
                    "iifname" => Source2::Meta(Meta::IifName),
                    "mark" => Source2::Meta(Meta::Mark),
                    "length" => {
                        self.prog.layout.use_layer(Layer::Network);
                        Source2::LengthFromNetwork
                    }
                    other => return Err(CompileError::NotSupported(format!("meta {other}"))),
                }
            }
            Load::Raw { base, offset, bits } => Source2::Bits(self.raw_range(base, offset, bits)?),
        })
    }

    /// Requires `header` and says how to read its `field`: its bits, or
    /// the layer key for the protocol field of an offloaded header (a VLAN
    /// tag's type, which nft rebuilds from `meta protocol`).
    fn field_source(
        &mut self,
        header: HeaderId,
        field: ruleset::registry::FieldId,
    ) -> Result<Source2, CompileError> {
        let at = self.require(header)?;
        let registry = self.prog.registry();
        Ok(match registry.offloaded_key(header, field) {
            Some(layer) => Source2::Key(self.layer_key(layer)?),
            None => Source2::Bits(
                HeaderAt {
                    registry,
                    header,
                    at,
                }
                .field_range(field),
            ),
        })
    }

    /// How to read runtime meta key `id`, the class of link address field
    /// `field` of `header` (`meta pkttype`). The link header is where the
    /// frame starts: reading it here is metadata, not a link-layer match
    /// (which would change how later matches find their headers, as
    /// `ether` matches do in nft).
    fn address_class(
        &mut self,
        id: ruleset::registry::MetaId,
        header: HeaderId,
        field: ruleset::registry::FieldId,
    ) -> Result<Source2, CompileError> {
        let registry = self.prog.registry();
        let meta = &registry.metas[usize::from(id.0)];
        let unsupported =
            |what: String| CompileError::NotSupported(format!("meta {}: {what}", meta.name));
        let ty = registry.ty(meta.ty);
        let class = |name: &str| {
            ty.symbol(name)
                .and_then(|v| u32::try_from(v).ok())
                .ok_or_else(|| unsupported(format!("its type has no `{name}`")))
        };
        let classes = [
            class("host")?,
            class("broadcast")?,
            class("multicast")?,
            class("other")?,
        ];
        if registry.link != Some(header) {
            return Err(unsupported(
                "the class of an address outside the link header".into(),
            ));
        }
        let at = self.layer_place(Layer::Link);
        let range = HeaderAt {
            registry,
            header,
            at,
        }
        .field_range(field);
        if range.len != 48 || !range.is_byte_aligned() {
            return Err(unsupported(
                "the class of a link address that is not 48 bits".into(),
            ));
        }
        Ok(Source2::AddressClass { range, classes })
    }

    /// The bits of a raw load (`@nh,96,32`, `@vxlan,32,24`): from a layer's
    /// base with no dependency, or from a header's place with its.
    fn raw_range(
        &mut self,
        base: RawBase,
        offset: u32,
        bits: u32,
    ) -> Result<BitRange, CompileError> {
        Ok(match base {
            RawBase::Layer(layer) => {
                self.prog.layout.use_layer(layer);
                BitRange {
                    base: Layout::layer_base(layer),
                    offset,
                    len: bits,
                }
            }
            RawBase::Header(header) => {
                let at = self.require(header)?;
                BitRange {
                    base: at.base,
                    offset: at.offset * 8 + offset,
                    len: bits,
                }
            }
        })
    }

    fn load_bits(&mut self, range: BitRange) -> Result<FieldLoad, CompileError> {
        self.prog.layout.use_base(range.base);
        self.b.load_field(range)
    }

    /// Reads one key part, in place. `alone`: the part is the whole key, so
    /// a masked field may go to a fresh register (keeping the raw load for
    /// reuse); parts of a concatenation occupy just their own registers.
    fn read(&mut self, source: Source2, bits: u32, alone: bool) -> Result<FieldLoad, CompileError> {
        match source {
            Source2::Bits(range) => {
                self.prog.layout.use_base(range.base);
                self.b.load_field_masked(range, !alone)
            }
            Source2::Key(key) => self.b.load_key(key, bits),
            Source2::Meta(meta) => self.b.load_meta(meta),
            Source2::LengthFromNetwork => {
                let len = self.b.load_meta(Meta::Len)?;
                let after = self.b.mark();
                let nh = self.b.alloc(4)?;
                self.b.push(Insn::LoadBase {
                    dst: nh,
                    base: Layout::layer_base(Layer::Network),
                });
                self.b.push(Insn::Alu {
                    dst: len.reg,
                    a: len.reg,
                    op: vm::AluOp::Sub,
                    b: vm::Operand::Reg(nh),
                });
                self.b.release_to(after);
                Ok(len)
            }
            Source2::AddressClass { range, classes } => {
                self.prog.layout.use_base(range.base);
                self.b.address_class(range, classes)
            }
        }
    }

    /// Requires what every part of a key needs.
    fn key_sources(&mut self, key: &[KeyPart]) -> Result<Vec<Source2>, CompileError> {
        key.iter().map(|p| self.source(p)).collect()
    }

    /// Reads a whole key (one part or a concatenation) into consecutive
    /// registers; `right_aligned` shifts each part down (for named sets and
    /// maps). Returns each part's load.
    fn read_key(
        &mut self,
        key: &[KeyPart],
        sources: &[Source2],
        right_aligned: bool,
    ) -> Result<Vec<FieldLoad>, CompileError> {
        let mut loads = Vec::new();
        for (part, source) in key.iter().zip(sources) {
            let mut load = self.read(*source, part.ty.bits, key.len() == 1)?;
            if let Some(bw) = part.bitwise {
                self.b.push(Insn::Bitwise {
                    dst: load.reg,
                    src: load.reg,
                    mask: load.place(bw.mask),
                    xor: load.place(bw.xor),
                });
            }
            if right_aligned && load.shift > 0 {
                self.b.push(Insn::Shift {
                    dst: load.reg,
                    src: load.reg,
                    len: load.bytes as u8,
                    dir: ShiftDir::Right,
                    bits: load.shift as u8,
                });
                load.shift = 0;
            }
            loads.push(load);
        }
        debug_assert!(
            contiguous(&loads),
            "the parts of a key occupy consecutive registers"
        );
        Ok(loads)
    }

    // ---- matches ----

    fn matches(&mut self, m: &Match) -> Result<(), CompileError> {
        let registry = self.prog.registry();
        let m = nft_rewrite(m, |part| registry.is_flags(part.ty));
        let named = matches!(
            m.rel,
            Relation::InSet {
                set: SetRef::Named(_),
                ..
            }
        );
        let sources = self.key_sources(&m.key)?;
        let sources = match (&m.rel, sources.as_slice()) {
            // nft loads only the bytes of a prefix that ends on a byte
            // boundary: a frame cut after them still matches.
            (
                Relation::Prefix {
                    negate: false, len, ..
                },
                [Source2::Bits(range)],
            ) if len % 8 == 0 && *len > 0 && range.is_byte_aligned() => {
                vec![Source2::Bits(BitRange {
                    len: *len,
                    ..*range
                })]
            }
            _ => sources,
        };
        let loads = self.read_key(&m.key, &sources, named)?;
        let rel = match (&m.rel, &loads[..]) {
            (
                Relation::Prefix {
                    negate: false,
                    value,
                    len,
                },
                [load],
            ) if load.bits == *len && *len < m.key[0].ty.bits => Relation::Cmp {
                op: model::CmpOp::Eq,
                values: vec![value >> (m.key[0].ty.bits - len)],
            },
            (rel, _) => rel.clone(),
        };
        self.relation(&m.key, &loads, &rel)?;
        self.remember(&m.key, &m.rel);
        Ok(())
    }

    /// Records what an explicit match proves about a dependency subject
    /// (`ether type vlan` proves vlan's dependency).
    fn remember(&mut self, key: &[KeyPart], rel: &Relation) {
        let [part] = key else { return };
        if part.bitwise.is_some() {
            return;
        }
        let subject = match part.load {
            Load::Field { header, field } => CondSubject::Field { header, field },
            Load::Meta(MetaRef::LayerKey(layer)) => CondSubject::LayerKey(layer),
            _ => return,
        };
        if !self.prog.graph.tests(subject) {
            return;
        }
        let values = match rel {
            Relation::Cmp {
                op: model::CmpOp::Eq,
                values,
            } => values.clone(),
            Relation::InSet {
                negate: false,
                set: SetRef::Anonymous(body),
            } => {
                let exact: Option<Vec<u128>> = body
                    .elements
                    .iter()
                    .map(|e| match e.key.as_slice() {
                        [model::Atom::Value(v)] => Some(*v),
                        _ => None,
                    })
                    .collect();
                match exact {
                    Some(v) => v,
                    None => return,
                }
            }
            _ => return,
        };
        self.learn(subject, values);
        self.reach_edges();
    }

    /// Headers whose edge conditions the rule has now proved by explicit
    /// matches are reached, and become the newest context: after
    /// `ether type vlan`, an `ip` match depends on `vlan type ip`.
    fn reach_edges(&mut self) {
        let graph = self.prog.graph;
        for edge in &graph.registry().edges {
            if self.placed.iter().any(|(h, _)| *h == edge.target) {
                continue;
            }
            let proved = edge.conds.iter().all(|c| {
                let placed = match c.subject {
                    CondSubject::Field { header, .. } => {
                        self.placed.iter().any(|(h, _)| *h == header)
                    }
                    CondSubject::LayerKey(_) => true,
                };
                placed
                    && self
                        .known
                        .iter()
                        .any(|(s, v)| *s == c.subject && self.selected(*s, v) == Some(edge.target))
            });
            if !proved {
                continue;
            }
            let at = match ParseGraph::source(edge) {
                Source::Layer(layer) => Some(self.layer_place(layer)),
                Source::Header(parent) => self.after(parent).ok(),
            };
            if let Some(at) = at {
                self.placed.push((edge.target, at));
            }
        }
    }

    fn relation(
        &mut self,
        key: &[KeyPart],
        loads: &[FieldLoad],
        rel: &Relation,
    ) -> Result<(), CompileError> {
        let first = &loads[0];
        match rel {
            Relation::Cmp { op, values } if loads.len() == 1 => {
                self.b.push(Insn::Cmp {
                    src: first.reg,
                    op: cmp(*op),
                    value: first.place(values[0]),
                });
            }
            Relation::Cmp {
                op: model::CmpOp::Eq,
                values,
            } => {
                for (load, v) in loads.iter().zip(values) {
                    self.b.push(Insn::Cmp {
                        src: load.reg,
                        op: CmpOp::Eq,
                        value: load.place(*v),
                    });
                }
            }
            Relation::Cmp { op, values } => {
                // `a . b != x . y`: "not all equal" is a one-element set.
                let element = model::Element {
                    key: values.iter().map(|v| model::Atom::Value(*v)).collect(),
                    data: None,
                    span: self.span,
                };
                self.lookup_anonymous(key, loads, vec![element], false, *op == model::CmpOp::Ne)?;
            }
            Relation::Prefix { negate, value, len } => {
                let mask = model::prefix_mask(*len, first.bits);
                self.masked(first, mask, *value, *negate)?;
            }
            Relation::Range { negate, low, high } => {
                self.b.push(Insn::Range {
                    src: first.reg,
                    low: first.place(*low),
                    high: first.place(*high),
                    negate: *negate,
                });
            }
            Relation::FlagsAny { negate, mask } => {
                let reg = self.b.alloc(first.bytes)?;
                self.b.push(Insn::Bitwise {
                    dst: reg,
                    src: first.reg,
                    mask: first.place(*mask),
                    xor: first.place(0),
                });
                let op = if *negate { CmpOp::Eq } else { CmpOp::Ne };
                self.b.push(Insn::Cmp {
                    src: reg,
                    op,
                    value: first.place(0),
                });
            }
            Relation::Masked {
                negate,
                value,
                mask,
            } => self.masked(first, *mask, *value, *negate)?,
            Relation::InSet {
                negate,
                set: SetRef::Named(id),
            } => {
                let Named::Set(set) = self.prog.named[id.0 as usize] else {
                    return Err(CompileError::NotASet);
                };
                self.b.push(Insn::Lookup {
                    src: first.reg,
                    set,
                    negate: *negate,
                });
            }
            Relation::InSet {
                negate,
                set: SetRef::Anonymous(body),
            } => {
                self.lookup_anonymous(key, loads, body.elements.clone(), body.interval, *negate)?;
            }
        }
        Ok(())
    }

    /// `(x & mask) == value` (or `!=`), on a copy of the loaded value.
    fn masked(
        &mut self,
        load: &FieldLoad,
        mask: u128,
        value: u128,
        negate: bool,
    ) -> Result<(), CompileError> {
        let reg = self.b.alloc(load.bytes)?;
        self.b.push(Insn::Bitwise {
            dst: reg,
            src: load.reg,
            mask: load.place(mask),
            xor: load.place(0),
        });
        let op = if negate { CmpOp::Ne } else { CmpOp::Eq };
        self.b.push(Insn::Cmp {
            src: reg,
            op,
            value: load.place(value),
        });
        Ok(())
    }

    /// Membership in an anonymous set: one exact element of one part is a
    /// compare, one range a range test, a few elements of one part an
    /// inline list; anything else a set lookup.
    fn lookup_anonymous(
        &mut self,
        key: &[KeyPart],
        loads: &[FieldLoad],
        elements: Vec<model::Element>,
        interval: bool,
        negate: bool,
    ) -> Result<(), CompileError> {
        let first = &loads[0];
        if let [_] = loads
            && elements.len() <= INLINE_SET_LIMIT
        {
            let mut list: Vec<(u128, u128)> = elements
                .iter()
                .map(|e| bounds(e.key[0], first.bits))
                .collect();
            list.sort_unstable();
            list.dedup();
            let op = if negate { CmpOp::Ne } else { CmpOp::Eq };
            self.b.push(match list.as_slice() {
                [(low, high)] if low == high => Insn::Cmp {
                    src: first.reg,
                    op,
                    value: first.place(*low),
                },
                [(low, high)] => Insn::Range {
                    src: first.reg,
                    low: first.place(*low),
                    high: first.place(*high),
                    negate,
                },
                _ => Insn::InList {
                    src: first.reg,
                    list: list
                        .iter()
                        .map(|(l, h)| (first.place(*l), first.place(*h)))
                        .collect(),
                    negate,
                },
            });
            return Ok(());
        }
        let layout = KeyLayout {
            parts: loads.iter().map(|l| (l.bytes, l.shift)).collect(),
        };
        let body = model::SetBody {
            key: key
                .iter()
                .zip(loads)
                .map(|(p, l)| ruleset::registry::ValueType {
                    ty: p.ty.ty,
                    bits: l.bits,
                })
                .collect(),
            data: None,
            interval,
            elements,
        };
        let set = self.prog.objects.anonymous_set(&layout, &body)?;
        self.b.push(Insn::Lookup {
            src: first.reg,
            set,
            negate,
        });
        Ok(())
    }

    /// Requires and reads the key of a map lookup, and returns the VM map
    /// with it. Named maps store right-aligned keys; an anonymous map is
    /// declared here with the layout of the key as loaded.
    fn map_lookup_key(
        &mut self,
        key: &[KeyPart],
        map: &SetRef,
    ) -> Result<(vm::MapId, Vec<FieldLoad>), CompileError> {
        let sources = self.key_sources(key)?;
        let id = match map {
            SetRef::Named(id) => match self.prog.named[id.0 as usize] {
                Named::Map(m) => m,
                Named::Set(_) => return Err(CompileError::NotAMap),
            },
            SetRef::Anonymous(body) => {
                let layout = KeyLayout {
                    parts: sources.iter().map(|s| s.layout()).collect(),
                };
                let chains = self.prog.chains;
                self.prog
                    .objects
                    .anonymous_map(&layout, body, &|v| verdict(chains, v))?
            }
        };
        let loads = self.read_key(key, &sources, matches!(map, SetRef::Named(_)))?;
        Ok((id, loads))
    }

    // ---- statements ----

    fn write(&mut self, target: &Load, value: &WriteValue) -> Result<(), CompileError> {
        if let Load::Meta(MetaRef::Runtime(id)) = target {
            if self.prog.registry().metas[usize::from(id.0)].name != "mark" {
                return Err(CompileError::NotSupported("writing this meta key".into()));
            }
            let reg = self.value_reg(value, 4, 0)?;
            self.b.push(Insn::SetMark { src: reg });
            return Ok(());
        }
        // A field write keeps the header's checksums right; a raw write
        // (`@nh,64,8 set 64`) changes only the bytes, as in nft.
        let (range, checksums) = match *target {
            Load::Field { header, field } => {
                let at = self.require(header)?;
                let range = HeaderAt {
                    registry: self.prog.registry(),
                    header,
                    at,
                }
                .field_range(field);
                (range, self.checksums(header, at, field)?)
            }
            Load::Raw { base, offset, bits } => (self.raw_range(base, offset, bits)?, Vec::new()),
            Load::Meta(_) => {
                return Err(CompileError::NotSupported("writing this meta key".into()));
            }
        };
        let bytes = range.covering_bytes() as usize;
        let offset = u16::try_from(range.first_byte()).map_err(|_| CompileError::OffsetTooLarge)?;
        let load = FieldLoad {
            reg: Reg(0),
            bytes,
            shift: range.shift(),
            bits: range.len,
        };
        let src = match value {
            _ if range.is_byte_aligned() => self.value_reg(value, bytes, 0)?,
            WriteValue::Const(v) => {
                // Keep the bits around the field: (old & !field) ^ new.
                let old = self.load_bits(BitRange {
                    len: bytes as u32 * 8,
                    offset: range.first_byte() * 8,
                    ..range
                })?;
                let keep = Value(load.mask().0.iter().map(|b| !b).collect());
                self.b.push(Insn::Bitwise {
                    dst: old.reg,
                    src: old.reg,
                    mask: keep,
                    xor: load.place(*v),
                });
                old.reg
            }
            WriteValue::Map { .. } if bytes <= 4 => {
                let new = self.value_reg(value, bytes, range.shift())?;
                let old = self.load_bits(BitRange {
                    len: bytes as u32 * 8,
                    offset: range.first_byte() * 8,
                    ..range
                })?;
                let keep = Value(load.mask().0.iter().map(|b| !b).collect());
                self.b.push(Insn::Bitwise {
                    dst: old.reg,
                    src: old.reg,
                    mask: keep,
                    xor: Value(vec![0; bytes]),
                });
                self.b.push(Insn::Alu {
                    dst: old.reg,
                    a: old.reg,
                    op: vm::AluOp::Or,
                    b: vm::Operand::Reg(new),
                });
                old.reg
            }
            WriteValue::Map { .. } => {
                return Err(CompileError::NotSupported(
                    "a map value written into a field wider than 4 bytes".into(),
                ));
            }
        };
        // The parse section must compute what the fixes read.
        for fix in &checksums {
            self.prog.layout.use_base(fix.base);
        }
        self.prog.layout.use_base(range.base);
        self.b.push(Insn::Store {
            base: range.base,
            offset,
            len: bytes as u8,
            src,
            checksums,
        });
        Ok(())
    }

    /// A register holding a write's new value, shifted to `shift` in a
    /// value of `bytes` bytes.
    fn value_reg(
        &mut self,
        value: &WriteValue,
        bytes: usize,
        shift: u32,
    ) -> Result<Reg, CompileError> {
        match value {
            WriteValue::Const(v) => {
                let reg = self.b.alloc(bytes)?;
                self.b.push(Insn::Imm {
                    dst: reg,
                    value: Value::from_u128(v << shift, bytes),
                });
                Ok(reg)
            }
            WriteValue::Map { key, map } => {
                let (map, loads) = self.map_lookup_key(key, map)?;
                let dst = self.b.alloc(bytes)?;
                self.b.push(Insn::MapLookup {
                    src: loads[0].reg,
                    map,
                    dst,
                });
                if shift > 0 {
                    self.b.push(Insn::Shift {
                        dst,
                        src: dst,
                        len: bytes as u8,
                        dir: ShiftDir::Left,
                        bits: shift as u8,
                    });
                }
                Ok(dst)
            }
        }
    }

    /// The checksums a write to `field` of `header` must keep right: the
    /// header's own checksum, and when the field is part of the L4 pseudo
    /// header, the checksum of whichever transport header the packet has.
    fn checksums(
        &self,
        header: HeaderId,
        at: Place,
        field: ruleset::registry::FieldId,
    ) -> Result<Vec<ChecksumFix>, CompileError> {
        let registry = self.prog.registry();
        let mut fixes = Vec::new();
        let h = registry.header(header);
        if let Some(cs) = h.checksum {
            let f = registry.field(header, cs.field);
            fixes.push(ChecksumFix {
                base: at.base,
                offset: u16::try_from(at.offset + f.offset / 8)
                    .map_err(|_| CompileError::OffsetTooLarge)?,
                zero_means_none: cs.optional,
                when: None,
            });
        }
        if registry.field(header, field).pseudo {
            fixes.extend(self.pseudo_header_fixes()?);
        }
        Ok(fixes)
    }

    /// The fixes a write to a pseudo-header field (an IP address) needs:
    /// the checksum of each transport header that covers the pseudo header,
    /// applied only when the packet's transport key names that header, and
    /// only for transport headers the rule's network protocol can carry.
    fn pseudo_header_fixes(&self) -> Result<Vec<ChecksumFix>, CompileError> {
        let registry = self.prog.registry();
        let network = CondSubject::LayerKey(Layer::Network);
        let known_network = self
            .known
            .iter()
            .find(|(s, _)| *s == network)
            .map(|(_, v)| v);
        let key = Layout::layer_key(Layer::Transport)
            .ok_or(CompileError::Unreachable("transport key".into()))?;
        let mut fixes = Vec::new();
        for edge in &registry.edges {
            let Some(cs) = registry.header(edge.target).checksum.filter(|c| c.pseudo) else {
                continue;
            };
            let Some((last, before)) = edge.conds.split_last() else {
                continue;
            };
            let ([value], CondSubject::LayerKey(Layer::Transport)) =
                (last.values.as_slice(), last.subject)
            else {
                continue;
            };
            let carried = before.iter().filter(|c| c.subject == network).all(|c| {
                known_network.is_none_or(|known| known.iter().any(|v| c.values.contains(v)))
            });
            if !carried {
                continue;
            }
            let f = registry.field(edge.target, cs.field);
            fixes.push(ChecksumFix {
                base: Layout::layer_base(Layer::Transport),
                offset: u16::try_from(f.offset / 8).map_err(|_| CompileError::OffsetTooLarge)?,
                zero_means_none: cs.optional,
                when: Some((
                    key,
                    u32::try_from(*value).map_err(|_| CompileError::ConstantTooWide)?,
                )),
            });
        }
        Ok(fixes)
    }

    /// `vlan push ID`: insert the tag where the header it follows has its
    /// next field: the tag's type value, then the tag's fields other than
    /// its own next field (so the old type follows the tag).
    fn vlan_push(&mut self, id: u16) -> Result<(), CompileError> {
        let (vlan, at, offset, (tpid, tpid_bits)) = self.tag_layout()?;
        let h = self.prog.registry().header(vlan);
        let next = h.next.as_ref().map(|n| n.field);
        let (mut bits, mut width) = (tpid, tpid_bits);
        for (i, f) in h.fields.iter().enumerate() {
            if next == Some(ruleset::registry::FieldId(i as u16)) {
                continue;
            }
            let v = if f.name == "id" { u128::from(id) } else { 0 };
            bits = (bits << f.bits) | v;
            width += f.bits;
        }
        let offset = u16::try_from(at.offset + offset).map_err(|_| CompileError::OffsetTooLarge)?;
        self.b.push(Insn::Insert {
            base: at.base,
            offset,
            bytes: Value::from_u128(bits, width as usize / 8),
        });
        Ok(())
    }

    /// `vlan pop`: remove the outer tag (the rule ends here on a frame
    /// without one, like a match on the tag).
    fn vlan_pop(&mut self) -> Result<(), CompileError> {
        let (vlan, at, offset, _) = self.tag_layout()?;
        self.require(vlan)?;
        let len = self.prog.registry().header(vlan).bits / 8;
        let offset = u16::try_from(at.offset + offset).map_err(|_| CompileError::OffsetTooLarge)?;
        self.b.push(Insn::Remove {
            base: at.base,
            offset,
            len: len as u8,
        });
        Ok(())
    }

    /// Where a VLAN tag goes: the `vlan` header, the place of the header
    /// its first edge leaves from, the byte offset of that header's field
    /// the edge tests, and the value and width of that field for a tag.
    fn tag_layout(&mut self) -> Result<(HeaderId, Place, u32, (u128, u32)), CompileError> {
        let graph = self.prog.graph;
        let registry = graph.registry();
        let unreachable = || CompileError::Unreachable("vlan".into());
        let vlan = registry.header_id("vlan").ok_or_else(unreachable)?;
        let cond = graph
            .edges_into(vlan)
            .first()
            .and_then(|e| e.conds.last())
            .ok_or_else(unreachable)?;
        let CondSubject::Field { header, field } = cond.subject else {
            return Err(unreachable());
        };
        let f = registry.field(header, field);
        let at = self.require(header)?;
        Ok((vlan, at, f.offset / 8, (cond.values[0], f.bits)))
    }
}

/// nft's own reading of a match where it differs from the literal one: a
/// set of one value on a flag type is that value's implicit relation
/// (`tcp flags { 0x03 }` means `tcp flags & 0x03 != 0`), as nft turns a
/// one-element anonymous set into its element.
fn nft_rewrite(m: &Match, is_flags: impl Fn(&KeyPart) -> bool) -> std::borrow::Cow<'_, Match> {
    if let (
        [part],
        Relation::InSet {
            negate: false,
            set: SetRef::Anonymous(body),
        },
    ) = (m.key.as_slice(), &m.rel)
        && let [model::Element { key, .. }] = body.elements.as_slice()
        && let [model::Atom::Value(v)] = key.as_slice()
        && is_flags(part)
        && part.bitwise.is_none()
    {
        let rel = Relation::FlagsAny {
            negate: false,
            mask: *v,
        };
        return std::borrow::Cow::Owned(Match {
            key: m.key.clone(),
            rel,
        });
    }
    std::borrow::Cow::Borrowed(m)
}

fn contiguous(loads: &[FieldLoad]) -> bool {
    loads
        .windows(2)
        .all(|w| usize::from(w[0].reg.0) + vm::chunks_for(w[0].bytes) == usize::from(w[1].reg.0))
}

fn cmp(op: model::CmpOp) -> CmpOp {
    match op {
        model::CmpOp::Eq => CmpOp::Eq,
        model::CmpOp::Ne => CmpOp::Ne,
        model::CmpOp::Lt => CmpOp::Lt,
        model::CmpOp::Le => CmpOp::Le,
        model::CmpOp::Gt => CmpOp::Gt,
        model::CmpOp::Ge => CmpOp::Ge,
    }
}

fn list(values: &[u128]) -> String {
    let items: Vec<String> = values.iter().map(|v| format!("{v:#x}")).collect();
    if items.len() == 1 {
        items[0].clone()
    } else {
        format!("{{ {} }}", items.join(", "))
    }
}
