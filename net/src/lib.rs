//! `btcwire-net`: Bitcoin peers over the `btcwire` codec.
//!
//! Work in progress (issue 3).

pub mod addrbook;
pub mod config;
pub mod driver;
pub mod error;
pub mod listener;
pub mod pool;
pub mod proto;

pub use addrbook::{AddrBook, PeerAddr};
pub use config::PeerConfig;
pub use driver::{
    Event, Handshaken, PeerHandle, PeerId, Target, accept, connect, handshake, spawn,
};
pub use error::{DisconnectReason, HandshakeError, PeerError, Step, Violation};
pub use listener::Listener;
pub use pool::{Pool, PoolConfig, PoolHandle};
pub use proto::inventory::{InvQueue, KnownInventory};
pub use proto::peer::{LocatorTooLong, Peer, PeerEvent, PeerHooks, PeerStats, dispatch};
pub use proto::{Direction, NonceSet, RemoteInfo, Rng, Role, TimelineEntry};
