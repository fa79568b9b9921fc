//! The daemon's configuration: a RON file (`switchd --config switch.ron`)
//! whose every field can also be given, or overridden, on the command line.
//!
//! ```ron
//! (
//!     ports: [
//!         (name: "veth1", vlan: Access(10)),
//!         (name: "veth2", vlan: Trunk(allowed: [10, 20], native: Some(1))),
//!         (name: "veth3"), // access port in VLAN 1
//!     ],
//!     socket: "/run/jitswitch.sock",
//!     workers: Some(2),
//!     engine: Jit,
//!     fdb: (size: 8192, aging_secs: 300),
//! )
//! ```
//!
//! Errors in the file are reported with their line and column; a
//! configuration that parses but makes no sense (no ports, a port named
//! twice, a VLAN id out of range) is reported too, and nothing starts.

use crate::l2::vlan::{PortVlan, Vid};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Where the control socket is when no configuration says otherwise.
pub const DEFAULT_SOCKET: &str = "/run/jitswitch.sock";
/// Longest interface name Linux accepts.
const IFNAMSIZ: usize = 15;

/// Everything `switchd` needs to start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The switch's ports, in order: a port's position is its number.
    pub ports: Vec<PortConfig>,
    /// The ruleset file, if any (without one, every frame is switched).
    #[serde(default)]
    pub ruleset: Option<PathBuf>,
    /// Path of the control socket.
    #[serde(default = "default_socket")]
    pub socket: PathBuf,
    /// Worker threads; one per core when absent.
    #[serde(default)]
    pub workers: Option<usize>,
    /// How rulesets run.
    #[serde(default)]
    pub engine: Engine,
    /// The MAC table.
    #[serde(default)]
    pub fdb: FdbConfig,
}

fn default_socket() -> PathBuf {
    PathBuf::from(DEFAULT_SOCKET)
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ports: Vec::new(),
            ruleset: None,
            socket: default_socket(),
            workers: None,
            engine: Engine::default(),
            fdb: FdbConfig::default(),
        }
    }
}

/// One port: an interface and its VLAN role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortConfig {
    /// The interface name.
    pub name: String,
    /// Its VLAN role; an access port in VLAN 1 when absent.
    #[serde(default)]
    pub vlan: VlanRole,
}

/// A port's VLAN role, as configured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VlanRole {
    /// Untagged, in one VLAN.
    Access(Vid),
    /// Tagged for the allowed VLANs; the native VLAN untagged.
    Trunk {
        /// VLANs carried tagged.
        allowed: Vec<Vid>,
        /// The VLAN of untagged frames.
        #[serde(default)]
        native: Option<Vid>,
    },
}

impl Default for VlanRole {
    fn default() -> Self {
        VlanRole::Access(Vid::new(1).expect("1 is a VLAN id"))
    }
}

impl VlanRole {
    /// The membership the L2 switch uses.
    pub fn membership(&self) -> PortVlan {
        match self {
            VlanRole::Access(v) => PortVlan::Access(*v),
            VlanRole::Trunk { allowed, native } => PortVlan::Trunk {
                allowed: allowed.iter().copied().collect(),
                native: *native,
            },
        }
    }
}

/// The engine rulesets run on ([`crate::engine`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
pub enum Engine {
    /// The reference interpreter.
    Interp,
    /// Native code from the Cranelift JIT.
    Jit,
}

impl Default for Engine {
    /// The JIT wherever Cranelift supports the host, else the interpreter.
    fn default() -> Engine {
        if vm::jit::host_supported() {
            Engine::Jit
        } else {
            Engine::Interp
        }
    }
}

/// Size and aging of the MAC table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FdbConfig {
    /// Most stations the table holds; the oldest is evicted beyond.
    #[serde(default = "default_fdb_size")]
    pub size: usize,
    /// Seconds of silence after which a station is forgotten.
    #[serde(default = "default_aging")]
    pub aging_secs: u64,
}

fn default_fdb_size() -> usize {
    8192
}

fn default_aging() -> u64 {
    300
}

impl Default for FdbConfig {
    fn default() -> Self {
        FdbConfig {
            size: default_fdb_size(),
            aging_secs: default_aging(),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// The file is not valid RON for a configuration.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong there.
        message: String,
    },
    /// The configuration parses but cannot work.
    #[error("{0}")]
    Invalid(String),
    /// A `--port` flag that does not parse.
    #[error(
        "bad port {spec:?}: {message} (expected NAME, NAME:access=VID or NAME:trunk=VIDS[:native=VID])"
    )]
    PortSpec {
        /// The flag's value.
        spec: String,
        /// What is wrong with it.
        message: String,
    },
}

impl Config {
    /// Parses a configuration from RON `text`; `file` names it in errors.
    /// Does not validate it (see [`Config::validate`]).
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        ron::from_str(text).map_err(|e| ConfigError::Syntax {
            file: file.display().to_string(),
            line: e.span.start.line,
            column: e.span.start.col,
            message: e.code.to_string(),
        })
    }

    /// Checks what parsing cannot: at least one port, no port twice,
    /// interface names Linux accepts, a positive number of workers and
    /// table size.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.ports.is_empty() {
            return bad("no ports: give some in the configuration or with --port".into());
        }
        for (i, p) in self.ports.iter().enumerate() {
            if p.name.is_empty() || p.name.len() > IFNAMSIZ || p.name.contains(['/', ' ', '\0']) {
                return bad(format!("port {:?}: not an interface name", p.name));
            }
            if self.ports[..i].iter().any(|q| q.name == p.name) {
                return bad(format!("port {:?} is listed twice", p.name));
            }
        }
        if self.workers == Some(0) {
            return bad("workers: must be at least 1".into());
        }
        if self.fdb.size == 0 {
            return bad("fdb size: must be at least 1".into());
        }
        Ok(())
    }
}

/// Parses a VLAN list such as `10,20,30-35`.
fn vids(list: &str) -> Result<Vec<Vid>, String> {
    let mut out = Vec::new();
    for item in list.split(',') {
        let one = |s: &str| -> Result<u16, String> {
            let n: u32 = s
                .trim()
                .parse()
                .map_err(|_| format!("{s:?} is not a VLAN id"))?;
            Vid::try_from(n).map(Vid::get).map_err(|e| e.to_string())
        };
        let (lo, hi) = match item.split_once('-') {
            Some((a, b)) => (one(a)?, one(b)?),
            None => (one(item)?, one(item)?),
        };
        if lo > hi {
            return Err(format!("empty range {item:?}"));
        }
        out.extend((lo..=hi).filter_map(|v| Vid::new(v).ok()));
    }
    Ok(out)
}

impl FromStr for PortConfig {
    type Err = ConfigError;

    /// `NAME`, `NAME:access=VID`, `NAME:trunk=VIDS` or
    /// `NAME:trunk=VIDS:native=VID`, where VIDS is like `10,20,30-35`.
    fn from_str(spec: &str) -> Result<PortConfig, ConfigError> {
        let err = |message: String| ConfigError::PortSpec {
            spec: spec.to_owned(),
            message,
        };
        let mut parts = spec.split(':');
        let name = parts.next().unwrap_or_default().to_owned();
        let mut vlan = VlanRole::default();
        let mut native = None;
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| err(format!("{part:?} is not KEY=VALUE")))?;
            match key {
                "access" => {
                    let v = vids(value).map_err(err)?;
                    let [v] = v[..] else {
                        return Err(err("an access port has one VLAN".into()));
                    };
                    vlan = VlanRole::Access(v);
                }
                "trunk" => {
                    vlan = VlanRole::Trunk {
                        allowed: vids(value).map_err(err)?,
                        native: None,
                    }
                }
                "native" => {
                    let v = vids(value).map_err(err)?;
                    let [v] = v[..] else {
                        return Err(err("a trunk has one native VLAN".into()));
                    };
                    native = Some(v);
                }
                _ => return Err(err(format!("unknown key {key:?}"))),
            }
        }
        match (&mut vlan, native) {
            (_, None) => {}
            (VlanRole::Trunk { native: n, .. }, Some(v)) => *n = Some(v),
            (VlanRole::Access(_), Some(_)) => return Err(err("native= needs trunk=".into())),
        }
        Ok(PortConfig { name, vlan })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vid(v: u16) -> Vid {
        Vid::new(v).unwrap()
    }

    #[test]
    fn parses_the_example() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/switch.ron"
        ))
        .unwrap();
        let c = Config::parse(&text, Path::new("switch.ron")).unwrap();
        c.validate().unwrap();
        assert_eq!(c.ports.len(), 3);
        assert_eq!(c.ports[0].vlan, VlanRole::Access(vid(10)));
    }

    #[test]
    fn defaults() {
        let c = Config::parse(r#"(ports: [(name: "a")])"#, Path::new("x")).unwrap();
        assert_eq!(c.ports[0].vlan, VlanRole::Access(vid(1)));
        assert_eq!(c.socket, PathBuf::from(DEFAULT_SOCKET));
        assert_eq!(
            c.fdb,
            FdbConfig {
                size: 8192,
                aging_secs: 300
            }
        );
        assert_eq!(
            (c.workers, c.engine, c.ruleset),
            (None, Engine::default(), None)
        );
    }

    #[test]
    fn errors_have_line_and_column() {
        let text = "(\n  ports: [\n    (name: \"a\", vlan: Access(5000)),\n  ],\n)";
        let e = Config::parse(text, Path::new("s.ron")).unwrap_err();
        let ConfigError::Syntax {
            line,
            column,
            ref message,
            ..
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(line, 3, "{e}");
        assert!(column > 1, "{e}");
        assert!(message.contains("5000"), "{e}");
        let e = Config::parse("(ports: [], sockett: \"x\")", Path::new("s.ron")).unwrap_err();
        assert!(e.to_string().starts_with("s.ron:1:"), "{e}");
    }

    #[test]
    fn validation() {
        let mut c = Config::default();
        assert!(c.validate().is_err());
        c.ports = vec!["a".parse().unwrap(), "a".parse().unwrap()];
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "port \"a\" is listed twice"
        );
        c.ports = vec!["averyveryverylongname".parse().unwrap()];
        assert!(c.validate().is_err());
    }

    #[test]
    fn port_flags() {
        let p: PortConfig = "veth1".parse().unwrap();
        assert_eq!(p.vlan, VlanRole::Access(vid(1)));
        let p: PortConfig = "veth1:access=10".parse().unwrap();
        assert_eq!(p.vlan, VlanRole::Access(vid(10)));
        let p: PortConfig = "veth2:trunk=10,20-22:native=1".parse().unwrap();
        assert_eq!(
            p.vlan,
            VlanRole::Trunk {
                allowed: vec![vid(10), vid(20), vid(21), vid(22)],
                native: Some(vid(1))
            }
        );
        for bad in [
            "v:access=0",
            "v:access=10,20",
            "v:trunk=x",
            "v:native=3",
            "v:mode=1",
            "v:access",
            "v:trunk=9-3",
        ] {
            assert!(bad.parse::<PortConfig>().is_err(), "{bad}");
        }
    }
}
