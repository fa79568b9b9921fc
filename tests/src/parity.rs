//! The kernel-parity comparison: generated rules and frames run through the
//! kernel's nf_tables and through jitswitch, rule by rule.
//!
//! For every frame and every rule, both sides say whether the rule counted
//! the frame. Frames that are later fragments (IPv4 with a fragment offset,
//! IPv6 with a fragment header whose offset is not 0) are compared
//! separately: there the kernel reads the fragment's payload as a transport
//! header, and jitswitch by choice has no transport header
//! (`docs/kernel-parity.md`). [`Difference`] lists these cases.

use crate::engine::Engines;
use crate::frames::{self, Frame, be16, network_offset};
use crate::kernel::{KernelOracle, Observation};
use crate::rules;
use anyhow::{Context, Result};
use rand::SeedableRng;
use rand::rngs::SmallRng;

/// Where kernel and jitswitch disagree on one rule and frame.
#[derive(Debug)]
pub struct Mismatch {
    /// The seed of the ruleset.
    pub seed: u64,
    /// The rule's text.
    pub rule: String,
    /// How the frame was made.
    pub frame: String,
    /// The frame, as hex.
    pub hex: String,
    /// Whether the kernel's counter moved.
    pub kernel: bool,
}

/// What one or more seeds gave.
#[derive(Debug, Default)]
pub struct Report {
    /// Rule/frame pairs compared strictly.
    pub pairs: usize,
    /// Pairs where both agree.
    pub agree: usize,
    /// Pairs in a documented difference, by difference: (agree, pairs).
    pub documented: std::collections::BTreeMap<Difference, (usize, usize)>,
    /// Generated rules nft refused, or aborted on (left out of the
    /// comparison).
    pub nft_rejected: Vec<String>,
    /// Generated rules nft accepted but could not list back (left out).
    pub nft_unlistable: Vec<String>,
    /// Frames the kernel never saw (too short for their VLAN tag).
    pub not_seen: usize,
    /// The strict disagreements.
    pub mismatches: Vec<Mismatch>,
    /// Frames whose deciding rule `switchctl trace --json` reported.
    pub verdicts: usize,
    /// Frames where `switchctl trace` names another deciding rule than the
    /// kernel's counters imply: (seed, frame, kernel's rule, trace's rule).
    pub verdict_mismatches: Vec<(u64, String, Option<usize>, Option<usize>)>,
}

/// The deciding rule `switchctl trace --json` reports for each frame of a
/// ruleset (`None`: a policy decided), the same under both engines.
fn trace_deciders(ruleset: &str, frames: &[Vec<u8>]) -> Result<Vec<Option<usize>>> {
    let interp = trace_deciders_with(ruleset, frames, "interp")?;
    let jit = trace_deciders_with(ruleset, frames, "jit")?;
    for (n, (i, j)) in interp.iter().zip(&jit).enumerate() {
        anyhow::ensure!(
            i == j,
            "switchctl trace: frame {n} decided by rule {i:?} under the interpreter, \
             {j:?} under the jit\n{ruleset}"
        );
    }
    Ok(jit)
}

/// [`trace_deciders`] under one engine.
fn trace_deciders_with(
    ruleset: &str,
    frames: &[Vec<u8>],
    engine: &str,
) -> Result<Vec<Option<usize>>> {
    let dir = std::env::temp_dir().join(format!("jsw-parity-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (rules, packets) = (dir.join("ruleset.nft"), dir.join("frames.hex"));
    std::fs::write(&rules, ruleset)?;
    let hex: Vec<String> = frames
        .iter()
        .map(|f| f.iter().map(|b| format!("{b:02x}")).collect())
        .collect();
    std::fs::write(&packets, hex.join("\n"))?;
    let out = std::process::Command::new(switchctl())
        .arg("trace")
        .arg(&rules)
        .arg("--packets")
        .arg(&packets)
        .args(["--json", "--iif", crate::kernel::DEVICE, "--engine", engine])
        .output()
        .context("running switchctl trace")?;
    let _ = std::fs::remove_dir_all(&dir);
    anyhow::ensure!(
        out.status.success(),
        "switchctl trace: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)?
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line)?;
            Ok(v["rule"].as_u64().map(|r| r as usize))
        })
        .collect()
}

/// The `switchctl` binary built with the tests (`target/<profile>/switchctl`).
pub fn switchctl() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target directory")
        .join("switchctl")
}

/// True for an 802.3 frame: the type field after at most one (offloaded)
/// tag is a length (below 0x600).
pub fn is_length_frame(b: &[u8]) -> bool {
    be16(b, network_offset(b) - 2).is_some_and(|t| t < 0x600)
}

/// True for a later fragment: an IPv4 fragment offset, or an IPv6
/// fragment header with a non-zero offset, behind at most one tag.
pub fn is_later_fragment(b: &[u8]) -> bool {
    let be16 = |o: usize| be16(b, o);
    let nh = network_offset(b);
    match be16(nh - 2) {
        Some(0x0800) => be16(nh + 6).is_some_and(|f| f & 0x1fff != 0),
        Some(0x86dd) => {
            let (mut next, mut at) = (b.get(nh + 6).copied(), nh + 40);
            for _ in 0..8 {
                match next {
                    Some(0 | 43 | 60) => {
                        next = b.get(at).copied();
                        at += (usize::from(b.get(at + 1).copied().unwrap_or(0)) + 1) * 8;
                    }
                    Some(44) => {
                        if be16(at + 2).is_some_and(|o| o & 0xfff8 != 0) {
                            return true;
                        }
                        next = b.get(at).copied();
                        at += 8;
                    }
                    _ => break,
                }
            }
            false
        }
        _ => false,
    }
}

/// The cases where jitswitch differs from the kernel on purpose
/// (`docs/kernel-parity.md`), compared apart from the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Difference {
    /// A later fragment: no transport header in jitswitch.
    LaterFragment,
    /// Two `!=` matches, which nft 1.0.6 merges when the fields are adjacent.
    TwoNotEquals,
    /// `tcp flags` (any of the flags) beside a `tcp window` equality, which
    /// nft merges into one equality (the flags then exactly).
    MergedFlags,
    /// A rule nft reads as reaching a second VLAN tag (see
    /// `names_inner_tag`): nft looks behind the inner tag.
    InnerVlanTag,
}

impl Difference {
    /// The documented difference a rule/frame pair falls in, if any.
    pub fn of(rule: &str, frame: &[u8]) -> Option<Difference> {
        if is_later_fragment(frame) {
            Some(Difference::LaterFragment)
        } else if rule.matches("!=").count() >= 2 {
            Some(Difference::TwoNotEquals)
        } else if merges_flags(rule) {
            Some(Difference::MergedFlags)
        } else if names_inner_tag(rule) {
            Some(Difference::InnerVlanTag)
        } else {
            None
        }
    }
}

/// The index of a rule of `rules` that nft cannot list back, found by
/// loading halves.
fn unlistable_rule(oracle: &mut KernelOracle, rules: &[String]) -> Result<usize> {
    let (mut low, mut high) = (0, rules.len());
    while high - low > 1 {
        let mid = (low + high) / 2;
        oracle.load(
            &rules::ruleset(&rules[low..mid], crate::kernel::DEVICE).text,
            "t",
        )?;
        if oracle.listable() {
            low = mid;
        } else {
            high = mid;
        }
    }
    Ok(low)
}

/// True when nft merges a rule's `tcp flags` match with its `tcp window`
/// match: both plain values (an implicit or `==` relation, no range or set),
/// wherever they are in the rule. nft's merge takes the implicit relation of
/// the flags (any of them) for `==`.
fn merges_flags(rule: &str) -> bool {
    let plain = |field: &str, op_ok: bool| {
        rule.split(field).skip(1).any(|rest| {
            let mut words = rest.split(' ');
            let first = words.next().unwrap_or("");
            let value = if op_ok && first == "==" {
                words.next().unwrap_or("")
            } else {
                first
            };
            let number = value.starts_with(|c: char| c.is_ascii_digit());
            number && !value.contains('-')
        })
    };
    plain("tcp flags ", false) && plain("tcp window ", true)
}

/// True when a rule reaches a second VLAN tag in nft's reading: `vlan type`
/// naming a tag type, or two `ether type` matches naming tag types, or one
/// naming both 802.1Q and 802.1ad, or a `vlan` field before an `ether type`
/// naming a tag type (nft then reads the network header behind a second
/// tag: `vlan id 1 ether type 0x8100 ip saddr 10.0.0.1` checks the type at
/// byte 20).
fn names_inner_tag(rule: &str) -> bool {
    let tag = |v: &str| v.contains("0x8100") || v.contains("0x88a8");
    // The values after `field` in `text`, each up to the next field.
    let values = |text: &str, field: &str| -> Vec<String> {
        text.split(field)
            .skip(1)
            .map(|rest| {
                rest.split(" counter")
                    .next()
                    .unwrap_or("")
                    .split(" ip")
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    };
    let ether = values(rule, "ether type");
    let vlan_first = rule
        .find("vlan ")
        .is_some_and(|v| values(&rule[v..], "ether type").iter().any(|t| tag(t)));
    vlan_first
        || values(rule, "vlan type").iter().any(|v| tag(v))
        || ether.iter().filter(|v| tag(v)).count() >= 2
        || ether
            .iter()
            .any(|v| v.contains("0x8100") && v.contains("0x88a8"))
}

/// Runs one seed: `frames` frames and `rules` rules through both sides.
pub fn run_seed(
    oracle: &mut KernelOracle,
    seed: u64,
    frames: usize,
    rules: usize,
    report: &mut Report,
) -> Result<()> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let frames: Vec<Frame> = frames::generate(&mut rng, frames);
    let candidates = rules::generate(&mut rng, &frames, rules);
    let text = rules::ruleset(&candidates, crate::kernel::DEVICE).text;
    // Lines 1-3 of the file are the table and chain headers.
    let rejected = match oracle.rejected_lines(&text) {
        Ok(lines) => lines,
        // nft 1.0.6 can abort on a rule (an assertion in its dependency
        // resolution) instead of refusing it: find such rules one by one
        // and leave them out as refused.
        Err(_) => candidates
            .iter()
            .enumerate()
            .filter(|(_, rule)| {
                let one = rules::ruleset(std::slice::from_ref(*rule), crate::kernel::DEVICE);
                !matches!(oracle.rejected_lines(&one.text), Ok(lines) if lines.is_empty())
            })
            .map(|(i, _)| i + 4)
            .collect(),
    };
    let mut kept = Vec::new();
    for (i, rule) in candidates.into_iter().enumerate() {
        if rejected.contains(&(i + 4)) {
            report.nft_rejected.push(rule);
        } else {
            kept.push(rule);
        }
    }
    // Rules nft accepts but cannot list back are found by halving and left
    // out too (listing is how the counters are read).
    let mut text = rules::ruleset(&kept, crate::kernel::DEVICE).text;
    oracle.load(&text, "t")?;
    while !oracle.listable() {
        let bad = unlistable_rule(oracle, &kept)?;
        report.nft_unlistable.push(kept.remove(bad));
        text = rules::ruleset(&kept, crate::kernel::DEVICE).text;
        oracle.load(&text, "t")?;
    }
    let bytes: Vec<Vec<u8>> = frames.iter().map(|f| f.bytes.clone()).collect();
    let kernel = oracle.observe(&bytes)?;
    let ours = Engines::new(&text, crate::kernel::DEVICE)
        .with_context(|| format!("seed {seed}: compiling\n{text}"))?
        .observe(&bytes)
        .with_context(|| format!("seed {seed}\n{text}"))?;
    let traced = trace_deciders(&text, &bytes)?;
    for ((frame, k), traced) in frames.iter().zip(&kernel).zip(&traced) {
        let Observation::Counted(k) = k else { continue };
        // The kernel's deciding rule: the first rule with a verdict that
        // counted the frame (the generated chain has no jumps). Frames where
        // a rule with a verdict is a documented difference are left out.
        let terminal = |r: &String| r.ends_with("accept") || r.ends_with("drop");
        if kept
            .iter()
            .any(|r| terminal(r) && Difference::of(r, &frame.bytes).is_some())
        {
            continue;
        }
        let decided = k
            .iter()
            .map(|r| r.index)
            .filter(|&i| terminal(&kept[i]))
            .min();
        report.verdicts += 1;
        if decided != *traced {
            report
                .verdict_mismatches
                .push((seed, frame.what.clone(), decided, *traced));
        }
    }
    for ((frame, k), o) in frames.iter().zip(&kernel).zip(&ours) {
        let (Observation::Counted(k), Observation::Counted(o)) = (k, o) else {
            report.not_seen += 1;
            continue;
        };

        for (index, rule) in kept.iter().enumerate() {
            let kh = k.iter().any(|r| r.index == index);
            let oh = o.iter().any(|r| r.index == index);
            // A rule with a verdict in a documented difference can end the
            // frame's run on one side only; every later rule then differs.
            let cascade = kept[..index].iter().find(|r| {
                (r.ends_with("accept") || r.ends_with("drop"))
                    && Difference::of(r, &frame.bytes).is_some()
            });
            if let Some(difference) = Difference::of(rule, &frame.bytes)
                .or(cascade.and_then(|r| Difference::of(r, &frame.bytes)))
            {
                let (agree, pairs) = report.documented.entry(difference).or_default();
                *agree += usize::from(kh == oh);
                *pairs += 1;
                continue;
            }
            report.pairs += 1;
            if kh == oh {
                report.agree += 1;
            } else {
                report.mismatches.push(Mismatch {
                    seed,
                    rule: rule.clone(),
                    frame: frame.what.clone(),
                    hex: frame.bytes.iter().map(|b| format!("{b:02x}")).collect(),
                    kernel: kh,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beside_a_window_equality_are_merged_by_nft() {
        assert!(merges_flags(
            "tcp window 40342 tcp flags 0x05 counter accept"
        ));
        assert!(merges_flags(
            "tcp flags 0x05 meta mark 1 tcp window == 5 counter"
        ));
        // A range or a `!=` on either side is not merged.
        assert!(!merges_flags("tcp flags 0x05 tcp window 1-5 counter"));
        assert!(!merges_flags("tcp flags != 0x05 tcp window 5 counter"));
        assert!(!merges_flags("tcp flags 0x05 counter"));
    }

    #[test]
    fn a_vlan_field_before_a_tag_type_reaches_an_inner_tag() {
        assert!(names_inner_tag(
            "vlan pcp { 0 } ether type 0x8100 ip6 dscp 0-0 counter"
        ));
        assert!(names_inner_tag(
            "vlan id 1 ether type 0x88a8 ip saddr 1.2.3.4 counter"
        ));
        // The tag type first, or a type that is no tag: one tag.
        assert!(!names_inner_tag(
            "ether type 0x8100 vlan id 1 ip saddr 1.2.3.4 counter"
        ));
        assert!(!names_inner_tag(
            "vlan id 1 ether type 0x0800 ip saddr 1.2.3.4 counter"
        ));
    }
}
