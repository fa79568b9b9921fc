//! The jitswitch compiler: checked rulesets to verified VM programs.
//!
//! - [`emit`]: the rule builder (register allocation, field loads);
//! - [`passes`]: optimisation passes over one rule's instructions;
//! - [`error`]: what can go wrong.

pub mod emit;
pub mod error;
pub mod passes;

pub use error::CompileError;
