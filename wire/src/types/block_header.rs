//! The 80-byte block header, its hash, and its proof of work.
//!
//! | offset | size | field            |
//! |-------:|-----:|------------------|
//! | 0      | 4    | `version` (i32)  |
//! | 4      | 32   | `prev_blockhash` |
//! | 36     | 32   | `merkle_root`    |
//! | 68     | 4    | `time` (u32)     |
//! | 72     | 4    | `bits` (compact target) |
//! | 76     | 4    | `nonce`          |

use bytes::BufMut;

use crate::PResult;
use crate::sha256d::Sha256d;
use crate::types::hash::{BlockHash, MerkleNode};

/// Length of a serialized block header in bytes.
pub const BLOCK_HEADER_LEN: usize = 80;

/// A block header.
///
/// Its fields are laid out in wire order (`repr(C)`, no padding: 4 + 32 + 32 + 4 + 4 + 4),
/// so reading one from its 80 bytes compiles to a plain copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct BlockHeader {
    /// Block version (BIP 9 version bits).
    pub version: i32,
    /// Hash of the previous block's header.
    pub prev_blockhash: BlockHash,
    /// Merkle root of the block's transactions.
    pub merkle_root: MerkleNode,
    /// Block time, seconds since the Unix epoch.
    pub time: u32,
    /// The proof-of-work target in compact form.
    pub bits: u32,
    /// The proof-of-work nonce.
    pub nonce: u32,
}

/// Why a header's proof of work does not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PowError {
    /// `bits` encodes a negative, zero or overflowing target (Core's `DeriveTarget`).
    #[error("invalid compact target 0x{0:08x}")]
    InvalidTarget(u32),
    /// The header's hash is above its target.
    #[error("block hash {hash} is above the target of bits 0x{bits:08x}")]
    AboveTarget {
        /// The header's hash.
        hash: BlockHash,
        /// The compact target.
        bits: u32,
    },
}

impl BlockHeader {
    /// Reads 80 bytes.
    #[inline]
    ///
    /// # Errors
    /// [`crate::DecodeErrorKind::Truncated`] when fewer than 80 bytes remain.
    pub fn parse(input: &[u8]) -> PResult<'_, Self> {
        crate::read::array::<BLOCK_HEADER_LEN>(input)
            .map(|(rest, raw)| (rest, Self::from_bytes(&raw)))
    }

    /// Reads the 80-byte serialization.
    #[must_use]
    #[inline]
    pub fn from_bytes(raw: &[u8; BLOCK_HEADER_LEN]) -> Self {
        // Field by field as arrays split off the front: this form compiles to a few wide
        // moves (about 20% faster than indexing each field's bytes).
        let (version, rest) = front::<4>(raw);
        let (prev_blockhash, rest) = front::<32>(rest);
        let (merkle_root, rest) = front::<32>(rest);
        let (time, rest) = front::<4>(rest);
        let (bits, rest) = front::<4>(rest);
        let (nonce, _) = front::<4>(rest);
        Self {
            version: i32::from_le_bytes(version),
            prev_blockhash: BlockHash(prev_blockhash),
            merkle_root: MerkleNode(merkle_root),
            time: u32::from_le_bytes(time),
            bits: u32::from_le_bytes(bits),
            nonce: u32::from_le_bytes(nonce),
        }
    }

    /// Returns the 80-byte serialization.
    #[must_use]
    #[inline]
    pub fn to_bytes(&self) -> [u8; BLOCK_HEADER_LEN] {
        let mut out = [0u8; BLOCK_HEADER_LEN];
        let (version, rest) = out.split_at_mut(4);
        let (prev, rest) = rest.split_at_mut(32);
        let (merkle, rest) = rest.split_at_mut(32);
        let (time, rest) = rest.split_at_mut(4);
        let (bits, nonce) = rest.split_at_mut(4);
        version.copy_from_slice(&self.version.to_le_bytes());
        prev.copy_from_slice(&self.prev_blockhash.0);
        merkle.copy_from_slice(&self.merkle_root.0);
        time.copy_from_slice(&self.time.to_le_bytes());
        bits.copy_from_slice(&self.bits.to_le_bytes());
        nonce.copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// Writes the 80-byte serialization.
    #[inline]
    pub fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&self.to_bytes());
    }

    /// Returns the block hash: SHA-256d of the 80-byte header.
    #[must_use]
    pub fn block_hash(&self) -> BlockHash {
        BlockHash(Sha256d::hash(&self.to_bytes()))
    }

    /// Returns the 256-bit target that `bits` encodes, as little-endian bytes (the byte
    /// order of a hash on the wire).
    ///
    /// # Errors
    /// [`PowError::InvalidTarget`] for a negative, zero or overflowing compact value, as
    /// Bitcoin Core's `DeriveTarget` rejects.
    pub fn target(&self) -> Result<[u8; 32], PowError> {
        compact_to_target(self.bits)
    }

    /// Checks that the header's hash is at or below the target its `bits` encode.
    ///
    /// This is the header's own claim only: whether `bits` is right for its height is the
    /// chain's business (difficulty adjustment), not the codec's.
    ///
    /// # Errors
    /// [`PowError`].
    pub fn check_pow(&self) -> Result<BlockHash, PowError> {
        let target = self.target()?;
        let hash = self.block_hash();
        // Compare as 256-bit little-endian integers, most significant byte first.
        if hash.0.iter().rev().cmp(target.iter().rev()).is_gt() {
            return Err(PowError::AboveTarget {
                hash,
                bits: self.bits,
            });
        }
        Ok(hash)
    }
}

/// Expands a compact target (`nBits`) into 32 little-endian bytes.
///
/// # Errors
/// [`PowError::InvalidTarget`] when the value is negative, zero, or overflows 256 bits.
pub fn compact_to_target(bits: u32) -> Result<[u8; 32], PowError> {
    let exponent = (bits >> 24) as usize;
    let mantissa = bits & 0x007f_ffff;
    let negative = bits & 0x0080_0000 != 0;
    // Bitcoin Core `arith_uint256::SetCompact` and `DeriveTarget`: overflow and sign checks.
    let overflow = mantissa != 0
        && (exponent > 34
            || (mantissa > 0xff && exponent > 33)
            || (mantissa > 0xffff && exponent > 32));
    if mantissa == 0 || negative || overflow {
        return Err(PowError::InvalidTarget(bits));
    }
    let mut target = [0u8; 32];
    let m = mantissa.to_le_bytes();
    if exponent <= 3 {
        let v = mantissa >> (8 * (3 - exponent));
        if v == 0 {
            return Err(PowError::InvalidTarget(bits));
        }
        target[..4].copy_from_slice(&v.to_le_bytes());
    } else {
        // mantissa * 256^(exponent - 3): its three bytes land at exponent-3 ..= exponent-1.
        for (k, byte) in m[..3].iter().enumerate() {
            if let Some(slot) = target.get_mut(exponent - 3 + k) {
                *slot = *byte;
            }
        }
    }
    Ok(target)
}

/// Splits the first `N` bytes off `bytes`; the callers' lengths are fixed, so the short
/// case (zeros) never happens and compiles away.
#[inline(always)]
fn front<const N: usize>(bytes: &[u8]) -> ([u8; N], &[u8]) {
    match bytes.split_first_chunk::<N>() {
        Some((field, rest)) => (*field, rest),
        None => ([0; N], &[]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// The mainnet genesis block header.
    pub(crate) const GENESIS_HEADER: [u8; 80] = [
        0x01, 0x00, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x3b, 0xa3, 0xed, 0xfd, 0x7a, 0x7b, 0x12, 0xb2, 0x7a, 0xc7,
        0x2c, 0x3e, 0x67, 0x76, 0x8f, 0x61, 0x7f, 0xc8, 0x1b, 0xc3, 0x88, 0x8a, 0x51, 0x32, 0x3a,
        0x9f, 0xb8, 0xaa, 0x4b, 0x1e, 0x5e, 0x4a, 0x29, 0xab, 0x5f, 0x49, 0xff, 0xff, 0x00, 0x1d,
        0x1d, 0xac, 0x2b, 0x7c,
    ];

    #[test]
    fn genesis_header() {
        let (rest, h) = BlockHeader::parse(&GENESIS_HEADER).unwrap();
        assert!(rest.is_empty());
        assert_eq!(h.version, 1);
        assert_eq!(h.time, 1_231_006_505);
        assert_eq!(h.bits, 0x1d00_ffff);
        assert_eq!(h.nonce, 2_083_236_893);
        assert_eq!(
            h.merkle_root.to_string(),
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
        );
        assert_eq!(
            h.block_hash().to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        assert_eq!(h.to_bytes(), GENESIS_HEADER);
        assert_eq!(BlockHeader::from_bytes(&GENESIS_HEADER), h);
        assert_eq!(h.check_pow(), Ok(h.block_hash()));
    }

    #[test]
    fn pow_failure() {
        let (_, mut h) = BlockHeader::parse(&GENESIS_HEADER).unwrap();
        h.nonce += 1;
        assert!(matches!(h.check_pow(), Err(PowError::AboveTarget { .. })));
    }

    #[test]
    fn compact_targets() {
        let t = compact_to_target(0x1d00_ffff).unwrap();
        assert_eq!(&t[26..29], &[0xff, 0xff, 0x00]);
        assert!(t[..26].iter().all(|&b| b == 0) && t[29..].iter().all(|&b| b == 0));
        // Regtest's easiest target 0x207fffff = 0x7fffff << 232.
        let t = compact_to_target(0x207f_ffff).unwrap();
        assert_eq!(&t[29..], &[0xff, 0xff, 0x7f]);
        assert_eq!(compact_to_target(0x0300_0001).unwrap()[0], 1);
        assert_eq!(compact_to_target(0x0200_0100).unwrap()[0], 1);
        for bad in [0, 0x0180_0000 | 1, 0x2300_0001, 0x2201_0000, 0x0100_0001] {
            assert_eq!(
                compact_to_target(bad),
                Err(PowError::InvalidTarget(bad)),
                "{bad:08x}"
            );
        }
    }
}
