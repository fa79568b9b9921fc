//! `switchctl check`: exit codes and output, human and JSON.

mod offline;

use offline::{repo, switchctl, temp};

/// A file with two errors, written to a temporary directory.
fn bad_file() -> String {
    temp(
        "bad.nft",
        "table netdev t {\n  chain c {\n    tcp dprot 22 accept\n    ip saddr 80 drop\n  }\n}\n",
    )
    .display()
    .to_string()
}

#[test]
fn a_valid_file_prints_nothing_and_exits_zero() {
    let out = switchctl(&["check", &repo("examples/rulesets/edge.nft")]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty() && out.stderr.is_empty());
}

#[test]
fn verbose_prints_a_summary() {
    let out = switchctl(&["check", "-v", &repo("examples/rulesets/edge.nft")]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with(": ok: 1 tables, 2 chains, 20 rules, 2 sets\n"),
        "{text}"
    );
}

#[test]
fn errors_go_to_stderr_with_a_failing_exit_code() {
    let bad = bad_file();
    let out = switchctl(&["check", &repo("examples/rulesets/edge.nft"), &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let text = String::from_utf8(out.stderr).unwrap();
    assert!(
        text.contains("unknown field `dprot` of header `tcp`"),
        "{text}"
    );
    assert!(text.contains("bad.nft:3:9"), "{text}");
    assert!(text.contains("expected an IPv4 address"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour when stderr is not a terminal"
    );
}

#[test]
fn json_prints_one_object_per_diagnostic() {
    let out = switchctl(&["check", "--json", &bad_file()]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    let d = &lines[0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["message"], "unknown field `dprot` of header `tcp`");
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(3), Some(9))
    );
    assert_eq!(
        (d["end_line"].as_u64(), d["end_column"].as_u64()),
        (Some(3), Some(14))
    );
    assert!(d["file"].as_str().unwrap().ends_with("bad.nft"));
    assert_eq!(d["labels"][0]["message"], "not a field of `tcp`");
    assert!(
        d["help"]
            .as_str()
            .unwrap()
            .starts_with("did you mean `dport`?")
    );
}
