//! Kernel parity: rulesets and frames generated from seeds, loaded into the
//! kernel's nf_tables in a throwaway namespace and compiled by jitswitch;
//! every rule must count exactly the frames the kernel's counts.
//!
//! CI runs the seeds below. `JSW_PARITY_SEEDS=FIRST..LAST` runs others
//! (cases that are in no file of the repository). Needs root; skipped with
//! a note otherwise.

use jitswitch_tests::kernel::KernelOracle;
use jitswitch_tests::netns::Netns;
use jitswitch_tests::parity::{Report, run_seed};

const CI_SEEDS: std::ops::Range<u64> = 1..9;
const FRAMES: usize = 80;
const RULES: usize = 40;

fn seeds() -> std::ops::Range<u64> {
    match std::env::var("JSW_PARITY_SEEDS") {
        Ok(s) => {
            let (a, b) = s.split_once("..").expect("JSW_PARITY_SEEDS=FIRST..LAST");
            a.parse().expect("first seed")..b.parse().expect("last seed")
        }
        Err(_) => CI_SEEDS,
    }
}

#[test]
fn generated_rules_count_the_frames_the_kernel_counts() {
    if !Netns::available() {
        eprintln!("skipped: kernel parity needs root and iproute2");
        return;
    }
    let mut oracle = KernelOracle::new().expect("kernel oracle");
    let mut report = Report::default();
    let seeds = seeds();
    for seed in seeds.clone() {
        run_seed(&mut oracle, seed, FRAMES, RULES, &mut report).expect("seed runs");
    }
    eprintln!(
        "seeds {seeds:?}: {}/{} rule/frame pairs agree; {} generated rules refused by nft, {} that nft \
         could not list back; {} frames never reached the hook",
        report.agree,
        report.pairs,
        report.nft_rejected.len(),
        report.nft_unlistable.len(),
        report.not_seen
    );
    for (difference, (agree, pairs)) in &report.documented {
        eprintln!("documented difference {difference:?}: {agree}/{pairs} pairs agree");
    }
    eprintln!(
        "switchctl trace --json named the kernel's deciding rule for {}/{} frames",
        report.verdicts - report.verdict_mismatches.len(),
        report.verdicts
    );
    for rule in &report.nft_unlistable {
        eprintln!("nft could not list back: {rule}");
    }
    for m in report.verdict_mismatches.iter().take(20) {
        eprintln!(
            "seed {} [{}]: kernel decided by {:?}, switchctl trace by {:?}",
            m.0, m.1, m.2, m.3
        );
    }
    for m in report.mismatches.iter().take(20) {
        eprintln!(
            "seed {} `{}` on [{}] {}: kernel {}",
            m.seed, m.rule, m.frame, m.hex, m.kernel
        );
    }
    assert!(report.pairs > 0);
    assert!(
        report.mismatches.is_empty(),
        "{} rule/frame pairs differ from the kernel",
        report.mismatches.len()
    );
}
