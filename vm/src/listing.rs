//! The stable textual listing of a program: one instruction a line, for
//! people who read `nft --debug=netlink`, for snapshot tests and for
//! `switchctl compile --emit listing`.
//!
//! The listing is a pure function of the program: it is deterministic, it
//! never fails (undeclared objects print as `?`), and its format changes
//! only on purpose, since snapshot tests pin it. Layout:
//!
//! ```text
//! bases  b0 ll, b1 nh, b2 th
//! keys   k0 protocol, k1 l4proto
//! ports  p0 "eth0", p1 "eth1"
//! set @s0 "blocked" hash [4] {
//!   0x0a000001
//! }
//! counter ctr0 "filter/input rule 0"
//! limit lim0 10 packets per 1000000000 ns, burst 5
//!
//! parse
//!   rule 0 handle 0 fp 0000000000000000
//!     setbase ll = frame+0
//!   rule 1 handle 0 fp 0000000000000000
//!     load r0, 2 @ ll+12
//!     setkey protocol = r0
//!     setbase nh = ll+14
//!
//! chain c0 filter/input (base: priority 0, policy drop)
//!   rule 0 handle 3 fp 00c0ffee00c0ffee counter ctr0  # edge.nft:12: @th,16,16 22 counter accept
//!     load r0, 2 @ th+2
//!     cmp r0 == 0x0016
//!     counter ctr0
//!     verdict accept
//! ```
//!
//! Registers are `r0`..`r15`; bases and keys print by their declared names;
//! constants print in hex, one `0x` number per register chunk (see
//! [`crate::insn`]); objects print by kind and index (`@s0` sets, `@m0`
//! maps, `ctr0` counters, `lim0` limiters, `p0` ports, `c0` chains).

use crate::insn::{
    AluOp, BaseId, ChecksumFix, CmpOp, Insn, KeyId, Meta, Operand, ShiftDir, Verdict,
};
use crate::program::{LimitUnit, MapData, MapValue, Program, Rule, SetElem, SetKind};
use std::fmt::{self, Write};

/// The listing of `program`.
pub fn listing(program: &Program) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = Lister { p: program }.program(&mut out);
    out
}

/// One instruction as the listing prints it (without indentation).
pub fn insn_line(program: &Program, insn: &Insn) -> String {
    let mut out = String::new();
    let _ = Lister { p: program }.insn(&mut out, insn);
    out
}

/// A verdict as the listing prints it (`jump c1 (filter/web)`).
pub fn verdict_text(program: &Program, v: Verdict) -> String {
    let mut out = String::new();
    let _ = Lister { p: program }.verdict(&mut out, v);
    out
}

struct Lister<'p> {
    p: &'p Program,
}

impl Lister<'_> {
    fn program(&self, o: &mut String) -> fmt::Result {
        let p = self.p;
        let names = |prefix: &str, names: &[String]| {
            names
                .iter()
                .enumerate()
                .map(|(i, n)| format!("{prefix}{i} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(o, "bases  {}", names("b", &p.bases))?;
        writeln!(o, "keys   {}", names("k", &p.keys))?;
        let ports: Vec<String> = p
            .ports
            .iter()
            .enumerate()
            .map(|(i, n)| format!("p{i} {n:?}"))
            .collect();
        writeln!(o, "ports  {}", ports.join(", "))?;
        for (i, s) in p.sets.iter().enumerate() {
            writeln!(o, "set @s{i} {:?} {} {:?} {{", s.name, kind(s.kind), s.key)?;
            for e in &s.elements {
                writeln!(o, "  {}", elem(e))?;
            }
            writeln!(o, "}}")?;
        }
        for (i, m) in p.maps.iter().enumerate() {
            let data = match m.data {
                MapData::Value(n) => format!("value {n}"),
                MapData::Verdict => "verdict".to_string(),
            };
            writeln!(
                o,
                "map @m{i} {:?} {} {:?} : {data} {{",
                m.name,
                kind(m.kind),
                m.key
            )?;
            for e in &m.elements {
                write!(o, "  {} : ", elem(&e.key))?;
                match &e.data {
                    MapValue::Value(v) => write!(o, "{v}")?,
                    MapValue::Verdict(v) => self.verdict(o, *v)?,
                }
                writeln!(o)?;
            }
            writeln!(o, "}}")?;
        }
        for (i, c) in p.counters.iter().enumerate() {
            writeln!(o, "counter ctr{i} {:?}", c.name)?;
        }
        for (i, l) in p.limits.iter().enumerate() {
            let unit = match l.unit {
                LimitUnit::Packets => "packets",
                LimitUnit::Bytes => "bytes",
            };
            let over = if l.over { " over" } else { "" };
            writeln!(
                o,
                "limit lim{i}{over} {} {unit} per {} ns, burst {}",
                l.rate, l.per_ns, l.burst
            )?;
        }
        writeln!(o)?;
        writeln!(o, "parse")?;
        for (i, r) in p.parse.iter().enumerate() {
            self.rule(o, i, r)?;
        }
        for (i, c) in p.chains.iter().enumerate() {
            writeln!(o)?;
            write!(o, "chain c{i} {}", c.name)?;
            if let Some(b) = &c.base {
                write!(o, " (base: priority {}", b.priority)?;
                if let Some(d) = b.device {
                    write!(o, ", device ")?;
                    self.port(o, d)?;
                }
                let policy = match b.policy {
                    crate::program::Policy::Accept => "accept",
                    crate::program::Policy::Drop => "drop",
                };
                write!(o, ", policy {policy})")?;
            }
            writeln!(o)?;
            for (j, r) in c.rules.iter().enumerate() {
                self.rule(o, j, r)?;
            }
        }
        Ok(())
    }

    fn rule(&self, o: &mut String, index: usize, r: &Rule) -> fmt::Result {
        write!(
            o,
            "  rule {index} handle {} fp {:016x}",
            r.handle, r.fingerprint
        )?;
        if let Some(c) = r.counter {
            write!(o, " counter ctr{}", c.0)?;
        }
        if let Some(s) = &r.source {
            write!(o, "  # {}:{}: {}", s.file, s.line, s.text)?;
            if let Some(c) = &s.comment {
                write!(o, "  # comment {c:?}")?;
            }
        }
        writeln!(o)?;
        for insn in &r.insns {
            o.push_str("    ");
            self.insn(o, insn)?;
            writeln!(o)?;
        }
        Ok(())
    }

    fn insn(&self, o: &mut String, insn: &Insn) -> fmt::Result {
        write!(o, "{} ", insn.mnemonic())?;
        match insn {
            Insn::Load {
                dst,
                base,
                offset,
                len,
            } => write!(o, "r{}, {len} @ {}", dst.0, self.at(*base, *offset)),
            Insn::LoadBase { dst, base } => write!(o, "r{}, {}", dst.0, self.base(*base)),
            Insn::LoadKey { dst, key } => write!(o, "r{}, {}", dst.0, self.key(*key)),
            Insn::LoadMeta { dst, meta } => write!(o, "r{}, {}", dst.0, meta_name(*meta)),
            Insn::Imm { dst, value } => write!(o, "r{}, {value}", dst.0),
            Insn::Bitwise {
                dst,
                src,
                mask,
                xor,
            } => write!(o, "r{}, r{} & {mask} ^ {xor}", dst.0, src.0),
            Insn::Shift {
                dst,
                src,
                len,
                dir,
                bits,
            } => {
                let d = match dir {
                    ShiftDir::Left => "<<",
                    ShiftDir::Right => ">>",
                };
                write!(o, "r{}, r{} {d} {bits} ({len} bytes)", dst.0, src.0)
            }
            Insn::Alu { dst, a, op, b } => {
                write!(o, "r{}, r{} {} ", dst.0, a.0, alu_op(*op))?;
                match b {
                    Operand::Reg(r) => write!(o, "r{}", r.0),
                    Operand::Imm(n) if matches!(op, AluOp::And | AluOp::Or | AluOp::Xor) => {
                        write!(o, "0x{n:x}")
                    }
                    Operand::Imm(n) => write!(o, "{n}"),
                }
            }
            Insn::Cmp { src, op, value } => write!(o, "r{} {} {value}", src.0, cmp_op(*op)),
            Insn::CmpReg { a, op, b } => write!(o, "r{} {} r{}", a.0, cmp_op(*op), b.0),
            Insn::Range {
                src,
                low,
                high,
                negate,
            } => {
                write!(
                    o,
                    "r{} {}in {low}-{high}",
                    src.0,
                    if *negate { "not " } else { "" }
                )
            }
            Insn::InList { src, list, negate } => {
                write!(o, "r{} {}{{ ", src.0, if *negate { "not " } else { "" })?;
                for (i, (low, high)) in list.iter().enumerate() {
                    if i > 0 {
                        o.push_str(", ");
                    }
                    if low == high {
                        write!(o, "{low}")?;
                    } else {
                        write!(o, "{low}-{high}")?;
                    }
                }
                o.write_str(" }")
            }
            Insn::Lookup { src, set, negate } => {
                write!(
                    o,
                    "r{} {}in @s{}",
                    src.0,
                    if *negate { "not " } else { "" },
                    set.0
                )?;
                self.name(
                    o,
                    self.p.sets.get(usize::from(set.0)).map(|s| s.name.as_str()),
                )
            }
            Insn::MapLookup { src, map, dst } => {
                write!(o, "r{}, @m{}[r{}]", dst.0, map.0, src.0)?;
                self.name(
                    o,
                    self.p.maps.get(usize::from(map.0)).map(|m| m.name.as_str()),
                )
            }
            Insn::VmapLookup { src, map } => {
                write!(o, "@m{}[r{}]", map.0, src.0)?;
                self.name(
                    o,
                    self.p.maps.get(usize::from(map.0)).map(|m| m.name.as_str()),
                )
            }
            Insn::Counter { counter } => write!(o, "ctr{}", counter.0),
            Insn::Limit { limit } => write!(o, "lim{}", limit.0),
            Insn::SetMark { src } => write!(o, "r{}", src.0),
            Insn::Store {
                base,
                offset,
                len,
                src,
                checksums,
            } => {
                write!(o, "r{}, {len} @ {}", src.0, self.at(*base, *offset))?;
                for ChecksumFix {
                    base,
                    offset,
                    zero_means_none,
                    when,
                } in checksums
                {
                    write!(o, ", csum @ {}", self.at(*base, *offset))?;
                    if *zero_means_none {
                        o.push_str(" unless 0");
                    }
                    if let Some((key, value)) = when {
                        write!(o, " if {} == {value}", self.key(*key))?;
                    }
                }
                Ok(())
            }
            Insn::Log { prefix } => write!(o, "{prefix:?}"),
            Insn::Mirror { port } => self.port(o, *port),
            Insn::Insert {
                base,
                offset,
                bytes,
            } => write!(o, "{bytes} @ {}", self.at(*base, *offset)),
            Insn::Remove { base, offset, len } => write!(o, "{len} @ {}", self.at(*base, *offset)),
            Insn::Verdict(v) => self.verdict(o, *v),
            Insn::SetBase {
                dst,
                from,
                offset,
                add,
            } => {
                let from = from.map_or_else(|| "frame".to_string(), |b| self.base(b));
                write!(o, "{} = {from}+{offset}", self.base(*dst))?;
                match add {
                    Some(r) => write!(o, " + r{}", r.0),
                    None => Ok(()),
                }
            }
            Insn::ClearBase { dst } => o.write_str(&self.base(*dst)),
            Insn::SetKey { dst, src } => write!(o, "{} = r{}", self.key(*dst), src.0),
            Insn::ClearKey { dst } => o.write_str(&self.key(*dst)),
            Insn::Skip { rules } => write!(o, "{rules}"),
        }
    }

    fn verdict(&self, o: &mut String, v: Verdict) -> fmt::Result {
        match v {
            Verdict::Continue => o.write_str("continue"),
            Verdict::Return => o.write_str("return"),
            Verdict::Accept => o.write_str("accept"),
            Verdict::Drop => o.write_str("drop"),
            Verdict::Flood => o.write_str("flood"),
            Verdict::Jump(c) | Verdict::Goto(c) => {
                let word = if matches!(v, Verdict::Jump(_)) {
                    "jump"
                } else {
                    "goto"
                };
                write!(o, "{word} c{}", c.0)?;
                self.name(
                    o,
                    self.p.chains.get(usize::from(c.0)).map(|c| c.name.as_str()),
                )
            }
            Verdict::Fwd(p) => {
                o.write_str("fwd ")?;
                self.port(o, p)
            }
        }
    }

    fn port(&self, o: &mut String, p: crate::insn::PortId) -> fmt::Result {
        write!(
            o,
            "p{} ({:?})",
            p.0,
            self.p
                .ports
                .get(usize::from(p.0))
                .map_or("?", String::as_str)
        )
    }

    /// ` (name)` after an object's index, `?` when it is not declared.
    fn name(&self, o: &mut String, name: Option<&str>) -> fmt::Result {
        write!(o, " ({})", name.unwrap_or("?"))
    }

    fn base(&self, b: BaseId) -> String {
        self.p.base_name(b).to_string()
    }

    fn key(&self, k: KeyId) -> String {
        self.p.key_name(k).to_string()
    }

    fn at(&self, b: BaseId, offset: u16) -> String {
        format!("{}+{offset}", self.p.base_name(b))
    }
}

fn kind(k: SetKind) -> &'static str {
    match k {
        SetKind::Hash => "hash",
        SetKind::Interval => "interval",
    }
}

fn elem(e: &SetElem) -> String {
    e.low
        .iter()
        .zip(&e.high)
        .map(|(l, h)| {
            if l == h {
                l.to_string()
            } else {
                format!("{l}-{h}")
            }
        })
        .collect::<Vec<_>>()
        .join(" . ")
}

fn meta_name(m: Meta) -> &'static str {
    match m {
        Meta::Len => "len",
        Meta::Iif => "iif",
        Meta::IifName => "iifname",
        Meta::IifAddr => "iifaddr",
        Meta::Mark => "mark",
    }
}

fn cmp_op(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn alu_op(op: AluOp) -> &'static str {
    match op {
        AluOp::Add => "+",
        AluOp::Sub => "-",
        AluOp::Mul => "*",
        AluOp::And => "&",
        AluOp::Or => "|",
        AluOp::Xor => "^",
        AluOp::Shl => "<<",
        AluOp::Shr => ">>",
    }
}
