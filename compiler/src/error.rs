//! Errors of the compiler: what a checked ruleset can still get wrong when
//! it is lowered to bytecode, and their rendering as diagnostics.

use ruleset::span::Span;
use ruleset::{CheckedRuleset, Diagnostic, Diagnostics};
use thiserror::Error;

/// Why a rule (or the parse section) could not be compiled.
#[derive(Debug, Error)]
pub enum CompileError {
    /// The rule's matches need protocols that cannot be present together
    /// (nftables: "conflicting protocols specified").
    #[error("conflicting protocols: {0}")]
    ConflictingProtocols(String),
    /// A rule needs more than the VM's 16 registers at once.
    #[error("the rule needs more than {} registers at once", vm::NUM_REGS)]
    TooManyRegisters,
    /// The program needs more header bases than the VM has.
    #[error("the ruleset needs more than {} header bases", vm::NUM_BASES)]
    TooManyBases,
    /// More sets, maps or limiters than an index can name.
    #[error("the ruleset has more than 65535 sets, maps or limiters")]
    TooManyObjects,
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
    /// A header has no parse edge and no `at` layer.
    #[error(
        "header {0} cannot be reached: no parse edge leads to it and it is not declared `at` a layer"
    )]
    Unreachable(String),
    /// A layer declaration's header does not lie at a constant place.
    #[error(
        "header {0} is used by a layer declaration but does not lie at a constant offset from a layer"
    )]
    LayerHeaderNotFixed(String),
    /// A layer declaration's header has no `next` field.
    #[error("header {0} is used by a layer declaration but has no `next` field")]
    NoNextField(String),
    /// A header expression uses a comparison where a number is needed.
    #[error("a condition is used where a header expression needs a number")]
    ConditionAsValue,
    /// A header condition uses `or`, which a rule cannot branch on.
    #[error("header conditions may only combine comparisons with `and`")]
    UnsupportedCondition,
    /// A constant in a header expression does not fit 32 bits.
    #[error("a constant in a header expression does not fit 32 bits")]
    ConstantTooWide,
    /// A named map is used as a set.
    #[error("a map is used where a set is expected")]
    NotASet,
    /// A named set is used as a map.
    #[error("a set is used where a map is expected")]
    NotAMap,
    /// Something the language accepts that the compiler does not lower yet.
    #[error("not supported yet: {0}")]
    NotSupported(String),
    /// The compiler produced a program the verifier refused (a compiler bug).
    #[error("internal error: the compiled program does not verify: {0}")]
    Verify(#[from] vm::VerifyError),
}

/// A compile error and where in the ruleset it arose (`None`: in the
/// prelude's layer declarations).
#[derive(Debug)]
pub struct Located {
    /// The statement or rule at fault.
    pub span: Option<Span>,
    /// What went wrong.
    pub error: CompileError,
}

/// Renders compile errors as diagnostics against the ruleset's sources.
pub fn diagnostics(checked: &CheckedRuleset, errors: Vec<Located>) -> Diagnostics {
    let fallback = checked.tables.first().map(|t| t.span).unwrap_or_default();
    Diagnostics {
        sources: checked.sources.clone(),
        list: errors
            .into_iter()
            .map(|e| {
                let label = match &e.error {
                    CompileError::ConflictingProtocols(_) => {
                        "this match conflicts with an earlier one"
                    }
                    _ => "here",
                };
                Diagnostic::error(e.span.unwrap_or(fallback), e.error.to_string(), label)
            })
            .collect(),
    }
}
