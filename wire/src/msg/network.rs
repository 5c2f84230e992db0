//! Connection control: the `version` handshake, keepalives, and the small negotiation
//! messages (`sendaddrv2`, `sendheaders`, `wtxidrelay`, `feefilter`, `sendtxrcncl`,
//! `feature`), plus the obsolete `reject`.
//!
//! All integers are little-endian except the port inside a [`NetAddr`] (big-endian).
//!
//! ## `version`
//!
//! | offset | size    | field          | notes                                                  |
//! |-------:|--------:|----------------|--------------------------------------------------------|
//! | 0      | 4       | `version`      | protocol version (u32)                                 |
//! | 4      | 8       | `services`     | [`ServiceFlags`] of the sender                          |
//! | 12     | 8       | `timestamp`    | i64, seconds since the Unix epoch                      |
//! | 20     | 26      | `addr_recv`    | [`NetAddr`] of the receiving node, as the sender sees it |
//! | 46     | 26      | `addr_from`    | [`NetAddr`] of the sender (Core: its services, address all zeros) |
//! | 72     | 8       | `nonce`        | random, detects connections to self                    |
//! | 80     | 1–3 + n | `user_agent`   | CompactSize n ≤ [`MAX_SUBVERSION_LENGTH`](limits::MAX_SUBVERSION_LENGTH) (256), then BIP 14 text |
//! | 81 + n | 4       | `start_height` | i32, the sender's best block height (83 + n when n ≥ 253) |
//! | 85 + n | 0 or 1  | `relay`        | BIP 37: `0x00` or `0x01`; absent means relay (87 + n when n ≥ 253) |
//!
//! Bitcoin Core still accepts a `version` that stops after `addr_recv`, `nonce` or
//! `user_agent` (formats older than protocol version 106); this crate requires every field up
//! to `start_height` and only `relay` may be absent. A `relay` byte other than 0 or 1 is
//! [`InvalidValue`](DecodeErrorKind::InvalidValue) (Core reads any non-zero byte as true),
//! so that decoding and encoding give back the same bytes.
//!
//! ## Fixed-size messages
//!
//! | command        | payload                                                   | reference |
//! |----------------|-----------------------------------------------------------|-----------|
//! | `verack`       | empty                                                     |           |
//! | `getaddr`      | empty                                                     |           |
//! | `sendaddrv2`   | empty                                                     | BIP 155   |
//! | `sendheaders`  | empty                                                     | BIP 130   |
//! | `wtxidrelay`   | empty                                                     | BIP 339   |
//! | `ping`, `pong` | `nonce` (u64)                                             | BIP 31    |
//! | `feefilter`    | `feerate` (i64, satoshis per 1,000 virtual bytes)         | BIP 133   |
//! | `sendtxrcncl`  | `version` (u32), `salt` (u64)                             | BIP 330   |
//!
//! Before BIP 31 (protocol version 60001) `ping` had no payload; such pings are
//! [`Truncated`](DecodeErrorKind::Truncated) here. Empty messages with a payload are
//! [`TrailingBytes`](DecodeErrorKind::TrailingBytes).
//!
//! ## `feature` ([BIP 434](https://github.com/bitcoin/bips/blob/master/bip-0434.md))
//!
//! | size      | field        | notes                                                         |
//! |----------:|--------------|---------------------------------------------------------------|
//! | 1 + n     | `feature_id` | CompactSize n, 4 ≤ n ≤ 80, then printable ASCII (0x20–0x7e)   |
//! | 1–3 + m   | `data`       | CompactSize m ≤ 512, then m bytes (empty when unused)         |
//!
//! BIP 434 says the id SHOULD be printable ASCII; this crate enforces it
//! ([`InvalidChar`](DecodeErrorKind::InvalidChar)), as BIP 434 lets nodes refuse any
//! `feature` payload that does not parse.
//!
//! ## `reject` ([BIP 61](https://github.com/bitcoin/bips/blob/master/bip-0061.mediawiki), removed from Bitcoin Core in 0.20)
//!
//! | size      | field     | notes                                                            |
//! |----------:|-----------|------------------------------------------------------------------|
//! | 1 + n     | `message` | CompactSize n ≤ 12, then the rejected command                    |
//! | 1         | `ccode`   | [`RejectCode`]                                                   |
//! | 1 + m     | `reason`  | CompactSize m ≤ 111, then text for debugging                     |
//! | 0 or 32   | `data`    | the rejected transaction's or block's hash                       |
//!
//! BIP 61 sets no length limits. The limits are the ones Bitcoin Core applied when it read
//! `reject` messages (`LIMITED_STRING(strMsg, CMessageHeader::COMMAND_SIZE)` and
//! `LIMITED_STRING(strReason, MAX_REJECT_MESSAGE_LENGTH)`, `net_processing.cpp` up to 0.19), so
//! every `reject` Core ever sent decodes. `data` is present exactly when bytes follow the
//! reason, and is then a 32-byte hash: fewer bytes are a truncated `data`
//! ([`Truncated`](DecodeErrorKind::Truncated)), more are
//! [`TrailingBytes`](DecodeErrorKind::TrailingBytes) after it.

use core::fmt;

use bytes::BufMut;
use nom::Parser;
use nom::error::context;

use crate::error::{DecodeError, DecodeErrorKind};
use crate::header::Command;
use crate::msg::Payload;
use crate::read::{
    i32_le as le_i32, i64_le as le_i64, u8 as le_u8, u32_le as le_u32, u64_le as le_u64,
};
use crate::types::hash::hash32;
use crate::types::net_addr::{NetAddr, ServiceFlags};
use crate::varint::{put_var_bytes, var_bytes, var_bytes_len};
use crate::{Encode, PResult, limits};

pub use crate::limits::MAX_REJECT_COMMAND_LEN;

/// Writes bytes as a byte-string literal (`b"/Satoshi:0.9.3/"`).
struct ByteStr<'a>(&'a [u8]);

impl fmt::Debug for ByteStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.0.escape_ascii())
    }
}

/// Reads a field with `parser`, naming it in errors.
fn field<'a, T>(
    name: &'static str,
    parser: impl Parser<&'a [u8], Output = T, Error = DecodeError>,
    input: &'a [u8],
) -> PResult<'a, T> {
    context(name, parser).parse(input)
}

/// `version`: the first message on a connection, describing the sender.
///
/// ```
/// use btcwire::msg::{Payload, Version};
/// use btcwire::types::{NetAddr, ServiceFlags};
/// use btcwire::{Encode, limits};
///
/// let peer: NetAddr = "192.0.2.51:8333".parse::<core::net::SocketAddr>().unwrap().into();
/// let ours = ServiceFlags::NETWORK | ServiceFlags::WITNESS;
/// let version = Version::new(
///     limits::PROTOCOL_VERSION,
///     ours,
///     1_700_000_000,
///     peer,
///     NetAddr::new(ours, [0; 16], 0),
///     0x1234,
///     b"/btcwire:0.1.0/",
///     800_000,
///     Some(true),
/// );
/// let raw = version.to_vec();
/// let back = Version::decode(&raw)?;
/// assert_eq!(back, version);
/// assert_eq!(back.user_agent_str(), Some("/btcwire:0.1.0/"));
/// # Ok::<(), btcwire::DecodeError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Version<'a> {
    /// The sender's protocol version.
    pub version: u32,
    /// The services the sender offers.
    pub services: ServiceFlags,
    /// The sender's clock, in seconds since the Unix epoch.
    pub timestamp: i64,
    /// The receiver's address as the sender sees it.
    pub addr_recv: NetAddr,
    /// The sender's address (Bitcoin Core sends its services and an all-zero address).
    pub addr_from: NetAddr,
    /// A random number that lets a node detect a connection to itself.
    pub nonce: u64,
    /// The sender's BIP 14 user agent (`/Satoshi:27.0.0/`), at most
    /// [`MAX_SUBVERSION_LENGTH`](limits::MAX_SUBVERSION_LENGTH) bytes in a valid message.
    pub user_agent: &'a [u8],
    /// The height of the sender's best block.
    pub start_height: i32,
    /// BIP 37: whether the sender wants transactions announced before it sends a
    /// `filterload`; `None` when the field is absent (which means yes).
    pub relay: Option<bool>,
}

impl<'a> Version<'a> {
    /// Returns the message with these fields, in wire order. A `user_agent` longer than
    /// [`MAX_SUBVERSION_LENGTH`](limits::MAX_SUBVERSION_LENGTH) encodes but is refused by
    /// receivers.
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub const fn new(
        version: u32,
        services: ServiceFlags,
        timestamp: i64,
        addr_recv: NetAddr,
        addr_from: NetAddr,
        nonce: u64,
        user_agent: &'a [u8],
        start_height: i32,
        relay: Option<bool>,
    ) -> Self {
        Self {
            version,
            services,
            timestamp,
            addr_recv,
            addr_from,
            nonce,
            user_agent,
            start_height,
            relay,
        }
    }

    /// Returns the user agent as text, if it is UTF-8.
    #[must_use]
    pub fn user_agent_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.user_agent).ok()
    }

    /// Returns whether the sender wants transactions relayed: `relay`, true when absent
    /// (BIP 37).
    #[must_use]
    pub const fn relay_txs(&self) -> bool {
        !matches!(self.relay, Some(false))
    }
}

impl fmt::Debug for Version<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Version")
            .field("version", &self.version)
            .field("services", &self.services)
            .field("timestamp", &self.timestamp)
            .field("addr_recv", &self.addr_recv)
            .field("addr_from", &self.addr_from)
            .field("nonce", &self.nonce)
            .field("user_agent", &ByteStr(self.user_agent))
            .field("start_height", &self.start_height)
            .field("relay", &self.relay)
            .finish()
    }
}

impl Encode for Version<'_> {
    fn encoded_len(&self) -> usize {
        4 + 8
            + 8
            + NetAddr::LEN * 2
            + 8
            + var_bytes_len(self.user_agent.len())
            + 4
            + usize::from(self.relay.is_some())
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u32_le(self.version);
        buf.put_u64_le(self.services.0);
        buf.put_i64_le(self.timestamp);
        self.addr_recv.encode(buf);
        self.addr_from.encode(buf);
        buf.put_u64_le(self.nonce);
        put_var_bytes(buf, self.user_agent);
        buf.put_i32_le(self.start_height);
        if let Some(relay) = self.relay {
            buf.put_u8(u8::from(relay));
        }
    }
}

impl<'a> Payload<'a> for Version<'a> {
    const COMMAND: Command = Command::new("version");
    const MAX_LEN: u32 = (4
        + 8
        + 8
        + NetAddr::LEN * 2
        + 8
        + var_bytes_len(limits::MAX_SUBVERSION_LENGTH as usize)
        + 4
        + 1) as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, version) = field("version", le_u32, input)?;
        let (i, services) = field("services", le_u64, i)?;
        let (i, timestamp) = field("timestamp", le_i64, i)?;
        let (i, addr_recv) = field("addr_recv", NetAddr::parse, i)?;
        let (i, addr_from) = field("addr_from", NetAddr::parse, i)?;
        let (i, nonce) = field("nonce", le_u64, i)?;
        let (i, user_agent) = var_bytes(i, "user_agent", limits::MAX_SUBVERSION_LENGTH)?;
        let (i, start_height) = field("start_height", le_i32, i)?;
        // BIP 37: the relay flag is optional; when present it is a bool (0 or 1).
        let (i, relay) = match i.split_first() {
            None => (i, None),
            Some((&0, rest)) => (rest, Some(false)),
            Some((&1, rest)) => (rest, Some(true)),
            Some((&other, _)) => {
                let kind = DecodeErrorKind::InvalidValue(u64::from(other));
                return DecodeError::field(i, "relay", kind).fail();
            }
        };
        let version = Self::new(
            version,
            ServiceFlags(services),
            timestamp,
            addr_recv,
            addr_from,
            nonce,
            user_agent,
            start_height,
            relay,
        );
        Ok((i, version))
    }
}

/// Defines a message with an empty payload.
macro_rules! empty_message {
    ($(#[$doc:meta])* $name:ident, $command:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub struct $name;

        impl Encode for $name {
            fn encoded_len(&self) -> usize {
                0
            }

            fn encode<B: BufMut>(&self, _buf: &mut B) {}
        }

        impl<'a> Payload<'a> for $name {
            const COMMAND: Command = Command::new($command);
            const MAX_LEN: u32 = 0;

            fn parse(input: &'a [u8]) -> PResult<'a, Self> {
                Ok((input, Self))
            }
        }
    };
}

empty_message!(
    /// `verack`: accepts the peer's `version`; the handshake is done once both sides sent one.
    Verack,
    "verack"
);
empty_message!(
    /// `getaddr`: asks for an `addr` (or `addrv2`) message with known addresses.
    GetAddr,
    "getaddr"
);
empty_message!(
    /// `sendaddrv2`: asks for addresses as `addrv2` (BIP 155); sent between `version` and
    /// `verack`.
    SendAddrV2,
    "sendaddrv2"
);
empty_message!(
    /// `sendheaders`: asks for new blocks to be announced with `headers` (BIP 130).
    SendHeaders,
    "sendheaders"
);
empty_message!(
    /// `wtxidrelay`: announces transactions by wtxid (BIP 339); sent between `version` and
    /// `verack`.
    WtxidRelay,
    "wtxidrelay"
);

/// Defines a message whose payload is one u64 nonce.
macro_rules! nonce_message {
    ($(#[$doc:meta])* $name:ident, $command:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        #[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
        pub struct $name {
            /// The nonce that pairs a `pong` with its `ping`.
            pub nonce: u64,
        }

        impl $name {
            /// Returns the message with `nonce`.
            #[must_use]
            pub const fn new(nonce: u64) -> Self {
                Self { nonce }
            }
        }

        impl Encode for $name {
            fn encoded_len(&self) -> usize {
                8
            }

            fn encode<B: BufMut>(&self, buf: &mut B) {
                buf.put_u64_le(self.nonce);
            }
        }

        impl<'a> Payload<'a> for $name {
            const COMMAND: Command = Command::new($command);
            const MAX_LEN: u32 = 8;

            fn parse(input: &'a [u8]) -> PResult<'a, Self> {
                let (i, nonce) = field("nonce", le_u64, input)?;
                Ok((i, Self { nonce }))
            }
        }
    };
}

nonce_message!(
    /// `ping`: checks that the connection is alive; answered by a `pong` with the same
    /// nonce (BIP 31).
    Ping,
    "ping"
);
nonce_message!(
    /// `pong`: the answer to a `ping`, echoing its nonce (BIP 31).
    Pong,
    "pong"
);

impl Ping {
    /// Returns the `pong` that answers this `ping`.
    #[must_use]
    pub const fn pong(self) -> Pong {
        Pong { nonce: self.nonce }
    }
}

/// `feefilter`: the minimum fee rate of transactions the sender wants announced (BIP 133).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct FeeFilter {
    /// The fee rate in satoshis per 1,000 virtual bytes (`CAmount`; Bitcoin Core ignores
    /// values outside `0..=MAX_MONEY` rather than rejecting them).
    pub feerate: i64,
}

impl FeeFilter {
    /// Returns the message with `feerate` in satoshis per 1,000 virtual bytes.
    #[must_use]
    pub const fn new(feerate: i64) -> Self {
        Self { feerate }
    }
}

impl Encode for FeeFilter {
    fn encoded_len(&self) -> usize {
        8
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_i64_le(self.feerate);
    }
}

impl<'a> Payload<'a> for FeeFilter {
    const COMMAND: Command = Command::new("feefilter");
    const MAX_LEN: u32 = 8;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, feerate) = field("feerate", le_i64, input)?;
        Ok((i, Self { feerate }))
    }
}

/// `sendtxrcncl`: offers transaction reconciliation (BIP 330, Erlay); sent between
/// `version` and `verack`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct SendTxRcncl {
    /// The highest reconciliation protocol version the sender supports (1 in BIP 330).
    pub version: u32,
    /// The sender's salt for short transaction ids.
    pub salt: u64,
}

impl SendTxRcncl {
    /// Returns the message with `version` and `salt`.
    #[must_use]
    pub const fn new(version: u32, salt: u64) -> Self {
        Self { version, salt }
    }
}

impl Encode for SendTxRcncl {
    fn encoded_len(&self) -> usize {
        12
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u32_le(self.version);
        buf.put_u64_le(self.salt);
    }
}

impl<'a> Payload<'a> for SendTxRcncl {
    const COMMAND: Command = Command::new("sendtxrcncl");
    const MAX_LEN: u32 = 12;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, version) = field("version", le_u32, input)?;
        let (i, salt) = field("salt", le_u64, i)?;
        Ok((i, Self { version, salt }))
    }
}

/// `feature`: announces support for a feature, with its configuration (BIP 434); sent
/// between `version` and `verack` to peers of protocol version 70017 or later.
///
/// ```
/// use btcwire::msg::{Feature, Payload};
/// use btcwire::Encode;
///
/// let raw = Feature::new(b"BIP434v2", &[1, 2]).to_vec();
/// assert_eq!(raw, b"\x08BIP434v2\x02\x01\x02");
/// assert_eq!(Feature::decode(&raw)?.feature_id_str(), Some("BIP434v2"));
/// # Ok::<(), btcwire::DecodeError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Feature<'a> {
    /// The feature's globally unique id: 4 to 80 printable ASCII characters (`"BIP434"`).
    pub feature_id: &'a [u8],
    /// Feature-specific data, at most 512 bytes; empty when the feature needs none.
    pub data: &'a [u8],
}

impl<'a> Feature<'a> {
    /// Returns the message announcing `feature_id` with `data`. An id outside 4..=80
    /// printable ASCII characters, or more than 512 bytes of data, encodes but is refused by
    /// receivers.
    #[must_use]
    pub const fn new(feature_id: &'a [u8], data: &'a [u8]) -> Self {
        Self { feature_id, data }
    }

    /// Returns the feature id as text (a decoded id is always ASCII).
    #[must_use]
    pub fn feature_id_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.feature_id).ok()
    }
}

impl fmt::Debug for Feature<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feature")
            .field("feature_id", &ByteStr(self.feature_id))
            .field("data", &ByteStr(self.data))
            .finish()
    }
}

impl Encode for Feature<'_> {
    fn encoded_len(&self) -> usize {
        var_bytes_len(self.feature_id.len()) + var_bytes_len(self.data.len())
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        put_var_bytes(buf, self.feature_id);
        put_var_bytes(buf, self.data);
    }
}

impl<'a> Payload<'a> for Feature<'a> {
    const COMMAND: Command = Command::new("feature");
    const MAX_LEN: u32 = (var_bytes_len(limits::MAX_FEATURE_ID_LEN as usize)
        + var_bytes_len(limits::MAX_FEATURE_DATA_LEN as usize)) as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, feature_id) = var_bytes(input, "feature_id", limits::MAX_FEATURE_ID_LEN)?;
        // BIP 434: "The string length MUST be between 4 and 80, inclusive."
        let len = feature_id.len() as u64;
        if len < limits::MIN_FEATURE_ID_LEN {
            let kind = DecodeErrorKind::UnderMinimum {
                value: len,
                min: limits::MIN_FEATURE_ID_LEN,
            };
            return DecodeError::field(input, "feature_id", kind).fail();
        }
        // BIP 434: "The string SHOULD include only printable ASCII characters".
        let invalid = feature_id
            .iter()
            .enumerate()
            .find(|&(_, b)| !(0x20..=0x7e).contains(b));
        if let Some((pos, &b)) = invalid {
            return Err(nom::Err::Failure(DecodeError {
                kind: DecodeErrorKind::InvalidChar(b),
                field: Some("feature_id"),
                // Parsers count offsets as bytes remaining: here, from the offending byte.
                offset: feature_id.len() - pos + i.len(),
            }));
        }
        let (i, data) = var_bytes(i, "data", limits::MAX_FEATURE_DATA_LEN)?;
        Ok((i, Self { feature_id, data }))
    }
}

/// A `reject` code (BIP 61). Unknown codes are kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct RejectCode(pub u8);

impl RejectCode {
    /// The message could not be decoded.
    pub const MALFORMED: Self = Self(0x01);
    /// The block or transaction is invalid.
    pub const INVALID: Self = Self(0x10);
    /// The block version or the peer's protocol version is no longer supported.
    pub const OBSOLETE: Self = Self(0x11);
    /// A duplicate `version`, or a transaction spending an already spent input.
    pub const DUPLICATE: Self = Self(0x12);
    /// The transaction is not standard.
    pub const NONSTANDARD: Self = Self(0x40);
    /// An output is below the dust threshold.
    pub const DUST: Self = Self(0x41);
    /// The transaction's fee is too low.
    pub const INSUFFICIENTFEE: Self = Self(0x42);
    /// The block conflicts with a checkpoint.
    pub const CHECKPOINT: Self = Self(0x43);

    /// Returns the BIP 61 name of a known code (`"DUPLICATE"`).
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x01 => "MALFORMED",
            0x10 => "INVALID",
            0x11 => "OBSOLETE",
            0x12 => "DUPLICATE",
            0x40 => "NONSTANDARD",
            0x41 => "DUST",
            0x42 => "INSUFFICIENTFEE",
            0x43 => "CHECKPOINT",
            _ => return None,
        })
    }
}

impl fmt::Debug for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "RejectCode({:#04x} {name})", self.0),
            None => write!(f, "RejectCode({:#04x})", self.0),
        }
    }
}

/// Writes the name of a known code, else the code in hex (`0x13`).
impl fmt::Display for RejectCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "{:#04x}", self.0),
        }
    }
}

/// `reject`: tells the peer that one of its messages was rejected (BIP 61). Bitcoin Core
/// stopped sending it in 0.20; it is decoded for older peers.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Reject<'a> {
    /// The command of the rejected message (`"tx"`), at most 12 bytes.
    pub message: &'a [u8],
    /// Why it was rejected.
    pub ccode: RejectCode,
    /// A reason for debugging (`"bad-txns-inputs-spent"`), at most 111 bytes.
    pub reason: &'a [u8],
    /// The hash of the rejected transaction or block, in wire order, when one was sent.
    pub data: Option<[u8; 32]>,
}

impl<'a> Reject<'a> {
    /// Returns the message with these fields. Fields over their limits (12 and 111 bytes)
    /// encode but are refused by receivers.
    #[must_use]
    pub const fn new(
        message: &'a [u8],
        ccode: RejectCode,
        reason: &'a [u8],
        data: Option<[u8; 32]>,
    ) -> Self {
        Self {
            message,
            ccode,
            reason,
            data,
        }
    }

    /// Returns the rejected command as text, if it is UTF-8.
    #[must_use]
    pub fn message_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.message).ok()
    }

    /// Returns the reason as text, if it is UTF-8.
    #[must_use]
    pub fn reason_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.reason).ok()
    }
}

impl fmt::Debug for Reject<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Hex<'a>(&'a [u8; 32]);
        impl fmt::Debug for Hex<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
        f.debug_struct("Reject")
            .field("message", &ByteStr(self.message))
            .field("ccode", &self.ccode)
            .field("reason", &ByteStr(self.reason))
            .field("data", &self.data.as_ref().map(Hex))
            .finish()
    }
}

impl Encode for Reject<'_> {
    fn encoded_len(&self) -> usize {
        var_bytes_len(self.message.len())
            + 1
            + var_bytes_len(self.reason.len())
            + if self.data.is_some() { 32 } else { 0 }
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        put_var_bytes(buf, self.message);
        buf.put_u8(self.ccode.0);
        put_var_bytes(buf, self.reason);
        if let Some(data) = &self.data {
            buf.put_slice(data);
        }
    }
}

impl<'a> Payload<'a> for Reject<'a> {
    const COMMAND: Command = Command::new("reject");
    const MAX_LEN: u32 = (var_bytes_len(MAX_REJECT_COMMAND_LEN as usize)
        + 1
        + var_bytes_len(limits::MAX_REJECT_MESSAGE_LENGTH as usize)
        + 32) as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, message) = var_bytes(input, "message", MAX_REJECT_COMMAND_LEN)?;
        let (i, ccode) = field("ccode", le_u8, i)?;
        let (i, reason) = var_bytes(i, "reason", limits::MAX_REJECT_MESSAGE_LENGTH)?;
        // BIP 61: `tx` and `block` rejections append the 32-byte hash; nothing else follows.
        let (i, data) = if i.is_empty() {
            (i, None)
        } else {
            let (rest, hash) = field("data", hash32, i)?;
            (rest, Some(hash))
        };
        Ok((i, Self::new(message, RejectCode(ccode), reason, data)))
    }
}

#[cfg(any(test, feature = "proptest"))]
pub(crate) mod strategy {
    use alloc::vec;
    use alloc::vec::Vec;

    use proptest::collection::vec;
    use proptest::option;
    use proptest::prelude::*;

    use super::*;
    use crate::types::net_addr::strategy::{net_addr, service_flags};

    fn payload<'a, T: Payload<'a>>(msg: &T) -> (Command, Vec<u8>) {
        (T::COMMAND, msg.to_vec())
    }

    /// `version` payloads, with and without `relay`, user agents up to the limit.
    fn version() -> impl Strategy<Value = (Command, Vec<u8>)> {
        let user_agent = prop_oneof![
            4 => vec(any::<u8>(), 0..40),
            1 => vec(any::<u8>(), limits::MAX_SUBVERSION_LENGTH as usize),
        ];
        (
            (any::<u32>(), service_flags(), any::<i64>()),
            (net_addr(), net_addr(), any::<u64>()),
            (user_agent, any::<i32>(), option::of(any::<bool>())),
        )
            .prop_map(
                |((version, services, timestamp), (recv, from, nonce), (ua, height, relay))| {
                    payload(&Version::new(
                        version, services, timestamp, recv, from, nonce, &ua, height, relay,
                    ))
                },
            )
    }

    /// Every message of this file.
    pub(crate) fn payloads() -> BoxedStrategy<(Command, Vec<u8>)> {
        let id = vec(0x20u8..=0x7e, 4..=80);
        prop_oneof![
            version(),
            Just(payload(&Verack)),
            Just(payload(&GetAddr)),
            Just(payload(&SendAddrV2)),
            Just(payload(&SendHeaders)),
            Just(payload(&WtxidRelay)),
            any::<u64>().prop_map(|n| payload(&Ping::new(n))),
            any::<u64>().prop_map(|n| payload(&Pong::new(n))),
            any::<i64>().prop_map(|r| payload(&FeeFilter::new(r))),
            (any::<u32>(), any::<u64>()).prop_map(|(v, s)| payload(&SendTxRcncl::new(v, s))),
            (id, vec(any::<u8>(), 0..40)).prop_map(|(id, data)| payload(&Feature::new(&id, &data))),
            (
                vec(any::<u8>(), 0..=12),
                any::<u8>(),
                vec(any::<u8>(), 0..40),
                option::of(any::<[u8; 32]>()),
            )
                .prop_map(|(msg, code, reason, data)| {
                    payload(&Reject::new(&msg, RejectCode(code), &reason, data))
                }),
        ]
        .boxed()
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec;

    use proptest::prelude::*;

    use super::*;
    use crate::msg::Message;
    use crate::testutil::hex;

    /// Asserts that `T::decode(raw)` fails with `(kind, field, offset)`.
    #[track_caller]
    fn fails<'a, T: Payload<'a> + fmt::Debug>(
        raw: &'a [u8],
        kind: DecodeErrorKind,
        field: Option<&str>,
        offset: usize,
    ) {
        let e = T::decode(raw).unwrap_err();
        assert_eq!((e.kind, e.field, e.offset), (kind, field, offset));
    }

    /// The `version` hexdump of the Bitcoin developer reference (protocol version 70002).
    const DEVREF_VERSION: &str = concat!(
        "72110100",
        "0100000000000000",
        "bc8f5e5400000000",
        "0100000000000000",
        "00000000000000000000ffffc61b6409",
        "208d",
        "0100000000000000",
        "00000000000000000000ffffcb0071c0",
        "208d",
        "128035cbc97953f8",
        "0f",
        "2f5361746f7368693a302e392e332f",
        "cf050500",
        "01",
    );

    #[test]
    fn version_vector() {
        let raw = hex(DEVREF_VERSION);
        let v = Version::decode(&raw).unwrap();
        assert_eq!(v.version, 70_002);
        assert_eq!(v.services, ServiceFlags::NETWORK);
        assert_eq!(v.timestamp, 1_415_483_324);
        assert_eq!(v.addr_recv.services, ServiceFlags::NETWORK);
        assert_eq!(v.addr_recv.to_string(), "198.27.100.9:8333");
        assert_eq!(v.addr_from.services, ServiceFlags::NETWORK);
        assert_eq!(v.addr_from.to_string(), "203.0.113.192:8333");
        assert_eq!(v.nonce, 17_893_779_652_077_781_010);
        assert_eq!(v.user_agent, b"/Satoshi:0.9.3/");
        assert_eq!(v.user_agent_str(), Some("/Satoshi:0.9.3/"));
        assert_eq!(v.start_height, 329_167);
        assert_eq!(v.relay, Some(true));
        assert!(v.relay_txs());
        assert_eq!(v.to_vec(), raw);
        assert_eq!(v.encoded_len(), raw.len());
        // Built from values, it encodes to the same bytes.
        let built = Version::new(
            70_002,
            ServiceFlags::NETWORK,
            1_415_483_324,
            NetAddr::from_socket_addr(ServiceFlags::NETWORK, "198.27.100.9:8333".parse().unwrap()),
            NetAddr::from_socket_addr(ServiceFlags::NETWORK, "203.0.113.192:8333".parse().unwrap()),
            0xf853_79c9_cb35_8012,
            b"/Satoshi:0.9.3/",
            329_167,
            Some(true),
        );
        assert_eq!(built, v);
        assert_eq!(built.to_vec(), raw);
        let Ok(Message::Version(m)) = Message::decode(Version::COMMAND, &raw) else {
            panic!("version did not decode as Message::Version");
        };
        assert_eq!(m, v);
        assert!(format!("{v:?}").contains("user_agent: b\"/Satoshi:0.9.3/\""));
    }

    #[test]
    fn version_relay_field() {
        let raw = hex(DEVREF_VERSION);
        // Without the relay byte (before BIP 37): absent, which means relay.
        let short = &raw[..raw.len() - 1];
        let v = Version::decode(short).unwrap();
        assert_eq!(v.relay, None);
        assert!(v.relay_txs());
        assert_eq!(v.to_vec(), short);
        let mut off = raw.clone();
        *off.last_mut().unwrap() = 0;
        let v = Version::decode(&off).unwrap();
        assert_eq!(v.relay, Some(false));
        assert!(!v.relay_txs());
        assert_eq!(v.to_vec(), off);
        // Any other byte is not a bool.
        let mut bad = raw.clone();
        *bad.last_mut().unwrap() = 2;
        fails::<Version<'_>>(&bad, DecodeErrorKind::InvalidValue(2), Some("relay"), 100);
        // A second byte after the relay flag.
        let mut long = raw.clone();
        long.push(1);
        fails::<Version<'_>>(&long, DecodeErrorKind::TrailingBytes(1), None, 101);
    }

    #[test]
    fn version_truncated() {
        let raw = hex(DEVREF_VERSION);
        let cases: &[(usize, &str, usize)] = &[
            (0, "version", 0),
            (3, "version", 0),
            (10, "services", 4),
            (19, "timestamp", 12),
            (45, "addr_recv", 20),
            (50, "addr_from", 46),
            (79, "nonce", 72),
            (80, "user_agent", 80),
            (99, "start_height", 96),
        ];
        for &(len, field, offset) in cases {
            fails::<Version<'_>>(&raw[..len], DecodeErrorKind::Truncated, Some(field), offset);
        }
        // The user agent claims 15 bytes, 4 remain.
        fails::<Version<'_>>(
            &raw[..85],
            DecodeErrorKind::CountOverRemaining {
                count: 15,
                needed: 15,
                remaining: 4,
            },
            Some("user_agent"),
            80,
        );
    }

    #[test]
    fn version_user_agent_limits() {
        let recv = NetAddr::new(ServiceFlags::NONE, [0; 16], 0);
        let ua = [b'a'; 256];
        let max = Version::new(
            1,
            ServiceFlags(u64::MAX),
            -1,
            recv,
            recv,
            0,
            &ua,
            -1,
            Some(false),
        );
        let raw = max.to_vec();
        assert_eq!(raw.len(), Version::MAX_LEN as usize);
        assert_eq!(Version::MAX_LEN, 344);
        assert_eq!(Version::decode(&raw), Ok(max));
        let ua = [b'a'; 257];
        let over = Version::new(1, ServiceFlags::NONE, 0, recv, recv, 0, &ua, 0, None);
        fails::<Version<'_>>(
            &over.to_vec(),
            DecodeErrorKind::OverLimit {
                value: 257,
                limit: 256,
            },
            Some("user_agent"),
            80,
        );
        // A user agent length of 15 in three bytes.
        let mut raw = hex(DEVREF_VERSION);
        raw.splice(80..81, [0xfd, 0x0f, 0x00]);
        fails::<Version<'_>>(
            &raw,
            DecodeErrorKind::NonMinimalCompactSize(15),
            Some("user_agent"),
            80,
        );
        // Not UTF-8: kept as bytes.
        let ua = [0xff, 0xfe];
        let v = Version::new(1, ServiceFlags::NONE, 0, recv, recv, 0, &ua, 0, None);
        let raw = v.to_vec();
        let back = Version::decode(&raw).unwrap();
        assert_eq!(back.user_agent, &ua);
        assert_eq!(back.user_agent_str(), None);
    }

    #[test]
    fn empty_messages() {
        fn check<'a, T: Payload<'a> + fmt::Debug + PartialEq + Default>(name: &str) {
            assert_eq!(T::COMMAND, Command::new(name));
            assert_eq!(T::MAX_LEN, 0);
            assert_eq!(T::decode(&[]), Ok(T::default()));
            assert!(T::default().to_vec().is_empty());
            assert_eq!(T::default().encoded_len(), 0);
            fails::<T>(&[0, 0], DecodeErrorKind::TrailingBytes(2), None, 0);
        }
        check::<Verack>("verack");
        check::<GetAddr>("getaddr");
        check::<SendAddrV2>("sendaddrv2");
        check::<SendHeaders>("sendheaders");
        check::<WtxidRelay>("wtxidrelay");
        assert_eq!(
            Message::decode(Command::new("verack"), &[]),
            Ok(Message::Verack(Verack))
        );
        assert_eq!(
            Message::decode(Command::new("wtxidrelay"), &[]),
            Ok(Message::WtxidRelay(WtxidRelay))
        );
        assert_eq!(
            Message::decode(Command::new("sendaddrv2"), &[]),
            Ok(Message::SendAddrV2(SendAddrV2))
        );
        assert_eq!(
            Message::decode(Command::new("sendheaders"), &[]),
            Ok(Message::SendHeaders(SendHeaders))
        );
        assert_eq!(
            Message::decode(Command::new("getaddr"), &[]),
            Ok(Message::GetAddr(GetAddr))
        );
    }

    /// The developer reference's `ping` hexdump; `pong` has the same format.
    #[test]
    fn ping_pong_vector() {
        let raw = hex("0094102111e2af4d");
        let ping = Ping::decode(&raw).unwrap();
        assert_eq!(ping, Ping::new(0x4daf_e211_2110_9400));
        assert_eq!(ping.to_vec(), raw);
        let pong = ping.pong();
        assert_eq!(
            pong,
            Pong {
                nonce: 0x4daf_e211_2110_9400
            }
        );
        assert_eq!(Pong::decode(&raw), Ok(pong));
        assert_eq!(pong.to_vec(), raw);
        assert_eq!((Ping::MAX_LEN, Pong::MAX_LEN), (8, 8));
        assert_eq!(
            Message::decode(Command::new("pong"), &raw),
            Ok(Message::Pong(pong))
        );
        // A BIP 31-less empty ping or pong, a short nonce, and a long one.
        let mut long = raw.clone();
        long.push(0);
        fails::<Ping>(&[], DecodeErrorKind::Truncated, Some("nonce"), 0);
        fails::<Pong>(&[], DecodeErrorKind::Truncated, Some("nonce"), 0);
        fails::<Ping>(&raw[..7], DecodeErrorKind::Truncated, Some("nonce"), 0);
        fails::<Pong>(&raw[..7], DecodeErrorKind::Truncated, Some("nonce"), 0);
        fails::<Ping>(&long, DecodeErrorKind::TrailingBytes(1), None, 8);
        fails::<Pong>(&long, DecodeErrorKind::TrailingBytes(1), None, 8);
    }

    /// The developer reference's `feefilter` hexdump: 48,508 sat per 1,000 vbytes.
    #[test]
    fn feefilter_vector() {
        let raw = hex("7cbd000000000000");
        let ff = FeeFilter::decode(&raw).unwrap();
        assert_eq!(ff, FeeFilter::new(48_508));
        assert_eq!(ff.to_vec(), raw);
        assert_eq!(FeeFilter::MAX_LEN, 8);
        // Negative rates are not this codec's business: kept as sent.
        let neg = FeeFilter::new(-1);
        assert_eq!(neg.to_vec(), [0xff; 8]);
        assert_eq!(FeeFilter::decode(&[0xff; 8]), Ok(neg));
        fails::<FeeFilter>(&raw[..4], DecodeErrorKind::Truncated, Some("feerate"), 0);
        fails::<FeeFilter>(&[0; 9], DecodeErrorKind::TrailingBytes(1), None, 8);
    }

    #[test]
    fn sendtxrcncl_vector() {
        let raw = hex("01000000efcdab8967452301");
        let m = SendTxRcncl::decode(&raw).unwrap();
        assert_eq!(m, SendTxRcncl::new(1, 0x0123_4567_89ab_cdef));
        assert_eq!(m.to_vec(), raw);
        assert_eq!(SendTxRcncl::MAX_LEN, 12);
        fails::<SendTxRcncl>(&raw[..3], DecodeErrorKind::Truncated, Some("version"), 0);
        fails::<SendTxRcncl>(&raw[..11], DecodeErrorKind::Truncated, Some("salt"), 4);
        fails::<SendTxRcncl>(&[0; 13], DecodeErrorKind::TrailingBytes(1), None, 12);
    }

    #[test]
    fn feature_vector() {
        // BIP 434's own feature id with no data.
        let raw = hex(concat!("06", "424950343334", "00"));
        let f = Feature::decode(&raw).unwrap();
        assert_eq!(f.feature_id, b"BIP434");
        assert_eq!(f.feature_id_str(), Some("BIP434"));
        assert!(f.data.is_empty());
        assert_eq!(f.to_vec(), raw);
        assert_eq!(Feature::new(b"BIP434", &[]), f);
        assert_eq!(
            format!("{f:?}"),
            "Feature { feature_id: b\"BIP434\", data: b\"\" }"
        );
        // The largest: an 80-byte id and 512 bytes of data.
        let id = [b'~'; 80];
        let data = [0u8; 512];
        let max = Feature::new(&id, &data);
        let raw = max.to_vec();
        assert_eq!(raw.len(), Feature::MAX_LEN as usize);
        assert_eq!(Feature::MAX_LEN, 596);
        assert_eq!(Feature::decode(&raw), Ok(max));
    }

    #[test]
    fn feature_malformed() {
        let short = Feature::new(b"BIP", &[]).to_vec();
        fails::<Feature<'_>>(
            &short,
            DecodeErrorKind::UnderMinimum { value: 3, min: 4 },
            Some("feature_id"),
            0,
        );
        let long_id = [b'a'; 81];
        fails::<Feature<'_>>(
            &Feature::new(&long_id, &[]).to_vec(),
            DecodeErrorKind::OverLimit {
                value: 81,
                limit: 80,
            },
            Some("feature_id"),
            0,
        );
        // A DEL and a space: the space is fine, the DEL is not.
        fails::<Feature<'_>>(
            &Feature::new(b"BI P\x7f", &[]).to_vec(),
            DecodeErrorKind::InvalidChar(0x7f),
            Some("feature_id"),
            5,
        );
        fails::<Feature<'_>>(
            &Feature::new(b"\x00BIP", &[]).to_vec(),
            DecodeErrorKind::InvalidChar(0),
            Some("feature_id"),
            1,
        );
        let data = [0u8; 513];
        fails::<Feature<'_>>(
            &Feature::new(b"BIP434", &data).to_vec(),
            DecodeErrorKind::OverLimit {
                value: 513,
                limit: 512,
            },
            Some("data"),
            7,
        );
        // The data field is not optional.
        let no_data = &Feature::new(b"BIP434", &[]).to_vec()[..7];
        fails::<Feature<'_>>(no_data, DecodeErrorKind::Truncated, Some("data"), 7);
        fails::<Feature<'_>>(
            &hex("0642495034333403aabb"),
            DecodeErrorKind::CountOverRemaining {
                count: 3,
                needed: 3,
                remaining: 2,
            },
            Some("data"),
            7,
        );
        fails::<Feature<'_>>(
            &hex("fd0600424950343334"),
            DecodeErrorKind::NonMinimalCompactSize(6),
            Some("feature_id"),
            0,
        );
        let mut trailing = Feature::new(b"BIP434", &[1]).to_vec();
        trailing.push(9);
        fails::<Feature<'_>>(&trailing, DecodeErrorKind::TrailingBytes(1), None, 9);
    }

    /// The developer reference's `reject` hexdump: a `tx` rejected as a double spend.
    #[test]
    fn reject_vector() {
        let raw = hex(concat!(
            "02",
            "7478",
            "12",
            "15",
            "6261642d74786e732d696e707574732d7370656e74",
            "394715fcab51093be7bfca5a31005972947baf86a31017939575fb2354222821",
        ));
        let r = Reject::decode(&raw).unwrap();
        assert_eq!(r.message_str(), Some("tx"));
        assert_eq!(r.ccode, RejectCode::DUPLICATE);
        assert_eq!(r.reason_str(), Some("bad-txns-inputs-spent"));
        let data = r.data.unwrap();
        assert_eq!((data[0], data[31]), (0x39, 0x21));
        assert_eq!(r.to_vec(), raw);
        assert_eq!(r.encoded_len(), raw.len());
        assert_eq!(
            Reject::new(
                b"tx",
                RejectCode(0x12),
                b"bad-txns-inputs-spent",
                Some(data)
            ),
            r
        );
        assert_eq!(format!("{:?}", r.ccode), "RejectCode(0x12 DUPLICATE)");
        assert_eq!(r.ccode.to_string(), "DUPLICATE");
        assert_eq!(RejectCode(0x13).to_string(), "0x13");
        assert_eq!(format!("{:?}", RejectCode(0x13)), "RejectCode(0x13)");
        // A `version` rejection carries no hash.
        let obsolete = Reject::new(
            b"version",
            RejectCode::OBSOLETE,
            b"Version must be 31800 or greater",
            None,
        );
        let raw = obsolete.to_vec();
        assert_eq!(Reject::decode(&raw), Ok(obsolete));
        let Ok(Message::Reject(m)) = Message::decode(Reject::COMMAND, &raw) else {
            panic!("reject did not decode as Message::Reject");
        };
        assert_eq!(m, obsolete);
    }

    #[test]
    fn reject_limits_and_malformed() {
        // The largest: a 12-byte command, a 111-byte reason and a hash.
        let reason = [b'r'; 111];
        let max = Reject::new(b"sendaddrv2xx", RejectCode::INVALID, &reason, Some([7; 32]));
        let raw = max.to_vec();
        assert_eq!(raw.len(), Reject::MAX_LEN as usize);
        assert_eq!(Reject::MAX_LEN, 158);
        assert_eq!(Reject::decode(&raw), Ok(max));
        fails::<Reject<'_>>(
            &Reject::new(b"commandname13", RejectCode::INVALID, b"", None).to_vec(),
            DecodeErrorKind::OverLimit {
                value: 13,
                limit: 12,
            },
            Some("message"),
            0,
        );
        let reason = [b'r'; 112];
        fails::<Reject<'_>>(
            &Reject::new(b"tx", RejectCode::INVALID, &reason, None).to_vec(),
            DecodeErrorKind::OverLimit {
                value: 112,
                limit: 111,
            },
            Some("reason"),
            4,
        );
        // Extra data that is not a 32-byte hash: a hash cut short, or bytes after it.
        let base = Reject::new(b"tx", RejectCode::DUST, b"dust", None).to_vec();
        for extra in [1usize, 31, 33, 64] {
            let mut raw = base.clone();
            raw.extend(vec![0xab; extra]);
            if extra < 32 {
                fails::<Reject<'_>>(&raw, DecodeErrorKind::Truncated, Some("data"), base.len());
            } else {
                let trailing = DecodeErrorKind::TrailingBytes(extra - 32);
                fails::<Reject<'_>>(&raw, trailing, None, base.len() + 32);
            }
        }
        // Truncated before the code, and inside the reason.
        fails::<Reject<'_>>(&base[..3], DecodeErrorKind::Truncated, Some("ccode"), 3);
        fails::<Reject<'_>>(
            &base[..6],
            DecodeErrorKind::CountOverRemaining {
                count: 4,
                needed: 4,
                remaining: 1,
            },
            Some("reason"),
            4,
        );
        fails::<Reject<'_>>(&[], DecodeErrorKind::Truncated, Some("message"), 0);
        fails::<Reject<'_>>(
            &hex("fd02007478"),
            DecodeErrorKind::NonMinimalCompactSize(2),
            Some("message"),
            0,
        );
    }

    #[test]
    fn max_lens_are_exact() {
        assert_eq!(MAX_REJECT_COMMAND_LEN, 12);
        for (command, max) in [
            ("version", 344),
            ("verack", 0),
            ("ping", 8),
            ("pong", 8),
            ("getaddr", 0),
            ("sendaddrv2", 0),
            ("sendheaders", 0),
            ("wtxidrelay", 0),
            ("feefilter", 8),
            ("sendtxrcncl", 12),
            ("feature", 596),
            ("reject", 158),
        ] {
            assert_eq!(
                crate::msg::max_payload_len(Command::new(command)),
                max,
                "{command}"
            );
        }
    }

    proptest! {
        #[test]
        fn roundtrip((command, payload) in strategy::payloads()) {
            let msg = Message::decode(command, &payload).unwrap();
            let unknown = matches!(msg, Message::Unknown { .. });
            prop_assert!(!unknown, "{} unknown", command);
            prop_assert_eq!(msg.command(), command);
            prop_assert_eq!(msg.to_vec(), payload.clone());
            prop_assert_eq!(msg.encoded_len(), payload.len());
            prop_assert!(payload.len() <= crate::msg::max_payload_len(command) as usize);
        }

        #[test]
        fn decode_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..120)) {
            for command in ["version", "feature", "reject", "ping", "sendtxrcncl"] {
                if let Ok(msg) = Message::decode(Command::new(command), &raw) {
                    prop_assert_eq!(msg.to_vec(), raw.clone());
                }
            }
        }
    }
}
