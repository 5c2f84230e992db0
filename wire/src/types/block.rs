//! Blocks (`block`): the header, then a CompactSize count of transactions.
//!
//! A decoded [`Block`] walks every transaction once to validate it and keeps the borrowed
//! bytes; [`Block::txs`] walks them again on demand without allocating per transaction.
//! The block helpers a user needs sit here too: proof of work ([`BlockHeader::check_pow`]),
//! the merkle root ([`Block::merkle_root`], and with the CVE-2012-2459 mutation flag
//! [`Block::merkle_root_mutated`]) and the BIP 141 witness commitment
//! ([`Block::witness_commitment`]), all checked together by [`Block::check`].

use alloc::vec::Vec;

use bytes::BufMut;

use crate::header::{Command, Network};
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
    /// The merkle root of the transactions differs from the header's (Core: "bad-txnmrklroot").
    #[error("merkle root mismatch: header has {header}, transactions give {computed}")]
    MerkleRoot {
        /// The header's merkle root.
        header: MerkleNode,
        /// The root computed from the transactions.
        computed: MerkleNode,
    },
    /// The merkle tree pairs two equal hashes at some level (Core: "bad-txns-duplicate").
    ///
    /// CVE-2012-2459: an odd last node is paired with itself, so repeating the last
    /// transactions of a level (`[cb, a, b]` as `[cb, a, b, b]`) gives a different, invalid
    /// block with the same merkle root, header and hash. Bitcoin Core refuses every block
    /// whose tree hashes two equal siblings (see [`merkle_root_mutated`]), so that such a
    /// copy cannot get the honest block's hash marked invalid.
    #[error("duplicate transactions: the merkle tree pairs two equal hashes")]
    DuplicateTransactions,
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
    ///
    /// The root alone does not tell a block from its CVE-2012-2459 copy; see
    /// [`Block::merkle_root_mutated`].
    #[must_use]
    pub fn merkle_root(&self) -> Option<MerkleNode> {
        merkle_root(self.txs().map(|tx| tx.txid().0)).map(MerkleNode)
    }

    /// Returns the merkle root of the transactions' txids and whether the tree is mutated
    /// (two equal sibling hashes, CVE-2012-2459), as Bitcoin Core's `BlockMerkleRoot(block,
    /// &mutated)`; `None` for no transactions. See [`merkle_root_mutated`].
    #[must_use]
    pub fn merkle_root_mutated(&self) -> Option<(MerkleNode, bool)> {
        let root = merkle_root_mutated(self.txs().map(|tx| tx.txid().0));
        root.map(|(root, mutated)| (MerkleNode(root), mutated))
    }

    /// Returns the block's weight in weight units (BIP 141).
    #[must_use]
    pub fn weight(&self) -> usize {
        let count = crate::varint::compact_size_len(self.txs.len() as u64);
        let base: usize = 80 + count + self.txs().map(|tx| tx.base_size()).sum::<usize>();
        base * 3 + self.encoded_len()
    }

    /// Checks the BIP 141 witness commitment, as Bitcoin Core's `CheckWitnessMalleation`
    /// does once segwit is active.
    ///
    /// A commitment output, when there is one, is always checked, whether or not any
    /// transaction has witness data; without one, no transaction (the coinbase included)
    /// may have witness data. The witness merkle root is not checked for mutation: Core
    /// passes no `mutated` flag there, since equal wtxids mean equal txids, which the
    /// txid tree already refuses ([`BlockError::DuplicateTransactions`]).
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
            // Core's "unexpected-witness": no transaction, the coinbase included, may have
            // witness data (`is_segwit` is Core's `HasWitness`).
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

    /// Checks proof of work, the merkle root, that the merkle tree is not mutated, and the
    /// witness commitment; returns the hash.
    ///
    /// # Errors
    /// [`BlockError`] naming the first check that fails, in this order: [`BlockError::Pow`],
    /// [`BlockError::NoTransactions`], [`BlockError::MerkleRoot`],
    /// [`BlockError::DuplicateTransactions`], then [`BlockError::WitnessCommitment`]. This
    /// is Core's order, except that Core checks for no transactions ("bad-blk-length")
    /// after the merkle root.
    pub fn check(&self) -> Result<BlockHash, BlockError> {
        self.check_with(self.header.check_pow())
    }

    /// Checks the block as [`Block::check`] does, with its proof of work also held to
    /// `network`'s limit ([`BlockHeader::check_pow_on`], as Core's `CheckProofOfWork`).
    ///
    /// # Errors
    /// As [`Block::check`]; [`PowError::AboveLimit`] inside [`BlockError::Pow`] for a target
    /// above the network's `powLimit`.
    pub fn check_on(&self, network: Network) -> Result<BlockHash, BlockError> {
        self.check_with(self.header.check_pow_on(network))
    }

    /// The checks after proof of work, whose result is `pow`.
    fn check_with(&self, pow: Result<BlockHash, PowError>) -> Result<BlockHash, BlockError> {
        let hash = pow?;
        let txids: Vec<[u8; 32]> = self.txs().map(|tx| tx.txid().0).collect();
        let (computed, mutated) =
            merkle_root_mutated(txids.iter().copied()).ok_or(BlockError::NoTransactions)?;
        let computed = MerkleNode(computed);
        if computed != self.header.merkle_root {
            return Err(BlockError::MerkleRoot {
                header: self.header.merkle_root,
                computed,
            });
        }
        // CVE-2012-2459: Core checks the root first ("bad-txnmrklroot"), then the mutation
        // ("bad-txns-duplicate").
        if mutated {
            return Err(BlockError::DuplicateTransactions);
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
///
/// This does not tell a tree from its CVE-2012-2459 copy; see [`merkle_root_mutated`].
#[must_use]
pub fn merkle_root(leaves: impl IntoIterator<Item = [u8; 32]>) -> Option<[u8; 32]> {
    merkle_root_mutated(leaves).map(|(root, _)| root)
}

/// Returns the merkle root of `leaves` and whether the tree is mutated, or `None` when there
/// are no leaves, as Bitcoin Core's `ComputeMerkleRoot(hashes, &mutated)`.
///
/// The tree is mutated when, at any level, the two nodes of a pair (positions `2k` and
/// `2k + 1`, both present) are equal. An odd last node paired with itself is the rule and
/// does not count. Repeating the nodes at the end of a level gives another list with the
/// same root (CVE-2012-2459), and such a list always pairs two equal nodes somewhere, so
/// Core refuses a block whose tree is mutated. The flag costs one comparison per pair, on
/// top of the hashes the root needs anyway.
///
/// ```
/// use btcwire::types::block::merkle_root_mutated;
///
/// let (a, b, c) = ([1; 32], [2; 32], [3; 32]);
/// let (root, mutated) = merkle_root_mutated([a, b, c]).unwrap();
/// assert!(!mutated);
/// // c paired with a copy of itself: the same root, but mutated.
/// assert_eq!(merkle_root_mutated([a, b, c, c]), Some((root, true)));
/// ```
#[must_use]
pub fn merkle_root_mutated(leaves: impl IntoIterator<Item = [u8; 32]>) -> Option<([u8; 32], bool)> {
    let mut level: Vec<[u8; 32]> = leaves.into_iter().collect();
    if level.is_empty() {
        return None;
    }
    let mut mutated = false;
    while level.len() > 1 {
        let mut next = 0;
        for pair in 0..level.len().div_ceil(2) {
            let left = level[2 * pair];
            let right = match level.get(2 * pair + 1) {
                Some(&right) => {
                    mutated |= right == left;
                    right
                }
                None => left,
            };
            let mut h = Sha256d::new();
            h.update(&left);
            h.update(&right);
            level[next] = h.finalize();
            next += 1;
        }
        level.truncate(next);
    }
    level.first().map(|&root| (root, mutated))
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
    use crate::types::hash::Txid;
    use crate::types::tx::one_pass_tests::{Part, Recorder, damage};
    use crate::types::tx::{OutPoint, TxIn, TxOut, Witness};
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

    /// The coinbase input of the test blocks.
    static COINBASE_IN: [TxIn<'static>; 1] = [TxIn {
        previous_output: OutPoint::COINBASE,
        script_sig: &[1, 1],
        sequence: u32::MAX,
    }];

    /// A payment output.
    static PAY: [TxOut<'static>; 1] = [TxOut {
        value: 50,
        script_pubkey: &[0x51],
    }];

    /// An input spending output 0 of the made-up transaction `[n; 32]`.
    fn spend(n: u8) -> [TxIn<'static>; 1] {
        [TxIn {
            previous_output: OutPoint {
                txid: Txid([n; 32]),
                vout: 0,
            },
            script_sig: &[],
            sequence: u32::MAX,
        }]
    }

    /// Returns a header committing to `txs` whose proof of work passes: at regtest's target
    /// (`0x207fffff`) about every other nonce does.
    fn mined(txs: &[Tx<'_>]) -> BlockHeader {
        let root = merkle_root(txs.iter().map(|tx| tx.txid().0)).expect("some transactions");
        mined_with(MerkleNode(root))
    }

    /// Returns a header with `merkle_root` whose proof of work passes.
    fn mined_with(merkle_root: MerkleNode) -> BlockHeader {
        let mut header = BlockHeader {
            version: 4,
            prev_blockhash: BlockHash::ZERO,
            merkle_root,
            time: 1_700_000_000,
            bits: 0x207f_ffff,
            nonce: 0,
        };
        while header.check_pow().is_err() {
            header.nonce += 1;
        }
        header
    }

    /// `[0; 32]`, `[1; 32]`, ...: distinct leaves.
    fn leaves(n: u8) -> Vec<[u8; 32]> {
        (0..n).map(|i| [i; 32]).collect()
    }

    #[test]
    fn merkle_mutation_pairs_equal_siblings() {
        let l = leaves(12);
        let mutated = |leaves: &[[u8; 32]]| merkle_root_mutated(leaves.iter().copied());
        // CVE-2012-2459 at the leaves: [0, 1, 2] and [0, 1, 2, 2] share a root.
        let (root, flag) = mutated(&l[..3]).unwrap();
        assert!(!flag);
        assert_eq!(mutated(&[l[0], l[1], l[2], l[2]]), Some((root, true)));
        // One level up: [0..6] has three nodes at level 1, the last paired with itself;
        // [0..6, 4, 5] has four, the last two equal. No leaves are paired with their like.
        let (root, flag) = mutated(&l[..6]).unwrap();
        assert!(!flag);
        let forged = [l[0], l[1], l[2], l[3], l[4], l[5], l[4], l[5]];
        assert_eq!(mutated(&forged), Some((root, true)));
        // Two levels up: [0..12] has six level-1 and three level-2 nodes; repeating the
        // last four leaves repeats the last two level-1 nodes (not siblings of their
        // copies) and pairs the last level-2 node with its copy.
        let (root, flag) = mutated(&l[..12]).unwrap();
        assert!(!flag);
        let mut forged = l[..12].to_vec();
        forged.extend_from_slice(&l[8..12]);
        assert_eq!(mutated(&forged), Some((root, true)));
        // Equal leaves that are not siblings are no mutation, as in Core: [0, 1, 1] pairs
        // (0, 1) and then 1 with itself.
        assert!(!mutated(&[l[0], l[1], l[1]]).unwrap().1);
        assert!(!mutated(&[l[0], l[1], l[1], l[2]]).unwrap().1);
        // Equal subtrees are: [a, b, a, b] pairs (h(a, b), h(a, b)) at level 1.
        assert!(mutated(&[l[0], l[1], l[0], l[1]]).unwrap().1);
        // A pair of equal leaves anywhere, not only at the end.
        assert!(mutated(&[l[0], l[0], l[1], l[2]]).unwrap().1);
        assert_eq!(mutated(&[]), None);
    }

    /// `check_on` adds the network's proof-of-work limit to `check`: a regtest block
    /// passes on regtest and is above every other network's limit.
    #[test]
    fn check_on_holds_pow_to_the_network_limit() {
        let cb = Tx::new(1, &COINBASE_IN, &PAY, &[], 0);
        let txs = [cb];
        let block = Block::new(mined(&txs), &txs);
        let hash = block.block_hash();
        assert_eq!(block.check(), Ok(hash));
        assert_eq!(block.check_on(Network::Regtest), Ok(hash));
        for network in [Network::Mainnet, Network::Testnet4, Network::Signet] {
            assert!(
                matches!(
                    block.check_on(network),
                    Err(BlockError::Pow(PowError::AboveLimit {
                        bits: 0x207f_ffff,
                        ..
                    }))
                ),
                "{network:?}"
            );
        }
        // The mainnet genesis block passes on mainnet.
        let genesis = hex(GENESIS_BLOCK);
        let genesis = Block::decode(&genesis).unwrap();
        assert_eq!(genesis.check_on(Network::Mainnet), Ok(genesis.block_hash()));
    }

    #[test]
    fn merkle_odd_counts_are_not_mutations() {
        // Every odd level pairs its last node with itself: the rule, not a mutation.
        for n in 1..=17 {
            let l = leaves(n);
            let (root, flag) = merkle_root_mutated(l.iter().copied()).unwrap();
            assert!(!flag, "{n} leaves");
            assert_eq!(merkle_root(l), Some(root));
        }
    }

    #[test]
    fn duplicated_transactions_are_refused() {
        let (a, b) = (spend(1), spend(2));
        let cb = Tx::new(1, &COINBASE_IN, &PAY, &[], 0);
        let (a, b) = (Tx::new(2, &a, &PAY, &[], 0), Tx::new(2, &b, &PAY, &[], 0));
        let honest = [cb, a, b];
        let forged = [cb, a, b, b];
        let header = mined(&honest);
        let (honest, forged) = (Block::new(header, &honest), Block::new(header, &forged));
        // Same root, so the same header and hash: only the mutation tells them apart.
        assert_eq!(honest.merkle_root(), forged.merkle_root());
        assert_eq!(
            honest.merkle_root_mutated(),
            Some((header.merkle_root, false))
        );
        assert_eq!(
            forged.merkle_root_mutated(),
            Some((header.merkle_root, true))
        );
        assert_eq!(honest.check(), Ok(header.block_hash()));
        assert_eq!(forged.check(), Err(BlockError::DuplicateTransactions));
        // The same through the wire: decoded transactions hash their own bytes.
        let raw = forged.to_vec();
        let decoded = Block::decode(&raw).unwrap();
        assert_eq!(decoded.check(), Err(BlockError::DuplicateTransactions));
        // Core checks the root before the mutation: a wrong root is reported as such.
        let wrong = mined_with(MerkleNode([7; 32]));
        let forged = [cb, a, b, b];
        assert_eq!(
            Block::new(wrong, &forged).check(),
            Err(BlockError::MerkleRoot {
                header: MerkleNode([7; 32]),
                computed: header.merkle_root,
            })
        );
    }

    #[test]
    fn duplicated_subtrees_are_refused() {
        let ins: Vec<[TxIn<'static>; 1]> = (1..=5).map(spend).collect();
        let mut txs = Vec::from([Tx::new(1, &COINBASE_IN, &PAY, &[], 0)]);
        txs.extend(ins.iter().map(|i| Tx::new(2, i, &PAY, &[], 0)));
        // Six transactions: three level-1 nodes, the last paired with itself. Repeating
        // the last two transactions gives four, the last two equal; no two transactions are
        // siblings of their copy.
        let header = mined(&txs);
        assert_eq!(Block::new(header, &txs).check(), Ok(header.block_hash()));
        let mut forged = txs.clone();
        forged.extend_from_slice(&txs[4..6]);
        let forged = Block::new(header, &forged);
        assert_eq!(forged.txs.len(), 8);
        assert_eq!(
            forged.merkle_root_mutated(),
            Some((header.merkle_root, true))
        );
        assert_eq!(forged.check(), Err(BlockError::DuplicateTransactions));
    }

    #[test]
    fn odd_transaction_counts_pass() {
        let ins: Vec<[TxIn<'static>; 1]> = (1..=6).map(spend).collect();
        let mut txs = Vec::from([Tx::new(1, &COINBASE_IN, &PAY, &[], 0)]);
        txs.extend(ins.iter().map(|i| Tx::new(2, i, &PAY, &[], 0)));
        for n in [1, 3, 5, 7] {
            let header = mined(&txs[..n]);
            let block = Block::new(header, &txs[..n]);
            assert_eq!(block.check(), Ok(header.block_hash()), "{n} transactions");
        }
    }

    /// The witness reserved value of the test blocks.
    const RESERVED: [u8; 32] = [0x5a; 32];

    /// The coinbase witness of the test blocks: the reserved value alone.
    const CB_WITNESS: [Witness<'static>; 1] = [Witness::from_items(&[&RESERVED])];

    /// The witness stack of the test blocks' segwit transactions: one 20-byte item.
    const SEGWIT_STACK: [Witness<'static>; 1] = [Witness::from_items(&[&[7; 20]])];

    /// A commitment output's script: the prefix, then `commitment`, then `extra`.
    fn commitment_script(commitment: [u8; 32], extra: &[u8]) -> Vec<u8> {
        let mut script = Vec::from(WITNESS_COMMITMENT_PREFIX);
        script.extend_from_slice(&commitment);
        script.extend_from_slice(extra);
        script
    }

    /// The witness commitment of a block of `txs` after a coinbase paying to `scripts`
    /// whose input has the witness stacks `coinbase_witness` (none, or one).
    fn commitment(
        scripts: &[&[u8]],
        coinbase_witness: &[Witness<'_>],
        txs: &[Tx<'_>],
    ) -> WitnessCommitment {
        let outputs: Vec<TxOut<'_>> = scripts
            .iter()
            .map(|script| TxOut {
                value: 0,
                script_pubkey: script,
            })
            .collect();
        let mut all = Vec::from([Tx::new(1, &COINBASE_IN, &outputs, coinbase_witness, 0)]);
        all.extend_from_slice(txs);
        let header = mined(&all);
        let block = Block::new(header, &all);
        let state = block.witness_commitment();
        // `check` reads the same state (with wtxids that reuse the txids) and, from the
        // bytes, the same again (with the decoded transactions' own hashing).
        let raw = block.to_vec();
        let decoded = Block::decode(&raw).unwrap();
        assert_eq!(decoded.witness_commitment(), state);
        for checked in [block.check(), decoded.check()] {
            match state {
                WitnessCommitment::NotRequired | WitnessCommitment::Valid => {
                    assert_eq!(checked, Ok(header.block_hash()));
                }
                other => assert_eq!(checked, Err(BlockError::WitnessCommitment(other))),
            }
        }
        state
    }

    /// The commitment of a two-transaction block worked out step by step (BIP 141):
    /// SHA-256d(root || [`RESERVED`]), the root being SHA-256d(zero coinbase id || `second`).
    fn commitment_by_hand(second: [u8; 32]) -> [u8; 32] {
        let mut root = Sha256d::new();
        root.update(&[0; 32]);
        root.update(&second);
        let mut h = Sha256d::new();
        h.update(&root.finalize());
        h.update(&RESERVED);
        h.finalize()
    }

    /// The commitment the block's witness root and `reserved` give, read off the
    /// `Mismatch` against a zero commitment: the coinbase's outputs do not enter the
    /// witness root, which counts the coinbase's wtxid as zero.
    fn computed(reserved: &[u8], txs: &[Tx<'_>]) -> [u8; 32] {
        let script = commitment_script([0; 32], &[]);
        let stack = [reserved];
        match commitment(&[&script], &[Witness::from_items(&stack)], txs) {
            WitnessCommitment::Mismatch { computed, .. } => computed,
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }

    #[test]
    fn witness_commitment_valid_and_mismatch() {
        let input = spend(1);
        let stack = SEGWIT_STACK;
        let segwit = [Tx::new(2, &input, &PAY, &stack, 0)];
        let right = computed(&RESERVED, &segwit);
        // Once by hand: SHA-256d(root || reserved), the root over [0, wtxid].
        assert_eq!(right, commitment_by_hand(segwit[0].wtxid().0));

        let cb_witness = CB_WITNESS;
        let valid = commitment_script(right, &[]);
        assert_eq!(
            commitment(&[&valid], &cb_witness, &segwit),
            WitnessCommitment::Valid
        );
        // Longer than 38 bytes is still a commitment (BIP 141: "at least 38 bytes").
        let long = commitment_script(right, &[0x01, 0x02]);
        assert_eq!(
            commitment(&[&[0x51], &long], &cb_witness, &segwit),
            WitnessCommitment::Valid
        );
        // One committed byte flipped.
        let mut wrong = right;
        wrong[31] ^= 1;
        let flipped = commitment_script(wrong, &[]);
        assert_eq!(
            commitment(&[&flipped], &cb_witness, &segwit),
            WitnessCommitment::Mismatch {
                committed: wrong,
                computed: right
            }
        );
        // Another reserved value: the same commitment no longer matches.
        let other: &[u8] = &[0xa5; 32];
        let other_witness = [Witness::from_items(core::slice::from_ref(&other))];
        assert_eq!(
            commitment(&[&valid], &other_witness, &segwit),
            WitnessCommitment::Mismatch {
                committed: right,
                computed: computed(other, &segwit),
            }
        );
        // Another witness in the transaction: its wtxid changes, its txid does not.
        let item2: &[u8] = &[8; 20];
        let stack2 = [Witness::from_items(core::slice::from_ref(&item2))];
        let segwit2 = [Tx::new(2, &input, &PAY, &stack2, 0)];
        assert_eq!(segwit2[0].txid(), segwit[0].txid());
        assert!(matches!(
            commitment(&[&valid], &cb_witness, &segwit2),
            WitnessCommitment::Mismatch { committed, .. } if committed == right
        ));
    }

    #[test]
    fn witness_commitment_last_output_counts() {
        let input = spend(1);
        let stack = SEGWIT_STACK;
        let segwit = [Tx::new(2, &input, &PAY, &stack, 0)];
        let cb_witness = CB_WITNESS;
        let right = computed(&RESERVED, &segwit);
        let (valid, bogus) = (
            commitment_script(right, &[]),
            commitment_script([9; 32], &[]),
        );
        // Core's `GetWitnessCommitmentIndex`: the last matching output wins.
        assert_eq!(
            commitment(&[&valid, &bogus], &cb_witness, &segwit),
            WitnessCommitment::Mismatch {
                committed: [9; 32],
                computed: right
            }
        );
        assert_eq!(
            commitment(&[&bogus, &valid], &cb_witness, &segwit),
            WitnessCommitment::Valid
        );
        // A 37-byte script with the prefix is no commitment, so it is not the last one...
        let short = &bogus[..37];
        assert_eq!(
            commitment(&[&valid, short], &cb_witness, &segwit),
            WitnessCommitment::Valid
        );
        // ...and alone it commits to nothing: witness data is then unexpected, the
        // coinbase's reserved value included.
        assert_eq!(
            commitment(&[short], &cb_witness, &segwit),
            WitnessCommitment::Missing
        );
        assert_eq!(
            commitment(&[short], &cb_witness, &[]),
            WitnessCommitment::Missing
        );
        assert_eq!(
            commitment(&[short], &[], &[]),
            WitnessCommitment::NotRequired
        );
        // Nor is a script of 38 bytes or more with another prefix (OP_RETURN, push 36,
        // but not `aa21a9ed`).
        let mut other = valid.clone();
        other[5] ^= 1;
        assert_eq!(
            commitment(&[&other], &[], &segwit),
            WitnessCommitment::Missing
        );
    }

    #[test]
    fn witness_commitment_missing() {
        let input = spend(1);
        let stack = SEGWIT_STACK;
        let segwit = [Tx::new(2, &input, &PAY, &stack, 0)];
        let plain = [Tx::new(2, &input, &PAY, &[], 0)];
        assert_eq!(
            commitment(&[&[0x51]], &[], &segwit),
            WitnessCommitment::Missing
        );
        assert_eq!(commitment(&[], &[], &segwit), WitnessCommitment::Missing);
        assert_eq!(
            commitment(&[&[0x51]], &[], &plain),
            WitnessCommitment::NotRequired
        );
        assert_eq!(commitment(&[], &[], &[]), WitnessCommitment::NotRequired);
    }

    #[test]
    fn witness_commitment_bad_reserved_value() {
        let input = spend(1);
        let stack = SEGWIT_STACK;
        let segwit = [Tx::new(2, &input, &PAY, &stack, 0)];
        let script = commitment_script(computed(&RESERVED, &segwit), &[]);
        let bad = |items: &[&[u8]], txs: &[Tx<'_>]| {
            let stacks = [Witness::from_items(items)];
            commitment(&[&script], &stacks, txs)
        };
        let (short, long): (&[u8], &[u8]) = (&[0x5a; 31], &[0x5a; 33]);
        for txs in [&segwit[..], &[]] {
            assert_eq!(
                bad(&[short], txs),
                WitnessCommitment::BadReservedValue,
                "31 bytes"
            );
            assert_eq!(
                bad(&[long], txs),
                WitnessCommitment::BadReservedValue,
                "33 bytes"
            );
            assert_eq!(
                bad(&[&RESERVED, &RESERVED], txs),
                WitnessCommitment::BadReservedValue,
                "two items"
            );
            // No coinbase witness at all.
            assert_eq!(
                commitment(&[&script], &[], txs),
                WitnessCommitment::BadReservedValue
            );
        }
        // An empty stack, only buildable from values (the decoder refuses a segwit
        // transaction whose stacks are all empty).
        let outputs = [TxOut {
            value: 0,
            script_pubkey: &script,
        }];
        let empty = [Witness::EMPTY];
        let txs = [Tx::new(1, &COINBASE_IN, &outputs, &empty, 0), segwit[0]];
        assert_eq!(
            Block::new(mined(&txs), &txs).witness_commitment(),
            WitnessCommitment::BadReservedValue
        );
    }

    /// Core checks a commitment whenever there is one (segwit active), not only when some
    /// transaction has witness data.
    #[test]
    fn witness_commitment_without_witness_transactions() {
        let input = spend(1);
        let plain = [Tx::new(2, &input, &PAY, &[], 0)];
        let cb_witness = CB_WITNESS;
        // Without witness transactions the witness root is the txid root with the
        // coinbase's txid zeroed.
        assert_eq!(
            computed(&RESERVED, &plain),
            commitment_by_hand(plain[0].txid().0)
        );
        for txs in [&plain[..], &[]] {
            let right = computed(&RESERVED, txs);
            let valid = commitment_script(right, &[]);
            assert_eq!(
                commitment(&[&valid], &cb_witness, txs),
                WitnessCommitment::Valid
            );
            let bogus = commitment_script([9; 32], &[]);
            assert_eq!(
                commitment(&[&bogus], &cb_witness, txs),
                WitnessCommitment::Mismatch {
                    committed: [9; 32],
                    computed: right
                }
            );
            // No reserved value: Core's "bad-witness-nonce-size", not "nothing to check".
            assert_eq!(
                commitment(&[&valid], &[], txs),
                WitnessCommitment::BadReservedValue
            );
        }
    }

    /// Repeating witness transactions keeps the witness commitment valid (Core does not
    /// check the witness tree for mutation): only the txid tree's mutation refuses it.
    #[test]
    fn duplicated_witness_transactions_keep_the_commitment() {
        let (a, b) = (spend(1), spend(2));
        let stack = SEGWIT_STACK;
        let (a, b) = (
            Tx::new(2, &a, &PAY, &stack, 0),
            Tx::new(2, &b, &PAY, &stack, 0),
        );
        let right = computed(&RESERVED, &[a, b]);
        let script = commitment_script(right, &[]);
        let outputs = [TxOut {
            value: 0,
            script_pubkey: &script,
        }];
        let cb_witness = CB_WITNESS;
        let cb = Tx::new(1, &COINBASE_IN, &outputs, &cb_witness, 0);
        let honest = [cb, a, b];
        let header = mined(&honest);
        assert_eq!(Block::new(header, &honest).check(), Ok(header.block_hash()));
        let forged = [cb, a, b, b];
        let forged = Block::new(header, &forged);
        assert_eq!(forged.witness_commitment(), WitnessCommitment::Valid);
        assert_eq!(forged.check(), Err(BlockError::DuplicateTransactions));
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
