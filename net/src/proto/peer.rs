//! [`Peer`]: an established connection after the handshake, as a sans-IO state machine.
//!
//! The peer keeps the connection alive, enforces the rules that hold after `verack`,
//! trickles inventory, and counts traffic. It does no I/O and never reads the clock: the
//! driver feeds it frames and the time, and drains what it produced. This is the part of
//! Bitcoin Core's `PeerManagerImpl::ProcessMessage` / `SendMessages` that concerns one
//! connection rather than the chain, and of btcd's `peer` package (`Peer`, `StatsSnap`,
//! `QueueInventory`, `PushAddrMsg`, `PushGetHeadersMsg`, `MessageListeners`).
//!
//! ## Calling order
//!
//! ```text
//! Peer::new(config, info, rng, now)          queues the first ping
//! loop {
//!     while let Some(bytes) = peer.poll_transmit() { write; peer.handle_written(n, now) }
//!     while let Some(event) = peer.poll_event() { deliver to the application }
//!     select {
//!         frame read      => peer.handle_frame(frame, now)?      (Err: disconnect)
//!         bad checksum    => peer.handle_bad_checksum(now)       (drop the frame, keep the peer)
//!         poll_timeout()  => peer.handle_timeout(now)?           (Err: disconnect)
//!         app command     => peer.send(..) / push_inv(..) / push_getdata(..) / ...
//!     }
//! }
//! ```
//!
//! ## Keepalive (BIP 31)
//!
//! | when                                   | what                                              |
//! |----------------------------------------|---------------------------------------------------|
//! | construction                           | `ping` with a random non-zero nonce (Core pings at once) |
//! | `ping_interval` after the last ping, none outstanding | the next `ping` (Core `PING_INTERVAL`, 2 min) |
//! | `pong` with the outstanding nonce      | round-trip time measured, [`PeerEvent::Pong`]     |
//! | `pong` with another nonce              | ignored (Core: "nonce mismatch"), ping still outstanding |
//! | `pong` with nonce 0                    | the ping is cancelled (Core: "nonce zero")        |
//! | `pong_timeout` after the ping, no pong | [`DisconnectReason::PongTimeout`] (Core `TIMEOUT_INTERVAL`, 20 min) |
//! | `ping` received                        | `pong` with the same nonce, queued at once        |
//!
//! With a peer below protocol version 60001 (`BIP0031_VERSION`) pings carry no nonce, are not
//! answered, and no pong is awaited.
//!
//! ## Received messages
//!
//! Every frame is decoded first (a failure is [`Violation::Malformed`]); then:
//!
//! | message                                         | rule (Bitcoin Core `ProcessMessage`)              |
//! |-------------------------------------------------|---------------------------------------------------|
//! | `version`                                       | [`Violation::DuplicateVersion`]                   |
//! | `verack`                                        | [`Violation::DuplicateVerack`]                    |
//! | `wtxidrelay`, `sendaddrv2`                      | [`Violation::AfterVerack`] (BIP 339, BIP 155)     |
//! | `filterload` `filteradd` `filterclear` `mempool` | [`Violation::Unsupported`] unless we signal `NODE_BLOOM` (BIP 111, BIP 35) |
//! | `getcfilters` `getcfheaders` `getcfcheckpt`     | [`Violation::Unsupported`] unless we signal `NODE_COMPACT_FILTERS` (BIP 157) |
//! | `filterload`, `filterclear`                     | transaction relay on (BIP 37)                     |
//! | `sendheaders`                                   | announce blocks with `headers` (BIP 130)          |
//! | `feefilter`                                     | remembered when in `0..=MAX_MONEY`, else ignored (BIP 133) |
//! | `inv`                                           | every hash is marked known                        |
//! | `ping`, `pong`                                  | keepalive, above                                  |
//!
//! Every message that passes is then handed to the application as
//! [`PeerEvent::Message`], whatever its command (unknown commands included), with the
//! frame kept so the payload is never copied; [`dispatch`] decodes it once more into typed
//! [`PeerHooks`] calls.
//!
//! ## Sending
//!
//! [`Peer::send`] and the `push_*` helpers queue encoded frames at once; [`Peer::push_inv`]
//! queues inventory for the next trickle instead (see [`super::inventory`]): a Poisson timer
//! with mean `inv_broadcast_interval` flushes at most
//! [`INVENTORY_BROADCAST_MAX`] entries the peer does not know per trickle. The outbound
//! queue never drops a frame.
//!
//! Back-pressure is the driver's: every frame the peer queues by itself answers one
//! received frame, one timer or one call, so a driver that stops reading and taking
//! commands while the remote does not read bounds the queue. Ours ([`crate::driver::spawn`])
//! moves every frame from [`Peer::poll_transmit`] into a bounded channel to its writer task
//! (`max_outbound_queue` frames) after each call, waiting for room: while the channel is
//! full it neither reads the socket nor takes application commands, much as Bitcoin Core
//! stops processing a peer's messages while its send buffer is full (`fPauseSend`). The
//! peer's own queue then holds only what one call produced. [`Peer::is_send_paused`] is for
//! drivers that instead keep frames in the peer's own queue until the socket takes them: it
//! turns true once that queue holds `max_outbound_queue` entries, and such a driver should
//! stop reading and taking commands until [`Peer::poll_transmit`] drains it.
//!
//! Each `handle_frame` emits at most two events: drain [`Peer::poll_event`] after every
//! call.
//!
//! ## Left to the application
//!
//! The application sees every message, so policy that needs chain or address-book state
//! stays there: stall detection (btcd's `stallHandler`, Core's download timeouts), btcd's
//! filter of repeated identical `getblocks`, the known-address filter (Core's
//! `m_addr_known`), answering `getaddr` once and only to inbound peers, and announcing blocks
//! at once (Core does not trickle them; `send` an `inv` or `headers`).

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::fmt;
use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use btcwire::frame::Framed;
use btcwire::limits::{self, BIP0031_VERSION};
use btcwire::msg::{
    Addr, AddrV2, Block, GetAddr, GetBlocks, GetData, GetHeaders, Headers, Inv, Payload, Ping,
    Pong, Tx,
};
use btcwire::types::{AddrEntry, AddrV2Entry, BlockHash, InvItem, NetAddrV2, ServiceFlags};
use btcwire::{Command, Frame, FrameError, HEADER_LEN, Magic, Message, MessageError, encode_frame};
use bytes::{Bytes, BytesMut};

use crate::config::{INVENTORY_BROADCAST_MAX, PeerConfig};
use crate::error::{DisconnectReason, Violation};
use crate::proto::inventory::{InvQueue, KnownInventory, MAX_INV_QUEUE};
use crate::proto::{RemoteInfo, Rng};

/// Most addresses sent in one `addr` or `addrv2` (Bitcoin Core `MAX_ADDR_TO_SEND`).
pub const MAX_ADDR_TO_SEND: usize = limits::MAX_ADDR_ENTRIES as usize;

/// Most entries in one `getdata` (Bitcoin Core `MAX_INV_SZ`); longer requests are split.
pub const MAX_GETDATA_ENTRIES: usize = limits::MAX_INV_ENTRIES as usize;

/// Most hashes in a block locator (Bitcoin Core `MAX_LOCATOR_SZ`: a peer sending more is
/// disconnected, so we never send more).
pub const MAX_LOCATOR_HASHES: usize = limits::MAX_LOCATOR_SZ as usize;

/// The largest valid amount in satoshis (Bitcoin Core `MAX_MONEY`): a `feefilter` outside
/// `0..=MAX_MONEY` is ignored (Core `MoneyRange`).
pub const MAX_MONEY: i64 = 21_000_000 * 100_000_000;

/// The key under which [`PeerStats::per_command`] counts commands this crate does not know
/// (Bitcoin Core's `*other*`), so a peer cannot grow the map with made-up commands.
pub const OTHER_COMMAND: Command = Command::new("*other*");

/// Payloads longer than this, in bytes, are queued as their own [`Bytes`] after a separate
/// header instead of being copied next to it, so relaying a block copies nothing.
const COPY_PAYLOAD_MAX: usize = 4 * 1024;

/// Outbound queue slots kept allocated once the queue drains after a burst.
const OUTBOUND_KEEP: usize = 16;

/// Timers longer than this (a century) count as this long, so no deadline overflows.
const MAX_TIMER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Returns `start + d`, with `d` capped at [`MAX_TIMER`].
fn deadline(start: Instant, d: Duration) -> Instant {
    let d = d.min(MAX_TIMER);
    start.checked_add(d).unwrap_or(start)
}

/// A block locator longer than [`MAX_LOCATOR_HASHES`]: Bitcoin Core would disconnect us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("block locator of {len} hashes is over the limit {limit}")]
pub struct LocatorTooLong {
    /// The locator's length.
    pub len: usize,
    /// The limit ([`MAX_LOCATOR_HASHES`]).
    pub limit: usize,
}

/// How the connection's bytes are carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// The original unencrypted transport: 24-byte headers with magic and checksum.
    V1,
}

impl Transport {
    /// Returns `"v1"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a [`Peer`] reports to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerEvent {
    /// A valid message, of any command, as received: decode it with [`Frame::message`] or
    /// [`dispatch`].
    Message(Frame),
    /// Our outstanding ping was answered.
    Pong {
        /// The round-trip time.
        rtt: Duration,
    },
    /// A message was accepted but had no effect, for a reason Bitcoin Core logs rather
    /// than punishes (a pong with the wrong nonce, a fee rate out of range).
    Ignored {
        /// The message's command.
        command: Command,
        /// Why, in Core's words.
        reason: &'static str,
    },
}

/// Messages and bytes of one command, in each direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommandStats {
    /// Messages queued for sending.
    pub messages_sent: u64,
    /// Bytes queued for sending (24-byte header plus payload).
    pub bytes_sent: u64,
    /// Messages received.
    pub messages_recv: u64,
    /// Bytes received (24-byte header plus payload).
    pub bytes_recv: u64,
}

/// A snapshot of a peer's state and traffic (Bitcoin Core `getpeerinfo`, btcd `StatsSnap`).
///
/// Received traffic is counted in [`Peer::handle_frame`], whole frames (24 + payload bytes).
/// Sent traffic is counted twice, as Bitcoin Core does: per command and in
/// `messages_sent` when a frame is queued, and in `bytes_sent` / `last_send` when the
/// driver reports bytes written to the socket ([`Peer::handle_written`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerStats {
    /// What the handshake learned.
    pub info: RemoteInfo,
    /// The transport.
    pub transport: Transport,
    /// When the peer was established ([`Peer::new`]'s `now`).
    pub connected_at: Instant,
    /// When bytes were last written to the socket.
    pub last_send: Option<Instant>,
    /// When a frame (even one with a bad checksum) was last received.
    pub last_recv: Option<Instant>,
    /// Bytes written to the socket.
    pub bytes_sent: u64,
    /// Bytes received in frames (24 + payload each).
    pub bytes_recv: u64,
    /// Frames queued for sending.
    pub messages_sent: u64,
    /// Frames received.
    pub messages_recv: u64,
    /// Traffic per command; unknown commands are counted under [`OTHER_COMMAND`].
    pub per_command: BTreeMap<Command, CommandStats>,
    /// The last round-trip time.
    pub ping_last: Option<Duration>,
    /// The smallest round-trip time.
    pub ping_min: Option<Duration>,
    /// When the outstanding ping was sent, if one is outstanding (Core's `pingwait`).
    pub ping_pending_since: Option<Instant>,
    /// Frames dropped for a bad checksum.
    pub bad_checksums: u64,
    /// The peer wants blocks announced with `headers` (BIP 130).
    pub wants_headers: bool,
    /// The peer's minimum fee rate for transaction announcements, in satoshis per 1,000
    /// virtual bytes (BIP 133); 0 until it sends one.
    pub feefilter: i64,
    /// Whether the peer wants transaction announcements (BIP 37 `relay`, or a filter since).
    pub relay_txs: bool,
    /// Entries waiting in the outbound queue.
    pub send_queue_len: usize,
    /// Bytes waiting in the outbound queue.
    pub send_queue_bytes: usize,
    /// Inventory items waiting for the next trickle.
    pub inv_queued: usize,
    /// Inventory hashes the peer is known to have.
    pub known_inventory: usize,
    /// Why the peer ended, once it has: set by the driver in the final snapshot (ours:
    /// [`crate::PeerHandle::stats`] after the end); the sans-IO core never ends itself, so
    /// [`Peer::stats`] leaves it `None`.
    pub disconnect_reason: Option<crate::error::DisconnectReason>,
}

/// An established connection: keepalive, post-handshake rules, inventory trickling and
/// traffic counters, with no I/O. See the [module docs](self) for the calling order.
#[derive(Debug)]
pub struct Peer {
    info: RemoteInfo,
    magic: Magic,
    our_services: ServiceFlags,
    protocol_version: u32,
    ping_interval: Duration,
    pong_timeout: Duration,
    inv_interval: Duration,
    max_outbound_queue: usize,
    rng: Rng,
    /// The latest time seen by any `handle_*`/`send` call.
    last_now: Instant,

    /// When the last ping was sent.
    ping_start: Instant,
    /// The nonce of the outstanding ping.
    ping_nonce: Option<NonZeroU64>,

    known: KnownInventory,
    inv_queue: InvQueue,
    /// The next trickle; `None` while unarmed (the queue was empty).
    trickle_at: Option<Instant>,

    outbound: VecDeque<Bytes>,
    outbound_bytes: usize,
    events: VecDeque<PeerEvent>,

    wants_headers: bool,
    relay_txs: bool,
    feefilter: i64,

    connected_at: Instant,
    last_send: Option<Instant>,
    last_recv: Option<Instant>,
    bytes_sent: u64,
    bytes_recv: u64,
    messages_sent: u64,
    messages_recv: u64,
    per_command: BTreeMap<Command, CommandStats>,
    ping_last: Option<Duration>,
    ping_min: Option<Duration>,
    bad_checksums: u64,
}

impl Peer {
    /// Returns the peer for a completed handshake, with its first ping queued.
    #[must_use]
    pub fn new(config: &PeerConfig, info: RemoteInfo, rng: Rng, now: Instant) -> Self {
        let mut peer = Self {
            magic: config.magic,
            our_services: config.services,
            protocol_version: config.protocol_version,
            ping_interval: config.ping_interval,
            pong_timeout: config.pong_timeout,
            inv_interval: config.inv_broadcast_interval,
            max_outbound_queue: config.max_outbound_queue,
            rng,
            last_now: now,
            ping_start: now,
            ping_nonce: None,
            known: KnownInventory::new(config.max_known_inventory),
            inv_queue: InvQueue::new(MAX_INV_QUEUE),
            trickle_at: None,
            outbound: VecDeque::new(),
            outbound_bytes: 0,
            events: VecDeque::new(),
            // BIP 130: a `sendheaders` before `verack` counts too.
            wants_headers: info.sendheaders,
            relay_txs: info.relay,
            feefilter: 0,
            connected_at: now,
            last_send: None,
            last_recv: None,
            bytes_sent: 0,
            bytes_recv: 0,
            messages_sent: 0,
            messages_recv: 0,
            per_command: BTreeMap::new(),
            ping_last: None,
            ping_min: None,
            bad_checksums: 0,
            info,
        };
        // Bitcoin Core pings a new peer at once (`m_ping_start` starts at 0).
        peer.send_ping(now);
        peer
    }

    /// Returns what the handshake learned about the peer.
    #[must_use]
    pub const fn info(&self) -> &RemoteInfo {
        &self.info
    }

    /// Returns whether the peer wants blocks announced with `headers` (BIP 130).
    #[must_use]
    pub const fn wants_headers(&self) -> bool {
        self.wants_headers
    }

    /// Returns the peer's minimum fee rate for transaction announcements, in satoshis per
    /// 1,000 virtual bytes (BIP 133); 0 until it sends a `feefilter`.
    #[must_use]
    pub const fn feefilter(&self) -> i64 {
        self.feefilter
    }

    /// Returns whether the peer wants transaction announcements (BIP 37).
    #[must_use]
    pub const fn relay_txs(&self) -> bool {
        self.relay_txs
    }

    /// Handles a frame read from the peer: validates it, applies the rules of the
    /// [module docs](self), queues any answer, and emits [`PeerEvent::Message`].
    ///
    /// # Errors
    /// A [`Violation`]: the peer must be disconnected.
    pub fn handle_frame(&mut self, frame: Frame, now: Instant) -> Result<(), Violation> {
        self.observe(now);
        self.last_recv = Some(now);
        self.messages_recv += 1;
        let len = frame.encoded_len() as u64;
        self.bytes_recv += len;
        let counts = self.per_command.entry(bucket(frame.command())).or_default();
        counts.messages_recv += 1;
        counts.bytes_recv += len;

        let extra = self.apply(&frame, now)?;
        self.events.push_back(PeerEvent::Message(frame));
        self.events.extend(extra);
        Ok(())
    }

    /// Counts a frame dropped for a bad checksum: Bitcoin Core ignores the message and keeps
    /// the peer.
    pub fn handle_bad_checksum(&mut self, now: Instant) {
        self.observe(now);
        self.bad_checksums += 1;
        self.last_recv = Some(now);
    }

    /// Runs the timers due at `now`: the pong deadline, the next ping, the next trickle.
    ///
    /// # Errors
    /// [`DisconnectReason::PongTimeout`] when the outstanding ping went unanswered for
    /// `pong_timeout`.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), DisconnectReason> {
        self.observe(now);
        if self.ping_nonce.is_some() {
            if now >= deadline(self.ping_start, self.pong_timeout) {
                return Err(DisconnectReason::PongTimeout(
                    now.saturating_duration_since(self.ping_start),
                ));
            }
        } else if now >= deadline(self.ping_start, self.ping_interval) {
            self.send_ping(now);
        }
        self.trickle(now);
        Ok(())
    }

    /// Records that `bytes` from [`Peer::poll_transmit`] were written to the socket.
    pub fn handle_written(&mut self, bytes: usize, now: Instant) {
        self.observe(now);
        self.bytes_sent += bytes as u64;
        self.last_send = Some(now);
    }

    /// Returns the next bytes to write: whole frames, or a frame's header followed by its
    /// large payload as a separate entry.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        let bytes = self.outbound.pop_front()?;
        self.outbound_bytes -= bytes.len();
        if self.outbound.is_empty() && self.outbound.capacity() > OUTBOUND_KEEP {
            self.outbound.shrink_to(OUTBOUND_KEEP);
        }
        Some(bytes)
    }

    /// Returns when [`Peer::handle_timeout`] must next be called: the earliest of the pong
    /// deadline (or the next ping when none is outstanding) and, while inventory is queued,
    /// the next trickle. Always `Some`: a peer always has a keepalive timer.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let ping = if self.ping_nonce.is_some() {
            deadline(self.ping_start, self.pong_timeout)
        } else {
            deadline(self.ping_start, self.ping_interval)
        };
        if self.inv_queue.is_empty() {
            return Some(ping);
        }
        // An unarmed trickle is armed by the next `handle_timeout`: call it right away.
        Some(self.trickle_at.unwrap_or(self.last_now).min(ping))
    }

    /// Returns the next event for the application.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<PeerEvent> {
        self.events.pop_front()
    }

    /// Returns whether the peer's own outbound queue is full (`max_outbound_queue` entries).
    ///
    /// For a driver that leaves frames in this queue until the socket takes them: it should
    /// then stop reading from the peer and taking commands for it until
    /// [`Peer::poll_transmit`] drains the queue. Ours ([`crate::driver::spawn`]) does not
    /// consult it: it empties the queue into a bounded channel to its writer after every
    /// call and waits for room there (module docs). Nothing is ever dropped.
    #[must_use]
    pub fn is_send_paused(&self) -> bool {
        self.outbound.len() >= self.max_outbound_queue
    }

    /// Queues `msg` at once. An `inv` marks its hashes as known to the peer.
    ///
    /// # Errors
    /// [`FrameError`] for a message over the protocol's size limits: nothing is queued.
    pub fn send<M: Framed + ?Sized>(&mut self, msg: &M, now: Instant) -> Result<(), FrameError> {
        self.observe(now);
        let mut buf = BytesMut::new();
        encode_frame(self.magic, msg, &mut buf)?;
        let command = msg.command();
        self.count_sent(command, buf.len());
        if command == Inv::COMMAND {
            self.mark_sent_inv(&buf[HEADER_LEN..]);
        }
        self.push_out(buf.freeze());
        Ok(())
    }

    /// Queues a message the peer builds itself, within every limit by construction (lists
    /// are cut to their limits before they get here).
    fn send_own<M: Framed + ?Sized>(&mut self, msg: &M, now: Instant) {
        let sent = self.send(msg, now);
        debug_assert!(sent.is_ok(), "{sent:?}");
    }

    /// Queues a frame as it is (a relayed `block` or `tx`, say) without copying a large
    /// payload. The header gets our magic and the payload's length; the checksum is kept,
    /// so the frame must come from [`Frame::from_message`] or a [`btcwire::FrameDecoder`].
    pub fn send_frame(&mut self, frame: Frame, now: Instant) {
        self.observe(now);
        let Frame {
            mut header,
            payload,
        } = frame;
        header.magic = self.magic;
        header.payload_len = payload.len() as u32;
        let len = HEADER_LEN + payload.len();
        self.count_sent(header.command, len);
        if header.command == Inv::COMMAND {
            self.mark_sent_inv(&payload);
        }
        if payload.len() > COPY_PAYLOAD_MAX {
            self.push_out(Bytes::copy_from_slice(&header.to_bytes()));
            self.push_out(payload);
        } else {
            let mut buf = BytesMut::with_capacity(len);
            buf.extend_from_slice(&header.to_bytes());
            buf.extend_from_slice(&payload);
            self.push_out(buf.freeze());
        }
    }

    /// Queues `item` for the next inventory trickle; returns `false` when it was not queued
    /// because the peer knows it already, or because it is a transaction and the peer asked
    /// for none (BIP 37 `relay` = false and no filter since). At [`MAX_INV_QUEUE`] items the
    /// oldest is dropped.
    ///
    /// Bitcoin Core announces blocks at once rather than trickling them: for that, `send`
    /// an [`Inv`] (or `headers`, when [`Peer::wants_headers`]) directly.
    pub fn push_inv(&mut self, item: InvItem) -> bool {
        if self.known.contains(&item.hash) {
            return false;
        }
        if !self.relay_txs && !item.inv_type.is_block() {
            return false;
        }
        // Dropping the oldest at the bound is the documented policy of `InvQueue`.
        let _dropped = self.inv_queue.push(item);
        true
    }

    /// Queues a `getheaders` for the headers after the first `locator` hash the peer knows,
    /// up to `stop` ([`BlockHash::ZERO`] for as many as it sends).
    ///
    /// # Errors
    /// [`LocatorTooLong`] above [`MAX_LOCATOR_HASHES`]; nothing is queued.
    pub fn push_getheaders(
        &mut self,
        locator: &[BlockHash],
        stop: BlockHash,
        now: Instant,
    ) -> Result<(), LocatorTooLong> {
        check_locator(locator)?;
        self.send_own(&GetHeaders::new(self.protocol_version, locator, stop), now);
        Ok(())
    }

    /// Queues a `getblocks` for an `inv` of the blocks after the first `locator` hash the
    /// peer knows, up to `stop`.
    ///
    /// # Errors
    /// [`LocatorTooLong`] above [`MAX_LOCATOR_HASHES`]; nothing is queued.
    pub fn push_getblocks(
        &mut self,
        locator: &[BlockHash],
        stop: BlockHash,
        now: Instant,
    ) -> Result<(), LocatorTooLong> {
        check_locator(locator)?;
        self.send_own(&GetBlocks::new(self.protocol_version, locator, stop), now);
        Ok(())
    }

    /// Queues `getdata` for `items`, split into messages of at most
    /// [`MAX_GETDATA_ENTRIES`]; nothing for an empty slice.
    pub fn push_getdata(&mut self, items: &[InvItem], now: Instant) {
        for chunk in items.chunks(MAX_GETDATA_ENTRIES) {
            self.send_own(&GetData::from_items(chunk), now);
        }
    }

    /// Queues addresses for the peer: duplicates (same IP and port) dropped, at most
    /// [`MAX_ADDR_TO_SEND`] picked at random when there are more (btcd `PushAddrMsg`), sent
    /// as `addrv2` when the peer asked for it (BIP 155) and as `addr` otherwise. Nothing is
    /// sent for an empty list.
    pub fn push_addr(&mut self, addrs: &[AddrEntry], now: Instant) {
        let mut seen = HashSet::new();
        let mut picked: Vec<AddrEntry> = addrs
            .iter()
            .filter(|e| seen.insert((e.addr.ip, e.addr.port)))
            .copied()
            .collect();
        if picked.is_empty() {
            return;
        }
        if picked.len() > MAX_ADDR_TO_SEND {
            // A partial Fisher-Yates shuffle picks MAX_ADDR_TO_SEND uniformly.
            for i in 0..MAX_ADDR_TO_SEND {
                let span = (picked.len() - i) as u64;
                let j = i + (self.rng.next_u64() % span) as usize;
                picked.swap(i, j);
            }
            picked.truncate(MAX_ADDR_TO_SEND);
        }
        if self.info.sendaddrv2 {
            let v2: Vec<AddrV2Entry<'static>> = picked
                .iter()
                .map(|e| {
                    // An IPv4-mapped address becomes an IPv4 entry, anything else IPv6.
                    let addr = NetAddrV2::from(e.addr.ip_addr());
                    AddrV2Entry::new(e.time, e.addr.services, addr, e.addr.port)
                })
                .collect();
            self.send_own(&AddrV2::from_entries(&v2), now);
        } else {
            self.send_own(&Addr::from_entries(&picked), now);
        }
    }

    /// Returns whether the peer is known to have the object with `hash`.
    #[must_use]
    pub fn knows(&self, hash: &[u8; 32]) -> bool {
        self.known.contains(hash)
    }

    /// Records that the peer has the object with `hash` (it sent it to us, say), so it is
    /// not announced to it.
    pub fn mark_known(&mut self, hash: [u8; 32]) {
        self.known.insert(hash);
    }

    /// Returns a snapshot of the peer's state and traffic.
    #[must_use]
    pub fn stats(&self) -> PeerStats {
        PeerStats {
            info: self.info.clone(),
            transport: Transport::V1,
            connected_at: self.connected_at,
            last_send: self.last_send,
            last_recv: self.last_recv,
            bytes_sent: self.bytes_sent,
            bytes_recv: self.bytes_recv,
            messages_sent: self.messages_sent,
            messages_recv: self.messages_recv,
            per_command: self.per_command.clone(),
            ping_last: self.ping_last,
            ping_min: self.ping_min,
            ping_pending_since: self.ping_nonce.map(|_| self.ping_start),
            bad_checksums: self.bad_checksums,
            wants_headers: self.wants_headers,
            feefilter: self.feefilter,
            relay_txs: self.relay_txs,
            send_queue_len: self.outbound.len(),
            send_queue_bytes: self.outbound_bytes,
            inv_queued: self.inv_queue.len(),
            known_inventory: self.known.len(),
            disconnect_reason: None,
        }
    }

    /// Applies the post-handshake rules to a received frame; returns the event to emit after
    /// [`PeerEvent::Message`], if any.
    fn apply(&mut self, frame: &Frame, now: Instant) -> Result<Option<PeerEvent>, Violation> {
        let command = frame.command();
        if command == Ping::COMMAND && frame.payload.is_empty() && self.pre_bip31() {
            // BIP 31: before 60001 a ping has no nonce and gets no pong.
            return Ok(None);
        }
        let msg = frame
            .message()
            .map_err(|MessageError { command, source }| Violation::Malformed { command, source })?;
        match msg {
            Message::Version(_) => return Err(Violation::DuplicateVersion),
            Message::Verack(_) => return Err(Violation::DuplicateVerack),
            // BIP 339 and BIP 155: only between `version` and `verack`; Core disconnects.
            Message::WtxidRelay(_) | Message::SendAddrV2(_) => {
                return Err(Violation::AfterVerack(command));
            }
            // BIP 111: bloom filters, and BIP 35 `mempool`, only if we signal NODE_BLOOM.
            Message::FilterLoad(_) | Message::FilterClear(_) => {
                self.require(ServiceFlags::BLOOM, command, "NODE_BLOOM")?;
                // BIP 37: a filter turns transaction relay on, whatever `relay` said.
                self.relay_txs = true;
            }
            Message::FilterAdd(_) | Message::Mempool(_) => {
                self.require(ServiceFlags::BLOOM, command, "NODE_BLOOM")?;
            }
            // BIP 157: filter requests only if we signal NODE_COMPACT_FILTERS.
            Message::GetCFilters(_) | Message::GetCFHeaders(_) | Message::GetCFCheckpt(_) => {
                self.require(
                    ServiceFlags::COMPACT_FILTERS,
                    command,
                    "NODE_COMPACT_FILTERS",
                )?;
            }
            // BIP 31: answer with the same nonce (not before 60001).
            Message::Ping(ping) if !self.pre_bip31() => self.send_own(&ping.pong(), now),
            Message::Pong(pong) => return Ok(self.on_pong(pong.nonce, now)),
            Message::SendHeaders(_) => self.wants_headers = true,
            Message::FeeFilter(filter) => {
                // BIP 133; Core keeps the value only when `MoneyRange` holds.
                if (0..=MAX_MONEY).contains(&filter.feerate) {
                    self.feefilter = filter.feerate;
                } else {
                    return Ok(Some(PeerEvent::Ignored {
                        command,
                        reason: "feefilter out of range",
                    }));
                }
            }
            Message::Inv(inv) => {
                for item in inv.iter() {
                    self.known.insert(item.hash);
                }
            }
            _ => {}
        }
        Ok(None)
    }

    /// Checks that we signal `service`, which `command` needs.
    fn require(
        &self,
        service: ServiceFlags,
        command: Command,
        feature: &'static str,
    ) -> Result<(), Violation> {
        if self.our_services.contains(service) {
            Ok(())
        } else {
            Err(Violation::Unsupported { command, feature })
        }
    }

    /// Matches a pong with the outstanding ping, as Bitcoin Core's `ProcessMessage` does.
    fn on_pong(&mut self, nonce: u64, now: Instant) -> Option<PeerEvent> {
        let ignored = |reason| {
            Some(PeerEvent::Ignored {
                command: Pong::COMMAND,
                reason,
            })
        };
        let Some(sent) = self.ping_nonce else {
            return ignored("unsolicited pong");
        };
        if nonce == sent.get() {
            let rtt = now.saturating_duration_since(self.ping_start);
            self.ping_nonce = None;
            self.ping_last = Some(rtt);
            self.ping_min = Some(self.ping_min.map_or(rtt, |min| min.min(rtt)));
            Some(PeerEvent::Pong { rtt })
        } else if nonce == 0 {
            // Core: "most likely a bug in another implementation somewhere; cancel this ping".
            self.ping_nonce = None;
            ignored("nonce zero")
        } else {
            // Core: "nonce mismatch is ok due to pending ping"; the ping stays outstanding.
            ignored("nonce mismatch")
        }
    }

    /// Queues a ping and starts waiting for its pong.
    fn send_ping(&mut self, now: Instant) {
        self.ping_start = now;
        if self.pre_bip31() {
            self.send_own(
                &Message::Unknown {
                    command: Ping::COMMAND,
                    payload: &[],
                },
                now,
            );
            return;
        }
        // Core never uses nonce 0, which would be indistinguishable from "no ping".
        let nonce = NonZeroU64::new(self.rng.next_u64()).unwrap_or(NonZeroU64::MIN);
        self.ping_nonce = Some(nonce);
        self.send_own(&Ping::new(nonce.get()), now);
    }

    /// Flushes one trickle when it is due, and keeps the Poisson timer armed while
    /// inventory waits.
    fn trickle(&mut self, now: Instant) {
        if self.inv_queue.is_empty() {
            self.trickle_at = None;
            return;
        }
        match self.trickle_at {
            // Armed at the first timeout after the queue filled: as the gaps of a Poisson
            // process are memoryless, this is the timer Core keeps running all along.
            None => {
                self.trickle_at = Some(self.next_trickle(now));
            }
            Some(at) if now >= at => {
                let batch = self
                    .inv_queue
                    .pop_batch(INVENTORY_BROADCAST_MAX, &mut self.known);
                if !batch.is_empty() {
                    self.send_own(&Inv::from_items(&batch), now);
                }
                self.trickle_at = if self.inv_queue.is_empty() {
                    None
                } else {
                    Some(self.next_trickle(now))
                };
            }
            Some(_) => {}
        }
    }

    /// Draws the next trickle time: an exponential gap after `now`.
    fn next_trickle(&mut self, now: Instant) -> Instant {
        // Capped first: `Rng::exponential` cannot build a Duration of 20 × Duration::MAX.
        deadline(now, self.rng.exponential(self.inv_interval.min(MAX_TIMER)))
    }

    /// Whether the peer predates BIP 31 (no ping nonce, no pong).
    const fn pre_bip31(&self) -> bool {
        self.info.negotiated_version < BIP0031_VERSION
    }

    fn observe(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
    }

    fn count_sent(&mut self, command: Command, len: usize) {
        self.messages_sent += 1;
        let counts = self.per_command.entry(bucket(command)).or_default();
        counts.messages_sent += 1;
        counts.bytes_sent += len as u64;
    }

    /// Marks the hashes of an `inv` payload we are sending as known to the peer.
    fn mark_sent_inv(&mut self, payload: &[u8]) {
        if let Ok(inv) = Inv::decode(payload) {
            for item in inv.iter() {
                self.known.insert(item.hash);
            }
        }
    }

    fn push_out(&mut self, bytes: Bytes) {
        self.outbound_bytes += bytes.len();
        self.outbound.push_back(bytes);
    }
}

/// Returns `command`, or [`OTHER_COMMAND`] for a command this crate does not know.
fn bucket(command: Command) -> Command {
    if Message::KNOWN_COMMANDS.contains(&command) {
        command
    } else {
        OTHER_COMMAND
    }
}

fn check_locator(locator: &[BlockHash]) -> Result<(), LocatorTooLong> {
    if locator.len() > MAX_LOCATOR_HASHES {
        return Err(LocatorTooLong {
            len: locator.len(),
            limit: MAX_LOCATOR_HASHES,
        });
    }
    Ok(())
}

/// Typed callbacks for received messages, called by [`dispatch`] (btcd's
/// `MessageListeners`).
///
/// Every method has a default: the typed ones hand the message to
/// [`PeerHooks::on_message`], which ignores it. Implement the typed hooks you care about,
/// and `on_message` for everything else.
pub trait PeerHooks {
    /// Called for an `inv`.
    fn on_inv(&mut self, inv: &Inv<'_>) {
        self.on_message(&Message::Inv(*inv));
    }

    /// Called for a `headers`.
    fn on_headers(&mut self, headers: &Headers<'_>) {
        self.on_message(&Message::Headers(*headers));
    }

    /// Called for a `block`.
    fn on_block(&mut self, block: &Block<'_>) {
        self.on_message(&Message::Block(*block));
    }

    /// Called for a `tx`.
    fn on_tx(&mut self, tx: &Tx<'_>) {
        self.on_message(&Message::Tx(*tx));
    }

    /// Called for an `addr`.
    fn on_addr(&mut self, addrs: &Addr<'_>) {
        self.on_message(&Message::Addr(*addrs));
    }

    /// Called for an `addrv2` (BIP 155).
    fn on_addrv2(&mut self, addrs: &AddrV2<'_>) {
        self.on_message(&Message::AddrV2(*addrs));
    }

    /// Called for a `getaddr`.
    fn on_getaddr(&mut self) {
        self.on_message(&Message::GetAddr(GetAddr));
    }

    /// Called for every other message, and for typed ones whose hook is not implemented.
    fn on_message(&mut self, msg: &Message<'_>) {
        let _ = msg;
    }
}

/// Decodes `frame` once and calls the matching hook of `hooks`.
///
/// Frames from [`PeerEvent::Message`] were validated and always decode, except the
/// nonce-less `ping` of a peer older than BIP 31.
///
/// # Errors
/// [`MessageError`] when the payload does not decode; no hook is called.
pub fn dispatch(frame: &Frame, hooks: &mut impl PeerHooks) -> Result<(), MessageError> {
    match frame.message()? {
        Message::Inv(inv) => hooks.on_inv(&inv),
        Message::Headers(headers) => hooks.on_headers(&headers),
        Message::Block(block) => hooks.on_block(&block),
        Message::Tx(tx) => hooks.on_tx(&tx),
        Message::Addr(addrs) => hooks.on_addr(&addrs),
        Message::AddrV2(addrs) => hooks.on_addrv2(&addrs),
        Message::GetAddr(_) => hooks.on_getaddr(),
        other => hooks.on_message(&other),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use btcwire::limits::PROTOCOL_VERSION;
    use btcwire::msg::{
        BloomFlags, FeeFilter, FilterAdd, FilterClear, FilterLoad, FilterType, GetCFCheckpt,
        GetCFHeaders, GetCFilters, Mempool, NotFound, SendAddrV2, SendHeaders, Verack, Version,
        WtxidRelay,
    };
    use btcwire::types::{InvType, NetAddr};
    use btcwire::{DecodeErrorKind, FrameDecoder, Network};

    use super::*;
    use crate::proto::Role;

    const MAGIC: Magic = Magic::REGTEST;

    /// What a handshake with a modern peer would have produced.
    fn remote(version: u32) -> RemoteInfo {
        let addr =
            NetAddr::from_socket_addr(ServiceFlags::NONE, "192.0.2.1:18444".parse().unwrap());
        RemoteInfo {
            role: Role::Outbound,
            version,
            services: ServiceFlags::NETWORK | ServiceFlags::WITNESS,
            user_agent: "/Satoshi:27.0.0/".to_owned(),
            start_height: 800_000,
            relay: true,
            nonce: 0x1234,
            negotiated_version: version.min(PROTOCOL_VERSION),
            wtxidrelay: true,
            sendaddrv2: false,
            sendheaders: false,
            time_offset: 0,
            addr_recv: addr,
            addr_from: addr,
            timeline: Vec::new(),
            duration: Duration::from_millis(3),
        }
    }

    fn config() -> PeerConfig {
        PeerConfig::new(Network::Regtest)
    }

    fn peer_with(config: &PeerConfig, info: RemoteInfo, t0: Instant) -> Peer {
        Peer::new(config, info, Rng::new(42), t0)
    }

    /// A peer at `t0` whose first ping was taken off the queue; returns its nonce too.
    fn established(t0: Instant) -> (Peer, u64) {
        let mut peer = peer_with(&config(), remote(PROTOCOL_VERSION), t0);
        let nonce = match sent(&mut peer).as_slice() {
            [f] => f.decode_as::<Ping>().unwrap().nonce,
            other => panic!("expected one ping, got {other:?}"),
        };
        (peer, nonce)
    }

    fn frame<'a, M: Payload<'a>>(msg: &M) -> Frame {
        Frame::from_message(MAGIC, msg).unwrap()
    }

    /// Drains `poll_transmit` and decodes the bytes as a remote peer would.
    fn sent(peer: &mut Peer) -> Vec<Frame> {
        let mut buf = BytesMut::new();
        while let Some(bytes) = peer.poll_transmit() {
            buf.extend_from_slice(&bytes);
        }
        let mut decoder = FrameDecoder::new(MAGIC);
        let mut frames = Vec::new();
        while let Some(f) = decoder.decode(&mut buf).expect("our frames are valid") {
            frames.push(f);
        }
        assert!(buf.is_empty(), "no partial frame left");
        frames
    }

    fn commands(frames: &[Frame]) -> Vec<String> {
        frames.iter().map(|f| f.command().to_string()).collect()
    }

    fn events(peer: &mut Peer) -> Vec<PeerEvent> {
        std::iter::from_fn(|| peer.poll_event()).collect()
    }

    fn hash(n: u32) -> [u8; 32] {
        let mut h = [0u8; 32];
        h[..4].copy_from_slice(&n.to_le_bytes());
        h[31] = 0x5a;
        h
    }

    fn tx(n: u32) -> InvItem {
        InvItem::new(InvType::WITNESS_TX, hash(n))
    }

    // ---- keepalive ----

    #[test]
    fn pings_at_once_with_a_random_nonzero_nonce() {
        let t0 = Instant::now();
        let (peer, nonce) = established(t0);
        assert_ne!(nonce, 0);
        let (other, other_nonce) = {
            let mut p = Peer::new(&config(), remote(PROTOCOL_VERSION), Rng::new(43), t0);
            let n = sent(&mut p)[0].decode_as::<Ping>().unwrap().nonce;
            (p, n)
        };
        assert_ne!(nonce, other_nonce, "the nonce comes from the rng");
        assert_eq!(peer.stats().ping_pending_since, Some(t0));
        assert_eq!(other.poll_timeout(), Some(t0 + config().pong_timeout));
    }

    #[test]
    fn answers_every_ping_with_a_pong_of_the_same_nonce() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        for nonce in [1, 0, u64::MAX] {
            peer.handle_frame(frame(&Ping::new(nonce)), t0).unwrap();
            let out = sent(&mut peer);
            assert_eq!(out.len(), 1);
            assert_eq!(out[0].decode_as::<Pong>().unwrap(), Pong::new(nonce));
        }
        let evs = events(&mut peer);
        assert_eq!(evs.len(), 3);
        assert!(
            evs.iter()
                .all(|e| matches!(e, PeerEvent::Message(f) if f.command() == Ping::COMMAND))
        );
    }

    #[test]
    fn matching_pong_measures_rtt_and_keeps_the_minimum() {
        let t0 = Instant::now();
        let cfg = config();
        let (mut peer, nonce) = established(t0);
        let t1 = t0 + Duration::from_millis(300);
        peer.handle_frame(frame(&Pong::new(nonce)), t1).unwrap();
        let evs = events(&mut peer);
        assert!(matches!(&evs[0], PeerEvent::Message(f) if f.command() == Pong::COMMAND));
        assert_eq!(
            evs[1],
            PeerEvent::Pong {
                rtt: Duration::from_millis(300)
            }
        );
        let stats = peer.stats();
        assert_eq!(stats.ping_last, Some(Duration::from_millis(300)));
        assert_eq!(stats.ping_min, Some(Duration::from_millis(300)));
        assert_eq!(stats.ping_pending_since, None);
        assert_eq!(peer.poll_timeout(), Some(t0 + cfg.ping_interval));

        // The next ping, answered faster, then slower.
        let t2 = t0 + cfg.ping_interval;
        peer.handle_timeout(t2).unwrap();
        let nonce2 = sent(&mut peer)[0].decode_as::<Ping>().unwrap().nonce;
        peer.handle_frame(frame(&Pong::new(nonce2)), t2 + Duration::from_millis(100))
            .unwrap();
        let t3 = t2 + cfg.ping_interval;
        peer.handle_timeout(t3).unwrap();
        let nonce3 = sent(&mut peer)[0].decode_as::<Ping>().unwrap().nonce;
        peer.handle_frame(frame(&Pong::new(nonce3)), t3 + Duration::from_millis(900))
            .unwrap();
        let stats = peer.stats();
        assert_eq!(stats.ping_last, Some(Duration::from_millis(900)));
        assert_eq!(stats.ping_min, Some(Duration::from_millis(100)));
    }

    #[test]
    fn pings_every_interval_but_never_while_one_is_outstanding() {
        let t0 = Instant::now();
        let cfg = config();
        let (mut peer, nonce) = established(t0);
        // Unanswered: no second ping at the interval, only the pong deadline.
        peer.handle_timeout(t0 + cfg.ping_interval).unwrap();
        assert!(sent(&mut peer).is_empty());
        assert_eq!(peer.poll_timeout(), Some(t0 + cfg.pong_timeout));
        // Answered late: the interval counts from the last ping, so the next is due now.
        let late = t0 + cfg.ping_interval * 3;
        peer.handle_frame(frame(&Pong::new(nonce)), late).unwrap();
        assert_eq!(peer.poll_timeout(), Some(t0 + cfg.ping_interval));
        peer.handle_timeout(late).unwrap();
        assert_eq!(commands(&sent(&mut peer)), ["ping"]);
        // Before the interval: nothing.
        let nonce = peer.ping_nonce.unwrap().get();
        peer.handle_frame(frame(&Pong::new(nonce)), late + Duration::from_secs(1))
            .unwrap();
        peer.handle_timeout(late + cfg.ping_interval - Duration::from_millis(1))
            .unwrap();
        assert!(sent(&mut peer).is_empty());
        peer.handle_timeout(late + cfg.ping_interval).unwrap();
        assert_eq!(commands(&sent(&mut peer)), ["ping"]);
    }

    #[test]
    fn pong_with_another_nonce_is_ignored_and_the_ping_stays_outstanding() {
        let t0 = Instant::now();
        let (mut peer, nonce) = established(t0);
        peer.handle_frame(frame(&Pong::new(nonce ^ 1)), t0).unwrap();
        let evs = events(&mut peer);
        assert_eq!(evs.len(), 2);
        assert_eq!(
            evs[1],
            PeerEvent::Ignored {
                command: Pong::COMMAND,
                reason: "nonce mismatch"
            }
        );
        assert_eq!(peer.stats().ping_last, None);
        assert_eq!(peer.stats().ping_pending_since, Some(t0));
        // The right one still counts.
        peer.handle_frame(frame(&Pong::new(nonce)), t0 + Duration::from_secs(1))
            .unwrap();
        assert_eq!(
            events(&mut peer)[1],
            PeerEvent::Pong {
                rtt: Duration::from_secs(1)
            }
        );
    }

    #[test]
    fn pong_with_nonce_zero_cancels_the_ping_and_unsolicited_pongs_are_ignored() {
        let t0 = Instant::now();
        let cfg = config();
        let (mut peer, _) = established(t0);
        peer.handle_frame(frame(&Pong::new(0)), t0).unwrap();
        assert_eq!(
            events(&mut peer)[1],
            PeerEvent::Ignored {
                command: Pong::COMMAND,
                reason: "nonce zero"
            }
        );
        assert_eq!(peer.stats().ping_pending_since, None);
        // No pong timeout any more; the next ping comes at the interval.
        assert_eq!(peer.poll_timeout(), Some(t0 + cfg.ping_interval));
        assert!(peer.handle_timeout(t0 + cfg.pong_timeout).is_ok());
        assert_eq!(commands(&sent(&mut peer)), ["ping"]);
        let nonce = peer.ping_nonce.unwrap().get();
        peer.handle_frame(frame(&Pong::new(nonce)), t0 + cfg.pong_timeout)
            .unwrap();
        peer.handle_frame(frame(&Pong::new(nonce)), t0 + cfg.pong_timeout)
            .unwrap();
        assert_eq!(
            events(&mut peer)[3],
            PeerEvent::Ignored {
                command: Pong::COMMAND,
                reason: "unsolicited pong"
            }
        );
    }

    #[test]
    fn no_pong_within_the_timeout_disconnects() {
        let t0 = Instant::now();
        let cfg = config();
        let (mut peer, _) = established(t0);
        assert_eq!(peer.poll_timeout(), Some(t0 + cfg.pong_timeout));
        assert!(
            peer.handle_timeout(t0 + cfg.pong_timeout - Duration::from_millis(1))
                .is_ok()
        );
        assert_eq!(
            peer.handle_timeout(t0 + cfg.pong_timeout),
            Err(DisconnectReason::PongTimeout(cfg.pong_timeout))
        );
    }

    #[test]
    fn short_timeouts_from_the_config_are_used() {
        let t0 = Instant::now();
        let mut cfg = config();
        cfg.ping_interval = Duration::from_secs(3);
        cfg.pong_timeout = Duration::from_secs(1);
        let mut peer = peer_with(&cfg, remote(PROTOCOL_VERSION), t0);
        assert_eq!(peer.poll_timeout(), Some(t0 + Duration::from_secs(1)));
        assert!(matches!(
            peer.handle_timeout(t0 + Duration::from_secs(2)),
            Err(DisconnectReason::PongTimeout(d)) if d == Duration::from_secs(2)
        ));
    }

    #[test]
    fn huge_timers_do_not_overflow() {
        let t0 = Instant::now();
        let mut cfg = config();
        cfg.ping_interval = Duration::MAX;
        cfg.pong_timeout = Duration::MAX;
        cfg.inv_broadcast_interval = Duration::MAX;
        let mut peer = peer_with(&cfg, remote(PROTOCOL_VERSION), t0);
        assert!(peer.poll_timeout().unwrap() > t0 + Duration::from_secs(1_000_000));
        assert!(peer.push_inv(tx(1)));
        peer.handle_timeout(t0).unwrap();
        assert!(peer.poll_timeout().unwrap() > t0);
    }

    #[test]
    fn peers_before_bip31_get_nonceless_pings_and_no_pongs() {
        let t0 = Instant::now();
        let cfg = config();
        let mut peer = peer_with(&cfg, remote(60_000), t0);
        let out = sent(&mut peer);
        assert_eq!(commands(&out), ["ping"]);
        assert!(out[0].payload.is_empty(), "no nonce before BIP 31");
        // Nothing to wait for: the next timer is the next ping, never a disconnect.
        assert_eq!(peer.poll_timeout(), Some(t0 + cfg.ping_interval));
        assert!(peer.handle_timeout(t0 + cfg.pong_timeout * 2).is_ok());
        assert_eq!(commands(&sent(&mut peer)), ["ping"]);
        // Their empty pings are valid and not answered.
        let empty_ping = Frame::from_message(
            MAGIC,
            &Message::Unknown {
                command: Ping::COMMAND,
                payload: &[],
            },
        )
        .unwrap();
        peer.handle_frame(empty_ping.clone(), t0).unwrap();
        assert!(sent(&mut peer).is_empty());
        assert_eq!(events(&mut peer), [PeerEvent::Message(empty_ping.clone())]);
        // A modern peer's empty ping is malformed.
        let (mut modern, _) = established(t0);
        assert!(matches!(
            modern.handle_frame(empty_ping, t0),
            Err(Violation::Malformed { command, .. }) if command == Ping::COMMAND
        ));
    }

    // ---- received messages ----

    #[test]
    fn malformed_frames_are_violations() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        let bad = Frame::from_message(
            MAGIC,
            &Message::Unknown {
                command: Inv::COMMAND,
                payload: &[2, 0, 0],
            },
        )
        .unwrap();
        let err = peer.handle_frame(bad, t0).unwrap_err();
        match err {
            Violation::Malformed { command, source } => {
                assert_eq!(command, Inv::COMMAND);
                assert!(
                    matches!(source.kind, DecodeErrorKind::CountOverRemaining { .. }),
                    "{source:?}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(events(&mut peer).is_empty(), "no event for a violation");
        assert_eq!(peer.stats().messages_recv, 1, "still counted");
    }

    #[test]
    fn handshake_messages_after_verack_are_violations() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        let info = remote(PROTOCOL_VERSION);
        let version = Version::new(
            PROTOCOL_VERSION,
            ServiceFlags::NETWORK,
            0,
            info.addr_recv,
            info.addr_from,
            1,
            b"/x/",
            0,
            Some(true),
        );
        assert_eq!(
            peer.handle_frame(frame(&version), t0),
            Err(Violation::DuplicateVersion)
        );
        assert_eq!(
            peer.handle_frame(frame(&Verack), t0),
            Err(Violation::DuplicateVerack)
        );
        assert_eq!(
            peer.handle_frame(frame(&WtxidRelay), t0),
            Err(Violation::AfterVerack(WtxidRelay::COMMAND))
        );
        assert_eq!(
            peer.handle_frame(frame(&SendAddrV2), t0),
            Err(Violation::AfterVerack(SendAddrV2::COMMAND))
        );
    }

    fn bloom_frames() -> Vec<Frame> {
        vec![
            frame(&FilterLoad::new(&[0xff; 8], 3, 0, BloomFlags::NONE)),
            frame(&FilterAdd::new(&[1, 2, 3])),
            frame(&FilterClear),
            frame(&Mempool),
        ]
    }

    fn cfilter_frames() -> Vec<Frame> {
        vec![
            frame(&GetCFilters::new(FilterType::BASIC, 0, BlockHash::ZERO)),
            frame(&GetCFHeaders::new(FilterType::BASIC, 0, BlockHash::ZERO)),
            frame(&GetCFCheckpt::new(FilterType::BASIC, BlockHash::ZERO)),
        ]
    }

    #[test]
    fn bloom_and_filter_requests_need_the_service_we_signal() {
        let t0 = Instant::now();
        for f in bloom_frames() {
            let (mut peer, _) = established(t0);
            assert_eq!(
                peer.handle_frame(f.clone(), t0),
                Err(Violation::Unsupported {
                    command: f.command(),
                    feature: "NODE_BLOOM"
                })
            );
        }
        for f in cfilter_frames() {
            let (mut peer, _) = established(t0);
            assert_eq!(
                peer.handle_frame(f.clone(), t0),
                Err(Violation::Unsupported {
                    command: f.command(),
                    feature: "NODE_COMPACT_FILTERS"
                })
            );
        }
        let mut cfg = config();
        cfg.services = ServiceFlags::NETWORK | ServiceFlags::BLOOM | ServiceFlags::COMPACT_FILTERS;
        let mut peer = peer_with(&cfg, remote(PROTOCOL_VERSION), t0);
        for f in bloom_frames().into_iter().chain(cfilter_frames()) {
            peer.handle_frame(f.clone(), t0).unwrap();
            assert_eq!(peer.poll_event(), Some(PeerEvent::Message(f)));
        }
    }

    #[test]
    fn a_bloom_filter_turns_transaction_relay_on() {
        let t0 = Instant::now();
        let mut cfg = config();
        cfg.services = ServiceFlags::BLOOM;
        let mut info = remote(PROTOCOL_VERSION);
        info.relay = false;
        let mut peer = peer_with(&cfg, info, t0);
        assert!(!peer.relay_txs());
        assert!(
            !peer.push_inv(tx(1)),
            "BIP 37: no transactions for relay = false"
        );
        assert!(
            peer.push_inv(InvItem::block(BlockHash(hash(2)))),
            "blocks still go"
        );
        peer.handle_frame(frame(&FilterLoad::new(&[0; 4], 1, 0, BloomFlags::ALL)), t0)
            .unwrap();
        assert!(peer.relay_txs() && peer.stats().relay_txs);
        assert!(peer.push_inv(tx(1)));
    }

    #[test]
    fn sendheaders_and_feefilter_update_state() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        assert!(!peer.stats().wants_headers);
        assert_eq!(peer.stats().feefilter, 0);
        peer.handle_frame(frame(&SendHeaders), t0).unwrap();
        peer.handle_frame(frame(&FeeFilter::new(1_000)), t0)
            .unwrap();
        let stats = peer.stats();
        assert!(stats.wants_headers && peer.wants_headers());
        assert_eq!((stats.feefilter, peer.feefilter()), (1_000, 1_000));
        // Core keeps only fee rates within MoneyRange.
        for bad in [-1, MAX_MONEY + 1] {
            peer.handle_frame(frame(&FeeFilter::new(bad)), t0).unwrap();
        }
        peer.handle_frame(frame(&FeeFilter::new(MAX_MONEY)), t0)
            .unwrap();
        assert_eq!(peer.feefilter(), MAX_MONEY);
        let ignored: Vec<_> = events(&mut peer)
            .into_iter()
            .filter(|e| {
                matches!(
                    e,
                    PeerEvent::Ignored {
                        reason: "feefilter out of range",
                        ..
                    }
                )
            })
            .collect();
        assert_eq!(ignored.len(), 2);
        // A `sendheaders` before `verack` counts from the start.
        let mut info = remote(PROTOCOL_VERSION);
        info.sendheaders = true;
        assert!(peer_with(&config(), info, t0).wants_headers());
    }

    #[test]
    fn every_valid_message_is_emitted_including_unknown_commands() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        let items = [tx(1), tx(2)];
        let entries = [AddrEntry::new(1, remote(1).addr_from)];
        let frames = vec![
            frame(&Inv::from_items(&items)),
            frame(&NotFound::from_items(&items)),
            frame(&Addr::from_entries(&entries)),
            frame(&Headers::from_headers(&[])),
            frame(&GetAddr),
            Frame::from_message(
                MAGIC,
                &Message::Unknown {
                    command: Command::new("mystery"),
                    payload: b"??",
                },
            )
            .unwrap(),
        ];
        for f in &frames {
            peer.handle_frame(f.clone(), t0).unwrap();
        }
        let expected: Vec<_> = frames.into_iter().map(PeerEvent::Message).collect();
        assert_eq!(events(&mut peer), expected);
    }

    #[test]
    fn received_inv_marks_items_known() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        assert!(!peer.knows(&hash(1)));
        peer.handle_frame(frame(&Inv::from_items(&[tx(1), tx(2)])), t0)
            .unwrap();
        assert!(peer.knows(&hash(1)) && peer.knows(&hash(2)));
        assert!(!peer.push_inv(tx(1)), "the peer announced it");
        assert!(peer.push_inv(tx(3)));
        peer.mark_known(hash(4));
        assert!(!peer.push_inv(tx(4)));
        assert_eq!(peer.stats().known_inventory, 3);
    }

    // ---- inventory trickling ----

    /// Runs the peer's timers until it sends something; returns the frames and the time.
    fn next_trickle(peer: &mut Peer, mut now: Instant) -> (Vec<Frame>, Instant) {
        for _ in 0..100 {
            let at = peer.poll_timeout().unwrap();
            now = now.max(at);
            peer.handle_timeout(now).unwrap();
            let out = sent(peer);
            if !out.is_empty() {
                return (out, now);
            }
        }
        panic!("no trickle within 100 timeouts");
    }

    #[test]
    fn inventory_is_trickled_on_a_random_timer() {
        let t0 = Instant::now();
        let cfg = config();
        let (mut peer, nonce) = established(t0);
        peer.handle_frame(frame(&Pong::new(nonce)), t0).unwrap();
        // Idle: only the ping timer.
        assert_eq!(peer.poll_timeout(), Some(t0 + cfg.ping_interval));
        assert!(peer.push_inv(tx(1)) && peer.push_inv(tx(2)));
        assert!(sent(&mut peer).is_empty(), "not sent at once");
        // The trickle timer is armed at the next timeout, right away.
        assert_eq!(peer.poll_timeout(), Some(t0));
        peer.handle_timeout(t0).unwrap();
        let at = peer.poll_timeout().unwrap();
        assert!(
            at > t0 && at < t0 + cfg.inv_broadcast_interval * 20,
            "{:?}",
            at - t0
        );
        peer.handle_timeout(at - Duration::from_nanos(1)).unwrap();
        assert!(sent(&mut peer).is_empty(), "not before the timer");
        peer.handle_timeout(at).unwrap();
        let out = sent(&mut peer);
        assert_eq!(commands(&out), ["inv"]);
        let inv = out[0].decode_as::<Inv>().unwrap();
        assert_eq!(inv.iter().collect::<Vec<_>>(), [tx(1), tx(2)]);
        assert!(
            peer.knows(&hash(1)) && peer.knows(&hash(2)),
            "what we sent is known"
        );
        assert!(!peer.push_inv(tx(1)));
        // Drained: back to the ping timer only.
        assert_eq!(peer.poll_timeout(), Some(t0 + cfg.ping_interval));
        assert_eq!(peer.stats().inv_queued, 0);
    }

    #[test]
    fn trickles_send_at_most_inventory_broadcast_max_each() {
        let t0 = Instant::now();
        let (mut peer, nonce) = established(t0);
        peer.handle_frame(frame(&Pong::new(nonce)), t0).unwrap();
        for n in 0..2_500 {
            assert!(peer.push_inv(tx(n)));
        }
        let mut now = t0;
        let mut sizes = Vec::new();
        for _ in 0..3 {
            let (out, at) = next_trickle(&mut peer, now);
            now = at;
            let invs: Vec<usize> = out
                .iter()
                .filter(|f| f.command() == Inv::COMMAND)
                .map(|f| f.decode_as::<Inv>().unwrap().len())
                .collect();
            sizes.extend(invs);
        }
        assert_eq!(
            sizes,
            [INVENTORY_BROADCAST_MAX, INVENTORY_BROADCAST_MAX, 500]
        );
        assert_eq!(peer.stats().inv_queued, 0);
    }

    #[test]
    fn trickle_skips_items_that_became_known_while_queued() {
        let t0 = Instant::now();
        let (mut peer, nonce) = established(t0);
        peer.handle_frame(frame(&Pong::new(nonce)), t0).unwrap();
        for n in 0..4 {
            peer.push_inv(tx(n));
        }
        peer.push_inv(tx(0)); // twice in the queue, sent once
        peer.handle_frame(frame(&Inv::from_items(&[tx(1)])), t0)
            .unwrap();
        peer.mark_known(hash(2));
        let (out, _) = next_trickle(&mut peer, t0);
        let inv = out[0].decode_as::<Inv>().unwrap();
        assert_eq!(inv.iter().collect::<Vec<_>>(), [tx(0), tx(3)]);
    }

    #[test]
    fn trickle_gaps_are_exponential_with_the_configured_mean() {
        let t0 = Instant::now();
        let mut cfg = config();
        cfg.ping_interval = Duration::from_secs(1_000_000);
        cfg.pong_timeout = Duration::from_secs(2_000_000);
        let mut peer = peer_with(&cfg, remote(PROTOCOL_VERSION), t0);
        let _ = sent(&mut peer);
        let batch = INVENTORY_BROADCAST_MAX as u32;
        let mut next_item = 0u32;
        let mut refill = |peer: &mut Peer| {
            for _ in 0..batch {
                peer.push_inv(tx(next_item));
                next_item += 1;
            }
        };
        // Two batches queued: every trickle sends one, and one is added before the next.
        refill(&mut peer);
        refill(&mut peer);
        peer.handle_timeout(t0).unwrap(); // arms the timer
        let mut now = t0;
        let n = 400u32;
        let mut gaps = Vec::new();
        for _ in 0..n {
            let at = peer.poll_timeout().unwrap();
            gaps.push(at - now);
            now = at;
            peer.handle_timeout(now).unwrap();
            assert_eq!(commands(&sent(&mut peer)), ["inv"]);
            refill(&mut peer);
        }
        let mean = gaps.iter().sum::<Duration>().as_secs_f64() / f64::from(n);
        let target = cfg.inv_broadcast_interval.as_secs_f64();
        assert!((mean - target).abs() < target * 0.2, "mean gap {mean}");
        assert!(
            gaps.iter().any(|g| g.as_secs_f64() < target / 4.0),
            "short gaps happen"
        );
        assert!(
            gaps.iter().any(|g| g.as_secs_f64() > target * 2.0),
            "long gaps happen"
        );
    }

    #[test]
    fn inventory_queue_is_bounded_dropping_the_oldest() {
        let t0 = Instant::now();
        let mut cfg = config();
        cfg.max_known_inventory = 2 * MAX_INV_QUEUE;
        let mut peer = peer_with(&cfg, remote(PROTOCOL_VERSION), t0);
        let total = MAX_INV_QUEUE as u32 + 10;
        for n in 0..total {
            assert!(peer.push_inv(tx(n)));
        }
        assert_eq!(peer.stats().inv_queued, MAX_INV_QUEUE);
        assert_eq!(
            peer.inv_queue.iter().next(),
            Some(&tx(10)),
            "the 10 oldest dropped"
        );
    }

    // ---- sending ----

    #[test]
    fn push_getheaders_and_getblocks_check_the_locator() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        let locator: Vec<BlockHash> = (0..102).map(|n| BlockHash(hash(n))).collect();
        let stop = BlockHash(hash(999));
        assert_eq!(
            peer.push_getheaders(&locator, stop, t0),
            Err(LocatorTooLong {
                len: 102,
                limit: 101
            })
        );
        assert_eq!(
            peer.push_getblocks(&locator, stop, t0),
            Err(LocatorTooLong {
                len: 102,
                limit: 101
            })
        );
        assert!(sent(&mut peer).is_empty(), "nothing queued on error");
        peer.push_getheaders(&locator[..101], stop, t0).unwrap();
        peer.push_getblocks(&locator[..1], BlockHash::ZERO, t0)
            .unwrap();
        let out = sent(&mut peer);
        assert_eq!(commands(&out), ["getheaders", "getblocks"]);
        let gh = out[0].decode_as::<GetHeaders>().unwrap();
        assert_eq!(gh.version, PROTOCOL_VERSION);
        assert_eq!(gh.locator().collect::<Vec<_>>(), locator[..101]);
        assert_eq!(gh.stop_hash, stop);
        let gb = out[1].decode_as::<GetBlocks>().unwrap();
        assert_eq!((gb.locator().count(), gb.stop_hash), (1, BlockHash::ZERO));
    }

    #[test]
    fn push_getdata_splits_at_the_inv_limit() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        peer.push_getdata(&[], t0);
        assert!(sent(&mut peer).is_empty());
        let items: Vec<InvItem> = (0..120_000).map(tx).collect();
        peer.push_getdata(&items, t0);
        let out = sent(&mut peer);
        let lens: Vec<usize> = out
            .iter()
            .map(|f| f.decode_as::<GetData>().unwrap().len())
            .collect();
        assert_eq!(lens, [50_000, 50_000, 20_000]);
        let last = out[2].decode_as::<GetData>().unwrap();
        assert_eq!(last.get(19_999), Some(tx(119_999)));
    }

    fn addr_entry(ip: &str, time: u32) -> AddrEntry {
        AddrEntry::new(
            time,
            NetAddr::from_socket_addr(ServiceFlags::NETWORK, ip.parse().unwrap()),
        )
    }

    #[test]
    fn push_addr_drops_duplicates_and_sends_addr_to_v1_peers() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        peer.push_addr(&[], t0);
        assert!(sent(&mut peer).is_empty());
        let entries = [
            addr_entry("192.0.2.1:8333", 1),
            addr_entry("192.0.2.1:8333", 2), // same address, later: dropped
            addr_entry("192.0.2.1:8334", 3),
            addr_entry("[2001:db8::1]:8333", 4),
        ];
        peer.push_addr(&entries, t0);
        let out = sent(&mut peer);
        assert_eq!(commands(&out), ["addr"]);
        let addr = out[0].decode_as::<Addr>().unwrap();
        let got: Vec<AddrEntry> = addr.iter().collect();
        assert_eq!(got, [entries[0], entries[2], entries[3]]);
    }

    #[test]
    fn push_addr_sends_addrv2_when_negotiated() {
        let t0 = Instant::now();
        let mut info = remote(PROTOCOL_VERSION);
        info.sendaddrv2 = true;
        let mut peer = peer_with(&config(), info, t0);
        let _ = sent(&mut peer);
        let entries = [
            addr_entry("192.0.2.1:8333", 1),
            addr_entry("[2001:db8::1]:18444", 2),
        ];
        peer.push_addr(&entries, t0);
        let out = sent(&mut peer);
        assert_eq!(commands(&out), ["addrv2"]);
        let msg = out[0].decode_as::<AddrV2>().unwrap();
        let got: Vec<AddrV2Entry<'_>> = msg.iter().collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].addr, NetAddrV2::Ipv4([192, 0, 2, 1]));
        assert_eq!(
            (got[0].time, got[0].port, got[0].services),
            (1, 8333, ServiceFlags::NETWORK)
        );
        assert_eq!(got[1].addr.network_id(), btcwire::types::NetworkId::IPV6);
        assert_eq!(
            got[1].to_socket_addr(),
            Some("[2001:db8::1]:18444".parse().unwrap())
        );
    }

    #[test]
    fn push_addr_sends_at_most_1000_picked_at_random() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        let entries: Vec<AddrEntry> = (0..2_500u32)
            .map(|n| {
                let [_, _, a, b] = n.to_be_bytes();
                addr_entry(&format!("10.0.{a}.{b}:8333"), n)
            })
            .collect();
        peer.push_addr(&entries, t0);
        let out = sent(&mut peer);
        assert_eq!(out.len(), 1);
        let got: Vec<AddrEntry> = out[0].decode_as::<Addr>().unwrap().iter().collect();
        assert_eq!(got.len(), MAX_ADDR_TO_SEND);
        let unique: HashSet<u32> = got.iter().map(|e| e.time).collect();
        assert_eq!(unique.len(), MAX_ADDR_TO_SEND, "no entry twice");
        assert!(
            got.iter().any(|e| e.time >= 1_000),
            "not just the first 1000"
        );
    }

    #[test]
    fn send_frame_relays_without_copying_large_payloads() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        let big = Frame::from_message(
            Magic::MAINNET, // re-stamped with ours
            &Message::Unknown {
                command: Command::new("block"),
                payload: &[7u8; 10_000],
            },
        )
        .unwrap();
        let payload_ptr = big.payload.as_ptr();
        peer.send_frame(big.clone(), t0);
        let header = peer.poll_transmit().unwrap();
        let body = peer.poll_transmit().unwrap();
        assert_eq!(header.len(), HEADER_LEN);
        assert_eq!(&header[..4], &MAGIC.0);
        assert_eq!(body.as_ptr(), payload_ptr, "the payload is the same buffer");
        assert!(peer.poll_transmit().is_none());
        // A small frame goes out in one piece, and decodes as sent.
        peer.send_frame(frame(&Ping::new(5)), t0);
        let out = sent(&mut peer);
        assert_eq!(out[0].decode_as::<Ping>().unwrap(), Ping::new(5));
    }

    #[test]
    fn sent_inv_marks_items_known() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        peer.send(&Inv::from_items(&[tx(1)]), t0).unwrap();
        peer.send_frame(frame(&Inv::from_items(&[tx(2)])), t0);
        assert!(peer.knows(&hash(1)) && peer.knows(&hash(2)));
    }

    #[test]
    fn outbound_queue_pauses_at_its_bound_and_never_drops() {
        let t0 = Instant::now();
        let mut cfg = config();
        cfg.max_outbound_queue = 4;
        let mut peer = peer_with(&cfg, remote(PROTOCOL_VERSION), t0); // 1 queued: the ping
        for n in 0..2 {
            peer.send(&Ping::new(n), t0).unwrap();
        }
        assert!(!peer.is_send_paused());
        peer.send(&Ping::new(2), t0).unwrap();
        assert!(peer.is_send_paused(), "4 entries queued");
        // Protocol answers still go in, beyond the bound: nothing is dropped.
        peer.handle_frame(frame(&Ping::new(9)), t0).unwrap();
        let stats = peer.stats();
        assert_eq!(stats.send_queue_len, 5);
        assert_eq!(stats.send_queue_bytes, 5 * (HEADER_LEN + 8));
        assert_eq!(
            commands(&sent(&mut peer)),
            ["ping", "ping", "ping", "ping", "pong"]
        );
        assert!(!peer.is_send_paused());
        assert_eq!(peer.stats().send_queue_bytes, 0);
    }

    // ---- stats ----

    #[test]
    fn stats_count_traffic_in_both_directions() {
        let t0 = Instant::now();
        let mut peer = peer_with(&config(), remote(PROTOCOL_VERSION), t0);
        let stats = peer.stats();
        assert_eq!(stats.connected_at, t0);
        assert_eq!(
            (stats.messages_sent, stats.bytes_sent, stats.last_send),
            (1, 0, None)
        );
        assert_eq!(stats.transport, Transport::V1);
        assert_eq!(stats.transport.to_string(), "v1");
        assert_eq!(stats.info, remote(PROTOCOL_VERSION));
        let ping = stats.per_command[&Ping::COMMAND];
        assert_eq!((ping.messages_sent, ping.bytes_sent), (1, 32));

        // Written bytes count when the driver reports them.
        let t1 = t0 + Duration::from_secs(1);
        let bytes = peer.poll_transmit().unwrap();
        peer.handle_written(bytes.len(), t1);
        let t2 = t0 + Duration::from_secs(2);
        peer.handle_frame(frame(&Inv::from_items(&[tx(1)])), t2)
            .unwrap();
        peer.handle_frame(frame(&Ping::new(1)), t2).unwrap();
        let t3 = t0 + Duration::from_secs(3);
        peer.handle_bad_checksum(t3);
        let stats = peer.stats();
        assert_eq!((stats.bytes_sent, stats.last_send), (32, Some(t1)));
        assert_eq!(stats.messages_recv, 2);
        assert_eq!(stats.bytes_recv, (24 + 1 + 36) + 32);
        assert_eq!(stats.last_recv, Some(t3));
        assert_eq!(stats.bad_checksums, 1);
        assert_eq!(stats.messages_sent, 2, "the pong is counted when queued");
        let inv = stats.per_command[&Inv::COMMAND];
        assert_eq!((inv.messages_recv, inv.bytes_recv), (1, 61));
        let ping = stats.per_command[&Ping::COMMAND];
        assert_eq!((ping.messages_sent, ping.messages_recv), (1, 1));
        assert_eq!(stats.per_command[&Pong::COMMAND].messages_sent, 1);
    }

    #[test]
    fn unknown_commands_share_one_stats_entry() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        for n in 0..500 {
            let command = Command::try_new(&format!("junk{n}")).unwrap();
            peer.handle_frame(
                Frame::from_message(
                    MAGIC,
                    &Message::Unknown {
                        command,
                        payload: &[],
                    },
                )
                .unwrap(),
                t0,
            )
            .unwrap();
        }
        let stats = peer.stats();
        assert_eq!(stats.per_command[&OTHER_COMMAND].messages_recv, 500);
        assert_eq!(stats.per_command.len(), 2, "ping and *other*");
    }

    // ---- memory ----

    /// Estimates the heap a peer holds from the capacities of its collections (a
    /// `BTreeMap` leaf holds 11 entries).
    fn heap_estimate(peer: &Peer) -> usize {
        let info = &peer.info;
        let btree_node = 11 * (size_of::<Command>() + size_of::<CommandStats>()) + 64;
        info.user_agent.capacity()
            + info.timeline.capacity() * size_of::<crate::proto::TimelineEntry>()
            + peer.known.allocated() * 80
            + peer.inv_queue.allocated() * size_of::<InvItem>()
            + peer.outbound.capacity() * size_of::<Bytes>()
            + peer.outbound_bytes
            + peer.events.capacity() * size_of::<PeerEvent>()
            + peer.per_command.len().div_ceil(11) * btree_node
    }

    #[test]
    fn an_idle_peer_is_small() {
        assert!(
            size_of::<Peer>() < 1024,
            "Peer is {} bytes",
            size_of::<Peer>()
        );
        let t0 = Instant::now();
        let mut peer = peer_with(&config(), remote(PROTOCOL_VERSION), t0);
        assert_eq!(peer.known.allocated(), 0);
        assert_eq!(peer.inv_queue.allocated(), 0);
        assert_eq!(peer.events.capacity(), 0);
        // One ping/pong round trip and a ping from the peer.
        let nonce = sent(&mut peer)[0].decode_as::<Ping>().unwrap().nonce;
        peer.handle_frame(frame(&Pong::new(nonce)), t0).unwrap();
        peer.handle_frame(frame(&Ping::new(3)), t0).unwrap();
        let _ = sent(&mut peer);
        let _ = events(&mut peer);
        assert_eq!(peer.known.allocated(), 0, "no inventory: no filter");
        assert_eq!(peer.inv_queue.allocated(), 0);
        assert_eq!(peer.per_command.len(), 2);
        let heap = heap_estimate(&peer);
        assert!(heap < 4 * 1024, "idle heap about {heap} bytes");
        assert!(size_of::<Peer>() + heap < 16 * 1024);
    }

    #[test]
    fn known_inventory_is_bounded_by_the_config() {
        let t0 = Instant::now();
        let mut cfg = config();
        cfg.max_known_inventory = 100;
        let mut peer = peer_with(&cfg, remote(PROTOCOL_VERSION), t0);
        let items: Vec<InvItem> = (0..1_000).map(tx).collect();
        peer.handle_frame(frame(&Inv::from_items(&items)), t0)
            .unwrap();
        assert_eq!(peer.stats().known_inventory, 100);
        assert!(peer.knows(&hash(999)) && !peer.knows(&hash(0)));
    }

    // ---- two peers back to back ----

    /// Moves every queued byte of `from` into `to`, frame by frame; returns the count.
    fn pump(from: &mut Peer, to: &mut Peer, now: Instant) -> usize {
        let mut buf = BytesMut::new();
        while let Some(bytes) = from.poll_transmit() {
            from.handle_written(bytes.len(), now);
            buf.extend_from_slice(&bytes);
        }
        let mut decoder = FrameDecoder::new(MAGIC);
        let mut n = 0;
        while let Some(f) = decoder.decode(&mut buf).unwrap() {
            to.handle_frame(f, now).unwrap();
            n += 1;
        }
        n
    }

    #[test]
    fn two_peers_keep_each_other_alive_and_trickle_inventory() {
        let t0 = Instant::now();
        let cfg = config();
        let mut a = Peer::new(&cfg, remote(PROTOCOL_VERSION), Rng::new(1), t0);
        let mut info_b = remote(PROTOCOL_VERSION);
        info_b.role = Role::Inbound;
        let mut b = Peer::new(&cfg, info_b, Rng::new(2), t0);
        let one_way = Duration::from_millis(20);
        let mut now = t0;
        let mut rtts = Vec::new();
        let mut inv_seen_by_b = Vec::new();
        assert!(a.push_inv(tx(7)));
        // Exchange until both are quiet, with 20 ms each way; bounded.
        for _ in 0..50 {
            // a -> b takes 20 ms, then b -> a another 20 ms.
            now += one_way;
            let mut moved = pump(&mut a, &mut b, now);
            now += one_way;
            moved += pump(&mut b, &mut a, now);
            for (name, peer) in [("a", &mut a), ("b", &mut b)] {
                for e in events(peer) {
                    match e {
                        PeerEvent::Pong { rtt } => rtts.push((name, rtt)),
                        PeerEvent::Message(f) if f.command() == Inv::COMMAND => {
                            inv_seen_by_b.extend(f.decode_as::<Inv>().unwrap().iter());
                        }
                        _ => {}
                    }
                }
            }
            let next = a.poll_timeout().unwrap().min(b.poll_timeout().unwrap());
            if moved == 0 {
                now = now.max(next);
            }
            a.handle_timeout(now).unwrap();
            b.handle_timeout(now).unwrap();
            if rtts.len() >= 2 && !inv_seen_by_b.is_empty() {
                break;
            }
        }
        // a's ping left at t0 and its pong came back at 40 ms; b's ping waited for the
        // b -> a leg (40 ms) and its pong for the next a -> b leg (60 ms).
        assert_eq!(
            rtts,
            [
                ("a", Duration::from_millis(40)),
                ("b", Duration::from_millis(60))
            ]
        );
        assert_eq!(inv_seen_by_b, [tx(7)]);
        assert!(b.knows(&hash(7)), "b learned that a has it");
        assert!(!b.push_inv(tx(7)), "so b does not announce it back");
        let (sa, sb) = (a.stats(), b.stats());
        assert_eq!(sa.bytes_sent, sb.bytes_recv);
        assert_eq!(sb.bytes_sent, sa.bytes_recv);
        // Much later, both still answer each other's keepalive.
        now += cfg.ping_interval;
        a.handle_timeout(now).unwrap();
        b.handle_timeout(now).unwrap();
        assert_eq!(pump(&mut a, &mut b, now), 1);
        assert_eq!(pump(&mut b, &mut a, now), 2, "b's ping and b's pong");
        assert_eq!(pump(&mut a, &mut b, now), 1, "a's pong");
        assert!(a.stats().ping_pending_since.is_none() && b.stats().ping_pending_since.is_none());
    }

    // ---- hooks ----

    const GENESIS_BLOCK: &str = concat!(
        "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12",
        "b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c01",
        "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d",
        "04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f",
        "6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2",
        "052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649",
        "f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000",
    );

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    fn raw_frame(command: &str, payload: Vec<u8>) -> Frame {
        Frame::from_message(
            MAGIC,
            &Message::Unknown {
                command: Command::new(command),
                payload: &payload,
            },
        )
        .unwrap()
    }

    /// Records which hook saw what.
    #[derive(Default)]
    struct Recorder {
        calls: Vec<String>,
    }

    impl PeerHooks for Recorder {
        fn on_inv(&mut self, inv: &Inv<'_>) {
            self.calls.push(format!("inv {}", inv.len()));
        }
        fn on_block(&mut self, block: &Block<'_>) {
            self.calls.push(format!("block {}", block.block_hash()));
        }
        fn on_tx(&mut self, tx: &Tx<'_>) {
            self.calls.push(format!("tx {}", tx.txid()));
        }
        fn on_addr(&mut self, addrs: &Addr<'_>) {
            self.calls.push(format!("addr {}", addrs.len()));
        }
        fn on_getaddr(&mut self) {
            self.calls.push("getaddr".to_owned());
        }
        fn on_message(&mut self, msg: &Message<'_>) {
            self.calls.push(format!("other {}", msg.command()));
        }
    }

    #[test]
    fn dispatch_calls_the_typed_hooks() {
        let block = unhex(GENESIS_BLOCK);
        let coinbase = block[81..].to_vec();
        let frames = [
            frame(&Inv::from_items(&[tx(1), tx(2)])),
            raw_frame("block", block),
            raw_frame("tx", coinbase),
            frame(&Addr::from_entries(&[addr_entry("192.0.2.9:8333", 0)])),
            frame(&GetAddr),
            frame(&Headers::from_headers(&[])), // not implemented: falls to on_message
            frame(&AddrV2::from_entries(&[])),
            frame(&SendHeaders),
            raw_frame("mystery", vec![1]),
        ];
        let mut rec = Recorder::default();
        for f in &frames {
            dispatch(f, &mut rec).unwrap();
        }
        assert_eq!(
            rec.calls,
            [
                "inv 2",
                "block 000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
                "tx 4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
                "addr 1",
                "getaddr",
                "other headers",
                "other addrv2",
                "other sendheaders",
                "other mystery",
            ]
        );
    }

    #[test]
    fn dispatch_with_default_hooks_does_nothing_and_reports_bad_payloads() {
        struct Nothing;
        impl PeerHooks for Nothing {}
        dispatch(&frame(&Inv::from_items(&[tx(1)])), &mut Nothing).unwrap();
        dispatch(&frame(&GetAddr), &mut Nothing).unwrap();
        let mut rec = Recorder::default();
        let err = dispatch(&raw_frame("inv", vec![1]), &mut rec).unwrap_err();
        assert_eq!(err.command, Inv::COMMAND);
        assert!(rec.calls.is_empty(), "no hook for a bad payload");
    }

    #[test]
    fn dispatch_works_on_events_from_a_peer() {
        let t0 = Instant::now();
        let (mut peer, _) = established(t0);
        peer.handle_frame(frame(&Inv::from_items(&[tx(1)])), t0)
            .unwrap();
        let mut rec = Recorder::default();
        for e in events(&mut peer) {
            if let PeerEvent::Message(f) = e {
                dispatch(&f, &mut rec).unwrap();
            }
        }
        assert_eq!(rec.calls, ["inv 1"]);
    }
}
