//! Differential test of the two engines on rulesets: the interpreter and
//! the JIT must agree on everything about every frame (verdict, deciding
//! rule, fwd port, mark, the frame after payload writes, edits, mirrored
//! copies, logs, and which counters moved).
//!
//! - Every ruleset of the corpus (every construct of the language, the
//!   switch extensions and user headers included), on random frames of
//!   every shape (`jitswitch_tests::frames`: tagged, IPv4 with options,
//!   IPv6 with extension headers, ARP, MPLS, fragments, truncated, random
//!   bytes), received on each port the corpus names and on an unknown one.
//! - Random 5-tuple-ish rulesets built from the frames themselves
//!   (`jitswitch_tests::rules`), so that rules hit, miss by one and share
//!   shapes (the JIT's rule groups) often, received on ports their
//!   `meta iifname` matches name and on one they do not (the JIT makes
//!   code for each input port of a program that tests it).
//!
//! `JSW_DIFF_CASES` sets the number of proptest cases; CI runs a few dozen.
//! A long run repeats batches in release builds, each with fresh seeds:
//! `while JSW_DIFF_CASES=1000 cargo test --release -p jitswitch-tests --test
//! engines_agree; do :; done` (a batch of 1,000 cases of each test, the
//! generated rulesets on three ports, took about 20 s beside a fuzzer on
//! the 2-core development machine).

use jitswitch_tests::engine::Engines;
use jitswitch_tests::{frames, rules};
use proptest::prelude::*;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The ports frames arrive on: those the corpus binds chains to, and one
/// it does not know.
const PORTS: [&str; 3] = ["veth0", "veth1", "eth9"];

/// The ports frames of generated rulesets (whose chain runs on every port)
/// arrive on: two that their rules match by name, and one they never name.
const GENERATED_PORTS: [&str; 3] = ["veth0", "jsw1", "eth9"];

fn cases() -> u32 {
    std::env::var("JSW_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

/// Every corpus ruleset the compiler takes, compiled once per port.
fn corpus() -> &'static [(PathBuf, Engines)] {
    static CORPUS: OnceLock<Vec<(PathBuf, Engines)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
        let mut files: Vec<PathBuf> = ["valid", "extensions"]
            .iter()
            .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "nft"))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for file in files {
            for port in PORTS {
                match Engines::from_file(&file, port) {
                    Ok(engines) => out.push((file.clone(), engines)),
                    // Constructs the compiler does not support yet (the
                    // corpus checks the language, not the compiler).
                    Err(e) => assert!(
                        format!("{e:#}").contains("not supported yet"),
                        "{}: {e:#}",
                        file.display()
                    ),
                }
            }
        }
        assert!(out.len() >= 2 * PORTS.len(), "most of the corpus compiles");
        out
    })
}

/// Whether the compiler takes `text`.
fn compiles(text: &str) -> bool {
    ruleset::check_str("rule.nft", text)
        .ok()
        .is_some_and(|c| compiler::compile_verified(&c).is_ok())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn engines_agree_on_the_corpus(seed in any::<u64>()) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let frames: Vec<Vec<u8>> = frames::generate(&mut rng, 48)
            .into_iter()
            .map(|f| f.bytes)
            .collect();
        for (file, engines) in corpus() {
            if let Err(e) = engines.observe(&frames) {
                panic!("{}: {e:#}", file.display());
            }
        }
    }

    #[test]
    fn engines_agree_on_generated_rules(seed in any::<u64>()) {
        let mut rng = SmallRng::seed_from_u64(seed);
        let frames = frames::generate(&mut rng, 64);
        // The generator also writes rules nft refuses (conflicting
        // protocols): leave out those jitswitch refuses too.
        let rules: Vec<String> = rules::generate(&mut rng, &frames, 40)
            .into_iter()
            .filter(|r| compiles(&rules::ruleset(std::slice::from_ref(r), PORTS[0]).text))
            .collect();
        let text = rules::ruleset_on_every_port(&rules).text;
        let bytes: Vec<Vec<u8>> = frames.into_iter().map(|f| f.bytes).collect();
        for port in GENERATED_PORTS {
            let engines = Engines::new(&text, port).unwrap();
            if let Err(e) = engines.observe(&bytes) {
                panic!("on {port}: {e:#}\n{text}");
            }
        }
    }
}
