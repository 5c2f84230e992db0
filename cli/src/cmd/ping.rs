//! `btcwire ping`: handshake with one node, then measure `ping`/`pong` round trips (BIP 31).
//!
//! Each `ping` carries a fresh random nonce; a `pong` is matched to its `ping` by that nonce,
//! so the peer's own keepalive traffic never counts. A `ping` unanswered after
//! `max(--interval, 5s)` is lost.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use btcwire::Payload;
use btcwire::msg::{Ping, Pong};
use btcwire_net::{Event, NonceSet, PeerEvent, Rng};
use serde_json::json;
use tokio::sync::mpsc;

use crate::common::{self, PeerOptions, parse_duration};

/// The shortest wait for a `pong` before its `ping` counts as lost.
const MIN_PONG_WAIT: Duration = Duration::from_secs(5);

/// Slack on top of the connect and handshake timeouts before the handshake is abandoned.
const PROBE_MARGIN: Duration = Duration::from_secs(1);

/// Events buffered from the peer task.
const EVENT_QUEUE: usize = 64;

const EXAMPLES: &str = "\
Examples:
  btcwire ping 127.0.0.1:18444 --network regtest
  btcwire ping seed.bitcoin.sipa.be --count 10 --interval 500ms
  btcwire ping 1.2.3.4 --json

Exit status: 0 when every ping was answered, 1 when any was lost or the handshake failed.";

/// Arguments of `ping`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    /// The node: `host`, `host:port`, `ip:port` or `[ipv6]:port` (the network's port by default).
    target: String,
    /// Pings to send.
    #[arg(long, short = 'c', default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    count: u32,
    /// Time between pings.
    #[arg(long, short = 'i', default_value = "1s", value_parser = parse_duration, value_name = "DUR")]
    interval: Duration,
    /// Print one JSON object per line (NDJSON): the handshake, each pong or loss, the summary.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    peer: PeerOptions,
}

/// Why `ping` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The handshake did not complete (the reason is the whole error chain, as one line).
    #[error("handshake with {target}: {reason}")]
    Handshake {
        /// The target as given.
        target: String,
        /// Why it failed.
        reason: String,
    },
    /// The handshake did not complete within the connect and handshake timeouts.
    #[error("handshake with {target}: no result within {limit:?}")]
    Timeout {
        /// The target as given.
        target: String,
        /// The limit.
        limit: Duration,
    },
    /// Standard output is gone (a closed pipe, say).
    #[error("writing to standard output")]
    Output(#[source] std::io::Error),
}

/// A `ping` waiting for its `pong`.
#[derive(Debug, Clone, Copy)]
struct Pending {
    seq: u32,
    sent: Instant,
}

/// Round-trip times, for the summary.
#[derive(Debug, Default)]
struct Tally {
    sent: u32,
    rtts: Vec<Duration>,
    lost: u32,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

fn print_line(line: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(Error::Output)
}

/// Returns a fresh non-zero nonce (a zero nonce cancels a ping in Bitcoin Core).
fn nonce(rng: &mut Rng) -> u64 {
    loop {
        let n = rng.next_u64();
        if n != 0 {
            return n;
        }
    }
}

pub(crate) async fn run(args: Args) -> Result<bool, Error> {
    let config = args.peer.config();
    let nonces = NonceSet::new();
    let limit = config.connect_timeout + config.handshake_timeout + PROBE_MARGIN;
    let probing = common::probe_keep(&args.target, &config, args.peer.proxy, &nonces);
    let (report, done) =
        tokio::time::timeout(limit, probing)
            .await
            .map_err(|_| Error::Timeout {
                target: args.target.clone(),
                limit,
            })?;
    let done = match (done, &report.result) {
        (Some(done), Ok(_)) => done,
        (_, Err(reason)) => {
            return Err(Error::Handshake {
                target: args.target.clone(),
                reason: reason.clone(),
            });
        }
        (None, Ok(_)) => {
            return Err(Error::Handshake {
                target: args.target.clone(),
                reason: "no stream".to_owned(),
            });
        }
    };
    let addr = done.remote;
    if args.json {
        let mut line = report.to_json();
        if let Some(obj) = line.as_object_mut() {
            obj.insert("type".to_owned(), json!("handshake"));
        }
        print_line(&line.to_string())?;
    } else {
        print_line(&format!(
            "PING {addr} ({}, version {}): handshake {:.1} ms",
            done.info.user_agent,
            done.info.version,
            report.total.as_secs_f64() * 1e3
        ))?;
    }

    let (events_tx, mut events) = mpsc::channel(EVENT_QUEUE);
    let peer = btcwire_net::spawn(done, 1, &config, events_tx);
    let tally = pinger(&args, addr, &peer, &mut events).await?;
    peer.disconnect();

    let received = tally.rtts.len();
    if args.json {
        let stat = |f: fn(&[Duration]) -> Option<Duration>| f(&tally.rtts).map(ms);
        print_line(
            &json!({
                "type": "summary",
                "addr": addr.to_string(),
                "sent": tally.sent,
                "received": received,
                "lost": tally.lost,
                "min_ms": stat(|r| r.iter().min().copied()),
                "avg_ms": stat(average),
                "max_ms": stat(|r| r.iter().max().copied()),
            })
            .to_string(),
        )?;
    } else {
        let mut summary = format!("{} sent, {received} received", tally.sent);
        if let (Some(min), Some(avg), Some(max)) = (
            tally.rtts.iter().min(),
            average(&tally.rtts),
            tally.rtts.iter().max(),
        ) {
            summary.push_str(&format!(
                ", min/avg/max = {:.1}/{:.1}/{:.1} ms",
                min.as_secs_f64() * 1e3,
                avg.as_secs_f64() * 1e3,
                max.as_secs_f64() * 1e3
            ));
        }
        print_line(&format!("--- {addr} ping statistics ---"))?;
        print_line(&summary)?;
    }
    Ok(tally.lost == 0 && tally.sent == args.count && received == tally.sent as usize)
}

fn average(rtts: &[Duration]) -> Option<Duration> {
    let n = u32::try_from(rtts.len()).ok().filter(|n| *n > 0)?;
    Some(rtts.iter().sum::<Duration>() / n)
}

/// Prints why the connection ended.
fn print_closed(
    json: bool,
    addr: SocketAddr,
    reason: &btcwire_net::DisconnectReason,
) -> Result<(), Error> {
    let reason = common::chain(reason);
    if json {
        print_line(
            &json!({ "type": "closed", "addr": addr.to_string(), "reason": reason }).to_string(),
        )
    } else {
        print_line(&format!("connection to {addr} ended: {reason}"))
    }
}

/// Sends `--count` pings spaced by `--interval` and waits for their pongs.
async fn pinger(
    args: &Args,
    addr: SocketAddr,
    peer: &btcwire_net::PeerHandle,
    events: &mut mpsc::Receiver<Event>,
) -> Result<Tally, Error> {
    let wait = args.interval.max(MIN_PONG_WAIT);
    let mut rng = Rng::from_os();
    let mut tally = Tally::default();
    let mut pending: HashMap<u64, Pending> = HashMap::new();
    let mut next_send = Instant::now();
    let mut closed = false;

    loop {
        let sending = !closed && tally.sent < args.count;
        if !sending && pending.is_empty() {
            break;
        }
        let oldest = pending.values().map(|p| p.sent + wait).min();
        let wake = match (sending.then_some(next_send), oldest) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) => a,
            (None, Some(b)) => b,
            (None, None) => break,
        };
        tokio::select! {
            event = events.recv() => match event {
                Some(Event::Peer { event: PeerEvent::Message(frame), .. }) if frame.command() == Pong::COMMAND => {
                    let now = Instant::now();
                    let Ok(pong) = frame.decode_as::<Pong>() else { continue };
                    // Pongs to the peer's own keepalive pings are not ours.
                    let Some(ping) = pending.remove(&pong.nonce) else { continue };
                    let rtt = now.saturating_duration_since(ping.sent);
                    tally.rtts.push(rtt);
                    if args.json {
                        print_line(&json!({
                            "type": "pong", "addr": addr.to_string(), "seq": ping.seq,
                            "nonce": pong.nonce, "rtt_ms": ms(rtt),
                        }).to_string())?;
                    } else {
                        print_line(&format!(
                            "pong from {addr}: nonce={} time={:.1} ms",
                            pong.nonce, rtt.as_secs_f64() * 1e3
                        ))?;
                    }
                }
                Some(Event::Disconnected { reason, .. }) => {
                    if !closed {
                        closed = true;
                        print_closed(args.json, addr, &reason)?;
                    }
                    tally.lost += u32::try_from(pending.len()).unwrap_or(u32::MAX);
                    pending.clear();
                }
                Some(_) => {}
                None => {
                    closed = true;
                    tally.lost += u32::try_from(pending.len()).unwrap_or(u32::MAX);
                    pending.clear();
                }
            },
            () = tokio::time::sleep_until(wake.into()) => {
                let now = Instant::now();
                let expired: Vec<(u64, Pending)> =
                    pending.iter().filter(|(_, p)| now >= p.sent + wait).map(|(n, p)| (*n, *p)).collect();
                let mut expired = expired;
                expired.sort_by_key(|(_, p)| p.seq);
                for (n, ping) in expired {
                    pending.remove(&n);
                    tally.lost += 1;
                    if args.json {
                        print_line(&json!({
                            "type": "lost", "addr": addr.to_string(), "seq": ping.seq, "nonce": n,
                            "waited_ms": ms(wait),
                        }).to_string())?;
                    } else {
                        print_line(&format!("no pong from {addr}: nonce={n} (waited {wait:?})"))?;
                    }
                }
                if sending && now >= next_send {
                    let n = nonce(&mut rng);
                    let seq = tally.sent + 1;
                    let sent = Instant::now();
                    if peer.send_notify(&Ping::new(n)).await.is_ok() {
                        tally.sent += 1;
                        pending.insert(n, Pending { seq, sent });
                    } else {
                        closed = true;
                        print_closed(args.json, addr, &peer.wait_for_disconnect().await)?;
                    }
                    next_send += args.interval;
                }
            }
        }
    }
    Ok(tally)
}
