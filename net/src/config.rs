//! `PeerConfig`: what we advertise and how long we wait, with Bitcoin Core's defaults.

use std::time::Duration;

use btcwire::limits::PROTOCOL_VERSION;
use btcwire::types::ServiceFlags;
use btcwire::{Magic, Network};

/// Minimum protocol version a peer must speak (Bitcoin Core `MIN_PEER_PROTO_VERSION`,
/// `node/protocol_version.h`, formerly `version.h`).
pub const MIN_PEER_PROTO_VERSION: u32 = 31_800;

/// Time allowed for the whole version/verack exchange (Bitcoin Core `-peertimeout`,
/// `DEFAULT_PEER_CONNECT_TIMEOUT` = 60 s, `net.h`).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(60);

/// Time allowed to open a TCP connection (Bitcoin Core `DEFAULT_CONNECT_TIMEOUT` = 5000 ms,
/// `netbase.h`).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Time between our pings (Bitcoin Core `PING_INTERVAL` = 2 min, `net_processing.cpp`).
pub const PING_INTERVAL: Duration = Duration::from_secs(2 * 60);

/// Time a ping may go unanswered before the peer is dropped (Bitcoin Core
/// `TIMEOUT_INTERVAL` = 20 min, `net.h`).
pub const PONG_TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// Mean time between inventory trickles to a peer (Bitcoin Core
/// `INBOUND_INVENTORY_BROADCAST_INTERVAL` = 5 s; outbound peers get
/// `OUTBOUND_INVENTORY_BROADCAST_INTERVAL` = 2 s).
pub const INBOUND_INVENTORY_BROADCAST_INTERVAL: Duration = Duration::from_secs(5);

/// Mean time between inventory trickles to an outbound peer (Bitcoin Core
/// `OUTBOUND_INVENTORY_BROADCAST_INTERVAL`).
pub const OUTBOUND_INVENTORY_BROADCAST_INTERVAL: Duration = Duration::from_secs(2);

/// Most inventory entries sent in one trickle: we send up to this many each time, however
/// long the queue (an `inv` could hold 50,000).
///
/// Bitcoin Core since v25 sends `INVENTORY_BROADCAST_TARGET` per trickle plus 5 per 1,000
/// entries queued, capped at its `INVENTORY_BROADCAST_MAX` = 1,000; the target is
/// `INVENTORY_BROADCAST_PER_SECOND` × 5 s = 35 (70 since the rate went from 7/s to 14/s).
/// Before v25 the cap was that flat 35. A short queue goes out whole either way; a backlog
/// drains faster here than from Core.
pub const INVENTORY_BROADCAST_MAX: usize = 1_000;

/// Known-inventory entries remembered per peer (Bitcoin Core keeps a rolling bloom filter
/// of 50,000 `m_tx_inventory_known_filter` entries; we keep exact hashes, bounded).
pub const MAX_KNOWN_INVENTORY: usize = 50_000;

/// Encoded frames waiting for one peer's writer before its driver stops reading the peer and
/// taking commands, so that senders wait (back-pressure, [`crate::driver`]).
pub const MAX_OUTBOUND_QUEUE: usize = 1_024;

/// Mean interval between advertisements of our own address (Bitcoin Core
/// `AVG_LOCAL_ADDRESS_BROADCAST_INTERVAL` = 24 h).
pub const LOCAL_ADDRESS_BROADCAST_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Returns our default user agent, in BIP 14 form.
#[must_use]
pub fn default_user_agent() -> String {
    format!("/btcwire:{}/", env!("CARGO_PKG_VERSION"))
}

/// How a peer introduces itself and the limits it keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerConfig {
    /// The network's magic (any 4 bytes for a custom network).
    pub magic: Magic,
    /// The network, when the magic is a known one (for default ports and seeds).
    pub network: Option<Network>,
    /// The protocol version we speak (70016).
    pub protocol_version: u32,
    /// Peers below this protocol version are refused ([`MIN_PEER_PROTO_VERSION`]).
    pub min_protocol_version: u32,
    /// Services we advertise.
    pub services: ServiceFlags,
    /// Our user agent (BIP 14, e.g. `/btcwire:0.1.0/`), at most 256 bytes.
    pub user_agent: String,
    /// The best block height we claim.
    pub start_height: i32,
    /// Whether the peer should relay transactions to us (BIP 37 `relay`).
    pub relay: bool,
    /// Time allowed for the version/verack exchange ([`HANDSHAKE_TIMEOUT`]).
    pub handshake_timeout: Duration,
    /// Time allowed to open a connection ([`CONNECT_TIMEOUT`]).
    pub connect_timeout: Duration,
    /// Time between our pings ([`PING_INTERVAL`]).
    pub ping_interval: Duration,
    /// Time a ping may go unanswered ([`PONG_TIMEOUT`]).
    pub pong_timeout: Duration,
    /// Mean time between inventory trickles ([`INBOUND_INVENTORY_BROADCAST_INTERVAL`]).
    pub inv_broadcast_interval: Duration,
    /// Frames waiting to be written per peer before the driver stops reading it and taking
    /// commands, so that senders wait ([`MAX_OUTBOUND_QUEUE`]).
    pub max_outbound_queue: usize,
    /// Known-inventory entries remembered per peer ([`MAX_KNOWN_INVENTORY`]).
    pub max_known_inventory: usize,
}

impl PeerConfig {
    /// Returns Bitcoin Core's defaults for `network`.
    #[must_use]
    pub fn new(network: Network) -> Self {
        Self {
            magic: network.magic(),
            network: Some(network),
            protocol_version: PROTOCOL_VERSION,
            min_protocol_version: MIN_PEER_PROTO_VERSION,
            services: ServiceFlags::NONE,
            user_agent: default_user_agent(),
            start_height: 0,
            relay: false,
            handshake_timeout: HANDSHAKE_TIMEOUT,
            connect_timeout: CONNECT_TIMEOUT,
            ping_interval: PING_INTERVAL,
            pong_timeout: PONG_TIMEOUT,
            inv_broadcast_interval: INBOUND_INVENTORY_BROADCAST_INTERVAL,
            max_outbound_queue: MAX_OUTBOUND_QUEUE,
            max_known_inventory: MAX_KNOWN_INVENTORY,
        }
    }

    /// Returns the defaults for a network known only by its magic.
    #[must_use]
    pub fn with_magic(magic: Magic) -> Self {
        let network = Network::from_magic(magic);
        Self {
            magic,
            network,
            ..Self::new(network.unwrap_or_default())
        }
    }

    /// Returns the network's default port, or 8333 for a custom magic.
    #[must_use]
    pub fn default_port(&self) -> u16 {
        self.network.map_or(8333, Network::default_port)
    }
}

impl Default for PeerConfig {
    fn default() -> Self {
        Self::new(Network::default())
    }
}
