//! Elements of named sets and maps in the ruleset language, both ways: the
//! text of `add element SET { ... }` read into the program's element form,
//! and a set's current elements printed for `list`.
//!
//! Reading reuses the ruleset checker and the compiler on a small synthetic
//! ruleset: one table declaring the set again, with the same key and data
//! types (`type ipv4_addr . inet_service : verdict`, or `typeof @ll,0,24`
//! for parts that are plain integers of some width) and the client's
//! elements, plus empty chains named like the set's table's chains so that
//! `jump NAME` elements resolve. The compiled set's elements are exactly
//! what the compiler would have built from the same text in the file;
//! chain and port numbers are then mapped back to the running program's.
//! Elements of datatypes that the ruleset file declares itself (rather
//! than the prelude) cannot be read this way and are refused with the
//! checker's diagnostic.

use super::ProgramError;
use ruleset::CheckedRuleset;
use ruleset::model::{MapData, NamedSet};
use ruleset::registry::{Form, ValueType};
use std::fmt::Write;
use vm::{ChainId, MapElem, MapId, MapValue, PortId, Program, SetElem, SetId, Value, Verdict};

/// A named set or map of the running program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// A set.
    Set(SetId),
    /// A map or verdict map.
    Map(MapId),
}

/// Elements read for one set or map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// For a set.
    Set(SetId, Vec<SetElem>),
    /// For a map.
    Map(MapId, Vec<MapElem>),
}

/// A named set found in both the checked ruleset and its program.
pub struct Named<'a> {
    /// Index of its table in the checked ruleset.
    pub table: usize,
    /// Its declaration.
    pub decl: &'a NamedSet,
    /// Where it is in the program.
    pub target: Target,
}

/// The named set or map called `name` in the program (`table/name` where
/// two tables use the name, as the compiler names it).
pub fn find<'a>(checked: &'a CheckedRuleset, program: &Program, name: &str) -> Option<Named<'a>> {
    for (t, table) in checked.tables.iter().enumerate() {
        for decl in &table.sets {
            let shared = checked
                .tables
                .iter()
                .filter(|o| o.sets.iter().any(|s| s.name == decl.name))
                .count()
                > 1;
            let program_name = if shared {
                format!("{}/{}", table.name, decl.name)
            } else {
                decl.name.clone()
            };
            if program_name != name {
                continue;
            }
            let target = match decl.body.data {
                None => program
                    .sets
                    .iter()
                    .position(|s| s.name == name)
                    .map(|i| Target::Set(SetId(i as u16))),
                Some(_) => program
                    .maps
                    .iter()
                    .position(|m| m.name == name)
                    .map(|i| Target::Map(MapId(i as u16))),
            }?;
            return Some(Named {
                table: t,
                decl,
                target,
            });
        }
    }
    None
}

/// The synthetic table's name.
const TABLE: &str = "switchctl_elements";

/// Reads `text`, a brace-enclosed element list, as elements of the named
/// set `name`.
pub fn parse(
    checked: &CheckedRuleset,
    program: &Program,
    name: &str,
    text: &str,
) -> Result<Parsed, ProgramError> {
    let named = find(checked, program, name).ok_or_else(|| ProgramError::NoSuchSet(name.into()))?;
    enclosed(text)?;
    let source = synthetic(checked, &named, text)?;
    let scratch = ruleset::check_str("elements", &source).map_err(ProgramError::Diagnostics)?;
    let compiled = compiler::compile(&scratch)
        .map_err(|e| ProgramError::Diagnostics(compiler::error::diagnostics(&scratch, e)))?;
    let chain_base: usize = checked.tables[..named.table]
        .iter()
        .map(|t| t.chains.len())
        .sum();
    let port = |p: PortId| -> Result<PortId, ProgramError> {
        let port_name = &compiled.ports[usize::from(p.0)];
        program
            .ports
            .iter()
            .position(|q| q == port_name)
            .map(|i| PortId(i as u16))
            .ok_or_else(|| {
                ProgramError::Invalid(format!(
                    "port {port_name:?} is not used by the running ruleset"
                ))
            })
    };
    let port_parts: Vec<bool> = named
        .decl
        .body
        .key
        .iter()
        .map(|vt| checked.registry.form(*vt) == Form::Port)
        .collect();
    let key = |e: &SetElem| -> Result<SetElem, ProgramError> {
        let mut e = e.clone();
        for (i, is_port) in port_parts.iter().enumerate() {
            if *is_port {
                for v in [&mut e.low[i], &mut e.high[i]] {
                    let n = be_number(v) as u16;
                    *v = Value::from_u128(u128::from(port(PortId(n))?.0), v.len());
                }
            }
        }
        Ok(e)
    };
    match named.target {
        Target::Set(id) => {
            let set = compiled.sets.iter().find(|s| s.name == named.decl.name);
            let elems = set.map(|s| s.elements.as_slice()).unwrap_or_default();
            Ok(Parsed::Set(
                id,
                elems.iter().map(key).collect::<Result<_, _>>()?,
            ))
        }
        Target::Map(id) => {
            let map = compiled.maps.iter().find(|m| m.name == named.decl.name);
            let elems = map.map(|m| m.elements.as_slice()).unwrap_or_default();
            let chain = |c: ChainId| ChainId((chain_base + usize::from(c.0)) as u16);
            let elems = elems
                .iter()
                .map(|e| {
                    let data = match &e.data {
                        MapValue::Verdict(v) => MapValue::Verdict(match *v {
                            Verdict::Jump(c) => Verdict::Jump(chain(c)),
                            Verdict::Goto(c) => Verdict::Goto(chain(c)),
                            Verdict::Fwd(p) => Verdict::Fwd(port(p)?),
                            other => other,
                        }),
                        value => value.clone(),
                    };
                    Ok(MapElem {
                        key: key(&e.key)?,
                        data,
                    })
                })
                .collect::<Result<_, ProgramError>>()?;
            Ok(Parsed::Map(id, elems))
        }
    }
}

/// Checks that `text` is one brace-enclosed list: it cannot close the
/// synthetic declaration and add anything to the ruleset around it.
fn enclosed(text: &str) -> Result<(), ProgramError> {
    let text = text.trim();
    let bad = || {
        ProgramError::Invalid(format!(
            "expected one element list in braces, like {{ 10.0.0.1, 10.0.1.0/24 }}, not {text:?}"
        ))
    };
    if !text.starts_with('{') || !text.ends_with('}') {
        return Err(bad());
    }
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth = depth.checked_sub(1).ok_or_else(bad)?;
                if depth == 0 && i != text.len() - 1 {
                    return Err(bad());
                }
            }
            _ => {}
        }
    }
    if depth == 0 { Ok(()) } else { Err(bad()) }
}

/// The synthetic ruleset that declares the set again with `text` as its
/// elements.
fn synthetic(
    checked: &CheckedRuleset,
    named: &Named<'_>,
    text: &str,
) -> Result<String, ProgramError> {
    let body = &named.decl.body;
    let mut parts: Vec<ValueType> = body.key.clone();
    if let Some(MapData::Value(vt)) = body.data {
        parts.push(vt);
    }
    let typed = parts.iter().all(|p| p.ty.is_some());
    if !typed && parts.iter().any(|p| p.ty.is_some()) {
        return Err(ProgramError::Invalid(format!(
            "{} mixes typed and plain integer parts; its elements cannot be read here",
            named.decl.name
        )));
    }
    let spell = |vt: &ValueType| match vt.ty {
        Some(t) => checked.registry.ty(t).name.clone(),
        None => format!("@ll,0,{}", vt.bits),
    };
    let key: Vec<String> = body.key.iter().map(spell).collect();
    let mut out = String::new();
    let _ = writeln!(out, "table netdev {TABLE} {{");
    for chain in &checked.tables[named.table].chains {
        let _ = writeln!(out, "    chain {} {{\n    }}", chain.name);
    }
    let kind = if body.data.is_some() { "map" } else { "set" };
    let _ = writeln!(out, "    {kind} {} {{", named.decl.name);
    let _ = write!(
        out,
        "        {} {}",
        if typed { "type" } else { "typeof" },
        key.join(" . ")
    );
    match body.data {
        None => {}
        Some(MapData::Verdict) => out.push_str(" : verdict"),
        Some(MapData::Value(vt)) => {
            let _ = write!(out, " : {}", spell(&vt));
        }
    }
    out.push('\n');
    if body.interval {
        out.push_str("        flags interval\n");
    }
    let _ = writeln!(out, "        elements = {text}\n    }}\n}}");
    Ok(out)
}

/// A big-endian value as a number (values are at most 16 bytes).
fn be_number(v: &Value) -> u128 {
    v.0.iter().fold(0u128, |n, b| n << 8 | u128::from(*b))
}

/// One key part's value in the ruleset language.
fn value_text(checked: &CheckedRuleset, program: &Program, vt: ValueType, v: &Value) -> String {
    let n = be_number(v);
    match checked.registry.form(vt) {
        Form::Ipv4 => std::net::Ipv4Addr::from(n as u32).to_string(),
        Form::Ipv6 => std::net::Ipv6Addr::from(n).to_string(),
        Form::Mac => {
            v.0.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        }
        Form::String => format!("{:?}", String::from_utf8_lossy(&v.0).trim_end_matches('\0')),
        Form::Port => format!(
            "{:?}",
            program.ports.get(n as usize).map_or("?", String::as_str)
        ),
        Form::Integer => n.to_string(),
    }
}

/// One key part's range in the ruleset language: a value, a prefix of an
/// address, or `low-high`.
fn part_text(
    checked: &CheckedRuleset,
    program: &Program,
    vt: ValueType,
    low: &Value,
    high: &Value,
) -> String {
    let lo = value_text(checked, program, vt, low);
    if low == high {
        return lo;
    }
    let (a, b) = (be_number(low), be_number(high));
    let bits = vt.bits;
    let span = a ^ b;
    let is_address = matches!(checked.registry.form(vt), Form::Ipv4 | Form::Ipv6);
    if is_address && (span.wrapping_add(1) & span) == 0 && a & span == 0 && b & span == span {
        let host_bits = 128 - span.leading_zeros();
        return format!("{lo}/{}", bits - host_bits);
    }
    format!("{lo}-{}", value_text(checked, program, vt, high))
}

/// The current elements of a named set or map in the ruleset language,
/// one string each (`10.10.0.80 . 80 : accept`).
pub fn show(
    checked: &CheckedRuleset,
    program: &Program,
    decl: &NamedSet,
    elems: impl IntoIterator<Item = (SetElem, Option<MapValue>)>,
) -> Vec<String> {
    elems
        .into_iter()
        .map(|(key, data)| {
            let mut text = decl
                .body
                .key
                .iter()
                .enumerate()
                .map(|(i, vt)| part_text(checked, program, *vt, &key.low[i], &key.high[i]))
                .collect::<Vec<_>>()
                .join(" . ");
            match (data, decl.body.data) {
                (Some(MapValue::Verdict(v)), _) => {
                    let _ = write!(text, " : {}", verdict_word(program, v));
                }
                (Some(MapValue::Value(v)), Some(MapData::Value(vt))) => {
                    let _ = write!(text, " : {}", value_text(checked, program, vt, &v));
                }
                _ => {}
            }
            text
        })
        .collect()
}

/// A verdict as the ruleset language writes it.
fn verdict_word(program: &Program, v: Verdict) -> String {
    let chain = |c: ChainId| {
        program
            .chains
            .get(usize::from(c.0))
            .map_or("?", |c| c.name.as_str())
            .to_string()
    };
    match v {
        Verdict::Continue => "continue".into(),
        Verdict::Return => "return".into(),
        Verdict::Jump(c) => format!("jump {}", chain(c)),
        Verdict::Goto(c) => format!("goto {}", chain(c)),
        Verdict::Accept => "accept".into(),
        Verdict::Drop => "drop".into(),
        Verdict::Fwd(p) => format!(
            "fwd to {:?}",
            program
                .ports
                .get(usize::from(p.0))
                .map_or("?", String::as_str)
        ),
        Verdict::Flood => "flood".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = r#"
table netdev t {
    set block { type ipv4_addr; flags interval; elements = { 192.0.2.0/24 } }
    set pairs { type ipv4_addr . inet_service; elements = { 10.0.0.1 . 22 } }
    map svc { type ipv4_addr . inet_service : verdict; elements = { 10.0.0.80 . 80 : accept } }
    set vnis { typeof @ll,0,24; elements = { 5 } }
    chain in {
        type filter hook ingress priority 0; policy accept;
        ip saddr @block drop
        ip saddr . tcp dport @pairs accept
        ip daddr . tcp dport vmap @svc
        @ll,0,24 @vnis drop
    }
    chain admin { accept }
}
"#;

    fn setup() -> (CheckedRuleset, Program) {
        let checked = ruleset::check_str("t.nft", RULES).unwrap();
        let program = compiler::compile(&checked).unwrap();
        (checked, program)
    }

    #[test]
    fn reads_elements_like_the_compiler() {
        let (c, p) = setup();
        let Parsed::Set(id, elems) =
            parse(&c, &p, "block", "{ 198.51.100.0/24, 203.0.113.7 }").unwrap()
        else {
            panic!()
        };
        assert_eq!(id, SetId(0));
        assert_eq!(elems.len(), 2);
        assert_eq!(elems[0].low[0].0, vec![198, 51, 100, 0]);
        assert_eq!(elems[0].high[0].0, vec![198, 51, 100, 255]);
        let Parsed::Set(_, elems) = parse(&c, &p, "pairs", "{ 10.0.0.2 . ssh }").unwrap() else {
            panic!()
        };
        assert_eq!(elems[0].low[1].0, vec![0, 22]);
        let Parsed::Map(_, elems) =
            parse(&c, &p, "svc", "{ 10.0.0.81 . 443 : jump admin }").unwrap()
        else {
            panic!()
        };
        let admin = p.chains.iter().position(|ch| ch.name == "admin").unwrap();
        assert_eq!(
            elems[0].data,
            MapValue::Verdict(Verdict::Jump(ChainId(admin as u16)))
        );
        let Parsed::Set(_, elems) = parse(&c, &p, "vnis", "{ 7 }").unwrap() else {
            panic!()
        };
        assert_eq!(elems[0].low[0].0, vec![0, 0, 7]);
    }

    #[test]
    fn refuses_what_is_not_an_element_list() {
        let (c, p) = setup();
        assert!(matches!(
            parse(&c, &p, "nope", "{ 1.2.3.4 }"),
            Err(ProgramError::NoSuchSet(_))
        ));
        assert!(matches!(
            parse(&c, &p, "block", "{ 22 }"),
            Err(ProgramError::Diagnostics(_))
        ));
        for escape in [
            "{ 1.2.3.4 } } table netdev x { set y { type ipv4_addr; elements = { 1.2.3.4 }",
            "1.2.3.4",
            "{ 1.2.3.4",
        ] {
            assert!(
                matches!(
                    parse(&c, &p, "block", escape),
                    Err(ProgramError::Invalid(_))
                ),
                "{escape}"
            );
        }
    }

    #[test]
    fn prints_elements_back() {
        let (c, p) = setup();
        let named = find(&c, &p, "block").unwrap();
        let elems = p.sets[0].elements.iter().map(|e| (e.clone(), None));
        assert_eq!(show(&c, &p, named.decl, elems), ["192.0.2.0/24"]);
        let named = find(&c, &p, "svc").unwrap();
        let elems = p.maps[0]
            .elements
            .iter()
            .map(|e| (e.key.clone(), Some(e.data.clone())));
        assert_eq!(show(&c, &p, named.decl, elems), ["10.0.0.80 . 80 : accept"]);
    }
}
