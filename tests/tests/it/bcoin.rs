//! Interop with a real foreign implementation: bcoin 1.0.2 (JavaScript) on loopback.
//!
//! The test installs bcoin from the npm registry if it is missing, starts a regtest node,
//! mines blocks through its JSON-RPC, and our peer: completes the handshake both ways,
//! exchanges ping/pong, downloads the headers with `getheaders` and a block with `getdata`,
//! and checks the block's merkle root, witness commitment and proof of work with our code.

use std::time::Duration;

use btcwire::msg::{Block, Headers, Message};
use btcwire::types::{BlockHash, InvItem, InvType, ServiceFlags};
use btcwire::{Network, Payload};
use btcwire_net::{Event, Listener, NonceSet, PeerConfig, PeerEvent, Role, Target};
use btcwire_tests::bcoin::Bcoin;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// Regtest's genesis block hash.
const REGTEST_GENESIS: &str = "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206";

/// Bound on every wait.
const WAIT: Duration = Duration::from_secs(60);

/// Blocks mined for the test.
const BLOCKS: u32 = 12;

async fn next_message(events: &mut mpsc::Receiver<Event>, command: &str) -> btcwire::Frame {
    for _ in 0..10_000 {
        let event = tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("event in time")
            .expect("open");
        if let Event::Peer {
            event: PeerEvent::Message(frame),
            ..
        } = event
        {
            if frame.command().as_str() == command {
                return frame;
            }
        }
    }
    panic!("no `{command}` among 10,000 events");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interop_with_bcoin() {
    let node = Bcoin::start().await.expect("bcoin installs and starts");
    let mined = node
        .generate(BLOCKS)
        .await
        .expect("mining through JSON-RPC");
    assert_eq!(mined.len(), BLOCKS as usize);
    let config = PeerConfig::new(Network::Regtest);

    // Outbound: we connect to bcoin.
    let done = btcwire_net::connect(&Target::Addr(node.p2p), None, &config, &NonceSet::new())
        .await
        .expect("handshake with bcoin");
    assert!(
        done.info.user_agent.contains("bcoin"),
        "user agent {:?}",
        done.info.user_agent
    );
    assert!(done.info.version >= 70_015);
    assert_eq!(done.info.start_height, i32::try_from(BLOCKS).unwrap());
    let commands: Vec<_> = done
        .info
        .timeline
        .iter()
        .map(|t| (t.direction, t.command.as_str()))
        .collect();
    assert_eq!(
        commands.first(),
        Some(&(btcwire_net::Direction::Sent, "version"))
    );
    let (tx, mut events) = mpsc::channel(1024);
    let peer = btcwire_net::spawn(done, 1, &config, tx);

    // Ping/pong: our peer pings at once after the handshake. bcoin's `pong` arrives (as a
    // message, first), our peer matches its nonce with the outstanding ping and reports the
    // round-trip time, which its statistics record, with no ping left outstanding.
    let mut pongs = Vec::new();
    let mut rtt = None;
    for _ in 0..10_000 {
        let event = tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("event in time")
            .expect("open");
        match event {
            Event::Peer {
                event: PeerEvent::Message(frame),
                ..
            } if frame.command().as_str() == "pong" => {
                pongs.push(frame.decode_as::<btcwire::msg::Pong>().unwrap().nonce);
            }
            Event::Peer {
                event: PeerEvent::Pong { rtt: measured },
                ..
            } => {
                rtt = Some(measured);
                break;
            }
            _ => {}
        }
    }
    let rtt = rtt.expect("a matched pong among 10,000 events");
    assert_eq!(pongs.len(), 1, "one pong, answering our ping: {pongs:?}");
    assert_ne!(pongs[0], 0);
    let stats = peer.stats().await.unwrap();
    assert_eq!((stats.ping_last, stats.ping_min), (Some(rtt), Some(rtt)));
    assert_eq!(stats.ping_pending_since, None);

    // Headers from genesis: each links to the previous and meets its target.
    let genesis: BlockHash = REGTEST_GENESIS.parse().unwrap();
    assert!(peer.push_getheaders(vec![genesis], BlockHash::ZERO).await);
    let frame = next_message(&mut events, "headers").await;
    let headers = Headers::decode(&frame.payload).unwrap();
    assert_eq!(headers.len(), BLOCKS as usize);
    let mut prev = genesis;
    let mut hashes = Vec::new();
    for header in headers.iter() {
        assert_eq!(header.prev_blockhash, prev);
        let hash = header
            .check_pow_on(Network::Regtest)
            .expect("proof of work on regtest");
        hashes.push(hash.to_string());
        prev = hash;
    }
    assert_eq!(hashes, mined);

    // The tip block with `getdata`: merkle root, witness commitment and proof of work.
    assert!(
        peer.push_getdata(vec![InvItem {
            inv_type: InvType::WITNESS_BLOCK,
            hash: prev.0
        }])
        .await
    );
    let frame = next_message(&mut events, "block").await;
    let Message::Block(block) = frame.message().unwrap() else {
        panic!("not a block")
    };
    assert_eq!(block.block_hash(), prev);
    assert_eq!(block.check(), Ok(prev));
    assert!(block.txs().next().unwrap().is_coinbase());
    assert_eq!(
        Block::decode(&frame.payload).unwrap().txs.len(),
        block.txs.len()
    );
    peer.disconnect();

    // Inbound: bcoin connects to our listener.
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ours = socket.local_addr().unwrap();
    let (tx, mut events) = mpsc::channel(1024);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // bcoin only keeps outbound peers that claim NODE_NETWORK and NODE_WITNESS.
    let mut config = config;
    config.services = ServiceFlags::NETWORK | ServiceFlags::WITNESS;
    let listener = Listener::new(socket, config, 8);
    let running = tokio::spawn(listener.run(tx, async move {
        let _ = stop_rx.await;
    }));
    node.rpc("addnode", serde_json::json!([ours.to_string(), "onetry"]))
        .await
        .expect("addnode");
    let mut inbound = None;
    for _ in 0..10_000 {
        match tokio::time::timeout(WAIT, events.recv())
            .await
            .expect("bcoin connects")
            .unwrap()
        {
            Event::Connected(handle) => {
                inbound = Some(handle);
                break;
            }
            Event::HandshakeFailed { error, .. } => panic!("inbound handshake failed: {error}"),
            _ => {}
        }
    }
    let inbound = inbound.expect("bcoin connects among 10,000 events");
    assert_eq!(inbound.info().role, Role::Inbound);
    assert!(inbound.info().user_agent.contains("bcoin"));
    assert_eq!(inbound.info().start_height, i32::try_from(BLOCKS).unwrap());
    stop_tx.send(()).unwrap();
    tokio::time::timeout(WAIT, running).await.unwrap().unwrap();
}
