//! The listing and the RON form: the listing is pinned by a snapshot, the
//! RON form round-trips exactly.

mod common;

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
