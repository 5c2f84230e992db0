//! Address gossip: `addr` and its BIP 155 successor `addrv2`.
//!
//! ## `addr`
//!
//! | size     | field       | notes                                                      |
//! |---------:|-------------|------------------------------------------------------------|
//! | 1–3      | count       | CompactSize, at most [`MAX_ADDR_ENTRIES`](limits::MAX_ADDR_ENTRIES) (1,000) |
//! | 30 each  | `addr_list` | [`AddrEntry`]: time (u32 LE), services (u64 LE), IPv6 address, port (u16 BE) |
//!
//! ## `addrv2` ([BIP 155](https://github.com/bitcoin/bips/blob/master/bip-0155.mediawiki))
//!
//! | size     | field       | notes                                                      |
//! |---------:|-------------|------------------------------------------------------------|
//! | 1–3      | count       | CompactSize, at most 1,000 (BIP 155: "up to 1,000 addresses") |
//! | 9–531 each | `addr_list` | [`AddrV2Entry`]: time, services (CompactSize), network id, address (≤ 512 bytes), port (u16 BE) |
//!
//! Bitcoin Core (`MAX_ADDR_TO_SEND`, `net_processing.cpp`) disconnects a peer that sends more
//! than 1,000 addresses in one message. The count is checked against that limit and against
//! the bytes remaining (30 per `addr` entry, 9 at least per `addrv2` entry) before anything
//! else. `addr` entries are checked once and decoded lazily; `addrv2` entries are validated
//! one by one while decoding (lengths per network, see [`NetAddrV2`](crate::types::NetAddrV2)).

use bytes::BufMut;

use crate::header::Command;
use crate::msg::Payload;
use crate::types::list::{Iter, List};
use crate::types::net_addr::{AddrEntry, AddrV2Entry};
use crate::varint::compact_size_len;
use crate::{Encode, PResult, limits};

/// `addr`: addresses of other nodes, announced or sent in reply to `getaddr`.
///
/// ```
/// use btcwire::msg::{Addr, Payload};
/// use btcwire::types::{AddrEntry, NetAddr, ServiceFlags};
/// use btcwire::Encode;
///
/// let entries = [AddrEntry::new(
///     1_700_000_000,
///     NetAddr::from_socket_addr(ServiceFlags::NETWORK, "192.0.2.51:8333".parse().unwrap()),
/// )];
/// let raw = Addr::from_entries(&entries).to_vec();
/// let addr = Addr::decode(&raw)?;
/// assert_eq!(addr.iter().next().unwrap().addr.to_string(), "192.0.2.51:8333");
/// # Ok::<(), btcwire::DecodeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addr<'a> {
    /// The entries, at most [`MAX_ADDR_ENTRIES`](limits::MAX_ADDR_ENTRIES) in a valid message.
    pub addr_list: List<'a, AddrEntry>,
}

impl<'a> Addr<'a> {
    /// Returns the message carrying `entries`; more than
    /// [`MAX_ADDR_ENTRIES`](limits::MAX_ADDR_ENTRIES) encode but are refused by receivers.
    #[must_use]
    pub const fn from_entries(entries: &'a [AddrEntry]) -> Self {
        Self {
            addr_list: List::from_items(entries),
        }
    }

    /// Returns an iterator over the entries.
    #[must_use]
    pub fn iter(&self) -> Iter<'a, AddrEntry> {
        self.addr_list.iter()
    }

    /// Returns the number of entries.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.addr_list.len()
    }

    /// Returns whether the message has no entries.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.addr_list.is_empty()
    }
}

impl<'a> IntoIterator for &Addr<'a> {
    type Item = AddrEntry;
    type IntoIter = Iter<'a, AddrEntry>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Encode for Addr<'_> {
    fn encoded_len(&self) -> usize {
        self.addr_list.encoded_len()
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        self.addr_list.encode(buf);
    }
}

impl<'a> Payload<'a> for Addr<'a> {
    const COMMAND: Command = Command::new("addr");
    const MAX_LEN: u32 = (compact_size_len(limits::MAX_ADDR_ENTRIES)
        + limits::MAX_ADDR_ENTRIES as usize * AddrEntry::LEN) as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, addr_list) = List::parse(input, "addr_list", limits::MAX_ADDR_ENTRIES)?;
        Ok((i, Self { addr_list }))
    }
}

/// `addrv2`: addresses of other nodes in the BIP 155 format, which also carries Tor v3,
/// I2P, Cjdns and other networks' addresses. Sent only to peers that sent `sendaddrv2`.
///
/// ```
/// use btcwire::msg::{AddrV2, Payload};
/// use btcwire::types::{AddrV2Entry, NetAddrV2, NetworkId, ServiceFlags};
/// use btcwire::Encode;
///
/// let i2p = NetAddrV2::from_bytes(NetworkId::I2P, &[0xa2; 32]).unwrap();
/// let entries = [AddrV2Entry::new(1_700_000_000, ServiceFlags::NETWORK, i2p, 0)];
/// let raw = AddrV2::from_entries(&entries).to_vec();
/// let msg = AddrV2::decode(&raw)?;
/// assert!(msg.iter().next().unwrap().addr.to_string().ends_with(".b32.i2p"));
/// # Ok::<(), btcwire::DecodeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrV2<'a> {
    /// The entries, at most [`MAX_ADDR_ENTRIES`](limits::MAX_ADDR_ENTRIES) in a valid message.
    pub addr_list: List<'a, AddrV2Entry<'a>>,
}

impl<'a> AddrV2<'a> {
    /// Returns the message carrying `entries`; more than
    /// [`MAX_ADDR_ENTRIES`](limits::MAX_ADDR_ENTRIES) encode but are refused by receivers.
    #[must_use]
    pub const fn from_entries(entries: &'a [AddrV2Entry<'a>]) -> Self {
        Self {
            addr_list: List::from_items(entries),
        }
    }

    /// Returns an iterator over the entries, decoding each on demand.
    #[must_use]
    pub fn iter(&self) -> Iter<'a, AddrV2Entry<'a>> {
        self.addr_list.iter()
    }

    /// Returns the number of entries.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.addr_list.len()
    }

    /// Returns whether the message has no entries.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.addr_list.is_empty()
    }
}

impl<'a> IntoIterator for &AddrV2<'a> {
    type Item = AddrV2Entry<'a>;
    type IntoIter = Iter<'a, AddrV2Entry<'a>>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl Encode for AddrV2<'_> {
    fn encoded_len(&self) -> usize {
        self.addr_list.encoded_len()
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        self.addr_list.encode(buf);
    }
}

impl<'a> Payload<'a> for AddrV2<'a> {
    const COMMAND: Command = Command::new("addrv2");
    const MAX_LEN: u32 = (compact_size_len(limits::MAX_ADDR_ENTRIES)
        + limits::MAX_ADDR_ENTRIES as usize * AddrV2Entry::MAX_LEN) as u32;

    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, addr_list) = List::parse(input, "addr_list", limits::MAX_ADDR_ENTRIES)?;
        Ok((i, Self { addr_list }))
    }
}

#[cfg(any(test, feature = "proptest"))]
pub(crate) mod strategy {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::types::net_addr::strategy::{addr_entry, addr_v2_parts};

    /// `addr` and `addrv2` payloads of up to four entries.
    pub(crate) fn payloads() -> BoxedStrategy<(Command, Vec<u8>)> {
        let addr = proptest::collection::vec(addr_entry(), 0..5)
            .prop_map(|entries| (Addr::COMMAND, Addr::from_entries(&entries).to_vec()));
        let addr_v2 = proptest::collection::vec(addr_v2_parts(), 0..5).prop_map(|parts| {
            let entries: Vec<AddrV2Entry<'_>> = parts.iter().map(|p| p.entry()).collect();
            (AddrV2::COMMAND, AddrV2::from_entries(&entries).to_vec())
        });
        prop_oneof![addr, addr_v2].boxed()
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::ToString;
    use alloc::vec;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::DecodeErrorKind;
    use crate::msg::Message;
    use crate::testutil::hex;
    use crate::types::{NetAddr, NetAddrV2, ServiceFlags};

    /// From the Bitcoin wiki's `addr` hexdump: one entry, 10.0.0.1:8333, at 1292899810.
    const WIKI_ADDR: &str = "01e215104d010000000000000000000000000000000000ffff0a000001208d";

    /// The developer reference's `addr` entry (192.0.2.51:8333 at 1414012889).
    const DEVREF_ENTRY: &str = "d91f4854010000000000000000000000000000000000ffffc0000233208d";

    #[test]
    fn addr_vectors() {
        let raw = hex(WIKI_ADDR);
        let addr = Addr::decode(&raw).unwrap();
        assert_eq!(addr.len(), 1);
        let entry = addr.iter().next().unwrap();
        assert_eq!(entry.time, 1_292_899_810);
        assert_eq!(entry.addr.services, ServiceFlags::NETWORK);
        assert_eq!(entry.addr.to_string(), "10.0.0.1:8333");
        assert_eq!(addr.to_vec(), raw);

        // Two entries, the second from the developer reference, rebuilt from values.
        let mut raw = hex(WIKI_ADDR);
        raw[0] = 2;
        raw.extend(hex(DEVREF_ENTRY));
        let addr = Addr::decode(&raw).unwrap();
        let entries: Vec<AddrEntry> = addr.iter().collect();
        assert_eq!(entries[1].time, 1_414_012_889);
        assert_eq!(entries[1].addr.to_string(), "192.0.2.51:8333");
        let built = Addr::from_entries(&entries);
        assert_eq!(built, addr);
        assert_eq!(built.to_vec(), raw);
        assert_eq!(built.encoded_len(), raw.len());
        assert_eq!((&built).into_iter().count(), 2);

        let empty = Addr::decode(&[0]).unwrap();
        assert!(empty.is_empty());
        assert_eq!(Addr::from_entries(&[]).to_vec(), [0]);
        let Ok(Message::Addr(m)) = Message::decode(Addr::COMMAND, &raw) else {
            panic!("addr did not decode as Message::Addr");
        };
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn addr_limits() {
        assert_eq!(Addr::MAX_LEN, 30_003);
        // 1,000 entries: the largest valid message.
        let entry = AddrEntry::new(7, NetAddr::new(ServiceFlags::NETWORK, [1; 16], 8333));
        let entries = vec![entry; 1000];
        let raw = Addr::from_entries(&entries).to_vec();
        assert_eq!(raw.len(), Addr::MAX_LEN as usize);
        assert_eq!(Addr::decode(&raw).unwrap().len(), 1000);
        // 1,001 entries: refused on the count, before the entries.
        let entries = vec![entry; 1001];
        let raw = Addr::from_entries(&entries).to_vec();
        let e = Addr::decode(&raw).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (
                DecodeErrorKind::OverLimit {
                    value: 1001,
                    limit: 1000
                },
                Some("addr_list"),
                0
            )
        );
        // A count of 1,000 (within the limit) with no entries after it.
        let e = Addr::decode(&hex("fde803")).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (
                DecodeErrorKind::CountOverRemaining {
                    count: 1000,
                    needed: 30_000,
                    remaining: 0
                },
                Some("addr_list"),
                0
            )
        );
    }

    #[test]
    fn addr_malformed() {
        let raw = hex(WIKI_ADDR);
        // Truncated inside the only entry: the count claims more than remains.
        let e = Addr::decode(&raw[..raw.len() - 1]).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (
                DecodeErrorKind::CountOverRemaining {
                    count: 1,
                    needed: 30,
                    remaining: 29
                },
                Some("addr_list"),
                0
            )
        );
        // Trailing bytes.
        let mut long = raw.clone();
        long.push(0);
        let e = Addr::decode(&long).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (DecodeErrorKind::TrailingBytes(1), None, 31)
        );
        // A count of 1 in three bytes.
        let mut non_minimal = hex("fd0100");
        non_minimal.extend(&raw[1..]);
        let e = Addr::decode(&non_minimal).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (
                DecodeErrorKind::NonMinimalCompactSize(1),
                Some("addr_list"),
                0
            )
        );
        // Empty payload.
        let e = Addr::decode(&[]).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (DecodeErrorKind::Truncated, Some("addr_list"), 0)
        );
    }

    /// The developer reference's `addrv2` entry (192.0.2.51:45444, NODE_WITNESS |
    /// NODE_COMPACT_FILTERS | NODE_NETWORK_LIMITED), then a Tor v3 and an I2P entry with
    /// Bitcoin Core's `net_tests.cpp` addresses.
    #[test]
    fn addr_v2_vectors() {
        let raw = hex(concat!(
            "03",
            "d91f4854fd48040104c0000233b184",
            "00000000",
            "09",
            "042079bcc625184b05194975c28b66b66b0469f7f6556fb1ac3189a79b40dda32f1f",
            "208d",
            "ffffffff",
            "00",
            "0520a2894dabaec08c0051a481a6dac88b64f98232ae42d4b6fd2fa81952dfe36a87",
            "0000",
        ));
        let msg = AddrV2::decode(&raw).unwrap();
        assert_eq!(msg.len(), 3);
        let entries: Vec<AddrV2Entry<'_>> = msg.iter().collect();
        assert_eq!(entries[0].to_string(), "192.0.2.51:45444");
        assert_eq!(entries[0].services.bits(), 0x448);
        assert_eq!(
            entries[1].services,
            ServiceFlags::NETWORK | ServiceFlags::WITNESS
        );
        assert!(matches!(entries[1].addr, NetAddrV2::TorV3(k) if k[0] == 0x79));
        assert_eq!(entries[1].port, 8333);
        assert_eq!(entries[2].time, u32::MAX);
        assert_eq!(
            entries[2].addr.to_string(),
            "ukeu3k5oycgaauneqgtnvselmt4yemvoilkln7jpvamvfx7dnkdq.b32.i2p"
        );
        assert_eq!(msg.to_vec(), raw);
        let built = AddrV2::from_entries(&entries);
        assert_eq!(built, msg);
        assert_eq!(built.to_vec(), raw);
        assert_eq!(built.encoded_len(), raw.len());
        assert_eq!((&built).into_iter().count(), 3);
        assert!(AddrV2::decode(&[0]).unwrap().is_empty());
        let Ok(Message::AddrV2(m)) = Message::decode(AddrV2::COMMAND, &raw) else {
            panic!("addrv2 did not decode as Message::AddrV2");
        };
        assert_eq!(m, msg);
    }

    #[test]
    fn addr_v2_limits() {
        assert_eq!(AddrV2::MAX_LEN, 3 + 1000 * 531);
        // 1,000 largest entries: the largest valid message.
        let big = [0xee; 512];
        let addr = NetAddrV2::from_bytes(crate::types::NetworkId(200), &big).unwrap();
        let entry = AddrV2Entry::new(1, ServiceFlags(u64::MAX), addr, 1);
        let entries = vec![entry; 1000];
        let raw = AddrV2::from_entries(&entries).to_vec();
        assert_eq!(raw.len(), AddrV2::MAX_LEN as usize);
        assert_eq!(AddrV2::decode(&raw).unwrap().len(), 1000);
        // 1,001 entries: refused on the count.
        let small = AddrV2Entry::new(1, ServiceFlags::NONE, NetAddrV2::Ipv4([1, 2, 3, 4]), 1);
        let entries = vec![small; 1001];
        let e = AddrV2::decode(&AddrV2::from_entries(&entries).to_vec()).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (
                DecodeErrorKind::OverLimit {
                    value: 1001,
                    limit: 1000
                },
                Some("addr_list"),
                0
            )
        );
        // 2 entries claimed, 13 bytes left: not enough for two 9-byte minimal entries.
        let mut raw = vec![2];
        raw.extend(small.to_vec());
        let e = AddrV2::decode(&raw).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (
                DecodeErrorKind::CountOverRemaining {
                    count: 2,
                    needed: 18,
                    remaining: 13
                },
                Some("addr_list"),
                0
            )
        );
    }

    #[test]
    fn addr_v2_malformed() {
        // An IPv4 address 5 bytes long in the second entry.
        let good = AddrV2Entry::new(0, ServiceFlags::NONE, NetAddrV2::Ipv4([1, 2, 3, 4]), 1);
        let mut raw = vec![2];
        raw.extend(good.to_vec());
        raw.extend(hex("00000000000105010203040500"));
        let e = AddrV2::decode(&raw).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (
                DecodeErrorKind::AddressLength {
                    network: 1,
                    expected: 4,
                    actual: 5
                },
                Some("address"),
                1 + 13 + 6
            )
        );
        // An address over MAX_ADDRV2_SIZE.
        let mut raw = vec![1];
        raw.extend(hex("0000000000aafd0102"));
        raw.extend([0; 515]);
        let e = AddrV2::decode(&raw).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (
                DecodeErrorKind::OverLimit {
                    value: 513,
                    limit: 512
                },
                Some("address"),
                7
            )
        );
        // Truncated in the port; trailing bytes after a valid message.
        let mut raw = vec![1];
        raw.extend(good.to_vec());
        let e = AddrV2::decode(&raw[..raw.len() - 1]).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (DecodeErrorKind::Truncated, Some("port"), 12)
        );
        raw.extend([1, 2]);
        let e = AddrV2::decode(&raw).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (DecodeErrorKind::TrailingBytes(2), None, 14)
        );
        // Non-minimal count and non-minimal services.
        let mut raw = hex("fd0100");
        raw.extend(good.to_vec());
        let e = AddrV2::decode(&raw).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (
                DecodeErrorKind::NonMinimalCompactSize(1),
                Some("addr_list"),
                0
            )
        );
        let raw = hex("0100000000fe0100000001040102030400");
        let e = AddrV2::decode(&raw).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (
                DecodeErrorKind::NonMinimalCompactSize(1),
                Some("services"),
                5
            )
        );
    }

    proptest! {
        #[test]
        fn roundtrip((command, payload) in strategy::payloads()) {
            let msg = Message::decode(command, &payload).unwrap();
            prop_assert_eq!(msg.to_vec(), payload.clone());
            prop_assert_eq!(msg.encoded_len(), payload.len());
            match msg {
                Message::Addr(a) => prop_assert_eq!(payload.len(), 1 + 30 * a.len()),
                Message::AddrV2(a) => {
                    let entries: Vec<_> = a.iter().collect();
                    prop_assert_eq!(AddrV2::from_entries(&entries).to_vec(), payload);
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }

        #[test]
        fn decode_never_panics(raw in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(msg) = AddrV2::decode(&raw) {
                prop_assert_eq!(msg.to_vec(), raw.clone());
            }
            if let Ok(msg) = Addr::decode(&raw) {
                prop_assert_eq!(msg.to_vec(), raw);
            }
        }
    }
}
