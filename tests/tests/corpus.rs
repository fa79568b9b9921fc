//! The ruleset corpus under `tests/corpus/`:
//!
//! - `valid/*.nft`: complete rulesets in the nftables subset; jitswitch must
//!   accept each, and so must `nft -c` (checked when nft can run: root and
//!   a throwaway namespace holding `veth0`/`veth1` for the `device`s);
//! - `extensions/*.nft`: the switch extensions, which nft does not know;
//!   jitswitch must accept each;
//! - `rejected/rules.txt`: one rule per line that nft rejects; jitswitch
//!   must reject each as well (and nft is asked again when it can run);
//! - `rejected/unsupported.txt`: nftables constructs outside the subset;
//!   jitswitch must reject each with "not supported yet: ...".

use jitswitch_tests::netns::Netns;
use std::path::{Path, PathBuf};

fn corpus(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(dir)
}

fn nft_files(dir: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "nft"))
        .collect();
    v.sort();
    v
}

/// The non-comment lines of a rule list.
fn rule_lines(file: &str) -> Vec<String> {
    std::fs::read_to_string(corpus("rejected").join(file))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// A rule inside a netdev base chain on `veth0`.
fn wrap(rule: &str) -> String {
    format!(
        "table netdev t {{\n  chain c {{\n    type filter hook ingress device \"veth0\" priority 0; policy accept;\n    {rule}\n  }}\n}}\n"
    )
}

#[test]
fn valid_corpus_is_accepted_and_large_enough() {
    let mut rules = 0;
    for f in nft_files("valid") {
        match ruleset::check_file(&f) {
            Ok(c) => rules += c.summary().rules,
            Err(d) => panic!("{} rejected:\n{}", f.display(), d.render(false)),
        }
    }
    assert!(rules >= 300, "the valid corpus has only {rules} rules");
}

#[test]
fn extension_corpus_is_accepted() {
    for f in nft_files("extensions") {
        if let Err(d) = ruleset::check_file(&f) {
            panic!("{} rejected:\n{}", f.display(), d.render(false));
        }
    }
}

#[test]
fn rules_nft_rejects_are_rejected() {
    for rule in rule_lines("rules.txt") {
        assert!(
            ruleset::check_str("rule.nft", &wrap(&rule)).is_err(),
            "accepted: {rule}"
        );
    }
}

#[test]
fn unsupported_constructs_say_so() {
    for rule in rule_lines("unsupported.txt") {
        let Err(d) = ruleset::check_str("rule.nft", &wrap(&rule)) else {
            panic!("accepted: {rule}");
        };
        assert!(
            d.list
                .iter()
                .any(|d| d.message.starts_with("not supported yet: ")),
            "{rule}: no \"not supported yet\" error:\n{}",
            d.render(false)
        );
    }
}

/// Runs `nft -c -f FILE` in the namespace; true when nft accepts the file.
fn nft_accepts(ns: &Netns, file: &Path) -> (bool, String) {
    let dir = file.parent().unwrap().to_str().unwrap();
    let out = ns
        .exec(&["nft", "-c", "-I", dir, "-f", file.to_str().unwrap()])
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn nft_agrees_with_the_corpus() {
    let have_nft = std::process::Command::new("nft")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !Netns::available() || !have_nft {
        eprintln!("skipped: the nft cross-check needs root, iproute2 and nft");
        return;
    }
    let ns = Netns::new("corpus").unwrap();
    ns.add_veth("veth0", "veth1").unwrap();
    for f in nft_files("valid") {
        let (ok, err) = nft_accepts(&ns, &f);
        assert!(ok, "nft rejects {}:\n{err}", f.display());
    }
    let tmp = std::env::temp_dir().join(format!("jsw-corpus-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut checked = 0;
    for rule in rule_lines("rules.txt") {
        let file = tmp.join("rule.nft");
        std::fs::write(&file, wrap(&rule)).unwrap();
        let (ok, _) = nft_accepts(&ns, &file);
        assert!(!ok, "nft accepts a rule of the rejected corpus: {rule}");
        checked += 1;
    }
    std::fs::remove_dir_all(&tmp).unwrap();
    eprintln!(
        "nft cross-check: {} valid files accepted, {checked} rejected rules rejected",
        nft_files("valid").len()
    );
}
