//! The kernel oracle itself: a ruleset loaded into nf_tables counts the
//! frames it should. Skipped (with a note) when not root.

use etherparse::PacketBuilder;
use jitswitch_tests::kernel::{KernelOracle, Observation, RuleId};
use jitswitch_tests::netns::Netns;

fn tcp_frame(dport: u16) -> Vec<u8> {
    let b = PacketBuilder::ethernet2([2, 0, 0, 0, 0, 1], [2, 0, 0, 0, 0, 2])
        .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .tcp(1234, dport, 1, 1000);
    let mut v = Vec::new();
    b.write(&mut v, &[]).unwrap();
    v
}

#[test]
fn kernel_counts_the_rules_each_frame_hits() {
    if !Netns::available() {
        eprintln!("skipped: needs root and iproute2");
        return;
    }
    let ruleset = r#"
table netdev t {
  chain c {
    type filter hook ingress device "jsw0" priority 0; policy accept;
    tcp dport 22 counter
    tcp dport 22 counter drop
    tcp dport 80 counter accept
  }
}
"#;
    let mut oracle = KernelOracle::new().unwrap();
    oracle.load(ruleset, "t").unwrap();
    let obs = oracle
        .observe(&[tcp_frame(22), tcp_frame(80), tcp_frame(443), vec![0xff; 16]])
        .unwrap();
    let id = |index| RuleId {
        chain: "c".into(),
        index,
    };
    assert_eq!(
        obs,
        vec![
            Observation::Counted(vec![id(0), id(1)]),
            Observation::Counted(vec![id(2)]),
            Observation::Counted(vec![]),
            Observation::Counted(vec![]),
        ]
    );
}
