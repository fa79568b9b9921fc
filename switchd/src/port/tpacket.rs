//! Reading the kernel's TPACKET_V3 receive ring: the frames of a block the
//! kernel handed to user space, each checked against the block's bounds
//! (no offset in a block is trusted), with the VLAN tag that the kernel
//! moved into the frame's metadata put back in front of the frame.
//!
//! A block is a block descriptor followed by frames, each a
//! `tpacket3_hdr`, a `sockaddr_ll`, padding, and the frame bytes at
//! `tp_mac`. The socket asks for [`HEADROOM`] bytes of reserve
//! (`PACKET_RESERVE`) so a tag can be reinserted in place: the destination
//! and source addresses move 4 bytes to the front and the tag goes where
//! they were.

use crate::l2::vlan::{TAG_LEN, TPID_8021Q, TYPE_OFFSET};
use std::ops::Range;

/// Headroom the socket reserves in front of each frame for a VLAN tag.
pub const HEADROOM: usize = TAG_LEN;

/// Field offsets in the block descriptor and the frame header, from the
/// kernel's structures as `libc` declares them.
mod field {
    use libc::{tpacket_block_desc, tpacket_hdr_v1, tpacket_hdr_variant1, tpacket3_hdr};
    use std::mem::offset_of;

    const BH1: usize = offset_of!(tpacket_block_desc, hdr);
    /// `block_status`: who owns the block.
    pub const BLOCK_STATUS: usize = BH1 + offset_of!(tpacket_hdr_v1, block_status);
    /// `num_pkts`: frames in the block.
    pub const NUM_PKTS: usize = BH1 + offset_of!(tpacket_hdr_v1, num_pkts);
    /// `offset_to_first_pkt`.
    pub const FIRST: usize = BH1 + offset_of!(tpacket_hdr_v1, offset_to_first_pkt);

    /// `tp_next_offset`: from this header to the next one, 0 for the last.
    pub const NEXT: usize = offset_of!(tpacket3_hdr, tp_next_offset);
    /// `tp_snaplen`: bytes of the frame in the ring.
    pub const SNAPLEN: usize = offset_of!(tpacket3_hdr, tp_snaplen);
    /// `tp_len`: bytes of the frame on the wire.
    pub const LEN: usize = offset_of!(tpacket3_hdr, tp_len);
    /// `tp_status`.
    pub const STATUS: usize = offset_of!(tpacket3_hdr, tp_status);
    /// `tp_mac`: from this header to the frame.
    pub const MAC: usize = offset_of!(tpacket3_hdr, tp_mac);
    const HV1: usize = offset_of!(tpacket3_hdr, hv1);
    /// `hv1.tp_vlan_tci`.
    pub const VLAN_TCI: usize = HV1 + offset_of!(tpacket_hdr_variant1, tp_vlan_tci);
    /// `hv1.tp_vlan_tpid`.
    pub const VLAN_TPID: usize = HV1 + offset_of!(tpacket_hdr_variant1, tp_vlan_tpid);
}

pub use field::BLOCK_STATUS;

/// End of the frame header and its `sockaddr_ll`: the frame never starts
/// before this, even after a tag is reinserted.
const HDR_END: usize = libc::TPACKET3_HDRLEN;

/// A block whose layout is not what the kernel writes; the rest of it is
/// skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("malformed TPACKET_V3 block at offset {0}")]
pub struct BadBlock(pub usize);

/// One frame in a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingFrame {
    /// Where the complete frame is in the block, or `None` when the ring
    /// holds only part of it (it was longer than the ring's frames).
    pub data: Option<Range<usize>>,
    /// Offset of the next frame's header, if there is one.
    pub next: Option<usize>,
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, BadBlock> {
    b.get(at..at + 4)
        .map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(BadBlock(at))
}

fn u16_at(b: &[u8], at: usize) -> Result<u16, BadBlock> {
    b.get(at..at + 2)
        .map(|s| u16::from_ne_bytes([s[0], s[1]]))
        .ok_or(BadBlock(at))
}

/// The number of frames in a block and the offset of the first one.
pub fn block_frames(block: &[u8]) -> Result<(u32, usize), BadBlock> {
    let n = u32_at(block, field::NUM_PKTS)?;
    let first = u32_at(block, field::FIRST)? as usize;
    Ok((n, first))
}

/// Reads the frame whose header is at `at`, putting its VLAN tag back in
/// place when the kernel took it off.
pub fn frame_at(block: &mut [u8], at: usize) -> Result<RingFrame, BadBlock> {
    let h = block.get(at..).ok_or(BadBlock(at))?;
    let next = u32_at(h, field::NEXT)? as usize;
    let snaplen = u32_at(h, field::SNAPLEN)? as usize;
    let len = u32_at(h, field::LEN)? as usize;
    let status = u32_at(h, field::STATUS)?;
    let mac = at + usize::from(u16_at(h, field::MAC)?);
    let tci = u32_at(h, field::VLAN_TCI)? as u16;
    let tpid = u16_at(h, field::VLAN_TPID)?;
    let end = mac
        .checked_add(snaplen)
        .filter(|e| *e <= block.len())
        .ok_or(BadBlock(at))?;
    if mac < at + HDR_END || snaplen < TYPE_OFFSET {
        return Err(BadBlock(at));
    }
    let next = match next {
        0 => None,
        n => Some(
            at.checked_add(n)
                .filter(|n| *n < block.len())
                .ok_or(BadBlock(at))?,
        ),
    };
    if snaplen < len {
        return Ok(RingFrame { data: None, next });
    }
    if status & libc::TP_STATUS_VLAN_VALID == 0 {
        return Ok(RingFrame {
            data: Some(mac..end),
            next,
        });
    }
    if mac < at + HDR_END + HEADROOM {
        return Err(BadBlock(at));
    }
    let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
        tpid
    } else {
        TPID_8021Q
    };
    let start = mac - TAG_LEN;
    block.copy_within(mac..mac + TYPE_OFFSET, start);
    block[start + TYPE_OFFSET..mac + TYPE_OFFSET].copy_from_slice(&[
        tpid.to_be_bytes()[0],
        tpid.to_be_bytes()[1],
        tci.to_be_bytes()[0],
        tci.to_be_bytes()[1],
    ]);
    Ok(RingFrame {
        data: Some(start..end),
        next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame to craft: its bytes, `tp_len`, and the tag the kernel took
    /// off (TPID if it says which, TCI).
    type Crafted<'a> = (&'a [u8], usize, Option<(Option<u16>, u16)>);

    /// A crafted block and the offsets of its frames.
    fn block(frames: &[Crafted<'_>]) -> (Vec<u8>, Vec<usize>) {
        let mut b = vec![0u8; 8192];
        let first = 64;
        b[field::NUM_PKTS..field::NUM_PKTS + 4]
            .copy_from_slice(&(frames.len() as u32).to_ne_bytes());
        b[field::FIRST..field::FIRST + 4].copy_from_slice(&(first as u32).to_ne_bytes());
        let mut at = first;
        let mut offsets = Vec::new();
        for (i, (data, len, vlan)) in frames.iter().enumerate() {
            offsets.push(at);
            // As the kernel: netoff = ALIGN(hdrlen + 16) + reserve; mac = netoff - 14.
            let mac = (HDR_END + 16).next_multiple_of(16) + HEADROOM - 14;
            let total = (mac + data.len()).next_multiple_of(16);
            let put = |b: &mut Vec<u8>, off: usize, v: &[u8]| {
                b[at + off..at + off + v.len()].copy_from_slice(v)
            };
            let next = if i + 1 == frames.len() {
                0
            } else {
                total as u32
            };
            put(&mut b, field::NEXT, &next.to_ne_bytes());
            put(&mut b, field::SNAPLEN, &(data.len() as u32).to_ne_bytes());
            put(&mut b, field::LEN, &(*len as u32).to_ne_bytes());
            let mut status = libc::TP_STATUS_USER;
            if let Some((tpid, tci)) = vlan {
                status |= libc::TP_STATUS_VLAN_VALID;
                put(&mut b, field::VLAN_TCI, &u32::from(*tci).to_ne_bytes());
                if let Some(t) = tpid {
                    status |= libc::TP_STATUS_VLAN_TPID_VALID;
                    put(&mut b, field::VLAN_TPID, &t.to_ne_bytes());
                }
            }
            put(&mut b, field::STATUS, &status.to_ne_bytes());
            put(&mut b, field::MAC, &(mac as u16).to_ne_bytes());
            put(&mut b, mac, data);
            at += total;
        }
        (b, offsets)
    }

    fn eth(ty: u16) -> Vec<u8> {
        let mut f = vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        f.extend_from_slice(&ty.to_be_bytes());
        f.extend_from_slice(&[0x45, 0, 0, 20]);
        f
    }

    fn read_all(b: &mut [u8]) -> Vec<Option<Vec<u8>>> {
        let (n, first) = block_frames(b).unwrap();
        let mut at = Some(first);
        let mut out = Vec::new();
        for _ in 0..n {
            let f = frame_at(b, at.unwrap()).unwrap();
            out.push(f.data.map(|r| b[r].to_vec()));
            at = f.next;
        }
        assert_eq!(at, None);
        out
    }

    #[test]
    fn header_matches_the_kernel() {
        assert_eq!(std::mem::size_of::<libc::tpacket3_hdr>(), 48);
        assert_eq!(HDR_END, 68);
        assert_eq!(
            (field::SNAPLEN, field::LEN, field::STATUS, field::MAC),
            (12, 16, 20, 24)
        );
        assert_eq!((field::VLAN_TCI, field::VLAN_TPID), (32, 36));
        assert_eq!((BLOCK_STATUS, field::NUM_PKTS, field::FIRST), (8, 12, 16));
    }

    #[test]
    fn reads_frames_and_reinserts_tags() {
        let plain = eth(0x0800);
        let (mut b, _) = block(&[
            (&plain, plain.len(), None),
            (&plain, plain.len(), Some((None, 0x2005))),
            (&plain, plain.len(), Some((Some(0x88a8), 100))),
            (&plain, plain.len(), Some((Some(0x8100), 0))),
        ]);
        let got = read_all(&mut b);
        let tagged = |tpid: u16, tci: u16| {
            let mut f = plain[..12].to_vec();
            f.extend_from_slice(&tpid.to_be_bytes());
            f.extend_from_slice(&tci.to_be_bytes());
            f.extend_from_slice(&plain[12..]);
            Some(f)
        };
        assert_eq!(
            got,
            vec![
                Some(plain.clone()),
                tagged(0x8100, 0x2005),
                tagged(0x88a8, 100),
                tagged(0x8100, 0)
            ]
        );
    }

    #[test]
    fn truncated_frames_are_reported_not_returned() {
        let plain = eth(0x0800);
        let (mut b, _) = block(&[
            (&plain, 9000, Some((None, 10))),
            (&plain, plain.len(), None),
        ]);
        assert_eq!(read_all(&mut b), vec![None, Some(plain)]);
    }

    #[test]
    fn malformed_headers_are_errors_not_panics() {
        let plain = eth(0x0800);
        let (b, offsets) = block(&[(&plain, plain.len(), None)]);
        let at = offsets[0];
        let corrupt = |off: usize, v: u32| {
            let mut c = b.clone();
            c[at + off..at + off + 4].copy_from_slice(&v.to_ne_bytes());
            frame_at(&mut c, at)
        };
        assert!(corrupt(field::SNAPLEN, 1 << 20).is_err());
        assert!(corrupt(field::SNAPLEN, 4).is_err());
        assert!(corrupt(field::NEXT, 1 << 30).is_err());
        let mut c = b.clone();
        c[at + field::MAC..at + field::MAC + 2].copy_from_slice(&8u16.to_ne_bytes());
        assert!(frame_at(&mut c, at).is_err());
        assert!(frame_at(&mut b.clone(), b.len() - 10).is_err());
        assert!(frame_at(&mut b.clone(), usize::MAX - 2).is_err());
        assert!(block_frames(&b[..10]).is_err());
    }
}
