//! Streams of many different messages, cut at random points, decode to the same frames.

use btcwire::bytes::BytesMut;
use btcwire::{FrameDecoder, Message, Network, encode_frame};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_messages_any_cuts(
        msgs in proptest::collection::vec(btcwire::strategy::any_payload(), 1..12),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..16),
    ) {
        let magic = Network::Testnet4.magic();
        let mut wire = BytesMut::new();
        for (command, payload) in &msgs {
            let msg = Message::decode(*command, payload).unwrap();
            encode_frame(magic, &msg, &mut wire).unwrap();
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.sort_unstable();
        points.push(wire.len());
        let mut decoder = FrameDecoder::new(magic);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut last = 0;
        for p in points {
            buf.extend_from_slice(&wire[last..p]);
            last = p;
            while let Some(frame) = decoder.decode(&mut buf).unwrap() {
                out.push((frame.header.command, frame.payload.to_vec()));
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(out, msgs);
    }
}
