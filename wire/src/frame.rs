//! Framing: the streaming [`FrameDecoder`] and [`encode_frame`].
//!
//! The decoder has two states: waiting for a 24-byte header, then waiting for the payload
//! that header announced. The header is checked as soon as its 24 bytes are in (network
//! size limit, magic, command, the command's own size limit), so nothing is buffered for a
//! frame that will be refused. It never reserves memory: the buffer grows only as bytes
//! actually arrive. A complete payload is split off the buffer as [`Bytes`] (no copy) and
//! its checksum verified.
//!
//! A checksum mismatch consumes the frame and leaves the decoder ready for the next one
//! (Bitcoin Core drops such a message and keeps the peer). Every other [`FrameError`] means
//! the stream cannot be trusted any more: the peer should be disconnected.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::checksum::{Checksum, RunningChecksum};
use crate::error::{FrameError, MessageError};
use crate::header::{Command, HEADER_LEN, Magic, MessageHeader};
use crate::msg::{self, Message, Payload};
use crate::{DecodeError, Encode, limits};

/// A message as it crossed the wire: its header and its raw payload.
///
/// Cheap to clone and to keep across an `.await`: decode it again with [`Frame::message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The checked header.
    pub header: MessageHeader,
    /// The payload, checksum verified.
    pub payload: Bytes,
}

impl Frame {
    /// Builds the frame of `msg` for the network with `magic`.
    ///
    /// # Errors
    /// As [`encode_frame`]: a message built over the protocol's size limits is refused.
    pub fn from_message<M: Framed + ?Sized>(magic: Magic, msg: &M) -> Result<Self, FrameError> {
        let command = msg.command();
        let len = msg.encoded_len();
        let payload_len = check_payload_len(command, len, limits::MAX_PROTOCOL_MESSAGE_LENGTH)?;
        // A `Vec` takes many small writes faster than a `BytesMut`, and becomes `Bytes`
        // without a copy.
        let mut payload = alloc::vec::Vec::with_capacity(len);
        msg.encode(&mut payload);
        debug_assert_eq!(payload.len(), len, "encoded_len agrees with encode");
        let payload = Bytes::from(payload);
        let header = MessageHeader {
            magic,
            command,
            payload_len,
            checksum: Checksum::of(&payload),
        };
        Ok(Self { header, payload })
    }

    /// Builds a frame of `payload` as it is, with its length and checksum in the header and
    /// no limit checked: for frames a receiver must refuse (tests of its limits, fuzzing)
    /// or bytes relayed untouched. [`Frame::from_message`] is the checked way to send.
    #[must_use]
    pub fn unchecked(magic: Magic, command: Command, payload: Bytes) -> Self {
        let header = MessageHeader {
            magic,
            command,
            payload_len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
            checksum: Checksum::of(&payload),
        };
        Self { header, payload }
    }

    /// Returns the frame's command.
    #[must_use]
    pub const fn command(&self) -> Command {
        self.header.command
    }

    /// Decodes the payload as the message its command names.
    ///
    /// # Errors
    /// [`MessageError`] with the command, field and offset.
    pub fn message(&self) -> Result<Message<'_>, MessageError> {
        Message::decode(self.header.command, &self.payload)
    }

    /// Decodes the payload as `M`, whatever the command says.
    ///
    /// # Errors
    /// [`DecodeError`] with the field and offset.
    pub fn decode_as<'a, M: Payload<'a>>(&'a self) -> Result<M, DecodeError> {
        M::decode(&self.payload)
    }

    /// Returns the frame's encoded length (header and payload).
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Writes the frame: header, then payload.
    pub fn encode<B: BufMut>(&self, buf: &mut B) {
        self.header.encode(buf);
        buf.put_slice(&self.payload);
    }
}

/// Something that can be sent as a message: a [`Payload`] type or a whole [`Message`].
pub trait Framed: Encode {
    /// Returns the command to put in the header.
    fn command(&self) -> Command;
}

impl<'a, P: Payload<'a>> Framed for P {
    fn command(&self) -> Command {
        P::COMMAND
    }
}

impl Framed for Message<'_> {
    fn command(&self) -> Command {
        Message::command(self)
    }
}

/// Payloads up to this size are encoded straight into the output buffer.
const SMALL_PAYLOAD: usize = 256;

/// Checks a payload length against `max` (at most
/// [`MAX_PROTOCOL_MESSAGE_LENGTH`](limits::MAX_PROTOCOL_MESSAGE_LENGTH)) and `command`'s
/// own limit, as a receiver checks a header; returns it as the header's `u32`.
fn check_payload_len(command: Command, len: usize, max: u32) -> Result<u32, FrameError> {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    check_size(len, max)?;
    check_command_size(command, len)?;
    Ok(len)
}

/// The first check of a header: its length against `max`, whatever the command.
fn check_size(len: u32, max: u32) -> Result<(), FrameError> {
    if len > max {
        return Err(FrameError::PayloadTooLarge { len, limit: max });
    }
    Ok(())
}

/// The last check of a header: its length against its command's own limit.
fn check_command_size(command: Command, len: u32) -> Result<(), FrameError> {
    let limit = msg::max_payload_len(command);
    if len > limit {
        return Err(FrameError::MessageTooLarge {
            command,
            len,
            limit,
        });
    }
    Ok(())
}

/// Appends the frame of `msg` to `buf`: header, payload, with length and checksum filled in.
///
/// The frame is one a receiver takes: a message built from values whose payload is over
/// [`MAX_PROTOCOL_MESSAGE_LENGTH`](limits::MAX_PROTOCOL_MESSAGE_LENGTH) or its command's
/// own limit (50,001 `inv` entries, say) is refused, and `buf` is left as it was.
///
/// # Errors
/// [`FrameError::PayloadTooLarge`] or [`FrameError::MessageTooLarge`].
pub fn encode_frame<M: Framed + ?Sized>(
    magic: Magic,
    msg: &M,
    buf: &mut BytesMut,
) -> Result<(), FrameError> {
    let start = buf.len();
    // Many small writes are several times faster into a `Vec` than into a `BytesMut` (whose
    // `BufMut` checks and advances on every call). A `BytesMut` becomes a `Vec` and back
    // (through `Bytes`) without copying its buffer, only moving the `start` bytes already
    // in it to the front: into an empty buffer, a message goes through a `Vec` without
    // even computing its length first; after other frames, only a large one does, and only
    // when it is larger than what the buffer holds.
    let through_vec = start == 0 || {
        let len = msg.encoded_len();
        len > SMALL_PAYLOAD && len > start
    };
    let checksum = if through_vec {
        let mut vec: alloc::vec::Vec<u8> = core::mem::take(buf).into();
        vec.extend_from_slice(&[0; HEADER_LEN]);
        // The payload is hashed while it is written (see `RunningChecksum`).
        let mut running = RunningChecksum::new(start + HEADER_LEN);
        msg.encode_in_steps(&mut vec, &mut |written: &mut alloc::vec::Vec<u8>| {
            running.step(written);
        });
        let checksum = running.finish(&vec);
        *buf = BytesMut::from(bytes::Bytes::from(vec));
        checksum
    } else {
        buf.reserve(HEADER_LEN + msg.encoded_len());
        buf.put_bytes(0, HEADER_LEN);
        msg.encode(buf);
        Checksum::of(&buf[start + HEADER_LEN..])
    };
    let payload = &buf[start + HEADER_LEN..];
    debug_assert_eq!(
        payload.len(),
        msg.encoded_len(),
        "encoded_len agrees with encode"
    );
    debug_assert_eq!(checksum, Checksum::of(payload), "hashed in steps");
    let command = msg.command();
    let payload_len =
        match check_payload_len(command, payload.len(), limits::MAX_PROTOCOL_MESSAGE_LENGTH) {
            Ok(len) => len,
            Err(e) => {
                buf.truncate(start);
                return Err(e);
            }
        };
    let header = MessageHeader {
        magic,
        command,
        payload_len,
        checksum,
    };
    buf[start..start + HEADER_LEN].copy_from_slice(&header.to_bytes());
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Payload(MessageHeader),
}

/// A streaming frame decoder for one network.
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    magic: Magic,
    max_payload_len: u32,
    state: State,
}

impl FrameDecoder {
    /// Returns a decoder for frames with `magic`.
    #[must_use]
    pub const fn new(magic: Magic) -> Self {
        Self {
            magic,
            max_payload_len: limits::MAX_PROTOCOL_MESSAGE_LENGTH,
            state: State::Header,
        }
    }

    /// Lowers the largest payload accepted (never above
    /// [`limits::MAX_PROTOCOL_MESSAGE_LENGTH`]).
    #[must_use]
    pub const fn with_max_payload_len(mut self, max: u32) -> Self {
        self.max_payload_len = if max < limits::MAX_PROTOCOL_MESSAGE_LENGTH {
            max
        } else {
            limits::MAX_PROTOCOL_MESSAGE_LENGTH
        };
        self
    }

    /// Returns the magic this decoder expects.
    #[must_use]
    pub const fn magic(&self) -> Magic {
        self.magic
    }

    /// Returns the header of the frame whose payload is awaited, if any.
    #[must_use]
    pub const fn pending(&self) -> Option<&MessageHeader> {
        match &self.state {
            State::Payload(h) => Some(h),
            State::Header => None,
        }
    }

    /// Takes the next complete frame from the front of `src`, or returns `Ok(None)` when
    /// more bytes are needed. Consumed bytes are removed from `src`.
    ///
    /// # Errors
    /// [`FrameError`]: after [`FrameError::BadChecksum`] the frame is consumed and decoding
    /// can go on; after any other error the stream is unusable.
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        let header = match self.state {
            State::Payload(header) => header,
            State::Header => {
                let Some(raw) = src.first_chunk::<HEADER_LEN>() else {
                    return Ok(None);
                };
                let header = self.check(raw)?;
                src.advance(HEADER_LEN);
                self.state = State::Payload(header);
                header
            }
        };
        let len = header.payload_len as usize;
        if src.len() < len {
            return Ok(None);
        }
        // An empty payload (`verack`, `getaddr`, ...) takes nothing from the buffer.
        let payload = if len == 0 {
            Bytes::new()
        } else {
            src.split_to(len).freeze()
        };
        self.state = State::Header;
        let actual = Checksum::of(&payload);
        if actual != header.checksum {
            return Err(FrameError::BadChecksum {
                command: header.command,
                expected: header.checksum.0,
                actual: actual.0,
            });
        }
        Ok(Some(Frame { header, payload }))
    }

    /// Checks a payload length against this decoder's limit and `command`'s (the checks a
    /// header's length gets, without the magic).
    ///
    /// # Errors
    /// [`FrameError::PayloadTooLarge`] or [`FrameError::MessageTooLarge`].
    pub fn check_len(&self, command: Command, len: u32) -> Result<(), FrameError> {
        check_payload_len(command, len as usize, self.max_payload_len).map(drop)
    }

    /// Checks a header in the protocol's order: size, magic, command, per-message size.
    fn check(&self, raw: &[u8; HEADER_LEN]) -> Result<MessageHeader, FrameError> {
        let len = u32::from_le_bytes([raw[16], raw[17], raw[18], raw[19]]);
        check_size(len, self.max_payload_len)?;
        let magic = Magic([raw[0], raw[1], raw[2], raw[3]]);
        if magic != self.magic {
            return Err(FrameError::WrongMagic {
                expected: self.magic,
                actual: magic,
            });
        }
        let header = MessageHeader::from_bytes(raw)?;
        check_command_size(header.command, len)?;
        Ok(header)
    }
}

#[cfg(feature = "codec")]
mod codec {
    use super::*;

    /// An error from [`FrameCodec`]: a frame problem or an I/O failure.
    #[derive(Debug, thiserror::Error)]
    #[non_exhaustive]
    pub enum CodecError {
        /// A frame was refused.
        #[error(transparent)]
        Frame(#[from] FrameError),
        /// The underlying stream failed.
        #[error("i/o error")]
        Io(#[from] std::io::Error),
    }

    /// A `tokio_util` codec: [`FrameDecoder`] as a `Decoder`, frames and messages as an
    /// `Encoder`, with every protocol limit built in.
    ///
    /// Each item the decoder yields is `Ok(frame)`, or `Err(FrameError::BadChecksum { .. })`
    /// for a frame whose payload did not match its checksum: that frame is consumed and the
    /// stream goes on (Bitcoin Core drops such a message and keeps the peer). Every other
    /// [`FrameError`] is an error of the stream itself (after which `FramedRead` ends):
    /// the bytes can no longer be trusted to be frames.
    ///
    /// The encoder refuses, writing nothing, what the decoder on the other side would refuse
    /// from the envelope: a [`Frame`] for another network, a payload over the codec's limit
    /// or its command's, or a `Frame` whose header's length is not its payload's. Messages
    /// are framed with the codec's own magic. The checksum of a `Frame` is written as its
    /// header holds it, not recomputed: [`Frame::from_message`] and [`Frame::unchecked`]
    /// compute it, and a decoded frame's was verified; a `Frame` whose public fields were
    /// changed afterwards is the caller's.
    #[derive(Debug, Clone)]
    pub struct FrameCodec {
        decoder: FrameDecoder,
    }

    impl FrameCodec {
        /// Returns a codec for frames with `magic`.
        #[must_use]
        pub const fn new(magic: Magic) -> Self {
            Self {
                decoder: FrameDecoder::new(magic),
            }
        }

        /// Lowers the largest payload accepted and sent (never above
        /// [`limits::MAX_PROTOCOL_MESSAGE_LENGTH`]), as
        /// [`FrameDecoder::with_max_payload_len`].
        #[must_use]
        pub const fn with_max_payload_len(self, max: u32) -> Self {
            Self {
                decoder: self.decoder.with_max_payload_len(max),
            }
        }
    }

    impl tokio_util::codec::Decoder for FrameCodec {
        type Item = Result<Frame, FrameError>;
        type Error = CodecError;
        fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, CodecError> {
            match self.decoder.decode(src) {
                Ok(frame) => Ok(frame.map(Ok)),
                Err(bad @ FrameError::BadChecksum { .. }) => Ok(Some(Err(bad))),
                Err(fatal) => Err(fatal.into()),
            }
        }
    }

    impl tokio_util::codec::Encoder<Frame> for FrameCodec {
        type Error = CodecError;
        fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), CodecError> {
            let header = &frame.header;
            if header.magic != self.decoder.magic {
                return Err(FrameError::WrongMagic {
                    expected: self.decoder.magic,
                    actual: header.magic,
                }
                .into());
            }
            let len = u32::try_from(frame.payload.len()).unwrap_or(u32::MAX);
            self.decoder.check_len(header.command, len)?;
            if header.payload_len != len {
                return Err(FrameError::LengthMismatch {
                    command: header.command,
                    header: header.payload_len,
                    payload: frame.payload.len(),
                }
                .into());
            }
            dst.reserve(frame.encoded_len());
            frame.encode(dst);
            Ok(())
        }
    }

    impl<M: Framed + ?Sized> tokio_util::codec::Encoder<&M> for FrameCodec {
        type Error = CodecError;
        fn encode(&mut self, msg: &M, dst: &mut BytesMut) -> Result<(), CodecError> {
            let len = u32::try_from(msg.encoded_len()).unwrap_or(u32::MAX);
            self.decoder.check_len(msg.command(), len)?;
            Ok(encode_frame(self.decoder.magic, msg, dst)?)
        }
    }
}

#[cfg(feature = "codec")]
pub use codec::{CodecError, FrameCodec};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::{Ping, Verack};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    const MAGIC: Magic = Magic::MAINNET;

    fn stream() -> (BytesMut, Vec<Frame>) {
        let mut wire = BytesMut::new();
        let mut frames = Vec::new();
        for nonce in 0..4u64 {
            let f = Frame::from_message(MAGIC, &Ping { nonce }).unwrap();
            encode_frame(MAGIC, &Ping { nonce }, &mut wire).unwrap();
            frames.push(f);
            frames.push(Frame::from_message(MAGIC, &Verack).unwrap());
            encode_frame(MAGIC, &Verack, &mut wire).unwrap();
        }
        (wire, frames)
    }

    fn feed(wire: &[u8], cuts: &[usize]) -> (Vec<Frame>, BytesMut) {
        let mut dec = FrameDecoder::new(MAGIC);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut last = 0;
        for &cut in cuts.iter().chain(core::iter::once(&wire.len())) {
            buf.extend_from_slice(&wire[last..cut]);
            last = cut;
            while let Some(f) = dec.decode(&mut buf).unwrap() {
                out.push(f);
            }
        }
        (out, buf)
    }

    #[test]
    fn encode_frame_into_empty_and_busy_buffers() {
        // Through the `Vec` path (empty buffer; a large payload after a short prefix) and
        // the direct path (small payloads after other frames; a large one after a larger
        // prefix), every frame comes out whole and in order.
        let big = [7u8; 1000];
        let bigger = [9u8; 3000];
        let unknown = |payload| Message::Unknown {
            command: Command::new("big"),
            payload,
        };
        let messages = [
            unknown(&big[..]),
            Message::Verack(Verack),
            unknown(&big[..]),
            unknown(&bigger[..]),
            unknown(&big[..]),
        ];
        let mut buf = BytesMut::with_capacity(16 * 1024);
        let allocation = buf.as_ptr();
        for m in &messages {
            encode_frame(MAGIC, m, &mut buf).unwrap();
        }
        // Converting to a `Vec` and back keeps the allocation when it is big enough.
        assert_eq!(buf.as_ptr(), allocation);
        let mut dec = FrameDecoder::new(MAGIC);
        for m in &messages {
            let frame = dec.decode(&mut buf).unwrap().unwrap();
            assert_eq!(frame.header.command, m.command());
            assert_eq!(&frame.message().unwrap(), m);
        }
        assert!(buf.is_empty());
    }

    #[test]
    fn every_single_cut_point() {
        let (wire, frames) = stream();
        for cut in 0..=wire.len() {
            let (out, rest) = feed(&wire, &[cut]);
            assert_eq!(out, frames, "cut at {cut}");
            assert!(rest.is_empty());
        }
    }

    #[test]
    fn byte_by_byte() {
        let (wire, frames) = stream();
        let cuts: Vec<usize> = (0..wire.len()).collect();
        assert_eq!(feed(&wire, &cuts).0, frames);
    }

    proptest! {
        #[test]
        fn random_cuts(mut cuts in proptest::collection::vec(0usize..=256, 0..20)) {
            let (wire, frames) = stream();
            cuts.iter_mut().for_each(|c| *c = (*c).min(wire.len()));
            cuts.sort_unstable();
            let (out, rest) = feed(&wire, &cuts);
            prop_assert_eq!(out, frames);
            prop_assert!(rest.is_empty());
        }
    }

    fn header(magic: Magic, cmd: &[u8; 12], len: u32, sum: [u8; 4]) -> BytesMut {
        let mut b = BytesMut::new();
        b.put_slice(&magic.0);
        b.put_slice(cmd);
        b.put_u32_le(len);
        b.put_slice(&sum);
        b
    }

    #[test]
    fn oversize_refused_from_header_alone() {
        let mut buf = header(MAGIC, b"block\0\0\0\0\0\0\0", 4_000_001, [0; 4]);
        let mut dec = FrameDecoder::new(MAGIC);
        assert_eq!(
            dec.decode(&mut buf),
            Err(FrameError::PayloadTooLarge {
                len: 4_000_001,
                limit: 4_000_000
            })
        );
        // Size is checked before magic and command.
        let mut buf = header(Magic::REGTEST, b"\0bad\0\0\0\0\0\0\0\0", u32::MAX, [0; 4]);
        assert!(matches!(
            dec.decode(&mut buf),
            Err(FrameError::PayloadTooLarge { .. })
        ));
    }

    /// A message built over a size limit is refused by both framers, and the buffer keeps
    /// what it held (through both of `encode_frame`'s paths: an empty buffer and a busy one).
    #[test]
    fn oversize_messages_are_not_framed() {
        use crate::msg::Inv;
        use crate::types::{BlockHash, InvItem};
        let items = alloc::vec![InvItem::block(BlockHash([1; 32])); 50_001];
        let inv = Inv::from_items(&items);
        let too_many = FrameError::MessageTooLarge {
            command: Command::new("inv"),
            len: 1_800_039,
            limit: 1_800_003,
        };
        let big = alloc::vec![0u8; 4_000_001];
        let unknown = Message::Unknown {
            command: Command::new("whatever"),
            payload: &big,
        };
        let too_big = FrameError::PayloadTooLarge {
            len: 4_000_001,
            limit: 4_000_000,
        };
        for held in [&b""[..], b"earlier frames"] {
            let mut buf = BytesMut::from(held);
            assert_eq!(encode_frame(MAGIC, &inv, &mut buf), Err(too_many));
            assert_eq!(encode_frame(MAGIC, &unknown, &mut buf), Err(too_big));
            assert_eq!(&buf[..], held);
            // The largest that fits still goes.
            encode_frame(MAGIC, &Inv::from_items(&items[..50_000]), &mut buf).unwrap();
            assert_eq!(buf.len(), held.len() + HEADER_LEN + 1_800_003);
        }
        assert_eq!(Frame::from_message(MAGIC, &inv), Err(too_many));
        assert_eq!(Frame::from_message(MAGIC, &unknown), Err(too_big));
    }

    #[test]
    fn magic_then_command_then_message_limit() {
        let mut dec = FrameDecoder::new(MAGIC);
        let mut buf = header(Magic::REGTEST, b"\0bad\0\0\0\0\0\0\0\0", 0, [0; 4]);
        assert_eq!(
            dec.decode(&mut buf),
            Err(FrameError::WrongMagic {
                expected: MAGIC,
                actual: Magic::REGTEST
            })
        );
        let mut buf = header(MAGIC, b"pi\nng\0\0\0\0\0\0\0", 0, [0; 4]);
        assert!(matches!(
            dec.decode(&mut buf),
            Err(FrameError::InvalidCommand(_))
        ));
        let mut buf = header(MAGIC, b"ping\0\0\0\0\0\0\0\0", 9, [0; 4]);
        assert_eq!(
            dec.decode(&mut buf),
            Err(FrameError::MessageTooLarge {
                command: Command::new("ping"),
                len: 9,
                limit: 8
            })
        );
    }

    #[test]
    fn bad_checksum_drops_frame_and_continues() {
        let mut wire = header(MAGIC, b"ping\0\0\0\0\0\0\0\0", 8, [1, 2, 3, 4]);
        wire.put_u64_le(7);
        encode_frame(MAGIC, &Ping { nonce: 8 }, &mut wire).unwrap();
        let mut dec = FrameDecoder::new(MAGIC);
        let err = dec.decode(&mut wire).unwrap_err();
        let FrameError::BadChecksum {
            command, expected, ..
        } = err
        else {
            panic!("{err:?}")
        };
        assert_eq!((command.as_str(), expected), ("ping", [1, 2, 3, 4]));
        let f = dec.decode(&mut wire).unwrap().unwrap();
        assert_eq!(f.decode_as::<Ping>(), Ok(Ping { nonce: 8 }));
        assert!(wire.is_empty());
    }

    #[test]
    fn never_reserves_for_a_claimed_length() {
        let mut buf = header(MAGIC, b"block\0\0\0\0\0\0\0", 3_999_999, [0; 4]);
        let before = buf.capacity();
        let mut dec = FrameDecoder::new(MAGIC);
        assert_eq!(dec.decode(&mut buf), Ok(None));
        assert!(buf.capacity() <= before, "{} > {before}", buf.capacity());
        assert_eq!(dec.pending().map(|h| h.payload_len), Some(3_999_999));
    }
}
