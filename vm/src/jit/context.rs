//! What native code sees of a run: the [`Context`] it is called with, and
//! the runtime functions it calls for the work that stays in Rust.
//!
//! Generated code reads the frame and the metadata through a `*mut Context`
//! at fixed field offsets (`offset_of!`), and writes the verdict, its
//! decider and the mark straight into the run's [`Outcome`] ([`result`]),
//! beside the registers' scratch space. Everything that touches
//! a runtime object other than a counter (set and map lookups, rate limits,
//! mirrors, VLAN edits, logs, trace events) is a call to one of the
//! `extern "C"` functions here (payload writes and their checksum fixes
//! are inline), which do
//! exactly what the interpreter does for the same instruction, with the same
//! runtime objects: statistics and table contents are the same whichever
//! engine ran.
//!
//! The functions take raw pointers because native code calls them; they are
//! sound to call only with a `Context` built by [`Context::new`] for a run
//! that is in progress, which is the only way generated code gets one. None
//! of them panics (a panic cannot unwind through native frames).

use crate::insn::{
    ChainId, CounterId, LimitId, MAX_VALUE_BYTES, MapId, NUM_REGS, PortId, SetId, Verdict,
};
use crate::outcome::{Edit, LogRef, Outcome};
use crate::packet::{InputPort, Packet};
use crate::program::{MapValue, Policy};
use crate::runtime::Instance;
use crate::runtime::tables::TableCache;
use crate::trace::{RuleResult, Tracer};
use std::ffi::c_void;
use std::mem::MaybeUninit;

/// The largest frame length native code is told about: one less than the
/// absent-base marker, so that `absent + offset + len` always lies past the
/// end and one bounds check covers both "absent" and "too short". Real
/// frames are at most 64 KiB.
pub(crate) const MAX_FRAME: u64 = u32::MAX as u64 - 1;

/// Chain number of the parse section in trace events.
pub(crate) const PARSE_CHAIN: u32 = u32::MAX;

/// The state shared between a run's native code and the runtime functions.
/// The run's result (verdict, decider, mark) goes straight to the
/// [`Outcome`] at `out` (see [`result`]).
#[repr(C)]
pub(crate) struct Context {
    /// The frame's first byte.
    pub frame: *mut u8,
    /// The frame's length, at most [`MAX_FRAME`].
    pub len: u64,
    /// The input port's id in the program, or `u32::MAX`.
    pub port_id: u32,
    /// The input port (native code reads its name and address).
    pub port: *const InputPort,
    /// The program's runtime objects.
    pub instance: *const Instance,
    /// Where the result, mirrors, edits and logs go.
    pub out: *mut Outcome,
    /// The tracer and its hooks: set only for a tracer that records
    /// events, the only runs that use the traced code, which alone reads
    /// them (a run of the untraced code does not spend the stores).
    pub trace: MaybeUninit<Trace>,
}

/// What traced code reports rule results and policies to.
#[repr(C)]
pub(crate) struct Trace {
    /// The tracer.
    pub tracer: *mut c_void,
    /// Reports a rule's result to `tracer`.
    pub rule: extern "C" fn(*mut c_void, u32, u32, u32, u32, u32),
    /// Reports that a base chain's policy (1 accept, 0 drop) decided, to
    /// `tracer`.
    pub policy: extern "C" fn(*mut c_void, u32, u32),
}

impl Context {
    /// The context for running `packet` in `instance`, with results going to
    /// `out` (which the caller has cleared with the packet's mark) and trace
    /// events to `tracer`.
    pub fn new<T: Tracer>(
        instance: &Instance,
        packet: Packet<'_>,
        out: &mut Outcome,
        tracer: &mut T,
    ) -> Context {
        Context {
            len: (packet.frame.len() as u64).min(MAX_FRAME),
            frame: packet.frame.as_mut_ptr(),
            port_id: packet.port.iif,
            port: packet.port,
            instance,
            out,
            trace: match T::EVENTS {
                true => MaybeUninit::new(Trace {
                    tracer: (tracer as *mut T).cast(),
                    rule: trace_rule::<T>,
                    policy: trace_policy::<T>,
                }),
                false => MaybeUninit::uninit(),
            },
        }
    }

    /// The frame.
    ///
    /// # Safety
    /// `self` was built by [`Context::new`] and its run is in progress: the
    /// frame is borrowed mutably for the run and nothing else refers to it
    /// while a runtime function runs.
    unsafe fn frame(&mut self) -> &mut [u8] {
        // SAFETY: by the caller's contract, `frame` and `len` describe the
        // packet's frame (len clamped, so never longer), borrowed for the run.
        unsafe { std::slice::from_raw_parts_mut(self.frame, self.len as usize) }
    }

    /// The scratch.
    ///
    /// # Safety
    /// As for [`Context::frame`]: the outcome the scratch lives in is
    /// borrowed mutably for the run, and no other reference to it is live
    /// while a runtime function runs.
    pub(crate) unsafe fn scratch(&mut self) -> &mut Scratch {
        // SAFETY: by the caller's contract.
        unsafe { &mut (*self.out).scratch }
    }
}

/// Working memory of native code's runtime calls: register chunks passed
/// to and from the runtime functions (lookup keys, map values), and the
/// table snapshots lookups keep for the next run. Every call's register
/// chunks are written before the call reads them. It lives in the
/// [`Outcome`], which a thread reuses from packet to packet, so that a run
/// does not have to set it up and the snapshots last.
#[repr(C)]
#[derive(Clone, Default)]
pub(crate) struct Scratch {
    /// Register chunks.
    pub regs: [u32; NUM_REGS],
    /// The snapshots of the tables the lookups used, kept for the next.
    pub tables: TableCache,
}

/// No part of a result: every scratch equals every other, so that
/// outcomes compare by what they say.
impl PartialEq for Scratch {
    fn eq(&self, _: &Scratch) -> bool {
        true
    }
}

impl Eq for Scratch {}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scratch")
    }
}

/// Where native code writes a run's result in the [`Outcome`], and how.
///
/// [`Final`] and [`Decider`] are `repr(u16)`, so each variant is laid out as
/// a `repr(C)` struct of its `u16` tag and its fields: native code writes a
/// verdict or a decider as one 32-bit word (the tag, and above it the
/// `fwd` port or the chain) and a rule decider's index at
/// [`result::DECIDER_RULE`].
///
/// [`Final`]: crate::Final
/// [`Decider`]: crate::Decider
pub(crate) mod result {
    use crate::insn::ChainId;
    use crate::outcome::Outcome;
    use std::mem::offset_of;

    /// What `repr(u16)` makes of [`crate::Decider::Rule`].
    #[repr(C)]
    struct RuleLayout {
        tag: u16,
        chain: ChainId,
        rule: usize,
    }

    /// Offset of the verdict in the outcome.
    pub const VERDICT: usize = offset_of!(Outcome, verdict);
    /// Offset of the decider in the outcome.
    pub const DECIDER: usize = offset_of!(Outcome, decider);
    /// Offset of a rule decider's index in the outcome.
    pub const DECIDER_RULE: usize = DECIDER + offset_of!(RuleLayout, rule);
    /// Offset of the mark in the outcome.
    pub const MARK: usize = offset_of!(Outcome, mark);

    /// Tag of [`crate::Final::Drop`].
    pub const DROP: u32 = 1;
    /// Tag of [`crate::Final::Fwd`].
    pub const FWD: u32 = 2;
    /// Tag of [`crate::Final::Flood`].
    pub const FLOOD: u32 = 3;
    /// Tag of [`crate::Decider::Rule`].
    pub const RULE: u32 = 0;
    /// Tag of [`crate::Decider::Policy`].
    pub const POLICY: u32 = 1;

    /// Where in [`word`] the port or chain goes: the second `u16` in
    /// memory.
    pub const ARG_SHIFT: u32 = if cfg!(target_endian = "little") {
        16
    } else {
        0
    };

    /// The word native code writes for a verdict or a decider: its `tag`,
    /// and its port or chain `arg` in the other half.
    pub const fn word(tag: u32, arg: u32) -> u32 {
        tag << (16 - ARG_SHIFT) | arg << ARG_SHIFT
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::insn::PortId;
        use crate::outcome::{Decider, Final};

        /// Writes `word` at `offset` of `out`, as native code does.
        fn write<T>(out: &mut Outcome, offset: usize, value: T) {
            // SAFETY: every offset used below lies inside the outcome and
            // the values written make valid verdicts and deciders.
            unsafe {
                (out as *mut Outcome)
                    .cast::<u8>()
                    .add(offset)
                    .cast::<T>()
                    .write_unaligned(value)
            }
        }

        #[test]
        fn words_make_the_verdicts_and_deciders_they_name() {
            let mut out = Outcome::new();
            for (tag, arg, verdict) in [
                (DROP, 0, Final::Drop),
                (FWD, 7, Final::Fwd(PortId(7))),
                (FLOOD, 0, Final::Flood),
                (0, 0, Final::Accept),
            ] {
                write(&mut out, VERDICT, word(tag, arg));
                assert_eq!(out.verdict, verdict);
            }
            write(&mut out, DECIDER, word(RULE, 3));
            write(&mut out, DECIDER_RULE, 0x1234_5678usize);
            assert_eq!(
                out.decider,
                Decider::Rule {
                    chain: ChainId(3),
                    rule: 0x1234_5678
                }
            );
            write(&mut out, DECIDER, word(POLICY, 9));
            assert_eq!(out.decider, Decider::Policy { chain: ChainId(9) });
            write(&mut out, MARK, 0xabcdu32);
            assert_eq!(out.mark, 0xabcd);
        }
    }
}

/// Numbers of verdicts as native code and the runtime functions pass them;
/// 0 means "none" (a verdict map's miss).
pub(crate) mod verdict_code {
    /// `continue`.
    pub const CONTINUE: u32 = 1;
    /// `return`.
    pub const RETURN: u32 = 2;
    /// `jump` (argument: the chain).
    pub const JUMP: u32 = 3;
    /// `goto` (argument: the chain).
    pub const GOTO: u32 = 4;
    /// `accept`.
    pub const ACCEPT: u32 = 5;
    /// `drop`.
    pub const DROP: u32 = 6;
    /// `fwd` (argument: the port).
    pub const FWD: u32 = 7;
    /// `flood`.
    pub const FLOOD: u32 = 8;
}

/// A verdict as (code, argument).
pub(crate) fn encode(v: Verdict) -> (u32, u32) {
    use verdict_code::*;
    match v {
        Verdict::Continue => (CONTINUE, 0),
        Verdict::Return => (RETURN, 0),
        Verdict::Jump(c) => (JUMP, u32::from(c.0)),
        Verdict::Goto(c) => (GOTO, u32::from(c.0)),
        Verdict::Accept => (ACCEPT, 0),
        Verdict::Drop => (DROP, 0),
        Verdict::Fwd(p) => (FWD, u32::from(p.0)),
        Verdict::Flood => (FLOOD, 0),
    }
}

/// The verdict of a (code, argument) pair made by [`encode`].
pub(crate) fn decode(code: u32, arg: u32) -> Option<Verdict> {
    use verdict_code::*;
    let chain = || ChainId(arg as u16);
    Some(match code {
        CONTINUE => Verdict::Continue,
        RETURN => Verdict::Return,
        JUMP => Verdict::Jump(chain()),
        GOTO => Verdict::Goto(chain()),
        ACCEPT => Verdict::Accept,
        DROP => Verdict::Drop,
        FWD => Verdict::Fwd(PortId(arg as u16)),
        FLOOD => Verdict::Flood,
        _ => return None,
    })
}

/// The owner of `instance`'s tables, as the scratch's table cache names it.
fn owner(instance: &Instance) -> usize {
    std::ptr::from_ref(instance) as usize
}

/// Whether the key in `scratch` is in set `set`.
pub(crate) extern "C" fn lookup(ctx: *mut Context, set: u32) -> u32 {
    // SAFETY: native code passes the context of the run in progress.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: the instance outlives the run (the JIT program holds it).
    let instance = unsafe { &*ctx.instance };
    // SAFETY: as in `lookup`.
    let scratch = unsafe { ctx.scratch() };
    let id = SetId(set as u16);
    instance.set(id).is_some_and(|s| {
        scratch.regs.get(..s.layout().regs()).is_some_and(|key| {
            s.lookup_cached(scratch.tables.set(owner(instance), id), key, |_| ())
                .is_some()
        })
    }) as u32
}

/// Looks the key in `scratch` up in value map `map`; on a hit, writes the
/// value's chunks to `scratch` and returns 1.
pub(crate) extern "C" fn map_lookup(ctx: *mut Context, map: u32) -> u32 {
    // SAFETY: as in `lookup`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: as in `lookup`.
    let instance = unsafe { &*ctx.instance };
    let id = MapId(map as u16);
    let Some(m) = instance.map(id) else {
        return 0;
    };
    // SAFETY: as in `lookup`.
    let scratch = unsafe { ctx.scratch() };
    let Some(key) = scratch.regs.get(..m.layout().regs()) else {
        return 0;
    };
    let mut value = [0u32; NUM_REGS];
    let found = m.lookup_cached(scratch.tables.map(owner(instance), id), key, |d| match d {
        MapValue::Value(v) if v.len() <= MAX_VALUE_BYTES => {
            for (c, chunk) in value.iter_mut().zip(v.to_chunks()) {
                *c = chunk;
            }
            Some(v.chunks())
        }
        _ => None,
    });
    match found.flatten() {
        Some(n) => {
            scratch.regs[..n].copy_from_slice(&value[..n]);
            1
        }
        None => 0,
    }
}

/// Looks the key in `scratch` up in verdict map `map`: the verdict as
/// `code | argument << 32`, or 0 on a miss.
pub(crate) extern "C" fn vmap_lookup(ctx: *mut Context, map: u32) -> u64 {
    // SAFETY: as in `lookup`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: as in `lookup`.
    let instance = unsafe { &*ctx.instance };
    let id = MapId(map as u16);
    let verdict = instance.map(id).and_then(|m| {
        // SAFETY: as in `lookup`.
        let scratch = unsafe { ctx.scratch() };
        let key = scratch.regs.get(..m.layout().regs())?;
        m.lookup_cached(scratch.tables.map(owner(instance), id), key, |d| match d {
            MapValue::Verdict(v) => Some(*v),
            MapValue::Value(_) => None,
        })?
    });
    verdict.map_or(0, |v| {
        let (code, arg) = encode(v);
        u64::from(code) | u64::from(arg) << 32
    })
}

/// Whether rate limiter `limit` admits the packet.
pub(crate) extern "C" fn limit(ctx: *mut Context, limit: u32) -> u32 {
    // SAFETY: as in `lookup`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: as in `lookup`.
    let instance = unsafe { &*ctx.instance };
    instance
        .limiter(LimitId(limit as u16))
        .is_some_and(|l| l.admit(ctx.len as usize, instance.clock().now_ns())) as u32
}

/// Records a `log` statement of rule `rule`, instruction `insn`.
pub(crate) extern "C" fn log(ctx: *mut Context, chain: u32, rule: u32, insn: u32) {
    // SAFETY: as in `lookup`; `out` is borrowed mutably for the run.
    let out = unsafe { &mut *(*ctx).out };
    out.logs.push(LogRef {
        chain: ChainId(chain as u16),
        rule: rule as usize,
        insn: insn as usize,
    });
}

/// Records a copy of the frame, edits so far applied, for port `port`.
pub(crate) extern "C" fn mirror(ctx: *mut Context, port: u32) {
    // SAFETY: as in `log`.
    let out = unsafe { &mut *(*ctx).out };
    out.push_mirror(PortId(port as u16));
}

/// Takes the copies of the frame that mirrors still refer to, before native
/// code writes the frame.
pub(crate) extern "C" fn freeze_mirrors(ctx: *mut Context) {
    // SAFETY: as in `lookup`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: as in `log`.
    let out = unsafe { &mut *ctx.out };
    // SAFETY: as in `Context::frame`.
    let frame = unsafe { ctx.frame() };
    out.freeze_mirrors(frame);
}

/// Records the insertion of `len` bytes from `bytes` at `at` (native code
/// checked `at`; `bytes` points into the program's constant).
pub(crate) extern "C" fn insert(ctx: *mut Context, at: u64, bytes: *const u8, len: u32) {
    // SAFETY: as in `log`.
    let out = unsafe { &mut *(*ctx).out };
    let len = (len as usize).min(MAX_VALUE_BYTES);
    let mut b = [0u8; MAX_VALUE_BYTES];
    // SAFETY: `bytes` and `len` are a constant of the instance's program,
    // which outlives the run.
    b[..len].copy_from_slice(unsafe { std::slice::from_raw_parts(bytes, len) });
    out.edits.push(Edit::Insert {
        at: at as usize,
        len: len as u8,
        bytes: b,
    });
}

/// Records the removal of `len` bytes at `at` (native code checked them).
pub(crate) extern "C" fn remove(ctx: *mut Context, at: u64, len: u32) {
    // SAFETY: as in `log`.
    let out = unsafe { &mut *(*ctx).out };
    out.edits.push(Edit::Remove {
        at: at as usize,
        len: len as usize,
    });
}

/// Reports a rule's result: `kind` 0 a verdict (`a`, `b` its code and
/// argument), 1 broke at instruction `a`, 2 ended, 3 skipped `a` rules.
extern "C" fn trace_rule<T: Tracer>(
    tracer: *mut c_void,
    chain: u32,
    rule: u32,
    kind: u32,
    a: u32,
    b: u32,
) {
    // SAFETY: `tracer` is the `&mut T` the run was started with.
    let tracer = unsafe { &mut *tracer.cast::<T>() };
    let result = match kind {
        0 => match decode(a, b) {
            Some(v) => RuleResult::Verdict(v),
            None => return,
        },
        1 => RuleResult::Broke { insn: a as usize },
        2 => RuleResult::End,
        _ => RuleResult::Skip { rules: a as u16 },
    };
    let chain = (chain != PARSE_CHAIN).then_some(ChainId(chain as u16));
    tracer.rule(chain, rule as usize, result);
}

/// Reports that base chain `chain`'s policy decided (`accept` 1 or 0).
extern "C" fn trace_policy<T: Tracer>(tracer: *mut c_void, chain: u32, accept: u32) {
    // SAFETY: as in `trace_rule`.
    let tracer = unsafe { &mut *tracer.cast::<T>() };
    let policy = if accept != 0 {
        Policy::Accept
    } else {
        Policy::Drop
    };
    tracer.policy(ChainId(chain as u16), policy);
}

/// The byte address of a counter's packet count; its byte count follows at
/// offset 8 (see [`crate::runtime::Counter`], which is `repr(C)`).
pub(crate) fn counter_address(instance: &Instance, id: CounterId) -> Option<i64> {
    instance
        .counter(id)
        .map(|c| std::sync::Arc::as_ptr(c) as i64)
}
