//! `examples/rulesets/edge.nft` written by hand in Rust: the "physical
//! limit" the JIT is measured against. Direct byte parsing with bounds
//! checks, the port resolved to an index once (as any switch would), the
//! sets and the verdict map as compares, counters as the runtime's
//! counters (packets and bytes, atomic adds) and the rate limits as token
//! buckets, as the ruleset asks.
//!
//! It implements the ruleset's semantics for the frames a switch sees on
//! its ports: untagged or up to two VLAN tags, IPv4 (options skipped by
//! `ihl`; later fragments carry no transport header), IPv6 (transport
//! directly after the fixed header: the extension headers the VM walks are
//! not followed here), ARP. `tests/baselines.rs` checks it against the
//! interpreter on the benchmark frames.

use std::time::Instant;
use vm::runtime::Counter;

/// The port a frame came in on, resolved from its name once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Port {
    /// `veth1`, the VLAN 10 hosts.
    Veth1,
    /// `veth2`, the VLAN 20 hosts (and the mirror port).
    Veth2,
    /// `veth3`, the uplink.
    Veth3,
    /// Any other port.
    Other,
}

impl Port {
    /// The port called `name`.
    pub fn named(name: &str) -> Port {
        match name {
            "veth1" => Port::Veth1,
            "veth2" => Port::Veth2,
            "veth3" => Port::Veth3,
            _ => Port::Other,
        }
    }
}

/// The final verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// To the L2 switch.
    Accept,
    /// Dropped.
    Drop,
    /// Out of the uplink.
    FwdUplink,
    /// Out of every other port.
    Flood,
}

/// What decided: a rule of a chain (`ingress` 0, `admin` 1) or the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decider {
    /// Rule `rule` of chain `chain`.
    Rule {
        /// 0 for `ingress`, 1 for `admin`.
        chain: u8,
        /// Index of the rule in its chain.
        rule: u8,
    },
    /// The `ingress` policy (accept).
    Policy,
}

/// The decision on one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The verdict.
    pub verdict: Verdict,
    /// What gave it.
    pub decider: Decider,
    /// The mark at the end.
    pub mark: u32,
    /// Whether a copy goes to the mirror port (`dup to veth2`).
    pub mirrored: bool,
}

/// A token bucket for `limit rate over R/second burst B packets`.
struct Bucket {
    rate: u64,
    capacity: u64,
    tokens: u64,
    last_ns: u64,
}

impl Bucket {
    fn new(rate: u64, burst: u64) -> Bucket {
        Bucket {
            rate,
            capacity: rate + burst,
            tokens: rate + burst,
            last_ns: 0,
        }
    }

    /// Whether the packet is over the rate (takes a token otherwise).
    fn over(&mut self, now_ns: u64) -> bool {
        let refill = (now_ns - self.last_ns) * self.rate / 1_000_000_000;
        if refill > 0 {
            self.tokens = (self.tokens + refill).min(self.capacity);
            self.last_ns = now_ns;
        }
        if self.tokens > 0 {
            self.tokens -= 1;
            false
        } else {
            true
        }
    }
}

/// The ruleset's two rate limits.
pub struct Limits {
    pings: Bucket,
    syns: Bucket,
    started: Instant,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            pings: Bucket::new(10, 0),
            syns: Bucket::new(200, 50),
            started: Instant::now(),
        }
    }
}

impl Limits {
    /// Whether a ping is over `limit rate over 10/second` (rule 9).
    pub fn ping_over(&mut self) -> bool {
        let now = self.started.elapsed().as_nanos() as u64;
        self.pings.over(now)
    }

    /// Whether a SYN is over `limit rate over 200/second burst 50 packets`
    /// (rule 10).
    pub fn syn_over(&mut self) -> bool {
        let now = self.started.elapsed().as_nanos() as u64;
        self.syns.over(now)
    }
}

/// Index in [`Edge::counters`] of each counting rule.
pub mod counter {
    /// Ingress rule 3 (anti-spoofing on veth1).
    pub const RULE3: usize = 0;
    /// Ingress rule 4 (anti-spoofing on veth2).
    pub const RULE4: usize = 1;
    /// Ingress rule 5 (blocked source).
    pub const RULE5: usize = 2;
    /// Ingress rule 6 (blocked destination).
    pub const RULE6: usize = 3;
    /// Ingress rule 16 (remote access).
    pub const RULE16: usize = 4;
    /// Rule 0 of chain `admin`.
    pub const ADMIN0: usize = 5;
}

/// The ruleset's state: counters of the counting rules and the two rate
/// limiters.
#[derive(Default)]
pub struct Edge {
    /// Counters of the counting rules, indexed as in [`counter`].
    pub counters: [Counter; 6],
    /// The rate limits.
    pub limits: Limits,
}

/// Offsets found by parsing.
struct Parsed {
    /// The ethertype after the VLAN tags.
    protocol: u16,
    /// Offset of the first VLAN tag's TCI, if tagged.
    tci: Option<usize>,
    /// Offset of the network header.
    nh: usize,
    /// IPv4 header length, for IPv4.
    ihl: usize,
    /// Transport protocol and the offset of its header.
    l4: Option<(u8, usize)>,
}

fn be16(f: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*f.get(at)?, *f.get(at + 1)?]))
}

fn be32(f: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(f.get(at..at + 4)?.try_into().ok()?))
}

fn parse(f: &[u8]) -> Option<Parsed> {
    let mut protocol = be16(f, 12)?;
    let mut nh = 14;
    let mut tci = None;
    for _ in 0..2 {
        if protocol != 0x8100 && protocol != 0x88a8 {
            break;
        }
        tci.get_or_insert(nh);
        protocol = be16(f, nh + 2)?;
        nh += 4;
    }
    let mut p = Parsed {
        protocol,
        tci,
        nh,
        ihl: 0,
        l4: None,
    };
    match protocol {
        0x0800 => {
            let vihl = *f.get(nh)?;
            p.ihl = usize::from(vihl & 0x0f) * 4;
            let frag = be16(f, nh + 6)? & 0x1fff;
            if vihl >> 4 == 4 && p.ihl >= 20 && frag == 0 {
                p.l4 = Some((*f.get(nh + 9)?, nh + p.ihl));
            }
        }
        0x86dd => p.l4 = Some((*f.get(nh + 6)?, nh + 40)),
        _ => {}
    }
    Some(p)
}

/// Whether `a` is in the blocklist set.
fn blocked(a: u32) -> bool {
    a >> 8 == 0x00c0_0002 || a >> 8 == 0x00c6_3364 || a == 0xcb00_7107
}

/// Runs the `edge` ruleset on `frame`, received on `port`.
pub fn edge(state: &mut Edge, frame: &mut [u8], port: Port) -> Decision {
    let rule = |rule: u8, verdict, mark, mirrored| Decision {
        verdict,
        decider: Decider::Rule { chain: 0, rule },
        mark,
        mirrored,
    };
    let len = frame.len();
    let count = |c: usize| state.counters[c].add(len as u64);
    let f: &[u8] = frame;
    let ether_type = be16(f, 12);
    // 0, 1: ARP and LLDP by the outer type.
    if ether_type == Some(0x0806) {
        return rule(0, Verdict::Accept, 0, false);
    }
    if ether_type == Some(0x88cc) {
        return rule(1, Verdict::Drop, 0, false);
    }
    let p = parse(f);
    let ip4 = p.as_ref().filter(|p| p.protocol == 0x0800);
    let saddr = ip4.and_then(|p| be32(f, p.nh + 12));
    let daddr = ip4.and_then(|p| be32(f, p.nh + 16));
    let l4 = |proto: u8| {
        p.as_ref()
            .and_then(|p| p.l4)
            .filter(|(t, _)| *t == proto)
            .map(|(_, at)| at)
    };
    // 2: neighbour discovery.
    if let Some(at) = l4(58).filter(|_| p.as_ref().is_some_and(|p| p.protocol == 0x86dd))
        && f.get(at).is_some_and(|t| (133..=136).contains(t))
    {
        return rule(2, Verdict::Accept, 0, false);
    }
    // 3, 4: anti-spoofing.
    if port == Port::Veth1
        && let Some(s) = saddr
        && s >> 16 != 0x0a0a
    {
        count(counter::RULE3);
        return rule(3, Verdict::Drop, 0, false);
    }
    if port == Port::Veth2
        && let Some(s) = saddr
        && s >> 16 != 0x0a14
    {
        count(counter::RULE4);
        return rule(4, Verdict::Drop, 0, false);
    }
    // 5, 6: the blocklist.
    if saddr.is_some_and(blocked) {
        count(counter::RULE5);
        return rule(5, Verdict::Drop, 0, false);
    }
    if daddr.is_some_and(blocked) {
        count(counter::RULE6);
        return rule(6, Verdict::Drop, 0, false);
    }
    // 7: no tags from the hosts; 8: voice from the uplink.
    if matches!(port, Port::Veth1 | Port::Veth2) && ether_type == Some(0x8100) {
        return rule(7, Verdict::Drop, 0, false);
    }
    if port == Port::Veth3
        && let Some(tci) = p.as_ref().and_then(|p| p.tci)
        && be16(f, tci).is_some_and(|t| t & 0x0fff == 30)
    {
        frame[tci] = (frame[tci] & 0x1f) | (5 << 5);
        return rule(8, Verdict::Accept, 0, false);
    }
    // 9: pings over 10/s.
    if ip4.is_some()
        && let Some(at) = l4(1)
        && f.get(at) == Some(&8)
        && state.limits.ping_over()
    {
        return rule(9, Verdict::Drop, 0, false);
    }
    // 10: SYNs over 200/s, burst 50.
    let tcp = l4(6);
    if let Some(at) = tcp
        && f.get(at + 13).is_some_and(|fl| fl & 0x12 == 0x02)
        && state.limits.syn_over()
    {
        return rule(10, Verdict::Drop, 0, false);
    }
    let udp = l4(17);
    let udp_dport = udp.and_then(|at| be16(f, at + 2));
    // 11: DNS to the servers, mirrored.
    if udp_dport == Some(53) && matches!(daddr, Some(0x0a0a_0035 | 0x0a14_0035)) {
        return rule(11, Verdict::Accept, 0, true);
    }
    // 12: SIP: mark 0x10, DSCP cs3, IPv4 header checksum fixed.
    if let (Some(5060..=5061), Some(ip)) = (udp_dport, ip4) {
        let at = ip.nh + 1;
        let old = frame[at];
        let new = (old & 0x03) | (24 << 2);
        frame[at] = new;
        let sum = ip.nh + 10;
        if sum + 2 <= len && ip.ihl >= 20 {
            // RFC 1624: HC' = ~(~HC + ~m + m'); the byte is the low half
            // of the header's first 16-bit word.
            let hc = u16::from_be_bytes([frame[sum], frame[sum + 1]]);
            let mut acc = u32::from(!hc) + u32::from(!u16::from(old)) + u32::from(new);
            acc = (acc & 0xffff) + (acc >> 16);
            acc = (acc & 0xffff) + (acc >> 16);
            frame[sum..sum + 2].copy_from_slice(&(!(acc as u16)).to_be_bytes());
        }
        return rule(12, Verdict::Accept, 0x10, false);
    }
    let f: &[u8] = frame;
    // 13: published services (the verdict map).
    let tcp_dport = tcp.and_then(|at| be16(f, at + 2));
    if let (Some(d), Some(port)) = (daddr, tcp_dport) {
        match (d, port) {
            (0x0a0a_0050, 80 | 443) => return rule(13, Verdict::Accept, 0, false),
            (0x0a0a_0016, 22) => {
                // jump admin
                if saddr.is_some_and(|s| s >> 8 == 0x000a_0a00) {
                    count(counter::ADMIN0);
                    return Decision {
                        verdict: Verdict::Accept,
                        decider: Decider::Rule { chain: 1, rule: 0 },
                        mark: 0,
                        mirrored: false,
                    };
                }
                return Decision {
                    verdict: Verdict::Drop,
                    decider: Decider::Rule { chain: 1, rule: 2 },
                    mark: 0,
                    mirrored: false,
                };
            }
            _ => {}
        }
    }
    // 14: the management network.
    if daddr.is_some_and(|d| d >> 8 == 0x000a_6300) {
        return rule(14, Verdict::FwdUplink, 0, false);
    }
    // 15: broadcast.
    if f.get(..6) == Some(&[0xff; 6]) {
        return rule(15, Verdict::Flood, 0, false);
    }
    // 16: remote access.
    if matches!(tcp_dport, Some(22 | 23 | 3389)) {
        count(counter::RULE16);
        return rule(16, Verdict::Drop, 0, false);
    }
    Decision {
        verdict: Verdict::Accept,
        decider: Decider::Policy,
        mark: 0,
        mirrored: false,
    }
}
