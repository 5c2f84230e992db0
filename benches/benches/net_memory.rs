//! Heap bytes per idle peer: 1000 loopback connections between our client
//! (`btcwire_net::connect`, then `spawn`) and our `Listener`, so both ends run full peers.
//!
//! A counting global allocator (`stats_alloc`) gives the heap bytes in use. The baseline is
//! taken with the runtime, the listener and the event consumers running and a few
//! connections already made and closed (lazy one-time allocations out of the way); the
//! second reading once every peer on both sides has had its first pong and then sat idle
//! for [`IDLE`]. The difference, over 2000 peers (one per side per connection), is the
//! heap cost of an idle peer: its tasks, channels, buffers, `Peer` state, handle and the
//! listener's bookkeeping. Target: under 16 KiB.
//!
//! `cargo bench -p btcwire-benches --bench net_memory`

use std::alloc::System;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use btcwire::Network;
use btcwire_net::{Event, Listener, NonceSet, PeerConfig, PeerEvent, PeerHandle, Target};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use tokio::net::TcpSocket;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Idle connections measured.
const CONNECTIONS: usize = 1_000;

/// Connections made and closed before the baseline.
const WARM_UP: usize = 16;

/// Time every peer sits idle after its first pong before the second reading.
const IDLE: Duration = Duration::from_secs(2);

/// The target: heap bytes per idle peer.
const TARGET_PER_PEER: usize = 16 * 1024;

/// Bound on every wait.
const WAIT: Duration = Duration::from_secs(60);

/// Returns the heap bytes in use now.
fn heap_in_use() -> i64 {
    let s = GLOBAL.stats();
    s.bytes_allocated as i64 + s.bytes_reallocated as i64 - s.bytes_deallocated as i64
}

/// What one side's events have shown so far.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    connected: usize,
    pongs: usize,
    disconnected: usize,
    failed: usize,
}

/// Consumes `events`, keeping `Connected` handles in `handles` and counting the rest.
fn count_events(
    mut events: mpsc::Receiver<Event>,
    handles: Option<mpsc::UnboundedSender<PeerHandle>>,
) -> watch::Receiver<Counts> {
    let (tx, rx) = watch::channel(Counts::default());
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                Event::Connected(handle) => {
                    if let Some(handles) = &handles {
                        let _ = handles.send(handle);
                    }
                    tx.send_modify(|c| c.connected += 1);
                }
                Event::Peer {
                    event: PeerEvent::Pong { .. },
                    ..
                } => tx.send_modify(|c| c.pongs += 1),
                Event::Disconnected { .. } => tx.send_modify(|c| c.disconnected += 1),
                Event::HandshakeFailed { .. } => tx.send_modify(|c| c.failed += 1),
                _ => {}
            }
        }
    });
    rx
}

/// Waits until `done` holds of `counts`; panics after [`WAIT`] or on a failed handshake.
async fn wait(counts: &mut watch::Receiver<Counts>, what: &str, done: impl Fn(&Counts) -> bool) {
    let waited = tokio::time::timeout(WAIT, counts.wait_for(|c| c.failed > 0 || done(c))).await;
    let counts = *waited
        .unwrap_or_else(|_| panic!("{what} within {WAIT:?}"))
        .expect("event counter running");
    assert_eq!(counts.failed, 0, "handshakes failed: {counts:?}");
}

/// Opens `n` connections at once, each spawned as a full peer with its events to `events`.
async fn connect_peers(
    addr: SocketAddr,
    n: usize,
    first_id: u64,
    config: &Arc<PeerConfig>,
    nonces: &NonceSet,
    events: &mpsc::Sender<Event>,
) -> Vec<PeerHandle> {
    let mut clients = JoinSet::new();
    for i in 0..n {
        let (config, nonces, events) = (Arc::clone(config), nonces.clone(), events.clone());
        clients.spawn(async move {
            let done = btcwire_net::connect(&Target::Addr(addr), None, &config, &nonces)
                .await
                .expect("a full version/verack exchange with our listener");
            btcwire_net::spawn(done, first_id + i as u64, &config, events)
        });
    }
    let mut handles = Vec::with_capacity(n);
    while let Some(handle) = clients.join_next().await {
        handles.push(handle.expect("client task"));
    }
    handles
}

/// Returns the CPU's model name and the number of CPUs.
fn machine() -> (String, usize) {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    (model, cpus)
}

fn main() {
    // Criterion's conventions: measure only under `cargo bench` (which passes `--bench`, as
    // `cargo test --benches` does not), and only when a name filter, if any, matches.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if !args.iter().any(|a| a == "--bench")
        || args.iter().any(|a| a == "--test" || a == "--list")
        || !(filters.is_empty() || filters.iter().any(|f| "net_memory".contains(f.as_str())))
    {
        println!("net_memory: skipped (run it with `cargo bench --bench net_memory`)");
        return;
    }
    let started = Instant::now();
    let runtime = tokio::runtime::Runtime::new().expect("a multi-threaded tokio runtime");
    runtime.block_on(measure());
    drop(runtime);
    let (model, cpus) = machine();
    println!("machine: {model}, {cpus} CPUs");
    println!("net_memory took {:.1} s", started.elapsed().as_secs_f64());
}

async fn measure() {
    let config = Arc::new(PeerConfig::new(Network::Regtest));

    let socket = TcpSocket::new_v4().expect("a TCP socket");
    socket
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .expect("bind 127.0.0.1:0");
    let socket = socket.listen(4_096).expect("listen");
    let addr = socket.local_addr().expect("bound address");
    let listener = Listener::new(socket, config.as_ref().clone(), 2 * CONNECTIONS);
    let (server_tx, server_events) = mpsc::channel(4_096);
    let (stop, stopped) = oneshot::channel::<()>();
    let listener = tokio::spawn(listener.run(server_tx, async move {
        let _ = stopped.await;
    }));
    let (handles_tx, mut handles_rx) = mpsc::unbounded_channel();
    let mut server = count_events(server_events, Some(handles_tx));
    let (client_tx, client_events) = mpsc::channel(4_096);
    let mut client = count_events(client_events, None);
    let nonces = NonceSet::new();

    // Warm up: one-time allocations (thread-locals, the I/O driver's first slab pages, the
    // event channels' first blocks) happen before the baseline.
    let warm = connect_peers(addr, WARM_UP, 1, &config, &nonces, &client_tx).await;
    wait(&mut client, "warm-up pongs", |c| c.pongs >= WARM_UP).await;
    for peer in &warm {
        peer.disconnect();
    }
    for peer in &warm {
        peer.wait_for_disconnect().await;
    }
    drop(warm);
    wait(&mut server, "warm-up peers gone", |c| {
        c.disconnected >= WARM_UP
    })
    .await;
    while handles_rx.try_recv().is_ok() {}
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (server_base, client_base) = (*server.borrow(), *client.borrow());

    let before = heap_in_use();
    let connecting = Instant::now();
    let clients = connect_peers(addr, CONNECTIONS, 1_000_000, &config, &nonces, &client_tx).await;
    wait(&mut server, "every inbound peer", |c| {
        c.connected >= server_base.connected + CONNECTIONS
    })
    .await;
    let mut servers = Vec::with_capacity(CONNECTIONS);
    while servers.len() < CONNECTIONS {
        servers.push(handles_rx.recv().await.expect("inbound handles"));
    }
    let connected_in = connecting.elapsed();
    // Both sides ping at once after the handshake: a pong on each side of each connection.
    wait(&mut client, "every outbound peer's first pong", |c| {
        c.pongs >= client_base.pongs + CONNECTIONS
    })
    .await;
    wait(&mut server, "every inbound peer's first pong", |c| {
        c.pongs >= server_base.pongs + CONNECTIONS
    })
    .await;
    let ponged_in = connecting.elapsed();
    tokio::time::sleep(IDLE).await;
    let after = heap_in_use();
    assert!(
        clients.iter().chain(&servers).all(|p| !p.is_disconnected()),
        "every peer still connected"
    );
    let (server_now, client_now) = (*server.borrow(), *client.borrow());
    assert_eq!(server_now.disconnected, server_base.disconnected);
    assert_eq!(client_now.disconnected, client_base.disconnected);

    let delta = after - before;
    let per_peer = delta / (2 * CONNECTIONS) as i64;
    let per_connection = delta / CONNECTIONS as i64;
    println!(
        "{CONNECTIONS} connections established in {:.2} s, first pongs on both sides after \
         {:.2} s, then idle {:.0} s",
        connected_in.as_secs_f64(),
        ponged_in.as_secs_f64(),
        IDLE.as_secs_f64()
    );
    println!(
        "heap in use: {before} B before, {after} B after: {delta} B for {} peers",
        2 * CONNECTIONS
    );
    println!(
        "heap per idle peer (one side): {per_peer} B ({:.1} KiB); per connection (both \
         sides): {per_connection} B ({:.1} KiB); target {} KiB per peer: {}",
        per_peer as f64 / 1024.0,
        per_connection as f64 / 1024.0,
        TARGET_PER_PEER / 1024,
        if per_peer < TARGET_PER_PEER as i64 {
            "met"
        } else {
            "OVER"
        }
    );

    // Tear down: every peer gone, the heap back near the baseline (no per-peer leak).
    for peer in &clients {
        peer.disconnect();
    }
    for peer in &clients {
        let _ = tokio::time::timeout(WAIT, peer.wait_for_disconnect()).await;
    }
    drop(clients);
    wait(&mut server, "every inbound peer gone", |c| {
        c.disconnected >= server_base.disconnected + CONNECTIONS
    })
    .await;
    drop(servers);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let leftover = heap_in_use() - before;
    println!(
        "after every peer disconnected: {leftover} B above the baseline ({} B per connection)",
        leftover / CONNECTIONS as i64
    );
    let _ = stop.send(());
    let _ = tokio::time::timeout(WAIT, listener).await;
}
