//! The chain graph: which chain can enter which through `jump`, `goto` and
//! the jump/goto elements of verdict maps.
//!
//! A rule is straight-line code (instructions run in order; nothing jumps
//! backwards inside a rule), so the only way a program could loop is
//! through chains entering each other. Requiring this graph to be acyclic
//! therefore makes every packet's evaluation finite, and bounding its
//! longest path from a base chain by [`MAX_CALL_DEPTH`] bounds the call
//! stack statically.
//!
//! Edges are counted with their multiplicity so that verdict-map elements
//! added and deleted at run time can add and take away their edges.

use crate::insn::{ChainId, MAX_CALL_DEPTH};
use std::collections::BTreeMap;

/// What is wrong with a chain graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphError {
    /// A cycle: each chain enters the next, the last enters the first.
    Cycle(Vec<ChainId>),
    /// A path from a base chain longer than [`MAX_CALL_DEPTH`] chains.
    TooDeep(Vec<ChainId>),
}

/// A directed graph of chains with counted edges.
#[derive(Clone, Debug, Default)]
pub struct CallGraph {
    edges: Vec<BTreeMap<u16, u32>>,
    roots: Vec<ChainId>,
}

impl CallGraph {
    /// A graph of `chains` chains with no edges, entered at `roots`.
    pub fn new(chains: usize, roots: &[ChainId]) -> CallGraph {
        CallGraph {
            edges: vec![BTreeMap::new(); chains],
            roots: roots.to_vec(),
        }
    }

    /// Adds one edge `from -> to`.
    pub fn add(&mut self, from: ChainId, to: ChainId) {
        if let Some(out) = self.edges.get_mut(usize::from(from.0)) {
            *out.entry(to.0).or_insert(0) += 1;
        }
    }

    /// Takes away one edge `from -> to` added before.
    pub fn remove(&mut self, from: ChainId, to: ChainId) {
        if let Some(out) = self.edges.get_mut(usize::from(from.0))
            && let Some(n) = out.get_mut(&to.0)
        {
            *n -= 1;
            if *n == 0 {
                out.remove(&to.0);
            }
        }
    }

    /// Checks that the graph is acyclic and that no path from a root
    /// visits more than [`MAX_CALL_DEPTH`] chains.
    pub fn check(&self) -> Result<(), GraphError> {
        let n = self.edges.len();
        let succ: Vec<Vec<u16>> = self
            .edges
            .iter()
            .map(|m| m.keys().copied().collect())
            .collect();
        // Longest path, in chains, from each chain down; 0 = not visited yet.
        let mut height = vec![0usize; n];
        let mut on_stack = vec![false; n];
        for start in 0..n {
            if height[start] != 0 {
                continue;
            }
            // Iterative depth-first search: chain graphs may be long.
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            on_stack[start] = true;
            while let Some((v, next)) = stack.last_mut() {
                let v = *v;
                if let Some(&c) = succ[v].get(*next) {
                    *next += 1;
                    let c = usize::from(c);
                    if c >= n {
                        continue;
                    }
                    if on_stack[c] {
                        let from = stack.iter().position(|(u, _)| *u == c).unwrap_or(0);
                        let cycle = stack[from..]
                            .iter()
                            .map(|(u, _)| ChainId(*u as u16))
                            .collect();
                        return Err(GraphError::Cycle(cycle));
                    }
                    if height[c] == 0 {
                        on_stack[c] = true;
                        stack.push((c, 0));
                    }
                } else {
                    height[v] = 1 + succ[v]
                        .iter()
                        .map(|c| height.get(usize::from(*c)).copied().unwrap_or(0))
                        .max()
                        .unwrap_or(0);
                    on_stack[v] = false;
                    stack.pop();
                }
            }
        }
        for root in &self.roots {
            let mut v = usize::from(root.0);
            if height.get(v).copied().unwrap_or(0) <= MAX_CALL_DEPTH {
                continue;
            }
            let mut path = vec![*root];
            while let Some(&c) = succ[v].iter().max_by_key(|c| height[usize::from(**c)]) {
                path.push(ChainId(c));
                v = usize::from(c);
            }
            return Err(GraphError::TooDeep(path));
        }
        Ok(())
    }
}
