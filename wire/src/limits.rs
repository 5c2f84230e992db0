//! Every protocol limit the codec enforces, each with its source.
//!
//! Limits are checked before anything is allocated: a count is compared with its limit and
//! with the bytes remaining in the payload, so a hostile claim costs nothing.

/// Largest payload a frame may declare, in bytes (Bitcoin Core `MAX_PROTOCOL_MESSAGE_LENGTH`,
/// `net.h`: 4 * 1000 * 1000).
pub const MAX_PROTOCOL_MESSAGE_LENGTH: u32 = 4_000_000;

/// Largest CompactSize accepted as a count or length (Bitcoin Core `MAX_SIZE`,
/// `serialize.h`: 0x02000000).
pub const MAX_SIZE: u64 = 0x0200_0000;

/// Most entries in `inv`, `getdata` and `notfound` (Bitcoin Core `MAX_INV_SZ`, `net_processing.cpp`).
pub const MAX_INV_ENTRIES: u64 = 50_000;

/// Most addresses in `addr` and `addrv2` (Bitcoin Core `MAX_ADDR_TO_SEND`, `net_processing.cpp`).
pub const MAX_ADDR_ENTRIES: u64 = 1_000;

/// Most headers in one `headers` message (Bitcoin Core `MAX_HEADERS_RESULTS`, `net_processing.cpp`).
pub const MAX_HEADERS_RESULTS: u64 = 2_000;

/// Most hashes in a block locator; Core disconnects a peer that sends more
/// (Bitcoin Core `MAX_LOCATOR_SZ`, `net_processing.cpp`).
pub const MAX_LOCATOR_SZ: u64 = 101;

/// Longest user agent in `version`, in bytes (Bitcoin Core `MAX_SUBVERSION_LENGTH`, `net.h`).
pub const MAX_SUBVERSION_LENGTH: u64 = 256;

/// Longest BIP155 address, in bytes (BIP 155: "a maximum of 512 bytes"; the name is Bitcoin
/// Core's, `netaddress.h`).
pub const MAX_ADDRV2_SIZE: u64 = 512;

/// Largest bloom filter in `filterload`, in bytes (BIP 37; Bitcoin Core `MAX_BLOOM_FILTER_SIZE`).
pub const MAX_BLOOM_FILTER_SIZE: u64 = 36_000;

/// Most hash functions in `filterload` (BIP 37; Bitcoin Core `MAX_HASH_FUNCS`).
pub const MAX_HASH_FUNCS: u32 = 50;

/// Largest element in `filteradd`, in bytes (BIP 37; Bitcoin Core `MAX_SCRIPT_ELEMENT_SIZE`).
pub const MAX_SCRIPT_ELEMENT_SIZE: u64 = 520;

/// Most blocks one `getcfilters` may ask for (BIP 157; Bitcoin Core `MAX_GETCFILTERS_SIZE`).
pub const MAX_GETCFILTERS_SIZE: u32 = 1_000;

/// Most filter hashes in one `cfheaders` (BIP 157; Bitcoin Core `MAX_GETCFHEADERS_SIZE`).
pub const MAX_GETCFHEADERS_SIZE: u64 = 2_000;

/// Shortest feature id in `feature`, in bytes (BIP 434).
pub const MIN_FEATURE_ID_LEN: u64 = 4;

/// Longest feature id in `feature`, in bytes (BIP 434).
pub const MAX_FEATURE_ID_LEN: u64 = 80;

/// Longest feature data in `feature`, in bytes (BIP 434).
pub const MAX_FEATURE_DATA_LEN: u64 = 512;

/// Longest `reason` string in `reject`, in bytes (BIP 61 sets no limit; Bitcoin Core, up to
/// 0.19, cut the reasons it sent to `MAX_REJECT_MESSAGE_LENGTH` = 111 and read received ones
/// with `LIMITED_STRING` of that length, which refuses a longer one: `net_processing.cpp`).
pub const MAX_REJECT_MESSAGE_LENGTH: u64 = 111;

/// Longest `message` field of `reject`, in bytes: a command name (Bitcoin Core read it with
/// `LIMITED_STRING(strMsg, CMessageHeader::COMMAND_SIZE)`, `net_processing.cpp` up to 0.19).
pub const MAX_REJECT_COMMAND_LEN: u64 = crate::header::COMMAND_LEN as u64;

/// Most transactions one `cmpctblock` describes, short ids and prefilled together: Bitcoin
/// Core's deserializer throws "indexes overflowed 16 bits" when
/// `shorttxids.size() + prefilledtxn.size()` is above `u16::MAX` (`blockencodings.h`).
/// Tighter than [`MAX_COMPACT_TXS`].
pub const MAX_CMPCTBLOCK_TXS: u64 = u16::MAX as u64;

/// Largest block, in weight units (BIP 141 `MAX_BLOCK_WEIGHT`); the serialized size of a
/// block can therefore not exceed this many bytes.
pub const MAX_BLOCK_WEIGHT: u64 = 4_000_000;

/// A lower bound on a transaction's size in bytes, for checking counts against the bytes
/// remaining: the smallest *serializable* transaction (version, two empty counts, lock time;
/// Bitcoin Core `MIN_SERIALIZABLE_TRANSACTION_WEIGHT` / 4, `consensus/consensus.h`). No
/// valid transaction is that small (it has no input: "bad-txns-vin-empty"; Core's
/// `MIN_TRANSACTION_WEIGHT` / 4 = 60 bytes is the smallest valid one), and this crate's
/// decoder reads its zero input count as the BIP 144 marker, so the bound is never tight.
pub const MIN_TX_LEN: u64 = 10;

/// Smallest serialized transaction input: 36-byte outpoint, empty script, sequence.
pub const MIN_TXIN_LEN: u64 = 41;

/// Smallest serialized transaction output: 8-byte value, empty script.
pub const MIN_TXOUT_LEN: u64 = 9;

/// Most inputs one transaction can have: Bitcoin Core's `CheckTransaction` refuses a
/// transaction whose size without witness, times `WITNESS_SCALE_FACTOR` (4), is above
/// `MAX_BLOCK_WEIGHT` ("bad-txns-oversize", `consensus/tx_check.cpp`), so at most 1,000,000
/// bytes of [`MIN_TXIN_LEN`]-byte inputs: 24,390.
pub const MAX_TX_INPUTS: u64 = MAX_BLOCK_WEIGHT / (4 * MIN_TXIN_LEN);

/// Most outputs one transaction can have, by the same rule as [`MAX_TX_INPUTS`]: 1,000,000
/// bytes of [`MIN_TXOUT_LEN`]-byte outputs, 111,111.
pub const MAX_TX_OUTPUTS: u64 = MAX_BLOCK_WEIGHT / (4 * MIN_TXOUT_LEN);

// One more input or output than the limits would not fit in 1,000,000 bytes.
const _: () = assert!((MAX_TX_INPUTS + 1) * MIN_TXIN_LEN > MAX_BLOCK_WEIGHT / 4);
const _: () = assert!((MAX_TX_OUTPUTS + 1) * MIN_TXOUT_LEN > MAX_BLOCK_WEIGHT / 4);

/// Most items in one witness stack that fit in a block (BIP 141: every item costs at least
/// one weight unit, so `MAX_BLOCK_WEIGHT` bounds them; the remaining-bytes check is tighter).
pub const MAX_WITNESS_ITEMS: u64 = MAX_BLOCK_WEIGHT;

/// Longest script or witness item in bytes that fits in a message (`MAX_SIZE` bounds every
/// length; a block cannot hold more than `MAX_BLOCK_WEIGHT` bytes).
pub const MAX_SCRIPT_LEN: u64 = MAX_PROTOCOL_MESSAGE_LENGTH as u64;

/// Most transactions a `block` or `blocktxn` can carry (and the bound behind the `merkleblock`
/// and `getblocktxn` limits): a block of `MAX_BLOCK_WEIGHT` weight holds at most this many
/// [`MIN_TX_LEN`]-byte transactions (weight 40 each). `cmpctblock` has the tighter
/// [`MAX_CMPCTBLOCK_TXS`].
pub const MAX_BLOCK_TXS: u64 = MAX_BLOCK_WEIGHT / (4 * MIN_TX_LEN);

/// Most indexes in `getblocktxn` (BIP 152: a block cannot hold more transactions than fit in
/// `MAX_BLOCK_WEIGHT`). `cmpctblock` has the tighter [`MAX_CMPCTBLOCK_TXS`].
pub const MAX_COMPACT_TXS: u64 = MAX_BLOCK_TXS;

/// Largest absolute transaction index in `getblocktxn` and in a `cmpctblock`'s prefilled
/// transactions: Bitcoin Core reads them into `uint16_t` and throws "index overflowed 16
/// bits" / "indexes overflowed 16 bits" above it (`blockencodings.h`, BIP 152).
pub const MAX_BIP152_INDEX: u64 = u16::MAX as u64;

/// Most transactions matched in a `merkleblock` (BIP 37: bounded by the block's transactions).
pub const MAX_MERKLEBLOCK_TXS: u64 = MAX_BLOCK_TXS;

/// Most hashes in a `merkleblock` partial merkle tree (BIP 37; Core's `CPartialMerkleTree`
/// rejects more hashes than transactions).
pub const MAX_MERKLEBLOCK_HASHES: u64 = MAX_BLOCK_TXS;

/// Longest flag-bit field in a `merkleblock`, in bytes (one bit per tree node, at most
/// twice the transactions).
pub const MAX_MERKLEBLOCK_FLAG_BYTES: u64 = (2 * MAX_BLOCK_TXS).div_ceil(8) + 1;

/// Most checkpoint headers in `cfcheckpt`: one per 1,000 blocks (BIP 157,
/// Core `CFCHECKPT_INTERVAL`); we allow chains up to 20 million blocks.
pub const MAX_CFCHECKPT_HEADERS: u64 = 20_000;

/// Longest compact filter in `cfilter`, in bytes (bounded by the message length).
pub const MAX_CFILTER_LEN: u64 = MAX_PROTOCOL_MESSAGE_LENGTH as u64;

/// First protocol version with `pong` and the `ping` nonce (BIP 31).
pub const BIP0031_VERSION: u32 = 60_001;

/// First protocol version with the `relay` field in `version` (BIP 37).
pub const BIP0037_VERSION: u32 = 70_001;

/// First protocol version with `sendheaders` (BIP 130).
pub const SENDHEADERS_VERSION: u32 = 70_012;

/// First protocol version with `feefilter` (BIP 133).
pub const FEEFILTER_VERSION: u32 = 70_013;

/// First protocol version with compact blocks (BIP 152).
pub const SHORT_IDS_BLOCKS_VERSION: u32 = 70_014;

/// First protocol version with `wtxidrelay` (BIP 339) and `sendaddrv2` negotiation.
pub const WTXID_RELAY_VERSION: u32 = 70_016;

/// The protocol version this crate speaks (Bitcoin Core `PROTOCOL_VERSION`).
pub const PROTOCOL_VERSION: u32 = 70_016;
