//! The version handshake: `version`, the feature negotiation messages, then `verack`, for
//! both roles, as Bitcoin Core v31 runs it (`ProcessMessage` in `net_processing.cpp`).
//!
//! [`Handshake`] is sans-IO: it takes [`Frame`]s and the time, and hands back encoded frames
//! to write and the deadline to wake up at. It never reads the clock.
//!
//! ## Outbound (we connected)
//!
//! ```text
//!  we (Role::Outbound)                           peer (inbound)
//!   |  version  -------------------------------->  |   queued by `new`, nonce kept in NonceSet
//!   |  <--------------------------------  version  |
//!   |  wtxidrelay  ----------------------------->  |  \  queued on the peer's version:
//!   |  sendaddrv2  ----------------------------->  |   | wtxidrelay and sendaddrv2 only when
//!   |  verack  --------------------------------->  |  /  min(ours, theirs) >= 70016
//!   |  <-----------------------------  wtxidrelay  |  \  the peer sent these right after its
//!   |  <-----------------------------  sendaddrv2  |   | version (they cross ours on the
//!   |  <---------------------------------  verack  |  /  wire)
//!   finished: RemoteInfo
//! ```
//!
//! ## Inbound (the peer connected)
//!
//! ```text
//!  peer (outbound)                              we (Role::Inbound)
//!   |  version  -------------------------------->  |   refused if its nonce is one of ours
//!   |  <--------------------------------  version  |  \
//!   |  <-----------------------------  wtxidrelay  |   | all queued on the peer's version;
//!   |  <-----------------------------  sendaddrv2  |   | wtxidrelay and sendaddrv2 only when
//!   |  <---------------------------------  verack  |  /  min(ours, theirs) >= 70016
//!   |  wtxidrelay  ----------------------------->  |
//!   |  sendaddrv2  ----------------------------->  |
//!   |  verack  --------------------------------->  |
//!   |                                 finished: RemoteInfo
//! ```
//!
//! ## Rules
//!
//! | received                         | before the peer's `version`     | after it, before its `verack`          |
//! |----------------------------------|---------------------------------|----------------------------------------|
//! | `version`                        | checked, answered               | [`Violation::DuplicateVersion`]        |
//! | `verack`                         | [`Violation::VerackBeforeVersion`] | finishes the handshake              |
//! | `wtxidrelay` (BIP 339)           | ignored (Core: version first)   | recorded when min version >= 70016     |
//! | `sendaddrv2` (BIP 155)           | ignored                         | recorded when we sent ours             |
//! | `sendheaders` (BIP 130)          | ignored                         | recorded                               |
//! | anything else, unknown commands  | ignored                         | ignored                                |
//! | a payload that does not decode   | [`Violation::Malformed`]        | [`Violation::Malformed`]               |
//!
//! Checks on the peer's `version`, in Core's order: a second `version`, then a version
//! below [`PeerConfig::min_protocol_version`] (`MIN_PEER_PROTO_VERSION`), then, on inbound
//! connections only, a nonce that one of our own outbound `version`s carried (Core's
//! `CheckIncomingNonce`: we connected to ourselves). The negotiated version is
//! `min(ours, theirs)` (Core's `greatest_common_version`).
//!
//! Every message sent (when queued) and received, ignored ones included, goes into the
//! timeline of [`RemoteInfo`], up to [`MAX_TIMELINE_ENTRIES`]. The handshake must finish
//! within [`PeerConfig::handshake_timeout`] of [`Handshake::new`] (Core's `-peertimeout`).
//! Once finished, later frames are ignored here: the driver hands them to the established
//! peer. After an error the handshake is dead: its transmit queue is dropped and every
//! later call returns the same error.
//!
//! ## Calling order
//!
//! `new`, then after each `handle_frame` / `handle_timeout`: drain `poll_transmit`, check
//! `finished`, and sleep until `poll_timeout`.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use btcwire::limits::{MAX_SUBVERSION_LENGTH, WTXID_RELAY_VERSION};
use btcwire::msg::{Message, Payload, SendAddrV2, Verack, Version, WtxidRelay};
use btcwire::types::{NetAddr, ServiceFlags};
use btcwire::{Command, Frame, FrameError, Magic, encode_frame};
use bytes::{Bytes, BytesMut};

use crate::config::PeerConfig;
use crate::error::{HandshakeError, Step, Violation};
use crate::proto::{Direction, NonceSet, RemoteInfo, Role, TimelineEntry};

/// Most timeline entries kept for one handshake. The handshake's own steps (at most 4
/// sent, the peer's `version` and `verack`) always fit; other received messages are
/// recorded only while there is room besides them, so a peer flooding ignored messages
/// before `verack` costs a bounded amount of memory (64 entries of 32 bytes).
pub const MAX_TIMELINE_ENTRIES: usize = 64;

/// Timeline entries kept free for the handshake's own steps: our `version`, `wtxidrelay`,
/// `sendaddrv2` and `verack`, the peer's `version` and `verack`.
const STEP_ENTRIES: usize = 6;

/// Most frames queued for sending at once: `version`, `wtxidrelay`, `sendaddrv2`, `verack`.
const MAX_QUEUED_FRAMES: usize = 4;

/// What we say about ourselves, taken from the [`PeerConfig`].
#[derive(Debug, Clone)]
struct Ours {
    magic: Magic,
    version: u32,
    min_version: u32,
    services: ServiceFlags,
    /// At most [`MAX_SUBVERSION_LENGTH`] bytes.
    user_agent: String,
    start_height: i32,
    relay: bool,
}

#[derive(Debug)]
enum State {
    /// The peer's `version` has not arrived (outbound: ours is queued).
    AwaitingVersion,
    /// The peer's `version` arrived and our `verack` is queued; holds what we learned so far
    /// (its timeline and duration are filled in on completion).
    AwaitingVerack(RemoteInfo),
    /// The peer's `verack` arrived: done.
    Finished(RemoteInfo),
    /// A violation or a timeout ended the handshake.
    Failed(HandshakeError),
}

/// The version/verack exchange with one peer, for either [`Role`].
///
/// ```
/// use std::time::{Duration, Instant};
/// use btcwire_net::proto::handshake::Handshake;
/// use btcwire_net::{NonceSet, PeerConfig, Role};
///
/// let config = PeerConfig::default();
/// let nonces = NonceSet::new();
/// let t0 = Instant::now();
/// let remote = "192.0.2.1:38333".parse().unwrap();
/// let mut hs = Handshake::new(&config, Role::Outbound, remote, 42, nonces.clone(), t0, 1_700_000_000);
/// assert!(hs.poll_transmit().is_some()); // our `version`
/// assert!(nonces.contains(42));
/// assert_eq!(hs.poll_timeout(), Some(t0 + Duration::from_secs(60)));
/// assert!(hs.handle_timeout(t0 + Duration::from_secs(60)).is_err());
/// ```
#[derive(Debug)]
pub struct Handshake {
    role: Role,
    ours: Ours,
    /// The peer's address as we put it in `addr_recv`.
    addr_recv: NetAddr,
    nonce: u64,
    nonces: NonceSet,
    /// Whether our nonce is in `nonces` and must be removed when the handshake ends.
    nonce_registered: bool,
    start: Instant,
    unix_time: i64,
    deadline: Instant,
    state: State,
    transmit: VecDeque<Bytes>,
    timeline: Vec<TimelineEntry>,
}

impl Handshake {
    /// Starts a handshake with the peer at `remote`; an outbound one queues our `version`
    /// and records `nonce` in `nonces` (removed again when the handshake ends or is
    /// dropped).
    ///
    /// `unix_time` is the wall clock (seconds since the Unix epoch) at `now`, used for our
    /// `version` timestamp and the peer's time offset. The deadline is
    /// `now + config.handshake_timeout`.
    #[must_use]
    pub fn new(
        config: &PeerConfig,
        role: Role,
        remote: SocketAddr,
        nonce: u64,
        nonces: NonceSet,
        now: Instant,
        unix_time: i64,
    ) -> Self {
        let ours = Ours {
            magic: config.magic,
            version: config.protocol_version,
            min_version: config.min_protocol_version,
            services: config.services,
            user_agent: truncate_user_agent(&config.user_agent).to_owned(),
            start_height: config.start_height,
            relay: config.relay,
        };
        let mut hs = Self {
            role,
            ours,
            // Core puts the peer's address in `addr_recv` and no services we know of.
            addr_recv: NetAddr::from_socket_addr(ServiceFlags::NONE, remote),
            nonce,
            nonces,
            nonce_registered: false,
            start: now,
            unix_time,
            deadline: add_saturating(now, config.handshake_timeout),
            state: State::AwaitingVersion,
            transmit: VecDeque::with_capacity(MAX_QUEUED_FRAMES),
            timeline: Vec::with_capacity(STEP_ENTRIES + 2),
        };
        if role == Role::Outbound {
            // Core: the connecting side sends its version first (`PushNodeVersion` in
            // `InitializeNode`), and remembers its nonce to detect connections to itself.
            hs.nonces.insert(nonce);
            hs.nonce_registered = true;
            hs.queue_version(now);
        }
        hs
    }

    /// Handles one frame from the peer.
    ///
    /// After the handshake finished, frames are ignored (they belong to the established
    /// peer) and `Ok` is returned.
    ///
    /// # Errors
    /// [`HandshakeError::Violation`] when the peer broke a handshake rule (see the module
    /// docs); the handshake is then dead and returns the same error from every later call.
    pub fn handle_frame(&mut self, frame: &Frame, now: Instant) -> Result<(), HandshakeError> {
        match &self.state {
            State::Finished(_) => return Ok(()),
            State::Failed(e) => return Err(e.clone()),
            State::AwaitingVersion | State::AwaitingVerack(_) => {}
        }
        let result = self.process(frame, now);
        if let Err(e) = &result {
            self.fail(e.clone());
        }
        result
    }

    /// Checks the deadline: at or after it, an unfinished handshake fails. Before it, or
    /// once finished, this does nothing.
    ///
    /// # Errors
    /// [`HandshakeError::Timeout`] naming the step we were waiting for: the peer's
    /// `version`, or its `verack`.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), HandshakeError> {
        let step = match &self.state {
            State::Finished(_) => return Ok(()),
            State::Failed(e) => return Err(e.clone()),
            State::AwaitingVersion => Step::Version,
            State::AwaitingVerack(_) => Step::Verack,
        };
        if now < self.deadline {
            return Ok(());
        }
        let error = HandshakeError::Timeout(step);
        self.fail(error.clone());
        Err(error)
    }

    /// Returns the next encoded frame to write, in order.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmit.pop_front()
    }

    /// Returns the handshake's deadline while it is unfinished; `None` once it finished or
    /// failed.
    #[must_use]
    pub const fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::AwaitingVersion | State::AwaitingVerack(_) => Some(self.deadline),
            State::Finished(_) | State::Failed(_) => None,
        }
    }

    /// Returns what the handshake learned, once the peer's `verack` arrived.
    #[must_use]
    pub const fn finished(&self) -> Option<&RemoteInfo> {
        match &self.state {
            State::Finished(info) => Some(info),
            _ => None,
        }
    }

    /// Returns what the handshake learned, if it finished.
    #[must_use]
    pub fn into_info(mut self) -> Option<RemoteInfo> {
        match std::mem::replace(&mut self.state, State::AwaitingVersion) {
            State::Finished(info) => Some(info),
            _ => None,
        }
    }

    /// Returns the nonce of our `version`.
    #[must_use]
    pub const fn nonce(&self) -> u64 {
        self.nonce
    }

    /// Returns who opened the connection.
    #[must_use]
    pub const fn role(&self) -> Role {
        self.role
    }

    /// Handles a frame of an unfinished handshake.
    fn process(&mut self, frame: &Frame, now: Instant) -> Result<(), HandshakeError> {
        // The frame decoder checks the magic; a frame built elsewhere is checked here.
        if frame.header.magic != self.ours.magic {
            let error = FrameError::WrongMagic {
                expected: self.ours.magic,
                actual: frame.header.magic,
            };
            return Err(Violation::Frame(error).into());
        }
        let message = frame.message().map_err(|e| Violation::Malformed {
            command: e.command,
            source: e.source,
        })?;
        match message {
            Message::Version(version) => self.on_version(&version, now),
            Message::Verack(_) => self.on_verack(now),
            other => {
                self.record(Direction::Received, frame.command(), now, false);
                self.on_other(&other);
                Ok(())
            }
        }
    }

    /// Checks the peer's `version`, answers it, and queues our `verack`.
    fn on_version(&mut self, version: &Version<'_>, now: Instant) -> Result<(), HandshakeError> {
        if !matches!(self.state, State::AwaitingVersion) {
            return Err(Violation::DuplicateVersion.into());
        }
        // Core: "using obsolete version %i; disconnecting".
        if version.version < self.ours.min_version {
            return Err(Violation::VersionTooOld {
                version: version.version,
                min: self.ours.min_version,
            }
            .into());
        }
        // Core `CheckIncomingNonce`: an inbound version carrying the nonce of one of our
        // outbound versions means we connected to ourselves.
        if self.role == Role::Inbound && self.nonces.contains(version.nonce) {
            return Err(Violation::SelfConnection {
                nonce: version.nonce,
            }
            .into());
        }
        self.record(Direction::Received, Version::COMMAND, now, true);
        if self.role == Role::Inbound {
            // Core: "Inbound peers send us their version message when they connect. We
            // send our version message in response."
            self.queue_version(now);
        }
        let negotiated = self.ours.version.min(version.version);
        if negotiates_features(negotiated) {
            // Core sends WTXIDRELAY (BIP 339) then SENDADDRV2 (BIP 155) between version
            // and verack, and only to peers at 70016 or later.
            self.queue(&WtxidRelay, now);
            self.queue(&SendAddrV2, now);
        }
        self.queue(&Verack, now);
        // Core: a negative timestamp counts as 0; the offset is theirs minus our clock now.
        let our_clock = self.unix_time.saturating_add(secs(self.elapsed(now)));
        let time_offset = version.timestamp.max(0).saturating_sub(our_clock);
        self.state = State::AwaitingVerack(RemoteInfo {
            role: self.role,
            version: version.version,
            services: version.services,
            user_agent: String::from_utf8_lossy(version.user_agent).into_owned(),
            start_height: version.start_height,
            relay: version.relay.unwrap_or(true),
            nonce: version.nonce,
            negotiated_version: negotiated,
            wtxidrelay: false,
            sendaddrv2: false,
            sendheaders: false,
            time_offset,
            addr_recv: version.addr_recv,
            addr_from: version.addr_from,
            timeline: Vec::new(),
            duration: Duration::ZERO,
        });
        Ok(())
    }

    /// Completes the handshake on the peer's `verack`.
    fn on_verack(&mut self, now: Instant) -> Result<(), HandshakeError> {
        // Our verack was queued with our answer to the peer's version, so the first verack
        // after it completes the handshake; a later one goes to the established peer.
        match std::mem::replace(&mut self.state, State::AwaitingVersion) {
            State::AwaitingVerack(mut info) => {
                self.record(Direction::Received, Verack::COMMAND, now, true);
                info.timeline = std::mem::take(&mut self.timeline);
                info.duration = self.elapsed(now);
                self.state = State::Finished(info);
                self.release_nonce();
                Ok(())
            }
            // `handle_frame` lets only the two unfinished states through.
            other => {
                self.state = other;
                Err(Violation::VerackBeforeVersion.into())
            }
        }
    }

    /// Records the negotiation messages that may come between `version` and `verack`.
    fn on_other(&mut self, message: &Message<'_>) {
        // Core ignores every message before the peer's version, and every message but
        // the negotiation ones before its verack.
        let State::AwaitingVerack(info) = &mut self.state else {
            return;
        };
        match message {
            // BIP 339: only meaningful at version 70016 or later (Core ignores it below).
            Message::WtxidRelay(_) if negotiates_features(info.negotiated_version) => {
                info.wtxidrelay = true;
            }
            // BIP 155: agreed when both sent it; we sent ours only at 70016 or later.
            Message::SendAddrV2(_) if negotiates_features(info.negotiated_version) => {
                info.sendaddrv2 = true;
            }
            // BIP 130: tolerated before verack and remembered for the established peer.
            Message::SendHeaders(_) => info.sendheaders = true,
            _ => {}
        }
    }

    /// Queues our `version`, stamped with our clock now.
    fn queue_version(&mut self, now: Instant) {
        // Core's `PushNodeVersion`: our services in `addr_from` with an all-zero address.
        let addr_from = NetAddr::new(self.ours.services, [0; 16], 0);
        let timestamp = self.unix_time.saturating_add(secs(self.elapsed(now)));
        let version = Version::new(
            self.ours.version,
            self.ours.services,
            timestamp,
            self.addr_recv,
            addr_from,
            self.nonce,
            self.ours.user_agent.as_bytes(),
            self.ours.start_height,
            Some(self.ours.relay),
        );
        let mut buf = BytesMut::new();
        // Within every limit: the user agent is cut to `MAX_SUBVERSION_LENGTH` (`user_agent`)
        // and the rest of a `version` has a fixed size.
        encode_frame(self.ours.magic, &version, &mut buf).expect("a version fits its limit");
        self.push(buf.freeze(), Version::COMMAND, now);
    }

    /// Queues an empty negotiation message.
    fn queue<M: for<'a> Payload<'a>>(&mut self, message: &M, now: Instant) {
        let mut buf = BytesMut::new();
        encode_frame(self.ours.magic, message, &mut buf).expect("an empty payload fits");
        self.push(buf.freeze(), M::COMMAND, now);
    }

    fn push(&mut self, frame: Bytes, command: Command, now: Instant) {
        debug_assert!(
            self.transmit.len() < MAX_QUEUED_FRAMES,
            "a handshake sends at most four frames"
        );
        self.transmit.push_back(frame);
        self.record(Direction::Sent, command, now, true);
    }

    /// Adds a timeline entry; one that is not a handshake step only while room is left
    /// for the steps.
    fn record(&mut self, direction: Direction, command: Command, now: Instant, step: bool) {
        let room = if step {
            MAX_TIMELINE_ENTRIES
        } else {
            MAX_TIMELINE_ENTRIES - STEP_ENTRIES
        };
        if self.timeline.len() < room {
            self.timeline.push(TimelineEntry {
                direction,
                command,
                at: self.elapsed(now),
            });
        }
    }

    /// Ends the handshake with `error`: nothing more is sent.
    fn fail(&mut self, error: HandshakeError) {
        self.state = State::Failed(error);
        self.transmit.clear();
        self.timeline = Vec::new();
        self.release_nonce();
    }

    /// Forgets our nonce: Core checks incoming nonces only against outbound connections
    /// whose handshake is still under way.
    fn release_nonce(&mut self) {
        if self.nonce_registered {
            self.nonces.remove(self.nonce);
            self.nonce_registered = false;
        }
    }

    fn elapsed(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.start)
    }
}

impl Drop for Handshake {
    /// Forgets our nonce if the handshake is abandoned before it ended.
    fn drop(&mut self) {
        self.release_nonce();
    }
}

/// Returns whether `wtxidrelay` and `sendaddrv2` are exchanged at this negotiated version.
const fn negotiates_features(negotiated: u32) -> bool {
    negotiated >= WTXID_RELAY_VERSION
}

/// Returns whole seconds as `i64`, saturating.
fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

/// Returns `now + d`, or the latest representable instant short of it.
fn add_saturating(now: Instant, mut d: Duration) -> Instant {
    // Only absurd timeouts (`Duration::MAX`) overflow; halving reaches a representable
    // one in a few steps, and zero within 128.
    for _ in 0..128 {
        if let Some(t) = now.checked_add(d) {
            return t;
        }
        d /= 2;
    }
    now
}

/// Returns `user_agent` cut to at most [`MAX_SUBVERSION_LENGTH`] bytes, at a character
/// boundary (peers refuse a longer one).
fn truncate_user_agent(user_agent: &str) -> &str {
    let mut end = user_agent.len().min(MAX_SUBVERSION_LENGTH as usize);
    while !user_agent.is_char_boundary(end) {
        end -= 1;
    }
    &user_agent[..end]
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use btcwire::frame::Framed;
    use btcwire::msg::{GetAddr, Ping, SendCmpct, SendHeaders};
    use btcwire::{DecodeErrorKind, FrameDecoder, Network};
    use proptest::prelude::*;

    use super::*;
    use crate::config::{HANDSHAKE_TIMEOUT, MIN_PEER_PROTO_VERSION};

    const MAGIC: Magic = Magic::REGTEST;
    const UNIX: i64 = 1_700_000_000;
    const OUR_NONCE: u64 = 0x0123_4567_89ab_cdef;
    const PEER_NONCE: u64 = 0xfeed_f00d_dead_beef;
    const MS: Duration = Duration::from_millis(1);

    fn config() -> PeerConfig {
        let mut c = PeerConfig::new(Network::Regtest);
        c.services = ServiceFlags::NETWORK | ServiceFlags::WITNESS;
        c.user_agent = "/test:1.0/".into();
        c.start_height = 123;
        c.relay = true;
        c
    }

    fn remote() -> SocketAddr {
        "192.0.2.7:18444".parse().unwrap()
    }

    fn start(role: Role, nonces: &NonceSet, t0: Instant) -> Handshake {
        Handshake::new(
            &config(),
            role,
            remote(),
            OUR_NONCE,
            nonces.clone(),
            t0,
            UNIX,
        )
    }

    fn frame<M: Framed>(message: &M) -> Frame {
        Frame::from_message(MAGIC, message).unwrap()
    }

    /// A frame with any command and payload, whatever the limits.
    fn raw(command: &str, payload: &[u8]) -> Frame {
        let payload = btcwire::bytes::Bytes::copy_from_slice(payload);
        Frame::unchecked(MAGIC, Command::new(command), payload)
    }

    /// The peer's `version` at protocol `version` with `nonce`, its clock 5 s ahead.
    fn peer_version(version: u32, nonce: u64) -> Frame {
        let v = Version::new(
            version,
            ServiceFlags::NETWORK,
            UNIX + 5,
            NetAddr::from_socket_addr(ServiceFlags::NONE, "203.0.113.9:50000".parse().unwrap()),
            NetAddr::new(ServiceFlags::NETWORK, [0; 16], 0),
            nonce,
            b"/peer:2.0/",
            777,
            None,
        );
        frame(&v)
    }

    /// Drains and decodes what the handshake wants to send.
    fn drain(hs: &mut Handshake) -> Vec<Frame> {
        let mut out = Vec::new();
        for _ in 0..=MAX_QUEUED_FRAMES {
            let Some(bytes) = hs.poll_transmit() else {
                return out;
            };
            let mut buf = BytesMut::from(&bytes[..]);
            let f = FrameDecoder::new(MAGIC).decode(&mut buf).unwrap().unwrap();
            assert!(buf.is_empty(), "one frame per transmit");
            f.message().expect("we send valid messages");
            out.push(f);
        }
        panic!("more than {MAX_QUEUED_FRAMES} frames queued");
    }

    fn commands(frames: &[Frame]) -> Vec<String> {
        frames.iter().map(|f| f.command().to_string()).collect()
    }

    fn cmds(list: &[&str]) -> Vec<String> {
        list.iter().map(ToString::to_string).collect()
    }

    fn timeline(info: &RemoteInfo) -> Vec<(Direction, String, Duration)> {
        info.timeline
            .iter()
            .map(|e| (e.direction, e.command.to_string(), e.at))
            .collect()
    }

    fn violation(v: Violation) -> Result<(), HandshakeError> {
        Err(HandshakeError::Violation(v))
    }

    const ROLES: [Role; 2] = [Role::Outbound, Role::Inbound];

    /// Starts a handshake and feeds it the peer's `version`.
    fn after_version(role: Role, peer: u32, t0: Instant) -> Handshake {
        let mut hs = start(role, &NonceSet::new(), t0);
        hs.handle_frame(&peer_version(peer, PEER_NONCE), t0 + MS)
            .unwrap();
        hs
    }

    #[test]
    fn outbound_sends_version_immediately() {
        let t0 = Instant::now();
        let nonces = NonceSet::new();
        let mut hs = start(Role::Outbound, &nonces, t0);
        assert_eq!(hs.role(), Role::Outbound);
        assert_eq!(hs.nonce(), OUR_NONCE);
        assert!(nonces.contains(OUR_NONCE));
        let sent = drain(&mut hs);
        assert_eq!(commands(&sent), cmds(&["version"]));
        let v: Version<'_> = sent[0].decode_as().unwrap();
        let ours = ServiceFlags::NETWORK | ServiceFlags::WITNESS;
        let expected = Version::new(
            btcwire::limits::PROTOCOL_VERSION,
            ours,
            UNIX,
            NetAddr::from_socket_addr(ServiceFlags::NONE, remote()),
            NetAddr::new(ours, [0; 16], 0),
            OUR_NONCE,
            b"/test:1.0/",
            123,
            Some(true),
        );
        assert_eq!(v, expected);
        assert_eq!(v.addr_from.to_socket_addr(), "[::]:0".parse().unwrap());
        assert_eq!(sent[0].header.magic, MAGIC);
        assert_eq!(hs.poll_timeout(), Some(t0 + HANDSHAKE_TIMEOUT));
        assert!(hs.finished().is_none());
    }

    #[test]
    fn inbound_waits_for_version_then_answers() {
        let t0 = Instant::now();
        let nonces = NonceSet::new();
        let mut hs = start(Role::Inbound, &nonces, t0);
        assert_eq!(hs.role(), Role::Inbound);
        assert!(hs.poll_transmit().is_none());
        assert!(
            !nonces.contains(OUR_NONCE),
            "only outbound nonces detect self-connections"
        );
        let at = t0 + Duration::from_millis(7_900);
        hs.handle_frame(&peer_version(70_016, PEER_NONCE), at)
            .unwrap();
        let sent = drain(&mut hs);
        assert_eq!(
            commands(&sent),
            cmds(&["version", "wtxidrelay", "sendaddrv2", "verack"])
        );
        let v: Version<'_> = sent[0].decode_as().unwrap();
        // Stamped with our clock when sent: 7 whole seconds after `new`.
        assert_eq!(v.timestamp, UNIX + 7);
        assert_eq!(v.nonce, OUR_NONCE);
        assert_eq!(
            v.addr_recv,
            NetAddr::from_socket_addr(ServiceFlags::NONE, remote())
        );
        assert_eq!(v.relay, Some(true));
        assert_eq!(hs.poll_timeout(), Some(t0 + HANDSHAKE_TIMEOUT));
    }

    #[test]
    fn outbound_answers_version_with_negotiation_then_verack() {
        let t0 = Instant::now();
        let mut hs = start(Role::Outbound, &NonceSet::new(), t0);
        drain(&mut hs);
        hs.handle_frame(&peer_version(70_016, PEER_NONCE), t0 + MS)
            .unwrap();
        assert_eq!(
            commands(&drain(&mut hs)),
            cmds(&["wtxidrelay", "sendaddrv2", "verack"])
        );
        assert!(hs.finished().is_none());
        hs.handle_frame(&frame(&Verack), t0 + 2 * MS).unwrap();
        assert!(hs.finished().is_some());
        assert!(hs.poll_transmit().is_none());
    }

    #[test]
    fn user_agent_is_truncated_to_256_bytes() {
        let t0 = Instant::now();
        let mut c = config();
        c.user_agent = "a".repeat(300);
        let mut hs = Handshake::new(&c, Role::Outbound, remote(), 1, NonceSet::new(), t0, UNIX);
        let sent = drain(&mut hs);
        let v: Version<'_> = sent[0].decode_as().unwrap();
        assert_eq!(v.user_agent, "a".repeat(256).as_bytes());
        // A multi-byte character across the limit is dropped whole.
        c.user_agent = format!("{}é", "a".repeat(255));
        let mut hs = Handshake::new(&c, Role::Outbound, remote(), 1, NonceSet::new(), t0, UNIX);
        let sent = drain(&mut hs);
        let v: Version<'_> = sent[0].decode_as().unwrap();
        assert_eq!(v.user_agent, "a".repeat(255).as_bytes());
        assert_eq!(truncate_user_agent("/ok/"), "/ok/");
    }

    #[test]
    fn version_below_minimum_is_refused() {
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = start(role, &NonceSet::new(), t0);
            drain(&mut hs);
            let old = MIN_PEER_PROTO_VERSION - 1;
            assert_eq!(
                hs.handle_frame(&peer_version(old, PEER_NONCE), t0),
                violation(Violation::VersionTooOld {
                    version: old,
                    min: MIN_PEER_PROTO_VERSION
                }),
                "{role:?}"
            );
            assert!(hs.poll_transmit().is_none(), "{role:?}: nothing answered");
            // Exactly the minimum is fine.
            let mut hs = start(role, &NonceSet::new(), t0);
            let ok = hs.handle_frame(&peer_version(MIN_PEER_PROTO_VERSION, PEER_NONCE), t0);
            assert_eq!(ok, Ok(()), "{role:?}");
        }
    }

    #[test]
    fn custom_minimum_version() {
        let t0 = Instant::now();
        let mut c = config();
        c.min_protocol_version = 70_016;
        let mut hs = Handshake::new(&c, Role::Inbound, remote(), 1, NonceSet::new(), t0, UNIX);
        assert_eq!(
            hs.handle_frame(&peer_version(70_015, PEER_NONCE), t0),
            violation(Violation::VersionTooOld {
                version: 70_015,
                min: 70_016
            })
        );
    }

    #[test]
    fn inbound_version_with_our_nonce_is_a_self_connection() {
        let t0 = Instant::now();
        let nonces = NonceSet::new();
        nonces.insert(PEER_NONCE);
        let mut hs = start(Role::Inbound, &nonces, t0);
        assert_eq!(
            hs.handle_frame(&peer_version(70_016, PEER_NONCE), t0),
            violation(Violation::SelfConnection { nonce: PEER_NONCE })
        );
        assert!(hs.poll_transmit().is_none(), "we do not answer ourselves");
        // Core checks inbound connections only: an outbound one accepts the nonce.
        let mut hs = start(Role::Outbound, &nonces, t0);
        assert_eq!(
            hs.handle_frame(&peer_version(70_016, PEER_NONCE), t0),
            Ok(())
        );
    }

    #[test]
    fn too_old_is_checked_before_self_connection() {
        let t0 = Instant::now();
        let nonces = NonceSet::new();
        nonces.insert(PEER_NONCE);
        let mut hs = start(Role::Inbound, &nonces, t0);
        assert!(matches!(
            hs.handle_frame(&peer_version(300, PEER_NONCE), t0),
            Err(HandshakeError::Violation(Violation::VersionTooOld { .. }))
        ));
    }

    #[test]
    fn second_version_is_refused() {
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = after_version(role, 70_016, t0);
            drain(&mut hs);
            assert_eq!(
                hs.handle_frame(&peer_version(70_016, PEER_NONCE), t0 + 2 * MS),
                violation(Violation::DuplicateVersion),
                "{role:?}"
            );
        }
    }

    #[test]
    fn malformed_version_is_refused() {
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = start(role, &NonceSet::new(), t0);
            drain(&mut hs);
            let full = peer_version(70_016, PEER_NONCE);
            let cut = raw("version", &full.payload[..50]);
            let Err(HandshakeError::Violation(Violation::Malformed { command, source })) =
                hs.handle_frame(&cut, t0)
            else {
                panic!("{role:?}: truncated version accepted");
            };
            assert_eq!(command, Command::new("version"));
            assert_eq!(source.kind, DecodeErrorKind::Truncated);
            assert_eq!(source.field, Some("addr_from"));
        }
    }

    #[test]
    fn any_malformed_message_is_refused() {
        for role in ROLES {
            // Before the peer's version and between version and verack.
            for with_version in [false, true] {
                let t0 = Instant::now();
                let mut hs = if with_version {
                    after_version(role, 70_016, t0)
                } else {
                    start(role, &NonceSet::new(), t0)
                };
                let bad_ping = raw("ping", &[1, 2, 3]);
                let Err(HandshakeError::Violation(Violation::Malformed { command, .. })) =
                    hs.handle_frame(&bad_ping, t0 + MS)
                else {
                    panic!("{role:?}: short ping accepted");
                };
                assert_eq!(command, Command::new("ping"));
            }
            // An empty message with a payload.
            let t0 = Instant::now();
            let mut hs = after_version(role, 70_016, t0);
            assert!(matches!(
                hs.handle_frame(&raw("verack", &[0]), t0),
                Err(HandshakeError::Violation(Violation::Malformed { source, .. }))
                    if source.kind == DecodeErrorKind::TrailingBytes(1)
            ));
        }
    }

    #[test]
    fn frame_for_another_network_is_refused() {
        let t0 = Instant::now();
        let mut hs = start(Role::Inbound, &NonceSet::new(), t0);
        let mainnet = Frame::from_message(Magic::MAINNET, &Verack).unwrap();
        assert_eq!(
            hs.handle_frame(&mainnet, t0),
            violation(Violation::Frame(FrameError::WrongMagic {
                expected: MAGIC,
                actual: Magic::MAINNET
            }))
        );
    }

    #[test]
    fn verack_before_version_is_refused() {
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = start(role, &NonceSet::new(), t0);
            drain(&mut hs);
            assert_eq!(
                hs.handle_frame(&frame(&Verack), t0),
                violation(Violation::VerackBeforeVersion),
                "{role:?}"
            );
        }
    }

    #[test]
    fn second_verack_goes_to_the_peer() {
        // Our verack is queued with our answer to the peer's version, so the first verack
        // after it finishes the handshake: a second one can never arrive before we report
        // finished (`DuplicateVerack` is the established peer's business).
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = after_version(role, 70_016, t0);
            drain(&mut hs);
            hs.handle_frame(&frame(&Verack), t0 + 2 * MS).unwrap();
            let info = hs.finished().cloned().unwrap();
            assert_eq!(hs.handle_frame(&frame(&Verack), t0 + 3 * MS), Ok(()));
            assert_eq!(hs.finished(), Some(&info), "{role:?}");
        }
    }

    #[test]
    fn frames_after_finishing_change_nothing() {
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = after_version(role, 70_015, t0);
            drain(&mut hs);
            hs.handle_frame(&frame(&Verack), t0 + 2 * MS).unwrap();
            let info = hs.finished().cloned().unwrap();
            let later = [
                peer_version(70_016, 9),
                peer_version(1, 9),
                frame(&Verack),
                frame(&WtxidRelay),
                frame(&SendAddrV2),
                frame(&SendHeaders),
                raw("ping", &[1]),
                Frame::from_message(Magic::MAINNET, &Verack).unwrap(),
            ];
            for (i, f) in later.iter().enumerate() {
                let at = t0 + Duration::from_secs(i as u64 + 1);
                assert_eq!(hs.handle_frame(f, at), Ok(()), "{role:?} {i}");
            }
            assert_eq!(hs.finished(), Some(&info));
            assert!(hs.poll_transmit().is_none());
            assert_eq!(hs.poll_timeout(), None);
            assert_eq!(hs.handle_timeout(t0 + Duration::from_secs(3_600)), Ok(()));
            assert_eq!(hs.into_info(), Some(info));
        }
    }

    #[test]
    fn ignored_messages_are_recorded() {
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = start(role, &NonceSet::new(), t0);
            drain(&mut hs);
            // Before version: ignored, including the negotiation messages.
            for f in [
                raw("bogus", b"xyz"),
                frame(&Ping { nonce: 1 }),
                frame(&WtxidRelay),
            ] {
                hs.handle_frame(&f, t0 + MS).unwrap();
            }
            hs.handle_frame(&peer_version(70_016, PEER_NONCE), t0 + 2 * MS)
                .unwrap();
            drain(&mut hs);
            // Between version and verack: ignored or tolerated.
            for f in [
                raw("futurecmd", &[0; 40]),
                frame(&GetAddr),
                frame(&SendCmpct::new(false, 2)),
                frame(&SendHeaders),
            ] {
                hs.handle_frame(&f, t0 + 3 * MS).unwrap();
            }
            hs.handle_frame(&frame(&Verack), t0 + 4 * MS).unwrap();
            let info = hs.finished().unwrap();
            assert!(info.sendheaders);
            // The pre-version wtxidrelay does not count (Core: version first).
            assert!(!info.wtxidrelay && !info.sendaddrv2);
            let received: Vec<String> = info
                .timeline
                .iter()
                .filter(|e| e.direction == Direction::Received)
                .map(|e| e.command.to_string())
                .collect();
            assert_eq!(
                received,
                cmds(&[
                    "bogus",
                    "ping",
                    "wtxidrelay",
                    "version",
                    "futurecmd",
                    "getaddr",
                    "sendcmpct",
                    "sendheaders",
                    "verack"
                ]),
                "{role:?}"
            );
        }
    }

    #[test]
    fn feature_negotiation_is_recorded() {
        // (peer sends wtxidrelay, peer sends sendaddrv2)
        for role in ROLES {
            for (w, s) in [(false, false), (true, false), (false, true), (true, true)] {
                let t0 = Instant::now();
                let mut hs = after_version(role, 70_016, t0);
                if w {
                    hs.handle_frame(&frame(&WtxidRelay), t0).unwrap();
                }
                if s {
                    hs.handle_frame(&frame(&SendAddrV2), t0).unwrap();
                }
                hs.handle_frame(&frame(&Verack), t0).unwrap();
                let info = hs.finished().unwrap();
                assert_eq!((info.wtxidrelay, info.sendaddrv2), (w, s), "{role:?}");
                assert_eq!(info.negotiated_version, 70_016);
                assert!(!info.sendheaders);
            }
        }
    }

    #[test]
    fn peer_at_70015_gets_no_negotiation() {
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = start(role, &NonceSet::new(), t0);
            drain(&mut hs);
            hs.handle_frame(&peer_version(70_015, PEER_NONCE), t0)
                .unwrap();
            let expected: &[&str] = match role {
                Role::Outbound => &["verack"],
                Role::Inbound => &["version", "verack"],
            };
            assert_eq!(commands(&drain(&mut hs)), cmds(expected), "{role:?}");
            // Even if it sends them anyway, nothing is agreed.
            hs.handle_frame(&frame(&WtxidRelay), t0).unwrap();
            hs.handle_frame(&frame(&SendAddrV2), t0).unwrap();
            hs.handle_frame(&frame(&Verack), t0).unwrap();
            let info = hs.finished().unwrap();
            assert_eq!(info.version, 70_015);
            assert_eq!(info.negotiated_version, 70_015);
            assert!(!info.wtxidrelay && !info.sendaddrv2, "{role:?}");
        }
    }

    #[test]
    fn we_at_70015_send_no_negotiation() {
        let t0 = Instant::now();
        let mut c = config();
        c.protocol_version = 70_015;
        let mut hs = Handshake::new(&c, Role::Inbound, remote(), 1, NonceSet::new(), t0, UNIX);
        hs.handle_frame(&peer_version(70_016, PEER_NONCE), t0)
            .unwrap();
        let sent = drain(&mut hs);
        assert_eq!(commands(&sent), cmds(&["version", "verack"]));
        assert_eq!(sent[0].decode_as::<Version<'_>>().unwrap().version, 70_015);
        hs.handle_frame(&frame(&WtxidRelay), t0).unwrap();
        hs.handle_frame(&frame(&Verack), t0).unwrap();
        let info = hs.finished().unwrap();
        assert_eq!((info.version, info.negotiated_version), (70_016, 70_015));
        assert!(!info.wtxidrelay);
    }

    #[test]
    fn timeout_waiting_for_version() {
        for role in ROLES {
            let t0 = Instant::now();
            let nonces = NonceSet::new();
            let mut hs = start(role, &nonces, t0);
            let deadline = t0 + HANDSHAKE_TIMEOUT;
            assert_eq!(hs.poll_timeout(), Some(deadline));
            assert_eq!(hs.handle_timeout(t0), Ok(()));
            assert_eq!(
                hs.handle_timeout(deadline - Duration::from_nanos(1)),
                Ok(())
            );
            assert_eq!(
                hs.poll_timeout(),
                Some(deadline),
                "a no-op before the deadline"
            );
            assert_eq!(
                hs.handle_timeout(deadline),
                Err(HandshakeError::Timeout(Step::Version)),
                "{role:?}: exactly at the deadline"
            );
            assert_eq!(hs.poll_timeout(), None);
            assert!(
                hs.poll_transmit().is_none(),
                "nothing is sent after failing"
            );
            assert!(!nonces.contains(OUR_NONCE));
        }
    }

    #[test]
    fn timeout_waiting_for_verack() {
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = after_version(role, 70_016, t0);
            let deadline = t0 + HANDSHAKE_TIMEOUT;
            assert_eq!(hs.poll_timeout(), Some(deadline));
            assert_eq!(
                hs.handle_timeout(deadline - Duration::from_nanos(1)),
                Ok(())
            );
            assert_eq!(
                hs.handle_timeout(deadline),
                Err(HandshakeError::Timeout(Step::Verack)),
                "{role:?}"
            );
        }
    }

    #[test]
    fn timeout_comes_from_the_config() {
        let t0 = Instant::now();
        let mut c = config();
        c.handshake_timeout = Duration::from_secs(3);
        let mut hs = Handshake::new(&c, Role::Outbound, remote(), 1, NonceSet::new(), t0, UNIX);
        assert_eq!(hs.poll_timeout(), Some(t0 + Duration::from_secs(3)));
        assert_eq!(
            hs.handle_timeout(t0 + Duration::from_secs(3)),
            Err(HandshakeError::Timeout(Step::Version))
        );
        // An absurd timeout does not overflow.
        c.handshake_timeout = Duration::MAX;
        let hs = Handshake::new(&c, Role::Outbound, remote(), 1, NonceSet::new(), t0, UNIX);
        assert!(hs.poll_timeout().unwrap() > t0 + Duration::from_secs(86_400 * 365));
    }

    #[test]
    fn no_timeout_once_finished() {
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = after_version(role, 70_016, t0);
            hs.handle_frame(&frame(&Verack), t0 + HANDSHAKE_TIMEOUT - MS)
                .unwrap();
            assert_eq!(hs.poll_timeout(), None);
            assert_eq!(hs.handle_timeout(t0 + 2 * HANDSHAKE_TIMEOUT), Ok(()));
            assert!(hs.finished().is_some());
        }
    }

    #[test]
    fn failure_is_final() {
        let t0 = Instant::now();
        let nonces = NonceSet::new();
        let mut hs = start(Role::Outbound, &nonces, t0);
        let error = hs.handle_frame(&frame(&Verack), t0).unwrap_err();
        assert!(
            hs.poll_transmit().is_none(),
            "our queued version is dropped"
        );
        assert_eq!(hs.poll_timeout(), None);
        assert!(!nonces.contains(OUR_NONCE));
        assert_eq!(
            hs.handle_frame(&peer_version(70_016, 1), t0),
            Err(error.clone())
        );
        assert_eq!(hs.handle_timeout(t0 + HANDSHAKE_TIMEOUT), Err(error));
        assert!(hs.finished().is_none());
        assert!(hs.into_info().is_none());
    }

    #[test]
    fn remote_info_describes_the_peer() {
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = start(role, &NonceSet::new(), t0);
            let v = Version::new(
                70_016,
                ServiceFlags::NETWORK_LIMITED | ServiceFlags::WITNESS,
                UNIX - 100,
                NetAddr::from_socket_addr(ServiceFlags::NONE, "198.51.100.1:1234".parse().unwrap()),
                NetAddr::from_socket_addr(
                    ServiceFlags::WITNESS,
                    "198.51.100.2:8333".parse().unwrap(),
                ),
                PEER_NONCE,
                b"/bad\xffutf8/",
                -5,
                Some(false),
            );
            // The version arrives 30.5 s in: our clock reads UNIX + 30.
            hs.handle_frame(&frame(&v), t0 + Duration::from_millis(30_500))
                .unwrap();
            hs.handle_frame(&frame(&Verack), t0 + Duration::from_secs(31))
                .unwrap();
            let info = hs.finished().unwrap();
            assert_eq!(info.role, role);
            assert_eq!(info.version, 70_016);
            assert_eq!(info.services, v.services);
            assert_eq!(info.user_agent, "/bad\u{fffd}utf8/");
            assert_eq!(info.start_height, -5);
            assert!(!info.relay);
            assert_eq!(info.nonce, PEER_NONCE);
            assert_eq!(info.time_offset, -130);
            assert_eq!(info.addr_recv, v.addr_recv);
            assert_eq!(info.addr_from, v.addr_from);
            assert_eq!(info.duration, Duration::from_secs(31));
        }
    }

    #[test]
    fn relay_absent_means_relay() {
        let t0 = Instant::now();
        let mut hs = after_version(Role::Inbound, 70_016, t0);
        hs.handle_frame(&frame(&Verack), t0).unwrap();
        let info = hs.finished().unwrap();
        assert!(info.relay);
        // peer_version: timestamp UNIX + 5, received 1 ms in.
        assert_eq!(info.time_offset, 5);
        assert_eq!(info.user_agent, "/peer:2.0/");
    }

    #[test]
    fn negative_peer_time_counts_as_zero() {
        let t0 = Instant::now();
        let mut hs = start(Role::Inbound, &NonceSet::new(), t0);
        let v = Version::new(
            70_016,
            ServiceFlags::NONE,
            i64::MIN,
            NetAddr::from_socket_addr(ServiceFlags::NONE, remote()),
            NetAddr::new(ServiceFlags::NONE, [0; 16], 0),
            1,
            b"",
            0,
            None,
        );
        hs.handle_frame(&frame(&v), t0).unwrap();
        hs.handle_frame(&frame(&Verack), t0).unwrap();
        assert_eq!(hs.finished().unwrap().time_offset, -UNIX);
    }

    #[test]
    fn timeline_is_bounded_and_keeps_the_steps() {
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = start(role, &NonceSet::new(), t0);
            for _ in 0..500 {
                hs.handle_frame(&raw("junk", &[]), t0).unwrap();
            }
            hs.handle_frame(&peer_version(70_016, PEER_NONCE), t0)
                .unwrap();
            for _ in 0..500 {
                hs.handle_frame(&frame(&Ping { nonce: 7 }), t0).unwrap();
            }
            hs.handle_frame(&frame(&Verack), t0).unwrap();
            let info = hs.finished().unwrap();
            assert!(info.timeline.len() <= MAX_TIMELINE_ENTRIES);
            let steps: Vec<(Direction, String)> = info
                .timeline
                .iter()
                .filter(|e| !matches!(e.command.as_str(), "junk" | "ping"))
                .map(|e| (e.direction, e.command.to_string()))
                .collect();
            let mut expected = vec![(Direction::Received, "version".to_string())];
            let ours = ["version", "wtxidrelay", "sendaddrv2", "verack"];
            let ours = if role == Role::Outbound {
                &ours[1..]
            } else {
                &ours[..]
            };
            expected.extend(ours.iter().map(|c| (Direction::Sent, c.to_string())));
            if role == Role::Outbound {
                expected.insert(0, (Direction::Sent, "version".to_string()));
            }
            expected.push((Direction::Received, "verack".to_string()));
            assert_eq!(steps, expected, "{role:?}");
        }
    }

    #[test]
    fn nonce_is_forgotten_when_the_handshake_ends() {
        let t0 = Instant::now();
        let nonces = NonceSet::new();
        // Finished.
        let mut hs = start(Role::Outbound, &nonces, t0);
        hs.handle_frame(&peer_version(70_016, PEER_NONCE), t0)
            .unwrap();
        assert!(nonces.contains(OUR_NONCE));
        hs.handle_frame(&frame(&Verack), t0).unwrap();
        assert!(!nonces.contains(OUR_NONCE));
        // Abandoned (the connection closed).
        let hs = start(Role::Outbound, &nonces, t0);
        assert!(nonces.contains(OUR_NONCE));
        drop(hs);
        assert!(!nonces.contains(OUR_NONCE));
        // An inbound handshake never touches the set.
        nonces.insert(OUR_NONCE);
        drop(start(Role::Inbound, &nonces, t0));
        assert!(nonces.contains(OUR_NONCE));
    }

    /// Delivers everything `from` wants to send to `to` at `now`.
    fn deliver(
        from: &mut Handshake,
        to: &mut Handshake,
        now: Instant,
    ) -> Result<usize, HandshakeError> {
        let frames = drain(from);
        for f in &frames {
            to.handle_frame(f, now)?;
        }
        Ok(frames.len())
    }

    /// Runs two handshakes against each other, 10 ms per hop, until neither has anything
    /// to send.
    fn wire(out: &mut Handshake, inb: &mut Handshake, t0: Instant) -> Result<(), HandshakeError> {
        let mut now = t0;
        for _ in 0..8 {
            now += 10 * MS;
            let a = deliver(out, inb, now)?;
            now += 10 * MS;
            let b = deliver(inb, out, now)?;
            if a + b == 0 {
                return Ok(());
            }
        }
        panic!("the handshakes did not settle");
    }

    #[test]
    fn back_to_back_handshakes_complete_and_mirror() {
        use Direction::{Received as R, Sent as S};
        let t0 = Instant::now();
        let (ours, theirs) = (NonceSet::new(), NonceSet::new());
        let c = config();
        let mut out = Handshake::new(&c, Role::Outbound, remote(), 11, ours.clone(), t0, UNIX);
        let local: SocketAddr = "198.51.100.20:41000".parse().unwrap();
        let mut inb = Handshake::new(&c, Role::Inbound, local, 22, theirs, t0, UNIX + 2);
        wire(&mut out, &mut inb, t0).unwrap();
        let (o, i) = (out.finished().unwrap(), inb.finished().unwrap());
        let ms = |n: u64| Duration::from_millis(n);
        let cmd = |d, c: &str, at| (d, c.to_string(), at);
        assert_eq!(
            timeline(o),
            vec![
                cmd(S, "version", ms(0)),
                cmd(R, "version", ms(20)),
                cmd(S, "wtxidrelay", ms(20)),
                cmd(S, "sendaddrv2", ms(20)),
                cmd(S, "verack", ms(20)),
                cmd(R, "wtxidrelay", ms(20)),
                cmd(R, "sendaddrv2", ms(20)),
                cmd(R, "verack", ms(20)),
            ]
        );
        assert_eq!(
            timeline(i),
            vec![
                cmd(R, "version", ms(10)),
                cmd(S, "version", ms(10)),
                cmd(S, "wtxidrelay", ms(10)),
                cmd(S, "sendaddrv2", ms(10)),
                cmd(S, "verack", ms(10)),
                cmd(R, "wtxidrelay", ms(30)),
                cmd(R, "sendaddrv2", ms(30)),
                cmd(R, "verack", ms(30)),
            ]
        );
        // What one sent, the other received, in the same order.
        let only = |info: &RemoteInfo, d: Direction| -> Vec<Command> {
            let entries = info.timeline.iter().filter(|e| e.direction == d);
            entries.map(|e| e.command).collect()
        };
        assert_eq!(only(o, S), only(i, R));
        assert_eq!(only(o, R), only(i, S));
        assert_eq!((o.duration, i.duration), (ms(20), ms(30)));
        // Each learned the other.
        assert_eq!((o.role, i.role), (Role::Outbound, Role::Inbound));
        assert_eq!((o.nonce, i.nonce), (22, 11));
        assert!(o.wtxidrelay && o.sendaddrv2 && i.wtxidrelay && i.sendaddrv2);
        assert_eq!(
            (o.negotiated_version, i.negotiated_version),
            (70_016, 70_016)
        );
        assert_eq!((o.user_agent.as_str(), o.start_height), ("/test:1.0/", 123));
        assert_eq!(o.time_offset, 2);
        assert_eq!(i.time_offset, -2);
        assert_eq!(o.addr_recv.to_socket_addr(), local);
        assert_eq!(i.addr_recv.to_socket_addr(), remote());
        assert!(!ours.contains(11), "the nonce is released on completion");
    }

    #[test]
    fn back_to_back_with_an_old_peer() {
        let t0 = Instant::now();
        let mut old = config();
        old.protocol_version = 70_015;
        for old_role in ROLES {
            let (co, ci) = match old_role {
                Role::Outbound => (old.clone(), config()),
                Role::Inbound => (config(), old.clone()),
            };
            let mut out =
                Handshake::new(&co, Role::Outbound, remote(), 1, NonceSet::new(), t0, UNIX);
            let mut inb =
                Handshake::new(&ci, Role::Inbound, remote(), 2, NonceSet::new(), t0, UNIX);
            wire(&mut out, &mut inb, t0).unwrap();
            for info in [out.finished().unwrap(), inb.finished().unwrap()] {
                assert_eq!(info.negotiated_version, 70_015);
                assert!(!info.wtxidrelay && !info.sendaddrv2);
                let commands: Vec<&str> =
                    info.timeline.iter().map(|e| e.command.as_str()).collect();
                assert!(!commands.contains(&"wtxidrelay") && !commands.contains(&"sendaddrv2"));
                assert_eq!(commands.len(), 4, "version and verack each way");
            }
        }
    }

    #[test]
    fn back_to_back_self_connection_is_refused_by_the_inbound_side() {
        let t0 = Instant::now();
        let nonces = NonceSet::new();
        let c = config();
        let mut out = Handshake::new(&c, Role::Outbound, remote(), 77, nonces.clone(), t0, UNIX);
        let mut inb = Handshake::new(&c, Role::Inbound, remote(), 78, nonces.clone(), t0, UNIX);
        assert_eq!(
            wire(&mut out, &mut inb, t0),
            violation(Violation::SelfConnection { nonce: 77 })
        );
        assert!(inb.poll_transmit().is_none());
        assert!(out.finished().is_none());
        assert_eq!(
            out.handle_timeout(t0 + HANDSHAKE_TIMEOUT),
            Err(HandshakeError::Timeout(Step::Version))
        );
        assert!(!nonces.contains(77));
    }

    /// The `version` hexdump of the Bitcoin developer reference (protocol version 70002,
    /// `/Satoshi:0.9.3/`).
    const DEVREF_VERSION: &str = concat!(
        "72110100",
        "0100000000000000",
        "bc8f5e5400000000",
        "0100000000000000",
        "00000000000000000000ffffc61b6409",
        "208d",
        "0100000000000000",
        "00000000000000000000ffffcb0071c0",
        "208d",
        "128035cbc97953f8",
        "0f",
        "2f5361746f7368693a302e392e332f",
        "cf050500",
        "01",
    );

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn developer_reference_version_from_a_fake_peer() {
        let devref = raw("version", &hex(DEVREF_VERSION));
        for role in ROLES {
            let t0 = Instant::now();
            let mut hs = start(role, &NonceSet::new(), t0);
            drain(&mut hs);
            hs.handle_frame(&devref, t0 + Duration::from_secs(2))
                .unwrap();
            // 70002 < 70016: no wtxidrelay, no sendaddrv2.
            let expected: &[&str] = match role {
                Role::Outbound => &["verack"],
                Role::Inbound => &["version", "verack"],
            };
            assert_eq!(commands(&drain(&mut hs)), cmds(expected), "{role:?}");
            hs.handle_frame(&frame(&Verack), t0 + Duration::from_secs(3))
                .unwrap();
            let info = hs.finished().unwrap();
            assert_eq!(info.version, 70_002);
            assert_eq!(info.negotiated_version, 70_002);
            assert_eq!(info.services, ServiceFlags::NETWORK);
            assert_eq!(info.user_agent, "/Satoshi:0.9.3/");
            assert_eq!(info.start_height, 329_167);
            assert!(info.relay);
            assert_eq!(info.nonce, 0xf853_79c9_cb35_8012);
            assert_eq!(info.time_offset, 1_415_483_324 - (UNIX + 2));
            assert_eq!(info.addr_recv.to_string(), "198.27.100.9:8333");
            assert_eq!(info.addr_from.to_string(), "203.0.113.192:8333");
            assert!(!info.wtxidrelay && !info.sendaddrv2 && !info.sendheaders);
            assert_eq!(info.duration, Duration::from_secs(3));
        }
    }

    /// One step of the property test: a frame from a small alphabet, or a clock step.
    #[derive(Debug, Clone)]
    enum Op {
        Frame(u8),
        Wait(u64),
        Timeout,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..12).prop_map(Op::Frame),
            1 => (0u64..30_000).prop_map(Op::Wait),
            1 => Just(Op::Timeout),
        ]
    }

    fn alphabet(i: u8) -> Frame {
        match i {
            0 => peer_version(70_016, PEER_NONCE),
            1 => peer_version(70_015, PEER_NONCE),
            2 => peer_version(100, PEER_NONCE),
            3 => peer_version(70_016, OUR_NONCE),
            4 => frame(&Verack),
            5 => frame(&WtxidRelay),
            6 => frame(&SendAddrV2),
            7 => frame(&SendHeaders),
            8 => raw("version", &[1, 2, 3]),
            9 => raw("whatever", &[9; 9]),
            10 => Frame::from_message(Magic::MAINNET, &Verack).unwrap(),
            _ => frame(&Ping { nonce: 3 }),
        }
    }

    proptest! {
        #[test]
        fn any_sequence_keeps_the_invariants(
            inbound in any::<bool>(),
            ops in proptest::collection::vec(op(), 0..40),
        ) {
            let role = if inbound { Role::Inbound } else { Role::Outbound };
            let t0 = Instant::now();
            let nonces = NonceSet::new();
            let mut hs = start(role, &nonces, t0);
            let mut now = t0;
            let mut sent = 0;
            let mut done: Option<RemoteInfo> = None;
            let mut failed: Option<HandshakeError> = None;
            for op in ops {
                let result = match op {
                    Op::Frame(i) => hs.handle_frame(&alphabet(i), now),
                    Op::Wait(ms) => {
                        now += Duration::from_millis(ms);
                        continue;
                    }
                    Op::Timeout => hs.handle_timeout(now),
                };
                sent += drain(&mut hs).len();
                if let Some(e) = &failed {
                    prop_assert_eq!(&result, &Err(e.clone()));
                }
                if let Err(e) = result {
                    failed = Some(e);
                }
                if let Some(info) = &done {
                    prop_assert_eq!(hs.finished(), Some(info));
                }
                done = hs.finished().cloned();
                prop_assert!(sent <= MAX_QUEUED_FRAMES);
                let ended = hs.finished().is_some() || failed.is_some();
                prop_assert_eq!(hs.poll_timeout().is_none(), ended);
                prop_assert_eq!(nonces.contains(OUR_NONCE), role == Role::Outbound && !ended);
                if let Some(info) = hs.finished() {
                    prop_assert!(info.timeline.len() <= MAX_TIMELINE_ENTRIES);
                    prop_assert_eq!(info.negotiated_version, info.version.min(70_016));
                }
            }
        }
    }
}
