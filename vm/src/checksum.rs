//! Incremental update of internet checksums (RFC 1071 sums, RFC 1624
//! updates) after a payload write.
//!
//! The checksum is the one's complement of the one's complement sum of the
//! 16-bit big-endian words of a region. Word boundaries are at even offsets
//! from the region's start, and the checksum field itself sits on a word
//! boundary, so a byte at absolute frame offset `p` is the high byte of its
//! word when `p - field` is even and the low byte otherwise. The update of
//! RFC 1624, equation 3, `HC' = ~(~HC + ~m + m')`, is applied byte by byte:
//! each changed byte contributes the 16-bit word it forms alone in its half,
//! which handles odd offsets and odd lengths alike (one's complement
//! addition is linear).

/// Updates the 16-bit checksum at `frame[field..field + 2]` for the bytes
/// at `frame[start..start + old.len()]`, which held `old` and now hold their
/// new values.
///
/// Does nothing when the field is not inside the frame, when the written
/// bytes overlap the field (the write set the checksum itself), or when
/// `zero_means_none` and the field is 0 (no checksum, as in UDP over IPv4);
/// in that case a result of 0 is written as `0xffff`.
pub fn update(frame: &mut [u8], field: usize, start: usize, old: &[u8], zero_means_none: bool) {
    let Some(end) = field.checked_add(2).filter(|e| *e <= frame.len()) else {
        return;
    };
    if start < end && field < start + old.len() {
        return;
    }
    let Some(new) = frame.get(start..start + old.len()) else {
        return;
    };
    let hc = u16::from_be_bytes([frame[field], frame[field + 1]]);
    if zero_means_none && hc == 0 {
        return;
    }
    let mut acc = u64::from(!hc);
    for (j, (o, n)) in old.iter().zip(new).enumerate() {
        let shift = if ((start + j) ^ field) & 1 == 0 { 8 } else { 0 };
        acc += u64::from(!(u16::from(*o) << shift));
        acc += u64::from(u16::from(*n) << shift);
    }
    let mut out = !fold(acc);
    if zero_means_none && out == 0 {
        out = 0xffff;
    }
    frame[field..end].copy_from_slice(&out.to_be_bytes());
}

/// Folds a sum of 16-bit words to 16 bits with end-around carry.
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The internet checksum of `region` computed from scratch (RFC 1071):
/// what [`update`] must agree with.
pub fn compute(region: &[u8]) -> u16 {
    let acc = region
        .chunks(2)
        .map(|w| u64::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)])))
        .sum();
    !fold(acc)
}
