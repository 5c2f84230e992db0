//! Handshakes per second over loopback: our client (`btcwire_net::connect`) against our
//! `Listener`, both on one multi-threaded tokio runtime, at 1, 100 and 1000 concurrent
//! connections.
//!
//! One measured iteration opens N connections at once and stops the clock when every
//! client has finished its version/verack exchange and the listener has reported every
//! inbound peer as connected (`Throughput::Elements(N)`: elements/s are handshakes/s).
//! Untimed, the clients then close with `SO_LINGER` 0 (a reset: no `TIME_WAIT`, so the
//! ephemeral ports last) and the next iteration waits until the listener has seen every
//! peer go.
//!
//! `cargo bench -p btcwire-benches --bench net`

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use btcwire::Network;
use btcwire_net::{Event, Listener, NonceSet, PeerConfig, Target};
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use tokio::net::TcpSocket;
use tokio::runtime::Runtime;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;

/// Concurrent handshakes per measured iteration.
const CONCURRENCY: [usize; 3] = [1, 100, 1000];

/// The listener's cap, well above the largest concurrency (peers of the previous iteration
/// are gone before the next starts, but never count on it).
const MAX_INBOUND: usize = 4_096;

/// The listen backlog: every connection of an iteration fits in the accept queue.
const BACKLOG: u32 = 4_096;

/// Bound on every wait for the listener.
const WAIT: Duration = Duration::from_secs(30);

/// What the listener has reported so far.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    connected: usize,
    disconnected: usize,
    failed: usize,
}

/// Our listener on `127.0.0.1:0`, with a task counting its events.
struct Server {
    addr: SocketAddr,
    counts: watch::Receiver<Counts>,
    _stop: oneshot::Sender<()>,
}

impl Server {
    /// Binds and starts the listener and its event counter on the current runtime.
    fn start(config: &PeerConfig) -> Self {
        let socket = TcpSocket::new_v4().expect("a TCP socket");
        socket
            .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .expect("bind 127.0.0.1:0");
        let socket = socket.listen(BACKLOG).expect("listen");
        let addr = socket.local_addr().expect("bound address");
        let listener = Listener::new(socket, config.clone(), MAX_INBOUND);
        let (events_tx, mut events) = mpsc::channel(4_096);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(listener.run(events_tx, async move {
            let _ = stopped.await;
        }));
        let (counts_tx, counts) = watch::channel(Counts::default());
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                match event {
                    // The listener keeps its own handle; ours may go.
                    Event::Connected(_) => counts_tx.send_modify(|c| c.connected += 1),
                    Event::Disconnected { .. } => counts_tx.send_modify(|c| c.disconnected += 1),
                    Event::HandshakeFailed { .. } => counts_tx.send_modify(|c| c.failed += 1),
                    _ => {}
                }
            }
        });
        Self {
            addr,
            counts,
            _stop: stop,
        }
    }

    /// Waits until `done` holds of the counts; panics after [`WAIT`] or on a failed
    /// inbound handshake.
    async fn wait(&mut self, what: &str, done: impl Fn(&Counts) -> bool) {
        let waited =
            tokio::time::timeout(WAIT, self.counts.wait_for(|c| c.failed > 0 || done(c))).await;
        let counts = *waited
            .unwrap_or_else(|_| panic!("listener: {what} within {WAIT:?}"))
            .expect("listener's counter running");
        assert_eq!(counts.failed, 0, "inbound handshakes failed: {counts:?}");
    }
}

/// Runs `n` handshakes at once and returns the time until all of them are complete on both
/// sides; the connections are reset and gone from the listener on return.
async fn handshakes(
    server: &mut Server,
    n: usize,
    config: &Arc<PeerConfig>,
    nonces: &NonceSet,
) -> Duration {
    let base = *server.counts.borrow();
    let target = Target::Addr(server.addr);
    let started = Instant::now();
    let mut clients = JoinSet::new();
    for _ in 0..n {
        let (target, config, nonces) = (target.clone(), Arc::clone(config), nonces.clone());
        clients.spawn(async move { btcwire_net::connect(&target, None, &config, &nonces).await });
    }
    let mut streams = Vec::with_capacity(n);
    while let Some(done) = clients.join_next().await {
        let done = done
            .expect("client task")
            .expect("a full version/verack exchange with our listener");
        streams.push(done.stream);
    }
    server
        .wait("every inbound handshake", |c| {
            c.connected >= base.connected + n
        })
        .await;
    let elapsed = started.elapsed();

    for stream in streams {
        // `SO_LINGER` 0 (tokio's non-blocking case): dropping sends a reset.
        stream.set_zero_linger().expect("SO_LINGER 0");
    }
    server
        .wait("every inbound peer gone", |c| {
            c.disconnected >= base.disconnected + n
        })
        .await;
    elapsed
}

fn handshake_throughput(c: &mut Criterion) {
    let runtime = Runtime::new().expect("a multi-threaded tokio runtime");
    let config = Arc::new(PeerConfig::new(Network::Regtest));
    // The clients' own nonce set: sharing the listener's would flag each connection as one
    // to ourselves.
    let nonces = NonceSet::new();
    let mut server = runtime.block_on(async { Server::start(&config) });

    let mut group = c.benchmark_group("net_handshake");
    group
        .sample_size(10)
        // Same iteration count per sample: an iteration at 1000 takes a tenth of a second.
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for n in CONCURRENCY {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(format!("loopback_c{n}"), |b| {
            b.iter_custom(|iters| {
                runtime.block_on(async {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += handshakes(&mut server, n, &config, &nonces).await;
                    }
                    total
                })
            });
        });
    }
    group.finish();
    drop(server);
}

criterion_group!(benches, handshake_throughput);
criterion_main!(benches);
