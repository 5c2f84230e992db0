//! Pieces shared by the subcommands: durations, targets, what we advertise, and the
//! handshake report (one table row, or one NDJSON object).

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use btcwire::Network;
use btcwire::types::ServiceFlags;
use btcwire_net::{Handshaken, NonceSet, PeerConfig, RemoteInfo, Target};
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Parses `500ms`, `5s`, `1m`, `2h`, or a bare number of seconds.
///
/// # Errors
/// A message for clap when the text is not a duration.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (try 500ms, 5s, 1m)"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => {
            return Err(format!(
                "invalid duration unit {unit:?} (use ms, s, m or h)"
            ));
        }
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("invalid duration {s:?}"))
}

/// Parses `socks5://host:port` (or `host:port`).
///
/// # Errors
/// A message for clap.
pub(crate) fn parse_proxy(s: &str) -> Result<SocketAddr, String> {
    let rest = s
        .strip_prefix("socks5://")
        .or_else(|| s.strip_prefix("socks5h://"))
        .unwrap_or(s);
    std::net::ToSocketAddrs::to_socket_addrs(rest)
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| format!("invalid proxy {s:?} (expected socks5://host:port)"))
}

/// What we advertise, and how long we wait.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct PeerOptions {
    /// Network to speak.
    #[arg(long, default_value = "mainnet", value_parser = ["mainnet", "testnet3", "testnet4", "signet", "regtest"])]
    pub(crate) network: String,
    /// User agent we advertise (BIP 14).
    #[arg(long)]
    pub(crate) user_agent: Option<String>,
    /// Services we advertise: a number, or names such as NETWORK|WITNESS.
    #[arg(long, default_value = "0")]
    pub(crate) services: ServiceFlags,
    /// Best height we claim.
    #[arg(long, default_value_t = 0)]
    pub(crate) start_height: i32,
    /// Ask the peer to relay transactions to us (BIP 37 `relay`).
    #[arg(long)]
    pub(crate) relay: bool,
    /// SOCKS5 proxy for outbound connections (Tor), e.g. socks5://127.0.0.1:9050.
    #[arg(long, value_parser = parse_proxy, value_name = "URL")]
    pub(crate) proxy: Option<SocketAddr>,
    /// Time allowed to open each connection [default: 5s].
    #[arg(long, value_parser = parse_duration, value_name = "DUR")]
    pub(crate) connect_timeout: Option<Duration>,
    /// Time allowed for each whole handshake (version to verack).
    #[arg(long, default_value = "10s", value_parser = parse_duration, value_name = "DUR")]
    pub(crate) timeout: Duration,
}

impl PeerOptions {
    /// Returns the network.
    pub(crate) fn network(&self) -> Network {
        self.network.parse().unwrap_or(Network::Mainnet)
    }

    /// Returns the options given that only apply to connections we open.
    pub(crate) fn outbound_only(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        if self.proxy.is_some() {
            given.push("--proxy");
        }
        if self.connect_timeout.is_some() {
            given.push("--connect-timeout");
        }
        given
    }

    /// Returns the peer configuration these options describe.
    pub(crate) fn config(&self) -> PeerConfig {
        let mut config = PeerConfig::new(self.network());
        if let Some(ua) = &self.user_agent {
            config.user_agent.clone_from(ua);
        }
        config.services = self.services;
        config.start_height = self.start_height;
        config.relay = self.relay;
        config.connect_timeout = self
            .connect_timeout
            .unwrap_or(btcwire_net::config::CONNECT_TIMEOUT);
        config.handshake_timeout = self.timeout;
        config
    }
}

/// Where targets come from.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TargetOptions {
    /// Targets: `host`, `host:port`, `ip:port` or `[ipv6]:port` (the network's port by default).
    /// Without targets or --file, the network's DNS seeds are used.
    #[arg(value_name = "TARGET")]
    pub(crate) targets: Vec<String>,
    /// Read targets from a file, one per line (`-` for standard input; `#` starts a comment).
    #[arg(long, value_name = "PATH")]
    pub(crate) file: Option<PathBuf>,
}

impl TargetOptions {
    /// Streams the targets into a bounded channel, so thousands of them never sit in memory
    /// at once. DNS seeds are resolved when no target is given.
    pub(crate) fn stream(&self, network: Network, capacity: usize) -> mpsc::Receiver<String> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        let targets = self.targets.clone();
        let file = self.file.clone();
        tokio::task::spawn_blocking(move || {
            for t in targets.iter().filter(|t| !t.trim().is_empty()) {
                if tx.blocking_send(t.clone()).is_err() {
                    return;
                }
            }
            let reader: Option<Box<dyn BufRead>> = match file.as_deref() {
                Some(p) if p.as_os_str() == "-" => Some(Box::new(std::io::stdin().lock())),
                Some(p) => match std::fs::File::open(p) {
                    Ok(f) => Some(Box::new(std::io::BufReader::new(f))),
                    Err(e) => {
                        eprintln!("error: reading {}: {e}", p.display());
                        None
                    }
                },
                None => None,
            };
            let had_targets = !targets.is_empty() || file.is_some();
            if let Some(reader) = reader {
                for line in reader.lines().map_while(Result::ok) {
                    let line = line.split('#').next().unwrap_or("").trim().to_owned();
                    if !line.is_empty() && tx.blocking_send(line).is_err() {
                        return;
                    }
                }
            }
            if !had_targets {
                let seeds = btcwire_net::addrbook::dns_seeds(network);
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = runtime {
                    let addrs = rt.block_on(btcwire_net::addrbook::resolve_seeds(
                        seeds,
                        network.default_port(),
                        Duration::from_secs(10),
                    ));
                    for addr in addrs {
                        if tx.blocking_send(addr.to_string()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        rx
    }
}

/// The outcome of one handshake attempt.
#[derive(Debug)]
pub(crate) struct Report {
    /// The target as given.
    pub(crate) target: String,
    /// The address connected to, when known.
    pub(crate) addr: Option<SocketAddr>,
    /// The handshake result, or the error chain as one line.
    pub(crate) result: Result<RemoteInfo, String>,
    /// Time to open the connection.
    pub(crate) connect: Option<Duration>,
    /// Time for the whole handshake (connect included).
    pub(crate) total: Duration,
}

/// Joins an error and its sources into one line.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let parts: Vec<String> = std::iter::successors(Some(e), |e| e.source())
        .map(ToString::to_string)
        .collect();
    parts.join(": ")
}

/// Connects to `target` and completes the handshake, keeping the stream.
pub(crate) async fn probe_keep(
    target: &str,
    config: &PeerConfig,
    proxy: Option<SocketAddr>,
    nonces: &NonceSet,
) -> (Report, Option<Handshaken<TcpStream>>) {
    let started = Instant::now();
    let parsed = Target::parse(target, config.default_port());
    let addr = match &parsed {
        Ok(Target::Addr(a)) => Some(*a),
        _ => None,
    };
    let outcome = match parsed {
        Ok(t) => btcwire_net::connect(&t, proxy, config, nonces).await,
        Err(e) => Err(e),
    };
    let total = started.elapsed();
    match outcome {
        Ok(done) => {
            let report = Report {
                target: target.to_owned(),
                addr: Some(done.remote),
                result: Ok(done.info.clone()),
                connect: done.connect_time,
                total,
            };
            (report, Some(done))
        }
        Err(e) => {
            let report = Report {
                target: target.to_owned(),
                addr,
                result: Err(chain(&e)),
                connect: None,
                total,
            };
            (report, None)
        }
    }
}

/// Connects to `target`, completes the handshake, and closes.
pub(crate) async fn probe(
    target: &str,
    config: &PeerConfig,
    proxy: Option<SocketAddr>,
    nonces: &NonceSet,
) -> Report {
    probe_keep(target, config, proxy, nonces).await.0
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

impl Report {
    /// Returns whether the handshake succeeded.
    pub(crate) fn ok(&self) -> bool {
        self.result.is_ok()
    }

    /// Returns the NDJSON object.
    pub(crate) fn to_json(&self) -> serde_json::Value {
        let mut out = json!({
            "target": self.target,
            "addr": self.addr.map(|a| a.to_string()),
            "ok": self.ok(),
            "error": self.result.as_ref().err(),
            "connect_ms": self.connect.map(ms),
            "handshake_ms": ms(self.total),
        });
        let fields = match &self.result {
            Ok(info) => info_json(info),
            Err(_) => json!({
                "version": null, "user_agent": null, "services": null, "service_names": null,
                "start_height": null, "relay": null, "wtxidrelay": null, "sendaddrv2": null,
                "timeline": null,
            }),
        };
        if let (Some(out), Some(fields)) = (out.as_object_mut(), fields.as_object()) {
            out.extend(fields.clone());
        }
        out
    }

    /// Returns a table row: target, status, version, user agent, services, height, relay,
    /// connect and handshake time, and the fingerprint (or the error).
    pub(crate) fn row(&self) -> Vec<String> {
        let t = |d: Option<Duration>| {
            d.map_or_else(
                || "-".to_owned(),
                |d| format!("{:.0}ms", d.as_secs_f64() * 1e3),
            )
        };
        match &self.result {
            Ok(info) => vec![
                self.addr
                    .map_or_else(|| self.target.clone(), |a| a.to_string()),
                "ok".to_owned(),
                info.version.to_string(),
                info.user_agent.clone(),
                format!("{} ({})", info.services.bits(), info.services),
                info.start_height.to_string(),
                if info.relay { "yes" } else { "no" }.to_owned(),
                t(self.connect),
                t(Some(self.total)),
                fingerprint(info),
            ],
            Err(e) => vec![
                self.addr
                    .map_or_else(|| self.target.clone(), |a| a.to_string()),
                "error".to_owned(),
                e.clone(),
            ],
        }
    }
}

/// The handshake fields of a report, as JSON.
pub(crate) fn info_json(info: &RemoteInfo) -> serde_json::Value {
    json!({
        "version": info.version,
        "user_agent": info.user_agent,
        "services": info.services.bits(),
        "service_names": info.services.names().collect::<Vec<_>>(),
        "start_height": info.start_height,
        "relay": info.relay,
        "wtxidrelay": info.wtxidrelay,
        "sendaddrv2": info.sendaddrv2,
        "negotiated_version": info.negotiated_version,
        "nonce": info.nonce,
        "time_offset": info.time_offset,
        "timeline": info.timeline.iter().map(|s| json!({
            "dir": match s.direction { btcwire_net::Direction::Sent => "out", btcwire_net::Direction::Received => "in" },
            "command": s.command.as_str(),
            "at_ms": ms(s.at),
        })).collect::<Vec<_>>(),
    })
}

/// The negotiation fingerprint: `>version <version >verack <verack`, with every other message
/// of the handshake in its place (`>wtxidrelay`, `<sendaddrv2`, ...).
pub(crate) fn fingerprint(info: &RemoteInfo) -> String {
    info.timeline
        .iter()
        .map(|s| {
            let arrow = match s.direction {
                btcwire_net::Direction::Sent => '>',
                btcwire_net::Direction::Received => '<',
            };
            format!("{arrow}{}", s.command)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Prints rows as an aligned table.
pub(crate) fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let cols = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        // A short row's last cell (an error) spans the remaining columns.
        for (i, cell) in row
            .iter()
            .enumerate()
            .take((cols - 1).min(row.len().saturating_sub(1)))
        {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() || i + 1 == cols {
                out.push_str(cell);
                break;
            }
            out.push_str(&format!("{cell:<w$}  ", w = widths[i]));
        }
        out.trim_end().to_owned()
    };
    println!("{}", line(header.to_vec()));
    for row in rows {
        println!("{}", line(row.iter().map(String::as_str).collect()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
    }

    #[test]
    fn proxies() {
        assert_eq!(
            parse_proxy("socks5://127.0.0.1:9050"),
            Ok("127.0.0.1:9050".parse().unwrap())
        );
        assert!(parse_proxy("socks5://").is_err());
    }
}
