//! Harness for the integration tests: the real mainnet blocks bundled in `tests/data/`, and
//! small helpers to build frames and hex.

pub mod bcoin;
pub mod cli;

use btcwire::bytes::BytesMut;
use btcwire::{Checksum, Command, HEADER_LEN, Magic, MessageHeader};

/// A real mainnet block bundled with the tests (copied from `shared/testdata`).
#[derive(Debug, Clone, Copy)]
pub struct RealBlock {
    /// Block height.
    pub height: u32,
    /// Block hash in Bitcoin Core's reversed hex (the file name).
    pub hash: &'static str,
    /// Number of transactions.
    pub tx_count: usize,
    /// Number of transactions with witness data.
    pub segwit_txs: usize,
    /// The raw consensus serialization.
    pub bytes: &'static [u8],
}

/// Block 702,861: 2,500 transactions, 2,065 with witness.
pub const BLOCK_702861: RealBlock = RealBlock {
    height: 702_861,
    hash: "000000000000000000000c835b2adcaedc20fdf6ee440009c249452c726dafae",
    tx_count: 2_500,
    segwit_txs: 2_065,
    bytes: include_bytes!(
        "../data/mainnet_block_000000000000000000000c835b2adcaedc20fdf6ee440009c249452c726dafae.raw"
    ),
};

/// Block 277,647: 213 transactions, before segwit.
pub const BLOCK_277647: RealBlock = RealBlock {
    height: 277_647,
    hash: "0000000000000000054a714e580b16c583701712ab91060e92dbde6eb1e052a8",
    tx_count: 213,
    segwit_txs: 0,
    bytes: include_bytes!(
        "../data/mainnet_block_0000000000000000054a714e580b16c583701712ab91060e92dbde6eb1e052a8.raw"
    ),
};

/// Both bundled blocks.
pub const REAL_BLOCKS: [RealBlock; 2] = [BLOCK_702861, BLOCK_277647];

/// Returns a frame with an arbitrary header: any command bytes, length and checksum.
#[must_use]
pub fn raw_frame(
    magic: Magic,
    command: [u8; 12],
    len: u32,
    checksum: [u8; 4],
    payload: &[u8],
) -> BytesMut {
    let mut out = BytesMut::with_capacity(HEADER_LEN + payload.len());
    out.extend_from_slice(&magic.0);
    out.extend_from_slice(&command);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&checksum);
    out.extend_from_slice(payload);
    out
}

/// Returns a well-formed frame (correct length and checksum) around any payload.
#[must_use]
pub fn frame(magic: Magic, command: &str, payload: &[u8]) -> BytesMut {
    let header = MessageHeader {
        magic,
        command: Command::new(command),
        payload_len: u32::try_from(payload.len()).expect("test payloads are small"),
        checksum: Checksum::of(payload),
    };
    let mut out = BytesMut::from(&header.to_bytes()[..]);
    out.extend_from_slice(payload);
    out
}

/// Decodes a hex string (test fixtures only).
///
/// # Panics
/// On anything but an even number of hex digits.
#[must_use]
pub fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}

/// The README's examples, run as doctests (this crate depends on every other one).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
