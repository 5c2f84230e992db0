//! Peer addresses: service flags, the 26-byte `net_addr` of `version` and `addr`, and the
//! variable-length BIP 155 addresses of `addrv2`.
//!
//! ## `net_addr` and `addr` entries
//!
//! [`NetAddr`] is the address in `version` (no time); [`AddrEntry`] prefixes it with a time
//! for the `addr` message (Bitcoin Core `CAddress`, serialized without BIP 155).
//!
//! | offset | size | field      | notes                                              |
//! |-------:|-----:|------------|----------------------------------------------------|
//! | 0      | 4    | `time`     | u32 LE, Unix time; [`AddrEntry`] only              |
//! | +0     | 8    | `services` | u64 LE, [`ServiceFlags`]                           |
//! | +8     | 16   | `ip`       | IPv6; IPv4 as the mapped address `::ffff:a.b.c.d`  |
//! | +24    | 2    | `port`     | u16 **big-endian**                                 |
//!
//! ## BIP 155 `addrv2` entries
//!
//! [`AddrV2Entry`] ([BIP 155](https://github.com/bitcoin/bips/blob/master/bip-0155.mediawiki)):
//!
//! | size    | field        | notes                                                          |
//! |--------:|--------------|----------------------------------------------------------------|
//! | 4       | `time`       | u32 LE, Unix time                                              |
//! | 1–9     | `services`   | CompactSize (minimal), [`ServiceFlags`]                        |
//! | 1       | `network_id` | [`NetworkId`]                                                  |
//! | 1–3 + n | `addr`       | CompactSize length n ≤ [`MAX_ADDRV2_SIZE`](limits::MAX_ADDRV2_SIZE), then n bytes |
//! | 2       | `port`       | u16 **big-endian**; 0 where the network has no ports           |
//!
//! | id     | network     | length | [`NetAddrV2`] variant | shown as                        |
//! |-------:|-------------|-------:|-----------------------|---------------------------------|
//! | `0x01` | `IPV4`      | 4      | `Ipv4`                | `192.0.2.51`                    |
//! | `0x02` | `IPV6`      | 16     | `Ipv6`                | `2001:db8::1`                   |
//! | `0x03` | `TORV2`     | 10     | `TorV2` (obsolete)    | `6hzph5hv6337r6p2.onion`        |
//! | `0x04` | `TORV3`     | 32     | `TorV3`               | `torv3:` + 64 hex digits        |
//! | `0x05` | `I2P`       | 32     | `I2p`                 | 52 base32 characters + `.b32.i2p` |
//! | `0x06` | `CJDNS`     | 16     | `Cjdns`               | IPv6 form (`fc00::/8`)          |
//! | `0x07` | `YGGDRASIL` | 16     | `Yggdrasil`           | IPv6 form (`0200::/7`)          |
//! | other  | unknown     | ≤ 512  | `Unknown`             | `unknown-<id>:` + hex           |
//!
//! As BIP 155 recommends ("clients SHOULD reject messages that contain addresses that have a
//! different length than specified"), an address of a known network with the wrong length is
//! an [`AddressLength`](DecodeErrorKind::AddressLength) error, as in Bitcoin Core
//! (`CNetAddr::SetNetFromBIP155Network`); the length is checked before the address bytes are
//! read. Unknown networks are kept, not rejected. Tor v2 addresses still decode (Tor v2 is
//! gone and BIP 155 says to ignore them; [`NetAddrV2::is_obsolete`] tells the caller).
//!
//! A Tor v3 `.onion` name carries a SHA3-256 checksum of the key; this crate has no SHA3, so
//! Tor v3 addresses display as `torv3:` followed by the 32 key bytes in hex.

use core::fmt::{self, Write as _};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use core::ops::{BitAnd, BitOr, BitOrAssign};
use core::str::FromStr;

use bytes::BufMut;
use nom::Parser;
use nom::error::context;

use crate::error::{DecodeError, DecodeErrorKind};
use crate::read::{array, take, u8 as le_u8, u16_be as be_u16, u32_le as le_u32};
use crate::types::list::{Item, put_fixed};
use crate::varint::{compact_size, compact_size_len, count, put_compact_size, with_field};
use crate::{Encode, PResult, limits};

/// The services a node offers, as the bit field of `version`, `addr` and `addrv2`.
///
/// Unknown bits are kept: they are part of the value and survive a round trip.
///
/// ```
/// use btcwire::types::ServiceFlags;
///
/// let flags = ServiceFlags::NETWORK | ServiceFlags::WITNESS | ServiceFlags(1 << 20);
/// assert_eq!(flags.to_string(), "NETWORK|WITNESS|0x100000");
/// assert_eq!("network,witness|0x100000".parse(), Ok(flags));
/// assert!(flags.contains(ServiceFlags::WITNESS));
/// assert_eq!(flags.unknown_bits(), 1 << 20);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct ServiceFlags(pub u64);

impl ServiceFlags {
    /// No services (Bitcoin Core `NODE_NONE`).
    pub const NONE: Self = Self(0);
    /// Serves the full block chain (Bitcoin Core `NODE_NETWORK`).
    pub const NETWORK: Self = Self(1);
    /// Answers `getutxo` queries (BIP 64, `NODE_GETUTXO`; no longer implemented by Core).
    pub const GETUTXO: Self = Self(1 << 1);
    /// Serves bloom-filtered connections (BIP 111, `NODE_BLOOM`).
    pub const BLOOM: Self = Self(1 << 2);
    /// Serves blocks and transactions with witness data (BIP 144, `NODE_WITNESS`).
    pub const WITNESS: Self = Self(1 << 3);
    /// Serves compact block filters (BIP 157, `NODE_COMPACT_FILTERS`).
    pub const COMPACT_FILTERS: Self = Self(1 << 6);
    /// Serves the last 288 blocks only (BIP 159, `NODE_NETWORK_LIMITED`).
    pub const NETWORK_LIMITED: Self = Self(1 << 10);
    /// Speaks the v2 encrypted transport (BIP 324, `NODE_P2P_V2`).
    pub const P2P_V2: Self = Self(1 << 11);

    /// Every named flag, in bit order, with its name.
    const KNOWN: [(Self, &'static str); 7] = [
        (Self::NETWORK, "NETWORK"),
        (Self::GETUTXO, "GETUTXO"),
        (Self::BLOOM, "BLOOM"),
        (Self::WITNESS, "WITNESS"),
        (Self::COMPACT_FILTERS, "COMPACT_FILTERS"),
        (Self::NETWORK_LIMITED, "NETWORK_LIMITED"),
        (Self::P2P_V2, "P2P_V2"),
    ];

    /// The bits of every named flag.
    const KNOWN_BITS: u64 = 1 | 1 << 1 | 1 << 2 | 1 << 3 | 1 << 6 | 1 << 10 | 1 << 11;

    /// Returns the raw bit field.
    #[must_use]
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Returns whether every bit of `other` is set in `self`.
    #[must_use]
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Returns the flags set in either `self` or `other`.
    #[must_use]
    pub const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// Returns whether no bit is set.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Returns the names of the known flags that are set, in bit order (`"NETWORK"`,
    /// `"WITNESS"`, ...).
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::KNOWN
            .into_iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|(_, name)| name)
    }

    /// Returns the set bits that have no name in this crate.
    #[must_use]
    pub const fn unknown_bits(self) -> u64 {
        self.0 & !Self::KNOWN_BITS
    }
}

impl BitOr for ServiceFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        self.union(rhs)
    }
}

impl BitOrAssign for ServiceFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for ServiceFlags {
    type Output = Self;
    fn bitand(self, rhs: Self) -> Self {
        Self(self.0 & rhs.0)
    }
}

impl From<u64> for ServiceFlags {
    fn from(bits: u64) -> Self {
        Self(bits)
    }
}

impl From<ServiceFlags> for u64 {
    fn from(flags: ServiceFlags) -> Self {
        flags.0
    }
}

/// Writes the names of the set flags joined by `|`, then any unknown bits as one hex number
/// (`NETWORK|WITNESS|0x100000`); no bits at all is `NONE`.
impl fmt::Display for ServiceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("NONE");
        }
        let mut sep = "";
        for name in self.names() {
            write!(f, "{sep}{name}")?;
            sep = "|";
        }
        let unknown = self.unknown_bits();
        if unknown != 0 {
            write!(f, "{sep}{unknown:#x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ServiceFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ServiceFlags({self})")
    }
}

/// A string that is not a service-flag number or list of flag names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid service flags: expected a number or names such as NETWORK|WITNESS")]
pub struct ParseServiceFlagsError;

/// Reads a number (decimal, or hex after `0x`) or flag names joined by `|` or `,`, in any
/// case and with an optional `NODE_` prefix; parts may mix both (`NETWORK|0x100000`).
impl FromStr for ServiceFlags {
    type Err = ParseServiceFlagsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.split(['|', ','])
            .try_fold(Self::NONE, |acc, part| Ok(acc | parse_flag(part.trim())?))
    }
}

fn parse_flag(part: &str) -> Result<ServiceFlags, ParseServiceFlagsError> {
    let hex = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X"));
    if let Some(hex) = hex {
        // `from_str_radix` would also take a sign: allow digits only.
        if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ParseServiceFlagsError);
        }
        return u64::from_str_radix(hex, 16)
            .map(ServiceFlags)
            .map_err(|_| ParseServiceFlagsError);
    }
    if part.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseServiceFlagsError);
        }
        return part
            .parse()
            .map(ServiceFlags)
            .map_err(|_| ParseServiceFlagsError);
    }
    let name = match part.get(..5) {
        Some(prefix) if prefix.eq_ignore_ascii_case("NODE_") => &part[5..],
        _ => part,
    };
    if name.eq_ignore_ascii_case("NONE") {
        return Ok(ServiceFlags::NONE);
    }
    ServiceFlags::KNOWN
        .into_iter()
        .find(|(_, known)| known.eq_ignore_ascii_case(name))
        .map(|(flag, _)| flag)
        .ok_or(ParseServiceFlagsError)
}

/// The 26-byte peer address of `version` and (after a time) `addr`: services, IPv6 address
/// and port.
///
/// ```
/// use btcwire::types::{NetAddr, ServiceFlags};
/// use core::net::SocketAddr;
///
/// let sock: SocketAddr = "192.0.2.51:8333".parse().unwrap();
/// let addr = NetAddr::from_socket_addr(ServiceFlags::NETWORK, sock);
/// assert_eq!(addr.ip[10..12], [0xff, 0xff]); // IPv4-mapped on the wire
/// assert_eq!(addr.to_socket_addr(), sock); // and IPv4 again when read back
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct NetAddr {
    /// The services the node offers.
    pub services: ServiceFlags,
    /// The IPv6 address; an IPv4 address is stored mapped, as `::ffff:a.b.c.d`.
    pub ip: [u8; 16],
    /// The port (big-endian on the wire).
    pub port: u16,
}

impl NetAddr {
    /// Encoded length in bytes.
    pub const LEN: usize = 26;

    /// Returns the address of a node with `services` at `ip` (IPv6 form) and `port`.
    #[must_use]
    pub const fn new(services: ServiceFlags, ip: [u8; 16], port: u16) -> Self {
        Self { services, ip, port }
    }

    /// Returns the address of a node with `services` at `addr`; an IPv4 address is stored
    /// IPv4-mapped. The IPv6 flow label and scope id are dropped.
    #[must_use]
    pub fn from_socket_addr(services: ServiceFlags, addr: SocketAddr) -> Self {
        Self {
            services,
            ip: ip_to_v6_bytes(addr.ip()),
            port: addr.port(),
        }
    }

    /// Returns the IP address; an IPv4-mapped address (`::ffff:a.b.c.d`) becomes IPv4.
    #[must_use]
    pub fn ip_addr(&self) -> IpAddr {
        let v6 = Ipv6Addr::from(self.ip);
        match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        }
    }

    /// Returns the IP address and port; an IPv4-mapped address becomes IPv4.
    #[must_use]
    pub fn to_socket_addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip_addr(), self.port)
    }

    /// Reads an address from its 26-byte encoding.
    #[must_use]
    #[inline]
    pub fn from_bytes(raw: &[u8; Self::LEN]) -> Self {
        let [s0, s1, s2, s3, s4, s5, s6, s7, ip @ .., p0, p1] = *raw;
        Self {
            services: ServiceFlags(u64::from_le_bytes([s0, s1, s2, s3, s4, s5, s6, s7])),
            ip,
            port: u16::from_be_bytes([p0, p1]),
        }
    }

    /// Returns the 26-byte encoding.
    #[must_use]
    #[inline]
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        let (services, rest) = out.split_at_mut(8);
        let (ip, port) = rest.split_at_mut(16);
        services.copy_from_slice(&self.services.0.to_le_bytes());
        ip.copy_from_slice(&self.ip);
        port.copy_from_slice(&self.port.to_be_bytes());
        out
    }

    /// Reads 26 bytes; a short input is [`DecodeErrorKind::Truncated`] at its start.
    #[inline]
    pub(crate) fn parse(input: &[u8]) -> PResult<'_, Self> {
        array::<{ Self::LEN }>(input).map(|(rest, raw)| (rest, Self::from_bytes(&raw)))
    }
}

impl Encode for NetAddr {
    fn encoded_len(&self) -> usize {
        Self::LEN
    }

    #[inline]
    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&self.to_bytes());
    }
}

/// Converts with no services ([`ServiceFlags::NONE`]).
impl From<SocketAddr> for NetAddr {
    fn from(addr: SocketAddr) -> Self {
        Self::from_socket_addr(ServiceFlags::NONE, addr)
    }
}

/// Converts an IPv6 socket address, dropping its flow label and scope id.
impl From<SocketAddrV6> for NetAddr {
    fn from(addr: SocketAddrV6) -> Self {
        SocketAddr::V6(addr).into()
    }
}

impl From<NetAddr> for SocketAddr {
    fn from(addr: NetAddr) -> Self {
        addr.to_socket_addr()
    }
}

/// Writes the socket address (`192.0.2.51:8333`, `[2001:db8::1]:8333`).
impl fmt::Display for NetAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_socket_addr(), f)
    }
}

impl fmt::Debug for NetAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetAddr")
            .field("services", &self.services)
            .field("addr", &format_args!("{self}"))
            .finish()
    }
}

fn ip_to_v6_bytes(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

/// One entry of an `addr` message: when the node was last seen, and its [`NetAddr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct AddrEntry {
    /// When the node was last seen, in seconds since the Unix epoch.
    pub time: u32,
    /// The node's services and address.
    pub addr: NetAddr,
}

impl AddrEntry {
    /// Encoded length in bytes.
    pub const LEN: usize = 30;

    /// Returns the entry for `addr` seen at `time`.
    #[must_use]
    pub const fn new(time: u32, addr: NetAddr) -> Self {
        Self { time, addr }
    }

    /// Returns the 30-byte encoding.
    #[must_use]
    #[inline]
    pub fn to_bytes(&self) -> [u8; Self::LEN] {
        let mut out = [0u8; Self::LEN];
        let (time, addr) = out.split_at_mut(4);
        time.copy_from_slice(&self.time.to_le_bytes());
        addr.copy_from_slice(&self.addr.to_bytes());
        out
    }

    /// Reads 30 bytes.
    #[inline]
    pub(crate) fn parse(input: &[u8]) -> PResult<'_, Self> {
        let (i, time) = le_u32(input)?;
        let (i, addr) = NetAddr::parse(i)?;
        Ok((i, Self { time, addr }))
    }
}

impl Encode for AddrEntry {
    fn encoded_len(&self) -> usize {
        Self::LEN
    }

    #[inline]
    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&self.to_bytes());
    }
}

impl<'a> Item<'a> for AddrEntry {
    const FIXED_LEN: Option<usize> = Some(Self::LEN);
    const MIN_LEN: usize = Self::LEN;

    #[inline]
    fn from_valid(chunk: &'a [u8]) -> Option<Self> {
        let (time, addr) = chunk.split_first_chunk::<4>()?;
        Some(Self {
            time: u32::from_le_bytes(*time),
            addr: NetAddr::from_bytes(addr.first_chunk()?),
        })
    }

    #[inline]
    fn parse_item(input: &'a [u8]) -> PResult<'a, Self> {
        Self::parse(input)
    }

    fn item_len(&self) -> usize {
        Self::LEN
    }

    #[inline]
    fn encode_item<B: BufMut>(&self, buf: &mut B) {
        self.encode(buf);
    }

    #[inline]
    fn encode_run<B: BufMut>(items: &[Self], buf: &mut B) {
        put_fixed::<2, _, _, _>(items, buf, Self::to_bytes);
    }
}

/// A BIP 155 network id: which network an `addrv2` address belongs to. Unknown ids are
/// valid and kept.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct NetworkId(pub u8);

impl NetworkId {
    /// IPv4, 4-byte addresses.
    pub const IPV4: Self = Self(1);
    /// IPv6, 16-byte addresses.
    pub const IPV6: Self = Self(2);
    /// Tor v2 onion services, 10-byte addresses (no longer operational).
    pub const TORV2: Self = Self(3);
    /// Tor v3 onion services, 32-byte ed25519 public keys.
    pub const TORV3: Self = Self(4);
    /// I2P, 32-byte SHA-256 destination hashes.
    pub const I2P: Self = Self(5);
    /// Cjdns, 16-byte IPv6 addresses in `fc00::/8`.
    pub const CJDNS: Self = Self(6);
    /// Yggdrasil, 16-byte IPv6 addresses in `0200::/7` (reserved by BIP 155 in 2025).
    pub const YGGDRASIL: Self = Self(7);

    /// Returns the address length BIP 155 fixes for this network, if it is a known one.
    #[must_use]
    pub const fn address_len(self) -> Option<usize> {
        match self.0 {
            1 => Some(4),
            2 | 6 | 7 => Some(16),
            3 => Some(10),
            4 | 5 => Some(32),
            _ => None,
        }
    }

    /// Returns the BIP 155 name of a known network (`"IPV4"`, `"TORV3"`, ...).
    #[must_use]
    pub const fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "IPV4",
            2 => "IPV6",
            3 => "TORV2",
            4 => "TORV3",
            5 => "I2P",
            6 => "CJDNS",
            7 => "YGGDRASIL",
            _ => return None,
        })
    }
}

impl fmt::Debug for NetworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "NetworkId({} {name})", self.0),
            None => write!(f, "NetworkId({})", self.0),
        }
    }
}

impl From<u8> for NetworkId {
    fn from(id: u8) -> Self {
        Self(id)
    }
}

/// A BIP 155 address: an IP address, an overlay-network address, or an address of a network
/// this crate does not know (borrowed).
///
/// Build one with [`NetAddrV2::from_bytes`] (which picks the variant from the network id and
/// checks the length) or from an [`IpAddr`]. `Unknown` is for network ids without a variant;
/// an `Unknown` carrying a known id encodes like the known variant but decodes as it, so it
/// does not compare equal after a round trip.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NetAddrV2<'a> {
    /// An IPv4 address.
    Ipv4([u8; 4]),
    /// An IPv6 address.
    Ipv6([u8; 16]),
    /// A Tor v2 onion service (obsolete: Tor v2 no longer works, see [`Self::is_obsolete`]).
    TorV2([u8; 10]),
    /// A Tor v3 onion service: its ed25519 public key.
    TorV3([u8; 32]),
    /// An I2P destination: the SHA-256 hash that its `.b32.i2p` name encodes.
    I2p([u8; 32]),
    /// A Cjdns address (IPv6 form, `fc00::/8`).
    Cjdns([u8; 16]),
    /// A Yggdrasil address (IPv6 form, `0200::/7`).
    Yggdrasil([u8; 16]),
    /// An address of a network this crate does not know.
    Unknown {
        /// The BIP 155 network id.
        network_id: u8,
        /// The address bytes, at most [`MAX_ADDRV2_SIZE`](limits::MAX_ADDRV2_SIZE).
        bytes: &'a [u8],
    },
}

impl<'a> NetAddrV2<'a> {
    /// Returns the address of `network_id` with `bytes`, as the variant for that network.
    ///
    /// # Errors
    /// [`DecodeErrorKind::OverLimit`] above [`MAX_ADDRV2_SIZE`](limits::MAX_ADDRV2_SIZE) bytes,
    /// [`DecodeErrorKind::AddressLength`] when a known network requires another length.
    pub fn from_bytes(network_id: NetworkId, bytes: &'a [u8]) -> Result<Self, DecodeErrorKind> {
        let len = bytes.len() as u64;
        if len > limits::MAX_ADDRV2_SIZE {
            return Err(DecodeErrorKind::OverLimit {
                value: len,
                limit: limits::MAX_ADDRV2_SIZE,
            });
        }
        fn array<const N: usize>(id: u8, bytes: &[u8]) -> Result<[u8; N], DecodeErrorKind> {
            bytes
                .try_into()
                .map_err(|_| DecodeErrorKind::AddressLength {
                    network: id,
                    expected: N,
                    actual: bytes.len() as u64,
                })
        }
        let id = network_id.0;
        Ok(match network_id {
            NetworkId::IPV4 => Self::Ipv4(array(id, bytes)?),
            NetworkId::IPV6 => Self::Ipv6(array(id, bytes)?),
            NetworkId::TORV2 => Self::TorV2(array(id, bytes)?),
            NetworkId::TORV3 => Self::TorV3(array(id, bytes)?),
            NetworkId::I2P => Self::I2p(array(id, bytes)?),
            NetworkId::CJDNS => Self::Cjdns(array(id, bytes)?),
            NetworkId::YGGDRASIL => Self::Yggdrasil(array(id, bytes)?),
            _ => Self::Unknown {
                network_id: id,
                bytes,
            },
        })
    }

    /// Returns the BIP 155 network id.
    #[must_use]
    pub const fn network_id(&self) -> NetworkId {
        match self {
            Self::Ipv4(_) => NetworkId::IPV4,
            Self::Ipv6(_) => NetworkId::IPV6,
            Self::TorV2(_) => NetworkId::TORV2,
            Self::TorV3(_) => NetworkId::TORV3,
            Self::I2p(_) => NetworkId::I2P,
            Self::Cjdns(_) => NetworkId::CJDNS,
            Self::Yggdrasil(_) => NetworkId::YGGDRASIL,
            Self::Unknown { network_id, .. } => NetworkId(*network_id),
        }
    }

    /// Returns the address bytes as sent on the wire (without network id and length).
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8] {
        match self {
            Self::Ipv4(a) => a,
            Self::Ipv6(a) | Self::Cjdns(a) | Self::Yggdrasil(a) => a,
            Self::TorV2(a) => a,
            Self::TorV3(a) | Self::I2p(a) => a,
            Self::Unknown { bytes, .. } => bytes,
        }
    }

    /// Returns whether the address is of a network that no longer works (Tor v2); BIP 155
    /// says such addresses MUST be ignored on receipt and never relayed.
    #[must_use]
    pub const fn is_obsolete(&self) -> bool {
        matches!(self, Self::TorV2(_))
    }

    /// Returns the address as an IP address: IPv4 and IPv6, and the overlay networks that
    /// use IPv6 addresses (Cjdns, Yggdrasil).
    #[must_use]
    pub fn to_ip_addr(&self) -> Option<IpAddr> {
        match *self {
            Self::Ipv4(a) => Some(IpAddr::V4(Ipv4Addr::from(a))),
            Self::Ipv6(a) | Self::Cjdns(a) | Self::Yggdrasil(a) => {
                Some(IpAddr::V6(Ipv6Addr::from(a)))
            }
            _ => None,
        }
    }

    /// Returns the socket address with `port` for addresses that are IP addresses (see
    /// [`Self::to_ip_addr`]); Tor, I2P and unknown networks have none.
    #[must_use]
    pub fn to_socket_addr(&self, port: u16) -> Option<SocketAddr> {
        self.to_ip_addr().map(|ip| SocketAddr::new(ip, port))
    }

    /// Reads a network id, a CompactSize length and the address bytes.
    pub(crate) fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, id) = context("network_id", le_u8).parse(input)?;
        let network = NetworkId(id);
        let len_field = i;
        // BIP 155 and Core (`CNetAddr::UnserializeV2Stream`): the length is checked against
        // MAX_ADDRV2_SIZE, then against the network's fixed size, before any byte is read.
        let (i, len) = count(len_field, "address", limits::MAX_ADDRV2_SIZE, 0)?;
        if let Some(expected) = network.address_len() {
            if len != expected {
                let kind = DecodeErrorKind::AddressLength {
                    network: id,
                    expected,
                    actual: len as u64,
                };
                return DecodeError::field(len_field, "address", kind).fail();
            }
        }
        if len > i.len() {
            let kind = DecodeErrorKind::CountOverRemaining {
                count: len as u64,
                needed: len as u64,
                remaining: i.len(),
            };
            return DecodeError::field(len_field, "address", kind).fail();
        }
        let (rest, bytes) = take(i, len)?;
        match Self::from_bytes(network, bytes) {
            Ok(addr) => Ok((rest, addr)),
            // Unreachable: both limits were checked above.
            Err(kind) => DecodeError::field(len_field, "address", kind).fail(),
        }
    }
}

impl Encode for NetAddrV2<'_> {
    fn encoded_len(&self) -> usize {
        let len = self.as_bytes().len();
        1 + compact_size_len(len as u64) + len
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u8(self.network_id().0);
        crate::varint::put_var_bytes(buf, self.as_bytes());
    }
}

impl From<Ipv4Addr> for NetAddrV2<'_> {
    fn from(ip: Ipv4Addr) -> Self {
        Self::Ipv4(ip.octets())
    }
}

/// Converts to [`NetAddrV2::Ipv6`], whatever the address (an IPv4-mapped address stays IPv6).
impl From<Ipv6Addr> for NetAddrV2<'_> {
    fn from(ip: Ipv6Addr) -> Self {
        Self::Ipv6(ip.octets())
    }
}

impl From<IpAddr> for NetAddrV2<'_> {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => v4.into(),
            IpAddr::V6(v6) => v6.into(),
        }
    }
}

/// Writes the address the way its network names it: dotted IPv4, IPv6 (also for Cjdns and
/// Yggdrasil), `<base32>.onion` for Tor v2, `<base32>.b32.i2p` for I2P, `torv3:<hex>` for
/// Tor v3 (its `.onion` name needs SHA3-256), and `unknown-<id>:<hex>` otherwise.
impl fmt::Display for NetAddrV2<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ipv4(a) => write!(f, "{}", Ipv4Addr::from(*a)),
            Self::Ipv6(a) | Self::Cjdns(a) | Self::Yggdrasil(a) => {
                write!(f, "{}", Ipv6Addr::from(*a))
            }
            Self::TorV2(a) => {
                write_base32(f, a)?;
                f.write_str(".onion")
            }
            Self::TorV3(a) => {
                f.write_str("torv3:")?;
                write_hex(f, a)
            }
            Self::I2p(a) => {
                write_base32(f, a)?;
                f.write_str(".b32.i2p")
            }
            Self::Unknown { network_id, bytes } => {
                write!(f, "unknown-{network_id}:")?;
                write_hex(f, bytes)
            }
        }
    }
}

impl fmt::Debug for NetAddrV2<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            Self::Ipv4(_) => "Ipv4",
            Self::Ipv6(_) => "Ipv6",
            Self::TorV2(_) => "TorV2",
            Self::TorV3(_) => "TorV3",
            Self::I2p(_) => "I2p",
            Self::Cjdns(_) => "Cjdns",
            Self::Yggdrasil(_) => "Yggdrasil",
            Self::Unknown { .. } => "Unknown",
        };
        f.debug_tuple(variant)
            .field(&format_args!("{self}"))
            .finish()
    }
}

/// RFC 4648 base32, lowercase, without padding (as Tor and I2P names use).
fn write_base32(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        acc = (acc << 8 | u32::from(b)) & 0xfff;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            f.write_char(char::from(ALPHABET[((acc >> bits) & 31) as usize]))?;
        }
    }
    if bits > 0 {
        f.write_char(char::from(ALPHABET[((acc << (5 - bits)) & 31) as usize]))?;
    }
    Ok(())
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    bytes.iter().try_for_each(|b| write!(f, "{b:02x}"))
}

/// One entry of an `addrv2` message (BIP 155): when the node was last seen, its services,
/// its address and its port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrV2Entry<'a> {
    /// When the node was last seen, in seconds since the Unix epoch.
    pub time: u32,
    /// The services the node offers (a CompactSize on the wire).
    pub services: ServiceFlags,
    /// The node's address.
    pub addr: NetAddrV2<'a>,
    /// The port (big-endian on the wire); 0 for networks without ports.
    pub port: u16,
}

impl<'a> AddrV2Entry<'a> {
    /// Longest encoding in bytes: time, a 9-byte CompactSize of services, network id, a
    /// 3-byte length, [`MAX_ADDRV2_SIZE`](limits::MAX_ADDRV2_SIZE) address bytes, port.
    pub const MAX_LEN: usize = 4
        + 9
        + 1
        + compact_size_len(limits::MAX_ADDRV2_SIZE)
        + limits::MAX_ADDRV2_SIZE as usize
        + 2;

    /// Shortest encoding in bytes: time, 1-byte services, network id, empty address, port.
    pub const MIN_LEN: usize = 4 + 1 + 1 + 1 + 2;

    /// Returns the entry for `addr` and `port`, seen at `time` with `services`.
    #[must_use]
    pub const fn new(time: u32, services: ServiceFlags, addr: NetAddrV2<'a>, port: u16) -> Self {
        Self {
            time,
            services,
            addr,
            port,
        }
    }

    /// Returns the socket address when the address is an IP address.
    #[must_use]
    pub fn to_socket_addr(&self) -> Option<SocketAddr> {
        self.addr.to_socket_addr(self.port)
    }
}

impl Encode for AddrV2Entry<'_> {
    fn encoded_len(&self) -> usize {
        4 + compact_size_len(self.services.0) + self.addr.encoded_len() + 2
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_u32_le(self.time);
        put_compact_size(buf, self.services.0);
        self.addr.encode(buf);
        buf.put_u16(self.port);
    }
}

impl<'a> Item<'a> for AddrV2Entry<'a> {
    const FIXED_LEN: Option<usize> = None;
    const MIN_LEN: usize = Self::MIN_LEN;

    #[inline]
    fn parse_item(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, time) = context("time", le_u32).parse(input)?;
        let (i, services) = compact_size(i).map_err(|e| e.map(|e| with_field(e, "services")))?;
        let (i, addr) = NetAddrV2::parse(i)?;
        let (i, port) = context("port", be_u16).parse(i)?;
        Ok((i, Self::new(time, ServiceFlags(services), addr, port)))
    }

    fn item_len(&self) -> usize {
        self.encoded_len()
    }

    fn encode_item<B: BufMut>(&self, buf: &mut B) {
        self.encode(buf);
    }
}

/// Writes `address:port`, with the IPv6 forms in brackets (`[2001:db8::1]:8333`).
impl fmt::Display for AddrV2Entry<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            NetAddrV2::Ipv6(_) | NetAddrV2::Cjdns(_) | NetAddrV2::Yggdrasil(_) => {
                write!(f, "[{}]:{}", self.addr, self.port)
            }
            _ => write!(f, "{}:{}", self.addr, self.port),
        }
    }
}

#[cfg(any(test, feature = "proptest"))]
pub(crate) mod strategy {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    /// Service flags: any bits, often just the named ones.
    pub(crate) fn service_flags() -> impl Strategy<Value = ServiceFlags> {
        prop_oneof![
            any::<u64>().prop_map(|b| ServiceFlags(b & ServiceFlags::KNOWN_BITS)),
            any::<u64>().prop_map(ServiceFlags),
            (0u64..0x1_0000).prop_map(ServiceFlags),
        ]
    }

    /// Any 26-byte address, IPv4-mapped half of the time.
    pub(crate) fn net_addr() -> impl Strategy<Value = NetAddr> {
        let ip = prop_oneof![
            any::<[u8; 4]>().prop_map(|v4| Ipv4Addr::from(v4).to_ipv6_mapped().octets()),
            any::<[u8; 16]>(),
        ];
        (service_flags(), ip, any::<u16>()).prop_map(|(s, ip, port)| NetAddr::new(s, ip, port))
    }

    /// Any `addr` entry.
    pub(crate) fn addr_entry() -> impl Strategy<Value = AddrEntry> {
        (any::<u32>(), net_addr()).prop_map(|(time, addr)| AddrEntry::new(time, addr))
    }

    /// The owned parts of an `addrv2` entry.
    #[derive(Debug, Clone)]
    pub(crate) struct AddrV2Parts {
        pub(crate) time: u32,
        pub(crate) services: ServiceFlags,
        pub(crate) network_id: u8,
        pub(crate) bytes: Vec<u8>,
        pub(crate) port: u16,
    }

    impl AddrV2Parts {
        /// The entry these parts describe.
        pub(crate) fn entry(&self) -> AddrV2Entry<'_> {
            let addr = NetAddrV2::from_bytes(NetworkId(self.network_id), &self.bytes)
                .expect("the strategy yields valid lengths");
            AddrV2Entry::new(self.time, self.services, addr, self.port)
        }
    }

    /// `addrv2` entries of every known network with the right length, and of unknown
    /// networks with short addresses.
    pub(crate) fn addr_v2_parts() -> impl Strategy<Value = AddrV2Parts> {
        let known = (1u8..=7).prop_flat_map(|id| {
            let len = NetworkId(id).address_len().expect("ids 1..=7 are known");
            (Just(id), proptest::collection::vec(any::<u8>(), len))
        });
        let unknown = prop_oneof![Just(0u8), 8u8..=255]
            .prop_flat_map(|id| (Just(id), proptest::collection::vec(any::<u8>(), 0..40)));
        (
            any::<u32>(),
            service_flags(),
            prop_oneof![3 => known, 1 => unknown],
            any::<u16>(),
        )
            .prop_map(|(time, services, (network_id, bytes), port)| AddrV2Parts {
                time,
                services,
                network_id,
                bytes,
                port,
            })
    }
}

#[cfg(test)]
mod tests {
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::testutil::hex;

    /// Runs `parse` over `input` as a whole payload.
    fn decode<'a, T>(
        input: &'a [u8],
        parse: impl FnOnce(&'a [u8]) -> PResult<'a, T>,
    ) -> Result<T, DecodeError> {
        crate::decode_all(input, parse)
    }

    #[test]
    fn service_flags_display_and_parse() {
        let cases: &[(u64, &str)] = &[
            (0, "NONE"),
            (1, "NETWORK"),
            (0x409, "NETWORK|WITNESS|NETWORK_LIMITED"),
            (
                0xc4d,
                "NETWORK|BLOOM|WITNESS|COMPACT_FILTERS|NETWORK_LIMITED|P2P_V2",
            ),
            (0x2, "GETUTXO"),
            (0x10_0009, "NETWORK|WITNESS|0x100000"),
            (0x30, "0x30"),
        ];
        for &(bits, text) in cases {
            let flags = ServiceFlags(bits);
            assert_eq!(flags.to_string(), text);
            assert_eq!(text.parse::<ServiceFlags>(), Ok(flags), "{text}");
        }
        assert_eq!(
            ServiceFlags(0x409).names().collect::<Vec<_>>(),
            ["NETWORK", "WITNESS", "NETWORK_LIMITED"]
        );
        assert_eq!(ServiceFlags(0x10_0409).unknown_bits(), 0x10_0000);
        assert_eq!(
            format!("{:?}", ServiceFlags(9)),
            "ServiceFlags(NETWORK|WITNESS)"
        );
    }

    #[test]
    fn service_flags_parse_forms() {
        let nw = ServiceFlags::NETWORK | ServiceFlags::WITNESS;
        for text in [
            "9",
            "0x9",
            "0X09",
            "network|witness",
            "NODE_NETWORK, node_witness",
            "witness,1",
            " NETWORK | 0x8 ",
        ] {
            assert_eq!(text.parse::<ServiceFlags>(), Ok(nw), "{text}");
        }
        assert_eq!("none".parse::<ServiceFlags>(), Ok(ServiceFlags::NONE));
        assert_eq!(
            "18446744073709551615".parse::<ServiceFlags>(),
            Ok(ServiceFlags(u64::MAX))
        );
        for bad in [
            "",
            "|",
            "NETWORK|",
            "0x",
            "0x+1",
            "+1",
            "1a",
            "0xfffffffffffffffff",
            "18446744073709551616",
            "WITNES",
            "NODE_",
            "NETWORK WITNESS",
        ] {
            assert_eq!(
                bad.parse::<ServiceFlags>(),
                Err(ParseServiceFlagsError),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn service_flags_ops() {
        let a = ServiceFlags::NETWORK;
        let mut b = ServiceFlags::WITNESS;
        assert!(!a.contains(b));
        b |= a;
        assert!(b.contains(a) && b.contains(ServiceFlags::WITNESS));
        assert!(b.contains(ServiceFlags::NONE));
        assert_eq!(a.union(ServiceFlags::WITNESS), b);
        assert_eq!(b & ServiceFlags::WITNESS, ServiceFlags::WITNESS);
        assert!(ServiceFlags::NONE.is_empty() && !a.is_empty());
        assert_eq!(u64::from(b), 9);
        assert_eq!(ServiceFlags::from(1024), ServiceFlags::NETWORK_LIMITED);
        assert_eq!(ServiceFlags::P2P_V2.bits(), 2048);
        assert_eq!(ServiceFlags::COMPACT_FILTERS.bits(), 64);
        assert_eq!(ServiceFlags::BLOOM.bits(), 4);
        assert_eq!(ServiceFlags::GETUTXO.bits(), 2);
    }

    /// The receiving node's address from the developer reference's `version` hexdump.
    #[test]
    fn net_addr_vector() {
        let raw = hex("010000000000000000000000000000000000ffffc61b6409208d");
        let (rest, addr) = NetAddr::parse(&raw).unwrap();
        assert!(rest.is_empty());
        assert_eq!(addr.services, ServiceFlags::NETWORK);
        assert_eq!(addr.port, 8333);
        assert_eq!(addr.ip_addr(), IpAddr::V4(Ipv4Addr::new(198, 27, 100, 9)));
        assert_eq!(addr.to_string(), "198.27.100.9:8333");
        assert_eq!(addr.to_vec(), raw);
        assert_eq!(addr.to_bytes().as_slice(), raw.as_slice());
        let raw26: [u8; 26] = raw.as_slice().try_into().unwrap();
        assert_eq!(NetAddr::from_bytes(&raw26), addr);
        assert_eq!(
            format!("{addr:?}"),
            "NetAddr { services: ServiceFlags(NETWORK), addr: 198.27.100.9:8333 }"
        );
    }

    #[test]
    fn net_addr_socket_conversions() {
        let v6: SocketAddr = "[2001:db8::1]:18333".parse().unwrap();
        let addr = NetAddr::from(v6);
        assert_eq!(addr.services, ServiceFlags::NONE);
        assert_eq!(
            addr.ip,
            Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).octets()
        );
        assert_eq!(SocketAddr::from(addr), v6);
        assert_eq!(addr.to_string(), "[2001:db8::1]:18333");
        // The port is big-endian on the wire.
        assert_eq!(&addr.to_bytes()[24..], &[0x47, 0x9d]);
        let v4: SocketAddr = "10.0.0.1:8333".parse().unwrap();
        let addr = NetAddr::from_socket_addr(ServiceFlags::WITNESS, v4);
        assert_eq!(&addr.ip[..12], &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
        assert_eq!(addr.to_socket_addr(), v4);
        // The deprecated IPv4-compatible form `::a.b.c.d` stays IPv6.
        let compat = NetAddr::new(
            ServiceFlags::NONE,
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1],
            1,
        );
        assert!(compat.ip_addr().is_ipv6());
        let scoped = SocketAddrV6::new(Ipv6Addr::LOCALHOST, 8333, 7, 3);
        assert_eq!(NetAddr::from(scoped).to_string(), "[::1]:8333");
    }

    /// The first entry of the developer reference's `addr` hexdump.
    #[test]
    fn addr_entry_vector() {
        let raw = hex("d91f4854010000000000000000000000000000000000ffffc0000233208d");
        let (rest, entry) = AddrEntry::parse_item(&raw).unwrap();
        assert!(rest.is_empty());
        assert_eq!(entry.time, 1_414_012_889);
        assert_eq!(entry.addr.services, ServiceFlags::NETWORK);
        assert_eq!(entry.addr.to_string(), "192.0.2.51:8333");
        assert_eq!(entry.to_vec(), raw);
        assert_eq!(entry.item_len(), AddrEntry::LEN);
    }

    /// Address vectors from Bitcoin Core's `net_tests.cpp` (`cnetaddr_unserialize_v2`).
    #[test]
    fn addr_v2_core_vectors() {
        let cases: &[(&str, NetworkId, &str)] = &[
            ("010401020304", NetworkId::IPV4, "1.2.3.4"),
            (
                "02100102030405060708090a0b0c0d0e0f10",
                NetworkId::IPV6,
                "102:304:506:708:90a:b0c:d0e:f10",
            ),
            (
                "030af1f2f3f4f5f6f7f8f9fa",
                NetworkId::TORV2,
                "6hzph5hv6337r6p2.onion",
            ),
            (
                "042079bcc625184b05194975c28b66b66b0469f7f6556fb1ac3189a79b40dda32f1f",
                NetworkId::TORV3,
                "torv3:79bcc625184b05194975c28b66b66b0469f7f6556fb1ac3189a79b40dda32f1f",
            ),
            (
                "0520a2894dabaec08c0051a481a6dac88b64f98232ae42d4b6fd2fa81952dfe36a87",
                NetworkId::I2P,
                "ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p",
            ),
            (
                "0610fc000001000200030004000500060007",
                NetworkId::CJDNS,
                "fc00:1:2:3:4:5:6:7",
            ),
            (
                "0710020000000000000000000000000000ab",
                NetworkId::YGGDRASIL,
                "200::ab",
            ),
            ("aa0401020304", NetworkId(0xaa), "unknown-170:01020304"),
            ("aa00", NetworkId(0xaa), "unknown-170:"),
        ];
        for &(h, id, text) in cases {
            let raw = hex(h);
            let addr = decode(&raw, NetAddrV2::parse).unwrap();
            assert_eq!(addr.network_id(), id, "{h}");
            assert_eq!(addr.to_string(), text);
            assert_eq!(addr.to_vec(), raw);
            assert_eq!(addr.encoded_len(), raw.len());
            assert_eq!(addr.is_obsolete(), id == NetworkId::TORV2);
            assert_eq!(NetAddrV2::from_bytes(id, addr.as_bytes()), Ok(addr));
        }
        let raw = hex("010401020304");
        let ip = decode(&raw, NetAddrV2::parse).unwrap();
        assert_eq!(ip, NetAddrV2::Ipv4([1, 2, 3, 4]));
        assert_eq!(
            ip.to_socket_addr(8333),
            Some("1.2.3.4:8333".parse().unwrap())
        );
        assert_eq!(format!("{ip:?}"), "Ipv4(1.2.3.4)");
        assert_eq!(NetAddrV2::I2p([0; 32]).to_socket_addr(0), None);
        assert_eq!(NetAddrV2::TorV3([0; 32]).to_ip_addr(), None);
        assert_eq!(
            NetAddrV2::Cjdns(Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 1).octets()).to_socket_addr(1),
            Some("[fc00::1]:1".parse().unwrap())
        );
    }

    /// Malformed addresses, as in Core's `cnetaddr_unserialize_v2`.
    #[test]
    fn addr_v2_malformed() {
        let cases: &[(&str, DecodeErrorKind, &str, usize)] = &[
            // IPv4 with length 5.
            (
                "01050102030405",
                DecodeErrorKind::AddressLength {
                    network: 1,
                    expected: 4,
                    actual: 5,
                },
                "address",
                1,
            ),
            // IPv4 with length 513: over MAX_ADDRV2_SIZE before the network check.
            (
                "01fd010201020304",
                DecodeErrorKind::OverLimit {
                    value: 513,
                    limit: 512,
                },
                "address",
                1,
            ),
            // Unknown network claiming MAX_SIZE bytes.
            (
                "aafe0000000201020304050607",
                DecodeErrorKind::OverLimit {
                    value: 0x0200_0000,
                    limit: 512,
                },
                "address",
                1,
            ),
            (
                "020400",
                DecodeErrorKind::AddressLength {
                    network: 2,
                    expected: 16,
                    actual: 4,
                },
                "address",
                1,
            ),
            (
                "030700",
                DecodeErrorKind::AddressLength {
                    network: 3,
                    expected: 10,
                    actual: 7,
                },
                "address",
                1,
            ),
            (
                "040000",
                DecodeErrorKind::AddressLength {
                    network: 4,
                    expected: 32,
                    actual: 0,
                },
                "address",
                1,
            ),
            (
                "050300",
                DecodeErrorKind::AddressLength {
                    network: 5,
                    expected: 32,
                    actual: 3,
                },
                "address",
                1,
            ),
            (
                "060100",
                DecodeErrorKind::AddressLength {
                    network: 6,
                    expected: 16,
                    actual: 1,
                },
                "address",
                1,
            ),
            (
                "071100",
                DecodeErrorKind::AddressLength {
                    network: 7,
                    expected: 16,
                    actual: 17,
                },
                "address",
                1,
            ),
            // The right length, but fewer bytes follow.
            (
                "0104010203",
                DecodeErrorKind::CountOverRemaining {
                    count: 4,
                    needed: 4,
                    remaining: 3,
                },
                "address",
                1,
            ),
            (
                "01fd0400",
                DecodeErrorKind::NonMinimalCompactSize(4),
                "address",
                1,
            ),
            ("01", DecodeErrorKind::Truncated, "address", 1),
            ("", DecodeErrorKind::Truncated, "network_id", 0),
        ];
        for &(h, kind, field, offset) in cases {
            let raw = hex(h);
            let e = decode(&raw, NetAddrV2::parse).unwrap_err();
            assert_eq!(
                (e.kind, e.field, e.offset),
                (kind, Some(field), offset),
                "{h}"
            );
        }
        assert_eq!(
            NetAddrV2::from_bytes(NetworkId::TORV3, &[0; 31]),
            Err(DecodeErrorKind::AddressLength {
                network: 4,
                expected: 32,
                actual: 31
            })
        );
        assert_eq!(
            NetAddrV2::from_bytes(NetworkId(99), &[0; 513]),
            Err(DecodeErrorKind::OverLimit {
                value: 513,
                limit: 512
            })
        );
        let max = [7u8; 512];
        let addr = NetAddrV2::from_bytes(NetworkId(99), &max).unwrap();
        let raw = addr.to_vec();
        assert_eq!(raw.len(), 1 + 3 + 512);
        assert_eq!(decode(&raw, NetAddrV2::parse), Ok(addr));
    }

    /// The entry of the developer reference's `addrv2` hexdump.
    #[test]
    fn addr_v2_entry_vector() {
        let raw = hex("d91f4854fd48040104c0000233b184");
        let entry = decode(&raw, AddrV2Entry::parse_item).unwrap();
        assert_eq!(entry.time, 1_414_012_889);
        assert_eq!(
            entry.services,
            ServiceFlags::WITNESS | ServiceFlags::COMPACT_FILTERS | ServiceFlags::NETWORK_LIMITED
        );
        assert_eq!(entry.addr, NetAddrV2::Ipv4([192, 0, 2, 51]));
        assert_eq!(entry.port, 45444);
        assert_eq!(entry.to_string(), "192.0.2.51:45444");
        assert_eq!(
            entry.to_socket_addr(),
            Some("192.0.2.51:45444".parse().unwrap())
        );
        assert_eq!(entry.to_vec(), raw);
        assert_eq!(entry.item_len(), raw.len());
        let v6 = AddrV2Entry::new(0, ServiceFlags::NONE, Ipv6Addr::LOCALHOST.into(), 8333);
        assert_eq!(v6.to_string(), "[::1]:8333");
        assert_eq!(v6.to_vec().len(), AddrV2Entry::MIN_LEN + 16);
    }

    #[test]
    fn addr_v2_entry_malformed() {
        let cases: &[(&str, DecodeErrorKind, &str, usize)] = &[
            ("d91f48", DecodeErrorKind::Truncated, "time", 0),
            (
                "d91f4854fd0800",
                DecodeErrorKind::NonMinimalCompactSize(8),
                "services",
                4,
            ),
            ("d91f485401", DecodeErrorKind::Truncated, "network_id", 5),
            (
                "d91f485401010401020304b1",
                DecodeErrorKind::Truncated,
                "port",
                11,
            ),
        ];
        for &(h, kind, field, offset) in cases {
            let raw = hex(h);
            let e = decode(&raw, AddrV2Entry::parse_item).unwrap_err();
            assert_eq!(
                (e.kind, e.field, e.offset),
                (kind, Some(field), offset),
                "{h}"
            );
        }
        // Large service bits use the 9-byte form.
        let entry = AddrV2Entry::new(1, ServiceFlags(u64::MAX), NetAddrV2::TorV2([1; 10]), 0);
        let raw = entry.to_vec();
        assert_eq!(raw.len(), 4 + 9 + 1 + 1 + 10 + 2);
        assert_eq!(decode(&raw, AddrV2Entry::parse_item), Ok(entry));
        assert_eq!(AddrV2Entry::MAX_LEN, 531);
    }

    #[test]
    fn network_ids() {
        assert_eq!(NetworkId::IPV4.address_len(), Some(4));
        assert_eq!(NetworkId::IPV6.address_len(), Some(16));
        assert_eq!(NetworkId::TORV2.address_len(), Some(10));
        assert_eq!(NetworkId::TORV3.address_len(), Some(32));
        assert_eq!(NetworkId::I2P.address_len(), Some(32));
        assert_eq!(NetworkId::CJDNS.address_len(), Some(16));
        assert_eq!(NetworkId::YGGDRASIL.address_len(), Some(16));
        assert_eq!(NetworkId(0).address_len(), None);
        assert_eq!(NetworkId(8).name(), None);
        assert_eq!(format!("{:?}", NetworkId::I2P), "NetworkId(5 I2P)");
        assert_eq!(format!("{:?}", NetworkId(200)), "NetworkId(200)");
    }

    proptest! {
        #[test]
        fn service_flags_roundtrip_text(bits: u64) {
            let flags = ServiceFlags(bits);
            prop_assert_eq!(flags.to_string().parse::<ServiceFlags>(), Ok(flags));
        }

        #[test]
        fn addr_entry_roundtrip(entry in strategy::addr_entry()) {
            let raw = entry.to_vec();
            prop_assert_eq!(raw.len(), AddrEntry::LEN);
            prop_assert_eq!(decode(&raw, AddrEntry::parse_item), Ok(entry));
            // Through a socket address and back, for IPv4-mapped and plain IPv6 alike.
            let sock = entry.addr.to_socket_addr();
            prop_assert_eq!(NetAddr::from_socket_addr(entry.addr.services, sock), entry.addr);
        }

        #[test]
        fn addr_v2_entry_roundtrip(parts in strategy::addr_v2_parts()) {
            let entry = parts.entry();
            let raw = entry.to_vec();
            prop_assert_eq!(raw.len(), entry.encoded_len());
            prop_assert!(raw.len() <= AddrV2Entry::MAX_LEN);
            prop_assert_eq!(decode(&raw, AddrV2Entry::parse_item), Ok(entry));
        }

        #[test]
        fn addr_v2_parse_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(entry) = decode(&raw, AddrV2Entry::parse_item) {
                prop_assert_eq!(entry.to_vec(), raw);
            }
        }
    }
}
