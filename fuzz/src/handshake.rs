//! `handshake_ops`: the sans-IO handshake driven by an arbitrary sequence of frames and clock
//! steps, in either role.
//!
//! Input: one byte whose low bit picks the role (1: inbound, 0: outbound), then
//! [`HandshakeOp`]s in `arbitrary`'s format ([`encode_input`] writes it), up to 64 of them;
//! the operations end with the input.
//!
//! Invariants checked after every operation: no panic; once the handshake has failed, every
//! later call fails the same way; an unfinished handshake always has a deadline, and it is the
//! start plus the configured timeout; a finished one stays finished, has no deadline, and its
//! result names a version at least our minimum; at most a handful of frames is ever queued.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use btcwire::bytes::Bytes;
use btcwire::msg::{KNOWN_COMMANDS, Ping, SendAddrV2, SendHeaders, Verack, Version, WtxidRelay};
use btcwire::types::{NetAddr, ServiceFlags};
use btcwire::{Checksum, Command, Frame, MessageHeader, Network, Payload};
use btcwire_net::proto::handshake::Handshake;
use btcwire_net::{HandshakeError, NonceSet, PeerConfig, Role, Step, Violation};

use crate::Seed;

/// One step of a fuzzed handshake.
///
/// [`HandshakeOp::encode`] writes the bytes `arbitrary` reads it from; keep the two in step
/// (a test decodes every seed back).
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
pub enum HandshakeOp {
    /// A well-formed `version` from the peer.
    Version {
        /// Its protocol version.
        version: u32,
        /// Its nonce.
        nonce: u64,
        /// Its relay flag (`None`: absent).
        relay: Option<bool>,
    },
    /// `verack`.
    Verack,
    /// `wtxidrelay`.
    WtxidRelay,
    /// `sendaddrv2`.
    SendAddrV2,
    /// Any payload under a known command (picked by index) or an unknown one.
    Raw {
        /// Index into the known commands; out of range means an unknown command.
        command: u8,
        /// The payload, checksummed correctly.
        payload: Vec<u8>,
    },
    /// Time passes.
    Advance {
        /// Milliseconds, scaled by 100 so the 60 s timeout is reachable.
        centis: u16,
    },
    /// The driver's timer fires.
    Timeout,
}

/// The number of [`HandshakeOp`] variants.
const OP_VARIANTS: u64 = 7;

impl HandshakeOp {
    /// Appends the bytes that `arbitrary` (1.x) decodes as this operation: the variant as a
    /// little-endian `u32` (it picks `(u32 * variants) >> 32`), then the fields in order;
    /// integers little-endian, a `bool` as a byte, an `Option` as a `bool` then the value,
    /// a `Vec<u8>` as `1, byte` per element then `0`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let index: u64 = match self {
            Self::Version { .. } => 0,
            Self::Verack => 1,
            Self::WtxidRelay => 2,
            Self::SendAddrV2 => 3,
            Self::Raw { .. } => 4,
            Self::Advance { .. } => 5,
            Self::Timeout => 6,
        };
        // The smallest `u32` that lands on `index`.
        let selector = (index << 32).div_ceil(OP_VARIANTS);
        let selector = u32::try_from(selector).expect("a variant index");
        out.extend_from_slice(&selector.to_le_bytes());
        match self {
            Self::Version {
                version,
                nonce,
                relay,
            } => {
                out.extend_from_slice(&version.to_le_bytes());
                out.extend_from_slice(&nonce.to_le_bytes());
                match relay {
                    None => out.push(0),
                    Some(relay) => out.extend_from_slice(&[1, u8::from(*relay)]),
                }
            }
            Self::Raw { command, payload } => {
                out.push(*command);
                for &b in payload {
                    out.extend_from_slice(&[1, b]);
                }
                out.push(0);
            }
            Self::Advance { centis } => out.extend_from_slice(&centis.to_le_bytes()),
            Self::Verack | Self::WtxidRelay | Self::SendAddrV2 | Self::Timeout => {}
        }
    }
}

/// Returns the `handshake_ops` input that runs `ops` in `role`.
#[must_use]
pub fn encode_input(role: Role, ops: &[HandshakeOp]) -> Vec<u8> {
    let mut out = vec![u8::from(role == Role::Inbound)];
    for op in ops {
        op.encode(&mut out);
    }
    out
}

/// What [`check_handshake_ops`] saw, for tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeRun {
    /// The role the input picked.
    pub role: Role,
    /// Operations run.
    pub ops: usize,
    /// Operations after which the handshake was finished, so the finished-state invariants
    /// were checked.
    pub finished_checks: usize,
    /// At the end: the peer's `wtxidrelay` and `sendaddrv2`, if the handshake finished.
    pub finished: Option<(bool, bool)>,
    /// The error the handshake failed with, if it did.
    pub error: Option<HandshakeError>,
}

fn frame(command: Command, payload: Vec<u8>) -> Frame {
    let header = MessageHeader {
        magic: Network::Regtest.magic(),
        command,
        payload_len: u32::try_from(payload.len()).unwrap_or(u32::MAX),
        checksum: Checksum::of(&payload),
    };
    Frame {
        header,
        payload: Bytes::from(payload),
    }
}

fn message_frame<M: btcwire::frame::Framed>(msg: &M) -> Frame {
    Frame::from_message(Network::Regtest.magic(), msg).unwrap()
}

/// Runs one fuzzed handshake; returns what happened.
///
/// # Panics
/// When an invariant of the handshake breaks (that is the finding).
pub fn check_handshake_ops(data: &[u8]) -> HandshakeRun {
    let mut u = Unstructured::new(data);
    let role = if u.arbitrary::<bool>().unwrap_or(false) {
        Role::Inbound
    } else {
        Role::Outbound
    };
    let config = PeerConfig::new(Network::Regtest);
    let remote: SocketAddr = "127.0.0.1:18444".parse().expect("literal address");
    let t0 = Instant::now();
    let deadline = t0 + config.handshake_timeout;
    let mut hs = Handshake::new(&config, role, remote, 7, NonceSet::new(), t0, 1_700_000_000);
    let mut now = t0;
    let mut failed = None;
    let mut ran = 0;
    let mut finished_checks = 0;
    // `arbitrary` pads an exhausted input with zeros: stop there rather than run `version`s
    // of zeros.
    while !u.is_empty() {
        let Ok(op) = u.arbitrary::<HandshakeOp>() else {
            break;
        };
        if ran == 64 {
            break;
        }
        ran += 1;
        let was_finished = hs.finished().is_some();
        // `None`: the operation did not call the handshake.
        let result = match op {
            HandshakeOp::Version {
                version,
                nonce,
                relay,
            } => {
                let addr = NetAddr::from_socket_addr(ServiceFlags::NONE, remote);
                let msg = Version::new(
                    version,
                    ServiceFlags::NETWORK,
                    1_700_000_000,
                    addr,
                    addr,
                    nonce,
                    b"/fuzz/",
                    1,
                    relay,
                );
                Some(hs.handle_frame(&message_frame(&msg), now))
            }
            HandshakeOp::Verack => Some(hs.handle_frame(&message_frame(&Verack), now)),
            HandshakeOp::WtxidRelay => Some(hs.handle_frame(&message_frame(&WtxidRelay), now)),
            HandshakeOp::SendAddrV2 => Some(hs.handle_frame(&message_frame(&SendAddrV2), now)),
            HandshakeOp::Raw { command, payload } => {
                let command = KNOWN_COMMANDS
                    .get(usize::from(command))
                    .copied()
                    .unwrap_or_else(|| Command::new("fuzzcmd"));
                Some(hs.handle_frame(&frame(command, payload), now))
            }
            HandshakeOp::Advance { centis } => {
                now += Duration::from_millis(u64::from(centis) * 100);
                None
            }
            HandshakeOp::Timeout => Some(hs.handle_timeout(now)),
        };
        // An error is final: the same error, every time after.
        match (&failed, result) {
            (None, Some(Err(e))) => failed = Some(e),
            (Some(first), Some(later)) => {
                assert_eq!(later.as_ref().err(), Some(first), "an error must be final");
            }
            _ => {}
        }
        let mut queued = 0;
        while hs.poll_transmit().is_some() {
            queued += 1;
        }
        assert!(
            queued <= 4,
            "a handshake sends at most version, wtxidrelay, sendaddrv2, verack"
        );
        if was_finished {
            assert!(
                hs.finished().is_some() && failed.is_none(),
                "a finished handshake stays finished"
            );
        }
        match (hs.finished(), &failed) {
            (Some(info), None) => {
                assert!(info.version >= config.min_protocol_version);
                assert!(
                    hs.poll_timeout().is_none(),
                    "a finished handshake has no deadline"
                );
                finished_checks += 1;
            }
            (None, None) => assert_eq!(hs.poll_timeout(), Some(deadline)),
            (_, Some(_)) => {}
        }
    }
    HandshakeRun {
        role,
        ops: ran,
        finished_checks,
        finished: hs.finished().map(|info| (info.wtxidrelay, info.sendaddrv2)),
        error: failed,
    }
}

// ---------------------------------------------------------------------------------------------
// Seeds
// ---------------------------------------------------------------------------------------------

/// How a seed's handshake ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// Finished, having recorded these of the peer's negotiation messages.
    Finished {
        /// The peer's `wtxidrelay` counted.
        wtxidrelay: bool,
        /// The peer's `sendaddrv2` counted.
        sendaddrv2: bool,
    },
    /// Failed with this error.
    Failed(HandshakeError),
    /// Failed: a payload under this command did not decode.
    Malformed(Command),
}

impl Expected {
    /// Whether `run` ended this way.
    #[must_use]
    pub fn matches(&self, run: &HandshakeRun) -> bool {
        match (self, &run.finished, &run.error) {
            (
                Self::Finished {
                    wtxidrelay,
                    sendaddrv2,
                },
                Some(got),
                None,
            ) => *got == (*wtxidrelay, *sendaddrv2),
            (Self::Failed(want), None, Some(got)) => want == got,
            (
                Self::Malformed(want),
                None,
                Some(HandshakeError::Violation(Violation::Malformed { command, .. })),
            ) => want == command,
            _ => false,
        }
    }
}

/// One scripted handshake of the seed corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The seed's file name.
    pub name: &'static str,
    /// Our role.
    pub role: Role,
    /// What happens, in order.
    pub ops: Vec<HandshakeOp>,
    /// How it ends.
    pub expected: Expected,
}

/// The handshakes the `handshake_ops` seeds play: both roles finishing with and without the
/// feature negotiation (and with traffic around it), timeouts waiting for either step, a
/// timer that fires early, and each kind of protocol violation the target can reach.
#[must_use]
pub fn scripts() -> Vec<Script> {
    use HandshakeOp::{Advance, Raw, SendAddrV2, Timeout, Verack, WtxidRelay};
    use Role::{Inbound, Outbound};
    let version = |version: u32, relay: Option<bool>| HandshakeOp::Version {
        version,
        nonce: 0x5eed_0000_0000_0000 | u64::from(version),
        relay,
    };
    let raw = |command: Command, payload: &[u8]| Raw {
        command: crate::selector(command),
        payload: payload.to_vec(),
    };
    let finished = |wtxidrelay: bool, sendaddrv2: bool| Expected::Finished {
        wtxidrelay,
        sendaddrv2,
    };
    let violation = |v: Violation| Expected::Failed(HandshakeError::Violation(v));
    let timeout = |step: Step| Expected::Failed(HandshakeError::Timeout(step));
    let script = |name, role, ops, expected| Script {
        name,
        role,
        ops,
        expected,
    };
    // At 70016 (`wtxidrelay`) and up the features are negotiated; below, they are not.
    vec![
        script(
            "outbound_plain",
            Outbound,
            vec![version(70_015, Some(true)), Verack],
            finished(false, false),
        ),
        script(
            "outbound_features",
            Outbound,
            vec![version(70_016, Some(true)), WtxidRelay, SendAddrV2, Verack],
            finished(true, true),
        ),
        script(
            "outbound_features_below_70016_ignored",
            Outbound,
            vec![version(70_015, None), WtxidRelay, SendAddrV2, Verack],
            finished(false, false),
        ),
        script(
            "outbound_slow_with_traffic",
            Outbound,
            vec![
                // Before the peer's version: ignored, unknown commands included.
                raw(Ping::COMMAND, &7u64.to_le_bytes()),
                Raw {
                    command: u8::MAX,
                    payload: b"hello".to_vec(),
                },
                WtxidRelay,
                Advance { centis: 250 },
                Timeout,
                version(70_016, Some(false)),
                Advance { centis: 340 },
                raw(SendHeaders::COMMAND, &[]),
                SendAddrV2,
                // 59.9 s after the start: the deadline is 60 s.
                Advance { centis: 9 },
                Timeout,
                Verack,
                // Finished: later frames and the timer change nothing.
                Advance { centis: 600 },
                Timeout,
                version(70_016, None),
                Verack,
                WtxidRelay,
            ],
            finished(false, true),
        ),
        script(
            "inbound_plain",
            Inbound,
            vec![version(70_015, None), Verack],
            finished(false, false),
        ),
        script(
            "inbound_features",
            Inbound,
            vec![version(70_016, Some(false)), WtxidRelay, SendAddrV2, Verack],
            finished(true, true),
        ),
        script(
            "inbound_wtxidrelay_only",
            Inbound,
            // A peer newer than us: the negotiated version is ours.
            vec![version(70_100, Some(true)), WtxidRelay, Verack],
            finished(true, false),
        ),
        script(
            "inbound_minimum_version",
            Inbound,
            vec![version(31_800, Some(true)), Verack],
            finished(false, false),
        ),
        script(
            "outbound_timeout_awaiting_version",
            Outbound,
            vec![Advance { centis: 300 }, Advance { centis: 300 }, Timeout],
            timeout(Step::Version),
        ),
        script(
            "inbound_timeout_awaiting_verack",
            Inbound,
            vec![
                version(70_016, Some(true)),
                WtxidRelay,
                Advance { centis: 600 },
                Timeout,
                // Too late: the handshake is dead.
                Verack,
            ],
            timeout(Step::Verack),
        ),
        script(
            "outbound_duplicate_version",
            Outbound,
            vec![version(70_016, Some(true)), version(70_016, Some(true))],
            violation(Violation::DuplicateVersion),
        ),
        script(
            "inbound_verack_before_version",
            Inbound,
            vec![Verack, version(70_016, Some(true)), Verack],
            violation(Violation::VerackBeforeVersion),
        ),
        script(
            "inbound_version_too_old",
            Inbound,
            vec![version(31_799, Some(true)), Verack],
            violation(Violation::VersionTooOld {
                version: 31_799,
                min: 31_800,
            }),
        ),
        script(
            "outbound_malformed_ping",
            Outbound,
            vec![version(70_016, Some(true)), raw(Ping::COMMAND, &[1, 2, 3])],
            Expected::Malformed(Ping::COMMAND),
        ),
    ]
}

/// The `handshake_ops` seed corpus: one input per [`scripts`] entry.
#[must_use]
pub fn seeds() -> Vec<Seed> {
    scripts()
        .into_iter()
        .map(|s| Seed {
            target: "handshake_ops",
            name: s.name.into(),
            data: encode_input(s.role, &s.ops),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_decode_back_to_their_scripts() {
        for s in scripts() {
            let data = encode_input(s.role, &s.ops);
            let mut u = Unstructured::new(&data);
            assert_eq!(u.arbitrary::<bool>().unwrap(), s.role == Role::Inbound);
            let ops: Vec<HandshakeOp> = (0..s.ops.len())
                .map(|_| u.arbitrary().expect("an op"))
                .collect();
            assert_eq!(ops, s.ops, "{}", s.name);
            assert!(u.is_empty(), "{}: bytes left over", s.name);
        }
    }

    #[test]
    fn fixed_inputs_run_without_breaking_invariants() {
        // The seeds end as scripted, and some finish the handshake in each role, so the
        // finished-state invariants provably run.
        let mut finished_checks = [0usize; 2];
        for s in scripts() {
            let run = check_handshake_ops(&encode_input(s.role, &s.ops));
            assert_eq!(run.role, s.role, "{}", s.name);
            assert_eq!(run.ops, s.ops.len(), "{}", s.name);
            assert!(s.expected.matches(&run), "{}: {run:?}", s.name);
            let finishes = matches!(s.expected, Expected::Finished { .. });
            assert_eq!(run.finished_checks > 0, finishes, "{}", s.name);
            finished_checks[usize::from(s.role == Role::Inbound)] += run.finished_checks;
        }
        let [outbound, inbound] = finished_checks;
        assert!(outbound > 0 && inbound > 0, "{finished_checks:?}");
        // Every byte pattern of a small family, plus some longer runs.
        for seed in 0u8..=255 {
            let data: Vec<u8> = (0..200u16)
                .map(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
                .collect();
            check_handshake_ops(&data);
        }
        assert!(check_handshake_ops(&[0u8; 512]).ops > 0);
        assert_eq!(check_handshake_ops(&[]).ops, 0);
        // Every prefix of every seed: cut anywhere, the invariants still hold.
        for seed in seeds() {
            for cut in 0..seed.data.len() {
                check_handshake_ops(&seed.data[..cut]);
            }
        }
    }
}
