//! `List`: a CompactSize-counted list, validated once and iterated lazily.
//!
//! A decoded list borrows the payload: its count was checked against the field's limit and
//! the bytes remaining before anything else happened, every item was validated once, and
//! [`List::iter`] parses items again on demand without allocating. A list to send is built
//! from a slice of items with [`List::from_items`] and encodes exactly like a received one.

use core::fmt;

use bytes::BufMut;

use crate::varint::{compact_size_len, count, put_compact_size, with_field};
use crate::{Encode, PResult};

/// An item of a [`List`]: something with a wire encoding.
pub trait Item<'a>: Sized + Clone {
    /// The encoded size when every item has the same size.
    const FIXED_LEN: Option<usize>;
    /// The smallest encoded size, used to check a count against the bytes remaining.
    const MIN_LEN: usize;
    /// Whether fixed-size items still need a per-item check while the list is decoded.
    const CHECK_EACH: bool = false;

    /// Whether [`Item::skip_item`] is a fast path worth trying before [`Item::parse_item`].
    const HAS_SKIP: bool = false;

    /// Returns the encoded length of the valid item at the start of `input`, without
    /// building it, or `None` to let [`Item::parse_item`] decide (and explain). Must never
    /// return `Some` for bytes that `parse_item` rejects.
    #[inline]
    fn skip_item(input: &[u8]) -> Option<usize> {
        let _ = input;
        None
    }

    /// Builds a fixed-size item from exactly [`Item::FIXED_LEN`] bytes that already passed
    /// validation: the fast path of lazy iteration, with no error plumbing.
    #[inline]
    fn from_valid(chunk: &'a [u8]) -> Option<Self> {
        Self::parse_item(chunk).ok().map(|(_, item)| item)
    }

    /// Reads one item.
    ///
    /// # Errors
    /// When the bytes are not a valid item.
    fn parse_item(input: &'a [u8]) -> PResult<'a, Self>;

    /// Returns the item's encoded size.
    fn item_len(&self) -> usize;

    /// Writes the item.
    fn encode_item<B: BufMut>(&self, buf: &mut B);

    /// Writes the item as [`Item::encode_item`] does, then calls `step(buf)`; items made of
    /// parts (transactions) step between their parts too (see [`Encode::encode_in_steps`]).
    #[inline]
    fn encode_item_in_steps<B: BufMut>(&self, buf: &mut B, step: &mut impl FnMut(&mut B)) {
        self.encode_item(buf);
        step(buf);
    }

    /// Writes `items` back to back: what a list built from values encodes. Fixed-size
    /// items override it with a faster loop of their own.
    #[inline]
    fn encode_run<B: BufMut>(items: &[Self], buf: &mut B) {
        items.iter().for_each(|item| item.encode_item(buf));
    }
}

/// Writes fixed-size items of `N` bytes, `K` entries built as one array per write.
///
/// Not inlined on purpose, and `K` chosen per item type, both by measurement into a `Vec`
/// (2,000 `headers` with `K = 2`, 50,000 `inv` entries with `K = 4`, 1,000 `addr` entries
/// with `K = 2`): 1.5-1.9x faster than one write per entry inlined into `List::encode`,
/// where the entries took a round trip through the stack. (Likely reason: as an argument,
/// `items` is known not to alias the buffer. The same change made the variable-size items
/// of a block slower, so they stay inline.)
#[inline(never)]
pub(crate) fn put_fixed<const K: usize, T, const N: usize, B: BufMut>(
    items: &[T],
    buf: &mut B,
    to_bytes: impl Fn(&T) -> [u8; N],
) {
    const { assert!(K > 0) };
    let mut groups = items.chunks_exact(K);
    for group in &mut groups {
        if let Some(group) = group.first_chunk::<K>() {
            buf.put_slice(group.each_ref().map(&to_bytes).as_flattened());
        }
    }
    for item in groups.remainder() {
        buf.put_slice(&to_bytes(item));
    }
}

/// A CompactSize-counted list of `T`, borrowed from a payload or from a slice.
pub struct List<'a, T> {
    repr: Repr<'a, T>,
}

enum Repr<'a, T> {
    Wire { len: usize, raw: &'a [u8] },
    Items(&'a [T]),
}

// Both forms are references: copyable whatever `T` is.
impl<T> Clone for List<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for List<'_, T> {}
impl<T> Clone for Repr<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Repr<'_, T> {}

impl<'a, T: Item<'a>> List<'a, T> {
    /// Reads a count (checked against `limit` and the bytes remaining) and that many items.
    #[inline]
    pub(crate) fn parse(input: &'a [u8], field: &'static str, limit: u64) -> PResult<'a, Self> {
        let (body, n) = count(input, field, limit, T::MIN_LEN)?;
        if let (Some(len), false) = (T::FIXED_LEN, T::CHECK_EACH) {
            // `count` checked n * MIN_LEN (= n * len) against the bytes remaining.
            let (rest, raw) = crate::read::take(body, n * len)?;
            return Ok((
                rest,
                Self {
                    repr: Repr::Wire { len: n, raw },
                },
            ));
        }
        let rest = Self::validate(body, n, field)?;
        let raw = &body[..body.len() - rest.len()];
        Ok((
            rest,
            Self {
                repr: Repr::Wire { len: n, raw },
            },
        ))
    }

    /// Walks `n` items: the fast skip where the item has one, the parser otherwise (and
    /// wherever the skip declines, so that errors stay precise).
    #[inline]
    fn validate(
        input: &'a [u8],
        n: usize,
        field: &'static str,
    ) -> Result<&'a [u8], nom::Err<crate::DecodeError>> {
        let mut rest = input;
        for _ in 0..n {
            if T::HAS_SKIP {
                if let Some(next) = T::skip_item(rest).and_then(|len| rest.get(len..)) {
                    rest = next;
                    continue;
                }
            }
            rest = T::parse_item(rest)
                .map_err(|e| e.map(|e| with_field(e, field)))?
                .0;
        }
        Ok(rest)
    }

    /// Reads exactly `n` items with no count in front (the witness section of a transaction).
    #[inline]
    pub(crate) fn parse_exact(input: &'a [u8], n: usize, field: &'static str) -> PResult<'a, Self> {
        let rest = Self::validate(input, n, field)?;
        let raw = &input[..input.len() - rest.len()];
        Ok((
            rest,
            Self {
                repr: Repr::Wire { len: n, raw },
            },
        ))
    }

    /// Returns a decoded list of `len` items whose encodings, already validated, are `raw`.
    #[inline(always)]
    pub(crate) const fn from_wire(len: usize, raw: &'a [u8]) -> Self {
        Self {
            repr: Repr::Wire { len, raw },
        }
    }

    /// Returns the items of a list built from items (`None` for a decoded list).
    #[inline]
    pub(crate) const fn items(&self) -> Option<&'a [T]> {
        match self.repr {
            Repr::Items(items) => Some(items),
            Repr::Wire { .. } => None,
        }
    }

    /// Returns whether the list was decoded from bytes inside `bytes` (rather than built
    /// from items, or decoded from elsewhere).
    pub(crate) fn decoded_within(&self, bytes: &[u8]) -> bool {
        match self.repr {
            Repr::Wire { raw, .. } => {
                let (inner, outer) = (raw.as_ptr_range(), bytes.as_ptr_range());
                outer.start <= inner.start && inner.end <= outer.end
            }
            Repr::Items(_) => false,
        }
    }

    /// Returns the encoded size of the items alone, without the count.
    #[must_use]
    pub fn items_len(&self) -> usize {
        match self.repr {
            Repr::Wire { raw, .. } => raw.len(),
            Repr::Items(items) => items.iter().map(Item::item_len).sum(),
        }
    }

    /// Writes the items alone, without the count.
    #[inline]
    pub fn encode_items<B: BufMut>(&self, buf: &mut B) {
        match self.repr {
            Repr::Wire { raw, .. } => buf.put_slice(raw),
            Repr::Items(items) => T::encode_run(items, buf),
        }
    }

    /// Writes the items alone like [`List::encode_items`], stepping after each item built
    /// from values ([`Item::encode_item_in_steps`]) or once after a received list's bytes.
    #[inline]
    pub fn encode_items_in_steps<B: BufMut>(&self, buf: &mut B, step: &mut impl FnMut(&mut B)) {
        match self.repr {
            Repr::Wire { raw, .. } => {
                buf.put_slice(raw);
                step(buf);
            }
            Repr::Items(items) => items
                .iter()
                .for_each(|item| item.encode_item_in_steps(buf, step)),
        }
    }

    /// Returns a list of `items`, ready to encode.
    #[must_use]
    pub const fn from_items(items: &'a [T]) -> Self {
        Self {
            repr: Repr::Items(items),
        }
    }

    /// Returns the number of items.
    #[must_use]
    pub const fn len(&self) -> usize {
        match self.repr {
            Repr::Wire { len, .. } => len,
            Repr::Items(items) => items.len(),
        }
    }

    /// Returns whether the list has no items.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns the encoded items (without the count) when the list was decoded.
    #[must_use]
    pub const fn raw(&self) -> Option<&'a [u8]> {
        match self.repr {
            Repr::Wire { raw, .. } => Some(raw),
            Repr::Items(_) => None,
        }
    }

    /// Returns an iterator over the items, decoding each on demand.
    #[must_use]
    pub fn iter(&self) -> Iter<'a, T> {
        match (self.repr, T::FIXED_LEN) {
            (Repr::Wire { raw, .. }, Some(_)) => Iter::Fixed { rest: raw },
            (Repr::Wire { len, raw }, None) => Iter::Wire {
                left: len,
                rest: raw,
            },
            (Repr::Items(items), _) => Iter::Items(items.iter()),
        }
    }

    /// Returns the item at `index`, if any; constant time for fixed-size items.
    #[must_use]
    pub fn get(&self, index: usize) -> Option<T> {
        match (self.repr, T::FIXED_LEN) {
            (Repr::Wire { len, raw }, Some(size)) if index < len => {
                T::parse_item(&raw[index * size..]).ok().map(|(_, t)| t)
            }
            (Repr::Items(items), _) => items.get(index).cloned(),
            _ => self.iter().nth(index),
        }
    }
}

impl<'a, T: Item<'a>> Encode for List<'a, T> {
    fn encoded_len(&self) -> usize {
        compact_size_len(self.len() as u64) + self.items_len()
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        put_compact_size(buf, self.len() as u64);
        self.encode_items(buf);
    }

    /// Steps as [`List::encode_items_in_steps`] does.
    #[inline]
    fn encode_in_steps<B: BufMut>(&self, buf: &mut B, step: &mut impl FnMut(&mut B)) {
        put_compact_size(buf, self.len() as u64);
        self.encode_items_in_steps(buf, step);
    }
}

impl<'a, T: Item<'a> + PartialEq> PartialEq for List<'a, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<'a, T: Item<'a> + Eq> Eq for List<'a, T> {}

impl<'a, T: Item<'a> + fmt::Debug> fmt::Debug for List<'a, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a, T: Item<'a>> IntoIterator for List<'a, T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<'a, T: Item<'a>> IntoIterator for &List<'a, T> {
    type Item = T;
    type IntoIter = Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// An iterator over a [`List`]'s items.
#[derive(Clone, Debug)]
pub enum Iter<'a, T> {
    /// Items decoded from the wire, parsed on demand.
    #[doc(hidden)]
    Wire {
        /// Items not yet returned.
        left: usize,
        /// Their bytes.
        rest: &'a [u8],
    },
    /// Fixed-size items decoded from the wire: their bytes, a whole number of items (no
    /// count: an iterator as small as `Wire` keeps variable-size iteration fast).
    #[doc(hidden)]
    Fixed {
        /// The items not yet returned.
        rest: &'a [u8],
    },
    /// Items from a slice.
    #[doc(hidden)]
    Items(core::slice::Iter<'a, T>),
}

impl<'a, T: Item<'a>> Iterator for Iter<'a, T> {
    type Item = T;

    #[inline(always)]
    fn next(&mut self) -> Option<T> {
        match self {
            Self::Wire { left, rest } => {
                if *left == 0 {
                    return None;
                }
                // Every item was validated when the list was decoded, so this cannot fail;
                // if it somehow did, the iterator ends rather than panicking.
                let (next, item) = T::parse_item(rest).ok()?;
                *rest = next;
                *left -= 1;
                Some(item)
            }
            Self::Fixed { rest } => {
                let (chunk, next) = rest.split_at_checked(T::FIXED_LEN?)?;
                *rest = next;
                T::from_valid(chunk)
            }
            Self::Items(it) => it.next().cloned(),
        }
    }

    /// Internal iteration (`for_each`, `sum`, `count`, ... go through here): fixed-size
    /// items in one tight loop over the bytes, the same items `next` gives.
    #[inline]
    fn fold<B, F: FnMut(B, T) -> B>(self, init: B, mut f: F) -> B {
        let mut acc = init;
        if let (Self::Fixed { rest }, Some(size @ 1..)) = (&self, T::FIXED_LEN) {
            for chunk in rest.chunks_exact(size) {
                match T::from_valid(chunk) {
                    Some(item) => acc = f(acc, item),
                    None => break,
                }
            }
            return acc;
        }
        // A `for` loop calls `next`, never `fold`.
        for item in self {
            acc = f(acc, item);
        }
        acc
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match self {
            Self::Wire { left, .. } => *left,
            Self::Fixed { rest } => rest.len() / T::FIXED_LEN.unwrap_or(1).max(1),
            Self::Items(it) => it.len(),
        };
        (n, Some(n))
    }
}

impl<'a, T: Item<'a>> ExactSizeIterator for Iter<'a, T> {}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::types::{BlockHash, BlockHeader, InvItem, InvType, MerkleNode};

    /// The items `next` gives, one call at a time (a `for` loop calls `next`).
    fn by_next<'a, T: Item<'a>>(list: &List<'a, T>) -> Vec<T> {
        let mut out = Vec::new();
        for item in list.iter() {
            out.push(item);
        }
        out
    }

    /// The items `fold` gives (what `for_each`, `sum`, `count` use).
    fn by_fold<'a, T: Item<'a>>(list: &List<'a, T>) -> Vec<T> {
        list.iter().fold(Vec::new(), |mut out, item| {
            out.push(item);
            out
        })
    }

    proptest! {
        /// Internal iteration gives exactly the items of external iteration, for decoded
        /// fixed-size lists (inventory, headers), a decoded variable-size list (witness
        /// items) and lists built from values, also after part of them was consumed.
        #[test]
        fn fold_is_next(
            hashes in proptest::collection::vec(any::<[u8; 32]>(), 0..20),
            items in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..20),
            skip in 0..5usize,
        ) {
            let inv: Vec<InvItem> =
                hashes.iter().map(|h| InvItem::new(InvType::TX, *h)).collect();
            let headers: Vec<BlockHeader> = hashes
                .iter()
                .map(|h| BlockHeader {
                    version: 2,
                    prev_blockhash: BlockHash(*h),
                    merkle_root: MerkleNode(*h),
                    time: 1,
                    bits: 2,
                    nonce: 3,
                })
                .collect();
            let slices: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();

            let inv_wire = List::from_items(&inv).to_vec();
            let (_, inv_list) = List::<InvItem>::parse(&inv_wire, "inv", 100).unwrap();
            prop_assert_eq!(by_fold(&inv_list), by_next(&inv_list));
            prop_assert_eq!(by_fold(&inv_list), inv.clone());
            prop_assert_eq!(by_fold(&List::from_items(&inv)), inv.clone());

            let headers_wire = List::from_items(&headers).to_vec();
            let (_, headers_list) =
                List::<BlockHeader>::parse(&headers_wire, "headers", 100).unwrap();
            prop_assert_eq!(by_fold(&headers_list), headers.clone());

            let slices_wire = List::from_items(&slices).to_vec();
            let (_, slices_list) = List::<&[u8]>::parse(&slices_wire, "items", 100).unwrap();
            prop_assert_eq!(by_fold(&slices_list), by_next(&slices_list));
            prop_assert_eq!(by_fold(&slices_list), slices.clone());

            // Partly consumed, then folded: the rest, in order.
            let mut it = inv_list.iter();
            it.by_ref().take(skip).for_each(drop);
            let rest = it.fold(Vec::new(), |mut v, x| { v.push(x); v });
            prop_assert_eq!(&rest[..], &inv[skip.min(inv.len())..]);
        }
    }
}
