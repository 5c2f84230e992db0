//! 32-byte hashes: block hashes, transaction ids, filter hashes.
//!
//! Hashes are stored in wire byte order. `Display`, `Debug` and `FromStr` use the reversed
//! hex that Bitcoin Core's RPC shows (so the genesis block reads `000000000019d6...`).

use core::fmt;
use core::str::FromStr;

use crate::PResult;

/// Reads 32 bytes.
#[inline]
pub(crate) fn hash32(input: &[u8]) -> PResult<'_, [u8; 32]> {
    crate::read::array(input)
}

/// A hex string that is not 64 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected 64 hex digits")]
pub struct ParseHashError;

macro_rules! hash_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub [u8; 32]);

        impl $name {
            /// The all-zero hash.
            pub const ZERO: Self = Self([0u8; 32]);

            /// Returns the hash in wire byte order.
            #[must_use]
            pub const fn to_bytes(self) -> [u8; 32] {
                self.0
            }

            /// Returns the hash in wire byte order.
            #[must_use]
            pub const fn as_bytes(&self) -> &[u8; 32] {
                &self.0
            }

            /// Reads 32 bytes in wire order.
            #[inline]
            pub(crate) fn parse(input: &[u8]) -> PResult<'_, Self> {
                hash32(input).map(|(rest, h)| (rest, Self(h)))
            }
        }

        impl From<[u8; 32]> for $name {
            fn from(raw: [u8; 32]) -> Self {
                Self(raw)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_reversed_hex(f, &self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = ParseHashError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_reversed_hex(s).map(Self)
            }
        }

        impl<'a> crate::types::list::Item<'a> for $name {
            const FIXED_LEN: Option<usize> = Some(32);
            const MIN_LEN: usize = 32;
            #[inline]
            fn parse_item(input: &'a [u8]) -> PResult<'a, Self> {
                Self::parse(input)
            }
            fn item_len(&self) -> usize {
                32
            }
            fn encode_item<B: bytes::BufMut>(&self, buf: &mut B) {
                buf.put_slice(&self.0);
            }
        }

        #[cfg(feature = "arbitrary")]
        impl<'a> arbitrary::Arbitrary<'a> for $name {
            fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
                Ok(Self(u.arbitrary()?))
            }
        }
    };
}

hash_type!(
    /// A block hash: SHA-256d of the 80-byte block header.
    BlockHash
);
hash_type!(
    /// A transaction id: SHA-256d of the transaction without witness data.
    Txid
);
hash_type!(
    /// A witness transaction id (BIP 141): SHA-256d of the full serialization.
    Wtxid
);
hash_type!(
    /// A merkle tree node or root.
    MerkleNode
);
hash_type!(
    /// A compact block filter hash or filter header (BIP 157).
    FilterHash
);

fn write_reversed_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8; 32]) -> fmt::Result {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in bytes.iter().rev().enumerate() {
        out[2 * i] = HEX[usize::from(b >> 4)];
        out[2 * i + 1] = HEX[usize::from(b & 0xf)];
    }
    // Only ASCII hex digits were written.
    f.write_str(core::str::from_utf8(&out).map_err(|_| fmt::Error)?)
}

fn parse_reversed_hex(s: &str) -> Result<[u8; 32], ParseHashError> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return Err(ParseHashError);
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        let hi = hex_digit(pair[0]).ok_or(ParseHashError)?;
        let lo = hex_digit(pair[1]).ok_or(ParseHashError)?;
        out[31 - i] = hi << 4 | lo;
    }
    Ok(out)
}

const fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn reversed_hex_roundtrip() {
        let s = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
        let h: BlockHash = s.parse().unwrap();
        assert_eq!(h.0[31], 0x00);
        assert_eq!(h.0[0], 0x6f);
        assert_eq!(h.to_string(), s);
        assert_eq!(s.to_uppercase().parse::<BlockHash>(), Ok(h));
        assert_eq!("00".parse::<Txid>(), Err(ParseHashError));
        assert_eq!(s.replace('f', "g").parse::<Txid>(), Err(ParseHashError));
    }
}
