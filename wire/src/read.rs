//! Inlined primitive readers for the hot paths.
//!
//! They behave exactly like `nom::number::complete::le_*` and `nom::bytes::complete::take`
//! (same `PResult`, `Truncated` on short input) but are `#[inline]` over `split_first_chunk`,
//! so a block's thousands of fields compile to straight-line code in the caller: nom's
//! `take` goes through a non-inlined trait method across the crate boundary.

use crate::PResult;
use crate::error::{DecodeError, DecodeErrorKind};

#[inline]
fn truncated<T>(input: &[u8]) -> PResult<'_, T> {
    Err(nom::Err::Error(DecodeError::at(
        input,
        DecodeErrorKind::Truncated,
    )))
}

/// Reads `n` bytes, borrowed.
#[inline]
pub(crate) fn take(input: &[u8], n: usize) -> PResult<'_, &[u8]> {
    match input.split_at_checked(n) {
        Some((head, rest)) => Ok((rest, head)),
        None => truncated(input),
    }
}

/// Reads `N` bytes into an array.
#[inline]
pub(crate) fn array<const N: usize>(input: &[u8]) -> PResult<'_, [u8; N]> {
    match input.split_first_chunk::<N>() {
        Some((head, rest)) => Ok((rest, *head)),
        None => truncated(input),
    }
}

macro_rules! le {
    ($($name:ident: $t:ty),*) => {$(
        /// Reads a little-endian integer.
        #[inline]
        pub(crate) fn $name(input: &[u8]) -> PResult<'_, $t> {
            array(input).map(|(rest, raw)| (rest, <$t>::from_le_bytes(raw)))
        }
    )*};
}

le!(u8: u8, u16_le: u16, u32_le: u32, u64_le: u64, i32_le: i32, i64_le: i64);

/// Reads a big-endian `u16` (ports).
#[inline]
pub(crate) fn u16_be(input: &[u8]) -> PResult<'_, u16> {
    array(input).map(|(rest, raw)| (rest, u16::from_be_bytes(raw)))
}

/// A bounds-checked cursor for validation walks that only need to find where things end.
///
/// Every method returns `None` where the matching parser would fail (or earlier: a walk
/// may be stricter than its parser, never looser), so a caller can fall back to the parser
/// to learn the precise error.
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    pub(crate) const fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Returns the bytes consumed so far.
    #[inline(always)]
    pub(crate) const fn pos(&self) -> usize {
        self.pos
    }

    #[inline(always)]
    fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    /// Skips `n` bytes.
    #[inline(always)]
    pub(crate) fn skip(&mut self, n: usize) -> Option<()> {
        if n > self.remaining() {
            return None;
        }
        self.pos += n;
        Some(())
    }

    /// Reads one byte.
    #[inline(always)]
    pub(crate) fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    /// Returns the next byte without consuming it.
    #[inline(always)]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Reads a minimal CompactSize count of items of at least `min_item` bytes each, at most
    /// `limit` (and [`MAX_SIZE`](crate::limits::MAX_SIZE)), fitting in what remains: the same
    /// rules as [`crate::varint::count`].
    #[inline(always)]
    pub(crate) fn count(&mut self, limit: u64, min_item: usize) -> Option<usize> {
        let tag = self.byte()?;
        let n = match tag {
            0..=0xfc => u64::from(tag),
            0xfd => {
                let v = u64::from(u16::from_le_bytes(self.array()?));
                if v < 0xfd {
                    return None;
                }
                v
            }
            0xfe => {
                let v = u64::from(u32::from_le_bytes(self.array()?));
                if v < 0x1_0000 {
                    return None;
                }
                v
            }
            0xff => return None, // never a valid count: above MAX_SIZE
        };
        if n > limit || n > crate::limits::MAX_SIZE {
            return None;
        }
        let n = n as usize;
        if n.checked_mul(min_item)? > self.remaining() {
            return None;
        }
        Some(n)
    }

    /// Reads `n` bytes, borrowed.
    #[inline(always)]
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.bytes.get(self.pos..)?.get(..n)?;
        self.pos += n;
        Some(bytes)
    }

    /// Returns the bytes from `start` to the current position.
    #[inline(always)]
    pub(crate) fn since(&self, start: usize) -> &'a [u8] {
        self.bytes.get(start..self.pos).unwrap_or_default()
    }

    /// Reads a CompactSize length and that many bytes, borrowed.
    #[inline(always)]
    pub(crate) fn var_slice(&mut self, limit: u64) -> Option<&'a [u8]> {
        let n = self.count(limit, 1)?;
        self.take(n)
    }

    /// Reads `N` bytes into an array.
    #[inline(always)]
    pub(crate) fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, _) = self.bytes.get(self.pos..)?.split_first_chunk::<N>()?;
        self.pos += N;
        Some(*head)
    }
}
