//! The `tokio_util` codec over in-memory pipes: messages out, frames in, limits enforced.

use btcwire::frame::{CodecError, Frame, FrameCodec};
use btcwire::msg::{Inv, Message, Ping, Pong, Verack};
use btcwire::types::{BlockHash, InvItem};
use btcwire::{Command, FrameError, Magic, Network};
use btcwire_tests::raw_frame;
use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{Decoder, Encoder};
use tokio_util::codec::{FramedRead, FramedWrite};

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The frame error inside a codec error; an I/O error fails the test.
fn frame_error(e: CodecError) -> FrameError {
    match e {
        CodecError::Frame(e) => e,
        other => panic!("not a frame error: {other:?}"),
    }
}

#[tokio::test]
async fn messages_cross_a_pipe() {
    let magic = Network::Regtest.magic();
    let (client, server) = tokio::io::duplex(64);
    let mut tx = FramedWrite::new(client, FrameCodec::new(magic));
    let mut rx = FramedRead::new(server, FrameCodec::new(magic));
    let writer = tokio::spawn(async move {
        for nonce in 0..100u64 {
            tx.send(&Ping { nonce }).await.unwrap();
            tx.send(&Pong { nonce }).await.unwrap();
        }
        tx.send(&Message::Verack(Verack)).await.unwrap();
    });
    let mut pings = 0u64;
    let mut pongs = 0u64;
    loop {
        let frame = tokio::time::timeout(TIMEOUT, rx.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
            .unwrap();
        match frame.message().unwrap() {
            Message::Ping(p) => {
                assert_eq!(p.nonce, pings);
                pings += 1;
            }
            Message::Pong(p) => {
                assert_eq!(p.nonce, pongs);
                pongs += 1;
            }
            Message::Verack(_) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((pings, pongs), (100, 100));
    writer.await.unwrap();
}

#[tokio::test]
async fn oversize_frame_is_an_error_before_its_payload_arrives() {
    let magic = Magic::MAINNET;
    let (mut client, server) = tokio::io::duplex(1024);
    let mut rx = FramedRead::new(server, FrameCodec::new(magic));
    // Only the header is ever written: the codec must refuse it without waiting for more.
    let header = raw_frame(magic, *b"block\0\0\0\0\0\0\0", 4_000_001, [0; 4], &[]);
    client.write_all(&header).await.unwrap();
    let item = tokio::time::timeout(TIMEOUT, rx.next())
        .await
        .unwrap()
        .unwrap();
    let over = FrameError::PayloadTooLarge {
        len: 4_000_001,
        limit: 4_000_000,
    };
    assert_eq!(frame_error(item.unwrap_err()), over);
}

#[tokio::test]
async fn wrong_magic_is_refused() {
    let (mut client, server) = tokio::io::duplex(1024);
    let mut rx = FramedRead::new(server, FrameCodec::new(Magic::SIGNET));
    let frame = btcwire_tests::frame(Magic::MAINNET, "verack", &[]);
    client.write_all(&frame).await.unwrap();
    let item = tokio::time::timeout(TIMEOUT, rx.next())
        .await
        .unwrap()
        .unwrap();
    let wrong = FrameError::WrongMagic {
        expected: Magic::SIGNET,
        actual: Magic::MAINNET,
    };
    assert_eq!(frame_error(item.unwrap_err()), wrong);
}

/// A frame whose checksum fails is handed over as an item and consumed; the frames after it
/// still arrive. Anything else wrong with the envelope ends the stream.
#[tokio::test]
async fn bad_checksum_is_an_item_and_the_stream_goes_on() {
    let magic = Magic::REGTEST;
    let (mut client, server) = tokio::io::duplex(1024);
    let mut rx = FramedRead::new(server, FrameCodec::new(magic));
    let good = btcwire_tests::frame(magic, "ping", &7u64.to_le_bytes());
    let mut bad = good.clone();
    bad[20] ^= 1;
    let mut bytes = bad.to_vec();
    bytes.extend_from_slice(&good);
    bytes.extend_from_slice(&raw_frame(
        magic,
        *b"pi\x01g\0\0\0\0\0\0\0\0",
        0,
        [0; 4],
        &[],
    ));
    bytes.extend_from_slice(&good);
    client.write_all(&bytes).await.unwrap();
    let mut next = async || {
        tokio::time::timeout(TIMEOUT, rx.next())
            .await
            .expect("an item in time")
    };
    let first = next().await.unwrap().unwrap();
    assert!(
        matches!(first, Err(FrameError::BadChecksum { command, .. }) if command == Command::new("ping")),
        "{first:?}"
    );
    let second = next().await.unwrap().unwrap().unwrap();
    assert_eq!(second.message().unwrap(), Message::Ping(Ping { nonce: 7 }));
    // An invalid command is fatal: an error, then the end of the stream.
    let third = frame_error(next().await.unwrap().unwrap_err());
    assert!(matches!(third, FrameError::InvalidCommand(_)), "{third:?}");
    assert!(next().await.is_none());
}

/// A header over its command's own limit is refused from the header alone, and the codec's
/// lowered limit applies to every command.
#[test]
fn per_message_and_lowered_limits() {
    let mut codec = FrameCodec::new(Magic::MAINNET);
    let mut src = raw_frame(Magic::MAINNET, *b"ping\0\0\0\0\0\0\0\0", 9, [0; 4], &[]);
    let e = frame_error(codec.decode(&mut src).unwrap_err());
    assert!(
        matches!(
            e,
            FrameError::MessageTooLarge {
                len: 9,
                limit: 8,
                ..
            }
        ),
        "{e:?}"
    );
    let mut small = FrameCodec::new(Magic::MAINNET).with_max_payload_len(1_000);
    let mut src = raw_frame(Magic::MAINNET, *b"block\0\0\0\0\0\0\0", 1_001, [0; 4], &[]);
    let e = frame_error(small.decode(&mut src).unwrap_err());
    let over = FrameError::PayloadTooLarge {
        len: 1_001,
        limit: 1_000,
    };
    assert_eq!(e, over);
}

/// The encoder writes only what a decoder for its network takes, and nothing otherwise.
#[test]
fn encoder_refuses_what_the_other_side_would() {
    let mut codec = FrameCodec::new(Magic::REGTEST);
    let mut dst = BytesMut::new();
    // A frame for another network.
    let mainnet = Frame::from_message(Magic::MAINNET, &Verack).unwrap();
    let e = frame_error(codec.encode(mainnet.clone(), &mut dst).unwrap_err());
    let wrong = FrameError::WrongMagic {
        expected: Magic::REGTEST,
        actual: Magic::MAINNET,
    };
    assert_eq!(e, wrong);
    // A frame whose header does not describe its payload.
    let mut lying = Frame::from_message(Magic::REGTEST, &Ping { nonce: 1 }).unwrap();
    lying.payload = Bytes::from_static(&[0; 7]);
    let e = frame_error(codec.encode(lying, &mut dst).unwrap_err());
    assert!(
        matches!(
            e,
            FrameError::LengthMismatch {
                header: 8,
                payload: 7,
                ..
            }
        ),
        "{e:?}"
    );
    // A message over its command's limit: 50,001 inventory entries.
    let items = vec![InvItem::block(BlockHash([1; 32])); 50_001];
    let e = frame_error(
        codec
            .encode(&Inv::from_items(&items), &mut dst)
            .unwrap_err(),
    );
    assert!(
        matches!(e, FrameError::MessageTooLarge { len: 1_800_039, .. }),
        "{e:?}"
    );
    assert!(dst.is_empty(), "nothing written for refused frames");
    // What it does write decodes on the other side.
    codec
        .encode(&Inv::from_items(&items[..50_000]), &mut dst)
        .unwrap();
    codec
        .encode(
            Frame::from_message(Magic::REGTEST, &Verack).unwrap(),
            &mut dst,
        )
        .unwrap();
    let first = codec.decode(&mut dst).unwrap().unwrap().unwrap();
    assert_eq!(first.decode_as::<Inv<'_>>().unwrap().len(), 50_000);
    let second = codec.decode(&mut dst).unwrap().unwrap().unwrap();
    assert_eq!(second.command(), Command::new("verack"));
}
