//! Writes the benchmark workloads: `bench/frames/edge.hex`,
//! `bench/frames/acl.hex`, and the ACL rulesets
//! `examples/rulesets/acl-1k.nft`, `acl-10k.nft` and `acl-10k-sets.nft`.
//! Run from the repository root:
//! `cargo run -p jitswitch-bench --bin bench_frames`.

use jitswitch_bench::{acl, frames};

fn main() -> anyhow::Result<()> {
    let header = "# Written by `cargo run -p jitswitch-bench --bin bench_frames`.\n";
    std::fs::write(
        "bench/frames/edge.hex",
        format!(
            "{header}# The edge mix, received on veth3 (the uplink).\n{}",
            frames::to_hex(&frames::edge())
        ),
    )?;
    std::fs::write(
        "bench/frames/acl.hex",
        format!(
            "{header}# Hits and near misses for acl-10k and acl-10k-sets (received on veth0).\n{}",
            frames::to_hex(&frames::acl(10_000, acl::tuple))
        ),
    )?;
    std::fs::write(
        "examples/rulesets/acl-1k.nft",
        acl::five_tuple_ruleset(1_000),
    )?;
    std::fs::write(
        "examples/rulesets/acl-10k.nft",
        acl::five_tuple_ruleset(10_000),
    )?;
    std::fs::write(
        "examples/rulesets/acl-10k-sets.nft",
        acl::five_tuple_map_ruleset(10_000),
    )?;
    Ok(())
}
