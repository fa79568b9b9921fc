//! `switchctl trace`: verdicts, JSON lines, refusal of
//! programs the verifier rejects, the input port's link address.

mod offline;

use offline::{pkttype_host_ruleset, switchctl, temp};
use vm::{
    BaseChain, BaseId, Chain, CmpOp, Insn, Policy, PortId, Program, Reg, Rule, SourceRef, Value,
    Verdict,
};

/// A program: frames whose first byte is 1 go out of port "eth1", others
/// are dropped by the policy; the parse section sets base 0 to the frame.
fn program() -> Program {
    let rule = |line, insns| Rule {
        handle: line as u64,
        fingerprint: 0,
        source: Some(SourceRef {
            file: "t.nft".into(),
            line,
            text: "x".into(),
            comment: None,
        }),
        counter: None,
        insns,
    };
    Program {
        bases: vec!["ll".into()],
        parse: vec![Rule {
            insns: vec![Insn::SetBase {
                dst: BaseId(0),
                from: None,
                offset: 0,
                add: None,
            }],
            ..rule(0, vec![])
        }],
        chains: vec![Chain {
            name: "t/in".into(),
            base: Some(BaseChain {
                priority: 0,
                device: None,
                policy: Policy::Drop,
            }),
            rules: vec![rule(
                7,
                vec![
                    Insn::Load {
                        dst: Reg(0),
                        base: BaseId(0),
                        offset: 0,
                        len: 1,
                    },
                    Insn::Cmp {
                        src: Reg(0),
                        op: CmpOp::Eq,
                        value: Value(vec![1]),
                    },
                    Insn::Verdict(Verdict::Fwd(PortId(0))),
                ],
            )],
        }],
        ports: vec!["eth1".into()],
        ..Program::default()
    }
}

fn saved(name: &str, p: &Program) -> String {
    temp(name, &vm::saved::to_ron_pretty(p).unwrap())
        .display()
        .to_string()
}

#[test]
fn json_lines() {
    let prog = saved("p.ron", &program());
    let out = switchctl(&[
        "trace",
        "--program",
        &prog,
        "--packet",
        "01 02",
        "--packet",
        "0203",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            r#"{"packet":0,"verdict":"fwd","port":"eth1","chain":"t/in","rule":0,"line":7}"#,
            r#"{"packet":1,"verdict":"drop","port":null,"chain":"t/in","rule":null,"line":null}"#,
        ]
    );
}

#[test]
fn packets_file_and_human_output() {
    let prog = saved("q.ron", &program());
    let frames = temp(
        "frames.txt",
        "# two frames\n\n01\n  # indented comment\nff 00\n",
    );
    let out = switchctl(&[
        "trace",
        "--program",
        &prog,
        "--packets",
        &frames.display().to_string(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "packet 0: fwd to \"eth1\" by t/in rule 0 (t.nft:7: x)\n  t/in rule 0: fwd p0 (\"eth1\")\n\
         packet 1: drop by the policy of t/in\n  t/in rule 0: no match at instruction 1 (cmp r0 == 0x01)\n  t/in: policy drop\n"
    );
}

#[test]
fn refuses_unverified_programs() {
    let mut p = program();
    p.chains[0].rules[0].insns.insert(
        0,
        Insn::Cmp {
            src: Reg(9),
            op: CmpOp::Eq,
            value: Value(vec![1]),
        },
    );
    let prog = saved("bad.ron", &p);
    let out = switchctl(&["trace", "--program", &prog, "--packet", "01"]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(
            "refused by the verifier: chain t/in (c0), rule 0, instruction 0: r9 is read before"
        ),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_is_an_error() {
    let prog = saved("r.ron", &program());
    let out = switchctl(&["trace", "--program", &prog, "--packet", "0g"]);
    assert!(!out.status.success());
    let garbage = temp("garbage.ron", "Program(bases: [");
    let out = switchctl(&[
        "trace",
        "--program",
        &garbage.display().to_string(),
        "--packet",
        "01",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a program in RON"));
}

#[test]
fn the_input_ports_address_decides_pkttype_host() {
    let rules = pkttype_host_ruleset();
    // A frame to 02:00:00:00:00:aa.
    let frame = "0200000000aa 020000000001 0800";
    let verdict = |extra: &[&str]| {
        let mut args = vec!["trace", rules.as_str(), "--packet", frame, "--json"];
        args.extend_from_slice(extra);
        let out = switchctl(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = String::from_utf8(out.stdout).unwrap();
        let json: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
        json["verdict"].as_str().unwrap().to_owned()
    };
    // The default port address is another station's.
    assert_eq!(verdict(&[]), "accept");
    assert_eq!(verdict(&["--iif-addr", "02:00:00:00:00:aa"]), "drop");
    let out = switchctl(&["trace", &rules, "--packet", frame, "--iif-addr", "02:00"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("six bytes"));
}
