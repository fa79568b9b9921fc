//! Support code for the workspace-level integration tests in `tests/tests/`:
//! throwaway network namespaces, the kernel's nf_tables as an oracle, and
//! seeded generators of rules and frames.

pub mod engine;
pub mod filetest;
pub mod frames;
pub mod kernel;
pub mod netns;
pub mod parity;
pub mod rules;
