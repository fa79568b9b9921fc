//! Name resolution and type checking: the syntax tree to the checked model.
//!
//! Declarations are added to the registry in file order; tables are
//! resolved afterwards, each on its own: chains and sets by name (so jumps
//! may point forward), every field against the registry, every constant
//! against the type it is compared with, `$var` by substitution (a
//! variable must be defined before the item that uses it), and finally the
//! jump/goto graph is checked for cycles.

use crate::ast::{
    self, ElemData, Expr, Item, KeySpec, LitKind, RelOp, TableItem, Value, VerdictKind,
};
use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::literal::{Scalar, literal, max_value};
use crate::model::*;
use crate::registry::{Form, Layer, MetaRef, Registry, ValueType};
use crate::span::Span;
use std::collections::HashMap;

/// Log levels nftables accepts.
const LOG_LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit",
];

/// Names the thing a value is compared with, for messages; only called
/// when there is an error to report.
type What<'w> = &'w dyn Fn() -> String;

/// Definitions by name, with the order of the item that made them.
type Defs<'a> = HashMap<&'a str, (u32, &'a ast::Define)>;

/// A table as collected from (possibly several) declarations.
struct TableParts<'a> {
    family: Family,
    name: &'a str,
    span: Span,
    items: Vec<(u32, &'a TableItem)>,
}

/// Resolves a parsed file against `reg` (which it extends with the file's
/// declarations). Returns the tables and port names; errors go to `diags`.
pub(crate) fn resolve(
    file: &ast::File,
    reg: &mut Registry,
    diags: &mut Vec<Diagnostic>,
) -> (Vec<Table>, Vec<String>) {
    let mut globals = Defs::new();
    let mut tables: Vec<TableParts> = Vec::new();
    let mut order = 0u32;
    collect(
        &file.items,
        reg,
        diags,
        &mut globals,
        &mut tables,
        &mut order,
    );
    let mut ports = Ports::default();
    let out = tables
        .iter()
        .map(|t| Checker::new(reg, &globals, &mut ports, diags).table(t))
        .collect();
    (out, ports.names)
}

/// Walks the items in order: declarations into the registry, global
/// defines into `globals`, tables into `tables` (merging repeats).
fn collect<'a>(
    items: &'a [Item],
    reg: &mut Registry,
    diags: &mut Vec<Diagnostic>,
    globals: &mut Defs<'a>,
    tables: &mut Vec<TableParts<'a>>,
    order: &mut u32,
) {
    for item in items {
        *order += 1;
        match item {
            Item::Flush(_) => {}
            Item::Include(inc) => collect(&inc.file.items, reg, diags, globals, tables, order),
            Item::Decl(d) => reg.declare(d, diags),
            Item::Define(d) => define(globals, d, *order, diags),
            Item::Table(t) => {
                let family = match t.family.name.as_str() {
                    "bridge" => Family::Bridge,
                    "inet" => Family::Inet,
                    _ => Family::Netdev,
                };
                let idx = match tables
                    .iter()
                    .position(|p| p.family == family && p.name == t.name.name)
                {
                    Some(i) => i,
                    None => {
                        tables.push(TableParts {
                            family,
                            name: &t.name.name,
                            span: t.span,
                            items: Vec::new(),
                        });
                        tables.len() - 1
                    }
                };
                for ti in &t.items {
                    *order += 1;
                    tables[idx].items.push((*order, ti));
                }
            }
        }
    }
}

fn define<'a>(defs: &mut Defs<'a>, d: &'a ast::Define, order: u32, diags: &mut Vec<Diagnostic>) {
    if let Some((_, prev)) = defs.get(d.name.name.as_str()) {
        diags.push(
            Diagnostic::error(
                d.name.span,
                format!("redefinition of `${}`", d.name.name),
                "defined again here",
            )
            .with_label(prev.name.span, "first defined here"),
        );
        return;
    }
    defs.insert(&d.name.name, (order, d));
}

/// Port names in order of first mention.
#[derive(Default)]
struct Ports {
    names: Vec<String>,
    index: HashMap<String, PortId>,
}

impl Ports {
    fn id(&mut self, name: &str) -> PortId {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = PortId(self.names.len() as u16);
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), id);
        id
    }
}

/// Resolves one table.
struct Checker<'a, 'c> {
    reg: &'c Registry,
    globals: &'c Defs<'a>,
    locals: Defs<'a>,
    ports: &'c mut Ports,
    diags: &'c mut Vec<Diagnostic>,
    chains: HashMap<&'a str, ChainId>,
    sets: HashMap<&'a str, SetId>,
    /// Key and data types of the named sets, by [`SetId`].
    set_types: Vec<(Vec<ValueType>, Option<MapData>)>,
    family: Family,
}

type R<T> = Result<T, Diagnostic>;

impl<'a, 'c> Checker<'a, 'c> {
    fn new(
        reg: &'c Registry,
        globals: &'c Defs<'a>,
        ports: &'c mut Ports,
        diags: &'c mut Vec<Diagnostic>,
    ) -> Self {
        Checker {
            reg,
            globals,
            locals: Defs::new(),
            ports,
            diags,
            chains: HashMap::new(),
            sets: HashMap::new(),
            set_types: Vec::new(),
            family: Family::Netdev,
        }
    }

    fn table(mut self, parts: &TableParts<'a>) -> Table {
        self.family = parts.family;
        // Chains (merged by name) and set names first, so references may point forward.
        let mut chain_decls: Vec<(&'a str, Vec<&'a ast::Chain>, u32)> = Vec::new();
        let mut set_decls: Vec<(&'a ast::SetDecl, u32)> = Vec::new();
        for &(order, item) in &parts.items {
            match item {
                TableItem::Chain(c) => {
                    match chain_decls.iter_mut().find(|(n, _, _)| *n == c.name.name) {
                        Some((_, decls, _)) => decls.push(c),
                        None => {
                            self.chains
                                .insert(&c.name.name, ChainId(chain_decls.len() as u32));
                            chain_decls.push((&c.name.name, vec![c], order));
                        }
                    }
                }
                TableItem::Set(s) => {
                    if let Some(&id) = self.sets.get(s.name.name.as_str()) {
                        let prev = set_decls[id.0 as usize].0;
                        self.diags.push(
                            Diagnostic::error(
                                s.name.span,
                                format!("set `{}` declared twice", s.name.name),
                                "duplicate",
                            )
                            .with_label(prev.name.span, "first declared here"),
                        );
                        continue;
                    }
                    self.sets
                        .insert(&s.name.name, SetId(set_decls.len() as u32));
                    set_decls.push((s, order));
                }
                TableItem::Define(d) => define(&mut self.locals, d, order, self.diags),
            }
        }
        // Set types, then their elements (which may name chains).
        let types: Vec<_> = set_decls
            .iter()
            .map(|(s, o)| self.set_type(s, *o))
            .collect();
        self.set_types = types
            .iter()
            .map(|t| t.clone().unwrap_or_default())
            .collect();
        let mut sets = Vec::new();
        for ((s, order), ty) in set_decls.iter().zip(types) {
            let Some((key, data)) = ty else { continue };
            let body = match &s.elements {
                Some(lit) => match self.set_body(&key, data, lit, *order) {
                    Ok(b) => b,
                    Err(d) => {
                        self.diags.push(d);
                        continue;
                    }
                },
                None => SetBody {
                    key,
                    data,
                    interval: false,
                    elements: Vec::new(),
                },
            };
            let interval = s.flags.iter().any(|f| f.name == "interval");
            if body.interval && !interval {
                let d = Diagnostic::error(
                    s.name.span,
                    format!("set `{}` has prefix or range elements", s.name.name),
                    "needs `flags interval`",
                )
                .with_help("add `flags interval` to the set's declaration");
                self.diags.push(d);
            }
            sets.push(NamedSet {
                name: s.name.name.clone(),
                body: SetBody {
                    interval: body.interval || interval,
                    ..body
                },
                span: s.span,
            });
        }
        let chains: Vec<Chain> = chain_decls
            .iter()
            .map(|(name, decls, order)| self.chain(name, decls, *order))
            .collect();
        self.check_cycles(&chains, &sets);
        Table {
            family: parts.family,
            name: parts.name.to_owned(),
            chains,
            sets,
            span: parts.span,
        }
    }

    // ---- sets ----

    /// The key and data types of a named set, or `None` after an error.
    fn set_type(
        &mut self,
        s: &'a ast::SetDecl,
        order: u32,
    ) -> Option<(Vec<ValueType>, Option<MapData>)> {
        let r = (|| -> R<(Vec<ValueType>, Option<MapData>)> {
            for f in &s.flags {
                match f.name.as_str() {
                    "interval" | "constant" => {}
                    "timeout" | "dynamic" => {
                        return Err(unsupported(f.span, &format!("set flag {}", f.name)));
                    }
                    other => {
                        return Err(Diagnostic::error(
                            f.span,
                            format!("unknown set flag `{other}`"),
                            "not a set flag",
                        )
                        .with_help_opt(did_you_mean(other, ["interval", "constant"])));
                    }
                }
            }
            let Some(key) = &s.key else {
                return Err(Diagnostic::error(
                    s.name.span,
                    format!("set `{}` has no type", s.name.name),
                    "needs `type` or `typeof`",
                ));
            };
            let key = self.key_spec(key, order)?;
            let data = match (&s.kind, &s.data) {
                (ast::SetKind::Set, _) => None,
                (ast::SetKind::Map, Some(KeySpec::Types(t)))
                    if t.len() == 1 && t[0].name == "verdict" =>
                {
                    Some(MapData::Verdict)
                }
                (ast::SetKind::Map, Some(spec)) => {
                    let t = self.key_spec(spec, order)?;
                    if t.len() != 1 {
                        return Err(unsupported(s.name.span, "concatenated map data"));
                    }
                    Some(MapData::Value(t[0]))
                }
                (ast::SetKind::Map, None) => {
                    return Err(Diagnostic::error(
                        s.name.span,
                        format!("map `{}` has no data type", s.name.name),
                        "needs `type KEY : DATA`",
                    ));
                }
            };
            Ok((key, data))
        })();
        r.map_err(|d| self.diags.push(d)).ok()
    }

    fn key_spec(&mut self, spec: &'a KeySpec, order: u32) -> R<Vec<ValueType>> {
        match spec {
            KeySpec::Types(names) => names
                .iter()
                .map(|n| {
                    if n.name == "verdict" {
                        return Err(Diagnostic::error(
                            n.span,
                            "`verdict` can only be a map's data type",
                            "not a key type",
                        ));
                    }
                    let t = self.reg.type_ref(n)?;
                    Ok(ValueType {
                        ty: Some(t),
                        bits: self.reg.ty(t).bits,
                    })
                })
                .collect(),
            KeySpec::Typeof(exprs) => {
                let mut out = Vec::new();
                for e in exprs {
                    out.extend(self.key(e, order)?.into_iter().map(|p| p.ty));
                }
                Ok(out)
            }
        }
    }

    fn set_body(
        &mut self,
        key: &[ValueType],
        data: Option<MapData>,
        lit: &'a ast::SetLit,
        order: u32,
    ) -> R<SetBody> {
        let mut elements = Vec::with_capacity(lit.elems.len());
        let mut last_err = None;
        for e in &lit.elems {
            let r = (|| -> R<()> {
                let value = match (data, &e.data) {
                    (None, None) => None,
                    (None, Some(_)) => {
                        return Err(Diagnostic::error(
                            e.span,
                            "a set element has no data",
                            "unexpected `:`",
                        )
                        .with_help("only maps have `KEY : VALUE` elements"));
                    }
                    (Some(_), None) => {
                        return Err(Diagnostic::error(
                            e.span,
                            "a map element needs `: VALUE`",
                            "no data",
                        ));
                    }
                    (Some(MapData::Verdict), Some(ElemData::Verdict(v))) => {
                        Some(MapValue::Verdict(self.verdict(v)?))
                    }
                    (Some(MapData::Verdict), Some(ElemData::Value(v))) => {
                        return Err(Diagnostic::error(v.span(), "expected a verdict", "not a verdict")
                            .with_help("the data of a verdict map are accept, drop, continue, return, jump C or goto C"));
                    }
                    (Some(MapData::Value(t)), Some(ElemData::Value(v))) => Some(MapValue::Value(
                        self.value(t, v, order, &|| "the map's data".to_owned())?,
                    )),
                    (Some(MapData::Value(t)), Some(ElemData::Verdict(v))) => {
                        return Err(Diagnostic::error(
                            v.span,
                            format!(
                                "expected a value of {}, found a verdict",
                                self.reg.type_name(t)
                            ),
                            "a verdict",
                        ));
                    }
                };
                let mut keys = Vec::new();
                self.elements(
                    key,
                    &e.key,
                    order,
                    &|| "the set's key".to_owned(),
                    &mut keys,
                )?;
                elements.extend(keys.into_iter().map(|k| Element {
                    key: k,
                    data: value,
                    span: e.span,
                }));
                Ok(())
            })();
            if let Err(d) = r
                && let Some(prev) = last_err.replace(d)
            {
                self.diags.push(prev);
            }
        }
        if let Some(d) = last_err {
            return Err(d);
        }
        if data.is_some() {
            // The kernel refuses a map with the same key twice.
            let mut seen = HashMap::with_capacity(elements.len());
            for e in &elements {
                if let Some(first) = seen.insert(&e.key, e.span) {
                    return Err(Diagnostic::error(
                        e.span,
                        "this key is already in the map",
                        "duplicate key",
                    )
                    .with_label(first, "first here"));
                }
            }
        }
        let interval = elements
            .iter()
            .any(|e| e.key.iter().any(|a| !matches!(a, Atom::Value(_))));
        Ok(SetBody {
            key: key.to_vec(),
            data,
            interval,
            elements,
        })
    }

    /// A set used by a rule: `{ ... }`, `@NAME` or a variable holding one.
    fn set_ref(
        &mut self,
        key: &[KeyPart],
        data: Option<MapData>,
        v: &'a Value,
        order: u32,
    ) -> R<SetRef> {
        let types: Vec<ValueType> = key.iter().map(|p| p.ty).collect();
        let (v, order) = self.deref(v, order)?;
        match v {
            Value::Set(lit) => Ok(SetRef::Anonymous(self.set_body(&types, data, lit, order)?)),
            Value::SetRef(name) => {
                let Some(&id) = self.sets.get(name.name.as_str()) else {
                    let names: Vec<&str> = self.sets.keys().copied().collect();
                    return Err(Diagnostic::error(
                        name.span,
                        format!("undefined set `@{}`", name.name),
                        "no set or map of this name in the table",
                    )
                    .with_help_opt(did_you_mean(&name.name, names)));
                };
                let (set_key, set_data) = &self.set_types[id.0 as usize];
                let show = |t: &[ValueType]| {
                    t.iter()
                        .map(|t| self.reg.type_name(*t))
                        .collect::<Vec<_>>()
                        .join(" . ")
                };
                if set_key.as_slice() != types.as_slice() {
                    return Err(Diagnostic::error(
                        name.span,
                        format!(
                            "type mismatch: `@{}` holds {}, but the key is {}",
                            name.name,
                            show(set_key),
                            show(&types)
                        ),
                        format!("expected a set of {}", show(&types)),
                    ));
                }
                match (data, set_data) {
                    (None, None) => {}
                    (None, Some(_)) => {
                        return Err(Diagnostic::error(
                            name.span,
                            format!("`@{}` is a map, not a set", name.name),
                            "a map",
                        )
                        .with_help(format!(
                            "look values up with `map @{0}` or verdicts with `vmap @{0}`",
                            name.name
                        )));
                    }
                    (Some(_), None) => {
                        return Err(Diagnostic::error(
                            name.span,
                            format!("`@{}` is a set, not a map", name.name),
                            "a set",
                        ));
                    }
                    (Some(want), Some(have)) if want != *have => {
                        let show_data = |d: MapData| match d {
                            MapData::Verdict => "verdicts".to_owned(),
                            MapData::Value(t) => format!("{} values", self.reg.type_name(t)),
                        };
                        return Err(Diagnostic::error(
                            name.span,
                            format!(
                                "type mismatch: map `@{}` holds {}, expected {}",
                                name.name,
                                show_data(*have),
                                show_data(want)
                            ),
                            "wrong data type",
                        ));
                    }
                    _ => {}
                }
                Ok(SetRef::Named(id))
            }
            other => Err(Diagnostic::error(
                other.span(),
                "expected a set `{ ... }` or `@name`",
                "not a set",
            )),
        }
    }

    // ---- values ----

    /// Follows `$var` to the value it names, with the order for lookups inside it.
    fn deref(&self, v: &'a Value, order: u32) -> R<(&'a Value, u32)> {
        let (mut v, mut order) = (v, order);
        while let Value::Var(name) = v {
            let found = [&self.locals, self.globals]
                .into_iter()
                .find_map(|d| d.get(name.name.as_str()));
            match found {
                Some(&(o, d)) if o < order => {
                    v = &d.value;
                    order = o;
                }
                Some((_, d)) => {
                    return Err(Diagnostic::error(
                        name.span,
                        format!("`${}` is used before its definition", name.name),
                        "used here",
                    )
                    .with_label(d.name.span, "defined here"));
                }
                None => {
                    let known: Vec<&str> = self
                        .locals
                        .keys()
                        .chain(self.globals.keys())
                        .copied()
                        .collect();
                    return Err(Diagnostic::error(
                        name.span,
                        format!("undefined variable `${}`", name.name),
                        "not defined",
                    )
                    .with_help_opt(did_you_mean(&name.name, known)));
                }
            }
        }
        Ok((v, order))
    }

    /// Evaluates a value as set elements of a key with these part types.
    fn elements(
        &mut self,
        types: &[ValueType],
        v: &'a Value,
        order: u32,
        what: What<'_>,
        out: &mut Vec<Vec<Atom>>,
    ) -> R<()> {
        match v {
            Value::Var(use_) => {
                let (inner, o) = self.deref(v, order)?;
                self.elements(types, inner, o, what, out)
                    .map_err(|d| via(d, use_.span))
            }
            Value::Set(lit) => {
                for e in &lit.elems {
                    if e.data.is_some() {
                        return Err(Diagnostic::error(
                            e.span,
                            "unexpected map element in a set",
                            "has `: data`",
                        ));
                    }
                    self.elements(types, &e.key, order, what, out)?;
                }
                Ok(())
            }
            Value::Concat(parts, span) => {
                if parts.len() != types.len() {
                    return Err(Diagnostic::error(
                        *span,
                        format!(
                            "expected {} values joined by `.`, found {}",
                            types.len(),
                            parts.len()
                        ),
                        self.type_list(types),
                    ));
                }
                let atoms = parts
                    .iter()
                    .zip(types)
                    .map(|(p, t)| self.atom(*t, p, order, what))
                    .collect::<R<Vec<_>>>()?;
                out.push(atoms);
                Ok(())
            }
            _ if types.len() != 1 => Err(Diagnostic::error(
                v.span(),
                format!("expected {} values joined by `.`", types.len()),
                self.type_list(types),
            )),
            _ => {
                let a = self.atom(types[0], v, order, what)?;
                out.push(vec![a]);
                Ok(())
            }
        }
    }

    fn type_list(&self, types: &[ValueType]) -> String {
        format!(
            "expected {}",
            types
                .iter()
                .map(|t| self.reg.type_name(*t))
                .collect::<Vec<_>>()
                .join(" . ")
        )
    }

    /// One key part's constant: a value, prefix or range.
    fn atom(&mut self, vt: ValueType, v: &'a Value, order: u32, what: What<'_>) -> R<Atom> {
        match v {
            Value::Var(use_) => {
                let (inner, o) = self.deref(v, order)?;
                self.atom(vt, inner, o, what).map_err(|d| via(d, use_.span))
            }
            Value::Lit { kind, text, span } => {
                Ok(match literal(self.reg, vt, *kind, text, *span, what)? {
                    Scalar::Value(n) => Atom::Value(n),
                    Scalar::Wildcard { value, len } => Atom::Prefix { value, len },
                    Scalar::Port(name) => Atom::Value(u128::from(self.ports.id(&name).0)),
                })
            }
            Value::Slash(a, b, _) => {
                if self.reg.is_flags(vt) && !is_prefix_length(b) {
                    return Err(Diagnostic::error(
                        v.span(),
                        "`value / mask` must stand on its own, not in a set or concatenation",
                        "not allowed here",
                    ));
                }
                if !matches!(
                    self.reg.form(vt),
                    Form::Integer | Form::Ipv4 | Form::Ipv6 | Form::Mac
                ) {
                    return Err(Diagnostic::error(
                        v.span(),
                        format!(
                            "{} ({}) cannot take a prefix",
                            what(),
                            self.reg.type_name(vt)
                        ),
                        "no prefix here",
                    ));
                }
                let value = self.value(vt, a, order, what)?;
                let (len_v, _) = self.deref(b, order)?;
                let len = match len_v {
                    Value::Lit {
                        kind: LitKind::Number | LitKind::Hex,
                        text,
                        ..
                    } => crate::parser::parse_int(text),
                    other => {
                        return Err(Diagnostic::error(
                            other.span(),
                            "expected a prefix length",
                            "not a number",
                        ));
                    }
                };
                if len > u128::from(vt.bits) {
                    return Err(Diagnostic::error(
                        b.span(),
                        format!(
                            "prefix length {len} is too long for {} ({} bits)",
                            what(),
                            vt.bits
                        ),
                        format!("at most {}", vt.bits),
                    ));
                }
                let len = len as u32;
                Ok(Atom::Prefix {
                    value: value & prefix_mask(len, vt.bits),
                    len,
                })
            }
            Value::Range(a, b, span) => {
                let low = self.value(vt, a, order, what)?;
                let high = self.value(vt, b, order, what)?;
                if low > high {
                    return Err(Diagnostic::error(
                        *span,
                        "empty range: the first value is greater than the second",
                        "low > high",
                    )
                    .with_help("write the lower value first"));
                }
                Ok(Atom::Range { low, high })
            }
            Value::Or(..) if self.reg.is_flags(vt) => {
                Ok(Atom::Value(self.or_value(vt, v, order, what)?))
            }
            Value::Or(_, span) => Err(Diagnostic::error(
                *span,
                format!(
                    "`|` combines flags, but {} is {}",
                    what(),
                    self.reg.type_name(vt)
                ),
                "not a flag type",
            )
            .with_help("to match any of several values, use a set: `{ a, b }`")),
            Value::List(_, span) => Err(Diagnostic::error(
                *span,
                format!(
                    "a list of values needs braces: {} is {}, not a flag type",
                    what(),
                    self.reg.type_name(vt)
                ),
                "not a flag type",
            )
            .with_help("to match any of several values, use a set: `{ a, b }`")),
            Value::Not(_, span) => Err(Diagnostic::error(
                *span,
                "`!` applies only to a flag match on its own",
                "not allowed here",
            )),
            Value::Set(s) => Err(Diagnostic::error(
                s.span,
                "expected a single value, found a set",
                "a set",
            )),
            Value::SetRef(n) => Err(Diagnostic::error(
                n.span,
                "expected a single value, found a named set",
                "a set",
            )),
            Value::Concat(_, span) => Err(Diagnostic::error(
                *span,
                "expected a single value, found a concatenation",
                "a concatenation",
            )),
        }
    }

    /// A single plain value.
    fn value(&mut self, vt: ValueType, v: &'a Value, order: u32, what: What<'_>) -> R<u128> {
        match self.atom(vt, v, order, what)? {
            Atom::Value(n) => Ok(n),
            _ => Err(Diagnostic::error(
                v.span(),
                format!(
                    "expected a single value of {}, not a prefix or range",
                    self.reg.type_name(vt)
                ),
                "a prefix or range",
            )),
        }
    }

    /// The OR of flag values (`syn,ack`, `syn|ack`, `(syn|ack)`).
    fn or_value(&mut self, vt: ValueType, v: &'a Value, order: u32, what: What<'_>) -> R<u128> {
        match v {
            Value::List(items, _) | Value::Or(items, _) => {
                let mut acc = 0;
                for i in items {
                    acc |= self.or_value(vt, i, order, what)?;
                }
                Ok(acc)
            }
            Value::Var(use_) => {
                let (inner, o) = self.deref(v, order)?;
                self.or_value(vt, inner, o, what)
                    .map_err(|d| via(d, use_.span))
            }
            _ => self.value(vt, v, order, what),
        }
    }

    /// A port name: a string, a word or a variable holding one.
    fn port(&mut self, v: &'a Value, order: u32) -> R<PortId> {
        let (v, _) = self.deref(v, order)?;
        match v {
            Value::Lit {
                kind: LitKind::Str | LitKind::Word,
                text,
                ..
            } if !text.is_empty() && text.len() < 16 => Ok(self.ports.id(text)),
            other => Err(Diagnostic::error(
                other.span(),
                "expected a port name in double quotes (at most 15 bytes)",
                "not a port name",
            )),
        }
    }

    // ---- expressions ----

    /// The key parts of an expression.
    fn key(&mut self, e: &'a Expr, order: u32) -> R<Vec<KeyPart>> {
        Ok(match e {
            Expr::Field { header, field } => {
                let h = self.reg.header_ref(header)?;
                let f = self.reg.field_ref(h, field)?;
                let ty = self.reg.field(h, f).ty;
                vec![KeyPart {
                    load: Load::Field {
                        header: h,
                        field: f,
                    },
                    ty,
                    bitwise: None,
                    span: e.span(),
                }]
            }
            Expr::Meta { key, span } => {
                let Some(m) = self.reg.meta(&key.name) else {
                    if crate::parser::is_nft_meta_key(&key.name) {
                        return Err(unsupported(*span, &format!("meta {}", key.name)));
                    }
                    let names = self.reg.meta_names();
                    return Err(Diagnostic::error(
                        key.span,
                        format!("unknown meta key `{}`", key.name),
                        "not a meta key",
                    )
                    .with_help(
                        did_you_mean(&key.name, names.iter().copied())
                            .unwrap_or_else(|| format!("the meta keys are: {}", names.join(", "))),
                    ));
                };
                vec![KeyPart {
                    load: Load::Meta(m),
                    ty: self.reg.meta_type(m),
                    bitwise: None,
                    span: *span,
                }]
            }
            Expr::Raw {
                base,
                offset,
                len,
                span,
            } => {
                let b = match base.name.as_str() {
                    "ll" => RawBase::Layer(Layer::Link),
                    "nh" => RawBase::Layer(Layer::Network),
                    "th" => RawBase::Layer(Layer::Transport),
                    other => match self.reg.header_id(other) {
                        Some(h) => RawBase::Header(h),
                        None => {
                            let mut names = vec!["ll", "nh", "th"];
                            names.extend(self.reg.headers.iter().map(|h| h.name.as_str()));
                            return Err(Diagnostic::error(
                                base.span,
                                format!("unknown raw payload base `@{other}`"),
                                "expected @ll, @nh, @th or a header",
                            )
                            .with_help_opt(did_you_mean(other, names)));
                        }
                    },
                };
                if len.value == 0 || len.value > 128 {
                    return Err(Diagnostic::error(
                        len.span,
                        "a raw load is 1 to 128 bits long",
                        "out of range",
                    ));
                }
                if offset.value + len.value > 65535 * 8 {
                    return Err(Diagnostic::error(
                        offset.span,
                        "a raw load must end within 65535 bytes of its base",
                        "too far",
                    ));
                }
                let bits = len.value as u32;
                vec![KeyPart {
                    load: Load::Raw {
                        base: b,
                        offset: offset.value as u32,
                        bits,
                    },
                    ty: ValueType { ty: None, bits },
                    bitwise: None,
                    span: *span,
                }]
            }
            Expr::Concat(parts, _) => {
                let mut out = Vec::new();
                for p in parts {
                    out.extend(self.key(p, order)?);
                }
                out
            }
            Expr::Bitwise {
                op,
                expr,
                value,
                span,
            } => {
                let mut parts = self.key(expr, order)?;
                if parts.len() != 1 || parts[0].bitwise.is_some() {
                    return Err(unsupported(
                        *span,
                        "bitwise operations on concatenations or chained bitwise operations",
                    ));
                }
                let p = &mut parts[0];
                let (reg, part) = (self.reg, *p);
                let c = self.or_value(p.ty, value, order, &|| reg_text(reg, &part))?;
                let all = max_value(p.ty.bits);
                p.bitwise = Some(match op {
                    ast::BitOp::And => Bitwise { mask: c, xor: 0 },
                    ast::BitOp::Or => Bitwise {
                        mask: all & !c,
                        xor: c,
                    },
                    ast::BitOp::Xor => Bitwise { mask: all, xor: c },
                });
                p.span = *span;
                parts
            }
        })
    }

    // ---- matches and statements ----

    fn relation(
        &mut self,
        key: &[KeyPart],
        op: Option<(RelOp, Span)>,
        rhs: &'a Value,
        order: u32,
    ) -> R<Relation> {
        let reg = self.reg;
        let what = || key_text(reg, key);
        let (v, vorder) = self.deref(rhs, order)?;
        let negate = matches!(op, Some((RelOp::Ne, _)));
        let ordering = op.filter(|(o, _)| !matches!(o, RelOp::Eq | RelOp::Ne));
        let flags = key.len() == 1 && self.reg.is_flags(key[0].ty);
        let wrap = |d: Diagnostic| {
            if std::ptr::eq(v, rhs) {
                d
            } else {
                via(d, rhs.span())
            }
        };
        if let Some((_, ospan)) = ordering {
            if key.len() != 1 {
                return Err(Diagnostic::error(
                    ospan,
                    "ordering operators need a single field, not a concatenation",
                    "not allowed here",
                ));
            }
            if matches!(v, Value::Set(_) | Value::SetRef(_)) {
                return Err(Diagnostic::error(
                    ospan,
                    "a set can only be matched with `==` or `!=`",
                    "ordering operator",
                ));
            }
        }
        match v {
            Value::Set(_) | Value::SetRef(_) => {
                let set = self.set_ref(key, None, rhs, order)?;
                return Ok(Relation::InSet { negate, set });
            }
            Value::Not(inner, span) => {
                if !flags || op.is_some() {
                    return Err(Diagnostic::error(
                        *span,
                        "`!` applies only to a flag type with no operator",
                        "not allowed here",
                    ));
                }
                let mask = self
                    .or_value(key[0].ty, inner, vorder, &what)
                    .map_err(wrap)?;
                return Ok(Relation::FlagsAny { negate: true, mask });
            }
            // `flags v / mask`; with a number after `/` it is a prefix, as in nft.
            Value::Slash(a, m, _) if flags && !is_prefix_length(m) => {
                if ordering.is_some() {
                    return Err(Diagnostic::error(
                        v.span(),
                        "`value / mask` can only be matched with `==` or `!=`",
                        "ordering operator",
                    ));
                }
                let value = self.or_value(key[0].ty, a, vorder, &what).map_err(wrap)?;
                let mask = self.or_value(key[0].ty, m, vorder, &what).map_err(wrap)?;
                return Ok(Relation::Masked {
                    negate,
                    value: value & mask,
                    mask,
                });
            }
            Value::List(..) | Value::Or(..) | Value::Lit { .. } if flags && op.is_none() => {
                let mask = self.or_value(key[0].ty, v, vorder, &what).map_err(wrap)?;
                return Ok(Relation::FlagsAny {
                    negate: false,
                    mask,
                });
            }
            _ => {}
        }
        let types: Vec<ValueType> = key.iter().map(|p| p.ty).collect();
        let mut els = Vec::new();
        if flags && matches!(v, Value::List(..)) {
            els.push(vec![Atom::Value(
                self.or_value(types[0], v, vorder, &what).map_err(wrap)?,
            )]);
        } else {
            self.elements(&types, v, vorder, &what, &mut els)
                .map_err(wrap)?;
        }
        let atoms = els.remove(0);
        let cmp = match op.map(|o| o.0) {
            None | Some(RelOp::Eq) => CmpOp::Eq,
            Some(RelOp::Ne) => CmpOp::Ne,
            Some(RelOp::Lt) => CmpOp::Lt,
            Some(RelOp::Le) => CmpOp::Le,
            Some(RelOp::Gt) => CmpOp::Gt,
            Some(RelOp::Ge) => CmpOp::Ge,
        };
        if atoms.iter().all(|a| matches!(a, Atom::Value(_))) {
            let values = atoms
                .iter()
                .map(|a| if let Atom::Value(n) = a { *n } else { 0 })
                .collect();
            return Ok(Relation::Cmp { op: cmp, values });
        }
        if let Some((_, ospan)) = ordering {
            return Err(Diagnostic::error(
                ospan,
                "an ordering operator needs a single value, not a prefix or range",
                "ordering operator",
            ));
        }
        Ok(match atoms[..] {
            [Atom::Prefix { value, len }] => Relation::Prefix { negate, value, len },
            [Atom::Range { low, high }] => Relation::Range { negate, low, high },
            _ => Relation::InSet {
                negate,
                set: SetRef::Anonymous(SetBody {
                    key: types,
                    data: None,
                    interval: true,
                    elements: vec![Element {
                        key: atoms,
                        data: None,
                        span: v.span(),
                    }],
                }),
            },
        })
    }

    /// `meta iifname` matched against exact names (`==`, `!=`, an anonymous
    /// set of names) as `meta iif` matched against the ports of those
    /// names: the same test, since an input port's id is the index of its
    /// name among the ports the program names (`vm::InputPort::new`), made
    /// as one 32-bit compare instead of a 16-byte one. Wildcards and named
    /// sets stay matches on the name.
    fn iifname_as_port(&mut self, key: Vec<KeyPart>, rel: Relation) -> (Vec<KeyPart>, Relation) {
        let (Some(iifname), Some(iif)) = (self.reg.meta("iifname"), self.reg.meta("iif")) else {
            return (key, rel);
        };
        let [part] = &key[..] else {
            return (key, rel);
        };
        if part.load != Load::Meta(iifname) || part.bitwise.is_some() {
            return (key, rel);
        }
        // The name a NUL-padded string constant holds.
        let name = |v: &u128| {
            let bytes = v.to_be_bytes();
            let len = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
            let name = std::str::from_utf8(&bytes[..len]).ok()?;
            (len > 0 && len < bytes.len() && bytes[len..].iter().all(|b| *b == 0))
                .then(|| name.to_owned())
        };
        let rel = match rel {
            Relation::Cmp {
                op: op @ (CmpOp::Eq | CmpOp::Ne),
                values,
            } => match values.iter().map(name).collect::<Option<Vec<_>>>() {
                Some(names) => Relation::Cmp {
                    op,
                    values: names
                        .iter()
                        .map(|n| u128::from(self.ports.id(n).0))
                        .collect(),
                },
                None => return (key, Relation::Cmp { op, values }),
            },
            Relation::InSet {
                negate,
                set: SetRef::Anonymous(mut body),
            } if body.data.is_none() => {
                let names: Option<Vec<String>> = body
                    .elements
                    .iter()
                    .map(|e| match e.key[..] {
                        [Atom::Value(v)] => name(&v),
                        _ => None,
                    })
                    .collect();
                let Some(names) = names else {
                    let set = SetRef::Anonymous(body);
                    return (key, Relation::InSet { negate, set });
                };
                for (e, n) in body.elements.iter_mut().zip(&names) {
                    e.key = vec![Atom::Value(u128::from(self.ports.id(n).0))];
                }
                body.key = vec![self.reg.meta_type(iif)];
                Relation::InSet {
                    negate,
                    set: SetRef::Anonymous(body),
                }
            }
            other => return (key, other),
        };
        let part = KeyPart {
            load: Load::Meta(iif),
            ty: self.reg.meta_type(iif),
            bitwise: None,
            span: part.span,
        };
        (vec![part], rel)
    }

    fn verdict(&mut self, v: &ast::Verdict) -> R<Verdict> {
        Ok(match &v.kind {
            VerdictKind::Accept => Verdict::Accept,
            VerdictKind::Drop => Verdict::Drop,
            VerdictKind::Continue => Verdict::Continue,
            VerdictKind::Return => Verdict::Return,
            VerdictKind::Flood => Verdict::Flood,
            VerdictKind::Jump(c) => Verdict::Jump(self.chain_ref(c)?),
            VerdictKind::Goto(c) => Verdict::Goto(self.chain_ref(c)?),
        })
    }

    fn chain_ref(&self, name: &ast::Ident) -> R<ChainId> {
        self.chains.get(name.name.as_str()).copied().ok_or_else(|| {
            Diagnostic::error(
                name.span,
                format!("undefined chain `{}`", name.name),
                "no chain of this name in the table",
            )
            .with_help_opt(did_you_mean(&name.name, self.chains.keys().copied()))
        })
    }

    fn stmt(&mut self, s: &'a ast::Stmt, order: u32) -> R<StmtKind> {
        Ok(match s {
            ast::Stmt::Match(m) => {
                let key = self.key(&m.lhs, order)?;
                let rel = self.relation(&key, m.op, &m.rhs, order)?;
                let (key, rel) = self.iifname_as_port(key, rel);
                StmtKind::Match(Match { key, rel })
            }
            ast::Stmt::VMap { key, map, .. } => {
                let key = self.key(key, order)?;
                let map = self.set_ref(&key, Some(MapData::Verdict), map, order)?;
                StmtKind::VMap { key, map }
            }
            ast::Stmt::Counter { packets, bytes, .. } => {
                let n = |x: &Option<ast::Num>| -> R<u64> {
                    x.map_or(Ok(0), |n| {
                        u64::try_from(n.value).map_err(|_| {
                            Diagnostic::error(n.span, "count too large", "more than 64 bits")
                        })
                    })
                };
                StmtKind::Counter {
                    packets: n(packets)?,
                    bytes: n(bytes)?,
                }
            }
            ast::Stmt::Limit(l) => StmtKind::Limit(limit(l)?),
            ast::Stmt::Log { prefix, level, .. } => {
                if let Some(l) = level
                    .as_ref()
                    .filter(|l| !LOG_LEVELS.contains(&l.name.as_str()))
                {
                    return Err(Diagnostic::error(
                        l.span,
                        format!("unknown log level `{}`", l.name),
                        "not a log level",
                    )
                    .with_help(
                        did_you_mean(&l.name, LOG_LEVELS.iter().copied()).unwrap_or_else(|| {
                            format!("the levels are: {}", LOG_LEVELS.join(", "))
                        }),
                    ));
                }
                StmtKind::Log {
                    prefix: prefix.as_ref().map(|p| p.name.clone()),
                    level: level.as_ref().map(|l| l.name.clone()),
                }
            }
            ast::Stmt::Set { target, value, .. } => {
                let parts = self.key(target, order)?;
                let [part] = parts[..] else {
                    return Err(Diagnostic::error(
                        target.span(),
                        "only one field can be set at a time",
                        "a concatenation",
                    ));
                };
                if part.bitwise.is_some() {
                    return Err(Diagnostic::error(
                        target.span(),
                        "cannot set a masked expression",
                        "has a bitwise operation",
                    ));
                }
                match part.load {
                    Load::Meta(MetaRef::LayerKey(_)) => {
                        let what = reg_text(self.reg, &part);
                        return Err(Diagnostic::error(
                            target.span(),
                            format!("{what} cannot be set"),
                            "a layer key",
                        ));
                    }
                    Load::Meta(MetaRef::Runtime(id)) if !self.reg.metas[id.0 as usize].settable => {
                        let what = reg_text(self.reg, &part);
                        return Err(Diagnostic::error(
                            target.span(),
                            format!("{what} cannot be set"),
                            "not a settable meta key",
                        ));
                    }
                    _ => {}
                }
                let reg = self.reg;
                let what = || reg_text(reg, &part);
                let value = match &**value {
                    ast::SetValue::Value(v) => {
                        WriteValue::Const(self.or_value(part.ty, v, order, &what)?)
                    }
                    ast::SetValue::Map { key, map } => {
                        let key = self.key(key, order)?;
                        let map = self.set_ref(&key, Some(MapData::Value(part.ty)), map, order)?;
                        WriteValue::Map { key, map }
                    }
                };
                StmtKind::Write {
                    target: part.load,
                    ty: part.ty,
                    value,
                }
            }
            ast::Stmt::Fwd { port, .. } => StmtKind::Verdict(Verdict::Fwd(self.port(port, order)?)),
            ast::Stmt::Dup { port, .. } => StmtKind::Dup(self.port(port, order)?),
            ast::Stmt::VlanPush { id, .. } => StmtKind::VlanPush(self.value(
                ValueType { ty: None, bits: 12 },
                id,
                order,
                &|| "a VLAN id".to_owned(),
            )? as u16),
            ast::Stmt::VlanPop(_) => StmtKind::VlanPop,
            ast::Stmt::Verdict(v) => StmtKind::Verdict(self.verdict(v)?),
        })
    }

    fn rule(&mut self, r: &'a ast::Rule, order: u32) -> Option<Rule> {
        let mut stmts = Vec::with_capacity(r.stmts.len());
        let mut ok = true;
        let mut terminal: Option<Span> = None;
        for s in &r.stmts {
            let span = stmt_span(s);
            if let Some(t) = terminal {
                self.diags.push(
                    Diagnostic::error(
                        span,
                        "statement after a verdict has no effect",
                        "never reached",
                    )
                    .with_label(t, "the rule ends here"),
                );
                ok = false;
                break;
            }
            match self.stmt(s, order) {
                Ok(kind) => {
                    if matches!(kind, StmtKind::Verdict(_)) {
                        terminal = Some(span);
                    }
                    stmts.push(Stmt { kind, span });
                }
                Err(d) => {
                    self.diags.push(d);
                    ok = false;
                }
            }
        }
        ok.then(|| Rule {
            stmts,
            comment: r.comment.as_ref().map(|c| c.name.clone()),
            span: r.span,
        })
    }

    fn chain(&mut self, name: &str, decls: &[&'a ast::Chain], order: u32) -> Chain {
        let mut base = None;
        let mut hook_span: Option<Span> = None;
        let mut policy = None;
        let mut rules = Vec::new();
        for c in decls {
            if let Some(h) = &c.hook {
                if let Some(prev) = hook_span {
                    self.diags.push(
                        Diagnostic::error(
                            h.span,
                            format!("chain `{name}` is declared as a base chain twice"),
                            "second hook",
                        )
                        .with_label(prev, "first hook"),
                    );
                } else {
                    hook_span = Some(h.span);
                    let r = self.hook(h, order);
                    match r {
                        Ok(b) => base = Some(b),
                        Err(d) => self.diags.push(d),
                    }
                }
            }
            if let Some(p) = &c.policy {
                let r = match p.name.as_str() {
                    "accept" => Ok(Policy::Accept),
                    "drop" => Ok(Policy::Drop),
                    other => Err(Diagnostic::error(
                        p.span,
                        format!("unknown policy `{other}`"),
                        "expected `accept` or `drop`",
                    )),
                };
                match r {
                    Ok(p) => policy = Some(p),
                    Err(d) => self.diags.push(d),
                }
                if c.hook.is_none() && hook_span.is_none() {
                    self.diags.push(Diagnostic::error(
                        p.span,
                        "only a base chain has a policy",
                        "chain has no `type ... hook ...`",
                    ));
                }
            }
            for r in &c.rules {
                if let Some(rule) = self.rule(r, order) {
                    rules.push(rule);
                }
            }
        }
        if let (Some(b), Some(p)) = (base.as_mut(), policy) {
            b.policy = p;
        }
        Chain {
            name: name.to_owned(),
            base,
            rules,
            span: decls[0].span,
        }
    }

    fn hook(&mut self, h: &'a ast::Hook, order: u32) -> R<BaseChain> {
        let device = h.device.as_ref().map(|d| self.port(d, order)).transpose()?;
        let base = match &h.priority.name {
            None => 0,
            Some(n) if n.name == "filter" => match self.family {
                Family::Bridge => -200,
                Family::Netdev | Family::Inet => 0,
            },
            Some(n) => {
                return Err(Diagnostic::error(
                    n.span,
                    format!("unknown priority `{}`", n.name),
                    "not a priority name",
                )
                .with_help("use a number or `filter` (with an optional `+ N` or `- N`)"));
            }
        };
        let priority = i32::try_from(base + h.priority.offset).map_err(|_| {
            Diagnostic::error(
                h.priority.span,
                "priority out of range",
                "must fit in 32 bits",
            )
        })?;
        Ok(BaseChain {
            device,
            priority,
            policy: Policy::Accept,
        })
    }

    /// Rejects jump/goto cycles, printing each cycle once.
    fn check_cycles(&mut self, chains: &[Chain], sets: &[NamedSet]) {
        let set_targets = |s: &SetBody| -> Vec<ChainId> {
            s.elements
                .iter()
                .filter_map(|e| match e.data {
                    Some(MapValue::Verdict(Verdict::Jump(c) | Verdict::Goto(c))) => Some(c),
                    _ => None,
                })
                .collect()
        };
        // Edges: (target, span of the jump).
        let edges: Vec<Vec<(ChainId, Span)>> = chains
            .iter()
            .map(|c| {
                let mut out = Vec::new();
                for r in &c.rules {
                    for s in &r.stmts {
                        match &s.kind {
                            StmtKind::Verdict(Verdict::Jump(t) | Verdict::Goto(t)) => {
                                out.push((*t, s.span))
                            }
                            StmtKind::VMap { map, .. } => {
                                let body = match map {
                                    SetRef::Named(id) => sets
                                        .iter()
                                        .find(|n| self.sets.get(n.name.as_str()) == Some(id))
                                        .map(|n| &n.body),
                                    SetRef::Anonymous(b) => Some(b),
                                };
                                out.extend(
                                    body.map(set_targets)
                                        .unwrap_or_default()
                                        .into_iter()
                                        .map(|t| (t, s.span)),
                                );
                            }
                            _ => {}
                        }
                    }
                }
                out
            })
            .collect();
        // 0 = unvisited, 1 = on the stack, 2 = done.
        let mut state = vec![0u8; chains.len()];
        let mut stack: Vec<usize> = Vec::new();
        for start in 0..chains.len() {
            self.dfs(start, &edges, chains, &mut state, &mut stack);
        }
    }

    fn dfs(
        &mut self,
        c: usize,
        edges: &[Vec<(ChainId, Span)>],
        chains: &[Chain],
        state: &mut [u8],
        stack: &mut Vec<usize>,
    ) {
        if state[c] != 0 {
            return;
        }
        state[c] = 1;
        stack.push(c);
        for &(t, span) in &edges[c] {
            let t = t.0 as usize;
            if state[t] == 1 {
                let from = stack.iter().position(|&x| x == t).unwrap_or(0);
                let names: Vec<&str> = stack[from..]
                    .iter()
                    .chain(std::iter::once(&t))
                    .map(|&i| chains[i].name.as_str())
                    .collect();
                self.diags.push(
                    Diagnostic::error(
                        span,
                        format!("jump loop: {}", names.join(" -> ")),
                        "this jump closes the loop",
                    )
                    .with_help(
                        "chains must not jump back into a chain that is already on the call stack",
                    ),
                );
            } else {
                self.dfs(t, edges, chains, state, stack);
            }
        }
        stack.pop();
        state[c] = 2;
    }
}

/// How a key part reads in messages (`ip saddr`, `meta mark`, `@nh,0,8`).
fn reg_text(reg: &Registry, p: &KeyPart) -> String {
    match p.load {
        Load::Field { header, field } => format!(
            "{} {}",
            reg.header(header).name,
            reg.field(header, field).name
        ),
        Load::Meta(m) => format!("meta {}", reg.meta_name(m)),
        Load::Raw { base, offset, bits } => {
            let b = match base {
                RawBase::Layer(Layer::Link) => "ll",
                RawBase::Layer(Layer::Network) => "nh",
                RawBase::Layer(Layer::Transport) => "th",
                RawBase::Header(h) => reg.header(h).name.as_str(),
            };
            format!("@{b},{offset},{bits}")
        }
    }
}

/// How a key reads in messages (`ip saddr . tcp dport`).
fn key_text(reg: &Registry, key: &[KeyPart]) -> String {
    key.iter()
        .map(|p| reg_text(reg, p))
        .collect::<Vec<_>>()
        .join(" . ")
}

/// True when the right of a `/` is a number: a prefix length (`/8`), not a
/// flag mask (`/ syn,ack`).
fn is_prefix_length(v: &Value) -> bool {
    matches!(
        v,
        Value::Lit {
            kind: LitKind::Number | LitKind::Hex,
            ..
        }
    )
}

/// Adds "used here" for an error found inside a variable's value.
fn via(d: Diagnostic, use_span: Span) -> Diagnostic {
    if d.span == use_span || d.labels.iter().any(|(s, _)| *s == use_span) {
        d
    } else {
        d.with_label(use_span, "in the value of this variable")
    }
}

fn unsupported(span: Span, what: &str) -> Diagnostic {
    Diagnostic::error(
        span,
        format!("not supported yet: {what}"),
        "not supported by jitswitch yet",
    )
}

fn stmt_span(s: &ast::Stmt) -> Span {
    match s {
        ast::Stmt::Match(m) => m.span,
        ast::Stmt::Limit(l) => l.span,
        ast::Stmt::Verdict(v) => v.span,
        ast::Stmt::VlanPop(span)
        | ast::Stmt::VMap { span, .. }
        | ast::Stmt::Counter { span, .. }
        | ast::Stmt::Log { span, .. }
        | ast::Stmt::Set { span, .. }
        | ast::Stmt::Fwd { span, .. }
        | ast::Stmt::Dup { span, .. }
        | ast::Stmt::VlanPush { span, .. } => *span,
    }
}

/// Normalises `limit rate ...`.
fn limit(l: &ast::Limit) -> R<Limit> {
    let unit_bytes = |u: &ast::Ident| -> R<Option<u64>> {
        Ok(match u.name.as_str() {
            "packets" => None,
            "bytes" => Some(1),
            "kbytes" => Some(1024),
            "mbytes" => Some(1024 * 1024),
            other => {
                return Err(Diagnostic::error(
                    u.span,
                    format!("unknown unit `{other}`"),
                    "expected bytes, kbytes or mbytes",
                )
                .with_help_opt(did_you_mean(
                    other,
                    ["bytes", "kbytes", "mbytes", "packets"],
                )));
            }
        })
    };
    let per_seconds = match l.per.name.as_str() {
        "second" => 1,
        "minute" => 60,
        "hour" => 3600,
        "day" => 86400,
        "week" => 604800,
        other => {
            return Err(Diagnostic::error(
                l.per.span,
                format!("unknown time unit `{other}`"),
                "expected second, minute, hour, day or week",
            )
            .with_help_opt(did_you_mean(
                other,
                ["second", "minute", "hour", "day", "week"],
            )));
        }
    };
    let scale = l.rate_unit.as_ref().map(unit_bytes).transpose()?.flatten();
    let bytes = scale.is_some();
    let too_big =
        |n: &ast::Num| Diagnostic::error(n.span, "number too large", "does not fit in 64 bits");
    let rate = u64::try_from(l.rate.value)
        .ok()
        .and_then(|r| r.checked_mul(scale.unwrap_or(1)))
        .ok_or_else(|| too_big(&l.rate))?;
    if rate == 0 {
        return Err(Diagnostic::error(
            l.rate.span,
            "a rate must be greater than zero",
            "zero",
        ));
    }
    let burst = match (&l.burst, &l.burst_unit) {
        (None, _) => {
            if bytes {
                0
            } else {
                5
            }
        }
        (Some(n), unit) => {
            let bscale = unit.as_ref().map(unit_bytes).transpose()?.flatten();
            if bscale.is_some() != bytes {
                let span = unit.as_ref().map_or(n.span, |u| u.span);
                let want = if bytes { "bytes" } else { "packets" };
                return Err(Diagnostic::error(
                    span,
                    format!("the burst of a rate in {want} must be in {want}"),
                    format!("expected {want}"),
                ));
            }
            u64::try_from(n.value)
                .ok()
                .and_then(|b| b.checked_mul(bscale.unwrap_or(1)))
                .ok_or_else(|| too_big(n))?
        }
    };
    Ok(Limit {
        rate,
        per_seconds,
        bytes,
        burst,
        over: l.over,
    })
}
