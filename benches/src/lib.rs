//! Fixtures for the btcwire benchmarks, shared by `benches/parse.rs` and `benches/encode.rs`.
//!
//! A [`Workload`] is a stream of frames (what a peer would receive), the position of each
//! payload in it (to decode without the frame layer), and the source of the same messages
//! built from values (what a peer would send). Every workload is measured by the same
//! functions, in one criterion group per workload and SHA-256 backend, with
//! `Throughput::Bytes` set to the stream's length:
//!
//! | function              | what it does                                                    |
//! |-----------------------|-----------------------------------------------------------------|
//! | `memcpy`              | baseline: copy the stream into a preallocated buffer            |
//! | `sha256d`             | baseline: SHA-256d of every payload                             |
//! | `decode_visit`        | `FrameDecoder` (checksum verified), then decode and visit every item |
//! | `decode_visit_nohash` | decode and visit every payload; no frame, no checksum           |
//! | `decode_visit_hashes` | `decode_visit`, plus the block hash, every txid and wtxid (blocks) |
//! | `decode_then_iterate` | blocks, headers: `Message::decode`, then visit through the lazy views |
//! | `encode`              | `encode_frame` (checksum included) of messages built from values |
//! | `encode_nochecksum`   | `Encode::encode` of the same payloads, no header                |
//!
//! "Decode and visit" is one pass where the message has a one-pass decoder (`block` and
//! `tx`: `Block::decode_with` hands every input, output and witness item to a visitor as it
//! validates them; `headers`: `Headers::decode_with` hands over each header), and
//! `Message::decode` then iteration of the lazy views otherwise. `decode_then_iterate`
//! measures the two-pass way for those too: `Message::decode` validates every item, and
//! iterating reads the bytes again.
//!
//! Workloads: 10,000 small frames (`verack`, `ping`, `pong` in turn), each real mainnet
//! block of `tests/data/`, and the largest valid `headers` (2,000 headers), `inv` (50,000
//! entries) and `addr` (1,000 entries) messages. To add one: a constructor returning a
//! [`Workload`], a [`Source`] variant if its messages borrow data, and its arms in
//! [`visit`] (and [`hash_ids`] if it carries ids); both bench files pick it up from
//! [`workloads`].

use core::ops::Range;
use std::hint::black_box;

use btcwire::limits::{MAX_ADDR_ENTRIES, MAX_HEADERS_RESULTS, MAX_INV_ENTRIES};
use btcwire::msg::{Addr, Headers, Inv, Ping, Pong, Verack};
use btcwire::types::tx::{TxIn, TxOut, TxVisitor, Witness};
use btcwire::types::{
    AddrEntry, Block, BlockHash, BlockHeader, InvItem, InvType, MerkleNode, NetAddr, ServiceFlags,
    Tx,
};
use btcwire::{Command, Encode, FrameDecoder, Magic, Message, Payload, encode_frame};
use bytes::BytesMut;

pub use btcwire::sha256d::BACKEND;

/// The network every workload frames for.
pub const MAGIC: Magic = Magic::MAINNET;

/// The number of frames in the small-frames workload.
pub const SMALL_FRAMES: usize = 10_000;

/// The real mainnet blocks of `tests/data/`, as `block` payloads, with a short name.
pub const MAINNET_BLOCKS: [(&str, &[u8]); 2] = [
    (
        "block_0c835b2a",
        include_bytes!(
            "../../tests/data/mainnet_block_000000000000000000000c835b2adcaedc20fdf6ee440009c249452c726dafae.raw"
        ),
    ),
    (
        "block_054a714e",
        include_bytes!(
            "../../tests/data/mainnet_block_0000000000000000054a714e580b16c583701712ab91060e92dbde6eb1e052a8.raw"
        ),
    ),
];

/// Where the messages of a workload come from, to build them from values for encoding.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Source {
    /// Messages without borrowed data (`verack`, `ping`, `pong`).
    Static(Vec<Message<'static>>),
    /// A real block: rebuilt from its header and the values of every transaction
    /// ([`Tx::new`], [`Block::new`]), so encoding walks every field.
    Block(&'static [u8]),
    /// One `headers` message, built with `Headers::from_headers`.
    Headers(Vec<BlockHeader>),
    /// One `inv` message, built with `Inv::from_items`.
    Inv(Vec<InvItem>),
    /// One `addr` message, built with `Addr::from_entries`.
    Addr(Vec<AddrEntry>),
}

/// A benchmark workload.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Its name: the criterion group is `{name}-{BACKEND}`.
    pub name: String,
    /// The frames, back to back.
    pub stream: Vec<u8>,
    /// Each frame's command and the position of its payload in [`Workload::stream`].
    pub payloads: Vec<(Command, Range<usize>)>,
    /// Whether the messages have ids to hash (`decode_visit_hashes` is measured).
    pub has_ids: bool,
    /// The messages built from values, for the encoding benchmarks.
    pub source: Source,
}

impl Workload {
    /// Frames `messages` into a workload.
    fn from_messages(name: &str, messages: &[Message<'_>], has_ids: bool, source: Source) -> Self {
        let mut stream = BytesMut::new();
        let mut payloads = Vec::with_capacity(messages.len());
        for msg in messages {
            encode_frame(MAGIC, msg, &mut stream).unwrap();
            let end = stream.len();
            payloads.push((msg.command(), end - msg.encoded_len()..end));
        }
        Self {
            name: name.into(),
            stream: stream.to_vec(),
            payloads,
            has_ids,
            source,
        }
    }

    /// Returns the criterion group name: the workload and the SHA-256 backend.
    #[must_use]
    pub fn group_name(&self) -> String {
        format!("{}-{BACKEND}", self.name)
    }

    /// Returns the stream's length, the group's throughput.
    #[must_use]
    pub fn bytes(&self) -> u64 {
        self.stream.len() as u64
    }

    /// Returns whether the workload's messages have a one-pass decoder (`block`, `tx`,
    /// `headers`).
    #[must_use]
    pub fn has_one_pass(&self) -> bool {
        self.payloads
            .iter()
            .any(|(command, _)| [Block::COMMAND, Tx::COMMAND, Headers::COMMAND].contains(command))
    }

    /// Returns each payload with its command.
    pub fn payloads(&self) -> impl Iterator<Item = (Command, &[u8])> {
        self.payloads
            .iter()
            .map(|(command, range)| (*command, &self.stream[range.clone()]))
    }

    /// Builds the workload's messages from values and passes them to `f`.
    ///
    /// # Panics
    /// When a block fixture does not decode.
    pub fn with_messages<R>(&self, f: impl FnOnce(&[Message<'_>]) -> R) -> R {
        match &self.source {
            Source::Static(messages) => f(messages),
            Source::Block(raw) => with_rebuilt_block(raw, |block| f(&[Message::Block(block)])),
            Source::Headers(headers) => f(&[Message::from(Headers::from_headers(headers))]),
            Source::Inv(items) => f(&[Message::from(Inv::from_items(items))]),
            Source::Addr(entries) => f(&[Message::from(Addr::from_entries(entries))]),
        }
    }
}

/// Decodes `raw` and rebuilds the block from values, borrowing scripts and witness items.
fn with_rebuilt_block<R>(raw: &[u8], f: impl FnOnce(Block<'_>) -> R) -> R {
    let block = Block::decode(raw).expect("fixture blocks decode");
    let txs: Vec<Tx<'_>> = block.txs().collect();
    let inputs: Vec<Vec<TxIn<'_>>> = txs.iter().map(|tx| tx.inputs.iter().collect()).collect();
    let outputs: Vec<Vec<TxOut<'_>>> = txs.iter().map(|tx| tx.outputs.iter().collect()).collect();
    let stacks: Vec<Vec<Vec<&[u8]>>> = txs
        .iter()
        .map(|tx| tx.witnesses.iter().map(|w| w.iter().collect()).collect())
        .collect();
    let witnesses: Vec<Vec<Witness<'_>>> = stacks
        .iter()
        .map(|tx| tx.iter().map(|s| Witness::from_items(s)).collect())
        .collect();
    let rebuilt: Vec<Tx<'_>> = txs
        .iter()
        .enumerate()
        .map(|(k, tx)| {
            Tx::new(
                tx.version,
                &inputs[k],
                &outputs[k],
                &witnesses[k],
                tx.lock_time,
            )
        })
        .collect();
    f(Block::new(block.header, &rebuilt))
}

/// 10,000 frames: `verack`, `ping`, `pong` in turn.
#[must_use]
pub fn small_frames() -> Workload {
    let messages: Vec<Message<'static>> = (0..SMALL_FRAMES as u64)
        .map(|k| match k % 3 {
            0 => Message::from(Verack),
            1 => Message::from(Ping { nonce: k }),
            _ => Message::from(Pong { nonce: k - 1 }),
        })
        .collect();
    Workload::from_messages(
        "small_frames",
        &messages,
        false,
        Source::Static(messages.clone()),
    )
}

/// Each real mainnet block as one `block` frame.
///
/// # Panics
/// When a block fixture does not decode.
#[must_use]
pub fn mainnet_blocks() -> Vec<Workload> {
    MAINNET_BLOCKS
        .iter()
        .map(|&(name, raw)| {
            let block = Block::decode(raw).expect("fixture blocks decode");
            Workload::from_messages(name, &[Message::Block(block)], true, Source::Block(raw))
        })
        .collect()
}

/// One `headers` frame of 2,000 headers ([`MAX_HEADERS_RESULTS`]), a chain: each header
/// commits to the previous one's hash.
#[must_use]
pub fn headers() -> Workload {
    let mut headers = Vec::with_capacity(MAX_HEADERS_RESULTS as usize);
    let mut prev = BlockHash::ZERO;
    for k in 0..MAX_HEADERS_RESULTS as u32 {
        let header = BlockHeader {
            version: 0x2000_0000,
            prev_blockhash: prev,
            merkle_root: MerkleNode(spread(k)),
            time: 1_700_000_000 + 600 * k,
            bits: 0x1703_a30c,
            nonce: k.wrapping_mul(2_654_435_761),
        };
        prev = header.block_hash();
        headers.push(header);
    }
    let msg = Message::from(Headers::from_headers(&headers));
    Workload::from_messages("headers", &[msg], true, Source::Headers(headers.clone()))
}

/// One `inv` frame of 50,000 entries ([`MAX_INV_ENTRIES`]): witness transactions, with a
/// transaction and a block now and then.
#[must_use]
pub fn inv() -> Workload {
    let items: Vec<InvItem> = (0..MAX_INV_ENTRIES as u32)
        .map(|k| {
            let inv_type = match k % 10 {
                0 => InvType::BLOCK,
                1 | 2 => InvType::TX,
                _ => InvType::WITNESS_TX,
            };
            InvItem::new(inv_type, spread(k))
        })
        .collect();
    let msg = Message::from(Inv::from_items(&items));
    Workload::from_messages("inv", &[msg], false, Source::Inv(items.clone()))
}

/// One `addr` frame of 1,000 entries ([`MAX_ADDR_ENTRIES`]): IPv4 (as IPv4-mapped IPv6) and
/// IPv6 addresses.
#[must_use]
pub fn addr() -> Workload {
    let entries: Vec<AddrEntry> = (0..MAX_ADDR_ENTRIES as u32)
        .map(|k| {
            let bytes = spread(k);
            let mut ip = [0u8; 16];
            if k % 4 == 0 {
                ip.copy_from_slice(&bytes[..16]);
                ip[0] = 0x20;
            } else {
                ip[10..12].copy_from_slice(&[0xff, 0xff]);
                ip[12..].copy_from_slice(&bytes[..4]);
            }
            let services = ServiceFlags(if k % 3 == 0 { 0x409 } else { 0xc09 });
            AddrEntry::new(1_700_000_000 - k, NetAddr::new(services, ip, 8333))
        })
        .collect();
    let msg = Message::from(Addr::from_entries(&entries));
    Workload::from_messages("addr", &[msg], false, Source::Addr(entries.clone()))
}

/// 32 bytes that differ for every `k` (a hash stand-in).
fn spread(k: u32) -> [u8; 32] {
    btcwire::Sha256d::hash(&k.to_le_bytes())
}

/// Every workload that exists so far.
#[must_use]
pub fn workloads() -> Vec<Workload> {
    let mut all = vec![small_frames()];
    all.extend(mainnet_blocks());
    all.extend([headers(), inv(), addr()]);
    all
}

/// Touches every item of a message (for a block: every transaction, input, output and
/// witness item) through `black_box`; returns the number of items.
pub fn visit(msg: &Message<'_>) -> usize {
    match msg {
        Message::Verack(v) => {
            black_box(v);
            1
        }
        Message::Ping(p) => {
            black_box(p.nonce);
            1
        }
        Message::Pong(p) => {
            black_box(p.nonce);
            1
        }
        Message::Tx(tx) => visit_tx(tx),
        Message::Block(block) => {
            black_box(&block.header);
            block.txs().map(|tx| visit_tx(&tx)).sum::<usize>() + 1
        }
        Message::Headers(headers) => touch_all(headers.iter()),
        Message::Inv(inv) => touch_all(inv.iter()),
        Message::Addr(addr) => touch_all(addr.iter()),
        other => {
            black_box(other);
            1
        }
    }
}

/// Passes every item through `black_box`; returns how many there were.
fn touch_all<T>(items: impl Iterator<Item = T>) -> usize {
    let mut n = 0;
    items.for_each(|item| {
        black_box(item);
        n += 1;
    });
    n
}

/// Touches every input, output and witness item of `tx`; returns the number of items.
pub fn visit_tx(tx: &Tx<'_>) -> usize {
    // The lazy views, read by `Tx::visit`, into the visitor the one-pass decode uses.
    let mut v = Visitor {
        items: 0,
        ids: false,
    };
    tx.visit(&mut v);
    v.items
}

/// Computes the ids a message carries (block hash, every txid and wtxid) through
/// `black_box`; returns how many.
pub fn hash_ids(msg: &Message<'_>) -> usize {
    match msg {
        Message::Tx(tx) => {
            black_box((tx.txid(), tx.wtxid()));
            2
        }
        Message::Block(block) => {
            black_box(block.block_hash());
            1 + block
                .txs()
                .map(|tx| {
                    black_box((tx.txid(), tx.wtxid()));
                    2
                })
                .sum::<usize>()
        }
        Message::Headers(headers) => touch_all(headers.iter().map(|h| h.block_hash())),
        _ => 0,
    }
}

/// Counts and touches (through `black_box`) every part of the transactions a one-pass
/// decode hands over; with `ids`, hashes each transaction's txid and wtxid as it completes.
struct Visitor {
    items: usize,
    ids: bool,
}

impl<'a> TxVisitor<'a> for Visitor {
    #[inline]
    fn input(&mut self, input: TxIn<'a>) {
        black_box(input);
        self.items += 1;
    }

    #[inline]
    fn output(&mut self, output: TxOut<'a>) {
        black_box(output);
        self.items += 1;
    }

    #[inline]
    fn witness_item(&mut self, _input: usize, item: &'a [u8]) {
        black_box(item);
        self.items += 1;
    }

    #[inline]
    fn tx(&mut self, tx: &Tx<'a>) {
        black_box((tx.version, tx.lock_time));
        self.items += 1;
        if self.ids {
            self.items += hash_tx(tx);
        }
    }
}

/// Hashes a transaction's txid and wtxid through `black_box`; returns 2. Out of line, so
/// that the visitor's counter can stay in a register through the walk.
#[inline(never)]
fn hash_tx(tx: &Tx<'_>) -> usize {
    black_box((tx.txid(), tx.wtxid()));
    2
}

/// Decodes one payload and visits every item, in one pass where the message has a one-pass
/// decoder (`block` and `tx`: [`Block::decode_with`], [`Tx::decode_with`]); with `ids`, also
/// hashes every id. Returns the number of items visited (ids count as items).
///
/// # Panics
/// When the message does not decode: workloads are valid.
pub fn decode_and_visit(command: Command, payload: &[u8], ids: bool) -> usize {
    let mut v = Visitor { items: 0, ids };
    if command == Block::COMMAND {
        let block = Block::decode_with(payload, &mut v).expect("valid block");
        black_box(&block.header);
        let hash = if ids {
            black_box(block.block_hash());
            1
        } else {
            0
        };
        return v.items + 1 + hash;
    }
    if command == Tx::COMMAND {
        black_box(Tx::decode_with(payload, &mut v).expect("valid tx"));
        return v.items;
    }
    if command == Headers::COMMAND {
        let mut n = 0;
        let headers = Headers::decode_with(payload, |header| {
            black_box(header);
            n += 1;
        });
        let headers = black_box(headers.expect("valid headers"));
        return n + if ids {
            hash_ids(&Message::Headers(headers))
        } else {
            0
        };
    }
    // Borrowed where it was decoded: moving a `Message` out of the `Result` copies its 144
    // bytes (a `memcpy` call), a third of the time of decoding a `ping`.
    let decoded = Message::decode(command, payload);
    let msg = decoded.as_ref().expect("valid message");
    visit(msg) + if ids { hash_ids(msg) } else { 0 }
}

/// Takes every frame out of `buf` (checksums verified by the decoder), decodes and visits
/// each message ([`decode_and_visit`]), and with `ids` hashes its ids too; returns the
/// number of items visited.
///
/// # Panics
/// When a frame or a message does not decode: workloads are valid.
pub fn decode_visit(buf: &mut BytesMut, ids: bool) -> usize {
    let mut decoder = FrameDecoder::new(MAGIC);
    let mut n = 0;
    while let Some(frame) = decoder.decode(buf).expect("valid frames") {
        n += decode_and_visit(frame.header.command, &frame.payload, ids);
    }
    n
}

/// Decodes and visits every payload of `w` ([`decode_and_visit`]), without the frame layer;
/// returns the number of items visited.
///
/// # Panics
/// When a message does not decode: workloads are valid.
pub fn decode_visit_nohash(w: &Workload) -> usize {
    w.payloads()
        .map(|(command, payload)| decode_and_visit(command, payload, false))
        .sum()
}

/// The two-pass way for every workload: [`Message::decode`] (which validates), then
/// [`visit`] through the lazy views (which read the bytes again); no frame, no checksum.
///
/// # Panics
/// When a message does not decode: workloads are valid.
pub fn decode_then_iterate(w: &Workload) -> usize {
    w.payloads()
        .map(|(command, payload)| visit(&Message::decode(command, payload).expect("valid")))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_frames_decode() {
        let w = small_frames();
        assert_eq!(w.payloads.len(), SMALL_FRAMES);
        // verack: 24 bytes; ping and pong: 32 bytes.
        let expected =
            SMALL_FRAMES.div_ceil(3) * 24 + (SMALL_FRAMES - SMALL_FRAMES.div_ceil(3)) * 32;
        assert_eq!(w.bytes(), expected as u64);
        let mut buf = BytesMut::from(&w.stream[..]);
        assert_eq!(decode_visit(&mut buf, true), SMALL_FRAMES);
        assert!(buf.is_empty());
        assert_eq!(decode_visit_nohash(&w), SMALL_FRAMES);
        assert_eq!(decode_then_iterate(&w), SMALL_FRAMES);
    }

    #[test]
    fn blocks_decode_and_visit_every_item() {
        for w in mainnet_blocks() {
            let (command, payload) = w.payloads().next().expect("one frame");
            assert_eq!(command, Block::COMMAND);
            let block = Block::decode(payload).expect("decodes");
            let txs = block.txs.len();
            let items: usize = block
                .txs()
                .map(|tx| {
                    1 + tx.inputs.len()
                        + tx.outputs.len()
                        + tx.witnesses.iter().map(|s| s.len()).sum::<usize>()
                })
                .sum();
            assert!(txs > 100, "{}: {txs} txs", w.name);
            let mut buf = BytesMut::from(&w.stream[..]);
            assert_eq!(decode_visit(&mut buf, false), items + 1, "{}", w.name);
            let mut buf = BytesMut::from(&w.stream[..]);
            assert_eq!(decode_visit(&mut buf, true), items + 1 + 1 + 2 * txs);
            assert_eq!(decode_visit_nohash(&w), items + 1);
            assert_eq!(decode_then_iterate(&w), items + 1);
            assert_eq!(block.check(), Ok(block.block_hash()), "{}", w.name);
        }
    }

    #[test]
    fn encoding_from_values_gives_the_stream() {
        for w in workloads() {
            w.with_messages(|messages| {
                let mut framed = BytesMut::new();
                let mut bare = Vec::new();
                for m in messages {
                    encode_frame(MAGIC, m, &mut framed).unwrap();
                    m.encode(&mut bare);
                }
                assert_eq!(&framed[..], &w.stream[..], "{}", w.name);
                let payloads: Vec<u8> = w.payloads().flat_map(|(_, p)| p.to_vec()).collect();
                assert_eq!(bare, payloads, "{}", w.name);
                // Blocks are rebuilt from values, not copied from their raw bytes.
                if let [Message::Block(b)] = messages {
                    assert!(b.txs().all(|tx| tx.raw().is_none()));
                }
            });
        }
    }

    #[test]
    fn list_workloads_are_at_their_limits() {
        let expect = [
            (headers(), MAX_HEADERS_RESULTS, 81),
            (inv(), MAX_INV_ENTRIES, 36),
            (addr(), MAX_ADDR_ENTRIES, 30),
        ];
        for (w, count, entry_len) in expect {
            let count = count as usize;
            let (_, payload) = w.payloads().next().expect("one frame");
            // The count is a 3-byte CompactSize: 0xfd and two bytes.
            assert_eq!(payload.len(), 3 + count * entry_len, "{}", w.name);
            let mut buf = BytesMut::from(&w.stream[..]);
            let ids = if w.has_ids { count } else { 0 };
            assert_eq!(decode_visit(&mut buf, true), count + ids, "{}", w.name);
            assert_eq!(decode_visit_nohash(&w), count, "{}", w.name);
            assert_eq!(decode_then_iterate(&w), count, "{}", w.name);
        }
        let w = headers();
        let msg = Message::decode(w.payloads[0].0, &w.stream[w.payloads[0].1.clone()]).unwrap();
        let Message::Headers(h) = msg else {
            panic!("{msg:?}")
        };
        assert!(h.is_continuous());
    }

    #[test]
    fn group_names_carry_the_backend() {
        assert!(small_frames().group_name().ends_with(BACKEND));
        assert!(matches!(BACKEND, "sha2" | "ring"));
    }
}
