//! What the untraced code may assume of a frame, so that it checks fewer
//! accesses against the frame's length.
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
//! - a *bounded* base is one every run of the parse section leaves set to
//!   one of a few offsets of the frame, from constants (the network header:
//!   after the Ethernet header, at 14, or after a VLAN tag, at 18). The
//!   chains' accesses that end within `min_len` past its largest offset
//!   need no check.
//!
//! Bounded bases come from an abstract run of the parse section, which is
//! loop-free (rules go on to the next rule or skip forward): for each rule,
//! what every path into it may have left in each base, merged over the
//! paths; a rule's path goes on to the next rule at every instruction that
//! may break (keeping what the instructions before it did), and at its end
//! to the next rule or past those it skips.

use crate::insn::{Insn, NUM_BASES};
use crate::program::Program;

/// The shortest frame of real traffic: an ARP request on a virtual link,
/// which nothing pads to Ethernet's 60 bytes. `min_len` is never more.
pub(super) const SHORT_FRAME: u32 = 42;

/// What the untraced code of a program may assume of a frame.
#[derive(Debug)]
pub(super) struct FrameBounds {
    /// The shortest frame the code is given: how far the program reads or
    /// writes past its fixed bases and its chains past its bounded bases,
    /// at most [`SHORT_FRAME`].
    pub min_len: u32,
    /// For each base every run of the parse section leaves set to an offset
    /// of the frame no greater than a constant, that constant.
    pub bounded: [Option<u32>; NUM_BASES],
}

/// What a base may hold where a rule of the parse section starts.
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

    /// What a base set to `offset` past a base holding `self` holds.
    fn plus(self, offset: u32) -> Held {
        match self {
            Held::Offset { max } => Held::Offset {
                max: max.saturating_add(offset),
            },
            Held::MaybeAbsent { max } => Held::MaybeAbsent {
                max: max.map(|m| m.saturating_add(offset)),
            },
            Held::Unknown => Held::Unknown,
        }
    }
}

/// The bases where a rule starts.
type Bases = [Held; NUM_BASES];

/// Computes the frame bounds of `program`'s untraced code.
pub(super) fn frame_bounds(program: &Program) -> FrameBounds {
    let fixed = fixed_bases(program);
    let at_fixed = farthest(program.parse.iter().chain(chain_rules(program)), &fixed);
    let bounded = bounded_bases(program, at_fixed.min(SHORT_FRAME));
    let at_bounded = farthest(chain_rules(program), &bounded);
    FrameBounds {
        min_len: at_fixed.max(at_bounded).min(SHORT_FRAME),
        bounded,
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

/// The bounded bases of `program` (see the module docs), for frames of at
/// least `min_len` bytes: a load that ends within them, past a base set on
/// every path to an offset no greater than a constant, cannot break.
fn bounded_bases(program: &Program, min_len: u32) -> [Option<u32>; NUM_BASES] {
    let start = [Held::MaybeAbsent { max: None }; NUM_BASES];
    let rules = program.parse.len();
    // What the paths into each rule (and past the last) left, merged.
    let mut into: Vec<Option<Bases>> = vec![None; rules + 1];
    into[0] = Some(start);
    let go = |into: &mut Vec<Option<Bases>>, to: usize, bases: &Bases| {
        let slot = &mut into[to.min(rules)];
        *slot = Some(match slot {
            Some(before) => std::array::from_fn(|b| before[b].meet(bases[b])),
            None => *bases,
        });
    };
    for (i, rule) in program.parse.iter().enumerate() {
        let Some(mut bases) = into[i] else {
            continue;
        };
        let mut next = i + 1;
        for insn in &rule.insns {
            if may_break(insn, &bases, min_len) {
                go(&mut into, i + 1, &bases);
            }
            match insn {
                Insn::SetBase {
                    dst,
                    from,
                    offset,
                    add,
                } => {
                    let from = match from {
                        None => Held::Offset { max: 0 },
                        Some(f) => bases
                            .get(usize::from(f.0))
                            .copied()
                            .unwrap_or(Held::Unknown),
                    };
                    let held = match add {
                        None => from.plus(u32::from(*offset)),
                        Some(_) => Held::Unknown,
                    };
                    if let Some(b) = bases.get_mut(usize::from(dst.0)) {
                        *b = held;
                    }
                }
                Insn::ClearBase { dst } => {
                    if let Some(b) = bases.get_mut(usize::from(dst.0)) {
                        *b = Held::MaybeAbsent { max: None };
                    }
                }
                Insn::Skip { rules } => {
                    next = i + 1 + usize::from(*rules);
                    break;
                }
                _ => {}
            }
        }
        go(&mut into, next, &bases);
    }
    let end = into[rules].unwrap_or(start);
    end.map(|held| match held {
        Held::Offset { max } => Some(max),
        Held::MaybeAbsent { .. } | Held::Unknown => None,
    })
}

/// Whether `insn` may break the rule, with the bases as `bases` and a frame
/// of at least `min_len` bytes. Only what the parse section's paths to its
/// bases hinge on is told apart; anything else may break.
fn may_break(insn: &Insn, bases: &Bases, min_len: u32) -> bool {
    match insn {
        Insn::SetBase { .. }
        | Insn::ClearBase { .. }
        | Insn::SetKey { .. }
        | Insn::ClearKey { .. }
        | Insn::Imm { .. }
        | Insn::Skip { .. } => false,
        Insn::Load {
            base, offset, len, ..
        } => match bases.get(usize::from(base.0)) {
            Some(Held::Offset { max }) => {
                max.saturating_add(u32::from(*offset) + u32::from(*len)) > min_len
            }
            _ => true,
        },
        _ => true,
    }
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
        assert_eq!(frame_bounds(&p).min_len, 14);
        let p = program(vec![ll.clone()], vec![load(0, 12, 2), load(0, 30, 4)]);
        assert_eq!(frame_bounds(&p).min_len, 34);
        // A base set to a fixed offset counts it.
        let p = program(vec![vec![set_base(0, None, 4)]], vec![load(0, 12, 2)]);
        assert_eq!(frame_bounds(&p).min_len, 18);
        // Never more than the shortest real frame.
        let p = program(vec![ll], vec![load(0, 60, 4)]);
        assert_eq!(frame_bounds(&p).min_len, SHORT_FRAME);
    }

    #[test]
    fn bases_set_two_ways_are_not_fixed() {
        let two = vec![set_base(0, None, 0), set_base(0, None, 4)];
        assert_eq!(fixed_bases(&program(vec![two], vec![]))[0], None);
        let cleared = vec![set_base(0, None, 0), Insn::ClearBase { dst: BaseId(0) }];
        let p = program(vec![cleared], vec![load(0, 12, 2)]);
        assert_eq!(frame_bounds(&p).min_len, 0);
        // Never set: absent, no access reaches anything.
        assert_eq!(
            frame_bounds(&program(vec![], vec![load(0, 12, 2)])).min_len,
            0
        );
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
        let bounds = frame_bounds(&p);
        assert_eq!(bounds.bounded[1], Some(18));
        assert_eq!(bounds.min_len, 38);
        // The chains' accesses count, the parse section's do not.
        let mut parse = two_ways(vec![set_base(1, Some(0), 14)]);
        parse.push(vec![load(1, 30, 4)]);
        assert_eq!(frame_bounds(&program(parse, vec![])).min_len, 14);
    }

    #[test]
    fn a_base_some_path_leaves_absent_or_computed_is_not_bounded() {
        // The rule setting 14 breaks first on some frames.
        let p = program(two_ways(vec![test(), set_base(1, Some(0), 14)]), vec![]);
        assert_eq!(frame_bounds(&p).bounded[1], None);
        // Its load may break when it reaches past the frame's bytes that
        // are surely there.
        let p = program(
            two_ways(vec![load(0, 60, 1), set_base(1, Some(0), 14)]),
            vec![],
        );
        assert_eq!(frame_bounds(&p).bounded[1], None);
        let p = program(
            two_ways(vec![load(0, 13, 1), set_base(1, Some(0), 14)]),
            vec![],
        );
        assert_eq!(frame_bounds(&p).bounded[1], Some(18));
        // Set from a register.
        let computed = Insn::SetBase {
            dst: BaseId(1),
            from: Some(BaseId(0)),
            offset: 14,
            add: Some(Reg(0)),
        };
        assert_eq!(
            frame_bounds(&program(two_ways(vec![computed]), vec![])).bounded[1],
            None
        );
        // Cleared after.
        let mut parse = two_ways(vec![set_base(1, Some(0), 14)]);
        parse.push(vec![test(), Insn::ClearBase { dst: BaseId(1) }]);
        assert_eq!(frame_bounds(&program(parse, vec![])).bounded[1], None);
    }
}
