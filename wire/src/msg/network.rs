//! PLACEHOLDER: replaced by the real implementation.
#![allow(missing_docs, unreachable_pub)]
use crate::{Encode, PResult, header::Command, msg::Payload};

#[derive(Debug, Clone, PartialEq)]
pub struct Version<'a>(pub &'a [u8]);
impl Encode for Version<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for Version<'a> {
    const COMMAND: Command = Command::new("version");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct Verack;
impl Encode for Verack {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for Verack {
    const COMMAND: Command = Command::new("verack");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct Ping {
    pub nonce: u64,
}
impl Encode for Ping {
    fn encoded_len(&self) -> usize {
        8
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_u64_le(self.nonce)
    }
}
impl<'a> Payload<'a> for Ping {
    const COMMAND: Command = Command::new("ping");
    const MAX_LEN: u32 = 8;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, nonce) = nom::number::complete::le_u64(i)?;
        Ok((i, Self { nonce }))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct Pong {
    pub nonce: u64,
}
impl Encode for Pong {
    fn encoded_len(&self) -> usize {
        8
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_u64_le(self.nonce)
    }
}
impl<'a> Payload<'a> for Pong {
    const COMMAND: Command = Command::new("pong");
    const MAX_LEN: u32 = 8;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        let (i, nonce) = nom::number::complete::le_u64(i)?;
        Ok((i, Self { nonce }))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct GetAddr;
impl Encode for GetAddr {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for GetAddr {
    const COMMAND: Command = Command::new("getaddr");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct SendAddrV2;
impl Encode for SendAddrV2 {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for SendAddrV2 {
    const COMMAND: Command = Command::new("sendaddrv2");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct FeeFilter;
impl Encode for FeeFilter {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for FeeFilter {
    const COMMAND: Command = Command::new("feefilter");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct SendHeaders;
impl Encode for SendHeaders {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for SendHeaders {
    const COMMAND: Command = Command::new("sendheaders");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct WtxidRelay;
impl Encode for WtxidRelay {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for WtxidRelay {
    const COMMAND: Command = Command::new("wtxidrelay");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct SendTxRcncl;
impl Encode for SendTxRcncl {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for SendTxRcncl {
    const COMMAND: Command = Command::new("sendtxrcncl");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct Feature<'a>(pub &'a [u8]);
impl Encode for Feature<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for Feature<'a> {
    const COMMAND: Command = Command::new("feature");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct Reject<'a>(pub &'a [u8]);
impl Encode for Reject<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for Reject<'a> {
    const COMMAND: Command = Command::new("reject");
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
