//! The interpreter: the reference semantics of verified programs.
//!
//! Per packet: all bases and keys start absent, registers start at zero,
//! the mark is the packet's. The parse section's rules run in order, each
//! until it breaks or ends (effects before a break stay). Then the base
//! chains run in [`Verified::entry_order`], skipping those bound to another
//! input port. `accept` (a rule's or the policy's) moves on to the next base
//! chain and after the last the frame is accepted; `drop`, `fwd` and `flood`
//! are final at once.
//!
//! Within a chain, rules run in order. A rule runs its instructions in
//! order; one that cannot complete *breaks* the rule and the next rule runs.
//! A rule that ends without a verdict, or with `continue`, goes on to the
//! next rule. `jump C` enters `C` and comes back after the jumping rule when
//! `C` returns or falls off its end; `goto C` enters `C` in place of the
//! current chain, so when `C` returns evaluation resumes where the current
//! chain would have returned to (the policy, for a base chain). `return`, or
//! falling off the end of a base chain, applies its policy. A verdict map's
//! element is the rule's verdict; a miss breaks the rule.
//!
//! The interpreter is safe Rust and total: every index into the frame or
//! the register file is checked (a failed frame check breaks the rule, as
//! the semantics say; register checks cannot fail in a verified program and
//! break the rule if they somehow did). It allocates nothing per packet
//! except to grow an [`Outcome`]'s buffers, which callers reuse.

use crate::checksum;
use crate::insn::{
    AluOp, BaseId, ChainId, ChecksumFix, CmpOp, Insn, KeyId, MAX_CALL_DEPTH, MAX_VALUE_BYTES,
    MapId, Meta, NUM_BASES, NUM_KEYS, NUM_REGS, Operand, Reg, ShiftDir, Verdict, chunks_for,
};
use crate::outcome::{Decider, Edit, Final, LogRef, Outcome};
use crate::packet::{InputPort, Packet};
use crate::program::{MapValue, Policy, Program, Rule};
use crate::runtime::Instance;
use crate::trace::{RuleResult, Tracer};
use crate::verifier::Verified;
use std::cmp::Ordering;

/// Marks an absent base.
const ABSENT: u32 = u32::MAX;

/// Runs `instance`'s program on `packet`, writing the result to `out`
/// (cleared first) and the rule-by-rule events to `tracer`.
pub fn run<T: Tracer>(instance: &Instance, packet: Packet<'_>, out: &mut Outcome, tracer: &mut T) {
    out.clear(packet.mark);
    let verified: &Verified = instance.program();
    let mut m = Machine {
        program: verified.program(),
        instance,
        frame: packet.frame,
        port: packet.port,
        regs: [0; NUM_REGS],
        bases: [ABSENT; NUM_BASES],
        keys: [0; NUM_KEYS],
        key_present: 0,
        out,
        tracer,
    };
    let parse = &m.program.parse;
    let mut i = 0;
    while let Some(rule) = parse.get(i) {
        let result = m.rule(None, i, rule);
        m.tracer.rule(None, i, result);
        i += 1;
        if let RuleResult::Skip { rules } = result {
            i += usize::from(rules);
        }
    }
    for &entry in verified.entry_order() {
        let chain = &m.program.chains[usize::from(entry.0)];
        if let Some(base) = &chain.base
            && base.device.is_some()
            && base.device != m.port.id()
        {
            continue;
        }
        let (verdict, decider) = m.chain(entry);
        m.out.verdict = verdict;
        m.out.decider = decider;
        if verdict != Final::Accept {
            return;
        }
    }
}

/// The state of one packet's run.
struct Machine<'a, T> {
    program: &'a Program,
    instance: &'a Instance,
    frame: &'a mut [u8],
    port: &'a InputPort,
    regs: [u32; NUM_REGS],
    bases: [u32; NUM_BASES],
    keys: [u32; NUM_KEYS],
    key_present: u8,
    out: &'a mut Outcome,
    tracer: &'a mut T,
}

/// How a rule that did not break ended.
enum Exit {
    /// It ran out of instructions.
    End,
    /// A verdict.
    Verdict(Verdict),
    /// A parse-section skip.
    Skip(u16),
}

/// Where a rule stopped: `Err(i)` means instruction `i` broke it.
type Step = Result<Exit, usize>;

impl<T: Tracer> Machine<'_, T> {
    /// Runs base chain `entry` (and the chains it enters) to a verdict.
    fn chain(&mut self, entry: ChainId) -> (Final, Decider) {
        // Return addresses: (chain, next rule).
        let mut stack = [(ChainId(0), 0usize); MAX_CALL_DEPTH];
        let mut depth = 0;
        let (mut chain, mut next) = (entry, 0usize);
        loop {
            let rules = &self.program.chains[usize::from(chain.0)].rules;
            let Some(rule) = rules.get(next) else {
                // Fell off the end: return.
                if depth == 0 {
                    return self.policy(entry);
                }
                depth -= 1;
                (chain, next) = stack[depth];
                continue;
            };
            let result = self.rule(Some(chain), next, rule);
            self.tracer.rule(Some(chain), next, result);
            let decider = Decider::Rule { chain, rule: next };
            next += 1;
            match result {
                RuleResult::Broke { .. }
                | RuleResult::End
                | RuleResult::Skip { .. }
                | RuleResult::Verdict(Verdict::Continue) => {}
                RuleResult::Verdict(Verdict::Accept) => return (Final::Accept, decider),
                RuleResult::Verdict(Verdict::Drop) => return (Final::Drop, decider),
                RuleResult::Verdict(Verdict::Fwd(p)) => return (Final::Fwd(p), decider),
                RuleResult::Verdict(Verdict::Flood) => return (Final::Flood, decider),
                RuleResult::Verdict(Verdict::Return) => {
                    if depth == 0 {
                        return self.policy(entry);
                    }
                    depth -= 1;
                    (chain, next) = stack[depth];
                }
                RuleResult::Verdict(Verdict::Jump(target)) => {
                    // The verifier bounds the depth; were it exceeded, the
                    // jump would be skipped like a rule that broke.
                    if let Some(slot) = stack.get_mut(depth) {
                        *slot = (chain, next);
                        depth += 1;
                        (chain, next) = (target, 0);
                    }
                }
                RuleResult::Verdict(Verdict::Goto(target)) => (chain, next) = (target, 0),
            }
        }
    }

    fn policy(&mut self, entry: ChainId) -> (Final, Decider) {
        let policy = self.program.chains[usize::from(entry.0)]
            .base
            .as_ref()
            .map_or(Policy::Accept, |b| b.policy);
        self.tracer.policy(entry, policy);
        let verdict = match policy {
            Policy::Accept => Final::Accept,
            Policy::Drop => Final::Drop,
        };
        (verdict, Decider::Policy { chain: entry })
    }

    /// Runs one rule.
    fn rule(&mut self, chain: Option<ChainId>, index: usize, rule: &Rule) -> RuleResult {
        match self.insns(chain, index, rule) {
            Err(insn) => RuleResult::Broke { insn },
            Ok(Exit::End) => RuleResult::End,
            Ok(Exit::Verdict(v)) => RuleResult::Verdict(v),
            Ok(Exit::Skip(rules)) => RuleResult::Skip { rules },
        }
    }

    fn insns(&mut self, chain: Option<ChainId>, index: usize, rule: &Rule) -> Step {
        for (i, insn) in rule.insns.iter().enumerate() {
            let ok = match insn {
                Insn::Load {
                    dst,
                    base,
                    offset,
                    len,
                } => match self.span(*base, *offset, usize::from(*len)) {
                    Some(r) => put_bytes(&mut self.regs, *dst, &self.frame[r]),
                    None => false,
                },
                Insn::LoadBase { dst, base } => match self.base(*base) {
                    Some(b) => self.put(*dst, b as u32),
                    None => false,
                },
                Insn::LoadKey { dst, key } => match self.key(*key) {
                    Some(k) => self.put(*dst, k),
                    None => false,
                },
                Insn::LoadMeta { dst, meta } => self.meta(*dst, *meta),
                Insn::Imm { dst, value } => put_bytes(&mut self.regs, *dst, &value.0),
                Insn::Bitwise {
                    dst,
                    src,
                    mask,
                    xor,
                } => {
                    let n = chunks_for(mask.len());
                    match (self.regs(*src, n), fits(*dst, n)) {
                        (Some(s), true) => {
                            let mut v = [0u32; NUM_REGS];
                            for (j, ((r, m), x)) in s
                                .iter()
                                .zip(mask.0.chunks(4))
                                .zip(xor.0.chunks(4))
                                .enumerate()
                            {
                                v[j] = (r & be(m)) ^ be(x);
                            }
                            put_chunks(&mut self.regs, *dst, &v[..n])
                        }
                        _ => false,
                    }
                }
                Insn::Shift {
                    dst,
                    src,
                    len,
                    dir,
                    bits,
                } => self.shift(*dst, *src, usize::from(*len), *dir, *bits),
                Insn::Alu { dst, a, op, b } => {
                    let b = match b {
                        Operand::Reg(r) => self.reg(*r),
                        Operand::Imm(n) => Some(*n),
                    };
                    match (self.reg(*a), b) {
                        (Some(a), Some(b)) => self.put(*dst, alu(a, *op, b)),
                        _ => false,
                    }
                }
                Insn::Cmp { src, op, value } => match self.regs(*src, value.chunks()) {
                    Some(r) => holds(*op, order(r, &value.0)),
                    None => false,
                },
                Insn::CmpReg { a, op, b } => match (self.reg(*a), self.reg(*b)) {
                    (Some(a), Some(b)) => holds(*op, a.cmp(&b)),
                    _ => false,
                },
                Insn::Range {
                    src,
                    low,
                    high,
                    negate,
                } => match self.regs(*src, low.chunks()) {
                    Some(r) => {
                        let inside = order(r, &low.0) != Ordering::Less
                            && order(r, &high.0) != Ordering::Greater;
                        inside != *negate
                    }
                    None => false,
                },
                Insn::InList { src, list, negate } => {
                    let n = list.first().map_or(1, |(low, _)| low.chunks());
                    match self.regs(*src, n) {
                        Some(r) => {
                            let inside = list.iter().any(|(low, high)| {
                                order(r, &low.0) != Ordering::Less
                                    && order(r, &high.0) != Ordering::Greater
                            });
                            inside != *negate
                        }
                        None => false,
                    }
                }
                Insn::Lookup { src, set, negate } => {
                    let instance = self.instance;
                    match instance.set(*set) {
                        Some(s) => match self.regs(*src, s.layout().regs()) {
                            Some(key) => s.contains(key) != *negate,
                            None => false,
                        },
                        None => false,
                    }
                }
                Insn::MapLookup { src, map, dst } => self.map_lookup(*src, *map, *dst),
                Insn::VmapLookup { src, map } => {
                    let instance = self.instance;
                    let verdict = instance.map(*map).and_then(|m| {
                        let key = self.regs(*src, m.layout().regs())?;
                        m.lookup_with(key, |d| match d {
                            MapValue::Verdict(v) => Some(*v),
                            MapValue::Value(_) => None,
                        })?
                    });
                    match verdict {
                        Some(v) => return Ok(Exit::Verdict(v)),
                        None => false,
                    }
                }
                Insn::Counter { counter } => {
                    if let Some(c) = self.instance.counter(*counter) {
                        c.add(self.frame.len() as u64);
                    }
                    true
                }
                Insn::Limit { limit } => match self.instance.limiter(*limit) {
                    Some(l) => l.admit(self.frame.len(), self.instance.clock().now_ns()),
                    None => false,
                },
                Insn::SetMark { src } => match self.reg(*src) {
                    Some(v) => {
                        self.out.mark = v;
                        true
                    }
                    None => false,
                },
                Insn::Store {
                    base,
                    offset,
                    len,
                    src,
                    checksums,
                } => self.store(*base, *offset, usize::from(*len), *src, checksums),
                Insn::Log { .. } => {
                    if let Some(chain) = chain {
                        self.out.logs.push(LogRef {
                            chain,
                            rule: index,
                            insn: i,
                        });
                    }
                    true
                }
                Insn::Mirror { port } => {
                    self.out.push_mirror(*port);
                    true
                }
                Insn::Insert {
                    base,
                    offset,
                    bytes,
                } => match self.at(*base, *offset) {
                    Some(at) if at <= self.frame.len() => {
                        let mut b = [0u8; MAX_VALUE_BYTES];
                        let len = bytes.len().min(MAX_VALUE_BYTES);
                        b[..len].copy_from_slice(&bytes.0[..len]);
                        self.out.edits.push(Edit::Insert {
                            at,
                            len: len as u8,
                            bytes: b,
                        });
                        true
                    }
                    _ => false,
                },
                Insn::Remove { base, offset, len } => {
                    match self.span(*base, *offset, usize::from(*len)) {
                        Some(r) => {
                            self.out.edits.push(Edit::Remove {
                                at: r.start,
                                len: r.len(),
                            });
                            true
                        }
                        None => false,
                    }
                }
                Insn::Verdict(v) => return Ok(Exit::Verdict(*v)),
                Insn::Skip { rules } => return Ok(Exit::Skip(*rules)),
                Insn::SetBase {
                    dst,
                    from,
                    offset,
                    add,
                } => {
                    let from = match from {
                        None => Some(0),
                        Some(b) => self.base(*b),
                    };
                    let add = match add {
                        None => Some(0),
                        Some(r) => self.reg(*r).map(|v| v as usize),
                    };
                    let value = match (from, add) {
                        (Some(f), Some(a)) => {
                            let v = f as u64 + u64::from(*offset) + a as u64;
                            if v < u64::from(ABSENT) {
                                v as u32
                            } else {
                                ABSENT
                            }
                        }
                        _ => ABSENT,
                    };
                    match self.bases.get_mut(usize::from(dst.0)) {
                        Some(slot) => {
                            *slot = value;
                            true
                        }
                        None => false,
                    }
                }
                Insn::ClearBase { dst } => match self.bases.get_mut(usize::from(dst.0)) {
                    Some(slot) => {
                        *slot = ABSENT;
                        true
                    }
                    None => false,
                },
                Insn::SetKey { dst, src } => match (self.reg(*src), usize::from(dst.0)) {
                    (Some(v), k) if k < NUM_KEYS => {
                        self.keys[k] = v;
                        self.key_present |= 1 << k;
                        true
                    }
                    _ => false,
                },
                Insn::ClearKey { dst } => match usize::from(dst.0) {
                    k if k < NUM_KEYS => {
                        self.key_present &= !(1 << k);
                        true
                    }
                    _ => false,
                },
            };
            if !ok {
                return Err(i);
            }
        }
        Ok(Exit::End)
    }

    fn base(&self, base: BaseId) -> Option<usize> {
        match self.bases.get(usize::from(base.0)) {
            Some(&b) if b != ABSENT => Some(b as usize),
            _ => None,
        }
    }

    fn key(&self, key: KeyId) -> Option<u32> {
        let k = usize::from(key.0);
        (k < NUM_KEYS && self.key_present & (1 << k) != 0).then(|| self.keys[k])
    }

    /// The absolute offset `base + offset`, if the base is present.
    fn at(&self, base: BaseId, offset: u16) -> Option<usize> {
        self.base(base)?.checked_add(usize::from(offset))
    }

    /// The frame range `base + offset .. + len`, if it lies in the frame.
    fn span(&self, base: BaseId, offset: u16, len: usize) -> Option<std::ops::Range<usize>> {
        let start = self.at(base, offset)?;
        let end = start.checked_add(len)?;
        (end <= self.frame.len()).then_some(start..end)
    }

    fn reg(&self, r: Reg) -> Option<u32> {
        self.regs.get(usize::from(r.0)).copied()
    }

    fn regs(&self, r: Reg, n: usize) -> Option<&[u32]> {
        let r = usize::from(r.0);
        self.regs.get(r..r.checked_add(n)?)
    }

    fn put(&mut self, dst: Reg, v: u32) -> bool {
        match self.regs.get_mut(usize::from(dst.0)) {
            Some(r) => {
                *r = v;
                true
            }
            None => false,
        }
    }

    /// The `len`-byte value in `src..` as bytes, into `buf`.
    fn get_bytes(&self, src: Reg, len: usize, buf: &mut [u8; MAX_VALUE_BYTES]) -> bool {
        let Some(regs) = self.regs(src, chunks_for(len)) else {
            return false;
        };
        for (r, out) in regs
            .iter()
            .zip(buf[..len.min(MAX_VALUE_BYTES)].chunks_mut(4))
        {
            let w = out.len();
            out.copy_from_slice(&r.to_be_bytes()[4 - w..]);
        }
        true
    }

    fn meta(&mut self, dst: Reg, meta: Meta) -> bool {
        match meta {
            Meta::Len => self.put(dst, u32::try_from(self.frame.len()).unwrap_or(u32::MAX)),
            Meta::Iif => self.put(dst, self.port.iif),
            Meta::IifName => put_bytes(&mut self.regs, dst, &self.port.name),
            Meta::IifAddr => put_bytes(&mut self.regs, dst, &self.port.addr),
            Meta::Mark => self.put(dst, self.out.mark),
        }
    }

    fn shift(&mut self, dst: Reg, src: Reg, len: usize, dir: ShiftDir, bits: u8) -> bool {
        let mut buf = [0u8; MAX_VALUE_BYTES];
        if len == 0 || len > MAX_VALUE_BYTES || !self.get_bytes(src, len, &mut buf) {
            return false;
        }
        let v = buf[..len]
            .iter()
            .fold(0u128, |acc, b| acc << 8 | u128::from(*b));
        let v = match dir {
            ShiftDir::Left => v.checked_shl(u32::from(bits)).unwrap_or(0),
            ShiftDir::Right => v.checked_shr(u32::from(bits)).unwrap_or(0),
        };
        let out = v.to_be_bytes();
        put_bytes(&mut self.regs, dst, &out[MAX_VALUE_BYTES - len..])
    }

    fn map_lookup(&mut self, src: Reg, map: MapId, dst: Reg) -> bool {
        let instance = self.instance;
        let Some(m) = instance.map(map) else {
            return false;
        };
        let Some(key) = self.regs(src, m.layout().regs()) else {
            return false;
        };
        let mut value = [0u8; MAX_VALUE_BYTES];
        let found = m.lookup_with(key, |d| match d {
            MapValue::Value(v) if v.len() <= MAX_VALUE_BYTES => {
                value[..v.len()].copy_from_slice(&v.0);
                Some(v.len())
            }
            _ => None,
        });
        match found.flatten() {
            Some(n) => put_bytes(&mut self.regs, dst, &value[..n]),
            None => false,
        }
    }

    fn store(
        &mut self,
        base: BaseId,
        offset: u16,
        len: usize,
        src: Reg,
        fixes: &[ChecksumFix],
    ) -> bool {
        // Mirrors still referring to the frame take their copies before the
        // bounds check, as in the JIT's code (the copies are the same
        // whether or not the write then happens).
        self.out.freeze_mirrors(self.frame);
        let mut new = [0u8; MAX_VALUE_BYTES];
        let Some(r) = self.span(base, offset, len) else {
            return false;
        };
        if !self.get_bytes(src, len, &mut new) {
            return false;
        }
        let mut old = [0u8; MAX_VALUE_BYTES];
        old[..len].copy_from_slice(&self.frame[r.clone()]);
        self.frame[r.clone()].copy_from_slice(&new[..len]);
        for fix in fixes {
            if fix
                .when
                .is_some_and(|(key, value)| self.key(key) != Some(value))
            {
                continue;
            }
            if let Some(field) = self.at(fix.base, fix.offset) {
                checksum::update(self.frame, field, r.start, &old[..len], fix.zero_means_none);
            }
        }
        true
    }
}

/// Writes chunks into `dst..`, copying register by register (short
/// copies: a loop beats a call to `memcpy`).
fn put_chunks(regs: &mut [u32; NUM_REGS], dst: Reg, v: &[u32]) -> bool {
    let d = usize::from(dst.0);
    match regs.get_mut(d..d + v.len()) {
        Some(r) => {
            for (r, v) in r.iter_mut().zip(v) {
                *r = *v;
            }
            true
        }
        None => false,
    }
}

/// Writes a value given as bytes into `dst..` as big-endian chunks.
#[inline]
fn put_bytes(regs: &mut [u32; NUM_REGS], dst: Reg, bytes: &[u8]) -> bool {
    let d = usize::from(dst.0);
    match regs.get_mut(d..d + chunks_for(bytes.len())) {
        Some(r) => {
            for (r, c) in r.iter_mut().zip(bytes.chunks(4)) {
                *r = be(c);
            }
            true
        }
        None => false,
    }
}

/// Whether `dst..dst + n` are registers.
fn fits(dst: Reg, n: usize) -> bool {
    usize::from(dst.0) + n <= NUM_REGS
}

/// Up to 4 bytes as a big-endian number.
#[inline]
fn be(bytes: &[u8]) -> u32 {
    match *bytes {
        [a] => u32::from(a),
        [a, b] => u32::from(u16::from_be_bytes([a, b])),
        [a, b, c] => u32::from_be_bytes([0, a, b, c]),
        [a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
        _ => bytes.iter().fold(0u32, |acc, b| acc << 8 | u32::from(*b)),
    }
}

/// Compares register chunks with a constant's chunks, chunk 0 first.
#[inline]
fn order(regs: &[u32], value: &[u8]) -> Ordering {
    for (r, c) in regs.iter().zip(value.chunks(4)) {
        match r.cmp(&be(c)) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    Ordering::Equal
}

#[inline]
fn holds(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
    }
}

fn alu(a: u32, op: AluOp, b: u32) -> u32 {
    match op {
        AluOp::Add => a.wrapping_add(b),
        AluOp::Sub => a.wrapping_sub(b),
        AluOp::Mul => a.wrapping_mul(b),
        AluOp::And => a & b,
        AluOp::Or => a | b,
        AluOp::Xor => a ^ b,
        AluOp::Shl => a.checked_shl(b).unwrap_or(0),
        AluOp::Shr => a.checked_shr(b).unwrap_or(0),
    }
}
