//! The Cranelift JIT: native code for a verified program, giving exactly
//! the interpreter's results.
//!
//! [`JitProgram::compile`] translates an [`Instance`]'s whole program (the
//! parse section and every chain) into one native function
//! (`codegen`), which runs packets through [`JitProgram::run`] with the
//! same runtime objects as the interpreter (`context`): counters, sets,
//! maps and limiters are shared, so statistics and element changes are the
//! same whichever engine runs.
//!
//! Tracing: code that reports every rule's result costs calls on every
//! rule, so it is a second function, compiled the first time a run asks
//! for events (a [`Tracer`] whose [`Tracer::EVENTS`] is true). Untraced runs
//! never pay for it.
//!
//! Input ports: a program whose chains test the input port (`meta iifname`,
//! chains bound to a device) gets a function for each port it names and one
//! for every other port (`by_port`), each with those tests decided as it
//! was made (no load, no compare; rules for other ports are not there at
//! all); a run picks its port's function. Programs with many ports or rules
//! get one function for every port.
//!
//! Lifecycle: a `JitProgram` owns its code. Compiling a new program touches
//! nothing of a running one, and the code is freed when the `JitProgram` is
//! dropped, which the owner arranges to happen only once no thread can
//! still be running it (the daemon keeps programs behind `Arc`s that workers
//! hold for a whole batch). [`JitProgram::code_bytes`] says how much
//! executable memory the program holds.

mod codegen;
mod context;
mod facts;
mod frame_bounds;
mod groups;

pub(crate) use context::Scratch;

use crate::insn::{Insn, Meta};
use crate::interpreter;
use crate::outcome::Outcome;
use crate::packet::{InputPort, Packet};
use crate::program::Program;
use crate::runtime::Instance;
use crate::trace::Tracer;
use context::Context;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{Linkage, Module, default_libcall_names};
use std::sync::{Arc, Mutex, OnceLock};
use thiserror::Error;

/// Why a program could not be compiled to native code.
#[derive(Debug, Error)]
pub enum JitError {
    /// Cranelift has no backend for this machine.
    #[error("cranelift does not support this host: {0}")]
    UnsupportedHost(String),
    /// Cranelift refused the generated code (a bug in the code generator).
    #[error("cranelift could not compile the program: {0}")]
    Codegen(String),
}

/// Whether Cranelift can generate code for this machine: the JIT is the
/// default engine wherever this holds.
pub fn host_supported() -> bool {
    cranelift_native::builder().is_ok()
}

/// A verified program compiled to native code, with the runtime objects it
/// runs with.
pub struct JitProgram {
    instance: Arc<Instance>,
    plain: Native,
    traced: OnceLock<Result<Native, String>>,
}

impl std::fmt::Debug for JitProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitProgram")
            .field("code_bytes", &self.code_bytes())
            .finish_non_exhaustive()
    }
}

/// The signature of generated code.
type Entry = unsafe extern "C" fn(*mut Context);

/// A program's code, and the module that owns its memory.
struct Native {
    /// The module, only to free its memory on drop (`JITModule` is `Send`
    /// but not `Sync`; nothing uses it concurrently).
    module: Mutex<Option<JITModule>>,
    /// The function for the frames of each input port, by id: one for
    /// every port, or ([`by_port`]) one for each port the program names,
    /// then one for other ports in every slot after them (the id of a port
    /// the program does not name, `u32::MAX`, picks the last).
    entries: [Entry; MAX_PORT_CODES + 1],
    code_bytes: usize,
    /// The rule groups each function points into (see [`groups`]).
    groups: Vec<codegen::Groups>,
    /// The shortest frame the code may be given: it reads the bytes
    /// before this at known offsets without bounds checks (see
    /// `frame_bounds`; 0 for the traced code).
    min_len: usize,
}

impl Drop for Native {
    fn drop(&mut self) {
        let module = self.module.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Some(module) = module.take() {
            // SAFETY: `Native` is dropped when its `JitProgram` is, which the
            // owner does only once no thread can be running `entry` (see the
            // module docs); nothing else points into the module's memory.
            unsafe { module.free_memory() };
        }
    }
}

/// The most input ports a program may name to have code made for each.
const MAX_PORT_CODES: usize = 8;

/// The most instructions the chains may hold, all copies counted, for code
/// made for each input port: it takes that much more time and memory.
const MAX_PORT_CODE_INSNS: usize = 20_000;

/// Whether the untraced code of `program` is made for each input port
/// apart: when its chains test the input port (`meta iifname`, chains bound
/// to a device), which each port's code then decides as it is made, and
/// there are few ports and rules. [`JitProgram::run`] picks the port's code
/// (an index, where the tests were a load and a compare each).
fn by_port(program: &Program) -> bool {
    let insns = program
        .chains
        .iter()
        .flat_map(|c| &c.rules)
        .flat_map(|r| &r.insns);
    let reads_port = program
        .chains
        .iter()
        .any(|c| c.base.as_ref().is_some_and(|b| b.device.is_some()))
        || insns.clone().any(|i| {
            matches!(
                i,
                Insn::LoadMeta {
                    meta: Meta::Iif,
                    ..
                }
            )
        });
    let copies = program.ports.len() + 1;
    reads_port
        && program.ports.len() <= MAX_PORT_CODES
        && insns.count().saturating_mul(copies) <= MAX_PORT_CODE_INSNS
}

impl Native {
    /// Compiles `instance`'s program, with trace calls when `traced`.
    fn compile(instance: &Instance, traced: bool) -> Result<Native, JitError> {
        let mut flags = settings::builder();
        let set = |f: &mut settings::Builder, k: &str, v: &str| {
            f.set(k, v)
                .map_err(|e| JitError::Codegen(format!("setting {k}: {e}")))
        };
        set(&mut flags, "opt_level", "speed")?;
        set(&mut flags, "is_pic", "false")?;
        // Cranelift's own IR verifier checks the generated IR in debug
        // builds (the tests); release builds skip it, since it would double
        // the compile time of large rulesets.
        let verify_ir = if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        };
        set(&mut flags, "enable_verifier", verify_ir)?;
        let isa = cranelift_native::builder()
            .map_err(|e| JitError::UnsupportedHost(e.to_string()))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| JitError::UnsupportedHost(e.to_string()))?;
        let mut module = JITModule::new(JITBuilder::with_isa(isa.clone(), default_libcall_names()));
        let mut ctx = module.make_context();
        let mut fctx = FunctionBuilderContext::new();
        let program = instance.program().program();
        let ports: Vec<Option<u32>> = match !traced && by_port(program) {
            true => (0..program.ports.len() as u32)
                .chain([u32::MAX])
                .map(Some)
                .collect(),
            false => vec![None],
        };
        let (mut ids, mut groups) = (Vec::new(), Vec::new());
        let (mut code_bytes, mut min_len) = (0, 0);
        for (i, port) in ports.into_iter().enumerate() {
            let (g, len) =
                codegen::translate(&mut ctx.func, &mut fctx, instance, traced, port, &*isa)?;
            let id = module
                .declare_function(&format!("program{i}"), Linkage::Local, &ctx.func.signature)
                .map_err(|e| JitError::Codegen(e.to_string()))?;
            module
                .define_function(id, &mut ctx)
                .map_err(|e| JitError::Codegen(format!("{e:?}")))?;
            code_bytes += ctx.compiled_code().map_or(0, |c| c.code_buffer().len());
            module.clear_context(&mut ctx);
            ids.push(id);
            groups.push(g);
            min_len = len as usize;
        }
        module
            .finalize_definitions()
            .map_err(|e| JitError::Codegen(e.to_string()))?;
        let codes: Vec<Entry> = ids
            .into_iter()
            .map(|id| {
                let code = module.get_finalized_function(id);
                // SAFETY: the function was generated with exactly this
                // signature (one pointer argument, no result) and the
                // default calling convention of the host, which is that of
                // `extern "C"`.
                unsafe { std::mem::transmute::<*const u8, Entry>(code) }
            })
            .collect();
        let entries = std::array::from_fn(|i| codes[i.min(codes.len() - 1)]);
        Ok(Native {
            module: Mutex::new(Some(module)),
            entries,
            code_bytes,
            groups,
            min_len,
        })
    }

    /// The function for frames from the input port of id `iif`.
    #[inline]
    fn entry(&self, iif: u32) -> Entry {
        self.entries[(iif as usize).min(MAX_PORT_CODES)]
    }
}

impl JitProgram {
    /// Compiles the program of `instance` to native code that runs with
    /// `instance`'s runtime objects.
    pub fn compile(instance: &Arc<Instance>) -> Result<JitProgram, JitError> {
        Ok(JitProgram {
            plain: Native::compile(instance, false)?,
            instance: instance.clone(),
            traced: OnceLock::new(),
        })
    }

    /// The runtime objects the program runs with.
    pub fn instance(&self) -> &Arc<Instance> {
        &self.instance
    }

    /// Bytes of machine code the program holds (the traced variant, when
    /// it was made, included). The module allocates them in whole pages.
    pub fn code_bytes(&self) -> usize {
        let traced = match self.traced.get() {
            Some(Ok(n)) => n.code_bytes,
            _ => 0,
        };
        self.plain.code_bytes + traced
    }

    /// Number of rules the code runs as rule groups (hash lookups, see
    /// `groups`) rather than one by one.
    pub fn grouped_rules(&self) -> usize {
        self.plain.groups[0].iter().map(|g| g.len()).sum()
    }

    /// Runs the program on `packet`, writing the result to `out` (cleared
    /// first) and, when `T` records events, the rule-by-rule events to
    /// `tracer`: the interpreter's [`interpreter::run`], natively.
    pub fn run<T: Tracer>(&self, packet: Packet<'_>, out: &mut Outcome, tracer: &mut T) {
        let native = if T::EVENTS {
            match self
                .traced
                .get_or_init(|| Native::compile(&self.instance, true).map_err(|e| e.to_string()))
            {
                Ok(n) => n,
                // The traced code is the untraced code plus calls; should
                // Cranelift still refuse it, the interpreter gives the same
                // events (the engines are tested to agree).
                Err(_) => return interpreter::run(&self.instance, packet, out, tracer),
            }
        } else if packet.frame.len() < self.plain.min_len {
            let Packet { frame, port, mark } = packet;
            return self.run_short(frame, port, mark, out, tracer);
        } else {
            &self.plain
        };
        // The code writes the verdict, its decider and the mark over these.
        out.clear(packet.mark);
        let mut ctx = Context::new(&self.instance, packet, out, tracer);
        // SAFETY: `ctx` was just built for this run: its frame, outcome and
        // tracer pointers come from live exclusive borrows that last until
        // the call returns (the tracer and its hooks are set when `T`
        // records events, the only runs given the traced code, which alone
        // reads them), and its instance is the one the code was generated
        // for (kept alive by `self`). The code checks every frame
        // access against `ctx.len` but those of the first `min_len` bytes,
        // which the untraced code is only given frames of (the traced code
        // checks them all), touches registers only within the bounds the
        // verifier proved, and writes the outcome's verdict and decider
        // only as valid values (`context::result`). Code made for one
        // input port is given only that port's frames.
        unsafe { native.entry(ctx.port_id)(&mut ctx) };
    }

    /// Runs a frame shorter than any real one, for which no code is made,
    /// in the interpreter: out of the way of the common path (whose packet
    /// then need not be built in memory).
    #[cold]
    #[inline(never)]
    fn run_short<T: Tracer>(
        &self,
        frame: &mut [u8],
        port: &InputPort,
        mark: u32,
        out: &mut Outcome,
        tracer: &mut T,
    ) {
        let packet = Packet { frame, port, mark };
        interpreter::run(&self.instance, packet, out, tracer)
    }
}
