//! Random well-formed programs and the check that every engine agrees on
//! them: the generator of `properties.rs`, also driven by a fuzzer's bytes
//! (`fuzz/fuzz_targets/engines.rs` includes this file).
//!
//! The generator tracks which registers each rule has written, so its
//! programs should all verify: a program it makes that the verifier refuses
//! is a failure.

use std::sync::Arc;
use vm::jit::JitProgram;
use vm::runtime::ManualClock;
use vm::{
    AluOp, BaseChain, BaseId, Chain, ChainId, ChecksumFix, CmpOp, CounterDecl, CounterId,
    InputPort, Insn, Instance, KeyId, LimitDecl, LimitId, LimitUnit, MapData, MapDecl, MapElem,
    MapId, MapValue, Meta, NUM_REGS, NoTrace, Operand, Outcome, Packet, Policy, PortId, Program,
    Reg, Rule, SetDecl, SetElem, SetId, SetKind, ShiftDir, TraceLog, Value, Verdict, chunks_for,
    interpreter,
};

/// The generator's source of choices: splitmix64 from a seed (proptest
/// draws the seeds), or a fuzzer's input bytes, one byte a choice, then
/// splitmix64 once they run out (so that mutating a byte changes one
/// choice).
pub struct Gen {
    state: u64,
    input: Vec<u8>,
}

impl Gen {
    /// Choices from `seed`.
    pub fn new(seed: u64) -> Gen {
        Gen {
            state: seed,
            input: Vec::new(),
        }
    }

    /// Choices from `input`, then from a fixed seed.
    pub fn from_bytes(input: &[u8]) -> Gen {
        Gen {
            state: 0,
            input: input.iter().rev().copied().collect(),
        }
    }

    /// The next choice.
    pub fn next(&mut self) -> u64 {
        if let Some(b) = self.input.pop() {
            return u64::from(b);
        }
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn value(&mut self, n: usize) -> Value {
        Value(self.bytes(n))
    }

    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// Registers written so far in the rule being generated.
struct Regs([bool; NUM_REGS]);

impl Regs {
    /// A register starting a run of `n` written registers, if any.
    fn run_of(&self, g: &mut Gen, n: usize) -> Option<u8> {
        let starts: Vec<usize> = (0..=NUM_REGS.saturating_sub(n))
            .filter(|s| self.0[*s..s + n].iter().all(|d| *d))
            .collect();
        (!starts.is_empty()).then(|| starts[g.below(starts.len())] as u8)
    }

    /// A value width whose registers from some written register are all
    /// written, and that register.
    fn value(&self, g: &mut Gen) -> Option<(u8, usize)> {
        let len = g.pick(&[1usize, 2, 3, 4, 4, 6, 8, 16]);
        self.run_of(g, chunks_for(len)).map(|r| (r, len))
    }

    /// A destination for a value of `len` bytes, marked written.
    fn dst(&mut self, g: &mut Gen, len: usize) -> Reg {
        let n = chunks_for(len);
        let r = g.below(NUM_REGS - n + 1);
        self.0[r..r + n].iter_mut().for_each(|d| *d = true);
        Reg(r as u8)
    }
}

const SET_KEYS: [&[u8]; 3] = [&[2], &[4], &[4, 2]];

fn elem(g: &mut Gen, key: &[u8], kind: SetKind) -> SetElem {
    let low: Vec<Value> = key.iter().map(|w| g.value(usize::from(*w))).collect();
    let high = match kind {
        SetKind::Hash => low.clone(),
        SetKind::Interval => low
            .iter()
            .map(|l| {
                if g.chance(50) {
                    l.clone()
                } else {
                    Value(vec![0xff; l.len()])
                }
            })
            .collect(),
    };
    SetElem { low, high }
}

/// A program the verifier should accept.
pub fn program(g: &mut Gen) -> Program {
    let nchains = 2 + g.below(4);
    let mut p = Program {
        bases: vec!["ll".into(), "nh".into(), "th".into()],
        keys: vec!["protocol".into(), "l4proto".into()],
        ports: vec!["eth0".into(), "eth1".into()],
        counters: vec![
            CounterDecl { name: "a".into() },
            CounterDecl { name: "b".into() },
        ],
        limits: vec![LimitDecl {
            rate: 1 + g.below(5) as u64,
            per_ns: 1000,
            burst: g.below(3) as u64,
            unit: LimitUnit::Packets,
            over: g.chance(30),
        }],
        ..Program::default()
    };
    for (i, key) in SET_KEYS.iter().enumerate() {
        let kind = if i == 1 {
            SetKind::Interval
        } else {
            SetKind::Hash
        };
        let elements = (0..g.below(5)).map(|_| elem(g, key, kind)).collect();
        p.sets.push(SetDecl {
            name: format!("s{i}"),
            key: key.to_vec(),
            kind,
            elements,
        });
    }
    let mut data_elems: Vec<MapElem> = Vec::new();
    for k in 0..g.below(4) as u8 {
        data_elems.push(MapElem {
            key: SetElem {
                low: vec![Value(vec![k])],
                high: vec![Value(vec![k])],
            },
            data: MapValue::Value(g.value(4)),
        });
    }
    p.maps.push(MapDecl {
        name: "data".into(),
        key: vec![1],
        kind: SetKind::Hash,
        data: MapData::Value(4),
        elements: data_elems,
    });
    // Verdict-map jumps go to the last chain, which has no jumps or vmaps.
    let last = ChainId(nchains as u16 - 1);
    let vmap_verdicts = [
        Verdict::Accept,
        Verdict::Drop,
        Verdict::Continue,
        Verdict::Return,
        Verdict::Jump(last),
        Verdict::Goto(last),
        Verdict::Flood,
    ];
    let verdict_elems = (0..g.below(4) as u8)
        .map(|k| MapElem {
            key: SetElem {
                low: vec![Value(vec![k])],
                high: vec![Value(vec![k])],
            },
            data: MapValue::Verdict(g.pick(&vmap_verdicts)),
        })
        .collect();
    p.maps.push(MapDecl {
        name: "verdicts".into(),
        key: vec![1],
        kind: SetKind::Hash,
        data: MapData::Verdict,
        elements: verdict_elems,
    });
    p.parse = (0..1 + g.below(4)).map(|_| parse_rule(g)).collect();
    // Some parse rules end by skipping the rules after them.
    let n = p.parse.len();
    for (i, rule) in p.parse.iter_mut().enumerate() {
        if g.chance(20) {
            rule.insns.push(Insn::Skip {
                rules: g.below(n - i) as u16,
            });
        }
    }
    for c in 0..nchains {
        let is_base = c == 0 || (c == 1 && nchains > 2 && g.chance(50));
        let base = is_base.then(|| BaseChain {
            priority: g.below(3) as i32 - 1,
            device: g.chance(20).then(|| PortId(g.below(2) as u16)),
            policy: if g.chance(50) {
                Policy::Accept
            } else {
                Policy::Drop
            },
        });
        let rules = (0..g.below(6)).map(|_| chain_rule(g, c, nchains)).collect();
        p.chains.push(Chain {
            name: format!("t/c{c}"),
            base,
            rules,
        });
    }
    // Only non-base chains may be jumped to: retarget jumps at base chains.
    let bases: Vec<bool> = p.chains.iter().map(|c| c.base.is_some()).collect();
    for chain in &mut p.chains {
        for rule in &mut chain.rules {
            if let Some(Insn::Verdict(Verdict::Jump(t) | Verdict::Goto(t))) = rule.insns.last_mut()
                && bases[usize::from(t.0)]
            {
                *rule.insns.last_mut().unwrap() = Insn::Verdict(Verdict::Accept);
            }
        }
    }
    if bases[usize::from(last.0)] {
        for e in &mut p.maps[1].elements {
            e.data = MapValue::Verdict(Verdict::Drop);
        }
    }
    p
}

fn rule(insns: Vec<Insn>) -> Rule {
    Rule {
        handle: 1,
        fingerprint: 2,
        source: None,
        counter: None,
        insns,
    }
}

/// Instructions that only compute and compare: allowed everywhere.
fn pure_insn(g: &mut Gen, regs: &mut Regs) -> Option<Insn> {
    Some(match g.below(12) {
        0 | 1 => {
            let len = g.pick(&[1usize, 2, 4, 6, 16]);
            Insn::Load {
                dst: regs.dst(g, len),
                base: BaseId(g.below(3) as u8),
                offset: g.below(70) as u16,
                len: len as u8,
            }
        }
        2 => Insn::LoadBase {
            dst: regs.dst(g, 4),
            base: BaseId(g.below(3) as u8),
        },
        3 => Insn::LoadKey {
            dst: regs.dst(g, 4),
            key: KeyId(g.below(2) as u8),
        },
        4 => {
            let meta = g.pick(&[
                Meta::Len,
                Meta::Iif,
                Meta::IifName,
                Meta::IifAddr,
                Meta::Mark,
            ]);
            Insn::LoadMeta {
                dst: regs.dst(g, meta.len()),
                meta,
            }
        }
        5 => {
            let len = g.pick(&[1usize, 2, 4, 16]);
            let value = g.value(len);
            Insn::Imm {
                dst: regs.dst(g, len),
                value,
            }
        }
        6 => {
            let (src, len) = regs.value(g)?;
            let (mask, xor) = (g.value(len), g.value(len));
            Insn::Bitwise {
                dst: regs.dst(g, len),
                src: Reg(src),
                mask,
                xor,
            }
        }
        7 => {
            let (src, len) = regs.value(g)?;
            let bits = g.below(len * 8) as u8;
            let dir = if g.chance(50) {
                ShiftDir::Left
            } else {
                ShiftDir::Right
            };
            Insn::Shift {
                dst: regs.dst(g, len),
                src: Reg(src),
                len: len as u8,
                dir,
                bits,
            }
        }
        8 => {
            let a = regs.run_of(g, 1)?;
            let b = if g.chance(50) {
                Operand::Reg(Reg(regs.run_of(g, 1)?))
            } else {
                Operand::Imm(g.next() as u32 % 40)
            };
            let op = g.pick(&[
                AluOp::Add,
                AluOp::Sub,
                AluOp::Mul,
                AluOp::And,
                AluOp::Or,
                AluOp::Xor,
                AluOp::Shl,
                AluOp::Shr,
            ]);
            Insn::Alu {
                dst: regs.dst(g, 4),
                a: Reg(a),
                op,
                b,
            }
        }
        9 => {
            let (src, len) = regs.value(g)?;
            let op = g.pick(&[
                CmpOp::Eq,
                CmpOp::Ne,
                CmpOp::Lt,
                CmpOp::Le,
                CmpOp::Gt,
                CmpOp::Ge,
            ]);
            let value = if g.chance(50) {
                Value(vec![0; len])
            } else {
                g.value(len)
            };
            Insn::Cmp {
                src: Reg(src),
                op,
                value,
            }
        }
        10 if g.chance(50) => {
            let (src, len) = regs.value(g)?;
            Insn::Range {
                src: Reg(src),
                low: g.value(len),
                high: g.value(len),
                negate: g.chance(30),
            }
        }
        10 => {
            let (src, len) = regs.value(g)?;
            let list = (0..1 + g.below(4))
                .map(|_| (g.value(len), g.value(len)))
                .collect();
            Insn::InList {
                src: Reg(src),
                list,
                negate: g.chance(30),
            }
        }
        _ => {
            if g.chance(50) {
                let s = g.below(SET_KEYS.len());
                let n = SET_KEYS[s]
                    .iter()
                    .map(|w| chunks_for(usize::from(*w)))
                    .sum();
                Insn::Lookup {
                    src: Reg(regs.run_of(g, n)?),
                    set: SetId(s as u16),
                    negate: g.chance(30),
                }
            } else {
                let src = Reg(regs.run_of(g, 1)?);
                Insn::MapLookup {
                    src,
                    map: MapId(0),
                    dst: regs.dst(g, 4),
                }
            }
        }
    })
}

fn parse_rule(g: &mut Gen) -> Rule {
    let mut regs = Regs([false; NUM_REGS]);
    let mut insns = Vec::new();
    for _ in 0..1 + g.below(6) {
        let insn = match g.below(6) {
            0 => Some(Insn::SetBase {
                dst: BaseId(g.below(3) as u8),
                from: g.chance(70).then(|| BaseId(g.below(3) as u8)),
                offset: g.below(40) as u16,
                add: if g.chance(30) {
                    regs.run_of(g, 1).map(Reg)
                } else {
                    None
                },
            }),
            1 => Some(Insn::ClearBase {
                dst: BaseId(g.below(3) as u8),
            }),
            2 => regs.run_of(g, 1).map(|r| Insn::SetKey {
                dst: KeyId(g.below(2) as u8),
                src: Reg(r),
            }),
            3 => Some(Insn::ClearKey {
                dst: KeyId(g.below(2) as u8),
            }),
            _ => pure_insn(g, &mut regs),
        };
        insns.extend(insn);
    }
    rule(insns)
}

fn chain_rule(g: &mut Gen, chain: usize, nchains: usize) -> Rule {
    let mut regs = Regs([false; NUM_REGS]);
    let mut insns = Vec::new();
    for _ in 0..g.below(8) {
        let insn = match g.below(16) {
            0 => Some(Insn::Counter {
                counter: CounterId(g.below(2) as u32),
            }),
            1 => Some(Insn::Limit { limit: LimitId(0) }),
            2 => regs.run_of(g, 1).map(|r| Insn::SetMark { src: Reg(r) }),
            3 => regs.value(g).map(|(src, len)| Insn::Store {
                base: BaseId(g.below(3) as u8),
                offset: g.below(60) as u16,
                len: len as u8,
                src: Reg(src),
                checksums: (0..g.below(3))
                    .map(|_| ChecksumFix {
                        base: BaseId(g.below(3) as u8),
                        offset: g.below(60) as u16,
                        zero_means_none: g.chance(50),
                        when: None,
                    })
                    .collect(),
            }),
            4 => Some(Insn::Log { prefix: "p".into() }),
            5 => Some(Insn::Mirror {
                port: PortId(g.below(2) as u16),
            }),
            6 => {
                let n = 1 + g.below(8);
                Some(Insn::Insert {
                    base: BaseId(g.below(3) as u8),
                    offset: g.below(40) as u16,
                    bytes: g.value(n),
                })
            }
            7 => Some(Insn::Remove {
                base: BaseId(g.below(3) as u8),
                offset: g.below(40) as u16,
                len: 1 + g.below(8) as u8,
            }),
            _ => pure_insn(g, &mut regs),
        };
        insns.extend(insn);
    }
    let mut ends = vec![
        Verdict::Accept,
        Verdict::Drop,
        Verdict::Continue,
        Verdict::Return,
        Verdict::Flood,
        Verdict::Fwd(PortId(1)),
    ];
    if chain + 1 < nchains {
        let target = ChainId((chain + 1 + g.below(nchains - chain - 1)) as u16);
        ends.extend([Verdict::Jump(target), Verdict::Goto(target)]);
        if let Some(r) = regs.run_of(g, 1)
            && g.chance(20)
        {
            insns.push(Insn::VmapLookup {
                src: Reg(r),
                map: MapId(1),
            });
        }
    }
    if g.chance(70) {
        insns.push(Insn::Verdict(g.pick(&ends)));
    }
    let mut r = rule(insns);
    r.counter = g.chance(30).then(|| CounterId(g.below(2) as u32));
    r
}

/// Runs frames of many shapes through the program under the interpreter,
/// the JIT and the JIT's traced code, each with its own runtime objects,
/// and checks that they agree on everything: verdict, decider, mark, the
/// frame after payload writes, edits, mirrored copies, logs, trace events
/// and, at the end, every counter.
pub fn run_frames(program: vm::Verified, g: &mut Gen) {
    let verified = Arc::new(program);
    let instance = || {
        Arc::new(Instance::new(
            verified.clone(),
            Arc::new(ManualClock::new(0)),
        ))
    };
    let (interp, jit, traced) = (instance(), instance(), instance());
    let code = JitProgram::compile(&jit).unwrap_or_else(|e| panic!("jit: {e}"));
    let traced_code = JitProgram::compile(&traced).unwrap_or_else(|e| panic!("jit: {e}"));
    let ports = [
        InputPort::unnamed(),
        InputPort::new(verified.program(), "eth0", [2, 0, 0, 0, 0, 1]),
    ];
    let len = g.below(200);
    let random = g.bytes(len);
    let mut frames = vec![
        vec![],
        vec![g.next() as u8],
        random.clone(),
        vec![0xa5; 65_536],
    ];
    frames.extend((0..random.len()).step_by(7).map(|n| random[..n].to_vec()));
    let listing = || vm::listing::listing(verified.program());
    for (i, frame) in frames.iter().enumerate() {
        let mark = g.next() as u32;
        let port = &ports[i % 2];
        let run = |engine: &dyn Fn(Packet<'_>, &mut Outcome, &mut TraceLog)| {
            let mut bytes = frame.clone();
            let mut out = Outcome::new();
            let mut log = TraceLog::default();
            engine(
                Packet {
                    frame: &mut bytes,
                    port,
                    mark,
                },
                &mut out,
                &mut log,
            );
            let mut sent = Vec::new();
            vm::apply_edits(&bytes, &out.edits, &mut sent);
            let mirrors = mirror_copies(&out, &bytes);
            (out, bytes, sent, mirrors, log)
        };
        let want = run(&|p, o, t| interpreter::run(&interp, p, o, t));
        let got = run(&|p, o, _| code.run(p, o, &mut NoTrace));
        let got_traced = run(&|p, o, t| traced_code.run(p, o, t));
        assert_eq!(
            (&want.0, &want.1, &want.2, &want.3),
            (&got.0, &got.1, &got.2, &got.3),
            "jit differs on frame {i} ({} bytes)\n{}",
            frame.len(),
            listing()
        );
        assert_eq!(
            want,
            got_traced,
            "traced jit differs on frame {i}\n{}",
            listing()
        );
    }
    for (k, ((a, b), c)) in interp
        .counters()
        .iter()
        .zip(jit.counters())
        .zip(traced.counters())
        .enumerate()
    {
        assert_eq!(
            (a.get(), a.get()),
            (b.get(), c.get()),
            "counter {k}\n{}",
            listing()
        );
    }
}

/// The copies `out`'s mirrors send, of a run that left the frame as
/// `frame`. (Here, not in the tests' `common`, because the fuzz target
/// includes this file alone.)
pub fn mirror_copies(out: &Outcome, frame: &[u8]) -> Vec<Vec<u8>> {
    out.mirrors
        .iter()
        .map(|m| {
            let mut copy = Vec::new();
            out.write_mirror(m, frame, &mut copy);
            copy
        })
        .collect()
}
