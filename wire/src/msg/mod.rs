//! Every P2P message: the [`Message`] enum and [`Message::decode`].
//!
//! Each family lives in one file with its structs, parser, encoder, limits and tests:
//!
//! | file            | messages                                                                |
//! |-----------------|-------------------------------------------------------------------------|
//! | `network.rs`    | version verack ping pong getaddr sendaddrv2 feefilter sendheaders wtxidrelay sendtxrcncl feature reject |
//! | `addr.rs`       | addr addrv2 (BIP 155)                                                   |
//! | `blockdata.rs`  | inv getdata notfound getblocks getheaders headers mempool               |
//! | `types/block.rs`, `types/tx.rs` | block tx (BIP 144 witness serialization)                |
//! | `bloom.rs`      | filterload filteradd filterclear merkleblock (BIP 37)                   |
//! | `filter.rs`     | getcfilters cfilter getcfheaders cfheaders getcfcheckpt cfcheckpt (BIP 157) |
//! | `compact.rs`    | sendcmpct cmpctblock getblocktxn blocktxn (BIP 152)                     |

use bytes::BufMut;

use crate::error::{DecodeError, MessageError};
use crate::header::Command;
use crate::{Encode, PResult, decode_all, limits};

mod addr;
mod blockdata;
mod bloom;
mod compact;
mod filter;
mod network;

pub use crate::types::block::Block;
pub use crate::types::tx::Tx;
pub use addr::*;
pub use blockdata::*;
pub use bloom::*;
pub use compact::*;
pub use filter::*;
pub use network::*;

/// A message type: its command, its payload limit, and its parser.
pub trait Payload<'a>: Encode + Sized {
    /// The command that carries this message.
    const COMMAND: Command;

    /// The largest valid payload in bytes; a frame declaring more is refused from its header.
    const MAX_LEN: u32 = limits::MAX_PROTOCOL_MESSAGE_LENGTH;

    /// Reads the message from the start of `input`, returning what follows it.
    ///
    /// # Errors
    /// When the bytes are not a valid message.
    fn parse(input: &'a [u8]) -> PResult<'a, Self>;

    /// Reads the message from a whole payload; bytes left over are an error.
    ///
    /// # Errors
    /// The parser's [`DecodeError`], or [`DecodeErrorKind::TrailingBytes`](crate::DecodeErrorKind::TrailingBytes).
    fn decode(payload: &'a [u8]) -> Result<Self, DecodeError> {
        decode_all(payload, Self::parse)
    }
}

macro_rules! messages {
    ($lt:lifetime; $($(#[$doc:meta])* $variant:ident($ty:ty),)*) => {
        /// A decoded message, borrowing from its payload.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum Message<$lt> {
            $($(#[$doc])* $variant($ty),)*
            /// A command this crate does not know, kept as raw bytes.
            Unknown {
                /// The command.
                command: Command,
                /// The raw payload.
                payload: &$lt [u8],
            },
        }

        impl<$lt> Message<$lt> {
            /// Decodes the payload of a message with `command`; unknown commands become
            /// [`Message::Unknown`].
            ///
            /// # Errors
            /// [`MessageError`] naming the command, the field, the problem and its offset.
            pub fn decode(command: Command, payload: &$lt [u8]) -> Result<Self, MessageError> {
                $(
                    if command == <$ty as Payload<$lt>>::COMMAND {
                        return <$ty as Payload<$lt>>::decode(payload)
                            .map(Self::$variant)
                            .map_err(|source| MessageError { command, source });
                    }
                )*
                Ok(Self::Unknown { command, payload })
            }

            /// Returns the message's command.
            #[must_use]
            pub fn command(&self) -> Command {
                match self {
                    $(Self::$variant(_) => <$ty as Payload<$lt>>::COMMAND,)*
                    Self::Unknown { command, .. } => *command,
                }
            }
        }

        impl<$lt> Encode for Message<$lt> {
            #[inline]
            fn encoded_len(&self) -> usize {
                match self {
                    $(Self::$variant(m) => m.encoded_len(),)*
                    Self::Unknown { payload, .. } => payload.len(),
                }
            }

            #[inline]
            fn encode<B: BufMut>(&self, buf: &mut B) {
                // The keepalive pair and the messages without a payload are most of what a
                // connection sends, and their payloads are 8 bytes or none: they are written
                // here, where the call inlines into the caller's loop. Everything else goes
                // through one out-of-line match (whose prologue and jump table cost several
                // times a ping's own write: 10,000 small frames encode 2.5x faster so).
                match self {
                    Self::Ping(m) => m.encode(buf),
                    Self::Pong(m) => m.encode(buf),
                    Self::Verack(m) => m.encode(buf),
                    Self::GetAddr(m) => m.encode(buf),
                    Self::SendHeaders(m) => m.encode(buf),
                    Self::SendAddrV2(m) => m.encode(buf),
                    Self::WtxidRelay(m) => m.encode(buf),
                    Self::Mempool(m) => m.encode(buf),
                    Self::FilterClear(m) => m.encode(buf),
                    _ => self.encode_any(buf),
                }
            }

            fn encode_in_steps<B: BufMut>(&self, buf: &mut B, step: &mut impl FnMut(&mut B)) {
                match self {
                    $(Self::$variant(m) => m.encode_in_steps(buf, step),)*
                    Self::Unknown { payload, .. } => {
                        buf.put_slice(payload);
                        step(buf);
                    }
                }
            }
        }

        impl<$lt> Message<$lt> {
            #[inline(never)]
            fn encode_any<B: BufMut>(&self, buf: &mut B) {
                match self {
                    $(Self::$variant(m) => m.encode(buf),)*
                    Self::Unknown { payload, .. } => buf.put_slice(payload),
                }
            }
        }

        $(
            impl<$lt> From<$ty> for Message<$lt> {
                fn from(m: $ty) -> Self {
                    Self::$variant(m)
                }
            }
        )*

        impl<$lt> Message<$lt> {
            /// The commands of every message this crate decodes.
            pub const KNOWN_COMMANDS: &'static [Command] =
                &[$(<$ty as Payload<$lt>>::COMMAND,)*];

            fn max_len(command: Command) -> u32 {
                $(
                    if command == <$ty as Payload<$lt>>::COMMAND {
                        return <$ty as Payload<$lt>>::MAX_LEN;
                    }
                )*
                limits::MAX_PROTOCOL_MESSAGE_LENGTH
            }
        }
    };
}

/// Returns the largest valid payload for `command`, in bytes: the message's own limit, or
/// [`limits::MAX_PROTOCOL_MESSAGE_LENGTH`] for unknown commands.
#[must_use]
pub fn max_payload_len(command: Command) -> u32 {
    Message::max_len(command)
}

/// The commands of every message this crate decodes.
pub const KNOWN_COMMANDS: &[Command] = Message::KNOWN_COMMANDS;

messages! { 'a;
    /// `inv`: announces transactions and blocks.
    Inv(Inv<'a>),
    /// `tx`: a transaction.
    Tx(Tx<'a>),
    /// `ping`: keepalive (BIP 31).
    Ping(Ping),
    /// `pong`: the answer to `ping` (BIP 31).
    Pong(Pong),
    /// `getdata`: asks for transactions and blocks.
    GetData(GetData<'a>),
    /// `headers`: block headers.
    Headers(Headers<'a>),
    /// `block`: a block.
    Block(Block<'a>),
    /// `cmpctblock`: a compact block (BIP 152).
    CmpctBlock(CmpctBlock<'a>),
    /// `addr`: known addresses.
    Addr(Addr<'a>),
    /// `addrv2`: known addresses, BIP 155 format.
    AddrV2(AddrV2<'a>),
    /// `notfound`: data asked for that the peer does not have.
    NotFound(NotFound<'a>),
    /// `getheaders`: asks for headers after a locator.
    GetHeaders(GetHeaders<'a>),
    /// `getblocks`: asks for an `inv` of blocks after a locator.
    GetBlocks(GetBlocks<'a>),
    /// `version`: opens the handshake.
    Version(Version<'a>),
    /// `verack`: accepts the peer's version.
    Verack(Verack),
    /// `getaddr`: asks for addresses.
    GetAddr(GetAddr),
    /// `sendaddrv2`: asks for `addrv2` instead of `addr` (BIP 155).
    SendAddrV2(SendAddrV2),
    /// `sendheaders`: asks for block announcements as `headers` (BIP 130).
    SendHeaders(SendHeaders),
    /// `feefilter`: minimum fee rate for relayed transactions (BIP 133).
    FeeFilter(FeeFilter),
    /// `wtxidrelay`: announce transactions by wtxid (BIP 339).
    WtxidRelay(WtxidRelay),
    /// `sendtxrcncl`: transaction reconciliation support (BIP 330).
    SendTxRcncl(SendTxRcncl),
    /// `feature`: feature negotiation (BIP 434).
    Feature(Feature<'a>),
    /// `reject`: a rejected message (BIP 61, obsolete).
    Reject(Reject<'a>),
    /// `mempool`: asks for the peer's mempool as `inv` (BIP 35).
    Mempool(Mempool),
    /// `sendcmpct`: compact block negotiation (BIP 152).
    SendCmpct(SendCmpct),
    /// `getblocktxn`: asks for transactions missing from a compact block (BIP 152).
    GetBlockTxn(GetBlockTxn<'a>),
    /// `blocktxn`: transactions of a compact block (BIP 152).
    BlockTxn(BlockTxn<'a>),
    /// `filterload`: sets a bloom filter (BIP 37).
    FilterLoad(FilterLoad<'a>),
    /// `filteradd`: adds an element to the bloom filter (BIP 37).
    FilterAdd(FilterAdd<'a>),
    /// `filterclear`: removes the bloom filter (BIP 37).
    FilterClear(FilterClear),
    /// `merkleblock`: a filtered block (BIP 37).
    MerkleBlock(MerkleBlock<'a>),
    /// `getcfilters`: asks for compact filters (BIP 157).
    GetCFilters(GetCFilters),
    /// `cfilter`: a compact filter (BIP 157).
    CFilter(CFilter<'a>),
    /// `getcfheaders`: asks for filter headers (BIP 157).
    GetCFHeaders(GetCFHeaders),
    /// `cfheaders`: filter headers (BIP 157).
    CFHeaders(CFHeaders<'a>),
    /// `getcfcheckpt`: asks for filter header checkpoints (BIP 157).
    GetCFCheckpt(GetCFCheckpt),
    /// `cfcheckpt`: filter header checkpoints (BIP 157).
    CFCheckpt(CFCheckpt<'a>),
}

#[cfg(any(test, feature = "proptest"))]
pub(crate) mod strategy {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::{addr, blockdata, bloom, compact, filter, network};
    use crate::header::Command;

    /// Any canonical message of any family.
    pub(crate) fn payloads() -> BoxedStrategy<(Command, Vec<u8>)> {
        prop_oneof![
            network::strategy::payloads(),
            addr::strategy::payloads(),
            blockdata::strategy::payloads(),
            crate::types::tx::strategy::payloads(),
            crate::types::block::strategy::payloads(),
            bloom::strategy::payloads(),
            filter::strategy::payloads(),
            compact::strategy::payloads(),
        ]
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_command_is_kept() {
        let cmd = Command::new("mystery");
        let m = Message::decode(cmd, b"abc").unwrap();
        assert_eq!(
            m,
            Message::Unknown {
                command: cmd,
                payload: b"abc"
            }
        );
        assert_eq!(m.command(), cmd);
        assert_eq!(m.to_vec(), b"abc");
        assert_eq!(max_payload_len(cmd), limits::MAX_PROTOCOL_MESSAGE_LENGTH);
    }

    proptest::proptest! {
        /// Every canonical message decodes under its command and encodes to the same bytes.
        #[test]
        fn any_message_roundtrips((command, payload) in strategy::payloads()) {
            let msg = Message::decode(command, &payload).unwrap();
            proptest::prop_assert!(!matches!(msg, Message::Unknown { .. }), "{command} unknown");
            proptest::prop_assert_eq!(msg.command(), command);
            proptest::prop_assert_eq!(msg.to_vec(), payload.clone());
            proptest::prop_assert_eq!(msg.encoded_len(), payload.len());
            proptest::prop_assert!(payload.len() <= max_payload_len(command) as usize);
            // In steps: the same bytes, each step seeing a longer prefix of them.
            let mut stepped = alloc::vec![0xee];
            let mut seen = alloc::vec::Vec::new();
            msg.encode_in_steps(&mut stepped, &mut |buf: &mut alloc::vec::Vec<u8>| {
                seen.push(buf.len() - 1);
            });
            proptest::prop_assert_eq!(&stepped[1..], &payload[..]);
            proptest::prop_assert!(!seen.is_empty());
            proptest::prop_assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{:?}", seen);
            proptest::prop_assert_eq!(seen.last().copied(), Some(payload.len()));
        }

        /// Cut anywhere, a canonical payload fails with an error that names the field it
        /// was reading, at an offset within the bytes given (or, where the message ends in
        /// an optional field, decodes). One byte more is one trailing byte at the payload's
        /// end, or the optional field of a message that had none: `version`'s `relay`, the
        /// start of `reject`'s 32-byte hash.
        #[test]
        fn every_cut_names_its_field(
            (command, payload) in strategy::payloads(),
            cut in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            let cut = cut.index(payload.len().max(1)).min(payload.len().saturating_sub(1));
            if !payload.is_empty() {
                match Message::decode(command, &payload[..cut]) {
                    Ok(msg) => proptest::prop_assert!(
                        !matches!(msg, Message::Unknown { .. }),
                        "{command}"
                    ),
                    Err(e) => {
                        let e = e.source;
                        proptest::prop_assert!(e.field.is_some(), "{command} cut at {cut}: {e}");
                        proptest::prop_assert!(e.offset <= cut, "{command} cut at {cut}: {e}");
                    }
                }
            }
            let mut long = payload.clone();
            long.push(0);
            match Message::decode(command, &long) {
                Ok(Message::Version(v)) => proptest::prop_assert_eq!(v.relay, Some(false)),
                Ok(msg) => proptest::prop_assert!(false, "{command} took a byte more: {msg:?}"),
                Err(e) => {
                    let e = e.source;
                    let got = (e.kind, e.field, e.offset);
                    let trailing = (crate::DecodeErrorKind::TrailingBytes(1), None, payload.len());
                    let no_hash = (crate::DecodeErrorKind::Truncated, Some("data"), payload.len());
                    proptest::prop_assert!(
                        got == trailing || (command == Command::new("reject") && got == no_hash),
                        "{command}: {e}"
                    );
                }
            }
        }
    }

    /// The messages `encode` writes inline append exactly what their own type writes, after
    /// bytes already in the buffer, as the out-of-line path does for the others.
    #[test]
    fn inline_and_out_of_line_encodings_append() {
        let cases: [Message<'_>; 11] = [
            Ping {
                nonce: 0x0102_0304_0506_0708,
            }
            .into(),
            Pong { nonce: u64::MAX }.into(),
            Verack.into(),
            GetAddr.into(),
            SendHeaders.into(),
            SendAddrV2.into(),
            WtxidRelay.into(),
            Mempool.into(),
            FilterClear.into(),
            FeeFilter { feerate: 1_000 }.into(),
            Message::Unknown {
                command: Command::new("mystery"),
                payload: b"abc",
            },
        ];
        for msg in &cases {
            let mut buf = alloc::vec![0xaa, 0xbb];
            msg.encode(&mut buf);
            let own = match msg {
                Message::Ping(m) => m.to_vec(),
                Message::Pong(m) => m.to_vec(),
                Message::FeeFilter(m) => m.to_vec(),
                Message::Unknown { payload, .. } => payload.to_vec(),
                _ => alloc::vec::Vec::new(),
            };
            assert_eq!(buf[..2], [0xaa, 0xbb], "{msg:?}");
            assert_eq!(buf[2..], own[..], "{msg:?}");
            assert_eq!(msg.encoded_len(), own.len(), "{msg:?}");
        }
        assert_eq!(cases[0].to_vec(), [8, 7, 6, 5, 4, 3, 2, 1]);
    }

    #[test]
    fn known_commands_are_distinct() {
        for (i, a) in KNOWN_COMMANDS.iter().enumerate() {
            assert!(!KNOWN_COMMANDS[i + 1..].contains(a), "{a} twice");
        }
        assert_eq!(KNOWN_COMMANDS.len(), 37);
    }
}
