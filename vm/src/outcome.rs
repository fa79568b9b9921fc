//! What running a program on a packet decided, and the edits the runtime
//! applies when it sends the frame.

use crate::insn::{ChainId, MAX_VALUE_BYTES, PortId};
use crate::program::{Program, Rule};

/// The final verdict on a frame.
///
/// `repr(u16)` fixes the layout (a `u16` tag, then the port), which the
/// JIT's code writes directly (`vm/src/jit/context.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Final {
    /// Hand the frame to the L2 switch.
    Accept = 0,
    /// Drop the frame.
    Drop = 1,
    /// Send the frame out of one port.
    Fwd(PortId) = 2,
    /// Send the frame out of every port but the input one.
    Flood = 3,
}

/// What decided the final verdict.
///
/// `repr(u16)` fixes the layout (a `u16` tag, then each variant's fields
/// as a `repr(C)` struct would place them), which the JIT's code writes
/// directly (`vm/src/jit/context.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Decider {
    /// A rule: its chain and its index in the chain.
    Rule {
        /// The chain holding the rule.
        chain: ChainId,
        /// Index of the rule in the chain.
        rule: usize,
    } = 0,
    /// The policy of a base chain.
    Policy {
        /// The base chain.
        chain: ChainId,
    } = 1,
    /// No base chain saw the frame: accepted by default.
    NoChain = 2,
}

/// A change to the frame's length, applied when it is sent. Offsets are in
/// the frame as the program saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Edit {
    /// Insert `bytes[..len]` before the byte at `at` (or at the end).
    Insert {
        /// Offset in the frame.
        at: usize,
        /// Number of bytes.
        len: u8,
        /// The bytes, in their first `len` places.
        bytes: [u8; MAX_VALUE_BYTES],
    },
    /// Remove `len` bytes from `at`.
    Remove {
        /// Offset in the frame.
        at: usize,
        /// Number of bytes.
        len: usize,
    },
}

/// A copy of the frame to send out of a port besides the verdict: the
/// frame as it was when the `dup` ran, with the edits made before it.
///
/// The copy is taken lazily: until something changes the frame's bytes in
/// place ([`Outcome::freeze_mirrors`]), the frame itself holds them, and
/// [`Outcome::write_mirror`] writes them straight to where they are sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mirror {
    /// The port to send the copy out of.
    pub port: PortId,
    /// How many of the outcome's edits ran before the copy.
    edits: usize,
    /// Where the copy's bytes are in the outcome, once taken.
    taken: Option<(usize, usize)>,
}

impl Mirror {
    /// Appends to `out` the copy made of `frame`, as it is now, with the
    /// first of `edits` that ran before the `dup`.
    fn copy(&self, frame: &[u8], edits: &[Edit], out: &mut Vec<u8>) {
        apply_edits(frame, &edits[..self.edits.min(edits.len())], out);
    }
}

/// A `log` statement that ran: the position of its instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LogRef {
    /// The chain.
    pub chain: ChainId,
    /// Index of the rule in the chain.
    pub rule: usize,
    /// Index of the instruction in the rule.
    pub insn: usize,
}

/// Everything a run decided about a packet. Reuse one `Outcome` across
/// packets: engines clear it and keep its buffers, so they do not allocate
/// per packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The final verdict.
    pub verdict: Final,
    /// What decided it.
    pub decider: Decider,
    /// The mark at the end.
    pub mark: u32,
    /// Copies to send (`dup to`), in order.
    pub mirrors: Vec<Mirror>,
    /// Length-changing edits, in the order they ran.
    pub edits: Vec<Edit>,
    /// `log` statements that ran, in order.
    pub logs: Vec<LogRef>,
    /// The bytes of the mirrors taken by [`Outcome::freeze_mirrors`].
    mirror_bytes: Vec<u8>,
    /// Whether a mirror still refers to the frame (read by the JIT's code
    /// before a payload write).
    pub(crate) untaken_mirrors: bool,
    /// Working memory of the JIT's runtime calls, kept from run to run.
    pub(crate) scratch: crate::jit::Scratch,
}

impl Default for Outcome {
    fn default() -> Self {
        Outcome::new()
    }
}

impl Outcome {
    /// An empty outcome (accepted by no chain).
    pub fn new() -> Outcome {
        Outcome {
            verdict: Final::Accept,
            decider: Decider::NoChain,
            mark: 0,
            mirrors: Vec::new(),
            edits: Vec::new(),
            logs: Vec::new(),
            mirror_bytes: Vec::new(),
            untaken_mirrors: false,
            scratch: Default::default(),
        }
    }

    /// Resets for a new packet, keeping the buffers.
    pub fn clear(&mut self, mark: u32) {
        self.verdict = Final::Accept;
        self.decider = Decider::NoChain;
        self.mark = mark;
        // Most runs have no mirrors, edits or logs: reading the lengths is
        // cheaper than writing them, and one test of the three is cheaper
        // than three.
        if self.mirrors.len() | self.edits.len() | self.logs.len() != 0 {
            self.mirrors.clear();
            self.edits.clear();
            self.logs.clear();
            self.mirror_bytes.clear();
            self.untaken_mirrors = false;
        }
    }

    /// Records a mirror to `port` of the frame, with the edits made so far.
    /// Whoever then changes the frame's bytes in place calls
    /// [`Outcome::freeze_mirrors`] first.
    pub fn push_mirror(&mut self, port: PortId) {
        self.mirrors.push(Mirror {
            port,
            edits: self.edits.len(),
            taken: None,
        });
        self.untaken_mirrors = true;
    }

    /// Takes the copies of `frame` that mirrors still refer to: to call
    /// before changing the frame's bytes in place (a payload write).
    pub fn freeze_mirrors(&mut self, frame: &[u8]) {
        if !self.untaken_mirrors {
            return;
        }
        for m in self.mirrors.iter_mut().filter(|m| m.taken.is_none()) {
            let start = self.mirror_bytes.len();
            m.copy(frame, &self.edits, &mut self.mirror_bytes);
            m.taken = Some((start, self.mirror_bytes.len() - start));
        }
        self.untaken_mirrors = false;
    }

    /// Appends to `out` the bytes of `mirror`, a mirror of this outcome,
    /// whose run left the frame as `frame`.
    pub fn write_mirror(&self, mirror: &Mirror, frame: &[u8], out: &mut Vec<u8>) {
        match mirror.taken {
            Some((start, len)) => {
                out.extend_from_slice(self.mirror_bytes.get(start..start + len).unwrap_or(&[]))
            }
            None => mirror.copy(frame, &self.edits, out),
        }
    }

    /// Drops the table snapshots the JIT's lookups keep from run to run:
    /// for a reader that moves on to another program, so that it no longer
    /// holds the old program's tables (it would until its first lookup in
    /// the new program's).
    pub fn forget_tables(&mut self) {
        self.scratch.tables.forget();
    }

    /// The rule that decided, if a rule did.
    pub fn rule<'p>(&self, program: &'p Program) -> Option<&'p Rule> {
        match self.decider {
            Decider::Rule { chain, rule } => {
                program.chains.get(usize::from(chain.0))?.rules.get(rule)
            }
            Decider::Policy { .. } | Decider::NoChain => None,
        }
    }

    /// The prefixes of the `log` statements that ran, in order.
    pub fn log_prefixes<'p>(&self, program: &'p Program) -> impl Iterator<Item = &'p str> {
        self.logs.iter().filter_map(|l| {
            match program
                .chains
                .get(usize::from(l.chain.0))?
                .rules
                .get(l.rule)?
                .insns
                .get(l.insn)?
            {
                crate::insn::Insn::Log { prefix } => Some(prefix.as_str()),
                _ => None,
            }
        })
    }
}

/// Appends to `out` the frame as sent: `frame` with `edits` applied.
///
/// Edits are in the frame's original offsets and apply in offset order
/// (edits at the same offset in the order they ran): an insertion goes
/// before the original byte at its offset, removed ranges may overlap, an
/// insertion inside a removed range lands where the range was, and parts
/// past the end of the frame are ignored.
pub fn apply_edits(frame: &[u8], edits: &[Edit], out: &mut Vec<u8>) {
    let at = |e: &Edit| match e {
        Edit::Insert { at, .. } | Edit::Remove { at, .. } => *at,
    };
    // Edits are few: pick them in (offset, order run) order without
    // sorting into a new buffer.
    let mut last: Option<(usize, usize)> = None;
    let next = |last: Option<(usize, usize)>| {
        edits
            .iter()
            .enumerate()
            .map(|(i, e)| (at(e), i))
            .filter(|k| last.is_none_or(|l| *k > l))
            .min()
    };
    let mut cursor = 0;
    while let Some(key) = next(last) {
        last = Some(key);
        let e = &edits[key.1];
        let p = at(e).min(frame.len());
        if p > cursor {
            out.extend_from_slice(&frame[cursor..p]);
            cursor = p;
        }
        match e {
            Edit::Insert { len, bytes, .. } => {
                out.extend_from_slice(&bytes[..usize::from(*len).min(MAX_VALUE_BYTES)])
            }
            Edit::Remove { len, .. } => {
                cursor = cursor.max(p.saturating_add(*len).min(frame.len()))
            }
        }
    }
    out.extend_from_slice(&frame[cursor.min(frame.len())..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn insert(at: usize, b: &[u8]) -> Edit {
        let mut bytes = [0; MAX_VALUE_BYTES];
        bytes[..b.len()].copy_from_slice(b);
        Edit::Insert {
            at,
            len: b.len() as u8,
            bytes,
        }
    }

    fn applied(frame: &[u8], edits: &[Edit]) -> Vec<u8> {
        let mut out = Vec::new();
        apply_edits(frame, edits, &mut out);
        out
    }

    #[test]
    fn edits_apply_in_offset_order() {
        let f = [0, 1, 2, 3, 4, 5];
        assert_eq!(applied(&f, &[]), f);
        // Recorded out of order, applied by offset.
        assert_eq!(
            applied(&f, &[insert(4, &[0xb]), insert(1, &[0xa])]),
            [0, 0xa, 1, 2, 3, 0xb, 4, 5]
        );
        // Same offset: in the order they ran.
        assert_eq!(
            applied(&f, &[insert(2, &[0xa]), insert(2, &[0xb])]),
            [0, 1, 0xa, 0xb, 2, 3, 4, 5]
        );
        // A retag: remove 2 bytes and insert 2 at the same place, either order.
        let retag = [0, 1, 0xa, 0xb, 4, 5];
        assert_eq!(
            applied(
                &f,
                &[Edit::Remove { at: 2, len: 2 }, insert(2, &[0xa, 0xb])]
            ),
            retag
        );
        assert_eq!(
            applied(
                &f,
                &[insert(2, &[0xa, 0xb]), Edit::Remove { at: 2, len: 2 }]
            ),
            retag
        );
        // Overlapping removals remove each byte once; an insertion inside a
        // removed range lands where the range was.
        let edits = [
            Edit::Remove { at: 1, len: 3 },
            Edit::Remove { at: 2, len: 3 },
            insert(3, &[0xc]),
        ];
        assert_eq!(applied(&f, &edits), [0, 0xc, 5]);
        // At and past the end.
        assert_eq!(
            applied(&f, &[insert(6, &[9]), Edit::Remove { at: 5, len: 10 }]),
            [0, 1, 2, 3, 4, 9]
        );
    }
}
