//! The jitswitch virtual machine: a register machine in the style of the
//! kernel's nf_tables VM that knows no protocol.
//!
//! - [`insn`]: the instruction set;
//! - [`program`]: programs, chains, rules and their runtime object tables;
//! - [`operands`]: which registers each instruction reads and writes.

pub mod insn;
pub mod operands;
pub mod program;

pub use insn::*;
pub use operands::{RegSpan, RegUse};
pub use program::*;
