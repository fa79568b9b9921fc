//! The 5-tuple ACLs of `ruleset/benches/five_tuple.rs` (shared with the
//! check benchmark): rulesets of `n` distinct rules, and the same rules as
//! one verdict map.

#[path = "../../ruleset/benches/five_tuple.rs"]
mod five_tuple;

pub use five_tuple::{five_tuple_map_ruleset, five_tuple_ruleset};

/// Rule `i`'s (source, destination, TCP?, source port, destination port).
pub fn tuple(i: usize) -> (String, String, bool, u16, u16) {
    let t = five_tuple::tuple(i);
    (
        t.saddr,
        t.daddr,
        t.proto == "tcp",
        t.sport as u16,
        t.dport as u16,
    )
}
