//! A generated ruleset of distinct 5-tuple rules, the workload of the check
//! benchmark and of `examples/gen_ruleset.rs` (which writes it to a file so
//! `switchctl check` and `nft -c -f` can be timed on the same text); and
//! the same rules expressed through one verdict map.

/// A netdev table with one base chain on `veth0` holding `n` rules, each
/// matching a distinct (saddr, daddr, sport, dport) over TCP or UDP.
pub fn five_tuple_ruleset(n: usize) -> String {
    let mut out = String::with_capacity(n * 96 + 256);
    out.push_str("table netdev bench {\n    chain ingress {\n");
    out.push_str("        type filter hook ingress device \"veth0\" priority 0; policy accept;\n");
    for t in (0..n).map(tuple) {
        out.push_str(&format!(
            "        ip saddr {} ip daddr {} {p} sport {} {p} dport {} counter {}\n",
            t.saddr,
            t.daddr,
            t.sport,
            t.dport,
            t.verdict,
            p = t.proto,
        ));
    }
    out.push_str("    }\n}\n");
    out
}

/// The same `n` rules as [`five_tuple_ruleset`], as the elements of one
/// verdict map keyed by the concatenated 5-tuple: one rule does it all.
pub fn five_tuple_map_ruleset(n: usize) -> String {
    let mut out = String::with_capacity(n * 80 + 512);
    out.push_str("table netdev bench {\n    map acl {\n");
    out.push_str(
        "        type ipv4_addr . ipv4_addr . inet_proto . inet_service . inet_service : verdict\n",
    );
    out.push_str("        elements = {\n");
    for t in (0..n).map(tuple) {
        out.push_str(&format!(
            "            {} . {} . {} . {} . {} : {},\n",
            t.saddr, t.daddr, t.proto, t.sport, t.dport, t.verdict
        ));
    }
    out.push_str("        }\n    }\n    chain ingress {\n");
    out.push_str("        type filter hook ingress device \"veth0\" priority 0; policy accept;\n");
    out.push_str("        ip saddr . ip daddr . meta l4proto . th sport . th dport vmap @acl\n");
    out.push_str("    }\n}\n");
    out
}

/// Rule `i`: a distinct (saddr, daddr, sport, dport) over TCP or UDP.
pub struct Tuple {
    pub saddr: String,
    pub daddr: String,
    pub proto: &'static str,
    pub sport: usize,
    pub dport: usize,
    pub verdict: &'static str,
}

pub fn tuple(i: usize) -> Tuple {
    Tuple {
        saddr: format!("10.{}.{}.{}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff),
        daddr: format!("192.168.{}.{}", (i / 251) % 256, i % 251),
        proto: if i.is_multiple_of(3) { "udp" } else { "tcp" },
        sport: 1024 + (i * 7) % 60000,
        dport: 1 + i % 1023,
        verdict: if i.is_multiple_of(7) {
            "drop"
        } else {
            "accept"
        },
    }
}
