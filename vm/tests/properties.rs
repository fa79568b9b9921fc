//! Property tests: random well-formed programs verify and then run on
//! random frames (empty, 1 byte, 64 KiB, truncated) without panicking, the
//! interpreter and the JIT (plain and traced) agreeing on every result;
//! mutated programs are either refused or run without panicking; random
//! bytes and mutated RON never panic the loader.
//!
//! Programs come from the seeded generator of `common/programs.rs`
//! (proptest draws the seeds), whose programs should all verify: a program
//! it makes that the verifier refuses is a failure.

mod common;

use common::programs::{Gen, program, run_frames};
use proptest::prelude::*;
use vm::{ChainId, Insn, Program, Rule, Verdict, verify};

/// One random change that may or may not keep the program valid.
fn mutate(p: &mut Program, g: &mut Gen) {
    let chains = p.chains.len();
    let rules: Vec<&mut Rule> = p
        .parse
        .iter_mut()
        .chain(p.chains.iter_mut().flat_map(|c| c.rules.iter_mut()))
        .collect();
    let n = rules.len();
    if n == 0 {
        p.bases.clear();
        return;
    }
    let rule = rules.into_iter().nth(g.below(n)).unwrap();
    if rule.insns.is_empty() {
        rule.insns.push(Insn::Verdict(Verdict::Jump(ChainId(
            g.below(chains + 1) as u16
        ))));
        return;
    }
    let i = g.below(rule.insns.len());
    let byte = g.next() as u8;
    match &mut rule.insns[i] {
        Insn::Load {
            dst, len, offset, ..
        } => match g.below(3) {
            0 => dst.0 = byte % 20,
            1 => *len = byte % 20,
            _ => *offset = u16::MAX - u16::from(byte % 8),
        },
        Insn::Cmp { src, value, .. }
        | Insn::Range {
            src, low: value, ..
        } => {
            if g.chance(50) {
                src.0 = byte % 20
            } else {
                value.0.resize(usize::from(byte % 20), 1)
            }
        }
        Insn::Bitwise { mask, .. } => mask.0.push(byte),
        Insn::Shift { bits, .. } => *bits = byte,
        Insn::Verdict(Verdict::Jump(t) | Verdict::Goto(t)) => t.0 = g.below(chains + 1) as u16,
        Insn::Lookup { set, .. } => set.0 = g.below(5) as u16,
        Insn::SetBase { dst, .. } | Insn::ClearBase { dst } => dst.0 = byte % 5,
        _ => {
            // Move the instruction to another rule (maybe the parse section).
            let insn = rule.insns.remove(i);
            let target = if g.chance(50) {
                p.parse.first_mut()
            } else {
                p.chains.last_mut().and_then(|c| c.rules.first_mut())
            };
            if let Some(r) = target {
                r.insns.insert(0, insn);
            }
        }
    }
}

proptest! {
    // The property that compares the engines on the widest range of
    // programs: a 1-byte `shift` of a 2-byte immediate, wrong in the JIT,
    // took a few thousand cases to come up.
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn generated_programs_verify_and_run(seed in any::<u64>()) {
        let mut g = Gen::new(seed);
        let p = program(&mut g);
        let text = vm::listing::listing(&p);
        prop_assert_eq!(vm::assembler::parse_listing(&text), Ok(p.clone()), "{}", text);
        let verified = match verify(p.clone()) {
            Ok(v) => v,
            Err(e) => panic!("generated program refused: {e}\n{}", vm::listing::listing(&p)),
        };
        run_frames(verified, &mut g);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mutated_programs_are_refused_or_run(seed in any::<u64>()) {
        let mut g = Gen::new(seed);
        let mut p = program(&mut g);
        for _ in 0..1 + g.below(3) {
            mutate(&mut p, &mut g);
        }
        if let Ok(v) = verify(p) {
            let text = vm::listing::listing(v.program());
            prop_assert_eq!(vm::assembler::parse_listing(&text), Ok(v.program().clone()), "{}", text);
            run_frames(v, &mut g);
        }
    }

    #[test]
    fn random_bytes_never_panic_the_loader(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = vm::saved::from_ron_bytes(&bytes);
    }

    #[test]
    fn mutated_ron_never_panics(seed in any::<u64>(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6), cut in any::<usize>()) {
        let mut g = Gen::new(seed);
        let p = program(&mut g);
        let text = if g.chance(50) { vm::saved::to_ron(&p) } else { vm::saved::to_ron_pretty(&p) }.unwrap();
        let mut bytes = text.into_bytes();
        for (at, b) in flips {
            let n = bytes.len();
            bytes[at % n] = b;
        }
        if g.chance(30) {
            let n = bytes.len();
            bytes.truncate(cut % n);
        }
        if let Ok(p) = vm::saved::from_ron_bytes(&bytes)
            && let Ok(v) = verify(p)
        {
            run_frames(v, &mut g);
        }
    }

    #[test]
    fn mutated_listings_never_panic(seed in any::<u64>(), edits in proptest::collection::vec((any::<usize>(), any::<char>()), 1..6)) {
        let mut g = Gen::new(seed);
        let mut text: Vec<char> = vm::listing::listing(&program(&mut g)).chars().collect();
        for (at, c) in edits {
            let n = text.len();
            if g.chance(50) { text[at % n] = c } else { text.remove(at % n); }
        }
        let text: String = text.into_iter().collect();
        if let Ok(p) = vm::assembler::parse_listing(&text)
            && let Ok(v) = verify(p)
        {
            run_frames(v, &mut g);
        }
    }
}
