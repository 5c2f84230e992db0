//! `handshake_ops`: the sans-IO handshake driven by an arbitrary sequence of frames and clock
//! steps, in either role.
//!
//! Invariants checked after every operation: no panic; once the handshake has failed, every
//! later call fails the same way; an unfinished handshake always has a deadline, and it is the
//! start plus the configured timeout; a finished one has none and its result names a version
//! at least our minimum; at most a handful of frames is ever queued.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use arbitrary::{Arbitrary, Unstructured};
use btcwire::bytes::Bytes;
use btcwire::msg::{KNOWN_COMMANDS, SendAddrV2, Verack, Version, WtxidRelay};
use btcwire::types::{NetAddr, ServiceFlags};
use btcwire::{Checksum, Command, Frame, MessageHeader, Network};
use btcwire_net::proto::handshake::Handshake;
use btcwire_net::{NonceSet, PeerConfig, Role};

/// One step of a fuzzed handshake.
#[derive(Debug, Arbitrary)]
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

/// Runs one fuzzed handshake; returns how many operations ran.
///
/// # Panics
/// When an invariant of the handshake breaks (that is the finding).
pub fn check_handshake_ops(data: &[u8]) -> usize {
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
    while let Ok(op) = u.arbitrary::<HandshakeOp>() {
        if ran == 64 {
            break;
        }
        ran += 1;
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
        match (hs.finished(), &failed) {
            (Some(info), None) => {
                assert!(info.version >= config.min_protocol_version);
                assert!(
                    hs.poll_timeout().is_none(),
                    "a finished handshake has no deadline"
                );
            }
            (None, None) => assert_eq!(hs.poll_timeout(), Some(deadline)),
            (_, Some(_)) => {}
        }
    }
    ran
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_inputs_run_without_breaking_invariants() {
        // Every byte pattern of a small family, plus some longer runs.
        for seed in 0u8..=255 {
            let data: Vec<u8> = (0..200u16)
                .map(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
                .collect();
            check_handshake_ops(&data);
        }
        assert!(check_handshake_ops(&[0u8; 512]) > 0);
    }
}
