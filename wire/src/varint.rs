//! CompactSize: Bitcoin's variable-length integer.
//!
//! | value                | bytes | layout                  |
//! |----------------------|-------|-------------------------|
//! | `< 0xfd`             | 1     | the value               |
//! | `<= 0xffff`          | 3     | `0xfd` + `u16` LE       |
//! | `<= 0xffff_ffff`     | 5     | `0xfe` + `u32` LE       |
//! | otherwise            | 9     | `0xff` + `u64` LE       |
//!
//! Only minimal encodings are accepted (Bitcoin Core `ReadCompactSize` throws
//! "non-canonical ReadCompactSize()"). As a count or length, a value above
//! [`MAX_SIZE`](crate::limits::MAX_SIZE) is rejected, and [`count`] also compares the claim
//! with a named limit and with the bytes that remain.

use crate::read::{take, u8 as le_u8, u16_le as le_u16, u32_le as le_u32, u64_le as le_u64};
use bytes::BufMut;

use crate::error::{DecodeError, DecodeErrorKind};
use crate::{PResult, limits};

/// Reads a CompactSize, rejecting encodings longer than necessary.
#[inline]
///
/// # Errors
/// [`DecodeErrorKind::Truncated`] or [`DecodeErrorKind::NonMinimalCompactSize`].
pub fn compact_size(input: &[u8]) -> PResult<'_, u64> {
    let (rest, tag) = le_u8(input)?;
    let (rest, value, min) = match tag {
        0xfd => le_u16(rest).map(|(r, v)| (r, u64::from(v), 0xfd))?,
        0xfe => le_u32(rest).map(|(r, v)| (r, u64::from(v), 0x1_0000))?,
        0xff => le_u64(rest).map(|(r, v)| (r, v, 0x1_0000_0000))?,
        small => return Ok((rest, u64::from(small))),
    };
    if value < min {
        return DecodeError::at(input, DecodeErrorKind::NonMinimalCompactSize(value)).fail();
    }
    Ok((rest, value))
}

#[inline]
/// Reads a CompactSize count of items each at least `min_item_len` bytes long, checking it
/// against `limit` and against the bytes that remain, before anything is allocated.
///
/// # Errors
/// [`DecodeErrorKind::OverLimit`] above `limit` (or [`MAX_SIZE`](limits::MAX_SIZE)),
/// [`DecodeErrorKind::CountOverRemaining`] when the items cannot fit in what remains.
pub fn count<'a>(
    input: &'a [u8],
    field: &'static str,
    limit: u64,
    min_item_len: usize,
) -> PResult<'a, usize> {
    let (rest, n) = compact_size(input).map_err(|e| e.map(|e| with_field(e, field)))?;
    let limit = limit.min(limits::MAX_SIZE);
    if n > limit {
        return DecodeError::field(input, field, DecodeErrorKind::OverLimit { value: n, limit })
            .fail();
    }
    let needed = n.saturating_mul(min_item_len as u64);
    if needed > rest.len() as u64 {
        let kind = DecodeErrorKind::CountOverRemaining {
            count: n,
            needed,
            remaining: rest.len(),
        };
        return DecodeError::field(input, field, kind).fail();
    }
    // n <= MAX_SIZE (2^25) fits in usize on every supported target.
    Ok((rest, n as usize))
}

#[inline]
/// Reads a CompactSize length and that many bytes, borrowed (`var_bytes` in btcd).
///
/// # Errors
/// As [`count`] with one-byte items, then [`DecodeErrorKind::Truncated`].
pub fn var_bytes<'a>(input: &'a [u8], field: &'static str, limit: u64) -> PResult<'a, &'a [u8]> {
    let (rest, len) = count(input, field, limit, 1)?;
    take(rest, len)
}

/// Names the field of any error `result` carries, unless a more precise name is set.
#[inline]
pub(crate) fn named<'a, T>(field: &'static str, result: PResult<'a, T>) -> PResult<'a, T> {
    result.map_err(|e| e.map(|e| with_field(e, field)))
}

/// Sets the field of an error that has none yet.
pub(crate) fn with_field(mut e: DecodeError, field: &'static str) -> DecodeError {
    e.field.get_or_insert(field);
    e
}

/// Returns the number of bytes the CompactSize encoding of `n` takes.
#[must_use]
pub const fn compact_size_len(n: u64) -> usize {
    match n {
        0..0xfd => 1,
        0xfd..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

/// Writes `n` as a minimal CompactSize.
#[inline(always)]
pub fn put_compact_size<B: BufMut>(buf: &mut B, n: u64) {
    // One byte is by far the most common case: keep it inline, the rest out of line.
    if n < 0xfd {
        buf.put_u8(n as u8);
    } else {
        put_long_compact_size(buf, n);
    }
}

#[inline(never)]
fn put_long_compact_size<B: BufMut>(buf: &mut B, n: u64) {
    match n {
        0..0xfd => buf.put_u8(n as u8),
        0xfd..=0xffff => {
            buf.put_u8(0xfd);
            buf.put_u16_le(n as u16);
        }
        0x1_0000..=0xffff_ffff => {
            buf.put_u8(0xfe);
            buf.put_u32_le(n as u32);
        }
        _ => {
            buf.put_u8(0xff);
            buf.put_u64_le(n);
        }
    }
}

/// Writes a CompactSize length followed by `bytes`.
#[inline]
pub fn put_var_bytes<B: BufMut>(buf: &mut B, bytes: &[u8]) {
    put_compact_size(buf, bytes.len() as u64);
    buf.put_slice(bytes);
}

/// Returns the encoded length of a CompactSize length followed by `len` bytes.
#[must_use]
pub const fn var_bytes_len(len: usize) -> usize {
    compact_size_len(len as u64) + len
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read::Cursor;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn enc(n: u64) -> Vec<u8> {
        let mut v = Vec::new();
        put_compact_size(&mut v, n);
        v
    }

    #[test]
    fn vectors() {
        let cases: &[(u64, &[u8])] = &[
            (0, &[0x00]),
            (0xfc, &[0xfc]),
            (0xfd, &[0xfd, 0xfd, 0x00]),
            (0xffff, &[0xfd, 0xff, 0xff]),
            (0x1_0000, &[0xfe, 0x00, 0x00, 0x01, 0x00]),
            (0xffff_ffff, &[0xfe, 0xff, 0xff, 0xff, 0xff]),
            (0x1_0000_0000, &[0xff, 0, 0, 0, 0, 1, 0, 0, 0]),
        ];
        for &(n, bytes) in cases {
            assert_eq!(enc(n), bytes, "encoding {n}");
            assert_eq!(compact_size(bytes), Ok((&[][..], n)), "decoding {n}");
            assert_eq!(compact_size_len(n), bytes.len());
        }
    }

    #[test]
    fn non_minimal_rejected() {
        for bytes in [
            &[0xfd, 0xfc, 0x00][..],
            &[0xfe, 0xff, 0xff, 0, 0],
            &[0xff, 1, 0, 0, 0, 0, 0, 0, 0],
        ] {
            let err = compact_size(bytes).unwrap_err();
            assert!(
                matches!(
                    err,
                    nom::Err::Failure(DecodeError {
                        kind: DecodeErrorKind::NonMinimalCompactSize(_),
                        ..
                    })
                ),
                "{bytes:02x?}: {err:?}"
            );
        }
    }

    /// Values on either side of each CompactSize form and of `MAX_SIZE`.
    const BOUNDARIES: [u64; 10] = [
        0xfc,
        0xfd,
        0xffff,
        0x1_0000,
        limits::MAX_SIZE - 1,
        limits::MAX_SIZE,
        limits::MAX_SIZE + 1,
        0xffff_ffff,
        0x1_0000_0000,
        u64::MAX,
    ];

    /// Writes `n` in the form of `tag_form` (0: one byte, 1: `0xfd`, 2: `0xfe`, 3: `0xff`)
    /// or in its minimal form when that is longer: non-minimal when `tag_form` is longer.
    fn encode_in_form(n: u64, tag_form: usize) -> Vec<u8> {
        let minimal = match compact_size_len(n) {
            1 => 0,
            3 => 1,
            5 => 2,
            _ => 3,
        };
        match tag_form.max(minimal) {
            0 => enc(n),
            1 => [&[0xfd][..], &(n as u16).to_le_bytes()].concat(),
            2 => [&[0xfe][..], &(n as u32).to_le_bytes()].concat(),
            _ => [&[0xff][..], &n.to_le_bytes()].concat(),
        }
    }

    /// Returns the kind of the failure `result` carries.
    fn failure<T: core::fmt::Debug>(result: PResult<'_, T>) -> DecodeErrorKind {
        match result {
            Err(nom::Err::Failure(e)) => e.kind,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn non_minimal_at_every_boundary() {
        // The largest value of each shorter form, written one form too long: Core's
        // "non-canonical ReadCompactSize()". (The smallest value of each longer form is
        // minimal: see `vectors`.)
        let cases: &[(&[u8], u64)] = &[
            (&[0xfd, 0xfc, 0x00], 0xfc),
            (&[0xfe, 0xff, 0xff, 0x00, 0x00], 0xffff),
            (&[0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], 0xffff_ffff),
        ];
        for &(bytes, value) in cases {
            assert_eq!(
                failure(compact_size(bytes)),
                DecodeErrorKind::NonMinimalCompactSize(value),
                "{bytes:02x?}"
            );
            assert_eq!(
                failure(count(bytes, "items", u64::MAX, 0)),
                DecodeErrorKind::NonMinimalCompactSize(value),
                "{bytes:02x?}"
            );
            assert_eq!(Cursor::new(bytes).count(u64::MAX, 0), None, "{bytes:02x?}");
        }
    }

    #[test]
    fn count_at_max_size() {
        let max = limits::MAX_SIZE;
        assert_eq!(max, 0x0200_0000);
        // Exactly MAX_SIZE items of no minimum length: nothing more is needed.
        let at_max = [0xfe, 0x00, 0x00, 0x00, 0x02];
        assert_eq!(
            count(&at_max, "items", u64::MAX, 0),
            Ok((&[][..], 0x0200_0000))
        );
        let mut cursor = Cursor::new(&at_max);
        assert_eq!(cursor.count(u64::MAX, 0), Some(0x0200_0000));
        assert_eq!(cursor.pos(), 5);
        // One more is over the limit, whether the caller's limit is MAX_SIZE or above it.
        let over = [0xfe, 0x01, 0x00, 0x00, 0x02];
        for limit in [max, u64::MAX] {
            let Err(nom::Err::Failure(e)) = count(&over, "items", limit, 0) else {
                panic!("limit {limit}")
            };
            assert_eq!(
                e.kind,
                DecodeErrorKind::OverLimit {
                    value: max + 1,
                    limit: max
                }
            );
            assert_eq!(e.field, Some("items"));
            assert_eq!(Cursor::new(&over).count(limit, 0), None, "limit {limit}");
        }
        // MAX_SIZE one-byte items need MAX_SIZE bytes.
        assert_eq!(
            failure(count(&at_max, "items", u64::MAX, 1)),
            DecodeErrorKind::CountOverRemaining {
                count: max,
                needed: max,
                remaining: 0
            }
        );
        assert_eq!(Cursor::new(&at_max).count(u64::MAX, 1), None);
        // The smallest 9-byte value, 2^32, is minimal but never a count.
        let nine = [0xff, 0, 0, 0, 0, 1, 0, 0, 0];
        assert_eq!(compact_size(&nine), Ok((&[][..], 1 << 32)));
        assert_eq!(Cursor::new(&nine).count(u64::MAX, 0), None);
    }

    #[test]
    fn truncated() {
        for bytes in [
            &[][..],
            &[0xfd, 0x01],
            &[0xfe, 1, 2, 3],
            &[0xff, 1, 2, 3, 4, 5, 6, 7],
        ] {
            let Err(nom::Err::Error(e)) = compact_size(bytes) else {
                panic!("{bytes:02x?}")
            };
            assert_eq!(e.kind, DecodeErrorKind::Truncated);
        }
    }

    #[test]
    fn count_checks_limit_then_remaining() {
        // A claim of 2^32 items in a 9-byte input fails on the limit, at once.
        let huge = [0xff, 0, 0, 0, 0, 1, 0, 0, 0];
        let Err(nom::Err::Failure(e)) = count(&huge, "items", u64::MAX, 1) else {
            panic!()
        };
        assert_eq!(
            e.kind,
            DecodeErrorKind::OverLimit {
                value: 1 << 32,
                limit: limits::MAX_SIZE
            }
        );
        assert_eq!(e.field, Some("items"));
        let Err(nom::Err::Failure(e)) = count(&[3, 0, 0], "items", 10, 1) else {
            panic!()
        };
        assert_eq!(
            e.kind,
            DecodeErrorKind::CountOverRemaining {
                count: 3,
                needed: 3,
                remaining: 2
            }
        );
        let Err(nom::Err::Failure(e)) = count(&[11], "items", 10, 0) else {
            panic!()
        };
        assert_eq!(
            e.kind,
            DecodeErrorKind::OverLimit {
                value: 11,
                limit: 10
            }
        );
        assert_eq!(count(&[2, 0, 0], "items", 10, 1), Ok((&[0u8, 0][..], 2)));
    }

    #[test]
    fn var_bytes_borrows() {
        let input = [3, b'a', b'b', b'c', 9];
        assert_eq!(var_bytes(&input, "s", 10), Ok((&[9u8][..], &b"abc"[..])));
    }

    proptest! {
        /// The fast walk's `Cursor::count` accepts exactly what `count` accepts, with the
        /// same value and length, around every boundary.
        #[test]
        fn cursor_count_agrees_with_count(
            n in prop_oneof![
                0u64..0x1_0000,
                0u64..0x1_0000_0000,
                proptest::sample::select(&BOUNDARIES[..]),
            ],
            longer in 0usize..4,
            limit in prop_oneof![Just(u64::MAX), Just(limits::MAX_SIZE), 0u64..0x1_0000],
            min_item in 0usize..3,
            tail in 0usize..8,
        ) {
            let mut bytes = encode_in_form(n, longer);
            bytes.resize(bytes.len() + tail, 0);
            let mut cursor = Cursor::new(&bytes);
            let fast = cursor.count(limit, min_item).map(|n| (n, cursor.pos()));
            let slow = count(&bytes, "items", limit, min_item)
                .ok()
                .map(|(rest, n)| (n, bytes.len() - rest.len()));
            prop_assert_eq!(fast, slow, "{:02x?}", bytes);
        }

        #[test]
        fn roundtrip(n: u64) {
            let bytes = enc(n);
            prop_assert_eq!(bytes.len(), compact_size_len(n));
            prop_assert_eq!(compact_size(&bytes), Ok((&[][..], n)));
        }
    }
}
