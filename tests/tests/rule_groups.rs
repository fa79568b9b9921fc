//! A 5-tuple ACL written rule by rule, which the JIT runs as one rule group
//! (a hash lookup): jitswitch's interpreter and JIT count exactly the rules
//! the kernel's nf_tables counts, for frames that hit every rule, miss by
//! one port, are not IPv4, are truncated, or carry a VLAN tag. Without root
//! the kernel is left out and the two engines are still compared.

use etherparse::PacketBuilder;
use jitswitch_tests::engine::Engines;
use jitswitch_tests::kernel::{DEVICE, KernelOracle, Observation, RuleId};
use jitswitch_tests::netns::Netns;

const RULES: u16 = 300;

/// Rule `n`'s 5-tuple: source, destination, TCP (else UDP), ports.
fn tuple(n: u16) -> ([u8; 4], [u8; 4], bool, u16, u16) {
    let [hi, lo] = n.to_be_bytes();
    (
        [10, 1, hi, lo],
        [192, 168, hi, lo],
        !n.is_multiple_of(3),
        1024 + n,
        1 + n % 50,
    )
}

fn ruleset() -> String {
    let mut text = format!(
        "table netdev t {{\n  chain c {{\n    type filter hook ingress device \"{DEVICE}\" priority 0; policy accept;\n"
    );
    for n in 0..RULES {
        let (s, d, tcp, sport, dport) = tuple(n);
        let proto = if tcp { "tcp" } else { "udp" };
        let verdict = if n % 2 == 0 { "accept" } else { "drop" };
        text += &format!(
            "    ip saddr {}.{}.{}.{} ip daddr {}.{}.{}.{} {proto} sport {sport} {proto} dport {dport} counter {verdict}\n",
            s[0], s[1], s[2], s[3], d[0], d[1], d[2], d[3]
        );
    }
    text + "  }\n}\n"
}

fn frame(s: [u8; 4], d: [u8; 4], tcp: bool, sport: u16, dport: u16, vlan: bool) -> Vec<u8> {
    let eth = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2]);
    let ip = if vlan {
        eth.single_vlan(7.try_into().unwrap()).ipv4(s, d, 64)
    } else {
        eth.ipv4(s, d, 64)
    };
    let mut v = Vec::new();
    if tcp {
        ip.tcp(sport, dport, 1, 1000).write(&mut v, &[]).unwrap();
    } else {
        ip.udp(sport, dport).write(&mut v, &[1, 2, 3]).unwrap();
    }
    v
}

fn frames() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for n in (0..RULES).step_by(7).chain([RULES - 1]) {
        let (s, d, tcp, sport, dport) = tuple(n);
        out.push(frame(s, d, tcp, sport, dport, false));
        out.push(frame(s, d, tcp, sport, dport + 1, false));
        out.push(frame(s, d, !tcp, sport, dport, false));
        out.push(frame(s, d, tcp, sport, dport, true));
        let whole = frame(s, d, tcp, sport, dport, false);
        out.push(whole[..whole.len() - 20].to_vec());
        out.push(whole[..36].to_vec());
    }
    out.push(vec![0xff; 60]);
    out
}

#[test]
fn grouped_rules_count_what_the_kernel_counts() {
    let text = ruleset();
    let checked = ruleset::check_str("acl.nft", &text).unwrap();
    let verified = compiler::compile_verified(&checked).unwrap();
    let instance = std::sync::Arc::new(vm::Instance::new(
        std::sync::Arc::new(verified),
        std::sync::Arc::new(vm::runtime::MonotonicClock::new()),
    ));
    let jit = vm::jit::JitProgram::compile(&instance).unwrap();
    assert_eq!(jit.grouped_rules(), usize::from(RULES), "one rule group");
    let frames = frames();
    let ours = Engines::new(&text, DEVICE)
        .unwrap()
        .observe(&frames)
        .unwrap_or_else(|e| panic!("the engines differ: {e:#}"));
    // Whole frames hit their rule, tagged or not (the kernel's netdev
    // family matches IPv4 behind a VLAN tag too); the rest count nothing.
    let hits: Vec<usize> = ours
        .iter()
        .filter_map(|o| match o {
            Observation::Counted(rules) => rules.first().map(|r: &RuleId| r.index),
            _ => None,
        })
        .collect();
    let expected: Vec<usize> = (0..RULES)
        .step_by(7)
        .chain([RULES - 1])
        .flat_map(|n| [usize::from(n); 2])
        .collect();
    assert_eq!(hits, expected);
    if !Netns::available() {
        eprintln!("skipped the kernel comparison: needs root and iproute2");
        return;
    }
    let mut oracle = KernelOracle::new().unwrap();
    oracle.load(&text, "t").unwrap();
    let kernel = oracle.observe(&frames).unwrap();
    for (n, (k, o)) in kernel.iter().zip(&ours).enumerate() {
        assert_eq!(k, o, "frame {n}: {:02x?}", frames[n]);
    }
}
