//! Block and transaction data: `inv`, `getdata`, `notfound`, `getblocks`, `getheaders`,
//! `headers` and `mempool`.
//!
//! The `block` and `tx` messages themselves live with their types, in
//! [`crate::types::block`] ([`Block`](crate::types::Block): header, then the
//! transactions) and [`crate::types::tx`] ([`Tx`](crate::types::Tx), legacy and BIP 144
//! serialization), because other messages embed them too (`cmpctblock`, `blocktxn`):
//!
//! | message | layout                                                                    |
//! |---------|---------------------------------------------------------------------------|
//! | `block` | 80-byte header, CompactSize count, then the transactions (coinbase first) |
//! | `tx`    | version, [marker 0x00, flag 0x01], inputs, outputs, [witnesses], lock time |
//!
//! References: the Bitcoin developer reference (P2P network, data messages), Bitcoin Core
//! `net_processing.cpp` (`MAX_INV_SZ`, `MAX_LOCATOR_SZ`, `MAX_HEADERS_RESULTS`), BIP 35
//! (`mempool`), BIP 144 and BIP 339 (inventory types).
//!
//! ## `inv`, `getdata`, `notfound`
//!
//! | size     | field       | notes                                                         |
//! |---------:|-------------|---------------------------------------------------------------|
//! | 1-3      | count       | CompactSize, at most 50,000 (`MAX_INV_SZ`)                    |
//! | 36 × n   | `inventory` | per entry: `inv_type` (u32 LE), `hash` (32), see [`InvItem`]  |
//!
//! ## `getblocks`, `getheaders`
//!
//! | size     | field       | notes                                                         |
//! |---------:|-------------|---------------------------------------------------------------|
//! | 4        | `version`   | u32 LE, the sender's protocol version                         |
//! | 1        | count       | CompactSize, at most 101 (`MAX_LOCATOR_SZ`)                   |
//! | 32 × n   | `locator`   | block hashes, newest first                                    |
//! | 32       | `stop_hash` | last block wanted; all zeros for "as many as allowed"         |
//!
//! ## `headers`
//!
//! | size     | field       | notes                                                         |
//! |---------:|-------------|---------------------------------------------------------------|
//! | 1-3      | count       | CompactSize, at most 2,000 (`MAX_HEADERS_RESULTS`)            |
//! | 81 × n   | `headers`   | per entry: an 80-byte [`BlockHeader`], then a transaction count that must be `0x00` |
//!
//! ## `mempool` (BIP 35)
//!
//! No payload.
//!
//! Every list is checked once when decoded (count against its limit and against the bytes
//! remaining; each `headers` entry's transaction count) and iterated lazily afterwards.

use bytes::BufMut;
use nom::number::complete::le_u32;

use crate::error::{DecodeError, DecodeErrorKind};
use crate::header::Command;
use crate::msg::Payload;
use crate::types::block_header::{BLOCK_HEADER_LEN, BlockHeader};
use crate::types::hash::BlockHash;
use crate::types::inventory::{InvItem, Inventory};
use crate::types::list::{Item, Iter, List, put_fixed};
use crate::varint::{compact_size, compact_size_len, count, named};
use crate::{Encode, PResult, limits};

macro_rules! inventory_message {
    ($(#[$doc:meta])* $name:ident, $command:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a> {
            /// The inventory entries.
            pub inventory: Inventory<'a>,
        }

        impl<'a> $name<'a> {
            /// Returns a message listing `items`.
            #[must_use]
            pub const fn from_items(items: &'a [InvItem]) -> Self {
                Self {
                    inventory: Inventory::from_items(items),
                }
            }

            /// Returns an iterator over the entries, decoding each on demand.
            #[must_use]
            pub fn iter(&self) -> Iter<'a, InvItem> {
                self.inventory.iter()
            }

            /// Returns the entry at `index`, if any (constant time).
            #[must_use]
            pub fn get(&self, index: usize) -> Option<InvItem> {
                self.inventory.get(index)
            }

            /// Returns the number of entries.
            #[must_use]
            pub const fn len(&self) -> usize {
                self.inventory.len()
            }

            /// Returns whether there are no entries.
            #[must_use]
            pub const fn is_empty(&self) -> bool {
                self.inventory.is_empty()
            }
        }

        impl<'a> From<Inventory<'a>> for $name<'a> {
            fn from(inventory: Inventory<'a>) -> Self {
                Self { inventory }
            }
        }

        impl<'a> IntoIterator for $name<'a> {
            type Item = InvItem;
            type IntoIter = Iter<'a, InvItem>;
            fn into_iter(self) -> Self::IntoIter {
                self.iter()
            }
        }

        impl Encode for $name<'_> {
            fn encoded_len(&self) -> usize {
                self.inventory.encoded_len()
            }

            fn encode<B: BufMut>(&self, buf: &mut B) {
                self.inventory.encode(buf);
            }
        }

        impl<'a> Payload<'a> for $name<'a> {
            const COMMAND: Command = Command::new($command);
            /// 3 + 50,000 × 36 = 1,800,003 bytes.
            const MAX_LEN: u32 = Inventory::MAX_LEN as u32;

            fn parse(input: &'a [u8]) -> PResult<'a, Self> {
                Inventory::parse(input).map(|(i, inventory)| (i, Self { inventory }))
            }
        }
    };
}

inventory_message!(
    /// `inv`: announces transactions and blocks the sender has (or answers `getblocks` and
    /// `mempool`).
    Inv,
    "inv"
);
inventory_message!(
    /// `getdata`: asks for the transactions and blocks named by the entries.
    GetData,
    "getdata"
);
inventory_message!(
    /// `notfound`: the entries of a `getdata` the sender cannot provide.
    NotFound,
    "notfound"
);

macro_rules! locator_message {
    ($(#[$doc:meta])* $name:ident, $command:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a> {
            /// The sender's protocol version.
            pub version: u32,
            /// Block hashes the sender has, newest first, at most
            /// [`limits::MAX_LOCATOR_SZ`].
            pub locator: List<'a, BlockHash>,
            /// The last block wanted; [`BlockHash::ZERO`] for as many as the peer sends.
            pub stop_hash: BlockHash,
        }

        impl<'a> $name<'a> {
            /// Returns a request from protocol `version` with a `locator` (newest first,
            /// at most [`limits::MAX_LOCATOR_SZ`] hashes to be accepted) and a `stop_hash`.
            #[must_use]
            pub const fn new(version: u32, locator: &'a [BlockHash], stop_hash: BlockHash) -> Self {
                Self {
                    version,
                    locator: List::from_items(locator),
                    stop_hash,
                }
            }

            /// Returns an iterator over the locator hashes, newest first.
            #[must_use]
            pub fn locator(&self) -> Iter<'a, BlockHash> {
                self.locator.iter()
            }
        }

        impl Encode for $name<'_> {
            fn encoded_len(&self) -> usize {
                4 + self.locator.encoded_len() + 32
            }

            fn encode<B: BufMut>(&self, buf: &mut B) {
                buf.put_u32_le(self.version);
                self.locator.encode(buf);
                buf.put_slice(&self.stop_hash.0);
            }
        }

        impl<'a> Payload<'a> for $name<'a> {
            const COMMAND: Command = Command::new($command);
            /// 4 + 1 + 101 × 32 + 32 = 3,269 bytes.
            const MAX_LEN: u32 = (4
                + compact_size_len(limits::MAX_LOCATOR_SZ)
                + limits::MAX_LOCATOR_SZ as usize * 32
                + 32) as u32;

            fn parse(input: &'a [u8]) -> PResult<'a, Self> {
                let (i, version) = named("version", le_u32(input))?;
                // Bitcoin Core disconnects a peer whose locator exceeds MAX_LOCATOR_SZ.
                let (i, locator) = List::parse(i, "locator", limits::MAX_LOCATOR_SZ)?;
                let (i, stop_hash) = named("stop_hash", BlockHash::parse(i))?;
                Ok((
                    i,
                    Self {
                        version,
                        locator,
                        stop_hash,
                    },
                ))
            }
        }
    };
}

locator_message!(
    /// `getblocks`: asks for an `inv` of up to 500 block hashes after the first locator hash
    /// the peer knows.
    GetBlocks,
    "getblocks"
);
locator_message!(
    /// `getheaders`: asks for a `headers` of up to 2,000 headers after the first locator hash
    /// the peer knows.
    GetHeaders,
    "getheaders"
);

/// Length of one `headers` entry in bytes: the header and a zero transaction count.
pub const HEADERS_ENTRY_LEN: usize = BLOCK_HEADER_LEN + 1;

/// As a list item, a block header takes the form `headers` sends: the 80-byte header
/// followed by a transaction count that must be zero. Stricter than Bitcoin Core, which
/// reads the count and ignores it ("ignore tx count; assume it is 0"); btcd refuses a
/// nonzero count, as this crate does.
impl<'a> Item<'a> for BlockHeader {
    const FIXED_LEN: Option<usize> = Some(HEADERS_ENTRY_LEN);
    const MIN_LEN: usize = HEADERS_ENTRY_LEN;
    // The transaction count byte must be checked in every entry.
    const CHECK_EACH: bool = true;
    const HAS_SKIP: bool = true;

    #[inline(always)]
    fn from_valid(chunk: &'a [u8]) -> Option<Self> {
        Some(Self::from_bytes(chunk.first_chunk::<80>()?))
    }

    /// A valid entry is 80 header bytes and a zero count byte; anything else goes to the
    /// parser for a precise error.
    #[inline]
    fn skip_item(input: &[u8]) -> Option<usize> {
        (input.get(HEADERS_ENTRY_LEN - 1) == Some(&0)).then_some(HEADERS_ENTRY_LEN)
    }

    #[inline]
    fn parse_item(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = Self::parse(input)?;
        let (rest, tx_count) = named("transaction count", compact_size(i))?;
        if tx_count != 0 {
            let kind = DecodeErrorKind::InvalidValue(tx_count);
            return DecodeError::field(i, "transaction count", kind).fail();
        }
        Ok((rest, header))
    }

    fn item_len(&self) -> usize {
        HEADERS_ENTRY_LEN
    }

    #[inline]
    fn encode_item<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&headers_entry(self));
    }

    #[inline]
    fn encode_run<B: BufMut>(items: &[Self], buf: &mut B) {
        put_fixed::<2, _, _, _>(items, buf, headers_entry);
    }
}

/// Returns a `headers` entry: the header and its zero transaction count.
#[inline]
fn headers_entry(header: &BlockHeader) -> [u8; HEADERS_ENTRY_LEN] {
    let mut entry = [0u8; HEADERS_ENTRY_LEN];
    if let Some(bytes) = entry.first_chunk_mut::<BLOCK_HEADER_LEN>() {
        *bytes = header.to_bytes();
    }
    entry
}

/// `headers`: block headers, in answer to `getheaders` or to announce blocks (BIP 130).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headers<'a> {
    /// The headers, at most [`limits::MAX_HEADERS_RESULTS`], each followed on the wire by a
    /// zero transaction count.
    pub headers: List<'a, BlockHeader>,
}

impl<'a> Headers<'a> {
    /// Returns a message carrying `headers`.
    #[must_use]
    pub const fn from_headers(headers: &'a [BlockHeader]) -> Self {
        Self {
            headers: List::from_items(headers),
        }
    }

    /// Returns an iterator over the headers, decoding each on demand.
    #[must_use]
    pub fn iter(&self) -> Iter<'a, BlockHeader> {
        self.headers.iter()
    }

    /// Decodes a `headers` payload in one pass, handing each header to `visit` as it is
    /// validated. [`Headers::decode`](Payload::decode) reads the entries once to check
    /// their transaction counts and [`Headers::iter`] reads them again; this reads them
    /// once, with exactly the same checks and errors. When the payload is refused,
    /// `visit` has seen the valid headers before the faulty one.
    ///
    /// ```
    /// use btcwire::msg::Headers;
    /// use btcwire::types::BlockHeader;
    /// use btcwire::{Encode, Payload};
    ///
    /// # let header = |nonce| BlockHeader { version: 1, prev_blockhash: Default::default(), merkle_root: Default::default(), time: 0, bits: 0, nonce };
    /// # let headers = [header(1), header(2)];
    /// # let payload = &Headers::from_headers(&headers).to_vec()[..];
    /// let mut nonces = Vec::new();
    /// let decoded = Headers::decode_with(payload, |h| nonces.push(h.nonce))?;
    /// assert_eq!(decoded, Headers::decode(payload)?);
    /// assert_eq!(nonces, [1, 2]);
    /// # Ok::<(), btcwire::DecodeError>(())
    /// ```
    ///
    /// # Errors
    /// The [`DecodeError`] that `Headers::decode` gives for the same bytes.
    #[inline]
    pub fn decode_with(
        payload: &'a [u8],
        mut visit: impl FnMut(BlockHeader),
    ) -> Result<Self, DecodeError> {
        crate::decode_all(payload, |input| {
            let field = "headers";
            let (body, n) = count(input, field, limits::MAX_HEADERS_RESULTS, HEADERS_ENTRY_LEN)?;
            // `count` checked that n entries fit in what remains.
            let Some(raw) = body.get(..n * HEADERS_ENTRY_LEN) else {
                return Self::parse(input);
            };
            for entry in raw.chunks_exact(HEADERS_ENTRY_LEN) {
                // The entry rule of the list (a zero transaction count); the parser explains
                // a refusal, with its field and offset.
                match BlockHeader::skip_item(entry).and_then(|_| BlockHeader::from_valid(entry)) {
                    Some(header) => visit(header),
                    None => return Self::parse(input),
                }
            }
            let rest = body.get(raw.len()..).unwrap_or_default();
            Ok((
                rest,
                Self {
                    headers: List::from_wire(n, raw),
                },
            ))
        })
    }

    /// Returns the header at `index`, if any (constant time).
    #[must_use]
    pub fn get(&self, index: usize) -> Option<BlockHeader> {
        self.headers.get(index)
    }

    /// Returns the number of headers.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.headers.len()
    }

    /// Returns whether there are no headers (a valid answer: the peer has nothing newer).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.headers.is_empty()
    }

    /// Returns whether each header's `prev_blockhash` is the hash of the one before it.
    ///
    /// Bitcoin Core refuses a `headers` message whose headers do not connect
    /// ("non-continuous headers sequence"); the codec leaves that judgement to the caller.
    #[must_use]
    pub fn is_continuous(&self) -> bool {
        let mut prev: Option<BlockHash> = None;
        self.iter().all(|h| {
            let ok = prev.is_none_or(|p| p == h.prev_blockhash);
            prev = Some(h.block_hash());
            ok
        })
    }
}

impl<'a> IntoIterator for Headers<'a> {
    type Item = BlockHeader;
    type IntoIter = Iter<'a, BlockHeader>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Encode for Headers<'_> {
    fn encoded_len(&self) -> usize {
        self.headers.encoded_len()
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        self.headers.encode(buf);
    }
}

impl<'a> Payload<'a> for Headers<'a> {
    const COMMAND: Command = Command::new("headers");
    /// 3 + 2,000 × 81 = 162,003 bytes.
    const MAX_LEN: u32 = (compact_size_len(limits::MAX_HEADERS_RESULTS)
        + limits::MAX_HEADERS_RESULTS as usize * HEADERS_ENTRY_LEN) as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, headers) = List::parse(input, "headers", limits::MAX_HEADERS_RESULTS)?;
        Ok((i, Self { headers }))
    }
}

/// `mempool`: asks for an `inv` of the transactions in the peer's mempool (BIP 35).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mempool;

impl Encode for Mempool {
    fn encoded_len(&self) -> usize {
        0
    }

    fn encode<B: BufMut>(&self, _buf: &mut B) {}
}

impl<'a> Payload<'a> for Mempool {
    const COMMAND: Command = Command::new("mempool");
    const MAX_LEN: u32 = 0;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        Ok((input, Self))
    }
}

#[cfg(any(test, feature = "proptest"))]
pub(crate) mod strategy {
    use alloc::vec::Vec;

    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::types::InvType;

    /// Inventory entries: known and unknown types.
    pub(crate) fn inv_items() -> impl Strategy<Value = Vec<InvItem>> {
        let inv_type = prop_oneof![
            Just(InvType::TX),
            Just(InvType::BLOCK),
            Just(InvType::WTX),
            Just(InvType::WITNESS_TX),
            Just(InvType::WITNESS_BLOCK),
            any::<u32>().prop_map(InvType),
        ];
        vec(
            (inv_type, any::<[u8; 32]>()).prop_map(|(t, h)| InvItem::new(t, h)),
            0..5,
        )
    }

    fn locators() -> impl Strategy<Value = (u32, Vec<BlockHash>, BlockHash)> {
        (
            any::<u32>(),
            vec(any::<[u8; 32]>().prop_map(BlockHash), 0..5),
            any::<[u8; 32]>().prop_map(BlockHash),
        )
    }

    /// `inv`, `getdata`, `notfound`, `getblocks`, `getheaders`, `headers` and `mempool`
    /// payloads.
    pub(crate) fn payloads() -> BoxedStrategy<(Command, Vec<u8>)> {
        prop_oneof![
            inv_items().prop_map(|items| (Inv::COMMAND, Inv::from_items(&items).to_vec())),
            inv_items().prop_map(|items| (GetData::COMMAND, GetData::from_items(&items).to_vec())),
            inv_items()
                .prop_map(|items| (NotFound::COMMAND, NotFound::from_items(&items).to_vec())),
            locators()
                .prop_map(|(v, l, s)| (GetBlocks::COMMAND, GetBlocks::new(v, &l, s).to_vec())),
            locators()
                .prop_map(|(v, l, s)| (GetHeaders::COMMAND, GetHeaders::new(v, &l, s).to_vec())),
            vec(crate::types::block::strategy::header(), 0..5)
                .prop_map(|h| (Headers::COMMAND, Headers::from_headers(&h).to_vec())),
            Just((Mempool::COMMAND, Mempool.to_vec())),
        ]
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// The one-pass decoder agrees with `decode` then `iter` on valid payloads and on
        /// damaged ones (a byte overwritten, the payload cut or extended): the same view or
        /// the same error, every header visited in order, and on a refusal only headers
        /// before the faulty entry.
        #[test]
        fn decode_with_is_decode_then_iter(
            headers in proptest::collection::vec(crate::types::block::strategy::header(), 0..12),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            damage in 0..5u8,
        ) {
            let mut payload = Headers::from_headers(&headers).to_vec();
            let k = at.index(payload.len());
            let count_len = compact_size_len(headers.len() as u64);
            match damage {
                0 => {}
                1 => payload[k] = byte,
                2 => payload.truncate(k),
                3 => payload.insert(k, byte),
                _ if headers.is_empty() => {}
                _ => {
                    // A non-zero transaction count in one entry: refused there, after
                    // visiting exactly the entries before it.
                    let bad = k % headers.len();
                    payload[count_len + bad * HEADERS_ENTRY_LEN + BLOCK_HEADER_LEN] = byte | 1;
                    let mut seen = Vec::new();
                    prop_assert!(Headers::decode_with(&payload, |h| seen.push(h)).is_err());
                    prop_assert_eq!(&seen[..], &headers[..bad]);
                }
            }
            let mut seen = Vec::new();
            let one_pass = Headers::decode_with(&payload, |h| seen.push(h));
            let two_pass = Headers::decode(&payload);
            prop_assert_eq!(&one_pass, &two_pass);
            match two_pass {
                Ok(decoded) => prop_assert_eq!(&seen, &decoded.iter().collect::<Vec<_>>()),
                Err(e) => {
                    prop_assert!(
                        seen.is_empty() || count_len + seen.len() * HEADERS_ENTRY_LEN <= e.offset
                    );
                    for (k, h) in seen.iter().enumerate() {
                        let at = compact_size_len(headers.len() as u64) + k * HEADERS_ENTRY_LEN;
                        prop_assert_eq!(&h.to_bytes()[..], &payload[at..at + BLOCK_HEADER_LEN]);
                    }
                }
            }
            if damage == 0 {
                prop_assert_eq!(seen, headers);
            }
        }
    }
    use crate::testutil::hex;
    use crate::types::InvType;
    use crate::types::hash::Txid;

    fn err(e: DecodeError) -> (DecodeErrorKind, Option<&'static str>, usize) {
        (e.kind, e.field, e.offset)
    }

    /// The `inv` example of the Bitcoin developer reference (two `MSG_TX` entries); the
    /// reference gives `getdata` and `notfound` the same format.
    const INV: &str = "02
        01000000 de55ffd709ac1f5dc509a0925d0b1fc442ca034f224732e429081da1b621f55a
        01000000 91d36d997037e08018262978766f24b8a055aaf1d872e94ae85e9817b2c68dc7";

    /// The `getblocks` example of the Bitcoin developer reference; `getheaders` has the same
    /// format.
    const GETBLOCKS: &str = "71110100 02
        d39f608a7775b537729884d4e6633bb2105e55a16a14d31b0000000000000000
        5c3e6403d40837110a2e8afb602b1c01714bda7ce23bea0a0000000000000000
        0000000000000000000000000000000000000000000000000000000000000000";

    /// The `headers` example of the Bitcoin developer reference (one version-2 header).
    const HEADERS: &str = "01
        02000000
        b6ff0b1b1680a2862a30ca44d346d9e8910d334beb48ca0c0000000000000000
        9d10aa52ee949386ca9385695f04ede270dda20810decd12bc9b048aaab31471
        24d95a54 30c31b18 fe9f0864
        00";

    /// The mainnet genesis block header.
    const GENESIS_HEADER: &str = "01000000
        0000000000000000000000000000000000000000000000000000000000000000
        3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a
        29ab5f49 ffff001d 1dac2b7c";

    #[test]
    fn inv_vector() {
        let raw = hex(INV);
        let inv = Inv::decode(&raw).unwrap();
        assert_eq!(inv.len(), 2);
        let items: Vec<InvItem> = inv.iter().collect();
        assert!(items.iter().all(|i| i.inv_type == InvType::TX));
        assert_eq!(
            items[0].txid().unwrap().to_string(),
            "5af521b6a11d0829e43247224f03ca42c41f0b5d92a009c55d1fac09d7ff55de"
        );
        assert_eq!(items[1].hash[0], 0x91);
        assert_eq!(inv.get(1), Some(items[1]));
        assert_eq!(inv.to_vec(), raw);
        assert_eq!(inv.encoded_len(), raw.len());
        // Built from values, it is the same message with the same bytes.
        let built = Inv::from_items(&items);
        assert_eq!(built, inv);
        assert_eq!(built.to_vec(), raw);
        // `getdata` and `notfound` share the format.
        let getdata = GetData::decode(&raw).unwrap();
        assert_eq!(getdata.iter().collect::<Vec<_>>(), items);
        assert_eq!(getdata.to_vec(), raw);
        let notfound = NotFound::decode(&raw).unwrap();
        assert_eq!(notfound.into_iter().collect::<Vec<_>>(), items);
        assert_eq!(notfound.to_vec(), raw);
        assert!(Inv::decode(&[0]).unwrap().is_empty());
    }

    #[test]
    fn inv_max_len_is_exact() {
        assert_eq!(Inv::MAX_LEN, 1_800_003);
        assert_eq!(GetData::MAX_LEN, Inv::MAX_LEN);
        assert_eq!(NotFound::MAX_LEN, Inv::MAX_LEN);
        let items = vec![InvItem::block(BlockHash([3; 32])); 50_000];
        let raw = Inv::from_items(&items).to_vec();
        assert_eq!(raw.len(), Inv::MAX_LEN as usize);
        assert_eq!(Inv::decode(&raw).unwrap().len(), 50_000);
    }

    /// `inv`, `getdata` and `notfound` share a parser; each is checked on every case.
    #[test]
    fn inv_malformed() {
        type Decode = fn(&[u8]) -> Result<usize, DecodeError>;
        let decoders: [(&str, Decode); 3] = [
            ("inv", |b| Inv::decode(b).map(|m| m.len())),
            ("getdata", |b| GetData::decode(b).map(|m| m.len())),
            ("notfound", |b| NotFound::decode(b).map(|m| m.len())),
        ];
        let field = Some("inventory entries");
        let raw = hex(INV);
        for (command, decode) in decoders {
            let fails = |bytes: &[u8]| err(decode(bytes).expect_err(command));
            assert_eq!(decode(&raw), Ok(2), "{command}");
            // Count over the limit: 50,001.
            let over = DecodeErrorKind::OverLimit {
                value: 50_001,
                limit: 50_000,
            };
            assert_eq!(fails(&[0xfd, 0x51, 0xc3]), (over, field, 0), "{command}");
            // Count over the bytes remaining: two entries claimed, one present.
            let mut short = raw[..37].to_vec();
            short[0] = 2;
            let kind = DecodeErrorKind::CountOverRemaining {
                count: 2,
                needed: 72,
                remaining: 36,
            };
            assert_eq!(fails(&short), (kind, field, 0), "{command}");
            // Non-minimal count.
            let mut padded = vec![0xfd, 0x02, 0x00];
            padded.extend_from_slice(&raw[1..]);
            let kind = DecodeErrorKind::NonMinimalCompactSize(2);
            assert_eq!(fails(&padded), (kind, field, 0), "{command}");
            // Truncated: an empty payload, and a count cut short.
            let cut = DecodeErrorKind::Truncated;
            assert_eq!(fails(&[]), (cut, field, 0), "{command}");
            assert_eq!(fails(&[0xfd, 0x01]), (cut, field, 1), "{command}");
            // Trailing bytes.
            let mut long = raw.clone();
            long.push(0);
            let kind = DecodeErrorKind::TrailingBytes(1);
            assert_eq!(fails(&long), (kind, None, raw.len()), "{command}");
        }
    }

    #[test]
    fn getblocks_vector() {
        let raw = hex(GETBLOCKS);
        let gb = GetBlocks::decode(&raw).unwrap();
        assert_eq!(gb.version, 70_001);
        assert_eq!(gb.locator.len(), 2);
        let hashes: Vec<BlockHash> = gb.locator().collect();
        assert_eq!(
            hashes[0].to_string(),
            "00000000000000001bd3146aa1555e10b23b63e6d484987237b575778a609fd3"
        );
        assert_eq!(gb.stop_hash, BlockHash::ZERO);
        assert_eq!(gb.to_vec(), raw);
        let built = GetBlocks::new(70_001, &hashes, BlockHash::ZERO);
        assert_eq!(built, gb);
        assert_eq!(built.to_vec(), raw);
        assert_eq!(built.encoded_len(), raw.len());
        // `getheaders` has the same layout.
        let gh = GetHeaders::decode(&raw).unwrap();
        assert_eq!(gh.locator().collect::<Vec<_>>(), hashes);
        assert_eq!(
            GetHeaders::new(70_001, &hashes, BlockHash::ZERO).to_vec(),
            raw
        );
    }

    #[test]
    fn locator_limits() {
        assert_eq!(GetHeaders::MAX_LEN, 3_269);
        assert_eq!(GetBlocks::MAX_LEN, 3_269);
        let full = vec![BlockHash([1; 32]); 101];
        let raw = GetHeaders::new(70_016, &full, BlockHash::ZERO).to_vec();
        assert_eq!(raw.len(), GetHeaders::MAX_LEN as usize);
        assert_eq!(GetHeaders::decode(&raw).unwrap().locator.len(), 101);
        // 102 hashes: over MAX_LOCATOR_SZ, refused at the count (offset 4).
        let over = vec![BlockHash([1; 32]); 102];
        let raw = GetHeaders::new(70_016, &over, BlockHash::ZERO).to_vec();
        let kind = DecodeErrorKind::OverLimit {
            value: 102,
            limit: 101,
        };
        assert_eq!(
            err(GetHeaders::decode(&raw).unwrap_err()),
            (kind, Some("locator"), 4)
        );
        assert_eq!(
            err(GetBlocks::decode(&raw).unwrap_err()),
            (kind, Some("locator"), 4)
        );
    }

    /// `getblocks` and `getheaders` share a layout; each is checked on every case.
    #[test]
    fn locator_malformed() {
        type Decode = fn(&[u8]) -> Result<usize, DecodeError>;
        let decoders: [(&str, Decode); 2] = [
            ("getblocks", |b| {
                GetBlocks::decode(b).map(|m| m.locator.len())
            }),
            ("getheaders", |b| {
                GetHeaders::decode(b).map(|m| m.locator.len())
            }),
        ];
        let raw = hex(GETBLOCKS);
        for (command, decode) in decoders {
            let fails = |bytes: &[u8]| err(decode(bytes).expect_err(command));
            assert_eq!(decode(&raw), Ok(2), "{command}");
            // Truncated version, locator, stop hash.
            let cut = DecodeErrorKind::Truncated;
            assert_eq!(fails(&raw[..3]), (cut, Some("version"), 0), "{command}");
            assert_eq!(fails(&raw[..4]), (cut, Some("locator"), 4), "{command}");
            let stop = Some("stop_hash");
            assert_eq!(fails(&raw[..raw.len() - 1]), (cut, stop, 69), "{command}");
            // A count the remaining bytes can hold: 3 hashes, 2 + stop hash present, which
            // fits 3 × 32 bytes, so the stop hash comes up short.
            let mut three = raw.clone();
            three[4] = 3;
            assert_eq!(fails(&three), (cut, stop, 101), "{command}");
            // ... and 4 hashes cannot fit at all.
            three[4] = 4;
            let kind = DecodeErrorKind::CountOverRemaining {
                count: 4,
                needed: 128,
                remaining: 96,
            };
            assert_eq!(fails(&three), (kind, Some("locator"), 4), "{command}");
            // Non-minimal count.
            let mut padded = raw[..4].to_vec();
            padded.extend_from_slice(&[0xfd, 0x02, 0x00]);
            padded.extend_from_slice(&raw[5..]);
            let kind = DecodeErrorKind::NonMinimalCompactSize(2);
            assert_eq!(fails(&padded), (kind, Some("locator"), 4), "{command}");
            // Trailing bytes.
            let mut long = raw.clone();
            long.extend_from_slice(&[1, 2]);
            let kind = DecodeErrorKind::TrailingBytes(2);
            assert_eq!(fails(&long), (kind, None, raw.len()), "{command}");
        }
    }

    #[test]
    fn headers_vector() {
        let raw = hex(HEADERS);
        let msg = Headers::decode(&raw).unwrap();
        assert_eq!(msg.len(), 1);
        let h = msg.iter().next().unwrap();
        assert_eq!(h.version, 2);
        assert_eq!(h.time, 1_415_239_972);
        assert_eq!(h.bits, 0x181b_c330);
        assert_eq!(h.nonce, 0x6408_9ffe);
        assert_eq!(
            h.prev_blockhash.to_string(),
            "00000000000000000cca48eb4b330d91e8d946d344ca302a86a280161b0bffb6"
        );
        // A real mainnet header: its proof of work checks out.
        assert_eq!(h.check_pow(), Ok(h.block_hash()));
        assert_eq!(msg.get(0), Some(h));
        assert_eq!(msg.to_vec(), raw);
        let hdrs = [h];
        assert_eq!(Headers::from_headers(&hdrs), msg);
        assert_eq!(Headers::from_headers(&hdrs).to_vec(), raw);
        assert_eq!(Headers::from_headers(&hdrs).encoded_len(), raw.len());
    }

    #[test]
    fn headers_genesis() {
        let header_bytes = hex(GENESIS_HEADER);
        let (_, genesis) = BlockHeader::parse(&header_bytes).unwrap();
        let hdrs = [genesis, genesis];
        let raw = Headers::from_headers(&hdrs).to_vec();
        assert_eq!(raw.len(), 1 + 2 * 81);
        assert_eq!(raw[0], 2);
        assert_eq!(&raw[1..81], &header_bytes[..]);
        assert_eq!((raw[81], raw[162]), (0, 0));
        let msg = Headers::decode(&raw).unwrap();
        let got: Vec<BlockHeader> = msg.into_iter().collect();
        assert_eq!(got, hdrs);
        assert_eq!(
            got[1].block_hash().to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        // The genesis header does not follow itself.
        assert!(!msg.is_continuous());
        assert!(Headers::from_headers(&hdrs[..1]).is_continuous());
        let mut next = genesis;
        next.prev_blockhash = genesis.block_hash();
        assert!(Headers::from_headers(&[genesis, next]).is_continuous());
        // No headers at all is a valid answer.
        assert!(Headers::decode(&[0]).unwrap().is_empty());
    }

    #[test]
    fn headers_transaction_count_must_be_zero() {
        let mut raw = hex(HEADERS);
        raw[81] = 1;
        let e = Headers::decode(&raw).unwrap_err();
        assert_eq!(
            err(e),
            (
                DecodeErrorKind::InvalidValue(1),
                Some("transaction count"),
                81
            )
        );
        // In the second entry: the first is fine, the error points into the second.
        let header = hex(GENESIS_HEADER);
        let mut two = vec![2];
        two.extend_from_slice(&header);
        two.push(0);
        two.extend_from_slice(&header);
        two.push(0xfc);
        let e = Headers::decode(&two).unwrap_err();
        assert_eq!(
            err(e),
            (
                DecodeErrorKind::InvalidValue(0xfc),
                Some("transaction count"),
                162
            )
        );
        // A zero count with a non-minimal encoding is refused too.
        raw[81] = 0xfd;
        raw.extend_from_slice(&[0, 0]);
        let e = Headers::decode(&raw).unwrap_err();
        assert_eq!(
            err(e),
            (
                DecodeErrorKind::NonMinimalCompactSize(0),
                Some("transaction count"),
                81
            )
        );
        // A wide count that runs past the end.
        raw.truncate(82);
        let e = Headers::decode(&raw).unwrap_err();
        assert_eq!(
            err(e),
            (DecodeErrorKind::Truncated, Some("transaction count"), 82)
        );
    }

    #[test]
    fn headers_limits() {
        assert_eq!(Headers::MAX_LEN, 162_003);
        let header_bytes = hex(GENESIS_HEADER);
        let (_, genesis) = BlockHeader::parse(&header_bytes).unwrap();
        let full = vec![genesis; 2_000];
        let raw = Headers::from_headers(&full).to_vec();
        assert_eq!(raw.len(), Headers::MAX_LEN as usize);
        assert_eq!(Headers::decode(&raw).unwrap().len(), 2_000);
        // 2,001 headers.
        let over = vec![genesis; 2_001];
        let raw = Headers::from_headers(&over).to_vec();
        let kind = DecodeErrorKind::OverLimit {
            value: 2_001,
            limit: 2_000,
        };
        assert_eq!(
            err(Headers::decode(&raw).unwrap_err()),
            (kind, Some("headers"), 0)
        );
        // Count over the bytes remaining: 2 entries claimed, 1 present.
        let mut short = hex(HEADERS);
        short[0] = 2;
        let kind = DecodeErrorKind::CountOverRemaining {
            count: 2,
            needed: 162,
            remaining: 81,
        };
        assert_eq!(
            err(Headers::decode(&short).unwrap_err()),
            (kind, Some("headers"), 0)
        );
        // Non-minimal count, truncated, trailing.
        let mut padded = vec![0xfd, 0x01, 0x00];
        padded.extend_from_slice(&hex(HEADERS)[1..]);
        assert_eq!(
            err(Headers::decode(&padded).unwrap_err()),
            (
                DecodeErrorKind::NonMinimalCompactSize(1),
                Some("headers"),
                0
            )
        );
        assert_eq!(
            err(Headers::decode(&[]).unwrap_err()),
            (DecodeErrorKind::Truncated, Some("headers"), 0)
        );
        let mut long = hex(HEADERS);
        long.push(0);
        assert_eq!(
            err(Headers::decode(&long).unwrap_err()),
            (DecodeErrorKind::TrailingBytes(1), None, 82)
        );
    }

    #[test]
    fn mempool() {
        assert_eq!(Mempool::decode(&[]), Ok(Mempool));
        assert!(Mempool.to_vec().is_empty());
        assert_eq!(Mempool::MAX_LEN, 0);
        assert_eq!(Mempool::COMMAND, Command::new("mempool"));
        assert_eq!(
            err(Mempool::decode(&[0]).unwrap_err()),
            (DecodeErrorKind::TrailingBytes(1), None, 0)
        );
    }

    #[test]
    fn commands() {
        assert_eq!(Inv::COMMAND, Command::new("inv"));
        assert_eq!(GetData::COMMAND, Command::new("getdata"));
        assert_eq!(NotFound::COMMAND, Command::new("notfound"));
        assert_eq!(GetBlocks::COMMAND, Command::new("getblocks"));
        assert_eq!(GetHeaders::COMMAND, Command::new("getheaders"));
        assert_eq!(Headers::COMMAND, Command::new("headers"));
    }

    #[test]
    fn inv_wtx_roundtrip() {
        let items = [
            InvItem::wtx(crate::types::Wtxid([5; 32])),
            InvItem::tx(Txid([6; 32])),
        ];
        let raw = Inv::from_items(&items).to_vec();
        assert_eq!(&raw[1..5], &[5, 0, 0, 0]);
        assert_eq!(Inv::decode(&raw).unwrap().iter().collect::<Vec<_>>(), items);
    }

    proptest! {
        #[test]
        fn roundtrip((command, payload) in strategy::payloads()) {
            let msg = crate::Message::decode(command, &payload).unwrap();
            prop_assert_eq!(msg.command(), command);
            prop_assert_eq!(msg.to_vec(), payload.clone());
            prop_assert_eq!(msg.encoded_len(), payload.len());
        }

        #[test]
        fn inv_items_roundtrip(items in strategy::inv_items()) {
            let raw = Inv::from_items(&items).to_vec();
            let inv = Inv::decode(&raw).unwrap();
            prop_assert_eq!(inv.iter().collect::<Vec<_>>(), items);
            prop_assert_eq!(inv.to_vec(), raw);
        }

        #[test]
        fn headers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = Headers::decode(&bytes);
            let _ = GetHeaders::decode(&bytes);
            let _ = Inv::decode(&bytes);
        }
    }
}
