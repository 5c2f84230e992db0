//! `btcwire-net`: Bitcoin peers over `btcwire`.
//!
//! Not built yet: the sans-IO handshake, the established peer and the tokio drivers arrive
//! with the net issue. Until then this crate only re-exports the codec, so nothing here
//! pretends to work.

pub use btcwire;
