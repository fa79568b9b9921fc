//! Tracing a packet's way through the rules, for `switchctl trace`.
//!
//! Engines are generic over a [`Tracer`]; with [`NoTrace`] every call is an
//! empty inline function, so tracing costs nothing when it is off.

use crate::insn::{ChainId, Verdict};
use crate::program::Policy;

/// How a rule ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleResult {
    /// All its instructions passed and it gave this verdict (a verdict
    /// instruction or a verdict map's element).
    Verdict(Verdict),
    /// Instruction `insn` could not complete: no match.
    Broke {
        /// Index of the instruction in the rule.
        insn: usize,
    },
    /// All its instructions passed and it gave no verdict: on to the next.
    End,
    /// A parse-section rule passed and skips the next `rules` rules.
    Skip {
        /// How many rules are skipped.
        rules: u16,
    },
}

/// Receives the events of one packet's evaluation.
pub trait Tracer {
    /// Whether the tracer wants events at all. Engines that must do extra
    /// work to report them (the JIT runs separately compiled code) skip it
    /// when this is false.
    const EVENTS: bool = true;
    /// A rule ran; `chain` is `None` for the parse section.
    fn rule(&mut self, chain: Option<ChainId>, rule: usize, result: RuleResult);
    /// A base chain's policy decided (the packet fell off its end or
    /// returned from it).
    fn policy(&mut self, chain: ChainId, policy: Policy);
}

/// The tracer that records nothing and costs nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoTrace;

impl Tracer for NoTrace {
    const EVENTS: bool = false;
    #[inline(always)]
    fn rule(&mut self, _: Option<ChainId>, _: usize, _: RuleResult) {}
    #[inline(always)]
    fn policy(&mut self, _: ChainId, _: Policy) {}
}

/// One recorded event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceEvent {
    /// A rule ran.
    Rule {
        /// The chain, `None` for the parse section.
        chain: Option<ChainId>,
        /// Index of the rule in its chain.
        rule: usize,
        /// How it ended.
        result: RuleResult,
    },
    /// A base chain's policy applied.
    Policy {
        /// The base chain.
        chain: ChainId,
        /// Its policy.
        policy: Policy,
    },
}

/// A tracer that records every event, in order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceLog {
    /// The events.
    pub events: Vec<TraceEvent>,
}

impl Tracer for TraceLog {
    fn rule(&mut self, chain: Option<ChainId>, rule: usize, result: RuleResult) {
        self.events.push(TraceEvent::Rule {
            chain,
            rule,
            result,
        });
    }

    fn policy(&mut self, chain: ChainId, policy: Policy) {
        self.events.push(TraceEvent::Policy { chain, policy });
    }
}
