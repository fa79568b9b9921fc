//! Rendered diagnostics of invalid rulesets, pinned with insta (colour
//! off, byte offsets). Each case is a small file with one kind of mistake,
//! plus one file with many.

use std::path::Path;

/// The rendered diagnostics of a ruleset that must be rejected.
fn render(name: &str, text: &str) -> String {
    match ruleset::check_str(&format!("{name}.nft"), text) {
        Ok(_) => panic!("{name}: accepted"),
        Err(d) => d.render(false),
    }
}

/// `rules` inside a netdev base chain, with a few sets and chains around.
fn in_chain(rules: &str) -> String {
    format!(
        "table netdev t {{\n    set blocklst {{ type ipv4_addr; elements = {{ 10.0.0.1 }} }}\n    set ports {{ type inet_service; elements = {{ 22 }} }}\n    map marks {{ type inet_service : mark; elements = {{ 22 : 1 }} }}\n    chain web {{\n        accept\n    }}\n    chain c {{\n        type filter hook ingress device \"veth0\" priority 0; policy accept;\n{}\n    }}\n}}\n",
        rules
            .lines()
            .map(|l| format!("        {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    )
}

macro_rules! file_case {
    ($name:ident, $text:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(render(stringify!($name), $text));
        }
    };
}

macro_rules! rule_case {
    ($name:ident, $rules:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(render(stringify!($name), &in_chain($rules)));
        }
    };
}

// ---- syntax errors ----
file_case!(syntax_misspelled_table, "tabel netdev t {\n}\n");
file_case!(
    syntax_missing_closing_brace,
    "table netdev t {\n    chain c {\n        accept\n"
);
file_case!(syntax_stray_closing_brace, "table netdev t {\n}\n}\n");
file_case!(
    syntax_hook_without_priority,
    "table netdev t {\n    chain c {\n        type filter hook ingress device \"veth0\"; policy accept;\n    }\n}\n"
);
rule_case!(syntax_invalid_character, "ip saddr 10.0.0.1 ~ accept");
rule_case!(syntax_unterminated_string, "meta iifname \"veth0 accept");
rule_case!(syntax_missing_value, "tcp dport == ");
rule_case!(syntax_unclosed_set, "tcp dport { 22, 80 accept");
rule_case!(syntax_comment_not_last, "comment \"x\" accept");

// ---- unknown names ----
rule_case!(unknown_field_with_suggestion, "tcp dprot 22 accept");
rule_case!(
    unknown_field_of_multiword_header,
    "arp saddr 10.0.0.1 accept"
);
rule_case!(unknown_header_or_statement, "tpc dport 22 accept");
rule_case!(unknown_meta_key, "meta lenght 100 accept");
rule_case!(unknown_symbol, "icmp type echo-requst accept");
rule_case!(unknown_raw_base, "@xx,0,8 1 accept");
rule_case!(unknown_log_level, "log level loud");
rule_case!(unknown_limit_unit, "limit rate 10/fortnight accept");

// ---- type mismatches ----
rule_case!(type_mismatch_ipv4_from_integer, "ip saddr 80 accept");
rule_case!(type_mismatch_ipv6_from_ipv4, "ip6 saddr 10.0.0.1 accept");
rule_case!(type_mismatch_mac_from_ipv4, "ether saddr 10.0.0.1 accept");
rule_case!(type_mismatch_string_from_integer, "meta iifname 5 accept");
rule_case!(type_mismatch_flag_list_on_integer, "tcp dport 22,80 accept");
rule_case!(type_mismatch_named_set, "ip saddr @ports drop");
rule_case!(
    type_mismatch_map_data,
    "meta mark set tcp dport map { 22 : accept }"
);
rule_case!(type_mismatch_vmap_data, "ip daddr vmap { 10.0.0.1 : 1 }");
rule_case!(type_mismatch_map_as_set, "tcp dport @marks accept");
rule_case!(
    type_mismatch_concatenation_arity,
    "ip saddr . tcp dport { 10.0.0.1 } accept"
);
rule_case!(
    type_mismatch_ordering_with_set,
    "tcp dport < { 22, 80 } accept"
);
rule_case!(
    duplicate_map_key,
    "ip daddr vmap { 10.0.0.1 : accept, 10.0.0.1 : drop }"
);

// ---- values out of range ----
rule_case!(out_of_range_ttl, "ip ttl 256 accept");
rule_case!(out_of_range_port, "tcp dport 70000 accept");
rule_case!(out_of_range_vlan_id, "vlan id 4096 accept");
rule_case!(out_of_range_prefix, "ip saddr 10.0.0.0/33 accept");
rule_case!(out_of_range_empty_range, "tcp dport 2000-1000 accept");
rule_case!(out_of_range_invalid_ipv4, "ip saddr 10.0.0.256 accept");
rule_case!(out_of_range_vlan_push, "vlan push 5000");

// ---- undefined names ----
file_case!(
    undefined_variable,
    "define lam = 10.0.0.0/8\ntable netdev t {\n    chain c {\n        ip saddr $lan accept\n    }\n}\n"
);
file_case!(
    variable_used_before_definition,
    "table netdev t {\n    chain c {\n        ip saddr $net accept\n    }\n}\ndefine net = 10.0.0.0/8\n"
);
file_case!(
    variable_redefined,
    "define net = 10.0.0.0/8\ndefine net = 192.168.0.0/16\n"
);
file_case!(
    variable_with_wrong_type,
    "define port = 10.0.0.1\ntable netdev t {\n    chain c {\n        tcp dport $port accept\n    }\n}\n"
);
rule_case!(undefined_set, "ip saddr @blocklist drop");
rule_case!(undefined_chain, "jump webb");
file_case!(
    set_needs_interval_flag,
    "table netdev t {\n    set s {\n        type ipv4_addr\n        elements = { 10.0.0.0/8 }\n    }\n}\n"
);

// ---- cycles ----
file_case!(
    jump_cycle,
    "table netdev t {\n    chain a {\n        tcp dport 22 jump b\n    }\n    chain b {\n        jump c\n    }\n    chain c {\n        ip ttl 1 goto a\n    }\n}\n"
);
file_case!(
    jump_cycle_through_vmap,
    "table netdev t {\n    chain a {\n        ip daddr vmap { 10.0.0.1 : jump b }\n    }\n    chain b {\n        jump a\n    }\n}\n"
);
file_case!(
    jump_to_itself,
    "table netdev t {\n    chain a {\n        goto a\n    }\n}\n"
);

#[test]
fn include_cycle() {
    let d = ruleset::check_file(Path::new("tests/fixtures/cycle_a.nft")).unwrap_err();
    insta::assert_snapshot!(d.render(false));
}

#[test]
fn include_of_missing_file() {
    let d = ruleset::check_file(Path::new("tests/fixtures/missing_include.nft")).unwrap_err();
    insta::assert_snapshot!(d.render(false));
}

// ---- unsupported constructs ----
rule_case!(unsupported_ct, "ct state established accept");
rule_case!(unsupported_reject, "tcp dport 22 reject");
rule_case!(unsupported_meta_key, "meta nfproto ipv4 accept");
rule_case!(unsupported_tcp_option, "tcp option mss 1460 accept");
rule_case!(unsupported_set_expression, "meta mark set meta mark | 1");
file_case!(
    unsupported_family_ip,
    "table ip filter {\n    chain input {\n        accept\n    }\n}\n"
);
file_case!(
    unsupported_hook_input,
    "table netdev t {\n    chain c {\n        type filter hook input priority 0; policy accept;\n    }\n}\n"
);
file_case!(
    unsupported_named_counter,
    "table netdev t {\n    counter c1 {\n    }\n}\n"
);

// ---- rule structure ----
rule_case!(statement_after_verdict, "accept counter");
file_case!(
    policy_on_regular_chain,
    "table netdev t {\n    chain c {\n        policy drop;\n    }\n}\n"
);

// ---- declarations ----
file_case!(
    header_width_differs_from_type,
    "header h {\n    addr : 16 ipv4_addr;\n}\n"
);
file_case!(
    header_expression_names_unknown_field,
    "header h {\n    a : 8;\n    b : 8;\n    length = hlen * 4;\n}\n"
);
file_case!(
    header_not_whole_bytes,
    "header h {\n    a : 3;\n    b : 8;\n}\n"
);
file_case!(header_declared_twice, "header ip {\n    a : 8;\n}\n");
file_case!(
    header_next_is_not_a_field,
    "header h {\n    a : 8;\n    next = proto;\n}\n"
);
file_case!(
    header_valid_is_not_a_condition,
    "header h {\n    hlen : 8;\n    valid = hlen + 1;\n}\n"
);
file_case!(
    next_not_starting_with_a_field,
    "header h {\n    kind : 8;\n    next = 4 if kind == 0 else kind;\n}\n"
);
file_case!(
    next_case_without_else,
    "header h {\n    kind : 8;\n    next = kind if kind >= 2;\n}\n"
);
file_case!(
    next_condition_not_boolean,
    "header h {\n    kind : 8;\n    next = kind if kind + 1 else 4;\n}\n"
);
file_case!(
    payload_too_wide,
    "header h {\n    kind : 8;\n    next = kind if payload 40 == 0 else 4;\n}\n"
);
file_case!(
    meta_class_of_unknown_field,
    "meta linktype : pkt_type class of ether dest;\n"
);
file_case!(
    parse_edge_to_unknown_header,
    "parse udp dport 4789 => vxlan;\n"
);
file_case!(
    parse_edge_value_out_of_range,
    "header h {\n    a : 8;\n}\nparse udp dport 70000 => h;\n"
);
file_case!(
    parse_edge_on_runtime_meta,
    "header h {\n    a : 8;\n}\nparse meta mark 1 => h;\n"
);
file_case!(datatype_with_unknown_form, "datatype t : 32 ipv5;\n");
file_case!(
    field_of_user_header_typo,
    "header vxlan {\n    flags : 8;\n    _ : 24;\n    vni : 24;\n    _ : 8;\n}\nparse udp dport 4789 => vxlan;\ntable netdev t {\n    chain c {\n        vxlan vin 100 accept\n    }\n}\n"
);

rule_case!(string_too_long, "meta iifname \"0123456789abcdef\" accept");
rule_case!(flag_prefix_too_long, "tcp flags syn / 0x12 accept");

// ---- several errors in one file ----
rule_case!(
    many_errors_in_one_file,
    "tcp dprot 22 accept\nip saddr 80 drop\nip ttl 300 accept\nct state new accept\njump nowhere\nicmp type echo-requst accept\ntcp dport { 22, 80 } counter accept"
);
