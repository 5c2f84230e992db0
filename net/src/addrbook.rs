//! The address book: which nodes we know of, where we heard of them, and how connecting to
//! them went; plus DNS seeding to fill an empty book. A much simplified Bitcoin Core
//! `AddrMan` (`addrman.h`, `addrman.cpp`).
//!
//! ## What is kept
//!
//! One [`AddrInfo`] per [`PeerAddr`] (an IP socket address, a Tor v3 onion service, an I2P
//! destination or a Cjdns address; Tor v2 is obsolete and never stored, BIP 155):
//!
//! | field          | meaning                                                            |
//! |----------------|--------------------------------------------------------------------|
//! | `addr`         | the address, in canonical form (IPv4-mapped IPv6 becomes IPv4)     |
//! | `services`     | the services announced for it, merged (bitwise or), as Core does   |
//! | `last_seen`    | the `time` of its `addr`/`addrv2` entry, Unix seconds              |
//! | `source`       | where we first heard of it: DNS seed, peer gossip, fixed list, us  |
//! | `attempts`     | failed connection attempts since the last success                  |
//! | `last_success` | when a connection last completed its handshake                     |
//! | `last_attempt` | when we last tried to connect                                      |
//!
//! ## Rules (and how they differ from Core)
//!
//! - **Bounded**: at most [`MAX_ADDRBOOK_ENTRIES`] entries (Core's tables hold up to
//!   1024 × 64 "new" + 256 × 64 "tried" = 81,920 slots; we round down to 65,536, about
//!   14 MiB). When full, a new address replaces the *worst* entry: a terrible one first (see
//!   [`AddrInfo::is_terrible`]), then one we never connected to, then one we did; within a
//!   class the oldest-seen. An address that would itself be the worst is not stored, so
//!   gossip cannot push out addresses we connected to (Core's "tried" table protection).
//!   There are no buckets: unlike Core, the book does not limit how many entries one source
//!   network group may fill, so callers should rate-limit gossip (Core: 0.1 `addr` per
//!   second and peer, `MAX_ADDR_RATE_PER_SECOND`).
//! - **Validity**: addresses nobody can connect to are refused (`0.0.0.0/8`,
//!   `255.255.255.255`, `::`, multicast, port 0 except on I2P, whose SAM 3.1 sessions have no
//!   ports, Tor v2 embedded in IPv6 (OnionCat `fd87:d87e:eb43::/48`), Cjdns outside
//!   `fc00::/8`). Loopback and private ranges are *kept* because tests and local networks use
//!   them; [`PeerAddr::is_routable`] applies Core's stricter `CNetAddr::IsRoutable` for callers
//!   that want only public addresses.
//! - **Time**: a `time` more than [`MAX_FUTURE_DRIFT`] ahead of `now`, or before 1973
//!   (Core: `<= 100000000`), is not believed and becomes `now - 5 days`
//!   ([`UNTRUSTED_TIME_PENALTY`]), as `ProcessMessage` does for `addr`; a time slightly ahead
//!   is clamped to `now`. Entries not seen for [`ADDRMAN_HORIZON`] (30 days) are stale: they
//!   are not learned, and [`AddrBook::prune_stale`] (run by every [`AddrBook::learn`]) drops
//!   them, like Core's `IsTerrible`.
//! - **`getaddr` answers**: at most [`MAX_ADDR_TO_SEND`] (1,000) and at most
//!   [`MAX_PCT_ADDR_TO_SEND`] (23) percent of the book, chosen at random, each at most once,
//!   terrible entries left out (Core `AddrMan::GetAddr`).
//! - **Outbound candidates**: [`AddrBook::select`] draws a weighted sample: each failed
//!   attempt since the last success multiplies the weight by 0.66 (Core `GetChance`), a
//!   past success doubles it, and older entries weigh less.
//!
//! ## Persistence
//!
//! [`AddrBook::save`] writes one line per entry (best entries first), atomically (a temporary
//! file in the same directory, then a rename):
//!
//! ```text
//! # btcwire address book v1: addr services last_seen source [attempts last_success last_attempt]
//! 203.0.113.7:8333 0x409 1700000000 peer 0 1700000100 1700000100
//! torv3:<64 hex digits>:8333 0x9 1700000000 seed 2 0 1700000050
//! ```
//!
//! `services` is a [`ServiceFlags`] string (hex written), times are Unix seconds (0 = never).
//! [`AddrBook::load`] skips blank lines and `#` comments, accepts lines with the first four
//! fields only, and skips malformed lines, counting them in [`LoadReport`].
//!
//! ## DNS seeds
//!
//! [`dns_seeds`] lists Bitcoin Core's seed host names (`kernel/chainparams.cpp`, `vSeeds`);
//! [`resolve_seeds`] resolves them concurrently with a timeout each. A seed answers with the
//! A/AAAA records of nodes it crawled; the caller adds them with [`AddrSource::Seed`]. A
//! [`crate::Pool`] does both itself for [`crate::PoolConfig::dns_seeds`], when it starts.
//!
//! ```
//! use std::collections::HashSet;
//! use btcwire::types::{AddrEntry, NetAddr, ServiceFlags};
//! use btcwire_net::Rng;
//! use btcwire_net::addrbook::{AddrBook, AddrSource, PeerAddr};
//!
//! let now = 1_700_000_000;
//! let gossip = [AddrEntry::new(now - 60, NetAddr::from_socket_addr(
//!     ServiceFlags::NETWORK,
//!     "203.0.113.7:8333".parse().unwrap(),
//! ))];
//! let mut book = AddrBook::new();
//! let new = book.learn(gossip.iter().map(PeerAddr::from_addr_entry), AddrSource::Peer, now);
//! assert_eq!(new, 1);
//! let mut rng = Rng::new(1);
//! let candidates = book.select(8, &HashSet::new(), &mut rng);
//! assert_eq!(candidates[0].to_string(), "203.0.113.7:8333");
//! ```

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::fs;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use btcwire::Network;
use btcwire::limits::MAX_ADDR_ENTRIES;
use btcwire::types::{AddrEntry, AddrV2Entry, NetAddr, NetAddrV2, NetworkId, ServiceFlags};

use crate::proto::Rng;

/// Most entries an [`AddrBook`] holds. Bitcoin Core's tables have 1024 × 64 "new" and
/// 256 × 64 "tried" slots (81,920); we keep 65,536, about 14 MiB of heap when full (72-byte
/// entries, a 40-byte hash-map slot and a 44-byte ordering key each).
pub const MAX_ADDRBOOK_ENTRIES: usize = 65_536;

/// Age after which an address is stale: not learned, and pruned (Bitcoin Core
/// `ADDRMAN_HORIZON` = 30 days, `addrman_impl.h`).
pub const ADDRMAN_HORIZON: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// How far in the future an entry's `time` may be before it is not believed (Bitcoin Core
/// `ProcessMessage` for `addr`, and `IsTerrible`: "came in a flying DeLorean", 10 min).
pub const MAX_FUTURE_DRIFT: Duration = Duration::from_secs(10 * 60);

/// Age given to an entry whose `time` is not believed (Bitcoin Core `ProcessMessage` for
/// `addr`: `current_a_time - 5 * 24h`).
pub const UNTRUSTED_TIME_PENALTY: Duration = Duration::from_secs(5 * 24 * 60 * 60);

/// Most addresses in one `getaddr` answer (Bitcoin Core `MAX_ADDR_TO_SEND`,
/// `net_processing.cpp`).
pub const MAX_ADDR_TO_SEND: usize = MAX_ADDR_ENTRIES as usize;

/// Largest share of the book, in percent, given in one `getaddr` answer (Bitcoin Core
/// `MAX_PCT_ADDR_TO_SEND`, `net_processing.cpp`).
pub const MAX_PCT_ADDR_TO_SEND: usize = 23;

/// Failed attempts after which an address we never connected to is terrible (Bitcoin Core
/// `ADDRMAN_RETRIES`, `addrman_impl.h`).
pub const ADDRMAN_RETRIES: u32 = 3;

/// Successive failed attempts after which any address is terrible (Bitcoin Core
/// `ADDRMAN_MAX_FAILURES`, `addrman_impl.h`; Core also asks for them to span a week).
pub const ADDRMAN_MAX_FAILURES: u32 = 10;

/// Earliest believable `time` (Bitcoin Core `ProcessMessage`: `nTime <= 100000000`, 1973).
const MIN_PLAUSIBLE_TIME: u32 = 100_000_000;

/// Interval between automatic prunes in [`AddrBook::learn`], in seconds.
const PRUNE_INTERVAL_SECS: u32 = 60 * 60;

/// Header line of the saved file.
const FILE_HEADER: &str = "# btcwire address book v1: addr services last_seen source \
                           [attempts last_success last_attempt]";

/// The seconds in a duration, as a `u32` Unix-time offset.
const fn secs(d: Duration) -> u32 {
    d.as_secs() as u32
}

/// Returns the current Unix time in seconds, saturating at `u32::MAX` (the year 2106) and
/// 0 before 1970: the `now_unix` argument of the [`AddrBook`] methods.
#[must_use]
pub fn unix_now() -> u32 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

/// The kind of network an address is on, for statistics (Bitcoin Core `Network`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NetworkKind {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
    /// Tor (v3 onion services).
    Tor,
    /// I2P.
    I2p,
    /// Cjdns.
    Cjdns,
}

impl NetworkKind {
    /// Every kind, in order.
    pub const ALL: [Self; 5] = [Self::Ipv4, Self::Ipv6, Self::Tor, Self::I2p, Self::Cjdns];

    /// Returns Bitcoin Core's name for the network (`"ipv4"`, `"ipv6"`, `"onion"`, `"i2p"`,
    /// `"cjdns"`, as in `getpeerinfo`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ipv4 => "ipv4",
            Self::Ipv6 => "ipv6",
            Self::Tor => "onion",
            Self::I2p => "i2p",
            Self::Cjdns => "cjdns",
        }
    }
}

impl fmt::Display for NetworkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An address of a node, owned: what the [`AddrBook`] stores and what outbound connections
/// are made to.
///
/// Text forms ([`Display`](fmt::Display) and [`FromStr`] agree):
///
/// | variant | form                                     |
/// |---------|------------------------------------------|
/// | `Ip`    | `203.0.113.7:8333`, `[2001:db8::1]:8333` |
/// | `TorV3` | `torv3:` + 64 hex digits + `:8333` (the `.onion` name needs SHA3-256) |
/// | `I2p`   | 52 base32 characters + `.b32.i2p:0`      |
/// | `Cjdns` | `cjdns:[fc00::1]:8333`                   |
///
/// ```
/// use btcwire_net::addrbook::{NetworkKind, PeerAddr};
///
/// let addr: PeerAddr = "[::ffff:203.0.113.7]:8333".parse().unwrap();
/// assert_eq!(addr.to_string(), "203.0.113.7:8333"); // canonical: IPv4-mapped becomes IPv4
/// assert_eq!(addr.network_kind(), NetworkKind::Ipv4);
/// let i2p = PeerAddr::I2p { hash: [0xa2; 32], port: 0 };
/// assert_eq!(i2p.to_string().parse::<PeerAddr>(), Ok(i2p));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerAddr {
    /// An IPv4 or IPv6 address and port. [`PeerAddr::canonical`] turns IPv4-mapped IPv6
    /// into IPv4 and clears the IPv6 flow label and scope id.
    Ip(SocketAddr),
    /// A Tor v3 onion service.
    TorV3 {
        /// The service's ed25519 public key.
        key: [u8; 32],
        /// The virtual port.
        port: u16,
    },
    /// An I2P destination.
    I2p {
        /// The SHA-256 hash of the destination (what its `.b32.i2p` name encodes).
        hash: [u8; 32],
        /// The port; 0 for SAM 3.1, which Bitcoin Core uses.
        port: u16,
    },
    /// A Cjdns address.
    Cjdns {
        /// The IPv6-form address, in `fc00::/8`.
        ip: [u8; 16],
        /// The port.
        port: u16,
    },
}

/// OnionCat prefix under which Tor v2 addresses travelled in `addr` (Bitcoin Core
/// `TORV2_IN_IPV6_PREFIX`).
const ONIONCAT_PREFIX: [u8; 6] = [0xfd, 0x87, 0xd8, 0x7e, 0xeb, 0x43];

impl PeerAddr {
    /// Returns the address of `addr` in canonical form (see [`PeerAddr::canonical`]).
    #[must_use]
    pub fn from_socket_addr(addr: SocketAddr) -> Self {
        Self::Ip(addr).canonical()
    }

    /// Returns the address of a 26-byte `net_addr` (as in `version` or `addr`): always an IP
    /// address, IPv4 when IPv4-mapped.
    #[must_use]
    pub fn from_net_addr(addr: &NetAddr) -> Self {
        Self::from_socket_addr(addr.to_socket_addr())
    }

    /// Returns an `addr` entry as the `(address, services, time)` item that
    /// [`AddrBook::learn`] takes.
    #[must_use]
    pub fn from_addr_entry(entry: &AddrEntry) -> (Self, ServiceFlags, u32) {
        (
            Self::from_net_addr(&entry.addr),
            entry.addr.services,
            entry.time,
        )
    }

    /// Returns an `addrv2` entry as the `(address, services, time)` item that
    /// [`AddrBook::learn`] takes.
    ///
    /// # Errors
    /// [`UnsupportedNetwork`] for networks without a variant: Tor v2 (obsolete: BIP 155 says
    /// to ignore it), Yggdrasil and unknown networks.
    pub fn from_addr_v2_entry(
        entry: &AddrV2Entry<'_>,
    ) -> Result<(Self, ServiceFlags, u32), UnsupportedNetwork> {
        let addr = Self::from_addr_v2(&entry.addr, entry.port)?;
        Ok((addr, entry.services, entry.time))
    }

    /// Returns the address of a BIP 155 address and port.
    ///
    /// # Errors
    /// [`UnsupportedNetwork`] for Tor v2, Yggdrasil and unknown networks.
    pub fn from_addr_v2(addr: &NetAddrV2<'_>, port: u16) -> Result<Self, UnsupportedNetwork> {
        Ok(match *addr {
            NetAddrV2::Ipv4(ip) => Self::Ip(SocketAddr::new(Ipv4Addr::from(ip).into(), port)),
            NetAddrV2::Ipv6(ip) => {
                Self::from_socket_addr(SocketAddr::new(Ipv6Addr::from(ip).into(), port))
            }
            NetAddrV2::TorV3(key) => Self::TorV3 { key, port },
            NetAddrV2::I2p(hash) => Self::I2p { hash, port },
            NetAddrV2::Cjdns(ip) => Self::Cjdns { ip, port },
            _ => {
                return Err(UnsupportedNetwork {
                    network_id: addr.network_id(),
                });
            }
        })
    }

    /// Returns the address in the form the book stores: an IPv4-mapped IPv6 address
    /// (`::ffff:a.b.c.d`) becomes IPv4, and an IPv6 flow label and scope id are cleared, so
    /// one node has one key.
    #[must_use]
    pub fn canonical(self) -> Self {
        match self {
            Self::Ip(SocketAddr::V6(v6)) => match v6.ip().to_ipv4_mapped() {
                Some(v4) => Self::Ip(SocketAddr::new(v4.into(), v6.port())),
                None => Self::Ip(SocketAddr::V6(SocketAddrV6::new(*v6.ip(), v6.port(), 0, 0))),
            },
            other => other,
        }
    }

    /// Returns the port.
    #[must_use]
    pub const fn port(&self) -> u16 {
        match *self {
            Self::Ip(addr) => addr.port(),
            Self::TorV3 { port, .. } | Self::I2p { port, .. } | Self::Cjdns { port, .. } => port,
        }
    }

    /// Returns the socket address of an IP address; overlay networks have none (a
    /// connection to them goes through a proxy or a router).
    #[must_use]
    pub const fn to_socket_addr(&self) -> Option<SocketAddr> {
        match *self {
            Self::Ip(addr) => Some(addr),
            _ => None,
        }
    }

    /// Returns the kind of network, for statistics.
    #[must_use]
    pub fn network_kind(&self) -> NetworkKind {
        match self.canonical() {
            Self::Ip(SocketAddr::V4(_)) => NetworkKind::Ipv4,
            Self::Ip(SocketAddr::V6(_)) => NetworkKind::Ipv6,
            Self::TorV3 { .. } => NetworkKind::Tor,
            Self::I2p { .. } => NetworkKind::I2p,
            Self::Cjdns { .. } => NetworkKind::Cjdns,
        }
    }

    /// Returns the BIP 155 network id.
    #[must_use]
    pub fn network_id(&self) -> NetworkId {
        match self.network_kind() {
            NetworkKind::Ipv4 => NetworkId::IPV4,
            NetworkKind::Ipv6 => NetworkId::IPV6,
            NetworkKind::Tor => NetworkId::TORV3,
            NetworkKind::I2p => NetworkId::I2P,
            NetworkKind::Cjdns => NetworkId::CJDNS,
        }
    }

    /// Returns the BIP 155 address (without port); it borrows nothing.
    #[must_use]
    pub fn to_net_addr_v2(&self) -> NetAddrV2<'static> {
        match self.canonical() {
            Self::Ip(SocketAddr::V4(v4)) => NetAddrV2::Ipv4(v4.ip().octets()),
            Self::Ip(SocketAddr::V6(v6)) => NetAddrV2::Ipv6(v6.ip().octets()),
            Self::TorV3 { key, .. } => NetAddrV2::TorV3(key),
            Self::I2p { hash, .. } => NetAddrV2::I2p(hash),
            Self::Cjdns { ip, .. } => NetAddrV2::Cjdns(ip),
        }
    }

    /// Returns the `addrv2` entry for this address, seen at `time` with `services`.
    #[must_use]
    pub fn to_addr_v2_entry(&self, time: u32, services: ServiceFlags) -> AddrV2Entry<'static> {
        AddrV2Entry::new(time, services, self.to_net_addr_v2(), self.port())
    }

    /// Returns the `addr` entry for this address, seen at `time` with `services`; only IP
    /// addresses fit the 16-byte `net_addr` (Bitcoin Core `IsAddrV1Compatible`).
    #[must_use]
    pub fn to_addr_entry(&self, time: u32, services: ServiceFlags) -> Option<AddrEntry> {
        let addr = self.canonical().to_socket_addr()?;
        Some(AddrEntry::new(
            time,
            NetAddr::from_socket_addr(services, addr),
        ))
    }

    /// Returns whether the book stores this address: someone could connect to it. Refused
    /// are port 0 (except on I2P), `0.0.0.0/8`, `255.255.255.255`, `::`, multicast, Tor v2
    /// embedded in IPv6 (OnionCat) and Cjdns addresses outside `fc00::/8`. Loopback and
    /// private addresses are valid (see [`PeerAddr::is_routable`]).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        match self.canonical() {
            Self::Ip(addr) => {
                addr.port() != 0
                    && match addr.ip() {
                        IpAddr::V4(ip) => {
                            ip.octets()[0] != 0 && !ip.is_broadcast() && !ip.is_multicast()
                        }
                        IpAddr::V6(ip) => {
                            !ip.is_unspecified()
                                && !ip.is_multicast()
                                && !ip.octets().starts_with(&ONIONCAT_PREFIX)
                        }
                    }
            }
            Self::TorV3 { port, .. } => port != 0,
            Self::I2p { .. } => true,
            Self::Cjdns { ip, port } => ip[0] == 0xfc && port != 0,
        }
    }

    /// Returns whether the address is valid and public (Bitcoin Core
    /// `CNetAddr::IsRoutable`): no loopback, private (RFC 1918, RFC 4193), shared (RFC 6598),
    /// benchmark (RFC 2544), link-local (RFC 3927, RFC 4862), documentation (RFC 5737,
    /// RFC 3849) or ORCHID (RFC 4843, RFC 7343) address. Tor, I2P and Cjdns addresses are
    /// routable.
    #[must_use]
    pub fn is_routable(&self) -> bool {
        if !self.is_valid() {
            return false;
        }
        let Some(addr) = self.canonical().to_socket_addr() else {
            return true;
        };
        match addr.ip() {
            IpAddr::V4(ip) => {
                let [a, b, c, _] = ip.octets();
                !(ip.is_loopback()
                    || ip.is_private()
                    || ip.is_link_local()
                    || (a == 198 && (b & 0xfe) == 18)
                    || (a == 100 && (b & 0xc0) == 64)
                    || (a, b, c) == (192, 0, 2)
                    || (a, b, c) == (198, 51, 100)
                    || (a, b, c) == (203, 0, 113))
            }
            IpAddr::V6(ip) => {
                let s = ip.segments();
                !(ip.is_loopback()
                    || (s[0] & 0xfe00) == 0xfc00
                    || (s[0] & 0xffc0) == 0xfe80
                    || (s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0010)
                    || (s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0020)
                    || (s[0], s[1]) == (0x2001, 0x0db8))
            }
        }
    }
}

/// Converts to [`PeerAddr::Ip`] in canonical form.
impl From<SocketAddr> for PeerAddr {
    fn from(addr: SocketAddr) -> Self {
        Self::from_socket_addr(addr)
    }
}

impl From<&NetAddr> for PeerAddr {
    fn from(addr: &NetAddr) -> Self {
        Self::from_net_addr(addr)
    }
}

impl From<&AddrEntry> for PeerAddr {
    fn from(entry: &AddrEntry) -> Self {
        Self::from_net_addr(&entry.addr)
    }
}

impl From<AddrEntry> for PeerAddr {
    fn from(entry: AddrEntry) -> Self {
        Self::from_net_addr(&entry.addr)
    }
}

impl TryFrom<&AddrV2Entry<'_>> for PeerAddr {
    type Error = UnsupportedNetwork;
    fn try_from(entry: &AddrV2Entry<'_>) -> Result<Self, Self::Error> {
        Self::from_addr_v2(&entry.addr, entry.port)
    }
}

impl TryFrom<AddrV2Entry<'_>> for PeerAddr {
    type Error = UnsupportedNetwork;
    fn try_from(entry: AddrV2Entry<'_>) -> Result<Self, Self::Error> {
        Self::from_addr_v2(&entry.addr, entry.port)
    }
}

/// Writes the forms in the table of [`PeerAddr`].
impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.canonical() {
            Self::Ip(addr) => write!(f, "{addr}"),
            Self::TorV3 { key, port } => {
                f.write_str("torv3:")?;
                key.iter().try_for_each(|b| write!(f, "{b:02x}"))?;
                write!(f, ":{port}")
            }
            Self::I2p { hash, port } => {
                write_base32(f, &hash)?;
                write!(f, ".b32.i2p:{port}")
            }
            Self::Cjdns { ip, port } => write!(f, "cjdns:[{}]:{port}", Ipv6Addr::from(ip)),
        }
    }
}

/// A string that is none of the forms in the table of [`PeerAddr`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid peer address: expected ip:port, [ipv6]:port, torv3:<64 hex>:port, \
     <52 base32>.b32.i2p:port or cjdns:[fc..]:port"
)]
pub struct ParsePeerAddrError;

/// Reads the forms in the table of [`PeerAddr`]; an IP address comes out canonical. Hex and
/// base32 may be in either case.
impl FromStr for PeerAddr {
    type Err = ParsePeerAddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = strip_prefix_ignore_case(s, "torv3:") {
            let (hex, port) = rest.rsplit_once(':').ok_or(ParsePeerAddrError)?;
            let key = decode_hex32(hex).ok_or(ParsePeerAddrError)?;
            return Ok(Self::TorV3 {
                key,
                port: parse_port(port)?,
            });
        }
        if let Some(rest) = strip_prefix_ignore_case(s, "cjdns:") {
            let addr: SocketAddrV6 = rest.parse().map_err(|_| ParsePeerAddrError)?;
            let ip = addr.ip().octets();
            if ip[0] != 0xfc || addr.scope_id() != 0 {
                return Err(ParsePeerAddrError);
            }
            return Ok(Self::Cjdns {
                ip,
                port: addr.port(),
            });
        }
        if let Some((host, port)) = s.rsplit_once(':') {
            if let Some(name) = strip_suffix_ignore_case(host, ".b32.i2p") {
                let hash = decode_base32_32(name).ok_or(ParsePeerAddrError)?;
                return Ok(Self::I2p {
                    hash,
                    port: parse_port(port)?,
                });
            }
        }
        s.parse::<SocketAddr>()
            .map(Self::from_socket_addr)
            .map_err(|_| ParsePeerAddrError)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

fn strip_suffix_ignore_case<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let cut = s.len().checked_sub(suffix.len())?;
    let tail = s.get(cut..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..cut])
}

/// Reads a decimal port, digits only (`u16::from_str` would also take a `+`).
fn parse_port(s: &str) -> Result<u16, ParsePeerAddrError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParsePeerAddrError);
    }
    s.parse().map_err(|_| ParsePeerAddrError)
}

fn decode_hex32(s: &str) -> Option<[u8; 32]> {
    let raw = s.as_bytes();
    if raw.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(raw.chunks_exact(2)) {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(pair[1]).to_digit(16)?;
        *byte = (hi << 4 | lo) as u8;
    }
    Some(out)
}

/// RFC 4648 base32 alphabet, lowercase, as Tor and I2P names use.
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Writes `bytes` in base32 without padding.
fn write_base32(f: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        acc = (acc << 8 | u32::from(b)) & 0xfff;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            f.write_char(char::from(BASE32[((acc >> bits) & 31) as usize]))?;
        }
    }
    if bits > 0 {
        f.write_char(char::from(BASE32[((acc << (5 - bits)) & 31) as usize]))?;
    }
    Ok(())
}

/// Reads the 52 base32 characters of a 32-byte value; the 4 unused trailing bits must be
/// zero, so each value has one spelling.
fn decode_base32_32(s: &str) -> Option<[u8; 32]> {
    if s.len() != 52 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut n = 0;
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in s.bytes() {
        let c = c.to_ascii_lowercase();
        let v = BASE32.iter().position(|&a| a == c)? as u32;
        acc = (acc << 5 | v) & 0xfff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    (n == 32 && acc & ((1 << bits) - 1) == 0).then_some(out)
}

/// An `addrv2` address of a network the book does not store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unsupported address network {} ({})", .network_id.0, .network_id.name().unwrap_or("unknown"))]
pub struct UnsupportedNetwork {
    /// The BIP 155 network id.
    pub network_id: NetworkId,
}

/// Where the book first heard of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AddrSource {
    /// A DNS seed's answer.
    Seed,
    /// A peer's `addr` or `addrv2` gossip.
    Peer,
    /// A hard-coded list of fixed seeds (Bitcoin Core `vFixedSeeds`).
    Fixed,
    /// This node itself: the user (command line, configuration) or our own connections.
    Manual,
}

impl AddrSource {
    /// Returns the name used in the saved file: `seed`, `peer`, `fixed` or `manual`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::Peer => "peer",
            Self::Fixed => "fixed",
            Self::Manual => "manual",
        }
    }
}

impl fmt::Display for AddrSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not an [`AddrSource`] name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid address source: expected seed, peer, fixed or manual")]
pub struct ParseAddrSourceError;

/// Reads the names of [`AddrSource::as_str`]; `self` is taken for `manual`.
impl FromStr for AddrSource {
    type Err = ParseAddrSourceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "seed" => Ok(Self::Seed),
            "peer" => Ok(Self::Peer),
            "fixed" => Ok(Self::Fixed),
            "manual" | "self" => Ok(Self::Manual),
            _ => Err(ParseAddrSourceError),
        }
    }
}

/// What the book knows about one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddrInfo {
    /// The address, canonical.
    pub addr: PeerAddr,
    /// The services last announced, merged (`|`) over announcements.
    pub services: ServiceFlags,
    /// When the node was last seen (its newest `addr` entry time), Unix seconds.
    pub last_seen: u32,
    /// Where we first heard of it.
    pub source: AddrSource,
    /// Failed connection attempts since the last success.
    pub attempts: u32,
    /// When a connection to it last succeeded, Unix seconds.
    pub last_success: Option<u32>,
    /// When we last tried to connect, Unix seconds.
    pub last_attempt: Option<u32>,
}

impl AddrInfo {
    /// Returns whether the entry is not worth sharing or keeping: never connected and
    /// [`ADDRMAN_RETRIES`] failures, or [`ADDRMAN_MAX_FAILURES`] failures in a row (Bitcoin
    /// Core `AddrInfo::IsTerrible`, without its time conditions).
    #[must_use]
    pub const fn is_terrible(&self) -> bool {
        (self.last_success.is_none() && self.attempts >= ADDRMAN_RETRIES)
            || self.attempts >= ADDRMAN_MAX_FAILURES
    }

    /// Returns whether the entry is stale at `now_unix`: not seen for [`ADDRMAN_HORIZON`].
    #[must_use]
    pub const fn is_stale(&self, now_unix: u32) -> bool {
        is_stale(self.last_seen, now_unix)
    }

    fn tier(&self) -> Tier {
        if self.is_terrible() {
            Tier::Terrible
        } else if self.last_success.is_none() {
            Tier::Untried
        } else {
            Tier::Tried
        }
    }

    /// The key that orders entries for eviction: worst first.
    fn rank_key(&self) -> RankKey {
        (self.tier(), self.last_seen, self.addr)
    }
}

const fn is_stale(last_seen: u32, now_unix: u32) -> bool {
    last_seen < now_unix.saturating_sub(secs(ADDRMAN_HORIZON))
}

/// Eviction classes, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tier {
    Terrible,
    Untried,
    Tried,
}

type RankKey = (Tier, u32, PeerAddr);

/// What [`AddrBook::load_with_report`] found in a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadReport {
    /// Lines that became entries (or were merged into one).
    pub loaded: usize,
    /// Lines that did not parse, skipped.
    pub malformed: usize,
    /// The first malformed line's number, from 1.
    pub first_malformed_line: Option<usize>,
    /// Lines that parsed but were not stored: an invalid address, or a full book.
    pub rejected: usize,
}

/// A bounded set of known node addresses: learns from gossip and seeds, answers `getaddr`,
/// picks outbound candidates, and persists to a file. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct AddrBook {
    /// The entries, dense, for uniform random picks.
    entries: Vec<AddrInfo>,
    /// Address to position in `entries`.
    index: HashMap<PeerAddr, usize>,
    /// Every entry's [`RankKey`]: the first is the next to evict.
    ranks: BTreeSet<RankKey>,
    /// Most entries held.
    max_entries: usize,
    /// `now_unix` of the last automatic prune.
    last_prune: u32,
}

impl Default for AddrBook {
    fn default() -> Self {
        Self::new()
    }
}

impl AddrBook {
    /// Returns an empty book holding at most [`MAX_ADDRBOOK_ENTRIES`].
    #[must_use]
    pub fn new() -> Self {
        Self::with_max_entries(MAX_ADDRBOOK_ENTRIES)
    }

    /// Returns an empty book holding at most `max_entries` (at least 1). Nothing is
    /// allocated until addresses arrive.
    #[must_use]
    pub fn with_max_entries(max_entries: usize) -> Self {
        Self {
            entries: Vec::new(),
            index: HashMap::new(),
            ranks: BTreeSet::new(),
            max_entries: max_entries.max(1),
            last_prune: 0,
        }
    }

    /// Returns the most entries the book holds.
    #[must_use]
    pub const fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// Returns the number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Returns whether the book is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Returns an iterator over the entries, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &AddrInfo> {
        self.entries.iter()
    }

    /// Returns the entry of `addr` (taken in canonical form), if known.
    #[must_use]
    pub fn get(&self, addr: &PeerAddr) -> Option<&AddrInfo> {
        self.index.get(&addr.canonical()).map(|&i| &self.entries[i])
    }

    /// Returns whether `addr` (taken in canonical form) is known.
    #[must_use]
    pub fn contains(&self, addr: &PeerAddr) -> bool {
        self.index.contains_key(&addr.canonical())
    }

    /// Returns how many entries are on each network, in [`NetworkKind::ALL`] order.
    #[must_use]
    pub fn count_by_network(&self) -> [(NetworkKind, usize); 5] {
        let mut counts = NetworkKind::ALL.map(|kind| (kind, 0));
        for info in &self.entries {
            let kind = info.addr.network_kind();
            if let Some(slot) = counts.iter_mut().find(|(k, _)| *k == kind) {
                slot.1 += 1;
            }
        }
        counts
    }

    /// Learns addresses, returning how many were new.
    ///
    /// Each item is `(address, services, time)`, as [`PeerAddr::from_addr_entry`] and
    /// [`PeerAddr::from_addr_v2_entry`] produce. Invalid addresses ([`PeerAddr::is_valid`])
    /// are skipped. A `time` more than [`MAX_FUTURE_DRIFT`] ahead of `now_unix` (or before
    /// 1973) becomes `now_unix - 5 days`; a time slightly ahead becomes `now_unix`; stale
    /// times (older than [`ADDRMAN_HORIZON`]) are skipped. A known address gets the union
    /// of the services and the newer time; its source stays. A new address in a full book
    /// replaces the worst entry, unless it would itself be the worst (module docs).
    ///
    /// Stale entries are pruned first, at most once an hour.
    pub fn learn<I>(&mut self, entries: I, source: AddrSource, now_unix: u32) -> usize
    where
        I: IntoIterator<Item = (PeerAddr, ServiceFlags, u32)>,
    {
        if now_unix.saturating_sub(self.last_prune) >= PRUNE_INTERVAL_SECS
            || now_unix < self.last_prune
        {
            self.prune_stale(now_unix);
        }
        let mut new = 0;
        for (addr, services, time) in entries {
            let addr = addr.canonical();
            if !addr.is_valid() {
                continue;
            }
            let time = believable_time(time, now_unix);
            if is_stale(time, now_unix) {
                continue;
            }
            if let Some(&i) = self.index.get(&addr) {
                let info = self.entries[i];
                self.update_at(i, |e| {
                    e.services = info.services | services;
                    e.last_seen = info.last_seen.max(time);
                });
                continue;
            }
            let info = AddrInfo {
                addr,
                services,
                last_seen: time,
                source,
                attempts: 0,
                last_success: None,
                last_attempt: None,
            };
            if self.insert(info) {
                new += 1;
            }
        }
        new
    }

    /// Removes entries not seen for [`ADDRMAN_HORIZON`] before `now_unix`, returning how
    /// many. An entry we connected to within the horizon is kept: a success updates
    /// `last_seen`.
    pub fn prune_stale(&mut self, now_unix: u32) -> usize {
        self.last_prune = now_unix;
        let before = self.entries.len();
        // Downwards: `swap_remove` moves the last entry, already checked, into the hole.
        for i in (0..self.entries.len()).rev() {
            if self.entries[i].is_stale(now_unix) {
                self.remove_at(i);
            }
        }
        before - self.entries.len()
    }

    /// Removes `addr` (taken in canonical form), returning its entry.
    pub fn remove(&mut self, addr: &PeerAddr) -> Option<AddrInfo> {
        let i = *self.index.get(&addr.canonical())?;
        Some(self.remove_at(i))
    }

    /// Returns addresses for a `getaddr` answer: at most [`MAX_ADDR_TO_SEND`] and at most
    /// [`MAX_PCT_ADDR_TO_SEND`] percent of the book, chosen uniformly at random, each once,
    /// without terrible entries (which may make the answer shorter). Items are
    /// `(address, services, last_seen)`.
    ///
    /// Bitcoin Core answers `getaddr` once per connection, and only to inbound peers (a
    /// fingerprinting defence; `m_getaddr_recvd`); the caller enforces that rule, and should
    /// reuse one answer for a while (Core caches it for about 24 hours per network,
    /// `m_addr_response_caches`) so repeated connections cannot scrape the whole book.
    /// Drop addresses of networks the peer cannot read: `addr` carries IP addresses only
    /// ([`PeerAddr::to_addr_entry`]). Costs O(len) time and 8 bytes of scratch memory per
    /// entry.
    #[must_use]
    pub fn answer_getaddr(&self, rng: &mut Rng) -> Vec<(PeerAddr, ServiceFlags, u32)> {
        let n = self.entries.len();
        let want = (n * MAX_PCT_ADDR_TO_SEND / 100).min(MAX_ADDR_TO_SEND);
        let mut out = Vec::with_capacity(want);
        if want == 0 {
            return out;
        }
        // A partial Fisher-Yates shuffle of the positions: uniform, each at most once.
        let mut order: Vec<usize> = (0..n).collect();
        for i in 0..n {
            if out.len() == want {
                break;
            }
            let j = i + below(rng, n - i);
            order.swap(i, j);
            let info = &self.entries[order[i]];
            if !info.is_terrible() {
                out.push((info.addr, info.services, info.last_seen));
            }
        }
        out
    }

    /// Returns up to `n` distinct addresses to connect to, none in `exclude` (taken in
    /// canonical form, e.g. peers already connected or being dialled), best candidates
    /// first.
    ///
    /// A weighted random sample: every failed attempt since the last success multiplies an
    /// entry's weight by 0.66, up to 8 times (Bitcoin Core `AddrInfo::GetChance`); a terrible
    /// entry weighs 1/100; a past success doubles the weight; and each day an entry is older
    /// than the newest entry divides it by one more (`1 / (1 + days)`). The caller should
    /// [`mark_attempt`](Self::mark_attempt) what it dials. Costs O(len) time and 16 bytes
    /// of scratch memory per entry.
    #[must_use]
    pub fn select(&self, n: usize, exclude: &HashSet<PeerAddr>, rng: &mut Rng) -> Vec<PeerAddr> {
        if n == 0 {
            return Vec::new();
        }
        // Entries are canonical: compare with canonical exclusions (copied only if needed).
        let canonical: HashSet<PeerAddr>;
        let exclude = if exclude.iter().all(|a| *a == a.canonical()) {
            exclude
        } else {
            canonical = exclude.iter().map(|a| a.canonical()).collect();
            &canonical
        };
        let newest = self.entries.iter().map(|e| e.last_seen).max().unwrap_or(0);
        // Efraimidis-Spirakis: key = ln(u) / weight, the `n` largest keys are a weighted
        // sample without replacement.
        let mut keyed: Vec<(f64, usize)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !exclude.contains(&e.addr))
            .map(|(i, e)| (unit_open(rng).ln() / weight(e, newest), i))
            .collect();
        let by_key_desc = |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0);
        if keyed.len() > n {
            keyed.select_nth_unstable_by(n - 1, by_key_desc);
            keyed.truncate(n);
        }
        keyed.sort_unstable_by(by_key_desc);
        keyed
            .into_iter()
            .map(|(_, i)| self.entries[i].addr)
            .collect()
    }

    /// Records that we started connecting to `addr` at `now_unix`; returns whether it is
    /// known.
    pub fn mark_attempt(&mut self, addr: &PeerAddr, now_unix: u32) -> bool {
        self.update(addr, |e| e.last_attempt = Some(now_unix))
    }

    /// Records that a connection to `addr` completed its handshake at `now_unix`: the
    /// failure count resets and the entry counts as seen now (Bitcoin Core `AddrMan::Good`);
    /// returns whether it is known. Calling this again while connected keeps it fresh.
    pub fn mark_success(&mut self, addr: &PeerAddr, now_unix: u32) -> bool {
        self.update(addr, |e| {
            e.attempts = 0;
            e.last_success = Some(now_unix);
            e.last_attempt = Some(e.last_attempt.map_or(now_unix, |t| t.max(now_unix)));
            e.last_seen = e.last_seen.max(now_unix);
        })
    }

    /// Records that connecting to `addr` failed at `now_unix` (one more failed attempt);
    /// returns whether it is known.
    pub fn mark_failed(&mut self, addr: &PeerAddr, now_unix: u32) -> bool {
        self.update(addr, |e| {
            e.attempts = e.attempts.saturating_add(1);
            e.last_attempt = Some(now_unix);
        })
    }

    /// Writes the book to `path` atomically: to `<path>.tmp` in the same directory, synced,
    /// then renamed over `path`.
    ///
    /// # Errors
    /// Any I/O error; the temporary file is removed and `path` is left as it was.
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        let tmp = temp_path(path);
        let result = self.write_file(&tmp).and_then(|()| fs::rename(&tmp, path));
        if result.is_err() {
            // Best effort: the error that matters is the one returned.
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Writes the book to a new file at `path` and syncs it to disk.
    fn write_file(&self, path: &Path) -> io::Result<()> {
        let mut out = BufWriter::new(fs::File::create(path)?);
        self.write_to(&mut out)?;
        let file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()
    }

    /// Writes the book in the line format of the [module docs](self), best entries first.
    ///
    /// # Errors
    /// Any error of `out`.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(out, "{FILE_HEADER}")?;
        for &(_, _, addr) in self.ranks.iter().rev() {
            let e = &self.entries[self.index[&addr]];
            writeln!(
                out,
                "{} {:#x} {} {} {} {} {}",
                e.addr,
                e.services.bits(),
                e.last_seen,
                e.source,
                e.attempts,
                e.last_success.unwrap_or(0),
                e.last_attempt.unwrap_or(0),
            )?;
        }
        Ok(())
    }

    /// Reads a book saved by [`save`](Self::save); malformed lines are skipped and logged
    /// (a `tracing` warning with their count).
    ///
    /// # Errors
    /// Errors opening or reading the file (a missing file is [`io::ErrorKind::NotFound`]).
    pub fn load(path: impl AsRef<Path>) -> io::Result<Self> {
        let path = path.as_ref();
        let (book, report) = Self::load_with_report(path)?;
        if report.malformed > 0 {
            tracing::warn!(
                path = %path.display(),
                malformed = report.malformed,
                first = report.first_malformed_line,
                "skipped malformed address book lines"
            );
        }
        Ok(book)
    }

    /// Reads a book saved by [`save`](Self::save), reporting what was skipped.
    ///
    /// # Errors
    /// Errors opening or reading the file.
    pub fn load_with_report(path: impl AsRef<Path>) -> io::Result<(Self, LoadReport)> {
        let file = fs::File::open(path)?;
        Self::read_from(BufReader::new(file))
    }

    /// Reads the line format of the [module docs](self) into a book of
    /// [`MAX_ADDRBOOK_ENTRIES`]. Lines with invalid UTF-8 are malformed; stale entries are
    /// kept until the next [`prune_stale`](Self::prune_stale).
    ///
    /// # Errors
    /// Errors of `reader`.
    pub fn read_from(reader: impl BufRead) -> io::Result<(Self, LoadReport)> {
        let mut book = Self::new();
        let mut report = LoadReport::default();
        for (n, line) in reader.split(b'\n').enumerate() {
            let line = line?;
            let text = std::str::from_utf8(&line).map(str::trim);
            match text {
                Ok(t) if t.is_empty() || t.starts_with('#') => {}
                Ok(t) => match parse_line(t) {
                    Some(info) if info.addr.is_valid() => {
                        if book.load_entry(info) {
                            report.loaded += 1;
                        } else {
                            report.rejected += 1;
                        }
                    }
                    Some(_) => report.rejected += 1,
                    None => report.malformed(n + 1),
                },
                Err(_) => report.malformed(n + 1),
            }
        }
        Ok((book, report))
    }

    /// Adds or merges a loaded entry; returns whether it is in the book.
    fn load_entry(&mut self, info: AddrInfo) -> bool {
        if let Some(&i) = self.index.get(&info.addr) {
            self.update_at(i, |e| {
                e.services |= info.services;
                e.last_seen = e.last_seen.max(info.last_seen);
            });
            return true;
        }
        self.insert(info)
    }

    /// Inserts a new entry, evicting the worst when full; returns whether it was stored.
    fn insert(&mut self, info: AddrInfo) -> bool {
        if self.entries.len() >= self.max_entries {
            let Some(&worst) = self.ranks.first() else {
                return false;
            };
            // Storing an entry that is itself the worst would only evict a better one.
            if info.rank_key() <= worst {
                return false;
            }
            let i = self.index[&worst.2];
            self.remove_at(i);
        }
        self.ranks.insert(info.rank_key());
        self.index.insert(info.addr, self.entries.len());
        self.entries.push(info);
        true
    }

    /// Removes the entry at position `i`, keeping the index in step.
    fn remove_at(&mut self, i: usize) -> AddrInfo {
        let info = self.entries.swap_remove(i);
        self.index.remove(&info.addr);
        self.ranks.remove(&info.rank_key());
        if let Some(moved) = self.entries.get(i) {
            self.index.insert(moved.addr, i);
        }
        info
    }

    /// Changes the entry of `addr`; returns whether it is known.
    fn update(&mut self, addr: &PeerAddr, f: impl FnOnce(&mut AddrInfo)) -> bool {
        match self.index.get(&addr.canonical()) {
            Some(&i) => {
                self.update_at(i, f);
                true
            }
            None => false,
        }
    }

    /// Changes the entry at position `i`, keeping its rank key in step.
    fn update_at(&mut self, i: usize, f: impl FnOnce(&mut AddrInfo)) {
        let entry = &mut self.entries[i];
        self.ranks.remove(&entry.rank_key());
        f(entry);
        self.ranks.insert(entry.rank_key());
    }
}

impl LoadReport {
    fn malformed(&mut self, line: usize) {
        self.malformed += 1;
        self.first_malformed_line.get_or_insert(line);
    }
}

/// Parses `addr services last_seen source [attempts last_success last_attempt]`.
fn parse_line(line: &str) -> Option<AddrInfo> {
    let fields: Vec<&str> = line.split_ascii_whitespace().collect();
    let (addr, services, last_seen, source, rest) = match fields.as_slice() {
        [a, s, t, src] => (a, s, t, src, None),
        [a, s, t, src, n, ok, tried] => (a, s, t, src, Some((n, ok, tried))),
        _ => return None,
    };
    let (attempts, last_success, last_attempt) = match rest {
        None => (0, 0, 0),
        Some((n, ok, tried)) => (n.parse().ok()?, ok.parse().ok()?, tried.parse().ok()?),
    };
    let never = |t: u32| (t != 0).then_some(t);
    Some(AddrInfo {
        addr: addr.parse().ok()?,
        services: services.parse().ok()?,
        last_seen: last_seen.parse().ok()?,
        source: source.parse().ok()?,
        attempts,
        last_success: never(last_success),
        last_attempt: never(last_attempt),
    })
}

/// Returns `<path>.tmp`, next to `path` so the rename stays on one file system.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Applies the time rules of [`AddrBook::learn`].
fn believable_time(time: u32, now_unix: u32) -> u32 {
    if time <= MIN_PLAUSIBLE_TIME || time > now_unix.saturating_add(secs(MAX_FUTURE_DRIFT)) {
        now_unix.saturating_sub(secs(UNTRUSTED_TIME_PENALTY))
    } else {
        time.min(now_unix)
    }
}

/// Returns a uniform integer below `n` (`n > 0`), by multiply-shift (Lemire).
fn below(rng: &mut Rng, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// Returns a uniform float in (0, 1], from 53 random bits.
fn unit_open(rng: &mut Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
}

/// The selection weight of [`AddrBook::select`].
fn weight(e: &AddrInfo, newest: u32) -> f64 {
    let mut w = 0.66f64.powi(e.attempts.min(8) as i32);
    if e.is_terrible() {
        w *= 0.01;
    }
    if e.last_success.is_some() {
        w *= 2.0;
    }
    let age_days = f64::from(newest.saturating_sub(e.last_seen)) / 86_400.0;
    w / (1.0 + age_days)
}

/// Returns the DNS seeds of `network`: Bitcoin Core's `vSeeds` (`kernel/chainparams.cpp`,
/// v29), without the trailing dots. Regtest (and any custom network) has none.
#[must_use]
pub fn dns_seeds(network: Network) -> &'static [&'static str] {
    match network {
        Network::Mainnet => &[
            "seed.bitcoin.sipa.be",
            "dnsseed.bluematt.me",
            "seed.bitcoin.jonasschnelli.ch",
            "seed.btc.petertodd.net",
            "seed.bitcoin.sprovoost.nl",
            "dnsseed.emzy.de",
            "seed.bitcoin.wiz.biz",
            "seed.mainnet.achownodes.xyz",
        ],
        Network::Testnet3 => &[
            "testnet-seed.bitcoin.jonasschnelli.ch",
            "seed.tbtc.petertodd.net",
            "seed.testnet.bitcoin.sprovoost.nl",
            "testnet-seed.bluematt.me",
            "seed.testnet.achownodes.xyz",
        ],
        Network::Testnet4 => &[
            "seed.testnet4.bitcoin.sprovoost.nl",
            "seed.testnet4.wiz.biz",
        ],
        Network::Signet => &[
            "seed.signet.bitcoin.sprovoost.nl",
            "seed.signet.achownodes.xyz",
        ],
        _ => &[],
    }
}

/// Resolves `seeds` (host names or IP literals) concurrently, each bounded by `timeout`,
/// and returns their addresses with `port`, in seed order, without duplicates. A seed that
/// fails or times out is logged (`tracing` debug) and skipped.
///
/// Resolution uses the system resolver (`tokio::net::lookup_host`, `getaddrinfo` on a
/// blocking thread); a timed-out lookup is abandoned, not cancelled, so its thread may live
/// on until the resolver gives up. Must run inside a tokio runtime.
pub async fn resolve_seeds(seeds: &[&str], port: u16, timeout: Duration) -> Vec<SocketAddr> {
    let mut tasks = tokio::task::JoinSet::new();
    for (i, &seed) in seeds.iter().enumerate() {
        let host = seed.to_owned();
        tasks.spawn(async move {
            let lookup = tokio::net::lookup_host((host.clone(), port));
            let found = match tokio::time::timeout(timeout, lookup).await {
                Ok(Ok(addrs)) => addrs.collect(),
                Ok(Err(error)) => {
                    tracing::debug!(seed = %host, %error, "DNS seed lookup failed");
                    Vec::new()
                }
                Err(_) => {
                    tracing::debug!(seed = %host, ?timeout, "DNS seed lookup timed out");
                    Vec::new()
                }
            };
            (i, found)
        });
    }
    let mut answers: Vec<(usize, Vec<SocketAddr>)> = Vec::with_capacity(seeds.len());
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(answer) => answers.push(answer),
            Err(error) => tracing::debug!(%error, "DNS seed task failed"),
        }
    }
    answers.sort_unstable_by_key(|(i, _)| *i);
    let mut seen = HashSet::new();
    answers
        .into_iter()
        .flat_map(|(_, addrs)| addrs)
        .filter(|addr| seen.insert(*addr))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::sync::atomic::{AtomicU32, Ordering};

    use btcwire::Encode;
    use btcwire::msg::{Addr, AddrV2, Payload};
    use proptest::prelude::*;

    use super::*;
    use crate::proto::Rng;

    const NOW: u32 = 1_700_000_000;
    const DAY: u32 = 24 * 60 * 60;

    fn base32_string(bytes: &[u8]) -> String {
        let mut s = String::new();
        write_base32(&mut s, bytes).unwrap();
        s
    }

    fn ip(s: &str) -> PeerAddr {
        s.parse().unwrap()
    }

    /// The `i`-th distinct public IPv4 address, port 8333.
    fn nth(i: u32) -> PeerAddr {
        let [a, b, c, d] = (0x0b00_0000 + i).to_be_bytes();
        PeerAddr::Ip(SocketAddr::new(Ipv4Addr::new(a, b, c, d).into(), 8333))
    }

    fn items(
        addrs: impl IntoIterator<Item = PeerAddr>,
        time: u32,
    ) -> Vec<(PeerAddr, ServiceFlags, u32)> {
        addrs
            .into_iter()
            .map(|a| (a, ServiceFlags::NETWORK, time))
            .collect()
    }

    fn book_of(n: u32) -> AddrBook {
        let mut book = AddrBook::new();
        assert_eq!(
            book.learn(items((0..n).map(nth), NOW), AddrSource::Peer, NOW),
            n as usize
        );
        book
    }

    /// Every invariant between the three structures.
    fn check_consistent(book: &AddrBook) {
        assert_eq!(book.entries.len(), book.index.len());
        assert_eq!(book.entries.len(), book.ranks.len());
        assert!(book.entries.len() <= book.max_entries);
        for (i, e) in book.entries.iter().enumerate() {
            assert_eq!(book.index[&e.addr], i);
            assert!(book.ranks.contains(&e.rank_key()));
            assert_eq!(e.addr, e.addr.canonical());
        }
    }

    fn tor() -> PeerAddr {
        PeerAddr::TorV3 {
            key: core::array::from_fn(|i| i as u8 * 7),
            port: 8333,
        }
    }

    fn i2p() -> PeerAddr {
        PeerAddr::I2p {
            hash: core::array::from_fn(|i| 255 - i as u8),
            port: 0,
        }
    }

    fn cjdns() -> PeerAddr {
        let mut ip = [0u8; 16];
        ip[0] = 0xfc;
        ip[15] = 1;
        PeerAddr::Cjdns { ip, port: 8333 }
    }

    /// A unique path under the system temp dir, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> Self {
            static COUNTER: AtomicU32 = AtomicU32::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let dir = std::env::temp_dir().join(format!(
                "btcwire-addrbook-{tag}-{}-{nanos}-{n}",
                std::process::id()
            ));
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn display_and_parse_round_trip() {
        let cases = [
            ("1.2.3.4:8333", NetworkKind::Ipv4),
            ("[::1]:8333", NetworkKind::Ipv6),
            ("[2001:db8::1]:18333", NetworkKind::Ipv6),
            ("cjdns:[fc00::1]:8333", NetworkKind::Cjdns),
            (
                "torv3:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f:8333",
                NetworkKind::Tor,
            ),
        ];
        for (text, kind) in cases {
            let addr: PeerAddr = text.parse().unwrap();
            assert_eq!(addr.to_string(), text);
            assert_eq!(addr.network_kind(), kind, "{text}");
        }
        for addr in [tor(), i2p(), cjdns(), ip("127.0.0.1:18444")] {
            assert_eq!(addr.to_string().parse::<PeerAddr>(), Ok(addr));
        }
        let name = i2p().to_string();
        assert!(name.ends_with(".b32.i2p:0"), "{name}");
        assert_eq!(name.len(), 52 + ".b32.i2p:0".len());
        assert_eq!(name.to_uppercase().parse::<PeerAddr>(), Ok(i2p()));
        assert_eq!(
            tor().to_string().to_uppercase().parse::<PeerAddr>(),
            Ok(tor())
        );
        assert_eq!(NetworkKind::Tor.to_string(), "onion");
    }

    #[test]
    fn parse_canonicalizes_ip() {
        assert_eq!(ip("[::ffff:1.2.3.4]:8333"), ip("1.2.3.4:8333"));
        let scoped = SocketAddrV6::new("fe80::1".parse().unwrap(), 8333, 7, 3);
        let addr = PeerAddr::from(SocketAddr::V6(scoped));
        assert_eq!(addr.to_string(), "[fe80::1]:8333");
        assert_eq!(
            PeerAddr::Ip("[::ffff:1.2.3.4]:1".parse().unwrap()).canonical(),
            ip("1.2.3.4:1")
        );
    }

    #[test]
    fn parse_rejects_malformed() {
        let bad = [
            "",
            "1.2.3.4",
            "1.2.3.4:",
            "1.2.3.4:+1",
            "1.2.3.4:65536",
            "::1:8333",
            "example.com:8333",
            "torv3:00:8333",
            "torv3:zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f:8333",
            "torv3:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            "torv3:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f:-1",
            "aaaa.b32.i2p:0",
            "cjdns:[fd00::1]:8333",
            "cjdns:1.2.3.4:8333",
        ];
        for text in bad {
            assert_eq!(
                text.parse::<PeerAddr>(),
                Err(ParsePeerAddrError),
                "{text:?}"
            );
        }
        let a51 = "a".repeat(51);
        assert_eq!(
            format!("{a51}a.b32.i2p:0").parse(),
            Ok(PeerAddr::I2p {
                hash: [0; 32],
                port: 0
            })
        );
        let bad_i2p = [
            format!("{a51}b.b32.i2p:0"),  // the 4 unused trailing bits are not zero
            format!("{a51}1.b32.i2p:0"),  // not base32
            format!("{a51}aa.b32.i2p:0"), // 53 characters
            format!("{a51}a.b32.i2p"),    // no port
        ];
        for text in bad_i2p {
            assert_eq!(
                text.parse::<PeerAddr>(),
                Err(ParsePeerAddrError),
                "{text:?}"
            );
        }
    }

    #[test]
    fn base32_matches_the_codec() {
        // btcwire's NetAddrV2 Display writes the same I2P names.
        let hash = [0xa2; 32];
        let wire = NetAddrV2::I2p(hash).to_string();
        assert_eq!(format!("{}.b32.i2p", base32_string(&hash)), wire);
        assert_eq!(
            decode_base32_32(wire.trim_end_matches(".b32.i2p")),
            Some(hash)
        );
    }

    #[test]
    fn addr_entry_conversions() {
        let sock: SocketAddr = "203.0.113.7:8333".parse().unwrap();
        let entry = AddrEntry::new(NOW, NetAddr::from_socket_addr(ServiceFlags::NETWORK, sock));
        assert_eq!(
            PeerAddr::from_addr_entry(&entry),
            (PeerAddr::Ip(sock), ServiceFlags::NETWORK, NOW)
        );
        assert_eq!(PeerAddr::from(entry), PeerAddr::Ip(sock));
        assert_eq!(PeerAddr::from(&entry.addr), PeerAddr::Ip(sock));
        assert_eq!(
            PeerAddr::Ip(sock).to_addr_entry(NOW, ServiceFlags::NETWORK),
            Some(entry)
        );
        // IPv6 survives; mapped IPv4 in the 16 bytes is IPv4 again.
        let v6 = ip("[2001:db8::7]:8333");
        let e6 = v6.to_addr_entry(1, ServiceFlags::NONE).unwrap();
        assert_eq!(PeerAddr::from(e6), v6);
        assert_eq!(
            e6.addr.ip,
            Ipv6Addr::from_str("2001:db8::7").unwrap().octets()
        );
        // Overlay networks do not fit `addr`.
        for addr in [tor(), i2p(), cjdns()] {
            assert_eq!(addr.to_addr_entry(NOW, ServiceFlags::NONE), None);
            assert_eq!(addr.to_socket_addr(), None);
        }
        // Through a real `addr` message.
        let entries = [entry, e6];
        let raw = Addr::from_entries(&entries).to_vec();
        let msg = Addr::decode(&raw).unwrap();
        let got: Vec<PeerAddr> = msg.iter().map(PeerAddr::from).collect();
        assert_eq!(got, [PeerAddr::Ip(sock), v6]);
    }

    #[test]
    fn addr_v2_conversions() {
        let all = [
            ip("1.2.3.4:8333"),
            ip("[2001:db8::1]:8333"),
            tor(),
            i2p(),
            cjdns(),
        ];
        let ids = [
            NetworkId::IPV4,
            NetworkId::IPV6,
            NetworkId::TORV3,
            NetworkId::I2P,
            NetworkId::CJDNS,
        ];
        let entries: Vec<AddrV2Entry<'static>> = all
            .iter()
            .map(|a| a.to_addr_v2_entry(NOW, ServiceFlags::WITNESS))
            .collect();
        for ((addr, id), entry) in all.iter().zip(ids).zip(&entries) {
            assert_eq!(addr.network_id(), id);
            assert_eq!(entry.addr.network_id(), id);
            assert_eq!(entry.port, addr.port());
            assert_eq!(PeerAddr::try_from(entry), Ok(*addr));
            assert_eq!(
                PeerAddr::from_addr_v2_entry(entry),
                Ok((*addr, ServiceFlags::WITNESS, NOW))
            );
        }
        // Through a real `addrv2` message.
        let raw = AddrV2::from_entries(&entries).to_vec();
        let msg = AddrV2::decode(&raw).unwrap();
        let got: Vec<PeerAddr> = msg.iter().map(|e| PeerAddr::try_from(e).unwrap()).collect();
        assert_eq!(got, all);
        // Mapped IPv4 under the IPv6 id is canonical IPv4.
        let mapped = NetAddrV2::Ipv6(Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped().octets());
        assert_eq!(
            PeerAddr::from_addr_v2(&mapped, 8333),
            Ok(ip("1.2.3.4:8333"))
        );
        // Networks without a variant.
        let unsupported = [
            NetAddrV2::TorV2([1; 10]),
            NetAddrV2::Yggdrasil([2; 16]),
            NetAddrV2::from_bytes(NetworkId(42), &[1, 2, 3]).unwrap(),
        ];
        for addr in unsupported {
            let err = PeerAddr::from_addr_v2(&addr, 8333).unwrap_err();
            assert_eq!(err.network_id, addr.network_id());
        }
        assert_eq!(
            PeerAddr::from_addr_v2(&NetAddrV2::TorV2([1; 10]), 1)
                .unwrap_err()
                .to_string(),
            "unsupported address network 3 (TORV2)"
        );
    }

    #[test]
    fn validity_and_routability() {
        let invalid = [
            "0.0.0.0:8333",
            "0.1.2.3:8333",
            "255.255.255.255:8333",
            "224.0.0.1:8333",
            "1.2.3.4:0",
            "[::]:8333",
            "[ff02::1]:8333",
            "[fd87:d87e:eb43::1]:8333",
        ];
        for text in invalid {
            assert!(!ip(text).is_valid(), "{text}");
            assert!(!ip(text).is_routable(), "{text}");
        }
        let local = [
            "127.0.0.1:18444",
            "10.0.0.1:8333",
            "172.16.5.4:8333",
            "192.168.1.1:8333",
            "169.254.1.1:8333",
            "100.64.0.1:8333",
            "198.18.0.1:8333",
            "192.0.2.1:8333",
            "198.51.100.1:8333",
            "203.0.113.1:8333",
            "[::1]:8333",
            "[fd00::1]:8333",
            "[fe80::1]:8333",
            "[2001:db8::1]:8333",
            "[2001:10::1]:8333",
            "[2001:20::1]:8333",
        ];
        for text in local {
            assert!(ip(text).is_valid(), "{text}");
            assert!(!ip(text).is_routable(), "{text}");
        }
        for text in [
            "8.8.8.8:8333",
            "[2a01:4f8::1]:8333",
            "[::ffff:8.8.4.4]:8333",
        ] {
            assert!(ip(text).is_routable(), "{text}");
        }
        assert!(tor().is_routable() && i2p().is_routable() && cjdns().is_routable());
        assert!(
            !PeerAddr::TorV3 {
                key: [1; 32],
                port: 0
            }
            .is_valid()
        );
        let bad_cjdns = PeerAddr::Cjdns {
            ip: [0xfd; 16],
            port: 1,
        };
        assert!(!bad_cjdns.is_valid());
        assert!(
            !PeerAddr::Cjdns {
                ip: cjdns_ip(),
                port: 0
            }
            .is_valid()
        );

        // The book refuses the invalid ones and keeps loopback and private addresses.
        let mut book = AddrBook::new();
        let all = invalid.iter().chain(&local).map(|t| ip(t));
        assert_eq!(
            book.learn(items(all, NOW), AddrSource::Peer, NOW),
            local.len()
        );
    }

    fn cjdns_ip() -> [u8; 16] {
        let PeerAddr::Cjdns { ip, .. } = cjdns() else {
            unreachable!()
        };
        ip
    }

    #[test]
    fn learn_counts_new_and_merges_known() {
        let mut book = AddrBook::new();
        let a = ip("1.2.3.4:8333");
        let b = ip("[::ffff:5.6.7.8]:8333");
        assert_eq!(
            book.learn(items([a, b, a, tor()], NOW - 100), AddrSource::Seed, NOW),
            3
        );
        assert_eq!(book.len(), 3);
        assert!(book.contains(&ip("5.6.7.8:8333")));
        // Known again: services merge, the newer time wins, the source stays.
        let again = [
            (a, ServiceFlags::WITNESS, NOW - 10),
            (b, ServiceFlags::BLOOM, NOW - 500),
        ];
        assert_eq!(book.learn(again, AddrSource::Peer, NOW), 0);
        let ea = book.get(&a).unwrap();
        assert_eq!(ea.services, ServiceFlags::NETWORK | ServiceFlags::WITNESS);
        assert_eq!(ea.last_seen, NOW - 10);
        assert_eq!(ea.source, AddrSource::Seed);
        let eb = book.get(&b).unwrap();
        assert_eq!(eb.services, ServiceFlags::NETWORK | ServiceFlags::BLOOM);
        assert_eq!(eb.last_seen, NOW - 100);
        assert!(!book.is_empty());
        assert_eq!(book.iter().count(), 3);
        check_consistent(&book);
    }

    #[test]
    fn future_and_implausible_times_are_not_believed() {
        let drift = secs(MAX_FUTURE_DRIFT);
        let penalty = NOW - secs(UNTRUSTED_TIME_PENALTY);
        let cases = [
            (NOW + drift + 1, penalty),
            (u32::MAX, penalty),
            (MIN_PLAUSIBLE_TIME, penalty),
            (0, penalty),
            (NOW + drift, NOW),
            (NOW + 1, NOW),
            (NOW, NOW),
            (NOW - 3 * DAY, NOW - 3 * DAY),
        ];
        for (i, (time, expected)) in cases.into_iter().enumerate() {
            let mut book = AddrBook::new();
            assert_eq!(
                book.learn(
                    [(nth(i as u32), ServiceFlags::NONE, time)],
                    AddrSource::Peer,
                    NOW
                ),
                1
            );
            assert_eq!(
                book.get(&nth(i as u32)).unwrap().last_seen,
                expected,
                "{time}"
            );
        }
    }

    #[test]
    fn stale_entries_are_not_learned_and_are_pruned() {
        let horizon = secs(ADDRMAN_HORIZON);
        let mut book = AddrBook::new();
        let old = [(nth(0), ServiceFlags::NONE, NOW - horizon - 1)];
        assert_eq!(book.learn(old, AddrSource::Peer, NOW), 0);
        let edge = [(nth(1), ServiceFlags::NONE, NOW - horizon)];
        assert_eq!(book.learn(edge, AddrSource::Peer, NOW), 1);
        assert_eq!(
            book.learn(items([nth(2)], NOW - DAY), AddrSource::Peer, NOW),
            1
        );
        // A day later the edge entry is stale; a success keeps nth(2) fresh.
        assert!(book.mark_success(&nth(2), NOW + 20 * DAY));
        assert_eq!(book.prune_stale(NOW + DAY), 1);
        assert_eq!(book.len(), 1);
        // `learn` prunes by itself (at most once an hour).
        assert_eq!(
            book.learn(
                items([nth(3)], NOW + 55 * DAY),
                AddrSource::Peer,
                NOW + 55 * DAY
            ),
            1
        );
        assert!(!book.contains(&nth(2)));
        assert!(book.contains(&nth(3)));
        check_consistent(&book);
    }

    #[test]
    fn default_bound_is_max_addrbook_entries() {
        let mut book = AddrBook::new();
        assert_eq!(book.max_entries(), MAX_ADDRBOOK_ENTRIES);
        let n = MAX_ADDRBOOK_ENTRIES as u32 + 100;
        // Later addresses are newer, so each one past the bound evicts the oldest.
        for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
            let batch = chunk
                .iter()
                .map(|&i| (nth(i), ServiceFlags::NONE, NOW - n + i));
            book.learn(batch, AddrSource::Peer, NOW);
        }
        assert_eq!(book.len(), MAX_ADDRBOOK_ENTRIES);
        assert!(!book.contains(&nth(0)) && !book.contains(&nth(99)));
        assert!(book.contains(&nth(100)) && book.contains(&nth(n - 1)));
        check_consistent(&book);
    }

    #[test]
    fn eviction_order_when_full() {
        let mut book = AddrBook::with_max_entries(3);
        assert_eq!(AddrBook::with_max_entries(0).max_entries(), 1);
        let batch = [
            (nth(0), ServiceFlags::NONE, NOW - 30),
            (nth(1), ServiceFlags::NONE, NOW - 20),
            (nth(2), ServiceFlags::NONE, NOW - 10),
        ];
        assert_eq!(book.learn(batch, AddrSource::Peer, NOW), 3);
        // Newer than the oldest: replaces it.
        assert_eq!(
            book.learn(items([nth(3)], NOW - 5), AddrSource::Peer, NOW),
            1
        );
        assert!(!book.contains(&nth(0)));
        // Older than every entry: would be evicted first, so it is not stored.
        assert_eq!(
            book.learn(items([nth(4)], NOW - 100), AddrSource::Peer, NOW),
            0
        );
        assert!(!book.contains(&nth(4)));
        // An entry we connected to outranks fresher gossip...
        assert!(book.mark_success(&nth(1), NOW - 15));
        // ...and a terrible one goes first, however fresh.
        for _ in 0..ADDRMAN_RETRIES {
            assert!(book.mark_failed(&nth(3), NOW));
        }
        assert!(book.get(&nth(3)).unwrap().is_terrible());
        assert_eq!(
            book.learn(items([nth(5)], NOW - 50), AddrSource::Peer, NOW),
            1
        );
        assert!(!book.contains(&nth(3)));
        assert_eq!(
            book.learn(items([nth(6)], NOW - 1), AddrSource::Peer, NOW),
            1
        );
        assert!(!book.contains(&nth(5)), "oldest untried goes next");
        assert_eq!(book.learn(items([nth(7)], NOW), AddrSource::Peer, NOW), 1);
        assert!(!book.contains(&nth(2)));
        assert!(book.contains(&nth(1)), "tried entries outlive untried ones");
        assert_eq!(book.len(), 3);
        check_consistent(&book);
    }

    #[test]
    fn getaddr_answers_at_most_1000_and_23_percent() {
        let mut rng = Rng::new(42);
        for (n, expected) in [
            (0, 0),
            (4, 0),
            (5, 1),
            (100, 23),
            (1000, 230),
            (4347, 999),
            (10_000, 1000),
        ] {
            let book = book_of(n);
            let answer = book.answer_getaddr(&mut rng);
            assert_eq!(answer.len(), expected, "{n}");
            let unique: HashSet<PeerAddr> = answer.iter().map(|(a, _, _)| *a).collect();
            assert_eq!(unique.len(), answer.len(), "each address at most once");
            assert!(
                answer
                    .iter()
                    .all(|(a, s, t)| book.contains(a) && *s == ServiceFlags::NETWORK && *t == NOW)
            );
        }
    }

    #[test]
    fn getaddr_is_random_and_skips_terrible() {
        let mut book = book_of(1000);
        let mut rng = Rng::new(7);
        let first: HashSet<PeerAddr> = book
            .answer_getaddr(&mut rng)
            .into_iter()
            .map(|e| e.0)
            .collect();
        let second: HashSet<PeerAddr> = book
            .answer_getaddr(&mut rng)
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_ne!(first, second);
        // Over many answers every entry shows up: the choice is not biased to one end.
        let mut seen = HashSet::new();
        for _ in 0..40 {
            seen.extend(book.answer_getaddr(&mut rng).into_iter().map(|e| e.0));
        }
        assert!(seen.len() > 990, "{}", seen.len());
        // Terrible entries are never shared.
        for i in 0..900 {
            for _ in 0..ADDRMAN_RETRIES {
                book.mark_failed(&nth(i), NOW);
            }
        }
        for _ in 0..10 {
            let answer = book.answer_getaddr(&mut rng);
            assert_eq!(answer.len(), 100);
            assert!(
                answer
                    .iter()
                    .all(|(a, _, _)| !book.get(a).unwrap().is_terrible())
            );
        }
    }

    #[test]
    fn select_excludes_and_bounds() {
        let book = book_of(50);
        let mut rng = Rng::new(3);
        assert!(book.select(0, &HashSet::new(), &mut rng).is_empty());
        assert!(
            AddrBook::new()
                .select(5, &HashSet::new(), &mut rng)
                .is_empty()
        );
        let exclude: HashSet<PeerAddr> = (0..45).map(nth).collect();
        let picked = book.select(10, &exclude, &mut rng);
        assert_eq!(picked.len(), 5);
        assert!(picked.iter().all(|a| !exclude.contains(a)));
        let picked = book.select(20, &HashSet::new(), &mut rng);
        assert_eq!(picked.len(), 20);
        assert_eq!(picked.iter().collect::<HashSet<_>>().len(), 20);
        // Exclusion works on the canonical form.
        let mapped = PeerAddr::Ip(SocketAddr::new(
            Ipv4Addr::new(11, 0, 0, 0).to_ipv6_mapped().into(),
            8333,
        ));
        let all: HashSet<PeerAddr> = (1..50).map(nth).chain([mapped]).collect();
        assert!(book.select(3, &all, &mut rng).is_empty());
    }

    #[test]
    fn select_prefers_good_and_fresh_entries() {
        let mut book = AddrBook::new();
        let good = nth(0);
        let failed = nth(1);
        let old = nth(2);
        book.learn(items([good, failed], NOW), AddrSource::Peer, NOW);
        book.learn(items([old], NOW - 20 * DAY), AddrSource::Peer, NOW);
        for _ in 0..2 {
            book.mark_failed(&failed, NOW);
        }
        let mut rng = Rng::new(11);
        let mut firsts = HashMap::new();
        for _ in 0..2000 {
            let pick = book.select(1, &HashSet::new(), &mut rng)[0];
            *firsts.entry(pick).or_insert(0u32) += 1;
        }
        // Weights 1, 0.66^2 = 0.44 and 1/21 = 0.048: first about 67%, 29% and 3% of the time.
        let good_n = firsts[&good];
        let failed_n = firsts.get(&failed).copied().unwrap_or(0);
        let old_n = firsts.get(&old).copied().unwrap_or(0);
        assert!(good_n > 1200, "{firsts:?}");
        assert!(failed_n > old_n && old_n > 0, "{firsts:?}");
        // Everything comes out when asked for everything, best first most of the time.
        assert_eq!(book.select(10, &HashSet::new(), &mut rng).len(), 3);
    }

    #[test]
    fn marks_update_entries() {
        let mut book = AddrBook::new();
        let a = nth(0);
        assert!(!book.mark_attempt(&a, NOW));
        assert!(!book.mark_success(&a, NOW));
        assert!(!book.mark_failed(&a, NOW));
        book.learn(items([a], NOW - DAY), AddrSource::Manual, NOW);
        assert!(book.mark_attempt(&a, NOW + 1));
        assert_eq!(book.get(&a).unwrap().last_attempt, Some(NOW + 1));
        assert_eq!(book.get(&a).unwrap().attempts, 0);
        assert!(book.mark_failed(&a, NOW + 2));
        assert!(book.mark_failed(&a, NOW + 3));
        let e = *book.get(&a).unwrap();
        assert_eq!(
            (e.attempts, e.last_attempt, e.last_success),
            (2, Some(NOW + 3), None)
        );
        assert!(!e.is_terrible());
        assert!(book.mark_success(&a, NOW + 4));
        let e = *book.get(&a).unwrap();
        assert_eq!(e.attempts, 0);
        assert_eq!(e.last_success, Some(NOW + 4));
        assert_eq!(e.last_seen, NOW + 4);
        // After a success, only ADDRMAN_MAX_FAILURES in a row make it terrible.
        for _ in 0..ADDRMAN_MAX_FAILURES - 1 {
            book.mark_failed(&a, NOW + 5);
        }
        assert!(!book.get(&a).unwrap().is_terrible());
        book.mark_failed(&a, NOW + 5);
        assert!(book.get(&a).unwrap().is_terrible());
        // Marks take any spelling of the address.
        let mapped = PeerAddr::Ip(SocketAddr::new(
            Ipv4Addr::new(11, 0, 0, 0).to_ipv6_mapped().into(),
            8333,
        ));
        assert!(book.mark_attempt(&mapped, NOW + 6));
        assert_eq!(book.remove(&mapped).map(|e| e.addr), Some(a));
        assert!(book.is_empty());
        check_consistent(&book);
    }

    #[test]
    fn counts_by_network() {
        let mut book = AddrBook::new();
        let addrs = [
            ip("1.2.3.4:1"),
            ip("5.6.7.8:1"),
            ip("[2a01::1]:1"),
            tor(),
            i2p(),
            cjdns(),
        ];
        book.learn(items(addrs, NOW), AddrSource::Fixed, NOW);
        assert_eq!(
            book.count_by_network(),
            [
                (NetworkKind::Ipv4, 2),
                (NetworkKind::Ipv6, 1),
                (NetworkKind::Tor, 1),
                (NetworkKind::I2p, 1),
                (NetworkKind::Cjdns, 1),
            ]
        );
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = TempDir::new("roundtrip");
        let path = dir.0.join("peers.txt");
        let mut book = AddrBook::new();
        let addrs = [
            ip("1.2.3.4:8333"),
            ip("[2001:db8::1]:8333"),
            tor(),
            i2p(),
            cjdns(),
        ];
        for (i, addr) in addrs.into_iter().enumerate() {
            let source = [
                AddrSource::Seed,
                AddrSource::Peer,
                AddrSource::Fixed,
                AddrSource::Manual,
            ][i % 4];
            let flags = ServiceFlags(0x409 | 1 << (20 + i));
            book.learn([(addr, flags, NOW - i as u32)], source, NOW);
        }
        book.mark_success(&tor(), NOW + 1);
        book.mark_failed(&i2p(), NOW + 2);
        book.save(&path).unwrap();
        assert!(
            !temp_path(&path).exists(),
            "the temporary file is renamed away"
        );
        let (loaded, report) = AddrBook::load_with_report(&path).unwrap();
        assert_eq!(
            report,
            LoadReport {
                loaded: 5,
                ..LoadReport::default()
            }
        );
        let mut want: Vec<AddrInfo> = book.iter().copied().collect();
        let mut got: Vec<AddrInfo> = loaded.iter().copied().collect();
        want.sort_by_key(|e| e.addr);
        got.sort_by_key(|e| e.addr);
        assert_eq!(got, want);
        check_consistent(&loaded);
        // Saving over an existing file replaces it.
        AddrBook::new().save(&path).unwrap();
        assert!(AddrBook::load(&path).unwrap().is_empty());
        // Best entries first: the tried one leads.
        book.save(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(FILE_HEADER));
        assert!(lines.next().unwrap().starts_with("torv3:"));
    }

    #[test]
    fn load_skips_and_counts_malformed_lines() {
        let dir = TempDir::new("malformed");
        let path = dir.0.join("peers.txt");
        let mut text = String::from("# comment\n\n");
        // Line 3: four fields are enough.
        text.push_str("1.2.3.4:8333 0x409 1700000000 peer\n");
        // Line 4: all seven, names for services, `self`, spaces and CRLF around.
        text.push_str(
            "  5.6.7.8:8333 NETWORK|WITNESS 1700000000 self 1 1699999000 1700000001  \r\n",
        );
        // Lines 5 to 10: malformed.
        text.push_str("not-an-address 0x1 1700000000 peer\n");
        text.push_str("9.9.9.9:8333 0x1 1700000000\n");
        text.push_str("9.9.9.9:8333 0x1 soon peer\n");
        text.push_str("9.9.9.9:8333 0x1 1700000000 gossip\n");
        text.push_str("9.9.9.9:8333 bogus 1700000000 peer\n");
        text.push_str("9.9.9.9:8333 0x1 1700000000 peer 1 2\n");
        // Line 11 parses but is not a valid address; line 12 merges into line 3.
        text.push_str("0.0.0.0:8333 0x1 1700000000 peer\n");
        text.push_str("1.2.3.4:8333 0x8 1700000500 seed\n");
        let mut raw = text.into_bytes();
        // Line 13 is not UTF-8; line 14 has no final newline.
        raw.extend_from_slice(b"\xff\xfe 0x1 1 peer\n");
        raw.extend_from_slice(b"10.0.0.1:8333 0x1 1700000000 fixed");
        fs::write(&path, raw).unwrap();
        let (book, report) = AddrBook::load_with_report(&path).unwrap();
        assert_eq!(
            report,
            LoadReport {
                loaded: 4,
                malformed: 7,
                first_malformed_line: Some(5),
                rejected: 1,
            }
        );
        assert_eq!(book.len(), 3);
        let a = book.get(&ip("1.2.3.4:8333")).unwrap();
        assert_eq!(a.services, ServiceFlags(0x409));
        assert_eq!(a.last_seen, 1_700_000_500);
        assert_eq!(a.source, AddrSource::Peer);
        let b = book.get(&ip("5.6.7.8:8333")).unwrap();
        assert_eq!(b.source, AddrSource::Manual);
        assert_eq!(
            (b.attempts, b.last_success, b.last_attempt),
            (1, Some(1_699_999_000), Some(1_700_000_001))
        );
        assert_eq!(AddrBook::load(&path).unwrap().len(), 3);
        // A missing file is an error the caller can tell apart.
        let missing = AddrBook::load(dir.0.join("absent")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn save_into_missing_directory_fails_cleanly() {
        let dir = TempDir::new("missing");
        let path = dir.0.join("no-such-dir").join("peers.txt");
        assert!(book_of(3).save(&path).is_err());
        assert!(!path.exists() && !temp_path(&path).exists());
    }

    #[test]
    fn load_respects_the_bound() {
        let mut text = String::new();
        for i in 0..(MAX_ADDRBOOK_ENTRIES as u32 + 10) {
            writeln!(text, "{} 0x1 {} peer", nth(i), NOW - 100_000 + i).unwrap();
        }
        let (book, report) = AddrBook::read_from(text.as_bytes()).unwrap();
        assert_eq!(book.len(), MAX_ADDRBOOK_ENTRIES);
        assert_eq!(report.loaded, MAX_ADDRBOOK_ENTRIES + 10);
        check_consistent(&book);
    }

    #[test]
    fn address_sources_round_trip() {
        for s in [
            AddrSource::Seed,
            AddrSource::Peer,
            AddrSource::Fixed,
            AddrSource::Manual,
        ] {
            assert_eq!(s.to_string().parse(), Ok(s));
        }
        assert_eq!("self".parse(), Ok(AddrSource::Manual));
        assert_eq!("Peer".parse::<AddrSource>(), Err(ParseAddrSourceError));
    }

    #[test]
    fn dns_seeds_per_network() {
        assert_eq!(dns_seeds(Network::Mainnet).len(), 8);
        assert_eq!(dns_seeds(Network::Mainnet)[0], "seed.bitcoin.sipa.be");
        assert_eq!(dns_seeds(Network::Testnet3).len(), 5);
        assert_eq!(dns_seeds(Network::Testnet4).len(), 2);
        assert_eq!(dns_seeds(Network::Signet).len(), 2);
        assert!(dns_seeds(Network::Regtest).is_empty());
        for network in Network::ALL {
            for seed in dns_seeds(network) {
                assert!(seed.contains('.') && !seed.ends_with('.'), "{seed}");
                assert!(seed.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'.'
                    || b == b'-'));
            }
        }
    }

    #[tokio::test]
    async fn resolve_seeds_locally() {
        let timeout = Duration::from_secs(5);
        assert!(resolve_seeds(&[], 8333, timeout).await.is_empty());
        let literal = resolve_seeds(&["127.0.0.1", "::1", "127.0.0.1"], 18444, timeout).await;
        assert_eq!(
            literal,
            [
                "127.0.0.1:18444".parse::<SocketAddr>().unwrap(),
                "[::1]:18444".parse().unwrap(),
            ]
        );
        // Answers keep the order of the seeds, not of the lookups, and a name that fails
        // adds nothing. (IP literals only: a name, even `localhost`, could send the query to
        // a DNS server. The NUL byte makes the system refuse that name before any lookup.)
        let mixed = resolve_seeds(&["::1", "no\0such.invalid", "127.0.0.1"], 8333, timeout).await;
        assert_eq!(
            mixed,
            [
                "[::1]:8333".parse::<SocketAddr>().unwrap(),
                "127.0.0.1:8333".parse().unwrap(),
            ]
        );
    }

    fn peer_addr() -> impl Strategy<Value = PeerAddr> {
        prop_oneof![
            (any::<[u8; 4]>(), any::<u16>()).prop_map(|(ip, port)| PeerAddr::from_socket_addr(
                SocketAddr::new(Ipv4Addr::from(ip).into(), port)
            )),
            (any::<[u8; 16]>(), any::<u16>()).prop_map(|(ip, port)| PeerAddr::from_socket_addr(
                SocketAddr::new(Ipv6Addr::from(ip).into(), port)
            )),
            (any::<[u8; 32]>(), any::<u16>()).prop_map(|(key, port)| PeerAddr::TorV3 { key, port }),
            (any::<[u8; 32]>(), any::<u16>()).prop_map(|(hash, port)| PeerAddr::I2p { hash, port }),
            (any::<[u8; 15]>(), any::<u16>()).prop_map(|(rest, port)| {
                let mut ip = [0xfc; 16];
                ip[1..].copy_from_slice(&rest);
                PeerAddr::Cjdns { ip, port }
            }),
        ]
    }

    proptest! {
        #[test]
        fn text_and_addrv2_round_trip(addr in peer_addr(), time: u32, services: u64) {
            prop_assert_eq!(addr.to_string().parse::<PeerAddr>(), Ok(addr));
            let entry = addr.to_addr_v2_entry(time, ServiceFlags(services));
            prop_assert_eq!(PeerAddr::from_addr_v2_entry(&entry), Ok((addr, ServiceFlags(services), time)));
            if let Some(v1) = addr.to_addr_entry(time, ServiceFlags(services)) {
                prop_assert_eq!(PeerAddr::from_addr_entry(&v1), (addr, ServiceFlags(services), time));
            }
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            if let Ok(addr) = s.parse::<PeerAddr>() {
                prop_assert_eq!(addr.to_string().parse::<PeerAddr>(), Ok(addr));
            }
        }

        #[test]
        fn book_stays_consistent(ops in proptest::collection::vec((0u8..5, 0u32..40, 0u32..(40 * DAY)), 0..200)) {
            let mut book = AddrBook::with_max_entries(16);
            let mut rng = Rng::new(5);
            let mut now = NOW;
            for (op, i, dt) in ops {
                match op {
                    0 => { book.learn([(nth(i), ServiceFlags::NONE, now.saturating_sub(dt))], AddrSource::Peer, now); }
                    1 => { book.mark_failed(&nth(i), now); }
                    2 => { book.mark_success(&nth(i), now); }
                    3 => { now += dt / 8; }
                    _ => { let _ = book.answer_getaddr(&mut rng); let _ = book.select(4, &HashSet::new(), &mut rng); }
                }
                check_consistent(&book);
            }
        }
    }
}
