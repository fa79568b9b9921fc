//! The running program and every change to it: load, reload, rule
//! deletion, set elements.
//!
//! [`Programs`] holds the current [`Loaded`] program behind an `ArcSwap`.
//! Workers read it once per batch ([`classifier::ProgramClassifier`]), so
//! a batch runs entirely under one program: every frame sees the old or the
//! new one, never a mix, and a swap loses or delays no frame. Changes are
//! made by the control side, one at a time, off the packet path: parse,
//! compile, verify and build the engine's code, then swap.
//!
//! After a swap that removes rules (a reload without them, `delete rule`),
//! the control side waits until every worker has left the batches it began
//! under the old program ([`epoch`]); only then does it read the removed
//! rules' counters. Nothing can count them any more, so the numbers it
//! reports are final: no frame is counted both in them and by the program
//! that follows, and none is missed in between. Unchanged rules keep their
//! handles and their counter objects ([`carry`]). The final counters of
//! removed rules are kept in a bounded history ([`HISTORY`] entries).
//!
//! Limitations: rate limiters start full in every new program (a reload or
//! a deletion resets them); a reload takes sets and maps from the file, so
//! elements added at run time do not survive it (a deletion keeps them).

pub mod carry;
pub mod classifier;
pub mod elements;
pub mod epoch;
pub mod live;
pub mod view;

use crate::classify::PortNo;
use crate::config::Engine;
use crate::control::protocol::{
    Counts, DeletedRule, ElementsReport, ReloadReport, RuleSelector, RulesetView,
};
use crate::engine::{Code, EngineError};
use arc_swap::ArcSwapOption;
use epoch::Epochs;
use ruleset::CheckedRuleset;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use vm::runtime::{Clock, Counter};
use vm::{
    CounterId, InputPort, Instance, MapElem, Outcome, Packet, PortId, Program, Rule, Tracer,
    Verified,
};

/// Most deleted rules whose final counters `list --deleted` shows.
pub const HISTORY: usize = 256;

/// Why a change to the running program was refused. Nothing changed.
#[derive(Debug, thiserror::Error)]
pub enum ProgramError {
    /// The ruleset (or an element list) has errors.
    #[error("the ruleset has errors")]
    Diagnostics(ruleset::Diagnostics),
    /// The verifier refused the program.
    #[error("the program was refused by the verifier: {0}")]
    Verify(#[from] vm::VerifyError),
    /// The engine cannot run it.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// `reload` without a file, and none configured.
    #[error("no ruleset file is configured: give one to reload")]
    NoFile,
    /// There is no program to change.
    #[error("no ruleset is loaded")]
    NoProgram,
    /// No rule fits the selector.
    #[error("no rule {0}")]
    NoSuchRule(String),
    /// Several rules fit the selector.
    #[error("several rules {what}: handles {handles:?}; delete by handle")]
    Ambiguous {
        /// The selector.
        what: String,
        /// The rules that fit it.
        handles: Vec<u64>,
    },
    /// No named set or map of that name.
    #[error("no set or map named {0:?}")]
    NoSuchSet(String),
    /// An element list or a live trace's match that cannot be used.
    #[error("{0}")]
    Invalid(String),
    /// The trace of a frame could not be written.
    #[error("writing the trace: {0}")]
    Trace(std::io::Error),
}

/// The switch's ports as programs see them.
#[derive(Clone, Debug, Default)]
pub struct SwitchPorts {
    /// Names, by [`PortNo`].
    pub names: Vec<String>,
    /// Link-layer addresses, by [`PortNo`].
    pub macs: Vec<[u8; 6]>,
}

/// A program ready to run: verified, instantiated with its runtime objects,
/// prepared by the engine, with its ports mapped to the switch's.
#[derive(Debug)]
pub struct Loaded {
    /// The runtime objects, made runnable by the engine.
    code: Code,
    /// Switch port of each program port, by [`PortId`].
    outputs: Vec<Option<PortNo>>,
    /// Each switch port as this program sees it, by [`PortNo`].
    inputs: Vec<InputPort>,
    checked: Arc<CheckedRuleset>,
    file: PathBuf,
    generation: u64,
    deleted_since_load: Vec<u64>,
}

impl Loaded {
    /// The program.
    pub fn program(&self) -> &Program {
        self.code.instance().program().program()
    }

    /// Its runtime objects.
    pub fn instance(&self) -> &Instance {
        self.code.instance()
    }

    /// Runs the program on `frame`, received on `input`.
    #[inline]
    pub fn run<T: Tracer>(
        &self,
        frame: &mut [u8],
        input: PortNo,
        out: &mut Outcome,
        tracer: &mut T,
    ) {
        let packet = Packet {
            frame,
            port: &self.inputs[input.index()],
            mark: 0,
        };
        self.code.run(packet, out, tracer);
    }

    /// The switch port that program port `id` names.
    #[inline]
    pub fn output(&self, id: PortId) -> Option<PortNo> {
        self.outputs.get(usize::from(id.0)).copied().flatten()
    }

    /// The program with the current elements of its sets and maps, which
    /// may differ from the declared ones after `add element`.
    fn snapshot(&self) -> Program {
        let mut program = self.program().clone();
        for (i, set) in program.sets.iter_mut().enumerate() {
            if let Some(live) = self.instance().set(vm::SetId(i as u16)) {
                set.elements = live.elements().into_iter().map(|(e, ())| e).collect();
            }
        }
        for (i, map) in program.maps.iter_mut().enumerate() {
            if let Some(live) = self.instance().map(vm::MapId(i as u16)) {
                map.elements = live
                    .elements()
                    .into_iter()
                    .map(|(key, data)| MapElem { key, data })
                    .collect();
            }
        }
        program
    }

    fn counter(&self, rule: &Rule) -> Option<Counts> {
        let c = rule
            .counter
            .and_then(|id| self.instance().counter(id))?
            .get();
        Some(Counts {
            packets: c.packets,
            bytes: c.bytes,
        })
    }

    /// The rule with `handle`: its chain's name and the rule.
    fn rule(&self, handle: u64) -> Option<(&str, &Rule)> {
        self.program().chains.iter().find_map(|c| {
            c.rules
                .iter()
                .find(|r| r.handle == handle)
                .map(|r| (c.name.as_str(), r))
        })
    }

    /// The final counters of the rule with `handle`, read once no worker
    /// runs this program any more.
    fn removed(&self, handle: u64, by: &str) -> Option<DeletedRule> {
        let (chain, rule) = self.rule(handle)?;
        let source = rule.source.as_ref();
        Some(DeletedRule {
            handle,
            chain: chain.to_string(),
            text: source.map_or_else(String::new, |s| s.text.clone()),
            comment: source.and_then(|s| s.comment.clone()),
            counter: self.counter(rule),
            by: by.to_string(),
            at: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        })
    }
}

/// What only one change at a time may touch.
#[derive(Debug)]
struct Changes {
    next_handle: u64,
    generation: u64,
    history: VecDeque<DeletedRule>,
}

/// The running program, shared by the workers and the control side.
#[derive(Debug)]
pub struct Programs {
    current: ArcSwapOption<Loaded>,
    epochs: Epochs,
    live: live::Live,
    changes: Mutex<Changes>,
    ports: SwitchPorts,
    engine: Engine,
    clock: Arc<dyn Clock>,
}

impl Programs {
    /// No program yet (every frame is switched) for a switch with `ports`,
    /// running programs on `engine`, rate limiters timed by `clock`.
    pub fn new(ports: SwitchPorts, engine: Engine, clock: Arc<dyn Clock>) -> Programs {
        Programs {
            current: ArcSwapOption::empty(),
            epochs: Epochs::default(),
            live: live::Live::default(),
            changes: Mutex::new(Changes {
                next_handle: 1,
                generation: 0,
                history: VecDeque::new(),
            }),
            ports,
            engine,
            clock,
        }
    }

    /// The switch's ports.
    pub fn ports(&self) -> &SwitchPorts {
        &self.ports
    }

    /// The current program, if any.
    pub fn current(&self) -> Option<Arc<Loaded>> {
        self.current.load_full()
    }

    /// The live-trace slot the workers check.
    pub fn live(&self) -> &live::Live {
        &self.live
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Changes> {
        self.changes.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Builds a [`Loaded`] from a verified program.
    fn instantiate(
        &self,
        verified: Verified,
        counters: Vec<(CounterId, Arc<Counter>)>,
        checked: Arc<CheckedRuleset>,
        file: PathBuf,
        generation: u64,
        deleted_since_load: Vec<u64>,
    ) -> Result<Loaded, ProgramError> {
        let program = verified.program();
        let outputs = program
            .ports
            .iter()
            .map(|name| {
                self.ports
                    .names
                    .iter()
                    .position(|n| n == name)
                    .map(|i| PortNo(i as u16))
            })
            .collect();
        let inputs = self
            .ports
            .names
            .iter()
            .zip(&self.ports.macs)
            .map(|(name, mac)| InputPort::new(program, name, *mac))
            .collect();
        let instance = Instance::with_counters(Arc::new(verified), self.clock.clone(), counters);
        let code = Code::new(self.engine, Arc::new(instance))?;
        Ok(Loaded {
            code,
            outputs,
            inputs,
            checked,
            file,
            generation,
            deleted_since_load,
        })
    }

    /// Swaps `new` in, waits until no worker runs the old program, and
    /// returns the old one (whose counters are then final).
    fn swap(&self, new: Loaded) -> Option<Arc<Loaded>> {
        let old = self.current.swap(Some(Arc::new(new)));
        self.epochs.quiesce();
        old
    }

    /// Registers a worker and returns its classifier.
    pub fn classifier(self: &Arc<Self>) -> classifier::ProgramClassifier {
        classifier::ProgramClassifier::new(self.clone(), self.epochs.register())
    }

    /// Compiles `file` and swaps it in. Rules whose fingerprint the running
    /// program has keep their handle and counter; the rules it drops are
    /// reported with their final counters.
    pub fn reload(&self, file: &Path) -> Result<ReloadReport, ProgramError> {
        let checked = ruleset::check_file(file).map_err(ProgramError::Diagnostics)?;
        let mut program = compiler::compile(&checked)
            .map_err(|e| ProgramError::Diagnostics(compiler::error::diagnostics(&checked, e)))?;
        let mut changes = self.lock();
        let old = self.current.load_full();
        let mut next_handle = changes.next_handle;
        let carried = carry::carry(old.as_deref(), &mut program, &mut next_handle);
        let verified = vm::verify(program)?;
        let generation = changes.generation + 1;
        let loaded = self.instantiate(
            verified,
            carried.counters,
            Arc::new(checked),
            file.to_path_buf(),
            generation,
            Vec::new(),
        )?;
        changes.next_handle = next_handle;
        changes.generation = generation;
        let old = self.swap(loaded);
        let mut removed = Vec::new();
        if let Some(old) = &old {
            for rule in old.program().chains.iter().flat_map(|c| &c.rules) {
                if !carried.kept.contains(&rule.handle) {
                    removed.extend(old.removed(rule.handle, "reload"));
                }
            }
        }
        for r in &removed {
            remember(&mut changes.history, r.clone());
        }
        Ok(ReloadReport {
            file: file.display().to_string(),
            generation,
            kept: carried.kept,
            added: carried.added,
            removed,
        })
    }

    /// Removes one rule: swaps in the running program without it, waits
    /// for the workers to leave the old one, and returns the rule's final
    /// counters.
    pub fn delete_rule(&self, selector: &RuleSelector) -> Result<DeletedRule, ProgramError> {
        let mut changes = self.lock();
        let old = self.current.load_full().ok_or(ProgramError::NoProgram)?;
        let handle = select(old.program(), selector)?;
        let mut program = old.snapshot();
        let mut gone = None;
        for chain in &mut program.chains {
            if let Some(i) = chain.rules.iter().position(|r| r.handle == handle) {
                gone = Some(chain.rules.remove(i));
            }
        }
        let gone_counter = gone.and_then(|r| r.counter);
        let counters = old
            .instance()
            .counters()
            .iter()
            .enumerate()
            .map(|(i, c)| (CounterId(i as u32), c.clone()))
            .filter(|(id, _)| Some(*id) != gone_counter)
            .collect();
        let verified = vm::verify(program)?;
        let generation = changes.generation + 1;
        let mut deleted = old.deleted_since_load.clone();
        deleted.push(handle);
        let loaded = self.instantiate(
            verified,
            counters,
            old.checked.clone(),
            old.file.clone(),
            generation,
            deleted,
        )?;
        changes.generation = generation;
        let old = self.swap(loaded).ok_or(ProgramError::NoProgram)?;
        let removed = old
            .removed(handle, "delete")
            .ok_or_else(|| ProgramError::NoSuchRule(format!("with handle {handle}")))?;
        remember(&mut changes.history, removed.clone());
        Ok(removed)
    }

    /// Adds (`add`) or deletes the elements written in `text` to or from
    /// the named set or map `set`, while frames run. All elements are
    /// checked before any is changed.
    pub fn change_elements(
        &self,
        set: &str,
        text: &str,
        add: bool,
    ) -> Result<ElementsReport, ProgramError> {
        let _changes = self.lock();
        let current = self.current.load_full().ok_or(ProgramError::NoProgram)?;
        let parsed = elements::parse(&current.checked, current.program(), set, text)?;
        let instance = current.instance();
        let verified = instance.program();
        let (changed, n, size) = match parsed {
            elements::Parsed::Set(id, elems) => {
                for e in &elems {
                    verified.check_set_element(id, e)?;
                }
                let (n, mut changed) = (elems.len(), 0);
                for e in elems {
                    changed += usize::from(if add {
                        instance.add_set_element(id, e)?
                    } else {
                        instance.delete_set_element(id, &e)?
                    });
                }
                (changed, n, instance.set(id).map_or(0, |s| s.len()))
            }
            elements::Parsed::Map(id, elems) => {
                for e in &elems {
                    verified.check_map_element(id, e)?;
                }
                let (n, mut changed) = (elems.len(), 0);
                for e in elems {
                    changed += usize::from(if add {
                        instance.add_map_element(id, e)?
                    } else {
                        instance.delete_map_element(id, &e.key)?
                    });
                }
                (changed, n, instance.map(id).map_or(0, |m| m.len()))
            }
        };
        Ok(ElementsReport {
            set: set.to_string(),
            changed,
            unchanged: n - changed,
            size,
        })
    }

    /// The running ruleset with live counters, and with `deleted` the
    /// history of removed rules.
    pub fn list(&self, deleted: bool) -> RulesetView {
        let history = deleted.then(|| self.lock().history.iter().cloned().collect());
        view::ruleset(self.current.load_full().as_deref(), history)
    }

    /// Runs `frame` through a copy of the running program (same rules, same
    /// set elements, its own counters and limiters, so the running ones do
    /// not move) as if received on port `iif`, and returns the trace as
    /// `switchctl trace` prints it.
    pub fn trace(
        &self,
        frame: &[u8],
        iif: Option<&str>,
        json: bool,
    ) -> Result<String, ProgramError> {
        let current = self.current.load_full().ok_or(ProgramError::NoProgram)?;
        let verified = vm::verify(current.snapshot())?;
        let name = iif.unwrap_or("");
        let mac = self
            .ports
            .names
            .iter()
            .position(|n| n == name)
            .map_or([0; 6], |i| self.ports.macs[i]);
        let port = InputPort::new(verified.program(), name, mac);
        let instance = Instance::new(Arc::new(verified), self.clock.clone());
        let code = Code::new(self.engine, Arc::new(instance))?;
        let mut out = Vec::new();
        crate::ctl::trace::trace_frames(&code, &[frame.to_vec()], &port, json, &mut out)
            .map_err(ProgramError::Trace)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }
}

fn remember(history: &mut VecDeque<DeletedRule>, rule: DeletedRule) {
    if history.len() == HISTORY {
        history.pop_front();
    }
    history.push_back(rule);
}

/// The handle of the one rule `selector` names.
fn select(program: &Program, selector: &RuleSelector) -> Result<u64, ProgramError> {
    let rules = program.chains.iter().flat_map(|c| &c.rules);
    let (what, handles): (String, Vec<u64>) = match selector {
        RuleSelector::Handle(h) => (
            format!("with handle {h}"),
            rules.filter(|r| r.handle == *h).map(|r| r.handle).collect(),
        ),
        RuleSelector::Words(w) => (
            format!("with comment or text {w:?}"),
            rules
                .filter(|r| {
                    r.source.as_ref().is_some_and(|s| {
                        s.comment.as_deref() == Some(w.as_str()) || s.text == w.trim()
                    })
                })
                .map(|r| r.handle)
                .collect(),
        ),
    };
    match handles[..] {
        [h] => Ok(h),
        [] => Err(ProgramError::NoSuchRule(what)),
        _ => Err(ProgramError::Ambiguous { what, handles }),
    }
}
