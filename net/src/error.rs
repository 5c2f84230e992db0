//! Errors as data: why a handshake failed, why a peer was disconnected.
//!
//! The sans-IO core reports [`HandshakeError`] and [`Violation`]; both are `Clone + PartialEq`
//! so tests compare them exactly. The drivers add I/O in [`PeerError`], and every ended peer
//! carries a [`DisconnectReason`].

use std::fmt;
use std::io;

use btcwire::{Command, DecodeError, FrameError};

/// The step of the handshake we were waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    /// The peer's `version`.
    Version,
    /// The peer's `verack`.
    Verack,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Version => "version",
            Self::Verack => "verack",
        })
    }
}

/// A protocol violation: the peer is disconnected, and this says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// The byte stream broke the framing rules (wrong magic, oversized payload, invalid
    /// command): the stream cannot be trusted any more.
    #[error("bad frame")]
    Frame(#[source] FrameError),
    /// A message did not decode.
    #[error("malformed `{command}` message")]
    Malformed {
        /// The message's command.
        command: Command,
        /// What was wrong, where.
        #[source]
        source: DecodeError,
    },
    /// The peer's protocol version is below our minimum.
    #[error("peer sent version {version}, below the minimum {min}")]
    VersionTooOld {
        /// The peer's version.
        version: u32,
        /// Our minimum.
        min: u32,
    },
    /// An inbound `version` carried the nonce of one of our own outbound `version`s.
    #[error("connected to ourselves (nonce {nonce:016x})")]
    SelfConnection {
        /// The nonce.
        nonce: u64,
    },
    /// A second `version`.
    #[error("duplicate `version` message")]
    DuplicateVersion,
    /// `verack` before `version`.
    #[error("`verack` before `version`")]
    VerackBeforeVersion,
    /// A second `verack`.
    #[error("duplicate `verack` message")]
    DuplicateVerack,
    /// A message that is only valid before `verack` (`wtxidrelay`, `sendaddrv2`) came after it
    /// (Bitcoin Core disconnects).
    #[error("`{0}` after `verack`")]
    AfterVerack(Command),
    /// A message that needs a feature we did not signal (e.g. BIP 37 filters without
    /// `NODE_BLOOM`; Bitcoin Core disconnects).
    #[error("`{command}` without the {feature} service we did not signal")]
    Unsupported {
        /// The message's command.
        command: Command,
        /// The missing feature, by name.
        feature: &'static str,
    },
}

/// Why a handshake did not complete.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The peer did not answer in time.
    #[error("handshake timed out waiting for `{0}`")]
    Timeout(Step),
    /// The peer broke a rule.
    #[error(transparent)]
    Violation(#[from] Violation),
}

/// Why an established peer ended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// We asked for it ([`crate::PeerHandle::disconnect`]).
    #[error("disconnected locally")]
    Requested,
    /// The node is shutting down.
    #[error("shutting down")]
    Shutdown,
    /// The peer closed the connection.
    #[error("closed by peer")]
    Closed,
    /// Reading or writing failed.
    #[error("i/o error ({kind:?}): {message}")]
    Io {
        /// The error's kind.
        kind: io::ErrorKind,
        /// The error's text.
        message: String,
    },
    /// No `pong` within the pong timeout.
    #[error("no pong for {0:?}")]
    PongTimeout(std::time::Duration),
    /// The handshake failed.
    #[error("handshake failed")]
    Handshake(#[source] HandshakeError),
    /// The peer broke a rule.
    #[error("protocol violation")]
    Violation(#[source] Violation),
    /// The peer's address is banned or discouraged.
    #[error("address is banned")]
    Banned,
}

impl From<io::Error> for DisconnectReason {
    fn from(e: io::Error) -> Self {
        Self::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

/// Why a message was not queued to a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The peer has ended (or, for a pool, is not connected).
    #[error("the peer has ended")]
    Ended,
    /// The message is over the protocol's size limits: no peer would take its frame.
    #[error("message refused")]
    Frame(#[from] FrameError),
}

/// A failure of a driver: connecting, proxying, the handshake, or the connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PeerError {
    /// The TCP connection was refused or failed.
    #[error("connection failed")]
    Connect(#[source] io::Error),
    /// The TCP connection did not open within the connect timeout.
    #[error("connect timeout after {0:?}")]
    ConnectTimeout(std::time::Duration),
    /// The SOCKS5 proxy failed.
    #[error("socks5 proxy failed")]
    Proxy(#[source] tokio_socks::Error),
    /// The target could not be resolved.
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// The handshake failed.
    #[error("handshake failed")]
    Handshake(#[from] HandshakeError),
    /// The peer closed the connection before the handshake completed.
    #[error("closed by peer during handshake")]
    Closed,
    /// Reading or writing failed.
    #[error("i/o error")]
    Io(#[from] io::Error),
}
