//! Blocks (`block`): the header, then a CompactSize count of transactions.
//!
//! A decoded [`Block`] walks every transaction once to validate it and keeps the borrowed
//! bytes; [`Block::txs`] walks them again on demand without allocating per transaction.
//! The block helpers a user needs sit here too: proof of work ([`BlockHeader::check_pow`]),
//! the merkle root ([`Block::merkle_root`]) and the BIP 141 witness commitment
//! ([`Block::witness_commitment`]), all checked together by [`Block::check`].

use alloc::vec::Vec;

use bytes::BufMut;

use crate::header::Command;
use crate::msg::Payload;
use crate::sha256d::Sha256d;
use crate::types::block_header::{BlockHeader, PowError};
use crate::types::hash::{BlockHash, MerkleNode};
use crate::types::list::{Iter, List};
use crate::types::tx::{Tx, TxVisitor, explain, walk};
use crate::varint::{count, named};
use crate::{Encode, PResult, limits};

/// The script prefix of a BIP 141 witness commitment output: `OP_RETURN`, push 36 bytes,
/// then the commitment header `aa21a9ed`.
pub const WITNESS_COMMITMENT_PREFIX: [u8; 6] = [0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];

/// A block: header and transactions, borrowed from the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block<'a> {
    /// The block header.
    pub header: BlockHeader,
    /// The transactions, the coinbase first.
    pub txs: List<'a, Tx<'a>>,
}

/// The state of a block's BIP 141 witness commitment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WitnessCommitment {
    /// No commitment output and no transaction with witness data: nothing to check.
    NotRequired,
    /// The commitment matches the witness merkle root and reserved value.
    Valid,
    /// Some transaction has witness data but the coinbase commits to nothing
    /// (Core: "unexpected-witness").
    Missing,
    /// The coinbase witness is not a single 32-byte reserved value
    /// (Core: "bad-witness-nonce-size").
    BadReservedValue,
    /// The commitment does not match (Core: "bad-witness-merkle-match").
    Mismatch {
        /// The commitment in the coinbase output.
        committed: [u8; 32],
        /// The commitment computed from the transactions.
        computed: [u8; 32],
    },
}

/// Why a block does not check out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// The header's proof of work fails.
    #[error("proof of work")]
    Pow(#[from] PowError),
    /// The block has no transactions.
    #[error("block has no transactions")]
    NoTransactions,
    /// The merkle root of the transactions differs from the header's.
    #[error("merkle root mismatch: header has {header}, transactions give {computed}")]
    MerkleRoot {
        /// The header's merkle root.
        header: MerkleNode,
        /// The root computed from the transactions.
        computed: MerkleNode,
    },
    /// The witness commitment does not check out.
    #[error("witness commitment: {0:?}")]
    WitnessCommitment(WitnessCommitment),
}

impl<'a> Block<'a> {
    /// Builds a block from a header and transactions.
    #[must_use]
    pub const fn new(header: BlockHeader, txs: &'a [Tx<'a>]) -> Self {
        Self {
            header,
            txs: List::from_items(txs),
        }
    }

    /// Decodes a `block` payload in one pass, handing every input, output and witness item
    /// of every transaction to `visitor` as it is read (see [`TxVisitor`]), then each whole
    /// transaction. [`Block::decode`](Payload::decode) reads the bytes once to validate them
    /// and [`Block::txs`] reads them again; this reads them once, with exactly the same
    /// checks and errors.
    ///
    /// ```
    /// use btcwire::types::tx::{OutPoint, TxIn, TxOut, TxVisitor};
    /// use btcwire::types::{Block, BlockHeader, Tx};
    /// use btcwire::{Encode, Payload};
    ///
    /// #[derive(Default)]
    /// struct Count { inputs: usize, outputs: usize, value: i64 }
    ///
    /// impl TxVisitor<'_> for Count {
    ///     fn input(&mut self, _: TxIn<'_>) { self.inputs += 1; }
    ///     fn output(&mut self, output: TxOut<'_>) {
    ///         self.outputs += 1;
    ///         self.value += output.value;
    ///     }
    /// }
    ///
    /// # let input = [TxIn { previous_output: OutPoint::COINBASE, script_sig: &[1, 2], sequence: 0 }];
    /// # let outputs = [TxOut { value: 30, script_pubkey: &[0x51] }, TxOut { value: 12, script_pubkey: &[] }];
    /// # let txs = [Tx::new(1, &input, &outputs, &[], 0)];
    /// # let header = BlockHeader { version: 1, prev_blockhash: Default::default(), merkle_root: Default::default(), time: 0, bits: 0, nonce: 0 };
    /// # let payload = &Block::new(header, &txs).to_vec()[..];
    /// let mut count = Count::default();
    /// let block = Block::decode_with(payload, &mut count)?;
    /// assert_eq!(block, Block::decode(payload)?);
    /// assert_eq!((count.inputs, count.outputs, count.value), (1, 2, 42));
    /// # Ok::<(), btcwire::DecodeError>(())
    /// ```
    ///
    /// # Errors
    /// The [`DecodeError`](crate::DecodeError) that `Block::decode` gives for the same bytes.
    #[inline]
    pub fn decode_with<V: TxVisitor<'a>>(
        payload: &'a [u8],
        visitor: &mut V,
    ) -> Result<Self, crate::DecodeError> {
        crate::decode_all(payload, |input| {
            let (i, header) = named("header", BlockHeader::parse(input))?;
            let field = "transactions";
            let min = limits::MIN_TX_LEN as usize;
            let (body, n) = count(i, field, limits::MAX_BLOCK_TXS, min)?;
            let mut rest = body;
            for _ in 0..n {
                rest = match walk(rest, visitor) {
                    Some((len, _)) => rest.get(len..).unwrap_or_default(),
                    None => named(field, explain(rest, visitor))?.0,
                };
            }
            let txs = List::from_wire(n, &body[..body.len() - rest.len()]);
            Ok((rest, Self { header, txs }))
        })
    }

    /// Returns the block hash.
    #[must_use]
    pub fn block_hash(&self) -> BlockHash {
        self.header.block_hash()
    }

    /// Returns an iterator over the transactions, decoded on demand.
    #[must_use]
    pub fn txs(&self) -> Iter<'a, Tx<'a>> {
        self.txs.iter()
    }

    /// Returns the merkle root of the transactions' txids (`None` for no transactions).
    #[must_use]
    pub fn merkle_root(&self) -> Option<MerkleNode> {
        merkle_root(self.txs().map(|tx| tx.txid().0)).map(MerkleNode)
    }

    /// Returns the block's weight in weight units (BIP 141).
    #[must_use]
    pub fn weight(&self) -> usize {
        let count = crate::varint::compact_size_len(self.txs.len() as u64);
        let base: usize = 80 + count + self.txs().map(|tx| tx.base_size()).sum::<usize>();
        base * 3 + self.encoded_len()
    }

    /// Checks the BIP 141 witness commitment.
    #[must_use]
    pub fn witness_commitment(&self) -> WitnessCommitment {
        self.commitment_with(|| self.txs().skip(1).map(|tx| tx.wtxid().0).collect())
    }

    /// Checks the witness commitment; `wtxids` gives the wtxids after the coinbase and is
    /// only called when the block commits to them.
    fn commitment_with(&self, wtxids: impl FnOnce() -> Vec<[u8; 32]>) -> WitnessCommitment {
        let mut txs = self.txs();
        let Some(coinbase) = txs.next() else {
            return WitnessCommitment::NotRequired;
        };
        // BIP 141: the commitment is the last output whose script starts with the prefix
        // and is at least 38 bytes long.
        let committed = coinbase.outputs.iter().filter_map(|out| {
            let script = out.script_pubkey;
            (script.len() >= 38 && script[..6] == WITNESS_COMMITMENT_PREFIX)
                .then(|| script[6..38].try_into().ok())
                .flatten()
        });
        let Some(committed): Option<[u8; 32]> = committed.last() else {
            let any_witness = self.txs().any(|tx| tx.is_segwit());
            return if any_witness {
                WitnessCommitment::Missing
            } else {
                WitnessCommitment::NotRequired
            };
        };
        // The coinbase witness must be exactly one 32-byte item: the reserved value.
        let mut stacks = coinbase.witnesses.iter();
        let reserved = match (stacks.next(), coinbase.inputs.len()) {
            (Some(stack), 1) if stack.len() == 1 => stack.iter().next().filter(|v| v.len() == 32),
            _ => None,
        };
        let Some(reserved) = reserved else {
            return WitnessCommitment::BadReservedValue;
        };
        // The coinbase's wtxid counts as zero.
        let wtxids = core::iter::once([0u8; 32]).chain(wtxids());
        let root = merkle_root(wtxids).unwrap_or_default();
        let mut h = Sha256d::new();
        h.update(&root);
        h.update(reserved);
        let computed = h.finalize();
        if computed == committed {
            WitnessCommitment::Valid
        } else {
            WitnessCommitment::Mismatch {
                committed,
                computed,
            }
        }
    }

    /// Checks proof of work, the merkle root and the witness commitment; returns the hash.
    ///
    /// # Errors
    /// [`BlockError`] naming the first check that fails.
    pub fn check(&self) -> Result<BlockHash, BlockError> {
        let hash = self.header.check_pow()?;
        let txids: Vec<[u8; 32]> = self.txs().map(|tx| tx.txid().0).collect();
        let computed = merkle_root(txids.iter().copied())
            .map(MerkleNode)
            .ok_or(BlockError::NoTransactions)?;
        if computed != self.header.merkle_root {
            return Err(BlockError::MerkleRoot {
                header: self.header.merkle_root,
                computed,
            });
        }
        // A transaction without witness has wtxid = txid: hash only the segwit ones again.
        let wtxids = || {
            let ids = self.txs().zip(&txids).skip(1);
            ids.map(|(tx, txid)| if tx.is_segwit() { tx.wtxid().0 } else { *txid })
                .collect()
        };
        match self.commitment_with(wtxids) {
            WitnessCommitment::NotRequired | WitnessCommitment::Valid => Ok(hash),
            other => Err(BlockError::WitnessCommitment(other)),
        }
    }
}

/// Returns the merkle root of `leaves` as Bitcoin computes it (an odd node is paired with
/// itself), or `None` when there are no leaves.
#[must_use]
pub fn merkle_root(leaves: impl IntoIterator<Item = [u8; 32]>) -> Option<[u8; 32]> {
    let mut level: Vec<[u8; 32]> = leaves.into_iter().collect();
    if level.is_empty() {
        return None;
    }
    while level.len() > 1 {
        let mut next = 0;
        for pair in 0..level.len().div_ceil(2) {
            let left = level[2 * pair];
            let right = level.get(2 * pair + 1).copied().unwrap_or(left);
            let mut h = Sha256d::new();
            h.update(&left);
            h.update(&right);
            level[next] = h.finalize();
            next += 1;
        }
        level.truncate(next);
    }
    level.first().copied()
}

impl Encode for Block<'_> {
    fn encoded_len(&self) -> usize {
        80 + self.txs.encoded_len()
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        self.header.encode(buf);
        self.txs.encode(buf);
    }

    /// Steps after each transaction's parts ([`Encode::encode_in_steps`] of [`Tx`]).
    #[inline]
    fn encode_in_steps<B: BufMut>(&self, buf: &mut B, step: &mut impl FnMut(&mut B)) {
        self.header.encode(buf);
        self.txs.encode_in_steps(buf, step);
    }
}

impl<'a> Payload<'a> for Block<'a> {
    const COMMAND: Command = Command::new("block");

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, header) = named("header", BlockHeader::parse(input))?;
        let (i, txs) = List::parse(i, "transactions", limits::MAX_BLOCK_TXS)?;
        Ok((i, Self { header, txs }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::hex;
    use crate::types::tx::one_pass_tests::{Part, Recorder, damage};
    use crate::types::tx::{OutPoint, TxIn, TxOut};
    use alloc::string::ToString;

    const GENESIS_BLOCK: &str = concat!(
        "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c",
        "01",
        "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000"
    );

    #[test]
    fn genesis_block() {
        let raw = hex(GENESIS_BLOCK);
        let block = Block::decode(&raw).unwrap();
        assert_eq!(
            block.block_hash().to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        assert_eq!(block.txs.len(), 1);
        assert_eq!(block.check(), Ok(block.block_hash()));
        assert_eq!(block.witness_commitment(), WitnessCommitment::NotRequired);
        assert_eq!(block.to_vec(), raw);
        assert_eq!(block.weight(), raw.len() * 4);
    }

    #[test]
    fn merkle_of_three_duplicates_last() {
        let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let h = |x: [u8; 32], y: [u8; 32]| {
            let mut s = Sha256d::new();
            s.update(&x);
            s.update(&y);
            s.finalize()
        };
        assert_eq!(merkle_root([a, b, c]), Some(h(h(a, b), h(c, c))));
        assert_eq!(merkle_root([a]), Some(a));
        assert_eq!(merkle_root([]), None);
    }

    #[test]
    fn tampered_block_fails_merkle() {
        let raw = hex(GENESIS_BLOCK);
        let block = Block::decode(&raw).unwrap();
        let tx = block.txs().next().unwrap();
        let inputs: Vec<TxIn<'_>> = tx.inputs.iter().collect();
        let outputs = [TxOut {
            value: 1,
            script_pubkey: &[],
        }];
        let txs = [Tx::new(1, &inputs, &outputs, &[], 0)];
        let forged = Block::new(block.header, &txs);
        assert!(matches!(forged.check(), Err(BlockError::MerkleRoot { .. })));
        assert_eq!(inputs[0].previous_output, OutPoint::COINBASE);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// `decode_with` gives `decode`'s block or error, and hands over what the views hold.
        #[test]
        fn one_pass_agrees_with_decode(
            (_, payload) in strategy::payloads(),
            mode in 0..4u8,
            at in proptest::prelude::any::<proptest::sample::Index>(),
            byte in proptest::prelude::any::<u8>(),
        ) {
            let mut raw = payload;
            damage(&mut raw, mode, at, byte);
            let mut seen = Recorder::default();
            let one_pass = Block::decode_with(&raw, &mut seen);
            proptest::prop_assert_eq!(&one_pass, &Block::decode(&raw));
            if let Ok(block) = one_pass {
                let mut from_views = Recorder::default();
                block.txs().for_each(|tx| tx.visit(&mut from_views));
                proptest::prop_assert_eq!(seen, from_views);
            }
        }
    }

    #[test]
    fn one_pass_genesis() {
        let raw = hex(GENESIS_BLOCK);
        let mut seen = Recorder::default();
        let block = Block::decode_with(&raw, &mut seen).unwrap();
        assert_eq!(
            block.block_hash(),
            Block::decode(&raw).unwrap().block_hash()
        );
        assert_eq!(block.to_vec(), raw);
        assert!(
            matches!(&seen.0[..], [Part::In(_), Part::Out(o), Part::Tx(Some(tx))]
                if o.value == 50 * 100_000_000 && tx.len() == raw.len() - 81),
            "{seen:?}"
        );
        // Errors are `decode`'s: a transaction count the bytes cannot hold.
        let mut bad = raw.clone();
        bad[80] = 0x02;
        let mut seen = Recorder::default();
        assert_eq!(Block::decode_with(&bad, &mut seen), Block::decode(&bad));
    }

    /// Every malformed case, through `decode` and the one-pass `decode_with` alike:
    /// (kind, field, offset) of each error.
    #[test]
    fn malformed() {
        use crate::DecodeErrorKind::*;
        let raw = hex(GENESIS_BLOCK);
        let err = |bytes: &[u8]| {
            let e = Block::decode(bytes).unwrap_err();
            let mut seen = Recorder::default();
            assert_eq!(Block::decode_with(bytes, &mut seen), Err(e), "one pass");
            (e.kind, e.field, e.offset)
        };
        let with_count = |count: &[u8]| {
            let mut b = raw[..80].to_vec();
            b.extend_from_slice(count);
            b.extend_from_slice(&raw[81..]);
            b
        };
        // Truncated: in the header, at the count, in the transaction.
        assert_eq!(err(&raw[..79]), (Truncated, Some("header"), 0));
        assert_eq!(err(&raw[..80]), (Truncated, Some("transactions"), 80));
        assert_eq!(
            err(&raw[..raw.len() - 1]),
            (Truncated, Some("lock_time"), raw.len() - 4)
        );
        // Two transactions claimed, one present: the count fits the bytes (two minimal
        // transactions), so the second transaction runs short at its version.
        assert_eq!(
            err(&with_count(&[2])),
            (Truncated, Some("version"), raw.len())
        );
        // A count the remaining bytes cannot hold: 1,000 transactions of at least 10 bytes
        // in 204.
        let kind = CountOverRemaining {
            count: 1_000,
            needed: 10_000,
            remaining: raw.len() - 81,
        };
        assert_eq!(
            err(&with_count(&[0xfd, 0xe8, 0x03])),
            (kind, Some("transactions"), 80)
        );
        // Over MAX_BLOCK_TXS (100,000), refused at the count whatever follows.
        let over = OverLimit {
            value: limits::MAX_BLOCK_TXS + 1,
            limit: limits::MAX_BLOCK_TXS,
        };
        let count = (limits::MAX_BLOCK_TXS as u32 + 1).to_le_bytes();
        let mut claim = Vec::from([0xfe]);
        claim.extend_from_slice(&count);
        assert_eq!(err(&with_count(&claim)), (over, Some("transactions"), 80));
        // A non-minimal count: 1 in three bytes.
        assert_eq!(
            err(&with_count(&[0xfd, 0x01, 0x00])),
            (NonMinimalCompactSize(1), Some("transactions"), 80)
        );
        // Trailing bytes after the last transaction.
        let mut long = raw.clone();
        long.extend_from_slice(&[0, 0]);
        assert_eq!(err(&long), (TrailingBytes(2), None, raw.len()));
    }
}

#[cfg(any(test, feature = "proptest"))]
pub(crate) mod strategy {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::types::tx::strategy::tx_parts;

    /// Any block header.
    pub(crate) fn header() -> impl Strategy<Value = BlockHeader> {
        (
            any::<i32>(),
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
        )
            .prop_map(|(version, prev, root, time, bits, nonce)| BlockHeader {
                version,
                prev_blockhash: BlockHash(prev),
                merkle_root: MerkleNode(root),
                time,
                bits,
                nonce,
            })
    }

    /// `block` payloads (not consensus-valid: the codec does not care).
    pub(crate) fn payloads() -> BoxedStrategy<(Command, Vec<u8>)> {
        (header(), proptest::collection::vec(tx_parts(), 0..4))
            .prop_map(|(header, txs)| {
                let raw: Vec<Vec<u8>> = txs.iter().map(|t| t.encode()).collect();
                let decoded: Vec<Tx<'_>> = raw
                    .iter()
                    .map(|r| Tx::decode(r).expect("strategy builds valid txs"))
                    .collect();
                (Block::COMMAND, Block::new(header, &decoded).to_vec())
            })
            .boxed()
    }
}
