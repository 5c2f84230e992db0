//! The `tokio_util` codec over in-memory pipes: messages out, frames in, limits enforced.

use btcwire::frame::{CodecError, FrameCodec};
use btcwire::msg::{Message, Ping, Pong, Verack};
use btcwire::{FrameError, Magic, Network};
use btcwire_tests::raw_frame;
use futures::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{FramedRead, FramedWrite};

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

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
    assert!(matches!(
        item,
        Err(CodecError::Frame(FrameError::PayloadTooLarge {
            len: 4_000_001,
            limit: 4_000_000
        }))
    ));
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
    assert!(matches!(
        item,
        Err(CodecError::Frame(FrameError::WrongMagic {
            expected: Magic::SIGNET,
            actual: Magic::MAINNET
        }))
    ));
}
