//! The listing read back: [`parse_listing`] turns the text that
//! [`crate::listing::listing`] prints into the program it was printed from,
//! so programs can be written and kept by hand in the listing's form (as
//! rbpf's assembler does for eBPF). RON stays the saved form.
//!
//! `parse_listing(&listing(p)) == p` for every program whose bases, keys,
//! chains and ports have distinct names free of `, `, `(` and line breaks
//! (names print bare in some places) and whose rule texts do not contain
//! `  # comment "`; verified compiler output is such a program. Parenthesised
//! names after object indexes (`@s0 (blocked)`) are comments and are not
//! checked.

use crate::insn::{
    AluOp, BaseId, ChainId, ChecksumFix, CmpOp, CounterId, Insn, KeyId, LimitId, MapId, Meta,
    Operand, PortId, Reg, SetId, ShiftDir, Value, Verdict,
};
use crate::program::{
    BaseChain, Chain, CounterDecl, LimitDecl, LimitUnit, MapData, MapDecl, MapElem, MapValue,
    Policy, Program, Rule, SetDecl, SetElem, SetKind, SourceRef,
};
use thiserror::Error;

/// Why a line of a listing could not be read.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("line {line}: {message}")]
pub struct AsmError {
    /// 1-based line number.
    pub line: usize,
    /// What was expected.
    pub message: String,
}

/// Reads a program from its listing.
pub fn parse_listing(text: &str) -> Result<Program, AsmError> {
    let mut lines = Lines {
        lines: text.lines().enumerate().peekable(),
    };
    let mut p = Program::default();
    let (n, l) = lines.next_line()?;
    p.bases = named_list(l, "bases", 'b').map_err(|m| err(n, m))?;
    let (n, l) = lines.next_line()?;
    p.keys = named_list(l, "keys", 'k').map_err(|m| err(n, m))?;
    let (n, l) = lines.next_line()?;
    p.ports = port_list(l).map_err(|m| err(n, m))?;
    loop {
        let (n, l) = lines.next_line()?;
        let at = |m| err(n, m);
        if l.is_empty() {
            break;
        } else if let Some(rest) = l.strip_prefix("set ") {
            let (name, kind, key) = table_head(rest, 's', p.sets.len(), " {").map_err(at)?;
            let mut elements = Vec::new();
            while let Some(elem) = lines.element()? {
                elements.push(set_elem(elem.1).map_err(|m| err(elem.0, m))?);
            }
            p.sets.push(SetDecl {
                name,
                key,
                kind,
                elements,
            });
        } else if let Some(rest) = l.strip_prefix("map ") {
            let (head, data) = rest
                .rsplit_once(" : ")
                .ok_or_else(|| at("expected ` : `".into()))?;
            let (name, kind, key) = table_head(head, 'm', p.maps.len(), "").map_err(at)?;
            let data = match data {
                "verdict {" => MapData::Verdict,
                d => MapData::Value(
                    number(
                        d.strip_prefix("value ")
                            .and_then(|d| d.strip_suffix(" {"))
                            .unwrap_or(d),
                    )
                    .map_err(at)?,
                ),
            };
            let mut elements = Vec::new();
            while let Some((en, e)) = lines.element()? {
                let (key, value) = e
                    .split_once(" : ")
                    .ok_or_else(|| err(en, "expected ` : `".into()))?;
                let key = set_elem(key).map_err(|m| err(en, m))?;
                let data = match data {
                    MapData::Verdict => MapValue::Verdict(verdict(value).map_err(|m| err(en, m))?),
                    MapData::Value(_) => MapValue::Value(value_of(value).map_err(|m| err(en, m))?),
                };
                elements.push(MapElem { key, data });
            }
            p.maps.push(MapDecl {
                name,
                key,
                kind,
                data,
                elements,
            });
        } else if let Some(rest) = l.strip_prefix("counter ") {
            let name = indexed(rest, "ctr", p.counters.len())
                .and_then(quoted)
                .map_err(at)?;
            p.counters.push(CounterDecl { name });
        } else if let Some(rest) = l.strip_prefix("limit ") {
            p.limits.push(limit(rest, p.limits.len()).map_err(at)?);
        } else {
            return Err(at(format!("unexpected {l:?}")));
        }
    }
    let (n, l) = lines.next_line()?;
    if l != "parse" {
        return Err(err(n, "expected `parse`".into()));
    }
    p.parse = rules(&mut lines, &p)?;
    while let Some((n, l)) = lines.lines.next() {
        if l.is_empty() {
            continue;
        }
        let mut chain = chain_head(l, p.chains.len()).map_err(|m| err(n + 1, m))?;
        chain.rules = rules(&mut lines, &p)?;
        p.chains.push(chain);
    }
    Ok(p)
}

fn err(line: usize, message: String) -> AsmError {
    AsmError { line, message }
}

/// The listing's lines, numbered from 1.
struct Lines<'t> {
    lines: std::iter::Peekable<std::iter::Enumerate<std::str::Lines<'t>>>,
}

impl<'t> Lines<'t> {
    fn next_line(&mut self) -> Result<(usize, &'t str), AsmError> {
        match self.lines.next() {
            Some((n, l)) => Ok((n + 1, l)),
            None => Err(err(0, "unexpected end of the listing".into())),
        }
    }

    /// The next element line of a set or map, or `None` at its `}`.
    fn element(&mut self) -> Result<Option<(usize, &'t str)>, AsmError> {
        let (n, l) = self.next_line()?;
        if l == "}" {
            return Ok(None);
        }
        l.strip_prefix("  ")
            .map(|e| Some((n, e)))
            .ok_or_else(|| err(n, "expected an element or `}`".into()))
    }
}

/// Rules (`  rule ...` and their `    insn` lines) up to a blank line or the end.
fn rules(lines: &mut Lines<'_>, p: &Program) -> Result<Vec<Rule>, AsmError> {
    let mut rules: Vec<Rule> = Vec::new();
    while let Some(&(n, l)) = lines.lines.peek() {
        if l.is_empty() {
            break;
        }
        lines.lines.next();
        let at = |m| err(n + 1, m);
        if let Some(insn) = l.strip_prefix("    ") {
            let rule = rules
                .last_mut()
                .ok_or_else(|| at("an instruction outside a rule".into()))?;
            rule.insns.push(instruction(insn, p).map_err(at)?);
        } else if let Some(head) = l.strip_prefix("  rule ") {
            rules.push(rule_head(head, rules.len()).map_err(at)?);
        } else {
            return Err(at(format!(
                "expected a rule or an instruction, found {l:?}"
            )));
        }
    }
    Ok(rules)
}

type Parsed<T> = Result<T, String>;

fn number<T: std::str::FromStr>(s: &str) -> Parsed<T> {
    s.parse()
        .map_err(|_| format!("expected a number, found {s:?}"))
}

/// `PREFIX{expected} REST` -> `REST`.
fn indexed<'s>(s: &'s str, prefix: &str, expected: usize) -> Parsed<&'s str> {
    let (id, rest) = s.split_once(' ').unwrap_or((s, ""));
    if id != format!("{prefix}{expected}") {
        return Err(format!("expected {prefix}{expected}, found {id:?}"));
    }
    Ok(rest)
}

/// A string as `{:?}` prints it.
fn quoted(s: &str) -> Parsed<String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| format!("expected a quoted string, found {s:?}"))?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some(c @ ('\\' | '"' | '\'')) => out.push(c),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|c| *c != '}').collect();
                let c = u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32);
                out.push(c.ok_or_else(|| format!("bad escape \\u{{{hex}}}"))?);
            }
            other => return Err(format!("bad escape \\{other:?}")),
        }
    }
    Ok(out)
}

/// `bases  b0 ll, b1 nh` -> the names.
fn named_list(line: &str, word: &str, prefix: char) -> Parsed<Vec<String>> {
    let rest = line
        .strip_prefix(word)
        .map(str::trim_start)
        .ok_or_else(|| format!("expected `{word}`"))?;
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    rest.split(", ")
        .enumerate()
        .map(|(i, item)| indexed(item, &prefix.to_string(), i).map(str::to_string))
        .collect()
}

fn port_list(line: &str) -> Parsed<Vec<String>> {
    let rest = line
        .strip_prefix("ports")
        .map(str::trim_start)
        .ok_or("expected `ports`")?;
    let mut ports = Vec::new();
    let mut rest = rest;
    while !rest.is_empty() {
        let item = indexed(rest, "p", ports.len())?;
        // The quoted name ends at the first `"` not escaped.
        let end = quoted_end(item)?;
        ports.push(quoted(&item[..end])?);
        rest = item[end..].strip_prefix(", ").unwrap_or(&item[end..]);
    }
    Ok(ports)
}

/// The length of the quoted string at the start of `s`.
fn quoted_end(s: &str) -> Parsed<usize> {
    let mut escaped = false;
    for (i, c) in s.char_indices().skip(1) {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Ok(i + 1),
            _ => escaped = false,
        }
    }
    Err(format!("unterminated string in {s:?}"))
}

/// `@s0 "name" hash [4, 2]{suffix}` -> name, kind, key.
fn table_head(
    s: &str,
    letter: char,
    index: usize,
    suffix: &str,
) -> Parsed<(String, SetKind, Vec<u8>)> {
    let rest = indexed(s, &format!("@{letter}"), index)?;
    let end = quoted_end(rest)?;
    let name = quoted(&rest[..end])?;
    let rest = rest[end..]
        .trim_start()
        .strip_suffix(suffix)
        .ok_or_else(|| format!("expected `{suffix}`"))?;
    let (kind, key) = rest.split_once(' ').ok_or("expected a kind and a key")?;
    let kind = match kind {
        "hash" => SetKind::Hash,
        "interval" => SetKind::Interval,
        k => return Err(format!("unknown table kind {k:?}")),
    };
    let key = key
        .strip_prefix('[')
        .and_then(|k| k.strip_suffix(']'))
        .ok_or("expected `[widths]`")?;
    let key = if key.is_empty() {
        Vec::new()
    } else {
        key.split(", ").map(number).collect::<Parsed<_>>()?
    };
    Ok((name, kind, key))
}

/// `0x0a000001 . 0x0016-0x0020` -> the element.
fn set_elem(s: &str) -> Parsed<SetElem> {
    let mut elem = SetElem {
        low: Vec::new(),
        high: Vec::new(),
    };
    for part in s.split(" . ") {
        let (low, high) = part.split_once('-').unwrap_or((part, part));
        elem.low.push(value_of(low)?);
        elem.high.push(value_of(high)?);
    }
    Ok(elem)
}

/// A value as its `Display` prints it: hex chunks joined by `:`, each as
/// wide as its bytes.
fn value_of(s: &str) -> Parsed<Value> {
    let mut bytes = Vec::new();
    for chunk in s.split(':') {
        let hex = chunk
            .strip_prefix("0x")
            .ok_or_else(|| format!("expected a 0x value, found {s:?}"))?;
        if hex.is_empty() || !hex.len().is_multiple_of(2) || hex.len() > 8 {
            return Err(format!("bad value chunk {chunk:?}"));
        }
        for pair in hex.as_bytes().chunks(2) {
            let pair = std::str::from_utf8(pair).map_err(|_| format!("bad value {s:?}"))?;
            bytes.push(u8::from_str_radix(pair, 16).map_err(|_| format!("bad value {s:?}"))?);
        }
    }
    Ok(Value(bytes))
}

/// `lim0[ over] 10 packets per 1000 ns, burst 5`.
fn limit(s: &str, index: usize) -> Parsed<LimitDecl> {
    let (id, rest) = s.split_once(' ').ok_or("expected a limiter")?;
    let (id, over) = match rest.strip_prefix("over ") {
        Some(r) => ((id, r), true),
        None => ((id, rest), false),
    };
    if id.0 != format!("lim{index}") {
        return Err(format!("expected lim{index}"));
    }
    let words: Vec<&str> = id.1.split(' ').collect();
    let [rate, unit, "per", per_ns, "ns,", "burst", burst] = words[..] else {
        return Err(format!("bad limiter {s:?}"));
    };
    let unit = match unit {
        "packets" => LimitUnit::Packets,
        "bytes" => LimitUnit::Bytes,
        u => return Err(format!("unknown unit {u:?}")),
    };
    Ok(LimitDecl {
        rate: number(rate)?,
        per_ns: number(per_ns)?,
        burst: number(burst)?,
        unit,
        over,
    })
}

/// `N handle H fp X[ counter ctrC][  # file:line: text[  # comment "c"]]`.
fn rule_head(s: &str, index: usize) -> Parsed<Rule> {
    let (head, source) = match s.split_once("  # ") {
        Some((h, src)) => (h, Some(source_ref(src)?)),
        None => (s, None),
    };
    let words: Vec<&str> = head.split(' ').collect();
    let (counter, words) = match words[..] {
        [ref w @ .., "counter", c] => (
            Some(CounterId(number(
                c.strip_prefix("ctr").ok_or("expected ctrN")?,
            )?)),
            w.to_vec(),
        ),
        _ => (None, words),
    };
    let [i, "handle", handle, "fp", fp] = words[..] else {
        return Err(format!("bad rule line {s:?}"));
    };
    if number::<usize>(i)? != index {
        return Err(format!("expected rule {index}"));
    }
    let fingerprint = u64::from_str_radix(fp, 16).map_err(|_| format!("bad fingerprint {fp:?}"))?;
    Ok(Rule {
        handle: number(handle)?,
        fingerprint,
        source,
        counter,
        insns: Vec::new(),
    })
}

fn source_ref(s: &str) -> Parsed<SourceRef> {
    let (s, comment) = match s.rsplit_once("  # comment ") {
        Some((s, c)) => (s, Some(quoted(c)?)),
        None => (s, None),
    };
    let (file, rest) = s.split_once(':').ok_or("expected file:line:")?;
    let (line, text) = rest
        .split_once(": ")
        .or_else(|| rest.strip_suffix(':').map(|l| (l, "")))
        .ok_or("expected file:line:")?;
    Ok(SourceRef {
        file: file.into(),
        line: number(line)?,
        text: text.into(),
        comment,
    })
}

/// `cI NAME[ (base: priority P[, device pD (...)], policy X)]`.
fn chain_head(s: &str, index: usize) -> Parsed<Chain> {
    let rest = s.strip_prefix("chain ").ok_or("expected `chain`")?;
    let rest = indexed(rest, "c", index)?;
    let (name, base) = match rest.split_once(" (base: ") {
        None => (rest, None),
        Some((name, base)) => {
            let base = base.strip_suffix(')').ok_or("expected `)`")?;
            let (priority, rest) = base
                .strip_prefix("priority ")
                .and_then(|b| b.split_once(", "))
                .ok_or("expected a priority")?;
            let (device, policy) = match rest.strip_prefix("device ") {
                Some(d) => {
                    let (d, policy) = d.rsplit_once(", ").ok_or("expected a policy")?;
                    (Some(PortId(object(d, "p")?)), policy)
                }
                None => (None, rest),
            };
            let policy = match policy {
                "policy accept" => Policy::Accept,
                "policy drop" => Policy::Drop,
                other => return Err(format!("expected a policy, found {other:?}")),
            };
            (
                name,
                Some(BaseChain {
                    priority: number(priority)?,
                    device,
                    policy,
                }),
            )
        }
    };
    Ok(Chain {
        name: name.into(),
        base,
        rules: Vec::new(),
    })
}

/// An index after a prefix, with the `(name)` after it ignored:
/// `c1 (web)` -> 1.
fn object<T: std::str::FromStr>(s: &str, prefix: &str) -> Parsed<T> {
    let id = s.split(' ').next().unwrap_or(s);
    number(
        id.strip_prefix(prefix)
            .ok_or_else(|| format!("expected {prefix}N, found {s:?}"))?,
    )
}

fn verdict(s: &str) -> Parsed<Verdict> {
    Ok(match s {
        "accept" => Verdict::Accept,
        "drop" => Verdict::Drop,
        "continue" => Verdict::Continue,
        "return" => Verdict::Return,
        "flood" => Verdict::Flood,
        _ => match s.split_once(' ') {
            Some(("jump", c)) => Verdict::Jump(ChainId(object(c, "c")?)),
            Some(("goto", c)) => Verdict::Goto(ChainId(object(c, "c")?)),
            Some(("fwd", port)) => Verdict::Fwd(PortId(object(port, "p")?)),
            _ => return Err(format!("unknown verdict {s:?}")),
        },
    })
}

fn reg(s: &str) -> Parsed<Reg> {
    Ok(Reg(number(s.strip_prefix('r').ok_or_else(|| {
        format!("expected a register, found {s:?}")
    })?)?))
}

fn base(s: &str, p: &Program) -> Parsed<BaseId> {
    let i = p
        .bases
        .iter()
        .position(|b| b == s)
        .ok_or_else(|| format!("unknown base {s:?}"))?;
    Ok(BaseId(i as u8))
}

fn key(s: &str, p: &Program) -> Parsed<KeyId> {
    let i = p
        .keys
        .iter()
        .position(|k| k == s)
        .ok_or_else(|| format!("unknown key {s:?}"))?;
    Ok(KeyId(i as u8))
}

/// `BASE+OFF`.
fn at(s: &str, p: &Program) -> Parsed<(BaseId, u16)> {
    let (b, off) = s
        .rsplit_once('+')
        .ok_or_else(|| format!("expected base+offset, found {s:?}"))?;
    Ok((base(b, p)?, number(off)?))
}

/// `LEN @ BASE+OFF`.
fn sized_at<T: std::str::FromStr>(s: &str, p: &Program) -> Parsed<(T, BaseId, u16)> {
    let (len, place) = s
        .split_once(" @ ")
        .ok_or_else(|| format!("expected `LEN @ BASE+OFF`, found {s:?}"))?;
    let (b, off) = at(place, p)?;
    Ok((number(len)?, b, off))
}

fn cmp_op(s: &str) -> Parsed<CmpOp> {
    Ok(match s {
        "==" => CmpOp::Eq,
        "!=" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        ">=" => CmpOp::Ge,
        _ => return Err(format!("unknown relation {s:?}")),
    })
}

fn meta(s: &str) -> Parsed<Meta> {
    Ok(match s {
        "len" => Meta::Len,
        "iif" => Meta::Iif,
        "iifname" => Meta::IifName,
        "iifaddr" => Meta::IifAddr,
        "mark" => Meta::Mark,
        _ => return Err(format!("unknown metadata {s:?}")),
    })
}

/// `[not ]in REST` -> negate, REST.
fn membership(s: &str) -> Parsed<(bool, &str)> {
    match s.strip_prefix("not in ") {
        Some(r) => Ok((true, r)),
        None => s
            .strip_prefix("in ")
            .map(|r| (false, r))
            .ok_or_else(|| format!("expected `in`, found {s:?}")),
    }
}

/// `@mN[rS] (name)` -> map, source register.
fn map_ref(s: &str) -> Parsed<(MapId, Reg)> {
    let s = s.split(' ').next().unwrap_or(s);
    let (m, r) = s
        .strip_prefix("@m")
        .and_then(|s| s.strip_suffix(']'))
        .and_then(|s| s.split_once('['))
        .ok_or_else(|| format!("expected @mN[rS], found {s:?}"))?;
    Ok((MapId(number(m)?), reg(r)?))
}

/// One instruction line (without its indentation).
fn instruction(s: &str, p: &Program) -> Parsed<Insn> {
    let (mnemonic, args) = s
        .split_once(' ')
        .ok_or_else(|| format!("expected an instruction, found {s:?}"))?;
    let two = |args: &'_ str| -> Parsed<(Reg, String)> {
        let (r, rest) = args
            .split_once(", ")
            .ok_or_else(|| format!("expected `rN, ...`, found {args:?}"))?;
        Ok((reg(r)?, rest.to_string()))
    };
    Ok(match mnemonic {
        "load" => {
            let (dst, rest) = two(args)?;
            let (len, base, offset) = sized_at(&rest, p)?;
            Insn::Load {
                dst,
                base,
                offset,
                len,
            }
        }
        "loadbase" => {
            let (dst, b) = two(args)?;
            Insn::LoadBase {
                dst,
                base: base(&b, p)?,
            }
        }
        "loadkey" => {
            let (dst, k) = two(args)?;
            Insn::LoadKey {
                dst,
                key: key(&k, p)?,
            }
        }
        "meta" => {
            let (dst, m) = two(args)?;
            Insn::LoadMeta {
                dst,
                meta: meta(&m)?,
            }
        }
        "imm" => {
            let (dst, v) = two(args)?;
            Insn::Imm {
                dst,
                value: value_of(&v)?,
            }
        }
        "bitwise" => {
            let (dst, rest) = two(args)?;
            let words: Vec<&str> = rest.split(' ').collect();
            let [src, "&", mask, "^", xor] = words[..] else {
                return Err(format!("bad bitwise {s:?}"));
            };
            Insn::Bitwise {
                dst,
                src: reg(src)?,
                mask: value_of(mask)?,
                xor: value_of(xor)?,
            }
        }
        "shift" => {
            let (dst, rest) = two(args)?;
            let words: Vec<&str> = rest.split(' ').collect();
            let [src, dir, bits, len, "bytes)"] = words[..] else {
                return Err(format!("bad shift {s:?}"));
            };
            let dir = match dir {
                "<<" => ShiftDir::Left,
                ">>" => ShiftDir::Right,
                d => return Err(format!("bad shift direction {d:?}")),
            };
            let len = len.strip_prefix('(').ok_or("expected `(LEN bytes)`")?;
            Insn::Shift {
                dst,
                src: reg(src)?,
                len: number(len)?,
                dir,
                bits: number(bits)?,
            }
        }
        "alu" => {
            let (dst, rest) = two(args)?;
            let words: Vec<&str> = rest.split(' ').collect();
            let [a, op, b] = words[..] else {
                return Err(format!("bad alu {s:?}"));
            };
            let op = match op {
                "+" => AluOp::Add,
                "-" => AluOp::Sub,
                "*" => AluOp::Mul,
                "&" => AluOp::And,
                "|" => AluOp::Or,
                "^" => AluOp::Xor,
                "<<" => AluOp::Shl,
                ">>" => AluOp::Shr,
                o => return Err(format!("unknown operation {o:?}")),
            };
            let b = if b.starts_with('r') {
                Operand::Reg(reg(b)?)
            } else if let Some(hex) = b.strip_prefix("0x") {
                Operand::Imm(
                    u32::from_str_radix(hex, 16).map_err(|_| format!("bad constant {b:?}"))?,
                )
            } else {
                Operand::Imm(number(b)?)
            };
            Insn::Alu {
                dst,
                a: reg(a)?,
                op,
                b,
            }
        }
        "cmp" => {
            let words: Vec<&str> = args.split(' ').collect();
            let [src, op, value] = words[..] else {
                return Err(format!("bad cmp {s:?}"));
            };
            Insn::Cmp {
                src: reg(src)?,
                op: cmp_op(op)?,
                value: value_of(value)?,
            }
        }
        "cmpreg" => {
            let words: Vec<&str> = args.split(' ').collect();
            let [a, op, b] = words[..] else {
                return Err(format!("bad cmpreg {s:?}"));
            };
            Insn::CmpReg {
                a: reg(a)?,
                op: cmp_op(op)?,
                b: reg(b)?,
            }
        }
        "range" => {
            let (src, rest) = args.split_once(' ').ok_or("expected a register")?;
            let (negate, bounds) = membership(rest)?;
            let (low, high) = bounds.split_once('-').ok_or("expected LOW-HIGH")?;
            Insn::Range {
                src: reg(src)?,
                low: value_of(low)?,
                high: value_of(high)?,
                negate,
            }
        }
        "in" => {
            let (src, rest) = args.split_once(' ').ok_or("expected a register")?;
            let (negate, rest) = match rest.strip_prefix("not ") {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let items = rest
                .strip_prefix("{ ")
                .and_then(|r| r.strip_suffix(" }"))
                .ok_or("expected { ... }")?;
            let list = items
                .split(", ")
                .map(|item| {
                    let (low, high) = item.split_once('-').unwrap_or((item, item));
                    Ok((value_of(low)?, value_of(high)?))
                })
                .collect::<Parsed<Vec<_>>>()?;
            Insn::InList {
                src: reg(src)?,
                list,
                negate,
            }
        }
        "lookup" => {
            let (src, rest) = args.split_once(' ').ok_or("expected a register")?;
            let (negate, set) = membership(rest)?;
            Insn::Lookup {
                src: reg(src)?,
                set: SetId(object(set, "@s")?),
                negate,
            }
        }
        "map" => {
            let (dst, rest) = two(args)?;
            let (map, src) = map_ref(&rest)?;
            Insn::MapLookup { src, map, dst }
        }
        "vmap" => {
            let (map, src) = map_ref(args)?;
            Insn::VmapLookup { src, map }
        }
        "counter" => Insn::Counter {
            counter: CounterId(object(args, "ctr")?),
        },
        "limit" => Insn::Limit {
            limit: LimitId(object(args, "lim")?),
        },
        "setmark" => Insn::SetMark { src: reg(args)? },
        "store" => {
            let (src, rest) = two(args)?;
            let mut parts = rest.split(", csum @ ");
            let (len, base, offset) = sized_at(parts.next().unwrap_or(""), p)?;
            let checksums = parts
                .map(|fix| {
                    let (fix, when) = match fix.split_once(" if ") {
                        Some((fix, cond)) => {
                            let (k, v) = cond.split_once(" == ").ok_or("expected `if KEY == N`")?;
                            let v = v.parse().map_err(|_| format!("bad key value {v:?}"))?;
                            (fix, Some((key(k, p)?, v)))
                        }
                        None => (fix, None),
                    };
                    let (place, zero_means_none) = match fix.strip_suffix(" unless 0") {
                        Some(place) => (place, true),
                        None => (fix, false),
                    };
                    let (base, offset) = at(place, p)?;
                    Ok(ChecksumFix {
                        base,
                        offset,
                        zero_means_none,
                        when,
                    })
                })
                .collect::<Parsed<_>>()?;
            Insn::Store {
                base,
                offset,
                len,
                src,
                checksums,
            }
        }
        "log" => Insn::Log {
            prefix: quoted(args)?,
        },
        "mirror" => Insn::Mirror {
            port: PortId(object(args, "p")?),
        },
        "insert" => {
            let (bytes, place) = args
                .split_once(" @ ")
                .ok_or("expected `VALUE @ BASE+OFF`")?;
            let (base, offset) = at(place, p)?;
            Insn::Insert {
                base,
                offset,
                bytes: value_of(bytes)?,
            }
        }
        "remove" => {
            let (len, base, offset) = sized_at(args, p)?;
            Insn::Remove { base, offset, len }
        }
        "verdict" => Insn::Verdict(verdict(args)?),
        "setbase" => {
            let (dst, rest) = args.split_once(" = ").ok_or("expected `DST = FROM+OFF`")?;
            let (place, add) = match rest.split_once(" + ") {
                Some((place, r)) => (place, Some(reg(r)?)),
                None => (rest, None),
            };
            let (from, offset) = place.rsplit_once('+').ok_or("expected FROM+OFF")?;
            let from = if from == "frame" {
                None
            } else {
                Some(base(from, p)?)
            };
            Insn::SetBase {
                dst: base(dst, p)?,
                from,
                offset: number(offset)?,
                add,
            }
        }
        "clearbase" => Insn::ClearBase {
            dst: base(args, p)?,
        },
        "setkey" => {
            let (dst, src) = args.split_once(" = ").ok_or("expected `KEY = rS`")?;
            Insn::SetKey {
                dst: key(dst, p)?,
                src: reg(src)?,
            }
        }
        "clearkey" => Insn::ClearKey { dst: key(args, p)? },
        "skip" => Insn::Skip {
            rules: args
                .parse()
                .map_err(|_| format!("bad skip count {args:?}"))?,
        },
        m => return Err(format!("unknown instruction {m:?}")),
    })
}
