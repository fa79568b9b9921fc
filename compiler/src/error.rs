//! Errors of the compiler: what a checked ruleset can still get wrong when
//! it is lowered to bytecode.

use thiserror::Error;

/// Why a ruleset could not be compiled.
#[derive(Debug, Error)]
pub enum CompileError {
    /// A rule needs more than the VM's 16 registers at once.
    #[error("the rule needs more than {} registers at once", vm::NUM_REGS)]
    TooManyRegisters,
    /// A field is wider than one load can read.
    #[error(
        "a {bits}-bit field is wider than one load ({} bytes)",
        vm::MAX_VALUE_BYTES
    )]
    FieldTooWide {
        /// The field's width.
        bits: u32,
    },
    /// A field lies further from its header base than a load can reach.
    #[error("a field lies more than 65535 bytes from its header")]
    OffsetTooLarge,
}
