//! Seeded generation of nftables rules for the kernel-parity test.
//!
//! Each rule is one to three matches on the supported fields, with values
//! taken from the generated frames (so they hit), or off by one (so they
//! miss narrowly), under every operator form: implicit equality, `!=`,
//! ordering, ranges, prefixes and anonymous sets. Matches are combined in
//! both orders where the kernel's implied dependency depends on the order
//! (`ether saddr S ip saddr A` against `ip saddr A ether saddr S`).
//!
//! Field offsets here are the generator's own, independent of the prelude:
//! they only choose interesting values. The kernel decides what is right.

use crate::frames::Frame;
use rand::Rng;
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;

/// Where a field's bits are read from, for picking values.
#[derive(Clone, Copy, Debug)]
enum Loc {
    /// Bit offset and length from the link header.
    Ll(usize, usize),
    /// Bit offset and length from the network header.
    Nh(usize, usize),
    /// Bit offset and length from the transport header.
    Th(usize, usize),
    /// Not read from the frame: values come from the field's pool.
    Pool(&'static [u64]),
}

/// How a value of the field is written in a rule.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Form {
    Int,
    Hex,
    Mac,
    Ipv4,
    Ipv6,
    /// An interface name from [`NAMES`], by index.
    Name,
}

/// The interface names `meta iifname` is matched against: the devices the
/// tests attach to (the kernel parity test's `jsw0`, the differential
/// test's `veth0`), names that miss by a character, and wildcards.
const NAMES: &[&str] = &["jsw0", "veth0", "jsw1", "veth00", "jsw*", "veth*", "v*"];

/// A field the generator knows.
#[derive(Clone, Copy, Debug)]
struct Field {
    /// The field as written in a rule.
    expr: &'static str,
    /// Which header family it belongs to (rules do not mix conflicting families).
    family: Family,
    loc: Loc,
    form: Form,
}

/// Header families: the protocols a rule's matches commit it to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Link,
    Vlan,
    Arp,
    Ip,
    Ip6,
    Tcp,
    Udp,
    Icmp,
    Icmp6,
    Any,
}

const fn f(expr: &'static str, family: Family, loc: Loc, form: Form) -> Field {
    Field {
        expr,
        family,
        loc,
        form,
    }
}

use Family::*;
use Form::*;
use Loc::*;

const FIELDS: &[Field] = &[
    f("ether daddr", Link, Ll(0, 48), Mac),
    f("ether saddr", Link, Ll(48, 48), Mac),
    f("ether type", Link, Ll(96, 16), Hex),
    f("vlan id", Vlan, Ll(116, 12), Int),
    f("vlan pcp", Vlan, Ll(112, 3), Int),
    f("vlan dei", Vlan, Ll(115, 1), Int),
    f("vlan type", Vlan, Ll(128, 16), Hex),
    f("arp htype", Arp, Nh(0, 16), Int),
    f("arp ptype", Arp, Nh(16, 16), Hex),
    f("arp operation", Arp, Nh(48, 16), Int),
    f("arp saddr ether", Arp, Nh(64, 48), Mac),
    f("arp saddr ip", Arp, Nh(112, 32), Ipv4),
    f("arp daddr ether", Arp, Nh(144, 48), Mac),
    f("arp daddr ip", Arp, Nh(192, 32), Ipv4),
    f("ip version", Ip, Nh(0, 4), Int),
    f("ip hdrlength", Ip, Nh(4, 4), Int),
    f("ip dscp", Ip, Nh(8, 6), Int),
    f("ip ecn", Ip, Nh(14, 2), Int),
    f("ip length", Ip, Nh(16, 16), Int),
    f("ip id", Ip, Nh(32, 16), Int),
    f("ip frag-off", Ip, Nh(48, 16), Hex),
    f("ip ttl", Ip, Nh(64, 8), Int),
    f("ip protocol", Ip, Nh(72, 8), Int),
    f("ip checksum", Ip, Nh(80, 16), Hex),
    f("ip saddr", Ip, Nh(96, 32), Ipv4),
    f("ip daddr", Ip, Nh(128, 32), Ipv4),
    f("ip6 version", Ip6, Nh(0, 4), Int),
    f("ip6 dscp", Ip6, Nh(4, 6), Int),
    f("ip6 ecn", Ip6, Nh(10, 2), Int),
    f("ip6 flowlabel", Ip6, Nh(12, 20), Int),
    f("ip6 length", Ip6, Nh(32, 16), Int),
    f("ip6 nexthdr", Ip6, Nh(48, 8), Int),
    f("ip6 hoplimit", Ip6, Nh(56, 8), Int),
    f("ip6 saddr", Ip6, Nh(64, 128), Ipv6),
    f("ip6 daddr", Ip6, Nh(192, 128), Ipv6),
    f("tcp sport", Tcp, Th(0, 16), Int),
    f("tcp dport", Tcp, Th(16, 16), Int),
    f("tcp sequence", Tcp, Th(32, 32), Int),
    f("tcp ackseq", Tcp, Th(64, 32), Int),
    f("tcp doff", Tcp, Th(96, 4), Int),
    f("tcp flags", Tcp, Th(104, 8), Hex),
    f("tcp window", Tcp, Th(112, 16), Int),
    f("tcp checksum", Tcp, Th(128, 16), Hex),
    f("tcp urgptr", Tcp, Th(144, 16), Int),
    f("udp sport", Udp, Th(0, 16), Int),
    f("udp dport", Udp, Th(16, 16), Int),
    f("udp length", Udp, Th(32, 16), Int),
    f("udp checksum", Udp, Th(48, 16), Hex),
    f("icmp type", Icmp, Th(0, 8), Int),
    f("icmp code", Icmp, Th(8, 8), Int),
    f("icmp id", Icmp, Th(32, 16), Int),
    f("icmp sequence", Icmp, Th(48, 16), Int),
    f("icmpv6 type", Icmp6, Th(0, 8), Int),
    f("icmpv6 code", Icmp6, Th(8, 8), Int),
    f("th sport", Any, Th(0, 16), Int),
    f("th dport", Any, Th(16, 16), Int),
    f(
        "meta protocol",
        Any,
        Pool(&[
            0x0800, 0x86dd, 0x0806, 0x8100, 0x88a8, 0x8847, 0x0001, 0x0004,
        ]),
        Hex,
    ),
    f("meta l4proto", Any, Pool(&[1, 6, 17, 58, 47, 0, 50]), Int),
    f("meta length", Any, Pool(&[20, 28, 40, 46, 60, 100]), Int),
    f("meta mark", Any, Pool(&[0, 1]), Int),
    f("meta pkttype", Any, Pool(&[0, 1, 2, 3]), Int),
    f("meta iifname", Any, Pool(&[0, 1, 2, 3, 4, 5, 6]), Name),
];

/// The network header offset, network protocol, transport header offset
/// and transport protocol of a frame as the generator guesses them (only to
/// pick values).
struct Guess {
    nh: usize,
    proto: Option<u16>,
    th: Option<usize>,
    l4: Option<u8>,
}

fn guess(b: &[u8]) -> Guess {
    let nh = crate::frames::network_offset(b);
    let proto = crate::frames::be16(b, nh - 2);
    let (th, l4) = match proto {
        Some(0x0800) => (
            b.get(nh).map(|v| nh + usize::from(v & 0x0f) * 4),
            b.get(nh + 9).copied(),
        ),
        Some(0x86dd) => (Some(nh + 40), b.get(nh + 6).copied()),
        _ => (None, None),
    };
    Guess { nh, proto, th, l4 }
}

/// Whether a frame probably carries the field's header.
fn carries(g: &Guess, family: Family) -> bool {
    match family {
        Link | Any => true,
        Vlan => g.nh == 18,
        Arp => g.proto == Some(0x0806),
        Ip => g.proto == Some(0x0800),
        Ip6 => g.proto == Some(0x86dd),
        Tcp => g.l4 == Some(6),
        Udp => g.l4 == Some(17),
        Icmp => g.l4 == Some(1),
        Icmp6 => g.l4 == Some(58),
    }
}

/// Reads `len` bits at bit `off` of `base`, if the frame holds them.
fn read_bits(b: &[u8], base: usize, off: usize, len: usize) -> Option<u128> {
    let first = base + off / 8;
    let last = base + (off + len).div_ceil(8);
    let bytes = b.get(first..last)?;
    let all = bytes
        .iter()
        .fold(0u128, |acc, x| (acc << 8) | u128::from(*x));
    let shift = (last - first) * 8 - (off % 8) - len;
    Some((all >> shift) & mask(len))
}

fn mask(bits: usize) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

fn bits_of(field: &Field) -> usize {
    match field.loc {
        Ll(_, l) | Nh(_, l) | Th(_, l) => l,
        Pool(_) => match field.expr {
            "meta protocol" => 16,
            "meta l4proto" | "meta pkttype" => 8,
            _ => 32,
        },
    }
}

/// A value for `field`: read from the rule's anchor frame, or another frame
/// that carries the field, then kept (hit) or moved by one (near miss).
fn value_from(field: &Field, anchor: &Frame, frames: &[Frame], rng: &mut SmallRng) -> u128 {
    let bits = bits_of(field);
    let read = |b: &[u8], g: &Guess| match field.loc {
        Ll(o, l) => read_bits(b, 0, o, l),
        Nh(o, l) => read_bits(b, g.nh, o, l),
        Th(o, l) => g.th.and_then(|t| read_bits(b, t, o, l)),
        Pool(_) => None,
    };
    let from_frame = (0..16).find_map(|i| {
        let b = if i == 0 {
            &anchor.bytes
        } else {
            &frames.choose(rng)?.bytes
        };
        let g = guess(b);
        carries(&g, field.family).then(|| read(b, &g)).flatten()
    });
    let v = match field.loc {
        Pool(p) => u128::from(*p.choose(rng).unwrap()),
        _ => from_frame.unwrap_or_else(|| rng.random::<u128>() & mask(bits)),
    };
    match rng.random_range(0..10) {
        0..6 => v,
        6..8 => v.wrapping_add(1) & mask(bits),
        _ => v.wrapping_sub(1) & mask(bits),
    }
}

fn fmt(form: Form, v: u128, bits: usize) -> String {
    match form {
        Int => v.to_string(),
        Hex => format!("0x{v:0w$x}", w = bits.div_ceil(4)),
        Mac => {
            let b = v.to_be_bytes();
            b[10..]
                .iter()
                .map(|x| format!("{x:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        }
        Ipv4 => std::net::Ipv4Addr::from(v as u32).to_string(),
        Ipv6 => std::net::Ipv6Addr::from(v).to_string(),
        Name => format!("\"{}\"", NAMES[(v % NAMES.len() as u128) as usize]),
    }
}

/// One match of a rule, as text.
fn one_match(field: &Field, anchor: &Frame, frames: &[Frame], rng: &mut SmallRng) -> String {
    let bits = bits_of(field);
    let pick = |rng: &mut SmallRng| value_from(field, anchor, frames, rng);
    let v = pick(rng);
    let text = |v| fmt(field.form, v, bits);
    let addr = matches!(field.form, Ipv4 | Ipv6);
    let name = field.form == Name;
    match rng.random_range(0..100) {
        0..55 => format!("{} {}", field.expr, text(v)),
        55..67 => format!("{} != {}", field.expr, text(v)),
        67..75 if !addr && field.form != Mac && !name => {
            let op = *["<", "<=", ">", ">="].choose(rng).unwrap();
            format!("{} {op} {}", field.expr, text(v))
        }
        75..83 if !name => {
            let w = pick(rng);
            let (lo, hi) = if v <= w { (v, w) } else { (w, v) };
            let neg = if rng.random_bool(0.2) { "!= " } else { "" };
            format!("{} {neg}{}-{}", field.expr, text(lo), text(hi))
        }
        83..91 if addr => {
            let plen = rng.random_range(1..=bits);
            let net = v & !mask(bits - plen);
            format!("{} {}/{plen}", field.expr, text(net))
        }
        _ => {
            let mut elems: Vec<u128> = (0..rng.random_range(1..5)).map(|_| pick(rng)).collect();
            elems.sort();
            elems.dedup();
            let mut list: Vec<String> = elems.into_iter().map(text).collect();
            if name {
                // Exact names only in a set.
                list.retain(|n| !n.contains('*'));
                list.sort();
                list.dedup();
                if list.is_empty() {
                    list.push(format!("\"{}\"", NAMES[0]));
                }
            }
            format!("{} {{ {} }}", field.expr, list.join(", "))
        }
    }
}

/// Whether a match of family `next` may follow matches of `chosen` in one
/// rule without nft rejecting it for conflicting protocols: at most one
/// network and one transport family, ICMP only over IPv4 and ICMPv6 only
/// over IPv6, nothing above ARP, and no VLAN match after a network or
/// transport one.
fn compatible(chosen: &[Family], next: Family) -> bool {
    let net = |f: &Family| matches!(f, Arp | Ip | Ip6);
    let l4 = |f: &Family| matches!(f, Tcp | Udp | Icmp | Icmp6);
    let all: Vec<Family> = chosen.iter().copied().chain([next]).collect();
    let first = |p: &dyn Fn(&Family) -> bool| all.iter().find(|f| p(f)).copied();
    let (n, t) = (first(&net), first(&l4));
    all.iter().filter(|f| net(f)).all(|f| Some(*f) == n)
        && all.iter().filter(|f| l4(f)).all(|f| Some(*f) == t)
        && !(n == Some(Arp) && t.is_some())
        && !(n == Some(Ip) && t == Some(Icmp6))
        && !(n == Some(Ip6) && t == Some(Icmp))
        && !(next == Vlan && chosen.iter().any(|f| net(f) || l4(f)))
}

/// A generated ruleset: its text and the number of rules in chain `c`.
#[derive(Clone, Debug)]
pub struct Ruleset {
    /// The ruleset, as a file.
    pub text: String,
    /// The rules of chain `c`, in order (one per line of the chain).
    pub rules: Vec<String>,
}

/// Generates `n` rules matching on fields of `frames`, all ending in
/// `counter` and most without a verdict, so every rule sees every frame
/// that earlier rules did not drop or accept.
pub fn generate(rng: &mut SmallRng, frames: &[Frame], n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let anchor = frames.choose(rng).expect("frames to take values from");
            let mut fams = Vec::new();
            let mut parts = Vec::new();
            for _ in 0..rng.random_range(1..=3) {
                let field = FIELDS.choose(rng).unwrap();
                if compatible(&fams, field.family) {
                    fams.push(field.family);
                    parts.push(one_match(field, anchor, frames, rng));
                }
            }
            let verdict = match rng.random_range(0..100) {
                0..3 => " accept",
                3..6 => " drop",
                _ => "",
            };
            format!("{} counter{verdict}", parts.join(" "))
        })
        .collect()
}

/// The ruleset file for `rules`: table `t`, base chain `c` on `device`.
pub fn ruleset(rules: &[String], device: &str) -> Ruleset {
    ruleset_hooked(rules, &format!(" device \"{device}\""))
}

/// The ruleset file for `rules` with base chain `c` on every port (the
/// switch's extension: a netdev chain without a device), so that frames of
/// any port run the rules.
pub fn ruleset_on_every_port(rules: &[String]) -> Ruleset {
    ruleset_hooked(rules, "")
}

/// The ruleset file for `rules`: table `t`, base chain `c` hooked with
/// `device` (a ` device "name"` clause, or nothing).
fn ruleset_hooked(rules: &[String], device: &str) -> Ruleset {
    let mut text = format!(
        "table netdev t {{\n  chain c {{\n    type filter hook ingress{device} priority 0; policy accept;\n"
    );
    for r in rules {
        text.push_str("    ");
        text.push_str(r);
        text.push('\n');
    }
    text.push_str("  }\n}\n");
    Ruleset {
        text,
        rules: rules.to_vec(),
    }
}
