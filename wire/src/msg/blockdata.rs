//! PLACEHOLDER: replaced by the real implementation.
#![allow(missing_docs, unreachable_pub)]
use crate::{Encode, PResult, header::Command, msg::Payload};

#[derive(Debug, Clone, PartialEq)]
pub struct Inv<'a>(pub &'a [u8]);
impl Encode for Inv<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for Inv<'a> {
    const COMMAND: Command = Command::new("inv");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct GetData<'a>(pub &'a [u8]);
impl Encode for GetData<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for GetData<'a> {
    const COMMAND: Command = Command::new("getdata");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct NotFound<'a>(pub &'a [u8]);
impl Encode for NotFound<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for NotFound<'a> {
    const COMMAND: Command = Command::new("notfound");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct GetBlocks<'a>(pub &'a [u8]);
impl Encode for GetBlocks<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for GetBlocks<'a> {
    const COMMAND: Command = Command::new("getblocks");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct GetHeaders<'a>(pub &'a [u8]);
impl Encode for GetHeaders<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for GetHeaders<'a> {
    const COMMAND: Command = Command::new("getheaders");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct Headers<'a>(pub &'a [u8]);
impl Encode for Headers<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for Headers<'a> {
    const COMMAND: Command = Command::new("headers");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct Mempool;
impl Encode for Mempool {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for Mempool {
    const COMMAND: Command = Command::new("mempool");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
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
