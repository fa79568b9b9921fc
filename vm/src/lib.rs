//! The jitswitch virtual machine: a register machine in the style of the
//! kernel's nf_tables VM that knows no protocol.
//!
//! - [`insn`]: the instruction set;
//! - [`program`]: programs, chains, rules and their runtime object tables.

pub mod insn;
pub mod program;

pub use insn::*;
pub use program::*;
