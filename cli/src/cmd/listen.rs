//! `btcwire listen`: run a node that accepts peers and prints everything they do.
//!
//! A [`btcwire_net::Pool`] with no outbound connections accepts peers on `--bind`, completes
//! their handshakes, answers `ping` (the peer driver does) and `getaddr` (the pool, from an
//! address book holding the `--peer` addresses), and reports each peer's arrival with its
//! handshake fingerprint, failed handshakes, every message it sends, and its departure with
//! the reason. Ctrl-C or SIGTERM shuts the pool down cleanly (exit status 0).
//!
//! The pool answers `getaddr` with at most 23% of its address book, as Bitcoin Core does,
//! which is nothing at all for a book of fewer than 5 entries. So that a handful of
//! `--peer` addresses is still handed out (a small test network needs exactly that), the
//! command also sends the `--peer` list itself, once per connection, to every inbound peer
//! that asks.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use btcwire::msg::Message;
use btcwire::types::{AddrEntry, ServiceFlags};
use btcwire::{Frame, Network};
use btcwire_net::addrbook::unix_now;
use btcwire_net::pool::DEFAULT_MAX_INBOUND;
use btcwire_net::{
    AddrBook, DisconnectReason, Event, PeerAddr, PeerEvent, PeerHandle, PeerId, Pool, PoolConfig,
    PoolHandle, Role,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::common::{PeerOptions, chain, fingerprint, info_json};

const EXAMPLES: &str = "\
Examples:
  btcwire listen                                  mainnet, on 0.0.0.0:8333
  btcwire listen --bind 127.0.0.1:18444 --network regtest --json
  btcwire listen --bind 127.0.0.1:0 --network regtest --peer 127.0.0.1:18445
  btcwire listen --advertise 203.0.113.7:8333 --services NETWORK|WITNESS

The bound address is printed on stderr at startup (`listening on 127.0.0.1:PORT (regtest)`),
and as the first JSON object with --json, so port 0 can be used. With --json each line is
one event: listening, connected, handshake_failed, message, rtt, ignored, disconnected,
shutdown; each carries `event`, `time` (Unix seconds), and `peer` (its id) and `addr` when
it concerns a peer.";

/// Time a peer has to end once the pool has shut down.
const PEER_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Arguments of `listen`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    /// Address to accept peers on (default: `0.0.0.0:<network port>`).
    #[arg(long, value_name = "ADDR:PORT")]
    bind: Option<SocketAddr>,
    /// Most inbound peers at once.
    #[arg(long, default_value_t = DEFAULT_MAX_INBOUND, value_name = "N")]
    max_inbound: usize,
    /// One JSON object per line (NDJSON) instead of text.
    #[arg(long)]
    json: bool,
    /// Our reachable address, advertised to every peer after its handshake.
    #[arg(long, value_name = "ADDR:PORT")]
    advertise: Option<SocketAddr>,
    /// A node address to hand out in answers to `getaddr` (repeatable); never connected to.
    #[arg(long = "peer", value_name = "ADDR:PORT")]
    peers: Vec<SocketAddr>,
    /// What we advertise (--proxy and --connect-timeout are refused: we only accept).
    #[command(flatten)]
    options: PeerOptions,
}

impl Args {
    /// Returns why the arguments, which clap accepted, make no sense for `listen`.
    pub(crate) fn usage_error(&self) -> Option<String> {
        let given = self.options.outbound_only();
        (!given.is_empty()).then(|| {
            format!(
                "{} only apply to connections we open; `listen` only accepts them",
                given.join(" and ")
            )
        })
    }
}

/// Why `listen` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The listening socket could not be bound.
    #[error("binding {addr}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// The signal handler could not be installed.
    #[error("installing the signal handler")]
    Signal(#[source] std::io::Error),
    /// Standard output was closed or failed.
    #[error("writing to standard output")]
    Stdout(#[source] std::io::Error),
}

/// Where the output goes, and what has been seen.
struct Printer {
    json: bool,
    /// Connected peers by id.
    peers: HashMap<PeerId, PeerHandle>,
    /// Peers already sent our `--peer` list.
    answered: HashSet<PeerId>,
    connections: u64,
    failures: u64,
    messages: u64,
}

pub(crate) async fn run(args: Args) -> Result<bool, Error> {
    let network = args.options.network();
    let bind = args
        .bind
        .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], network.default_port())));
    let socket = TcpListener::bind(bind)
        .await
        .map_err(|source| Error::Bind { addr: bind, source })?;
    let local = socket
        .local_addr()
        .map_err(|source| Error::Bind { addr: bind, source })?;

    let mut config = PoolConfig::new(args.options.config());
    config.target_outbound = 0;
    config.max_inbound = args.max_inbound;
    config.advertise = args.advertise;
    let (pool, mut events) = Pool::start(config, Some(socket), AddrBook::new());
    if !args.peers.is_empty() {
        pool.learn(args.peers.clone()).await;
    }
    let shutdown = shutdown_signal()?;
    tokio::pin!(shutdown);

    let mut out = Printer {
        json: args.json,
        peers: HashMap::new(),
        answered: HashSet::new(),
        connections: 0,
        failures: 0,
        messages: 0,
    };
    eprintln!("listening on {local} ({network})");
    let result = out.listening(local, network);
    let result = match result {
        Ok(()) => loop {
            tokio::select! {
                () = &mut shutdown => break Ok(()),
                event = events.recv() => match event {
                    Some(event) => {
                        if let Err(e) = out.event(event, &args.peers).await {
                            break Err(e);
                        }
                    }
                    None => break Ok(()),
                },
            }
        },
        Err(e) => Err(e),
    };
    close(&pool, &mut events, &mut out).await;
    result.map(|()| true)
}

/// Shuts the pool down and reports the peers it disconnected.
async fn close(
    pool: &PoolHandle,
    events: &mut tokio::sync::mpsc::Receiver<Event>,
    out: &mut Printer,
) {
    eprintln!("shutting down");
    let stop = pool.shutdown();
    tokio::pin!(stop);
    // Keep draining while the pool stops, so no peer waits on a full channel.
    loop {
        tokio::select! {
            () = &mut stop => break,
            event = events.recv() => match event {
                Some(event) => { let _ = out.event(event, &[]).await; }
                None => break,
            },
        }
    }
    while let Ok(event) = events.try_recv() {
        let _ = out.event(event, &[]).await;
    }
    // The pool stops forwarding events once it shuts down: report the rest ourselves.
    let remaining: Vec<PeerHandle> = out.peers.values().cloned().collect();
    for handle in remaining {
        // Already ended by the pool; the request only covers a peer it never registered.
        handle.disconnect();
        let ended = tokio::time::timeout(PEER_STOP_TIMEOUT, handle.wait_for_disconnect()).await;
        let reason = ended.unwrap_or(DisconnectReason::Shutdown);
        let _ = out.disconnected(handle.id(), handle.addr(), &reason);
    }
    let summary = format!(
        "connections: {}, failed handshakes: {}, messages received: {}",
        out.connections, out.failures, out.messages
    );
    eprintln!("{summary}");
    if out.json {
        let _ = out.emit(&json!({
            "event": "shutdown",
            "time": now(),
            "connections": out.connections,
            "handshake_failures": out.failures,
            "messages": out.messages,
        }));
    }
}

/// Resolves on Ctrl-C (SIGINT), or SIGTERM on Unix. The handlers are installed at once, so
/// a signal that arrives before the future is first polled is not lost.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>, Error> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).map_err(Error::Signal)?;
        let mut terminate = signal(SignalKind::terminate()).map_err(Error::Signal)?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

impl Printer {
    fn emit(&self, value: &Value) -> Result<(), Error> {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{value}").map_err(Error::Stdout)
    }

    fn line(&self, addr: SocketAddr, what: &str, rest: &str) -> Result<(), Error> {
        let mut stdout = std::io::stdout().lock();
        let line = format!("{}  {addr:<21}  {what:<12}  {rest}", clock());
        writeln!(stdout, "{}", line.trim_end()).map_err(Error::Stdout)
    }

    fn listening(&self, addr: SocketAddr, network: Network) -> Result<(), Error> {
        if self.json {
            self.emit(&json!({
                "event": "listening",
                "time": now(),
                "addr": addr.to_string(),
                "network": network.to_string(),
            }))?;
        }
        Ok(())
    }

    async fn event(&mut self, event: Event, peers: &[SocketAddr]) -> Result<(), Error> {
        match event {
            Event::Connected(handle) => self.connected(handle),
            Event::HandshakeFailed { addr, role, error } => {
                self.failures += 1;
                let error = chain(&error);
                if self.json {
                    self.emit(&json!({
                        "event": "handshake_failed",
                        "time": now(),
                        "peer": null,
                        "addr": addr.to_string(),
                        "role": role_name(role),
                        "error": error,
                    }))
                } else {
                    self.line(addr, "failed", &error)
                }
            }
            Event::Peer { peer, event } => self.peer_event(peer, event, peers).await,
            Event::Disconnected { peer, addr, reason } => {
                self.peers.remove(&peer);
                self.answered.remove(&peer);
                self.disconnected(peer, addr, &reason)
            }
            _ => Ok(()),
        }
    }

    fn connected(&mut self, handle: PeerHandle) -> Result<(), Error> {
        self.connections += 1;
        let info = handle.info();
        let result = if self.json {
            let mut value = json!({
                "event": "connected",
                "time": now(),
                "peer": handle.id(),
                "addr": handle.addr().to_string(),
                "role": role_name(info.role),
                "fingerprint": fingerprint(info),
            });
            if let (Some(value), Value::Object(fields)) = (value.as_object_mut(), info_json(info)) {
                value.extend(fields);
            }
            self.emit(&value)
        } else {
            let rest = format!(
                "{} {} v{} {} height={}  {}",
                role_name(info.role),
                info.user_agent,
                info.version,
                info.services,
                info.start_height,
                fingerprint(info),
            );
            self.line(handle.addr(), "connected", &rest)
        };
        self.peers.insert(handle.id(), handle);
        result
    }

    fn disconnected(
        &self,
        peer: PeerId,
        addr: SocketAddr,
        reason: &DisconnectReason,
    ) -> Result<(), Error> {
        let reason = chain(reason);
        if self.json {
            self.emit(&json!({
                "event": "disconnected",
                "time": now(),
                "peer": peer,
                "addr": addr.to_string(),
                "reason": reason,
            }))
        } else {
            self.line(addr, "disconnected", &reason)
        }
    }

    async fn peer_event(
        &mut self,
        peer: PeerId,
        event: PeerEvent,
        peers: &[SocketAddr],
    ) -> Result<(), Error> {
        let Some(handle) = self.peers.get(&peer).cloned() else {
            return Ok(());
        };
        let addr = handle.addr();
        match event {
            PeerEvent::Message(frame) => {
                self.messages += 1;
                let is_getaddr = frame.command().as_str() == "getaddr";
                self.message(peer, addr, &frame)?;
                if is_getaddr && handle.info().role == Role::Inbound && self.answered.insert(peer) {
                    let now = unix_now();
                    let entries: Vec<AddrEntry> = peers
                        .iter()
                        .filter_map(|a| {
                            PeerAddr::from_socket_addr(*a).to_addr_entry(now, ServiceFlags::NETWORK)
                        })
                        .collect();
                    handle.push_addr(entries).await;
                }
                Ok(())
            }
            PeerEvent::Pong { rtt } => {
                let ms = rtt.as_secs_f64() * 1e3;
                if self.json {
                    self.emit(&json!({
                        "event": "rtt", "time": now(), "peer": peer, "addr": addr.to_string(),
                        "rtt_ms": (ms * 1e3).round() / 1e3,
                    }))
                } else {
                    self.line(addr, "rtt", &format!("{ms:.1}ms (our ping answered)"))
                }
            }
            PeerEvent::Ignored { command, reason } => {
                if self.json {
                    self.emit(&json!({
                        "event": "ignored", "time": now(), "peer": peer, "addr": addr.to_string(),
                        "command": command.as_str(), "reason": reason,
                    }))
                } else {
                    self.line(addr, "ignored", &format!("{command}: {reason}"))
                }
            }
            _ => Ok(()),
        }
    }

    fn message(&self, peer: PeerId, addr: SocketAddr, frame: &Frame) -> Result<(), Error> {
        let command = frame.command();
        let summary = match frame.message() {
            Ok(msg) => summary(&msg),
            Err(e) => format!("undecodable: {}", chain(&e)),
        };
        if self.json {
            self.emit(&json!({
                "event": "message",
                "time": now(),
                "peer": peer,
                "addr": addr.to_string(),
                "command": command.as_str(),
                "bytes": frame.payload.len(),
                "summary": summary,
            }))
        } else {
            self.line(addr, command.as_str(), &summary)
        }
    }
}

/// Returns a short description of a message's content.
fn summary(msg: &Message<'_>) -> String {
    match msg {
        Message::Ping(p) => format!("nonce={:#018x}", p.nonce),
        Message::Pong(p) => format!("nonce={:#018x}", p.nonce),
        Message::Addr(a) => {
            let first: Vec<String> = a
                .iter()
                .take(3)
                .map(|e| e.addr.to_socket_addr().to_string())
                .collect();
            format!("{} addresses{}", a.len(), more(&first, a.len()))
        }
        Message::AddrV2(a) => {
            let first: Vec<String> = a
                .iter()
                .take(3)
                .map(|e| {
                    PeerAddr::from_addr_v2(&e.addr, e.port)
                        .map_or_else(|_| e.addr.to_string(), |a| a.to_string())
                })
                .collect();
            format!("{} addresses{}", a.len(), more(&first, a.len()))
        }
        Message::Inv(inv) => format!("{} items", inv.len()),
        Message::GetData(d) => format!("{} items", d.len()),
        Message::NotFound(n) => format!("{} items", n.len()),
        Message::Headers(h) => format!("{} headers", h.len()),
        Message::GetHeaders(g) => format!("locator of {}, stop {}", g.locator.len(), g.stop_hash),
        Message::GetBlocks(g) => format!("locator of {}, stop {}", g.locator.len(), g.stop_hash),
        Message::Block(b) => format!("{} ({} transactions)", b.block_hash(), b.txs.len()),
        Message::Tx(tx) => format!("{}", tx.txid()),
        Message::FeeFilter(f) => format!("{} sat/kvB", f.feerate),
        Message::SendCmpct(s) => format!("announce={} version={}", s.announce, s.version),
        Message::Reject(r) => format!(
            "{} {}: {}",
            String::from_utf8_lossy(r.message),
            r.ccode,
            String::from_utf8_lossy(r.reason)
        ),
        _ => String::new(),
    }
}

/// Returns `: a, b, c` plus `, ...` when the list was cut.
fn more(first: &[String], total: usize) -> String {
    if first.is_empty() {
        return String::new();
    }
    let tail = if total > first.len() { ", ..." } else { "" };
    format!(": {}{tail}", first.join(", "))
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Inbound => "inbound",
        Role::Outbound => "outbound",
    }
}

/// Returns the Unix time in seconds, to the millisecond.
fn now() -> f64 {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs_f64() * 1e3).round() / 1e3
}

/// Returns the UTC time of day, `HH:MM:SS.mmm`.
fn clock() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use btcwire::msg::{GetAddr, Ping};

    #[test]
    fn summaries_are_short() {
        assert_eq!(
            summary(&Message::Ping(Ping::new(1))),
            "nonce=0x0000000000000001"
        );
        assert_eq!(summary(&Message::GetAddr(GetAddr)), "");
        let first = ["1.2.3.4:8333".to_owned()];
        assert_eq!(more(&first, 1), ": 1.2.3.4:8333");
        assert_eq!(more(&first, 2), ": 1.2.3.4:8333, ...");
        assert_eq!(more(&[], 0), "");
    }

    #[test]
    fn clock_has_milliseconds() {
        let c = clock();
        assert_eq!(c.len(), 12, "{c}");
        assert_eq!(&c[2..3], ":");
        assert_eq!(&c[8..9], ".");
    }
}
