//! The engines the benchmarks and the profiling loop measure, each as a
//! closure that runs one frame: jitswitch's interpreter and JIT on a
//! compiled ruleset, the hand-written function ([`crate::native`]) and the
//! eBPF program under rbpf ([`crate::ebpf`]).

use crate::{ebpf, native};
use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use vm::jit::JitProgram;
use vm::runtime::MonotonicClock;
use vm::{InputPort, Instance, NoTrace, Outcome, Packet, interpreter};

/// Runs one frame under an engine.
pub type Run<'a> = Box<dyn FnMut(&mut [u8]) + 'a>;

/// A compiled ruleset and the port its frames arrive on.
pub struct Loaded {
    instance: Arc<Instance>,
    jit: JitProgram,
    port: InputPort,
}

/// Compiles `file` (relative to the repository root) for both engines, its
/// frames arriving on `port`.
pub fn load(file: &str, port: &str) -> anyhow::Result<Loaded> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (_, verified) = compiler::compile_file(&root.join(file))
        .map_err(|d| anyhow::anyhow!("{file}: {}", d.render(false)))?;
    let port = InputPort::new(verified.program(), port, [2, 0, 0, 0, 0, 0xfe]);
    let instance = Arc::new(Instance::new(
        Arc::new(verified),
        Arc::new(MonotonicClock::new()),
    ));
    let jit = JitProgram::compile(&instance)?;
    Ok(Loaded {
        instance,
        jit,
        port,
    })
}

/// The interpreter on `l`.
pub fn interp(l: &Loaded) -> Run<'_> {
    on_port(l, |packet, out| {
        interpreter::run(&l.instance, packet, out, &mut NoTrace)
    })
}

/// The JIT's code for `l`.
pub fn jit(l: &Loaded) -> Run<'_> {
    on_port(l, |packet, out| l.jit.run(packet, out, &mut NoTrace))
}

/// `run` on each frame as a packet on `l`'s port, into one reused outcome.
fn on_port<'a>(l: &'a Loaded, run: impl Fn(Packet<'_>, &mut Outcome) + 'a) -> Run<'a> {
    let mut out = Outcome::new();
    Box::new(move |frame| {
        let packet = Packet {
            frame,
            port: &l.port,
            mark: 0,
        };
        run(packet, &mut out);
        black_box(&out.verdict);
    })
}

/// The hand-written `edge`, frames arriving on veth3.
pub fn native() -> Run<'static> {
    let mut state = native::Edge::default();
    Box::new(move |frame| {
        black_box(native::edge(&mut state, frame, native::Port::Veth3));
    })
}

/// The eBPF `edge` (`code`, from [`ebpf::bytecode`]) under rbpf's
/// interpreter or, with `jit`, its x86-64 JIT; frames arrive on veth3.
pub fn rbpf(code: &[u8], jit: bool) -> anyhow::Result<Run<'_>> {
    let mut vm = rbpf::EbpfVmMbuff::new(Some(code))?;
    ebpf::register_helpers(&mut vm);
    if !jit {
        return Ok(Box::new(move |frame| {
            let m = ebpf::mbuff(frame, native::Port::Veth3);
            black_box(vm.execute_program(frame, &m).expect("runs"));
        }));
    }
    vm.jit_compile()?;
    Ok(Box::new(move |frame| {
        let mut m = ebpf::mbuff(frame, native::Port::Veth3);
        // SAFETY: the program checks every packet access against
        // `data_end` (`bench/tests/baselines.rs` runs it on every frame).
        black_box(unsafe { vm.execute_program_jit(frame, &mut m) }.expect("runs"));
    }))
}
