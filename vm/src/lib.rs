//! The jitswitch virtual machine: a register machine in the style of the
//! kernel's nf_tables VM that knows no protocol.
//!
//! One module per stage, in the order a program goes through them:
//!
//! - [`insn`]: the instruction set;
//! - [`program`]: programs, chains, rules and their runtime object tables;
//! - [`operands`]: which registers each instruction reads and writes;
//! - [`listing`]: the stable textual listing of a program;
//! - [`saved`]: the RON form programs are saved and loaded in;
//! - [`verifier`]: the checks a program passes before it runs, giving a
//!   [`Verified`] program; [`callgraph`]: the chain graph it checks;
//! - [`runtime`]: counters, sets, maps and rate limiters, instantiated for a
//!   verified program as an [`Instance`];
//! - [`packet`], [`outcome`], [`trace`]: what a run takes and gives;
//! - [`interpreter`]: the reference engine; [`checksum`]: the incremental
//!   checksum updates of payload writes.

pub mod callgraph;
pub mod checksum;
pub mod insn;
pub mod interpreter;
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
pub use operands::{RegSpan, RegUse};
pub use outcome::{Decider, Edit, Final, Outcome, apply_edits};
pub use packet::{InputPort, Packet};
pub use program::*;
pub use runtime::Instance;
pub use trace::{NoTrace, RuleResult, TraceLog, Tracer};
pub use verifier::{Verified, VerifyError, verify};
