//! Live traces: how the next frames that fit a match were decided, rule by
//! rule, with no change to the ruleset.
//!
//! The match (ruleset language, `udp dport 53 ip saddr 10.0.0.1`) is
//! compiled once into a one-rule program of its own, `MATCH accept` in a
//! base chain whose policy is drop. While a trace is armed, the workers
//! (which check [`Live::get`] once per batch, an atomic flag when no trace
//! runs) test each frame against it on a copy of the frame; a frame that
//! fits, while frames are still wanted, runs through the real program with
//! a recording tracer instead of the silent one, so its counters and rate
//! limits count it exactly once, as for any other frame. Its trace, printed
//! as `switchctl trace` prints it, goes to the client's connection through
//! a bounded channel the workers never block on.

use super::{Loaded, ProgramError, SwitchPorts};
use crate::classify::PortNo;
use crate::control::protocol::TracedFrame;
use arc_swap::ArcSwapOption;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use vm::runtime::Clock;
use vm::trace::TraceEvent;
use vm::{Final, InputPort, Instance, NoTrace, Outcome, Packet, interpreter};

/// The slot of the one live trace that may run at a time.
#[derive(Debug, Default)]
pub struct Live {
    armed: AtomicBool,
    trace: ArcSwapOption<LiveTrace>,
}

/// A live trace is already running.
#[derive(Debug, thiserror::Error)]
#[error("another live trace is running; try again when it ends")]
pub struct Busy;

impl Live {
    /// Starts `trace`, unless another one runs.
    pub fn arm(&self, trace: Arc<LiveTrace>) -> Result<(), Busy> {
        if self
            .armed
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(Busy);
        }
        self.trace.store(Some(trace));
        Ok(())
    }

    /// Stops the running trace.
    pub fn disarm(&self) {
        self.trace.store(None);
        self.armed.store(false, Ordering::SeqCst);
    }

    /// The running trace, if any: what a worker calls once per batch.
    #[inline]
    pub fn get(&self) -> Option<Arc<LiveTrace>> {
        if self.armed.load(Ordering::Relaxed) {
            self.trace.load_full()
        } else {
            None
        }
    }
}

/// One live trace: its match, how many frames it still wants, and where
/// their traces go.
#[derive(Debug)]
pub struct LiveTrace {
    matcher: Instance,
    /// Each switch port as the match program sees it, by [`PortNo`].
    inputs: Vec<InputPort>,
    names: Vec<String>,
    count: u64,
    remaining: AtomicU64,
    finished: AtomicU64,
    json: bool,
    tx: SyncSender<TracedFrame>,
}

/// Checks that a match cannot leave its rule: no line breaks or `;`, and
/// braces that close only what they opened.
fn confined(filter: &str) -> Result<(), ProgramError> {
    let mut depth = 0i32;
    for c in filter.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            '\n' | '\r' | ';' | '#' => depth = -1,
            _ => {}
        }
        if depth < 0 {
            break;
        }
    }
    if depth == 0 {
        Ok(())
    } else {
        Err(ProgramError::Invalid(format!(
            "not one match expression: {filter:?}"
        )))
    }
}

impl LiveTrace {
    /// A trace of the next `count` frames that fit `filter` (every frame
    /// when `None`) on a switch with `ports`; traces go to `tx`, printed as
    /// JSON lines with `json`.
    pub fn new(
        filter: Option<&str>,
        ports: &SwitchPorts,
        count: u64,
        json: bool,
        tx: SyncSender<TracedFrame>,
        clock: Arc<dyn Clock>,
    ) -> Result<LiveTrace, ProgramError> {
        let filter = filter.unwrap_or("").trim();
        confined(filter)?;
        let text = format!(
            "table netdev switchctl_trace {{\n    chain match {{\n        type filter hook ingress priority 0; policy drop;\n        {filter} accept\n    }}\n}}\n"
        );
        let checked = ruleset::check_str("match", &text).map_err(ProgramError::Diagnostics)?;
        let verified = compiler::compile_verified(&checked)
            .map_err(|e| ProgramError::Diagnostics(compiler::error::diagnostics(&checked, e)))?;
        let inputs = ports
            .names
            .iter()
            .zip(&ports.macs)
            .map(|(name, mac)| InputPort::new(verified.program(), name, *mac))
            .collect();
        Ok(LiveTrace {
            matcher: Instance::new(Arc::new(verified), clock),
            inputs,
            names: ports.names.clone(),
            count,
            remaining: AtomicU64::new(count),
            finished: AtomicU64::new(0),
            json,
            tx,
        })
    }

    /// Whether `frame`, received on `input`, fits the match (tested on a
    /// copy in `scratch`, so the match cannot change it).
    pub fn matches(
        &self,
        frame: &[u8],
        input: PortNo,
        scratch: &mut Vec<u8>,
        out: &mut Outcome,
    ) -> bool {
        scratch.clear();
        scratch.extend_from_slice(frame);
        let packet = Packet {
            frame: scratch,
            port: &self.inputs[input.index()],
            mark: 0,
        };
        interpreter::run(&self.matcher, packet, out, &mut NoTrace);
        out.verdict == Final::Accept
    }

    /// Takes one of the frames the trace still wants and returns its
    /// number (from 0); `None` when the trace has all it wants.
    pub fn claim(&self) -> Option<u64> {
        self.remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(1))
            .ok()
            .map(|r| self.count - r)
    }

    /// Whether every frame the trace wanted was claimed and reported.
    pub fn complete(&self) -> bool {
        self.finished.load(Ordering::Acquire) == self.count
    }

    /// Sends the trace of claimed frame number `n`: `original` as received
    /// on `input`, decided by `loaded` as `outcome` after `events`. Dropped
    /// if the client is too slow to take it.
    pub fn report(
        &self,
        n: u64,
        loaded: &Loaded,
        original: &[u8],
        input: PortNo,
        outcome: &Outcome,
        events: &[TraceEvent],
    ) {
        let mut trace = Vec::new();
        let printed = crate::ctl::trace::print_outcome(
            loaded.program(),
            n as usize,
            outcome,
            events,
            self.json,
            &mut trace,
        );
        let mut hex = String::with_capacity(original.len() * 2);
        for b in original {
            let _ = write!(hex, "{b:02x}");
        }
        let frame = TracedFrame {
            port: self.names[input.index()].clone(),
            frame: hex,
            trace: String::from_utf8_lossy(&trace).into_owned(),
        };
        if printed.is_ok() {
            // A full channel means a client too slow to read: its loss.
            let _ = self.tx.try_send(frame);
        }
        self.finished.fetch_add(1, Ordering::Release);
    }
}
