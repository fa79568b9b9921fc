//! Runtime objects: what a verified program's tables become when it runs.
//!
//! An [`Instance`] holds one program's counters, sets, maps and rate
//! limiters, shared by every worker thread that runs the program (put it in
//! an `Arc`). Counters are exact under concurrency, sets and maps change
//! while packets run without blocking them, and a reload can carry the
//! counters of unchanged rules into the new instance.

pub mod clock;
pub mod counters;
pub mod limits;
mod spin_lock;
pub mod tables;

pub use clock::{Clock, ManualClock, MonotonicClock};
pub use counters::{Counter, CounterValue};
pub use limits::Limiter;
pub use spin_lock::SpinLock;
pub use tables::{ElemError, KeyLayout, Map, Set, Table};

use crate::callgraph::CallGraph;
use crate::insn::{ChainId, CounterId, LimitId, MapId, PortId, SetId, Verdict};
use crate::program::{MapElem, MapValue, SetElem};
use crate::verifier::{Loc, Verified, VerifyError, graph_error};
use std::sync::{Arc, Mutex};

/// A verified program with its runtime objects: what engines run.
#[derive(Debug)]
pub struct Instance {
    program: Arc<Verified>,
    counters: Vec<Arc<Counter>>,
    sets: Vec<Set>,
    maps: Vec<Map>,
    limits: Vec<Limiter>,
    clock: Arc<dyn Clock>,
    /// The chain graph as verdict maps change it at run time.
    graph: Mutex<CallGraph>,
}

impl Instance {
    /// Instantiates `program` with fresh counters and full rate limiters,
    /// timed by `clock`.
    pub fn new(program: Arc<Verified>, clock: Arc<dyn Clock>) -> Instance {
        Instance::with_counters(program, clock, [])
    }

    /// Like [`Instance::new`], but uses the given counter objects for the
    /// given counter ids (the counters of rules a reload left unchanged);
    /// ids the program does not declare are ignored.
    pub fn with_counters(
        program: Arc<Verified>,
        clock: Arc<dyn Clock>,
        carried: impl IntoIterator<Item = (CounterId, Arc<Counter>)>,
    ) -> Instance {
        let p = program.program();
        let mut counters: Vec<Arc<Counter>> = p
            .counters
            .iter()
            .map(|_| Arc::new(Counter::new()))
            .collect();
        for (id, c) in carried {
            if let Some(slot) = counters.get_mut(id.0 as usize) {
                *slot = c;
            }
        }
        // The verifier built these same tables from these same elements,
        // so building them again cannot fail; an empty table would be the
        // answer if it somehow did.
        let sets = p
            .sets
            .iter()
            .map(|d| {
                let layout = KeyLayout::new(&d.key, d.kind);
                Set::new(
                    layout.clone(),
                    true,
                    d.elements.iter().map(|e| (e.clone(), ())),
                )
                .unwrap_or_else(|_| Set::empty(layout, true))
            })
            .collect();
        let maps = p
            .maps
            .iter()
            .map(|d| {
                let layout = KeyLayout::new(&d.key, d.kind);
                Map::new(
                    layout.clone(),
                    false,
                    d.elements.iter().map(|e| (e.key.clone(), e.data.clone())),
                )
                .unwrap_or_else(|_| Map::empty(layout, false))
            })
            .collect();
        let now = clock.now_ns();
        let limits = p.limits.iter().map(|d| Limiter::new(d, now)).collect();
        let graph = Mutex::new(program.call_graph().clone());
        Instance {
            program,
            counters,
            sets,
            maps,
            limits,
            clock,
            graph,
        }
    }

    /// The program.
    pub fn program(&self) -> &Arc<Verified> {
        &self.program
    }

    /// All counters, by [`CounterId`].
    pub fn counters(&self) -> &[Arc<Counter>] {
        &self.counters
    }

    /// A counter.
    pub fn counter(&self, id: CounterId) -> Option<&Arc<Counter>> {
        self.counters.get(id.0 as usize)
    }

    /// A set.
    pub fn set(&self, id: SetId) -> Option<&Set> {
        self.sets.get(usize::from(id.0))
    }

    /// A map.
    pub fn map(&self, id: MapId) -> Option<&Map> {
        self.maps.get(usize::from(id.0))
    }

    /// A rate limiter.
    pub fn limiter(&self, id: LimitId) -> Option<&Limiter> {
        self.limits.get(usize::from(id.0))
    }

    /// The clock rate limiters read.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    /// The id of the set called `name`.
    pub fn set_id(&self, name: &str) -> Option<SetId> {
        self.program
            .program()
            .sets
            .iter()
            .position(|s| s.name == name)
            .map(|i| SetId(i as u16))
    }

    /// The id of the map called `name`.
    pub fn map_id(&self, name: &str) -> Option<MapId> {
        self.program
            .program()
            .maps
            .iter()
            .position(|m| m.name == name)
            .map(|i| MapId(i as u16))
    }

    /// The id of the port called `name`, if the program names it.
    pub fn port_id(&self, name: &str) -> Option<PortId> {
        self.program
            .program()
            .ports
            .iter()
            .position(|p| p == name)
            .map(|i| PortId(i as u16))
    }

    /// Adds an element to a set while packets run. Returns whether it is new.
    pub fn add_set_element(&self, id: SetId, elem: SetElem) -> Result<bool, VerifyError> {
        self.program.check_set_element(id, &elem)?;
        let set = self.set(id).ok_or(VerifyError::UndefinedSet {
            at: Loc::Program,
            set: id.0,
        })?;
        let at = || {
            Loc::Set(
                id,
                self.program.program().sets[usize::from(id.0)].name.clone(),
                None,
            )
        };
        set.insert(elem, ())
            .map(|old| old.is_none())
            .map_err(|source| VerifyError::SetElement { at: at(), source })
    }

    /// Deletes an element (given exactly as added) from a set. Returns
    /// whether it was there.
    pub fn delete_set_element(&self, id: SetId, elem: &SetElem) -> Result<bool, VerifyError> {
        let set = self.set(id).ok_or(VerifyError::UndefinedSet {
            at: Loc::Program,
            set: id.0,
        })?;
        Ok(set.remove(elem).is_some())
    }

    /// Adds an entry to a map, or replaces the data of the entry with the
    /// same key, while packets run. A verdict entry that jumps or goes to a
    /// chain is refused if it would make the chain graph cyclic or too deep,
    /// exactly as the verifier would have refused it in the program.
    /// Returns whether the key is new.
    pub fn add_map_element(&self, id: MapId, elem: MapElem) -> Result<bool, VerifyError> {
        self.program.check_map_element(id, &elem)?;
        let map = self.map(id).ok_or(VerifyError::UndefinedMap {
            at: Loc::Program,
            map: id.0,
        })?;
        let mut graph = self.graph.lock().unwrap_or_else(|e| e.into_inner());
        let users = self.program.map_users(id);
        let new_target = target(&elem.data);
        if let Some(t) = new_target {
            users.iter().for_each(|u| graph.add(*u, t));
            if let Err(e) = graph.check() {
                users.iter().for_each(|u| graph.remove(*u, t));
                return Err(graph_error(self.program.program(), e));
            }
        }
        match map.insert(elem.key, elem.data) {
            Ok(old) => {
                if let Some(t) = old.as_ref().and_then(target) {
                    users.iter().for_each(|u| graph.remove(*u, t));
                }
                Ok(old.is_none())
            }
            Err(source) => {
                if let Some(t) = new_target {
                    users.iter().for_each(|u| graph.remove(*u, t));
                }
                let at = Loc::Map(
                    id,
                    self.program.program().maps[usize::from(id.0)].name.clone(),
                    None,
                );
                Err(VerifyError::MapElement { at, source })
            }
        }
    }

    /// Deletes the entry with key `key` (given exactly as added) from a map.
    /// Returns whether it was there.
    pub fn delete_map_element(&self, id: MapId, key: &SetElem) -> Result<bool, VerifyError> {
        let map = self.map(id).ok_or(VerifyError::UndefinedMap {
            at: Loc::Program,
            map: id.0,
        })?;
        let mut graph = self.graph.lock().unwrap_or_else(|e| e.into_inner());
        let old = map.remove(key);
        if let Some(t) = old.as_ref().and_then(target) {
            self.program
                .map_users(id)
                .iter()
                .for_each(|u| graph.remove(*u, t));
        }
        Ok(old.is_some())
    }
}

/// The chain a verdict-map entry enters, if any.
fn target(data: &MapValue) -> Option<ChainId> {
    match data {
        MapValue::Verdict(Verdict::Jump(t) | Verdict::Goto(t)) => Some(*t),
        _ => None,
    }
}
