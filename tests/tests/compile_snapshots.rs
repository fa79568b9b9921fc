//! Snapshot tests of compilation: for every construct of the language, the
//! listing of a small ruleset that uses it. A change in code generation
//! shows as a reviewable snapshot diff (`cargo insta review`); CI fails on a
//! snapshot that changed or is new.
//!
//! Rule snapshots leave the parse section out (it depends only on which
//! layers the rules read, and has snapshots of its own below), so each one
//! shows just what its construct compiles to.

/// A case: a name and either rules (wrapped in a netdev table with one base
/// chain on `eth0`) or a whole ruleset (when it starts with `table`, or
/// declares headers, sets or maps before the table).
const CASES: &[(&str, &str)] = &[
    // ---- Ethernet and VLAN ----
    ("ether_daddr", "ether daddr 02:00:00:00:00:02 drop"),
    ("ether_saddr", "ether saddr 02:00:00:00:00:01 drop"),
    ("ether_type_symbol", "ether type arp accept"),
    ("ether_type_number", "ether type 0x88cc drop"),
    (
        "ether_saddr_prefix_set",
        "ether saddr { 02:00:00:00:00:01, 02:00:00:00:00:02 } accept",
    ),
    ("vlan_id", "vlan id 10 accept"),
    ("vlan_pcp", "vlan pcp 5 accept"),
    ("vlan_dei", "vlan dei 1 drop"),
    ("vlan_type", "vlan type ip6 accept"),
    ("vlan_id_range", "vlan id 100-199 accept"),
    ("vlan_id_set", "vlan id { 10, 20, 30 } accept"),
    ("vlan_then_ip", "vlan id 10 ip saddr 10.0.0.1 accept"),
    ("vlan_then_arp", "vlan id 10 arp operation request accept"),
    (
        "ether_then_ip",
        "ether saddr 02:00:00:00:00:01 ip saddr 10.0.0.1 drop",
    ),
    (
        "ip_then_ether",
        "ip saddr 10.0.0.1 ether saddr 02:00:00:00:00:01 drop",
    ),
    (
        "ether_type_vlan_reaches_vlan",
        "ether type vlan vlan id 5 accept",
    ),
    (
        "ether_type_number_reaches_vlan",
        "ether type 0x8100 ip protocol udp accept",
    ),
    (
        "vlan_then_ether_keeps_vlan_context",
        "vlan dei 0 ether daddr 02:00:00:00:00:03 ip6 flowlabel 1 accept",
    ),
    // ---- ARP ----
    ("arp_htype", "arp htype 1 accept"),
    ("arp_ptype", "arp ptype ip accept"),
    ("arp_operation", "arp operation reply drop"),
    ("arp_saddr_ip", "arp saddr ip 10.0.0.1 accept"),
    ("arp_daddr_ip_prefix", "arp daddr ip 10.0.0.0/24 accept"),
    (
        "arp_saddr_ether",
        "arp saddr ether 02:00:00:00:00:01 accept",
    ),
    (
        "arp_daddr_ether",
        "arp daddr ether 00:00:00:00:00:00 accept",
    ),
    // ---- IPv4 ----
    ("ip_version", "ip version 4 accept"),
    ("ip_hdrlength", "ip hdrlength > 5 drop"),
    ("ip_dscp_symbol", "ip dscp cs1 accept"),
    ("ip_dscp_set", "ip dscp { ef, af41 } accept"),
    ("ip_ecn", "ip ecn ce drop"),
    ("ip_length", "ip length > 1500 drop"),
    ("ip_id", "ip id 0 accept"),
    ("ip_frag_off_mask", "ip frag-off & 0x1fff != 0 drop"),
    ("ip_ttl", "ip ttl 1 drop"),
    ("ip_ttl_le", "ip ttl <= 1 drop"),
    ("ip_protocol", "ip protocol icmp accept"),
    ("ip_protocol_set", "ip protocol { tcp, udp } accept"),
    ("ip_checksum", "ip checksum 0 drop"),
    ("ip_saddr", "ip saddr 10.0.0.1 accept"),
    ("ip_saddr_ne", "ip saddr != 10.0.0.1 drop"),
    ("ip_saddr_prefix", "ip saddr 10.0.0.0/8 accept"),
    ("ip_saddr_prefix_normalised", "ip saddr 10.1.2.3/8 accept"),
    ("ip_saddr_prefix_ne", "ip saddr != 192.168.0.0/16 drop"),
    ("ip_saddr_range", "ip saddr 10.0.0.1-10.0.0.100 accept"),
    (
        "ip_daddr_interval_set",
        "ip daddr { 10.0.0.0/8, 192.168.1.1, 172.16.0.1-172.16.0.9 } accept",
    ),
    (
        "ip_daddr_large_set",
        "ip daddr { 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.0.5, 10.0.0.6, 10.0.0.7, 10.0.0.8, 10.0.0.9 } accept",
    ),
    (
        "ip_two_fields",
        "ip saddr 10.0.0.1 ip daddr 10.0.0.2 accept",
    ),
    (
        "ip_same_field_twice",
        "ip saddr != 10.0.0.1 ip saddr != 10.0.0.2 accept",
    ),
    (
        "ip_protocol_then_tcp",
        "ip protocol tcp tcp dport 22 accept",
    ),
    (
        "meta_protocol_then_ip",
        "meta protocol ip ip saddr 10.0.0.1 accept",
    ),
    // ---- IPv6 ----
    ("ip6_version", "ip6 version 6 accept"),
    ("ip6_dscp", "ip6 dscp cs1 accept"),
    ("ip6_ecn", "ip6 ecn ect0 accept"),
    ("ip6_flowlabel", "ip6 flowlabel 12345 accept"),
    ("ip6_length", "ip6 length 0 drop"),
    ("ip6_nexthdr", "ip6 nexthdr udp accept"),
    ("ip6_hoplimit", "ip6 hoplimit 255 accept"),
    ("ip6_saddr", "ip6 saddr 2001:db8::1 accept"),
    ("ip6_saddr_prefix", "ip6 saddr 2001:db8::/32 accept"),
    ("ip6_daddr_linklocal", "ip6 daddr fe80::/10 drop"),
    ("ip6_daddr_set", "ip6 daddr { ::1, 2001:db8::2 } accept"),
    (
        "ip6_saddr_range",
        "ip6 saddr 2001:db8::1-2001:db8::ff accept",
    ),
    ("ip6_then_udp", "ip6 saddr ::1 udp dport 53 drop"),
    // ---- TCP, UDP, th ----
    ("tcp_sport", "tcp sport 1024 accept"),
    ("tcp_dport", "tcp dport 22 accept"),
    ("tcp_dport_ne", "tcp dport != 22 drop"),
    ("tcp_dport_lt", "tcp dport < 1024 accept"),
    ("tcp_dport_ge", "tcp dport >= 1024 accept"),
    ("tcp_dport_range", "tcp dport 1000-2000 accept"),
    ("tcp_dport_range_ne", "tcp dport != 1000-2000 drop"),
    ("tcp_dport_set", "tcp dport { 22, 80, 443 } accept"),
    (
        "tcp_dport_interval_set",
        "tcp dport { 22, 80, 1000-2000 } accept",
    ),
    ("tcp_dport_set_ne", "tcp dport != { 22, 80 } drop"),
    ("tcp_sequence", "tcp sequence 0 drop"),
    ("tcp_ackseq", "tcp ackseq 0 drop"),
    ("tcp_doff", "tcp doff < 5 drop"),
    ("tcp_flags_any", "tcp flags syn accept"),
    ("tcp_flags_list_any", "tcp flags syn,ack accept"),
    ("tcp_flags_exact", "tcp flags == syn accept"),
    ("tcp_flags_masked", "tcp flags syn / syn,ack accept"),
    ("tcp_flags_bitmask", "tcp flags & (syn|ack) == syn accept"),
    ("tcp_flags_set", "tcp flags { syn, ack } accept"),
    ("tcp_flags_not", "tcp flags & (fin|syn|rst|ack) != 0 accept"),
    ("tcp_window", "tcp window 0 drop"),
    ("tcp_checksum", "tcp checksum 0 drop"),
    ("tcp_urgptr", "tcp urgptr != 0 drop"),
    ("tcp_two_ports", "tcp sport 1024-65535 tcp dport 22 accept"),
    ("udp_sport", "udp sport 53 accept"),
    ("udp_dport", "udp dport 4789 accept"),
    ("udp_length", "udp length < 8 drop"),
    ("udp_checksum", "udp checksum 0 accept"),
    ("th_dport", "th dport 53 accept"),
    ("th_sport_set", "th sport { 67, 68 } accept"),
    ("meta_l4proto_th", "meta l4proto udp th dport 53 accept"),
    // ---- ICMP ----
    ("icmp_type", "icmp type echo-request accept"),
    (
        "icmp_type_set",
        "icmp type { echo-request, echo-reply } accept",
    ),
    ("icmp_code", "icmp code port-unreachable accept"),
    ("icmp_id", "icmp id 7 accept"),
    ("icmp_sequence", "icmp sequence 1 accept"),
    (
        "icmp_type_then_id",
        "icmp type echo-request icmp id 7 accept",
    ),
    ("icmpv6_type", "icmpv6 type nd-neighbor-solicit accept"),
    ("icmpv6_code", "icmpv6 code no-route accept"),
    (
        "icmpv6_type_set",
        "icmpv6 type { nd-router-advert, nd-neighbor-advert } accept",
    ),
    // ---- meta ----
    ("meta_iifname", "meta iifname \"eth0\" accept"),
    ("meta_iifname_wildcard", "meta iifname \"eth*\" accept"),
    (
        "meta_iifname_set",
        "meta iifname != { \"eth1\", \"eth2\" } drop",
    ),
    ("meta_iif", "meta iif \"eth1\" drop"),
    ("meta_length", "meta length > 1000 drop"),
    ("meta_protocol", "meta protocol ip6 accept"),
    ("meta_protocol_set", "meta protocol { ip, arp } accept"),
    ("meta_l4proto", "meta l4proto { tcp, udp } accept"),
    ("meta_mark", "meta mark 0x10 accept"),
    ("meta_mark_mask", "meta mark & 0xff == 0x10 accept"),
    ("meta_pkttype", "meta pkttype broadcast drop"),
    (
        "meta_pkttype_set",
        "meta pkttype { host, multicast } accept",
    ),
    // ---- raw payload ----
    ("raw_ll", "@ll,96,16 0x0800 accept"),
    ("raw_nh_word", "@nh,96,32 0x0a000001 accept"),
    ("raw_nh_unaligned", "@nh,3,5 7 accept"),
    ("raw_th_byte", "@th,104,8 0x02 accept"),
    ("raw_th_range", "@th,16,16 1000-2000 accept"),
    ("raw_nh_set", "@nh,72,8 { 6, 17 } accept"),
    // ---- concatenations, maps, verdict maps ----
    (
        "concat_set",
        "ip saddr . tcp dport { 10.0.0.1 . 22, 10.0.0.2 . 80 } accept",
    ),
    (
        "concat_eq",
        "ip saddr . ip daddr 10.0.0.1 . 10.0.0.2 accept",
    ),
    (
        "concat_three",
        "ip saddr . ip daddr . tcp dport { 10.0.0.1 . 10.0.0.2 . 22 } accept",
    ),
    (
        "concat_ether_vlan",
        "ether saddr . vlan id { 02:00:00:00:00:01 . 10 } accept",
    ),
    (
        "mark_set_map",
        "meta mark set tcp dport map { 22 : 1, 80 : 2 }",
    ),
    (
        "mark_set_map_interval",
        "meta mark set ip saddr map { 10.0.0.0/8 : 1, 192.168.0.0/16 : 2 }",
    ),
    (
        "vmap",
        "ip daddr vmap { 10.0.0.1 : accept, 10.0.0.2 : drop }",
    ),
    (
        "vmap_ports",
        "tcp dport vmap { 22 : accept, 23 : drop, 80 : continue }",
    ),
    (
        "vmap_concat",
        "ip saddr . tcp dport vmap { 10.0.0.1 . 22 : accept, 10.0.0.2 . 22 : drop }",
    ),
    // ---- statements ----
    ("counter", "counter"),
    ("counter_after_match", "tcp dport 22 counter accept"),
    ("limit_packets", "limit rate 10/second accept"),
    (
        "limit_burst",
        "limit rate 100/minute burst 20 packets accept",
    ),
    ("limit_over", "limit rate over 1000/second drop"),
    ("limit_bytes", "limit rate 1 mbytes/second accept"),
    (
        "limit_then_counter",
        "icmp type echo-request limit rate 5/second counter accept",
    ),
    ("mark_set", "meta mark set 0x2a"),
    ("log", "tcp dport 23 log prefix \"telnet: \" drop"),
    ("log_plain", "log"),
    ("set_ttl", "ip ttl set 64"),
    ("set_dscp", "ip dscp set cs1"),
    ("set_ether_daddr", "ether daddr set 02:00:00:00:00:09"),
    ("set_vlan_pcp", "vlan pcp set 3"),
    ("set_ip6_hoplimit", "ip6 hoplimit set 1"),
    ("set_ip_ecn", "ip ecn set ce"),
    ("set_ip_saddr_fixes_l4_checksums", "ip saddr set 10.9.9.9"),
    (
        "set_ip6_daddr_fixes_l4_checksums",
        "ip6 daddr set 2001:db8::9",
    ),
    ("set_tcp_dport", "tcp dport set 8080"),
    ("set_udp_sport_optional_checksum", "udp sport set 53"),
    ("set_raw_byte", "@nh,64,8 set 64"),
    ("set_raw_nibble", "@th,4,4 set 3"),
    (
        "set_mark_from_meta_key_map",
        "meta mark set meta l4proto map { tcp : 6, udp : 17 }",
    ),
    ("fwd", "ip daddr 10.0.0.2 fwd to \"eth1\""),
    ("dup", "ip saddr 10.0.0.1 dup to \"mirror0\""),
    ("flood", "ether daddr ff:ff:ff:ff:ff:ff flood"),
    ("vlan_push", "meta iifname \"eth0\" vlan push 10"),
    ("vlan_pop", "vlan id 10 vlan pop fwd to \"eth1\""),
    ("comment", "tcp dport 22 accept comment \"ssh\""),
    // ---- verdicts ----
    ("accept", "accept"),
    ("drop", "drop"),
    ("continue", "tcp dport 22 continue"),
    ("return_in_base", "return"),
];

/// Whole rulesets: chains, jumps, named objects, user headers, policies.
const RULESETS: &[(&str, &str)] = &[
    (
        "jump_and_return",
        "table netdev t {
  chain web {
    tcp dport 80 accept
    return
  }
  chain in {
    type filter hook ingress device \"eth0\" priority 0; policy drop;
    ip daddr 10.0.0.2 jump web
    ip daddr 10.0.0.3 goto web
  }
}",
    ),
    (
        "vmap_jump",
        "table netdev t {
  chain ssh { counter accept }
  chain web { counter accept }
  chain in {
    type filter hook ingress priority 0; policy drop;
    tcp dport vmap { 22 : jump ssh, 80 : goto web }
  }
}",
    ),
    (
        "two_base_chains",
        "table netdev t {
  chain late {
    type filter hook ingress priority 10; policy accept;
    ip ttl 1 drop
  }
  chain early {
    type filter hook ingress device \"eth0\" priority -10; policy accept;
    ether type arp accept
  }
}",
    ),
    (
        "named_set",
        "table netdev t {
  set blocked {
    type ipv4_addr
    flags interval
    elements = { 10.0.0.0/8, 192.168.1.1 }
  }
  chain in {
    type filter hook ingress priority 0; policy accept;
    ip saddr @blocked drop
    ip daddr != @blocked accept
  }
}",
    ),
    (
        "named_set_sub_byte_key",
        "table netdev t {
  set classes { type dscp; elements = { ef, af41 } }
  chain in {
    type filter hook ingress priority 0; policy accept;
    ip dscp @classes accept
    ip6 dscp @classes accept
  }
}",
    ),
    (
        "named_concat_set",
        "table netdev t {
  set allowed {
    type ipv4_addr . inet_service
    elements = { 10.0.0.1 . 22, 10.0.0.2 . 443 }
  }
  chain in {
    type filter hook ingress priority 0; policy drop;
    ip saddr . tcp dport @allowed accept
  }
}",
    ),
    (
        "named_map",
        "table netdev t {
  map marks {
    type inet_service : mark
    elements = { 22 : 1, 80 : 2 }
  }
  chain in {
    type filter hook ingress priority 0; policy accept;
    meta mark set tcp dport map @marks
  }
}",
    ),
    (
        "named_vmap",
        "table netdev t {
  map by_port {
    type inet_service : verdict
    elements = { 22 : accept, 23 : drop }
  }
  chain in {
    type filter hook ingress priority 0; policy accept;
    tcp dport vmap @by_port
  }
}",
    ),
    (
        "define_and_variables",
        "define lan = 10.0.0.0/8
define ports = { 22, 80 }
table netdev t {
  chain in {
    type filter hook ingress priority 0; policy accept;
    ip saddr $lan tcp dport $ports accept
  }
}",
    ),
    (
        "user_header_vxlan",
        "header vxlan {
  flags : 8;
  _ : 24;
  vni : 24;
  _ : 8;
}
parse udp dport 4789 => vxlan;
table netdev t {
  chain in {
    type filter hook ingress priority 0; policy accept;
    vxlan vni 100 accept
    @vxlan,32,24 200 drop
  }
}",
    ),
    (
        "user_header_mpls",
        "header mpls {
  label : 20;
  tc : 3;
  s : 1;
  ttl : 8;
}
parse ether type 0x8847 => mpls;
parse vlan type 0x8847 => mpls;
table netdev t {
  chain in {
    type filter hook ingress priority 0; policy accept;
    mpls label 16 accept
    vlan id 10 mpls label 17 accept
  }
}",
    ),
    (
        "user_header_after_variable_length",
        "header app {
  magic : 32;
}
parse tcp dport 9000 => app;
table netdev t {
  chain in {
    type filter hook ingress priority 0; policy accept;
    app magic 0xcafef00d drop
  }
}",
    ),
    (
        "user_header_after_ipv4_options",
        "header gre {
  flags : 16;
  protocol : 16 ether_type;
}
parse ip protocol gre => gre;
table netdev t {
  chain in {
    type filter hook ingress priority 0; policy accept;
    gre protocol ip drop
  }
}",
    ),
    (
        "device_and_policy_drop",
        "table netdev t {
  chain in {
    type filter hook ingress device \"eth0\" priority filter; policy drop;
    ether type arp accept
  }
}",
    ),
    (
        "bridge_and_inet_families",
        "table bridge b {
  chain in {
    type filter hook ingress priority 0; policy accept;
    ether type arp accept
  }
}
table inet i {
  chain in {
    type filter hook ingress priority 1; policy accept;
    tcp dport 22 accept
  }
}",
    ),
];

/// Parse sections: each depends only on the layers the rules read.
const PARSE_SECTIONS: &[(&str, &str)] = &[
    ("parse_link_only", "ether type arp accept"),
    ("parse_network", "ip saddr 10.0.0.1 accept"),
    ("parse_transport", "tcp dport 22 accept"),
    ("parse_meta_length", "meta length 100 accept"),
];

fn wrap(rules: &str) -> String {
    if rules.starts_with("table") || rules.starts_with("define") || rules.starts_with("header") {
        return rules.to_string();
    }
    format!(
        "table netdev t {{\n  chain in {{\n    type filter hook ingress device \"eth0\" priority 0; policy accept;\n    {rules}\n  }}\n}}\n"
    )
}

fn compile(name: &str, text: &str) -> vm::Program {
    let checked = ruleset::check_str(&format!("{name}.nft"), text)
        .unwrap_or_else(|d| panic!("{name}: {}", d.render(false)));
    let verified = compiler::compile_verified(&checked).unwrap_or_else(|e| {
        panic!(
            "{name}: {}",
            compiler::error::diagnostics(&checked, e).render(false)
        )
    });
    // Compiling the same text twice gives the same program, byte for byte.
    let again =
        compiler::compile_verified(&ruleset::check_str(&format!("{name}.nft"), text).unwrap())
            .unwrap();
    assert_eq!(
        vm::saved::to_ron(verified.program()).unwrap(),
        vm::saved::to_ron(again.program()).unwrap()
    );
    verified.into_program()
}

fn rules_listing(mut program: vm::Program) -> String {
    program.parse.clear();
    vm::listing::listing(&program)
}

#[test]
fn constructs() {
    for (name, rules) in CASES {
        let program = compile(name, &wrap(rules));
        insta::assert_snapshot!(*name, rules_listing(program), rules);
    }
}

#[test]
fn rulesets() {
    for (name, text) in RULESETS {
        let program = compile(name, text);
        insta::assert_snapshot!(*name, rules_listing(program), text);
    }
}

#[test]
fn parse_sections() {
    for (name, rules) in PARSE_SECTIONS {
        let program = compile(name, &wrap(rules));
        insta::assert_snapshot!(*name, vm::listing::listing(&program), rules);
    }
}
