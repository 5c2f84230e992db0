//! The tokio drivers of one peer: [`connect`], [`accept`], [`handshake`] and [`spawn`].
//!
//! They hold no protocol logic: each loops over the sans-IO core, writing what
//! `poll_transmit` gives, feeding what it reads to `handle_frame`, and sleeping until
//! `poll_timeout`. Any `AsyncRead + AsyncWrite` stream works (TCP, a SOCKS5 tunnel, an
//! in-memory pipe).
//!
//! An established peer runs as two tasks so reading and writing proceed independently: the
//! peer task reads, decodes and drives [`Peer`]; the writer task drains a bounded queue of
//! encoded frames ([`PeerConfig::max_outbound_queue`]) to the socket and reports each write
//! back, which is when a [`PeerHandle::send_notify`] caller learns that its message left.
//!
//! That queue is the back-pressure: after every frame read, timer or command, the peer task
//! moves what [`Peer::poll_transmit`] gives into it, waiting for room. While it is full (the
//! remote is not reading), the peer task neither reads the socket nor takes commands, so
//! the `async` [`PeerHandle`] methods wait once 64 commands are queued, and memory stays
//! bounded. It still ends when asked ([`PeerHandle::disconnect`], a pool's shutdown) and
//! its timers still run, so a remote that never reads meets the pong timeout; once the peer
//! has ended, its writer gets [`WRITER_DRAIN`] to write what was queued, then is stopped
//! and the socket closed.

use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use btcwire::bytes::{Bytes, BytesMut};
use btcwire::frame::Framed;
use btcwire::types::{AddrEntry, BlockHash, InvItem};
use btcwire::{Frame, FrameDecoder, FrameError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};

use crate::config::PeerConfig;
use crate::error::{DisconnectReason, HandshakeError, PeerError, SendError, Violation};
use crate::proto::handshake::Handshake;
use crate::proto::peer::{Peer, PeerEvent, PeerStats};
use crate::proto::{NonceSet, RemoteInfo, Rng, Role};

/// Initial read buffer: small, grown only as a frame's bytes actually arrive.
const INITIAL_READ_BUFFER: usize = 0;

/// Commands queued to one peer task before `PeerHandle` methods wait.
const COMMAND_QUEUE: usize = 64;

/// Time the writer gets, once its peer has ended, to write what was already queued; then it
/// is stopped and the socket closed, so a remote that does not read cannot keep either.
pub const WRITER_DRAIN: Duration = Duration::from_secs(5);

/// Where to connect: an address, or a host name (resolved by us, or by the proxy).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// A socket address.
    Addr(SocketAddr),
    /// A host name and port (`.onion` names need a proxy).
    Host(String, u16),
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Addr(addr) => write!(f, "{addr}"),
            Self::Host(host, port) if host.contains(':') => write!(f, "[{host}]:{port}"),
            Self::Host(host, port) => write!(f, "{host}:{port}"),
        }
    }
}

impl From<SocketAddr> for Target {
    fn from(addr: SocketAddr) -> Self {
        Self::Addr(addr)
    }
}

impl Target {
    /// Parses `host`, `host:port`, `ip:port` or `[ipv6]:port`, with `default_port` when the
    /// port is absent.
    ///
    /// # Errors
    /// [`PeerError::Resolve`] for an empty host or an invalid port.
    pub fn parse(s: &str, default_port: u16) -> Result<Self, PeerError> {
        let s = s.trim();
        if let Ok(addr) = s.parse::<SocketAddr>() {
            return Ok(Self::Addr(addr));
        }
        if let Ok(ip) = s
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
        {
            return Ok(Self::Addr(SocketAddr::new(ip, default_port)));
        }
        let (host, port) = match s.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (
                host,
                port.parse().map_err(|_| PeerError::Resolve(s.to_owned()))?,
            ),
            _ => (s, default_port),
        };
        if host.is_empty() {
            return Err(PeerError::Resolve(s.to_owned()));
        }
        Ok(Self::Host(host.to_owned(), port))
    }
}

/// Returns the wall clock in Unix seconds.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Opens a TCP connection to `target` (through `proxy`, a SOCKS5 server, when given)
/// within `config.connect_timeout`.
///
/// # Errors
/// [`PeerError::ConnectTimeout`], [`PeerError::Connect`], [`PeerError::Resolve`] or
/// [`PeerError::Proxy`].
pub async fn open(
    target: &Target,
    proxy: Option<SocketAddr>,
    config: &PeerConfig,
) -> Result<(TcpStream, SocketAddr), PeerError> {
    let timeout = config.connect_timeout;
    let connecting = async {
        match (proxy, target) {
            (Some(proxy), target) => {
                let dest = match target {
                    Target::Addr(addr) => tokio_socks::TargetAddr::Ip(*addr),
                    Target::Host(host, port) => {
                        tokio_socks::TargetAddr::Domain(host.clone().into(), *port)
                    }
                };
                let stream = tokio_socks::tcp::Socks5Stream::connect(proxy, dest)
                    .await
                    .map_err(PeerError::Proxy)?;
                let remote = match target {
                    Target::Addr(addr) => *addr,
                    Target::Host(..) => proxy,
                };
                Ok((stream.into_inner(), remote))
            }
            (None, Target::Addr(addr)) => {
                let stream = TcpStream::connect(addr).await.map_err(PeerError::Connect)?;
                Ok((stream, *addr))
            }
            (None, Target::Host(host, port)) => {
                let addrs = tokio::net::lookup_host((host.as_str(), *port))
                    .await
                    .map_err(|_| PeerError::Resolve(target.to_string()))?;
                let mut last = None;
                for addr in addrs {
                    match TcpStream::connect(addr).await {
                        Ok(stream) => return Ok((stream, addr)),
                        Err(e) => last = Some(e),
                    }
                }
                Err(last.map_or_else(
                    || PeerError::Resolve(target.to_string()),
                    PeerError::Connect,
                ))
            }
        }
    };
    let (stream, remote) = tokio::time::timeout(timeout, connecting)
        .await
        .map_err(|_| PeerError::ConnectTimeout(timeout))??;
    // Small messages (ping, verack) should leave at once.
    stream.set_nodelay(true).map_err(PeerError::Io)?;
    Ok((stream, remote))
}

/// A completed handshake: what the peer told us, and bytes it sent after its `verack`.
#[derive(Debug)]
pub struct Handshaken<S> {
    /// The stream, ready for [`spawn`].
    pub stream: S,
    /// The peer's address (the proxy's, for a name reached through a proxy).
    pub remote: SocketAddr,
    /// The peer's handshake result.
    pub info: RemoteInfo,
    /// Bytes read past the handshake (the start of the next frames).
    pub leftover: BytesMut,
    /// Time to open the connection, when we opened it.
    pub connect_time: Option<Duration>,
}

/// Runs the version/verack exchange over `stream` in `role`.
///
/// # Errors
/// [`PeerError::Handshake`] with the precise reason, [`PeerError::Closed`] or
/// [`PeerError::Io`].
pub async fn handshake<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    role: Role,
    remote: SocketAddr,
    config: &PeerConfig,
    nonces: &NonceSet,
) -> Result<Handshaken<S>, PeerError> {
    let mut rng = Rng::from_os();
    let now = Instant::now();
    let mut hs = Handshake::new(
        config,
        role,
        remote,
        rng.next_u64(),
        nonces.clone(),
        now,
        unix_now(),
    );
    let mut decoder = FrameDecoder::new(config.magic);
    let mut buf = BytesMut::with_capacity(INITIAL_READ_BUFFER);
    loop {
        while let Some(bytes) = hs.poll_transmit() {
            stream.write_all(&bytes).await?;
        }
        if hs.finished().is_some() {
            stream.flush().await?;
            let info = hs.into_info().expect("a finished handshake has its result");
            return Ok(Handshaken {
                stream,
                remote,
                info,
                leftover: buf,
                connect_time: None,
            });
        }
        let deadline = hs
            .poll_timeout()
            .expect("unfinished handshakes have a deadline");
        tokio::select! {
            read = stream.read_buf(&mut buf) => {
                if read? == 0 {
                    return Err(PeerError::Closed);
                }
                loop {
                    match decoder.decode(&mut buf) {
                        Ok(Some(frame)) => {
                            hs.handle_frame(&frame, Instant::now())?;
                            if hs.finished().is_some() {
                                break;
                            }
                        }
                        Ok(None) => break,
                        // Core drops a message with a bad checksum and keeps the peer.
                        Err(FrameError::BadChecksum { .. }) => {}
                        Err(e) => return Err(HandshakeError::Violation(Violation::Frame(e)).into()),
                    }
                }
            }
            () = tokio::time::sleep_until(deadline.into()) => hs.handle_timeout(Instant::now())?,
        }
    }
}

/// Connects to `target` and completes the handshake as the outbound side.
///
/// # Errors
/// As [`open`] and [`handshake`].
pub async fn connect(
    target: &Target,
    proxy: Option<SocketAddr>,
    config: &PeerConfig,
    nonces: &NonceSet,
) -> Result<Handshaken<TcpStream>, PeerError> {
    connect_reaching(target, proxy, config, nonces)
        .await
        .map_err(|(_, error)| error)
}

/// As [`connect`]; a failure also says which address the TCP connection reached, when it
/// was opened (the proxy's for a host name through a proxy, as [`open`] reports it).
pub(crate) async fn connect_reaching(
    target: &Target,
    proxy: Option<SocketAddr>,
    config: &PeerConfig,
    nonces: &NonceSet,
) -> Result<Handshaken<TcpStream>, (Option<SocketAddr>, PeerError)> {
    let started = Instant::now();
    let (stream, remote) = open(target, proxy, config)
        .await
        .map_err(|error| (None, error))?;
    let connect_time = started.elapsed();
    let mut done = handshake(stream, Role::Outbound, remote, config, nonces)
        .await
        .map_err(|error| (Some(remote), error))?;
    done.connect_time = Some(connect_time);
    Ok(done)
}

/// Completes the handshake as the inbound side of an accepted stream.
///
/// # Errors
/// As [`handshake`].
pub async fn accept<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    remote: SocketAddr,
    config: &PeerConfig,
    nonces: &NonceSet,
) -> Result<Handshaken<S>, PeerError> {
    handshake(stream, Role::Inbound, remote, config, nonces).await
}

/// A process-unique peer id.
pub type PeerId = u64;

/// What happens to peers: the events of [`spawn`], [`crate::Listener`] and [`crate::Pool`].
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// A handshake completed and the peer is running.
    Connected(PeerHandle),
    /// A connection or handshake failed.
    HandshakeFailed {
        /// The peer's address. For a [`Target::Host`] the pool dialled, the address the name
        /// resolved to once the TCP connection was open (the proxy's, through a proxy), or
        /// `0.0.0.0:0` when resolving or connecting failed before that.
        addr: SocketAddr,
        /// Who opened the connection.
        role: Role,
        /// Why it failed.
        error: PeerError,
    },
    /// An established peer reported something (every received message among others).
    Peer {
        /// The peer.
        peer: PeerId,
        /// What happened.
        event: PeerEvent,
    },
    /// An established peer ended.
    Disconnected {
        /// The peer.
        peer: PeerId,
        /// Its address.
        addr: SocketAddr,
        /// Why it ended.
        reason: DisconnectReason,
    },
}

// Large payloads are boxed so a `Command` stays small: tokio's channel allocates a block of
// 32 slots per peer up front, whatever its capacity, and every idle peer pays for it.
enum Command {
    Send(Box<(Frame, Option<oneshot::Sender<()>>)>),
    PushInv(Vec<InvItem>),
    PushAddr(Vec<AddrEntry>),
    GetHeaders(Box<(Vec<BlockHash>, BlockHash)>),
    GetBlocks(Box<(Vec<BlockHash>, BlockHash)>),
    GetData(Vec<InvItem>),
    MarkKnown(Box<[u8; 32]>),
    Stats(oneshot::Sender<PeerStats>),
    Disconnect(Box<DisconnectReason>),
}

/// A handle to a running peer: cheap to clone, usable from any task.
#[derive(Debug, Clone)]
pub struct PeerHandle {
    id: PeerId,
    addr: SocketAddr,
    info: Arc<RemoteInfo>,
    magic: btcwire::Magic,
    commands: mpsc::Sender<Command>,
    done: watch::Receiver<Option<DisconnectReason>>,
    last_stats: Arc<Mutex<Option<PeerStats>>>,
    /// Set by [`PeerHandle::end`]: ends a peer task that is waiting for room (to write or to
    /// report), where it takes no command.
    ending: Arc<watch::Sender<Option<DisconnectReason>>>,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Send(..) => "Send",
            Self::PushInv(_) => "PushInv",
            Self::PushAddr(_) => "PushAddr",
            Self::GetHeaders(..) => "GetHeaders",
            Self::GetBlocks(..) => "GetBlocks",
            Self::GetData(_) => "GetData",
            Self::MarkKnown(_) => "MarkKnown",
            Self::Stats(_) => "Stats",
            Self::Disconnect(_) => "Disconnect",
        })
    }
}

impl PeerHandle {
    /// Returns the peer's id.
    #[must_use]
    pub const fn id(&self) -> PeerId {
        self.id
    }

    /// Returns the peer's address.
    #[must_use]
    pub const fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the handshake result.
    #[must_use]
    pub fn info(&self) -> &RemoteInfo {
        &self.info
    }

    async fn command(&self, cmd: Command) -> bool {
        self.commands.send(cmd).await.is_ok()
    }

    /// Queues `msg`.
    ///
    /// # Errors
    /// [`SendError::Frame`] for a message over the protocol's size limits (nothing is sent),
    /// [`SendError::Ended`] when the peer has ended.
    pub async fn send<M: Framed + ?Sized>(&self, msg: &M) -> Result<(), SendError> {
        let frame = Frame::from_message(self.magic, msg)?;
        if self.send_frame(frame).await {
            Ok(())
        } else {
            Err(SendError::Ended)
        }
    }

    /// Queues an encoded frame; returns false when the peer has ended.
    pub async fn send_frame(&self, frame: Frame) -> bool {
        self.command(Command::Send(Box::new((frame, None)))).await
    }

    /// Queues `msg` and waits until it has been written to the socket.
    ///
    /// # Errors
    /// As [`PeerHandle::send`]; [`SendError::Ended`] also when the peer ended before the
    /// frame was written.
    pub async fn send_notify<M: Framed + ?Sized>(&self, msg: &M) -> Result<(), SendError> {
        let (tx, rx) = oneshot::channel();
        let frame = Frame::from_message(self.magic, msg)?;
        let written = self
            .command(Command::Send(Box::new((frame, Some(tx)))))
            .await
            && rx.await.is_ok();
        if written {
            Ok(())
        } else {
            Err(SendError::Ended)
        }
    }

    /// Announces inventory, trickled and skipping what the peer already knows.
    pub async fn push_inv(&self, items: Vec<InvItem>) -> bool {
        self.command(Command::PushInv(items)).await
    }

    /// Sends addresses (`addrv2` when negotiated), duplicates dropped, at most 1000.
    pub async fn push_addr(&self, addrs: Vec<AddrEntry>) -> bool {
        self.command(Command::PushAddr(addrs)).await
    }

    /// Asks for headers after `locator` (at most 101 hashes; longer locators are cut).
    pub async fn push_getheaders(&self, locator: Vec<BlockHash>, stop: BlockHash) -> bool {
        self.command(Command::GetHeaders(Box::new((locator, stop))))
            .await
    }

    /// Asks for an `inv` of blocks after `locator` (at most 101 hashes).
    pub async fn push_getblocks(&self, locator: Vec<BlockHash>, stop: BlockHash) -> bool {
        self.command(Command::GetBlocks(Box::new((locator, stop))))
            .await
    }

    /// Asks for data (split into `getdata` messages of at most 50,000 entries).
    pub async fn push_getdata(&self, items: Vec<InvItem>) -> bool {
        self.command(Command::GetData(items)).await
    }

    /// Records that the peer knows `hash` (it will not be announced to it).
    pub async fn mark_known(&self, hash: [u8; 32]) -> bool {
        self.command(Command::MarkKnown(Box::new(hash))).await
    }

    /// Returns a statistics snapshot; once the peer has ended, the final one, with
    /// [`PeerStats::disconnect_reason`] set.
    pub async fn stats(&self) -> Option<PeerStats> {
        let (tx, rx) = oneshot::channel();
        if self.command(Command::Stats(tx)).await {
            if let Ok(stats) = rx.await {
                return Some(stats);
            }
        }
        self.last_stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Asks the peer to disconnect; returns at once. The reason will be
    /// [`DisconnectReason::Requested`].
    pub fn disconnect(&self) {
        self.end(DisconnectReason::Requested);
    }

    /// Ends the peer with `reason`; returns at once.
    pub(crate) fn end(&self, reason: DisconnectReason) {
        // A peer task waiting for its writer or its event consumer ends at once; one that is
        // taking commands ends at this one, after the commands queued before it.
        self.ending.send_if_modified(|ending| {
            let first = ending.is_none();
            if first {
                *ending = Some(reason.clone());
            }
            first
        });
        // A full queue means the task is busy: deliver from a task. A closed queue means the
        // peer already ended.
        if let Err(mpsc::error::TrySendError::Full(cmd)) = self
            .commands
            .try_send(Command::Disconnect(Box::new(reason)))
        {
            let commands = self.commands.clone();
            tokio::spawn(async move {
                let _ = commands.send(cmd).await;
            });
        }
    }

    /// Returns whether the peer has ended.
    #[must_use]
    pub fn is_disconnected(&self) -> bool {
        self.done.borrow().is_some()
    }

    /// Waits until the peer has ended, for any cause, and returns why.
    pub async fn wait_for_disconnect(&self) -> DisconnectReason {
        let mut done = self.done.clone();
        loop {
            if let Some(reason) = done.borrow_and_update().clone() {
                return reason;
            }
            if done.changed().await.is_err() {
                return done.borrow().clone().unwrap_or(DisconnectReason::Shutdown);
            }
        }
    }
}

type Outgoing = (Bytes, Option<oneshot::Sender<()>>);

/// Starts the tasks of an established peer and returns its handle. Its events go to
/// `events` (bounded: a slow consumer slows the peer's reading, never its memory).
pub fn spawn<S>(
    done: Handshaken<S>,
    id: PeerId,
    config: &PeerConfig,
    events: mpsc::Sender<Event>,
) -> PeerHandle
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let Handshaken {
        stream,
        remote: addr,
        info,
        leftover,
        ..
    } = done;
    let (read, write) = tokio::io::split(stream);
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (done_tx, done_rx) = watch::channel(None);
    let (out_tx, out_rx) = mpsc::channel::<Outgoing>(config.max_outbound_queue.max(1));
    let (written_tx, written_rx) = mpsc::unbounded_channel();
    let (ending_tx, ending_rx) = watch::channel(None);
    let last_stats = Arc::new(Mutex::new(None));
    let peer = Peer::new(config, info.clone(), Rng::from_os(), Instant::now());
    let task = PeerTask {
        id,
        addr,
        peer,
        decoder: FrameDecoder::new(config.magic),
        buf: leftover,
        commands: cmd_rx,
        outgoing: out_tx,
        written: written_rx,
        events,
        last_stats: Arc::clone(&last_stats),
        done: done_tx,
        ending: ending_rx,
        writer: None,
    };
    let writing = tokio::spawn(writer(write, out_rx, written_tx));
    tokio::spawn(task.run(read, writing));
    PeerHandle {
        id,
        addr,
        info: Arc::new(info),
        magic: config.magic,
        commands: cmd_tx,
        done: done_rx,
        last_stats,
        ending: Arc::new(ending_tx),
    }
}

/// Writes queued frames in order and reports each write.
async fn writer<W: AsyncWrite>(
    write: W,
    mut queue: mpsc::Receiver<Outgoing>,
    report: mpsc::UnboundedSender<std::io::Result<usize>>,
) {
    tokio::pin!(write);
    while let Some((bytes, notify)) = queue.recv().await {
        let result = write.write_all(&bytes).await;
        let failed = result.is_err();
        let _ = report.send(result.map(|()| bytes.len()));
        if failed {
            return;
        }
        if let Some(notify) = notify {
            let _ = notify.send(());
        }
    }
    let _ = write.shutdown().await;
}

struct PeerTask {
    id: PeerId,
    addr: SocketAddr,
    peer: Peer,
    decoder: FrameDecoder,
    buf: BytesMut,
    commands: mpsc::Receiver<Command>,
    outgoing: mpsc::Sender<Outgoing>,
    written: mpsc::UnboundedReceiver<std::io::Result<usize>>,
    events: mpsc::Sender<Event>,
    last_stats: Arc<Mutex<Option<PeerStats>>>,
    done: watch::Sender<Option<DisconnectReason>>,
    ending: watch::Receiver<Option<DisconnectReason>>,
    writer: Option<tokio::task::JoinHandle<()>>,
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Resolves when [`PeerHandle::end`] has been called, with its reason; never when every
/// handle is gone (the command queue's end says so then).
async fn ended(ending: &mut watch::Receiver<Option<DisconnectReason>>) -> DisconnectReason {
    loop {
        if let Some(reason) = ending.borrow_and_update().clone() {
            return reason;
        }
        if ending.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

impl PeerTask {
    async fn run<R: AsyncRead>(mut self, read: R, writer: tokio::task::JoinHandle<()>) {
        tokio::pin!(read);
        self.writer = Some(writer);
        // Frames that arrived together with the handshake's last message.
        let reason = match self.decode_buffered() {
            Ok(()) => self.main_loop(read).await,
            Err(reason) => reason,
        };
        let mut stats = self.peer.stats();
        stats.disconnect_reason = Some(reason.clone());
        *self
            .last_stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(stats.clone());
        // No command is taken from now on: `stats()` gets the final snapshot at once, even
        // while the last event below waits for room, and queued requests get it too. (After
        // `close`, `recv` returns what was queued, then `None`.)
        self.commands.close();
        while let Some(cmd) = self.commands.recv().await {
            if let Command::Stats(reply) = cmd {
                let _ = reply.send(stats.clone());
            }
        }
        // The writer finishes what was queued once this task's sender is gone, within
        // WRITER_DRAIN, or is stopped.
        if let Some(mut writer) = self.writer.take() {
            tokio::spawn(async move {
                if tokio::time::timeout(WRITER_DRAIN, &mut writer)
                    .await
                    .is_err()
                {
                    writer.abort();
                }
            });
        }
        let _ = self.done.send(Some(reason.clone()));
        let event = Event::Disconnected {
            peer: self.id,
            addr: self.addr,
            reason,
        };
        let _ = self.events.send(event).await;
    }

    async fn main_loop<R: AsyncRead>(
        &mut self,
        mut read: std::pin::Pin<&mut R>,
    ) -> DisconnectReason {
        loop {
            if let Err(reason) = self.flush(None).await {
                return reason;
            }
            while let Some(event) = self.peer.poll_event() {
                let event = Event::Peer {
                    peer: self.id,
                    event,
                };
                // A consumer that does not read holds the peer here, but not past an end.
                tokio::select! {
                    biased;
                    sent = self.events.send(event) => if sent.is_err() {
                        return DisconnectReason::Shutdown;
                    },
                    reason = ended(&mut self.ending) => return reason,
                }
            }
            let sleep = sleep_until(self.peer.poll_timeout());
            tokio::select! {
                cmd = self.commands.recv() => {
                    let Some(cmd) = cmd else { return DisconnectReason::Shutdown };
                    if let Err(reason) = self.command(cmd).await {
                        return reason;
                    }
                }
                read = read.read_buf(&mut self.buf) => match read {
                    Ok(0) => return DisconnectReason::Closed,
                    Ok(_) => {
                        if let Err(reason) = self.decode_buffered() {
                            return reason;
                        }
                    }
                    Err(e) => return e.into(),
                },
                written = self.written.recv() => match written {
                    Some(Ok(n)) => self.peer.handle_written(n, Instant::now()),
                    Some(Err(e)) => return e.into(),
                    None => return DisconnectReason::Closed,
                },
                () = sleep => {
                    if let Err(reason) = self.peer.handle_timeout(Instant::now()) {
                        return reason;
                    }
                }
            }
        }
    }

    /// Feeds every complete frame in the buffer to the peer.
    fn decode_buffered(&mut self) -> Result<(), DisconnectReason> {
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(frame)) => self
                    .peer
                    .handle_frame(frame, Instant::now())
                    .map_err(DisconnectReason::Violation)?,
                Ok(None) => return Ok(()),
                Err(FrameError::BadChecksum { .. }) => {
                    self.peer.handle_bad_checksum(Instant::now())
                }
                Err(e) => return Err(DisconnectReason::Violation(Violation::Frame(e))),
            }
        }
    }

    /// Hands every frame the peer wants to send to the writer; `notify` goes with the last.
    async fn flush(
        &mut self,
        mut notify: Option<oneshot::Sender<()>>,
    ) -> Result<(), DisconnectReason> {
        let mut next = self.peer.poll_transmit();
        while let Some(bytes) = next {
            next = self.peer.poll_transmit();
            let note = if next.is_none() { notify.take() } else { None };
            // While the writer's queue is full (the remote is not reading) this task neither
            // reads nor takes commands: that is the back-pressure. It still ends when asked,
            // and its timers still run, so a peer that never reads meets the pong timeout.
            let room = loop {
                tokio::select! {
                    biased;
                    room = self.outgoing.reserve() => break room,
                    reason = ended(&mut self.ending) => return Err(reason),
                    () = sleep_until(self.peer.poll_timeout()) => {
                        self.peer.handle_timeout(Instant::now())?;
                    }
                }
            };
            match room {
                Ok(room) => room.send((bytes, note)),
                Err(_) => return Err(DisconnectReason::Closed),
            }
        }
        Ok(())
    }

    async fn command(&mut self, cmd: Command) -> Result<(), DisconnectReason> {
        let now = Instant::now();
        match cmd {
            Command::Send(send) => {
                let (frame, notify) = *send;
                // Earlier frames first, so the notification goes with this one.
                self.flush(None).await?;
                self.peer.send_frame(frame, now);
                self.flush(notify).await?;
            }
            Command::PushInv(items) => {
                for item in items {
                    self.peer.push_inv(item);
                }
            }
            Command::PushAddr(addrs) => self.peer.push_addr(&addrs, now),
            Command::GetHeaders(get) => {
                let (locator, stop) = *get;
                let n = locator.len().min(btcwire::limits::MAX_LOCATOR_SZ as usize);
                let _ = self.peer.push_getheaders(&locator[..n], stop, now);
            }
            Command::GetBlocks(get) => {
                let (locator, stop) = *get;
                let n = locator.len().min(btcwire::limits::MAX_LOCATOR_SZ as usize);
                let _ = self.peer.push_getblocks(&locator[..n], stop, now);
            }
            Command::GetData(items) => self.peer.push_getdata(&items, now),
            Command::MarkKnown(hash) => self.peer.mark_known(*hash),
            Command::Stats(reply) => {
                let _ = reply.send(self.peer.stats());
            }
            Command::Disconnect(reason) => return Err(*reason),
        }
        Ok(())
    }
}
