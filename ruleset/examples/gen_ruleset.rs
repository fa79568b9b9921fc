//! Prints a generated ruleset of N distinct 5-tuple rules (default 10000),
//! for timing `switchctl check` against `nft -c -f` on the same file:
//!
//! ```text
//! cargo run --release -p ruleset --example gen_ruleset -- 10000 > rules.nft
//! ```

#[path = "../benches/five_tuple.rs"]
mod five_tuple;

fn main() {
    let n = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10_000);
    print!("{}", five_tuple::five_tuple_ruleset(n));
}
