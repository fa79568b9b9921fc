//! The classifier that runs the loaded program on every frame of a worker.
//!
//! At the start of each batch it marks its [`Epoch`], then loads the
//! current program once (an `ArcSwap` load, a few nanoseconds) and whether
//! a live trace is armed (an atomic flag); the whole batch runs under what
//! it loaded. Without a program every frame is accepted (switched).

use super::epoch::Epoch;
use super::live::LiveTrace;
use super::{Loaded, Programs};
use crate::classify::{Classifier, PortNo};
use std::sync::Arc;
use vm::{NoTrace, Outcome, PortId, TraceLog};

/// One worker's classifier over the running program.
#[derive(Debug)]
pub struct ProgramClassifier {
    programs: Arc<Programs>,
    epoch: Arc<Epoch>,
    loaded: Option<Arc<Loaded>>,
    live: Option<Arc<LiveTrace>>,
    /// For live traces: the match's copy of the frame, its outcome, the
    /// frame as received and the recorded trace.
    scratch: Vec<u8>,
    matched: Outcome,
    original: Vec<u8>,
    trace: TraceLog,
}

impl ProgramClassifier {
    pub(super) fn new(programs: Arc<Programs>, epoch: Arc<Epoch>) -> ProgramClassifier {
        ProgramClassifier {
            programs,
            epoch,
            loaded: None,
            live: None,
            scratch: Vec::new(),
            matched: Outcome::new(),
            original: Vec::new(),
            trace: TraceLog::default(),
        }
    }
}

impl Classifier for ProgramClassifier {
    fn begin_batch(&mut self, out: &mut Outcome) {
        self.epoch.enter();
        let current = self.programs.current.load();
        let same = match (&*current, &self.loaded) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        };
        if !same {
            self.loaded = current.clone();
            // The table snapshots the old program's lookups kept go too.
            out.forget_tables();
        }
        self.live = self.programs.live.get();
    }

    fn end_batch(&mut self) {
        self.epoch.leave();
    }

    #[inline]
    fn classify(&mut self, frame: &mut [u8], input: PortNo, out: &mut Outcome) {
        let Some(loaded) = &self.loaded else {
            out.clear(0);
            return;
        };
        if let Some(live) = &self.live
            && live.matches(frame, input, &mut self.scratch, &mut self.matched)
            && let Some(n) = live.claim()
        {
            self.original.clear();
            self.original.extend_from_slice(frame);
            self.trace.events.clear();
            loaded.run(frame, input, out, &mut self.trace);
            live.report(n, loaded, &self.original, input, out, &self.trace.events);
            return;
        }
        loaded.run(frame, input, out, &mut NoTrace);
    }

    #[inline]
    fn port(&self, id: PortId) -> Option<PortNo> {
        self.loaded.as_ref().and_then(|l| l.output(id))
    }
}
