//! Building the registry from declarations, with their validation:
//! widths against datatypes, unknown names, duplicates, `next` and
//! `checksum` naming real fields, expressions over the header's own fields
//! with the right types, conditions whose values fit their subject.

use super::*;
use crate::ast::{self, AttrKind, Decl, HExpr, Ident, NextCaseDecl, Value};
use crate::diagnostics::{Diagnostic, did_you_mean};
use crate::literal::{Scalar, literal};

/// Whether a header expression gives a number or a truth value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExprType {
    Int,
    Bool,
}

impl ExprType {
    fn name(self) -> &'static str {
        match self {
            ExprType::Int => "a number",
            ExprType::Bool => "a condition",
        }
    }
}

impl Registry {
    /// Adds one declaration, reporting what is wrong with it.
    pub fn declare(&mut self, decl: &Decl, diags: &mut Vec<Diagnostic>) {
        if let Err(d) = self.declare_inner(decl) {
            diags.push(d);
        }
    }

    fn declare_inner(&mut self, decl: &Decl) -> Result<(), Diagnostic> {
        match decl {
            Decl::Datatype {
                name,
                bits,
                form,
                span,
            } => {
                self.check_new_type(name)?;
                let form = match form.as_ref().map(|f| f.name.as_str()) {
                    None | Some("integer") => Form::Integer,
                    Some("ipv4") => Form::Ipv4,
                    Some("ipv6") => Form::Ipv6,
                    Some("mac") => Form::Mac,
                    Some("string") => Form::String,
                    Some("port") => Form::Port,
                    Some(other) => {
                        let f = form.as_ref().map_or(*span, |f| f.span);
                        let forms = ["integer", "ipv4", "ipv6", "mac", "string", "port"];
                        return Err(Diagnostic::error(
                            f,
                            format!("unknown literal form `{other}`"),
                            "not a literal form",
                        )
                        .with_help(
                            did_you_mean(other, forms)
                                .unwrap_or_else(|| format!("the forms are: {}", forms.join(", "))),
                        ));
                    }
                };
                let width = check_width(bits)?;
                let required = match form {
                    Form::Ipv4 => Some(32),
                    Form::Ipv6 => Some(128),
                    Form::Mac => Some(48),
                    _ => None,
                };
                if let Some(r) = required.filter(|&r| r != width) {
                    return Err(Diagnostic::error(
                        bits.span,
                        format!("this form needs {r} bits"),
                        format!("should be {r}"),
                    ));
                }
                if form == Form::String && !width.is_multiple_of(8) {
                    return Err(Diagnostic::error(
                        bits.span,
                        "a string type needs whole bytes",
                        "not a multiple of 8",
                    ));
                }
                self.add_type(DataType {
                    name: name.name.clone(),
                    bits: width,
                    form,
                    flags: false,
                    symbols: Vec::new(),
                    span: *span,
                });
            }
            Decl::Symbols {
                name,
                bits,
                flags,
                symbols,
                span,
            } => {
                self.check_new_type(name)?;
                let width = check_width(bits)?;
                let mut out: Vec<Symbol> = Vec::with_capacity(symbols.len());
                for (sym, value) in symbols {
                    if out.iter().any(|s| s.name == sym.name) {
                        return Err(Diagnostic::error(
                            sym.span,
                            format!("symbol `{}` declared twice", sym.name),
                            "duplicate",
                        ));
                    }
                    if value.value > crate::literal::max_value(width) {
                        return Err(Diagnostic::error(
                            value.span,
                            format!("value does not fit in {width} bits"),
                            "too large",
                        ));
                    }
                    out.push(Symbol {
                        name: sym.name.clone(),
                        value: value.value,
                    });
                }
                self.add_type(DataType {
                    name: name.name.clone(),
                    bits: width,
                    form: Form::Integer,
                    flags: *flags,
                    symbols: out,
                    span: *span,
                });
            }
            Decl::Header(h) => self.declare_header(h)?,
            Decl::Parse {
                conds,
                target,
                span,
            } => {
                let conds = self.conds(conds)?;
                let target = self.header_ref(target)?;
                self.edges.push(ParseEdge {
                    conds,
                    target,
                    span: *span,
                });
            }
            Decl::LayerLink { header, span } => {
                if self.link.is_some() {
                    return Err(Diagnostic::error(
                        *span,
                        "the link layer is declared twice",
                        "second declaration",
                    ));
                }
                self.link = Some(self.header_ref(header)?);
            }
            Decl::LayerKey { layer, key, ty, .. } => {
                let l = self.layer_name(layer, false)?;
                let t = self.type_ref(ty)?;
                if self.meta(&key.name).is_some() {
                    return Err(Diagnostic::error(
                        key.span,
                        format!("meta key `{}` declared twice", key.name),
                        "duplicate",
                    ));
                }
                let decl = self.layer_mut(l);
                if decl.key.is_some() {
                    return Err(Diagnostic::error(
                        key.span,
                        format!("the {} layer already has a key", l.name()),
                        "second key",
                    ));
                }
                decl.key = Some(LayerKey {
                    name: key.name.clone(),
                    ty: t,
                });
            }
            Decl::LayerRule {
                layer,
                header,
                conds,
                through,
                offloaded,
                span,
            } => {
                let l = self.layer_name(layer, false)?;
                let h = self.header_ref(header)?;
                if self.header(h).next.is_none() {
                    return Err(Diagnostic::error(
                        header.span,
                        format!(
                            "header `{}` has no `next` field to give the {} layer its key",
                            header.name,
                            l.name()
                        ),
                        "needs `next = FIELD;`",
                    ));
                }
                let conds = self.conds(conds)?;
                let through = through
                    .iter()
                    .map(|t| self.header_ref(t))
                    .collect::<Result<Vec<_>, _>>()?;
                self.layer_mut(l).rules.push(LayerRule {
                    header: h,
                    conds,
                    through,
                    offloaded: *offloaded,
                    span: *span,
                });
            }
            Decl::Meta {
                name,
                ty,
                settable,
                class_of,
                span,
            } => {
                let t = self.type_ref(ty)?;
                let class_of = class_of
                    .as_ref()
                    .map(|(header, field)| {
                        let h = self.header_ref(header)?;
                        Ok::<_, Diagnostic>((h, self.field_ref(h, field)?))
                    })
                    .transpose()?;
                if self.meta(&name.name).is_some() {
                    return Err(Diagnostic::error(
                        name.span,
                        format!("meta key `{}` declared twice", name.name),
                        "duplicate",
                    ));
                }
                self.metas.push(MetaKey {
                    name: name.name.clone(),
                    ty: t,
                    settable: *settable,
                    class_of,
                    span: *span,
                });
            }
        }
        Ok(())
    }

    fn add_type(&mut self, t: DataType) {
        self.type_index
            .insert(t.name.clone(), TypeId(self.types.len() as u16));
        self.types.push(t);
    }

    fn check_new_type(&self, name: &Ident) -> Result<(), Diagnostic> {
        match self.type_id(&name.name) {
            Some(t) => Err(Diagnostic::error(
                name.span,
                format!("datatype `{}` declared twice", name.name),
                "duplicate",
            )
            .with_label(self.ty(t).span, "first declared here")),
            None => Ok(()),
        }
    }

    fn layer_mut(&mut self, layer: Layer) -> &mut LayerDecl {
        match layer {
            Layer::Transport => &mut self.transport,
            _ => &mut self.network,
        }
    }

    fn layer_name(&self, ident: &Ident, allow_link: bool) -> Result<Layer, Diagnostic> {
        match ident.name.as_str() {
            "link" if allow_link => Ok(Layer::Link),
            "network" => Ok(Layer::Network),
            "transport" => Ok(Layer::Transport),
            other => Err(Diagnostic::error(
                ident.span,
                format!("unknown layer `{other}`"),
                "not a layer",
            )
            .with_help(if allow_link {
                "the layers are link, network and transport"
            } else {
                "expected network or transport"
            })),
        }
    }

    /// A datatype by name, or an error listing near names.
    pub(crate) fn type_ref(&self, name: &Ident) -> Result<TypeId, Diagnostic> {
        self.type_id(&name.name).ok_or_else(|| {
            Diagnostic::error(
                name.span,
                format!("unknown datatype `{}`", name.name),
                "not a declared datatype",
            )
            .with_help_opt(did_you_mean(
                &name.name,
                self.types.iter().map(|t| t.name.as_str()),
            ))
        })
    }

    /// A header by name, or an error listing near names.
    pub(crate) fn header_ref(&self, name: &Ident) -> Result<HeaderId, Diagnostic> {
        self.header_id(&name.name).ok_or_else(|| {
            Diagnostic::error(
                name.span,
                format!("unknown header `{}`", name.name),
                "not a declared header",
            )
            .with_help_opt(did_you_mean(
                &name.name,
                self.headers.iter().map(|h| h.name.as_str()),
            ))
        })
    }

    /// A field of a header by name, or an error listing the header's fields.
    pub(crate) fn field_ref(&self, header: HeaderId, name: &Ident) -> Result<FieldId, Diagnostic> {
        let h = self.header(header);
        h.field(&name.name).ok_or_else(|| unknown_field(h, name))
    }

    fn declare_header(&mut self, decl: &ast::HeaderDecl) -> Result<(), Diagnostic> {
        if let Some(h) = self.header_id(&decl.name.name) {
            return Err(Diagnostic::error(
                decl.name.span,
                format!("header `{}` declared twice", decl.name.name),
                "duplicate",
            )
            .with_label(self.header(h).span, "first declared here"));
        }
        let at = decl
            .at
            .as_ref()
            .map(|l| self.layer_name(l, true))
            .transpose()?;
        let mut h = Header {
            name: decl.name.name.clone(),
            at,
            fields: Vec::new(),
            bits: 0,
            length: None,
            valid: None,
            fragment: None,
            next: None,
            checksum: None,
            span: decl.span,
        };
        for f in &decl.fields {
            let bits = check_width(&f.bits)?;
            let ty = match &f.ty {
                Some(t) => {
                    let id = self.type_ref(t)?;
                    let tbits = self.ty(id).bits;
                    if tbits != bits {
                        return Err(Diagnostic::error(
                            f.bits.span,
                            format!(
                                "field `{}` is {bits} bits but its type `{}` is {tbits} bits",
                                f.name.name, t.name
                            ),
                            format!("should be {tbits}"),
                        )
                        .with_label(t.span, "this type"));
                    }
                    Some(id)
                }
                None => None,
            };
            let offset = h.bits;
            h.bits = h.bits.saturating_add(bits);
            if f.name.name == "_" {
                continue;
            }
            if let Some(prev) = h.field(&f.name.name) {
                return Err(Diagnostic::error(
                    f.name.span,
                    format!("field `{}` declared twice", f.name.name),
                    "duplicate",
                )
                .with_label(h.fields[prev.0 as usize].span, "first declared here"));
            }
            let cond = match &f.cond {
                Some(c) => {
                    let ast::CondSubject::Own(name) = &c.subject else {
                        unreachable!("the parser gives own fields")
                    };
                    let field = h.field(&name.name).ok_or_else(|| unknown_field(&h, name))?;
                    let fd = &h.fields[field.0 as usize];
                    let what = format!("{} {}", h.name, fd.name);
                    Some(FieldCond {
                        field,
                        values: self.cond_values(fd.ty, &c.values, &what)?,
                    })
                }
                None => None,
            };
            h.fields.push(Field {
                name: f.name.name.clone(),
                offset,
                bits,
                ty: ValueType { ty, bits },
                pseudo: f.pseudo,
                cond,
                span: f.span,
            });
        }
        if !h.bits.is_multiple_of(8) {
            return Err(Diagnostic::error(
                decl.name.span,
                format!(
                    "the fields of `{}` add up to {} bits, not a whole number of bytes",
                    h.name, h.bits
                ),
                "pad with `_ : BITS;`",
            ));
        }
        for attr in &decl.attrs {
            let dup = |what: &str| {
                Diagnostic::error(attr.span, format!("`{what}` given twice"), "duplicate")
            };
            match &attr.kind {
                AttrKind::Length(e) => {
                    let e = typed(&h, e, ExprType::Int)?;
                    if h.length.replace(e).is_some() {
                        return Err(dup("length"));
                    }
                }
                AttrKind::Valid(e) => {
                    let e = typed(&h, e, ExprType::Bool)?;
                    if h.valid.replace(e).is_some() {
                        return Err(dup("valid"));
                    }
                }
                AttrKind::Fragment(e) => {
                    let e = typed(&h, e, ExprType::Int)?;
                    if h.fragment.replace(e).is_some() {
                        return Err(dup("fragment"));
                    }
                }
                AttrKind::Next(cases) => {
                    let next = next_of(&h, cases)?;
                    if h.next.replace(next).is_some() {
                        return Err(dup("next"));
                    }
                }
                AttrKind::Checksum {
                    field,
                    pseudo,
                    optional,
                } => {
                    let id = h
                        .field(&field.name)
                        .ok_or_else(|| unknown_field(&h, field))?;
                    if h.fields[id.0 as usize].bits != 16 {
                        return Err(Diagnostic::error(
                            field.span,
                            "a checksum field must be 16 bits",
                            "not 16 bits",
                        ));
                    }
                    if h.checksum
                        .replace(Checksum {
                            field: id,
                            pseudo: *pseudo,
                            optional: *optional,
                        })
                        .is_some()
                    {
                        return Err(dup("checksum"));
                    }
                }
            }
        }
        self.header_index
            .insert(h.name.clone(), HeaderId(self.headers.len() as u16));
        self.headers.push(h);
        Ok(())
    }

    fn conds(&self, conds: &[ast::CondDecl]) -> Result<Vec<Cond>, Diagnostic> {
        conds
            .iter()
            .map(|c| {
                let (subject, vt, what) = match &c.subject {
                    ast::CondSubject::Field { header, field } => {
                        let h = self.header_ref(header)?;
                        let f = self.field_ref(h, field)?;
                        let what = format!("{} {}", header.name, field.name);
                        (
                            CondSubject::Field {
                                header: h,
                                field: f,
                            },
                            self.field(h, f).ty,
                            what,
                        )
                    }
                    ast::CondSubject::Meta(key) => match self.meta(&key.name) {
                        Some(MetaRef::LayerKey(l)) => (
                            CondSubject::LayerKey(l),
                            self.meta_type(MetaRef::LayerKey(l)),
                            format!("meta {}", key.name),
                        ),
                        Some(MetaRef::Runtime(_)) => {
                            return Err(Diagnostic::error(
                                key.span,
                                "parse conditions can test only layer keys",
                                "a runtime meta key",
                            )
                            .with_help(format!(
                                "the layer keys are: {}",
                                self.layer_key_names().join(", ")
                            )));
                        }
                        None => {
                            return Err(Diagnostic::error(
                                key.span,
                                format!("unknown layer key `{}`", key.name),
                                "not a layer key",
                            )
                            .with_help_opt(did_you_mean(&key.name, self.layer_key_names())));
                        }
                    },
                    ast::CondSubject::Own(f) => {
                        return Err(Diagnostic::error(
                            f.span,
                            "expected `HEADER FIELD` or `meta KEY`",
                            "incomplete condition",
                        ));
                    }
                };
                Ok(Cond {
                    subject,
                    values: self.cond_values(vt, &c.values, &what)?,
                    span: c.span,
                })
            })
            .collect()
    }

    fn layer_key_names(&self) -> Vec<&str> {
        [&self.network, &self.transport]
            .iter()
            .filter_map(|l| l.key.as_ref())
            .map(|k| k.name.as_str())
            .collect()
    }

    /// The values of a condition: one value or a set of them.
    fn cond_values(
        &self,
        vt: ValueType,
        values: &Value,
        what: &str,
    ) -> Result<Vec<u128>, Diagnostic> {
        let one = |v: &Value| match v {
            Value::Lit { kind, text, span } => {
                match literal(self, vt, *kind, text, *span, &|| what.to_owned())? {
                    Scalar::Value(n) => Ok(n),
                    _ => Err(Diagnostic::error(
                        *span,
                        "expected a single value",
                        "not a plain value",
                    )),
                }
            }
            other => Err(Diagnostic::error(
                other.span(),
                "expected a value or a set of values",
                "not allowed in a declaration",
            )),
        };
        match values {
            Value::Set(s) => s.elems.iter().map(|e| one(&e.key)).collect(),
            v => Ok(vec![one(v)?]),
        }
    }
}

/// A width in bits must be 1 to 128.
fn check_width(bits: &ast::Num) -> Result<u32, Diagnostic> {
    if bits.value == 0 || bits.value > 128 {
        return Err(Diagnostic::error(
            bits.span,
            "a width must be 1 to 128 bits",
            "out of range",
        ));
    }
    Ok(bits.value as u32)
}

fn unknown_field(h: &Header, name: &Ident) -> Diagnostic {
    let names: Vec<&str> = h.fields.iter().map(|f| f.name.as_str()).collect();
    let d = Diagnostic::error(
        name.span,
        format!("unknown field `{}` of header `{}`", name.name, h.name),
        format!("not a field of `{}`", h.name),
    );
    match did_you_mean(&name.name, names.iter().copied()) {
        Some(s) => d.with_help(format!(
            "{s} the fields of `{}` are: {}",
            h.name,
            names.join(", ")
        )),
        None => d.with_help(format!(
            "the fields of `{}` are: {}",
            h.name,
            names.join(", ")
        )),
    }
}

/// Resolves a header expression and checks it gives `want`.
fn typed(h: &Header, e: &HExpr, want: ExprType) -> Result<HeaderExpr, Diagnostic> {
    let (out, got) = resolve_hexpr(h, e)?;
    if got != want {
        return Err(Diagnostic::error(
            e.span(),
            format!("expected {}, found {}", want.name(), got.name()),
            format!("this is {}", got.name()),
        ));
    }
    Ok(out)
}

/// The cases of `next`: the first value is a field (the one parse edges
/// test), every case but the last has a condition.
fn next_of(h: &Header, cases: &[NextCaseDecl]) -> Result<Next, Diagnostic> {
    let field = match cases.first().map(|c| &c.value) {
        Some(HExpr::Field(f)) => h.field(&f.name).ok_or_else(|| unknown_field(h, f))?,
        other => {
            return Err(Diagnostic::error(
                other.map_or(h.span, HExpr::span),
                "`next` must start with the field that names the next protocol",
                "not a field of the header",
            )
            .with_help("`next = FIELD;` or `next = FIELD if COND else VALUE;`"));
        }
    };
    let cases = cases
        .iter()
        .map(|c| {
            Ok(NextCase {
                value: typed(h, &c.value, ExprType::Int)?,
                when: c
                    .when
                    .as_ref()
                    .map(|w| typed(h, w, ExprType::Bool))
                    .transpose()?,
            })
        })
        .collect::<Result<_, Diagnostic>>()?;
    Ok(Next { field, cases })
}

fn resolve_hexpr(h: &Header, e: &HExpr) -> Result<(HeaderExpr, ExprType), Diagnostic> {
    Ok(match e {
        HExpr::Num(n) => (HeaderExpr::Const(n.value), ExprType::Int),
        HExpr::Remaining(_) => (HeaderExpr::Remaining, ExprType::Int),
        HExpr::Payload(bits, _) => {
            let bits = u32::try_from(bits.value)
                .ok()
                .filter(|b| (1..=32).contains(b))
                .ok_or_else(|| {
                    Diagnostic::error(
                        bits.span,
                        "`payload` reads 1 to 32 bits",
                        "not a width from 1 to 32",
                    )
                })?;
            (HeaderExpr::Payload(bits), ExprType::Int)
        }
        HExpr::Field(f) => (
            HeaderExpr::Field(h.field(&f.name).ok_or_else(|| unknown_field(h, f))?),
            ExprType::Int,
        ),
        HExpr::Not(inner, _) => (
            HeaderExpr::Not(Box::new(typed(h, inner, ExprType::Bool)?)),
            ExprType::Bool,
        ),
        HExpr::Binary(op, l, r, _) => {
            let (operand, result) = match op {
                HBinOp::Or | HBinOp::And => (ExprType::Bool, ExprType::Bool),
                HBinOp::Eq | HBinOp::Ne | HBinOp::Lt | HBinOp::Le | HBinOp::Gt | HBinOp::Ge => {
                    (ExprType::Int, ExprType::Bool)
                }
                _ => (ExprType::Int, ExprType::Int),
            };
            let l = typed(h, l, operand)?;
            let r = typed(h, r, operand)?;
            (HeaderExpr::Binary(*op, Box::new(l), Box::new(r)), result)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Declares `text` on top of the prelude; the new registry and errors.
    fn declare(text: &str) -> (Registry, Vec<String>) {
        let (file, mut diags) = crate::parse_str(text);
        let mut reg = crate::prelude::prelude().registry.clone();
        for item in &file.items {
            if let ast::Item::Decl(d) = item {
                reg.declare(d, &mut diags);
            }
        }
        (reg, diags.into_iter().map(|d| d.message).collect())
    }

    #[test]
    fn fields_get_offsets_past_padding() {
        let (reg, errors) =
            declare("header vx { flags : 8; _ : 24; vni : 24; _ : 8; next = flags; }");
        assert!(errors.is_empty(), "{errors:?}");
        let h = reg.header(reg.header_id("vx").unwrap());
        assert_eq!(h.bits, 64);
        assert_eq!(
            h.fields
                .iter()
                .map(|f| (f.name.as_str(), f.offset, f.bits))
                .collect::<Vec<_>>(),
            [("flags", 0, 8), ("vni", 32, 24)]
        );
        assert_eq!(h.next.as_ref().map(|n| n.field), Some(FieldId(0)));
    }

    #[test]
    fn expressions_are_typed_trees_over_own_fields() {
        let (reg, errors) =
            declare("header h { hl : 4; v : 4; length = hl * 4; valid = v == 1 and hl >= 2; }");
        assert!(errors.is_empty(), "{errors:?}");
        let h = reg.header(reg.header_id("h").unwrap());
        assert_eq!(
            h.length,
            Some(HeaderExpr::Binary(
                HBinOp::Mul,
                Box::new(HeaderExpr::Field(FieldId(0))),
                Box::new(HeaderExpr::Const(4))
            ))
        );
        let (_, errors) = declare("header h { hl : 8; length = hl > 1; }");
        assert_eq!(errors, ["expected a number, found a condition"]);
        let (_, errors) = declare("header h { hl : 8; valid = hl and 1; }");
        assert_eq!(errors, ["expected a condition, found a number"]);
    }

    #[test]
    fn next_cases_keep_their_order_and_the_naming_field() {
        let (reg, errors) = declare(
            "header h { kind : 8; next = kind if kind >= 2 else 1 if payload 8 == 0 else 0; }\n\
             network h if ether type 0x9000 offloaded;",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let id = reg.header_id("h").unwrap();
        let next = reg.header(id).next.as_ref().unwrap();
        assert_eq!(next.field, FieldId(0));
        let values: Vec<_> = next.cases.iter().map(|c| c.value.clone()).collect();
        assert_eq!(
            values,
            [
                HeaderExpr::Field(FieldId(0)),
                HeaderExpr::Const(1),
                HeaderExpr::Const(0)
            ]
        );
        assert_eq!(
            next.cases[1].when,
            Some(HeaderExpr::Binary(
                HBinOp::Eq,
                Box::new(HeaderExpr::Payload(8)),
                Box::new(HeaderExpr::Const(0))
            ))
        );
        assert!(next.cases[2].when.is_none());
        assert_eq!(reg.offloaded_key(id, FieldId(0)), Some(Layer::Network));
        let ether = reg.header_id("ether").unwrap();
        assert_eq!(reg.offloaded_key(ether, FieldId(2)), None);
    }

    #[test]
    fn parse_edges_and_layer_rules_resolve_their_conditions() {
        let (reg, errors) = declare(
            "header m { label : 20; tc : 3; bos : 1; ttl : 8; }\nparse ether type 0x8847, meta protocol 0x8847 => m;",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let e = reg.edges.last().unwrap();
        assert_eq!(e.conds.len(), 2);
        assert_eq!(e.conds[0].values, [0x8847]);
        assert_eq!(e.conds[1].subject, CondSubject::LayerKey(Layer::Network));
        assert_eq!(reg.network.rules.len(), 2);
        assert_eq!(reg.transport.rules[1].through.len(), 2);
    }

    #[test]
    fn bad_declarations_are_reported() {
        let cases = [
            ("header h { a : 8; a : 8; }", "field `a` declared twice"),
            ("header h { a : 0; }", "a width must be 1 to 128 bits"),
            ("datatype d : 33 ipv4;", "this form needs 32 bits"),
            ("symbols s : 2 { a = 4 }", "value does not fit in 2 bits"),
            ("meta mark : mark;", "meta key `mark` declared twice"),
            (
                "header h { a : 8; checksum = a; }",
                "a checksum field must be 16 bits",
            ),
            (
                "network udp;",
                "header `udp` has no `next` field to give the network layer its key",
            ),
        ];
        for (text, want) in cases {
            let (_, errors) = declare(text);
            assert_eq!(errors, [want], "{text}");
        }
    }
}
