//! Translation of a verified program to Cranelift IR: one function for the
//! whole program, parse section and every chain.
//!
//! The function takes a `*mut Context` and returns nothing; it writes the
//! verdict, its decider and the mark into the context's outcome. Its shape
//! follows the interpreter's semantics block for block:
//!
//! - each rule is a block; an instruction that can break branches to the
//!   next rule's block (in traced code, to a block that first reports the
//!   break). Data registers are Cranelift variables, so a value loaded once
//!   lives in a machine register;
//! - bases and keys are variables in the parse section; after it they are
//!   fixed, so the chains read them as plain SSA values. Keys are 64-bit,
//!   -1 when absent, so that `loadkey` and the `cmp ==` after it (the
//!   implied dependency of nearly every rule) are one compare. Everything
//!   else a run keeps (the mark, the input port, the return stack) is in
//!   memory, so that the values live through the whole program are few;
//! - chains are reached by branches. `jump` pushes a *return site* (the
//!   block of the rule after the jump) on a small stack in the frame and
//!   enters the chain; `return`, or falling off a chain's end, pops a site
//!   and dispatches on it with a jump table. Each base chain's run starts
//!   with its policy as the bottom site, so a `goto` chain that returns at
//!   the bottom lands on the right policy. The verifier bounds the depth;
//!   a push that would overflow is skipped as the interpreter skips it;
//! - verdict maps return a verdict code from the runtime, dispatched with a
//!   jump table; `jump`/`goto` through them dispatch on the chain number;
//! - a chain's rules share what they learn ([`facts`]): the result of a
//!   test of a key, the input port or the frame's reach past a base holds
//!   for the rest of the run, so a rule skips the tests its every incoming
//!   edge knows passed, and a break goes past the rules that would break
//!   too;
//! - packet bytes are loaded after one bounds check per access: bases are
//!   32-bit offsets with `u32::MAX` for "absent", and since frames are
//!   shorter than that, `base + offset + len <= frame length` rules out an
//!   absent base too. A loaded value is byte-order swapped into its
//!   register chunks only when something reads them: an equality compare
//!   right after the load compares the bytes in memory order against the
//!   constant's bytes, without swaps, 8 bytes at a time;
//! - compares, ranges and inline lists compare the value packed into one
//!   32-, 64- or 128-bit integer, whose unsigned order is the byte order of
//!   the value (short inline lists branch on each element); counters are
//!   two atomic adds on the runtime's counter;
//!   payload writes and their checksum fixes are inline; the rest calls
//!   the functions of [`super::context`].

use super::JitError;
use super::context::{self, Context, PARSE_CHAIN, Scratch, Trace, result, verdict_code};
use super::facts::{self, Fact, Subject, Test};
use super::frame_bounds::{FrameBounds, Walk, frame_bounds};
use super::groups::{self, Group, Tail};
use crate::insn::{
    AluOp, BaseId, ChainId, ChecksumFix, CmpOp, Insn, KeyId, MAX_CALL_DEPTH, Meta, NUM_BASES,
    NUM_KEYS, NUM_REGS, Operand, Reg, SetId, ShiftDir, Value as Const, Verdict, chunks_for,
};
use crate::outcome::Outcome;
use crate::packet::InputPort;
use crate::program::{MapData, MapValue, Policy, Program, Rule, SetElem};
use crate::runtime::Instance;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    AbiParam, AtomicRmwOp, Block, BlockArg, Function, InstBuilder, InstructionData, JumpTableData,
    MemFlagsData, Opcode, Signature, StackSlotData, StackSlotKind, Type, UserFuncName, Value,
    types,
};
use cranelift_codegen::isa::TargetIsa;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use std::mem::offset_of;
use std::sync::atomic::AtomicU64;

/// Tables of at most this many elements are compiled into the code (and
/// looked up at run time only after they change).
const INLINE_TABLE_LIMIT: usize = 16;

/// Inline lists and compiled-in sets of at most this many elements branch
/// on each element; longer ones or their elements' results together and
/// branch once.
const BRANCH_LIST_LIMIT: usize = 4;

/// An edge skips at most this many rules that would break (see
/// [`facts`]), which bounds the translation's work on long chains.
const THREAD_LIMIT: usize = 256;

/// The absent-base marker, as the interpreter uses it.
const ABSENT: i64 = u32::MAX as i64;

/// Return-stack slots: the base chain's policy and one per nested jump.
const STACK_SLOTS: usize = MAX_CALL_DEPTH + 1;

/// An absent key's value (keys are 32-bit, kept in 64-bit values).
const KEY_ABSENT: i64 = -1;

/// Offsets in the run-state stack slot: the return stack's depth and the
/// running base chain's position in the entry order.
const DEPTH: i32 = 0;
const ENTRY: i32 = 4;

/// The runtime functions, by the shape native code calls them with.
#[derive(Clone, Copy)]
enum Call {
    Lookup,
    MapLookup,
    VmapLookup,
    Limit,
    Log,
    Mirror,
    FreezeMirrors,
    Insert,
    Remove,
    GroupLookup,
}

impl Call {
    /// The function's address.
    fn address(self) -> i64 {
        let f: *const u8 = match self {
            Call::Lookup => context::lookup as *const u8,
            Call::MapLookup => context::map_lookup as *const u8,
            Call::VmapLookup => context::vmap_lookup as *const u8,
            Call::Limit => context::limit as *const u8,
            Call::Log => context::log as *const u8,
            Call::Mirror => context::mirror as *const u8,
            Call::FreezeMirrors => context::freeze_mirrors as *const u8,
            Call::Insert => context::insert as *const u8,
            Call::Remove => context::remove as *const u8,
            Call::GroupLookup => groups::lookup as *const u8,
        };
        f as i64
    }

    /// Parameter types after the context pointer, and the result type.
    fn shape(self) -> (&'static [Type], Option<Type>) {
        use types::{I32, I64};
        match self {
            Call::Lookup | Call::MapLookup | Call::Limit => (&[I32], Some(I32)),
            Call::VmapLookup => (&[I32], Some(I64)),
            Call::Remove => (&[I64, I32], None),
            Call::Log => (&[I32, I32, I32], None),
            Call::Mirror => (&[I32], None),
            Call::FreezeMirrors => (&[], None),
            Call::Insert => (&[I64, I64, I32], None),
            Call::GroupLookup => (&[I64], Some(I32)),
        }
    }
}

/// The rule groups a translation's code points into, boxed so that they
/// keep their addresses.
#[allow(clippy::vec_box, reason = "the code holds each group's address")]
pub(super) type Groups = Vec<Box<Group>>;

/// Fills `func` with the code of `instance`'s program; with `traced`, the
/// code reports every rule's result and every policy to the context's
/// tracer; with `port`, it is made for frames from that input port alone
/// (its id in the program, `u32::MAX` for a port the program does not
/// name), whose tests of the input port it decides as it translates them. Returns the rule groups the code points into and the frame
/// length the code is made for ([`FrameBounds::min_len`]; 0 for the traced
/// code, which runs every frame): shorter frames must not be given to it.
pub(super) fn translate(
    func: &mut Function,
    fctx: &mut FunctionBuilderContext,
    instance: &Instance,
    traced: bool,
    port: Option<u32>,
    isa: &dyn TargetIsa,
) -> Result<(Groups, u32), JitError> {
    let call_conv = isa.default_call_conv();
    let ptr = types::I64;
    func.signature = Signature::new(call_conv);
    func.signature.params.push(AbiParam::new(ptr));
    func.name = UserFuncName::user(0, 0);
    let mut b = FunctionBuilder::new(func, fctx);
    let start = b.create_block();
    b.append_block_params_for_function_params(start);
    b.switch_to_block(start);
    let ctx = b.block_params(start)[0];
    let flags = MemFlagsData::trusted();
    let frame = b
        .ins()
        .load(ptr, flags, ctx, field(offset_of!(Context, frame)));
    let len = b
        .ins()
        .load(types::I64, flags, ctx, field(offset_of!(Context, len)));
    let stack = b.create_sized_stack_slot(StackSlotData::new(
        StackSlotKind::ExplicitSlot,
        (STACK_SLOTS * 4) as u32,
        2,
    ));
    let run_state =
        b.create_sized_stack_slot(StackSlotData::new(StackSlotKind::ExplicitSlot, 8, 2));
    let var = |b: &mut FunctionBuilder, ty: Type, init: i64| {
        let v = b.declare_var(ty);
        let c = b.ins().iconst(ty, init);
        b.def_var(v, c);
        v
    };
    let regs: [Variable; NUM_REGS] = std::array::from_fn(|_| var(&mut b, types::I32, 0));
    let bases: [Variable; NUM_BASES] = std::array::from_fn(|_| var(&mut b, types::I64, ABSENT));
    let keys: [Variable; NUM_KEYS] = std::array::from_fn(|_| var(&mut b, types::I64, KEY_ABSENT));
    let program = instance.program().program();
    let entries = instance.program().entry_order().to_vec();
    let mirrors = program
        .chains
        .iter()
        .flat_map(|c| &c.rules)
        .flat_map(|r| &r.insns)
        .any(|i| matches!(i, Insn::Mirror { .. }));
    let bounds = frame_bounds(program, traced);
    let mut t = Translator {
        b,
        program,
        instance,
        traced,
        port,
        walk: bounds.rule_start(Some(0)),
        bounds,
        mirrors,
        ctx,
        frame,
        len,
        regs,
        bases,
        keys,
        fixed: None,
        loaded: [None; NUM_REGS],
        reach: [Reach::default(); NUM_BASES],
        flow: None,
        out_address: None,
        stack,
        run_state,
        sites: Vec::new(),
        chain_start: Vec::new(),
        return_block: Block::from_u32(0),
        accept: Block::from_u32(0),
        base_entry: None,
        chain_accept: Block::from_u32(0),
        chain_return: Block::from_u32(0),
        exit: Block::from_u32(0),
        pending: Vec::new(),
        groups: Vec::new(),
    };
    // The run state's words, set in the entry block for Cranelift's sake
    // (their values are set again before anything reads them): Cranelift
    // places a constant where it is first used and rematerializes it at
    // later uses, but not when that first place is a block that does not
    // dominate them (it then copies the constant into the next dominating
    // place it needs it, and copies are not rematerialized). The small
    // numbers runtime calls take (object numbers, ports) are also
    // immediates of the parse section; without these uses, 0 and 1 each
    // became a callee-saved register held from the first rule on.
    for (n, at) in [(0, ENTRY), (1, DEPTH)] {
        let n = t.imm32(n);
        t.run_state_store(n, at);
    }
    t.program_body(&entries)?;
    t.b.seal_all_blocks();
    t.b.finalize(isa.frontend_config());
    Ok((t.groups, t.bounds.min_len))
}

/// A key of several components loaded from the frame, as one 64-bit word:
/// each component's bytes as one load reads them (in memory order, see
/// [`host_order`]), shifted to its own bits.
struct KeyWord {
    value: Value,
    /// Each component's shift in the word, in bits.
    shifts: Vec<u32>,
}

impl KeyWord {
    /// The word of the key whose components are `values`.
    fn of(&self, values: &[Const]) -> i64 {
        let word = values
            .iter()
            .zip(&self.shifts)
            .fold(0u64, |acc, (v, shift)| {
                acc | (host_order(&v.0) as u64) << shift
            });
        word as i64
    }
}

/// The width of the word [`Translator::loaded_word`] loads for `rest` bytes
/// of a value with `room` bytes readable from there, and how many of the
/// value's bytes it holds.
fn word_width(rest: usize, room: usize) -> (usize, usize) {
    let fits = match rest {
        8.. => 8,
        4..8 => 4,
        2..4 => 2,
        _ => 1,
    };
    let covers = rest.min(8).next_power_of_two();
    match covers <= room {
        true => (covers, rest.min(8)),
        false => (fits, fits),
    }
}

/// The number a host load of `bytes` (1 to 8 of them, zero-filled to a
/// width of 1, 2, 4 or 8) reads.
fn host_order(bytes: &[u8]) -> i64 {
    let mut word = [0u8; 8];
    word[..bytes.len()].copy_from_slice(bytes);
    let n = match bytes.len().next_power_of_two() {
        8 => u64::from_ne_bytes(word),
        4 => u64::from(u32::from_ne_bytes([word[0], word[1], word[2], word[3]])),
        2 => u64::from(u16::from_ne_bytes([word[0], word[1]])),
        _ => u64::from(word[0]),
    };
    n as i64
}

/// The elements of an inline list, with those that overlap or adjoin
/// merged into ranges when any do (sorted then); else as listed, whose
/// order the first hit follows.
fn coalesced(list: &[(Const, Const)]) -> std::borrow::Cow<'_, [(Const, Const)]> {
    let mut sorted: Vec<&(Const, Const)> = list.iter().collect();
    sorted.sort_by_key(|(low, _)| low.packed());
    let mut merged: Vec<(Const, Const)> = Vec::with_capacity(list.len());
    for (low, high) in sorted {
        match merged.last_mut() {
            Some((_, last)) if low.packed() <= last.packed().saturating_add(1) => {
                if high.packed() > last.packed() {
                    *last = high.clone();
                }
            }
            _ => merged.push((low.clone(), high.clone())),
        }
    }
    match merged.len() < list.len() {
        true => std::borrow::Cow::Owned(merged),
        false => std::borrow::Cow::Borrowed(list),
    }
}

/// An offset into the context as a load/store offset.
fn field(offset: usize) -> i32 {
    offset as i32
}

/// Where a register's value was loaded from: `len` bytes at `addr +
/// offset`, in bounds. Kept while the bytes there cannot have changed (no
/// impure instruction since) and the registers still hold them, so that
/// equality compares can read the bytes in memory order.
#[derive(Clone, Copy)]
struct Loaded {
    addr: Value,
    offset: i32,
    len: usize,
    /// How many bytes from `addr + offset` may be read (at least `len`):
    /// a compare may read a little past the value and mask the rest.
    room: usize,
    /// How to load it: [`FRAME`] or [`PORT`].
    flags: MemFlagsData,
    /// Whether the registers hold the value yet.
    in_registers: bool,
}

impl Loaded {
    /// Whether the value, in registers from `first`, covers any of `regs`.
    fn covers(&self, first: usize, regs: std::ops::Range<usize>) -> bool {
        let mine = first..first + chunks_for(self.len);
        mine.start < regs.end && regs.start < mine.end
    }
}

/// What one bounds check per base can cover in a rule: a rule's
/// instructions up to its first effect are pure, so when any of their
/// loads from a base would break, the rule does nothing whichever of them
/// breaks first. Checking the farthest of them at the first leaves the
/// others nothing to check. (Traced code checks each load, to report the
/// instruction that broke.)
#[derive(Clone, Copy, Debug, Default)]
struct Reach {
    /// The farthest end (offset + length) the rule's pure prefix loads.
    wanted: u32,
    /// The end up to which the frame was checked in this rule.
    checked: u32,
}

/// Loads of frame bytes (in bounds, checked before).
const FRAME: MemFlagsData = MemFlagsData::new().with_notrap();

/// Loads of the input port's name or address: also unchanged during a run,
/// so Cranelift may drop those whose value is never used.
const PORT: MemFlagsData = MemFlagsData::new().with_notrap().with_readonly();

/// Loads of the context's fields, which no code writes. (Not `can_move`:
/// merged and hoisted, the loads of the input port's id and the outcome's
/// address make values live through the whole program, and the code is
/// slower for the registers they take.)
const CTX: MemFlagsData = MemFlagsData::trusted().with_readonly();

/// Bases and keys once the parse section is done.
struct Fixed {
    bases: [Place; NUM_BASES],
    keys: [Place; NUM_KEYS],
}

/// Where a fixed base or key is: a constant, or a stack slot it is read
/// from where it is used.
#[derive(Clone, Copy)]
enum Place {
    Value(Value),
    Slot(cranelift_codegen::ir::StackSlot, i32),
}

/// What the rules of the chain being translated know ([`facts`]).
struct Flow {
    /// Each rule's block, then the chain's end.
    blocks: Vec<Block>,
    /// Each rule's pure-prefix tests; `None` for the rules of groups,
    /// which run together and are never skipped.
    tests: Vec<Option<Vec<Test>>>,
    /// The facts of the edges into each rule (and the end) made so far.
    entry: Vec<Option<Vec<Fact>>>,
    /// The rule being translated (`None` in a group) and what its code
    /// knows at the point reached.
    rule: Option<usize>,
    now: Vec<Fact>,
}

/// The state of one translation.
struct Translator<'a, 'f> {
    b: FunctionBuilder<'f>,
    program: &'a Program,
    instance: &'a Instance,
    traced: bool,
    /// The input port of every frame the code runs, when it is made for
    /// one.
    port: Option<u32>,
    /// What every frame the code runs is sure to hold (for the traced
    /// code, which runs every frame and checks every access, nothing).
    bounds: FrameBounds,
    /// What the code knows of the bases and registers at the instruction
    /// being translated (set at each rule's start).
    walk: Walk,
    /// Whether the program mirrors frames: its payload writes first take
    /// the copies that mirrors still refer to.
    mirrors: bool,
    /// The context pointer, the frame's address and length: the only
    /// values live through the whole program besides bases and keys (the
    /// mark, the input port and the return stack's state are in memory,
    /// read where needed, so that they take no register).
    ctx: Value,
    frame: Value,
    len: Value,
    regs: [Variable; NUM_REGS],
    bases: [Variable; NUM_BASES],
    /// Keys as 64-bit values, [`KEY_ABSENT`] when absent.
    keys: [Variable; NUM_KEYS],
    /// Bases and keys as values, once the chains are being translated.
    fixed: Option<Fixed>,
    /// Where each register's value was loaded from, in the current rule.
    loaded: [Option<Loaded>; NUM_REGS],
    /// How far past each base the frame is known to reach, in the current
    /// rule (see [`Self::span`]).
    reach: [Reach; NUM_BASES],
    /// The facts of the chain being translated; `None` in the parse
    /// section and in traced code (which reports every rule's result).
    flow: Option<Flow>,
    /// The outcome's address as loaded in a block ([`Self::out`]).
    out_address: Option<(Block, Value)>,
    /// The return stack's sites.
    stack: cranelift_codegen::ir::StackSlot,
    /// Return-stack entries in use (the policy site counts), at
    /// [`DEPTH`], and the running base chain's position in the entry
    /// order, at [`ENTRY`].
    run_state: cranelift_codegen::ir::StackSlot,
    /// Return sites, by number: the policies of the entries, then the
    /// blocks after jumping rules.
    sites: Vec<Block>,
    chain_start: Vec<Block>,
    return_block: Block,
    /// Where an accepting rule goes: on to the next base chain.
    accept: Block,
    /// The entry whose base chain is being translated, when the chain is
    /// the base chain of that entry alone: its rules run with nothing on
    /// the return stack yet, and set it up when they leave the chain.
    base_entry: Option<usize>,
    /// Where an accepting rule of the chain being translated goes, and
    /// where its `return` and its end go (straight on in a base chain).
    chain_accept: Block,
    chain_return: Block,
    exit: Block,
    /// Break blocks of traced code still to fill: (block, chain, rule,
    /// instruction, next rule's block).
    pending: Vec<(Block, u32, u32, u32, Block)>,
    /// The rule groups the code runs; it points into them.
    groups: Groups,
}

impl Translator<'_, '_> {
    fn program_body(&mut self, entries: &[ChainId]) -> Result<(), JitError> {
        let program = self.program;
        let parse_blocks: Vec<Block> = program
            .parse
            .iter()
            .map(|_| self.b.create_block())
            .collect();
        let post_parse = self.b.create_block();
        let entry_blocks: Vec<Block> = entries.iter().map(|_| self.b.create_block()).collect();
        let policy_blocks: Vec<Block> = entries.iter().map(|_| self.b.create_block()).collect();
        self.exit = self.b.create_block();
        self.return_block = self.b.create_block();
        self.accept = self.b.create_block();
        let rule_blocks: Vec<Vec<Block>> = program
            .chains
            .iter()
            .map(|c| c.rules.iter().map(|_| self.b.create_block()).collect())
            .collect();
        let chain_end: Vec<Block> = program
            .chains
            .iter()
            .map(|_| self.b.create_block())
            .collect();
        self.chain_start = rule_blocks
            .iter()
            .zip(&chain_end)
            .map(|(rules, end)| rules.first().copied().unwrap_or(*end))
            .collect();
        self.sites = policy_blocks.clone();
        let after_entry: Vec<Block> = (0..entries.len())
            .map(|i| entry_blocks.get(i + 1).copied().unwrap_or(self.exit))
            .collect();

        // The parse section.
        let first = parse_blocks.first().copied().unwrap_or(post_parse);
        self.b.ins().jump(first, &[]);
        for (i, rule) in program.parse.iter().enumerate() {
            // Parse rules are only entered from earlier ones (skips go
            // forward), all translated by now.
            self.enter_sealed(parse_blocks[i]);
            let next = |k: usize| parse_blocks.get(k).copied().unwrap_or(post_parse);
            let skip_to: Vec<Block> = rule
                .insns
                .iter()
                .map(|insn| match insn {
                    Insn::Skip { rules } => next(i + 1 + usize::from(*rules)),
                    _ => post_parse,
                })
                .collect();
            self.rule(None, i, rule, next(i + 1), &skip_to)?;
        }

        // Bases and keys are final from here on.
        self.enter_sealed(post_parse);
        // Bases and keys that are not constants go to a stack slot and are
        // read where used: live through every chain as values, they were
        // spilled anyway, with copies at every merge.
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            (8 * (NUM_BASES + NUM_KEYS)) as u32,
            3,
        ));
        let place = |t: &mut Self, v: Value, at: usize| {
            if t.constant(v).is_some() {
                Place::Value(v)
            } else {
                t.b.ins().stack_store(types::I64, v, slot, (8 * at) as i32);
                Place::Slot(slot, (8 * at) as i32)
            }
        };
        let bases = std::array::from_fn(|i| {
            let v = self.b.use_var(self.bases[i]);
            place(self, v, i)
        });
        let keys = std::array::from_fn(|i| {
            let v = self.b.use_var(self.keys[i]);
            place(self, v, NUM_BASES + i)
        });
        self.fixed = Some(Fixed { bases, keys });
        let first = entry_blocks.first().copied().unwrap_or(self.exit);
        self.b.ins().jump(first, &[]);

        // The verifier refuses jumps and gotos to base chains, so while a
        // base chain's own rules run, the return stack holds only its
        // policy: its end, `return` and `accept` in it go straight on.
        let entry_of: Vec<Option<usize>> = (0..program.chains.len())
            .map(|c| {
                let mut at = entries
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| usize::from(e.0) == c);
                match (at.next(), at.next()) {
                    (Some((i, _)), None) => Some(i),
                    _ => None,
                }
            })
            .collect();

        // The base chains, in entry order.
        for (i, &chain) in entries.iter().enumerate() {
            self.b.switch_to_block(entry_blocks[i]);
            let base = program.chains[usize::from(chain.0)].base.as_ref();
            if let Some(device) = base.and_then(|b| b.device) {
                let run = self.b.create_block();
                match self.port {
                    Some(port) => {
                        let to = if port == u32::from(device.0) {
                            run
                        } else {
                            after_entry[i]
                        };
                        self.b.ins().jump(to, &[]);
                    }
                    None => {
                        let port_id = self.ctx_load(types::I32, offset_of!(Context, port_id));
                        let mine =
                            self.b
                                .ins()
                                .icmp_imm_u(IntCC::Equal, port_id, i64::from(device.0));
                        self.b.ins().brif(mine, run, &[], after_entry[i], &[]);
                    }
                }
                self.b.switch_to_block(run);
            }
            // A base chain of one entry sets the return stack up where
            // its rules leave it ([`Self::leave_base_chain`]); one shared
            // by several entries, here.
            if entry_of[usize::from(chain.0)].is_none() {
                self.set_up_return_stack(i);
            }
            self.b
                .ins()
                .jump(self.chain_start[usize::from(chain.0)], &[]);

            self.b.switch_to_block(policy_blocks[i]);
            let policy = base.map_or(Policy::Accept, |b| b.policy);
            let word = self.imm32(result::word(result::POLICY, u32::from(chain.0)));
            self.out_store(word, result::DECIDER);
            if self.traced {
                let (tracer, f) = self.trace_hook(offset_of!(Trace, policy));
                let chain = self.b.ins().iconst(types::I32, i64::from(chain.0));
                let accept = self
                    .b
                    .ins()
                    .iconst(types::I32, i64::from(policy == Policy::Accept));
                self.call_pointer(
                    f,
                    &[types::I64, types::I32, types::I32],
                    &[tracer, chain, accept],
                );
            }
            match policy {
                Policy::Accept => {
                    self.b.ins().jump(after_entry[i], &[]);
                }
                Policy::Drop => self.finish(result::DROP, None),
            }
        }

        // The chains.
        for (c, chain) in program.chains.iter().enumerate() {
            (self.chain_accept, self.chain_return) = match entry_of[c] {
                Some(i) => (after_entry[i], policy_blocks[i]),
                None => (self.accept, self.return_block),
            };
            self.base_entry = entry_of[c];
            // Traced code shows every rule, so it runs groups rule by rule.
            let found = match self.traced {
                true => Vec::new(),
                false => groups::find(chain, self.instance),
            };
            if !self.traced {
                let mut tests: Vec<Option<Vec<Test>>> = chain
                    .rules
                    .iter()
                    .map(|r| Some(facts::prefix_tests(r)))
                    .collect();
                for g in &found {
                    tests[g.first..g.first + g.len()].fill(None);
                }
                let mut entry = vec![None; chain.rules.len() + 1];
                entry[0] = Some(Vec::new());
                let mut blocks = rule_blocks[c].clone();
                blocks.push(chain_end[c]);
                self.flow = Some(Flow {
                    blocks,
                    tests,
                    entry,
                    rule: None,
                    now: Vec::new(),
                });
            }
            let mut groups = found.into_iter().peekable();
            let mut r = 0;
            while let Some(rule) = chain.rules.get(r) {
                // A rule after the first is entered only from the rule
                // before it, unless that rule jumps (then it is a return
                // site, and the return dispatch comes last).
                let block = rule_blocks[c][r];
                if r > 0 && self.sites.last() != Some(&block) {
                    self.enter_sealed(block);
                } else {
                    self.b.switch_to_block(block);
                }
                let chain_id = ChainId(c as u16);
                if let Some(group) = groups.next_if(|g| g.first == r) {
                    let after = rule_blocks[c]
                        .get(r + group.len())
                        .copied()
                        .unwrap_or(chain_end[c]);
                    r += group.len();
                    if let Some(flow) = self.flow.as_mut() {
                        flow.rule = None;
                        facts::meet(&mut flow.entry[r], &[]);
                    }
                    self.group(chain_id, Box::new(group), after)?;
                } else {
                    let next = rule_blocks[c].get(r + 1).copied().unwrap_or(chain_end[c]);
                    self.rule(Some(chain_id), r, rule, next, &[])?;
                    r += 1;
                }
            }
            self.flow = None;
            self.b.switch_to_block(chain_end[c]);
            self.b.ins().jump(self.chain_return, &[]);
        }

        // Return: pop a site and go there.
        self.b.switch_to_block(self.return_block);
        let d = self.run_state_load(DEPTH);
        let d = self.b.ins().iadd_imm_s(d, -1);
        self.run_state_store(d, DEPTH);
        let slot = self.stack_slot(d);
        let site = self
            .b
            .ins()
            .load(types::I32, MemFlagsData::trusted(), slot, 0);
        let sites = self.sites.clone();
        self.dispatch(site, &sites);

        // Accept: on to the base chain after the running one.
        self.b.switch_to_block(self.accept);
        let e = self.run_state_load(ENTRY);
        self.dispatch(e, &after_entry);

        self.b.switch_to_block(self.exit);
        self.b.ins().return_(&[]);
        Ok(())
    }

    /// Translates one rule into the current block. `skip_to` gives, for a
    /// parse-section `skip` instruction at each index, where it goes.
    fn rule(
        &mut self,
        chain: Option<ChainId>,
        index: usize,
        rule: &Rule,
        next: Block,
        skip_to: &[Block],
    ) -> Result<(), JitError> {
        let chain_no = chain.map_or(PARSE_CHAIN, |c| u32::from(c.0));
        let mut ended = false;
        let mut fused = false;
        self.begin(&rule.insns);
        let mut walk = self.bounds.rule_start(chain.is_none().then_some(index));
        if let Some(flow) = self.flow.as_mut() {
            let Some(now) = flow.entry[index].take() else {
                // No edge comes here (the rules before all go past it): its
                // code would run never and tell the rules after it nothing.
                self.b.ins().jump(next, &[]);
                return Ok(());
            };
            flow.rule = Some(index);
            if leaves_chain(rule) {
                // The rule after it is a return site: entered from the
                // return dispatch too, after the chains this rule entered,
                // which change nothing facts are about. It knows at least
                // what this rule knows where it starts.
                facts::meet(&mut flow.entry[index + 1], &now);
            }
            flow.now = now;
        }
        for (i, insn) in rule.insns.iter().enumerate() {
            if let Some(before) = i.checked_sub(1) {
                walk.step(&rule.insns[before], self.program);
            }
            self.walk = walk;
            if std::mem::take(&mut fused) {
                continue;
            }
            // `loadkey r, k` or `meta r, iif`, then `cmp r == v` (the
            // implied protocol dependencies of nearly every rule, and the
            // input port matches): one compare, which an absent key fails
            // too, and none when an earlier rule made it. Traced code keeps
            // both instructions, to report which of them broke.
            if let (false, Some((dst, subject, value))) = (
                self.traced,
                facts::equality_guard(insn, rule.insns.get(i + 1)),
            ) {
                self.equality_guard(dst, subject, value, next);
                fused = true;
                continue;
            }
            let brk = if self.traced {
                let blk = self.b.create_block();
                self.pending
                    .push((blk, chain_no, index as u32, i as u32, next));
                blk
            } else if matches!(insn, Insn::Load { .. }) {
                // Its only break is its bounds check's, which knows more.
                next
            } else {
                self.break_to(next, None)
            };
            let at = Here {
                chain,
                rule: index,
                insn: i,
                next,
                brk,
            };
            if self.insn(insn, &at, skip_to.get(i).copied())? {
                ended = true;
                break;
            }
        }
        if !ended {
            self.trace_rule(chain_no, index as u32, 2, None, None);
            let next = self.break_to(next, None);
            self.b.ins().jump(next, &[]);
        }
        for (blk, chain, rule, insn, next) in std::mem::take(&mut self.pending) {
            self.b.switch_to_block(blk);
            let insn = self.b.ins().iconst(types::I32, i64::from(insn));
            self.trace_rule(chain, rule, 1, Some(insn), None);
            self.b.ins().jump(next, &[]);
        }
        Ok(())
    }

    /// Translates one instruction; returns true when it ended the rule
    /// (the current block is then terminated).
    fn insn(&mut self, insn: &Insn, at: &Here, skip_to: Option<Block>) -> Result<bool, JitError> {
        let brk = at.brk;
        match insn {
            // They read registers in straight-line code, or compare the
            // loaded bytes in place, or (lookups) load what their branches
            // read in those branches and forget it after them
            // ([`Self::branches_loading`]).
            Insn::Cmp { .. }
            | Insn::InList { .. }
            | Insn::Lookup { .. }
            | Insn::VmapLookup { .. } => {}
            // Loaded values are read before the instruction, whose code
            // may branch (its values must dominate the rest of the rule).
            _ => {
                for span in insn.reg_use(self.program).reads.iter() {
                    self.materialize(span.indices());
                }
            }
        }
        if let Insn::Store { .. } = insn {
            // It writes the frame: values noted before are loaded now, and
            // are no longer the bytes in the frame. (No other instruction
            // writes it, so noted values no one reads are never loaded.)
            self.materialize(0..NUM_REGS);
            self.loaded = [None; NUM_REGS];
        }
        if !insn.is_pure() {
            self.reach = [Reach::default(); NUM_BASES];
        }
        match insn {
            Insn::Load {
                dst,
                base,
                offset,
                len,
            } => {
                // The offset goes in the loads (not in the address, which a
                // single load then computes apart).
                let (at, room) = self.span(*base, *offset, usize::from(*len), brk);
                let addr = self.b.ins().iadd(self.frame, at);
                self.load_value(
                    *dst,
                    addr,
                    i32::from(*offset),
                    usize::from(*len),
                    room,
                    FRAME,
                );
            }
            Insn::LoadBase { dst, base } => {
                let b = self.base(*base);
                // A base a bounds check of this rule passed on is present.
                if self.reach[usize::from(base.0).min(NUM_BASES - 1)].checked == 0 {
                    let ok = self.b.ins().icmp_imm_u(IntCC::NotEqual, b, ABSENT);
                    self.guard(ok, brk);
                }
                let b = self.b.ins().ireduce(types::I32, b);
                self.def_reg(*dst, 0, b);
            }
            Insn::LoadKey { dst, key } => {
                let k = self.key(*key);
                // A key every path here set is present.
                if !self.walk.key_set(*key) {
                    let present = self
                        .b
                        .ins()
                        .icmp_imm_s(IntCC::SignedGreaterThanOrEqual, k, 0);
                    self.guard(present, brk);
                }
                let k = self.b.ins().ireduce(types::I32, k);
                self.def_reg(*dst, 0, k);
            }
            Insn::LoadMeta { dst, meta } => match meta {
                Meta::Len => {
                    let l = self.b.ins().ireduce(types::I32, self.len);
                    self.def_reg(*dst, 0, l);
                }
                Meta::Iif => {
                    let port_id = match self.port {
                        Some(port) => self.imm32(port),
                        None => self.ctx_load(types::I32, offset_of!(Context, port_id)),
                    };
                    self.def_reg(*dst, 0, port_id);
                }
                Meta::IifName | Meta::IifAddr => {
                    // Straight from the port's bytes, as a packet load.
                    let (offset, len) = match meta {
                        Meta::IifName => (offset_of!(InputPort, name), 16),
                        _ => (offset_of!(InputPort, addr), 6),
                    };
                    let port = self.ctx_load(types::I64, offset_of!(Context, port));
                    self.load_value(*dst, port, offset as i32, len, len, PORT);
                }
                Meta::Mark => {
                    let m = self.out_load(types::I32, result::MARK);
                    self.def_reg(*dst, 0, m);
                }
            },
            Insn::Imm { dst, value } => {
                for (j, c) in value.to_chunks().into_iter().enumerate() {
                    let v = self.b.ins().iconst(types::I32, i64::from(c));
                    self.def_reg(*dst, j, v);
                }
            }
            Insn::Bitwise {
                dst,
                src,
                mask,
                xor,
            } => {
                let chunks: Vec<Value> = (0..mask.chunks()).map(|j| self.reg(*src, j)).collect();
                for (j, ((r, m), x)) in chunks
                    .into_iter()
                    .zip(mask.to_chunks())
                    .zip(xor.to_chunks())
                    .enumerate()
                {
                    let v = self.b.ins().band_imm_u(r, i64::from(m));
                    let v = self.b.ins().bxor_imm_u(v, i64::from(x));
                    self.def_reg(*dst, j, v);
                }
            }
            Insn::Shift {
                dst,
                src,
                len,
                dir,
                bits,
            } => {
                let n = usize::from(*len);
                let v = self.packed_bytes(*src, n);
                let ty = packed_type(n);
                let shifted = if u32::from(*bits) >= ty.bits() {
                    self.zero(ty)
                } else {
                    match dir {
                        ShiftDir::Left => self.b.ins().ishl_imm_u(v, i64::from(*bits)),
                        ShiftDir::Right => self.b.ins().ushr_imm_u(v, i64::from(*bits)),
                    }
                };
                self.unpack(shifted, n, *dst);
            }
            Insn::Alu { dst, a, op, b } => {
                let a = self.reg(*a, 0);
                let v = match b {
                    Operand::Reg(r) => {
                        let b = self.reg(*r, 0);
                        self.alu(a, *op, b)
                    }
                    Operand::Imm(n) => {
                        let b = self.b.ins().iconst(types::I32, i64::from(*n));
                        self.alu(a, *op, b)
                    }
                };
                self.def_reg(*dst, 0, v);
            }
            Insn::Cmp { src, op, value } => {
                let ok = match op {
                    CmpOp::Eq => self.compare_eq(*src, value, IntCC::Equal),
                    CmpOp::Ne => self.compare_eq(*src, value, IntCC::NotEqual),
                    _ => {
                        let r = self.packed_chunks(*src, value.len());
                        let c = self.packed_const(packed_type(value.len()), value.packed());
                        self.b.ins().icmp(cond(*op), r, c)
                    }
                };
                self.guard(ok, brk);
            }
            Insn::CmpReg { a, op, b } => {
                let (a, b) = (self.reg(*a, 0), self.reg(*b, 0));
                let ok = self.b.ins().icmp(cond(*op), a, b);
                self.guard(ok, brk);
            }
            Insn::Range {
                src,
                low,
                high,
                negate,
            } => {
                let r = self.packed_chunks(*src, low.len());
                let inside = self.in_range(r, low, high);
                self.guard_unless(inside, *negate, brk);
            }
            Insn::InList { src, list, negate } => {
                let n = list.first().map_or(1, |(low, _)| low.len());
                let (hit_to, miss_to, cont) = self.membership(*negate, brk);
                if let Some(c) = self.constant_reg(*src, n) {
                    // A register the code knows (the input port's id).
                    let inside = list
                        .iter()
                        .any(|(l, h)| (l.packed()..=h.packed()).contains(&c));
                    self.b
                        .ins()
                        .jump(if inside { hit_to } else { miss_to }, &[]);
                    self.enter_sealed(cont);
                    return Ok(false);
                }
                let list = coalesced(list);
                // Packed only for ranges, here, where it dominates the rest of
                // the rule (packing loads a noted value into its registers):
                // equal elements compare the loaded bytes in place, read once
                // when one word holds them.
                let packed = list
                    .iter()
                    .any(|(low, high)| low != high)
                    .then(|| self.packed_chunks(*src, n));
                let word = self.loaded[usize::from(src.0).min(NUM_REGS - 1)]
                    .filter(|l| l.len == n && word_width(n, l.room).1 == n)
                    .filter(|_| list.iter().any(|(low, high)| low == high))
                    .map(|l| self.loaded_word(&l, 0, false).0);
                let element = |t: &mut Self, i: usize| {
                    let (low, high) = &list[i];
                    match (packed.filter(|_| low != high), word) {
                        (Some(r), _) => t.in_range(r, low, high),
                        (None, Some(raw)) => {
                            t.b.ins().icmp_imm_u(IntCC::Equal, raw, host_order(&low.0))
                        }
                        (None, None) => t.equals(*src, low),
                    }
                };
                self.any_of(list.len(), element, hit_to, miss_to);
                self.enter_sealed(cont);
            }
            Insn::Lookup { src, set, negate } => self.branches_loading(|t| {
                let table = t.instance.set(*set);
                let regs = table.map_or(0, |s| s.layout().regs());
                let inline = table.and_then(|s| s.small_snapshot(INLINE_TABLE_LIMIT));
                let (hit_to, miss_to, cont) = t.membership(*negate, brk);
                if let (Some(s), Some((compiled, elems))) = (table, inline) {
                    // While the set is as compiled, its elements are
                    // compares; after a change, a lookup.
                    let slow = t.unless_changed(s.version(), compiled);
                    let widths = s.layout().widths();
                    let word = t.key_word(*src, widths, elems.iter().map(|(e, _)| e));
                    let element = |t: &mut Self, i: usize| {
                        t.elem_holds(*src, widths, &elems[i].0, word.as_ref())
                    };
                    t.any_of(elems.len(), element, hit_to, miss_to);
                    t.enter_sealed(slow);
                }
                let found = t.set_lookup(*set, *src, regs);
                t.b.ins().brif(found, hit_to, &[], miss_to, &[]);
                t.enter_sealed(cont);
            }),
            Insn::MapLookup { src, map, dst } => {
                let regs = self.instance.map(*map).map_or(0, |m| m.layout().regs());
                self.store_scratch(*src, regs);
                let found = self.call_id(Call::MapLookup, u32::from(map.0));
                self.guard(found, brk);
                let data = match self.program.maps.get(usize::from(map.0)).map(|m| m.data) {
                    Some(MapData::Value(bytes)) => chunks_for(usize::from(bytes)),
                    _ => 1,
                };
                for j in 0..data {
                    let v = self.scratch_load(j);
                    self.def_reg(*dst, j, v);
                }
            }
            Insn::VmapLookup { src, map } => {
                // The rule ends here: what the branches load is read by
                // nothing after them.
                let table = self.instance.map(*map);
                let inline = table.and_then(|t| t.small_snapshot(INLINE_TABLE_LIMIT));
                if let (Some(t), Some((compiled, elems))) = (table, inline) {
                    // While the map is as compiled, each element's verdict
                    // is known now: a branch to it, no dispatch. Elements
                    // never overlap, so the first hit is the only one.
                    let slow = self.unless_changed(t.version(), compiled);
                    let widths = t.layout().widths();
                    let word = self.key_word(*src, widths, elems.iter().map(|(e, _)| e));
                    for (elem, data) in elems {
                        let hit = self.elem_holds(*src, widths, &elem, word.as_ref());
                        let (taken, next) = (self.b.create_block(), self.b.create_block());
                        self.b.ins().brif(hit, taken, &[], next, &[]);
                        self.enter_sealed(taken);
                        match data {
                            MapValue::Verdict(v) => self.static_verdict(v, at),
                            MapValue::Value(_) => {
                                self.b.ins().jump(brk, &[]);
                            }
                        }
                        self.enter_sealed(next);
                    }
                    self.b.ins().jump(brk, &[]);
                    self.enter_sealed(slow);
                }
                let regs = table.map_or(0, |m| m.layout().regs());
                self.store_scratch(*src, regs);
                let found = self.call_id(Call::VmapLookup, u32::from(map.0));
                let code = self.b.ins().ireduce(types::I32, found);
                let arg = self.b.ins().ushr_imm_u(found, 32);
                let arg = self.b.ins().ireduce(types::I32, arg);
                self.guard(code, brk);
                let rule = self.imm32(at.rule as u32);
                self.dynamic_verdict(code, arg, at, rule);
                return Ok(true);
            }
            Insn::Counter { counter } => {
                if let Some(address) = context::counter_address(self.instance, *counter) {
                    let address = self.b.ins().iconst(types::I64, address);
                    self.count(address);
                }
            }
            Insn::Limit { limit } => {
                let ok = self.call_id(Call::Limit, u32::from(limit.0));
                self.guard(ok, brk);
            }
            Insn::SetMark { src } => {
                let v = self.reg(*src, 0);
                self.out_store(v, result::MARK);
            }
            Insn::Store {
                base,
                offset,
                len,
                src,
                checksums,
            } => self.store(*base, *offset, usize::from(*len), *src, checksums, brk),
            Insn::Log { .. } => {
                if let Some(chain) = at.chain {
                    let args =
                        [u32::from(chain.0), at.rule as u32, at.insn as u32].map(|n| self.imm32(n));
                    self.call(Call::Log, &args);
                }
            }
            Insn::Mirror { port } => {
                let port = self.imm32(u32::from(port.0));
                self.call(Call::Mirror, &[port]);
            }
            Insn::Insert {
                base,
                offset,
                bytes,
            } => {
                let b = self.base(*base);
                let at = self.b.ins().iadd_imm_u(b, i64::from(*offset));
                let ok = self
                    .b
                    .ins()
                    .icmp(IntCC::UnsignedLessThanOrEqual, at, self.len);
                self.guard(ok, brk);
                let ptr = self.b.ins().iconst(types::I64, bytes.0.as_ptr() as i64);
                let len = self.imm32(bytes.len() as u32);
                self.call(Call::Insert, &[at, ptr, len]);
            }
            Insn::Remove { base, offset, len } => {
                let (at, _) = self.span(*base, *offset, usize::from(*len), brk);
                let start = self.b.ins().iadd_imm_u(at, i64::from(*offset));
                let len = self.imm32(u32::from(*len));
                self.call(Call::Remove, &[start, len]);
            }
            Insn::Verdict(v) => {
                self.static_verdict(*v, at);
                return Ok(true);
            }
            Insn::Skip { rules } => {
                let chain = at.chain.map_or(PARSE_CHAIN, |c| u32::from(c.0));
                let n = self.b.ins().iconst(types::I32, i64::from(*rules));
                self.trace_rule(chain, at.rule as u32, 3, Some(n), None);
                self.b.ins().jump(skip_to.unwrap_or(at.next), &[]);
                return Ok(true);
            }
            Insn::SetBase {
                dst,
                from,
                offset,
                add,
            } => {
                if from.is_none() && add.is_none() {
                    // An offset into the frame: a constant (below the
                    // marker), which the chains then use as one.
                    let v = self.b.ins().iconst(types::I64, i64::from(*offset));
                    self.set_base(*dst, v);
                    return Ok(false);
                }
                // from + offset (+ add) in 64 bits; absent when `from` is or
                // when the sum reaches the marker (which a sum past a
                // present base of amounts the code can bound never does).
                let present = self.walk.sets_present(*from, *offset, *add);
                let from = match from {
                    None => self.b.ins().iconst(types::I64, 0),
                    Some(b) => self.base(*b),
                };
                let mut sum = self.b.ins().iadd_imm_u(from, i64::from(*offset));
                if let Some(r) = add {
                    let a = self.reg(*r, 0);
                    let a = self.b.ins().uextend(types::I64, a);
                    sum = self.b.ins().iadd(sum, a);
                }
                if present {
                    self.set_base(*dst, sum);
                    return Ok(false);
                }
                // An absent `from` is u32::MAX, so the sum is at least the
                // marker too.
                let over = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, sum, ABSENT);
                let absent = self.b.ins().iconst(types::I64, ABSENT);
                let v = self.b.ins().select(over, absent, sum);
                self.set_base(*dst, v);
            }
            Insn::ClearBase { dst } => {
                let absent = self.b.ins().iconst(types::I64, ABSENT);
                self.set_base(*dst, absent);
            }
            Insn::SetKey { dst, src } => {
                let v = self.reg(*src, 0);
                let v = self.b.ins().uextend(types::I64, v);
                self.set_key(*dst, v);
            }
            Insn::ClearKey { dst } => {
                let absent = self.b.ins().iconst(types::I64, KEY_ABSENT);
                self.set_key(*dst, absent);
            }
        }
        Ok(false)
    }
}

impl Translator<'_, '_> {
    /// Translates a rule group (see [`groups`]) into the current block:
    /// the shared instructions, the compared values into the scratch as a
    /// key, the lookup, then the matching rule's counter and verdict.
    /// Anything that breaks, and a miss, go on at `after`.
    fn group(&mut self, chain: ChainId, group: Box<Group>, after: Block) -> Result<(), JitError> {
        self.begin(&group.body);
        self.walk = self.bounds.rule_start(None);
        let mut keys = group.key_offsets.iter();
        for (i, insn) in group.body.iter().enumerate() {
            match insn {
                Insn::Cmp {
                    src,
                    op: CmpOp::Eq,
                    value,
                } => {
                    let at = keys.next().copied().unwrap_or(0);
                    for j in 0..value.chunks() {
                        let v = self.reg(*src, j);
                        self.scratch_store(v, at + j);
                    }
                }
                _ => {
                    let here = Here {
                        chain: Some(chain),
                        rule: group.first,
                        insn: i,
                        next: after,
                        brk: after,
                    };
                    self.insn(insn, &here, None)?;
                }
            }
        }
        let ptr = self
            .b
            .ins()
            .iconst(types::I64, &*group as *const Group as i64);
        let lookup = self.call_value(Call::GroupLookup, &[ptr]);
        let hit = self
            .b
            .ins()
            .icmp_imm_u(IntCC::NotEqual, lookup, i64::from(u32::MAX));
        self.guard(hit, after);
        let tails = self.b.ins().iconst(types::I64, group.tails.as_ptr() as i64);
        let offset = self.b.ins().uextend(types::I64, lookup);
        let offset = self.b.ins().imul_imm_u(offset, size_of::<Tail>() as i64);
        let tail = self.b.ins().iadd(tails, offset);
        let flags = MemFlagsData::trusted();
        let counter = self
            .b
            .ins()
            .load(types::I64, flags, tail, offset_of!(Tail, counter) as i32);
        let count = self.b.create_block();
        let counted = self.b.create_block();
        self.b.ins().brif(counter, count, &[], counted, &[]);
        self.enter_sealed(count);
        self.count(counter);
        self.b.ins().jump(counted, &[]);
        self.enter_sealed(counted);
        let code = self
            .b
            .ins()
            .load(types::I32, flags, tail, offset_of!(Tail, code) as i32);
        let arg = self
            .b
            .ins()
            .load(types::I32, flags, tail, offset_of!(Tail, arg) as i32);
        let rule = self.b.ins().iadd_imm_u(lookup, group.first as i64);
        let here = Here {
            chain: Some(chain),
            rule: group.first,
            insn: group.body.len(),
            next: after,
            brk: after,
        };
        self.dynamic_verdict(code, arg, &here, rule);
        self.groups.push(group);
        Ok(())
    }
}

/// Where an instruction sits and where its rule goes next.
struct Here {
    chain: Option<ChainId>,
    rule: usize,
    insn: usize,
    /// The next rule's block.
    next: Block,
    /// Where a break goes.
    brk: Block,
}

/// Building blocks of the translation.
impl Translator<'_, '_> {
    /// Whether the key in `regs` registers from `src` is in set `set`,
    /// looked up by the runtime (an `i8`).
    fn set_lookup(&mut self, set: SetId, src: Reg, regs: usize) -> Value {
        self.store_scratch(src, regs);
        let found = self.call_id(Call::Lookup, u32::from(set.0));
        self.b.ins().icmp_imm_u(IntCC::NotEqual, found, 0)
    }

    /// Goes on (in a new block) while a table's `version` is still
    /// `compiled`, the version whose elements the code holds; returns the
    /// block a change leads to, for the caller to fill.
    fn unless_changed(&mut self, version: &AtomicU64, compiled: u64) -> Block {
        let (same, changed) = (self.b.create_block(), self.b.create_block());
        let address = self
            .b
            .ins()
            .iconst(types::I64, version as *const AtomicU64 as i64);
        // An aligned 8-byte load is atomic on the hosts Cranelift supports;
        // a change sets the version after its snapshot is in place.
        let now = self
            .b
            .ins()
            .load(types::I64, MemFlagsData::trusted(), address, 0);
        let unchanged = self.b.ins().icmp_imm_u(IntCC::Equal, now, compiled as i64);
        self.b.ins().brif(unchanged, same, &[], changed, &[]);
        self.enter_sealed(same);
        changed
    }

    /// The key in registers from `src` (components `widths` bytes wide) as
    /// one word ([`KeyWord`]), for `elems` some of which are exact: when the
    /// key has several components, each a value the rule loaded and noted
    /// that one load holds, together at most 8 bytes. A compare of the word
    /// then tests every component of an exact element at once.
    fn key_word<'e>(
        &mut self,
        src: Reg,
        widths: &[u8],
        mut elems: impl Iterator<Item = &'e SetElem>,
    ) -> Option<KeyWord> {
        if widths.len() < 2 || !elems.any(|e| e.low == e.high) {
            return None;
        }
        let mut parts = Vec::new();
        let (mut at, mut bits) = (usize::from(src.0), 0);
        for w in widths.iter().map(|w| usize::from(*w)) {
            let l = self
                .loaded
                .get(at)
                .copied()
                .flatten()
                .filter(|l| l.len == w)?;
            let (width, take) = word_width(w, l.room);
            if take != w {
                return None;
            }
            parts.push((l, bits));
            bits += 8 * width as u32;
            at += chunks_for(w);
        }
        if bits > 64 {
            return None;
        }
        let mut value: Option<Value> = None;
        for (l, shift) in &parts {
            let (mut raw, _) = self.loaded_word(l, 0, true);
            if *shift > 0 {
                raw = self.b.ins().ishl_imm_u(raw, i64::from(*shift));
            }
            value = Some(match value {
                Some(v) => self.b.ins().bor(v, raw),
                None => raw,
            });
        }
        Some(KeyWord {
            value: value?,
            shifts: parts.into_iter().map(|(_, shift)| shift).collect(),
        })
    }

    /// Whether the key in registers from `src`, of components `widths`
    /// bytes wide (each from a new register), lies in `elem`.
    fn elem_holds(
        &mut self,
        src: Reg,
        widths: &[u8],
        elem: &SetElem,
        word: Option<&KeyWord>,
    ) -> Value {
        if let Some(word) = word.filter(|_| elem.low == elem.high) {
            let key = word.of(&elem.low);
            return self.b.ins().icmp_imm_u(IntCC::Equal, word.value, key);
        }
        let mut at = usize::from(src.0);
        let mut holds: Option<Value> = None;
        for ((w, low), high) in widths.iter().zip(&elem.low).zip(&elem.high) {
            let w = usize::from(*w);
            let hit = if low == high {
                self.equals(Reg(at as u8), low)
            } else {
                let v = self.packed_chunks(Reg(at as u8), w);
                self.in_range(v, low, high)
            };
            holds = Some(match holds {
                Some(h) => self.b.ins().band(h, hit),
                None => hit,
            });
            at += chunks_for(w);
        }
        holds.unwrap_or_else(|| self.b.ins().iconst(types::I8, 1))
    }

    /// An `i32` constant.
    fn imm32(&mut self, n: u32) -> Value {
        self.b.ins().iconst(types::I32, i64::from(n))
    }

    /// A zero of type `ty` (also 128-bit).
    fn zero(&mut self, ty: Type) -> Value {
        if ty == types::I128 {
            let z = self.b.ins().iconst(types::I64, 0);
            self.b.ins().iconcat(z, z)
        } else {
            self.b.ins().iconst(ty, 0)
        }
    }

    /// A field of the context. None changes during a run, so the loads are
    /// `readonly`: Cranelift drops unused ones.
    fn ctx_load(&mut self, ty: Type, offset: usize) -> Value {
        self.b.ins().load(ty, CTX, self.ctx, field(offset))
    }

    /// The outcome's address (the context's `out`), loaded once a block:
    /// a verdict writes three of its fields in a row.
    fn out(&mut self) -> Value {
        let here = self.b.current_block();
        if let Some((block, out)) = self.out_address
            && Some(block) == here
        {
            return out;
        }
        let out = self.ctx_load(types::I64, offset_of!(Context, out));
        self.out_address = here.map(|b| (b, out));
        out
    }

    /// Writes `v` at `offset` of the outcome (the context's `out`).
    fn out_store(&mut self, v: Value, offset: usize) {
        let out = self.out();
        self.b
            .ins()
            .store(MemFlagsData::trusted(), v, out, field(offset));
    }

    /// Reads a `ty` at `offset` of the outcome (the context's `out`).
    fn out_load(&mut self, ty: Type, offset: usize) -> Value {
        let out = self.out();
        self.b
            .ins()
            .load(ty, MemFlagsData::trusted(), out, field(offset))
    }

    /// Register chunk `j` of the value starting at `r`.
    fn reg(&mut self, r: Reg, j: usize) -> Value {
        // The verifier proved `r + j` is a register.
        let reg = (usize::from(r.0) + j).min(NUM_REGS - 1);
        self.materialize(reg..reg + 1);
        self.b.use_var(self.regs[reg])
    }

    /// Translates (with `f`) an instruction whose code branches and whose
    /// branches load the noted values ([`Self::load_value`]) they read:
    /// loaded in one branch, a value is not there in the others, so after
    /// the instruction every noted value counts as not loaded again.
    fn branches_loading(&mut self, f: impl FnOnce(&mut Self)) {
        let loaded = self.loaded;
        f(self);
        self.loaded = loaded;
    }

    fn def_reg(&mut self, r: Reg, j: usize, v: Value) {
        let reg = (usize::from(r.0) + j).min(NUM_REGS - 1);
        self.overwrite(reg..reg + 1);
        self.b.def_var(self.regs[reg], v);
    }

    /// Forgets the noted values ([`Self::load_value`]) in registers that
    /// cover any of `regs`, which are about to be written; one that also
    /// has other registers is loaded into them first.
    fn overwrite(&mut self, regs: std::ops::Range<usize>) {
        for k in 0..NUM_REGS {
            let Some(l) = self.loaded[k] else { continue };
            if !l.covers(k, regs.clone()) {
                continue;
            }
            if k < regs.start || k + chunks_for(l.len) > regs.end {
                self.materialize(k..k + 1);
            }
            self.loaded[k] = None;
        }
    }

    /// Notes that registers from `dst` hold the `len`-byte big-endian value
    /// at `addr + offset` (in bounds, as are `room` bytes from there). The
    /// bytes are loaded into them only when something reads them: an
    /// equality compare reads the bytes in memory order instead
    /// ([`Self::compare_loaded`]).
    fn load_value(
        &mut self,
        dst: Reg,
        addr: Value,
        offset: i32,
        len: usize,
        room: usize,
        flags: MemFlagsData,
    ) {
        let first = usize::from(dst.0);
        self.overwrite(first..first + chunks_for(len));
        if let Some(l) = self.loaded.get_mut(first) {
            *l = Some(Loaded {
                addr,
                offset,
                len,
                room,
                flags,
                in_registers: false,
            });
        }
    }

    /// Loads into their registers the noted values ([`Self::load_value`])
    /// that cover any of `regs` and are not loaded yet.
    fn materialize(&mut self, regs: std::ops::Range<usize>) {
        for k in 0..NUM_REGS {
            let Some(l) = self.loaded[k] else { continue };
            if l.in_registers || !l.covers(k, regs.clone()) {
                continue;
            }
            self.loaded[k] = Some(Loaded {
                in_registers: true,
                ..l
            });
            for (j, w) in chunk_widths(l.len).enumerate() {
                let v = self.load_be(l.addr, l.offset + 4 * j as i32, w, l.flags);
                self.b.def_var(self.regs[(k + j).min(NUM_REGS - 1)], v);
            }
        }
    }

    fn base(&mut self, base: BaseId) -> Value {
        let i = usize::from(base.0).min(NUM_BASES - 1);
        match self.fixed.as_ref().map(|f| f.bases[i]) {
            Some(p) => self.read(p, types::I64),
            None => self.b.use_var(self.bases[i]),
        }
    }

    /// The value of `n` bytes in register `r` when the code knows it: one
    /// chunk, defined by a constant (not a noted load, which this would
    /// load).
    fn constant_reg(&mut self, r: Reg, n: usize) -> Option<u128> {
        if n > 4 || self.loaded[usize::from(r.0).min(NUM_REGS - 1)].is_some() {
            return None;
        }
        let v = self.reg(r, 0);
        self.constant(v).map(|c| u128::from(c as u32))
    }

    /// `v`'s value when it is a constant.
    fn constant(&self, v: Value) -> Option<i64> {
        let dfg = &self.b.func.dfg;
        let inst = dfg.value_def(v).inst()?;
        match dfg.insts[inst] {
            InstructionData::UnaryImm {
                opcode: Opcode::Iconst,
                imm,
            } => Some(imm.bits()),
            _ => None,
        }
    }

    fn read(&mut self, p: Place, ty: Type) -> Value {
        match p {
            Place::Value(v) => v,
            Place::Slot(slot, at) => self.b.ins().stack_load(types::I64, ty, slot, at),
        }
    }

    fn set_base(&mut self, base: BaseId, v: Value) {
        if let Some(var) = self.bases.get(usize::from(base.0)) {
            let var = *var;
            self.b.def_var(var, v);
        }
    }

    /// A key as a 64-bit value: its 32-bit value, or [`KEY_ABSENT`].
    fn key(&mut self, key: KeyId) -> Value {
        let i = usize::from(key.0).min(NUM_KEYS - 1);
        match self.fixed.as_ref().map(|f| f.keys[i]) {
            Some(p) => self.read(p, types::I64),
            None => self.b.use_var(self.keys[i]),
        }
    }

    fn set_key(&mut self, key: KeyId, v: Value) {
        if let Some(var) = self.keys.get(usize::from(key.0)) {
            let var = *var;
            self.b.def_var(var, v);
        }
    }

    /// What the code being translated knows of `test` ([`facts`]).
    fn known(&self, test: Test) -> Option<bool> {
        if let Some(known) = self.port_fact().and_then(|f| facts::known(&[f], test)) {
            return Some(known);
        }
        let flow = self.flow.as_ref()?;
        flow.rule.and_then(|_| facts::known(&flow.now, test))
    }

    /// What the code knows of the input port for the whole run, when it
    /// is made for one.
    fn port_fact(&self) -> Option<Fact> {
        self.port.map(|port| Fact {
            test: Test::Is(Subject::Iif, port),
            holds: true,
        })
    }

    /// Where the chain rule being translated goes when it breaks here,
    /// knowing `fact` besides what its code knows: the next rule, or past
    /// the rules after it that would break too (outside a chain's rules,
    /// `next`). Records the edge in the facts of the rule it goes to.
    fn break_to(&mut self, next: Block, fact: Option<Fact>) -> Block {
        let port = self.port_fact();
        let Some(flow) = self.flow.as_mut() else {
            return next;
        };
        let Some(rule) = flow.rule else {
            return next;
        };
        let mut known = flow.now.clone();
        known.extend(fact);
        known.extend(port);
        let breaks = |t: &usize| {
            flow.tests[*t].as_ref().is_some_and(|tests| {
                tests
                    .iter()
                    .any(|&test| facts::known(&known, test) == Some(false))
            })
        };
        let last = (rule + 1 + THREAD_LIMIT).min(flow.tests.len());
        let to = (rule + 1..last).find(|t| !breaks(t)).unwrap_or(last);
        facts::meet(&mut flow.entry[to], &known);
        flow.blocks[to]
    }

    /// Goes on when `ok`, the result of `test`, is true (the code knows it
    /// from here on), else breaks to `brk` (see [`Self::break_to`]).
    fn checked(&mut self, ok: Value, test: Test, brk: Block) {
        let brk = self.break_to(brk, Some(Fact { test, holds: false }));
        self.guard(ok, brk);
        if let Some(flow) = self.flow.as_mut()
            && flow.rule.is_some()
        {
            flow.now.push(Fact { test, holds: true });
        }
    }

    /// `dst := subject`, going on only when it equals `value` (else to
    /// `next`, see [`Self::break_to`]); no compare when the code knows it
    /// does.
    fn equality_guard(&mut self, dst: Reg, subject: Subject, value: u32, next: Block) {
        let test = Test::Is(subject, value);
        match self.known(test) {
            Some(true) => {}
            Some(false) => {
                let brk = self.break_to(next, Some(Fact { test, holds: false }));
                self.b.ins().jump(brk, &[]);
                // The rest of the rule never runs.
                let dead = self.b.create_block();
                self.enter_sealed(dead);
            }
            None => {
                let v = match subject {
                    Subject::Key(key) => self.key(key),
                    Subject::Iif => self.ctx_load(types::I32, offset_of!(Context, port_id)),
                };
                let ok = self.b.ins().icmp_imm_u(IntCC::Equal, v, i64::from(value));
                self.checked(ok, test, next);
            }
        }
        let v = self.imm32(value);
        self.def_reg(dst, 0, v);
    }

    /// Where a membership test goes: its hit and miss targets, and the
    /// block after it, which one of them is (with `negate`, a hit breaks
    /// to `brk`; without, a miss does).
    fn membership(&mut self, negate: bool, brk: Block) -> (Block, Block, Block) {
        let cont = self.b.create_block();
        match negate {
            true => (brk, cont, cont),
            false => (cont, brk, cont),
        }
    }

    /// Goes to `hit_to` when one of `n` tests holds, else to `miss_to`
    /// (`test(self, i)` makes test `i`): up to [`BRANCH_LIST_LIMIT`] tests,
    /// a branch on each in order, the first hit deciding; more, their
    /// results ored together and one branch.
    fn any_of(
        &mut self,
        n: usize,
        mut test: impl FnMut(&mut Self, usize) -> Value,
        hit_to: Block,
        miss_to: Block,
    ) {
        if n > BRANCH_LIST_LIMIT {
            let mut inside = test(self, 0);
            for i in 1..n {
                let hit = test(self, i);
                inside = self.b.ins().bor(inside, hit);
            }
            self.b.ins().brif(inside, hit_to, &[], miss_to, &[]);
            return;
        }
        if n == 0 {
            self.b.ins().jump(miss_to, &[]);
            return;
        }
        for i in 0..n {
            let hit = test(self, i);
            if i + 1 == n {
                self.b.ins().brif(hit, hit_to, &[], miss_to, &[]);
            } else {
                let next = self.b.create_block();
                self.b.ins().brif(hit, hit_to, &[], next, &[]);
                self.enter_sealed(next);
            }
        }
    }

    /// Goes on only when `ok` is true, else to `brk`.
    fn guard(&mut self, ok: Value, brk: Block) {
        self.guard_unless(ok, false, brk);
    }

    /// Goes on only when `inside` differs from `negate`, else to `brk`.
    fn guard_unless(&mut self, inside: Value, negate: bool, brk: Block) {
        let cont = self.b.create_block();
        if negate {
            self.b.ins().brif(inside, brk, &[], cont, &[]);
        } else {
            self.b.ins().brif(inside, cont, &[], brk, &[]);
        }
        self.enter_sealed(cont);
    }

    /// Switches to `block`, whose predecessors are all known: sealing it
    /// now lets variable lookups walk straight up instead of leaving block
    /// parameters to resolve at the end (which makes large programs slow to
    /// translate).
    fn enter_sealed(&mut self, block: Block) {
        self.b.seal_block(block);
        self.b.switch_to_block(block);
    }

    /// Starts translating a rule (or a group's shared instructions):
    /// nothing loaded, nothing checked, and how far its pure prefix reads
    /// past each base ([`Reach`]).
    fn begin(&mut self, insns: &[Insn]) {
        self.loaded = [None; NUM_REGS];
        self.reach = [Reach::default(); NUM_BASES];
        if self.traced {
            return;
        }
        for insn in insns.iter().take_while(|i| i.is_pure()) {
            if let Insn::Load {
                base, offset, len, ..
            } = insn
            {
                let r = &mut self.reach[usize::from(base.0).min(NUM_BASES - 1)];
                r.wanted = r.wanted.max(u32::from(*offset) + u32::from(*len));
            }
        }
    }

    /// The frame offset of `base` (`offset` goes on it), after checking that
    /// `len` bytes from `base + offset` lie in the frame (else to `brk`), and
    /// how many bytes from there the frame is then known to hold (at least
    /// `len`). The first check of a base in a rule covers all its pure
    /// prefix reads ([`Reach`]).
    fn span(&mut self, base: BaseId, offset: u16, len: usize, brk: Block) -> (Value, usize) {
        let b = self.base(base);
        let end = u32::from(offset) + len as u32;
        let i = usize::from(base.0).min(NUM_BASES - 1);
        let sure = self.surely_there(b, i);
        let reach = &mut self.reach[i];
        if end > reach.checked {
            let check = end.max(reach.wanted);
            reach.checked = check;
            let test = Test::Reaches(i, check);
            if check > sure && self.known(test) != Some(true) {
                let end = self.b.ins().iadd_imm_u(b, i64::from(check));
                let ok = self
                    .b
                    .ins()
                    .icmp(IntCC::UnsignedLessThanOrEqual, end, self.len);
                self.checked(ok, test, brk);
            }
        }
        let there = self.reach[i].checked.max(sure);
        let room = (there.saturating_sub(u32::from(offset)) as usize).max(len);
        (b, room)
    }

    /// How many bytes past base `i` (of value `b`) every frame the code is
    /// given holds: at a fixed offset of the frame, or at a bounded one,
    /// those before `min_len`.
    fn surely_there(&self, b: Value, i: usize) -> u32 {
        let at = match self.constant(b) {
            Some(ABSENT) => None,
            Some(at) => u32::try_from(at).ok(),
            None => self.walk.bound(i),
        };
        at.map_or(0, |at| self.bounds.min_len.saturating_sub(at))
    }

    /// The `width`-byte big-endian number at `addr + offset`, as an `i32`.
    fn load_be(&mut self, addr: Value, offset: i32, width: usize, flags: MemFlagsData) -> Value {
        match width {
            1 => self.b.ins().uload8(types::I32, flags, addr, offset),
            2 => {
                let v = self.b.ins().load(types::I16, flags, addr, offset);
                let v = self.b.ins().bswap(v);
                self.b.ins().uextend(types::I32, v)
            }
            3 => {
                let hi = self.load_be(addr, offset, 2, flags);
                let lo = self.load_be(addr, offset + 2, 1, flags);
                let hi = self.b.ins().ishl_imm_u(hi, 8);
                self.b.ins().bor(hi, lo)
            }
            _ => {
                let v = self.b.ins().load(types::I32, flags, addr, offset);
                self.b.ins().bswap(v)
            }
        }
    }

    /// The `len` bytes in registers from `r` (the last bytes of a chunk
    /// narrower than 4, as the interpreter reads a value's bytes) as one
    /// integer of [`packed_type`]`(len)`: what shifts work on.
    fn packed_bytes(&mut self, r: Reg, len: usize) -> Value {
        self.packed(r, len, true)
    }

    /// The chunks in registers from `r` of a `len`-byte value, whole, each
    /// in a 32-bit lane of one integer of [`packed_type`]`(len)`, the
    /// first highest: its unsigned order is the order the interpreter
    /// compares values in ([`crate::insn::pack_chunks`]).
    fn packed_chunks(&mut self, r: Reg, len: usize) -> Value {
        self.packed(r, len, false)
    }

    /// [`Self::packed_chunks`], or with `bytes` [`Self::packed_bytes`].
    fn packed(&mut self, r: Reg, len: usize, bytes: bool) -> Value {
        let ty = packed_type(len);
        let mut acc: Option<Value> = None;
        for (j, w) in chunk_widths(len).enumerate() {
            let c = self.reg(r, j);
            let (c, lane) = match bytes {
                true if w < 4 => (self.b.ins().band_imm_u(c, (1i64 << (8 * w)) - 1), 8 * w),
                _ => (c, 32),
            };
            let c = if ty == types::I32 {
                c
            } else {
                self.b.ins().uextend(ty, c)
            };
            acc = Some(match acc {
                None => c,
                Some(a) => {
                    let a = self.b.ins().ishl_imm_u(a, lane as i64);
                    self.b.ins().bor(a, c)
                }
            });
        }
        acc.unwrap_or_else(|| self.zero(ty))
    }

    /// Whether the value in registers from `r` equals `value`, chunk by
    /// chunk in 32 bits (cheaper than comparing the packed 128-bit value).
    fn equals(&mut self, r: Reg, value: &Const) -> Value {
        self.compare_eq(r, value, IntCC::Equal)
    }

    /// Whether register `r`'s value is equal to `value` (`cc` is `Equal`)
    /// or not (`NotEqual`): one compare for a value of one chunk, else the
    /// chunks' differences ored together and compared with zero.
    fn compare_eq(&mut self, r: Reg, value: &Const, cc: IntCC) -> Value {
        if let Some(l) = self.loaded[usize::from(r.0).min(NUM_REGS - 1)]
            && l.len == value.len()
        {
            return self.compare_loaded(l, value, cc);
        }
        let chunks = value.to_chunks();
        if let [c] = chunks[..] {
            let v = self.reg(r, 0);
            return self.b.ins().icmp_imm_u(cc, v, i64::from(c));
        }
        let mut diff: Option<Value> = None;
        for (j, c) in chunks.into_iter().enumerate() {
            let v = self.reg(r, j);
            let d = self.b.ins().bxor_imm_u(v, i64::from(c));
            diff = Some(match diff {
                Some(acc) => self.b.ins().bor(acc, d),
                None => d,
            });
        }
        match diff {
            Some(d) => self.b.ins().icmp_imm_u(cc, d, 0),
            None => self
                .b
                .ins()
                .iconst(types::I8, i64::from(cc == IntCC::Equal)),
        }
    }

    /// Whether the bytes `l` was loaded from are equal to `value` (`cc` is
    /// `Equal`) or not (`NotEqual`), compared in memory order a word at a
    /// time ([`Self::loaded_word`]): no byte swaps, the constant's bytes
    /// read as the host reads memory.
    fn compare_loaded(&mut self, l: Loaded, value: &Const, cc: IntCC) -> Value {
        let mut result: Option<Value> = None;
        let mut pos = 0;
        while pos < value.len() {
            let (raw, take) = self.loaded_word(&l, pos, false);
            let t = self
                .b
                .ins()
                .icmp_imm_u(cc, raw, host_order(&value.0[pos..pos + take]));
            result = Some(match (result, cc) {
                (None, _) => t,
                (Some(acc), IntCC::Equal) => self.b.ins().band(acc, t),
                (Some(acc), _) => self.b.ins().bor(acc, t),
            });
            pos += take;
        }
        match result {
            Some(v) => v,
            None => self
                .b
                .ins()
                .iconst(types::I8, i64::from(cc == IntCC::Equal)),
        }
    }

    /// The bytes of `l` from `pos` on as one integer of 1, 2, 4 or 8 bytes
    /// in memory order, and how many of them it holds: where the frame
    /// holds the bytes after them, one load covering up to 8 (a 3-byte
    /// prefix, a 6-byte address) with the bytes past them masked off; else
    /// the widest load that fits. With `wide`, zero-extended to 64 bits by
    /// the load.
    fn loaded_word(&mut self, l: &Loaded, pos: usize, wide: bool) -> (Value, usize) {
        let (width, take) = word_width(l.len - pos, l.room - pos);
        let (flags, addr, at) = (l.flags, l.addr, l.offset + pos as i32);
        let ins = self.b.ins();
        let raw = match (wide, width) {
            (true, 1) => ins.uload8(types::I64, flags, addr, at),
            (true, 2) => ins.uload16(types::I64, flags, addr, at),
            (true, 4) => ins.uload32(flags, addr, at),
            _ => {
                let ty = Type::int_with_byte_size(width as u16).unwrap_or(types::I64);
                ins.load(ty, flags, addr, at)
            }
        };
        if take == width {
            return (raw, take);
        }
        let mask = host_order(&[0xff; 8][..take]);
        (self.b.ins().band_imm_u(raw, mask), take)
    }

    /// The number `n` as a constant of type `ty` (a [`packed_type`]).
    fn packed_const(&mut self, ty: Type, n: u128) -> Value {
        match ty {
            types::I32 => self.b.ins().iconst(types::I32, n as u32 as i64),
            types::I64 => self.b.ins().iconst(types::I64, n as u64 as i64),
            _ => {
                let lo = self.b.ins().iconst(types::I64, n as u64 as i64);
                let hi = self.b.ins().iconst(types::I64, (n >> 64) as u64 as i64);
                self.b.ins().iconcat(lo, hi)
            }
        }
    }

    /// Writes a packed `len`-byte value back as register chunks from `dst`.
    fn unpack(&mut self, v: Value, len: usize, dst: Reg) {
        let ty = packed_type(len);
        let mut below = len;
        for (j, w) in chunk_widths(len).enumerate() {
            below -= w;
            let shifted = if below == 0 {
                v
            } else {
                self.b.ins().ushr_imm_u(v, 8 * below as i64)
            };
            let c = if ty == types::I32 {
                shifted
            } else {
                self.b.ins().ireduce(types::I32, shifted)
            };
            let c = if w < 4 {
                self.b.ins().band_imm_u(c, (1i64 << (8 * w)) - 1)
            } else {
                c
            };
            self.def_reg(dst, j, c);
        }
    }

    /// Whether `r` (packed by [`Self::packed_chunks`]) lies in
    /// `low..=high`.
    fn in_range(&mut self, r: Value, low: &Const, high: &Const) -> Value {
        let (lo, hi) = (low.packed(), high.packed());
        if lo > hi {
            return self.b.ins().iconst(types::I8, 0);
        }
        // lo <= r <= hi as one unsigned compare: r - lo <= hi - lo (the
        // difference in the packed value's width).
        let ty = packed_type(low.len());
        let span = self.packed_const(ty, hi - lo);
        let lo = self.packed_const(ty, lo);
        let offset = self.b.ins().isub(r, lo);
        self.b
            .ins()
            .icmp(IntCC::UnsignedLessThanOrEqual, offset, span)
    }

    fn alu(&mut self, a: Value, op: AluOp, b: Value) -> Value {
        match op {
            AluOp::Add => self.b.ins().iadd(a, b),
            AluOp::Sub => self.b.ins().isub(a, b),
            AluOp::Mul => self.b.ins().imul(a, b),
            AluOp::And => self.b.ins().band(a, b),
            AluOp::Or => self.b.ins().bor(a, b),
            AluOp::Xor => self.b.ins().bxor(a, b),
            AluOp::Shl | AluOp::Shr => {
                // Cranelift takes the amount modulo 32; the VM gives 0 for
                // amounts of 32 or more.
                let shifted = if op == AluOp::Shl {
                    self.b.ins().ishl(a, b)
                } else {
                    self.b.ins().ushr(a, b)
                };
                let big = self
                    .b
                    .ins()
                    .icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, b, 32);
                let zero = self.b.ins().iconst(types::I32, 0);
                self.b.ins().select(big, zero, shifted)
            }
        }
    }

    /// Copies `n` register chunks from `src` to the scratch.
    fn store_scratch(&mut self, src: Reg, n: usize) {
        for j in 0..n {
            let v = self.reg(src, j);
            self.scratch_store(v, j);
        }
    }

    /// The offset of register chunk `j` of the scratch in the outcome
    /// (the context's `out`).
    fn scratch_offset(j: usize) -> usize {
        offset_of!(Outcome, scratch) + offset_of!(Scratch, regs) + 4 * j
    }

    /// Stores the chunk `v` at position `j` of the scratch.
    fn scratch_store(&mut self, v: Value, j: usize) {
        self.out_store(v, Self::scratch_offset(j));
    }

    /// The chunk at position `j` of the scratch.
    fn scratch_load(&mut self, j: usize) -> Value {
        self.out_load(types::I32, Self::scratch_offset(j))
    }

    /// The return stack's depth ([`DEPTH`]) or the running entry
    /// ([`ENTRY`]).
    fn run_state_load(&mut self, at: i32) -> Value {
        self.b
            .ins()
            .stack_load(types::I64, types::I32, self.run_state, at)
    }

    /// Sets the return stack's depth or the running entry.
    fn run_state_store(&mut self, v: Value, at: i32) {
        self.b.ins().stack_store(types::I64, v, self.run_state, at);
    }

    /// Calls a runtime function with the context and `args`; its result.
    fn call(&mut self, f: Call, args: &[Value]) -> Option<Value> {
        let (params, ret) = f.shape();
        let mut sig = Signature::new(self.b.func.signature.call_conv);
        sig.params.push(AbiParam::new(types::I64));
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        sig.returns.extend(ret.map(AbiParam::new));
        let sig = self.b.import_signature(sig);
        let callee = self.b.ins().iconst(types::I64, f.address());
        let mut all = vec![self.ctx];
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, callee, &all);
        self.b.inst_results(call).first().copied()
    }

    /// Calls a runtime function that returns a value ([`Call::shape`]
    /// says which do).
    fn call_value(&mut self, f: Call, args: &[Value]) -> Value {
        match self.call(f, args) {
            Some(v) => v,
            None => self.imm32(0),
        }
    }

    /// Calls a runtime function that takes an object number and returns a
    /// value.
    fn call_id(&mut self, f: Call, id: u32) -> Value {
        let id = self.imm32(id);
        self.call_value(f, &[id])
    }

    /// Calls the function at address `f` with `args` of types `params`.
    fn call_pointer(&mut self, f: Value, params: &[Type], args: &[Value]) {
        let mut sig = Signature::new(self.b.func.signature.call_conv);
        sig.params.extend(params.iter().map(|t| AbiParam::new(*t)));
        let sig = self.b.import_signature(sig);
        self.b.ins().call_indirect(sig, f, args);
    }

    /// The tracer and the hook at `hook` in the context's [`Trace`], in
    /// traced code.
    fn trace_hook(&mut self, hook: usize) -> (Value, Value) {
        let trace = offset_of!(Context, trace);
        let tracer = self.ctx_load(types::I64, trace + offset_of!(Trace, tracer));
        let f = self.ctx_load(types::I64, trace + hook);
        (tracer, f)
    }

    /// Reports a rule's result to the tracer, in traced code: `kind` and
    /// the two arguments as [`context`]'s `trace_rule` takes them.
    fn trace_rule(&mut self, chain: u32, rule: u32, kind: u32, a: Option<Value>, b: Option<Value>) {
        if !self.traced {
            return;
        }
        let (tracer, f) = self.trace_hook(offset_of!(Trace, rule));
        let zero = self.imm32(0);
        let args = [
            tracer,
            self.imm32(chain),
            self.imm32(rule),
            self.imm32(kind),
            a.unwrap_or(zero),
            b.unwrap_or(zero),
        ];
        let i32s = [types::I32; 5];
        let mut params = vec![types::I64];
        params.extend_from_slice(&i32s);
        self.call_pointer(f, &params, &args);
    }

    /// Records that rule `rule` of `chain` decided.
    fn decide_rule(&mut self, chain: u32, rule: u32) {
        let rule = self.imm32(rule);
        self.decide_rule_value(chain, rule);
    }

    /// [`Self::decide_rule`] with the rule's index (an `i32`) known at run
    /// time.
    fn decide_rule_value(&mut self, chain: u32, rule: Value) {
        let word = self.imm32(result::word(result::RULE, chain));
        self.out_store(word, result::DECIDER);
        let rule = self.b.ins().uextend(types::I64, rule);
        self.out_store(rule, result::DECIDER_RULE);
    }

    /// Counts the packet on the counter at `address` (two atomic adds:
    /// see [`crate::runtime::Counter`]).
    fn count(&mut self, address: Value) {
        let flags = MemFlagsData::trusted();
        let one = self.b.ins().iconst(types::I64, 1);
        self.b
            .ins()
            .atomic_rmw(types::I64, flags, AtomicRmwOp::Add, address, one);
        let bytes = self.b.ins().iadd_imm_u(address, 8);
        self.b
            .ins()
            .atomic_rmw(types::I64, flags, AtomicRmwOp::Add, bytes, self.len);
    }

    /// Ends the run with a final verdict: `tag` (a [`result`] tag) and a
    /// `fwd`'s port (an `i32`).
    fn finish(&mut self, tag: u32, port: Option<Value>) {
        let mut word = self.imm32(result::word(tag, 0));
        if let Some(p) = port {
            let p = self.b.ins().ishl_imm_u(p, i64::from(result::ARG_SHIFT));
            word = self.b.ins().bor(word, p);
        }
        self.out_store(word, result::VERDICT);
        self.b.ins().jump(self.exit, &[]);
    }

    /// Sets the return stack up for a run of entry `entry`'s base chain:
    /// the entry's policy is the one site on it.
    fn set_up_return_stack(&mut self, entry: usize) {
        let n = self.imm32(entry as u32);
        self.run_state_store(n, ENTRY);
        let slot = self.b.ins().stack_addr(types::I64, self.stack, 0);
        self.b.ins().store(MemFlagsData::trusted(), n, slot, 0);
        let one = self.imm32(1);
        self.run_state_store(one, DEPTH);
    }

    /// Before a rule of a base chain of one entry jumps or goes to another
    /// chain: sets the return stack up, which the chain's own rules do not
    /// need (their `return`, `accept` and end go straight to the policy or
    /// the next entry), so most runs never touch it.
    fn leave_base_chain(&mut self) {
        if let Some(entry) = self.base_entry {
            self.set_up_return_stack(entry);
        }
    }

    /// The address of return-stack slot `d`.
    fn stack_slot(&mut self, d: Value) -> Value {
        let base = self.b.ins().stack_addr(types::I64, self.stack, 0);
        let d = self.b.ins().uextend(types::I64, d);
        let off = self.b.ins().imul_imm_u(d, 4);
        self.b.ins().iadd(base, off)
    }

    /// A new return site that resumes at `block`.
    fn site(&mut self, block: Block) -> u32 {
        self.sites.push(block);
        (self.sites.len() - 1) as u32
    }

    /// Pushes a return site for `next` and goes on in the current block;
    /// when the stack is full, goes to `next` instead (the jump is
    /// skipped, as in the interpreter).
    fn push_return(&mut self, next: Block) {
        let site = self.site(next);
        let d = self.run_state_load(DEPTH);
        let room = self
            .b
            .ins()
            .icmp_imm_u(IntCC::UnsignedLessThan, d, STACK_SLOTS as i64);
        self.guard(room, next);
        let slot = self.stack_slot(d);
        let site = self.imm32(site);
        self.b.ins().store(MemFlagsData::trusted(), site, slot, 0);
        let d = self.b.ins().iadd_imm_u(d, 1);
        self.run_state_store(d, DEPTH);
    }

    /// Jumps through a jump table on `index` to `targets`; out-of-range
    /// indexes end the run (they cannot occur).
    fn dispatch(&mut self, index: Value, targets: &[Block]) {
        let calls: Vec<_> = targets
            .iter()
            .map(|b| self.b.func.dfg.block_call(*b, &[] as &[BlockArg]))
            .collect();
        let default = self.b.func.dfg.block_call(self.exit, &[] as &[BlockArg]);
        let table = self
            .b
            .create_jump_table(JumpTableData::new(default, &calls));
        self.b.ins().br_table(index, table);
    }

    /// A rule's verdict known at compile time.
    fn static_verdict(&mut self, v: Verdict, at: &Here) {
        let Some(chain) = at.chain else {
            // Parse-section verdicts end the rule and nothing else.
            let (code, arg) = context::encode(v);
            let (code, arg) = (self.imm32(code), self.imm32(arg));
            self.trace_rule(PARSE_CHAIN, at.rule as u32, 0, Some(code), Some(arg));
            self.b.ins().jump(at.next, &[]);
            return;
        };
        let (code, arg) = context::encode(v);
        let (c, a) = (self.imm32(code), self.imm32(arg));
        self.trace_rule(u32::from(chain.0), at.rule as u32, 0, Some(c), Some(a));
        match v {
            Verdict::Continue => {
                let next = self.break_to(at.next, None);
                self.b.ins().jump(next, &[]);
            }
            Verdict::Return => {
                self.b.ins().jump(self.chain_return, &[]);
            }
            Verdict::Jump(target) => {
                self.leave_base_chain();
                self.push_return(at.next);
                let start = self.chain_start[usize::from(target.0)];
                self.b.ins().jump(start, &[]);
            }
            Verdict::Goto(target) => {
                self.leave_base_chain();
                let start = self.chain_start[usize::from(target.0)];
                self.b.ins().jump(start, &[]);
            }
            Verdict::Accept | Verdict::Drop | Verdict::Flood | Verdict::Fwd(_) => {
                self.decide_rule(u32::from(chain.0), at.rule as u32);
                match v {
                    Verdict::Drop => self.finish(result::DROP, None),
                    Verdict::Flood => self.finish(result::FLOOD, None),
                    Verdict::Fwd(_) => self.finish(result::FWD, Some(a)),
                    _ => {
                        self.b.ins().jump(self.chain_accept, &[]);
                    }
                }
            }
        }
    }

    /// A verdict known at run time, `code` (non-zero) and `arg`, of rule
    /// `rule` (a verdict map's, or a group's).
    fn dynamic_verdict(&mut self, code: Value, arg: Value, at: &Here, rule: Value) {
        let chain = at.chain.map_or(PARSE_CHAIN, |c| u32::from(c.0));
        self.trace_rule(chain, at.rule as u32, 0, Some(code), Some(arg));
        let blocks: Vec<Block> = (0..=verdict_code::FLOOD)
            .map(|_| self.b.create_block())
            .collect();
        self.dispatch(code, &blocks);
        let starts = self.chain_start.clone();
        for (code, blk) in blocks.into_iter().enumerate() {
            self.b.switch_to_block(blk);
            match code as u32 {
                verdict_code::CONTINUE => {
                    let next = self.break_to(at.next, None);
                    self.b.ins().jump(next, &[]);
                }
                verdict_code::RETURN => {
                    self.b.ins().jump(self.chain_return, &[]);
                }
                verdict_code::JUMP => {
                    self.leave_base_chain();
                    self.push_return(at.next);
                    self.dispatch(arg, &starts);
                }
                verdict_code::GOTO => {
                    self.leave_base_chain();
                    self.dispatch(arg, &starts);
                }
                verdict_code::ACCEPT => {
                    self.decide_rule_value(chain, rule);
                    self.b.ins().jump(self.chain_accept, &[]);
                }
                verdict_code::DROP => {
                    self.decide_rule_value(chain, rule);
                    self.finish(result::DROP, None);
                }
                verdict_code::FLOOD => {
                    self.decide_rule_value(chain, rule);
                    self.finish(result::FLOOD, None);
                }
                verdict_code::FWD => {
                    self.decide_rule_value(chain, rule);
                    self.finish(result::FWD, Some(arg));
                }
                _ => {
                    self.b.ins().jump(self.exit, &[]);
                }
            }
        }
    }

    /// A payload write: bounds and the bytes inline, then each checksum fix
    /// whose header (and condition) is present, inline too
    /// ([`Self::fix_checksum`]).
    fn store(
        &mut self,
        base: BaseId,
        offset: u16,
        len: usize,
        src: Reg,
        fixes: &[ChecksumFix],
        brk: Block,
    ) {
        if self.mirrors {
            // Mirrors that still refer to the frame take their copies first:
            // before the bounds check (which writes nothing), so that the
            // write's offset is not held across the call.
            let untaken = self.out_load(types::I8, offset_of!(Outcome, untaken_mirrors));
            let freeze = self.b.create_block();
            let write = self.b.create_block();
            self.b.ins().brif(untaken, freeze, &[], write, &[]);
            self.enter_sealed(freeze);
            self.call(Call::FreezeMirrors, &[]);
            self.b.ins().jump(write, &[]);
            self.enter_sealed(write);
        }
        let (at, _) = self.span(base, offset, len, brk);
        let start = self.b.ins().iadd_imm_u(at, i64::from(offset));
        let addr = self.b.ins().iadd(self.frame, start);
        // What the write adds to a checksum's sum, modulo 0xffff, were its
        // first byte the high byte of a word.
        let mut delta: Option<Value> = None;
        for (j, w) in chunk_widths(len).enumerate() {
            let at = 4 * j as i32;
            let new = self.reg(src, j);
            if !fixes.is_empty() {
                let old = self.load_be(addr, at, w, FRAME);
                let d = self.chunk_sum_delta(old, new, w);
                delta = Some(match delta {
                    Some(sum) => self.b.ins().iadd(sum, d),
                    None => d,
                });
            }
            self.store_be(new, addr, at, w);
        }
        let Some(delta) = delta else { return };
        let write = Write {
            base,
            offset,
            len,
            start,
        };
        for fix in fixes {
            self.fix_checksum(fix, &write, delta);
        }
    }

    /// A chunk's part of a write's checksum delta: a chunk of `w` bytes
    /// that held `old` and now hold `new` (both `i32`) changes the sum of
    /// the 16-bit words it lies in by `(new - old) << 8 * (4 - w)` modulo
    /// 0xffff when its first byte is the high byte of a word (`2^16` is 1
    /// modulo 0xffff, so a 32-bit number is congruent to the sum of its two
    /// halves). An `i64`, possibly negative.
    fn chunk_sum_delta(&mut self, old: Value, new: Value, w: usize) -> Value {
        // Only the chunk's low `w` bytes are written.
        let new = match w {
            4 => new,
            _ => self.b.ins().band_imm_u(new, (1i64 << (8 * w)) - 1),
        };
        let old = self.b.ins().uextend(types::I64, old);
        let new = self.b.ins().uextend(types::I64, new);
        let d = self.b.ins().isub(new, old);
        self.b.ins().ishl_imm_u(d, 8 * (4 - w) as i64)
    }

    /// Fixes the checksum of `fix` after `write`, whose sum delta is
    /// `delta` ([`Self::chunk_sum_delta`]): `checksum::update`'s result,
    /// computed without a call. That function adds to `!checksum` the
    /// difference of each written byte as a word of its own (the byte high
    /// when it sits an even distance from the field); the sum here is
    /// congruent to its sum modulo 0xffff and also positive, so folding
    /// both gives the same number in `1..=0xffff`.
    fn fix_checksum(&mut self, fix: &ChecksumFix, write: &Write, delta: Value) {
        // A write over the field itself sets the checksum: no fix. When
        // both are at one base, known now.
        let same_base = fix.base == write.base;
        let (lo, hi) = (
            u32::from(write.offset),
            u32::from(write.offset) + write.len as u32,
        );
        if same_base && lo < u32::from(fix.offset) + 2 && u32::from(fix.offset) < hi {
            return;
        }
        let b = self.base(fix.base);
        let i = usize::from(fix.base.0).min(NUM_BASES - 1);
        // Every frame the code runs holds the field when its base is
        // surely present at no more than a known offset (which the code is
        // given frames long enough for).
        let there = self.surely_there(b, i) >= u32::from(fix.offset) + 2;
        let mut ok = match there {
            true => None,
            false => Some(self.b.ins().icmp_imm_u(IntCC::NotEqual, b, ABSENT)),
        };
        if let Some((key, value)) = fix.when {
            // An absent key is no 32-bit value.
            let k = self.key(key);
            let is = self.b.ins().icmp_imm_u(IntCC::Equal, k, i64::from(value));
            ok = Some(match ok {
                Some(ok) => self.b.ins().band(ok, is),
                None => is,
            });
        }
        let after = self.b.create_block();
        if let Some(ok) = ok {
            self.guard(ok, after);
        }
        let field = self.b.ins().iadd_imm_u(b, i64::from(fix.offset));
        let end = self.b.ins().iadd_imm_u(field, 2);
        if !there {
            let inside = self
                .b
                .ins()
                .icmp(IntCC::UnsignedLessThanOrEqual, end, self.len);
            self.guard(inside, after);
        }
        let shift = if same_base {
            let odd = (write.offset ^ fix.offset) & 1;
            self.b.ins().iconst(types::I64, i64::from(odd * 8))
        } else {
            let write_end = self.b.ins().iadd_imm_u(write.start, write.len as i64);
            let before = self.b.ins().icmp(IntCC::UnsignedLessThan, write.start, end);
            let after_start = self.b.ins().icmp(IntCC::UnsignedLessThan, field, write_end);
            let overlap = self.b.ins().band(before, after_start);
            self.guard_unless(overlap, true, after);
            let odd = self.b.ins().bxor(write.start, field);
            let odd = self.b.ins().band_imm_u(odd, 1);
            self.b.ins().ishl_imm_u(odd, 3)
        };
        let addr = self.b.ins().iadd(self.frame, field);
        let checksum = self.load_be(addr, 0, 2, FRAME);
        if fix.zero_means_none {
            let none = self.b.ins().icmp_imm_u(IntCC::Equal, checksum, 0);
            self.guard_unless(none, true, after);
        }
        // An odd distance swaps each byte's half: times 2^8. The bias, a
        // multiple of 0xffff above any delta of 16 bytes (|delta| < 2^34),
        // keeps the sum positive; it stays below 2^45.
        let biased = self.b.ins().iadd_imm_u(delta, 0xffff << 20);
        let moved = self.b.ins().ishl(biased, shift);
        let complement = self.b.ins().bxor_imm_u(checksum, 0xffff);
        let complement = self.b.ins().uextend(types::I64, complement);
        let mut sum = self.b.ins().iadd(moved, complement);
        // Fold to 16 bits with end-around carry: 32 then 16 bits (2^32 and
        // 2^16 are 1 modulo 0xffff), until at most 0xffff.
        let low = self.b.ins().band_imm_u(sum, 0xffff_ffff);
        let high = self.b.ins().ushr_imm_u(sum, 32);
        sum = self.b.ins().iadd(low, high);
        for _ in 0..3 {
            let low = self.b.ins().band_imm_u(sum, 0xffff);
            let high = self.b.ins().ushr_imm_u(sum, 16);
            sum = self.b.ins().iadd(low, high);
        }
        let sum = self.b.ins().ireduce(types::I32, sum);
        let mut out = self.b.ins().bxor_imm_u(sum, 0xffff);
        if fix.zero_means_none {
            // A computed 0 is sent as 0xffff (0 means "none").
            let zero = self.b.ins().icmp_imm_u(IntCC::Equal, out, 0);
            let ones = self.imm32(0xffff);
            out = self.b.ins().select(zero, ones, out);
        }
        self.store_be(out, addr, 0, 2);
        self.b.ins().jump(after, &[]);
        self.enter_sealed(after);
    }

    /// Writes the `width`-byte big-endian number `v` (an `i32`) at `addr +
    /// offset` (in bounds).
    fn store_be(&mut self, v: Value, addr: Value, offset: i32, width: usize) {
        match width {
            1 => {
                self.b.ins().istore8(FRAME, v, addr, offset);
            }
            2 => {
                let v = self.b.ins().ireduce(types::I16, v);
                let v = self.b.ins().bswap(v);
                self.b.ins().store(FRAME, v, addr, offset);
            }
            3 => {
                let hi = self.b.ins().ushr_imm_u(v, 8);
                self.store_be(hi, addr, offset, 2);
                self.store_be(v, addr, offset + 2, 1);
            }
            _ => {
                let v = self.b.ins().bswap(v);
                self.b.ins().store(FRAME, v, addr, offset);
            }
        }
    }
}

/// A payload write, as the checksum fixes after it see it.
struct Write {
    /// The base it wrote at.
    base: BaseId,
    /// Its offset from the base.
    offset: u16,
    /// Its length in bytes.
    len: usize,
    /// Its frame offset (`base + offset`).
    start: Value,
}

/// Whether `rule` can enter another chain (a jump, a goto, or a verdict map,
/// whose elements can change at run time).
fn leaves_chain(rule: &Rule) -> bool {
    rule.insns.iter().any(|i| {
        matches!(
            i,
            Insn::Verdict(Verdict::Jump(_) | Verdict::Goto(_)) | Insn::VmapLookup { .. }
        )
    })
}

/// The widths in bytes of the register chunks of a `len`-byte value.
fn chunk_widths(len: usize) -> impl Iterator<Item = usize> {
    (0..chunks_for(len)).map(move |j| (len - 4 * j).min(4))
}

/// The integer type a `len`-byte value is packed into: one 32-bit lane a
/// chunk ([`crate::insn::pack_chunks`]), or its bytes ([`Translator::packed_bytes`]).
fn packed_type(len: usize) -> Type {
    match len {
        0..=4 => types::I32,
        5..=8 => types::I64,
        _ => types::I128,
    }
}

/// The integer condition of a compare, unsigned (byte order).
fn cond(op: CmpOp) -> IntCC {
    match op {
        CmpOp::Eq => IntCC::Equal,
        CmpOp::Ne => IntCC::NotEqual,
        CmpOp::Lt => IntCC::UnsignedLessThan,
        CmpOp::Le => IntCC::UnsignedLessThanOrEqual,
        CmpOp::Gt => IntCC::UnsignedGreaterThan,
        CmpOp::Ge => IntCC::UnsignedGreaterThanOrEqual,
    }
}
