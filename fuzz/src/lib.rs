//! Shared code for the fuzz targets: one `check_*` function per target, the structure-aware
//! message descriptions, and the seed corpus.
//!
//! Each target in `fuzz_targets/` is a few lines that call a `check_*` function here, so the
//! same checks run under `cargo test -p btcwire-fuzz` over the seed corpus, and a crash found
//! by the fuzzer can be replayed as a plain unit test.
//!
//! | target                 | input                                   | checks |
//! |------------------------|-----------------------------------------|--------|
//! | `decode_frame`         | chunking bytes, then a byte stream      | [`check_decode_frame`] |
//! | `decode_message`       | command selector, then a payload        | [`check_decode_message`] (and the one-pass `block`/`tx` decoders against it) |
//! | `roundtrip_message`    | command selector, then a payload        | [`check_roundtrip_message`] |
//! | `roundtrip_structured` | a [`MessageDesc`] (via `arbitrary`)     | [`check_roundtrip_structured`] |
//! | `handshake_ops`        | a role, then [`handshake::HandshakeOp`]s | [`handshake::check_handshake_ops`] |

pub mod handshake;

use arbitrary::Arbitrary;
use btcwire::header::COMMAND_LEN;
use btcwire::limits::{
    MAX_ADDR_ENTRIES, MAX_HEADERS_RESULTS, MAX_INV_ENTRIES, MAX_LOCATOR_SZ, MAX_SUBVERSION_LENGTH,
};
use btcwire::msg::{
    Addr, FeeFilter, GetBlocks, GetData, GetHeaders, Headers, Inv, KNOWN_COMMANDS, NotFound, Ping,
    Pong, Verack, Version, max_payload_len,
};
use btcwire::types::tx::{OutPoint, TxIn, TxOut, TxVisitor, Witness};
use btcwire::types::{
    AddrEntry, Block, BlockHash, BlockHeader, InvItem, NetAddr, ServiceFlags, Tx,
};
use btcwire::{
    Checksum, Command, Encode, Frame, FrameDecoder, FrameError, HEADER_LEN, Magic, Message,
    Payload, encode_frame,
};
use bytes::BytesMut;

/// The network every target frames for.
pub const MAGIC: Magic = Magic::MAINNET;

/// The fuzz targets, as named in `Cargo.toml` and under `corpus/`.
pub const TARGETS: [&str; 5] = [
    "decode_frame",
    "decode_message",
    "roundtrip_message",
    "roundtrip_structured",
    "handshake_ops",
];

// ---------------------------------------------------------------------------------------------
// Input layouts
// ---------------------------------------------------------------------------------------------

/// Splits a `decode_message`/`roundtrip_message` input into a command and a payload.
///
/// The first byte selects a command of [`KNOWN_COMMANDS`] (`byte % (n + 1)`); the extra value
/// `n` selects an unknown command, whose length (1 to 12) and bytes follow, folded into
/// printable ASCII. Returns `None` when the input is too short to name a command.
#[must_use]
pub fn split_command(data: &[u8]) -> Option<(Command, &[u8])> {
    let (&selector, rest) = data.split_first()?;
    let index = usize::from(selector) % (KNOWN_COMMANDS.len() + 1);
    if let Some(&command) = KNOWN_COMMANDS.get(index) {
        return Some((command, rest));
    }
    let (&len, rest) = rest.split_first()?;
    let (name, rest) = rest.split_at_checked(usize::from(len) % COMMAND_LEN + 1)?;
    // 0x20..=0x7e: printable ASCII, which is what a command may hold.
    let name: String = name.iter().map(|b| char::from(b % 95 + 0x20)).collect();
    Some((Command::try_new(&name)?, rest))
}

/// Returns the selector byte that [`split_command`] maps to the known `command`.
///
/// # Panics
/// When `command` is not in [`KNOWN_COMMANDS`] (seeds only use known commands).
#[must_use]
pub fn selector(command: Command) -> u8 {
    let index = KNOWN_COMMANDS
        .iter()
        .position(|&c| c == command)
        .expect("a known command");
    u8::try_from(index).expect("fewer than 256 commands")
}

/// How a `decode_frame` input is cut into chunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunking<'a> {
    /// Chunk sizes, used in turn; `usize::MAX` means "everything left".
    pub sizes: Vec<usize>,
    /// Whether to fix up the magic and checksum of every header before feeding the stream,
    /// so that mutated frames get past the envelope checks.
    pub repair: bool,
    /// The byte stream.
    pub stream: &'a [u8],
}

/// The control byte of a `decode_frame` input: `n - 1` chunk-size bytes follow (low 3 bits).
pub const CHUNK_COUNT_MASK: u8 = 0x07;
/// Control bit: repair headers (magic and checksum) before feeding the stream.
pub const REPAIR: u8 = 0x08;
/// A chunk-size byte meaning "everything left".
pub const CHUNK_REST: u8 = 0xff;

impl<'a> Chunking<'a> {
    /// Reads a control byte, then 1 to 8 chunk-size bytes (`b + 1` bytes each, or
    /// [`CHUNK_REST`]), then the stream.
    #[must_use]
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (&control, rest) = data.split_first()?;
        let n = usize::from(control & CHUNK_COUNT_MASK) + 1;
        let (sizes, stream) = rest.split_at(n.min(rest.len()));
        let mut sizes: Vec<usize> = sizes
            .iter()
            .map(|&b| match b {
                CHUNK_REST => usize::MAX,
                b => usize::from(b) + 1,
            })
            .collect();
        if sizes.is_empty() {
            sizes.push(usize::MAX);
        }
        Some(Self {
            sizes,
            repair: control & REPAIR != 0,
            stream,
        })
    }

    /// Encodes a chunking in front of `stream` (the inverse of [`Chunking::parse`]).
    ///
    /// # Panics
    /// When `sizes` is empty or longer than 8.
    #[must_use]
    pub fn to_input(sizes: &[u8], repair: bool, stream: &[u8]) -> Vec<u8> {
        assert!((1..=8).contains(&sizes.len()), "1 to 8 chunk sizes");
        let count = u8::try_from(sizes.len() - 1).expect("at most 8");
        let mut out = vec![count | if repair { REPAIR } else { 0 }];
        out.extend_from_slice(sizes);
        out.extend_from_slice(stream);
        out
    }
}

/// Rewrites the magic and checksum of every frame header in `stream` so they are right.
pub fn repair_frames(stream: &mut [u8]) {
    let mut pos = 0usize;
    while let Some(header) = stream
        .get(pos..)
        .and_then(|s| s.first_chunk::<HEADER_LEN>())
    {
        let len = u32::from_le_bytes([header[16], header[17], header[18], header[19]]);
        let start = pos + HEADER_LEN;
        let end = start.saturating_add(len as usize);
        let payload = &stream[start..end.min(stream.len())];
        let sum = Checksum::of(payload);
        stream[pos..pos + 4].copy_from_slice(&MAGIC.0);
        stream[pos + 20..start].copy_from_slice(&sum.0);
        pos = end;
    }
}

// ---------------------------------------------------------------------------------------------
// decode_frame
// ---------------------------------------------------------------------------------------------

/// What [`check_decode_frame`] saw, for tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FrameStats {
    /// Frames returned.
    pub frames: usize,
    /// Frames dropped for a bad checksum.
    pub bad_checksums: usize,
    /// Frames whose payload decoded as a message.
    pub messages: usize,
    /// The fatal error that ended the stream, if any.
    pub fatal: Option<FrameError>,
    /// Bytes fed but never consumed (an incomplete frame at the end).
    pub left: usize,
}

/// `decode_frame`: feeds the stream in chunks to a [`FrameDecoder`] and checks that it never
/// panics, never consumes more than it was given or more than one frame at a time, returns
/// frames whose length and checksum are right and whose bytes are exactly the input's, keeps
/// going after [`FrameError::BadChecksum`], and consumes nothing on a fatal error.
///
/// # Panics
/// When a check fails.
pub fn check_decode_frame(data: &[u8]) -> FrameStats {
    let mut stats = FrameStats::default();
    let Some(chunking) = Chunking::parse(data) else {
        return stats;
    };
    let mut owned;
    let stream = if chunking.repair {
        owned = chunking.stream.to_vec();
        repair_frames(&mut owned);
        &owned[..]
    } else {
        chunking.stream
    };
    let mut decoder = FrameDecoder::new(MAGIC);
    let mut buf = BytesMut::new();
    let (mut given, mut consumed) = (0usize, 0usize);
    let mut sizes = chunking.sizes.iter().cycle();
    while given < stream.len() {
        let size = sizes.next().copied().unwrap_or(usize::MAX);
        let chunk = &stream[given..given.saturating_add(size).min(stream.len())];
        buf.extend_from_slice(chunk);
        given += chunk.len();
        loop {
            let before = buf.len();
            let pending_before = decoder.pending().copied();
            let result = decoder.decode(&mut buf);
            assert!(buf.len() <= before, "the buffer grew");
            let used = before - buf.len();
            consumed += used;
            assert!(consumed <= given, "consumed {consumed} of {given} bytes");
            assert_eq!(consumed + buf.len(), given, "bytes lost");
            let header_now = if pending_before.is_some() {
                0
            } else {
                HEADER_LEN
            };
            match result {
                Ok(None) => {
                    match (pending_before, decoder.pending()) {
                        (None, None) => {
                            assert_eq!(used, 0);
                            assert!(buf.len() < HEADER_LEN, "a whole header left unread");
                        }
                        (_, Some(h)) => {
                            assert_eq!(used, header_now);
                            assert!(buf.len() < h.payload_len as usize, "a payload left");
                            assert!(h.payload_len <= max_payload_len(h.command));
                            assert_eq!(h.magic, MAGIC);
                        }
                        (Some(_), None) => panic!("pending header lost without a frame"),
                    }
                    break;
                }
                Ok(Some(frame)) => {
                    assert!(decoder.pending().is_none());
                    assert_eq!(used, header_now + frame.payload.len());
                    check_frame(&frame, &stream[consumed - frame.encoded_len()..consumed]);
                    stats.frames += 1;
                    if let Ok(msg) = frame.message() {
                        assert_eq!(msg.command(), frame.command());
                        assert_eq!(msg.encoded_len(), msg.to_vec().len());
                        stats.messages += 1;
                    }
                }
                Err(FrameError::BadChecksum {
                    command,
                    expected,
                    actual,
                }) => {
                    // The frame is consumed and the decoder is ready for the next one.
                    assert!(decoder.pending().is_none());
                    assert!(used >= header_now);
                    let payload = &stream[consumed - (used - header_now)..consumed];
                    let header_at = consumed - payload.len() - HEADER_LEN;
                    assert_eq!(stream[header_at + 20..header_at + HEADER_LEN], expected);
                    assert_ne!(expected, actual);
                    assert_eq!(Checksum::of(payload).0, actual);
                    assert!(payload.len() <= max_payload_len(command) as usize);
                    stats.bad_checksums += 1;
                }
                Err(e) => {
                    // Refused from the header alone, before consuming anything.
                    assert_eq!(used, 0, "{e:?} after consuming bytes");
                    assert!(pending_before.is_none(), "{e:?} while awaiting a payload");
                    stats.fatal = Some(e);
                    stats.left = buf.len();
                    return stats;
                }
            }
        }
    }
    stats.left = buf.len();
    stats
}

/// Checks one frame against the bytes it came from.
fn check_frame(frame: &Frame, raw: &[u8]) {
    assert_eq!(frame.header.magic, MAGIC);
    assert_eq!(frame.header.payload_len as usize, frame.payload.len());
    assert_eq!(frame.header.checksum, Checksum::of(&frame.payload));
    assert!(frame.header.payload_len <= max_payload_len(frame.command()));
    let mut again = Vec::with_capacity(frame.encoded_len());
    frame.encode(&mut again);
    assert_eq!(again, raw, "the frame is not the bytes it was read from");
}

// ---------------------------------------------------------------------------------------------
// decode_message, roundtrip_message
// ---------------------------------------------------------------------------------------------

/// `decode_message`: [`Message::decode`] never panics, and a decoded message reports its
/// command and its encoded length truthfully; for `block` and `tx`, the one-pass decoders
/// (`decode_with`, also for `headers`) agree with `decode` on every input, result and error
/// alike.
///
/// # Panics
/// When a check fails.
pub fn check_decode_message(data: &[u8]) -> bool {
    let Some((command, payload)) = split_command(data) else {
        return false;
    };
    check_one_pass(command, payload);
    let Ok(msg) = Message::decode(command, payload) else {
        return false;
    };
    assert_eq!(msg.command(), command);
    assert_eq!(msg.encoded_len(), msg.to_vec().len());
    match &msg {
        Message::Inv(m) => check_fold(m.iter()),
        Message::GetData(m) => check_fold(m.iter()),
        Message::NotFound(m) => check_fold(m.iter()),
        Message::Addr(m) => check_fold(m.iter()),
        Message::AddrV2(m) => check_fold(m.iter()),
        Message::Headers(m) => check_fold(m.iter()),
        Message::Block(m) => check_fold(m.txs()),
        _ => {}
    }
    true
}

/// Internal iteration (`fold`, behind `for_each`, `sum`, ...) gives exactly the items that
/// `next` gives.
fn check_fold<I: Iterator + Clone>(iter: I)
where
    I::Item: PartialEq + core::fmt::Debug,
{
    let by_fold = iter.clone().fold(Vec::new(), |mut out, item| {
        out.push(item);
        out
    });
    let mut by_next = Vec::new();
    for item in iter {
        by_next.push(item);
    }
    assert_eq!(by_fold, by_next, "fold != next");
}

/// Counts what a one-pass decode hands over.
#[derive(Debug, Default, PartialEq, Eq)]
struct PartCounts {
    inputs: usize,
    outputs: usize,
    witness_items: usize,
    txs: usize,
}

impl TxVisitor<'_> for PartCounts {
    fn input(&mut self, _: TxIn<'_>) {
        self.inputs += 1;
    }
    fn output(&mut self, _: TxOut<'_>) {
        self.outputs += 1;
    }
    fn witness_item(&mut self, _: usize, _: &[u8]) {
        self.witness_items += 1;
    }
    fn tx(&mut self, _: &Tx<'_>) {
        self.txs += 1;
    }
}

/// For `block`, `tx` and `headers`: the one-pass decoder gives the same result or error as `decode`,
/// and on success hands over exactly the parts the lazy views hold.
fn check_one_pass(command: Command, payload: &[u8]) {
    let mut one_pass = PartCounts::default();
    let mut views = PartCounts::default();
    if command == Block::COMMAND {
        let result = Block::decode_with(payload, &mut one_pass);
        assert_eq!(
            result,
            Block::decode(payload),
            "block: decode_with != decode"
        );
        let Ok(block) = result else { return };
        block.txs().for_each(|tx| tx.visit(&mut views));
    } else if command == Tx::COMMAND {
        let result = Tx::decode_with(payload, &mut one_pass);
        assert_eq!(result, Tx::decode(payload), "tx: decode_with != decode");
        let Ok(tx) = result else { return };
        tx.visit(&mut views);
    } else if command == Headers::COMMAND {
        let mut seen = Vec::new();
        let result = Headers::decode_with(payload, |header| seen.push(header));
        let decoded = Headers::decode(payload);
        assert_eq!(result, decoded, "headers: decode_with != decode");
        if let Ok(headers) = decoded {
            assert_eq!(seen, headers.iter().collect::<Vec<_>>(), "headers visited");
        }
        return;
    } else {
        return;
    }
    assert_eq!(one_pass, views, "{command}: one pass and views disagree");
}

/// `roundtrip_message`: the codec is strict and canonical. If a payload decodes, it encodes
/// back to exactly the same bytes (so only canonical payloads decode), those bytes decode to
/// an equal message, and the payload fits the command's [`max_payload_len`] (so the frame
/// decoder would not refuse a valid message).
///
/// # Panics
/// When a check fails.
pub fn check_roundtrip_message(data: &[u8]) -> bool {
    let Some((command, payload)) = split_command(data) else {
        return false;
    };
    let Ok(msg) = Message::decode(command, payload) else {
        return false;
    };
    let encoded = msg.to_vec();
    assert_eq!(encoded.len(), msg.encoded_len(), "{command}: encoded_len");
    assert!(
        encoded == payload,
        "{command}: decode accepted a non-canonical payload\n  in:  {}\n  out: {}",
        hex(payload),
        hex(&encoded)
    );
    let again = Message::decode(command, &encoded)
        .unwrap_or_else(|e| panic!("{command}: own encoding does not decode: {e}"));
    assert_eq!(again, msg, "{command}: decode(encode(m)) != m");
    assert_eq!(again.to_vec(), encoded, "{command}: encoding not stable");
    // In steps (how `encode_frame` hashes while it writes): the same bytes, and every step
    // sees a prefix of them at least as long as the one before.
    let mut stepped = Vec::new();
    let mut last = 0;
    msg.encode_in_steps(&mut stepped, &mut |buf: &mut Vec<u8>| {
        assert!(buf.len() >= last, "{command}: a step went back");
        assert_eq!(
            buf[last..],
            encoded[last..buf.len()],
            "{command}: a step saw other bytes"
        );
        last = buf.len();
    });
    assert_eq!(stepped, encoded, "{command}: encode_in_steps != encode");
    assert_eq!(last, encoded.len(), "{command}: no step at the end");
    assert!(
        encoded.len() <= max_payload_len(command) as usize,
        "{command}: a valid payload of {} bytes is over MAX_LEN {}",
        encoded.len(),
        max_payload_len(command)
    );
    true
}

/// Lower-case hex, for failure messages and reproducers.
#[must_use]
pub fn hex(bytes: &[u8]) -> String {
    use core::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

// ---------------------------------------------------------------------------------------------
// roundtrip_structured
// ---------------------------------------------------------------------------------------------

/// An owned description of a message, generated by `arbitrary`, from which the borrowed
/// message is built with the public constructors.
///
/// To cover another message type: add a variant holding an owned description (plain values
/// and `Vec`s, deriving `Arbitrary`), one arm in [`MessageDesc::with_message`] that builds
/// the message from it as a user of the crate would (lists cut to their protocol limit with
/// [`capped`]), and one sample in [`sample_descs`]. Nothing else changes.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub enum MessageDesc {
    /// `verack`.
    Verack,
    /// `ping` with its nonce.
    Ping(u64),
    /// `pong` with its nonce.
    Pong(u64),
    /// `feefilter` with its fee rate.
    FeeFilter(i64),
    /// `version`.
    Version(VersionDesc),
    /// `inv` with its entries.
    Inv(Vec<InvItem>),
    /// `getdata` with its entries.
    GetData(Vec<InvItem>),
    /// `notfound` with its entries.
    NotFound(Vec<InvItem>),
    /// `getheaders`.
    GetHeaders(LocatorDesc),
    /// `getblocks`.
    GetBlocks(LocatorDesc),
    /// `headers` with its headers.
    Headers(Vec<BlockHeader>),
    /// `addr` with its entries.
    Addr(Vec<AddrEntry>),
    /// `tx`.
    Tx(TxDesc),
    /// `block`.
    Block(BlockDesc),
}

/// An owned `version` message.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub struct VersionDesc {
    /// The protocol version.
    pub version: u32,
    /// The sender's services.
    pub services: ServiceFlags,
    /// The sender's clock.
    pub timestamp: i64,
    /// The receiver's address.
    pub addr_recv: NetAddr,
    /// The sender's address.
    pub addr_from: NetAddr,
    /// The nonce.
    pub nonce: u64,
    /// The user agent (cut to `MAX_SUBVERSION_LENGTH`).
    pub user_agent: Vec<u8>,
    /// The best block height.
    pub start_height: i32,
    /// The optional BIP 37 relay flag.
    pub relay: Option<bool>,
}

/// An owned `getheaders`/`getblocks` request.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub struct LocatorDesc {
    /// The protocol version.
    pub version: u32,
    /// The locator (cut to `MAX_LOCATOR_SZ`).
    pub locator: Vec<BlockHash>,
    /// The stop hash.
    pub stop_hash: BlockHash,
}

/// Returns at most `limit` items: a list over its protocol limit encodes, but receivers
/// refuse it, so it does not round-trip.
#[must_use]
pub fn capped<T>(items: &[T], limit: u64) -> &[T] {
    &items[..items
        .len()
        .min(usize::try_from(limit).unwrap_or(usize::MAX))]
}

/// An owned transaction input, with its witness stack.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub struct TxInDesc {
    /// The output spent.
    pub previous_output: OutPoint,
    /// The unlocking script.
    pub script_sig: Vec<u8>,
    /// The sequence number.
    pub sequence: u32,
    /// The witness stack (ignored unless some input of the transaction has one).
    pub witness: Vec<Vec<u8>>,
}

/// An owned transaction output.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub struct TxOutDesc {
    /// The amount in satoshis.
    pub value: i64,
    /// The locking script.
    pub script_pubkey: Vec<u8>,
}

/// An owned transaction: at least one input (a legacy transaction without inputs cannot be
/// told from the segwit marker), segwit when some input has a non-empty witness stack.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub struct TxDesc {
    /// The version.
    pub version: i32,
    /// The first input.
    pub first_input: TxInDesc,
    /// The other inputs.
    pub more_inputs: Vec<TxInDesc>,
    /// The outputs.
    pub outputs: Vec<TxOutDesc>,
    /// The lock time.
    pub lock_time: u32,
}

/// An owned block: a header and a few transactions.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub struct BlockDesc {
    /// The header (not consensus-valid: the codec does not care).
    pub header: BlockHeader,
    /// The transactions.
    pub txs: Vec<TxDesc>,
}

/// The borrowed pieces of one transaction, before its witnesses are built.
struct TxParts<'a> {
    inputs: Vec<TxIn<'a>>,
    outputs: Vec<TxOut<'a>>,
    /// One list of item slices per input when segwit; empty otherwise.
    stacks: Vec<Vec<&'a [u8]>>,
}

impl TxDesc {
    /// Returns the inputs, the first one included.
    pub fn inputs(&self) -> impl Iterator<Item = &TxInDesc> {
        core::iter::once(&self.first_input).chain(&self.more_inputs)
    }

    /// Returns whether the transaction is serialized with witness data.
    #[must_use]
    pub fn is_segwit(&self) -> bool {
        self.inputs().any(|i| !i.witness.is_empty())
    }

    fn parts(&self) -> TxParts<'_> {
        let inputs = self
            .inputs()
            .map(|i| TxIn {
                previous_output: i.previous_output,
                script_sig: &i.script_sig,
                sequence: i.sequence,
            })
            .collect();
        let outputs = self
            .outputs
            .iter()
            .map(|o| TxOut {
                value: o.value,
                script_pubkey: &o.script_pubkey,
            })
            .collect();
        let stacks = if self.is_segwit() {
            self.inputs()
                .map(|i| i.witness.iter().map(Vec::as_slice).collect())
                .collect()
        } else {
            Vec::new()
        };
        TxParts {
            inputs,
            outputs,
            stacks,
        }
    }
}

/// Builds the transactions described by `txs` and passes them to `f`.
fn with_txs<R>(txs: &[TxDesc], f: impl FnOnce(&[Tx<'_>]) -> R) -> R {
    let parts: Vec<TxParts<'_>> = txs.iter().map(TxDesc::parts).collect();
    let witnesses: Vec<Vec<Witness<'_>>> = parts
        .iter()
        .map(|p| p.stacks.iter().map(|s| Witness::from_items(s)).collect())
        .collect();
    let built: Vec<Tx<'_>> = txs
        .iter()
        .zip(&parts)
        .zip(&witnesses)
        .map(|((d, p), w)| Tx::new(d.version, &p.inputs, &p.outputs, w, d.lock_time))
        .collect();
    f(&built)
}

impl MessageDesc {
    /// Builds the message with the crate's public constructors and passes it to `f`.
    pub fn with_message<R>(&self, f: impl FnOnce(Message<'_>) -> R) -> R {
        match self {
            Self::Verack => f(Message::from(Verack)),
            Self::Ping(nonce) => f(Message::from(Ping { nonce: *nonce })),
            Self::Pong(nonce) => f(Message::from(Pong { nonce: *nonce })),
            Self::FeeFilter(feerate) => f(Message::from(FeeFilter::new(*feerate))),
            Self::Version(v) => f(Message::from(Version::new(
                v.version,
                v.services,
                v.timestamp,
                v.addr_recv,
                v.addr_from,
                v.nonce,
                capped(&v.user_agent, MAX_SUBVERSION_LENGTH),
                v.start_height,
                v.relay,
            ))),
            Self::Inv(items) => f(Message::from(Inv::from_items(capped(
                items,
                MAX_INV_ENTRIES,
            )))),
            Self::GetData(items) => f(Message::from(GetData::from_items(capped(
                items,
                MAX_INV_ENTRIES,
            )))),
            Self::NotFound(items) => f(Message::from(NotFound::from_items(capped(
                items,
                MAX_INV_ENTRIES,
            )))),
            Self::GetHeaders(l) => f(Message::from(GetHeaders::new(
                l.version,
                capped(&l.locator, MAX_LOCATOR_SZ),
                l.stop_hash,
            ))),
            Self::GetBlocks(l) => f(Message::from(GetBlocks::new(
                l.version,
                capped(&l.locator, MAX_LOCATOR_SZ),
                l.stop_hash,
            ))),
            Self::Headers(headers) => f(Message::from(Headers::from_headers(capped(
                headers,
                MAX_HEADERS_RESULTS,
            )))),
            Self::Addr(entries) => f(Message::from(Addr::from_entries(capped(
                entries,
                MAX_ADDR_ENTRIES,
            )))),
            Self::Tx(tx) => with_txs(core::slice::from_ref(tx), |txs| f(Message::Tx(txs[0]))),
            Self::Block(block) => with_txs(&block.txs, |txs| {
                f(Message::Block(Block::new(block.header, txs)))
            }),
        }
    }
}

/// `roundtrip_structured`: a message built from values frames, decodes through
/// [`FrameDecoder`] and [`Message::decode`] to an equal message with the same ids (txid,
/// wtxid, block hash: the built and the decoded message compute them differently), and
/// re-encodes to the same bytes. Returns the frame's length (0 when it is too large to send).
///
/// # Panics
/// When a check fails.
pub fn check_roundtrip_structured(desc: &MessageDesc) -> usize {
    desc.with_message(|msg| {
        let command = msg.command();
        let len = msg.encoded_len();
        if len > max_payload_len(command) as usize {
            // Too large to send: refused by both framers, with nothing written.
            let mut wire = BytesMut::from(&b"kept"[..]);
            let refused = encode_frame(MAGIC, &msg, &mut wire);
            assert!(
                matches!(
                    refused,
                    Err(FrameError::MessageTooLarge { .. } | FrameError::PayloadTooLarge { .. })
                ),
                "{command}: {len} bytes framed: {refused:?}"
            );
            assert_eq!(&wire[..], b"kept", "{command}: refused frame left bytes");
            assert_eq!(Frame::from_message(MAGIC, &msg).err(), refused.err());
            return 0;
        }
        let mut wire = BytesMut::new();
        encode_frame(MAGIC, &msg, &mut wire).unwrap();
        assert_eq!(wire.len(), HEADER_LEN + len, "{command}: encoded_len");
        let sent = wire.to_vec();
        let built = Frame::from_message(MAGIC, &msg).unwrap();
        let mut built_raw = Vec::new();
        built.encode(&mut built_raw);
        assert_eq!(
            built_raw, sent,
            "{command}: Frame::from_message != encode_frame"
        );

        let mut decoder = FrameDecoder::new(MAGIC);
        let frame = decoder
            .decode(&mut wire)
            .unwrap_or_else(|e| panic!("{command}: own frame refused: {e}"))
            .expect("a whole frame");
        assert!(wire.is_empty());
        assert_eq!(frame, built);
        let back = frame
            .message()
            .unwrap_or_else(|e| panic!("{command}: own message refused: {e}"));
        assert_eq!(back, msg, "{command}: decode(encode(m)) != m");
        assert_same_ids(&back, &msg);
        let mut again = BytesMut::new();
        encode_frame(MAGIC, &back, &mut again).unwrap();
        assert_eq!(&again[..], &sent[..], "{command}: re-encoding differs");
        sent.len()
    })
}

/// Checks that two equal messages compute equal ids.
fn assert_same_ids(a: &Message<'_>, b: &Message<'_>) {
    match (a, b) {
        (Message::Tx(a), Message::Tx(b)) => assert_same_tx_ids(a, b),
        (Message::Block(a), Message::Block(b)) => {
            assert_eq!(a.block_hash(), b.block_hash());
            assert_eq!(a.merkle_root(), b.merkle_root());
            assert_eq!(a.weight(), b.weight());
            for (a, b) in a.txs().zip(b.txs()) {
                assert_same_tx_ids(&a, &b);
            }
        }
        (Message::Headers(a), Message::Headers(b)) => {
            assert!(
                a.iter()
                    .map(|h| h.block_hash())
                    .eq(b.iter().map(|h| h.block_hash()))
            );
            assert_eq!(a.is_continuous(), b.is_continuous());
        }
        _ => {}
    }
}

fn assert_same_tx_ids(a: &Tx<'_>, b: &Tx<'_>) {
    assert_eq!(a.txid(), b.txid());
    assert_eq!(a.wtxid(), b.wtxid());
    assert_eq!(a.is_segwit(), b.is_segwit());
    assert_eq!(a.weight(), b.weight());
    if !a.is_segwit() {
        assert_eq!(a.txid().0, a.wtxid().0);
    }
}

/// Decodes `data` as a [`MessageDesc`] and runs [`check_roundtrip_structured`], as the
/// `roundtrip_structured` target does.
pub fn check_roundtrip_structured_bytes(data: &[u8]) -> Option<usize> {
    let desc = arbitrary::Unstructured::new(data).arbitrary().ok()?;
    Some(check_roundtrip_structured(&desc))
}

// ---------------------------------------------------------------------------------------------
// Seed corpus
// ---------------------------------------------------------------------------------------------

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

/// One seed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    /// The target it seeds.
    pub target: &'static str,
    /// Its file name.
    pub name: String,
    /// Its content.
    pub data: Vec<u8>,
}

/// Canonical sample payloads: small messages built in code, the real blocks, smaller blocks
/// cut from them (header and first transactions), and some of their transactions.
///
/// # Panics
/// When a mainnet block in `tests/data/` does not decode.
#[must_use]
pub fn sample_payloads() -> Vec<(String, Command, Vec<u8>)> {
    let mut out = vec![
        ("verack".into(), Verack::COMMAND, Verack.to_vec()),
        ("ping".into(), Ping::COMMAND, Ping { nonce: 7 }.to_vec()),
        (
            "pong".into(),
            Pong::COMMAND,
            Pong {
                nonce: u64::MAX - 1,
            }
            .to_vec(),
        ),
    ];
    for (i, desc) in sample_txs().iter().enumerate() {
        desc.with_message(|m| {
            out.push((
                format!("{}_built_{i}", m.command()),
                m.command(),
                m.to_vec(),
            ))
        });
    }
    for (name, raw) in MAINNET_BLOCKS {
        let block = <Block<'_> as Payload<'_>>::decode(raw).expect("tests/data blocks decode");
        let txs: Vec<Tx<'_>> = block.txs().collect();
        for n in [1, 3] {
            let small = Block::new(block.header, &txs[..n.min(txs.len())]);
            out.push((format!("{name}_first{n}"), Block::COMMAND, small.to_vec()));
        }
        // A legacy and a segwit transaction, and the coinbase.
        let picks = [
            txs.first(),
            txs.iter().find(|t| t.is_segwit() && !t.is_coinbase()),
            txs.iter().find(|t| !t.is_segwit()),
        ];
        for (k, tx) in picks.into_iter().flatten().enumerate() {
            out.push((format!("{name}_tx{k}"), Tx::COMMAND, tx.to_vec()));
        }
        out.push((name.into(), Block::COMMAND, raw.to_vec()));
    }
    out
}

/// One description per [`MessageDesc`] variant (keep it so when adding a variant: a test
/// checks that the structured seeds reach every variant listed here).
#[must_use]
pub fn sample_descs() -> Vec<MessageDesc> {
    let addr = NetAddr::new(ServiceFlags(0x409), [0xfe; 16], 8333);
    let header = |n: u8| BlockHeader {
        version: 0x2000_0000,
        prev_blockhash: BlockHash([n; 32]),
        merkle_root: btcwire::types::MerkleNode([n + 1; 32]),
        time: 1_700_000_000 + u32::from(n),
        bits: 0x1703_a30c,
        nonce: u32::from(n),
    };
    let items = vec![
        InvItem::new(btcwire::types::InvType(1), [1; 32]),
        InvItem::new(btcwire::types::InvType(0x4000_0002), [2; 32]),
    ];
    let locator = LocatorDesc {
        version: 70_016,
        locator: vec![BlockHash([5; 32]), BlockHash([6; 32])],
        stop_hash: BlockHash::ZERO,
    };
    let mut out = vec![
        MessageDesc::Verack,
        MessageDesc::Ping(1),
        MessageDesc::Pong(u64::MAX),
        MessageDesc::FeeFilter(1_000),
        MessageDesc::Version(VersionDesc {
            version: 70_016,
            services: ServiceFlags(0x409),
            timestamp: 1_700_000_000,
            addr_recv: addr,
            addr_from: addr,
            nonce: 99,
            user_agent: b"/btcwire-fuzz:0.1.0/".to_vec(),
            start_height: 800_000,
            relay: Some(true),
        }),
        MessageDesc::Inv(items.clone()),
        MessageDesc::GetData(items.clone()),
        MessageDesc::NotFound(items),
        MessageDesc::GetHeaders(locator.clone()),
        MessageDesc::GetBlocks(locator),
        MessageDesc::Headers(vec![header(1), header(2)]),
        MessageDesc::Addr(vec![AddrEntry::new(1_700_000_000, addr)]),
    ];
    out.extend(sample_txs());
    out
}

/// Transactions built from values: legacy, segwit, and a block holding both.
fn sample_txs() -> Vec<MessageDesc> {
    let input = |n: u8, witness: Vec<Vec<u8>>| TxInDesc {
        previous_output: OutPoint {
            txid: btcwire::types::Txid([n; 32]),
            vout: u32::from(n),
        },
        script_sig: vec![0x51; usize::from(n)],
        sequence: 0xffff_fffd,
        witness,
    };
    let output = |value: i64| TxOutDesc {
        value,
        script_pubkey: vec![0x00, 0x14, 0xaa, 0xbb],
    };
    let legacy = TxDesc {
        version: 1,
        first_input: input(1, vec![]),
        more_inputs: vec![],
        outputs: vec![output(5_000)],
        lock_time: 0,
    };
    let segwit = TxDesc {
        version: 2,
        first_input: input(0, vec![vec![0x30; 71], vec![0x02; 33]]),
        more_inputs: vec![input(2, vec![])],
        outputs: vec![output(1), output(-1)],
        lock_time: 800_000,
    };
    let block = BlockDesc {
        header: BlockHeader {
            version: 0x2000_0000,
            prev_blockhash: btcwire::types::BlockHash([3; 32]),
            merkle_root: btcwire::types::MerkleNode([4; 32]),
            time: 1_700_000_000,
            bits: 0x1703_a30c,
            nonce: 42,
        },
        txs: vec![legacy.clone(), segwit.clone()],
    };
    vec![
        MessageDesc::Tx(legacy),
        MessageDesc::Tx(segwit),
        MessageDesc::Block(block),
    ]
}

/// Seeds for every target but `roundtrip_structured` from canonical `(name, command,
/// payload)` samples: the payload under its command, and its frame.
///
/// # Panics
/// When a sample does not decode.
#[must_use]
pub fn seeds_from_payloads(payloads: &[(String, Command, Vec<u8>)]) -> Vec<Seed> {
    let mut seeds = Vec::new();
    for (name, command, payload) in payloads {
        let mut input = vec![selector(*command)];
        input.extend_from_slice(payload);
        for target in ["decode_message", "roundtrip_message"] {
            seeds.push(Seed {
                target,
                name: name.clone(),
                data: input.clone(),
            });
        }
        seeds.push(Seed {
            target: "decode_frame",
            name: name.clone(),
            data: Chunking::to_input(&[CHUNK_REST], true, &frame_of(*command, payload)),
        });
    }
    seeds
}

/// Returns the mainnet frame of a canonical payload.
fn frame_of(command: Command, payload: &[u8]) -> Vec<u8> {
    let msg = Message::decode(command, payload)
        .unwrap_or_else(|e| panic!("sample {command} payload does not decode: {e}"));
    let mut wire = BytesMut::new();
    encode_frame(MAGIC, &msg, &mut wire).unwrap();
    wire.to_vec()
}

/// The seed corpus of every target, from [`sample_payloads`], [`sample_descs`] and
/// [`handshake::scripts`].
///
/// # Panics
/// When a mainnet block in `tests/data/` does not decode.
#[must_use]
pub fn seeds() -> Vec<Seed> {
    let payloads = sample_payloads();
    let mut seeds = seeds_from_payloads(&payloads);
    let small_stream: Vec<u8> = payloads
        .iter()
        .map(|(_, command, payload)| frame_of(*command, payload))
        .filter(|frame| frame.len() < 1_000)
        .flatten()
        .collect();
    // Several frames, cut at odd places; then the same with a corrupted checksum in the
    // middle, which must not stop the stream.
    seeds.push(Seed {
        target: "decode_frame",
        name: "stream_chunked".into(),
        data: Chunking::to_input(&[0, 6, 22, 100], false, &small_stream),
    });
    let mut corrupt = small_stream.clone();
    if let Some(b) = corrupt.get_mut(HEADER_LEN + 20) {
        *b ^= 0x55;
    }
    seeds.push(Seed {
        target: "decode_frame",
        name: "stream_bad_checksum".into(),
        data: Chunking::to_input(&[30, 2], false, &corrupt),
    });
    // An unknown command.
    let mut unknown = vec![u8::try_from(KNOWN_COMMANDS.len()).expect("< 256"), 6];
    unknown.extend_from_slice(b"xyzzy!payload");
    for target in ["decode_message", "roundtrip_message"] {
        seeds.push(Seed {
            target,
            name: "unknown".into(),
            data: unknown.clone(),
        });
    }
    // Structured inputs: `arbitrary` picks the variant from the first 4 bytes, so 32 evenly
    // spaced fills land on every variant (up to 32 of them).
    for fill in (0..=255u8).step_by(8) {
        let mut data = vec![fill; 4];
        data.extend((0..=255u8).cycle().take(256 + 4 * usize::from(fill)));
        seeds.push(Seed {
            target: "roundtrip_structured",
            name: format!("pattern_{fill:02x}"),
            data,
        });
    }
    seeds.extend(handshake::seeds());
    seeds
}

/// The largest seed written to a corpus: libFuzzer's default `-max_len` is at most 1 MiB and
/// it truncates longer inputs, so the 1.4 MB mainnet block stays a unit-test input only
/// (its first transactions are seeds as a smaller block).
pub const MAX_SEED_LEN: usize = 1 << 20;

/// Writes `seeds` (those up to [`MAX_SEED_LEN`]) under `dir/<target>/`, creating the
/// folders; returns the number of files written.
///
/// # Errors
/// An I/O error from creating a folder or writing a file.
pub fn write_seeds(dir: &std::path::Path, seeds: &[Seed]) -> std::io::Result<usize> {
    for target in TARGETS {
        std::fs::create_dir_all(dir.join(target))?;
    }
    let mut written = 0;
    for seed in seeds.iter().filter(|s| s.data.len() <= MAX_SEED_LEN) {
        std::fs::write(dir.join(seed.target).join(&seed.name), &seed.data)?;
        written += 1;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds_of(target: &str) -> Vec<Seed> {
        seeds().into_iter().filter(|s| s.target == target).collect()
    }

    /// `n` canonical payloads of every message type, from `btcwire::strategy::any_payload`
    /// with a fixed RNG seed, so the corpus is the same on every run.
    fn sampled_payloads(n: usize) -> Vec<(String, Command, Vec<u8>)> {
        use proptest::strategy::{Strategy, ValueTree};
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = btcwire::strategy::any_payload();
        (0..n)
            .map(|k| {
                let (command, payload) = strategy.new_tree(&mut runner).expect("a value").current();
                (format!("{command}_sampled_{k}"), command, payload)
            })
            .collect()
    }

    /// Runs a seed through its target's check, as the fuzzer would, and asserts that a
    /// seed is accepted (it is a valid input, not a rejected one).
    fn check_seed(seed: &Seed) {
        match seed.target {
            "decode_frame" => {
                let stats = check_decode_frame(&seed.data);
                assert!(stats.frames > 0 && stats.fatal.is_none(), "{}", seed.name);
            }
            "decode_message" => assert!(check_decode_message(&seed.data), "{}", seed.name),
            "roundtrip_message" => assert!(check_roundtrip_message(&seed.data), "{}", seed.name),
            "roundtrip_structured" => {
                assert!(
                    check_roundtrip_structured_bytes(&seed.data).is_some(),
                    "{}",
                    seed.name
                );
            }
            "handshake_ops" => {
                assert!(
                    handshake::check_handshake_ops(&seed.data).ops > 0,
                    "{}",
                    seed.name
                );
            }
            other => panic!("unknown target {other}"),
        }
    }

    #[test]
    fn sampled_payloads_of_every_command_pass_every_check() {
        let payloads = sampled_payloads(400);
        let commands: std::collections::HashSet<Command> =
            payloads.iter().map(|(_, c, _)| *c).collect();
        assert_eq!(
            commands.len(),
            KNOWN_COMMANDS.len(),
            "every command sampled"
        );
        for seed in seeds_from_payloads(&payloads) {
            check_seed(&seed);
        }
    }

    /// Writes the seed corpus: `fuzz/run-all.sh` runs it with `--ignored`. The folder is
    /// `$BTCWIRE_FUZZ_CORPUS`, or `fuzz/corpus`; existing files are kept.
    #[test]
    #[ignore = "writes files: run by fuzz/run-all.sh"]
    fn write_seed_corpus() {
        let dir = std::env::var_os("BTCWIRE_FUZZ_CORPUS").map_or_else(
            || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"),
            std::path::PathBuf::from,
        );
        let mut all = seeds();
        all.extend(seeds_from_payloads(&sampled_payloads(200)));
        all.iter().for_each(check_seed);
        let n = write_seeds(&dir, &all).expect("corpus written");
        std::println!("wrote {n} seeds under {}", dir.display());
    }

    #[test]
    fn every_target_has_seeds() {
        let seeds = seeds();
        for target in TARGETS {
            assert!(seeds.iter().any(|s| s.target == target), "{target}");
        }
        let mut names: Vec<_> = seeds.iter().map(|s| (s.target, &s.name)).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), seeds.len(), "seed names are unique per target");
    }

    #[test]
    fn decode_frame_seeds() {
        for seed in seeds_of("decode_frame") {
            let stats = check_decode_frame(&seed.data);
            assert_eq!(stats.fatal, None, "{}", seed.name);
            assert_eq!(stats.left, 0, "{}", seed.name);
            assert!(stats.frames > 0, "{}", seed.name);
            assert_eq!(stats.messages, stats.frames, "{}", seed.name);
            let bad = usize::from(seed.name == "stream_bad_checksum");
            assert_eq!(stats.bad_checksums, bad, "{}", seed.name);
        }
    }

    #[test]
    fn decode_frame_cut_everywhere() {
        let stream = seeds_of("decode_frame")
            .into_iter()
            .find(|s| s.name == "stream_chunked")
            .expect("seed")
            .data;
        let chunking = Chunking::parse(&stream).expect("chunking");
        let full = check_decode_frame(&Chunking::to_input(&[CHUNK_REST], false, chunking.stream));
        assert!(full.frames >= 8, "{full:?}");
        for size in 0..=40u8 {
            let input = Chunking::to_input(&[size], false, chunking.stream);
            assert_eq!(check_decode_frame(&input), full, "chunks of {}", size + 1);
        }
    }

    #[test]
    fn decode_frame_errors() {
        let ping = {
            let mut w = BytesMut::new();
            encode_frame(MAGIC, &btcwire::msg::Ping { nonce: 1 }, &mut w).unwrap();
            w.to_vec()
        };
        // Wrong magic is fatal, unless repaired.
        let mut foreign = ping.clone();
        foreign[0] ^= 1;
        let stats = check_decode_frame(&Chunking::to_input(&[3], false, &foreign));
        assert!(matches!(stats.fatal, Some(FrameError::WrongMagic { .. })));
        assert_eq!(stats.left, HEADER_LEN);
        let stats = check_decode_frame(&Chunking::to_input(&[3], true, &foreign));
        assert_eq!((stats.frames, stats.fatal), (1, None));
        // A bad checksum is not, unless repaired.
        let mut bad = ping.clone();
        bad[HEADER_LEN] ^= 1;
        bad.extend_from_slice(&ping);
        let stats = check_decode_frame(&Chunking::to_input(&[CHUNK_REST], false, &bad));
        assert_eq!((stats.frames, stats.bad_checksums), (1, 1));
        let stats = check_decode_frame(&Chunking::to_input(&[CHUNK_REST], true, &bad));
        assert_eq!((stats.frames, stats.bad_checksums), (2, 0));
        // Too large for a ping: refused from the header.
        let mut long = ping;
        long[16] = 9;
        long.push(0);
        let stats = check_decode_frame(&Chunking::to_input(&[CHUNK_REST], true, &long));
        assert!(matches!(
            stats.fatal,
            Some(FrameError::MessageTooLarge { .. })
        ));
        // Nothing to read.
        assert_eq!(check_decode_frame(&[]), FrameStats::default());
        assert_eq!(check_decode_frame(&[0x07]), FrameStats::default());
    }

    #[test]
    fn message_seeds_decode_and_roundtrip() {
        for target in ["decode_message", "roundtrip_message"] {
            for seed in seeds_of(target) {
                assert!(check_decode_message(&seed.data), "{}", seed.name);
                assert!(check_roundtrip_message(&seed.data), "{}", seed.name);
            }
        }
    }

    #[test]
    fn message_checks_on_truncations_and_flips() {
        // Every prefix of the small seeds, and every single-bit flip of a transaction, must
        // not panic; the strict codec refuses most of them.
        for seed in seeds_of("roundtrip_message") {
            if seed.data.len() > 2_000 {
                continue;
            }
            for cut in 0..seed.data.len() {
                check_decode_message(&seed.data[..cut]);
                check_roundtrip_message(&seed.data[..cut]);
            }
            for i in 1..seed.data.len() {
                let mut flipped = seed.data.clone();
                flipped[i] ^= 0x80;
                check_decode_message(&flipped);
                check_roundtrip_message(&flipped);
            }
        }
    }

    #[test]
    fn command_selection() {
        for (i, &command) in KNOWN_COMMANDS.iter().enumerate() {
            assert_eq!(selector(command), u8::try_from(i).unwrap());
            assert_eq!(
                split_command(&[selector(command), 9]),
                Some((command, &[9][..]))
            );
        }
        let n = u8::try_from(KNOWN_COMMANDS.len()).unwrap();
        // Length 2 % 12 + 1 = 3; each byte b becomes b % 95 + 0x20.
        let input = [n, 2, b'a', 128, 129, 1];
        let (command, rest) = split_command(&input).unwrap();
        assert_eq!((command.as_str(), rest), ("\"AB", &[1][..]));
        assert!(!KNOWN_COMMANDS.contains(&command));
        assert_eq!(split_command(&[]), None);
        assert_eq!(split_command(&[n]), None);
        assert_eq!(split_command(&[n, 5, b'a']), None);
        // An unknown command keeps its payload as is.
        assert!(check_roundtrip_message(&[n, 0, b'z', 1, 2, 3]));
    }

    #[test]
    fn non_canonical_payloads_are_refused() {
        // A ping with a trailing byte, a tx with a non-minimal input count.
        let ping = [
            selector(btcwire::msg::Ping::COMMAND),
            1,
            2,
            3,
            4,
            5,
            6,
            7,
            8,
            9,
        ];
        assert!(!check_roundtrip_message(&ping));
        let seed = seeds_of("roundtrip_message")
            .into_iter()
            .find(|s| s.name.starts_with("tx_built_"))
            .expect("seed");
        let mut tx = seed.data.clone();
        tx.splice(5..6, [0xfd, 0x01, 0x00]);
        assert!(!check_roundtrip_message(&tx));
    }

    #[test]
    fn structured_samples() {
        for desc in sample_descs() {
            assert!(check_roundtrip_structured(&desc) >= HEADER_LEN, "{desc:?}");
        }
        // A witness of empty stacks only is no witness: the tx is legacy.
        let mut tx = match &sample_txs()[0] {
            MessageDesc::Tx(t) => t.clone(),
            _ => unreachable!(),
        };
        tx.more_inputs.push(tx.first_input.clone());
        assert!(!tx.is_segwit());
        check_roundtrip_structured(&MessageDesc::Tx(tx));
    }

    #[test]
    fn structured_seeds_cover_every_variant() {
        let mut seen = std::collections::HashSet::new();
        for seed in seeds_of("roundtrip_structured") {
            let desc: MessageDesc = arbitrary::Unstructured::new(&seed.data)
                .arbitrary()
                .expect("seed decodes");
            seen.insert(core::mem::discriminant(&desc));
            assert!(check_roundtrip_structured_bytes(&seed.data).is_some());
        }
        for desc in sample_descs() {
            assert!(
                seen.contains(&core::mem::discriminant(&desc)),
                "no seed for {desc:?}"
            );
        }
    }

    #[test]
    fn repair_fixes_magic_and_checksums() {
        let mut stream = Vec::new();
        for nonce in 0..3 {
            let mut w = BytesMut::new();
            encode_frame(Magic::REGTEST, &btcwire::msg::Ping { nonce }, &mut w).unwrap();
            stream.extend_from_slice(&w);
        }
        stream[20] ^= 1;
        // A truncated header at the end, and a length that runs past the end.
        let mut tail = stream.clone();
        tail.extend_from_slice(&[1, 2, 3]);
        repair_frames(&mut tail);
        let mut long = stream.clone();
        long[16] = 200;
        repair_frames(&mut long);
        repair_frames(&mut stream);
        let stats = check_decode_frame(&Chunking::to_input(&[CHUNK_REST], false, &stream));
        assert_eq!(
            (stats.frames, stats.bad_checksums, stats.fatal),
            (3, 0, None)
        );
        assert_eq!(&tail[..stream.len()], &stream[..]);
    }
}
