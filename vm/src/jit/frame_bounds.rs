//! What the code may assume of a frame and of the bases and keys the parse
//! section sets, so that it checks fewer accesses against the frame's
//! length, clamps fewer base sums to the absent marker and tests fewer keys
//! for presence.
//!
//! [`JitProgram::run`](super::JitProgram::run) gives the code only frames
//! of at least [`FrameBounds::min_len`] bytes (shorter ones, which real
//! traffic does not bring, go to the interpreter). An access that ends
//! within that length needs no check when its base lies at a known offset,
//! or at most at a known offset:
//!
//! - a *fixed* base is set by the parse section only ever to one offset of
//!   the frame (the link layer, at 0): its value is a constant in the code,
//!   and the parse section's own accesses at it need no check either;
//! - a *bounded* base is one every path to an instruction leaves set to
//!   one of a few offsets of the frame, from constants and small registers
//!   (the network header: after the Ethernet header, at 14, or after a
//!   VLAN tag, at 18; the transport header, past an IPv4 header of at most
//!   60 bytes). Accesses that end within `min_len` past its largest offset
//!   need no check: the chains' at the bases every run of the parse
//!   section leaves bounded, the parse section's own where it runs.
//!
//! A base set past a surely present one, by an amount the code can bound
//! (a register loaded from one byte, masked, shifted), cannot reach the
//! absent marker: its sum needs no clamp. A key every path sets (the
//! protocol) needs no presence test where a rule loads it.
//!
//! All come from an abstract run of the parse section, which is loop-free
//! (rules go on to the next rule or skip forward): for each rule, what
//! every path into it may have left in each base and key, merged over the
//! paths; a rule's path goes on to the next rule at every instruction that
//! may break (keeping what the instructions before it did), and at its end
//! to the next rule or past those it skips. Within a rule, [`Walk`] also follows
//! the largest value each register may hold.

use crate::insn::{AluOp, BaseId, Insn, KeyId, NUM_BASES, NUM_KEYS, NUM_REGS, Operand, Reg};
use crate::program::Program;

/// The shortest frame of real traffic: an ARP request on a virtual link,
/// which nothing pads to Ethernet's 60 bytes. `min_len` is never more.
pub(super) const SHORT_FRAME: u32 = 42;

/// The absent-base marker: a base sum that reaches it is absent.
const ABSENT: u64 = u32::MAX as u64;

/// What the code of a program may assume of a frame.
#[derive(Debug)]
pub(super) struct FrameBounds {
    /// The shortest frame the code is given: how far the program reads or
    /// writes past its fixed bases and its chains past its bounded bases,
    /// at most [`SHORT_FRAME`] (0 for code that checks every access).
    pub min_len: u32,
    /// What the parse section has left where each of its rules starts,
    /// then where the chains run.
    entry: Vec<Known>,
}

impl FrameBounds {
    /// What the code knows where parse rule `rule` starts (`None`: where a
    /// chain's rule starts).
    pub fn rule_start(&self, rule: Option<usize>) -> Walk {
        let last = self.entry.len() - 1;
        Walk::at_start(self.entry[rule.unwrap_or(last).min(last)])
    }
}

/// What a base may hold at a point of the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    /// On some path, absent; on the others, an offset of the frame of at
    /// most `max` (`None`: there are no others).
    MaybeAbsent { max: Option<u32> },
    /// On every path, an offset of the frame of at most `max`.
    Offset { max: u32 },
    /// Anything (an offset computed from the frame's bytes).
    Unknown,
}

impl Held {
    /// What a base holds where paths that left it as `self` and as `other`
    /// meet.
    fn meet(self, other: Held) -> Held {
        use Held::*;
        match (self, other) {
            (Unknown, _) | (_, Unknown) => Unknown,
            (Offset { max: a }, Offset { max: b }) => Offset { max: a.max(b) },
            (MaybeAbsent { max: a }, MaybeAbsent { max: b }) => MaybeAbsent { max: a.max(b) },
            (MaybeAbsent { max: a }, Offset { max: b })
            | (Offset { max: b }, MaybeAbsent { max: a }) => MaybeAbsent {
                max: a.max(Some(b)),
            },
        }
    }

    /// The largest offset of a base surely present.
    fn bound(self) -> Option<u32> {
        match self {
            Held::Offset { max } => Some(max),
            Held::MaybeAbsent { .. } | Held::Unknown => None,
        }
    }

    /// What a base set to `add` (at most) past a base holding `self`
    /// holds: as the interpreter does, a sum that reaches the marker is
    /// absent, which is then not known here.
    fn plus(self, add: u64) -> Held {
        let sum = |max: u32| {
            u32::try_from(u64::from(max) + add)
                .ok()
                .filter(|s| u64::from(*s) < ABSENT)
        };
        match self {
            Held::Offset { max } => sum(max).map_or(Held::Unknown, |max| Held::Offset { max }),
            Held::MaybeAbsent { max: None } => self,
            Held::MaybeAbsent { max: Some(m) } => {
                sum(m).map_or(Held::Unknown, |max| Held::MaybeAbsent { max: Some(max) })
            }
            Held::Unknown => Held::Unknown,
        }
    }
}

/// What the parse section has left at a point of the code: what each base
/// holds and which keys are surely set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Known {
    bases: [Held; NUM_BASES],
    keys: [bool; NUM_KEYS],
}

impl Known {
    /// Where a run starts: no base, no key.
    const START: Known = Known {
        bases: [Held::MaybeAbsent { max: None }; NUM_BASES],
        keys: [false; NUM_KEYS],
    };

    /// Anything.
    const NOTHING: Known = Known {
        bases: [Held::Unknown; NUM_BASES],
        keys: [false; NUM_KEYS],
    };

    /// What holds where paths that left `self` and `other` meet.
    fn meet(&self, other: &Known) -> Known {
        Known {
            bases: std::array::from_fn(|b| self.bases[b].meet(other.bases[b])),
            keys: std::array::from_fn(|k| self.keys[k] && other.keys[k]),
        }
    }
}

/// What the code knows at a point of a rule: what the parse section has
/// left, and the largest value each register written in the rule so far
/// may hold.
#[derive(Clone, Copy, Debug)]
pub(super) struct Walk {
    known: Known,
    regs: [Option<u32>; NUM_REGS],
}

impl Walk {
    /// Where a rule starts, after what the parse section left in `known`:
    /// no register written yet.
    fn at_start(known: Known) -> Walk {
        Walk {
            known,
            regs: [None; NUM_REGS],
        }
    }

    /// The largest offset `base` may hold, when it is surely present.
    pub fn bound(&self, base: usize) -> Option<u32> {
        self.known.bases.get(base).and_then(|h| h.bound())
    }

    /// Whether `key` is surely set.
    pub fn key_set(&self, key: KeyId) -> bool {
        self.known
            .keys
            .get(usize::from(key.0))
            .copied()
            .unwrap_or(false)
    }

    /// Whether `setbase _ = from+offset (+ add)` surely gives a present
    /// base: `from` is present and the sum cannot reach the marker.
    pub fn sets_present(&self, from: Option<BaseId>, offset: u16, add: Option<Reg>) -> bool {
        matches!(self.set_base(from, offset, add), Held::Offset { .. })
    }

    /// What `setbase _ = from+offset (+ add)` leaves in its base.
    fn set_base(&self, from: Option<BaseId>, offset: u16, add: Option<Reg>) -> Held {
        let from = match from {
            None => Held::Offset { max: 0 },
            Some(f) => self
                .known
                .bases
                .get(usize::from(f.0))
                .copied()
                .unwrap_or(Held::Unknown),
        };
        let add = match add {
            None => Some(0),
            Some(r) => self.reg(r),
        };
        match add {
            Some(a) => from.plus(u64::from(offset) + u64::from(a)),
            None => Held::Unknown,
        }
    }

    /// The largest value register `r` may hold (`None`: any).
    fn reg(&self, r: Reg) -> Option<u32> {
        self.regs.get(usize::from(r.0)).copied().flatten()
    }

    /// Steps past `insn` of `program`, which ran without breaking.
    pub fn step(&mut self, insn: &Insn, program: &Program) {
        match insn {
            Insn::SetBase {
                dst,
                from,
                offset,
                add,
            } => {
                let held = self.set_base(*from, *offset, *add);
                if let Some(b) = self.known.bases.get_mut(usize::from(dst.0)) {
                    *b = held;
                }
            }
            Insn::ClearBase { dst } => {
                if let Some(b) = self.known.bases.get_mut(usize::from(dst.0)) {
                    *b = Held::MaybeAbsent { max: None };
                }
            }
            Insn::SetKey { dst, .. } | Insn::ClearKey { dst } => {
                if let Some(k) = self.known.keys.get_mut(usize::from(dst.0)) {
                    *k = matches!(insn, Insn::SetKey { .. });
                }
            }
            _ => {}
        }
        let Some(written) = insn.reg_use(program).writes else {
            return;
        };
        let max = match insn {
            // A number of one to four bytes.
            Insn::Load { len, .. } if *len <= 4 => Some(u32::MAX >> (32 - 8 * u32::from(*len))),
            Insn::Alu { a, op, b, .. } => {
                let (b, exact) = match b {
                    Operand::Imm(v) => (Some(*v), true),
                    Operand::Reg(r) => (self.reg(*r), false),
                };
                alu_max(self.reg(*a), *op, b, exact)
            }
            _ => None,
        };
        for r in written.indices() {
            if let Some(slot) = self.regs.get_mut(r) {
                *slot = None;
            }
        }
        if let Some(slot) = self.regs.get_mut(usize::from(written.first.0)) {
            *slot = max;
        }
    }
}

/// The largest result of `a op b` for operands of at most `a` and `b`
/// (`None`: any), `b` being exactly that value when `b_exact`; `None` when
/// the operation may wrap.
fn alu_max(a: Option<u32>, op: AluOp, b: Option<u32>, b_exact: bool) -> Option<u32> {
    let fits = |v: u64| u32::try_from(v).ok();
    match op {
        AluOp::And => match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (one, other) => one.or(other),
        },
        AluOp::Add => fits(u64::from(a?) + u64::from(b?)),
        AluOp::Mul => fits(u64::from(a?) * u64::from(b?)),
        AluOp::Shl => match b? {
            s if s < 32 => fits(u64::from(a?) << s),
            _ => None,
        },
        // Never more than the operand; an exact amount shifts out the top.
        AluOp::Shr => match (a, b) {
            (a, Some(s)) if b_exact => Some(a.unwrap_or(u32::MAX).checked_shr(s).unwrap_or(0)),
            (a, _) => a,
        },
        // No bit above the operands' highest.
        AluOp::Or | AluOp::Xor => Some(
            u32::MAX
                .checked_shr(a?.max(b?).leading_zeros())
                .unwrap_or(0),
        ),
        AluOp::Sub => None,
    }
}

/// Computes the frame bounds of `program`'s code; with `check_all`, of code
/// that checks every access (the traced code, which runs every frame).
pub(super) fn frame_bounds(program: &Program, check_all: bool) -> FrameBounds {
    if check_all {
        return FrameBounds {
            min_len: 0,
            entry: entry_known(program, 0),
        };
    }
    let fixed = fixed_bases(program);
    let at_fixed = farthest(program.parse.iter().chain(chain_rules(program)), &fixed);
    let entry = entry_known(program, at_fixed.min(SHORT_FRAME));
    let end = entry.last().copied().unwrap_or(Known::NOTHING);
    let at_bounded = farthest(chain_rules(program), &end.bases.map(Held::bound));
    FrameBounds {
        min_len: at_fixed.max(at_bounded).min(SHORT_FRAME),
        entry,
    }
}

/// What the paths into each rule of the parse section (and past the last)
/// leave in the bases, merged, for frames of at least `min_len` bytes: a
/// load that ends within them, past a base surely present at no more than
/// a known offset, cannot break. A rule no path reaches knows nothing.
fn entry_known(program: &Program, min_len: u32) -> Vec<Known> {
    let rules = program.parse.len();
    let mut into: Vec<Option<Known>> = vec![None; rules + 1];
    into[0] = Some(Known::START);
    let go = |into: &mut Vec<Option<Known>>, to: usize, known: &Known| {
        let slot = &mut into[to.min(rules)];
        *slot = Some(match slot {
            Some(before) => before.meet(known),
            None => *known,
        });
    };
    for (i, rule) in program.parse.iter().enumerate() {
        let Some(known) = into[i] else {
            continue;
        };
        let mut walk = Walk::at_start(known);
        let mut next = i + 1;
        for insn in &rule.insns {
            if may_break(insn, &walk, min_len) {
                go(&mut into, i + 1, &walk.known);
            }
            if let Insn::Skip { rules } = insn {
                next = i + 1 + usize::from(*rules);
                break;
            }
            walk.step(insn, program);
        }
        go(&mut into, next, &walk.known);
    }
    into.into_iter()
        .map(|k| k.unwrap_or(Known::NOTHING))
        .collect()
}

/// Whether `insn` may break the rule, where the code knows `walk`, for a
/// frame of at least `min_len` bytes. Only what the parse section's paths
/// to its bases hinge on is told apart; anything else may break.
fn may_break(insn: &Insn, walk: &Walk, min_len: u32) -> bool {
    match insn {
        Insn::SetBase { .. }
        | Insn::ClearBase { .. }
        | Insn::SetKey { .. }
        | Insn::ClearKey { .. }
        | Insn::Imm { .. }
        | Insn::Alu { .. }
        | Insn::Skip { .. } => false,
        Insn::Load {
            base, offset, len, ..
        } => walk
            .bound(usize::from(base.0))
            .is_none_or(|max| max.saturating_add(u32::from(*offset) + u32::from(*len)) > min_len),
        Insn::LoadKey { key, .. } => !walk.key_set(*key),
        _ => true,
    }
}
/// Every rule of `program`'s chains.
fn chain_rules(program: &Program) -> impl Iterator<Item = &crate::program::Rule> {
    program.chains.iter().flat_map(|c| &c.rules)
}

/// The offset of each base the parse section only ever sets to one offset
/// of the frame (with `setbase b = frame+offset`).
fn fixed_bases(program: &Program) -> [Option<u32>; NUM_BASES] {
    let mut fixed: [Option<Option<u16>>; NUM_BASES] = [None; NUM_BASES];
    for insn in program.parse.iter().flat_map(|r| &r.insns) {
        let (dst, at) = match insn {
            Insn::SetBase {
                dst,
                from: None,
                offset,
                add: None,
            } => (dst, Some(*offset)),
            Insn::SetBase { dst, .. } | Insn::ClearBase { dst } => (dst, None),
            _ => continue,
        };
        if let Some(f) = fixed.get_mut(usize::from(dst.0)) {
            *f = match *f {
                None => Some(at),
                Some(before) if before == at => Some(at),
                Some(_) => Some(None),
            };
        }
    }
    fixed.map(|f| f.flatten().map(u32::from))
}

/// How far past the start of the frame the accesses of `rules` at the
/// bases of known offset `at` end, at most.
fn farthest<'p>(
    rules: impl Iterator<Item = &'p crate::program::Rule>,
    at: &[Option<u32>; NUM_BASES],
) -> u32 {
    rules
        .flat_map(|r| &r.insns)
        .filter_map(|insn| match insn {
            Insn::Load {
                base, offset, len, ..
            }
            | Insn::Store {
                base, offset, len, ..
            } => {
                let at = at.get(usize::from(base.0)).copied().flatten()?;
                Some(at.saturating_add(u32::from(*offset) + u32::from(*len)))
            }
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::{BaseId, CmpOp, Reg, Value};
    use crate::program::{Chain, Rule};

    fn load(base: u8, offset: u16, len: u8) -> Insn {
        Insn::Load {
            dst: Reg(0),
            base: BaseId(base),
            offset,
            len,
        }
    }

    fn set_base(dst: u8, from: Option<u8>, offset: u16) -> Insn {
        Insn::SetBase {
            dst: BaseId(dst),
            from: from.map(BaseId),
            offset,
            add: None,
        }
    }

    /// A test that may fail.
    fn test() -> Insn {
        Insn::Cmp {
            src: Reg(0),
            op: CmpOp::Eq,
            value: Value(vec![1]),
        }
    }

    fn rule(insns: Vec<Insn>) -> Rule {
        Rule {
            insns,
            ..Rule::default()
        }
    }

    /// A program of these parse rules and one chain rule of `chain`.
    fn program(parse: Vec<Vec<Insn>>, chain: Vec<Insn>) -> Program {
        Program {
            parse: parse.into_iter().map(rule).collect(),
            chains: vec![Chain {
                name: "t/c".into(),
                base: None,
                rules: vec![rule(chain)],
            }],
            ..Program::default()
        }
    }

    #[test]
    fn min_len_is_the_farthest_access_at_a_fixed_base() {
        let ll = vec![set_base(0, None, 0)];
        let p = program(vec![ll.clone()], vec![load(0, 12, 2), load(1, 30, 4)]);
        assert_eq!(frame_bounds(&p, false).min_len, 14);
        let p = program(vec![ll.clone()], vec![load(0, 12, 2), load(0, 30, 4)]);
        assert_eq!(frame_bounds(&p, false).min_len, 34);
        // A base set to a fixed offset counts it.
        let p = program(vec![vec![set_base(0, None, 4)]], vec![load(0, 12, 2)]);
        assert_eq!(frame_bounds(&p, false).min_len, 18);
        // Never more than the shortest real frame.
        let p = program(vec![ll], vec![load(0, 60, 4)]);
        assert_eq!(frame_bounds(&p, false).min_len, SHORT_FRAME);
    }

    #[test]
    fn bases_set_two_ways_are_not_fixed() {
        let two = vec![set_base(0, None, 0), set_base(0, None, 4)];
        assert_eq!(fixed_bases(&program(vec![two], vec![]))[0], None);
        let cleared = vec![set_base(0, None, 0), Insn::ClearBase { dst: BaseId(0) }];
        let p = program(vec![cleared], vec![load(0, 12, 2)]);
        assert_eq!(frame_bounds(&p, false).min_len, 0);
        // Never set: absent, no access reaches anything.
        assert_eq!(
            frame_bounds(&program(vec![], vec![load(0, 12, 2)]), false).min_len,
            0
        );
    }

    /// The bound of base 1 (the network header) in the chains.
    fn network(p: &Program) -> Option<u32> {
        frame_bounds(p, false).rule_start(None).bound(1)
    }

    /// The link layer at 0; the network header after it at 14, or at 18
    /// when a test passes (a VLAN tag) and skips the rule setting 14.
    fn two_ways(network: Vec<Insn>) -> Vec<Vec<Insn>> {
        vec![
            vec![set_base(0, None, 0)],
            vec![
                load(0, 12, 2),
                test(),
                set_base(1, Some(0), 18),
                Insn::Skip { rules: 1 },
            ],
            network,
        ]
    }

    #[test]
    fn a_base_set_on_every_path_is_bounded_by_its_largest_offset() {
        let p = program(
            two_ways(vec![set_base(1, Some(0), 14)]),
            vec![load(1, 16, 4)],
        );
        let bounds = frame_bounds(&p, false);
        assert_eq!(bounds.rule_start(None).bound(1), Some(18));
        assert_eq!(bounds.min_len, 38);
        // The chains' accesses count, the parse section's do not.
        let mut parse = two_ways(vec![set_base(1, Some(0), 14)]);
        parse.push(vec![load(1, 30, 4)]);
        assert_eq!(frame_bounds(&program(parse, vec![]), false).min_len, 14);
    }

    #[test]
    fn a_base_some_path_leaves_absent_or_computed_is_not_bounded() {
        // The rule setting 14 breaks first on some frames.
        let p = program(two_ways(vec![test(), set_base(1, Some(0), 14)]), vec![]);
        assert_eq!(network(&p), None);
        // Its load may break when it reaches past the frame's bytes that
        // are surely there.
        let p = program(
            two_ways(vec![load(0, 60, 1), set_base(1, Some(0), 14)]),
            vec![],
        );
        assert_eq!(network(&p), None);
        let p = program(
            two_ways(vec![load(0, 13, 1), set_base(1, Some(0), 14)]),
            vec![],
        );
        assert_eq!(network(&p), Some(18));
        // Set from a register.
        let computed = Insn::SetBase {
            dst: BaseId(1),
            from: Some(BaseId(0)),
            offset: 14,
            add: Some(Reg(0)),
        };
        assert_eq!(network(&program(two_ways(vec![computed]), vec![])), None);
        // Cleared after.
        let mut parse = two_ways(vec![set_base(1, Some(0), 14)]);
        parse.push(vec![test(), Insn::ClearBase { dst: BaseId(1) }]);
        assert_eq!(network(&program(parse, vec![])), None);
    }

    fn alu(dst: u8, a: u8, op: AluOp, imm: u32) -> Insn {
        Insn::Alu {
            dst: Reg(dst),
            a: Reg(a),
            op,
            b: Operand::Imm(imm),
        }
    }

    /// The network header at 14, then the transport header past it by
    /// four times the low four bits of its first byte (IPv4's header
    /// length), computed by `op` and `imm` from the masked bits.
    fn past_header(op: AluOp, imm: u32) -> Program {
        let ip = vec![
            set_base(0, None, 0),
            set_base(1, Some(0), 14),
            load(1, 0, 1),
            alu(1, 0, AluOp::And, 0xf),
            alu(2, 1, op, imm),
            Insn::SetBase {
                dst: BaseId(2),
                from: Some(BaseId(1)),
                offset: 0,
                add: Some(Reg(2)),
            },
        ];
        // Frames of at least 42 bytes: the load at the network header
        // cannot break.
        program(vec![ip], vec![load(0, 40, 2)])
    }

    #[test]
    fn a_base_past_a_present_one_by_a_bounded_register_is_bounded() {
        let bounds = frame_bounds(&past_header(AluOp::Mul, 4), false);
        assert_eq!(bounds.rule_start(None).bound(2), Some(14 + 60));
        let bounds = frame_bounds(&past_header(AluOp::Shl, 2), false);
        assert_eq!(bounds.rule_start(None).bound(2), Some(14 + 60));
        // A difference may wrap: anything.
        let bounds = frame_bounds(&past_header(AluOp::Sub, 1), false);
        assert_eq!(bounds.rule_start(None).bound(2), None);
        // The sum of a present base and a bounded register is present;
        // past a base that may be absent, or by any register, it may not be.
        let mut walk = frame_bounds(&past_header(AluOp::Mul, 4), true).rule_start(Some(0));
        assert!(walk.sets_present(None, 14, None));
        assert!(!walk.sets_present(Some(BaseId(1)), 0, None));
        let p = past_header(AluOp::Mul, 4);
        for insn in &p.parse[0].insns[..5] {
            walk.step(insn, &p);
        }
        assert!(walk.sets_present(Some(BaseId(1)), 0, Some(Reg(2))));
        assert!(!walk.sets_present(Some(BaseId(1)), 0, Some(Reg(3))));
        assert!(!walk.sets_present(Some(BaseId(2)), 0, Some(Reg(2))));
    }

    #[test]
    fn register_bounds_follow_the_arithmetic() {
        use AluOp::*;
        assert_eq!(alu_max(Some(255), And, Some(0xf), true), Some(0xf));
        assert_eq!(alu_max(None, And, Some(0x3c), true), Some(0x3c));
        assert_eq!(alu_max(Some(255), Shr, Some(4), true), Some(15));
        assert_eq!(alu_max(None, Shr, Some(28), true), Some(15));
        assert_eq!(alu_max(Some(255), Shr, Some(40), true), Some(0));
        // A shift by a register may be by nothing.
        assert_eq!(alu_max(Some(255), Shr, Some(4), false), Some(255));
        assert_eq!(alu_max(Some(0x10), Or, Some(3), true), Some(0x1f));
        assert_eq!(alu_max(Some(0), Xor, Some(0), true), Some(0));
        assert_eq!(alu_max(Some(u32::MAX), Add, Some(1), true), None);
        assert_eq!(alu_max(Some(1 << 16), Mul, Some(1 << 16), true), None);
        assert_eq!(alu_max(Some(1), Shl, Some(32), true), None);
        assert_eq!(alu_max(Some(15), Shl, Some(2), true), Some(60));
    }

    #[test]
    fn a_key_every_path_sets_is_set() {
        let set_key = Insn::SetKey {
            dst: KeyId(0),
            src: Reg(0),
        };
        let clear_key = Insn::ClearKey { dst: KeyId(0) };
        let key_set = |parse: Vec<Vec<Insn>>| {
            let p = program(parse, vec![]);
            frame_bounds(&p, false).rule_start(None).key_set(KeyId(0))
        };
        assert!(key_set(vec![vec![set_key.clone()]]));
        assert!(!key_set(vec![]));
        // Set on one path only: a test breaks before it on the other.
        assert!(!key_set(vec![vec![test(), set_key.clone()]]));
        // Set on both.
        assert!(key_set(vec![
            vec![test(), set_key.clone(), Insn::Skip { rules: 1 }],
            vec![set_key.clone()],
        ]));
        // Cleared on one path.
        assert!(!key_set(vec![
            vec![set_key.clone()],
            vec![test(), clear_key],
        ]));
        // Where a rule starts, in the parse section.
        let p = program(vec![vec![set_key], vec![]], vec![]);
        let bounds = frame_bounds(&p, true);
        assert!(!bounds.rule_start(Some(0)).key_set(KeyId(0)));
        assert!(bounds.rule_start(Some(1)).key_set(KeyId(0)));
    }
}
