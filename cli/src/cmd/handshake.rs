//! `btcwire handshake`: complete the version/verack exchange with many nodes at once and
//! report what each one said.
//!
//! Targets are streamed (arguments, `--file`, or the network's DNS seeds) into a pool of at
//! most `--concurrency` probes, refilled as probes finish. Each probe opens a connection
//! within `--connect-timeout` and completes the handshake within `--timeout`; an outer limit
//! of both plus a small margin bounds every target whatever happens. `--json` prints one
//! NDJSON object per target as it finishes; the table is printed at the end, in input order.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use btcwire_net::{Listener, NonceSet, PeerConfig};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

use crate::common::{self, PeerOptions, Report, TargetOptions};

/// Slack on top of the connect and handshake timeouts before a probe is abandoned.
const PROBE_MARGIN: Duration = Duration::from_secs(1);

/// Inbound connections the `--local` node accepts at once.
const LOCAL_MAX_INBOUND: usize = 64;

/// Table header, matching [`Report::row`].
const HEADER: [&str; 10] = [
    "ADDRESS",
    "STATUS",
    "VERSION",
    "USER AGENT",
    "SERVICES",
    "HEIGHT",
    "RELAY",
    "CONNECT",
    "HANDSHAKE",
    "FINGERPRINT",
];

const EXAMPLES: &str = "\
Examples:
  btcwire handshake --local                          handshake with a node started in-process
  btcwire handshake 127.0.0.1:18444 --network regtest --json
  btcwire handshake seed.bitcoin.sipa.be 1.2.3.4:8333 [2001:db8::1]:8333
  btcwire handshake --file nodes.txt --concurrency 512 --timeout 5s --json > out.ndjson
  btcwire handshake                                  every address of the DNS seeds
  btcwire handshake abcd...xyz.onion --proxy socks5://127.0.0.1:9050

Exit status: 0 when every handshake succeeded, 1 when any failed (or there was no target),
2 for usage errors.";

/// Arguments of `handshake`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    #[command(flatten)]
    targets: TargetOptions,
    #[command(flatten)]
    peer: PeerOptions,
    /// Handshakes in flight at once.
    #[arg(long, default_value = "256", value_name = "N")]
    concurrency: NonZeroUsize,
    /// Print one JSON object per target (NDJSON), as each finishes.
    #[arg(long)]
    json: bool,
    /// Start a node in-process on 127.0.0.1 and handshake with it too (alone when no target
    /// or --file is given).
    #[arg(long)]
    local: bool,
}

/// Why `handshake` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The `--local` node could not start.
    #[error("starting the local node on 127.0.0.1")]
    Local(#[source] std::io::Error),
    /// Standard output is gone (a closed pipe, say).
    #[error("writing to standard output")]
    Output(#[source] std::io::Error),
}

/// A node running in this process, for `--local`.
struct LocalNode {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
}

impl LocalNode {
    /// Starts a [`Listener`] on `127.0.0.1:0` speaking `config`, with its own nonces so our
    /// probe is not mistaken for a connection to ourselves.
    async fn start(config: &PeerConfig) -> Result<Self, Error> {
        let socket = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(Error::Local)?;
        let listener = Listener::new(socket, config.clone(), LOCAL_MAX_INBOUND);
        let addr = listener.local_addr().map_err(Error::Local)?;
        let (events, mut inbound) = mpsc::channel(64);
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(listener.run(events, async move {
            let _ = stopped.await;
        }));
        // The listener disconnects its peers when nobody reads its events: keep reading.
        tokio::spawn(async move { while inbound.recv().await.is_some() {} });
        tracing::debug!(%addr, "local node listening");
        Ok(Self { addr, stop })
    }
}

/// What the pool loop does next.
enum Step {
    /// Start a probe of this target.
    Target(String),
    /// No more targets.
    End,
    /// A probe finished (or its task failed).
    Finished(Box<Result<(tokio::task::Id, Report), tokio::task::JoinError>>),
}

/// Receives the next target; `None` at the end of the stream (or without one).
async fn recv(targets: &mut Option<mpsc::Receiver<String>>) -> Option<String> {
    match targets {
        Some(rx) => rx.recv().await,
        None => None,
    }
}

/// Runs one probe, bounded by the connect and handshake timeouts plus a margin.
async fn probe(
    target: String,
    config: &PeerConfig,
    proxy: Option<SocketAddr>,
    nonces: &NonceSet,
) -> Report {
    let limit = config.connect_timeout + config.handshake_timeout + PROBE_MARGIN;
    let started = Instant::now();
    match tokio::time::timeout(limit, common::probe(&target, config, proxy, nonces)).await {
        Ok(report) => report,
        Err(_) => Report {
            addr: btcwire_net::Target::parse(&target, config.default_port())
                .ok()
                .and_then(|t| match t {
                    btcwire_net::Target::Addr(a) => Some(a),
                    btcwire_net::Target::Host(..) => None,
                }),
            target,
            result: Err(format!(
                "no result within {limit:?} (connect and handshake timeouts)"
            )),
            connect: None,
            total: started.elapsed(),
        },
    }
}

/// Returns a progress bar on stderr when it is a terminal, hidden until a second target
/// shows up.
fn progress() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
    let style =
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// Writes one line to stdout, above the progress bar.
fn print_line(bar: Option<&ProgressBar>, line: &str) -> Result<(), Error> {
    let write = || {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").and_then(|()| out.flush())
    };
    match bar {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
    .map_err(Error::Output)
}

pub(crate) async fn run(args: Args) -> Result<bool, Error> {
    let started = Instant::now();
    let config = args.peer.config();
    let proxy = args.peer.proxy;
    let nonces = NonceSet::new();
    let concurrency = args.concurrency.get();

    let local = if args.local {
        Some(LocalNode::start(&config).await?)
    } else {
        None
    };
    // `--local` alone probes only the local node: no DNS seeds.
    let mut targets =
        if local.is_none() || !args.targets.targets.is_empty() || args.targets.file.is_some() {
            Some(args.targets.stream(args.peer.network(), concurrency))
        } else {
            None
        };
    let mut queued_local = local.as_ref().map(|node| node.addr.to_string());

    let bar = progress();
    let mut probes: JoinSet<Report> = JoinSet::new();
    let mut in_flight: HashMap<tokio::task::Id, (usize, String)> = HashMap::new();
    let mut reports: Vec<(usize, Report)> = Vec::new();
    let (mut fed, mut ok, mut failed) = (0usize, 0usize, 0usize);

    loop {
        let has_room = probes.len() < concurrency;
        // The local node first, then the stream, while the pool has room.
        let step = match queued_local.take() {
            Some(target) if has_room => Step::Target(target),
            local => {
                queued_local = local;
                tokio::select! {
                    target = recv(&mut targets), if has_room && targets.is_some() => {
                        target.map_or(Step::End, Step::Target)
                    }
                    Some(joined) = probes.join_next_with_id() => Step::Finished(Box::new(joined)),
                    else => break,
                }
            }
        };
        match step {
            Step::Target(target) => {
                let index = fed;
                fed += 1;
                if let Some(bar) = &bar {
                    bar.inc_length(1);
                    if fed == 2 {
                        bar.set_draw_target(ProgressDrawTarget::stderr());
                        bar.enable_steady_tick(Duration::from_millis(200));
                    }
                }
                tracing::debug!(%target, "probing");
                let (config, nonces, owned) = (config.clone(), nonces.clone(), target.clone());
                let task = probes.spawn(async move { probe(owned, &config, proxy, &nonces).await });
                in_flight.insert(task.id(), (index, target));
            }
            Step::End => targets = None,
            Step::Finished(joined) => {
                let (index, report) = match *joined {
                    Ok((id, report)) => {
                        let index = in_flight.remove(&id).map_or(usize::MAX, |(index, _)| index);
                        (index, report)
                    }
                    Err(e) => {
                        let (index, target) = in_flight.remove(&e.id()).unwrap_or_default();
                        let report = Report {
                            target,
                            addr: None,
                            result: Err(format!("probe task failed: {e}")),
                            connect: None,
                            total: started.elapsed(),
                        };
                        (index, report)
                    }
                };
                if report.ok() {
                    ok += 1;
                } else {
                    failed += 1;
                }
                if let Some(bar) = &bar {
                    bar.inc(1);
                    bar.set_message(format!("{ok} ok, {failed} failed"));
                }
                if args.json {
                    print_line(bar.as_ref(), &report.to_json().to_string())?;
                } else {
                    reports.push((index, report));
                }
            }
        }
    }
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(node) = local {
        let _ = node.stop.send(());
    }

    if fed == 0 {
        eprintln!("no targets: none given, none in --file, none from the DNS seeds");
        return Ok(false);
    }
    if !args.json {
        reports.sort_by_key(|(index, _)| *index);
        let rows: Vec<Vec<String>> = reports.iter().map(|(_, r)| r.row()).collect();
        common::print_table(&HEADER, &rows);
        let summary = format!(
            "{ok} ok, {failed} failed in {:.2} s",
            started.elapsed().as_secs_f64()
        );
        print_line(None, &summary)?;
    }
    Ok(failed == 0 && ok > 0)
}
