//! One module per subcommand.

pub(crate) mod block;
pub(crate) mod crawl;
pub(crate) mod decode;
pub(crate) mod handshake;
pub(crate) mod headers;
pub(crate) mod listen;
pub(crate) mod ping;
