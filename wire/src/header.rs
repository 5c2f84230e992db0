//! The 24-byte message header: network magic, command, payload length, checksum.
//!
//! | offset | size | field    | encoding                                      |
//! |-------:|-----:|----------|-----------------------------------------------|
//! | 0      | 4    | magic    | network bytes, e.g. `f9 be b4 d9` on mainnet  |
//! | 4      | 12   | command  | printable ASCII, then NUL padding only        |
//! | 16     | 4    | length   | payload bytes, `u32` little-endian            |
//! | 20     | 4    | checksum | first 4 bytes of SHA-256d(payload)            |

use core::fmt;
use core::str::FromStr;

use bytes::BufMut;

use crate::checksum::Checksum;
use crate::error::FrameError;
use crate::limits;

/// Length of a message header in bytes.
pub const HEADER_LEN: usize = 24;

/// Length of the command field in bytes.
pub const COMMAND_LEN: usize = 12;

/// The 4 bytes that open every frame and name the network.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Magic(pub [u8; 4]);

impl Magic {
    /// Mainnet (Bitcoin Core `chainparams.cpp`: `f9beb4d9`).
    pub const MAINNET: Self = Self([0xf9, 0xbe, 0xb4, 0xd9]);
    /// Testnet3 (`0b110907`).
    pub const TESTNET3: Self = Self([0x0b, 0x11, 0x09, 0x07]);
    /// Testnet4 (BIP 94: `1c163f28`).
    pub const TESTNET4: Self = Self([0x1c, 0x16, 0x3f, 0x28]);
    /// The default signet (BIP 325: `0a03cf40`).
    pub const SIGNET: Self = Self([0x0a, 0x03, 0xcf, 0x40]);
    /// Regtest (`fabfb5da`).
    pub const REGTEST: Self = Self([0xfa, 0xbf, 0xb5, 0xda]);
}

impl fmt::Debug for Magic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Magic({self})")
    }
}

impl fmt::Display for Magic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The networks whose parameters the codec knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Network {
    /// Bitcoin mainnet.
    Mainnet,
    /// The third testnet.
    Testnet3,
    /// The fourth testnet (BIP 94).
    Testnet4,
    /// The default signet (BIP 325).
    #[default]
    Signet,
    /// The local regression-test network.
    Regtest,
}

impl Network {
    /// Every known network.
    pub const ALL: [Self; 5] = [
        Self::Mainnet,
        Self::Testnet3,
        Self::Testnet4,
        Self::Signet,
        Self::Regtest,
    ];

    /// Returns the network's magic.
    #[must_use]
    pub const fn magic(self) -> Magic {
        match self {
            Self::Mainnet => Magic::MAINNET,
            Self::Testnet3 => Magic::TESTNET3,
            Self::Testnet4 => Magic::TESTNET4,
            Self::Signet => Magic::SIGNET,
            Self::Regtest => Magic::REGTEST,
        }
    }

    /// Returns the network's default P2P port.
    #[must_use]
    pub const fn default_port(self) -> u16 {
        match self {
            Self::Mainnet => 8333,
            Self::Testnet3 => 18333,
            Self::Testnet4 => 48333,
            Self::Signet => 38333,
            Self::Regtest => 18444,
        }
    }

    /// Returns the network's name as used on the command line (`"mainnet"`, ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Mainnet => "mainnet",
            Self::Testnet3 => "testnet3",
            Self::Testnet4 => "testnet4",
            Self::Signet => "signet",
            Self::Regtest => "regtest",
        }
    }

    /// Returns the network whose magic is `magic`, if any.
    #[must_use]
    pub fn from_magic(magic: Magic) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.magic() == magic)
    }

    /// Returns the network's proof-of-work limit, the easiest target a header may claim, as
    /// 32 little-endian bytes (the byte order of
    /// [`BlockHeader::target`](crate::types::BlockHeader::target)).
    ///
    /// The values are Bitcoin Core's `consensus.powLimit` (`kernel/chainparams.cpp`), which
    /// `CheckProofOfWork` (`pow.cpp`, `DeriveTarget`) compares every header's target with;
    /// written as Core writes them, most significant digit first:
    ///
    /// - mainnet, testnet3 and testnet4:
    ///   `00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff`
    /// - the default signet:
    ///   `00000377ae000000000000000000000000000000000000000000000000000000`
    /// - regtest:
    ///   `7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff`
    ///
    /// A custom signet (`-signetchallenge`) keeps the default signet's limit in Core.
    #[must_use]
    pub const fn pow_limit(self) -> [u8; 32] {
        match self {
            Self::Mainnet | Self::Testnet3 | Self::Testnet4 => POW_LIMIT_MAINNET,
            Self::Signet => POW_LIMIT_SIGNET,
            Self::Regtest => POW_LIMIT_REGTEST,
        }
    }
}

/// Core's `powLimit` of mainnet, testnet3 and testnet4, little-endian.
const POW_LIMIT_MAINNET: [u8; 32] =
    le_from_be_hex("00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
/// Core's `powLimit` of the default signet, little-endian.
const POW_LIMIT_SIGNET: [u8; 32] =
    le_from_be_hex("00000377ae000000000000000000000000000000000000000000000000000000");
/// Core's `powLimit` of regtest, little-endian.
const POW_LIMIT_REGTEST: [u8; 32] =
    le_from_be_hex("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");

/// Reads 64 hex digits written most significant first, as Core's `uint256{"..."}` spells a
/// number, into 32 little-endian bytes. Only used for constants, so a bad digit or length
/// fails the build.
const fn le_from_be_hex(hex: &str) -> [u8; 32] {
    const fn digit(c: u8) -> u8 {
        match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => panic!("a lowercase hex digit"),
        }
    }
    let hex = hex.as_bytes();
    assert!(hex.len() == 64, "64 hex digits");
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[31 - i] = (digit(hex[2 * i]) << 4) | digit(hex[2 * i + 1]);
        i += 1;
    }
    out
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown network name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown network (expected mainnet, testnet3, testnet4, signet or regtest)")]
pub struct UnknownNetwork;

impl FromStr for Network {
    type Err = UnknownNetwork;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mainnet" | "main" | "bitcoin" => Ok(Self::Mainnet),
            "testnet3" | "testnet" | "test" => Ok(Self::Testnet3),
            "testnet4" => Ok(Self::Testnet4),
            "signet" => Ok(Self::Signet),
            "regtest" => Ok(Self::Regtest),
            _ => Err(UnknownNetwork),
        }
    }
}

/// A message command: 1 to 12 printable ASCII bytes, NUL-padded to 12.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Command([u8; COMMAND_LEN]);

impl Command {
    /// Returns the command for `name`.
    ///
    /// # Panics
    /// When `name` is empty, longer than 12 bytes, or not printable ASCII; meant for
    /// constants, where this fails at compile time. Use [`Command::try_new`] for input.
    #[must_use]
    pub const fn new(name: &str) -> Self {
        match Self::try_new(name) {
            Some(c) => c,
            None => panic!("a command is 1 to 12 printable ASCII bytes"),
        }
    }

    /// Returns the command for `name`, or `None` when it is empty, longer than 12 bytes, or
    /// not printable ASCII.
    #[must_use]
    pub const fn try_new(name: &str) -> Option<Self> {
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.len() > COMMAND_LEN {
            return None;
        }
        let mut raw = [0u8; COMMAND_LEN];
        let mut i = 0;
        while i < bytes.len() {
            if !is_printable(bytes[i]) {
                return None;
            }
            raw[i] = bytes[i];
            i += 1;
        }
        Some(Self(raw))
    }

    /// Checks the raw 12-byte field: printable ASCII, then only NUL padding; not empty.
    ///
    /// # Errors
    /// [`FrameError::InvalidCommand`].
    pub fn from_bytes(raw: [u8; COMMAND_LEN]) -> Result<Self, FrameError> {
        // Bitcoin Core `CMessageHeader::IsCommandValid`: printable characters (0x20..=0x7e)
        // followed only by NUL padding. We also refuse the empty command.
        // Branch-free over the 12 bytes: a bit per non-NUL byte, which must be a run from
        // the first byte on (`mask & (mask + 1) == 0`), and every one of them printable.
        let mut mask: u16 = 0;
        let mut unprintable = false;
        for (k, &b) in raw.iter().enumerate() {
            mask |= u16::from(b != 0) << k;
            unprintable |= b != 0 && !is_printable(b);
        }
        let valid = mask != 0 && mask & (mask + 1) == 0 && !unprintable;
        if valid {
            Ok(Self(raw))
        } else {
            Err(FrameError::InvalidCommand(raw))
        }
    }

    /// Returns the NUL-padded 12-byte field.
    #[must_use]
    pub const fn to_bytes(self) -> [u8; COMMAND_LEN] {
        self.0
    }

    /// Returns the command without its padding.
    #[must_use]
    pub fn as_str(&self) -> &str {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(COMMAND_LEN);
        // Every constructor checks for printable ASCII, which is valid UTF-8.
        core::str::from_utf8(&self.0[..len]).unwrap_or("")
    }
}

const fn is_printable(b: u8) -> bool {
    matches!(b, 0x20..=0x7e)
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({:?})", self.as_str())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Command {
    type Err = FrameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::try_new(s).ok_or_else(|| {
            let mut raw = [0u8; COMMAND_LEN];
            let n = s.len().min(COMMAND_LEN);
            raw[..n].copy_from_slice(&s.as_bytes()[..n]);
            FrameError::InvalidCommand(raw)
        })
    }
}

/// A decoded message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageHeader {
    /// The network magic.
    pub magic: Magic,
    /// The message command.
    pub command: Command,
    /// The payload length in bytes.
    pub payload_len: u32,
    /// The payload checksum.
    pub checksum: Checksum,
}

impl MessageHeader {
    /// Reads a header, checking in order: the length against
    /// [`MAX_PROTOCOL_MESSAGE_LENGTH`](limits::MAX_PROTOCOL_MESSAGE_LENGTH), then the command
    /// field. The magic is compared by [`crate::FrameDecoder`], which knows the network.
    ///
    /// # Errors
    /// [`FrameError::PayloadTooLarge`] or [`FrameError::InvalidCommand`].
    pub fn from_bytes(raw: &[u8; HEADER_LEN]) -> Result<Self, FrameError> {
        let [m0, m1, m2, m3, c @ .., l0, l1, l2, l3, s0, s1, s2, s3] = *raw;
        let payload_len = u32::from_le_bytes([l0, l1, l2, l3]);
        if payload_len > limits::MAX_PROTOCOL_MESSAGE_LENGTH {
            return Err(FrameError::PayloadTooLarge {
                len: payload_len,
                limit: limits::MAX_PROTOCOL_MESSAGE_LENGTH,
            });
        }
        let mut cmd = [0u8; COMMAND_LEN];
        cmd.copy_from_slice(&c);
        Ok(Self {
            magic: Magic([m0, m1, m2, m3]),
            command: Command::from_bytes(cmd)?,
            payload_len,
            checksum: Checksum([s0, s1, s2, s3]),
        })
    }

    /// Returns the header's 24 bytes.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        let mut w = &mut out[..];
        self.encode(&mut w);
        out
    }

    /// Writes the header's 24 bytes.
    pub fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&self.magic.0);
        buf.put_slice(&self.command.0);
        buf.put_u32_le(self.payload_len);
        buf.put_slice(&self.checksum.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn verack_header_vector() {
        // Mainnet verack, from the developer reference.
        let raw: [u8; 24] = [
            0xf9, 0xbe, 0xb4, 0xd9, b'v', b'e', b'r', b'a', b'c', b'k', 0, 0, 0, 0, 0, 0, 0, 0, 0,
            0, 0x5d, 0xf6, 0xe0, 0xe2,
        ];
        let h = MessageHeader::from_bytes(&raw).unwrap();
        assert_eq!(h.magic, Magic::MAINNET);
        assert_eq!(h.command, Command::new("verack"));
        assert_eq!(h.payload_len, 0);
        assert_eq!(h.checksum, Checksum::EMPTY);
        assert_eq!(h.to_bytes(), raw);
    }

    #[test]
    fn command_rules() {
        assert!(Command::from_bytes(*b"ping\0\0\0\0\0\0\0\0").is_ok());
        assert!(Command::from_bytes(*b"sendaddrv2\0\0").is_ok());
        assert!(Command::from_bytes(*b"twelve_bytes").is_ok());
        for bad in [
            *b"ping\0x\0\0\0\0\0\0",
            *b"\0\0\0\0\0\0\0\0\0\0\0\0",
            *b"pi\x01g\0\0\0\0\0\0\0\0",
            *b"p\xffng\0\0\0\0\0\0\0\0",
        ] {
            assert_eq!(
                Command::from_bytes(bad),
                Err(FrameError::InvalidCommand(bad))
            );
        }
        assert!(Command::try_new("").is_none());
        assert!(Command::try_new("thirteen_byte").is_none());
        assert_eq!(Command::new("inv").as_str(), "inv");
    }

    proptest::proptest! {
        /// The branch-free check agrees with the rule as Bitcoin Core words it: printable
        /// bytes, then only NUL padding, and at least one byte.
        #[test]
        fn command_check_is_cores_rule(raw in proptest::array::uniform12(proptest::prop_oneof![
            proptest::strategy::Just(0u8),
            0x20u8..=0x7e,
            proptest::num::u8::ANY,
        ])) {
            let len = raw.iter().position(|&b| b == 0).unwrap_or(COMMAND_LEN);
            let core = len > 0
                && raw[..len].iter().all(|&b| is_printable(b))
                && raw[len..].iter().all(|&b| b == 0);
            proptest::prop_assert_eq!(Command::from_bytes(raw).is_ok(), core, "{:?}", raw);
        }
    }

    #[test]
    fn oversize_length_rejected_before_command() {
        let mut raw = [0u8; 24];
        raw[16..20].copy_from_slice(&4_000_001u32.to_le_bytes());
        assert_eq!(
            MessageHeader::from_bytes(&raw),
            Err(FrameError::PayloadTooLarge {
                len: 4_000_001,
                limit: 4_000_000
            })
        );
    }

    #[test]
    fn networks() {
        for n in Network::ALL {
            assert_eq!(Network::from_magic(n.magic()), Some(n));
            assert_eq!(n.name().parse::<Network>(), Ok(n));
        }
        assert_eq!(Network::default(), Network::Signet);
        assert_eq!(Network::Testnet4.magic(), Magic([0x1c, 0x16, 0x3f, 0x28]));
    }

    #[test]
    fn magic_bytes_are_cores() {
        // Bitcoin Core `kernel/chainparams.cpp` `pchMessageStart`; for signet the first 4
        // bytes of SHA-256d of the default challenge (BIP 325).
        let cases = [
            (Network::Mainnet, [0xf9, 0xbe, 0xb4, 0xd9], "f9beb4d9"),
            (Network::Testnet3, [0x0b, 0x11, 0x09, 0x07], "0b110907"),
            (Network::Testnet4, [0x1c, 0x16, 0x3f, 0x28], "1c163f28"),
            (Network::Signet, [0x0a, 0x03, 0xcf, 0x40], "0a03cf40"),
            (Network::Regtest, [0xfa, 0xbf, 0xb5, 0xda], "fabfb5da"),
        ];
        assert_eq!(cases.len(), Network::ALL.len(), "every network is pinned");
        for (network, bytes, hex) in cases {
            assert_eq!(network.magic().0, bytes, "{network}");
            assert_eq!(network.magic().to_string(), hex, "{network}");
            // The first 4 bytes on the wire, in this order.
            let header = MessageHeader {
                magic: network.magic(),
                command: Command::new("verack"),
                payload_len: 0,
                checksum: Checksum::EMPTY,
            };
            assert_eq!(header.to_bytes()[..4], bytes, "{network}");
        }
    }

    #[test]
    fn pow_limits_are_cores() {
        // Bitcoin Core `kernel/chainparams.cpp` `consensus.powLimit`, as little-endian bytes.
        let mut main = [0xff; 32];
        main[28..].fill(0);
        let mut signet = [0; 32];
        signet[27..30].copy_from_slice(&[0xae, 0x77, 0x03]);
        let mut regtest = [0xff; 32];
        regtest[31] = 0x7f;
        assert_eq!(Network::Mainnet.pow_limit(), main);
        assert_eq!(Network::Testnet3.pow_limit(), main);
        assert_eq!(Network::Testnet4.pow_limit(), main);
        assert_eq!(Network::Signet.pow_limit(), signet);
        assert_eq!(Network::Regtest.pow_limit(), regtest);
    }
}
