//! Per-port VLAN membership: which VLAN a frame belongs to when it enters a
//! port, and whether it leaves a port tagged, untagged or not at all.
//!
//! The switch's VLANs are 802.1Q customer VLANs (TPID 0x8100). A frame whose
//! outer type is anything else, 802.1ad (0x88a8) included, is an untagged
//! frame to this switch, carried with its bytes unchanged.
//!
//! Ingress, as on Linux bridges with VLAN filtering and on common hardware
//! switches:
//! - an **access** port puts untagged and priority-tagged (VID 0) frames in
//!   its VLAN; a tagged frame is accepted only when its VID is the port's
//!   VLAN, and dropped otherwise (a host on an access port cannot hop into
//!   another VLAN by tagging its frames);
//! - a **trunk** port takes tagged frames whose VID is allowed and drops the
//!   others; untagged and priority-tagged frames go to the native VLAN, or
//!   are dropped when the port has none.
//!
//! Egress: an access port sends its VLAN untagged; a trunk sends its native
//! VLAN untagged and its other allowed VLANs tagged, keeping the priority
//! bits the frame came with.

use vm::Edit;

/// TPID of an 802.1Q (customer) VLAN tag.
pub const TPID_8021Q: u16 = 0x8100;
/// TPID of an 802.1ad (service) VLAN tag.
pub const TPID_8021AD: u16 = 0x88a8;
/// Offset of the outer type (or TPID) field in an Ethernet frame.
pub const TYPE_OFFSET: usize = 12;
/// Length of a VLAN tag (TPID and TCI).
pub const TAG_LEN: usize = 4;

/// A VLAN identifier, 1 to 4094.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "u32", into = "u32")]
pub struct Vid(u16);

/// A number that is not a usable VLAN identifier.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("VLAN id {0} is out of range (1 to 4094)")]
pub struct BadVid(pub u32);

impl Vid {
    /// The VLAN `id`, when it is 1 to 4094.
    pub fn new(id: u16) -> Result<Vid, BadVid> {
        if (1..=4094).contains(&id) {
            Ok(Vid(id))
        } else {
            Err(BadVid(u32::from(id)))
        }
    }

    /// The numeric identifier.
    pub fn get(self) -> u16 {
        self.0
    }
}

impl TryFrom<u32> for Vid {
    type Error = BadVid;
    fn try_from(id: u32) -> Result<Vid, BadVid> {
        u16::try_from(id)
            .map_err(|_| BadVid(id))
            .and_then(|v| Vid::new(v).map_err(|_| BadVid(id)))
    }
}

impl From<Vid> for u32 {
    fn from(v: Vid) -> u32 {
        u32::from(v.0)
    }
}

/// A set of VLANs, as a 4096-bit map.
#[derive(Clone, PartialEq, Eq)]
pub struct VidSet([u64; 64]);

impl std::fmt::Debug for VidSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter().map(Vid::get)).finish()
    }
}

impl Default for VidSet {
    fn default() -> Self {
        VidSet([0; 64])
    }
}

impl FromIterator<Vid> for VidSet {
    fn from_iter<I: IntoIterator<Item = Vid>>(iter: I) -> Self {
        let mut set = VidSet::default();
        for v in iter {
            set.0[usize::from(v.0 / 64)] |= 1 << (v.0 % 64);
        }
        set
    }
}

impl VidSet {
    /// Whether `vid` is in the set.
    pub fn contains(&self, vid: u16) -> bool {
        vid < 4096 && self.0[usize::from(vid / 64)] & (1 << (vid % 64)) != 0
    }

    /// The VLANs in the set, in increasing order.
    pub fn iter(&self) -> impl Iterator<Item = Vid> + '_ {
        (1..=4094).filter(|v| self.contains(*v)).map(Vid)
    }
}

/// The VLAN role of a port.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per port; the VLAN bitmap inline keeps membership tests one load away"
)]
pub enum PortVlan {
    /// Untagged on the wire, member of one VLAN.
    Access(Vid),
    /// Tagged on the wire for the allowed VLANs; the native VLAN, if any,
    /// travels untagged.
    Trunk {
        /// VLANs carried tagged.
        allowed: VidSet,
        /// The VLAN of untagged frames.
        native: Option<Vid>,
    },
}

/// Where an accepted frame belongs, as found at the input port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ingress {
    /// The frame's VLAN.
    pub vlan: Vid,
    /// The TCI of the 802.1Q tag the frame carries, if it carries one.
    pub tci: Option<u16>,
}

/// How a frame leaves a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Egress {
    /// Without a VLAN tag.
    Untagged,
    /// With an 802.1Q tag for the frame's VLAN.
    Tagged,
}

/// The 802.1Q TCI of `frame` if its outer type is 802.1Q; `Err(())` when the
/// frame is too short to carry its Ethernet header (and tag).
fn outer_tci(frame: &[u8]) -> Result<Option<u16>, ()> {
    let ty = frame.get(TYPE_OFFSET..TYPE_OFFSET + 2).ok_or(())?;
    if u16::from_be_bytes([ty[0], ty[1]]) != TPID_8021Q {
        return Ok(None);
    }
    let tci = frame.get(TYPE_OFFSET + 2..TYPE_OFFSET + 4).ok_or(())?;
    Ok(Some(u16::from_be_bytes([tci[0], tci[1]])))
}

impl PortVlan {
    /// The VLAN `frame` belongs to when it enters this port, or `None` when
    /// the port does not accept it (see the module docs); runts that cannot
    /// hold an Ethernet header are never accepted.
    pub fn ingress(&self, frame: &[u8]) -> Option<Ingress> {
        let tci = outer_tci(frame).ok()?;
        let vid = tci.map_or(0, |t| t & 0x0fff);
        let vlan = match self {
            PortVlan::Access(v) => (vid == 0 || vid == v.0).then_some(*v)?,
            PortVlan::Trunk { native, .. } if vid == 0 => (*native)?,
            PortVlan::Trunk { allowed, .. } => allowed.contains(vid).then_some(Vid(vid))?,
        };
        Some(Ingress { vlan, tci })
    }

    /// How a frame of `vlan` leaves this port, or `None` when the port is not
    /// a member of `vlan`.
    pub fn egress(&self, vlan: Vid) -> Option<Egress> {
        match self {
            PortVlan::Access(v) => (*v == vlan).then_some(Egress::Untagged),
            PortVlan::Trunk { native, .. } if *native == Some(vlan) => Some(Egress::Untagged),
            PortVlan::Trunk { allowed, .. } => allowed.contains(vlan.0).then_some(Egress::Tagged),
        }
    }
}

/// Room for the at most two edits that [`retag`] produces.
pub type TagEdits = ([Edit; 2], usize);

/// The edits that turn a frame that arrived as `ingress` into the frame that
/// leaves as `egress`: pop the tag, push one, rewrite it (a priority tag or
/// a tag that carried no VID becomes a tag with the VLAN's id, keeping its
/// priority bits), or nothing.
pub fn retag(ingress: Ingress, egress: Egress) -> TagEdits {
    let none = Edit::Remove { at: 0, len: 0 };
    let pop = Edit::Remove {
        at: TYPE_OFFSET,
        len: TAG_LEN,
    };
    let push = |tci: u16| {
        let mut bytes = [0; vm::MAX_VALUE_BYTES];
        bytes[..2].copy_from_slice(&TPID_8021Q.to_be_bytes());
        bytes[2..4].copy_from_slice(&tci.to_be_bytes());
        Edit::Insert {
            at: TYPE_OFFSET,
            len: TAG_LEN as u8,
            bytes,
        }
    };
    let vid = ingress.vlan.0;
    match (ingress.tci, egress) {
        (None, Egress::Untagged) => ([none, none], 0),
        (Some(_), Egress::Untagged) => ([pop, none], 1),
        (None, Egress::Tagged) => ([push(vid), none], 1),
        (Some(tci), Egress::Tagged) if tci & 0x0fff == vid => ([none, none], 0),
        (Some(tci), Egress::Tagged) => ([pop, push((tci & 0xf000) | vid)], 2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vid(v: u16) -> Vid {
        Vid::new(v).unwrap()
    }

    fn frame(tag: Option<(u16, u16)>) -> Vec<u8> {
        let mut f = vec![0xff; 6];
        f.extend_from_slice(&[2, 0, 0, 0, 0, 1]);
        if let Some((tpid, tci)) = tag {
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&tci.to_be_bytes());
        }
        f.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 20]);
        f
    }

    fn trunk(allowed: &[u16], native: Option<u16>) -> PortVlan {
        PortVlan::Trunk {
            allowed: allowed.iter().map(|v| vid(*v)).collect(),
            native: native.map(vid),
        }
    }

    fn out(f: &[u8], ing: Ingress, eg: Egress) -> Vec<u8> {
        let (edits, n) = retag(ing, eg);
        let mut v = Vec::new();
        vm::apply_edits(f, &edits[..n], &mut v);
        v
    }

    #[test]
    fn vid_range() {
        assert!(Vid::new(0).is_err());
        assert!(Vid::new(4095).is_err());
        assert_eq!(Vid::try_from(70000u32), Err(BadVid(70000)));
        assert_eq!(Vid::new(4094).unwrap().get(), 4094);
    }

    #[test]
    fn access_ingress() {
        let p = PortVlan::Access(vid(10));
        let ing = |f: &[u8]| p.ingress(f).map(|i| (i.vlan.get(), i.tci));
        assert_eq!(ing(&frame(None)), Some((10, None)));
        assert_eq!(ing(&frame(Some((0x8100, 10)))), Some((10, Some(10))));
        assert_eq!(
            ing(&frame(Some((0x8100, 0xa000)))),
            Some((10, Some(0xa000)))
        );
        assert_eq!(ing(&frame(Some((0x8100, 20)))), None);
        // 802.1ad is not a customer tag: untagged to this switch.
        assert_eq!(ing(&frame(Some((0x88a8, 20)))), Some((10, None)));
        assert_eq!(ing(&frame(None)[..13]), None);
        assert_eq!(ing(&frame(Some((0x8100, 10)))[..15]), None);
    }

    #[test]
    fn trunk_ingress() {
        let p = trunk(&[10, 20], Some(1));
        let ing = |f: &[u8]| p.ingress(f).map(|i| i.vlan.get());
        assert_eq!(ing(&frame(Some((0x8100, 20)))), Some(20));
        assert_eq!(ing(&frame(Some((0x8100, 30)))), None);
        assert_eq!(ing(&frame(None)), Some(1));
        assert_eq!(ing(&frame(Some((0x8100, 0x2000)))), Some(1));
        assert_eq!(trunk(&[10], None).ingress(&frame(None)), None);
    }

    #[test]
    fn egress_membership() {
        let p = trunk(&[10, 20], Some(1));
        assert_eq!(p.egress(vid(10)), Some(Egress::Tagged));
        assert_eq!(p.egress(vid(1)), Some(Egress::Untagged));
        assert_eq!(p.egress(vid(30)), None);
        let a = PortVlan::Access(vid(10));
        assert_eq!(a.egress(vid(10)), Some(Egress::Untagged));
        assert_eq!(a.egress(vid(20)), None);
    }

    #[test]
    fn push_pop_rewrite() {
        let untagged = frame(None);
        let tagged = frame(Some((0x8100, 0xa00a)));
        let ing = |tci| Ingress { vlan: vid(10), tci };
        assert_eq!(out(&untagged, ing(None), Egress::Untagged), untagged);
        assert_eq!(
            out(&untagged, ing(None), Egress::Tagged),
            frame(Some((0x8100, 10)))
        );
        assert_eq!(out(&tagged, ing(Some(0xa00a)), Egress::Untagged), untagged);
        assert_eq!(out(&tagged, ing(Some(0xa00a)), Egress::Tagged), tagged);
        // A priority tag becomes a tag with the VLAN's id, priority kept.
        let prio = frame(Some((0x8100, 0xa000)));
        assert_eq!(out(&prio, ing(Some(0xa000)), Egress::Tagged), tagged);
    }

    #[test]
    fn vidset_iterates_in_order() {
        let s: VidSet = [vid(20), vid(1), vid(4094)].into_iter().collect();
        assert_eq!(s.iter().map(Vid::get).collect::<Vec<_>>(), [1, 20, 4094]);
        assert!(!s.contains(0) && !s.contains(4095) && !s.contains(5000));
    }
}
