//! How long checking a ruleset takes: lexing, parsing, resolution and
//! type checking of generated 5-tuple rulesets (see `five_tuple.rs`), as
//! rules and as one verdict map, and parsing alone. `bench/check.md` records the figures against `nft -c`.

mod five_tuple;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use five_tuple::{five_tuple_map_ruleset, five_tuple_ruleset};
use std::hint::black_box;

fn check(c: &mut Criterion) {
    let mut group = c.benchmark_group("check");
    group.sample_size(20);
    for n in [1_000, 10_000] {
        let text = five_tuple_ruleset(n);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("check_str", n), &text, |b, text| {
            b.iter(|| ruleset::check_str("bench.nft", black_box(text)).expect("valid"))
        });
        group.bench_with_input(BenchmarkId::new("parse_str", n), &text, |b, text| {
            b.iter(|| ruleset::parse_str(black_box(text)))
        });
        let map = five_tuple_map_ruleset(n);
        group.bench_with_input(BenchmarkId::new("check_str_map", n), &map, |b, text| {
            b.iter(|| ruleset::check_str("bench.nft", black_box(text)).expect("valid"))
        });
    }
    group.finish();
}

criterion_group!(benches, check);
criterion_main!(benches);
