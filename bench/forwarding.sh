#!/usr/bin/env bash
# Forwarding benchmark of issue 6: `sudo bench/forwarding.sh`.
#
# Two host namespaces (h1: 10.10.0.1, h2: 10.20.0.2, one /8) behind a switch
# namespace whose ports are veth1 and veth2 (the port names edge.nft uses),
# and, in the same run, four switches between them:
#
#   switchd-empty  switchd with a base chain and no rules
#   switchd-edge   switchd with examples/rulesets/edge.nft (20 rules: ACL,
#                  anti-spoofing, VLAN, rate limits, mirror, verdict map)
#   bridge         the Linux kernel bridge
#   ovs-netdev     Open vSwitch's userspace datapath: ovsdb-server and
#                  ovs-vswitchd started by hand in the switch namespace with
#                  their own run directory, a bridge with
#                  datapath_type=netdev over the two ports, action NORMAL
#                  (the daemons are stopped and the bridge removed after
#                  each round)
#
# For each: 64-byte UDP frames from h1 to h2 at the highest rate the
# generator reaches and at a fixed 100k frames/s (frames delivered per
# second, counted on h2's interface, and the loss), TCP throughput with
# iperf3 (1 and 4 streams), and ping latency. Checksum offload, TSO and GSO
# are off on the hosts: a software switch forwards frames as they are on
# the wire. Prints a table per round and the medians; BENCH_ROUNDS sets
# the number of rounds (default 3), BENCH_SECONDS the length of each
# measurement (default 5), BENCH_WORKERS switchd's workers (default 1: on
# a 2-core machine the generator and the receiving host need the other
# core, and OVS's userspace datapath polls these ports from one thread too).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${BENCH_SECONDS:-5}

if [ "$(id -u)" != 0 ]; then
    echo "forwarding.sh: run it as root: it creates network namespaces" >&2
    exit 1
fi
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
command -v iperf3 >/dev/null 2>&1 || need+=(iperf3)
command -v ethtool >/dev/null 2>&1 || need+=(ethtool)
command -v ovs-vswitchd >/dev/null 2>&1 || need+=(openvswitch-switch)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
cargo build --release -q -p switchd --bin switchd --bin switchctl --example pktgen
bin=${CARGO_TARGET_DIR:-$root/target}/release

tag="jsw-bench-$$"
sw="$tag-sw"
tmp=$(mktemp -d "/tmp/$tag.XXXX")
switchd_pid=
cleanup() {
    set +e
    stop_switchd
    stop_ovs
    [ -f "$tmp/iperf3.pid" ] && kill "$(cat "$tmp/iperf3.pid")" 2>/dev/null
    for ns in "$sw" "$tag-h1" "$tag-h2"; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_sw() { ip netns exec "$sw" "$@"; }
h() { local n=$1; shift; ip netns exec "$tag-h$n" "$@"; }

ip netns add "$sw"
in_sw ip link set lo up
in_sw sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ips=(x 10.10.0.1 10.20.0.2)
for i in 1 2; do
    ip netns add "$tag-h$i"
    ip -n "$sw" link add "veth$i" type veth peer name eth0 netns "$tag-h$i"
    ip -n "$sw" link set "veth$i" up
    h "$i" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    h "$i" ip link set lo up
    h "$i" ip addr add "${ips[$i]}/8" dev eth0
    h "$i" ip link set eth0 up
    h "$i" ethtool -K eth0 tx off tso off gso off >/dev/null
done
mac2=$(h 2 cat /sys/class/net/eth0/address)
h 2 iperf3 -s -D --logfile "$tmp/iperf3.log" --pidfile "$tmp/iperf3.pid"

cat > "$tmp/empty.nft" <<'EOF'
table netdev empty {
    chain ingress {
        type filter hook ingress priority 0; policy accept;
    }
}
EOF

start_switchd() {
    # Started directly (not through a function): $! is switchd itself.
    ip netns exec "$sw" "$bin/switchd" --port veth1 --port veth2 --ruleset "$1" \
        --socket "$tmp/switchd.sock" --workers "${BENCH_WORKERS:-1}" 2>"$tmp/switchd.log" &
    switchd_pid=$!
    for _ in $(seq 100); do
        grep -q "switchd running" "$tmp/switchd.log" && return
        sleep 0.1
    done
    cat "$tmp/switchd.log" >&2
    exit 1
}
stop_switchd() {
    [ -n "$switchd_pid" ] || return 0
    kill "$switchd_pid" 2>/dev/null
    wait "$switchd_pid" 2>/dev/null
    switchd_pid=
}

ovs=$tmp/ovs
ovs_env=(env OVS_RUNDIR="$ovs" OVS_LOGDIR="$ovs" OVS_DBDIR="$ovs" OVS_SYSCONFDIR="$ovs")
vsctl() { "${ovs_env[@]}" ovs-vsctl --db="unix:$ovs/db.sock" "$@"; }
start_ovs() {
    mkdir -p "$ovs"
    ovsdb-tool create "$ovs/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    in_sw "${ovs_env[@]}" ovsdb-server "$ovs/conf.db" --remote="punix:$ovs/db.sock" \
        --pidfile="$ovs/ovsdb-server.pid" --detach --log-file="$ovs/ovsdb-server.log" 2>/dev/null
    vsctl --no-wait init
    in_sw "${ovs_env[@]}" ovs-vswitchd "unix:$ovs/db.sock" --pidfile="$ovs/ovs-vswitchd.pid" \
        --detach --log-file="$ovs/ovs-vswitchd.log" 2>/dev/null
    vsctl add-br ovsbr0 -- set bridge ovsbr0 datapath_type=netdev
    vsctl add-port ovsbr0 veth1
    vsctl add-port ovsbr0 veth2
    "${ovs_env[@]}" ovs-ofctl del-flows ovsbr0
    "${ovs_env[@]}" ovs-ofctl add-flow ovsbr0 actions=NORMAL
}
stop_ovs() {
    if [ -S "$ovs/db.sock" ]; then vsctl --if-exists del-br ovsbr0 || true; fi
    for d in ovs-vswitchd ovsdb-server; do
        if [ -f "$ovs/$d.pid" ]; then kill "$(cat "$ovs/$d.pid")" 2>/dev/null || true; fi
    done
    sleep 0.5
    in_sw ip link del ovsbr0 2>/dev/null || true
    rm -rf "$ovs"
}

rx2() { h 2 cat /sys/class/net/eth0/statistics/rx_packets; }

# "frames busy_ns" of switchd's workers so far ("0 0" for other switches):
# the time they spent from receive to send.
busy() {
    if [ -z "$switchd_pid" ]; then echo "0 0"; return; fi
    "$bin/switchctl" --socket "$tmp/switchd.sock" stats --json | tr -d '[]{}"' | tr ',' '\n' |
        awk -F: '/packets/ { p += $2 } /busy_ns/ { b += $2 } END { print p, b }'
}

# udp RATE: "delivered/s loss%" for 64-byte frames from h1 to h2 (RATE 0:
# as fast as the generator goes). The destination address is h2's MAC
# with an address h2 does not have, so h2 counts each frame and answers
# none.
udp() {
    local before after out sent b0 b1
    before=$(rx2)
    b0=$(busy)
    out=$(h 1 "$bin/examples/pktgen" --dev eth0 --dst-mac "$mac2" --src-ip 10.10.0.1 \
        --dst-ip 10.20.0.99 --rate "$1" --seconds "$secs")
    sleep 0.5
    after=$(rx2)
    b1=$(busy)
    sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$out")
    awk -v d=$((after - before)) -v s="$sent" -v t="$secs" -v b0="$b0" -v b1="$b1" 'BEGIN {
        split(b0, x, " "); split(b1, y, " "); f = y[1] - x[1]
        printf "%d %.1f %d %s", d / t, s ? 100 * (s - d) / s : 0, s / t,
            (f > 0 ? sprintf("%.0f", (y[2] - x[2]) / f) : "-") }'
}

# tcp STREAMS: receiver Mbit/s.
tcp() {
    h 1 iperf3 -c 10.20.0.2 -t "$secs" -P "$1" -f m >"$tmp/tcp.out" 2>&1 || true
    grep receiver "$tmp/tcp.out" | tail -1 | sed -n 's/.* \([0-9.]*\) Mbits\/sec.*/\1/p'
}

# Average ping round trip in ms (5 per second: under edge.nft's limit).
latency() {
    h 1 ping -c 20 -i 0.2 -W 1 10.20.0.2 | sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p'
}

results="$tmp/results"
measure() {
    local name=$1
    # Learn the stations and resolve the neighbours first.
    h 1 ping -c 2 -i 0.2 -W 1 10.20.0.2 >/dev/null || true
    echo "# $name: UDP at full rate..." >&2
    local max fixed t1 t4 lat
    max=$(udp 0)
    echo "# $name: UDP at 100k frames/s..." >&2
    fixed=$(udp 100000)
    echo "# $name: TCP..." >&2
    t1=$(tcp 1)
    t4=$(tcp 4)
    lat=$(latency)
    read -r max_d max_l max_s max_ns <<<"$max"
    read -r fix_d fix_l fix_s fix_ns <<<"$fixed"
    printf '%s %s %s %s %s %s %s %s %s %s\n' "$name" "$max_s" "$max_d" "$max_l" "$max_ns" \
        "$fix_d" "$fix_l" "${t1:-0}" "${t4:-0}" "${lat:-nan}" >>"$results"
}

# Rounds of all four, so that a noisy neighbour on the machine hurts them
# alike; the table shows each figure's median over the rounds.
rounds=${BENCH_ROUNDS:-3}
for round in $(seq "$rounds"); do
    echo "# round $round of $rounds" >&2
    start_switchd "$tmp/empty.nft"
    measure switchd-empty
    stop_switchd

    start_switchd "$root/examples/rulesets/edge.nft"
    measure switchd-edge
    stop_switchd

    in_sw ip link add kbr0 type bridge
    in_sw ip link set veth1 master kbr0
    in_sw ip link set veth2 master kbr0
    in_sw ip link set kbr0 up
    measure bridge
    in_sw ip link del kbr0

    start_ovs
    measure ovs-netdev
    stop_ovs
done

printf '\n%s, %s cores, kernel %s; %s s per measurement; switchd: %s worker(s)\n' \
    "$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)" "$(nproc)" "$(uname -r)" "$secs" \
    "${BENCH_WORKERS:-1}"
# ns/frame: switchd's workers' time per frame (receive to send) during the
# full-rate run.
header() {
    printf '%-14s %10s %10s %6s %9s %11s %6s %10s %10s %8s\n' switch "offered/s" "deliv/s" \
        "loss%" "ns/frame" "@100k del/s" "loss%" "tcp1 Mb/s" "tcp4 Mb/s" "ping ms"
}
row() {
    printf '%-14s %10s %10s %6s %9s %11s %6s %10s %10s %8s\n' "$@"
}
echo "each round:"
header
while read -r line; do row $line; done <"$results"
echo "median of $rounds rounds:"
header
for name in switchd-empty switchd-edge bridge ovs-netdev; do
    fields=()
    for col in $(seq 2 10); do
        fields+=("$(awk -v n="$name" -v c="$col" '$1 == n { print $c }' "$results" | sort -g |
            awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')")
    done
    row "$name" "${fields[@]}"
done
