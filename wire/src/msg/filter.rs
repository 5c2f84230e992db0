//! PLACEHOLDER: replaced by the real implementation.
#![allow(missing_docs, unreachable_pub)]
use crate::{Encode, PResult, header::Command, msg::Payload};

#[derive(Debug, Clone, PartialEq)]
pub struct GetCFilters;
impl Encode for GetCFilters {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for GetCFilters {
    const COMMAND: Command = Command::new("getcfilters");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct CFilter<'a>(pub &'a [u8]);
impl Encode for CFilter<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for CFilter<'a> {
    const COMMAND: Command = Command::new("cfilter");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct GetCFHeaders;
impl Encode for GetCFHeaders {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for GetCFHeaders {
    const COMMAND: Command = Command::new("getcfheaders");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct CFHeaders<'a>(pub &'a [u8]);
impl Encode for CFHeaders<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for CFHeaders<'a> {
    const COMMAND: Command = Command::new("cfheaders");
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((&i[i.len()..], Self(i)))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct GetCFCheckpt;
impl Encode for GetCFCheckpt {
    fn encoded_len(&self) -> usize {
        0
    }
    fn encode<B: bytes::BufMut>(&self, _: &mut B) {}
}
impl<'a> Payload<'a> for GetCFCheckpt {
    const COMMAND: Command = Command::new("getcfcheckpt");
    const MAX_LEN: u32 = 0;
    fn parse(i: &'a [u8]) -> PResult<'a, Self> {
        Ok((i, Self))
    }
}
#[derive(Debug, Clone, PartialEq)]
pub struct CFCheckpt<'a>(pub &'a [u8]);
impl Encode for CFCheckpt<'_> {
    fn encoded_len(&self) -> usize {
        self.0.len()
    }
    fn encode<B: bytes::BufMut>(&self, b: &mut B) {
        b.put_slice(self.0)
    }
}
impl<'a> Payload<'a> for CFCheckpt<'a> {
    const COMMAND: Command = Command::new("cfcheckpt");
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
