//! Compact block relay (BIP 152): `sendcmpct`, `cmpctblock`, `getblocktxn`, `blocktxn`.
//!
//! A compact block carries a block's header, a 6-byte short id per transaction the receiver
//! probably has already, and the few transactions it probably lacks ("prefilled"). Missing
//! transactions are then fetched with `getblocktxn` / `blocktxn`. Bitcoin Core:
//! `blockencodings.h`, `net_processing.cpp`.
//!
//! | message       | field            | size      | notes                                        |
//! |---------------|------------------|-----------|----------------------------------------------|
//! | `sendcmpct`   | `announce`       | 1         | bool: only `0` or `1` accepted               |
//! |               | `version`        | 8         | u64 LE: 1 (txids) or 2 (wtxids)              |
//! | `cmpctblock`  | `header`         | 80        | block header                                 |
//! |               | `nonce`          | 8         | u64 LE, keys the short ids                   |
//! |               | `short_ids`      | var       | CompactSize count, then 6 bytes each (LE)    |
//! |               | `prefilled_txn`  | var       | CompactSize count, then per transaction:     |
//! |               | ↳ `index`        | 1-3       | CompactSize, differentially encoded          |
//! |               | ↳ `tx`           | var       | as in `tx` (BIP 144 witness serialization)   |
//! | `getblocktxn` | `block_hash`     | 32        |                                              |
//! |               | `indexes`        | var       | CompactSize count, then CompactSize differences |
//! | `blocktxn`    | `block_hash`     | 32        |                                              |
//! |               | `txs`            | var       | CompactSize count, then transactions         |
//!
//! ## Differential indexes
//!
//! Prefilled transaction indexes and requested indexes travel as differences: each
//! CompactSize is the index minus the previous index minus one, the first being the index
//! itself (`[0, 6, 8, 19]` travels as `[0, 5, 1, 10]`). The API shows absolute `u16`
//! indexes only: [`CmpctBlock::prefilled_txs`] and [`GetBlockTxn::indexes`] decode them,
//! and [`CmpctBlock::new`] and [`GetBlockTxn::new`] take absolute, strictly increasing
//! indexes and compute the differences.
//!
//! ```
//! use btcwire::msg::{CompactBlockError, GetBlockTxn};
//! use btcwire::types::BlockHash;
//! use btcwire::{Encode, Payload};
//!
//! let request = GetBlockTxn::new(BlockHash::ZERO, &[0, 6, 8, 19])?;
//! let payload = request.to_vec();
//! assert_eq!(payload[32..], [4, 0, 5, 1, 10]); // count, then differences
//! let decoded = GetBlockTxn::decode(&payload)?;
//! assert!(decoded.indexes().eq([0, 6, 8, 19]));
//! assert_eq!(
//!     GetBlockTxn::new(BlockHash::ZERO, &[3, 3]),
//!     Err(CompactBlockError::IndexNotIncreasing { position: 1, index: 3, previous: 3 })
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Checks
//!
//! Like Bitcoin Core, decoding refuses:
//! - an index above `u16::MAX` (Core: "differential value overflow");
//! - a `cmpctblock` of more than [`MAX_CMPCTBLOCK_TXS`] transactions (short ids and
//!   prefilled together; Core: "indexes overflowed 16 bits");
//! - a `cmpctblock` with no transaction at all, or a prefilled index past the block's
//!   transactions, i.e. above `short_ids + position` (Core's `PartiallyDownloadedBlock::InitData`
//!   returns `READ_STATUS_INVALID`: "invalid compact block").
//!
//! ## Short ids
//!
//! [`ShortIdKeys`] derives the SipHash-2-4 keys from the header and nonce (single SHA-256)
//! and [`ShortId::compute`] hashes a txid (version 1) or wtxid (version 2) into a short id.

use core::fmt;

use bytes::BufMut;
use nom::Parser;
use nom::bytes::complete::take;
use nom::number::complete::{le_u8, le_u64};

use crate::error::{DecodeError, DecodeErrorKind};
use crate::header::Command;
use crate::msg::Payload;
use crate::types::block_header::{BLOCK_HEADER_LEN, BlockHeader};
use crate::types::hash::BlockHash;
use crate::types::list::{Item, List};
use crate::types::tx::Tx;
use crate::varint::{compact_size, compact_size_len, count, named, put_compact_size};
use crate::{Encode, PResult, limits};

pub use crate::limits::MAX_CMPCTBLOCK_TXS;

const _: () = assert!(MAX_CMPCTBLOCK_TXS <= limits::MAX_COMPACT_TXS);

/// The smallest prefilled transaction: a one-byte index and a minimal transaction.
const MIN_PREFILLED_LEN: usize = 1 + limits::MIN_TX_LEN as usize;

/// Turns strictly increasing absolute indexes into BIP 152 differences.
fn differences(indexes: impl Iterator<Item = u16>) -> impl Iterator<Item = u64> {
    let mut next = 0u64;
    indexes.map(move |index| {
        let index = u64::from(index);
        // Constructors checked that indexes increase, so this never saturates.
        let diff = index.saturating_sub(next);
        next = index + 1;
        diff
    })
}

/// Reads one difference and returns the absolute index it encodes, `next` being the
/// smallest index allowed here; `max` is the largest.
fn parse_index<'a>(input: &'a [u8], next: u64, max: u64, field: &'static str) -> PResult<'a, u64> {
    let (rest, diff) = named(field, compact_size(input))?;
    let index = next.saturating_add(diff);
    if index > max {
        let kind = DecodeErrorKind::OverLimit {
            value: index,
            limit: max,
        };
        return DecodeError::field(input, field, kind).fail();
    }
    Ok((rest, index))
}

/// Debug-prints what an iterator yields, as a list.
struct DebugIter<I>(I);

impl<I> fmt::Debug for DebugIter<I>
where
    I: Iterator + Clone,
    I::Item: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.clone()).finish()
    }
}

/// Why a compact block or a transaction request cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompactBlockError {
    /// More transactions than a compact block can index ([`MAX_CMPCTBLOCK_TXS`]).
    #[error("{count} transactions is over the limit {limit}")]
    TooManyTransactions {
        /// Short ids and prefilled transactions together.
        count: u64,
        /// The most allowed.
        limit: u64,
    },
    /// A compact block with neither short ids nor prefilled transactions.
    #[error("compact block without transactions")]
    NoTransactions,
    /// An index that is not above the one before it.
    #[error("index {index} at position {position} does not follow index {previous}")]
    IndexNotIncreasing {
        /// Position of the index in the list.
        position: usize,
        /// The index.
        index: u16,
        /// The index before it.
        previous: u16,
    },
    /// A prefilled transaction index past the block's transactions.
    #[error("index {index} at position {position} is outside a block of {tx_count} transactions")]
    IndexOutOfRange {
        /// Position of the prefilled transaction.
        position: usize,
        /// Its index.
        index: u16,
        /// Short ids and prefilled transactions together.
        tx_count: u64,
    },
}

/// Checks that indexes are strictly increasing.
fn check_increasing(indexes: impl Iterator<Item = u16>) -> Result<(), CompactBlockError> {
    let mut previous: Option<u16> = None;
    for (position, index) in indexes.enumerate() {
        if let Some(previous) = previous.filter(|&p| index <= p) {
            return Err(CompactBlockError::IndexNotIncreasing {
                position,
                index,
                previous,
            });
        }
        previous = Some(index);
    }
    Ok(())
}

/// `sendcmpct`: compact block negotiation (BIP 152).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SendCmpct {
    /// Whether the sender wants new blocks announced as `cmpctblock` (high-bandwidth mode).
    pub announce: bool,
    /// The compact block version: [`SendCmpct::VERSION_1`] or [`SendCmpct::VERSION_2`];
    /// other values are decoded, and BIP 152 says to ignore them.
    pub version: u64,
}

impl SendCmpct {
    /// Version 1: short ids of txids, transactions without witness.
    pub const VERSION_1: u64 = 1;
    /// Version 2: short ids of wtxids, transactions with witness (BIP 152 with segwit).
    pub const VERSION_2: u64 = 2;

    /// Returns the message.
    #[must_use]
    pub const fn new(announce: bool, version: u64) -> Self {
        Self { announce, version }
    }
}

impl Encode for SendCmpct {
    fn encoded_len(&self) -> usize {
        9
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(u8::from(self.announce));
        buf.put_u64_le(self.version);
    }
}

impl<'a> Payload<'a> for SendCmpct {
    const COMMAND: Command = Command::new("sendcmpct");
    const MAX_LEN: u32 = 9;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, flag) = named("announce", le_u8(input))?;
        // BIP 152: the boolean "MUST have a value of either 1 or 0".
        let announce = match flag {
            0 => false,
            1 => true,
            other => {
                let kind = DecodeErrorKind::InvalidValue(u64::from(other));
                return DecodeError::field(input, "announce", kind).fail();
            }
        };
        let (i, version) = named("version", le_u64(i))?;
        Ok((i, Self { announce, version }))
    }
}

/// A short transaction id (BIP 152): the low 6 bytes of a SipHash-2-4, little-endian.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ShortId(pub [u8; 6]);

impl ShortId {
    /// Encoded length in bytes.
    pub const LEN: usize = 6;

    /// Returns the id as an integer below 2^48.
    #[must_use]
    pub const fn to_u64(self) -> u64 {
        let b = self.0;
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], 0, 0])
    }

    /// Returns the id of the low 48 bits of `value` (BIP 152 drops the 2 most significant
    /// bytes).
    #[must_use]
    pub const fn from_u64(value: u64) -> Self {
        let b = value.to_le_bytes();
        Self([b[0], b[1], b[2], b[3], b[4], b[5]])
    }

    /// Returns the short id of a transaction: `id` is its txid for compact block version 1,
    /// its wtxid for version 2, in wire byte order.
    #[must_use]
    pub fn compute(keys: &ShortIdKeys, id: &[u8; 32]) -> Self {
        Self::from_u64(siphash24(keys.k0, keys.k1, id))
    }
}

impl fmt::Debug for ShortId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ShortId({:#014x})", self.to_u64())
    }
}

impl<'a> Item<'a> for ShortId {
    const FIXED_LEN: Option<usize> = Some(Self::LEN);
    const MIN_LEN: usize = Self::LEN;

    #[inline]
    fn parse_item(input: &'a [u8]) -> PResult<'a, Self> {
        let (rest, raw) = take(Self::LEN).parse(input)?;
        let mut id = [0u8; 6];
        id.copy_from_slice(raw);
        Ok((rest, Self(id)))
    }

    fn item_len(&self) -> usize {
        Self::LEN
    }

    fn encode_item<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&self.0);
    }
}

/// The SipHash-2-4 keys of a compact block's short ids (BIP 152): the first two
/// little-endian `u64`s of SHA-256(header || nonce as u64 LE).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ShortIdKeys {
    /// The first key.
    pub k0: u64,
    /// The second key.
    pub k1: u64,
}

impl ShortIdKeys {
    /// Derives the keys of the compact block with `header` and `nonce`.
    #[must_use]
    pub fn new(header: &BlockHeader, nonce: u64) -> Self {
        let h = crate::sha256d::sha256(&[&header.to_bytes(), &nonce.to_le_bytes()]);
        let [
            a0,
            a1,
            a2,
            a3,
            a4,
            a5,
            a6,
            a7,
            b0,
            b1,
            b2,
            b3,
            b4,
            b5,
            b6,
            b7,
            ..,
        ] = h;
        Self {
            k0: u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
            k1: u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]),
        }
    }
}

/// SipHash-2-4 of `data` under the key (`k0`, `k1`) (Aumasson and Bernstein, 2012).
fn siphash24(k0: u64, k1: u64, data: &[u8]) -> u64 {
    fn round(v: &mut [u64; 4]) {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
    fn compress(v: &mut [u64; 4], m: u64) {
        v[3] ^= m;
        round(v);
        round(v);
        v[0] ^= m;
    }

    let mut v = [
        k0 ^ 0x736f_6d65_7073_6575,
        k1 ^ 0x646f_7261_6e64_6f6d,
        k0 ^ 0x6c79_6765_6e65_7261,
        k1 ^ 0x7465_6462_7974_6573,
    ];
    let chunks = data.chunks_exact(8);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        compress(&mut v, u64::from_le_bytes(word));
    }
    // The last block: the remaining bytes, and the length mod 256 in the top byte.
    let mut last = (data.len() as u64) << 56;
    for (i, &b) in tail.iter().enumerate() {
        last |= u64::from(b) << (8 * i);
    }
    compress(&mut v, last);
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// A transaction sent in full inside a `cmpctblock`, with its absolute index in the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefilledTx<'a> {
    /// The transaction's index in the block (absolute; the wire carries a difference).
    pub index: u16,
    /// The transaction.
    pub tx: Tx<'a>,
}

/// Prefilled transactions: their wire bytes once decoded, or a slice to encode.
#[derive(Clone, Copy)]
enum Prefilled<'a> {
    Wire { len: usize, raw: &'a [u8] },
    Items(&'a [PrefilledTx<'a>]),
}

/// `cmpctblock`: a block as its header, short ids and a few prefilled transactions (BIP 152).
#[derive(Clone, Copy)]
pub struct CmpctBlock<'a> {
    /// The block's header.
    pub header: BlockHeader,
    /// The nonce keying the short ids ([`ShortIdKeys`]).
    pub nonce: u64,
    /// The short ids of the transactions not prefilled, in block order.
    pub short_ids: List<'a, ShortId>,
    prefilled: Prefilled<'a>,
}

impl<'a> CmpctBlock<'a> {
    /// Returns a compact block; `prefilled` holds absolute indexes, strictly increasing.
    ///
    /// # Errors
    /// [`CompactBlockError::TooManyTransactions`] above [`MAX_CMPCTBLOCK_TXS`] transactions,
    /// [`CompactBlockError::NoTransactions`] without any,
    /// [`CompactBlockError::IndexNotIncreasing`], or [`CompactBlockError::IndexOutOfRange`]
    /// for an index at or past the block's transaction count.
    pub fn new(
        header: BlockHeader,
        nonce: u64,
        short_ids: &'a [ShortId],
        prefilled: &'a [PrefilledTx<'a>],
    ) -> Result<Self, CompactBlockError> {
        let n_short = short_ids.len() as u64;
        let tx_count = n_short + prefilled.len() as u64;
        if tx_count > MAX_CMPCTBLOCK_TXS {
            return Err(CompactBlockError::TooManyTransactions {
                count: tx_count,
                limit: MAX_CMPCTBLOCK_TXS,
            });
        }
        if tx_count == 0 {
            return Err(CompactBlockError::NoTransactions);
        }
        check_increasing(prefilled.iter().map(|p| p.index))?;
        // Increasing indexes all below the count: each is at most short ids + position.
        for (position, p) in prefilled.iter().enumerate() {
            if u64::from(p.index) > n_short + position as u64 {
                return Err(CompactBlockError::IndexOutOfRange {
                    position,
                    index: p.index,
                    tx_count,
                });
            }
        }
        Ok(Self {
            header,
            nonce,
            short_ids: List::from_items(short_ids),
            prefilled: Prefilled::Items(prefilled),
        })
    }

    /// Returns the prefilled transactions with their absolute indexes, decoding on demand.
    #[must_use]
    pub fn prefilled_txs(&self) -> PrefilledTxs<'a> {
        let repr = match self.prefilled {
            Prefilled::Wire { len, raw } => PrefilledIter::Wire {
                left: len,
                rest: raw,
            },
            Prefilled::Items(items) => PrefilledIter::Items(items.iter()),
        };
        PrefilledTxs { repr, next: 0 }
    }

    /// Returns the number of prefilled transactions.
    #[must_use]
    pub const fn prefilled_len(&self) -> usize {
        match self.prefilled {
            Prefilled::Wire { len, .. } => len,
            Prefilled::Items(items) => items.len(),
        }
    }

    /// Returns the number of transactions in the block: short ids plus prefilled.
    #[must_use]
    pub const fn tx_count(&self) -> usize {
        self.short_ids.len() + self.prefilled_len()
    }

    /// Returns the block's hash.
    #[must_use]
    pub fn block_hash(&self) -> BlockHash {
        self.header.block_hash()
    }

    /// Returns the SipHash keys of this block's short ids.
    #[must_use]
    pub fn short_id_keys(&self) -> ShortIdKeys {
        ShortIdKeys::new(&self.header, self.nonce)
    }

    fn prefilled_items_len(&self) -> usize {
        match self.prefilled {
            Prefilled::Wire { raw, .. } => raw.len(),
            Prefilled::Items(items) => differences(items.iter().map(|p| p.index))
                .zip(items)
                .map(|(diff, p)| compact_size_len(diff) + p.tx.encoded_len())
                .sum(),
        }
    }
}

impl PartialEq for CmpctBlock<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.header == other.header
            && self.nonce == other.nonce
            && self.short_ids == other.short_ids
            && self.prefilled_len() == other.prefilled_len()
            && self.prefilled_txs().eq(other.prefilled_txs())
    }
}

impl Eq for CmpctBlock<'_> {}

impl fmt::Debug for CmpctBlock<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CmpctBlock")
            .field("header", &self.header)
            .field("nonce", &self.nonce)
            .field("short_ids", &self.short_ids)
            .field("prefilled_txn", &DebugIter(self.prefilled_txs()))
            .finish()
    }
}

impl Encode for CmpctBlock<'_> {
    fn encoded_len(&self) -> usize {
        BLOCK_HEADER_LEN
            + 8
            + self.short_ids.encoded_len()
            + compact_size_len(self.prefilled_len() as u64)
            + self.prefilled_items_len()
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        self.header.encode(buf);
        buf.put_u64_le(self.nonce);
        self.short_ids.encode(buf);
        put_compact_size(buf, self.prefilled_len() as u64);
        match self.prefilled {
            Prefilled::Wire { raw, .. } => buf.put_slice(raw),
            Prefilled::Items(items) => {
                for (diff, p) in differences(items.iter().map(|p| p.index)).zip(items) {
                    put_compact_size(buf, diff);
                    p.tx.encode(buf);
                }
            }
        }
    }
}

impl<'a> Payload<'a> for CmpctBlock<'a> {
    const COMMAND: Command = Command::new("cmpctblock");
    // Prefilled transactions are bounded by the frame alone.
    const MAX_LEN: u32 = limits::MAX_PROTOCOL_MESSAGE_LENGTH;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = named("header", BlockHeader::parse(input))?;
        let (i, nonce) = named("nonce", le_u64(i))?;
        let (i, short_ids) = List::<ShortId>::parse(i, "short_ids", MAX_CMPCTBLOCK_TXS)?;
        let n_short = short_ids.len() as u64;
        // Core: "indexes overflowed 16 bits" above u16::MAX transactions in all.
        let limit = MAX_CMPCTBLOCK_TXS.saturating_sub(n_short);
        let (body, n) = count(i, "prefilled_txn", limit, MIN_PREFILLED_LEN)?;
        if n == 0 && n_short == 0 {
            // Core `InitData`: a compact block without transactions is invalid.
            let kind = DecodeErrorKind::UnderMinimum { value: 0, min: 1 };
            return DecodeError::field(i, "prefilled_txn", kind).fail();
        }
        let mut rest = body;
        let mut next = 0u64;
        for position in 0..n as u64 {
            // Core `InitData`: an index past the short ids and the prefilled transactions
            // before it leaves a transaction that is neither ("invalid compact block").
            let (r, index) = parse_index(rest, next, n_short + position, "prefilled_txn.index")?;
            let (r, _tx) = named("prefilled_txn.tx", <Tx<'a> as Payload<'a>>::parse(r))?;
            next = index + 1;
            rest = r;
        }
        let raw = &body[..body.len() - rest.len()];
        Ok((
            rest,
            Self {
                header,
                nonce,
                short_ids,
                prefilled: Prefilled::Wire { len: n, raw },
            },
        ))
    }
}

#[derive(Clone, Debug)]
enum PrefilledIter<'a> {
    Wire { left: usize, rest: &'a [u8] },
    Items(core::slice::Iter<'a, PrefilledTx<'a>>),
}

/// An iterator over a [`CmpctBlock`]'s prefilled transactions, with absolute indexes.
#[derive(Clone, Debug)]
pub struct PrefilledTxs<'a> {
    repr: PrefilledIter<'a>,
    next: u64,
}

impl<'a> Iterator for PrefilledTxs<'a> {
    type Item = PrefilledTx<'a>;

    fn next(&mut self) -> Option<PrefilledTx<'a>> {
        match &mut self.repr {
            PrefilledIter::Wire { left, rest } => {
                if *left == 0 {
                    return None;
                }
                // Validated when decoded; should it fail, the iterator ends, never panics.
                let (r, index) = parse_index(rest, self.next, limits::MAX_BIP152_INDEX, "").ok()?;
                let (r, tx) = <Tx<'a> as Payload<'a>>::parse(r).ok()?;
                *rest = r;
                *left -= 1;
                self.next = index + 1;
                let index = u16::try_from(index).ok()?;
                Some(PrefilledTx { index, tx })
            }
            PrefilledIter::Items(items) => items.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.repr {
            PrefilledIter::Wire { left, .. } => *left,
            PrefilledIter::Items(items) => items.len(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for PrefilledTxs<'_> {}

/// Requested indexes: their wire bytes once decoded, or a slice to encode.
#[derive(Clone, Copy)]
enum Indexes<'a> {
    Wire { len: usize, raw: &'a [u8] },
    Items(&'a [u16]),
}

/// `getblocktxn`: asks for transactions of a compact block by index (BIP 152).
#[derive(Clone, Copy)]
pub struct GetBlockTxn<'a> {
    /// The block the transactions are in.
    pub block_hash: BlockHash,
    indexes: Indexes<'a>,
}

impl<'a> GetBlockTxn<'a> {
    /// Returns a request for the transactions at `indexes` (absolute, strictly increasing).
    ///
    /// # Errors
    /// [`CompactBlockError::IndexNotIncreasing`].
    pub fn new(block_hash: BlockHash, indexes: &'a [u16]) -> Result<Self, CompactBlockError> {
        check_increasing(indexes.iter().copied())?;
        Ok(Self {
            block_hash,
            indexes: Indexes::Items(indexes),
        })
    }

    /// Returns the requested absolute indexes, in increasing order.
    #[must_use]
    pub fn indexes(&self) -> TxIndexes<'a> {
        let repr = match self.indexes {
            Indexes::Wire { len, raw } => IndexIter::Wire {
                left: len,
                rest: raw,
            },
            Indexes::Items(items) => IndexIter::Items(items.iter()),
        };
        TxIndexes { repr, next: 0 }
    }

    /// Returns the number of requested transactions.
    #[must_use]
    pub const fn len(&self) -> usize {
        match self.indexes {
            Indexes::Wire { len, .. } => len,
            Indexes::Items(items) => items.len(),
        }
    }

    /// Returns whether no transaction is requested.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn items_len(&self) -> usize {
        match self.indexes {
            Indexes::Wire { raw, .. } => raw.len(),
            Indexes::Items(items) => differences(items.iter().copied())
                .map(compact_size_len)
                .sum(),
        }
    }
}

impl PartialEq for GetBlockTxn<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.block_hash == other.block_hash
            && self.len() == other.len()
            && self.indexes().eq(other.indexes())
    }
}

impl Eq for GetBlockTxn<'_> {}

impl fmt::Debug for GetBlockTxn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetBlockTxn")
            .field("block_hash", &self.block_hash)
            .field("indexes", &DebugIter(self.indexes()))
            .finish()
    }
}

impl Encode for GetBlockTxn<'_> {
    fn encoded_len(&self) -> usize {
        32 + compact_size_len(self.len() as u64) + self.items_len()
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&self.block_hash.0);
        put_compact_size(buf, self.len() as u64);
        match self.indexes {
            Indexes::Wire { raw, .. } => buf.put_slice(raw),
            Indexes::Items(items) => {
                for diff in differences(items.iter().copied()) {
                    put_compact_size(buf, diff);
                }
            }
        }
    }
}

impl<'a> Payload<'a> for GetBlockTxn<'a> {
    const COMMAND: Command = Command::new("getblocktxn");
    // Largest valid: all 65,536 indexes, each difference 0 (one byte); larger differences
    // cost more bytes but leave room for fewer indexes.
    const MAX_LEN: u32 = (32
        + compact_size_len(limits::MAX_BIP152_INDEX + 1)
        + (limits::MAX_BIP152_INDEX as usize + 1)) as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, block_hash) = named("block_hash", BlockHash::parse(input))?;
        let (body, n) = count(i, "indexes", limits::MAX_COMPACT_TXS, 1)?;
        let mut rest = body;
        let mut next = 0u64;
        for _ in 0..n {
            // Core: "differential value overflow" past u16::MAX.
            let (r, index) = parse_index(rest, next, limits::MAX_BIP152_INDEX, "indexes")?;
            next = index + 1;
            rest = r;
        }
        let raw = &body[..body.len() - rest.len()];
        Ok((
            rest,
            Self {
                block_hash,
                indexes: Indexes::Wire { len: n, raw },
            },
        ))
    }
}

#[derive(Clone, Debug)]
enum IndexIter<'a> {
    Wire { left: usize, rest: &'a [u8] },
    Items(core::slice::Iter<'a, u16>),
}

/// An iterator over a [`GetBlockTxn`]'s absolute indexes.
#[derive(Clone, Debug)]
pub struct TxIndexes<'a> {
    repr: IndexIter<'a>,
    next: u64,
}

impl Iterator for TxIndexes<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        match &mut self.repr {
            IndexIter::Wire { left, rest } => {
                if *left == 0 {
                    return None;
                }
                // Validated when decoded; should it fail, the iterator ends, never panics.
                let (r, index) = parse_index(rest, self.next, limits::MAX_BIP152_INDEX, "").ok()?;
                *rest = r;
                *left -= 1;
                self.next = index + 1;
                u16::try_from(index).ok()
            }
            IndexIter::Items(items) => items.next().copied(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.repr {
            IndexIter::Wire { left, .. } => *left,
            IndexIter::Items(items) => items.len(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for TxIndexes<'_> {}

/// `blocktxn`: transactions of a compact block, as asked by `getblocktxn` (BIP 152).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockTxn<'a> {
    /// The block the transactions are in.
    pub block_hash: BlockHash,
    /// The transactions, in the order requested.
    pub txs: List<'a, Tx<'a>>,
}

impl<'a> BlockTxn<'a> {
    /// Returns the message carrying `txs`.
    #[must_use]
    pub const fn new(block_hash: BlockHash, txs: &'a [Tx<'a>]) -> Self {
        Self {
            block_hash,
            txs: List::from_items(txs),
        }
    }
}

impl Encode for BlockTxn<'_> {
    fn encoded_len(&self) -> usize {
        32 + self.txs.encoded_len()
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&self.block_hash.0);
        self.txs.encode(buf);
    }
}

impl<'a> Payload<'a> for BlockTxn<'a> {
    const COMMAND: Command = Command::new("blocktxn");
    // Transactions are bounded by the frame alone.
    const MAX_LEN: u32 = limits::MAX_PROTOCOL_MESSAGE_LENGTH;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, block_hash) = named("block_hash", BlockHash::parse(input))?;
        let (i, txs) = List::parse(i, "txs", limits::MAX_BLOCK_TXS)?;
        Ok((i, Self { block_hash, txs }))
    }
}

#[cfg(any(test, feature = "proptest"))]
pub(crate) mod strategy {
    use alloc::vec::Vec;

    use proptest::collection::{btree_set, vec};
    use proptest::prelude::*;

    use super::*;
    use crate::types::block::strategy::header;
    use crate::types::tx::strategy::{TxParts, tx_parts};

    fn decode_all(raw: &[Vec<u8>]) -> Vec<Tx<'_>> {
        raw.iter()
            .map(|r| Tx::decode(r).expect("strategy builds valid txs"))
            .collect()
    }

    fn cmpctblock() -> impl Strategy<Value = Vec<u8>> {
        (
            header(),
            any::<u64>(),
            vec(any::<[u8; 6]>().prop_map(ShortId), 0..5),
            vec(tx_parts(), 0..3),
        )
            .prop_filter("a compact block has transactions", |(_, _, ids, txs)| {
                ids.len() + txs.len() > 0
            })
            .prop_flat_map(|(header, nonce, ids, txs)| {
                let total = u16::try_from(ids.len() + txs.len()).expect("a few");
                let n = txs.len();
                (
                    Just((header, nonce, ids, txs)),
                    proptest::sample::subsequence((0..total).collect::<Vec<u16>>(), n),
                )
            })
            .prop_map(
                |((header, nonce, ids, txs), indexes): ((_, _, _, Vec<TxParts>), Vec<u16>)| {
                    let raw: Vec<Vec<u8>> = txs.iter().map(TxParts::encode).collect();
                    let txs = decode_all(&raw);
                    let prefilled: Vec<PrefilledTx<'_>> = indexes
                        .iter()
                        .zip(&txs)
                        .map(|(&index, &tx)| PrefilledTx { index, tx })
                        .collect();
                    CmpctBlock::new(header, nonce, &ids, &prefilled)
                        .expect("indexes are increasing and in range")
                        .to_vec()
                },
            )
    }

    /// Canonical payloads of every BIP 152 message, built with the public constructors.
    pub(crate) fn payloads() -> BoxedStrategy<(Command, Vec<u8>)> {
        let hash = any::<[u8; 32]>().prop_map(BlockHash);
        prop_oneof![
            (any::<bool>(), any::<u64>())
                .prop_map(|(a, v)| (SendCmpct::COMMAND, SendCmpct::new(a, v).to_vec())),
            cmpctblock().prop_map(|raw| (CmpctBlock::COMMAND, raw)),
            (hash.clone(), btree_set(any::<u16>(), 0..5)).prop_map(|(h, set)| {
                let indexes: Vec<u16> = set.into_iter().collect();
                let msg = GetBlockTxn::new(h, &indexes).expect("a set is increasing");
                (GetBlockTxn::COMMAND, msg.to_vec())
            }),
            (hash, vec(tx_parts(), 0..3)).prop_map(|(h, txs)| {
                let raw: Vec<Vec<u8>> = txs.iter().map(TxParts::encode).collect();
                let txs = decode_all(&raw);
                (BlockTxn::COMMAND, BlockTxn::new(h, &txs).to_vec())
            }),
        ]
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::msg::Message;
    use crate::testutil::{GENESIS_COINBASE, GENESIS_HEADER, hex};
    use crate::types::block::Block;

    fn err<'a, T: Payload<'a> + fmt::Debug>(
        payload: &'a [u8],
    ) -> (DecodeErrorKind, Option<&'static str>, usize) {
        let e = T::decode(payload).unwrap_err();
        (e.kind, e.field, e.offset)
    }

    /// A regtest block of two segwit transactions, and its compact block (version 2,
    /// nonce 18053200567810711460, the coinbase prefilled): the vector of rust-bitcoin's
    /// `bip152.rs`, there cross-checked with the Elements implementation.
    const REGTEST_BLOCK: &str = "000000206c750a364035aefd5f81508a08769975116d9195312ee4520dceac39e1fdc62c4dc67473b8e354358c1e610afeaff7410858bd45df43e2940f8a62bd3d5e3ac943c2975cffff7f200000000002020000000001010000000000000000000000000000000000000000000000000000000000000000ffffffff04016b0101ffffffff020006062a0100000001510000000000000000266a24aa21a9ed4a3d9f3343dafcc0d6f6d4310f2ee5ce273ed34edca6c75db3a73e7f368734200120000000000000000000000000000000000000000000000000000000000000000000000000020000000001021fc20ba2bd745507b8e00679e3b362558f9457db374ca28ffa5243f4c23a4d5f00000000171600147c9dea14ffbcaec4b575e03f05ceb7a81cd3fcbffdffffff915d689be87b43337f42e26033df59807b768223368f189a023d0242d837768900000000171600147c9dea14ffbcaec4b575e03f05ceb7a81cd3fcbffdffffff0200cdf5050000000017a9146803c72d9154a6a20f404bed6d3dcee07986235a8700e1f5050000000017a9144e6a4c7cb5b5562904843bdf816342f4db9f5797870247304402205e9bf6e70eb0e4b495bf483fd8e6e02da64900f290ef8aaa64bb32600d973c450220670896f5d0e5f33473e5f399ab680cc1d25c2d2afd15abd722f04978f28be887012103e4e4d9312b2261af508b367d8ba9be4f01b61d6d6e78bec499845b4f410bcf2702473044022045ac80596a6ac9c8c572f94708709adaf106677221122e08daf8b9741a04f66a022003ccd52a3b78f8fd08058fc04fc0cffa5f4c196c84eae9e37e2a85babe731b57012103e4e4d9312b2261af508b367d8ba9be4f01b61d6d6e78bec499845b4f410bcf276a000000";
    const REGTEST_CMPCTBLOCK: &str = concat!(
        "000000206c750a364035aefd5f81508a08769975116d9195312ee4520dceac39e1fdc62c4dc67473b8e354358c1e610afeaff7410858bd45df43e2940f8a62bd3d5e3ac943c2975cffff7f2000000000",
        "a4df3c3744da89fa", // nonce
        "01",
        "0a6979e97145", // one short id
        "01",
        "00", // one prefilled transaction at index 0: the coinbase
        "020000000001010000000000000000000000000000000000000000000000000000000000000000ffffffff04016b0101ffffffff020006062a0100000001510000000000000000266a24aa21a9ed4a3d9f3343dafcc0d6f6d4310f2ee5ce273ed34edca6c75db3a73e7f368734200120000000000000000000000000000000000000000000000000000000000000000000000000"
    );

    #[test]
    fn siphash_reference_vectors() {
        // vectors_sip64 of the SipHash reference implementation: key 00..0f, message 00..(n-1).
        let k0 = 0x0706_0504_0302_0100;
        let k1 = 0x0f0e_0d0c_0b0a_0908;
        let msg: Vec<u8> = (0..15).collect();
        assert_eq!(siphash24(k0, k1, &msg[..0]), 0x726f_db47_dd0e_0e31);
        assert_eq!(siphash24(k0, k1, &msg[..1]), 0x74f8_39c5_93dc_67fd);
        assert_eq!(siphash24(k0, k1, &msg[..8]), 0x93f5_f579_9a93_2462);
        assert_eq!(siphash24(k0, k1, &msg), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn short_id_integer_form() {
        let id = ShortId([0x0a, 0x69, 0x79, 0xe9, 0x71, 0x45]);
        assert_eq!(id.to_u64(), 0x4571_e979_690a);
        assert_eq!(ShortId::from_u64(0xffff_4571_e979_690a), id);
        assert_eq!(format!("{id:?}"), "ShortId(0x4571e979690a)");
    }

    #[test]
    fn regtest_cmpctblock_vector() {
        let raw = hex(REGTEST_CMPCTBLOCK);
        let cmpct = CmpctBlock::decode(&raw).unwrap();
        assert_eq!(cmpct.nonce, 18_053_200_567_810_711_460);
        assert_eq!(cmpct.short_ids.len(), 1);
        assert_eq!(cmpct.tx_count(), 2);
        assert_eq!(cmpct.to_vec(), raw);
        assert_eq!(cmpct.encoded_len(), raw.len());

        // The same block in full: its header, coinbase, and the short id of its second
        // transaction's wtxid under the keys of (header, nonce).
        let block_raw = hex(REGTEST_BLOCK);
        let block = Block::decode(&block_raw).unwrap();
        assert_eq!(cmpct.header, block.header);
        assert_eq!(cmpct.block_hash(), block.block_hash());
        let txs: Vec<Tx<'_>> = block.txs().collect();
        let prefilled: Vec<PrefilledTx<'_>> = cmpct.prefilled_txs().collect();
        assert_eq!(
            prefilled,
            [PrefilledTx {
                index: 0,
                tx: txs[0]
            }]
        );
        let keys = cmpct.short_id_keys();
        let id = ShortId::compute(&keys, txs[1].wtxid().as_bytes());
        assert_eq!(cmpct.short_ids.get(0), Some(id));
        assert_eq!(id, ShortId([0x0a, 0x69, 0x79, 0xe9, 0x71, 0x45]));

        // Built from the block's parts, it encodes to the same bytes.
        let ids = [id];
        let built = CmpctBlock::new(block.header, cmpct.nonce, &ids, &prefilled).unwrap();
        assert_eq!(built, cmpct);
        assert_eq!(built.to_vec(), raw);
        assert_eq!(built.encoded_len(), raw.len());
    }

    #[test]
    fn genesis_cmpctblock_by_hand() {
        // Genesis header, nonce 1, two short ids, the coinbase prefilled at index 0.
        let raw = hex(&format!(
            "{GENESIS_HEADER}0100000000000000\
             02010203040506a1a2a3a4a5a6\
             0100{GENESIS_COINBASE}"
        ));
        assert_eq!(raw.len(), 80 + 8 + 1 + 12 + 1 + 1 + 204);
        let cmpct = CmpctBlock::decode(&raw).unwrap();
        assert_eq!(
            cmpct.block_hash().to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        assert_eq!(cmpct.nonce, 1);
        let ids: Vec<ShortId> = cmpct.short_ids.iter().collect();
        assert_eq!(
            ids,
            [
                ShortId([1, 2, 3, 4, 5, 6]),
                ShortId([0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6])
            ]
        );
        let coinbase_raw = hex(GENESIS_COINBASE);
        let coinbase = Tx::decode(&coinbase_raw).unwrap();
        let prefilled = [PrefilledTx {
            index: 0,
            tx: coinbase,
        }];
        assert!(cmpct.prefilled_txs().eq(prefilled));
        assert_eq!(cmpct.to_vec(), raw);
        let built = CmpctBlock::new(cmpct.header, 1, &ids, &prefilled).unwrap();
        assert_eq!(built.to_vec(), raw);
        assert_eq!(built, cmpct);
        assert_eq!(
            Message::decode(CmpctBlock::COMMAND, &raw).unwrap(),
            Message::CmpctBlock(built)
        );
    }

    #[test]
    fn prefilled_indexes_are_differential() {
        let header = BlockHeader::parse(&hex(GENESIS_HEADER)).unwrap().1;
        let coinbase_raw = hex(GENESIS_COINBASE);
        let tx = Tx::decode(&coinbase_raw).unwrap();
        let ids = alloc::vec![ShortId([9; 6]); 300];
        // Absolute [0, 2, 5] travel as [0, 1, 2]; [0, 301] as [0, 300] (0xfd 0x2c 0x01).
        for (indexes, diffs) in [
            (&[0u16, 2, 5][..], &[&[0u8][..], &[1], &[2]][..]),
            (&[0, 301], &[&[0], &[0xfd, 0x2c, 0x01]]),
        ] {
            let prefilled: Vec<PrefilledTx<'_>> = indexes
                .iter()
                .map(|&index| PrefilledTx { index, tx })
                .collect();
            let cmpct = CmpctBlock::new(header, 7, &ids, &prefilled).unwrap();
            let raw = cmpct.to_vec();
            assert_eq!(raw.len(), cmpct.encoded_len());
            let mut expected = Vec::new();
            expected.extend_from_slice(&header.to_bytes());
            expected.extend_from_slice(&7u64.to_le_bytes());
            expected.extend_from_slice(&[0xfd, 0x2c, 0x01]);
            expected.extend(core::iter::repeat_n(9u8, 1_800));
            expected.push(u8::try_from(indexes.len()).unwrap());
            for diff in diffs {
                expected.extend_from_slice(diff);
                expected.extend_from_slice(&coinbase_raw);
            }
            assert_eq!(raw, expected);
            let back = CmpctBlock::decode(&raw).unwrap();
            let got: Vec<u16> = back.prefilled_txs().map(|p| p.index).collect();
            assert_eq!(got, indexes);
            assert_eq!(back, cmpct);
            assert_eq!(back.to_vec(), raw);
        }
    }

    #[test]
    fn cmpctblock_constructor_errors() {
        let header = BlockHeader::parse(&hex(GENESIS_HEADER)).unwrap().1;
        let coinbase_raw = hex(GENESIS_COINBASE);
        let tx = Tx::decode(&coinbase_raw).unwrap();
        let at = |index| PrefilledTx { index, tx };
        let ids = [ShortId::default(); 2];
        assert_eq!(
            CmpctBlock::new(header, 0, &[], &[]),
            Err(CompactBlockError::NoTransactions)
        );
        assert_eq!(
            CmpctBlock::new(header, 0, &ids, &[at(1), at(1)]),
            Err(CompactBlockError::IndexNotIncreasing {
                position: 1,
                index: 1,
                previous: 1
            })
        );
        assert_eq!(
            CmpctBlock::new(header, 0, &ids, &[at(3), at(2)]),
            Err(CompactBlockError::IndexNotIncreasing {
                position: 1,
                index: 2,
                previous: 3
            })
        );
        // Three transactions: indexes 0..=2 only.
        assert_eq!(
            CmpctBlock::new(header, 0, &ids, &[at(3)]),
            Err(CompactBlockError::IndexOutOfRange {
                position: 0,
                index: 3,
                tx_count: 3
            })
        );
        assert!(CmpctBlock::new(header, 0, &ids, &[at(2)]).is_ok());
        let many = alloc::vec![ShortId::default(); 65_535];
        assert_eq!(
            CmpctBlock::new(header, 0, &many, &[at(0)]),
            Err(CompactBlockError::TooManyTransactions {
                count: 65_536,
                limit: 65_535
            })
        );
        let cmpct = CmpctBlock::new(header, 0, &many, &[]).unwrap();
        assert_eq!(
            CmpctBlock::decode(&cmpct.to_vec()).unwrap().tx_count(),
            65_535
        );
    }

    /// Genesis header, nonce 0, then `rest`.
    fn cmpct_with(rest: &[u8]) -> Vec<u8> {
        let mut raw = hex(GENESIS_HEADER);
        raw.extend_from_slice(&[0; 8]);
        raw.extend_from_slice(rest);
        raw
    }

    #[test]
    fn cmpctblock_malformed() {
        use DecodeErrorKind::*;
        // A cut header is reported at its start: it is read as one 80-byte field.
        assert_eq!(err::<CmpctBlock>(&[0; 79]), (Truncated, Some("header"), 0));
        assert_eq!(err::<CmpctBlock>(&[0; 84]), (Truncated, Some("nonce"), 80));
        assert_eq!(
            err::<CmpctBlock>(&cmpct_with(&[])),
            (Truncated, Some("short_ids"), 88)
        );
        // Short ids: over the limit, over the bytes remaining, non-minimal count.
        assert_eq!(
            err::<CmpctBlock>(&cmpct_with(&[0xfe, 0, 0, 1, 0])),
            (
                OverLimit {
                    value: 65_536,
                    limit: 65_535
                },
                Some("short_ids"),
                88
            )
        );
        assert_eq!(
            err::<CmpctBlock>(&cmpct_with(&[2, 1, 2, 3, 4, 5, 6, 0])),
            (
                CountOverRemaining {
                    count: 2,
                    needed: 12,
                    remaining: 7
                },
                Some("short_ids"),
                88
            )
        );
        assert_eq!(
            err::<CmpctBlock>(&cmpct_with(&[0xfd, 1, 0])),
            (NonMinimalCompactSize(1), Some("short_ids"), 88)
        );
        // No transaction at all.
        assert_eq!(
            err::<CmpctBlock>(&cmpct_with(&[0, 0])),
            (UnderMinimum { value: 0, min: 1 }, Some("prefilled_txn"), 89)
        );
        // Prefilled: truncated count, count over remaining, non-minimal count.
        assert_eq!(
            err::<CmpctBlock>(&cmpct_with(&[0])),
            (Truncated, Some("prefilled_txn"), 89)
        );
        assert_eq!(
            err::<CmpctBlock>(&cmpct_with(&[0, 1, 0, 0, 0])),
            (
                CountOverRemaining {
                    count: 1,
                    needed: 11,
                    remaining: 3
                },
                Some("prefilled_txn"),
                89
            )
        );
        assert_eq!(
            err::<CmpctBlock>(&cmpct_with(&[0, 0xfd, 0, 0])),
            (NonMinimalCompactSize(0), Some("prefilled_txn"), 89)
        );
        // A prefilled index past the block: with no short ids, the first must be 0.
        let coinbase = hex(GENESIS_COINBASE);
        let mut rest = Vec::from([0u8, 1, 1]);
        rest.extend_from_slice(&coinbase);
        assert_eq!(
            err::<CmpctBlock>(&cmpct_with(&rest)),
            (
                OverLimit { value: 1, limit: 0 },
                Some("prefilled_txn.index"),
                90
            )
        );
        // Non-minimal index difference.
        let mut rest = Vec::from([0u8, 1, 0xfd, 0, 0]);
        rest.extend_from_slice(&coinbase);
        assert_eq!(
            err::<CmpctBlock>(&cmpct_with(&rest)),
            (NonMinimalCompactSize(0), Some("prefilled_txn.index"), 90)
        );
        // Second prefilled transaction truncated: its lock time is cut (the error names
        // the innermost field).
        let mut rest = Vec::from([0u8, 2, 0]);
        rest.extend_from_slice(&coinbase);
        rest.push(0);
        rest.extend_from_slice(&coinbase[..coinbase.len() - 1]);
        let raw = cmpct_with(&rest);
        assert_eq!(
            err::<CmpctBlock>(&raw),
            (Truncated, Some("lock_time"), raw.len() - 3)
        );
        // Trailing bytes.
        let mut rest = Vec::from([0u8, 1, 0]);
        rest.extend_from_slice(&coinbase);
        rest.push(0xee);
        let raw = cmpct_with(&rest);
        assert_eq!(
            err::<CmpctBlock>(&raw),
            (TrailingBytes(1), None, raw.len() - 1)
        );
    }

    #[test]
    fn cmpctblock_total_over_limit() {
        // 65,535 short ids leave no room for a prefilled transaction.
        let mut rest = Vec::from([0xfd, 0xff, 0xff]);
        rest.extend(core::iter::repeat_n(0u8, 65_535 * 6));
        rest.extend_from_slice(&[1, 0]);
        rest.extend_from_slice(&hex(GENESIS_COINBASE));
        let raw = cmpct_with(&rest);
        assert_eq!(
            err::<CmpctBlock>(&raw),
            (
                DecodeErrorKind::OverLimit { value: 1, limit: 0 },
                Some("prefilled_txn"),
                88 + 3 + 65_535 * 6
            )
        );
    }

    #[test]
    fn sendcmpct() {
        let raw = [1, 2, 0, 0, 0, 0, 0, 0, 0];
        let msg = SendCmpct::decode(&raw).unwrap();
        assert_eq!(msg, SendCmpct::new(true, SendCmpct::VERSION_2));
        assert_eq!(msg.to_vec(), raw);
        assert_eq!(msg.encoded_len(), SendCmpct::MAX_LEN as usize);
        let raw = [0, 1, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            SendCmpct::decode(&raw).unwrap(),
            SendCmpct::new(false, SendCmpct::VERSION_1)
        );
        // Any version decodes (BIP 152 says to ignore unknown ones), only 0/1 as the bool.
        let raw = [0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(SendCmpct::decode(&raw).unwrap().version, u64::MAX);
        assert_eq!(
            err::<SendCmpct>(&[2, 1, 0, 0, 0, 0, 0, 0, 0]),
            (DecodeErrorKind::InvalidValue(2), Some("announce"), 0)
        );
        assert_eq!(
            err::<SendCmpct>(&[]),
            (DecodeErrorKind::Truncated, Some("announce"), 0)
        );
        assert_eq!(
            err::<SendCmpct>(&[1, 1, 0, 0, 0, 0, 0, 0]),
            (DecodeErrorKind::Truncated, Some("version"), 1)
        );
        assert_eq!(
            err::<SendCmpct>(&[1, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
            (DecodeErrorKind::TrailingBytes(1), None, 9)
        );
    }

    #[test]
    fn getblocktxn_differential_vectors() {
        // (differences on the wire, count first; absolute indexes)
        let cases: [(&[u8], &[u16]); 6] = [
            (&[4, 0, 5, 1, 10], &[0, 6, 8, 19]),
            (&[1, 0], &[0]),
            (&[5, 0, 0, 0, 0, 0], &[0, 1, 2, 3, 4]),
            (&[3, 1, 1, 1], &[1, 3, 5]),
            (&[3, 0, 0, 0xfd, 0, 1], &[0, 1, 258]),
            (&[2, 0xfd, 0xfe, 0xff, 0], &[65_534, 65_535]),
        ];
        let hash = BlockHash([0x42; 32]);
        for (diffs, indexes) in cases {
            let mut raw = Vec::from(hash.0);
            raw.extend_from_slice(diffs);
            let msg = GetBlockTxn::decode(&raw).unwrap();
            assert_eq!(msg.indexes().collect::<Vec<_>>(), indexes);
            assert_eq!(msg.len(), indexes.len());
            assert_eq!(msg.to_vec(), raw);
            let built = GetBlockTxn::new(hash, indexes).unwrap();
            assert_eq!(built.to_vec(), raw);
            assert_eq!(built.encoded_len(), raw.len());
            assert_eq!(built, msg);
        }
        let empty = GetBlockTxn::new(hash, &[]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.to_vec().len(), 33);
    }

    #[test]
    fn getblocktxn_malformed() {
        use DecodeErrorKind::*;
        let with = |rest: &[u8]| {
            let mut raw = alloc::vec![0u8; 32];
            raw.extend_from_slice(rest);
            raw
        };
        assert_eq!(
            err::<GetBlockTxn>(&[0; 31]),
            (Truncated, Some("block_hash"), 0)
        );
        assert_eq!(
            err::<GetBlockTxn>(&with(&[])),
            (Truncated, Some("indexes"), 32)
        );
        // Second index 65,536 overflows 16 bits.
        assert_eq!(
            err::<GetBlockTxn>(&with(&[2, 0xfd, 0xff, 0xff, 0])),
            (
                OverLimit {
                    value: 65_536,
                    limit: 65_535
                },
                Some("indexes"),
                36
            )
        );
        // A difference of u64::MAX saturates rather than wrapping.
        assert_eq!(
            err::<GetBlockTxn>(&with(&[
                2, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
            ])),
            (
                OverLimit {
                    value: u64::MAX,
                    limit: 65_535
                },
                Some("indexes"),
                34
            )
        );
        assert_eq!(
            err::<GetBlockTxn>(&with(&[0xfe, 0xa1, 0x86, 0x01, 0x00])),
            (
                OverLimit {
                    value: 100_001,
                    limit: limits::MAX_COMPACT_TXS
                },
                Some("indexes"),
                32
            )
        );
        assert_eq!(
            err::<GetBlockTxn>(&with(&[3, 0, 0])),
            (
                CountOverRemaining {
                    count: 3,
                    needed: 3,
                    remaining: 2
                },
                Some("indexes"),
                32
            )
        );
        assert_eq!(
            err::<GetBlockTxn>(&with(&[2, 0, 0xfd])),
            (Truncated, Some("indexes"), 35)
        );
        assert_eq!(
            err::<GetBlockTxn>(&with(&[1, 0xfd, 0x05, 0x00, 0])),
            (NonMinimalCompactSize(5), Some("indexes"), 33)
        );
        assert_eq!(
            err::<GetBlockTxn>(&with(&[0xfd, 0x01, 0x00, 0])),
            (NonMinimalCompactSize(1), Some("indexes"), 32)
        );
        assert_eq!(
            err::<GetBlockTxn>(&with(&[1, 0, 0])),
            (TrailingBytes(1), None, 34)
        );
        assert_eq!(
            GetBlockTxn::new(BlockHash::ZERO, &[1, 5, 5]),
            Err(CompactBlockError::IndexNotIncreasing {
                position: 2,
                index: 5,
                previous: 5
            })
        );
    }

    #[test]
    fn blocktxn() {
        let hash = BlockHash([0x42; 32]);
        let coinbase_raw = hex(GENESIS_COINBASE);
        let mut raw = Vec::from(hash.0);
        raw.push(1);
        raw.extend_from_slice(&coinbase_raw);
        let msg = BlockTxn::decode(&raw).unwrap();
        assert_eq!(msg.block_hash, hash);
        assert_eq!(msg.txs.len(), 1);
        let tx = msg.txs.get(0).unwrap();
        assert!(tx.is_coinbase());
        assert_eq!(msg.to_vec(), raw);
        let txs = [Tx::decode(&coinbase_raw).unwrap()];
        assert_eq!(BlockTxn::new(hash, &txs), msg);
        assert_eq!(BlockTxn::new(hash, &txs).to_vec(), raw);

        use DecodeErrorKind::*;
        assert_eq!(
            err::<BlockTxn>(&raw[..20]),
            (Truncated, Some("block_hash"), 0)
        );
        assert_eq!(err::<BlockTxn>(&raw[..32]), (Truncated, Some("txs"), 32));
        assert_eq!(
            err::<BlockTxn>(&raw[..raw.len() - 1]),
            (Truncated, Some("lock_time"), raw.len() - 4)
        );
        let mut long = raw.clone();
        long.push(0);
        assert_eq!(err::<BlockTxn>(&long), (TrailingBytes(1), None, raw.len()));
        let mut two = raw.clone();
        two[32] = 2;
        // Two transactions claimed, one present: the second runs short at its version.
        assert_eq!(
            err::<BlockTxn>(&two),
            (Truncated, Some("version"), raw.len())
        );
        let mut bad = Vec::from(hash.0);
        bad.extend_from_slice(&[0xfe, 0x41, 0x0d, 0x03, 0x00]);
        assert_eq!(
            err::<BlockTxn>(&bad),
            (
                OverLimit {
                    value: 200_001,
                    limit: limits::MAX_BLOCK_TXS
                },
                Some("txs"),
                32
            )
        );
        let mut bad = Vec::from(hash.0);
        bad.extend_from_slice(&[2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            err::<BlockTxn>(&bad),
            (
                CountOverRemaining {
                    count: 2,
                    needed: 20,
                    remaining: 12
                },
                Some("txs"),
                32
            )
        );
        let mut bad = Vec::from(hash.0);
        bad.extend_from_slice(&[0xfd, 0x00, 0x00]);
        assert_eq!(
            err::<BlockTxn>(&bad),
            (NonMinimalCompactSize(0), Some("txs"), 32)
        );
    }

    #[test]
    fn max_lens_are_exact() {
        assert_eq!(SendCmpct::MAX_LEN, 9);
        assert_eq!(CmpctBlock::MAX_LEN, limits::MAX_PROTOCOL_MESSAGE_LENGTH);
        assert_eq!(BlockTxn::MAX_LEN, limits::MAX_PROTOCOL_MESSAGE_LENGTH);
        // Every index 0..=65535, each a one-byte difference.
        let all: Vec<u16> = (0..=u16::MAX).collect();
        let raw = GetBlockTxn::new(BlockHash::ZERO, &all).unwrap().to_vec();
        assert_eq!(raw.len(), GetBlockTxn::MAX_LEN as usize);
        assert_eq!(raw.len(), 32 + 5 + 65_536);
        let back = GetBlockTxn::decode(&raw).unwrap();
        assert_eq!(back.len(), 65_536);
        assert_eq!(back.indexes().last(), Some(u16::MAX));
    }

    proptest! {
        /// Every BIP 152 payload decodes and encodes to the same bytes, within its limit.
        #[test]
        fn roundtrip((command, payload) in strategy::payloads()) {
            let msg = Message::decode(command, &payload).unwrap();
            prop_assert_eq!(msg.command(), command);
            prop_assert!(!matches!(msg, Message::Unknown { .. }), "{} unknown", command);
            prop_assert_eq!(msg.to_vec(), payload.clone());
            prop_assert_eq!(msg.encoded_len(), payload.len());
            prop_assert!(payload.len() <= crate::msg::max_payload_len(command) as usize);
        }

        /// Decoded compact blocks and requests iterate the indexes they were built from.
        #[test]
        fn indexes_roundtrip(set in proptest::collection::btree_set(any::<u16>(), 0..40)) {
            let indexes: Vec<u16> = set.into_iter().collect();
            let raw = GetBlockTxn::new(BlockHash::ZERO, &indexes).unwrap().to_vec();
            let back = GetBlockTxn::decode(&raw).unwrap();
            prop_assert_eq!(back.indexes().collect::<Vec<_>>(), indexes);
        }

        /// No input makes a parser panic, and what decodes re-encodes to the same bytes.
        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut cmpct = hex(GENESIS_HEADER);
            cmpct.extend_from_slice(&[0; 8]);
            cmpct.extend_from_slice(&bytes);
            let mut hashed = alloc::vec![0u8; 32];
            hashed.extend_from_slice(&bytes);
            for (command, payload) in [
                (SendCmpct::COMMAND, &bytes),
                (CmpctBlock::COMMAND, &cmpct),
                (GetBlockTxn::COMMAND, &hashed),
                (BlockTxn::COMMAND, &hashed),
            ] {
                if let Ok(msg) = Message::decode(command, payload) {
                    prop_assert_eq!(&msg.to_vec(), payload);
                }
            }
        }
    }
}
