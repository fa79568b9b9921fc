//! A generated ruleset of distinct 5-tuple rules, the workload of the check
//! benchmark and of `examples/gen_ruleset.rs` (which writes it to a file so
//! `switchctl check` and `nft -c -f` can be timed on the same text).

/// A netdev table with one base chain on `veth0` holding `n` rules, each
/// matching a distinct (saddr, daddr, sport, dport) over TCP or UDP.
pub fn five_tuple_ruleset(n: usize) -> String {
    let mut out = String::with_capacity(n * 96 + 256);
    out.push_str("table netdev bench {\n    chain ingress {\n");
    out.push_str("        type filter hook ingress device \"veth0\" priority 0; policy accept;\n");
    for i in 0..n {
        let proto = if i % 3 == 0 { "udp" } else { "tcp" };
        let verdict = if i % 7 == 0 { "drop" } else { "accept" };
        out.push_str(&format!(
            "        ip saddr 10.{}.{}.{} ip daddr 192.168.{}.{} {proto} sport {} {proto} dport {} counter {verdict}\n",
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff,
            (i / 251) % 256,
            i % 251,
            1024 + (i * 7) % 60000,
            1 + i % 1023,
        ));
    }
    out.push_str("    }\n}\n");
    out
}
