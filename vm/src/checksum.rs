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
/// `zero_means_none` and the field is 0 (a checksum the sender left out);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic byte stream for test data.
    fn bytes(seed: u64, n: usize) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    /// Writes of every length at every offset, the region starting at an
    /// even or odd frame offset, the field before or after the write: the
    /// update equals a recomputation.
    #[test]
    fn update_equals_recomputation() {
        for region_start in [0usize, 1, 14, 15] {
            for region_len in [20usize, 21, 40] {
                for field_rel in [0usize, 10, 16] {
                    for start_rel in 0..region_len {
                        for len in 1..=(region_len - start_rel).min(9) {
                            if start_rel < field_rel + 2 && field_rel < start_rel + len {
                                continue;
                            }
                            let seed =
                                (region_start * 7919 + region_len * 104_729 + start_rel * 31 + len)
                                    as u64;
                            let mut frame = bytes(seed, region_start + region_len + 3);
                            let field = region_start + field_rel;
                            frame[field] = 0;
                            frame[field + 1] = 0;
                            let c = compute(&frame[region_start..region_start + region_len]);
                            frame[field..field + 2].copy_from_slice(&c.to_be_bytes());
                            let start = region_start + start_rel;
                            let old = frame[start..start + len].to_vec();
                            frame[start..start + len].copy_from_slice(&bytes(seed ^ 0xabc, len));
                            update(&mut frame, field, start, &old, false);
                            let got = u16::from_be_bytes([frame[field], frame[field + 1]]);
                            frame[field] = 0;
                            frame[field + 1] = 0;
                            let want = compute(&frame[region_start..region_start + region_len]);
                            assert_eq!(
                                got, want,
                                "region {region_start}+{region_len} field {field_rel} write {start_rel}+{len}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn zero_means_none() {
        // A field of 0 is left alone.
        let mut frame = vec![0, 0, 1, 2];
        update(&mut frame, 0, 2, &[9, 9], true);
        assert_eq!(frame, [0, 0, 1, 2]);
        // A result of 0 is sent as 0xffff. Region: checksum, then 00 01
        // (sum 0x0001, checksum 0xfffe); the write makes it ff ff, whose
        // checksum is 0.
        let mut frame = vec![0xff, 0xfe, 0x00, 0x01];
        frame[2] = 0xff;
        frame[3] = 0xff;
        update(&mut frame, 0, 2, &[0x00, 0x01], true);
        assert_eq!(&frame[..2], &[0xff, 0xff]);
        let mut plain = vec![0xff, 0xfe, 0xff, 0xff];
        update(&mut plain, 0, 2, &[0x00, 0x01], false);
        assert_eq!(&plain[..2], &[0, 0]);
    }

    #[test]
    fn field_outside_or_overwritten_is_left_alone() {
        let mut frame = vec![1, 2, 3];
        update(&mut frame, 2, 0, &[0], false);
        assert_eq!(frame, [1, 2, 3]);
        let mut frame = vec![1, 2, 3, 4];
        update(&mut frame, 0, 1, &[0, 0], false);
        assert_eq!(frame, [1, 2, 3, 4]);
    }
}
