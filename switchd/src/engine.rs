//! The engines that run a loaded program on frames.
//!
//! [`Code`] is a program's runtime objects made runnable by an engine: the
//! workers, `switchctl trace` and `switchctl test` call [`Code::run`] on
//! every frame, generic over the tracer so that tracing costs nothing when
//! it is off. It is built once per load, off the packet path: for the
//! Cranelift JIT that is where the program is compiled to native code,
//! which the `Code` owns and frees when the last holder drops it.

use crate::config::Engine;
use std::sync::Arc;
use vm::jit::{JitError, JitProgram};
use vm::{Instance, Outcome, Packet, Tracer, interpreter};

/// An engine that could not prepare a program.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The Cranelift JIT could not compile the program.
    #[error("the jit engine: {0}")]
    Jit(#[from] JitError),
}

/// A program's runtime objects, made runnable by an engine.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per loaded ruleset, matched on every packet: a box would add a pointer chase"
)]
pub enum Code {
    /// Run by the reference interpreter ([`vm::interpreter`]).
    Interpreter(Arc<Instance>),
    /// Compiled to native code by the Cranelift JIT ([`vm::jit`]).
    Jit(JitProgram),
}

impl Code {
    /// Prepares `instance` to run on `engine`.
    pub fn new(engine: Engine, instance: Arc<Instance>) -> Result<Code, EngineError> {
        Ok(match engine {
            Engine::Interp => Code::Interpreter(instance),
            Engine::Jit => Code::Jit(JitProgram::compile(&instance)?),
        })
    }

    /// The engine that runs the program.
    pub fn engine(&self) -> Engine {
        match self {
            Code::Interpreter(_) => Engine::Interp,
            Code::Jit(_) => Engine::Jit,
        }
    }

    /// The runtime objects the program runs with.
    pub fn instance(&self) -> &Arc<Instance> {
        match self {
            Code::Interpreter(instance) => instance,
            Code::Jit(jit) => jit.instance(),
        }
    }

    /// Runs the program on `packet` and writes the decision into `out`
    /// (which it resets first).
    #[inline]
    pub fn run<T: Tracer>(&self, packet: Packet<'_>, out: &mut Outcome, tracer: &mut T) {
        match self {
            Code::Interpreter(instance) => interpreter::run(instance, packet, out, tracer),
            Code::Jit(jit) => jit.run(packet, out, tracer),
        }
    }
}
