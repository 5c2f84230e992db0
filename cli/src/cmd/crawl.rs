//! `btcwire crawl`: discover the network by following `addr` answers.
//!
//! Each queued node is visited once: connect and handshake ([`crate::common::probe_keep`]),
//! run the peer ([`btcwire_net::spawn`]), send `getaddr`, and collect `addr`/`addrv2`
//! messages until the answer arrives or `--getaddr-timeout` passes. A node's first message
//! is often an advertisement of its own address (one entry: the address we connected to, or
//! the one in its `version`): that is counted but not taken as the answer, and the wait goes
//! on. New addresses are queued (deduplicated), up to `--max-nodes` visits in all,
//! `--concurrency` at once, for at most `--duration`; nodes still handshaking when the time
//! is up (or on Ctrl-C) are dropped without a record and counted as unfinished.
//!
//! Only IP addresses are followed; Tor, I2P and Cjdns addresses are counted in the summary
//! but not visited (a Tor v3 `.onion` name needs SHA3-256, which this workspace lacks, and
//! I2P and Cjdns need their own routers). Private and loopback addresses are followed only
//! when the node that told us about them has one too (a local test network), since public
//! nodes gossiping them point nowhere useful.
//!
//! ## Output
//!
//! One record per node visited, to `--out FILE` or standard output: NDJSON (the fields of
//! `btcwire handshake --json`, plus `addresses`: entries it sent, `new`: how many were new
//! to the crawl, `answer_ms`: time from `getaddr` to its answer, null without one), or CSV
//! with a header line and the scalar fields. The summary (reachable nodes; counts by protocol
//! version, user agent and services; learned addresses by network) goes to standard error;
//! with `--json` it is also printed as one final line `{"summary": {...}}` on standard
//! output (after the records when they go there too). Exit status 0 when at least one node
//! was reached, 1 otherwise.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use btcwire::msg::{GetAddr, Message};
use btcwire_net::addrbook::NetworkKind;
use btcwire_net::{Event, NonceSet, PeerAddr, PeerConfig, PeerEvent, Target};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::common::{PeerOptions, Report, TargetOptions, parse_duration, probe_keep};

const EXAMPLES: &str = "\
Examples:
  btcwire crawl                                   from the mainnet DNS seeds, 1000 nodes
  btcwire crawl seed.bitcoin.sipa.be --max-nodes 200 --out nodes.ndjson
  btcwire crawl 127.0.0.1:18444 --network regtest --duration 30s --json
  btcwire crawl --file seeds.txt --format csv --out nodes.csv --concurrency 256

Records go to --out or standard output (NDJSON by default, or CSV); the summary goes to
standard error, and with --json also as a final `{\"summary\": ...}` line on standard output.
Exit status: 0 when at least one node was reached, 1 otherwise.";

/// Most addresses kept from one node (its answer holds at most 1000; the rest is gossip).
const MAX_ADDRS_PER_NODE: usize = 2_500;

/// Events buffered from one visited peer.
const PEER_EVENTS: usize = 64;

/// Arguments of `crawl`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    /// Where to start.
    #[command(flatten)]
    targets: TargetOptions,
    /// Most nodes to visit.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    max_nodes: usize,
    /// Nodes visited at once.
    #[arg(long, default_value_t = 64, value_name = "N")]
    concurrency: usize,
    /// Time for the whole crawl.
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DUR")]
    duration: Duration,
    /// Time each node has to answer `getaddr`.
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DUR")]
    getaddr_timeout: Duration,
    /// Write the records to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Format of the records.
    #[arg(long, value_enum, default_value_t = Format::Ndjson)]
    format: Format,
    /// Also print the summary as a final JSON line `{"summary": ...}` on standard output.
    #[arg(long)]
    json: bool,
    /// What we advertise, and how long we wait.
    #[command(flatten)]
    options: PeerOptions,
}

/// Format of the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header line (scalar fields only).
    Csv,
}

/// Why `crawl` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// `--json` would mix a JSON line into CSV on standard output.
    #[error("--json with --format csv needs --out FILE")]
    JsonIntoCsv,
    /// The output file could not be created.
    #[error("creating {path}")]
    Create {
        /// The file.
        path: PathBuf,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
    /// Writing the records failed.
    #[error("writing {path}")]
    Write {
        /// The file, or `-` for standard output.
        path: String,
        /// The failure.
        #[source]
        source: std::io::Error,
    },
}

/// The CSV columns: the scalar fields of a record.
const CSV_COLUMNS: [&str; 17] = [
    "target",
    "addr",
    "ok",
    "error",
    "version",
    "user_agent",
    "services",
    "service_names",
    "start_height",
    "relay",
    "wtxidrelay",
    "sendaddrv2",
    "connect_ms",
    "handshake_ms",
    "addresses",
    "new",
    "answer_ms",
];

/// What each visit needs.
struct Context {
    config: PeerConfig,
    proxy: Option<SocketAddr>,
    nonces: NonceSet,
    getaddr_timeout: Duration,
}

/// One visited node.
struct Visit {
    report: Report,
    /// The addresses it sent (IP and overlay), at most [`MAX_ADDRS_PER_NODE`].
    addrs: Vec<PeerAddr>,
    /// Entries in its `addr`/`addrv2` messages, unsupported networks included.
    received: usize,
    /// Time from `getaddr` to the answer.
    answer: Option<Duration>,
}

/// The crawl's state and statistics.
#[derive(Default)]
struct Crawl {
    max_nodes: usize,
    queue: VecDeque<String>,
    /// Targets queued or visited, by canonical text.
    seen: HashSet<String>,
    /// Every address learned.
    learned: HashSet<PeerAddr>,
    /// Connectable addresses learned but not queued (over `--max-nodes`).
    over_budget: usize,
    /// Visits started.
    started: usize,
    reached: usize,
    failed: usize,
    unfinished: usize,
    received: usize,
    by_version: BTreeMap<String, usize>,
    by_user_agent: BTreeMap<String, usize>,
    by_services: BTreeMap<String, usize>,
}

pub(crate) async fn run(args: Args) -> Result<bool, Error> {
    if args.json && args.format == Format::Csv && args.out.is_none() {
        return Err(Error::JsonIntoCsv);
    }
    let network = args.options.network();
    let context = Arc::new(Context {
        config: args.options.config(),
        proxy: args.options.proxy,
        nonces: NonceSet::new(),
        getaddr_timeout: args.getaddr_timeout,
    });
    let mut output = Output::open(args.out.as_deref(), args.format)?;
    let progress = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });

    let started = Instant::now();
    let deadline = started + args.duration;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut inputs = args.targets.stream(network, 256);
    let mut inputs_open = true;
    let mut crawl = Crawl {
        max_nodes: args.max_nodes,
        ..Crawl::default()
    };
    let mut tasks: JoinSet<Option<Visit>> = JoinSet::new();
    let mut next_id = 0u64;
    let mut stopping = false;
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        if !stopping {
            while tasks.len() < args.concurrency.max(1) {
                let Some(target) = crawl.queue.pop_front() else {
                    break;
                };
                crawl.started += 1;
                next_id += 1;
                tasks.spawn(visit(
                    target,
                    Arc::clone(&context),
                    next_id,
                    stop_rx.clone(),
                ));
            }
        }
        let want_inputs = inputs_open && !stopping && crawl.has_room();
        if tasks.is_empty() && (stopping || (!want_inputs && crawl.queue.is_empty())) {
            break;
        }
        tokio::select! {
            target = inputs.recv(), if want_inputs => match target {
                Some(target) => crawl.add_target(&target, context.config.default_port()),
                None => inputs_open = false,
            },
            Some(joined) = tasks.join_next(), if !tasks.is_empty() => {
                // A visit that panicked is a bug; count it as unfinished rather than abort.
                let outcome = joined.ok().flatten();
                if let Some(record) = crawl.finish(outcome) {
                    match &progress {
                        Some(bar) => bar.suspend(|| output.record(&record))?,
                        None => output.record(&record)?,
                    }
                }
            }
            () = tokio::time::sleep_until(deadline.into()), if !stopping => {
                stopping = true;
                let _ = stop_tx.send(true);
            }
            _ = &mut ctrl_c, if !stopping => {
                stopping = true;
                let _ = stop_tx.send(true);
            }
            _ = tick.tick(), if progress.is_some() => {
                if let Some(bar) = &progress {
                    bar.set_message(crawl.progress(tasks.len(), started.elapsed()));
                }
            }
        }
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let summary = crawl.summary(started.elapsed());
    output.finish(args.json.then_some(&summary))?;
    eprint!("{}", crawl.human_summary(started.elapsed()));
    Ok(crawl.reached > 0)
}

/// Visits one node: handshake, `getaddr`, and the answer; `None` when the crawl stopped
/// during the handshake.
async fn visit(
    target: String,
    context: Arc<Context>,
    id: u64,
    mut stop: watch::Receiver<bool>,
) -> Option<Visit> {
    let probe = probe_keep(&target, &context.config, context.proxy, &context.nonces);
    let (report, done) = tokio::select! {
        result = probe => result,
        () = stopped(&mut stop) => return None,
    };
    let mut visit = Visit {
        report,
        addrs: Vec::new(),
        received: 0,
        answer: None,
    };
    let Some(done) = done else {
        return Some(visit);
    };
    let (events_tx, mut events) = mpsc::channel(PEER_EVENTS);
    let peer = btcwire_net::spawn(done, id, &context.config, events_tx);
    let asked = Instant::now();
    let until = asked + context.getaddr_timeout;
    // The addresses a self-advertisement would carry: the one we connected to, and the one
    // the peer gave in its `version` (when it gave one).
    let mut own: Vec<PeerAddr> = visit
        .report
        .addr
        .map(PeerAddr::from_socket_addr)
        .into_iter()
        .collect();
    if let Ok(info) = &visit.report.result {
        let from = PeerAddr::from_net_addr(&info.addr_from);
        if from.is_valid() {
            own.push(from);
        }
    }
    if peer.send(&GetAddr).await.is_ok() {
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                () = tokio::time::sleep_until(until.into()) => break,
                () = stopped(&mut stop) => break,
            };
            let frame = match event {
                Some(Event::Peer {
                    event: PeerEvent::Message(frame),
                    ..
                }) => frame,
                Some(Event::Disconnected { .. }) | None => break,
                Some(_) => continue,
            };
            let (addrs, entries) = match frame.message() {
                Ok(Message::Addr(addr)) => (
                    addr.iter()
                        .map(|e| PeerAddr::from_addr_entry(&e).0)
                        .collect(),
                    addr.len(),
                ),
                Ok(Message::AddrV2(addr)) => (
                    addr.iter()
                        .filter_map(|e| PeerAddr::from_addr_v2_entry(&e).ok().map(|(a, _, _)| a))
                        .collect::<Vec<_>>(),
                    addr.len(),
                ),
                _ => continue,
            };
            visit.received += entries;
            let advertisement =
                entries == 1 && addrs.first().is_some_and(|a| own.contains(&a.canonical()));
            let room = MAX_ADDRS_PER_NODE.saturating_sub(visit.addrs.len());
            visit.addrs.extend(addrs.into_iter().take(room));
            if !advertisement {
                visit.answer = Some(asked.elapsed());
                break;
            }
        }
    }
    peer.disconnect();
    Some(visit)
}

/// Resolves once the crawl is stopping.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // An error means the sender is gone: the crawl is over too.
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Returns the text that identifies a target: its canonical address when it is one.
fn target_key(target: &str, default_port: u16) -> String {
    match Target::parse(target, default_port) {
        Ok(Target::Addr(addr)) => PeerAddr::from_socket_addr(addr).to_string(),
        _ => target.trim().to_ascii_lowercase(),
    }
}

/// Returns the target to visit for a learned address, if it can be visited: IP addresses
/// only, and private ones only when learned from a private address.
fn visitable(addr: &PeerAddr, from: Option<SocketAddr>) -> Option<String> {
    let PeerAddr::Ip(ip) = addr.canonical() else {
        return None;
    };
    let local_source = from.is_some_and(|f| !PeerAddr::from_socket_addr(f).is_routable());
    (addr.is_routable() || (addr.is_valid() && local_source)).then(|| ip.to_string())
}

impl Crawl {
    /// Returns whether another target may be queued within `--max-nodes`.
    fn has_room(&self) -> bool {
        self.started + self.queue.len() < self.max_nodes
    }

    /// Queues a target, unless already seen.
    fn add_target(&mut self, target: &str, default_port: u16) {
        let key = target_key(target, default_port);
        if self.seen.insert(key) {
            self.queue.push_back(target.trim().to_owned());
        }
    }

    /// Takes a visit's results (`None`: unfinished when the crawl ended); returns its record.
    fn finish(&mut self, outcome: Option<Visit>) -> Option<Value> {
        let Some(visit) = outcome else {
            self.unfinished += 1;
            return None;
        };
        let report = &visit.report;
        if let Some(addr) = report.addr {
            self.seen
                .insert(PeerAddr::from_socket_addr(addr).to_string());
        }
        match &report.result {
            Ok(info) => {
                self.reached += 1;
                *self.by_version.entry(info.version.to_string()).or_default() += 1;
                *self
                    .by_user_agent
                    .entry(info.user_agent.clone())
                    .or_default() += 1;
                *self
                    .by_services
                    .entry(info.services.to_string())
                    .or_default() += 1;
            }
            Err(_) => self.failed += 1,
        }
        self.received += visit.received;
        let mut new = 0;
        for addr in &visit.addrs {
            if !self.learned.insert(addr.canonical()) {
                continue;
            }
            new += 1;
            let Some(target) = visitable(addr, report.addr) else {
                continue;
            };
            if self.seen.contains(&target) {
                continue;
            }
            if self.has_room() {
                self.seen.insert(target.clone());
                self.queue.push_back(target);
            } else {
                self.over_budget += 1;
            }
        }
        let mut record = report.to_json();
        if let Some(fields) = record.as_object_mut() {
            fields.insert("addresses".to_owned(), json!(visit.received));
            fields.insert("new".to_owned(), json!(new));
            fields.insert(
                "answer_ms".to_owned(),
                json!(visit.answer.map(|d| (d.as_secs_f64() * 1e6).round() / 1e3)),
            );
        }
        Some(record)
    }

    /// Returns the progress line.
    fn progress(&self, in_flight: usize, elapsed: Duration) -> String {
        let done = self.reached + self.failed;
        let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
        format!(
            "reached {}, failed {}, in flight {in_flight}, queued {}, {rate:.1} nodes/s",
            self.reached,
            self.failed,
            self.queue.len()
        )
    }

    /// Counts learned addresses by network.
    fn by_network(&self) -> BTreeMap<NetworkKind, usize> {
        let mut counts: BTreeMap<NetworkKind, usize> =
            NetworkKind::ALL.into_iter().map(|k| (k, 0)).collect();
        for addr in &self.learned {
            *counts.entry(addr.network_kind()).or_default() += 1;
        }
        counts
    }

    /// Returns the summary as JSON.
    fn summary(&self, elapsed: Duration) -> Value {
        let networks: serde_json::Map<String, Value> = self
            .by_network()
            .into_iter()
            .map(|(k, n)| (k.name().to_owned(), json!(n)))
            .collect();
        json!({
            "tried": self.reached + self.failed,
            "reachable": self.reached,
            "failed": self.failed,
            "unfinished": self.unfinished,
            "untried": self.queue.len() + self.over_budget,
            "addresses_received": self.received,
            "addresses_unique": self.learned.len(),
            "elapsed_ms": (elapsed.as_secs_f64() * 1e6).round() / 1e3,
            "by_version": self.by_version,
            "by_user_agent": self.by_user_agent,
            "by_services": self.by_services,
            "by_network": networks,
        })
    }

    /// Returns the summary as text, one item a line.
    fn human_summary(&self, elapsed: Duration) -> String {
        let networks: Vec<String> = self
            .by_network()
            .into_iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let mut out = format!(
            "crawled {} nodes in {:.1}s: {} reachable, {} failed, {} unfinished, {} addresses left untried\n",
            self.reached + self.failed,
            elapsed.as_secs_f64(),
            self.reached,
            self.failed,
            self.unfinished,
            self.queue.len() + self.over_budget,
        );
        out.push_str(&format!(
            "learned {} addresses ({} received): {}\n",
            self.learned.len(),
            self.received,
            networks.join(", ")
        ));
        for (label, counts, quoted) in [
            ("versions", &self.by_version, false),
            ("user agents", &self.by_user_agent, true),
            ("services", &self.by_services, false),
        ] {
            if !counts.is_empty() {
                out.push_str(&format!("{label:<12} {}\n", top(counts, 10, quoted)));
            }
        }
        out
    }
}

/// Returns the `n` most frequent keys as `key (count)`, most frequent first; `quoted` keys
/// (user agents: any text, even empty) in double quotes.
fn top(counts: &BTreeMap<String, usize>, n: usize, quoted: bool) -> String {
    let mut sorted: Vec<(&String, &usize)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut parts: Vec<String> = sorted
        .iter()
        .take(n)
        .map(|(k, c)| {
            if quoted {
                format!("{k:?} ({c})")
            } else {
                format!("{k} ({c})")
            }
        })
        .collect();
    if sorted.len() > n {
        parts.push(format!("+{} more", sorted.len() - n));
    }
    parts.join(", ")
}

/// Where records go.
struct Output {
    format: Format,
    path: String,
    writer: Box<dyn Write + Send>,
    to_stdout: bool,
}

impl Output {
    /// Opens `path` (standard output when `None`) and writes the CSV header.
    fn open(path: Option<&Path>, format: Format) -> Result<Self, Error> {
        let (writer, name, to_stdout): (Box<dyn Write + Send>, String, bool) = match path {
            Some(path) if path.as_os_str() != "-" => {
                let file = std::fs::File::create(path).map_err(|source| Error::Create {
                    path: path.to_owned(),
                    source,
                })?;
                (
                    Box::new(std::io::BufWriter::new(file)),
                    path.display().to_string(),
                    false,
                )
            }
            _ => (Box::new(std::io::stdout()), "-".to_owned(), true),
        };
        let mut output = Self {
            format,
            path: name,
            writer,
            to_stdout,
        };
        if format == Format::Csv {
            let header = CSV_COLUMNS.join(",");
            output.line(&header)?;
        }
        Ok(output)
    }

    fn line(&mut self, line: &str) -> Result<(), Error> {
        writeln!(self.writer, "{line}").map_err(|source| Error::Write {
            path: self.path.clone(),
            source,
        })
    }

    /// Writes one record.
    fn record(&mut self, record: &Value) -> Result<(), Error> {
        let line = match self.format {
            Format::Ndjson => record.to_string(),
            Format::Csv => CSV_COLUMNS
                .iter()
                .map(|c| csv_field(&record[*c]))
                .collect::<Vec<_>>()
                .join(","),
        };
        self.line(&line)
    }

    /// Writes the summary line (to standard output) and flushes.
    fn finish(&mut self, summary: Option<&Value>) -> Result<(), Error> {
        self.writer.flush().map_err(|source| Error::Write {
            path: self.path.clone(),
            source,
        })?;
        if let Some(summary) = summary {
            let line = json!({ "summary": summary }).to_string();
            if self.to_stdout {
                self.line(&line)?;
                self.writer.flush().map_err(|source| Error::Write {
                    path: self.path.clone(),
                    source,
                })?;
            } else {
                writeln!(std::io::stdout(), "{line}").map_err(|source| Error::Write {
                    path: "-".to_owned(),
                    source,
                })?;
            }
        }
        Ok(())
    }
}

/// Returns a JSON scalar as one CSV field (RFC 4180 quoting); arrays are joined with `|`.
fn csv_field(value: &Value) -> String {
    let text = match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(csv_field).collect::<Vec<_>>().join("|"),
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(csv_field(&json!(null)), "");
        assert_eq!(csv_field(&json!(true)), "true");
        assert_eq!(csv_field(&json!(70016)), "70016");
        assert_eq!(csv_field(&json!("/Satoshi:27.0.0/")), "/Satoshi:27.0.0/");
        assert_eq!(csv_field(&json!("a,b")), "\"a,b\"");
        assert_eq!(csv_field(&json!("say \"hi\"")), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field(&json!(["NETWORK", "WITNESS"])), "NETWORK|WITNESS");
    }

    #[test]
    fn only_ip_addresses_are_visited_and_private_ones_from_private_nodes() {
        let public: PeerAddr = "203.0.114.7:8333".parse().unwrap();
        let private: PeerAddr = "127.0.0.1:18444".parse().unwrap();
        let tor = PeerAddr::TorV3 {
            key: [7; 32],
            port: 8333,
        };
        let from_public = Some("8.8.8.8:8333".parse().unwrap());
        let from_local = Some("127.0.0.1:18445".parse().unwrap());
        assert_eq!(
            visitable(&public, from_public).as_deref(),
            Some("203.0.114.7:8333")
        );
        assert_eq!(visitable(&private, from_public), None);
        assert_eq!(
            visitable(&private, from_local).as_deref(),
            Some("127.0.0.1:18444")
        );
        assert_eq!(visitable(&tor, from_public), None);
        let mapped: PeerAddr = "[::ffff:203.0.114.7]:8333".parse().unwrap();
        assert_eq!(
            visitable(&mapped, from_public).as_deref(),
            Some("203.0.114.7:8333")
        );
    }

    #[test]
    fn targets_are_deduplicated_by_address_within_the_budget() {
        let mut crawl = Crawl {
            max_nodes: 3,
            ..Crawl::default()
        };
        crawl.add_target("127.0.0.1:18444", 18444);
        crawl.add_target("127.0.0.1", 18444);
        crawl.add_target("[::ffff:127.0.0.1]:18444", 18444);
        crawl.add_target("Example.org", 18444);
        crawl.add_target("example.org", 18444);
        assert_eq!(crawl.queue, ["127.0.0.1:18444", "Example.org"]);
        assert!(crawl.has_room());
        crawl.add_target("127.0.0.2", 18444);
        assert!(!crawl.has_room());
    }

    #[test]
    fn top_orders_by_count() {
        let counts: BTreeMap<String, usize> = [
            ("a".to_owned(), 1),
            ("b".to_owned(), 3),
            ("c".to_owned(), 2),
        ]
        .into_iter()
        .collect();
        assert_eq!(top(&counts, 2, true), "\"b\" (3), \"c\" (2), +1 more");
        assert_eq!(top(&counts, 3, false), "b (3), c (2), a (1)");
    }
}
