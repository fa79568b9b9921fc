//! jitswitch's own answer for the kernel-parity test: compile a ruleset,
//! run frames through an engine, and report which rules counted each frame,
//! in the same form as [`crate::kernel::KernelOracle`].

use crate::kernel::{Observation, RuleId};
use anyhow::{Result, anyhow};
use std::sync::Arc;
use vm::runtime::MonotonicClock;
use vm::{InputPort, Instance, NoTrace, Outcome, Packet};

/// A ruleset compiled and instantiated, ready to run frames.
pub struct Engine {
    instance: Instance,
    port: InputPort,
}

impl Engine {
    /// Compiles `ruleset`; frames will arrive on port `device`.
    pub fn new(ruleset: &str, device: &str) -> Result<Engine> {
        let checked = ruleset::check_str("ruleset.nft", ruleset)
            .map_err(|d| anyhow!("{}", d.render(false)))?;
        let verified = compiler::compile_verified(&checked).map_err(|e| {
            anyhow!(
                "{}",
                compiler::error::diagnostics(&checked, e).render(false)
            )
        })?;
        let port = InputPort::new(verified.program(), device, [0x02, 0, 0, 0, 0, 0x99]);
        let instance = Instance::new(Arc::new(verified), Arc::new(MonotonicClock::new()));
        Ok(Engine { instance, port })
    }

    /// Runs each frame and reports which rule counters moved.
    pub fn observe(&self, frames: &[Vec<u8>]) -> Vec<Observation> {
        let program = self.instance.program().program();
        let counted =
            |i: &Instance| -> Vec<u64> { i.counters().iter().map(|c| c.get().packets).collect() };
        let mut out = Outcome::new();
        frames
            .iter()
            .map(|frame| {
                let before = counted(&self.instance);
                let mut bytes = frame.clone();
                let packet = Packet {
                    frame: &mut bytes,
                    port: &self.port,
                    mark: 0,
                };
                vm::interpreter::run(&self.instance, packet, &mut out, &mut NoTrace);
                let after = counted(&self.instance);
                let mut hit = Vec::new();
                for chain in &program.chains {
                    for (index, rule) in chain.rules.iter().enumerate() {
                        if let Some(c) = rule.counter {
                            let c = usize::try_from(c.0).unwrap_or(usize::MAX);
                            if before.get(c) != after.get(c) {
                                hit.push(RuleId {
                                    chain: chain.name.clone(),
                                    index,
                                });
                            }
                        }
                    }
                }
                hit.sort();
                Observation::Counted(hit)
            })
            .collect()
    }
}
