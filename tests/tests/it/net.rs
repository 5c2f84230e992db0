//! Our peers over in-memory pipes and loopback TCP: back to back, a listener with many
//! clients, hostile peers for each violation, and a pool whose peers carry on.

use std::net::SocketAddr;
use std::time::Duration;

use btcwire::bytes::BytesMut;
use btcwire::msg::{Inv, Ping, WtxidRelay};
use btcwire::types::{InvItem, InvType};
use btcwire::{Command, DecodeErrorKind, FrameError, Magic, Message, Network, encode_frame};
use btcwire_net::addrbook::AddrSource;
use btcwire_net::{
    AddrBook, DisconnectReason, Event, Listener, NonceSet, PeerAddr, PeerConfig, PeerEvent,
    PeerHandle, Pool, PoolConfig, Role, Target, Violation,
};
use btcwire_tests::{frame, raw_frame};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// Bound on every wait in these tests.
const WAIT: Duration = Duration::from_secs(20);

fn config() -> PeerConfig {
    let mut config = PeerConfig::new(Network::Regtest);
    // Trickle inventory quickly so the tests wait milliseconds, not seconds.
    config.inv_broadcast_interval = Duration::from_millis(50);
    config
}

async fn next_event(events: &mut mpsc::Receiver<Event>) -> Event {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .expect("event in time")
        .expect("channel open")
}

/// Waits for the first event matching `pick`, skipping others (bounded by count and time).
async fn wait_for<T>(
    events: &mut mpsc::Receiver<Event>,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    for _ in 0..10_000 {
        let event = next_event(events).await;
        if let Some(found) = pick(&event) {
            return found;
        }
    }
    panic!("no matching event among 10,000");
}

#[tokio::test]
async fn two_peers_back_to_back_over_a_pipe() {
    let (a, b) = tokio::io::duplex(4096);
    let addr: SocketAddr = "127.0.0.1:18444".parse().unwrap();
    // Separate nonce sets: a shared one would (rightly) flag a connection to ourselves.
    let (nonces_a, nonces_b) = (NonceSet::new(), NonceSet::new());
    let cfg = config();
    let (out, inn) = tokio::join!(
        btcwire_net::handshake(a, Role::Outbound, addr, &cfg, &nonces_a),
        btcwire_net::accept(b, addr, &cfg, &nonces_b),
    );
    let (out, inn) = (out.unwrap(), inn.unwrap());
    assert_eq!(out.info.user_agent, cfg.user_agent);
    assert!(out.info.wtxidrelay && out.info.sendaddrv2);
    // The outbound side's fingerprint: its version first, our verack last.
    let commands: Vec<_> = out
        .info
        .timeline
        .iter()
        .map(|t| t.command.as_str())
        .collect();
    assert_eq!(commands.first(), Some(&"version"));
    assert!(commands.contains(&"wtxidrelay") && commands.contains(&"sendaddrv2"));

    let (tx_a, mut ev_a) = mpsc::channel(64);
    let (tx_b, mut ev_b) = mpsc::channel(64);
    let peer_a = btcwire_net::spawn(out, 1, &cfg, tx_a);
    let peer_b = btcwire_net::spawn(inn, 2, &cfg, tx_b);

    // Both ping at once after the handshake: each sees a pong with a round-trip time.
    for events in [&mut ev_a, &mut ev_b] {
        let rtt = wait_for(events, |e| match e {
            Event::Peer {
                event: PeerEvent::Pong { rtt },
                ..
            } => Some(*rtt),
            _ => None,
        })
        .await;
        assert!(rtt < WAIT);
    }

    // A message written by A reaches B, and the notification says it left.
    let items = [InvItem {
        inv_type: InvType::BLOCK,
        hash: [3; 32],
    }];
    assert_eq!(peer_a.send_notify(&Inv::from_items(&items)).await, Ok(()));
    let got = wait_for(&mut ev_b, |e| match e {
        Event::Peer {
            event: PeerEvent::Message(f),
            ..
        } if f.command() == Command::new("inv") => Some(f.clone()),
        _ => None,
    })
    .await;
    let Message::Inv(inv) = got.message().unwrap() else {
        panic!()
    };
    assert_eq!(inv.iter().next(), Some(items[0]));

    let stats = peer_a.stats().await.unwrap();
    assert!(stats.messages_sent >= 2 && stats.ping_last.is_some());
    assert_eq!(stats.disconnect_reason, None);

    peer_a.disconnect();
    assert_eq!(
        tokio::time::timeout(WAIT, peer_a.wait_for_disconnect())
            .await
            .unwrap(),
        DisconnectReason::Requested
    );
    assert_eq!(
        tokio::time::timeout(WAIT, peer_b.wait_for_disconnect())
            .await
            .unwrap(),
        DisconnectReason::Closed
    );
    // The final snapshots say why each side ended, and keep the traffic counted.
    let final_a = tokio::time::timeout(WAIT, peer_a.stats())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_a.disconnect_reason, Some(DisconnectReason::Requested));
    assert!(final_a.messages_sent >= stats.messages_sent);
    let final_b = tokio::time::timeout(WAIT, peer_b.stats())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(final_b.disconnect_reason, Some(DisconnectReason::Closed));
}

async fn start_listener(
    max: usize,
) -> (
    SocketAddr,
    mpsc::Receiver<Event>,
    tokio::sync::oneshot::Sender<()>,
) {
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let listener = Listener::new(socket, config(), max);
    let (tx, rx) = mpsc::channel(1024);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(listener.run(tx, async move {
        let _ = stop_rx.await;
    }));
    (addr, rx, stop_tx)
}

#[tokio::test]
async fn a_listener_with_many_clients() {
    const CLIENTS: usize = 50;
    let (addr, mut events, stop) = start_listener(CLIENTS).await;
    let cfg = config();
    let nonces = NonceSet::new();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (cfg, nonces) = (cfg.clone(), nonces.clone());
        tasks.spawn(
            async move { btcwire_net::connect(&Target::Addr(addr), None, &cfg, &nonces).await },
        );
    }
    let mut clients = Vec::new();
    while let Some(done) = tasks.join_next().await {
        clients.push(done.unwrap().expect("handshake with our listener"));
    }
    let mut connected = Vec::new();
    while connected.len() < CLIENTS {
        if let Event::Connected(handle) = next_event(&mut events).await {
            assert_eq!(handle.info().role, Role::Inbound);
            connected.push(handle);
        }
    }
    assert_eq!(clients.len(), CLIENTS);
    // Over the cap: the connection is closed without a handshake.
    let refused = btcwire_net::connect(&Target::Addr(addr), None, &cfg, &nonces).await;
    assert!(refused.is_err(), "the 51st client must be refused");
    // Shutdown ends every peer with the reason `Shutdown`.
    stop.send(()).unwrap();
    for handle in connected {
        let reason = tokio::time::timeout(WAIT, handle.wait_for_disconnect())
            .await
            .unwrap();
        assert_eq!(reason, DisconnectReason::Shutdown);
    }
}

/// Connects to `addr` as a raw client: completes the handshake with our own driver and
/// hands back the bare socket, so the test can write anything.
async fn raw_client(addr: SocketAddr) -> TcpStream {
    let done = btcwire_net::connect(&Target::Addr(addr), None, &config(), &NonceSet::new())
        .await
        .unwrap();
    done.stream
}

async fn connected(events: &mut mpsc::Receiver<Event>) -> PeerHandle {
    wait_for(events, |e| match e {
        Event::Connected(h) => Some(h.clone()),
        _ => None,
    })
    .await
}

/// Whether a disconnect reason is the expected one.
type Expect = Box<dyn Fn(&DisconnectReason) -> bool>;

#[tokio::test]
async fn hostile_peers_are_disconnected_with_the_right_reason_and_others_carry_on() {
    let (addr, mut events, _stop) = start_listener(64).await;
    let magic = Network::Regtest.magic();

    // A well-behaved peer stays connected throughout.
    let good = btcwire_net::connect(&Target::Addr(addr), None, &config(), &NonceSet::new())
        .await
        .unwrap();
    let _good_server_side = connected(&mut events).await;
    let (good_tx, mut good_events) = mpsc::channel(64);
    let good = btcwire_net::spawn(good, 100, &config(), good_tx);

    let mut over_limit = vec![0xfd, 0x51, 0xc3]; // 50,001 entries
    over_limit.extend_from_slice(&[0u8; 36]);
    let mut wtxidrelay = BytesMut::new();
    encode_frame(magic, &WtxidRelay, &mut wtxidrelay).unwrap();
    let cases: Vec<(&str, BytesMut, Expect)> = vec![
        (
            "count over limit",
            frame(magic, "inv", &over_limit),
            Box::new(|r| {
                matches!(r, DisconnectReason::Violation(Violation::Malformed { source, .. })
                if matches!(source.kind, DecodeErrorKind::OverLimit { value: 50_001, limit: 50_000 }))
            }),
        ),
        (
            "wtxidrelay after verack",
            wtxidrelay,
            Box::new(|r| {
                *r == DisconnectReason::Violation(Violation::AfterVerack(Command::new(
                    "wtxidrelay",
                )))
            }),
        ),
        (
            "wrong magic",
            frame(Magic::MAINNET, "ping", &[0; 8]),
            Box::new(|r| {
                matches!(
                    r,
                    DisconnectReason::Violation(Violation::Frame(FrameError::WrongMagic { .. }))
                )
            }),
        ),
        (
            "payload over 4,000,000 bytes",
            raw_frame(magic, *b"block\0\0\0\0\0\0\0", 4_000_001, [0; 4], &[]),
            Box::new(|r| {
                matches!(
                    r,
                    DisconnectReason::Violation(Violation::Frame(
                        FrameError::PayloadTooLarge { .. }
                    ))
                )
            }),
        ),
        (
            "malformed ping",
            frame(magic, "ping", &[0; 8][..7]),
            Box::new(
                |r| matches!(r, DisconnectReason::Violation(Violation::Malformed { command, .. }) if command.as_str() == "ping"),
            ),
        ),
    ];
    for (name, bytes, expected) in cases {
        let mut client = raw_client(addr).await;
        let server_side = connected(&mut events).await;
        client.write_all(&bytes).await.unwrap();
        let reason = tokio::time::timeout(WAIT, server_side.wait_for_disconnect())
            .await
            .unwrap();
        assert!(expected(&reason), "{name}: {reason:?}");
    }

    // A bad checksum drops the message, counts it, and keeps the peer (Core's behaviour).
    let mut client = raw_client(addr).await;
    let server_side = connected(&mut events).await;
    client
        .write_all(&raw_frame(
            magic,
            *b"ping\0\0\0\0\0\0\0\0",
            8,
            [1, 2, 3, 4],
            &[0; 8],
        ))
        .await
        .unwrap();
    let mut ping = BytesMut::new();
    encode_frame(magic, &Ping { nonce: 77 }, &mut ping).unwrap();
    client.write_all(&ping).await.unwrap();
    let seen = wait_for(&mut events, |e| match e {
        Event::Peer {
            peer,
            event: PeerEvent::Message(f),
        } if *peer == server_side.id() && f.command() == Command::new("ping") => {
            Some(f.decode_as::<Ping>().unwrap().nonce)
        }
        _ => None,
    })
    .await;
    assert_eq!(seen, 77);
    let stats = server_side.stats().await.unwrap();
    assert_eq!(stats.bad_checksums, 1);
    assert!(!server_side.is_disconnected());

    // The well-behaved peer still answers.
    assert_eq!(good.send(&Ping { nonce: 5 }).await, Ok(()));
    assert!(!good.is_disconnected());
    let pong = wait_for(&mut good_events, |e| match e {
        Event::Peer {
            event: PeerEvent::Message(f),
            ..
        } if f.command() == Command::new("pong") => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(pong, ());
}

#[tokio::test]
async fn pools_connect_relay_and_share_addresses() {
    // Pool A listens and advertises its address; pool B keeps A as a persistent peer.
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let a_addr = socket.local_addr().unwrap();
    let mut a_config = PoolConfig::new(config());
    a_config.target_outbound = 0;
    a_config.advertise = Some(a_addr);
    let (pool_a, mut events_a) = Pool::start(a_config, Some(socket), AddrBook::new());

    let mut b_config = PoolConfig::new(config());
    b_config.target_outbound = 0;
    b_config.persistent = vec![Target::Addr(a_addr)];
    let (pool_b, mut events_b) = Pool::start(b_config, None, AddrBook::new());

    let b_side = wait_for(&mut events_b, |e| match e {
        Event::Connected(h) => Some(h.clone()),
        _ => None,
    })
    .await;
    assert_eq!(b_side.addr(), a_addr);
    let _ = connected(&mut events_a).await;

    // A relays an item once: B sees it in an `inv`; relaying it again sends nothing new.
    // A also advertises its own address right after the handshake: B sees an `addrv2`.
    // (A block: our peers signal relay=false, so transactions are not announced to them.)
    let item = InvItem {
        inv_type: InvType::BLOCK,
        hash: [9; 32],
    };
    pool_a.relay(item).await;
    pool_a.relay(item).await;
    let (mut invs, mut addrs) = (Vec::new(), 0);
    while invs.is_empty() || addrs == 0 {
        if let Event::Peer {
            event: PeerEvent::Message(f),
            ..
        } = next_event(&mut events_b).await
        {
            match f.message().unwrap() {
                Message::Inv(inv) => invs.extend(inv.iter()),
                Message::AddrV2(a) => addrs += a.len(),
                Message::Addr(a) => addrs += a.len(),
                _ => {}
            }
        }
    }
    assert_eq!(invs, vec![item]);
    assert_eq!(addrs, 1);
    let book = pool_b.addrbook().await.unwrap();
    assert!(
        book.contains(&btcwire_net::PeerAddr::Ip(a_addr)),
        "B's book: {:?}",
        book.iter().count()
    );

    assert_eq!(pool_a.peers().await.len(), 1);
    let stats = pool_a.stats().await;
    assert_eq!(stats.len(), 1);
    assert!(stats[0].1.messages_recv >= 1);

    // Banning 127.0.0.1 on A ends the connection with the reason `Banned` on A's side, and
    // B's reconnection attempts (persistent, with backoff) are refused.
    let a_peer = pool_a.peers().await.remove(0).handle;
    pool_a
        .ban("127.0.0.1".parse().unwrap(), Duration::from_secs(600))
        .await;
    let reason = tokio::time::timeout(WAIT, a_peer.wait_for_disconnect())
        .await
        .unwrap();
    assert_eq!(reason, DisconnectReason::Banned);
    let failed = wait_for(&mut events_b, |e| match e {
        Event::HandshakeFailed {
            role: Role::Outbound,
            ..
        } => Some(()),
        _ => None,
    })
    .await;
    assert_eq!(failed, ());
    assert!(pool_a.peers().await.is_empty());

    // Saving the address book writes A's address to disk.
    let path = std::env::temp_dir().join(format!("btcwire-addrbook-{}", std::process::id()));
    pool_b.save_addrbook(&path).await.unwrap();
    let saved = AddrBook::load(&path).unwrap();
    assert!(saved.contains(&btcwire_net::PeerAddr::Ip(a_addr)));
    let _ = std::fs::remove_file(&path);

    pool_a.shutdown().await;
    pool_b.shutdown().await;
}

/// A minimal SOCKS5 server (RFC 1928, no authentication, CONNECT only) on loopback.
async fn socks5_proxy() -> (SocketAddr, tokio::task::JoinHandle<Vec<String>>) {
    use tokio::io::AsyncReadExt;
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut seen = Vec::new();
        let (mut client, _) = socket.accept().await.unwrap();
        let mut greeting = [0u8; 2];
        client.read_exact(&mut greeting).await.unwrap();
        let mut methods = vec![0u8; usize::from(greeting[1])];
        client.read_exact(&mut methods).await.unwrap();
        client.write_all(&[5, 0]).await.unwrap();
        let mut request = [0u8; 4];
        client.read_exact(&mut request).await.unwrap();
        let target = match request[3] {
            1 => {
                let mut raw = [0u8; 6];
                client.read_exact(&mut raw).await.unwrap();
                let ip = std::net::Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]);
                format!("{ip}:{}", u16::from_be_bytes([raw[4], raw[5]]))
            }
            3 => {
                let mut len = [0u8; 1];
                client.read_exact(&mut len).await.unwrap();
                let mut name = vec![0u8; usize::from(len[0]) + 2];
                client.read_exact(&mut name).await.unwrap();
                let port = u16::from_be_bytes([name[name.len() - 2], name[name.len() - 1]]);
                format!(
                    "{}:{port}",
                    String::from_utf8_lossy(&name[..name.len() - 2])
                )
            }
            other => panic!("address type {other}"),
        };
        seen.push(target.clone());
        // Our test names resolve to loopback: map `node.example` to the real listener.
        let real = target.replace("node.example", "127.0.0.1");
        let mut upstream = TcpStream::connect(real).await.unwrap();
        client
            .write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])
            .await
            .unwrap();
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        seen
    });
    (addr, task)
}

#[tokio::test]
async fn outbound_through_a_socks5_proxy() {
    let (addr, mut events, _stop) = start_listener(4).await;
    let (proxy, seen) = socks5_proxy().await;
    // A host name goes to the proxy unresolved, as an `.onion` name would.
    let target = Target::Host("node.example".to_owned(), addr.port());
    let done = btcwire_net::connect(&target, Some(proxy), &config(), &NonceSet::new())
        .await
        .unwrap();
    assert_eq!(done.remote, proxy);
    let inbound = connected(&mut events).await;
    assert_eq!(inbound.info().user_agent, config().user_agent);
    drop(done);
    let seen = tokio::time::timeout(WAIT, seen).await.unwrap().unwrap();
    assert_eq!(seen, vec![format!("node.example:{}", addr.port())]);
}

#[tokio::test]
async fn a_pool_keeps_its_outbound_target_from_the_address_book() {
    // Three of our listeners are known to the address book; the pool wants two outbound peers.
    let mut addrs = Vec::new();
    let mut stops = Vec::new();
    for _ in 0..3 {
        let (addr, _events, stop) = start_listener(4).await;
        addrs.push(addr);
        stops.push((stop, _events));
    }
    let mut book = AddrBook::new();
    let now = btcwire_net::addrbook::unix_now();
    let services = btcwire::types::ServiceFlags::NETWORK;
    let entries = addrs
        .iter()
        .map(|a| (btcwire_net::PeerAddr::Ip(*a), services, now));
    assert_eq!(
        book.learn(entries, btcwire_net::addrbook::AddrSource::Fixed, now),
        3
    );
    let mut pool_config = PoolConfig::new(config());
    pool_config.target_outbound = 2;
    pool_config.connect_interval = Duration::from_millis(50);
    let (pool, mut events) = Pool::start(pool_config, None, book);
    let mut outbound = Vec::new();
    while outbound.len() < 2 {
        if let Event::Connected(handle) = next_event(&mut events).await {
            assert_eq!(handle.info().role, Role::Outbound);
            assert!(addrs.contains(&handle.addr()));
            outbound.push(handle);
        }
    }
    // The target is met: no third connection is opened.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(pool.peers().await.len(), 2);
    // When one ends, the pool replaces it from the book.
    outbound[0].disconnect();
    let replaced = wait_for(&mut events, |e| match e {
        Event::Connected(h) => Some(h.addr()),
        _ => None,
    })
    .await;
    assert!(addrs.contains(&replaced));
    pool.shutdown().await;
}

/// A pool with an empty address book, one outbound slot and `seeds` as its DNS seeds.
fn seeded_pool(seeds: Vec<(String, u16)>) -> (btcwire_net::PoolHandle, mpsc::Receiver<Event>) {
    let mut pool_config = PoolConfig::new(config());
    pool_config.target_outbound = 1;
    pool_config.connect_interval = Duration::from_millis(50);
    pool_config.dns_seeds = seeds;
    pool_config.dns_timeout = Duration::from_secs(2);
    Pool::start(pool_config, None, AddrBook::new())
}

#[tokio::test]
async fn a_pool_connects_to_what_its_dns_seeds_answer() {
    let (addr, _listener_events, _stop) = start_listener(4).await;
    // `localhost` resolves through /etc/hosts, without the network. It may also give ::1,
    // where nothing listens (the literal makes sure of it): the pool tries again from the
    // book until it reaches ours.
    let (pool, mut events) = seeded_pool(vec![
        ("localhost".to_owned(), addr.port()),
        ("::1".to_owned(), addr.port()),
    ]);
    let outbound = wait_for(&mut events, |e| match e {
        Event::Connected(h) => Some(h.clone()),
        _ => None,
    })
    .await;
    assert_eq!(outbound.info().role, Role::Outbound);
    assert_eq!(outbound.addr(), addr);
    let book = pool.addrbook().await.unwrap();
    let entry = book.get(&PeerAddr::Ip(addr)).expect("the seed's answer");
    assert_eq!(entry.source, AddrSource::Seed);
    assert!(entry.last_success.is_some());
    for entry in book.iter() {
        assert_eq!(entry.source, AddrSource::Seed);
        let ip = entry.addr.to_socket_addr().expect("an IP address");
        assert!(ip.ip().is_loopback() && ip.port() == addr.port(), "{ip}");
    }
    pool.shutdown().await;
}

#[tokio::test]
async fn an_unresolvable_dns_seed_adds_nothing_and_the_pool_carries_on() {
    let (addr, _listener_events, _stop) = start_listener(4).await;
    // `.invalid` never resolves (RFC 6761), and the NUL byte makes the system refuse the
    // name before any lookup, so the test never leaves the host.
    let bad = "no\0such.invalid".to_owned();

    // Next to a good seed for the same port, which answers only once the bad one has
    // failed: the book holds the good answer alone, and the pool connects to it.
    let (pool, mut events) = seeded_pool(vec![
        (bad.clone(), addr.port()),
        ("127.0.0.1".to_owned(), addr.port()),
    ]);
    let outbound = wait_for(&mut events, |e| match e {
        Event::Connected(h) => Some(h.addr()),
        _ => None,
    })
    .await;
    assert_eq!(outbound, addr);
    let book = pool.addrbook().await.unwrap();
    assert_eq!(book.len(), 1);
    assert_eq!(
        book.get(&PeerAddr::Ip(addr)).map(|e| e.source),
        Some(AddrSource::Seed)
    );
    pool.shutdown().await;

    // Alone, it leaves the book empty, and the pool still takes commands and connects.
    let (pool, mut events) = seeded_pool(vec![(bad, addr.port())]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(pool.addrbook().await.unwrap().is_empty());
    assert!(pool.peers().await.is_empty());
    pool.learn(vec![addr]).await;
    let outbound = wait_for(&mut events, |e| match e {
        Event::Connected(h) => Some(h.addr()),
        _ => None,
    })
    .await;
    assert_eq!(outbound, addr);
    pool.shutdown().await;
}
