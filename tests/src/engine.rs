//! jitswitch's own answer for the kernel-parity test: compile a ruleset,
//! run frames through both engines (the interpreter and the JIT, each with
//! its own runtime objects), and report which rules counted each frame, in
//! the same form as [`crate::kernel::KernelOracle`]. A frame on which the
//! engines disagree in anything (verdict, deciding rule, mark, frame
//! after writes, edits, mirrors, counters) is an error.

use crate::kernel::{Observation, RuleId};
use anyhow::{Result, anyhow};
use ruleset::CheckedRuleset;
use std::path::Path;
use std::sync::Arc;
use switchd::config;
use switchd::engine::Code;
use vm::runtime::ManualClock;
use vm::{InputPort, Instance, NoTrace, Outcome, Packet, Verified};

/// A ruleset compiled and made runnable by both engines.
pub struct Engines {
    interp: Code,
    jit: Code,
    port: InputPort,
}

impl Engines {
    /// Compiles `ruleset`; frames will arrive on port `device`.
    pub fn new(ruleset: &str, device: &str) -> Result<Engines> {
        let checked = ruleset::check_str("ruleset.nft", ruleset)
            .map_err(|d| anyhow!("{}", d.render(false)))?;
        Engines::from_checked(&checked, device)
    }

    /// Compiles the ruleset file `path` (its includes relative to it);
    /// frames will arrive on port `device`.
    pub fn from_file(path: &Path, device: &str) -> Result<Engines> {
        let checked = ruleset::check_file(path).map_err(|d| anyhow!("{}", d.render(false)))?;
        Engines::from_checked(&checked, device)
    }

    fn from_checked(checked: &CheckedRuleset, device: &str) -> Result<Engines> {
        let verified =
            Arc::new(compiler::compile_verified(checked).map_err(|e| {
                anyhow!("{}", compiler::error::diagnostics(checked, e).render(false))
            })?);
        let port = InputPort::new(verified.program(), device, crate::kernel::DEVICE_ADDR);
        // A clock that stands still: rate limiters decide the same under
        // both engines however long each takes.
        let code = |engine, verified: &Arc<Verified>| {
            let instance = Instance::new(verified.clone(), Arc::new(ManualClock::new(0)));
            Code::new(engine, Arc::new(instance))
        };
        Ok(Engines {
            interp: code(config::Engine::Interp, &verified)?,
            jit: code(config::Engine::Jit, &verified)?,
            port,
        })
    }

    /// Runs each frame and reports which rule counters moved.
    pub fn observe(&self, frames: &[Vec<u8>]) -> Result<Vec<Observation>> {
        frames
            .iter()
            .enumerate()
            .map(|(n, frame)| {
                let want = self.run(&self.interp, frame);
                let got = self.run(&self.jit, frame);
                if want != got {
                    return Err(anyhow!(
                        "frame {n}: the interpreter gave {want:?}, the jit {got:?}"
                    ));
                }
                Ok(Observation::Counted(want.0))
            })
            .collect()
    }

    /// Runs one frame under `code`: the rules whose counters moved, the
    /// outcome and the frame after the run.
    fn run(&self, code: &Code, frame: &[u8]) -> (Vec<RuleId>, Outcome, Vec<u8>) {
        let instance = code.instance();
        let program = instance.program().program();
        let counted =
            |i: &Instance| -> Vec<u64> { i.counters().iter().map(|c| c.get().packets).collect() };
        let before = counted(instance);
        let mut out = Outcome::new();
        let mut bytes = frame.to_vec();
        let packet = Packet {
            frame: &mut bytes,
            port: &self.port,
            mark: 0,
        };
        code.run(packet, &mut out, &mut NoTrace);
        let after = counted(instance);
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
        (hit, out, bytes)
    }
}
