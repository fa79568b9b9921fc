#!/usr/bin/env bash
# Runs the whole jitswitch test suite on a fresh machine: installs what the
# tests need (nftables and iproute2 for the kernel-parity and end-to-end
# tests; ping, ethtool and iperf3 for the switch daemon's end-to-end tests;
# cargo-nextest), then builds every target once and runs every test.
# Tests that need network namespaces run only as root; CI runs this as root.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v nft >/dev/null 2>&1 || need_apt+=(nftables)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v ping >/dev/null 2>&1 || need_apt+=(iputils-ping)
command -v ethtool >/dev/null 2>&1 || need_apt+=(ethtool)
command -v iperf3 >/dev/null 2>&1 || need_apt+=(iperf3)
if [ ${#need_apt[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
    else
        echo "scripts/test.sh: not root; skipping apt install of ${need_apt[*]}" >&2
    fi
fi
command -v cargo-nextest >/dev/null 2>&1 || cargo install --locked cargo-nextest

# Snapshot tests must fail on new or changed snapshots, never write them.
export CI=true INSTA_UPDATE=no
export CARGO_PROFILE_DEV_DEBUG=0
cargo nextest run --workspace --all-targets --no-fail-fast "$@"
cargo test --workspace --doc
