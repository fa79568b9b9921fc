//! What a packet brings to a run: its frame and its metadata.

use crate::insn::PortId;
use crate::program::Program;

/// The port a frame came in on, as programs see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputPort {
    /// The port's index in [`Program::ports`] (`meta iif`), or `u32::MAX`
    /// when the program does not name it: the number runs compare, ready
    /// for every run ([`InputPort::id`] gives it as an id).
    pub(crate) iif: u32,
    /// The port's name, NUL padded (`meta iifname`).
    pub name: [u8; 16],
    /// The port's link-layer address.
    pub addr: [u8; 6],
}

impl InputPort {
    /// The port called `name` with address `addr`, identified by its index
    /// among the ports `program` names. Names longer than 16 bytes are cut.
    pub fn new(program: &Program, name: &str, addr: [u8; 6]) -> InputPort {
        let mut padded = [0u8; 16];
        let n = name.len().min(16);
        padded[..n].copy_from_slice(&name.as_bytes()[..n]);
        let iif = program
            .ports
            .iter()
            .position(|p| p == name)
            .map_or(u32::MAX, |i| i as u32);
        InputPort {
            iif,
            name: padded,
            addr,
        }
    }

    /// A port with no name, no address, unknown to the program.
    pub fn unnamed() -> InputPort {
        InputPort {
            iif: u32::MAX,
            name: [0; 16],
            addr: [0; 6],
        }
    }

    /// The port's index in [`Program::ports`], when the program names it.
    pub fn id(&self) -> Option<PortId> {
        u16::try_from(self.iif).ok().map(PortId)
    }
}

/// One packet to run a program on.
#[derive(Debug)]
pub struct Packet<'a> {
    /// The frame, as received; payload writes change it in place. Its
    /// length is the frame length (`meta length` is computed from it by the
    /// program, not given).
    pub frame: &'a mut [u8],
    /// The port it came in on.
    pub port: &'a InputPort,
    /// The mark it starts with (0 unless the runtime says otherwise).
    pub mark: u32,
}
