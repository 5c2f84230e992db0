//! Pieces shared by several messages: hashes, lists, addresses, inventory, headers,
//! transactions and blocks.

pub mod block;
pub mod block_header;
pub mod hash;
pub mod inventory;
pub mod list;
pub mod net_addr;
pub mod tx;

pub use block::Block;
pub use block_header::BlockHeader;
pub use hash::{BlockHash, FilterHash, MerkleNode, ParseHashError, Txid, Wtxid};
pub use inventory::{INV_ITEM_LEN, InvItem, InvType, Inventory};
pub use list::{Item, List};
pub use net_addr::*;
pub use tx::Tx;
