//! The jitswitch virtual machine: a register machine in the style of the
//! kernel's nf_tables VM that knows no protocol.
//!
//! One module per stage, in the order a program goes through them:
//!
//! - [`insn`]: the instruction set;
//! - [`program`]: programs, chains, rules and their runtime object tables;
//! - [`operands`]: which registers each instruction reads and writes;
//! - [`listing`]: the stable textual listing of a program, and
//!   [`assembler`]: the listing read back;
//! - [`saved`]: the RON form programs are saved and loaded in;
//! - [`verifier`]: the checks a program passes before it runs, giving a
//!   [`Verified`] program; [`callgraph`]: the chain graph it checks;
//! - [`runtime`]: counters, sets, maps and rate limiters, instantiated for a
//!   verified program as an [`Instance`];
//! - [`packet`], [`outcome`], [`trace`]: what a run takes and gives;
//! - [`interpreter`]: the reference engine; [`jit`]: the Cranelift JIT,
//!   native code with the interpreter's results; [`checksum`]: the
//!   incremental checksum updates of payload writes.
//!
//! A program runs after [`verify`] accepts it, in an [`Instance`] holding its
//! runtime objects, on [`Packet`]s, giving an [`Outcome`]:
//!
//! ```
//! use std::sync::Arc;
//! use vm::runtime::MonotonicClock;
//! use vm::*;
//!
//! // Drop frames whose first byte is 0x2a; accept the rest.
//! let rule = Rule {
//!     handle: 1,
//!     fingerprint: 0,
//!     source: None,
//!     counter: None,
//!     insns: vec![
//!         Insn::Load { dst: Reg(0), base: BaseId(0), offset: 0, len: 1 },
//!         Insn::Cmp { src: Reg(0), op: CmpOp::Eq, value: Value(vec![0x2a]) },
//!         Insn::Verdict(Verdict::Drop),
//!     ],
//! };
//! let start = Rule {
//!     insns: vec![Insn::SetBase { dst: BaseId(0), from: None, offset: 0, add: None }],
//!     ..rule.clone()
//! };
//! let program = Program {
//!     bases: vec!["ll".into()],
//!     parse: vec![start],
//!     chains: vec![Chain {
//!         name: "filter/in".into(),
//!         base: Some(BaseChain { priority: 0, device: None, policy: Policy::Accept }),
//!         rules: vec![rule],
//!     }],
//!     ..Program::default()
//! };
//! let verified = verify(program).expect("a valid program");
//! let instance = Instance::new(Arc::new(verified), Arc::new(MonotonicClock::new()));
//! let port = InputPort::unnamed();
//! let mut out = Outcome::new();
//! let mut frame = [0x2a, 0x00];
//! interpreter::run(&instance, Packet { frame: &mut frame, port: &port, mark: 0 }, &mut out, &mut NoTrace);
//! assert_eq!(out.verdict, Final::Drop);
//! assert_eq!(out.decider, Decider::Rule { chain: ChainId(0), rule: 0 });
//! ```

pub mod assembler;
pub mod callgraph;
pub mod checksum;
pub mod insn;
pub mod interpreter;
pub mod jit;
pub mod listing;
pub mod operands;
pub mod outcome;
pub mod packet;
pub mod program;
pub mod runtime;
pub mod saved;
pub mod trace;
pub mod verifier;

pub use insn::*;
pub use operands::{Reads, RegSpan, RegUse};
pub use outcome::{Decider, Edit, Final, Outcome, apply_edits};
pub use packet::{InputPort, Packet};
pub use program::*;
pub use runtime::Instance;
pub use trace::{NoTrace, RuleResult, TraceLog, Tracer};
pub use verifier::{Verified, VerifyError, verify};
