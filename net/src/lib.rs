//! `btcwire-net`: Bitcoin peers over the `btcwire` codec.
//!
//! Work in progress (issue 3): the sans-IO core in [`proto`] is being built first.

pub mod config;
pub mod error;
pub mod proto;

pub use config::PeerConfig;
pub use error::{DisconnectReason, HandshakeError, PeerError, Step, Violation};
pub use proto::{Direction, NonceSet, RemoteInfo, Rng, Role, TimelineEntry};
