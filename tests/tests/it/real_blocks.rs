//! The two bundled mainnet blocks: decode, hashes, merkle root, witness commitment,
//! every txid and wtxid, byte-identical re-encoding, and the genesis block.

use std::collections::HashSet;

use btcwire::bytes::BytesMut;
use btcwire::msg::{Block, Message};
use btcwire::types::block::WitnessCommitment;
use btcwire::types::tx::{TxIn, TxOut, TxVisitor};
use btcwire::types::{Tx, Txid};
use btcwire::{Encode, FrameDecoder, Network, Payload, encode_frame};
use btcwire_tests::{REAL_BLOCKS, unhex};

#[test]
fn real_blocks_decode_and_verify() {
    for real in REAL_BLOCKS {
        let block = Block::decode(real.bytes).unwrap_or_else(|e| panic!("{}: {e}", real.height));
        assert_eq!(block.block_hash().to_string(), real.hash);
        assert_eq!(block.txs.len(), real.tx_count);
        assert_eq!(block.txs().count(), real.tx_count);
        assert_eq!(
            block.check(),
            Ok(block.block_hash()),
            "block {}",
            real.height
        );
        let expected = if real.segwit_txs > 0 {
            WitnessCommitment::Valid
        } else {
            WitnessCommitment::NotRequired
        };
        assert_eq!(block.witness_commitment(), expected);
        assert_eq!(
            block.txs().filter(|tx| tx.is_segwit()).count(),
            real.segwit_txs
        );
        assert!(block.txs().next().is_some_and(|tx| tx.is_coinbase()));
        assert!(block.txs().skip(1).all(|tx| !tx.is_coinbase()));

        // Every txid and wtxid: distinct, and equal for transactions without witness.
        let mut txids = HashSet::new();
        let mut wtxids = HashSet::new();
        for tx in block.txs() {
            let (txid, wtxid) = (tx.txid(), tx.wtxid());
            assert!(txids.insert(txid));
            assert!(wtxids.insert(wtxid));
            assert_eq!(txid.0 == wtxid.0, !tx.is_segwit());
            assert_eq!(tx.encoded_len(), tx.raw().unwrap().len());
        }
        assert_eq!(txids.len(), real.tx_count);

        // Re-encoding is byte-identical, and so is a rebuild from decoded transactions.
        assert_eq!(block.to_vec(), real.bytes);
        let txs: Vec<_> = block.txs().collect();
        assert_eq!(Block::new(block.header, &txs).to_vec(), real.bytes);
        assert!(block.weight() <= 4_000_000);
    }
}

/// Collects what the one-pass decoder hands over: every input, output and witness item, and
/// the transactions' txids (from the views it hands over at the end of each).
#[derive(Debug, Default, PartialEq)]
struct Collect<'a> {
    inputs: Vec<TxIn<'a>>,
    outputs: Vec<TxOut<'a>>,
    witness_items: Vec<(usize, &'a [u8])>,
    txids: Vec<Txid>,
}

impl<'a> TxVisitor<'a> for Collect<'a> {
    fn input(&mut self, input: TxIn<'a>) {
        self.inputs.push(input);
    }
    fn output(&mut self, output: TxOut<'a>) {
        self.outputs.push(output);
    }
    fn witness_item(&mut self, input: usize, item: &'a [u8]) {
        self.witness_items.push((input, item));
    }
    fn tx(&mut self, tx: &Tx<'a>) {
        self.txids.push(tx.txid());
    }
}

#[test]
fn real_blocks_in_one_pass() {
    for real in REAL_BLOCKS {
        let mut one_pass = Collect::default();
        let block = Block::decode_with(real.bytes, &mut one_pass).expect("decodes");
        assert_eq!(block, Block::decode(real.bytes).expect("decodes"));
        assert_eq!(block.block_hash().to_string(), real.hash);
        assert_eq!(one_pass.txids.len(), real.tx_count);
        // The same parts, in the same order, as the lazy views give.
        let mut views = Collect::default();
        block.txs().for_each(|tx| tx.visit(&mut views));
        assert_eq!(one_pass, views, "block {}", real.height);
        assert!(one_pass.inputs.len() > real.tx_count);
        assert_eq!(
            one_pass.witness_items.is_empty(),
            real.segwit_txs == 0,
            "block {}",
            real.height
        );
        // A cut block fails with `decode`'s error.
        let cut = &real.bytes[..real.bytes.len() - 1];
        let e = Block::decode_with(cut, &mut Collect::default()).unwrap_err();
        assert_eq!(e, Block::decode(cut).unwrap_err());
    }
}

#[test]
fn real_blocks_through_the_frame_decoder() {
    let magic = Network::Mainnet.magic();
    for real in REAL_BLOCKS {
        let block = Block::decode(real.bytes).unwrap();
        let mut wire = BytesMut::new();
        encode_frame(magic, &block, &mut wire).unwrap();
        assert_eq!(wire.len(), 24 + real.bytes.len());
        let mut decoder = FrameDecoder::new(magic);
        // Arrive in 1,400-byte segments, as from a socket.
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for chunk in wire.chunks(1_400) {
            buf.extend_from_slice(chunk);
            while let Some(frame) = decoder.decode(&mut buf).unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(frames.len(), 1);
        let Message::Block(decoded) = frames[0].message().unwrap() else {
            panic!("not a block")
        };
        assert_eq!(decoded.block_hash().to_string(), real.hash);
    }
}

#[test]
fn a_flipped_byte_breaks_the_merkle_root_or_decoding() {
    let real = REAL_BLOCKS[1];
    let mut bytes = real.bytes.to_vec();
    // Flip a byte inside the last transaction's lock time.
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let block = Block::decode(&bytes).unwrap();
    assert!(matches!(
        block.check(),
        Err(btcwire::types::block::BlockError::MerkleRoot { .. })
    ));
}

#[test]
fn genesis_block() {
    let raw = unhex(concat!(
        "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c01",
        "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000"
    ));
    let block = Block::decode(&raw).unwrap();
    assert_eq!(
        block.block_hash().to_string(),
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    );
    assert_eq!(block.check(), Ok(block.block_hash()));
    assert_eq!(block.to_vec(), raw);
}
