//! Bloom filtering for light clients (BIP 37): `filterload`, `filteradd`, `filterclear` and
//! `merkleblock`.
//!
//! References: BIP 37, the Bitcoin developer reference (P2P network, control and data
//! messages), Bitcoin Core `common/bloom.h` (`MAX_BLOOM_FILTER_SIZE`, `MAX_HASH_FUNCS`),
//! `script/script.h` (`MAX_SCRIPT_ELEMENT_SIZE`) and `merkleblock.cpp`
//! (`CPartialMerkleTree`).
//!
//! ## `filterload`
//!
//! | size     | field        | notes                                                       |
//! |---------:|--------------|-------------------------------------------------------------|
//! | 1-3      | length       | CompactSize, at most 36,000 (`MAX_BLOOM_FILTER_SIZE`)       |
//! | length   | `filter`     | the bit field, least significant bit first                  |
//! | 4        | `hash_funcs` | u32 LE, at most 50 (`MAX_HASH_FUNCS`)                       |
//! | 4        | `tweak`      | u32 LE, added to each hash function's seed                  |
//! | 1        | `flags`      | [`BloomFlags`]: how matched outputs update the filter       |
//!
//! ## `filteradd`
//!
//! | size     | field        | notes                                                       |
//! |---------:|--------------|-------------------------------------------------------------|
//! | 1-3      | length       | CompactSize, at most 520 (`MAX_SCRIPT_ELEMENT_SIZE`)        |
//! | length   | `data`       | the element to add to the loaded filter                     |
//!
//! ## `filterclear`
//!
//! No payload.
//!
//! ## `merkleblock`
//!
//! | size     | field                | notes                                               |
//! |---------:|----------------------|-----------------------------------------------------|
//! | 80       | `header`             | [`BlockHeader`]                                     |
//! | 4        | `total_transactions` | u32 LE, transactions in the whole block             |
//! | 1-5      | count                | CompactSize, at most [`limits::MAX_MERKLEBLOCK_HASHES`] |
//! | 32 × n   | `hashes`             | txids and inner nodes, in depth-first order         |
//! | 1-3      | length               | CompactSize, at most [`limits::MAX_MERKLEBLOCK_FLAG_BYTES`] |
//! | length   | `flags`              | one bit per visited node, least significant first  |
//!
//! Decoding checks the encoding only; whether the partial merkle tree is consistent is
//! [`MerkleBlock::extract_matches`]'s job (Bitcoin Core's `ExtractMatches`), and whether it
//! belongs to the header is [`MerkleBlock::check`]'s. [`PartialMerkleTree::from_txids`]
//! builds the tree a server sends.

use alloc::vec::Vec;

use bytes::BufMut;
use nom::number::complete::{le_u8, le_u32};

use crate::error::{DecodeError, DecodeErrorKind};
use crate::header::Command;
use crate::msg::Payload;
use crate::sha256d::Sha256d;
use crate::types::block_header::{BLOCK_HEADER_LEN, BlockHeader};
use crate::types::hash::{MerkleNode, Txid};
use crate::types::list::{Iter, List};
use crate::varint::{compact_size_len, named, put_var_bytes, var_bytes, var_bytes_len};
use crate::{Encode, PResult, limits};

/// How a node updates a loaded filter when a transaction output matches it (BIP 37
/// `nFlags`).
///
/// An open set: values other than the three below are kept as received (Bitcoin Core
/// masks them with `BLOOM_UPDATE_MASK` = 3 when it uses them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct BloomFlags(pub u8);

impl BloomFlags {
    /// `BLOOM_UPDATE_NONE`: never update the filter.
    pub const NONE: Self = Self(0);
    /// `BLOOM_UPDATE_ALL`: add the outpoint of every output whose script matches.
    pub const ALL: Self = Self(1);
    /// `BLOOM_UPDATE_P2PUBKEY_ONLY`: add the outpoint only for pay-to-pubkey and bare
    /// multisig outputs that match.
    pub const P2PUBKEY_ONLY: Self = Self(2);
    /// `BLOOM_UPDATE_MASK`: the bits that select the update mode.
    pub const UPDATE_MASK: u8 = 3;

    /// Returns the update mode Bitcoin Core applies: the flags masked with
    /// [`BloomFlags::UPDATE_MASK`].
    #[must_use]
    pub const fn update_mode(self) -> Self {
        Self(self.0 & Self::UPDATE_MASK)
    }

    /// Returns the constant's name (`"ALL"`) for a known value, `None` otherwise.
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        match self {
            Self::NONE => Some("NONE"),
            Self::ALL => Some("ALL"),
            Self::P2PUBKEY_ONLY => Some("P2PUBKEY_ONLY"),
            _ => None,
        }
    }
}

/// `filterload`: sets a bloom filter on the connection (BIP 37).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLoad<'a> {
    /// The filter's bit field, at most [`limits::MAX_BLOOM_FILTER_SIZE`] bytes.
    pub filter: &'a [u8],
    /// The number of hash functions, at most [`limits::MAX_HASH_FUNCS`].
    pub hash_funcs: u32,
    /// A value added to every hash function's seed.
    pub tweak: u32,
    /// How matches update the filter.
    pub flags: BloomFlags,
}

impl<'a> FilterLoad<'a> {
    /// Returns a `filterload` message. A filter over [`limits::MAX_BLOOM_FILTER_SIZE`] bytes
    /// or with more than [`limits::MAX_HASH_FUNCS`] hash functions encodes, but no peer
    /// accepts it (see [`FilterLoad::is_within_size_constraints`]).
    #[must_use]
    pub const fn new(filter: &'a [u8], hash_funcs: u32, tweak: u32, flags: BloomFlags) -> Self {
        Self {
            filter,
            hash_funcs,
            tweak,
            flags,
        }
    }

    /// Returns whether the filter respects BIP 37's limits (Bitcoin Core
    /// `CBloomFilter::IsWithinSizeConstraints`).
    #[must_use]
    pub const fn is_within_size_constraints(&self) -> bool {
        self.filter.len() as u64 <= limits::MAX_BLOOM_FILTER_SIZE
            && self.hash_funcs <= limits::MAX_HASH_FUNCS
    }
}

impl Encode for FilterLoad<'_> {
    fn encoded_len(&self) -> usize {
        var_bytes_len(self.filter.len()) + 4 + 4 + 1
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        put_var_bytes(buf, self.filter);
        buf.put_u32_le(self.hash_funcs);
        buf.put_u32_le(self.tweak);
        buf.put_u8(self.flags.0);
    }
}

impl<'a> Payload<'a> for FilterLoad<'a> {
    const COMMAND: Command = Command::new("filterload");
    /// 3 + 36,000 + 4 + 4 + 1 = 36,012 bytes.
    const MAX_LEN: u32 = (var_bytes_len(limits::MAX_BLOOM_FILTER_SIZE as usize) + 9) as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, filter) = var_bytes(input, "filter", limits::MAX_BLOOM_FILTER_SIZE)?;
        let (rest, hash_funcs) = named("hash_funcs", le_u32(i))?;
        // BIP 37: "The maximum value allowed in this field is 50."
        if hash_funcs > limits::MAX_HASH_FUNCS {
            let kind = DecodeErrorKind::OverLimit {
                value: u64::from(hash_funcs),
                limit: u64::from(limits::MAX_HASH_FUNCS),
            };
            return DecodeError::field(i, "hash_funcs", kind).fail();
        }
        let (rest, tweak) = named("tweak", le_u32(rest))?;
        let (rest, flags) = named("flags", le_u8(rest))?;
        Ok((
            rest,
            Self {
                filter,
                hash_funcs,
                tweak,
                flags: BloomFlags(flags),
            },
        ))
    }
}

/// `filteradd`: adds one element to the loaded bloom filter (BIP 37).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterAdd<'a> {
    /// The element, at most [`limits::MAX_SCRIPT_ELEMENT_SIZE`] bytes.
    pub data: &'a [u8],
}

impl<'a> FilterAdd<'a> {
    /// Returns a `filteradd` message for `data` (at most
    /// [`limits::MAX_SCRIPT_ELEMENT_SIZE`] bytes to be accepted).
    #[must_use]
    pub const fn new(data: &'a [u8]) -> Self {
        Self { data }
    }
}

impl Encode for FilterAdd<'_> {
    fn encoded_len(&self) -> usize {
        var_bytes_len(self.data.len())
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        put_var_bytes(buf, self.data);
    }
}

impl<'a> Payload<'a> for FilterAdd<'a> {
    const COMMAND: Command = Command::new("filteradd");
    /// 3 + 520 = 523 bytes.
    const MAX_LEN: u32 = var_bytes_len(limits::MAX_SCRIPT_ELEMENT_SIZE as usize) as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        // BIP 37: elements larger than a script push (520 bytes) are refused.
        let (i, data) = var_bytes(input, "data", limits::MAX_SCRIPT_ELEMENT_SIZE)?;
        Ok((i, Self { data }))
    }
}

/// `filterclear`: removes the bloom filter (BIP 37).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FilterClear;

impl Encode for FilterClear {
    fn encoded_len(&self) -> usize {
        0
    }

    fn encode<B: BufMut>(&self, _buf: &mut B) {}
}

impl<'a> Payload<'a> for FilterClear {
    const COMMAND: Command = Command::new("filterclear");
    const MAX_LEN: u32 = 0;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        Ok((input, Self))
    }
}

/// `merkleblock`: a block header with a partial merkle tree proving which of its
/// transactions matched the filter (BIP 37).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MerkleBlock<'a> {
    /// The block's header.
    pub header: BlockHeader,
    /// The number of transactions in the block, matched or not.
    pub total_transactions: u32,
    /// The tree's hashes in depth-first order: txids at the leaves, inner nodes above,
    /// at most [`limits::MAX_MERKLEBLOCK_HASHES`].
    pub hashes: List<'a, MerkleNode>,
    /// One bit per visited node, least significant bit of each byte first, at most
    /// [`limits::MAX_MERKLEBLOCK_FLAG_BYTES`] bytes.
    pub flags: &'a [u8],
}

/// What a valid partial merkle tree proves: the root it hashes to and the transactions
/// that matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerkleMatches {
    /// The merkle root the tree hashes to; compare it with the header's.
    pub merkle_root: MerkleNode,
    /// The matched transactions, in block order: (position in the block, txid).
    pub matches: Vec<(u32, Txid)>,
}

impl MerkleMatches {
    /// Returns an iterator over the matched txids, in block order.
    pub fn txids(&self) -> impl Iterator<Item = Txid> + '_ {
        self.matches.iter().map(|&(_, txid)| txid)
    }
}

/// Why a partial merkle tree does not check out (Bitcoin Core `ExtractMatches` and
/// `TraverseAndExtract` failures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleBlockError {
    /// `total_transactions` is zero: a block always has a coinbase.
    #[error("merkle block claims no transactions")]
    NoTransactions,
    /// `total_transactions` is more than a block can hold.
    #[error("{count} transactions is over the limit {limit}")]
    TooManyTransactions {
        /// The claimed number of transactions.
        count: u64,
        /// [`limits::MAX_MERKLEBLOCK_TXS`].
        limit: u64,
    },
    /// More hashes than transactions: a tree never needs that many.
    #[error("{hashes} hashes for {transactions} transactions")]
    MoreHashesThanTransactions {
        /// The number of hashes.
        hashes: usize,
        /// `total_transactions`.
        transactions: u32,
    },
    /// Fewer flag bits than hashes: every hash needs a node, every node a bit.
    #[error("{bits} flag bits for {hashes} hashes")]
    FewerFlagBitsThanHashes {
        /// The number of flag bits (8 per byte).
        bits: usize,
        /// The number of hashes.
        hashes: usize,
    },
    /// The tree needs more flag bits than the message has.
    #[error("flag bits run out")]
    FlagsExhausted,
    /// The tree needs more hashes than the message has.
    #[error("hashes run out")]
    HashesExhausted,
    /// Two sibling subtrees hash the same, which a real block cannot produce
    /// (CVE-2012-2459 duplicate transactions).
    #[error("identical sibling hashes at height {height}, position {position}")]
    IdenticalSiblings {
        /// The height of the parent node (leaves are at 0).
        height: u32,
        /// The parent node's position in its row.
        position: u64,
    },
    /// Whole flag bytes were left unused.
    #[error("{used_bits} flag bits used but {flag_bytes} flag bytes sent")]
    UnusedFlagBytes {
        /// The flag bits the tree used.
        used_bits: usize,
        /// The flag bytes in the message.
        flag_bytes: usize,
    },
    /// Hashes were left unused.
    #[error("{used} of {hashes} hashes used")]
    UnusedHashes {
        /// The hashes the tree used.
        used: usize,
        /// The hashes in the message.
        hashes: usize,
    },
    /// The tree is consistent but its root is not the header's merkle root.
    #[error("merkle root mismatch: header has {header}, tree gives {computed}")]
    RootMismatch {
        /// The header's merkle root.
        header: MerkleNode,
        /// The root the tree hashes to.
        computed: MerkleNode,
    },
}

/// Returns the number of nodes at `height` in a tree over `n` leaves.
const fn tree_width(n: u64, height: u32) -> u64 {
    (n + (1 << height) - 1) >> height
}

/// Returns the height of the tree over `n` leaves (`n` at most 2^32).
const fn tree_height(n: u64) -> u32 {
    let mut height = 0;
    while tree_width(n, height) > 1 {
        height += 1;
    }
    height
}

fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256d::new();
    h.update(left);
    h.update(right);
    h.finalize()
}

/// The state of one walk through a partial merkle tree.
struct Walk<'a, 'f> {
    total: u64,
    flags: &'f [u8],
    bits_used: usize,
    hashes: Iter<'a, MerkleNode>,
    hashes_used: usize,
    matches: Vec<(u32, Txid)>,
}

impl Walk<'_, '_> {
    /// Bitcoin Core `TraverseAndExtract`: depth first, one flag bit per visited node.
    fn traverse(&mut self, height: u32, pos: u64) -> Result<[u8; 32], MerkleBlockError> {
        let byte = self
            .flags
            .get(self.bits_used / 8)
            .ok_or(MerkleBlockError::FlagsExhausted)?;
        let parent_of_match = byte >> (self.bits_used % 8) & 1 == 1;
        self.bits_used += 1;
        if height == 0 || !parent_of_match {
            // A leaf, or a subtree with no match: its hash is given.
            let hash = self
                .hashes
                .next()
                .ok_or(MerkleBlockError::HashesExhausted)?;
            self.hashes_used += 1;
            if height == 0 && parent_of_match {
                // pos < total <= MAX_MERKLEBLOCK_TXS, which fits in u32.
                let index = u32::try_from(pos).unwrap_or(u32::MAX);
                self.matches.push((index, Txid(hash.0)));
            }
            return Ok(hash.0);
        }
        let left = self.traverse(height - 1, pos * 2)?;
        let right = if pos * 2 + 1 < tree_width(self.total, height - 1) {
            let right = self.traverse(height - 1, pos * 2 + 1)?;
            if right == left {
                return Err(MerkleBlockError::IdenticalSiblings {
                    height,
                    position: pos,
                });
            }
            right
        } else {
            left
        };
        Ok(hash_pair(&left, &right))
    }
}

impl<'a> MerkleBlock<'a> {
    /// Returns a `merkleblock` message from its parts (see [`PartialMerkleTree`] to build
    /// `hashes` and `flags` from a block's txids).
    #[must_use]
    pub const fn new(
        header: BlockHeader,
        total_transactions: u32,
        hashes: &'a [MerkleNode],
        flags: &'a [u8],
    ) -> Self {
        Self {
            header,
            total_transactions,
            hashes: List::from_items(hashes),
            flags,
        }
    }

    /// Walks the partial merkle tree as BIP 37 describes and returns the root it hashes to
    /// and the matched transactions, without comparing the root with the header's (see
    /// [`MerkleBlock::check`]).
    ///
    /// The work is bounded by the flag bits present (one node per bit), the recursion by
    /// the tree's height (at most 17 for [`limits::MAX_MERKLEBLOCK_TXS`]).
    ///
    /// # Errors
    /// [`MerkleBlockError`] for each check of Bitcoin Core's `ExtractMatches`, with
    /// [`limits::MAX_MERKLEBLOCK_TXS`] as the bound on `total_transactions`.
    pub fn extract_matches(&self) -> Result<MerkleMatches, MerkleBlockError> {
        let total = u64::from(self.total_transactions);
        if total == 0 {
            return Err(MerkleBlockError::NoTransactions);
        }
        if total > limits::MAX_MERKLEBLOCK_TXS {
            return Err(MerkleBlockError::TooManyTransactions {
                count: total,
                limit: limits::MAX_MERKLEBLOCK_TXS,
            });
        }
        let hashes = self.hashes.len();
        if hashes as u64 > total {
            return Err(MerkleBlockError::MoreHashesThanTransactions {
                hashes,
                transactions: self.total_transactions,
            });
        }
        let bits = self.flags.len().saturating_mul(8);
        if bits < hashes {
            return Err(MerkleBlockError::FewerFlagBitsThanHashes { bits, hashes });
        }
        let mut walk = Walk {
            total,
            flags: self.flags,
            bits_used: 0,
            hashes: self.hashes.iter(),
            hashes_used: 0,
            matches: Vec::new(),
        };
        let root = walk.traverse(tree_height(total), 0)?;
        // Only the padding of the last byte may go unused.
        if walk.bits_used.div_ceil(8) != self.flags.len() {
            return Err(MerkleBlockError::UnusedFlagBytes {
                used_bits: walk.bits_used,
                flag_bytes: self.flags.len(),
            });
        }
        if walk.hashes_used != hashes {
            return Err(MerkleBlockError::UnusedHashes {
                used: walk.hashes_used,
                hashes,
            });
        }
        Ok(MerkleMatches {
            merkle_root: MerkleNode(root),
            matches: walk.matches,
        })
    }

    /// Extracts the matches and checks that the tree hashes to the header's merkle root.
    ///
    /// The header's proof of work is a separate check
    /// ([`BlockHeader::check_pow`]).
    ///
    /// # Errors
    /// As [`MerkleBlock::extract_matches`], then [`MerkleBlockError::RootMismatch`].
    pub fn check(&self) -> Result<MerkleMatches, MerkleBlockError> {
        let matches = self.extract_matches()?;
        if matches.merkle_root != self.header.merkle_root {
            return Err(MerkleBlockError::RootMismatch {
                header: self.header.merkle_root,
                computed: matches.merkle_root,
            });
        }
        Ok(matches)
    }
}

impl Encode for MerkleBlock<'_> {
    fn encoded_len(&self) -> usize {
        BLOCK_HEADER_LEN + 4 + self.hashes.encoded_len() + var_bytes_len(self.flags.len())
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        self.header.encode(buf);
        buf.put_u32_le(self.total_transactions);
        self.hashes.encode(buf);
        put_var_bytes(buf, self.flags);
    }
}

impl<'a> Payload<'a> for MerkleBlock<'a> {
    const COMMAND: Command = Command::new("merkleblock");
    /// 80 + 4 + (5 + 100,000 × 32) + (3 + 25,001) = 3,225,093 bytes.
    const MAX_LEN: u32 = (BLOCK_HEADER_LEN
        + 4
        + compact_size_len(limits::MAX_MERKLEBLOCK_HASHES)
        + limits::MAX_MERKLEBLOCK_HASHES as usize * 32
        + var_bytes_len(limits::MAX_MERKLEBLOCK_FLAG_BYTES as usize))
        as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = named("header", BlockHeader::parse(input))?;
        let (i, total_transactions) = named("total_transactions", le_u32(i))?;
        let (i, hashes) = List::parse(i, "hashes", limits::MAX_MERKLEBLOCK_HASHES)?;
        let (i, flags) = var_bytes(i, "flags", limits::MAX_MERKLEBLOCK_FLAG_BYTES)?;
        Ok((
            i,
            Self {
                header,
                total_transactions,
                hashes,
                flags,
            },
        ))
    }
}

/// An owned partial merkle tree, as a server builds it for a `merkleblock` (Bitcoin Core
/// `CPartialMerkleTree` constructor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialMerkleTree {
    /// The number of transactions in the block.
    pub total_transactions: u32,
    /// The hashes, in depth-first order.
    pub hashes: Vec<MerkleNode>,
    /// The flag bits, packed least significant bit first.
    pub flags: Vec<u8>,
}

impl PartialMerkleTree {
    /// Builds the tree proving which of a block's `txids` matched: `matches[i]` tells
    /// whether `txids[i]` did (missing entries count as not matched).
    ///
    /// # Errors
    /// [`MerkleBlockError::NoTransactions`] for no txids,
    /// [`MerkleBlockError::TooManyTransactions`] above [`limits::MAX_MERKLEBLOCK_TXS`].
    pub fn from_txids(txids: &[Txid], matches: &[bool]) -> Result<Self, MerkleBlockError> {
        if txids.is_empty() {
            return Err(MerkleBlockError::NoTransactions);
        }
        let total = txids.len() as u64;
        if total > limits::MAX_MERKLEBLOCK_TXS {
            return Err(MerkleBlockError::TooManyTransactions {
                count: total,
                limit: limits::MAX_MERKLEBLOCK_TXS,
            });
        }
        let mut builder = Builder {
            txids,
            matches,
            bits: 0,
            hashes: Vec::new(),
            flags: Vec::new(),
        };
        builder.traverse(tree_height(total), 0);
        Ok(Self {
            // total <= MAX_MERKLEBLOCK_TXS < 2^32.
            total_transactions: u32::try_from(total).unwrap_or(u32::MAX),
            hashes: builder.hashes,
            flags: builder.flags,
        })
    }

    /// Returns the `merkleblock` message carrying this tree under `header`.
    #[must_use]
    pub fn to_merkle_block(&self, header: BlockHeader) -> MerkleBlock<'_> {
        MerkleBlock::new(header, self.total_transactions, &self.hashes, &self.flags)
    }
}

/// The state of one walk building a partial merkle tree.
struct Builder<'t> {
    txids: &'t [Txid],
    matches: &'t [bool],
    bits: usize,
    hashes: Vec<MerkleNode>,
    flags: Vec<u8>,
}

impl Builder<'_> {
    fn total(&self) -> u64 {
        self.txids.len() as u64
    }

    /// Bitcoin Core `CalcHash`: the hash of the node at (`height`, `pos`).
    fn node_hash(&self, height: u32, pos: u64) -> [u8; 32] {
        if height == 0 {
            let leaf = usize::try_from(pos).ok().and_then(|p| self.txids.get(p));
            return leaf.map(|t| t.0).unwrap_or_default();
        }
        let left = self.node_hash(height - 1, pos * 2);
        let right = if pos * 2 + 1 < tree_width(self.total(), height - 1) {
            self.node_hash(height - 1, pos * 2 + 1)
        } else {
            left
        };
        hash_pair(&left, &right)
    }

    fn push_bit(&mut self, bit: bool) {
        if self.bits % 8 == 0 {
            self.flags.push(0);
        }
        if bit {
            if let Some(last) = self.flags.last_mut() {
                *last |= 1 << (self.bits % 8);
            }
        }
        self.bits += 1;
    }

    /// Bitcoin Core `TraverseAndBuild`.
    fn traverse(&mut self, height: u32, pos: u64) {
        let first = pos << height;
        let end = ((pos + 1) << height).min(self.total());
        let parent_of_match = (first..end)
            .any(|p| usize::try_from(p).is_ok_and(|p| self.matches.get(p) == Some(&true)));
        self.push_bit(parent_of_match);
        if height == 0 || !parent_of_match {
            self.hashes.push(MerkleNode(self.node_hash(height, pos)));
        } else {
            self.traverse(height - 1, pos * 2);
            if pos * 2 + 1 < tree_width(self.total(), height - 1) {
                self.traverse(height - 1, pos * 2 + 1);
            }
        }
    }
}

#[cfg(any(test, feature = "proptest"))]
pub(crate) mod strategy {
    use alloc::vec::Vec;

    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::types::block::strategy::header;

    /// Distinct txids (1..12) and which of them match.
    pub(crate) fn txids_and_matches() -> impl Strategy<Value = (Vec<Txid>, Vec<bool>)> {
        proptest::collection::btree_set(any::<[u8; 32]>(), 1..12).prop_flat_map(|set| {
            let txids: Vec<Txid> = set.into_iter().map(Txid).collect();
            let n = txids.len();
            (Just(txids), vec(any::<bool>(), n))
        })
    }

    /// `filterload`, `filteradd`, `filterclear` and `merkleblock` payloads.
    pub(crate) fn payloads() -> BoxedStrategy<(Command, Vec<u8>)> {
        let flags = prop_oneof![
            Just(BloomFlags::NONE),
            Just(BloomFlags::ALL),
            Just(BloomFlags::P2PUBKEY_ONLY),
            any::<u8>().prop_map(BloomFlags),
        ];
        prop_oneof![
            (
                vec(any::<u8>(), 0..40),
                0..=limits::MAX_HASH_FUNCS,
                any::<u32>(),
                flags
            )
                .prop_map(|(filter, n, tweak, flags)| {
                    let msg = FilterLoad::new(&filter, n, tweak, flags);
                    (FilterLoad::COMMAND, msg.to_vec())
                }),
            vec(any::<u8>(), 0..40)
                .prop_map(|data| (FilterAdd::COMMAND, FilterAdd::new(&data).to_vec())),
            Just((FilterClear::COMMAND, FilterClear.to_vec())),
            // Any hashes and flags: the codec does not judge the tree.
            (
                header(),
                any::<u32>(),
                vec(any::<[u8; 32]>().prop_map(MerkleNode), 0..5),
                vec(any::<u8>(), 0..5)
            )
                .prop_map(|(header, total, hashes, flags)| {
                    let msg = MerkleBlock::new(header, total, &hashes, &flags);
                    (MerkleBlock::COMMAND, msg.to_vec())
                }),
            // Valid trees.
            (header(), txids_and_matches()).prop_map(|(header, (txids, matches))| {
                let tree = PartialMerkleTree::from_txids(&txids, &matches)
                    .expect("the strategy yields 1..12 txids");
                (MerkleBlock::COMMAND, tree.to_merkle_block(header).to_vec())
            }),
        ]
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use alloc::vec;

    use proptest::prelude::*;

    use super::*;
    use crate::testutil::hex;

    fn err(e: DecodeError) -> (DecodeErrorKind, Option<&'static str>, usize) {
        (e.kind, e.field, e.offset)
    }

    /// The `filterload` example of the Bitcoin developer reference.
    const FILTERLOAD: &str = "02 b50f 0b000000 00000000 00";

    /// The `filteradd` example of the Bitcoin developer reference (a txid of the block in
    /// the `merkleblock` example).
    const FILTERADD: &str = "20 fdacf9b3eb077412e7a968d2e4f11b9a9dee312d666187ed77ee7d26af16cb0b";

    /// The `merkleblock` example of the Bitcoin developer reference: mainnet block 100,014
    /// (7 transactions), one of which matched.
    const MERKLEBLOCK: &str = "01000000
        82bb869cf3a793432a66e826e05a6fc37469f8efb7421dc88067010000000000
        7f16c5962e8bd963659c793ce370d95f093bc7e367117b3c30c1f8fdd0d97287
        76381b4d 4c86041b 554b8529
        07000000
        04
        3612262624047ee87660be1a707519a443b1c1ce3d248cbfc6c15870f6c5daa2
        019f5b01d4195ecbc9398fbf3c3b1fa9bb3183301d7a1fb3bd174fcfa40a2b65
        41ed70551dd7e841883ab8f0b16bf04176b7d1480e4f0af9f3d4c3595768d068
        20d2a7bc994987302e5b1ac80fc425fe25f8b63169ea78e68fbaaefa59379bbf
        01 1d";

    #[test]
    fn filterload_vector() {
        let raw = hex(FILTERLOAD);
        let msg = FilterLoad::decode(&raw).unwrap();
        assert_eq!(msg.filter, &[0xb5, 0x0f]);
        assert_eq!(msg.hash_funcs, 11);
        assert_eq!(msg.tweak, 0);
        assert_eq!(msg.flags, BloomFlags::NONE);
        assert!(msg.is_within_size_constraints());
        assert_eq!(msg.to_vec(), raw);
        let built = FilterLoad::new(&[0xb5, 0x0f], 11, 0, BloomFlags::NONE);
        assert_eq!(built, msg);
        assert_eq!(built.to_vec(), raw);
        assert_eq!(built.encoded_len(), raw.len());
    }

    #[test]
    fn bloom_flags() {
        assert_eq!(BloomFlags::ALL.name(), Some("ALL"));
        assert_eq!(BloomFlags::P2PUBKEY_ONLY.name(), Some("P2PUBKEY_ONLY"));
        assert_eq!(BloomFlags(7).name(), None);
        assert_eq!(BloomFlags(0x86).update_mode(), BloomFlags::P2PUBKEY_ONLY);
        // Unknown flags are kept as received.
        let mut raw = hex(FILTERLOAD);
        raw[11] = 0x86;
        let msg = FilterLoad::decode(&raw).unwrap();
        assert_eq!(msg.flags, BloomFlags(0x86));
        assert_eq!(msg.to_vec(), raw);
    }

    #[test]
    fn filterload_limits() {
        assert_eq!(FilterLoad::MAX_LEN, 36_012);
        let filter = vec![0xffu8; 36_000];
        let raw = FilterLoad::new(&filter, 50, 7, BloomFlags::ALL).to_vec();
        assert_eq!(raw.len(), FilterLoad::MAX_LEN as usize);
        assert_eq!(FilterLoad::decode(&raw).unwrap().filter.len(), 36_000);
        // A filter of 36,001 bytes.
        let filter = vec![0xffu8; 36_001];
        let big = FilterLoad::new(&filter, 1, 0, BloomFlags::NONE);
        assert!(!big.is_within_size_constraints());
        let kind = DecodeErrorKind::OverLimit {
            value: 36_001,
            limit: 36_000,
        };
        assert_eq!(
            err(FilterLoad::decode(&big.to_vec()).unwrap_err()),
            (kind, Some("filter"), 0)
        );
        // 51 hash functions: refused at the field's offset.
        let many = FilterLoad::new(&[0xb5, 0x0f], 51, 0, BloomFlags::NONE);
        assert!(!many.is_within_size_constraints());
        let kind = DecodeErrorKind::OverLimit {
            value: 51,
            limit: 50,
        };
        assert_eq!(
            err(FilterLoad::decode(&many.to_vec()).unwrap_err()),
            (kind, Some("hash_funcs"), 3)
        );
    }

    #[test]
    fn filterload_malformed() {
        let raw = hex(FILTERLOAD);
        // Length over the bytes remaining.
        let kind = DecodeErrorKind::CountOverRemaining {
            count: 20,
            needed: 20,
            remaining: 11,
        };
        let mut long_filter = raw.clone();
        long_filter[0] = 20;
        assert_eq!(
            err(FilterLoad::decode(&long_filter).unwrap_err()),
            (kind, Some("filter"), 0)
        );
        // Non-minimal length.
        let mut padded = vec![0xfd, 0x02, 0x00];
        padded.extend_from_slice(&raw[1..]);
        assert_eq!(
            err(FilterLoad::decode(&padded).unwrap_err()),
            (DecodeErrorKind::NonMinimalCompactSize(2), Some("filter"), 0)
        );
        // Truncated in each fixed field.
        for (len, field, offset) in [
            (0, "filter", 0),
            (5, "hash_funcs", 3),
            (10, "tweak", 7),
            (11, "flags", 11),
        ] {
            assert_eq!(
                err(FilterLoad::decode(&raw[..len]).unwrap_err()),
                (DecodeErrorKind::Truncated, Some(field), offset),
                "cut at {len}"
            );
        }
        // Trailing bytes.
        let mut long = raw.clone();
        long.push(0);
        assert_eq!(
            err(FilterLoad::decode(&long).unwrap_err()),
            (DecodeErrorKind::TrailingBytes(1), None, 12)
        );
    }

    #[test]
    fn filteradd_vector() {
        let raw = hex(FILTERADD);
        let msg = FilterAdd::decode(&raw).unwrap();
        assert_eq!(msg.data.len(), 32);
        assert_eq!(msg.data[0], 0xfd);
        assert_eq!(msg.to_vec(), raw);
        assert_eq!(FilterAdd::new(msg.data).to_vec(), raw);
        assert_eq!(FilterAdd::new(msg.data).encoded_len(), raw.len());
        assert_eq!(FilterAdd::decode(&[0]).unwrap().data, &[] as &[u8]);
    }

    #[test]
    fn filteradd_limits_and_malformed() {
        assert_eq!(FilterAdd::MAX_LEN, 523);
        let data = vec![1u8; 520];
        let raw = FilterAdd::new(&data).to_vec();
        assert_eq!(raw.len(), FilterAdd::MAX_LEN as usize);
        assert_eq!(FilterAdd::decode(&raw).unwrap().data, &data[..]);
        let data = vec![1u8; 521];
        let kind = DecodeErrorKind::OverLimit {
            value: 521,
            limit: 520,
        };
        assert_eq!(
            err(FilterAdd::decode(&FilterAdd::new(&data).to_vec()).unwrap_err()),
            (kind, Some("data"), 0)
        );
        let kind = DecodeErrorKind::CountOverRemaining {
            count: 5,
            needed: 5,
            remaining: 2,
        };
        assert_eq!(
            err(FilterAdd::decode(&[5, 1, 2]).unwrap_err()),
            (kind, Some("data"), 0)
        );
        assert_eq!(
            err(FilterAdd::decode(&[0xfd, 0x01, 0x00, 0xaa]).unwrap_err()),
            (DecodeErrorKind::NonMinimalCompactSize(1), Some("data"), 0)
        );
        assert_eq!(
            err(FilterAdd::decode(&[]).unwrap_err()),
            (DecodeErrorKind::Truncated, Some("data"), 0)
        );
        let mut long = hex(FILTERADD);
        long.push(0);
        assert_eq!(
            err(FilterAdd::decode(&long).unwrap_err()),
            (DecodeErrorKind::TrailingBytes(1), None, 33)
        );
    }

    #[test]
    fn filterclear() {
        assert_eq!(FilterClear::decode(&[]), Ok(FilterClear));
        assert!(FilterClear.to_vec().is_empty());
        assert_eq!(FilterClear::MAX_LEN, 0);
        assert_eq!(FilterClear::COMMAND, Command::new("filterclear"));
        assert_eq!(
            err(FilterClear::decode(&[1, 2]).unwrap_err()),
            (DecodeErrorKind::TrailingBytes(2), None, 0)
        );
    }

    #[test]
    fn merkleblock_vector() {
        let raw = hex(MERKLEBLOCK);
        let msg = MerkleBlock::decode(&raw).unwrap();
        assert_eq!(msg.header.version, 1);
        assert_eq!(msg.header.time, 1_293_629_558);
        assert_eq!(msg.header.bits, 0x1b04_864c);
        assert_eq!(
            msg.header.merkle_root.to_string(),
            "8772d9d0fdf8c1303c7b1167e3c73b095fd970e33c799c6563d98b2e96c5167f"
        );
        assert_eq!(msg.header.check_pow(), Ok(msg.header.block_hash()));
        assert_eq!(msg.total_transactions, 7);
        assert_eq!(msg.hashes.len(), 4);
        assert_eq!(msg.flags, &[0x1d]);
        assert_eq!(msg.to_vec(), raw);
        assert_eq!(msg.encoded_len(), raw.len());
        let hashes: Vec<MerkleNode> = msg.hashes.iter().collect();
        let built = MerkleBlock::new(msg.header, 7, &hashes, &[0x1d]);
        assert_eq!(built, msg);
        assert_eq!(built.to_vec(), raw);
    }

    #[test]
    fn merkleblock_extracts_the_match() {
        let raw = hex(MERKLEBLOCK);
        let msg = MerkleBlock::decode(&raw).unwrap();
        let found = msg.check().unwrap();
        // The tree hashes to the header's merkle root ...
        assert_eq!(found.merkle_root, msg.header.merkle_root);
        // ... and proves one match: the second hash, the fifth transaction of the block.
        let second = msg.hashes.get(1).unwrap();
        assert_eq!(found.matches, vec![(4, Txid(second.0))]);
        assert_eq!(found.txids().collect::<Vec<_>>(), vec![Txid(second.0)]);
        assert_eq!(msg.extract_matches(), Ok(found));
        // Under another header the tree is consistent but proves nothing.
        let mut other = msg;
        other.header.merkle_root = MerkleNode([0; 32]);
        assert!(matches!(
            other.check(),
            Err(MerkleBlockError::RootMismatch { .. })
        ));
    }

    #[test]
    fn merkleblock_tree_errors() {
        let raw = hex(MERKLEBLOCK);
        let msg = MerkleBlock::decode(&raw).unwrap();
        let hashes: Vec<MerkleNode> = msg.hashes.iter().collect();
        let with = |total: u32, hashes: &[MerkleNode], flags: &[u8]| {
            MerkleBlock::new(msg.header, total, hashes, flags)
                .extract_matches()
                .unwrap_err()
        };
        assert_eq!(with(0, &hashes, &[0x1d]), MerkleBlockError::NoTransactions);
        assert_eq!(
            with(100_001, &hashes, &[0x1d]),
            MerkleBlockError::TooManyTransactions {
                count: 100_001,
                limit: 100_000
            }
        );
        assert_eq!(
            with(3, &hashes, &[0x1d]),
            MerkleBlockError::MoreHashesThanTransactions {
                hashes: 4,
                transactions: 3
            }
        );
        assert_eq!(
            with(7, &hashes, &[]),
            MerkleBlockError::FewerFlagBitsThanHashes { bits: 0, hashes: 4 }
        );
        // All ones: descends everywhere and needs more than 8 bits.
        assert_eq!(with(7, &hashes, &[0xff]), MerkleBlockError::FlagsExhausted);
        assert_eq!(
            with(7, &hashes[..3], &[0x1d]),
            MerkleBlockError::HashesExhausted
        );
        let mut five = hashes.clone();
        five.push(MerkleNode([9; 32]));
        assert_eq!(
            with(7, &five, &[0x1d]),
            MerkleBlockError::UnusedHashes { used: 4, hashes: 5 }
        );
        assert_eq!(
            with(7, &hashes, &[0x1d, 0x00]),
            MerkleBlockError::UnusedFlagBytes {
                used_bits: 7,
                flag_bytes: 2
            }
        );
        // Two leaves with the same hash under one parent (CVE-2012-2459).
        let same = [MerkleNode([5; 32]), MerkleNode([5; 32])];
        assert_eq!(
            with(2, &same, &[0b111]),
            MerkleBlockError::IdenticalSiblings {
                height: 1,
                position: 0
            }
        );
    }

    #[test]
    fn merkleblock_limits_and_malformed() {
        assert_eq!(MerkleBlock::MAX_LEN, 3_225_093);
        let raw = hex(MERKLEBLOCK);
        // Truncated header, transaction count, hashes, flags.
        assert_eq!(
            err(MerkleBlock::decode(&raw[..50]).unwrap_err()),
            (DecodeErrorKind::Truncated, Some("header"), 0)
        );
        assert_eq!(
            err(MerkleBlock::decode(&raw[..82]).unwrap_err()),
            (DecodeErrorKind::Truncated, Some("total_transactions"), 80)
        );
        assert_eq!(
            err(MerkleBlock::decode(&raw[..84]).unwrap_err()),
            (DecodeErrorKind::Truncated, Some("hashes"), 84)
        );
        let flags_at = 85 + 4 * 32;
        assert_eq!(
            err(MerkleBlock::decode(&raw[..flags_at]).unwrap_err()),
            (DecodeErrorKind::Truncated, Some("flags"), flags_at)
        );
        assert_eq!(
            err(MerkleBlock::decode(&raw[..flags_at + 1]).unwrap_err()),
            (
                DecodeErrorKind::CountOverRemaining {
                    count: 1,
                    needed: 1,
                    remaining: 0
                },
                Some("flags"),
                flags_at
            )
        );
        // Hash count over the limit (100,001) and over the bytes remaining.
        let mut over = raw[..84].to_vec();
        over.extend_from_slice(&[0xfe, 0xa1, 0x86, 0x01, 0x00]);
        let kind = DecodeErrorKind::OverLimit {
            value: 100_001,
            limit: 100_000,
        };
        assert_eq!(
            err(MerkleBlock::decode(&over).unwrap_err()),
            (kind, Some("hashes"), 84)
        );
        let mut short = raw.clone();
        short[84] = 5;
        let kind = DecodeErrorKind::CountOverRemaining {
            count: 5,
            needed: 160,
            remaining: 130,
        };
        assert_eq!(
            err(MerkleBlock::decode(&short).unwrap_err()),
            (kind, Some("hashes"), 84)
        );
        // Flag bytes over the limit.
        let hashes: Vec<MerkleNode> = MerkleBlock::decode(&raw).unwrap().hashes.iter().collect();
        let header = MerkleBlock::decode(&raw).unwrap().header;
        let flags = vec![0u8; 25_002];
        let big = MerkleBlock::new(header, 7, &hashes, &flags).to_vec();
        let kind = DecodeErrorKind::OverLimit {
            value: 25_002,
            limit: 25_001,
        };
        assert_eq!(
            err(MerkleBlock::decode(&big).unwrap_err()),
            (kind, Some("flags"), flags_at)
        );
        // Non-minimal counts.
        let mut padded = raw[..84].to_vec();
        padded.extend_from_slice(&[0xfd, 0x04, 0x00]);
        padded.extend_from_slice(&raw[85..]);
        assert_eq!(
            err(MerkleBlock::decode(&padded).unwrap_err()),
            (
                DecodeErrorKind::NonMinimalCompactSize(4),
                Some("hashes"),
                84
            )
        );
        let mut padded = raw[..flags_at].to_vec();
        padded.extend_from_slice(&[0xfd, 0x01, 0x00, 0x1d]);
        assert_eq!(
            err(MerkleBlock::decode(&padded).unwrap_err()),
            (
                DecodeErrorKind::NonMinimalCompactSize(1),
                Some("flags"),
                flags_at
            )
        );
        // Trailing bytes.
        let mut long = raw.clone();
        long.push(0);
        assert_eq!(
            err(MerkleBlock::decode(&long).unwrap_err()),
            (DecodeErrorKind::TrailingBytes(1), None, raw.len())
        );
    }

    #[test]
    fn merkleblock_max_len_is_exact() {
        let hashes = vec![MerkleNode([1; 32]); 100_000];
        let flags = vec![0u8; 25_001];
        let header = MerkleBlock::decode(&hex(MERKLEBLOCK)).unwrap().header;
        let raw = MerkleBlock::new(header, 100_000, &hashes, &flags).to_vec();
        assert_eq!(raw.len(), MerkleBlock::MAX_LEN as usize);
        let msg = MerkleBlock::decode(&raw).unwrap();
        assert_eq!(msg.hashes.len(), 100_000);
        // A hostile but well-formed tree is refused without unbounded work.
        assert!(msg.extract_matches().is_err());
    }

    #[test]
    fn partial_tree_of_one_transaction() {
        let txid = Txid([7; 32]);
        let tree = PartialMerkleTree::from_txids(&[txid], &[true]).unwrap();
        assert_eq!(tree.hashes, vec![MerkleNode(txid.0)]);
        assert_eq!(tree.flags, vec![1]);
        let header = MerkleBlock::decode(&hex(MERKLEBLOCK)).unwrap().header;
        let found = tree.to_merkle_block(header).extract_matches().unwrap();
        assert_eq!(found.merkle_root, MerkleNode(txid.0));
        assert_eq!(found.matches, vec![(0, txid)]);
        assert_eq!(
            PartialMerkleTree::from_txids(&[], &[]),
            Err(MerkleBlockError::NoTransactions)
        );
    }

    proptest! {
        #[test]
        fn roundtrip((command, payload) in strategy::payloads()) {
            let msg = crate::Message::decode(command, &payload).unwrap();
            prop_assert_eq!(msg.command(), command);
            prop_assert_eq!(msg.to_vec(), payload.clone());
            prop_assert_eq!(msg.encoded_len(), payload.len());
        }

        /// A tree built from a block's txids proves exactly the matched ones and hashes to
        /// the block's merkle root, after a trip through the wire.
        #[test]
        fn built_trees_extract(
            (txids, matches) in strategy::txids_and_matches(),
            header in crate::types::block::strategy::header(),
        ) {
            let tree = PartialMerkleTree::from_txids(&txids, &matches).unwrap();
            let mut header = header;
            let root = crate::types::block::merkle_root(txids.iter().map(|t| t.0)).unwrap();
            header.merkle_root = MerkleNode(root);
            let raw = tree.to_merkle_block(header).to_vec();
            let msg = MerkleBlock::decode(&raw).unwrap();
            let found = msg.check().unwrap();
            let expected: Vec<(u32, Txid)> = txids
                .iter()
                .zip(&matches)
                .enumerate()
                .filter(|&(_, (_, &m))| m)
                .map(|(i, (t, _))| (i as u32, *t))
                .collect();
            prop_assert_eq!(found.matches, expected);
            prop_assert_eq!(found.merkle_root, MerkleNode(root));
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = FilterLoad::decode(&bytes);
            let _ = FilterAdd::decode(&bytes);
            if let Ok(msg) = MerkleBlock::decode(&bytes) {
                let _ = msg.extract_matches();
            }
        }

        /// Random trees over a valid-looking header never panic the walk.
        #[test]
        fn extract_never_panics(
            total in 0u32..40,
            hashes in proptest::collection::vec(any::<[u8; 32]>().prop_map(MerkleNode), 0..12),
            flags in proptest::collection::vec(any::<u8>(), 0..4),
        ) {
            let header = MerkleBlock::decode(&hex(MERKLEBLOCK)).unwrap().header;
            let _ = MerkleBlock::new(header, total, &hashes, &flags).extract_matches();
        }
    }
}
