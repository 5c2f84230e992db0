//! Errors: [`DecodeError`] for payload problems, [`FrameError`] for envelope problems.
//!
//! Every error says what went wrong (a [`DecodeErrorKind`] or [`FrameError`] variant with its
//! numbers), in which field, and at which byte offset of the payload. [`MessageError`] adds
//! the command: its `Display` is one level (`malformed \`inv\` message`) and its
//! [`source`](core::error::Error::source) is the [`DecodeError`], as Rust's error chains
//! expect, so printing the chain (as `anyhow`'s `{:#}` does, or our CLI) gives
//! `malformed \`inv\` message: 50001 is over the limit 50000 in \`inventory entries\` at byte
//! 0` without knowing the codec's internals; [`MessageError::detail`] gives that line too.

use crate::header::{Command, Magic};

/// Why a payload did not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The payload ended before the field did.
    #[error("payload ends early")]
    Truncated,
    /// The message decoded without using all of its payload.
    #[error("{0} trailing bytes")]
    TrailingBytes(usize),
    /// A CompactSize used more bytes than its value needs.
    #[error("non-minimal CompactSize encoding of {0}")]
    NonMinimalCompactSize(u64),
    /// A count or length is above the protocol's limit for that field.
    #[error("{value} is over the limit {limit}")]
    OverLimit {
        /// The claimed count or length.
        value: u64,
        /// The limit that applies (see [`crate::limits`]).
        limit: u64,
    },
    /// A count or length is below the protocol's minimum for that field.
    #[error("{value} is under the minimum {min}")]
    UnderMinimum {
        /// The claimed count or length.
        value: u64,
        /// The minimum that applies (see [`crate::limits`]).
        min: u64,
    },
    /// A count claims more items than the remaining bytes could hold.
    #[error("count {count} needs at least {needed} bytes but only {remaining} remain")]
    CountOverRemaining {
        /// The claimed count.
        count: u64,
        /// The smallest number of bytes that many items occupy.
        needed: u64,
        /// The bytes left in the payload.
        remaining: usize,
    },
    /// A field holds a value the protocol does not allow there.
    #[error("invalid value {0}")]
    InvalidValue(u64),
    /// An address has the wrong length for its BIP155 network.
    #[error("address of network {network} must be {expected} bytes, not {actual}")]
    AddressLength {
        /// The BIP155 network id.
        network: u8,
        /// The length that network requires.
        expected: usize,
        /// The length received.
        actual: u64,
    },
    /// A text field holds bytes outside the allowed character set.
    #[error("invalid character 0x{0:02x}")]
    InvalidChar(u8),
    /// A nom combinator failed for a reason other than running out of input.
    #[error("malformed input ({0:?})")]
    Malformed(nom::error::ErrorKind),
}

/// A payload that did not decode: what went wrong, in which field, and where.
///
/// Inside the parsers `offset` counts the bytes remaining when the error was raised; the
/// public `decode` functions turn it into the offset from the start of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError {
    /// What went wrong.
    pub kind: DecodeErrorKind,
    /// The field being read, when known (`"user_agent"`, `"inventory entries"`, ...).
    pub field: Option<&'static str>,
    /// Byte offset in the payload where the error was found: where the failing field
    /// starts, or for a rule about one byte inside it (a character of a `feature` id, say)
    /// that byte.
    pub offset: usize,
}

impl DecodeError {
    /// Returns an error of `kind` raised with `remaining` bytes left to read.
    pub(crate) fn at(remaining: &[u8], kind: DecodeErrorKind) -> Self {
        Self {
            kind,
            field: None,
            offset: remaining.len(),
        }
    }

    /// Returns an error of `kind` for `field`, raised with `remaining` bytes left to read.
    pub(crate) fn field(remaining: &[u8], field: &'static str, kind: DecodeErrorKind) -> Self {
        Self {
            kind,
            field: Some(field),
            offset: remaining.len(),
        }
    }

    /// Wraps the error as a nom failure (no backtracking past protocol errors).
    pub(crate) fn fail<T>(self) -> Result<T, nom::Err<Self>> {
        Err(nom::Err::Failure(self))
    }

    /// Converts an offset counted as "bytes remaining" into one from the payload start.
    pub(crate) fn locate(mut self, payload_len: usize) -> Self {
        self.offset = payload_len.saturating_sub(self.offset);
        self
    }
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(field) = self.field {
            write!(f, " in `{field}`")?;
        }
        write!(f, " at byte {}", self.offset)
    }
}

impl core::error::Error for DecodeError {}

impl<'a> nom::error::ParseError<&'a [u8]> for DecodeError {
    fn from_error_kind(input: &'a [u8], kind: nom::error::ErrorKind) -> Self {
        let kind = match kind {
            nom::error::ErrorKind::Eof => DecodeErrorKind::Truncated,
            other => DecodeErrorKind::Malformed(other),
        };
        Self::at(input, kind)
    }

    fn append(_input: &'a [u8], _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

impl<'a> nom::error::ContextError<&'a [u8]> for DecodeError {
    fn add_context(_input: &'a [u8], ctx: &'static str, mut other: Self) -> Self {
        // The innermost field name is the most precise one: keep it.
        other.field.get_or_insert(ctx);
        other
    }
}

/// A message payload that did not decode, with its command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed `{command}` message")]
pub struct MessageError {
    /// The message's command.
    pub command: Command,
    /// What went wrong, where.
    #[source]
    pub source: DecodeError,
}

impl MessageError {
    /// Returns the whole error on one line: the command, then what went wrong, in which
    /// field and where (`Display` gives the first part, `source()` the rest).
    #[must_use]
    pub fn detail(&self) -> alloc::string::String {
        alloc::format!("{self}: {}", self.source)
    }
}

/// A problem with a frame's envelope (the 24-byte header and the checksum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The header declares a payload longer than the network allows.
    #[error("payload length {len} is over the limit {limit}")]
    PayloadTooLarge {
        /// The declared payload length.
        len: u32,
        /// [`crate::limits::MAX_PROTOCOL_MESSAGE_LENGTH`].
        limit: u32,
    },
    /// The header's magic is not the expected network's.
    #[error("wrong network magic {actual}, expected {expected}")]
    WrongMagic {
        /// The magic we expect.
        expected: Magic,
        /// The magic received.
        actual: Magic,
    },
    /// The command field is not printable ASCII followed by NUL padding.
    #[error("invalid command field {0:02x?}")]
    InvalidCommand([u8; 12]),
    /// The payload is longer than any valid message with this command can be.
    #[error("`{command}` payload length {len} is over its limit {limit}")]
    MessageTooLarge {
        /// The message's command.
        command: Command,
        /// The declared payload length.
        len: u32,
        /// The largest valid payload for this command.
        limit: u32,
    },
    /// A frame to send whose header gives another length than its payload has.
    #[error("`{command}` header says {header} payload bytes, the payload has {payload}")]
    LengthMismatch {
        /// The frame's command.
        command: Command,
        /// The payload length in the header.
        header: u32,
        /// The payload's actual length.
        payload: usize,
    },
    /// The checksum in the header does not match the payload.
    #[error(
        "`{command}` checksum mismatch: header says {expected:02x?}, payload hashes to {actual:02x?}"
    )]
    BadChecksum {
        /// The message's command.
        command: Command,
        /// The checksum the header claims.
        expected: [u8; 4],
        /// The checksum of the received payload.
        actual: [u8; 4],
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    /// Each error's text names what went wrong with its numbers, the field and the offset.
    #[test]
    fn display() {
        let e = DecodeError {
            kind: DecodeErrorKind::OverLimit {
                value: 50_001,
                limit: 50_000,
            },
            field: Some("inventory entries"),
            offset: 0,
        };
        assert_eq!(
            e.to_string(),
            "50001 is over the limit 50000 in `inventory entries` at byte 0"
        );
        let m = MessageError {
            command: Command::new("inv"),
            source: e,
        };
        assert_eq!(m.to_string(), "malformed `inv` message");
        let source = core::error::Error::source(&m).map(ToString::to_string);
        assert_eq!(source.as_deref(), Some(e.to_string().as_str()));
        assert_eq!(
            m.detail(),
            "malformed `inv` message: 50001 is over the limit 50000 in `inventory entries` at byte 0"
        );
        let cut = DecodeError {
            kind: DecodeErrorKind::Truncated,
            field: None,
            offset: 7,
        };
        assert_eq!(cut.to_string(), "payload ends early at byte 7");
        let f = FrameError::MessageTooLarge {
            command: Command::new("ping"),
            len: 9,
            limit: 8,
        };
        assert_eq!(f.to_string(), "`ping` payload length 9 is over its limit 8");
        let f = FrameError::WrongMagic {
            expected: Magic([0xfa, 0xbf, 0xb5, 0xda]),
            actual: Magic([0xf9, 0xbe, 0xb4, 0xd9]),
        };
        assert!(f.to_string().starts_with("wrong network magic"), "{f}");
        let f = FrameError::BadChecksum {
            command: Command::new("tx"),
            expected: [1, 2, 3, 4],
            actual: [5, 6, 7, 8],
        };
        assert_eq!(
            f.to_string(),
            "`tx` checksum mismatch: header says [01, 02, 03, 04], payload hashes to [05, 06, 07, 08]"
        );
    }
}
