//! The syntax tree: what the parser produces, before any name is resolved.
//!
//! Every node keeps its [`Span`]. Literals keep their text and lexical kind;
//! their meaning depends on the type they are compared with and is decided
//! by the resolver. `include` keeps the included file's items in place.

use crate::span::Span;

/// A name or keyword as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The text.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A number as written (decimal or hex), with its span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Num {
    /// Its value (saturated at `u128::MAX` when it does not fit).
    pub value: u128,
    /// Where.
    pub span: Span,
}

/// A parsed file (or an included one).
#[derive(Clone, Debug, Default)]
pub struct File {
    /// Top-level items in order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug)]
pub enum Item {
    /// `flush ruleset`: accepted, no effect.
    Flush(Span),
    /// `include "file"` with the included file's items.
    Include(Include),
    /// `define NAME = VALUE`.
    Define(Define),
    /// `table FAMILY NAME { ... }`.
    Table(Table),
    /// A declaration of the protocol language.
    Decl(Decl),
}

/// `include "file"`.
#[derive(Clone, Debug)]
pub struct Include {
    /// The path as written.
    pub path: String,
    /// The included file's items (empty when it could not be read).
    pub file: File,
    /// The whole directive.
    pub span: Span,
}

/// `define NAME = VALUE`.
#[derive(Clone, Debug)]
pub struct Define {
    /// The variable.
    pub name: Ident,
    /// Its value.
    pub value: Value,
    /// The whole definition.
    pub span: Span,
}

/// `table FAMILY NAME { ... }`.
#[derive(Clone, Debug)]
pub struct Table {
    /// `netdev`, `bridge` or `inet` (others are rejected by the resolver).
    pub family: Ident,
    /// The table's name.
    pub name: Ident,
    /// Its contents.
    pub items: Vec<TableItem>,
    /// The whole table.
    pub span: Span,
}

/// An item inside a table.
#[derive(Clone, Debug)]
pub enum TableItem {
    /// `chain NAME { ... }`.
    Chain(Chain),
    /// `set NAME { ... }` or `map NAME { ... }`.
    Set(SetDecl),
    /// `define NAME = VALUE` (scoped to the table).
    Define(Define),
}

/// `chain NAME { ... }`.
#[derive(Clone, Debug)]
pub struct Chain {
    /// The chain's name.
    pub name: Ident,
    /// `type filter hook ... priority ...;` when it is a base chain.
    pub hook: Option<Hook>,
    /// `policy accept|drop;`.
    pub policy: Option<Ident>,
    /// The rules in order.
    pub rules: Vec<Rule>,
    /// The whole chain.
    pub span: Span,
}

/// `type KIND hook HOOK [device DEV] priority PRIO`.
#[derive(Clone, Debug)]
pub struct Hook {
    /// The chain type (`filter`).
    pub kind: Ident,
    /// The hook (`ingress`).
    pub hook: Ident,
    /// `device "X"` (a string or a variable).
    pub device: Option<Value>,
    /// The priority.
    pub priority: Priority,
    /// The whole declaration.
    pub span: Span,
}

/// A chain priority: a number, or a named priority plus an offset.
#[derive(Clone, Debug)]
pub struct Priority {
    /// `filter` in `filter + 10`.
    pub name: Option<Ident>,
    /// The number, or the offset from the named priority.
    pub offset: i64,
    /// Where.
    pub span: Span,
}

/// `set NAME { ... }` or `map NAME { ... }`.
#[derive(Clone, Debug)]
pub struct SetDecl {
    /// Set or map.
    pub kind: SetKind,
    /// The name (used as `@NAME`).
    pub name: Ident,
    /// `type A . B` or `typeof EXPR . EXPR`: the key.
    pub key: Option<KeySpec>,
    /// For maps: the data type after `:`.
    pub data: Option<KeySpec>,
    /// `flags a, b`.
    pub flags: Vec<Ident>,
    /// `elements = { ... }`.
    pub elements: Option<SetLit>,
    /// The whole declaration.
    pub span: Span,
}

/// Whether a [`SetDecl`] is a set or a map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetKind {
    /// `set`.
    Set,
    /// `map`.
    Map,
}

/// The key or data type of a named set or map.
#[derive(Clone, Debug)]
pub enum KeySpec {
    /// `type A . B`: datatype names (or `verdict` for map data).
    Types(Vec<Ident>),
    /// `typeof EXPR . EXPR`.
    Typeof(Vec<Expr>),
}

/// A rule: matches and statements, optionally a comment.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Matches and statements in order.
    pub stmts: Vec<Stmt>,
    /// `comment "..."`.
    pub comment: Option<Ident>,
    /// The whole rule.
    pub span: Span,
}

/// One element of a rule.
#[derive(Clone, Debug)]
pub enum Stmt {
    /// `EXPR [OP] VALUE`.
    Match(Match),
    /// `EXPR vmap { ... }` or `EXPR vmap @M`.
    VMap {
        /// The key.
        key: Expr,
        /// The map: a set literal, `@M` or `$var`.
        map: Value,
        /// The whole statement.
        span: Span,
    },
    /// `counter [packets N bytes N]`.
    Counter {
        /// Initial packet count.
        packets: Option<Num>,
        /// Initial byte count.
        bytes: Option<Num>,
        /// The whole statement.
        span: Span,
    },
    /// `limit rate ...`.
    Limit(Box<Limit>),
    /// `log [prefix "..."] [level L]`.
    Log {
        /// `prefix "..."`.
        prefix: Option<Ident>,
        /// `level L`.
        level: Option<Ident>,
        /// The whole statement.
        span: Span,
    },
    /// `EXPR set VALUE` or `EXPR set EXPR map { ... }`.
    Set {
        /// What is written: a field, `meta KEY` or a raw load.
        target: Expr,
        /// The new value.
        value: Box<SetValue>,
        /// The whole statement.
        span: Span,
    },
    /// `fwd to PORT`.
    Fwd {
        /// The port (a string or a variable).
        port: Value,
        /// The whole statement.
        span: Span,
    },
    /// `dup to PORT`.
    Dup {
        /// The port.
        port: Value,
        /// The whole statement.
        span: Span,
    },
    /// `vlan push ID`.
    VlanPush {
        /// The VLAN id.
        id: Value,
        /// The whole statement.
        span: Span,
    },
    /// `vlan pop`.
    VlanPop(Span),
    /// A verdict.
    Verdict(Verdict),
}

/// `limit rate [over] N[/UNIT | UNIT/TIME] [burst M [UNIT]]`.
#[derive(Clone, Debug)]
pub struct Limit {
    /// `over`: the statement matches when the rate is exceeded.
    pub over: bool,
    /// The rate.
    pub rate: Num,
    /// `bytes`, `kbytes`, `mbytes` when the rate is in bytes.
    pub rate_unit: Option<Ident>,
    /// `second`, `minute`, `hour`, `day`, `week`.
    pub per: Ident,
    /// `burst M`.
    pub burst: Option<Num>,
    /// `packets`, `bytes`, `kbytes`, `mbytes` after the burst.
    pub burst_unit: Option<Ident>,
    /// The whole statement.
    pub span: Span,
}

/// The value of a `set` statement.
#[derive(Clone, Debug)]
pub enum SetValue {
    /// A constant.
    Value(Value),
    /// `EXPR map { ... }` or `EXPR map @M`.
    Map {
        /// The key.
        key: Expr,
        /// The map: a set literal, `@M` or `$var`.
        map: Value,
    },
}

/// `EXPR [OP] VALUE`.
#[derive(Clone, Debug)]
pub struct Match {
    /// The left-hand side.
    pub lhs: Expr,
    /// The operator; `None` is the implicit relation.
    pub op: Option<(RelOp, Span)>,
    /// The right-hand side.
    pub rhs: Value,
    /// The whole match.
    pub span: Span,
}

/// A relational operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelOp {
    /// `==` / `eq`.
    Eq,
    /// `!=` / `ne`.
    Ne,
    /// `<` / `lt`.
    Lt,
    /// `<=` / `le`.
    Le,
    /// `>` / `gt`.
    Gt,
    /// `>=` / `ge`.
    Ge,
}

/// A bitwise operator on a left-hand side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    /// `&` / `and`.
    And,
    /// `|` / `or`.
    Or,
    /// `^` / `xor`.
    Xor,
}

/// Something read from the packet or its metadata.
#[derive(Clone, Debug)]
pub enum Expr {
    /// `HEADER FIELD` (`ip saddr`, `arp saddr ip`).
    Field {
        /// The header name.
        header: Ident,
        /// The field name, words joined by one space.
        field: Ident,
    },
    /// `meta KEY`, or a bare meta key (`iifname`).
    Meta {
        /// The key.
        key: Ident,
        /// The whole expression.
        span: Span,
    },
    /// `@BASE,OFFSET,LENGTH` (bits).
    Raw {
        /// `ll`, `nh`, `th` or a header name.
        base: Ident,
        /// Offset in bits.
        offset: Num,
        /// Length in bits.
        len: Num,
        /// The whole expression.
        span: Span,
    },
    /// `A . B . C`.
    Concat(Vec<Expr>, Span),
    /// `EXPR & VALUE` (and `|`, `^`).
    Bitwise {
        /// The operator.
        op: BitOp,
        /// The operand read from the packet.
        expr: Box<Expr>,
        /// The constant.
        value: Box<Value>,
        /// The whole expression.
        span: Span,
    },
}

impl Expr {
    /// The expression's span.
    pub fn span(&self) -> Span {
        match self {
            Expr::Field { header, field } => header.span.to(field.span),
            Expr::Meta { span, .. }
            | Expr::Raw { span, .. }
            | Expr::Concat(_, span)
            | Expr::Bitwise { span, .. } => *span,
        }
    }
}

/// The lexical kind of a literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LitKind {
    /// Decimal number.
    Number,
    /// Hex number.
    Hex,
    /// IPv4 address.
    Ipv4,
    /// IPv6 address.
    Ipv6,
    /// MAC address.
    Mac,
    /// Quoted string (the text is without quotes).
    Str,
    /// A word: a symbolic constant or an unquoted string.
    Word,
}

/// A right-hand-side value.
#[derive(Clone, Debug)]
pub enum Value {
    /// A literal.
    Lit {
        /// Its lexical kind.
        kind: LitKind,
        /// Its text (strings without quotes).
        text: String,
        /// Where.
        span: Span,
    },
    /// `$NAME`.
    Var(Ident),
    /// `@NAME`.
    SetRef(Ident),
    /// `{ ... }`.
    Set(SetLit),
    /// `A/B`: a prefix, or a value and mask on a flag type.
    Slash(Box<Value>, Box<Value>, Span),
    /// `A-B`.
    Range(Box<Value>, Box<Value>, Span),
    /// `A . B`.
    Concat(Vec<Value>, Span),
    /// `A, B` outside braces: a flag list.
    List(Vec<Value>, Span),
    /// `A | B`.
    Or(Vec<Value>, Span),
    /// `! A`: no flag of A set.
    Not(Box<Value>, Span),
}

impl Value {
    /// The value's span.
    pub fn span(&self) -> Span {
        match self {
            Value::Lit { span, .. }
            | Value::Slash(_, _, span)
            | Value::Range(_, _, span)
            | Value::Concat(_, span)
            | Value::List(_, span)
            | Value::Or(_, span)
            | Value::Not(_, span) => *span,
            Value::Var(i) | Value::SetRef(i) => i.span,
            Value::Set(s) => s.span,
        }
    }
}

/// `{ elem, elem : data, ... }`.
#[derive(Clone, Debug)]
pub struct SetLit {
    /// The elements.
    pub elems: Vec<SetElem>,
    /// The braces and everything between.
    pub span: Span,
}

/// One element of a set literal.
#[derive(Clone, Debug)]
pub struct SetElem {
    /// The key (a value, prefix, range, concatenation, or `$var`).
    pub key: Value,
    /// For maps: the data after `:`.
    pub data: Option<ElemData>,
    /// The whole element.
    pub span: Span,
}

/// The data of a map element.
#[derive(Clone, Debug)]
pub enum ElemData {
    /// A verdict (verdict maps).
    Verdict(Verdict),
    /// A value.
    Value(Value),
}

/// A verdict statement.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// Which verdict.
    pub kind: VerdictKind,
    /// Where.
    pub span: Span,
}

/// The verdicts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerdictKind {
    /// `accept`.
    Accept,
    /// `drop`.
    Drop,
    /// `continue`.
    Continue,
    /// `return`.
    Return,
    /// `jump CHAIN`.
    Jump(Ident),
    /// `goto CHAIN`.
    Goto(Ident),
    /// `flood`.
    Flood,
}

/// A declaration of the protocol language (design.md 2.2).
#[derive(Clone, Debug)]
pub enum Decl {
    /// `datatype NAME : BITS [FORM];`
    Datatype {
        /// The type's name.
        name: Ident,
        /// Its width.
        bits: Num,
        /// `integer`, `ipv4`, `ipv6`, `mac`, `string`, `port`.
        form: Option<Ident>,
        /// The whole declaration.
        span: Span,
    },
    /// `symbols NAME : BITS [flags] { sym = VALUE, ... }`
    Symbols {
        /// The type's name.
        name: Ident,
        /// Its width.
        bits: Num,
        /// `flags`: the values are bits that combine.
        flags: bool,
        /// The constants.
        symbols: Vec<(Ident, Num)>,
        /// The whole declaration.
        span: Span,
    },
    /// `header NAME [at LAYER] { ... }`
    Header(HeaderDecl),
    /// `parse COND, ... => HEADER;`
    Parse {
        /// The conditions, all of which must hold.
        conds: Vec<CondDecl>,
        /// The header reached.
        target: Ident,
        /// The whole declaration.
        span: Span,
    },
    /// `layer link HEADER;`
    LayerLink {
        /// The link header.
        header: Ident,
        /// The whole declaration.
        span: Span,
    },
    /// `layer network|transport key NAME TYPE;`
    LayerKey {
        /// `network` or `transport`.
        layer: Ident,
        /// The key's name (`meta NAME`).
        key: Ident,
        /// Its datatype.
        ty: Ident,
        /// The whole declaration.
        span: Span,
    },
    /// `network|transport HEADER [if COND, ...] [through H, ...] [offloaded];`
    LayerRule {
        /// `network` or `transport`.
        layer: Ident,
        /// The header the layer follows.
        header: Ident,
        /// Conditions, all of which must hold.
        conds: Vec<CondDecl>,
        /// Extension headers skipped before the layer starts.
        through: Vec<Ident>,
        /// The receive path takes the header off the frame and keeps it as
        /// metadata; matches read it as nft rebuilds it.
        offloaded: bool,
        /// The whole declaration.
        span: Span,
    },
    /// `meta NAME : TYPE [settable] [class of HEADER FIELD];`
    Meta {
        /// The key's name.
        name: Ident,
        /// Its datatype.
        ty: Ident,
        /// `settable`: rules may write it (`meta mark set 1`).
        settable: bool,
        /// `class of HEADER FIELD`: the key is the class of that link
        /// address (see [`crate::registry::MetaKey::class_of`]).
        class_of: Option<(Ident, Ident)>,
        /// The whole declaration.
        span: Span,
    },
}

/// `header NAME [at LAYER] { ... }`.
#[derive(Clone, Debug)]
pub struct HeaderDecl {
    /// The header's name.
    pub name: Ident,
    /// `at LAYER`.
    pub at: Option<Ident>,
    /// Fields in order, padding included.
    pub fields: Vec<FieldDecl>,
    /// `length = ...;` and the other attributes.
    pub attrs: Vec<HeaderAttr>,
    /// The whole declaration.
    pub span: Span,
}

/// `FIELD [WORD...] : BITS [TYPE] [pseudo] [if COND];`
#[derive(Clone, Debug)]
pub struct FieldDecl {
    /// The name, words joined by one space; `_` for padding.
    pub name: Ident,
    /// Width in bits.
    pub bits: Num,
    /// Datatype or symbol set.
    pub ty: Option<Ident>,
    /// Part of the L4 checksum pseudo header.
    pub pseudo: bool,
    /// An extra dependency of this field on another field of the header.
    pub cond: Option<CondDecl>,
    /// The whole declaration.
    pub span: Span,
}

/// A header attribute.
#[derive(Clone, Debug)]
pub struct HeaderAttr {
    /// Which attribute.
    pub kind: AttrKind,
    /// The whole attribute.
    pub span: Span,
}

/// The header attributes.
#[derive(Clone, Debug)]
pub enum AttrKind {
    /// `length = EXPR;` in bytes.
    Length(HExpr),
    /// `valid = EXPR;`
    Valid(HExpr),
    /// `fragment = EXPR;`
    Fragment(HExpr),
    /// `next = FIELD [if COND else VALUE [if COND else VALUE ...]];`
    Next(Vec<NextCaseDecl>),
    /// `checksum = FIELD [pseudo] [optional];`
    Checksum {
        /// The checksum field.
        field: Ident,
        /// Covers the L4 pseudo header.
        pseudo: bool,
        /// A field of zero means "no checksum" (UDP over IPv4).
        optional: bool,
    },
}

/// One case of `next`: `VALUE` or `VALUE if COND`. The first case's value
/// is the field that names the following protocol.
#[derive(Clone, Debug)]
pub struct NextCaseDecl {
    /// The protocol number.
    pub value: HExpr,
    /// When it applies; `None` for the last case.
    pub when: Option<HExpr>,
}

/// A condition of a parse edge, layer rule or field dependency.
#[derive(Clone, Debug)]
pub struct CondDecl {
    /// What is tested.
    pub subject: CondSubject,
    /// The value(s) it must have: a value or a set literal.
    pub values: Value,
    /// The whole condition.
    pub span: Span,
}

/// The subject of a [`CondDecl`].
#[derive(Clone, Debug)]
pub enum CondSubject {
    /// `HEADER FIELD`.
    Field {
        /// The header.
        header: Ident,
        /// The field.
        field: Ident,
    },
    /// `meta KEY` (a layer key).
    Meta(Ident),
    /// A field of the header being declared (in `if` of a field).
    Own(Ident),
}

/// An integer expression over a header's fields.
#[derive(Clone, Debug)]
pub enum HExpr {
    /// A number.
    Num(Num),
    /// A field of the header.
    Field(Ident),
    /// `remaining`: bytes from the header's start to the end of the frame.
    Remaining(Span),
    /// `payload BITS`: the first bits after the header's end.
    Payload(Num, Span),
    /// `not E`.
    Not(Box<HExpr>, Span),
    /// `A op B`.
    Binary(HBinOp, Box<HExpr>, Box<HExpr>, Span),
}

impl HExpr {
    /// The expression's span.
    pub fn span(&self) -> Span {
        match self {
            HExpr::Num(n) => n.span,
            HExpr::Field(i) => i.span,
            HExpr::Remaining(s)
            | HExpr::Payload(_, s)
            | HExpr::Not(_, s)
            | HExpr::Binary(_, _, _, s) => *s,
        }
    }
}

/// Binary operators of header expressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum HBinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `|`
    BitOr,
    /// `&`
    BitAnd,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
}
