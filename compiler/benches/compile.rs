//! How long a ruleset takes from text to a verified program: check,
//! compile and verify 10,000 distinct 5-tuple rules, written as rules and as
//! one verdict map (the generator is the check benchmark's). `bench/compile.md`
//! records the figures against `nft -f` on the same files.

#[path = "../../ruleset/benches/five_tuple.rs"]
mod five_tuple;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use five_tuple::{five_tuple_map_ruleset, five_tuple_ruleset};
use std::hint::black_box;

fn compile(c: &mut Criterion) {
    let mut group = c.benchmark_group("compile");
    group.sample_size(10);
    let n = 10_000;
    for (name, text) in [
        ("rules", five_tuple_ruleset(n)),
        ("map", five_tuple_map_ruleset(n)),
    ] {
        group.throughput(Throughput::Elements(n as u64));
        let checked = ruleset::check_str("bench.nft", &text).expect("valid");
        group.bench_with_input(
            BenchmarkId::new("check+compile+verify", name),
            &text,
            |b, text| {
                b.iter(|| {
                    let checked = ruleset::check_str("bench.nft", black_box(text)).expect("valid");
                    compiler::compile_verified(&checked).expect("compiles")
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("compile+verify", name),
            &checked,
            |b, checked| {
                b.iter(|| compiler::compile_verified(black_box(checked)).expect("compiles"))
            },
        );
    }
    group.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
