//! The control protocol between `switchctl` and `switchd`: JSON objects, one
//! a line, over the daemon's Unix socket.
//!
//! A request carries a client-chosen `id` and an `op`:
//!
//! ```json
//! {"id":1,"op":"reload","file":"/etc/jitswitch/rules.nft"}
//! {"id":2,"op":"list","deleted":true}
//! {"id":3,"op":"delete_rule","rule":{"handle":7}}
//! {"id":4,"op":"add_element","set":"blocklist","elements":"{ 192.0.2.1, 10.9.0.0/16 }"}
//! {"id":5,"op":"trace","frame":"ffffffffffff0200...","iif":"veth1","json":false}
//! {"id":6,"op":"trace_live","match":"udp dport 53","count":10,"json":false}
//! {"id":7,"op":"ports"}
//! ```
//!
//! Every request gets exactly one answer with the same `id`: `{"id":1,"ok":
//! {...}}` or `{"id":1,"error":{"message":...,"diagnostics":...}}`. A request
//! that cannot be read (not JSON, unknown op, longer than [`MAX_REQUEST`])
//! is answered with an error whose `id` is the request's if it could be
//! read, `null` otherwise. A live trace sends `{"id":6,"event":{...}}` lines,
//! one per traced frame, before its answer.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Longest request line the daemon reads, newline excluded; longer ones are
/// answered with an error and skipped.
pub const MAX_REQUEST: usize = 1 << 20;

/// One request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// Chosen by the client; repeated in the answer.
    pub id: u64,
    /// What to do.
    #[serde(flatten)]
    pub op: Op,
}

/// The operations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Compile `file` (or the configured ruleset) and swap it in.
    Reload {
        /// The ruleset file; the daemon's configured one when absent.
        #[serde(default)]
        file: Option<PathBuf>,
    },
    /// The running ruleset with handles and counters.
    List {
        /// Also the final counters of recently deleted rules.
        #[serde(default)]
        deleted: bool,
    },
    /// Remove one rule from the running program.
    DeleteRule {
        /// Which rule.
        rule: RuleSelector,
    },
    /// Add elements to a named set or map.
    AddElement {
        /// The set's name.
        set: String,
        /// The elements in the ruleset language: `{ 10.0.0.1, 10.1.0.0/16 }`.
        elements: String,
    },
    /// Delete elements from a named set or map.
    DeleteElement {
        /// The set's name.
        set: String,
        /// The elements, written as they were added.
        elements: String,
    },
    /// Run one frame through the running program without sending it.
    Trace {
        /// The frame in hex.
        frame: String,
        /// The port it comes in on.
        #[serde(default)]
        iif: Option<String>,
        /// JSON lines instead of text.
        #[serde(default)]
        json: bool,
    },
    /// Trace how the next `count` received frames that fit `match` are
    /// decided.
    TraceLive {
        /// A match in the ruleset language (`ip saddr 10.0.0.1 udp dport
        /// 53`); every frame when absent.
        #[serde(default, rename = "match")]
        filter: Option<String>,
        /// How many frames.
        count: u64,
        /// JSON lines instead of text.
        #[serde(default)]
        json: bool,
    },
    /// Per-port counters.
    Ports,
    /// The learned MAC table.
    Fdb,
    /// Per-worker counters.
    Stats,
}

/// How `delete rule` names a rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleSelector {
    /// By handle.
    Handle(u64),
    /// By its `comment "..."` or its exact text as `list` shows it.
    Words(String),
}

/// One line from the daemon.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// The request's id; `None` when the request could not be read.
    pub id: Option<u64>,
    /// What it is.
    #[serde(flatten)]
    pub body: Body,
}

/// What a line from the daemon carries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    /// The request succeeded (the answer).
    Ok(Reply),
    /// The request failed and changed nothing (the answer).
    Error(Failure),
    /// A live trace's traced frame (not an answer: more lines follow).
    Event(TracedFrame),
}

/// A failed request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    /// What went wrong, one line.
    pub message: String,
    /// A ruleset's diagnostics, when a ruleset was refused.
    #[serde(default)]
    pub diagnostics: Option<DiagnosticsReply>,
}

impl Failure {
    /// A failure with `message` and no diagnostics.
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            diagnostics: None,
        }
    }
}

/// Diagnostics of a refused ruleset.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiagnosticsReply {
    /// As `switchctl check` prints them (no colour).
    pub rendered: String,
    /// As `switchctl check --json` prints them, one object each.
    pub json: Vec<serde_json::Value>,
}

/// The result of a successful request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// `reload`.
    Reloaded(ReloadReport),
    /// `list`.
    Ruleset(RulesetView),
    /// `delete_rule`: the rule and its final counters.
    Deleted(DeletedRule),
    /// `add_element`, `delete_element`.
    Elements(ElementsReport),
    /// `trace`: the trace as `switchctl trace` prints it.
    Trace(String),
    /// `trace_live`: how many frames were traced.
    TraceDone(u64),
    /// `ports`.
    Ports(Vec<PortView>),
    /// `fdb`.
    Fdb(Vec<FdbView>),
    /// `stats`: per worker.
    Stats(Vec<crate::stats::WorkerStats>),
}

/// What a reload did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReloadReport {
    /// The file loaded.
    pub file: String,
    /// The program's generation (1 for the first program).
    pub generation: u64,
    /// Rules kept from the previous program (same handles, same counters).
    pub kept: Vec<u64>,
    /// Handles of the rules that are new.
    pub added: Vec<u64>,
    /// Rules that are gone, with their final counters.
    pub removed: Vec<DeletedRule>,
}

/// Packets and bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Packets.
    pub packets: u64,
    /// Bytes.
    pub bytes: u64,
}

/// The running ruleset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RulesetView {
    /// The file it was loaded from; `None` when no ruleset is loaded.
    pub file: Option<String>,
    /// The program's generation.
    pub generation: u64,
    /// Handles deleted with `delete rule` since the file was loaded: the
    /// running rules differ from the file, which is not rewritten.
    pub deleted_since_load: Vec<u64>,
    /// Chains in program order.
    pub chains: Vec<ChainView>,
    /// Named sets and maps with their current elements.
    pub sets: Vec<SetView>,
    /// Recently deleted rules, when asked for.
    #[serde(default)]
    pub deleted: Option<Vec<DeletedRule>>,
}

/// A chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainView {
    /// Its name (`table/chain` where two tables share it).
    pub name: String,
    /// For a base chain: `priority 0 policy accept [device "x"]`.
    pub base: Option<String>,
    /// Its rules.
    pub rules: Vec<RuleView>,
}

/// A rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleView {
    /// Its handle.
    pub handle: u64,
    /// Its text as written (without the comment).
    pub text: String,
    /// Its comment.
    pub comment: Option<String>,
    /// `file:line` where it was written.
    pub source: Option<String>,
    /// Its `counter`, if it has one.
    pub counter: Option<Counts>,
}

/// A named set or map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetView {
    /// Its name.
    pub name: String,
    /// `set`, `map` or `vmap`.
    pub kind: String,
    /// Its elements in the ruleset language.
    pub elements: Vec<String>,
}

/// A rule that is gone, and its final counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletedRule {
    /// Its handle.
    pub handle: u64,
    /// Its chain.
    pub chain: String,
    /// Its text.
    pub text: String,
    /// Its comment.
    pub comment: Option<String>,
    /// Its final counters, if it had a `counter`.
    pub counter: Option<Counts>,
    /// `delete` or `reload`.
    pub by: String,
    /// When, in seconds since the Unix epoch.
    pub at: u64,
}

/// What an element change did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElementsReport {
    /// The set.
    pub set: String,
    /// Elements added or deleted.
    pub changed: usize,
    /// Elements that were already there (add) or not there (delete).
    pub unchanged: usize,
    /// Elements in the set now.
    pub size: usize,
}

/// A traced frame of a live trace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TracedFrame {
    /// The port it came in on.
    pub port: String,
    /// The frame as received, in hex.
    pub frame: String,
    /// The trace as `switchctl trace` prints it.
    pub trace: String,
}

/// A port's counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortView {
    /// The interface.
    pub name: String,
    /// Its VLAN role, as configured.
    pub vlan: String,
    /// Its counters, over all workers.
    pub stats: crate::stats::PortStats,
}

/// A learned station.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FdbView {
    /// VLAN.
    pub vlan: u16,
    /// MAC address.
    pub mac: String,
    /// The port it was last seen on.
    pub port: String,
    /// Milliseconds since it was last seen.
    pub age_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_shapes() {
        let r: Request =
            serde_json::from_str(r#"{"id":3,"op":"delete_rule","rule":{"handle":7}}"#).unwrap();
        assert_eq!(
            r,
            Request {
                id: 3,
                op: Op::DeleteRule {
                    rule: RuleSelector::Handle(7)
                }
            }
        );
        let r: Request = serde_json::from_str(r#"{"id":1,"op":"reload"}"#).unwrap();
        assert_eq!(r.op, Op::Reload { file: None });
        let r: Request =
            serde_json::from_str(r#"{"id":6,"op":"trace_live","match":"udp dport 53","count":2}"#)
                .unwrap();
        assert!(
            matches!(r.op, Op::TraceLive { filter: Some(f), count: 2, json: false } if f == "udp dport 53")
        );
        let a = Answer {
            id: Some(2),
            body: Body::Ok(Reply::TraceDone(4)),
        };
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(text, r#"{"id":2,"ok":{"trace_done":4}}"#);
        assert_eq!(serde_json::from_str::<Answer>(&text).unwrap(), a);
        assert!(serde_json::from_str::<Request>(r#"{"id":1,"op":"explode"}"#).is_err());
    }
}
