#!/usr/bin/env bash
# The jitswitch demo: `sudo ./demo.sh`.
#
# Builds switchd and switchctl (release), makes three hosts and a switch out
# of network namespaces and veth pairs, runs switchd in the switch with
# examples/rulesets/demo.nft, sends real traffic between the hosts (ping,
# TCP and UDP with iperf3), and shows what the switch saw: per-rule
# counters, the MAC table, port counters, traces of one crafted frame and
# of live traffic, a set changed at run time, a changed ruleset reloaded
# live, and a rule deleted with its final counters. Everything it made is
# removed at the end, also when it is interrupted.
#
# On a fresh Debian machine it installs what it needs with apt (iproute2,
# iputils-ping, iperf3, ethtool). It needs a Rust toolchain (cargo).
set -euo pipefail
cd "$(dirname "$0")"
root=$(pwd)

if [ "$(id -u)" != 0 ]; then
    echo "demo.sh: run it as root (sudo ./demo.sh): it creates network namespaces" >&2
    exit 1
fi

if [ -t 1 ]; then bold=$'\033[1m'; dim=$'\033[2m'; off=$'\033[0m'; else bold= dim= off=; fi
step() { printf '\n%s== %s ==%s\n' "$bold" "$*" "$off"; }
say() { printf '%s# %s%s\n' "$dim" "$*" "$off"; }

step "1. What the demo needs"
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
command -v ethtool >/dev/null 2>&1 || need+=(ethtool)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "demo.sh: cargo is missing: install a Rust toolchain (1.95 or later) first" >&2
    exit 1
fi
say "iproute2, ping, iperf3, ethtool, cargo: present"

step "2. Building switchd and switchctl (release)"
cargo build --release -q -p switchd
bin=${CARGO_TARGET_DIR:-$root/target}/release
say "built $bin/switchd and $bin/switchctl"

# Everything the demo makes is named after its process id.
tag="jsw-demo-$$"
sw="$tag-sw"
tmp=$(mktemp -d "/tmp/$tag.XXXX")
pid=
cleanup() {
    set +e
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    [ -f "$tmp/iperf3.pid" ] && kill "$(cat "$tmp/iperf3.pid")" 2>/dev/null
    for ns in "$sw" "$tag-h1" "$tag-h2" "$tag-h3"; do
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$tmp"
    printf '\n%s# cleaned up: namespaces %s-*, %s%s\n' "$dim" "$tag" "$tmp" "$off"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
h() { local n=$1; shift; in_ns "$tag-h$n" "$@"; }
ctl() {
    printf '%s$ switchctl %s%s\n' "$bold" "$*" "$off"
    "$bin/switchctl" --socket "$tmp/switchd.sock" "$@"
}

step "3. Topology: hosts h1, h2, h3 on switch ports veth1, veth2, veth3"
ip netns add "$sw"
in_ns "$sw" ip link set lo up
for i in 1 2 3; do
    ip netns add "$tag-h$i"
    ip -n "$sw" link add "veth$i" type veth peer name eth0 netns "$tag-h$i"
    ip -n "$sw" link set "veth$i" up
    h "$i" ip link set lo up
    h "$i" ip addr add "10.0.0.$i/24" dev eth0
    h "$i" ip link set eth0 up
    # No IPv6 chatter; and no checksum or segmentation offload: a software
    # switch forwards frames as they are on the wire.
    h "$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    h "$i" ethtool -K eth0 tx off tso off gso off >/dev/null 2>&1 || true
    say "h$i: 10.0.0.$i/24 on eth0 <-> veth$i of the switch"
done

step "4. switchd in the switch namespace, with examples/rulesets/demo.nft"
cp examples/rulesets/demo.nft "$tmp/rules.nft"
# Started directly (not through a function), so that $! is switchd itself.
ip netns exec "$sw" "$bin/switchd" --port veth1 --port veth2 --port veth3 \
    --ruleset "$tmp/rules.nft" --socket "$tmp/switchd.sock" --workers 2 \
    2>"$tmp/switchd.log" &
pid=$!
for _ in $(seq 100); do
    grep -q "switchd running" "$tmp/switchd.log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$tmp/switchd.log"; exit 1; }
    sleep 0.1
done
sed 's/^/    /' "$tmp/switchd.log"

step "5. Traffic: ping, TCP and UDP between the hosts"
printf '%s$ h1: ping -c 3 10.0.0.2; ping -c 3 10.0.0.3%s\n' "$bold" "$off"
h 1 ping -c 3 -i 0.2 -W 1 10.0.0.2 | tail -2
h 1 ping -c 3 -i 0.2 -W 1 10.0.0.3 | tail -2
h 2 iperf3 -s -D --logfile "$tmp/iperf3.log" --pidfile "$tmp/iperf3.pid"
sleep 0.5
printf '%s$ h1: iperf3 -c 10.0.0.2 -t 2 (TCP)%s\n' "$bold" "$off"
h 1 iperf3 -c 10.0.0.2 -t 2 -f m | grep -E "sender|receiver"
printf '%s$ h1: iperf3 -u -c 10.0.0.2 -b 20M -t 2 (UDP, mirrored to h3)%s\n' "$bold" "$off"
h 1 iperf3 -u -c 10.0.0.2 -b 20M -t 2 -f m | grep -E "receiver" || true

step "6. What the switch saw: per-rule counters, MAC table, ports, workers"
ctl list
ctl fdb
ctl ports
ctl stats

step "7. Traces"
mac1=$(h 1 cat /sys/class/net/eth0/address | tr -d ':\n')
mac2=$(h 2 cat /sys/class/net/eth0/address | tr -d ':\n')
# A telnet SYN from h1 to h2: Ethernet, IPv4, TCP to port 23.
syn="${mac2}${mac1}0800 4500002800014000400600000a0000010a000002 303900170000000000000000500220000000 0000"
say "a crafted telnet SYN from h1, run through the live program (not sent):"
ctl trace --iif veth1 --packet "$syn"
say "the next 2 echo requests the switch receives, as they are decided:"
ctl trace --live "icmp type echo-request" --count 2 &
live=$!
sleep 0.5
h 3 ping -c 2 -i 0.3 -W 1 10.0.0.1 >/dev/null
wait "$live"

step "8. A set changed at run time: h1 blocked, then let through again"
ctl add element blocked "{ 10.0.0.1 }"
if h 1 ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null; then say "h1 -> h2: answered"; else say "h1 -> h2: no answer (blocked)"; fi
ctl delete element blocked "{ 10.0.0.1 }"
if h 1 ping -c 2 -i 0.2 -W 1 10.0.0.2 >/dev/null; then say "h1 -> h2: answered"; else say "h1 -> h2: no answer"; fi

step "9. A changed ruleset, reloaded live: h1 may no longer ping h3"
sed -i 's|^\( *\)icmp type { echo-request|\1ip saddr 10.0.0.1 ip daddr 10.0.0.3 icmp type echo-request counter drop comment "h1 may not ping h3"\n&|' "$tmp/rules.nft"
printf '%s$ diff demo.nft rules.nft%s\n' "$bold" "$off"
diff examples/rulesets/demo.nft "$tmp/rules.nft" || true
ctl reload "$tmp/rules.nft"
for to in 2 3; do
    if h 1 ping -c 2 -i 0.2 -W 1 "10.0.0.$to" >/dev/null; then say "h1 -> h$to: answered"; else say "h1 -> h$to: no answer"; fi
done
say "unchanged rules kept their handles and counters; the new rule (a new handle) counts the dropped pings:"
ctl list

step "10. A rule deleted: its final counters"
ctl delete rule "no telnet"
ctl list --deleted | tail -2

step "11. Stopping switchd (SIGTERM)"
kill "$pid"
wait "$pid" || true
pid=
tail -3 "$tmp/switchd.log" | sed 's/^/    /'
