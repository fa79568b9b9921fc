//! Reference workloads and baselines for the engine benchmarks of
//! `bench/benches/engines.rs`:
//!
//! - [`native`]: the `edge` ruleset written by hand in Rust, the baseline
//!   the JIT is measured against;
//! - [`frames`]: the frames the benchmarks run (also written to
//!   `bench/frames/` by the `bench_frames` binary, with the ACL rulesets);
//! - [`acl`]: the 5-tuple ACLs of `ruleset/benches/five_tuple.rs`.

pub mod frames;
pub mod native;

pub mod acl;
