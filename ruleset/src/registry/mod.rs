//! The protocol registry: every datatype, header, parse edge, layer and
//! meta key that the prelude and the user's declarations define.
//!
//! This is the resolved form of the declaration language (design.md 2.2).
//! Names are resolved to indices, widths and offsets are computed, and
//! header expressions are typed trees over the header's own fields. The
//! compiler reads it to place headers and to derive each rule's implied
//! dependencies; nothing about any protocol is known outside it.
//!
//! The `declare` module builds it from declarations and validates them.

mod declare;

pub use crate::ast::HBinOp;
use crate::span::Span;
use serde::Serialize;
use std::collections::HashMap;

/// Index of a datatype in [`Registry::types`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TypeId(pub u16);

/// Index of a header in [`Registry::headers`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct HeaderId(pub u16);

/// Index of a field in [`Header::fields`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct FieldId(pub u16);

/// Index of a runtime meta key in [`Registry::metas`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MetaId(pub u16);

/// How a literal of a datatype is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Form {
    /// A decimal or hex number, or a symbol of the type.
    Integer,
    /// Dotted quad.
    Ipv4,
    /// RFC 4291 text form.
    Ipv6,
    /// Six colon-separated hex bytes.
    Mac,
    /// A string, NUL padded to the width; `"eth*"` is a prefix match.
    String,
    /// A port name (string); the value is the port's index in
    /// [`crate::model::CheckedRuleset::ports`].
    Port,
}

/// A datatype (`datatype`) or symbol set (`symbols`).
#[derive(Clone, Debug, Serialize)]
pub struct DataType {
    /// Its name (`ipv4_addr`, `tcp_flag`).
    pub name: String,
    /// Width in bits.
    pub bits: u32,
    /// How literals are written.
    pub form: Form,
    /// The values are bits that combine (`tcp_flag`): a bare value means
    /// "any of these bits set".
    pub flags: bool,
    /// Symbolic constants, in declaration order.
    pub symbols: Vec<Symbol>,
    /// Where it was declared.
    pub span: Span,
}

impl DataType {
    /// The value of a symbol.
    pub fn symbol(&self, name: &str) -> Option<u128> {
        self.symbols
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.value)
    }
}

/// A symbolic constant.
#[derive(Clone, Debug, Serialize)]
pub struct Symbol {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: u128,
}

/// The type of a field, key or value: a declared datatype or a plain
/// integer, and a width.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ValueType {
    /// The datatype; `None` for a plain integer (untyped field, raw load).
    pub ty: Option<TypeId>,
    /// Width in bits.
    pub bits: u32,
}

/// The three layers the kernel's pre-parsing knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Layer {
    /// `@ll`: the frame's first header.
    Link,
    /// `@nh`, `meta protocol`.
    Network,
    /// `@th`, `meta l4proto`.
    Transport,
}

impl Layer {
    /// The layer's name in the language.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Network => "network",
            Layer::Transport => "transport",
        }
    }
}

/// A protocol header.
#[derive(Clone, Debug, Serialize)]
pub struct Header {
    /// Its name (`ip`).
    pub name: String,
    /// `at LAYER`: usable with no dependency at that layer's base (`th`).
    pub at: Option<Layer>,
    /// Named fields in order (padding is not listed; offsets account for it).
    pub fields: Vec<Field>,
    /// Sum of all field widths, padding included.
    pub bits: u32,
    /// `length = ...` in bytes; `None` means `bits / 8`.
    pub length: Option<HeaderExpr>,
    /// `valid = ...`; `None` means always valid.
    pub valid: Option<HeaderExpr>,
    /// `fragment = ...`: non-zero for a later fragment.
    pub fragment: Option<HeaderExpr>,
    /// `next = ...`: what names the following protocol.
    pub next: Option<Next>,
    /// `checksum = FIELD [pseudo]`.
    pub checksum: Option<Checksum>,
    /// Where it was declared.
    pub span: Span,
}

impl Header {
    /// The field with this name.
    pub fn field(&self, name: &str) -> Option<FieldId> {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .map(|i| FieldId(i as u16))
    }
}

/// How a header names the protocol that follows it.
#[derive(Clone, Debug, Serialize)]
pub struct Next {
    /// The field that names it, which parse edges test (`ether type`).
    pub field: FieldId,
    /// The cases in order: the first whose condition holds gives the value
    /// (a condition that reads past the frame does not hold); the last has
    /// none. A plain `next = FIELD;` is the one case `FIELD`; the first
    /// case's value is always the field.
    pub cases: Vec<NextCase>,
}

/// One case of [`Next`].
#[derive(Clone, Debug, Serialize)]
pub struct NextCase {
    /// The protocol number.
    pub value: HeaderExpr,
    /// When it applies; `None` for the last case.
    pub when: Option<HeaderExpr>,
}

/// A header field.
#[derive(Clone, Debug, Serialize)]
pub struct Field {
    /// Its name, words joined by a space (`saddr ip`).
    pub name: String,
    /// Offset in bits from the header's start, counted from the most
    /// significant bit of the first byte.
    pub offset: u32,
    /// Width in bits.
    pub bits: u32,
    /// Its type.
    pub ty: ValueType,
    /// Part of the L4 checksum pseudo header.
    pub pseudo: bool,
    /// An extra dependency: the field exists only when another field of
    /// the header has one of these values (`icmp id`).
    pub cond: Option<FieldCond>,
    /// Where it was declared.
    pub span: Span,
}

/// The condition of a field that exists only sometimes.
#[derive(Clone, Debug, Serialize)]
pub struct FieldCond {
    /// The other field of the same header.
    pub field: FieldId,
    /// The values it must have (any of them).
    pub values: Vec<u128>,
}

/// `checksum = FIELD [pseudo]`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Checksum {
    /// The 16-bit checksum field.
    pub field: FieldId,
    /// The checksum also covers the L4 pseudo header (the `pseudo` fields
    /// of the network header).
    pub pseudo: bool,
    /// A checksum field of zero means "no checksum" and is left alone.
    pub optional: bool,
}

/// A typed integer expression over a header's own fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum HeaderExpr {
    /// A constant.
    Const(u128),
    /// The value of a field of the header.
    Field(FieldId),
    /// Bytes from the header's start to the end of the frame.
    Remaining,
    /// The first this many bits after the header's end.
    Payload(u32),
    /// Logical not (a boolean).
    Not(Box<HeaderExpr>),
    /// A binary operation. Comparisons, `and` and `or` give booleans
    /// (0 or 1); the others give integers.
    Binary(HBinOp, Box<HeaderExpr>, Box<HeaderExpr>),
}

/// What a condition tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CondSubject {
    /// A header's field.
    Field {
        /// The header.
        header: HeaderId,
        /// Its field.
        field: FieldId,
    },
    /// A layer's key (`meta protocol`, `meta l4proto`).
    LayerKey(Layer),
}

/// A condition: the subject has one of the values.
#[derive(Clone, Debug, Serialize)]
pub struct Cond {
    /// What is tested.
    pub subject: CondSubject,
    /// Any of these values (at the subject's width).
    pub values: Vec<u128>,
    /// Where it was declared.
    pub span: Span,
}

/// `parse COND, ... => HEADER`: an edge of the parse graph.
#[derive(Clone, Debug, Serialize)]
pub struct ParseEdge {
    /// All must hold.
    pub conds: Vec<Cond>,
    /// The header reached.
    pub target: HeaderId,
    /// Where it was declared.
    pub span: Span,
}

/// A layer's key (`layer network key protocol ether_type`).
#[derive(Clone, Debug, Serialize)]
pub struct LayerKey {
    /// The meta key's name.
    pub name: String,
    /// Its type.
    pub ty: TypeId,
}

/// `network H [if ...]` / `transport H [if ...] [through ...]`.
#[derive(Clone, Debug, Serialize)]
pub struct LayerRule {
    /// The header whose `next` field is the layer key and after which the
    /// layer starts.
    pub header: HeaderId,
    /// All must hold for the rule to apply.
    pub conds: Vec<Cond>,
    /// Extension headers followed (by parse edges) before the layer starts.
    pub through: Vec<HeaderId>,
    /// `offloaded`: the receive path keeps the header as metadata and nft
    /// rebuilds it for loads, its `next` field from the layer key; matches
    /// on that field read the key.
    pub offloaded: bool,
    /// Where it was declared.
    pub span: Span,
}

/// What the pre-parsing computes for the network or transport layer.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LayerDecl {
    /// The key (`meta protocol`).
    pub key: Option<LayerKey>,
    /// The rules, in order: the first whose conditions hold decides.
    pub rules: Vec<LayerRule>,
}

/// A runtime meta key (`meta iifname`).
#[derive(Clone, Debug, Serialize)]
pub struct MetaKey {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: TypeId,
    /// Rules may write it (`meta mark set ...`).
    pub settable: bool,
    /// The link address field (`ether daddr`) whose class the key is, as
    /// the kernel's `eth_type_trans` finds it: `host` when the address is
    /// the input port's, else `broadcast` when all its bits are set, else
    /// `multicast` when its group bit (the first byte's lowest bit) is set,
    /// else `other`; the values are the key's datatype's symbols of those
    /// names.
    pub class_of: Option<(HeaderId, FieldId)>,
    /// Where it was declared.
    pub span: Span,
}

/// What `meta NAME` refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum MetaRef {
    /// A runtime key.
    Runtime(MetaId),
    /// A layer key.
    LayerKey(Layer),
}

/// Everything the declarations define.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Registry {
    /// Datatypes and symbol sets.
    pub types: Vec<DataType>,
    /// Headers.
    pub headers: Vec<Header>,
    /// Parse-graph edges in declaration order.
    pub edges: Vec<ParseEdge>,
    /// `layer link H`.
    pub link: Option<HeaderId>,
    /// The network layer.
    pub network: LayerDecl,
    /// The transport layer.
    pub transport: LayerDecl,
    /// Runtime meta keys.
    pub metas: Vec<MetaKey>,
    #[serde(skip)]
    type_index: HashMap<String, TypeId>,
    #[serde(skip)]
    header_index: HashMap<String, HeaderId>,
}

impl Registry {
    /// The datatype with this name.
    pub fn type_id(&self, name: &str) -> Option<TypeId> {
        self.type_index.get(name).copied()
    }

    /// The datatype with this id.
    pub fn ty(&self, id: TypeId) -> &DataType {
        &self.types[id.0 as usize]
    }

    /// The header with this name.
    pub fn header_id(&self, name: &str) -> Option<HeaderId> {
        self.header_index.get(name).copied()
    }

    /// The header with this id.
    pub fn header(&self, id: HeaderId) -> &Header {
        &self.headers[id.0 as usize]
    }

    /// A field of a header.
    pub fn field(&self, header: HeaderId, field: FieldId) -> &Field {
        &self.header(header).fields[field.0 as usize]
    }

    /// The runtime meta key or layer key with this name.
    pub fn meta(&self, name: &str) -> Option<MetaRef> {
        if let Some(i) = self.metas.iter().position(|m| m.name == name) {
            return Some(MetaRef::Runtime(MetaId(i as u16)));
        }
        [Layer::Network, Layer::Transport]
            .into_iter()
            .find(|&l| self.layer(l).key.as_ref().is_some_and(|k| k.name == name))
            .map(MetaRef::LayerKey)
    }

    /// The declaration of the network or transport layer.
    pub fn layer(&self, layer: Layer) -> &LayerDecl {
        match layer {
            Layer::Transport => &self.transport,
            _ => &self.network,
        }
    }

    /// The layer whose key a match on `field` of `header` reads: set when
    /// the layer's declaration has the header `offloaded` and the field is
    /// the one that names the following protocol.
    pub fn offloaded_key(&self, header: HeaderId, field: FieldId) -> Option<Layer> {
        if self.header(header).next.as_ref().map(|n| n.field) != Some(field) {
            return None;
        }
        [Layer::Network, Layer::Transport].into_iter().find(|&l| {
            self.layer(l)
                .rules
                .iter()
                .any(|r| r.offloaded && r.header == header)
        })
    }

    /// The type of a meta key.
    pub fn meta_type(&self, meta: MetaRef) -> ValueType {
        let ty = match meta {
            MetaRef::Runtime(id) => self.metas[id.0 as usize].ty,
            MetaRef::LayerKey(l) => self.layer(l).key.as_ref().map_or(TypeId(0), |k| k.ty),
        };
        ValueType {
            ty: Some(ty),
            bits: self.ty(ty).bits,
        }
    }

    /// The name of a meta key.
    pub fn meta_name(&self, meta: MetaRef) -> &str {
        match meta {
            MetaRef::Runtime(id) => &self.metas[id.0 as usize].name,
            MetaRef::LayerKey(l) => self.layer(l).key.as_ref().map_or("", |k| k.name.as_str()),
        }
    }

    /// Every meta key name (runtime and layer keys).
    pub fn meta_names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.metas.iter().map(|m| m.name.as_str()).collect();
        v.extend(
            [&self.network, &self.transport]
                .iter()
                .filter_map(|l| l.key.as_ref())
                .map(|k| k.name.as_str()),
        );
        v
    }

    /// How a type reads in messages: `ipv4_addr`, or `16-bit integer`.
    pub fn type_name(&self, vt: ValueType) -> String {
        match vt.ty {
            Some(t) => self.ty(t).name.clone(),
            None => format!("{}-bit integer", vt.bits),
        }
    }

    /// The form and symbols of a value type.
    pub fn form(&self, vt: ValueType) -> Form {
        vt.ty.map_or(Form::Integer, |t| self.ty(t).form)
    }

    /// True when the type's values are combinable flags.
    pub fn is_flags(&self, vt: ValueType) -> bool {
        vt.ty.is_some_and(|t| self.ty(t).flags)
    }
}
