#!/usr/bin/env bash
# The main job: builds jitswitch and checks the example edge ruleset.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release -p switchd
./target/release/switchctl check -v examples/rulesets/edge.nft
