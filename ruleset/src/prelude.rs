//! The prelude: the standard protocols, declared in the language itself.
//!
//! The files under `ruleset/prelude/` are embedded in the crate and loaded
//! in name order, once per process. Every check starts from their
//! registry, name table and source map, so prelude spans stay valid in
//! every check's diagnostics.

use crate::ast::Item;
use crate::loader::Loader;
use crate::parser::names::Names;
use crate::registry::Registry;
use crate::span::SourceMap;
use std::sync::OnceLock;

/// The prelude files, in load order.
pub const FILES: &[(&str, &str)] = &[
    (
        "00-datatypes.nft",
        include_str!("../prelude/00-datatypes.nft"),
    ),
    (
        "10-ethernet.nft",
        include_str!("../prelude/10-ethernet.nft"),
    ),
    ("20-arp.nft", include_str!("../prelude/20-arp.nft")),
    ("30-ipv4.nft", include_str!("../prelude/30-ipv4.nft")),
    ("40-ipv6.nft", include_str!("../prelude/40-ipv6.nft")),
    (
        "50-transport.nft",
        include_str!("../prelude/50-transport.nft"),
    ),
    ("60-icmp.nft", include_str!("../prelude/60-icmp.nft")),
    ("70-meta.nft", include_str!("../prelude/70-meta.nft")),
];

/// The loaded prelude.
#[derive(Debug)]
pub struct Prelude {
    /// The prelude's files.
    pub sources: SourceMap,
    /// The header, field and meta names it declares.
    pub names: Names,
    /// The protocols it declares.
    pub registry: Registry,
}

/// The prelude, loaded on first use.
///
/// # Panics
/// If the embedded prelude has errors (a test checks it has none).
pub fn prelude() -> &'static Prelude {
    static PRELUDE: OnceLock<Prelude> = OnceLock::new();
    PRELUDE.get_or_init(|| {
        let (prelude, diags) = load();
        assert!(
            diags.is_empty(),
            "the embedded prelude has errors: {diags:?}"
        );
        prelude
    })
}

/// Loads the prelude and returns it with any diagnostics.
fn load() -> (Prelude, Vec<crate::diagnostics::Diagnostic>) {
    let mut loader = Loader::default();
    let mut registry = Registry::default();
    for (name, text) in FILES {
        let file = loader.parse_text(&format!("<prelude>/{name}"), None, (*text).to_owned());
        for item in &file.items {
            if let Item::Decl(d) = item {
                registry.declare(d, &mut loader.diags);
            }
        }
    }
    let Loader {
        sources,
        names,
        diags,
        ..
    } = loader;
    (
        Prelude {
            sources,
            names,
            registry,
        },
        diags,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prelude_loads_without_errors() {
        let (p, diags) = load();
        assert!(diags.is_empty(), "{diags:#?}");
        for h in [
            "ether", "vlan", "arp", "ip", "ip6", "ip6ext", "ip6frag", "tcp", "udp", "th", "icmp",
            "icmpv6",
        ] {
            assert!(p.registry.header_id(h).is_some(), "{h}");
        }
        let ip = p.registry.header(p.registry.header_id("ip").unwrap());
        let saddr = &ip.fields[ip.field("saddr").unwrap().0 as usize];
        assert_eq!((saddr.offset, saddr.bits), (96, 32));
        assert_eq!(p.registry.network.rules.len(), 2);
        assert!(p.names.is_meta("l4proto"));
    }
}
