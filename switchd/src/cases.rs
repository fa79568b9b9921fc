//! Packet test vectors kept beside a ruleset (`CASES.ron`), as `switchctl
//! test` and the compiler's file tests read them.
//!
//! A case names a packet, built from header fields with `etherparse` or
//! given as hex, the port it arrives on, and what the ruleset must do with
//! it: the verdict, the output port, and the deciding rule (by chain and
//! index, source line or comment). Fields left out take defaults, so a case
//! says only what matters to it:
//!
//! ```ron
//! #![enable(implicit_some)]
//! (cases: [
//!     (name: "ssh is let in",
//!      packet: Fields((ip: (src: "10.0.0.1", dst: "10.0.0.2"), tcp: (dport: 22, flags: "syn"))),
//!      expect: (verdict: "accept", rule: 0)),
//!     (name: "raw ARP", packet: Hex("ffffffffffff0200000000010806..."), expect: (verdict: "drop")),
//! ])
//! ```

use etherparse::{
    ArpHardwareId, ArpOperation, ArpPacket, EtherType, Ethernet2Header, IcmpEchoHeader,
    Icmpv4Header, Icmpv4Type, Icmpv6Header, Icmpv6Type, IpDscp, IpEcn, IpFragOffset, IpNumber,
    Ipv4Header, Ipv4Options, Ipv6FlowLabel, Ipv6FragmentHeader, Ipv6Header, Ipv6RawExtHeader,
    SingleVlanHeader, TcpHeader, UdpHeader, VlanId, VlanPcp,
};
use serde::Deserialize;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use thiserror::Error;

/// A file of cases.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The cases, run in order.
    pub cases: Vec<Case>,
}

/// One test vector.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows.
    pub name: String,
    /// The frame.
    pub packet: PacketSpec,
    /// The input port's name (default: `eth0` for `switchctl test`).
    #[serde(default)]
    pub iif: Option<String>,
    /// What must happen.
    pub expect: Expect,
}

/// What a case expects; what it leaves out is not checked.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Expect {
    /// `accept`, `drop`, `fwd` or `flood`.
    pub verdict: Option<String>,
    /// The output port of `fwd`.
    pub port: Option<String>,
    /// The chain that decided.
    pub chain: Option<String>,
    /// The deciding rule's index in its chain; `-1` when the policy decided.
    pub rule: Option<i64>,
    /// The deciding rule's source line.
    pub line: Option<u32>,
    /// The deciding rule's comment.
    pub comment: Option<String>,
    /// The mark after the ruleset.
    pub mark: Option<u32>,
}

/// A frame: from header fields, or raw.
#[derive(Clone, Debug, Deserialize)]
#[allow(
    clippy::large_enum_variant,
    reason = "test vectors, read once from a file"
)]
pub enum PacketSpec {
    /// Hex bytes (whitespace allowed).
    Hex(String),
    /// Built from header fields.
    Fields(Fields),
}

/// The headers of a frame, outermost first; absent headers are left out.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fields {
    /// Ethernet addresses (defaults `02:00:00:00:00:01` to `02:00:00:00:00:02`).
    pub ether: Option<Ether>,
    /// VLAN tags, outermost first.
    pub vlan: Vec<Vlan>,
    /// An ARP packet.
    pub arp: Option<Arp>,
    /// An IPv4 header.
    pub ip: Option<Ip>,
    /// An IPv6 header.
    pub ip6: Option<Ip6>,
    /// A TCP header.
    pub tcp: Option<Tcp>,
    /// A UDP header.
    pub udp: Option<Udp>,
    /// An ICMP header.
    pub icmp: Option<Icmp>,
    /// An ICMPv6 header.
    pub icmpv6: Option<Icmp>,
    /// Payload bytes, hex.
    pub payload: Option<String>,
    /// An ether type for a frame with no network header.
    pub ether_type: Option<u16>,
    /// Cut the finished frame to this many bytes.
    pub truncate: Option<usize>,
}

/// Ethernet addresses.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ether {
    /// Source MAC.
    pub src: Option<String>,
    /// Destination MAC.
    pub dst: Option<String>,
}

/// A VLAN tag.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Vlan {
    /// VLAN id.
    pub id: u16,
    /// Priority.
    pub pcp: u8,
    /// Drop eligible.
    pub dei: bool,
    /// Tag protocol id (default `0x8100`; `0x88a8` for 802.1ad).
    pub tpid: Option<u16>,
}

/// An ARP packet for IPv4 over Ethernet.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Arp {
    /// Operation (1 request, 2 reply; default 1).
    pub op: Option<u16>,
    /// Sender MAC.
    pub sha: Option<String>,
    /// Sender IPv4 address.
    pub spa: Option<String>,
    /// Target MAC.
    pub tha: Option<String>,
    /// Target IPv4 address.
    pub tpa: Option<String>,
}

/// An IPv4 header.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ip {
    /// Source (default 10.0.0.1).
    pub src: Option<String>,
    /// Destination (default 10.0.0.2).
    pub dst: Option<String>,
    /// TTL (default 64).
    pub ttl: Option<u8>,
    /// DSCP.
    pub dscp: u8,
    /// ECN.
    pub ecn: u8,
    /// Identification.
    pub id: u16,
    /// Don't fragment.
    pub df: bool,
    /// More fragments.
    pub mf: bool,
    /// Fragment offset, in 8-byte units.
    pub frag_offset: u16,
    /// Protocol number when no transport header is given.
    pub protocol: Option<u8>,
    /// Options, hex (a multiple of 4 bytes).
    pub options: Option<String>,
    /// Overrides the version field (for malformed headers).
    pub version: Option<u8>,
    /// Overrides the header length field, in 4-byte words.
    pub ihl: Option<u8>,
    /// Overrides the total length field.
    pub length: Option<u16>,
}

/// An IPv6 header and its extension headers.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Ip6 {
    /// Source (default 2001:db8::1).
    pub src: Option<String>,
    /// Destination (default 2001:db8::2).
    pub dst: Option<String>,
    /// Hop limit (default 64).
    pub hoplimit: Option<u8>,
    /// Traffic class.
    pub tclass: u8,
    /// Flow label.
    pub flowlabel: u32,
    /// Next header when no transport header is given.
    pub nexthdr: Option<u8>,
    /// Extension headers, in order: `HopByHop`, `Routing`, `DestOpts`, `Fragment(offset)`.
    pub ext: Vec<Ext>,
    /// Overrides the version field (for malformed headers).
    pub version: Option<u8>,
    /// Overrides the payload length field.
    pub length: Option<u16>,
}

/// An IPv6 extension header.
#[derive(Clone, Debug, Deserialize)]
pub enum Ext {
    /// Hop-by-hop options (8 bytes).
    HopByHop,
    /// Routing (8 bytes).
    Routing,
    /// Destination options (8 bytes).
    DestOpts,
    /// Fragment header with this offset (8-byte units).
    Fragment(u16),
}

/// A TCP header.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tcp {
    /// Source port (default 1024).
    pub sport: Option<u16>,
    /// Destination port (default 80).
    pub dport: Option<u16>,
    /// Flags, comma separated: `fin,syn,rst,psh,ack,urg,ece,cwr`.
    pub flags: String,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Window (default 1024).
    pub window: Option<u16>,
}

/// A UDP header.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Udp {
    /// Source port (default 1024).
    pub sport: Option<u16>,
    /// Destination port (default 53).
    pub dport: Option<u16>,
}

/// An ICMP or ICMPv6 header.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Icmp {
    /// Type (default: echo request).
    #[serde(rename = "type")]
    pub kind: Option<u8>,
    /// Code.
    pub code: u8,
    /// Echo identifier.
    pub id: u16,
    /// Echo sequence number.
    pub seq: u16,
}

/// Why a case file or packet could not be read.
#[derive(Debug, Error)]
pub enum CaseError {
    /// The RON did not parse.
    #[error("{0}")]
    Ron(#[from] ron::error::SpannedError),
    /// A field value is malformed.
    #[error("{field}: {message}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

fn bad(field: &'static str, message: impl std::fmt::Display) -> CaseError {
    CaseError::Field {
        field,
        message: message.to_string(),
    }
}

impl CaseFile {
    /// Parses a case file.
    pub fn parse(text: &str) -> Result<CaseFile, CaseError> {
        Ok(ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME)
            .from_str(text)?)
    }
}

/// Parses hex bytes, ignoring whitespace.
pub fn parse_hex(field: &'static str, text: &str) -> Result<Vec<u8>, CaseError> {
    crate::capture::parse_hex(text).map_err(|e| bad(field, e))
}

fn mac(field: &'static str, text: Option<&str>, default: [u8; 6]) -> Result<[u8; 6], CaseError> {
    text.map_or(Ok(default), |t| parse_mac(t).map_err(|e| bad(field, e)))
}

/// Parses a MAC address written `02:00:00:00:00:fe`.
pub fn parse_mac(text: &str) -> Result<[u8; 6], String> {
    let bytes: Vec<u8> = text
        .split(':')
        .map(|b| u8::from_str_radix(b, 16))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{text:?}: {e}"))?;
    bytes
        .try_into()
        .map_err(|_| format!("{text:?}: a MAC address has six bytes"))
}

fn v4(field: &'static str, text: Option<&str>, default: [u8; 4]) -> Result<[u8; 4], CaseError> {
    text.map_or(Ok(default), |t| {
        Ipv4Addr::from_str(t)
            .map(|a| a.octets())
            .map_err(|e| bad(field, e))
    })
}

fn v6(field: &'static str, text: Option<&str>, default: &str) -> Result<[u8; 16], CaseError> {
    Ipv6Addr::from_str(text.unwrap_or(default))
        .map(|a| a.octets())
        .map_err(|e| bad(field, e))
}

/// The network header of a frame being built, for transport checksums.
enum Net {
    V4(Ipv4Header),
    V6(Ipv6Header),
    None,
}

impl PacketSpec {
    /// The frame's bytes.
    pub fn build(&self) -> Result<Vec<u8>, CaseError> {
        match self {
            PacketSpec::Hex(text) => parse_hex("packet", text),
            PacketSpec::Fields(f) => f.build(),
        }
    }
}

impl Fields {
    /// Builds the frame, with lengths and checksums filled in.
    pub fn build(&self) -> Result<Vec<u8>, CaseError> {
        let payload = self
            .payload
            .as_deref()
            .map_or(Ok(Vec::new()), |p| parse_hex("payload", p))?;
        let (proto, transport) = self.transport(&payload)?;
        let (ether_type, net, mut l3) = self.network(proto, transport.len())?;
        let l4 = self.checksummed(&net, transport, &payload)?;
        l3.extend(l4);
        let mut frame = Vec::new();
        let ether = self.ether.clone().unwrap_or_default();
        let types: Vec<u16> = self
            .vlan
            .iter()
            .map(|v| v.tpid.unwrap_or(0x8100))
            .chain([ether_type])
            .collect();
        Ethernet2Header {
            source: mac("ether.src", ether.src.as_deref(), [2, 0, 0, 0, 0, 1])?,
            destination: mac("ether.dst", ether.dst.as_deref(), [2, 0, 0, 0, 0, 2])?,
            ether_type: EtherType(types[0]),
        }
        .write(&mut frame)
        .map_err(|e| bad("ether", e))?;
        for (tag, next) in self.vlan.iter().zip(&types[1..]) {
            SingleVlanHeader {
                pcp: VlanPcp::try_new(tag.pcp).map_err(|e| bad("vlan.pcp", e))?,
                drop_eligible_indicator: tag.dei,
                vlan_id: VlanId::try_new(tag.id).map_err(|e| bad("vlan.id", e))?,
                ether_type: EtherType(*next),
            }
            .write(&mut frame)
            .map_err(|e| bad("vlan", e))?;
        }
        frame.extend(l3);
        if let Some(n) = self.truncate {
            frame.truncate(n);
        }
        Ok(frame)
    }

    /// The transport header as a template (checksums filled in later) and
    /// its protocol number.
    fn transport(&self, payload: &[u8]) -> Result<(Option<IpNumber>, Vec<u8>), CaseError> {
        let mut out = Vec::new();
        let proto = if let Some(t) = &self.tcp {
            tcp_header(t)?.write(&mut out).map_err(|e| bad("tcp", e))?;
            Some(IpNumber::TCP)
        } else if let Some(u) = &self.udp {
            udp_header(u, payload.len())
                .write(&mut out)
                .map_err(|e| bad("udp", e))?;
            Some(IpNumber::UDP)
        } else if let Some(i) = &self.icmp {
            let echo = IcmpEchoHeader {
                id: i.id,
                seq: i.seq,
            };
            let kind = match i.kind.unwrap_or(8) {
                8 => Icmpv4Type::EchoRequest(echo),
                0 => Icmpv4Type::EchoReply(echo),
                t => Icmpv4Type::Unknown {
                    type_u8: t,
                    code_u8: i.code,
                    bytes5to8: [0; 4],
                },
            };
            Icmpv4Header::with_checksum(kind, payload)
                .write(&mut out)
                .map_err(|e| bad("icmp", e))?;
            Some(IpNumber::ICMP)
        } else if let Some(i) = &self.icmpv6 {
            let echo = IcmpEchoHeader {
                id: i.id,
                seq: i.seq,
            };
            let kind = match i.kind.unwrap_or(128) {
                128 => Icmpv6Type::EchoRequest(echo),
                129 => Icmpv6Type::EchoReply(echo),
                t => Icmpv6Type::Unknown {
                    type_u8: t,
                    code_u8: i.code,
                    bytes5to8: [0; 4],
                },
            };
            Icmpv6Header::new(kind)
                .write(&mut out)
                .map_err(|e| bad("icmpv6", e))?;
            Some(IpNumber::IPV6_ICMP)
        } else {
            None
        };
        Ok((proto, out))
    }

    /// The network header(s) in front of `l4_len` bytes of transport
    /// header and the payload; returns the ether type to announce them.
    fn network(
        &self,
        proto: Option<IpNumber>,
        l4_len: usize,
    ) -> Result<(u16, Net, Vec<u8>), CaseError> {
        let payload_len = l4_len
            + self
                .payload
                .as_deref()
                .map_or(0, |p| p.chars().filter(|c| !c.is_whitespace()).count() / 2);
        let mut out = Vec::new();
        if let Some(ip) = &self.ip {
            let proto = proto.or(ip.protocol.map(IpNumber)).unwrap_or(IpNumber(253));
            let mut h = Ipv4Header::new(
                0,
                ip.ttl.unwrap_or(64),
                proto,
                v4("ip.src", ip.src.as_deref(), [10, 0, 0, 1])?,
                v4("ip.dst", ip.dst.as_deref(), [10, 0, 0, 2])?,
            )
            .map_err(|e| bad("ip", e))?;
            h.dscp = IpDscp::try_new(ip.dscp).map_err(|e| bad("ip.dscp", e))?;
            h.ecn = IpEcn::try_new(ip.ecn).map_err(|e| bad("ip.ecn", e))?;
            h.identification = ip.id;
            h.dont_fragment = ip.df;
            h.more_fragments = ip.mf;
            h.fragment_offset =
                IpFragOffset::try_new(ip.frag_offset).map_err(|e| bad("ip.frag_offset", e))?;
            if let Some(opts) = &ip.options {
                h.options = Ipv4Options::try_from(parse_hex("ip.options", opts)?.as_slice())
                    .map_err(|e| bad("ip.options", e))?;
            }
            h.set_payload_len(payload_len).map_err(|e| bad("ip", e))?;
            h.header_checksum = h.calc_header_checksum();
            h.write(&mut out).map_err(|e| bad("ip", e))?;
            patch(&mut out, ip.version, ip.ihl, ip.length, 2);
            return Ok((0x0800, Net::V4(h), out));
        }
        if let Some(ip6) = &self.ip6 {
            let proto = proto.or(ip6.nexthdr.map(IpNumber)).unwrap_or(IpNumber(59));
            let mut chain = Vec::new();
            let numbers: Vec<IpNumber> = ip6.ext.iter().map(Ext::number).chain([proto]).collect();
            for (ext, next) in ip6.ext.iter().zip(&numbers[1..]) {
                match ext {
                    Ext::Fragment(offset) => Ipv6FragmentHeader::new(
                        *next,
                        IpFragOffset::try_new(*offset).map_err(|e| bad("ip6.ext", e))?,
                        false,
                        1,
                    )
                    .write(&mut chain),
                    _ => Ipv6RawExtHeader::new_raw(*next, &[0; 6])
                        .map_err(|e| bad("ip6.ext", e))?
                        .write(&mut chain),
                }
                .map_err(|e| bad("ip6.ext", e))?;
            }
            let h = Ipv6Header {
                traffic_class: ip6.tclass,
                flow_label: Ipv6FlowLabel::try_new(ip6.flowlabel)
                    .map_err(|e| bad("ip6.flowlabel", e))?,
                payload_length: u16::try_from(chain.len() + payload_len)
                    .map_err(|e| bad("ip6", e))?,
                next_header: numbers[0],
                hop_limit: ip6.hoplimit.unwrap_or(64),
                source: v6("ip6.src", ip6.src.as_deref(), "2001:db8::1")?,
                destination: v6("ip6.dst", ip6.dst.as_deref(), "2001:db8::2")?,
            };
            h.write(&mut out).map_err(|e| bad("ip6", e))?;
            patch(&mut out, ip6.version, None, ip6.length, 4);
            out.extend(chain);
            return Ok((0x86dd, Net::V6(h), out));
        }
        if let Some(arp) = &self.arp {
            let packet = ArpPacket::new(
                ArpHardwareId::ETHERNET,
                EtherType::IPV4,
                ArpOperation(arp.op.unwrap_or(1)),
                &mac("arp.sha", arp.sha.as_deref(), [2, 0, 0, 0, 0, 1])?,
                &v4("arp.spa", arp.spa.as_deref(), [10, 0, 0, 1])?,
                &mac("arp.tha", arp.tha.as_deref(), [0; 6])?,
                &v4("arp.tpa", arp.tpa.as_deref(), [10, 0, 0, 2])?,
            )
            .map_err(|e| bad("arp", e))?;
            packet.write(&mut out).map_err(|e| bad("arp", e))?;
            return Ok((0x0806, Net::None, out));
        }
        Ok((self.ether_type.unwrap_or(0x88b5), Net::None, out))
    }

    /// The transport header with its checksum over `net`, then the payload.
    fn checksummed(
        &self,
        net: &Net,
        mut l4: Vec<u8>,
        payload: &[u8],
    ) -> Result<Vec<u8>, CaseError> {
        match (net, &self.tcp, &self.udp) {
            (Net::V4(ip), Some(t), _) => {
                let mut h = tcp_header(t)?;
                h.checksum = h
                    .calc_checksum_ipv4(ip, payload)
                    .map_err(|e| bad("tcp", e))?;
                l4.clear();
                h.write(&mut l4).map_err(|e| bad("tcp", e))?;
            }
            (Net::V6(ip), Some(t), _) => {
                let mut h = tcp_header(t)?;
                h.checksum = h
                    .calc_checksum_ipv6(ip, payload)
                    .map_err(|e| bad("tcp", e))?;
                l4.clear();
                h.write(&mut l4).map_err(|e| bad("tcp", e))?;
            }
            (Net::V4(ip), None, Some(u)) => {
                let (s, d) = ports(u);
                let h =
                    UdpHeader::with_ipv4_checksum(s, d, ip, payload).map_err(|e| bad("udp", e))?;
                l4.clear();
                h.write(&mut l4).map_err(|e| bad("udp", e))?;
            }
            (Net::V6(ip), None, Some(u)) => {
                let (s, d) = ports(u);
                let h =
                    UdpHeader::with_ipv6_checksum(s, d, ip, payload).map_err(|e| bad("udp", e))?;
                l4.clear();
                h.write(&mut l4).map_err(|e| bad("udp", e))?;
            }
            _ => {}
        }
        l4.extend_from_slice(payload);
        Ok(l4)
    }
}

/// Overwrites the version nibble, the low nibble of the first byte and
/// the 16-bit length at `length_at` of a header just written.
fn patch(
    header: &mut [u8],
    version: Option<u8>,
    low_nibble: Option<u8>,
    length: Option<u16>,
    length_at: usize,
) {
    if let Some(v) = version {
        header[0] = (header[0] & 0x0f) | (v << 4);
    }
    if let Some(n) = low_nibble {
        header[0] = (header[0] & 0xf0) | (n & 0x0f);
    }
    if let Some(len) = length {
        header[length_at..length_at + 2].copy_from_slice(&len.to_be_bytes());
    }
}

impl Ext {
    fn number(&self) -> IpNumber {
        match self {
            Ext::HopByHop => IpNumber::IPV6_HEADER_HOP_BY_HOP,
            Ext::Routing => IpNumber::IPV6_ROUTE_HEADER,
            Ext::DestOpts => IpNumber::IPV6_DESTINATION_OPTIONS,
            Ext::Fragment(_) => IpNumber::IPV6_FRAGMENTATION_HEADER,
        }
    }
}

fn ports(u: &Udp) -> (u16, u16) {
    (u.sport.unwrap_or(1024), u.dport.unwrap_or(53))
}

fn udp_header(u: &Udp, payload: usize) -> UdpHeader {
    let (s, d) = ports(u);
    UdpHeader {
        source_port: s,
        destination_port: d,
        length: (8 + payload) as u16,
        checksum: 0,
    }
}

fn tcp_header(t: &Tcp) -> Result<TcpHeader, CaseError> {
    let mut h = TcpHeader::new(
        t.sport.unwrap_or(1024),
        t.dport.unwrap_or(80),
        t.seq,
        t.window.unwrap_or(1024),
    );
    h.acknowledgment_number = t.ack;
    for flag in t.flags.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        match flag {
            "fin" => h.fin = true,
            "syn" => h.syn = true,
            "rst" => h.rst = true,
            "psh" => h.psh = true,
            "ack" => h.ack = true,
            "urg" => h.urg = true,
            "ece" => h.ece = true,
            "cwr" => h.cwr = true,
            other => return Err(bad("tcp.flags", format!("unknown flag {other}"))),
        }
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    #[test]
    fn a_tagged_tcp_frame_parses_back() {
        let file = CaseFile::parse(
            r#"#![enable(implicit_some)]
            (cases: [(name: "x", packet: Fields((vlan: [(id: 10)], ip: (src: "10.1.2.3"), tcp: (dport: 22, flags: "syn"))),
                      expect: (verdict: "drop"))])"#,
        )
        .unwrap();
        let frame = file.cases[0].packet.build().unwrap();
        let p = SlicedPacket::from_ethernet(&frame).unwrap();
        let Some(NetSlice::Ipv4(ip)) = p.net else {
            panic!("no IPv4")
        };
        assert_eq!(ip.header().source(), [10, 1, 2, 3]);
        let Some(TransportSlice::Tcp(tcp)) = p.transport else {
            panic!("no TCP")
        };
        assert_eq!(tcp.destination_port(), 22);
        assert!(tcp.syn());
        assert_eq!(file.cases[0].expect.verdict.as_deref(), Some("drop"));
    }

    #[test]
    fn ipv6_extension_headers_chain_up() {
        let f = Fields {
            ip6: Some(Ip6 {
                ext: vec![Ext::HopByHop, Ext::Fragment(0)],
                ..Ip6::default()
            }),
            udp: Some(Udp::default()),
            ..Fields::default()
        };
        let frame = f.build().unwrap();
        // Ethernet + IPv6 + 8-byte hop-by-hop + 8-byte fragment + UDP.
        assert_eq!(frame.len(), 14 + 40 + 8 + 8 + 8);
        assert_eq!(frame[14 + 6], 0);
        assert_eq!(frame[14 + 40], 44);
        assert_eq!(frame[14 + 48], 17);
    }

    #[test]
    fn bad_fields_are_named() {
        let f = Fields {
            ip: Some(Ip {
                src: Some("10.0.0".into()),
                ..Ip::default()
            }),
            ..Fields::default()
        };
        assert!(matches!(
            f.build(),
            Err(CaseError::Field {
                field: "ip.src",
                ..
            })
        ));
    }
}
