//! PLACEHOLDER: replaced by the real implementation.
#![allow(missing_docs, unreachable_pub)]
use crate::{Encode, PResult, header::Command, msg::Payload};

#[derive(Debug, Clone, PartialEq)]
pub struct FilterLoad<'a>(pub &'a [u8]);
impl Encode for FilterLoad<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for FilterLoad<'a> {
    const COMMAND: Command = Command::new("filterload");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct FilterAdd<'a>(pub &'a [u8]);
impl Encode for FilterAdd<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for FilterAdd<'a> {
    const COMMAND: Command = Command::new("filteradd");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct FilterClear;
impl Encode for FilterClear {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for FilterClear {
    const COMMAND: Command = Command::new("filterclear");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct MerkleBlock<'a>(pub &'a [u8]);
impl Encode for MerkleBlock<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for MerkleBlock<'a> {
    const COMMAND: Command = Command::new("merkleblock");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[cfg(any(test, feature = "proptest"))]
pub(crate) mod strategy {
    use crate::header::Command;
    use alloc::vec::Vec;
    use proptest::prelude::*;
    pub(crate) fn payloads() -> BoxedStrategy<(Command, Vec<u8>)> {
        Just((Command::new("placeholder"), Vec::new())).boxed()
    }
}
