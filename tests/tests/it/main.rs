//! Integration tests across the btcwire crates: one binary, one module per theme.

mod alloc;
mod bcoin;
mod cli_chain;
mod cli_crawl;
mod cli_decode;
mod cli_handshake;
mod codec;
mod net;
mod real_blocks;
mod stream;
