//! Support shared by the vm's integration tests: program building helpers
//! and the engines every semantic test runs under.
//!
//! rbpf style: the same test programs run under every engine, and a result
//! that differs between engines is a bug. Adding an engine (the JIT) means
//! implementing [`Engine`] and adding one test file that invokes
//! [`engine_tests!`] with it: `interpreter.rs`, `jit.rs` and
//! `jit_traced.rs` do.

#![allow(
    dead_code,
    reason = "each test crate uses a different part of the helpers"
)]

pub mod edge_acl;
pub mod programs;
pub mod semantics;

pub use programs::mirror_copies;

use std::cell::RefCell;
use std::sync::Arc;
use vm::jit::JitProgram;
use vm::runtime::ManualClock;
use vm::{
    BaseChain, BaseId, Chain, CmpOp, InputPort, Insn, Instance, KeyId, NoTrace, Outcome, Packet,
    Policy, Program, Reg, Rule, TraceLog, Value, Verdict, interpreter, verify,
};

/// An engine runs verified programs.
pub trait Engine {
    /// Runs `instance`'s program on `packet`.
    fn run(&self, instance: &Arc<Instance>, packet: Packet<'_>, out: &mut Outcome);
}

/// The reference interpreter.
pub struct Interp;

impl Engine for Interp {
    fn run(&self, instance: &Arc<Instance>, packet: Packet<'_>, out: &mut Outcome) {
        interpreter::run(instance, packet, out, &mut NoTrace);
    }
}

/// The Cranelift JIT, compiling each instance the first time it runs it;
/// with `traced`, its traced code runs (events recorded and dropped).
#[derive(Default)]
pub struct Jit {
    traced: bool,
    compiled: RefCell<Option<JitProgram>>,
}

impl Jit {
    /// The JIT running its traced code.
    pub fn traced() -> Jit {
        Jit {
            traced: true,
            compiled: RefCell::default(),
        }
    }
}

impl Engine for Jit {
    fn run(&self, instance: &Arc<Instance>, packet: Packet<'_>, out: &mut Outcome) {
        let mut compiled = self.compiled.borrow_mut();
        if !compiled
            .as_ref()
            .is_some_and(|j| Arc::ptr_eq(j.instance(), instance))
        {
            let jit = JitProgram::compile(instance).unwrap_or_else(|e| panic!("jit: {e}"));
            *compiled = Some(jit);
        }
        let jit = compiled.as_ref().expect("compiled above");
        if self.traced {
            jit.run(packet, out, &mut TraceLog::default());
        } else {
            jit.run(packet, out, &mut NoTrace);
        }
    }
}

/// Defines one `#[test]` per semantic test function, run under `$engine`.
#[macro_export]
macro_rules! engine_tests {
    ($engine:expr) => {
        $crate::engine_tests!($engine;
            load_byte_order, loads_at_every_base_respect_bounds, absent_bases_and_keys,
            cmp_all_ops, cmp_128_bit, prefix_by_bitwise, prefix_by_interval_set, range_edges,
            lookups, concatenated_keys, map_lookup_loads_data, bitwise_shift_alu, meta_values,
            parse_break_keeps_earlier_effects, jump_and_return, goto_from_base_applies_policy,
            goto_returns_to_the_jumper, chain_entered_twice, vmap_semantics, mark_semantics,
            base_chains_in_order, device_bound_chains, terminal_verdicts, counters_count,
            rule_counter_is_counted_by_its_statement, limits_with_a_clock, store_fixes_checksums,
            insert_remove_and_mirror, many_mirrors_and_logs_keep_their_order, logs_record_prefixes, edge_acl_verdicts, tiny_and_huge_frames,
            inline_lists, parse_skips_rules, checksum_fixes_apply_when_their_key_matches,
            loaded_values_outlive_writes, ordered_compares_take_whole_chunks,
            compares_read_the_value_alone, input_port_tests
        );
    };
    ($engine:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                common::semantics::$name(&$engine);
            }
        )*
    };
}

/// A rule of `insns` with no identity.
pub fn rule(insns: Vec<Insn>) -> Rule {
    Rule {
        handle: 0,
        fingerprint: 0,
        source: None,
        counter: None,
        insns,
    }
}

/// A base chain.
pub fn base_chain(name: &str, priority: i32, policy: Policy, rules: Vec<Rule>) -> Chain {
    Chain {
        name: name.into(),
        base: Some(BaseChain {
            priority,
            device: None,
            policy,
        }),
        rules,
    }
}

/// A regular chain.
pub fn chain(name: &str, rules: Vec<Rule>) -> Chain {
    Chain {
        name: name.into(),
        base: None,
        rules,
    }
}

/// A value of these bytes.
pub fn v(bytes: &[u8]) -> Value {
    Value(bytes.to_vec())
}

/// `load rDST, LEN @ BASE+OFF`.
pub fn load(dst: u8, base: u8, offset: u16, len: u8) -> Insn {
    Insn::Load {
        dst: Reg(dst),
        base: BaseId(base),
        offset,
        len,
    }
}

/// `cmp rSRC OP VALUE`.
pub fn cmp(src: u8, op: CmpOp, value: &[u8]) -> Insn {
    Insn::Cmp {
        src: Reg(src),
        op,
        value: v(value),
    }
}

/// `lookup rSRC [not] in @sSET`.
pub fn lookup(src: u8, set: u16, negate: bool) -> Insn {
    Insn::Lookup {
        src: Reg(src),
        set: vm::SetId(set),
        negate,
    }
}

/// An exact set element: one value per key component.
pub fn exact(parts: &[&[u8]]) -> vm::SetElem {
    vm::SetElem {
        low: parts.iter().map(|p| v(p)).collect(),
        high: parts.iter().map(|p| v(p)).collect(),
    }
}

/// `imm rDST, VALUE`.
pub fn imm(dst: u8, value: &[u8]) -> Insn {
    Insn::Imm {
        dst: Reg(dst),
        value: v(value),
    }
}

/// `setkey KEY = rSRC`.
pub fn set_key(key: u8, src: u8) -> Insn {
    Insn::SetKey {
        dst: KeyId(key),
        src: Reg(src),
    }
}

/// `loadkey rDST, KEY`.
pub fn load_key(dst: u8, key: u8) -> Insn {
    Insn::LoadKey {
        dst: Reg(dst),
        key: KeyId(key),
    }
}

/// A verdict instruction.
pub fn verdict(v: Verdict) -> Insn {
    Insn::Verdict(v)
}

/// `setbase DST = FROM+OFFSET`, `FROM` `None` for the frame start.
pub fn set_base(dst: u8, from: Option<u8>, offset: u16) -> Insn {
    Insn::SetBase {
        dst: BaseId(dst),
        from: from.map(BaseId),
        offset,
        add: None,
    }
}

/// A program with bases `ll`, `nh`, `th` and keys `protocol`, `l4proto`,
/// whose parse section only sets `ll` to the frame start, and `chains`.
pub fn program(chains: Vec<Chain>) -> Program {
    Program {
        bases: vec!["ll".into(), "nh".into(), "th".into()],
        keys: vec!["protocol".into(), "l4proto".into()],
        parse: vec![rule(vec![set_base(0, None, 0)])],
        chains,
        ..Program::default()
    }
}

/// A program with one base chain (policy drop) of one rule: `insns` then
/// `accept`. Frames the rule matches are accepted, others dropped.
pub fn matcher(mut insns: Vec<Insn>) -> Program {
    insns.push(verdict(Verdict::Accept));
    program(vec![base_chain("t/in", 0, Policy::Drop, vec![rule(insns)])])
}

/// Verifies `program` (panicking with the verifier's reason) and
/// instantiates it with a manual clock at 0.
pub fn instance(program: Program) -> Arc<Instance> {
    instance_with_clock(program, Arc::new(ManualClock::new(0)))
}

/// Like [`instance`] with a given clock.
pub fn instance_with_clock(program: Program, clock: Arc<ManualClock>) -> Arc<Instance> {
    let verified = verify(program).unwrap_or_else(|e| panic!("program does not verify: {e}"));
    Arc::new(Instance::new(Arc::new(verified), clock))
}

/// Runs a frame received on an unnamed port.
pub fn run<E: Engine>(engine: &E, instance: &Arc<Instance>, frame: &[u8]) -> Outcome {
    run_on(engine, instance, frame, &InputPort::unnamed())
}

/// Runs a frame received on `port`.
pub fn run_on<E: Engine>(
    engine: &E,
    instance: &Arc<Instance>,
    frame: &[u8],
    port: &InputPort,
) -> Outcome {
    let mut out = Outcome::new();
    engine.run(
        instance,
        Packet {
            frame: &mut frame.to_vec(),
            port,
            mark: 0,
        },
        &mut out,
    );
    out
}

/// Runs a frame in place (payload writes change it) with a starting mark,
/// received on an unnamed port.
pub fn run_mut<E: Engine>(
    engine: &E,
    instance: &Arc<Instance>,
    frame: &mut [u8],
    mark: u32,
) -> Outcome {
    let mut out = Outcome::new();
    engine.run(
        instance,
        Packet {
            frame,
            port: &InputPort::unnamed(),
            mark,
        },
        &mut out,
    );
    out
}

/// `frame[0] := 0x77` (a payload write, through register 0).
pub fn write_first_byte() -> [Insn; 2] {
    [
        imm(0, &[0x77]),
        Insn::Store {
            base: BaseId(0),
            offset: 0,
            len: 1,
            src: Reg(0),
            checksums: vec![],
        },
    ]
}

/// Whether a [`matcher`] program accepts the frame.
pub fn matches<E: Engine>(engine: &E, instance: &Arc<Instance>, frame: &[u8]) -> bool {
    run(engine, instance, frame).verdict == vm::Final::Accept
}
