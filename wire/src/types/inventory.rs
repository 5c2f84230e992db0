//! Inventory vectors: what `inv`, `getdata` and `notfound` list.
//!
//! An inventory is a CompactSize count (at most [`limits::MAX_INV_ENTRIES`], Bitcoin Core
//! `MAX_INV_SZ`) followed by that many 36-byte entries:
//!
//! | offset | size | field      | notes                                                   |
//! |-------:|-----:|------------|---------------------------------------------------------|
//! | 0      | 4    | `inv_type` | u32 LE: [`InvType`] (`MSG_TX`, `MSG_BLOCK`, ...)        |
//! | 4      | 32   | `hash`     | txid, wtxid or block hash, in wire byte order           |
//!
//! Inventory types are an open set: Bitcoin Core added `MSG_CMPCT_BLOCK` (BIP 152),
//! `MSG_WTX` (BIP 339) and the witness flag (BIP 144) over the years, so unknown values are
//! kept, not rejected. The entries are checked once (count against the limit and the bytes
//! remaining) and decoded lazily by [`Inventory::iter`].

use core::fmt;

use bytes::BufMut;
use nom::number::complete::le_u32;

use crate::types::hash::{BlockHash, Txid, Wtxid, hash32};
use crate::types::list::{Item, Iter, List, put_fixed};
use crate::varint::compact_size_len;
use crate::{Encode, PResult, limits};

/// The field name errors report for an inventory's count and entries.
const FIELD: &str = "inventory entries";

/// Length of one encoded inventory entry in bytes: type (4) and hash (32).
pub const INV_ITEM_LEN: usize = 36;

/// The kind of object an inventory entry names (Bitcoin Core `GetDataMsg`).
///
/// An open set: any `u32` is kept as received. `Debug` shows the hex value and, when
/// known, the name: `InvType(0x40000001 WITNESS_TX)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct InvType(pub u32);

impl InvType {
    /// `MSG_ERROR`: any data of this type may be ignored.
    pub const ERROR: Self = Self(0);
    /// `MSG_TX`: a transaction, by txid.
    pub const TX: Self = Self(1);
    /// `MSG_BLOCK`: a block, by block hash.
    pub const BLOCK: Self = Self(2);
    /// `MSG_FILTERED_BLOCK`: a `merkleblock` for the loaded bloom filter (BIP 37); only in
    /// `getdata`.
    pub const FILTERED_BLOCK: Self = Self(3);
    /// `MSG_CMPCT_BLOCK`: a `cmpctblock` (BIP 152); only in `getdata`.
    pub const CMPCT_BLOCK: Self = Self(4);
    /// `MSG_WTX`: a transaction, by wtxid (BIP 339).
    pub const WTX: Self = Self(5);
    /// `MSG_WITNESS_FLAG`: set on a type to ask for witness serialization (BIP 144).
    pub const WITNESS_FLAG: u32 = 1 << 30;
    /// `MSG_WITNESS_TX`: a transaction with witness data, by txid (BIP 144).
    pub const WITNESS_TX: Self = Self(Self::WITNESS_FLAG | 1);
    /// `MSG_WITNESS_BLOCK`: a block with witness data (BIP 144).
    pub const WITNESS_BLOCK: Self = Self(Self::WITNESS_FLAG | 2);
    /// `MSG_FILTERED_WITNESS_BLOCK`: defined by BIP 144 but never used by Bitcoin Core.
    pub const FILTERED_WITNESS_BLOCK: Self = Self(Self::WITNESS_FLAG | 3);

    /// Returns whether the witness flag (BIP 144) is set.
    #[must_use]
    pub const fn is_witness(self) -> bool {
        self.0 & Self::WITNESS_FLAG != 0
    }

    /// Returns the type with the witness flag cleared (`WITNESS_TX` becomes `TX`).
    #[must_use]
    pub const fn without_witness(self) -> Self {
        Self(self.0 & !Self::WITNESS_FLAG)
    }

    /// Returns the type with the witness flag set (`BLOCK` becomes `WITNESS_BLOCK`).
    #[must_use]
    pub const fn with_witness(self) -> Self {
        Self(self.0 | Self::WITNESS_FLAG)
    }

    /// Returns the constant's name (`"WITNESS_TX"`) for a known type, `None` otherwise.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self {
            Self::ERROR => "ERROR",
            Self::TX => "TX",
            Self::BLOCK => "BLOCK",
            Self::FILTERED_BLOCK => "FILTERED_BLOCK",
            Self::CMPCT_BLOCK => "CMPCT_BLOCK",
            Self::WTX => "WTX",
            Self::WITNESS_TX => "WITNESS_TX",
            Self::WITNESS_BLOCK => "WITNESS_BLOCK",
            Self::FILTERED_WITNESS_BLOCK => "FILTERED_WITNESS_BLOCK",
            _ => return None,
        })
    }

    /// Returns whether the hash of an entry of this type is a block hash.
    #[must_use]
    pub const fn is_block(self) -> bool {
        matches!(
            self.without_witness(),
            Self::BLOCK | Self::FILTERED_BLOCK | Self::CMPCT_BLOCK
        )
    }
}

impl From<u32> for InvType {
    fn from(raw: u32) -> Self {
        Self(raw)
    }
}

impl From<InvType> for u32 {
    fn from(t: InvType) -> Self {
        t.0
    }
}

impl fmt::Debug for InvType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "InvType({:#010x} {name})", self.0),
            None => write!(f, "InvType({:#010x})", self.0),
        }
    }
}

impl fmt::Display for InvType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{:#010x}", self.0),
        }
    }
}

/// One inventory entry: an object's type and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct InvItem {
    /// What kind of object `hash` names.
    pub inv_type: InvType,
    /// The object's hash in wire byte order (a txid, wtxid or block hash).
    pub hash: [u8; 32],
}

impl InvItem {
    /// Returns an entry of `inv_type` for `hash`.
    #[must_use]
    pub const fn new(inv_type: InvType, hash: [u8; 32]) -> Self {
        Self { inv_type, hash }
    }

    /// Returns a `MSG_TX` entry.
    #[must_use]
    pub const fn tx(txid: Txid) -> Self {
        Self::new(InvType::TX, txid.0)
    }

    /// Returns a `MSG_WITNESS_TX` entry (BIP 144).
    #[must_use]
    pub const fn witness_tx(txid: Txid) -> Self {
        Self::new(InvType::WITNESS_TX, txid.0)
    }

    /// Returns a `MSG_WTX` entry (BIP 339).
    #[must_use]
    pub const fn wtx(wtxid: Wtxid) -> Self {
        Self::new(InvType::WTX, wtxid.0)
    }

    /// Returns a `MSG_BLOCK` entry.
    #[must_use]
    pub const fn block(hash: BlockHash) -> Self {
        Self::new(InvType::BLOCK, hash.0)
    }

    /// Returns a `MSG_WITNESS_BLOCK` entry (BIP 144).
    #[must_use]
    pub const fn witness_block(hash: BlockHash) -> Self {
        Self::new(InvType::WITNESS_BLOCK, hash.0)
    }

    /// Returns a `MSG_FILTERED_BLOCK` entry, asking for a `merkleblock` (BIP 37).
    #[must_use]
    pub const fn filtered_block(hash: BlockHash) -> Self {
        Self::new(InvType::FILTERED_BLOCK, hash.0)
    }

    /// Returns a `MSG_CMPCT_BLOCK` entry, asking for a `cmpctblock` (BIP 152).
    #[must_use]
    pub const fn cmpct_block(hash: BlockHash) -> Self {
        Self::new(InvType::CMPCT_BLOCK, hash.0)
    }

    /// Returns the hash as a txid for `TX` and `WITNESS_TX` entries.
    #[must_use]
    pub const fn txid(&self) -> Option<Txid> {
        match self.inv_type.without_witness() {
            InvType::TX => Some(Txid(self.hash)),
            _ => None,
        }
    }

    /// Returns the hash as a wtxid for `WTX` entries.
    #[must_use]
    pub const fn wtxid(&self) -> Option<Wtxid> {
        match self.inv_type {
            InvType::WTX => Some(Wtxid(self.hash)),
            _ => None,
        }
    }

    /// Returns the hash as a block hash for the block types (plain, witness, filtered,
    /// compact).
    #[must_use]
    pub const fn block_hash(&self) -> Option<BlockHash> {
        if self.inv_type.is_block() {
            Some(BlockHash(self.hash))
        } else {
            None
        }
    }

    /// Returns the 36-byte encoding.
    #[must_use]
    #[inline]
    pub fn to_bytes(&self) -> [u8; INV_ITEM_LEN] {
        let mut out = [0u8; INV_ITEM_LEN];
        let (ty, hash) = out.split_at_mut(4);
        ty.copy_from_slice(&self.inv_type.0.to_le_bytes());
        hash.copy_from_slice(&self.hash);
        out
    }
}

impl<'a> Item<'a> for InvItem {
    const FIXED_LEN: Option<usize> = Some(INV_ITEM_LEN);
    const MIN_LEN: usize = INV_ITEM_LEN;

    #[inline]
    fn from_valid(chunk: &'a [u8]) -> Option<Self> {
        let (ty, hash) = chunk.split_first_chunk::<4>()?;
        Some(Self {
            inv_type: InvType(u32::from_le_bytes(*ty)),
            hash: hash.try_into().ok()?,
        })
    }

    #[inline]
    fn parse_item(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, inv_type) = le_u32(input)?;
        let (i, hash) = hash32(i)?;
        Ok((
            i,
            Self {
                inv_type: InvType(inv_type),
                hash,
            },
        ))
    }

    fn item_len(&self) -> usize {
        INV_ITEM_LEN
    }

    #[inline]
    fn encode_item<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&self.to_bytes());
    }

    #[inline]
    fn encode_run<B: BufMut>(items: &[Self], buf: &mut B) {
        put_fixed::<4, _, _, _>(items, buf, Self::to_bytes);
    }
}

/// A CompactSize-counted list of at most [`limits::MAX_INV_ENTRIES`] inventory entries: the
/// payload of `inv`, `getdata` and `notfound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inventory<'a>(pub List<'a, InvItem>);

impl<'a> Inventory<'a> {
    /// The largest encoded inventory in bytes: 3 + 50,000 × 36 = 1,800,003.
    pub const MAX_LEN: usize =
        compact_size_len(limits::MAX_INV_ENTRIES) + limits::MAX_INV_ENTRIES as usize * INV_ITEM_LEN;

    /// Returns an inventory of `items`, ready to encode.
    #[must_use]
    pub const fn from_items(items: &'a [InvItem]) -> Self {
        Self(List::from_items(items))
    }

    /// Reads a count (at most [`limits::MAX_INV_ENTRIES`], and no more than the bytes
    /// remaining can hold) and that many entries.
    ///
    /// # Errors
    /// [`crate::DecodeErrorKind::OverLimit`], [`crate::DecodeErrorKind::CountOverRemaining`],
    /// [`crate::DecodeErrorKind::NonMinimalCompactSize`] or
    /// [`crate::DecodeErrorKind::Truncated`], for the field `"inventory entries"`.
    pub fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        List::parse(input, FIELD, limits::MAX_INV_ENTRIES).map(|(i, l)| (i, Self(l)))
    }

    /// Returns an iterator over the entries, decoding each on demand.
    #[must_use]
    pub fn iter(&self) -> Iter<'a, InvItem> {
        self.0.iter()
    }

    /// Returns the entry at `index`, if any (constant time).
    #[must_use]
    pub fn get(&self, index: usize) -> Option<InvItem> {
        self.0.get(index)
    }

    /// Returns the number of entries.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns whether there are no entries.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Encode for Inventory<'_> {
    fn encoded_len(&self) -> usize {
        self.0.encoded_len()
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        self.0.encode(buf);
    }
}

impl<'a> IntoIterator for Inventory<'a> {
    type Item = InvItem;
    type IntoIter = Iter<'a, InvItem>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DecodeErrorKind;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    #[test]
    fn lists_from_values_encode_entry_by_entry() {
        // `put_fixed` (the fast path for lists built from values) gives the plain
        // concatenation of the entries, for every count.
        let items: Vec<InvItem> = (0..40u32)
            .map(|k| InvItem::new(InvType(k.wrapping_mul(0x0101_0101)), [k as u8; 32]))
            .collect();
        for n in 0..items.len() {
            let list = List::from_items(&items[..n]);
            let mut expected = alloc::vec![n as u8];
            items[..n]
                .iter()
                .for_each(|item| expected.extend_from_slice(&item.to_bytes()));
            assert_eq!(list.to_vec(), expected, "{n} entries");
            assert_eq!(list.encoded_len(), expected.len());
        }
    }

    #[test]
    fn inv_type_debug_and_names() {
        assert_eq!(
            format!("{:?}", InvType::WITNESS_TX),
            "InvType(0x40000001 WITNESS_TX)"
        );
        assert_eq!(format!("{:?}", InvType(7)), "InvType(0x00000007)");
        assert_eq!(format!("{:?}", InvType::ERROR), "InvType(0x00000000 ERROR)");
        assert_eq!(InvType::WTX.to_string(), "WTX");
        assert_eq!(InvType(0xdead_beef).to_string(), "0xdeadbeef");
        let known = [
            (InvType::ERROR, 0, "ERROR"),
            (InvType::TX, 1, "TX"),
            (InvType::BLOCK, 2, "BLOCK"),
            (InvType::FILTERED_BLOCK, 3, "FILTERED_BLOCK"),
            (InvType::CMPCT_BLOCK, 4, "CMPCT_BLOCK"),
            (InvType::WTX, 5, "WTX"),
            (InvType::WITNESS_TX, 0x4000_0001, "WITNESS_TX"),
            (InvType::WITNESS_BLOCK, 0x4000_0002, "WITNESS_BLOCK"),
            (
                InvType::FILTERED_WITNESS_BLOCK,
                0x4000_0003,
                "FILTERED_WITNESS_BLOCK",
            ),
        ];
        for (t, raw, name) in known {
            assert_eq!(t.0, raw);
            assert_eq!(t.name(), Some(name));
        }
        assert_eq!(InvType(6).name(), None);
        assert_eq!(InvType(InvType::WITNESS_FLAG).name(), None);
    }

    #[test]
    fn witness_flag() {
        assert!(InvType::WITNESS_TX.is_witness());
        assert!(!InvType::TX.is_witness());
        assert_eq!(InvType::WITNESS_TX.without_witness(), InvType::TX);
        assert_eq!(InvType::WITNESS_BLOCK.without_witness(), InvType::BLOCK);
        assert_eq!(InvType::BLOCK.with_witness(), InvType::WITNESS_BLOCK);
        assert_eq!(InvType::TX.without_witness(), InvType::TX);
        assert!(InvType::WITNESS_BLOCK.is_block() && InvType::CMPCT_BLOCK.is_block());
        assert!(!InvType::WTX.is_block() && !InvType::TX.is_block());
    }

    #[test]
    fn item_helpers() {
        let h = [9u8; 32];
        assert_eq!(InvItem::tx(Txid(h)).inv_type, InvType::TX);
        assert_eq!(InvItem::witness_tx(Txid(h)).txid(), Some(Txid(h)));
        assert_eq!(InvItem::wtx(Wtxid(h)).wtxid(), Some(Wtxid(h)));
        assert_eq!(InvItem::wtx(Wtxid(h)).txid(), None);
        assert_eq!(
            InvItem::witness_block(BlockHash(h)).block_hash(),
            Some(BlockHash(h))
        );
        assert_eq!(
            InvItem::filtered_block(BlockHash(h)).inv_type,
            InvType::FILTERED_BLOCK
        );
        assert_eq!(
            InvItem::cmpct_block(BlockHash(h)).inv_type,
            InvType::CMPCT_BLOCK
        );
        assert_eq!(InvItem::block(BlockHash(h)).txid(), None);
        assert_eq!(InvItem::tx(Txid(h)).block_hash(), None);
        let bytes = InvItem::new(InvType(0x0102_0304), h).to_bytes();
        assert_eq!(&bytes[..4], &[4, 3, 2, 1]);
        assert_eq!(&bytes[4..], &h);
    }

    #[test]
    fn unknown_types_are_kept() {
        let items = [
            InvItem::new(InvType(0xdead_beef), [1; 32]),
            InvItem::tx(Txid([2; 32])),
        ];
        let raw = Inventory::from_items(&items).to_vec();
        assert_eq!(raw.len(), 1 + 72);
        let (rest, inv) = Inventory::parse(&raw).unwrap();
        assert!(rest.is_empty());
        assert_eq!(inv.iter().collect::<Vec<_>>(), items);
        assert_eq!(inv.get(0), Some(items[0]));
        assert_eq!(inv.get(2), None);
        assert_eq!(inv, Inventory::from_items(&items));
        assert_eq!(inv.to_vec(), raw);
    }

    #[test]
    fn limits() {
        assert_eq!(Inventory::MAX_LEN, 1_800_003);
        let Err(nom::Err::Failure(e)) = Inventory::parse(&[0xfd, 0x51, 0xc3]) else {
            panic!("50,001 entries accepted")
        };
        assert_eq!(
            (e.kind, e.field),
            (
                DecodeErrorKind::OverLimit {
                    value: 50_001,
                    limit: 50_000
                },
                Some("inventory entries")
            )
        );
    }
}
