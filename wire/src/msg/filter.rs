//! Compact block filter messages (BIP 157): `getcfilters`, `cfilter`, `getcfheaders`,
//! `cfheaders`, `getcfcheckpt`, `cfcheckpt`.
//!
//! Light clients ask full nodes for BIP 158 block filters, for the hashes that chain them into
//! filter headers, and for evenly spaced filter header checkpoints. Bitcoin Core serves them
//! since 0.21 (`net_processing.cpp`, `ProcessGetCFilters` and friends).
//!
//! | message        | field                    | size       | notes                                  |
//! |----------------|--------------------------|------------|----------------------------------------|
//! | `getcfilters`  | `filter_type`            | 1          | [`FilterType`], open set               |
//! |                | `start_height`           | 4          | u32 LE                                 |
//! |                | `stop_hash`              | 32         | last block of the range                |
//! | `cfilter`      | `filter_type`            | 1          |                                        |
//! |                | `block_hash`             | 32         |                                        |
//! |                | `filter`                 | var        | CompactSize length, then the filter    |
//! | `getcfheaders` | `filter_type`            | 1          |                                        |
//! |                | `start_height`           | 4          | u32 LE                                 |
//! |                | `stop_hash`              | 32         |                                        |
//! | `cfheaders`    | `filter_type`            | 1          |                                        |
//! |                | `stop_hash`              | 32         |                                        |
//! |                | `previous_filter_header` | 32         | header before the first block          |
//! |                | `filter_hashes`          | var        | CompactSize count (at most 2,000), 32 each |
//! | `getcfcheckpt` | `filter_type`            | 1          |                                        |
//! |                | `stop_hash`              | 32         |                                        |
//! | `cfcheckpt`    | `filter_type`            | 1          |                                        |
//! |                | `stop_hash`              | 32         |                                        |
//! |                | `filter_headers`         | var        | CompactSize count, 32 each             |
//!
//! ## Ranges
//!
//! BIP 157 limits the block range of `getcfilters` to 1,000 blocks and that of `getcfheaders`
//! to 2,000 (the height of `stop_hash` minus `start_height` must be strictly less than the
//! limit). The codec cannot know the height of `stop_hash`, so it decodes any range; a
//! caller that has looked the hash up checks the request with [`GetCFilters::check_range`]
//! or [`GetCFHeaders::check_range`]. The number of hashes in `cfheaders` is on the wire and
//! is checked when decoding.
//!
//! ## Filter headers
//!
//! A filter header commits to the filter and to the previous header (BIP 157):
//! `header = SHA-256d(SHA-256d(filter) || previous header)`, the header before the genesis
//! block being all zeros. [`CFilter::filter_hash`], [`filter_header`] and
//! [`CFHeaders::filter_headers`] compute the chain.
//!
//! ```
//! use btcwire::msg::{CFHeaders, CFilter, FilterType, filter_header};
//! use btcwire::types::{BlockHash, FilterHash};
//! use btcwire::{Encode, Payload};
//!
//! // The basic filter of testnet's genesis block (BIP 158 test vectors).
//! let genesis: BlockHash =
//!     "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943".parse()?;
//! let cfilter = CFilter::new(FilterType::BASIC, genesis, &[0x01, 0x9d, 0xfc, 0xa8]);
//! let header = cfilter.filter_header(FilterHash::ZERO);
//! assert_eq!(
//!     header.to_string(),
//!     "21584579b7eb08997773e5aeff3a7f932700042d0ed2a6129012b7d7ae81b750"
//! );
//!
//! // A `cfheaders` for that one block chains to the same header.
//! let hashes = [cfilter.filter_hash()];
//! let payload = CFHeaders::new(FilterType::BASIC, genesis, FilterHash::ZERO, &hashes).to_vec();
//! let cfheaders = CFHeaders::decode(&payload)?;
//! assert!(cfheaders.filter_headers().eq([header]));
//! assert_eq!(filter_header(hashes[0], FilterHash::ZERO), header);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use core::fmt;

use bytes::BufMut;
use nom::number::complete::{le_u8, le_u32};

use crate::header::Command;
use crate::msg::Payload;
use crate::sha256d::Sha256d;
use crate::types::hash::{BlockHash, FilterHash};
use crate::types::list::List;
use crate::varint::{compact_size_len, named, put_var_bytes, var_bytes, var_bytes_len};
use crate::{Encode, PResult, limits};

const fn min_u32(a: u64, b: u32) -> u32 {
    if a < b as u64 { a as u32 } else { b }
}

/// A compact filter type (BIP 158). An open set: unknown types are kept, not rejected.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct FilterType(pub u8);

impl FilterType {
    /// The basic filter (BIP 158): output scripts and spent output scripts.
    pub const BASIC: Self = Self(0);

    /// Returns the type's name, if it is a known one.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        match self {
            Self::BASIC => Some("BASIC"),
            _ => None,
        }
    }

    fn parse(input: &[u8]) -> PResult<'_, Self> {
        named("filter_type", le_u8(input)).map(|(i, t)| (i, Self(t)))
    }
}

impl fmt::Debug for FilterType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "FilterType({} {name})", self.0),
            None => write!(f, "FilterType({})", self.0),
        }
    }
}

/// Returns the filter header of a block: SHA-256d(`filter_hash` || `prev_header`) (BIP 157).
///
/// The header before the genesis block is [`FilterHash::ZERO`].
#[must_use]
pub fn filter_header(filter_hash: FilterHash, prev_header: FilterHash) -> FilterHash {
    let mut h = Sha256d::new();
    h.update(&filter_hash.0);
    h.update(&prev_header.0);
    FilterHash(h.finalize())
}

/// A block range that a `getcfilters` or `getcfheaders` request may not ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RangeError {
    /// The stop block is below the start height.
    #[error("stop height {stop_height} is below start height {start_height}")]
    StopBeforeStart {
        /// The request's `start_height`.
        start_height: u32,
        /// The height of the request's `stop_hash`.
        stop_height: u32,
    },
    /// The range holds more blocks than the message allows.
    #[error("range of {blocks} blocks is over the limit {limit}")]
    TooManyBlocks {
        /// Blocks in the range, both ends included.
        blocks: u64,
        /// The most blocks allowed.
        limit: u64,
    },
}

/// Checks a `start_height ..= stop_height` range against `limit` blocks.
fn check_range(start_height: u32, stop_height: u32, limit: u64) -> Result<(), RangeError> {
    if stop_height < start_height {
        return Err(RangeError::StopBeforeStart {
            start_height,
            stop_height,
        });
    }
    let blocks = u64::from(stop_height - start_height) + 1;
    if blocks > limit {
        return Err(RangeError::TooManyBlocks { blocks, limit });
    }
    Ok(())
}

/// Reads `filter_type`, `start_height`, `stop_hash`.
fn parse_range(input: &[u8]) -> PResult<'_, (FilterType, u32, BlockHash)> {
    let (i, filter_type) = FilterType::parse(input)?;
    let (i, start_height) = named("start_height", le_u32(i))?;
    let (i, stop_hash) = named("stop_hash", BlockHash::parse(i))?;
    Ok((i, (filter_type, start_height, stop_hash)))
}

/// `getcfilters`: asks for the filters of a range of blocks (BIP 157).
///
/// The range runs from `start_height` to the block `stop_hash`, at most
/// [`limits::MAX_GETCFILTERS_SIZE`] blocks; since the codec cannot know the height of
/// `stop_hash`, a node that does checks it with [`GetCFilters::check_range`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GetCFilters {
    /// The filter type requested.
    pub filter_type: FilterType,
    /// The height of the first block of the range.
    pub start_height: u32,
    /// The hash of the last block of the range.
    pub stop_hash: BlockHash,
}

impl GetCFilters {
    /// Returns a request for the filters of `start_height ..= height(stop_hash)`.
    #[must_use]
    pub const fn new(filter_type: FilterType, start_height: u32, stop_hash: BlockHash) -> Self {
        Self {
            filter_type,
            start_height,
            stop_hash,
        }
    }

    /// Checks the range against BIP 157, given the height of `stop_hash` (which the caller
    /// looked up): it must not end below `start_height` and may hold at most
    /// [`limits::MAX_GETCFILTERS_SIZE`] blocks.
    ///
    /// # Errors
    /// [`RangeError::StopBeforeStart`] or [`RangeError::TooManyBlocks`].
    pub fn check_range(&self, stop_height: u32) -> Result<(), RangeError> {
        check_range(
            self.start_height,
            stop_height,
            u64::from(limits::MAX_GETCFILTERS_SIZE),
        )
    }
}

impl Encode for GetCFilters {
    fn encoded_len(&self) -> usize {
        37
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(self.filter_type.0);
        buf.put_u32_le(self.start_height);
        buf.put_slice(&self.stop_hash.0);
    }
}

impl<'a> Payload<'a> for GetCFilters {
    const COMMAND: Command = Command::new("getcfilters");
    const MAX_LEN: u32 = 37;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, (filter_type, start_height, stop_hash)) = parse_range(input)?;
        Ok((i, Self::new(filter_type, start_height, stop_hash)))
    }
}

/// `cfilter`: the filter of one block (BIP 157), borrowed from the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CFilter<'a> {
    /// The filter's type.
    pub filter_type: FilterType,
    /// The block the filter belongs to.
    pub block_hash: BlockHash,
    /// The serialized filter (for [`FilterType::BASIC`], a BIP 158 Golomb-coded set).
    pub filter: &'a [u8],
}

impl<'a> CFilter<'a> {
    /// Returns the message carrying `filter` for the block `block_hash`.
    ///
    /// A filter longer than fits in [`limits::MAX_PROTOCOL_MESSAGE_LENGTH`] cannot be sent.
    #[must_use]
    pub const fn new(filter_type: FilterType, block_hash: BlockHash, filter: &'a [u8]) -> Self {
        Self {
            filter_type,
            block_hash,
            filter,
        }
    }

    /// Returns the filter hash: SHA-256d of the serialized filter (BIP 157).
    #[must_use]
    pub fn filter_hash(&self) -> FilterHash {
        FilterHash(Sha256d::hash(self.filter))
    }

    /// Returns the block's filter header, given the previous block's (BIP 157).
    #[must_use]
    pub fn filter_header(&self, prev_header: FilterHash) -> FilterHash {
        filter_header(self.filter_hash(), prev_header)
    }
}

impl Encode for CFilter<'_> {
    fn encoded_len(&self) -> usize {
        1 + 32 + var_bytes_len(self.filter.len())
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(self.filter_type.0);
        buf.put_slice(&self.block_hash.0);
        put_var_bytes(buf, self.filter);
    }
}

impl<'a> Payload<'a> for CFilter<'a> {
    const COMMAND: Command = Command::new("cfilter");
    // The filter is bounded by the frame: the largest valid payload is the frame limit.
    const MAX_LEN: u32 = min_u32(
        (1 + 32 + var_bytes_len(limits::MAX_CFILTER_LEN as usize)) as u64,
        limits::MAX_PROTOCOL_MESSAGE_LENGTH,
    );

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, filter_type) = FilterType::parse(input)?;
        let (i, block_hash) = named("block_hash", BlockHash::parse(i))?;
        let (i, filter) = named("filter", var_bytes(i, "filter", limits::MAX_CFILTER_LEN))?;
        Ok((i, Self::new(filter_type, block_hash, filter)))
    }
}

/// `getcfheaders`: asks for the filter hashes of a range of blocks (BIP 157).
///
/// The range runs from `start_height` to the block `stop_hash`, at most
/// [`limits::MAX_GETCFHEADERS_SIZE`] blocks; since the codec cannot know the height of
/// `stop_hash`, a node that does checks it with [`GetCFHeaders::check_range`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GetCFHeaders {
    /// The filter type requested.
    pub filter_type: FilterType,
    /// The height of the first block of the range.
    pub start_height: u32,
    /// The hash of the last block of the range.
    pub stop_hash: BlockHash,
}

impl GetCFHeaders {
    /// Returns a request for the filter hashes of `start_height ..= height(stop_hash)`.
    #[must_use]
    pub const fn new(filter_type: FilterType, start_height: u32, stop_hash: BlockHash) -> Self {
        Self {
            filter_type,
            start_height,
            stop_hash,
        }
    }

    /// Checks the range against BIP 157, given the height of `stop_hash` (which the caller
    /// looked up): it must not end below `start_height` and may hold at most
    /// [`limits::MAX_GETCFHEADERS_SIZE`] blocks.
    ///
    /// # Errors
    /// [`RangeError::StopBeforeStart`] or [`RangeError::TooManyBlocks`].
    pub fn check_range(&self, stop_height: u32) -> Result<(), RangeError> {
        check_range(
            self.start_height,
            stop_height,
            limits::MAX_GETCFHEADERS_SIZE,
        )
    }
}

impl Encode for GetCFHeaders {
    fn encoded_len(&self) -> usize {
        37
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(self.filter_type.0);
        buf.put_u32_le(self.start_height);
        buf.put_slice(&self.stop_hash.0);
    }
}

impl<'a> Payload<'a> for GetCFHeaders {
    const COMMAND: Command = Command::new("getcfheaders");
    const MAX_LEN: u32 = 37;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, (filter_type, start_height, stop_hash)) = parse_range(input)?;
        Ok((i, Self::new(filter_type, start_height, stop_hash)))
    }
}

/// `cfheaders`: the filter hashes of a range of blocks and the filter header before it
/// (BIP 157); at most [`limits::MAX_GETCFHEADERS_SIZE`] hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CFHeaders<'a> {
    /// The filter type.
    pub filter_type: FilterType,
    /// The hash of the last block of the range.
    pub stop_hash: BlockHash,
    /// The filter header of the block before the range.
    pub previous_filter_header: FilterHash,
    /// The filter hash of each block of the range, in ascending height.
    pub filter_hashes: List<'a, FilterHash>,
}

impl<'a> CFHeaders<'a> {
    /// Returns the message carrying `filter_hashes` (at most
    /// [`limits::MAX_GETCFHEADERS_SIZE`], or the peer cannot decode it).
    #[must_use]
    pub const fn new(
        filter_type: FilterType,
        stop_hash: BlockHash,
        previous_filter_header: FilterHash,
        filter_hashes: &'a [FilterHash],
    ) -> Self {
        Self {
            filter_type,
            stop_hash,
            previous_filter_header,
            filter_hashes: List::from_items(filter_hashes),
        }
    }

    /// Returns the filter header of each block of the range, chained from
    /// `previous_filter_header` with [`filter_header`]; the last is the header of
    /// `stop_hash`.
    pub fn filter_headers(&self) -> impl Iterator<Item = FilterHash> + 'a {
        let mut prev = self.previous_filter_header;
        self.filter_hashes.iter().map(move |hash| {
            prev = filter_header(hash, prev);
            prev
        })
    }
}

impl Encode for CFHeaders<'_> {
    fn encoded_len(&self) -> usize {
        1 + 32 + 32 + self.filter_hashes.encoded_len()
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(self.filter_type.0);
        buf.put_slice(&self.stop_hash.0);
        buf.put_slice(&self.previous_filter_header.0);
        self.filter_hashes.encode(buf);
    }
}

impl<'a> Payload<'a> for CFHeaders<'a> {
    const COMMAND: Command = Command::new("cfheaders");
    const MAX_LEN: u32 = (1
        + 32
        + 32
        + compact_size_len(limits::MAX_GETCFHEADERS_SIZE)
        + 32 * limits::MAX_GETCFHEADERS_SIZE as usize) as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, filter_type) = FilterType::parse(input)?;
        let (i, stop_hash) = named("stop_hash", BlockHash::parse(i))?;
        let (i, previous_filter_header) = named("previous_filter_header", FilterHash::parse(i))?;
        // BIP 157: "FilterHashesLength MUST NOT be greater than 2,000".
        let (i, filter_hashes) = List::parse(i, "filter_hashes", limits::MAX_GETCFHEADERS_SIZE)?;
        Ok((
            i,
            Self {
                filter_type,
                stop_hash,
                previous_filter_header,
                filter_hashes,
            },
        ))
    }
}

/// `getcfcheckpt`: asks for the filter headers at every 1,000th block up to `stop_hash`
/// (BIP 157).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GetCFCheckpt {
    /// The filter type requested.
    pub filter_type: FilterType,
    /// The hash of the last block of the chain.
    pub stop_hash: BlockHash,
}

impl GetCFCheckpt {
    /// Returns a request for the checkpoints of the chain ending at `stop_hash`.
    #[must_use]
    pub const fn new(filter_type: FilterType, stop_hash: BlockHash) -> Self {
        Self {
            filter_type,
            stop_hash,
        }
    }
}

impl Encode for GetCFCheckpt {
    fn encoded_len(&self) -> usize {
        33
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(self.filter_type.0);
        buf.put_slice(&self.stop_hash.0);
    }
}

impl<'a> Payload<'a> for GetCFCheckpt {
    const COMMAND: Command = Command::new("getcfcheckpt");
    const MAX_LEN: u32 = 33;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, filter_type) = FilterType::parse(input)?;
        let (i, stop_hash) = named("stop_hash", BlockHash::parse(i))?;
        Ok((i, Self::new(filter_type, stop_hash)))
    }
}

/// `cfcheckpt`: the filter headers at heights 1,000, 2,000, ... up to `stop_hash` (BIP 157);
/// at most [`limits::MAX_CFCHECKPT_HEADERS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CFCheckpt<'a> {
    /// The filter type.
    pub filter_type: FilterType,
    /// The hash of the last block of the chain.
    pub stop_hash: BlockHash,
    /// The filter header of every block whose height is a positive multiple of 1,000.
    pub filter_headers: List<'a, FilterHash>,
}

impl<'a> CFCheckpt<'a> {
    /// Returns the message carrying `filter_headers` (at most
    /// [`limits::MAX_CFCHECKPT_HEADERS`], or the peer cannot decode it).
    #[must_use]
    pub const fn new(
        filter_type: FilterType,
        stop_hash: BlockHash,
        filter_headers: &'a [FilterHash],
    ) -> Self {
        Self {
            filter_type,
            stop_hash,
            filter_headers: List::from_items(filter_headers),
        }
    }
}

impl Encode for CFCheckpt<'_> {
    fn encoded_len(&self) -> usize {
        1 + 32 + self.filter_headers.encoded_len()
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(self.filter_type.0);
        buf.put_slice(&self.stop_hash.0);
        self.filter_headers.encode(buf);
    }
}

impl<'a> Payload<'a> for CFCheckpt<'a> {
    const COMMAND: Command = Command::new("cfcheckpt");
    const MAX_LEN: u32 = (1
        + 32
        + compact_size_len(limits::MAX_CFCHECKPT_HEADERS)
        + 32 * limits::MAX_CFCHECKPT_HEADERS as usize) as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, filter_type) = FilterType::parse(input)?;
        let (i, stop_hash) = named("stop_hash", BlockHash::parse(i))?;
        let (i, filter_headers) = List::parse(i, "filter_headers", limits::MAX_CFCHECKPT_HEADERS)?;
        Ok((
            i,
            Self {
                filter_type,
                stop_hash,
                filter_headers,
            },
        ))
    }
}

#[cfg(any(test, feature = "proptest"))]
pub(crate) mod strategy {
    use alloc::vec::Vec;

    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;

    fn hashes() -> impl Strategy<Value = Vec<FilterHash>> {
        vec(any::<[u8; 32]>().prop_map(FilterHash), 0..5)
    }

    /// Canonical payloads of every BIP 157 message, built with the public constructors.
    pub(crate) fn payloads() -> BoxedStrategy<(Command, Vec<u8>)> {
        let filter_type = any::<u8>().prop_map(FilterType);
        let hash = any::<[u8; 32]>().prop_map(BlockHash);
        prop_oneof![
            (filter_type.clone(), any::<u32>(), hash.clone())
                .prop_map(|(t, h, s)| (GetCFilters::COMMAND, GetCFilters::new(t, h, s).to_vec())),
            (filter_type.clone(), hash.clone(), vec(any::<u8>(), 0..300))
                .prop_map(|(t, b, f)| (CFilter::COMMAND, CFilter::new(t, b, &f).to_vec())),
            (filter_type.clone(), any::<u32>(), hash.clone())
                .prop_map(|(t, h, s)| (GetCFHeaders::COMMAND, GetCFHeaders::new(t, h, s).to_vec())),
            (
                filter_type.clone(),
                hash.clone(),
                any::<[u8; 32]>(),
                hashes()
            )
                .prop_map(|(t, s, p, h)| (
                    CFHeaders::COMMAND,
                    CFHeaders::new(t, s, FilterHash(p), &h).to_vec()
                )),
            (filter_type.clone(), hash.clone())
                .prop_map(|(t, s)| (GetCFCheckpt::COMMAND, GetCFCheckpt::new(t, s).to_vec())),
            (filter_type, hash, hashes())
                .prop_map(|(t, s, h)| (CFCheckpt::COMMAND, CFCheckpt::new(t, s, &h).to_vec())),
        ]
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::error::DecodeErrorKind;
    use crate::msg::Message;
    use crate::testutil::hex;

    fn err<'a, T: Payload<'a> + fmt::Debug>(
        payload: &'a [u8],
    ) -> (DecodeErrorKind, Option<&'static str>, usize) {
        let e = T::decode(payload).unwrap_err();
        (e.kind, e.field, e.offset)
    }

    /// One row of BIP 158's `testnet-19.json`: block height, block hash, previous basic
    /// header, basic filter, basic header (hashes in the JSON's reversed hex).
    struct Bip158Vector {
        height: u32,
        block_hash: &'static str,
        prev_header: &'static str,
        filter: &'static str,
        header: &'static str,
    }

    const BIP158: [Bip158Vector; 5] = [
        Bip158Vector {
            height: 0,
            block_hash: "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
            prev_header: "0000000000000000000000000000000000000000000000000000000000000000",
            filter: "019dfca8",
            header: "21584579b7eb08997773e5aeff3a7f932700042d0ed2a6129012b7d7ae81b750",
        },
        Bip158Vector {
            height: 2,
            block_hash: "000000006c02c8ea6e4ff69651f7fcde348fb9d557a06e6957b65552002a7820",
            prev_header: "d7bdac13a59d745b1add0d2ce852f1a0442e8945fc1bf3848d3cbffd88c24fe1",
            filter: "0174a170",
            header: "186afd11ef2b5e7e3504f2e8cbf8df28a1fd251fe53d60dff8b1467d1b386cf0",
        },
        Bip158Vector {
            height: 3,
            block_hash: "000000008b896e272758da5297bcd98fdc6d97c9b765ecec401e286dc1fdbe10",
            prev_header: "186afd11ef2b5e7e3504f2e8cbf8df28a1fd251fe53d60dff8b1467d1b386cf0",
            filter: "016cf7a0",
            header: "8d63aadf5ab7257cb6d2316a57b16f517bff1c6388f124ec4c04af1212729d2a",
        },
        Bip158Vector {
            height: 49_291,
            block_hash: "0000000018b07dca1b28b4b5a119f6d6e71698ce1ed96f143f54179ce177a19c",
            prev_header: "ed47705334f4643892ca46396eb3f4196a5e30880589e4009ef38eae895d4a13",
            filter: "0afbc2920af1b027f31f87b592276eb4c32094bb4d3697021b4c6380",
            header: "b6d98692cec5145f67585f3434ec3c2b3030182e1cb3ec58b855c5c164dfaaa3",
        },
        Bip158Vector {
            height: 1_414_221,
            block_hash: "0000000000000027b2b3b3381f114f674f481544ff2be37ae3788d7e078383b1",
            prev_header: "5e5e12d90693c8e936f01847859404c67482439681928353ca1296982042864e",
            filter: "00",
            header: "021e8882ef5a0ed932edeebbecfeda1d7ce528ec7b3daa27641acf1189d7b5dc",
        },
    ];

    #[test]
    fn cfilter_genesis_bytes() {
        // Testnet genesis: type 0, block hash in wire order, length 4, BIP 158 basic filter.
        let raw = hex(concat!(
            "00",
            "43497fd7f826957108f4a30fd9cec3aeba79972084e90ead01ea330900000000",
            "04",
            "019dfca8"
        ));
        let msg = CFilter::decode(&raw).unwrap();
        assert_eq!(msg.filter_type, FilterType::BASIC);
        assert_eq!(msg.block_hash, BIP158[0].block_hash.parse().unwrap());
        assert_eq!(msg.filter, &[0x01, 0x9d, 0xfc, 0xa8]);
        assert_eq!(msg.to_vec(), raw);
        assert_eq!(msg.encoded_len(), raw.len());
    }

    #[test]
    fn cfilter_bip158_vectors() {
        for v in &BIP158 {
            let block_hash: BlockHash = v.block_hash.parse().unwrap();
            let filter = hex(v.filter);
            let msg = CFilter::new(FilterType::BASIC, block_hash, &filter);
            let raw = msg.to_vec();
            let mut expected = Vec::from([0u8]);
            expected.extend_from_slice(&block_hash.0);
            expected.push(u8::try_from(filter.len()).unwrap());
            expected.extend_from_slice(&filter);
            assert_eq!(raw, expected, "height {}", v.height);
            let back = CFilter::decode(&raw).unwrap();
            assert_eq!(back, msg);
            assert_eq!(
                Message::decode(CFilter::COMMAND, &raw).unwrap(),
                Message::CFilter(msg)
            );
            // The filter hash chains into the BIP 158 basic header.
            let prev: FilterHash = v.prev_header.parse().unwrap();
            let header: FilterHash = v.header.parse().unwrap();
            assert_eq!(back.filter_header(prev), header, "height {}", v.height);
            assert_eq!(filter_header(back.filter_hash(), prev), header);
        }
    }

    #[test]
    fn filter_hash_is_sha256d_of_the_filter() {
        // SHA-256d of the empty filter `00` of testnet block 1414221.
        let msg = CFilter::new(FilterType::BASIC, BlockHash::ZERO, &[0]);
        assert_eq!(msg.filter_hash().0, Sha256d::hash(&[0]));
        assert_ne!(msg.filter_hash(), FilterHash::ZERO);
    }

    #[test]
    fn cfheaders_from_consecutive_vectors() {
        // Heights 2 and 3: the range's previous header is height 1's, the stop block is 3.
        let (b2, b3) = (&BIP158[1], &BIP158[2]);
        let f2 = hex(b2.filter);
        let f3 = hex(b3.filter);
        let stop: BlockHash = b3.block_hash.parse().unwrap();
        let prev: FilterHash = b2.prev_header.parse().unwrap();
        let hashes = [
            CFilter::new(FilterType::BASIC, BlockHash::ZERO, &f2).filter_hash(),
            CFilter::new(FilterType::BASIC, BlockHash::ZERO, &f3).filter_hash(),
        ];
        let msg = CFHeaders::new(FilterType::BASIC, stop, prev, &hashes);
        let raw = msg.to_vec();
        let mut expected = Vec::from([0u8]);
        expected.extend_from_slice(&hex(
            "10befdc16d281e40ecec65b7c9976ddc8fd9bc9752da5827276e898b00000000",
        ));
        expected.extend_from_slice(&hex(
            "e14fc288fdbf3c8d84f31bfc45892e44a0f152e82c0ddd1a5b749da513acbdd7",
        ));
        expected.push(2);
        expected.extend_from_slice(&hashes[0].0);
        expected.extend_from_slice(&hashes[1].0);
        assert_eq!(raw, expected);
        assert_eq!(raw.len(), 1 + 32 + 32 + 1 + 64);
        let back = CFHeaders::decode(&raw).unwrap();
        assert_eq!(back, msg);
        assert_eq!(back.filter_hashes.len(), 2);
        assert_eq!(back.filter_hashes.get(1), Some(hashes[1]));
        let headers: Vec<FilterHash> = back.filter_headers().collect();
        assert_eq!(
            headers,
            [b2.header.parse().unwrap(), b3.header.parse().unwrap()]
        );
        assert_eq!(back.to_vec(), raw);
    }

    #[test]
    fn getcfilters_and_getcfheaders_bytes() {
        let stop: BlockHash = BIP158[2].block_hash.parse().unwrap();
        let raw = hex(concat!(
            "00",
            "02000000",
            "10befdc16d281e40ecec65b7c9976ddc8fd9bc9752da5827276e898b00000000"
        ));
        let req = GetCFilters::decode(&raw).unwrap();
        assert_eq!(req, GetCFilters::new(FilterType::BASIC, 2, stop));
        assert_eq!(req.to_vec(), raw);
        assert_eq!(req.encoded_len(), 37);
        let req = GetCFHeaders::decode(&raw).unwrap();
        assert_eq!(req, GetCFHeaders::new(FilterType::BASIC, 2, stop));
        assert_eq!(req.to_vec(), raw);
        // An unknown filter type is kept, not rejected.
        let mut other = raw.clone();
        other[0] = 0x2a;
        let req = GetCFilters::decode(&other).unwrap();
        assert_eq!(req.filter_type, FilterType(42));
        assert_eq!(req.to_vec(), other);
        assert_eq!(format!("{:?}", req.filter_type), "FilterType(42)");
        assert_eq!(format!("{:?}", FilterType::BASIC), "FilterType(0 BASIC)");
    }

    #[test]
    fn getcfcheckpt_and_cfcheckpt_bytes() {
        let stop = [0x11u8; 32];
        let mut raw = Vec::from([0u8]);
        raw.extend_from_slice(&stop);
        let req = GetCFCheckpt::decode(&raw).unwrap();
        assert_eq!(req, GetCFCheckpt::new(FilterType::BASIC, BlockHash(stop)));
        assert_eq!(req.to_vec(), raw);
        assert_eq!(req.encoded_len(), 33);

        let headers = [FilterHash([1; 32]), FilterHash([2; 32])];
        raw.push(2);
        raw.extend_from_slice(&[1; 32]);
        raw.extend_from_slice(&[2; 32]);
        let msg = CFCheckpt::decode(&raw).unwrap();
        assert_eq!(
            msg,
            CFCheckpt::new(FilterType::BASIC, BlockHash(stop), &headers)
        );
        assert_eq!(msg.filter_headers.iter().collect::<Vec<_>>(), headers);
        assert_eq!(msg.to_vec(), raw);
        assert_eq!(
            CFCheckpt::new(FilterType::BASIC, BlockHash(stop), &headers).to_vec(),
            raw
        );
    }

    #[test]
    fn max_lens_are_exact() {
        assert_eq!(GetCFilters::MAX_LEN, 37);
        assert_eq!(GetCFHeaders::MAX_LEN, 37);
        assert_eq!(GetCFCheckpt::MAX_LEN, 33);
        assert_eq!(CFilter::MAX_LEN, limits::MAX_PROTOCOL_MESSAGE_LENGTH);
        // The largest valid cfheaders and cfcheckpt, built and measured.
        let hashes = alloc::vec![FilterHash([7; 32]); 2_000];
        let msg = CFHeaders::new(
            FilterType::BASIC,
            BlockHash::ZERO,
            FilterHash::ZERO,
            &hashes,
        );
        let raw = msg.to_vec();
        assert_eq!(raw.len(), CFHeaders::MAX_LEN as usize);
        assert_eq!(CFHeaders::decode(&raw).unwrap().filter_hashes.len(), 2_000);
        let headers = alloc::vec![FilterHash([7; 32]); 20_000];
        let raw = CFCheckpt::new(FilterType::BASIC, BlockHash::ZERO, &headers).to_vec();
        assert_eq!(raw.len(), CFCheckpt::MAX_LEN as usize);
        assert_eq!(
            CFCheckpt::decode(&raw).unwrap().filter_headers.len(),
            20_000
        );
        // The largest filter that fits in a frame.
        let filter = alloc::vec![0u8; 4_000_000 - 38];
        let raw = CFilter::new(FilterType::BASIC, BlockHash::ZERO, &filter).to_vec();
        assert_eq!(raw.len(), CFilter::MAX_LEN as usize);
        assert_eq!(CFilter::decode(&raw).unwrap().filter.len(), filter.len());
    }

    #[test]
    fn check_range() {
        let stop = BlockHash::ZERO;
        let req = GetCFilters::new(FilterType::BASIC, 1_000, stop);
        assert_eq!(req.check_range(1_000), Ok(()));
        assert_eq!(req.check_range(1_999), Ok(()));
        assert_eq!(
            req.check_range(2_000),
            Err(RangeError::TooManyBlocks {
                blocks: 1_001,
                limit: 1_000
            })
        );
        assert_eq!(
            req.check_range(999),
            Err(RangeError::StopBeforeStart {
                start_height: 1_000,
                stop_height: 999
            })
        );
        let req = GetCFHeaders::new(FilterType::BASIC, 0, stop);
        assert_eq!(req.check_range(1_999), Ok(()));
        assert_eq!(
            req.check_range(2_000),
            Err(RangeError::TooManyBlocks {
                blocks: 2_001,
                limit: 2_000
            })
        );
        let req = GetCFHeaders::new(FilterType::BASIC, u32::MAX, stop);
        assert_eq!(req.check_range(u32::MAX), Ok(()));
        assert_eq!(
            format!("{}", req.check_range(0).unwrap_err()),
            "stop height 0 is below start height 4294967295"
        );
    }

    #[test]
    fn truncated() {
        use DecodeErrorKind::Truncated;
        assert_eq!(err::<GetCFilters>(&[]), (Truncated, Some("filter_type"), 0));
        assert_eq!(
            err::<GetCFilters>(&[0, 1, 2, 3]),
            (Truncated, Some("start_height"), 1)
        );
        assert_eq!(
            err::<GetCFHeaders>(&[0; 36]),
            (Truncated, Some("stop_hash"), 5)
        );
        assert_eq!(
            err::<GetCFCheckpt>(&[0; 32]),
            (Truncated, Some("stop_hash"), 1)
        );
        assert_eq!(err::<CFilter>(&[0; 20]), (Truncated, Some("block_hash"), 1));
        assert_eq!(err::<CFilter>(&[0; 33]), (Truncated, Some("filter"), 33));
        // The length claims 4 bytes, 3 remain.
        let mut raw = alloc::vec![0u8; 33];
        raw.extend_from_slice(&[4, 1, 2, 3]);
        assert_eq!(
            err::<CFilter>(&raw),
            (
                DecodeErrorKind::CountOverRemaining {
                    count: 4,
                    needed: 4,
                    remaining: 3
                },
                Some("filter"),
                33
            )
        );
        assert_eq!(
            err::<CFHeaders>(&[0; 64]),
            (Truncated, Some("previous_filter_header"), 33)
        );
        assert_eq!(
            err::<CFHeaders>(&[0; 65]),
            (Truncated, Some("filter_hashes"), 65)
        );
        assert_eq!(
            err::<CFCheckpt>(&[0; 33]),
            (Truncated, Some("filter_headers"), 33)
        );
    }

    #[test]
    fn trailing_bytes() {
        let mut raw = GetCFilters::new(FilterType::BASIC, 5, BlockHash::ZERO).to_vec();
        raw.push(0);
        assert_eq!(
            err::<GetCFilters>(&raw),
            (DecodeErrorKind::TrailingBytes(1), None, 37)
        );
        assert_eq!(
            err::<GetCFHeaders>(&raw),
            (DecodeErrorKind::TrailingBytes(1), None, 37)
        );
        let mut raw = GetCFCheckpt::new(FilterType::BASIC, BlockHash::ZERO).to_vec();
        raw.extend_from_slice(&[1, 2]);
        assert_eq!(
            err::<GetCFCheckpt>(&raw),
            (DecodeErrorKind::TrailingBytes(2), None, 33)
        );
        let mut raw = CFilter::new(FilterType::BASIC, BlockHash::ZERO, &[1, 2]).to_vec();
        raw.push(9);
        assert_eq!(
            err::<CFilter>(&raw),
            (DecodeErrorKind::TrailingBytes(1), None, 36)
        );
        let hashes = [FilterHash::ZERO];
        let mut raw = CFHeaders::new(
            FilterType::BASIC,
            BlockHash::ZERO,
            FilterHash::ZERO,
            &hashes,
        )
        .to_vec();
        raw.push(9);
        assert_eq!(
            err::<CFHeaders>(&raw),
            (DecodeErrorKind::TrailingBytes(1), None, 98)
        );
        let mut raw = CFCheckpt::new(FilterType::BASIC, BlockHash::ZERO, &hashes).to_vec();
        raw.push(9);
        assert_eq!(
            err::<CFCheckpt>(&raw),
            (DecodeErrorKind::TrailingBytes(1), None, 66)
        );
    }

    #[test]
    fn counts_over_limits() {
        // cfheaders: 2,001 hashes (0xfd 0xd1 0x07), checked before the bytes remaining.
        let mut raw = alloc::vec![0u8; 65];
        raw.extend_from_slice(&[0xfd, 0xd1, 0x07]);
        assert_eq!(
            err::<CFHeaders>(&raw),
            (
                DecodeErrorKind::OverLimit {
                    value: 2_001,
                    limit: 2_000
                },
                Some("filter_hashes"),
                65
            )
        );
        // cfcheckpt: 20,001 headers (0xfd 0x21 0x4e).
        let mut raw = alloc::vec![0u8; 33];
        raw.extend_from_slice(&[0xfd, 0x21, 0x4e]);
        assert_eq!(
            err::<CFCheckpt>(&raw),
            (
                DecodeErrorKind::OverLimit {
                    value: 20_001,
                    limit: 20_000
                },
                Some("filter_headers"),
                33
            )
        );
        // cfilter: a 4,000,001-byte filter.
        let mut raw = alloc::vec![0u8; 33];
        raw.push(0xfe);
        raw.extend_from_slice(&4_000_001u32.to_le_bytes());
        assert_eq!(
            err::<CFilter>(&raw),
            (
                DecodeErrorKind::OverLimit {
                    value: 4_000_001,
                    limit: limits::MAX_CFILTER_LEN
                },
                Some("filter"),
                33
            )
        );
    }

    #[test]
    fn counts_over_remaining() {
        // Two hashes claimed, one present.
        let mut raw = alloc::vec![0u8; 65];
        raw.push(2);
        raw.extend_from_slice(&[0; 32]);
        assert_eq!(
            err::<CFHeaders>(&raw),
            (
                DecodeErrorKind::CountOverRemaining {
                    count: 2,
                    needed: 64,
                    remaining: 32
                },
                Some("filter_hashes"),
                65
            )
        );
        let mut raw = alloc::vec![0u8; 33];
        raw.extend_from_slice(&[0xfd, 0xd0, 0x07]);
        assert_eq!(
            err::<CFCheckpt>(&raw),
            (
                DecodeErrorKind::CountOverRemaining {
                    count: 2_000,
                    needed: 64_000,
                    remaining: 0
                },
                Some("filter_headers"),
                33
            )
        );
    }

    #[test]
    fn non_minimal_compact_sizes() {
        let mut raw = alloc::vec![0u8; 33];
        raw.extend_from_slice(&[0xfd, 0x01, 0x00, 0xaa]);
        assert_eq!(
            err::<CFilter>(&raw),
            (
                DecodeErrorKind::NonMinimalCompactSize(1),
                Some("filter"),
                33
            )
        );
        let mut raw = alloc::vec![0u8; 65];
        raw.extend_from_slice(&[0xfd, 0x00, 0x00]);
        assert_eq!(
            err::<CFHeaders>(&raw),
            (
                DecodeErrorKind::NonMinimalCompactSize(0),
                Some("filter_hashes"),
                65
            )
        );
        let mut raw = alloc::vec![0u8; 33];
        raw.extend_from_slice(&[0xfe, 0x01, 0x00, 0x00, 0x00]);
        assert_eq!(
            err::<CFCheckpt>(&raw),
            (
                DecodeErrorKind::NonMinimalCompactSize(1),
                Some("filter_headers"),
                33
            )
        );
    }

    proptest! {
        /// Every BIP 157 payload decodes and encodes to the same bytes, within its limit.
        #[test]
        fn roundtrip((command, payload) in strategy::payloads()) {
            let msg = Message::decode(command, &payload).unwrap();
            prop_assert_eq!(msg.command(), command);
            prop_assert!(!matches!(msg, Message::Unknown { .. }), "{} unknown", command);
            prop_assert_eq!(msg.to_vec(), payload.clone());
            prop_assert_eq!(msg.encoded_len(), payload.len());
            prop_assert!(payload.len() <= crate::msg::max_payload_len(command) as usize);
        }

        /// No input makes a parser panic, and what decodes re-encodes to the same bytes.
        #[test]
        fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            for command in [
                GetCFilters::COMMAND, CFilter::COMMAND, GetCFHeaders::COMMAND,
                CFHeaders::COMMAND, GetCFCheckpt::COMMAND, CFCheckpt::COMMAND,
            ] {
                if let Ok(msg) = Message::decode(command, &bytes) {
                    prop_assert_eq!(msg.to_vec(), bytes.clone());
                }
            }
        }
    }
}
