//! The Linux kernel's nf_tables as a test oracle.
//!
//! [`KernelOracle`] loads a `netdev` ruleset into a throwaway namespace,
//! sends frames one at a time into the veth whose ingress hook the ruleset
//! is attached to, and reads back, for each frame, which rules counted it.
//! Every rule of the ruleset under test should carry a `counter`.
//!
//! To know when the kernel has finished with a frame, the oracle adds its own
//! base chain at a lower priority than any test chain, holding one rule that
//! counts every frame; a frame is done when that counter has moved. A frame
//! that never reaches the hook (the kernel drops VLAN frames shorter than 20
//! bytes before it) is reported as not seen.

use crate::netns::{FrameSender, Netns};
use anyhow::{Context, Result, bail};
use serde_json::Value as Json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The interface the ruleset's base chains attach to (`device "jsw0"`).
pub const DEVICE: &str = "jsw0";

/// The hook device's link address, which `meta pkttype` compares with: the
/// kernel's veth gets the one `switchctl trace` and `test` give the port.
pub const DEVICE_ADDR: [u8; 6] = switchd::ctl::OFFLINE_PORT_ADDR;
/// Its veth peer, through which frames are sent.
const PEER: &str = "jsw1";
/// Table and chain of the oracle's own frame counter.
const WATCH_TABLE: &str = "jsw_watch";
/// How long to wait for one frame to reach the hook.
const FRAME_TIMEOUT: Duration = Duration::from_millis(300);

/// A rule of the loaded ruleset, identified as the compiler and
/// `switchctl trace` identify it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId {
    /// The chain's name (without its table).
    pub chain: String,
    /// 0-based index of the rule within its chain.
    pub index: usize,
}

/// What the kernel did with one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// The frame reached the hook; these rules counted it, in no order.
    Counted(Vec<RuleId>),
    /// The frame never reached the ingress hook.
    NotSeen,
}

/// A ruleset loaded into the kernel, ready to be probed with frames.
pub struct KernelOracle {
    ns: Netns,
    sender: FrameSender,
    table: String,
}

impl KernelOracle {
    /// Creates a namespace with the veth pair and the oracle's own frame
    /// counter; nothing else is loaded yet.
    pub fn new() -> Result<KernelOracle> {
        let ns = Netns::new("kparity")?;
        ns.add_veth(DEVICE, PEER)?;
        let addr = DEVICE_ADDR.map(|b| format!("{b:02x}")).join(":");
        ns.exec_checked(&["ip", "link", "set", "dev", DEVICE, "address", &addr])?;
        let sender = ns.enter(|| FrameSender::open(PEER))?;
        let oracle = KernelOracle {
            ns,
            sender,
            table: String::new(),
        };
        oracle.nft_file(&format!(
            "table netdev {WATCH_TABLE} {{\n  chain seen {{\n    type filter hook ingress device \"{DEVICE}\" priority -1000; policy accept;\n    counter\n  }}\n}}\n"
        ), &[])?;
        Ok(oracle)
    }

    /// Replaces the ruleset under test with `ruleset`, which must define
    /// `table netdev TABLE` with base chains on `device "jsw0"`.
    pub fn load(&mut self, ruleset: &str, table: &str) -> Result<()> {
        if !self.table.is_empty() {
            self.ns
                .exec_checked(&["nft", "delete", "table", "netdev", &self.table])?;
        }
        self.table.clear();
        self.nft_file(ruleset, &[])
            .context("loading the ruleset into the kernel")?;
        self.table = table.to_string();
        Ok(())
    }

    /// The 1-based lines of `ruleset` that `nft -c` rejects (empty when
    /// the whole file is accepted).
    pub fn rejected_lines(&self, ruleset: &str) -> Result<Vec<usize>> {
        let Err(err) = self.nft_file(ruleset, &["-c"]) else {
            return Ok(vec![]);
        };
        let mut lines: Vec<usize> = format!("{err:#}")
            .lines()
            .filter(|l| l.contains(": Error:"))
            .filter_map(|l| {
                let after = &l[l.find(".nft:")? + 5..];
                after[..after.find(':')?].parse().ok()
            })
            .collect();
        lines.sort();
        lines.dedup();
        if lines.is_empty() {
            return Err(err);
        }
        Ok(lines)
    }

    /// Runs `nft [flags] -f` on `text` written to a temporary file.
    fn nft_file(&self, text: &str, flags: &[&str]) -> Result<()> {
        let path = std::env::temp_dir().join(format!("{}.nft", self.ns.name()));
        std::fs::write(&path, text)?;
        let mut argv = vec!["nft"];
        argv.extend(flags);
        argv.extend(["-f", path.to_str().context("temp path")?]);
        let result = self.ns.exec_checked(&argv).map(drop);
        let _ = std::fs::remove_file(&path);
        result
    }

    /// Sends each frame in turn and observes what the kernel did with it.
    pub fn observe(&self, frames: &[Vec<u8>]) -> Result<Vec<Observation>> {
        let mut before = self.read_counters()?;
        let mut out = Vec::with_capacity(frames.len());
        for (i, frame) in frames.iter().enumerate() {
            self.sender
                .send(frame)
                .with_context(|| format!("frame {i}"))?;
            let deadline = Instant::now() + FRAME_TIMEOUT;
            let after = loop {
                let now = self.read_counters()?;
                if now.seen != before.seen || Instant::now() >= deadline {
                    break now;
                }
                std::thread::sleep(Duration::from_millis(1));
            };
            if after.seen == before.seen {
                out.push(Observation::NotSeen);
            } else if after.seen != before.seen + 1 {
                bail!(
                    "frame {i}: the hook saw {} frames instead of 1",
                    after.seen - before.seen
                );
            } else {
                let mut hit: Vec<RuleId> = after
                    .rules
                    .iter()
                    .filter(|(id, n)| before.rules.get(*id).copied().unwrap_or(0) != **n)
                    .map(|(id, _)| id.clone())
                    .collect();
                hit.sort();
                out.push(Observation::Counted(hit));
            }
            before = after;
        }
        Ok(out)
    }

    /// True when nft can list the loaded ruleset back (nft 1.0.6 aborts on
    /// some rules it accepted, e.g. with an assertion in
    /// `payload_expr_complete`).
    pub fn listable(&self) -> bool {
        self.read_counters().is_ok()
    }

    /// Reads every rule counter of the table under test and the oracle's
    /// frame counter.
    fn read_counters(&self) -> Result<Counters> {
        let out = self.ns.exec_checked(&["nft", "-j", "list", "ruleset"])?;
        let json: Json = serde_json::from_slice(&out.stdout).context("nft -j output")?;
        let items = json["nftables"]
            .as_array()
            .context("nft -j: no nftables array")?;
        let mut counters = Counters::default();
        let mut index: HashMap<String, usize> = HashMap::new();
        for rule in items.iter().filter_map(|item| item.get("rule")) {
            let table = rule["table"].as_str().unwrap_or_default();
            let chain = rule["chain"].as_str().unwrap_or_default().to_string();
            let packets = rule["expr"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|e| e.get("counter").and_then(|c| c["packets"].as_u64()));
            if table == WATCH_TABLE {
                counters.seen = packets.unwrap_or(0);
                continue;
            }
            if table != self.table {
                continue;
            }
            let slot = index.entry(chain.clone()).or_insert(0);
            let id = RuleId {
                chain,
                index: *slot,
            };
            *slot += 1;
            if let Some(p) = packets {
                counters.rules.insert(id, p);
            }
        }
        Ok(counters)
    }
}

/// A snapshot of the counters.
#[derive(Default)]
struct Counters {
    seen: u64,
    rules: HashMap<RuleId, u64>,
}
