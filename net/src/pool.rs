//! `Pool`: many peers at once. Outbound targets kept topped up from the address book (seeded,
//! when asked, from DNS seeds at start), persistent peers reconnected with exponential
//! backoff, inbound peers up to a cap, a ban list, relay with a seen-set, and every peer's
//! events on one channel.
//!
//! One manager task owns the state (peers, address book, bans, relay set); each peer runs in
//! its own tasks ([`crate::driver::spawn`]) and reports to the manager, which learns
//! addresses, answers `getaddr` (once per inbound connection, at most 1000 entries and 23%
//! of what it knows, as Core), advertises our own address when we listen on a reachable one
//! (once after the handshake, then about daily), and forwards every event to the
//! application.
//!
//! ## DNS seeds
//!
//! [`PoolConfig::dns_seeds`] (empty by default; [`PoolConfig::with_network_dns_seeds`] fills
//! in Bitcoin Core's) are resolved once, when the pool starts, by a task of their own: all
//! lookups run in parallel, each within [`PoolConfig::dns_timeout`], and the answers reach
//! the address book through the pool's command queue as [`AddrSource::Seed`] entries, so the
//! manager never waits for DNS. A seed that fails or times out adds nothing. Unlike Core,
//! the pool does not first wait to see whether the address book suffices: leave the list
//! empty when it does.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use btcwire::msg::Message;
use btcwire::types::{AddrEntry, InvItem, NetAddr};
use btcwire::{Frame, Network};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, oneshot, watch};

use crate::addrbook::{AddrBook, AddrSource, PeerAddr, resolve_seeds, unix_now};
use crate::config::{LOCAL_ADDRESS_BROADCAST_INTERVAL, PeerConfig};
use crate::driver::{self, Event, Handshaken, PeerHandle, PeerId, Target};
use crate::error::{DisconnectReason, PeerError, SendError};
use crate::listener::next_peer_id;
use crate::proto::peer::{PeerEvent, PeerStats};
use crate::proto::{NonceSet, Rng, Role};

/// Full-relay outbound connections a node keeps (Bitcoin Core
/// `MAX_OUTBOUND_FULL_RELAY_CONNECTIONS`).
pub const DEFAULT_TARGET_OUTBOUND: usize = 8;

/// Inbound connections accepted by default: Bitcoin Core's `DEFAULT_MAX_PEER_CONNECTIONS`
/// (125) less its automatic outbound connections, `MAX_OUTBOUND_FULL_RELAY_CONNECTIONS` (8)
/// + `MAX_BLOCK_RELAY_ONLY_CONNECTIONS` (2) + `MAX_FEELER_CONNECTIONS` (1) = 11.
pub const DEFAULT_MAX_INBOUND: usize = 114;

/// Time allowed for each DNS seed lookup by default ([`PoolConfig::dns_timeout`]).
pub const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a ban lasts by default (Bitcoin Core `DEFAULT_MISBEHAVING_BANTIME` = 24 h).
pub const DEFAULT_BAN_TIME: Duration = Duration::from_secs(24 * 60 * 60);

/// Items remembered as already relayed (bounded seen-set).
pub const MAX_RELAYED: usize = 100_000;

/// First delay before reconnecting a persistent peer; doubled after each failure.
pub const MIN_BACKOFF: Duration = Duration::from_secs(1);

/// Longest delay between reconnection attempts of a persistent peer.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// Events buffered between the pool and the application.
const EVENT_BUFFER: usize = 1_024;

/// What a pool does.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PoolConfig {
    /// How every peer introduces itself.
    pub peer: PeerConfig,
    /// Outbound peers to keep, chosen from the address book ([`DEFAULT_TARGET_OUTBOUND`]).
    pub target_outbound: usize,
    /// Most inbound peers at once ([`DEFAULT_MAX_INBOUND`]).
    pub max_inbound: usize,
    /// Peers to stay connected to, reconnected with exponential backoff.
    pub persistent: Vec<Target>,
    /// A SOCKS5 proxy for outbound connections (Tor).
    pub proxy: Option<SocketAddr>,
    /// Our reachable listening address, advertised to peers.
    pub advertise: Option<SocketAddr>,
    /// How often the pool tops up its outbound connections.
    pub connect_interval: Duration,
    /// Delay bounds for reconnecting persistent peers ([`MIN_BACKOFF`], [`MAX_BACKOFF`]).
    pub backoff: (Duration, Duration),
    /// DNS seeds: host names, and the port their nodes listen on. Resolved once when the
    /// pool starts, all in parallel, without holding up the pool; the answers are learned
    /// as [`AddrSource::Seed`] (module docs). Empty by default: a library should not touch
    /// the network unless asked. [`PoolConfig::with_network_dns_seeds`] adds Bitcoin Core's.
    ///
    /// Names go to the system resolver, never through [`PoolConfig::proxy`]: leave this
    /// empty when DNS queries must not leave the host (Tor).
    pub dns_seeds: Vec<(String, u16)>,
    /// Time allowed for each DNS seed lookup ([`DEFAULT_DNS_TIMEOUT`]).
    pub dns_timeout: Duration,
}

impl PoolConfig {
    /// Returns the defaults around `peer`.
    #[must_use]
    pub fn new(peer: PeerConfig) -> Self {
        Self {
            peer,
            target_outbound: DEFAULT_TARGET_OUTBOUND,
            max_inbound: DEFAULT_MAX_INBOUND,
            persistent: Vec::new(),
            proxy: None,
            advertise: None,
            connect_interval: Duration::from_millis(500),
            backoff: (MIN_BACKOFF, MAX_BACKOFF),
            dns_seeds: Vec::new(),
            dns_timeout: DEFAULT_DNS_TIMEOUT,
        }
    }

    /// Adds Bitcoin Core's DNS seeds for `network` ([`crate::addrbook::dns_seeds`]), with
    /// the network's default port, to [`PoolConfig::dns_seeds`]. Regtest has none.
    #[must_use]
    pub fn with_network_dns_seeds(mut self, network: Network) -> Self {
        let port = network.default_port();
        self.dns_seeds.extend(
            crate::addrbook::dns_seeds(network)
                .iter()
                .map(|&host| (host.to_owned(), port)),
        );
        self
    }
}

/// One connected peer, as the pool sees it.
#[derive(Debug, Clone)]
pub struct PeerSummary {
    /// The peer's handle.
    pub handle: PeerHandle,
    /// Who opened the connection.
    pub role: Role,
    /// Whether it is one of the persistent peers.
    pub persistent: bool,
}

enum Command {
    Send(PeerId, Frame, oneshot::Sender<bool>),
    Broadcast(Frame),
    Relay(InvItem),
    Connect(Target),
    Disconnect(PeerId),
    Ban(IpAddr, Duration),
    Unban(IpAddr),
    Discourage(IpAddr),
    Learn(Vec<SocketAddr>, AddrSource),
    SaveAddrBook(std::path::PathBuf, oneshot::Sender<std::io::Result<()>>),
    Peers(oneshot::Sender<Vec<PeerSummary>>),
    AddrBook(oneshot::Sender<AddrBook>),
    Shutdown(oneshot::Sender<()>),
}

/// A handle to a running pool: cheap to clone.
#[derive(Debug, Clone)]
pub struct PoolHandle {
    commands: mpsc::Sender<Command>,
    magic: btcwire::Magic,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pool command")
    }
}

impl PoolHandle {
    /// Sends `msg` to one peer.
    ///
    /// # Errors
    /// [`SendError::Frame`] for a message over the protocol's size limits (nothing is sent),
    /// [`SendError::Ended`] when the peer is not connected.
    pub async fn send<M: btcwire::frame::Framed + ?Sized>(
        &self,
        peer: PeerId,
        msg: &M,
    ) -> Result<(), SendError> {
        let (tx, rx) = oneshot::channel();
        let frame = Frame::from_message(self.magic, msg)?;
        let sent = self
            .commands
            .send(Command::Send(peer, frame, tx))
            .await
            .is_ok()
            && rx.await.unwrap_or(false);
        if sent { Ok(()) } else { Err(SendError::Ended) }
    }

    /// Sends `msg` to every connected peer.
    ///
    /// # Errors
    /// [`FrameError`](btcwire::FrameError) for a message over the protocol's size limits:
    /// nothing is sent.
    pub async fn broadcast<M: btcwire::frame::Framed + ?Sized>(
        &self,
        msg: &M,
    ) -> Result<(), btcwire::FrameError> {
        let frame = Frame::from_message(self.magic, msg)?;
        let _ = self.commands.send(Command::Broadcast(frame)).await;
        Ok(())
    }

    /// Announces `item` to every peer not known to have it; an item is relayed once.
    pub async fn relay(&self, item: InvItem) {
        let _ = self.commands.send(Command::Relay(item)).await;
    }

    /// Opens an extra outbound connection to `target`.
    pub async fn connect(&self, target: Target) {
        let _ = self.commands.send(Command::Connect(target)).await;
    }

    /// Disconnects one peer.
    pub async fn disconnect(&self, peer: PeerId) {
        let _ = self.commands.send(Command::Disconnect(peer)).await;
    }

    /// Bans `ip` for `duration`: its peers are disconnected and it is not connected to or
    /// accepted until the ban ends.
    pub async fn ban(&self, ip: IpAddr, duration: Duration) {
        let _ = self.commands.send(Command::Ban(ip, duration)).await;
    }

    /// Lifts a ban.
    pub async fn unban(&self, ip: IpAddr) {
        let _ = self.commands.send(Command::Unban(ip)).await;
    }

    /// Discourages `ip`: its connected peers stay, but the pool neither connects to it nor
    /// accepts it again (Bitcoin Core's discouragement of misbehaving addresses).
    pub async fn discourage(&self, ip: IpAddr) {
        let _ = self.commands.send(Command::Discourage(ip)).await;
    }

    /// Adds addresses to the address book (fixed seeds, a saved list).
    pub async fn learn(&self, addrs: Vec<SocketAddr>) {
        let _ = self
            .commands
            .send(Command::Learn(addrs, AddrSource::Fixed))
            .await;
    }

    /// Saves the address book to `path` (atomically).
    ///
    /// # Errors
    /// When writing fails, or the pool has stopped.
    pub async fn save_addrbook(&self, path: impl Into<std::path::PathBuf>) -> std::io::Result<()> {
        let (tx, rx) = oneshot::channel();
        let stopped = || std::io::Error::other("pool stopped");
        self.commands
            .send(Command::SaveAddrBook(path.into(), tx))
            .await
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Returns the connected peers.
    pub async fn peers(&self) -> Vec<PeerSummary> {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Peers(tx)).await.is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Returns a statistics snapshot of every connected peer.
    pub async fn stats(&self) -> Vec<(PeerId, PeerStats)> {
        let mut out = Vec::new();
        for peer in self.peers().await {
            if let Some(stats) = peer.handle.stats().await {
                out.push((peer.handle.id(), stats));
            }
        }
        out
    }

    /// Returns a copy of the address book.
    pub async fn addrbook(&self) -> Option<AddrBook> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(Command::AddrBook(tx)).await.ok()?;
        rx.await.ok()
    }

    /// Disconnects every peer, stops accepting and connecting, and waits until done. The
    /// events must be read meanwhile (as always: the pool waits for room to pass each one on).
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// The pool.
#[derive(Debug)]
pub struct Pool;

impl Pool {
    /// Starts a pool (accepting on `listener` when given) and returns its handle and the
    /// events of every peer. Read the events until the pool has stopped: the channel is
    /// bounded, and the pool waits for room to pass each one on (it neither drops events nor
    /// lets them pile up), so a pool whose events are not read does nothing else, shutting
    /// down included.
    #[must_use]
    pub fn start(
        config: PoolConfig,
        listener: Option<TcpListener>,
        book: AddrBook,
    ) -> (PoolHandle, mpsc::Receiver<Event>) {
        let (cmd_tx, cmd_rx) = mpsc::channel(64);
        let (app_tx, app_rx) = mpsc::channel(EVENT_BUFFER);
        let (peer_tx, peer_rx) = mpsc::channel(EVENT_BUFFER);
        let (stop_tx, stop_rx) = watch::channel(false);
        // A weak sender: the lookups do not keep the pool alive once every handle is gone.
        let dns = (!config.dns_seeds.is_empty()).then(|| {
            let seeds = group_by_port(&config.dns_seeds);
            tokio::spawn(learn_dns_seeds(
                seeds,
                config.dns_timeout,
                cmd_tx.downgrade(),
            ))
            .abort_handle()
        });
        let handle = PoolHandle {
            commands: cmd_tx,
            magic: config.peer.magic,
        };
        let manager = Manager {
            dns,
            inbound_permits: std::sync::Arc::new(Semaphore::new(config.max_inbound)),
            config,
            nonces: NonceSet::new(),
            book,
            peers: HashMap::new(),
            connecting: HashSet::new(),
            bans: HashMap::new(),
            discouraged: HashSet::new(),
            relayed: HashSet::new(),
            relayed_order: VecDeque::new(),
            rng: Rng::from_os(),
            app: app_tx,
            peer_events: peer_tx,
            stop: stop_tx,
            stop_rx,
        };
        tokio::spawn(manager.run(listener, cmd_rx, peer_rx));
        (handle, app_rx)
    }
}

struct Entry {
    handle: PeerHandle,
    role: Role,
    persistent: bool,
    answered_getaddr: bool,
}

struct Manager {
    /// The DNS seed lookups, while they may still run.
    dns: Option<tokio::task::AbortHandle>,
    config: PoolConfig,
    nonces: NonceSet,
    book: AddrBook,
    peers: HashMap<PeerId, Entry>,
    connecting: HashSet<SocketAddr>,
    bans: HashMap<IpAddr, Instant>,
    discouraged: HashSet<IpAddr>,
    relayed: HashSet<InvItem>,
    relayed_order: VecDeque<InvItem>,
    rng: Rng,
    inbound_permits: std::sync::Arc<Semaphore>,
    app: mpsc::Sender<Event>,
    peer_events: mpsc::Sender<Event>,
    stop: watch::Sender<bool>,
    stop_rx: watch::Receiver<bool>,
}

impl Manager {
    async fn run(
        mut self,
        listener: Option<TcpListener>,
        mut commands: mpsc::Receiver<Command>,
        mut peer_events: mpsc::Receiver<Event>,
    ) {
        for target in self.config.persistent.clone() {
            self.spawn_persistent(target);
        }
        let mut tick = tokio::time::interval(self.config.connect_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut advertise_at =
            Instant::now() + self.rng.exponential(LOCAL_ADDRESS_BROADCAST_INTERVAL);
        let done = loop {
            let accept = async {
                match &listener {
                    Some(l) => l.accept().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    Some(Command::Shutdown(done)) => break Some(done),
                    Some(cmd) => self.command(cmd),
                    None => break None,
                },
                Some(event) = peer_events.recv() => {
                    if !self.event(event).await {
                        break None;
                    }
                }
                accepted = accept => {
                    if let Ok((stream, addr)) = accepted {
                        self.accept(stream, addr);
                    }
                }
                _ = tick.tick() => self.top_up(),
                () = tokio::time::sleep_until(advertise_at.into()) => {
                    self.advertise_all();
                    advertise_at = Instant::now() + self.rng.exponential(LOCAL_ADDRESS_BROADCAST_INTERVAL);
                }
            }
        };
        // Shut down: stop resolving and connecting, end every peer, wait for them.
        if let Some(dns) = &self.dns {
            dns.abort();
        }
        let _ = self.stop.send(true);
        drop(listener);
        let handles: Vec<PeerHandle> = self.peers.values().map(|e| e.handle.clone()).collect();
        for h in &handles {
            h.end(DisconnectReason::Shutdown);
        }
        let all_ended = async {
            for h in handles {
                h.wait_for_disconnect().await;
            }
        };
        tokio::pin!(all_ended);
        // Ending peers still report: take their events so none waits for room, and pass
        // them on only where the application has room.
        loop {
            tokio::select! {
                () = &mut all_ended => break,
                Some(event) = peer_events.recv() => {
                    let _ = self.app.try_send(event);
                }
            }
        }
        if let Some(done) = done {
            let _ = done.send(());
        }
    }

    fn is_banned(&mut self, ip: IpAddr) -> bool {
        if self.discouraged.contains(&ip) {
            return true;
        }
        match self.bans.get(&ip) {
            Some(&until) if until > Instant::now() => true,
            Some(_) => {
                self.bans.remove(&ip);
                false
            }
            None => false,
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Send(id, frame, reply) => {
                let ok = self.peers.get(&id).map(|e| e.handle.clone());
                let _ = reply.send(ok.is_some());
                if let Some(handle) = ok {
                    tokio::spawn(async move { handle.send_frame(frame).await });
                }
            }
            Command::Broadcast(frame) => {
                for entry in self.peers.values() {
                    let handle = entry.handle.clone();
                    let frame = frame.clone();
                    tokio::spawn(async move { handle.send_frame(frame).await });
                }
            }
            Command::Relay(item) => {
                if !self.relayed.insert(item) {
                    return;
                }
                self.relayed_order.push_back(item);
                if self.relayed_order.len() > MAX_RELAYED {
                    if let Some(old) = self.relayed_order.pop_front() {
                        self.relayed.remove(&old);
                    }
                }
                for entry in self.peers.values() {
                    let handle = entry.handle.clone();
                    tokio::spawn(async move { handle.push_inv(vec![item]).await });
                }
            }
            Command::Connect(target) => self.spawn_outbound(target, false),
            Command::Disconnect(id) => {
                if let Some(entry) = self.peers.get(&id) {
                    entry.handle.disconnect();
                }
            }
            Command::Ban(ip, duration) => {
                self.bans.insert(ip, Instant::now() + duration);
                for entry in self.peers.values().filter(|e| e.handle.addr().ip() == ip) {
                    entry.handle.end(DisconnectReason::Banned);
                }
            }
            Command::Unban(ip) => {
                self.bans.remove(&ip);
                self.discouraged.remove(&ip);
            }
            Command::Discourage(ip) => {
                self.discouraged.insert(ip);
            }
            Command::Learn(addrs, source) => {
                let now = unix_now();
                let services = btcwire::types::ServiceFlags::NETWORK;
                self.book.learn(
                    addrs.into_iter().map(|a| (PeerAddr::Ip(a), services, now)),
                    source,
                    now,
                );
            }
            Command::SaveAddrBook(path, reply) => {
                let _ = reply.send(self.book.save(path));
            }
            Command::Peers(reply) => {
                let list = self
                    .peers
                    .values()
                    .map(|e| PeerSummary {
                        handle: e.handle.clone(),
                        role: e.role,
                        persistent: e.persistent,
                    })
                    .collect();
                let _ = reply.send(list);
            }
            Command::AddrBook(reply) => {
                let _ = reply.send(self.book.clone());
            }
            Command::Shutdown(_) => {}
        }
    }

    /// Processes one peer event and forwards it; false when the application is gone.
    async fn event(&mut self, event: Event) -> bool {
        match &event {
            Event::Connected(handle) => {
                let id = handle.id();
                self.connecting.remove(&handle.addr());
                if self.is_banned(handle.addr().ip()) {
                    handle.end(DisconnectReason::Banned);
                }
                let role = handle.info().role;
                self.book
                    .mark_success(&PeerAddr::Ip(handle.addr()), unix_now());
                let persistent = self
                    .config
                    .persistent
                    .iter()
                    .any(|t| *t == Target::Addr(handle.addr()));
                self.peers.insert(
                    id,
                    Entry {
                        handle: handle.clone(),
                        role,
                        persistent,
                        answered_getaddr: false,
                    },
                );
                self.advertise(handle);
            }
            Event::HandshakeFailed { addr, role, .. } => {
                if *role == Role::Outbound {
                    self.connecting.remove(addr);
                    self.book.mark_failed(&PeerAddr::Ip(*addr), unix_now());
                }
            }
            Event::Peer {
                peer,
                event: PeerEvent::Message(frame),
            } => self.message(*peer, frame),
            Event::Peer { .. } => {}
            Event::Disconnected { peer, .. } => {
                self.peers.remove(peer);
            }
        }
        self.app.send(event).await.is_ok()
    }

    /// Learns addresses and answers `getaddr`.
    fn message(&mut self, peer: PeerId, frame: &Frame) {
        let now = unix_now();
        match frame.message() {
            Ok(Message::Addr(addr)) => {
                let entries = addr.iter().map(|e| PeerAddr::from_addr_entry(&e));
                self.book.learn(entries, AddrSource::Peer, now);
            }
            Ok(Message::AddrV2(addr)) => {
                let entries = addr
                    .iter()
                    .filter_map(|e| PeerAddr::from_addr_v2_entry(&e).ok());
                self.book.learn(entries, AddrSource::Peer, now);
            }
            Ok(Message::GetAddr(_)) => {
                let Some(entry) = self.peers.get_mut(&peer) else {
                    return;
                };
                // Core answers only inbound peers, once per connection (anti-fingerprinting).
                if entry.role != Role::Inbound || entry.answered_getaddr {
                    return;
                }
                entry.answered_getaddr = true;
                let handle = entry.handle.clone();
                let answer: Vec<AddrEntry> = self
                    .book
                    .answer_getaddr(&mut self.rng)
                    .into_iter()
                    .filter_map(|(addr, services, time)| addr.to_addr_entry(time, services))
                    .collect();
                tokio::spawn(async move { handle.push_addr(answer).await });
            }
            _ => {}
        }
    }

    fn our_address(&self) -> Option<AddrEntry> {
        let addr = self.config.advertise?;
        Some(AddrEntry::new(
            unix_now(),
            NetAddr::from_socket_addr(self.config.peer.services, addr),
        ))
    }

    fn advertise(&self, handle: &PeerHandle) {
        if let Some(ours) = self.our_address() {
            let handle = handle.clone();
            tokio::spawn(async move { handle.push_addr(vec![ours]).await });
        }
    }

    fn advertise_all(&self) {
        let handles: Vec<PeerHandle> = self.peers.values().map(|e| e.handle.clone()).collect();
        for handle in &handles {
            self.advertise(handle);
        }
    }

    fn accept(&mut self, stream: tokio::net::TcpStream, addr: SocketAddr) {
        if self.is_banned(addr.ip()) {
            return;
        }
        let Ok(permit) = std::sync::Arc::clone(&self.inbound_permits).try_acquire_owned() else {
            return;
        };
        let _ = stream.set_nodelay(true);
        let config = self.config.peer.clone();
        let nonces = self.nonces.clone();
        let events = self.peer_events.clone();
        tokio::spawn(async move {
            match driver::accept(stream, addr, &config, &nonces).await {
                Ok(done) => {
                    let handle = driver::spawn(done, next_peer_id(), &config, events.clone());
                    let _ = events.send(Event::Connected(handle.clone())).await;
                    handle.wait_for_disconnect().await;
                }
                Err(error) => {
                    let _ = events
                        .send(Event::HandshakeFailed {
                            addr,
                            role: Role::Inbound,
                            error,
                        })
                        .await;
                }
            }
            drop(permit);
        });
    }

    fn outbound_count(&self) -> usize {
        self.peers
            .values()
            .filter(|e| e.role == Role::Outbound && !e.persistent)
            .count()
            + self.connecting.len()
    }

    /// Opens connections from the address book until the outbound target is met.
    fn top_up(&mut self) {
        let missing = self
            .config
            .target_outbound
            .saturating_sub(self.outbound_count());
        if missing == 0 {
            return;
        }
        let mut exclude: HashSet<PeerAddr> =
            self.connecting.iter().map(|a| PeerAddr::Ip(*a)).collect();
        exclude.extend(self.peers.values().map(|e| PeerAddr::Ip(e.handle.addr())));
        let candidates = self.book.select(missing, &exclude, &mut self.rng);
        for addr in candidates {
            let PeerAddr::Ip(addr) = addr else { continue };
            if self.is_banned(addr.ip()) {
                continue;
            }
            self.book.mark_attempt(&PeerAddr::Ip(addr), unix_now());
            self.spawn_outbound(Target::Addr(addr), false);
        }
    }

    fn spawn_outbound(&mut self, target: Target, _persistent: bool) {
        if let Target::Addr(addr) = &target {
            self.connecting.insert(*addr);
        }
        let config = self.config.peer.clone();
        let proxy = self.config.proxy;
        let nonces = self.nonces.clone();
        let events = self.peer_events.clone();
        tokio::spawn(async move {
            match connect(&target, proxy, &config, &nonces).await {
                Ok(done) => {
                    let handle = driver::spawn(done, next_peer_id(), &config, events.clone());
                    let _ = events.send(Event::Connected(handle)).await;
                }
                Err((addr, error)) => {
                    let _ = events
                        .send(Event::HandshakeFailed {
                            addr,
                            role: Role::Outbound,
                            error,
                        })
                        .await;
                }
            }
        });
    }

    /// Keeps one persistent peer connected, backing off exponentially between failures.
    fn spawn_persistent(&self, target: Target) {
        let config = self.config.peer.clone();
        let proxy = self.config.proxy;
        let nonces = self.nonces.clone();
        let events = self.peer_events.clone();
        let (min, max) = self.config.backoff;
        let mut stop = self.stop_rx.clone();
        tokio::spawn(async move {
            let mut delay = min;
            loop {
                if *stop.borrow() {
                    return;
                }
                match connect(&target, proxy, &config, &nonces).await {
                    Ok(done) => {
                        delay = min;
                        let handle = driver::spawn(done, next_peer_id(), &config, events.clone());
                        let _ = events.send(Event::Connected(handle.clone())).await;
                        tokio::select! {
                            _ = handle.wait_for_disconnect() => {}
                            _ = stop.changed() => return,
                        }
                    }
                    Err((addr, error)) => {
                        let _ = events
                            .send(Event::HandshakeFailed {
                                addr,
                                role: Role::Outbound,
                                error,
                            })
                            .await;
                    }
                }
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stop.changed() => return,
                }
                delay = (delay * 2).min(max);
            }
        });
    }
}

/// Connects to `target` as [`driver::connect`] does, and on failure also returns the address
/// [`Event::HandshakeFailed`] reports: the target's own; for a host name, the address it
/// resolved to once the TCP connection was open (the proxy's, through a proxy), or
/// `0.0.0.0:0` when it failed before that.
async fn connect(
    target: &Target,
    proxy: Option<SocketAddr>,
    config: &PeerConfig,
    nonces: &NonceSet,
) -> Result<Handshaken<TcpStream>, (SocketAddr, PeerError)> {
    driver::connect_reaching(target, proxy, config, nonces)
        .await
        .map_err(|(reached, error)| {
            let addr = reached.unwrap_or(match target {
                Target::Addr(addr) => *addr,
                Target::Host(..) => SocketAddr::from(([0, 0, 0, 0], 0)),
            });
            (addr, error)
        })
}

/// Groups DNS seeds by port, in order of first appearance, for [`resolve_seeds`].
fn group_by_port(seeds: &[(String, u16)]) -> Vec<(u16, Vec<String>)> {
    let mut groups: Vec<(u16, Vec<String>)> = Vec::new();
    for (host, port) in seeds {
        match groups.iter_mut().find(|(p, _)| p == port) {
            Some((_, hosts)) => hosts.push(host.clone()),
            None => groups.push((*port, vec![host.clone()])),
        }
    }
    groups
}

/// Resolves every group of DNS seeds in parallel and hands each group's answers to the
/// pool as it arrives; stops early once the pool has stopped.
async fn learn_dns_seeds(
    groups: Vec<(u16, Vec<String>)>,
    timeout: Duration,
    pool: mpsc::WeakSender<Command>,
) {
    let mut lookups = tokio::task::JoinSet::new();
    for (port, hosts) in groups {
        lookups.spawn(async move {
            let hosts: Vec<&str> = hosts.iter().map(String::as_str).collect();
            resolve_seeds(&hosts, port, timeout).await
        });
    }
    while let Some(joined) = lookups.join_next().await {
        let Ok(addrs) = joined else { continue };
        tracing::debug!(found = addrs.len(), "DNS seeds answered");
        if addrs.is_empty() {
            continue;
        }
        let Some(pool) = pool.upgrade() else { return };
        if pool
            .send(Command::Learn(addrs, AddrSource::Seed))
            .await
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_seeds_are_grouped_by_port_in_order() {
        let seeds = [
            ("a.example".to_owned(), 8333),
            ("b.example".to_owned(), 18333),
            ("c.example".to_owned(), 8333),
        ];
        assert_eq!(
            group_by_port(&seeds),
            [
                (8333, vec!["a.example".to_owned(), "c.example".to_owned()]),
                (18333, vec!["b.example".to_owned()]),
            ]
        );
        assert!(group_by_port(&[]).is_empty());
    }

    #[test]
    fn network_dns_seeds_come_with_the_default_port() {
        let config = PoolConfig::new(PeerConfig::new(Network::Regtest));
        assert!(config.dns_seeds.is_empty(), "no lookups unless asked");
        let mainnet = config.clone().with_network_dns_seeds(Network::Mainnet);
        assert_eq!(mainnet.dns_seeds.len(), 8);
        assert_eq!(
            mainnet.dns_seeds[0],
            ("seed.bitcoin.sipa.be".to_owned(), 8333)
        );
        assert!(mainnet.dns_seeds.iter().all(|(_, port)| *port == 8333));
        let signet = config.clone().with_network_dns_seeds(Network::Signet);
        assert!(signet.dns_seeds.iter().all(|(_, port)| *port == 38333));
        assert!(
            config
                .with_network_dns_seeds(Network::Regtest)
                .dns_seeds
                .is_empty()
        );
    }

    #[tokio::test]
    async fn seed_answers_reach_the_pool_as_seed_entries() {
        let (tx, mut rx) = mpsc::channel(4);
        let groups = group_by_port(&[
            // A NUL byte: refused before any lookup, so this never leaves the host.
            ("no\0such.invalid".to_owned(), 18444),
            ("127.0.0.1".to_owned(), 18444),
            ("::1".to_owned(), 18445),
        ]);
        learn_dns_seeds(groups, Duration::from_secs(2), tx.downgrade()).await;
        let mut learned = Vec::new();
        while let Ok(Command::Learn(addrs, source)) = rx.try_recv() {
            assert_eq!(source, AddrSource::Seed);
            learned.extend(addrs);
        }
        learned.sort();
        let expected: [SocketAddr; 2] = [
            "127.0.0.1:18444".parse().unwrap(),
            "[::1]:18445".parse().unwrap(),
        ];
        assert_eq!(learned, expected);
    }

    #[tokio::test]
    async fn seed_lookups_stop_quietly_once_the_pool_is_gone() {
        let bound = Duration::from_secs(20);
        let groups =
            || group_by_port(&[("127.0.0.1".to_owned(), 18444), ("::1".to_owned(), 18445)]);

        // Every handle gone (the manager may still run): the answers have nowhere to go,
        // and nothing is sent.
        let (tx, mut rx) = mpsc::channel::<Command>(4);
        let weak = tx.downgrade();
        drop(tx);
        tokio::time::timeout(
            bound,
            learn_dns_seeds(groups(), Duration::from_secs(2), weak),
        )
        .await
        .expect("the lookups end");
        assert!(matches!(
            rx.try_recv(),
            Err(mpsc::error::TryRecvError::Disconnected)
        ));

        // The manager gone while a handle lives on: sending fails, and the lookups end
        // rather than wait or panic.
        let (tx, rx) = mpsc::channel::<Command>(4);
        drop(rx);
        tokio::time::timeout(
            bound,
            learn_dns_seeds(groups(), Duration::from_secs(2), tx.downgrade()),
        )
        .await
        .expect("the lookups end");
        drop(tx);
    }
}
