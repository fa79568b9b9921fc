//! Prints a generated ruleset of N distinct 5-tuple rules (default 10000),
//! for timing `switchctl check` against `nft -c -f` on the same file; with
//! `--map`, the same rules as one verdict map:
//!
//! ```text
//! cargo run --release -p ruleset --example gen_ruleset -- 10000 > rules.nft
//! cargo run --release -p ruleset --example gen_ruleset -- 10000 --map > rules-map.nft
//! ```

#[path = "../benches/five_tuple.rs"]
mod five_tuple;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n = args.iter().find_map(|a| a.parse().ok()).unwrap_or(10_000);
    if args.iter().any(|a| a == "--map") {
        print!("{}", five_tuple::five_tuple_map_ruleset(n));
    } else {
        print!("{}", five_tuple::five_tuple_ruleset(n));
    }
}
