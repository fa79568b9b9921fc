//! Frames given to `switchctl` on the command line or in files: hex (one
//! frame a line, blank lines and `#` comments skipped) and packet captures
//! (classic pcap or pcapng, Ethernet link type).

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use thiserror::Error;

/// Why frames could not be read.
#[derive(Debug, Error)]
pub enum CaptureError {
    /// A hex frame is malformed.
    #[error("line {line}: {message}")]
    Hex {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The capture file could not be parsed.
    #[error("{0}")]
    Pcap(#[from] pcap_file::PcapError),
    /// The capture's frames are not Ethernet.
    #[error("link type {0:?} is not Ethernet")]
    LinkType(pcap_file::DataLink),
}

/// Parses one frame written in hex; whitespace between digits is ignored.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| format!("not a hex byte: {:?}", String::from_utf8_lossy(pair)))
        })
        .collect()
}

/// Parses a file of hex frames: one a line, blank lines and `#` comments
/// skipped.
pub fn read_hex_lines(text: &str) -> Result<Vec<Vec<u8>>, CaptureError> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(n, l)| {
            parse_hex(l).map_err(|message| CaptureError::Hex {
                line: n + 1,
                message,
            })
        })
        .collect()
}

/// Reads the frames of a pcap or pcapng capture.
pub fn read_capture(bytes: &[u8]) -> Result<Vec<Vec<u8>>, CaptureError> {
    const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
    let ethernet = |link: pcap_file::DataLink| match link {
        pcap_file::DataLink::ETHERNET => Ok(()),
        other => Err(CaptureError::LinkType(other)),
    };
    let mut frames = Vec::new();
    if bytes.starts_with(&PCAPNG_MAGIC) {
        let mut reader = PcapNgReader::new(bytes)?;
        while let Some(block) = reader.next_block() {
            match block? {
                Block::InterfaceDescription(i) => ethernet(i.linktype)?,
                Block::EnhancedPacket(p) => frames.push(p.data.into_owned()),
                Block::SimplePacket(p) => frames.push(p.data.into_owned()),
                Block::Packet(p) => frames.push(p.data.into_owned()),
                _ => {}
            }
        }
    } else {
        let mut reader = PcapReader::new(bytes)?;
        ethernet(reader.header().datalink)?;
        while let Some(packet) = reader.next_packet() {
            frames.push(packet?.data.into_owned());
        }
    }
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    use std::time::Duration;

    #[test]
    fn hex_files_skip_comments_and_blank_lines() {
        let frames = read_hex_lines("# two frames\n\nff ff\n0a0b0c\n").unwrap();
        assert_eq!(frames, vec![vec![0xff, 0xff], vec![0x0a, 0x0b, 0x0c]]);
        assert!(matches!(
            read_hex_lines("ff\nabc\n"),
            Err(CaptureError::Hex { line: 2, .. })
        ));
        assert!(parse_hex("zz").is_err());
    }

    #[test]
    fn a_pcap_file_reads_back() {
        let mut file = Vec::new();
        let mut writer = PcapWriter::with_header(&mut file, PcapHeader::default()).unwrap();
        for frame in [&[1u8, 2, 3][..], &[4, 5]] {
            writer
                .write_packet(&PcapPacket::new(Duration::ZERO, frame.len() as u32, frame))
                .unwrap();
        }
        assert_eq!(
            read_capture(&file).unwrap(),
            vec![vec![1, 2, 3], vec![4, 5]]
        );
        assert!(read_capture(b"not a capture").is_err());
    }
}
