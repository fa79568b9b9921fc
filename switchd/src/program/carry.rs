//! What a new program takes over from the running one: the handles and
//! counter objects of the rules whose fingerprint did not change.
//!
//! The compiler numbers rules from 1 in every program it makes; the daemon
//! renumbers them here so that an unchanged rule keeps its handle and a new
//! rule gets a handle no earlier program of this daemon has used.

use super::Loaded;
use std::collections::HashMap;
use std::sync::Arc;
use vm::runtime::Counter;
use vm::{CounterId, Program};

/// The outcome of matching a new program's rules with the running ones.
#[derive(Debug, Default)]
pub struct Carried {
    /// Counter objects for the new program's counter ids.
    pub counters: Vec<(CounterId, Arc<Counter>)>,
    /// Handles of the rules kept.
    pub kept: Vec<u64>,
    /// Handles of the new rules.
    pub added: Vec<u64>,
}

/// Gives the rules of `program` their handles: an unchanged rule of `old`
/// (same fingerprint) its old handle and counter, any other rule the next
/// handle from `next_handle`.
pub fn carry(old: Option<&Loaded>, program: &mut Program, next_handle: &mut u64) -> Carried {
    let mut previous: HashMap<u64, (u64, Option<Arc<Counter>>)> = HashMap::new();
    if let Some(old) = old {
        for rule in old.program().chains.iter().flat_map(|c| &c.rules) {
            let counter = rule
                .counter
                .and_then(|id| old.instance().counter(id))
                .cloned();
            previous.insert(rule.fingerprint, (rule.handle, counter));
        }
    }
    let mut carried = Carried::default();
    for rule in program.chains.iter_mut().flat_map(|c| &mut c.rules) {
        match previous.remove(&rule.fingerprint) {
            Some((handle, counter)) => {
                rule.handle = handle;
                if let (Some(id), Some(counter)) = (rule.counter, counter) {
                    carried.counters.push((id, counter));
                }
                carried.kept.push(handle);
            }
            None => {
                rule.handle = *next_handle;
                *next_handle += 1;
                carried.added.push(rule.handle);
            }
        }
    }
    carried
}
