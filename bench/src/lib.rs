//! Reference workloads and baselines for the engine benchmarks of
//! `bench/benches/engines.rs`:
//!
//! - [`native`]: the `edge` ruleset written by hand in Rust, the baseline
//!   the JIT is measured against;
//! - [`ebpf`]: the same ruleset as an eBPF program for the `rbpf` crate,
//!   the peer VM;
//! - [`frames`]: the frames the benchmarks run (also written to
//!   `bench/frames/` by the `bench_frames` binary, with the ACL rulesets);
//! - [`acl`]: the 5-tuple ACLs of `ruleset/benches/five_tuple.rs`;
//! - [`engines`]: every engine as a closure over one frame, for the
//!   benchmarks and `examples/profile.rs`.

pub mod acl;
pub mod ebpf;
pub mod engines;
pub mod frames;
pub mod native;
