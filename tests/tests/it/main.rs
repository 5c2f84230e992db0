//! Integration tests across the btcwire crates: one binary, one module per theme.

mod alloc;
mod bcoin;
mod codec;
mod net;
mod real_blocks;
mod stream;
