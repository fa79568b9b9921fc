//! What native code sees of a run: the [`Context`] it is called with, and
//! the runtime functions it calls for the work that stays in Rust.
//!
//! Generated code reads the frame, the metadata and the registers' scratch
//! space through a `*mut Context` at fixed field offsets (`offset_of!`), and
//! writes the verdict and its decider back into it. Everything that touches
//! a runtime object other than a counter (set and map lookups, rate limits,
//! checksum fixes, mirrors, VLAN edits, logs, trace events) is a call to
//! one of the `extern "C"` functions here (payload writes themselves are
//! inline), which do
//! exactly what the interpreter does for the same instruction, with the same
//! runtime objects: statistics and table contents are the same whichever
//! engine ran.
//!
//! The functions take raw pointers because native code calls them; they are
//! sound to call only with a `Context` built by [`Context::new`] for a run
//! that is in progress, which is the only way generated code gets one. None
//! of them panics (a panic cannot unwind through native frames).

use crate::checksum;
use crate::insn::{
    ChainId, CounterId, LimitId, MAX_VALUE_BYTES, MapId, NUM_REGS, PortId, SetId, Verdict,
};
use crate::outcome::{Edit, LogRef, Outcome};
use crate::packet::{InputPort, Packet};
use crate::program::{MapValue, Policy};
use crate::runtime::Instance;
use crate::trace::{RuleResult, Tracer};
use std::ffi::c_void;

/// The largest frame length native code is told about: one less than the
/// absent-base marker, so that `absent + offset + len` always lies past the
/// end and one bounds check covers both "absent" and "too short". Real
/// frames are at most 64 KiB.
pub(crate) const MAX_FRAME: u64 = u32::MAX as u64 - 1;

/// Chain number of the parse section in trace events.
pub(crate) const PARSE_CHAIN: u32 = u32::MAX;

/// The state shared between a run's native code and the runtime functions.
#[repr(C)]
pub(crate) struct Context {
    /// The frame's first byte.
    pub frame: *mut u8,
    /// The frame's length, at most [`MAX_FRAME`].
    pub len: u64,
    /// The input port's id in the program, or `u32::MAX`.
    pub port_id: u32,
    /// The mark: the packet's on entry, the final one on return.
    pub mark: u32,
    /// The final verdict ([`verdict_code`] numbering; 0 until decided).
    pub verdict: u32,
    /// The port of a `fwd` verdict.
    pub verdict_port: u32,
    /// What decided: 0 no chain, 1 a rule, 2 a policy.
    pub decider_kind: u32,
    /// The deciding rule's chain, or the policy's chain.
    pub decider_chain: u32,
    /// The deciding rule's index in its chain.
    pub decider_rule: u32,
    /// The input port (native code reads its name and address).
    pub port: *const InputPort,
    /// The program's runtime objects.
    pub instance: *const Instance,
    /// Where mirrors, edits and logs go.
    pub out: *mut Outcome,
    /// The tracer, for traced code only.
    pub tracer: *mut c_void,
    /// Reports a rule's result to `tracer` (traced code only).
    pub trace_rule: extern "C" fn(*mut c_void, u32, u32, u32, u32, u32),
    /// Reports that a base chain's policy (1 accept, 0 drop) decided, to
    /// `tracer` (traced code only).
    pub trace_policy: extern "C" fn(*mut c_void, u32, u32),
}

impl Context {
    /// The context for running `packet` in `instance`, with results going to
    /// `out` and trace events to `tracer`.
    pub fn new<T: Tracer>(
        instance: &Instance,
        packet: Packet<'_>,
        out: &mut Outcome,
        tracer: &mut T,
    ) -> Context {
        Context {
            len: (packet.frame.len() as u64).min(MAX_FRAME),
            frame: packet.frame.as_mut_ptr(),
            port_id: packet.port.id.map_or(u32::MAX, |p| u32::from(p.0)),
            mark: packet.mark,
            verdict: 0,
            verdict_port: 0,
            decider_kind: 0,
            decider_chain: 0,
            decider_rule: 0,
            port: packet.port,
            instance,
            out,
            tracer: (tracer as *mut T).cast(),
            trace_rule: trace_rule::<T>,
            trace_policy: trace_policy::<T>,
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
/// to and from the runtime functions (lookup keys, map values, the bytes a
/// payload write overwrote).
/// Every call's data is written before the call reads it, so nothing in it
/// lasts from one call to the next; it lives in the [`Outcome`] only so
/// that a run does not have to set it up.
#[repr(C)]
#[derive(Clone, Default)]
pub(crate) struct Scratch {
    /// Register chunks.
    pub regs: [u32; NUM_REGS],
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

impl Scratch {
    /// The `len`-byte value in `regs` as bytes.
    fn bytes(&self, len: usize) -> [u8; MAX_VALUE_BYTES] {
        let mut bytes = [0u8; MAX_VALUE_BYTES];
        let len = len.min(MAX_VALUE_BYTES);
        for (chunk, out) in self.regs.iter().zip(bytes[..len].chunks_mut(4)) {
            let w = out.len();
            out.copy_from_slice(&chunk.to_be_bytes()[4 - w..]);
        }
        bytes
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

/// Whether the key in `scratch` is in set `set`.
pub(crate) extern "C" fn lookup(ctx: *mut Context, set: u32) -> u32 {
    // SAFETY: native code passes the context of the run in progress.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: the instance outlives the run (the JIT program holds it).
    let instance = unsafe { &*ctx.instance };
    // SAFETY: as in `lookup`.
    let scratch = unsafe { ctx.scratch() };
    instance.set(SetId(set as u16)).is_some_and(|s| {
        scratch
            .regs
            .get(..s.layout().regs())
            .is_some_and(|key| s.contains(key))
    }) as u32
}

/// Looks the key in `scratch` up in value map `map`; on a hit, writes the
/// value's chunks to `scratch` and returns 1.
pub(crate) extern "C" fn map_lookup(ctx: *mut Context, map: u32) -> u32 {
    // SAFETY: as in `lookup`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: as in `lookup`.
    let instance = unsafe { &*ctx.instance };
    let Some(m) = instance.map(MapId(map as u16)) else {
        return 0;
    };
    // SAFETY: as in `lookup`.
    let scratch = unsafe { ctx.scratch() };
    let Some(key) = scratch.regs.get(..m.layout().regs()) else {
        return 0;
    };
    let mut value = [0u32; NUM_REGS];
    let found = m.lookup_with(key, |d| match d {
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
    let verdict = instance.map(MapId(map as u16)).and_then(|m| {
        // SAFETY: as in `lookup`.
        let key = unsafe { ctx.scratch() }.regs.get(..m.layout().regs())?;
        m.lookup_with(key, |d| match d {
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

/// Fixes the checksum at `field` for the payload write of `len` bytes at
/// `start` that native code just made, whose overwritten bytes are in the
/// scratch.
pub(crate) extern "C" fn fix_checksum(
    ctx: *mut Context,
    field: u64,
    start: u64,
    len: u32,
    zero_means_none: u32,
) {
    // SAFETY: as in `lookup`.
    let ctx = unsafe { &mut *ctx };
    let len = (len as usize).min(MAX_VALUE_BYTES);
    // SAFETY: as in `lookup`.
    let old = unsafe { ctx.scratch() }.bytes(len);
    // SAFETY: as in `Context::frame`.
    let frame = unsafe { ctx.frame() };
    checksum::update(
        frame,
        field as usize,
        start as usize,
        &old[..len],
        zero_means_none != 0,
    );
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
    // SAFETY: as in `lookup`.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: as in `log`.
    let out = unsafe { &mut *ctx.out };
    // SAFETY: as in `Context::frame`.
    let frame = unsafe { ctx.frame() };
    out.push_mirror(PortId(port as u16), frame);
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
