//! proptest strategies for every message, for this crate's tests and for other crates'
//! (`tests`, `fuzz`): each yields the command and payload of a canonical message built
//! with the public constructors.

use alloc::vec::Vec;

use proptest::prelude::*;

use crate::header::Command;

/// Any canonical message of any known command, as `(command, payload)`.
pub fn any_payload() -> impl Strategy<Value = (Command, Vec<u8>)> {
    crate::msg::strategy::payloads()
}
