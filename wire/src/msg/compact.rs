//! PLACEHOLDER: replaced by the real implementation.
#![allow(missing_docs, unreachable_pub)]
use crate::{Encode, PResult, header::Command, msg::Payload};

#[derive(Debug, Clone, PartialEq)]
pub struct SendCmpct;
impl Encode for SendCmpct {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for SendCmpct {
    const COMMAND: Command = Command::new("sendcmpct");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct CmpctBlock<'a>(pub &'a [u8]);
impl Encode for CmpctBlock<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for CmpctBlock<'a> {
    const COMMAND: Command = Command::new("cmpctblock");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct GetBlockTxn<'a>(pub &'a [u8]);
impl Encode for GetBlockTxn<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for GetBlockTxn<'a> {
    const COMMAND: Command = Command::new("getblocktxn");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct BlockTxn<'a>(pub &'a [u8]);
impl Encode for BlockTxn<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for BlockTxn<'a> {
    const COMMAND: Command = Command::new("blocktxn");
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
