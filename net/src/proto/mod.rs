//! The sans-IO protocol core: no sockets, no clock, no tasks. Inputs are `handle_*`
//! methods, outputs `poll_*` methods, and the caller passes the time in.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use btcwire::Command;
use btcwire::types::{NetAddr, ServiceFlags};

pub mod handshake;
pub mod inventory;
pub mod peer;

/// Which side opened the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// We connected: we send `version` first.
    Outbound,
    /// The peer connected: we answer its `version`.
    Inbound,
}

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// We sent it.
    Sent,
    /// We received it.
    Received,
}

impl Direction {
    /// Returns `"sent"` or `"received"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Received => "received",
        }
    }
}

/// One message of the handshake, in order, with its time since the handshake started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineEntry {
    /// Sent or received.
    pub direction: Direction,
    /// The message's command.
    pub command: Command,
    /// Time since the handshake started.
    pub at: Duration,
}

/// What a completed handshake learned about the peer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemoteInfo {
    /// Who opened the connection.
    pub role: Role,
    /// The peer's protocol version.
    pub version: u32,
    /// The peer's services.
    pub services: ServiceFlags,
    /// The peer's user agent (lossily decoded as UTF-8).
    pub user_agent: String,
    /// The peer's best height.
    pub start_height: i32,
    /// Whether the peer wants transactions relayed (BIP 37; absent means yes).
    pub relay: bool,
    /// The nonce of the peer's `version`.
    pub nonce: u64,
    /// The version both sides speak: `min(ours, theirs)`.
    pub negotiated_version: u32,
    /// Both sides sent `wtxidrelay` (BIP 339).
    pub wtxidrelay: bool,
    /// Both sides sent `sendaddrv2` (BIP 155).
    pub sendaddrv2: bool,
    /// The peer asked for `headers` announcements before `verack` (BIP 130).
    pub sendheaders: bool,
    /// The peer's clock minus ours, in seconds, from its `version` timestamp.
    pub time_offset: i64,
    /// How the peer sees us (`addr_recv` of its `version`).
    pub addr_recv: NetAddr,
    /// How the peer describes itself (`addr_from` of its `version`).
    pub addr_from: NetAddr,
    /// Every message sent and received until the handshake completed, in order: the
    /// peer's negotiation fingerprint.
    pub timeline: Vec<TimelineEntry>,
    /// Time from the start of the handshake to its completion.
    pub duration: Duration,
}

/// Nonces of our recent outbound `version` messages, shared by a process's peers, to detect
/// connections to ourselves (Bitcoin Core checks `nLocalHostNonce` of every node).
#[derive(Debug, Clone, Default)]
pub struct NonceSet {
    inner: Arc<Mutex<VecDeque<u64>>>,
}

impl NonceSet {
    /// Most nonces remembered: a small most-recently-used set.
    pub const CAPACITY: usize = 256;

    /// Returns an empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Remembers `nonce`, forgetting the oldest beyond [`NonceSet::CAPACITY`].
    pub fn insert(&self, nonce: u64) {
        let mut set = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if set.len() == Self::CAPACITY {
            set.pop_front();
        }
        set.push_back(nonce);
    }

    /// Returns whether `nonce` is one of ours.
    #[must_use]
    pub fn contains(&self, nonce: u64) -> bool {
        let set = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.contains(&nonce)
    }

    /// Forgets `nonce` (its handshake is over).
    pub fn remove(&self, nonce: u64) {
        let mut set = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        set.retain(|&n| n != nonce);
    }
}

/// A small deterministic PRNG (SplitMix64) for nonces and timers: the sans-IO core takes a
/// seed, so tests are reproducible; drivers seed it from the OS.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Returns a generator seeded with `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Returns a generator seeded from the operating system.
    #[must_use]
    pub fn from_os() -> Self {
        let mut seed = [0u8; 8];
        // Without OS randomness, fall back to the clock: nonces need uniqueness, not secrecy.
        if getrandom::fill(&mut seed).is_err() {
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            seed = (t.as_nanos() as u64).to_le_bytes();
        }
        Self(u64::from_le_bytes(seed))
    }

    /// Returns the next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Returns an exponentially distributed delay with the given mean: the gap between
    /// events of a Poisson process (Bitcoin Core `GetExponentialRand`).
    pub fn exponential(&mut self, mean: Duration) -> Duration {
        // Uniform in (0, 1], from 53 random bits.
        let u = ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let secs = -u.ln() * mean.as_secs_f64();
        // Cap at 20 means so one unlucky draw cannot stall a queue for ages; saturate on
        // means too large for a `Duration`.
        Duration::try_from_secs_f64(secs.min(mean.as_secs_f64() * 20.0)).unwrap_or(Duration::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_set_is_bounded_and_forgets_oldest() {
        let set = NonceSet::new();
        for n in 0..(NonceSet::CAPACITY as u64 + 10) {
            set.insert(n);
        }
        assert!(!set.contains(0) && !set.contains(9));
        assert!(set.contains(10) && set.contains(NonceSet::CAPACITY as u64 + 9));
        set.remove(10);
        assert!(!set.contains(10));
    }

    #[test]
    fn exponential_has_the_right_mean() {
        let mut rng = Rng::new(7);
        let mean = Duration::from_secs(5);
        let n = 20_000u32;
        let total: Duration = (0..n).map(|_| rng.exponential(mean)).sum();
        let avg = total.as_secs_f64() / f64::from(n);
        assert!((4.8..5.2).contains(&avg), "mean {avg}");
        // A mean too large for a `Duration` saturates instead of panicking.
        assert!(rng.exponential(Duration::MAX) > Duration::from_secs(1));
    }
}
