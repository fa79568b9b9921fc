//! The lexer, parser and checker never panic, whatever the input: random
//! strings, random bytes read as UTF-8, and random soups of the language's
//! own tokens (which reach far deeper into the parser than random text).
//! `fuzz/` runs the same property with libFuzzer for much longer.

use proptest::prelude::*;

/// Words and punctuation of the language, for token soups.
const VOCAB: &[&str] = &[
    "table",
    "netdev",
    "inet",
    "bridge",
    "chain",
    "set",
    "map",
    "type",
    "typeof",
    "filter",
    "hook",
    "ingress",
    "device",
    "priority",
    "policy",
    "accept",
    "drop",
    "jump",
    "goto",
    "return",
    "continue",
    "flood",
    "define",
    "include",
    "flush",
    "ruleset",
    "header",
    "parse",
    "layer",
    "network",
    "transport",
    "link",
    "key",
    "meta",
    "symbols",
    "datatype",
    "flags",
    "interval",
    "elements",
    "counter",
    "limit",
    "rate",
    "over",
    "burst",
    "packets",
    "log",
    "prefix",
    "level",
    "fwd",
    "dup",
    "to",
    "vlan",
    "push",
    "pop",
    "vmap",
    "ip",
    "ip6",
    "tcp",
    "udp",
    "th",
    "icmp",
    "ether",
    "arp",
    "saddr",
    "daddr",
    "dport",
    "sport",
    "id",
    "protocol",
    "mark",
    "iifname",
    "syn",
    "ack",
    "length",
    "valid",
    "next",
    "remaining",
    "and",
    "or",
    "not",
    "if",
    "through",
    "at",
    "pseudo",
    "checksum",
    "comment",
    "10.0.0.1",
    "10.0.0.0/8",
    "::1",
    "fe80::1",
    "00:11:22:33:44:55",
    "22",
    "0x800",
    "8021ad",
    "1000-2000",
    "\"veth0\"",
    "$v",
    "@s",
    "@ll,0,8",
    "@nh",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    ";",
    ".",
    "/",
    "-",
    "+",
    "*",
    "&",
    "|",
    "^",
    "!",
    "=",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "<<",
    ">>",
    "=>",
    "\n",
    "\\\n",
    "#",
    "~",
    "\"",
];

fn check_no_panic(text: &str) {
    let _ = ruleset::parse_str(text);
    if let Err(d) = ruleset::check_str("input.nft", text) {
        let _ = d.render(false);
        let _ = d.json();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings(text in ".{0,400}") {
        check_no_panic(&text);
    }

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        check_no_panic(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soups(words in proptest::collection::vec(proptest::sample::select(VOCAB), 0..80)) {
        check_no_panic(&words.join(" "));
    }

    #[test]
    fn token_soups_inside_a_chain(words in proptest::collection::vec(proptest::sample::select(VOCAB), 0..40)) {
        let text = format!(
            "define v = 1\ntable netdev t {{\n set s {{ type ipv4_addr; }}\n chain c {{\n type filter hook ingress priority 0;\n {}\n }}\n}}\n",
            words.join(" ")
        );
        check_no_panic(&text);
    }
}

#[test]
fn deeply_nested_values_do_not_overflow_the_stack() {
    let deep = format!(
        "table netdev t {{ chain c {{ tcp flags {}syn{} }} }}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    check_no_panic(&deep);
    let sets = format!(
        "table netdev t {{ chain c {{ tcp dport {}22{} }} }}",
        "{".repeat(5000),
        "}".repeat(5000)
    );
    check_no_panic(&sets);
}
