//! The L2 forwarding decision for a frame the ruleset accepted: learn its
//! source, find its VLAN, and pick the ports it leaves by, each with the
//! tag edits that port's membership requires.

use crate::classify::PortNo;
use crate::l2::fdb::{Fdb, Learned, Mac, Millis};
use crate::l2::vlan::{Ingress, PortVlan, retag};
use vm::Edit;

/// The ports of a switch with their VLAN roles, and its MAC table.
#[derive(Debug)]
pub struct Bridge {
    ports: Vec<PortVlan>,
    fdb: Fdb,
}

/// What the bridge did with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switched {
    /// Sent to the one port its destination was learned on.
    Known(PortNo),
    /// Flooded in its VLAN (unknown unicast, broadcast, multicast) to this
    /// many ports.
    Flooded(usize),
    /// Dropped: not accepted by the input port's VLAN membership, a runt,
    /// or its destination is on the port it came from.
    Filtered,
}

/// A MAC address printed as `02:00:00:00:00:01`.
struct MacFmt(Mac);

impl std::fmt::Display for MacFmt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

fn mac(b: &[u8]) -> Mac {
    [b[0], b[1], b[2], b[3], b[4], b[5]]
}

impl Bridge {
    /// A bridge over ports with these VLAN roles (indexed by [`PortNo`]).
    pub fn new(ports: Vec<PortVlan>, fdb: Fdb) -> Bridge {
        Bridge { ports, fdb }
    }

    /// The MAC table.
    pub fn fdb(&self) -> &Fdb {
        &self.fdb
    }

    /// Number of ports.
    pub fn port_count(&self) -> usize {
        self.ports.len()
    }

    /// Switches `frame`, received on `input` at `now`: learns its source and
    /// calls `emit` for each output port with the edits to apply to `frame`
    /// for that port.
    pub fn switch(
        &self,
        frame: &[u8],
        input: PortNo,
        now: Millis,
        mut emit: impl FnMut(PortNo, &[Edit]),
    ) -> Switched {
        let Some(ingress) = self.ports.get(input.index()).and_then(|p| p.ingress(frame)) else {
            return Switched::Filtered;
        };
        let (dst, src) = (mac(&frame[0..6]), mac(&frame[6..12]));
        // Group addresses and the all-zero address are never a station.
        if src[0] & 1 == 0 && src != [0; 6] {
            match self.fdb.learn(ingress.vlan, &src, input, now) {
                Learned::Refreshed => {}
                how => {
                    tracing::debug!(vlan = ingress.vlan.get(), mac = %MacFmt(src), port = input.0, ?how, "station learned")
                }
            }
        }
        if dst[0] & 1 == 0
            && let Some(out) = self.fdb.lookup(ingress.vlan, &dst, now)
        {
            if out == input || !self.send(ingress, out, &mut emit) {
                return Switched::Filtered;
            }
            return Switched::Known(out);
        }
        let mut n = 0;
        for p in 0..self.ports.len() {
            let out = PortNo(p as u16);
            if out != input && self.send(ingress, out, &mut emit) {
                n += 1;
            }
        }
        Switched::Flooded(n)
    }

    /// Emits the frame to `out` if `out` is a member of its VLAN.
    fn send(&self, ingress: Ingress, out: PortNo, emit: &mut impl FnMut(PortNo, &[Edit])) -> bool {
        match self.ports[out.index()].egress(ingress.vlan) {
            Some(eg) => {
                let (edits, n) = retag(ingress, eg);
                emit(out, &edits[..n]);
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::l2::vlan::Vid;

    fn vid(v: u16) -> Vid {
        Vid::new(v).unwrap()
    }

    fn frame(dst: u8, src: u8, vlan: Option<u16>) -> Vec<u8> {
        let mut f = vec![2, 0, 0, 0, 0, dst, 2, 0, 0, 0, 0, src];
        if dst == 0xff {
            f[..6].fill(0xff);
        }
        if let Some(v) = vlan {
            f.extend_from_slice(&[0x81, 0, 0, v as u8]);
        }
        f.extend_from_slice(&[0x08, 0x00, 0, 0]);
        f
    }

    fn bridge() -> Bridge {
        let trunk = PortVlan::Trunk {
            allowed: [vid(10), vid(20)].into_iter().collect(),
            native: None,
        };
        Bridge::new(
            vec![
                PortVlan::Access(vid(10)),
                PortVlan::Access(vid(10)),
                PortVlan::Access(vid(20)),
                trunk,
            ],
            Fdb::new(64, 300_000),
        )
    }

    fn outputs(b: &Bridge, f: &[u8], input: u16) -> (Switched, Vec<(u16, usize)>) {
        let mut outs = Vec::new();
        let r = b.switch(f, PortNo(input), 0, |p, e| outs.push((p.0, e.len())));
        (r, outs)
    }

    #[test]
    fn floods_in_the_vlan_then_forwards_to_the_learned_port() {
        let b = bridge();
        // Unknown destination from port 0 (VLAN 10): ports 1 and 3 (tagged).
        let (r, o) = outputs(&b, &frame(2, 1, None), 0);
        assert_eq!((r, o), (Switched::Flooded(2), vec![(1, 0), (3, 1)]));
        // The reply from the trunk, tagged 10, goes to port 0 only, untagged.
        let (r, o) = outputs(&b, &frame(1, 2, Some(10)), 3);
        assert_eq!((r, o), (Switched::Known(PortNo(0)), vec![(0, 1)]));
        // Broadcast in VLAN 20 from the trunk: port 2 only.
        let (r, o) = outputs(&b, &frame(0xff, 3, Some(20)), 3);
        assert_eq!((r, o), (Switched::Flooded(1), vec![(2, 1)]));
    }

    #[test]
    fn filters() {
        let b = bridge();
        // VLAN 30 is not allowed on the trunk.
        assert_eq!(outputs(&b, &frame(1, 2, Some(30)), 3).0, Switched::Filtered);
        // Destination on the input port.
        outputs(&b, &frame(0xff, 1, None), 0);
        assert_eq!(outputs(&b, &frame(1, 5, None), 0).0, Switched::Filtered);
        // A runt.
        assert_eq!(outputs(&b, &[0; 13], 0).0, Switched::Filtered);
        // A group source address is not learned.
        let mut f = frame(0xff, 7, None);
        f[6] = 1;
        outputs(&b, &f, 0);
        assert_eq!(b.fdb().stats().entries, 2, "stations 1 and 5 only");
    }
}
