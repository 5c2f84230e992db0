//! PLACEHOLDER: replaced by the real implementation.
#![allow(missing_docs, unreachable_pub)]
use crate::{Encode, PResult, header::Command, msg::Payload};

#[derive(Debug, Clone, PartialEq)]
pub struct Addr<'a>(pub &'a [u8]);
impl Encode for Addr<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for Addr<'a> {
    const COMMAND: Command = Command::new("addr");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct AddrV2<'a>(pub &'a [u8]);
impl Encode for AddrV2<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for AddrV2<'a> {
    const COMMAND: Command = Command::new("addrv2");
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
