//! `switchctl test`: the report, the exit code, the engines, the input
//! port's link address, and bad case files.

mod offline;

use offline::{pkttype_host_ruleset, repo, switchctl, temp};

fn example(name: &str) -> String {
    repo(&format!("examples/rulesets/{name}"))
}

#[test]
fn the_edge_examples_cases_pass_under_both_engines() {
    let (rules, cases) = (example("edge.nft"), example("edge.cases.ron"));
    for engine in ["interp", "jit"] {
        let out = switchctl(&["test", &rules, &cases, "--engine", engine]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{engine}: {stdout}");
        assert!(stdout.starts_with("running 15 cases\n"), "{stdout}");
        assert_eq!(stdout.matches(" ... ok\n").count(), 15, "{stdout}");
        assert!(
            stdout.ends_with("\ntest result: ok. 15 passed, 0 failed\n"),
            "{stdout}"
        );
    }
}

#[test]
fn a_failing_case_is_reported_with_its_trace_and_fails_the_run() {
    let cases = temp(
        "edge-wrong.ron",
        r#"(cases: [
            (name: "ARP passes", iif: "veth1", packet: Fields((arp: (op: 1))), expect: (verdict: "accept", rule: 0)),
            (name: "ARP is dropped (wrong)", iif: "veth1", packet: Fields((arp: (op: 1))), expect: (verdict: "drop")),
        ])"#,
    );
    let out = switchctl(&["test", &example("edge.nft"), &cases.display().to_string()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("case ARP passes ... ok\n"), "{stdout}");
    assert!(
        stdout.contains("case ARP is dropped (wrong) ... FAILED\n"),
        "{stdout}"
    );
    let failure = stdout
        .split("---- ARP is dropped (wrong) ----\n")
        .nth(1)
        .expect("the failure's section");
    assert!(
        failure.contains("expected verdict drop, got accept"),
        "{stdout}"
    );
    assert!(
        failure.contains("trace:\npacket 0: accept by ingress rule 0"),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("\ntest result: FAILED. 1 passed, 1 failed\n"),
        "{stdout}"
    );
}

#[test]
fn the_input_ports_address_decides_pkttype_host() {
    let rules = pkttype_host_ruleset();
    let cases = temp(
        "pkttype.ron",
        r#"(cases: [(name: "to 02:00:00:00:00:aa", packet: Fields((ether: (dst: "02:00:00:00:00:aa"), ip: (), udp: ())), expect: (verdict: "drop"))])"#,
    );
    let cases = cases.display().to_string();
    let out = switchctl(&["test", &rules, &cases]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the default address is another station's"
    );
    let out = switchctl(&["test", &rules, &cases, "--iif-addr", "02:00:00:00:00:aa"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn bad_case_files_are_errors() {
    let rules = example("edge.nft");
    for (name, text, says) in [
        ("syntax.ron", "(cases: [(name: \"x\",", "syntax.ron"),
        (
            "field.ron",
            r#"(cases: [(name: "x", packet: Fields((ip: (src: "10.0.0.300"))), expect: ())])"#,
            "case \"x\": building the packet: ip.src",
        ),
    ] {
        let path = temp(name, text);
        let out = switchctl(&["test", &rules, &path.display().to_string()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}");
        assert!(stderr.contains(says), "{name}: {stderr}");
    }
    let out = switchctl(&["test", &rules, "/nonexistent/cases.ron"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/cases.ron"));
}
