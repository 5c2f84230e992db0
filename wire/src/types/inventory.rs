//! PLACEHOLDER: replaced by the real implementation.
#![allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvType(pub u32);
impl InvType {
    pub const WITNESS_TX: Self = Self(0x4000_0001);
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvItem {
    pub inv_type: InvType,
    pub hash: [u8; 32],
}
