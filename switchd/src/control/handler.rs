//! What the daemon does for each control request: the state the requests
//! reach ([`Context`]) and the dispatch from an [`Op`] to its [`Reply`].

use super::protocol::{
    DiagnosticsReply, Failure, FdbView, Op, PortView, ReloadReport, Reply, TracedFrame,
};
use crate::config::{PortConfig, VlanRole};
use crate::program::live::LiveTrace;
use crate::program::{ProgramError, Programs};
use crate::stats::Stats;
use crate::worker::Shared;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, sync_channel};
use std::time::Duration;
use vm::runtime::Clock;

/// Most frames one live trace may ask for.
pub const MAX_LIVE: u64 = 100_000;

/// Where a live trace's frames go while the request runs.
pub trait Events {
    /// Sends one traced frame to the client.
    fn send(&mut self, frame: TracedFrame) -> io::Result<()>;
    /// Whether the client has hung up.
    fn gone(&mut self) -> bool;
}

/// The daemon's state, as control requests see it.
#[derive(Debug)]
pub struct Context {
    /// The running program.
    pub programs: Arc<Programs>,
    /// The L2 switch and the stop flag.
    pub shared: Arc<Shared>,
    /// The workers' counters.
    pub stats: Stats,
    /// The configured ports, by port number.
    pub ports: Vec<PortConfig>,
    /// The configured ruleset file, reloaded by a bare `reload`.
    pub ruleset: Option<PathBuf>,
    /// The clock of live traces' match programs.
    pub clock: Arc<dyn Clock>,
}

impl From<ProgramError> for Failure {
    fn from(e: ProgramError) -> Failure {
        let diagnostics = match &e {
            ProgramError::Diagnostics(d) => Some(DiagnosticsReply {
                rendered: d.render(false),
                json: d
                    .json()
                    .iter()
                    .filter_map(|j| serde_json::to_value(j).ok())
                    .collect(),
            }),
            _ => None,
        };
        Failure {
            message: e.to_string(),
            diagnostics,
        }
    }
}

/// A VLAN role as `ports` shows it.
fn role(vlan: &VlanRole) -> String {
    match vlan {
        VlanRole::Access(v) => format!("access {}", v.get()),
        VlanRole::Trunk { allowed, native } => {
            let list: Vec<String> = allowed.iter().map(|v| v.get().to_string()).collect();
            let mut text = format!("trunk {}", list.join(","));
            if let Some(n) = native {
                text.push_str(&format!(" native {}", n.get()));
            }
            text
        }
    }
}

impl Context {
    /// Reloads `file`, or the configured ruleset file, and logs what
    /// happened (with the diagnostics when it was refused).
    pub fn reload(&self, file: Option<PathBuf>) -> Result<ReloadReport, ProgramError> {
        let file = file
            .or_else(|| self.ruleset.clone())
            .ok_or(ProgramError::NoFile)?;
        match self.programs.reload(&file) {
            Ok(report) => {
                tracing::info!(
                    file = %file.display(),
                    generation = report.generation,
                    kept = report.kept.len(),
                    added = report.added.len(),
                    removed = report.removed.len(),
                    "ruleset reloaded"
                );
                Ok(report)
            }
            Err(e) => {
                let details = match &e {
                    ProgramError::Diagnostics(d) => format!("\n{}", d.render(false)),
                    _ => String::new(),
                };
                tracing::warn!(file = %file.display(), "reload refused: {e}{details}");
                Err(e)
            }
        }
    }

    /// Carries out `op`; a live trace streams its frames to `events` until
    /// it has them all, the client hangs up, or `stop` is set.
    pub fn handle(
        &self,
        op: Op,
        events: &mut dyn Events,
        stop: &AtomicBool,
    ) -> Result<Reply, Failure> {
        match op {
            Op::Reload { file } => Ok(Reply::Reloaded(self.reload(file)?)),
            Op::List { deleted } => Ok(Reply::Ruleset(self.programs.list(deleted))),
            Op::DeleteRule { rule } => {
                let deleted = self.programs.delete_rule(&rule)?;
                tracing::info!(handle = deleted.handle, text = deleted.text, "rule deleted");
                Ok(Reply::Deleted(deleted))
            }
            Op::AddElement { set, elements } => Ok(Reply::Elements(
                self.programs.change_elements(&set, &elements, true)?,
            )),
            Op::DeleteElement { set, elements } => Ok(Reply::Elements(
                self.programs.change_elements(&set, &elements, false)?,
            )),
            Op::Trace { frame, iif, json } => {
                let frame = crate::capture::parse_hex(&frame)
                    .map_err(|e| Failure::new(format!("frame: {e}")))?;
                Ok(Reply::Trace(self.programs.trace(
                    &frame,
                    iif.as_deref(),
                    json,
                )?))
            }
            Op::TraceLive {
                filter,
                count,
                json,
            } => self.trace_live(filter.as_deref(), count, json, events, stop),
            Op::Ports => Ok(Reply::Ports(
                self.ports
                    .iter()
                    .zip(self.stats.ports())
                    .map(|(p, stats)| PortView {
                        name: p.name.clone(),
                        vlan: role(&p.vlan),
                        stats,
                    })
                    .collect(),
            )),
            Op::Fdb => {
                let fdb = self.shared.bridge.fdb();
                Ok(Reply::Fdb(
                    fdb.entries(self.shared.millis())
                        .into_iter()
                        .map(|e| FdbView {
                            vlan: e.vlan.get(),
                            mac: e
                                .mac
                                .iter()
                                .map(|b| format!("{b:02x}"))
                                .collect::<Vec<_>>()
                                .join(":"),
                            port: self
                                .ports
                                .get(e.port.index())
                                .map_or_else(|| e.port.0.to_string(), |p| p.name.clone()),
                            age_ms: e.age_ms,
                        })
                        .collect(),
                ))
            }
            Op::Stats => Ok(Reply::Stats(self.stats.workers())),
        }
    }

    fn trace_live(
        &self,
        filter: Option<&str>,
        count: u64,
        json: bool,
        events: &mut dyn Events,
        stop: &AtomicBool,
    ) -> Result<Reply, Failure> {
        if count == 0 || count > MAX_LIVE {
            return Err(Failure::new(format!("count: between 1 and {MAX_LIVE}")));
        }
        let (tx, rx) = sync_channel(count.min(1024) as usize);
        let trace = Arc::new(LiveTrace::new(
            filter,
            self.programs.ports(),
            count,
            json,
            tx,
            self.clock.clone(),
        )?);
        let live = self.programs.live();
        live.arm(trace.clone())
            .map_err(|e| Failure::new(e.to_string()))?;
        let mut delivered = 0;
        let result = loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(frame) => {
                    if let Err(e) = events.send(frame) {
                        break Err(Failure::new(format!("client: {e}")));
                    }
                    delivered += 1;
                }
                // The trace holds the sender: only timeouts happen.
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    if trace.complete() || events.gone() || stop.load(Ordering::Relaxed) {
                        break Ok(Reply::TraceDone(delivered));
                    }
                }
            }
        };
        live.disarm();
        result
    }
}
