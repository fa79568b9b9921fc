//! The listing and the RON form: the listing is pinned by a snapshot, the
//! RON form round-trips exactly.

mod common;

use vm::assembler::parse_listing;
use vm::listing::listing;
use vm::saved::{from_ron, from_ron_bytes, to_ron, to_ron_pretty};

#[test]
fn edge_acl_listing() {
    insta::assert_snapshot!(listing(&common::edge_acl::program()));
}

#[test]
fn ron_round_trips_pretty_and_compact() {
    let p = common::edge_acl::program();
    let pretty = to_ron_pretty(&p).unwrap();
    assert_eq!(from_ron(&pretty).unwrap(), p);
    let compact = to_ron(&p).unwrap();
    assert!(!compact.contains('\n'));
    assert_eq!(from_ron(&compact).unwrap(), p);
    assert_eq!(from_ron_bytes(compact.as_bytes()).unwrap(), p);
}

#[test]
fn bad_ron_is_an_error() {
    assert!(from_ron_bytes(&[0xff, 0xfe]).is_err());
    assert!(from_ron("Program(").is_err());
    assert!(from_ron("").is_err());
    let deep = "[".repeat(100_000);
    assert!(from_ron(&deep).is_err());
}

#[test]
fn listing_reads_back() {
    let p = common::edge_acl::program();
    assert_eq!(parse_listing(&listing(&p)).unwrap(), p);
    // Strings with quotes and escapes, an empty rule text, a bound device.
    let mut odd = p.clone();
    let rules = &mut odd.chains[0].rules;
    rules[0].source.as_mut().unwrap().comment = Some("say \"hi\"\tnow".into());
    rules[1].source.as_mut().unwrap().text = String::new();
    odd.ports.push("we\"ird, port".into());
    odd.chains[0].base.as_mut().unwrap().device = Some(vm::PortId(2));
    odd.chains[0].rules[19].insns[0] = vm::Insn::Log {
        prefix: "é \u{1} \\ \"".into(),
    };
    assert_eq!(parse_listing(&listing(&odd)).unwrap(), odd);
    let empty = vm::Program::default();
    assert_eq!(parse_listing(&listing(&empty)).unwrap(), empty);
}

#[test]
fn bad_listings_name_the_line() {
    let good = listing(&common::edge_acl::program());
    let mut lines: Vec<&str> = good.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with("cmp r2 == 0x0016"))
        .unwrap();
    lines[at] = "    cmp r2 =? 0x0016";
    let e = parse_listing(&lines.join("\n")).unwrap_err();
    assert_eq!(
        (e.line, e.message.as_str()),
        (at + 1, "unknown relation \"=?\"")
    );
    assert!(parse_listing("bases  b1 ll").is_err());
    assert!(parse_listing("").is_err());
}
