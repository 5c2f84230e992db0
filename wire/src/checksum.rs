//! The frame checksum: the first 4 bytes of SHA-256d of the payload.

use crate::sha256d::Sha256d;

/// A frame checksum, as it appears in the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum(pub [u8; 4]);

impl Checksum {
    /// The checksum of an empty payload (`verack`, `getaddr`, ...): `5df6e0e2`.
    pub const EMPTY: Self = Self([0x5d, 0xf6, 0xe0, 0xe2]);

    /// Returns the checksum of `payload`: the first 4 bytes of SHA-256(SHA-256(payload)).
    #[must_use]
    pub fn of(payload: &[u8]) -> Self {
        if payload.is_empty() {
            return Self::EMPTY;
        }
        Self::from_digest(&Sha256d::hash(payload))
    }

    /// Returns the checksum in a payload's SHA-256d `digest`: its first 4 bytes.
    #[must_use]
    pub fn from_digest(digest: &[u8; 32]) -> Self {
        Self([digest[0], digest[1], digest[2], digest[3]])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_matches_constant() {
        let h = Sha256d::hash(&[]);
        assert_eq!(Checksum::EMPTY.0, [h[0], h[1], h[2], h[3]]);
    }
}
