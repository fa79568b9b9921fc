//! What the ruleset decides about a frame: the [`Classifier`] the workers
//! call on every frame, and [`AcceptAll`], the behaviour of a switch with no
//! ruleset.
//!
//! The decision is the VM's own [`vm::Outcome`]: a final verdict (`Accept`
//! hands the frame to the L2 switch, `Drop`, `Fwd(port)`, `Flood`), the
//! mirrored copies (`dup to`), and the length-changing edits (VLAN push and
//! pop) to apply before output. Ports in it are the program's
//! [`vm::PortId`]s; [`Classifier::port`] maps them to the switch's ports.

use vm::{Outcome, PortId};

/// Index of a port in the switch's configuration (its position in the port
/// list), the same in every worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortNo(pub u16);

impl PortNo {
    /// The index as a `usize`, for indexing per-port tables.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Decides what happens to each frame. A worker owns one classifier and
/// calls it for every frame it receives, so implementations need no locks.
pub trait Classifier: Send {
    /// Called once before each batch of frames, whose outcomes go to `out`:
    /// the place to pick up a newly loaded program, so that a whole batch
    /// runs under one program.
    fn begin_batch(&mut self, _out: &mut Outcome) {}

    /// Called once after each batch, when its frames have been sent: no
    /// frame of the batch is classified after it.
    fn end_batch(&mut self) {}

    /// Decides on `frame`, received on `input`: resets `out` and writes the
    /// verdict, mirrors and edits into it. Payload writes change `frame` in
    /// place; edit offsets are offsets in `frame`.
    fn classify(&mut self, frame: &mut [u8], input: PortNo, out: &mut Outcome);

    /// The switch port that port `id` of the decision names, or `None` when
    /// the switch has no such port (the output is then dropped).
    fn port(&self, id: PortId) -> Option<PortNo>;
}

/// The classifier of a switch with no ruleset: every frame is accepted, that
/// is, handed to L2 switching unchanged.
#[derive(Clone, Copy, Debug, Default)]
pub struct AcceptAll;

impl Classifier for AcceptAll {
    fn classify(&mut self, _frame: &mut [u8], _input: PortNo, out: &mut Outcome) {
        out.clear(0);
    }

    fn port(&self, _id: PortId) -> Option<PortNo> {
        None
    }
}
