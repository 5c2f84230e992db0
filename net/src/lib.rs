//! # btcwire-net: Bitcoin peers over the `btcwire` codec
//!
//! A sans-IO protocol core ([`proto`]) with thin tokio drivers ([`driver`], [`Listener`],
//! [`Pool`]). The core never touches a socket or the clock: it takes frames and the time,
//! and gives back bytes to write, the next deadline and events. The drivers run it over any
//! `AsyncRead + AsyncWrite` stream: TCP, a SOCKS5 tunnel, an in-memory pipe.
//!
//! ## The handshake ([`proto::handshake::Handshake`])
//!
//! ```text
//!  outbound (we connect)                 inbound (they connect)
//!  ---------------------                 ----------------------
//!  send version            ─────────▶    receive version: check min version, self-connection
//!                          ◀─────────    send version
//!  receive version                       if both speak 70016: send wtxidrelay, sendaddrv2
//!  if both speak 70016:    ◀─────────    send verack
//!    send wtxidrelay, sendaddrv2
//!  send verack             ─────────▶
//!  receive verack: done                  receive verack: done
//! ```
//!
//! Unknown messages before `verack` are ignored, `sendheaders`/`sendcmpct` tolerated, a
//! second `version` or a `verack` before `version` is a [`Violation`]. Every message sent
//! and received until `verack` is recorded with its time in [`RemoteInfo::timeline`]: the
//! peer's negotiation fingerprint.
//!
//! ## The established peer ([`Peer`])
//!
//! Keepalive (`ping` every 2 minutes, `pong` within 20), answers to `ping`, policy for
//! messages that need a feature we did not signal, inventory trickled on a Poisson timer
//! with a known-inventory filter, statistics, and a [`Violation`] as data for anything that
//! must end the connection. A bad checksum drops the message and counts it (as Core).
//!
//! ## Calling order of the sans-IO core
//!
//! After each `handle_*` call, drain `poll_transmit` (write the bytes), then read
//! `poll_timeout` (call `handle_timeout` when it passes), then drain `poll_event`.
//!
//! ## Example: our client against our listener, on loopback
//!
//! ```
//! use btcwire::Network;
//! use btcwire_net::{Event, Listener, NonceSet, PeerConfig, Target};
//! use tokio::net::TcpListener;
//! use tokio::sync::mpsc;
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let config = PeerConfig::new(Network::Regtest);
//! let socket = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = socket.local_addr()?;
//! let (events, mut inbound) = mpsc::channel(16);
//! let listener = Listener::new(socket, config.clone(), 8);
//! tokio::spawn(listener.run(events, std::future::pending()));
//!
//! let done = btcwire_net::connect(&Target::Addr(addr), None, &config, &NonceSet::new()).await?;
//! assert_eq!(done.info.user_agent, config.user_agent);
//! assert!(done.info.wtxidrelay && done.info.sendaddrv2);
//! for step in &done.info.timeline {
//!     println!("{:>8?} {:8} {}", step.at, step.direction.as_str(), step.command);
//! }
//! let wait = std::time::Duration::from_secs(10);
//! let Some(Event::Connected(peer)) = tokio::time::timeout(wait, inbound.recv()).await? else {
//!     panic!("the listener reports the connection")
//! };
//! assert_eq!(peer.info().role, btcwire_net::Role::Inbound);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

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
pub use error::{DisconnectReason, HandshakeError, PeerError, SendError, Step, Violation};
pub use listener::Listener;
pub use pool::{Pool, PoolConfig, PoolHandle};
pub use proto::inventory::{InvQueue, KnownInventory};
pub use proto::peer::{LocatorTooLong, Peer, PeerEvent, PeerHooks, PeerStats, dispatch};
pub use proto::{Direction, NonceSet, RemoteInfo, Rng, Role, TimelineEntry};
