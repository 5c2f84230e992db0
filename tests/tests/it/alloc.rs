//! Hostile length and count claims allocate nothing proportional to the claim.
//!
//! A counting global allocator (`allocation-counter`, per thread) wraps every test in this
//! binary; these tests measure decoding under it.

use btcwire::Payload;
use btcwire::msg::{KNOWN_COMMANDS, Message};
use btcwire::{FrameDecoder, FrameError, Magic};
use btcwire_tests::raw_frame;

/// CompactSize claims a hostile peer might send: 2^32, MAX_SIZE + 1, 50,001, 2,001, 1,001.
const CLAIMS: [&[u8]; 6] = [
    &[0xff, 0, 0, 0, 0, 1, 0, 0, 0],
    &[0xfe, 0x01, 0x00, 0x00, 0x02],
    &[0xfd, 0x51, 0xc3],
    &[0xfd, 0xd1, 0x07],
    &[0xfd, 0xe9, 0x03],
    &[0xfd, 0xff, 0xff],
];

#[test]
fn hostile_counts_allocate_nothing_in_any_message() {
    for &command in KNOWN_COMMANDS {
        for claim in CLAIMS {
            // The claim at every position of a short payload: as the first field, after a
            // 4-byte version, after an 80-byte header, after a 32-byte hash.
            for prefix in [0usize, 1, 4, 8, 32, 36, 80, 81, 88] {
                let mut payload = vec![0u8; prefix];
                payload.extend_from_slice(claim);
                payload.extend_from_slice(&[0u8; 7]);
                let info = allocation_counter::measure(|| {
                    let _ = std::hint::black_box(Message::decode(command, &payload));
                });
                assert_eq!(
                    info.bytes_total, 0,
                    "{command} with claim {claim:02x?} after {prefix} bytes allocated {info:?}"
                );
            }
        }
    }
}

#[test]
fn hostile_frame_length_reserves_nothing() {
    let magic = Magic::MAINNET;
    for (command, len) in [
        (*b"block\0\0\0\0\0\0\0", 4_000_000u32),
        (*b"tx\0\0\0\0\0\0\0\0\0\0", 3_999_999),
    ] {
        let mut buf = raw_frame(magic, command, len, [0; 4], &[1, 2, 3]);
        let mut decoder = FrameDecoder::new(magic);
        let info = allocation_counter::measure(|| {
            assert_eq!(decoder.decode(&mut buf), Ok(None));
        });
        assert_eq!(info.bytes_total, 0, "{info:?}");
        assert!(buf.capacity() < 1_024, "buffer grew to {}", buf.capacity());
    }
    // Over the network limit: refused from the header alone, nothing reserved.
    let mut buf = raw_frame(magic, *b"block\0\0\0\0\0\0\0", u32::MAX, [0; 4], &[]);
    let mut decoder = FrameDecoder::new(magic);
    let info = allocation_counter::measure(|| {
        assert_eq!(
            decoder.decode(&mut buf),
            Err(FrameError::PayloadTooLarge {
                len: u32::MAX,
                limit: 4_000_000
            })
        );
    });
    assert_eq!(info.bytes_total, 0);
}

#[test]
fn real_block_decode_allocates_nothing() {
    for real in btcwire_tests::REAL_BLOCKS {
        let info = allocation_counter::measure(|| {
            let block = btcwire::msg::Block::decode(real.bytes);
            let block = block.expect("real block decodes");
            let mut items = 0usize;
            for tx in block.txs() {
                items += tx.inputs.len()
                    + tx.outputs.len()
                    + tx.witnesses.iter().map(|w| w.len()).sum::<usize>();
            }
            std::hint::black_box(items);
        });
        assert_eq!(
            info.count_total, 0,
            "decoding and walking block {} allocated {info:?}",
            real.height
        );
    }
}
