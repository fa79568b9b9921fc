//! The engines that run a loaded program on frames.
//!
//! [`Code`] is what an engine made of a verified program: the workers call
//! [`Code::run`] on every frame, generic over the tracer so that tracing
//! costs nothing when it is off. It is built once per load, off the packet
//! path, next to the program's runtime objects ([`crate::program::Loaded`]).
//! The interpreter needs nothing built; the Cranelift JIT, when it exists,
//! becomes a second variant holding its native code, and [`Code::new`] the
//! place where it compiles. Until then `--engine jit` is refused, never
//! quietly replaced by the interpreter.

use crate::config::Engine;
use vm::{Instance, Outcome, Packet, Tracer, interpreter};

/// An engine that cannot run programs here.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EngineError {
    /// The Cranelift JIT is not part of this build yet.
    #[error("the jit engine is not available in this build yet; use --engine interp")]
    JitUnavailable,
}

/// A program made runnable by an engine.
#[derive(Debug)]
pub enum Code {
    /// The reference interpreter ([`vm::interpreter`]).
    Interpreter,
}

impl Code {
    /// Prepares `engine` to run programs.
    pub fn new(engine: Engine) -> Result<Code, EngineError> {
        match engine {
            Engine::Interp => Ok(Code::Interpreter),
            Engine::Jit => Err(EngineError::JitUnavailable),
        }
    }

    /// Runs the program of `instance` on `packet` and writes the decision
    /// into `out` (which it resets first).
    #[inline]
    pub fn run<T: Tracer>(
        &self,
        instance: &Instance,
        packet: Packet<'_>,
        out: &mut Outcome,
        tracer: &mut T,
    ) {
        match self {
            Code::Interpreter => interpreter::run(instance, packet, out, tracer),
        }
    }
}
