//! `btcwire listen` and `btcwire crawl` end to end: a small loopback network of our own
//! `listen` processes, crawled from one of them; and `listen` watched by a client of ours.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use btcwire::Network;
use btcwire::msg::{GetAddr, Message, Ping};
use btcwire_net::{Event, NonceSet, PeerConfig, PeerEvent, Target};
use btcwire_tests::cli::{btcwire, btcwire_bin};
use serde_json::Value;

/// Bound on every wait in these tests.
const WAIT: Duration = Duration::from_secs(30);

/// A running `btcwire listen`, its output line by line, and its address.
struct Node {
    child: Child,
    lines: mpsc::Receiver<String>,
    addr: SocketAddr,
}

/// Kills every process it holds when dropped, so a failing test leaves none behind.
#[derive(Default)]
struct Nodes(Vec<Node>);

impl Drop for Nodes {
    fn drop(&mut self) {
        for node in &mut self.0 {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }
}

impl Nodes {
    /// Starts `btcwire listen --bind 127.0.0.1:0 --network regtest` with `extra` arguments
    /// and returns its index once it printed its address.
    fn start(&mut self, extra: &[String]) -> usize {
        let mut child = Command::new(btcwire_bin())
            .args(["listen", "--bind", "127.0.0.1:0", "--network", "regtest"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting btcwire listen");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        // The address is on stderr in every mode: `listening on 127.0.0.1:PORT (regtest)`.
        let (addr_tx, addr_rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.strip_prefix("listening on ") {
                    let addr = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = addr_tx.send(addr);
                }
            }
        });
        // Registered before waiting, so the guard kills it even if it never starts.
        self.0.push(Node {
            child,
            lines,
            addr: "0.0.0.0:0".parse().unwrap(),
        });
        let addr = addr_rx
            .recv_timeout(WAIT)
            .expect("listen printed its address");
        let index = self.0.len() - 1;
        self.0[index].addr = addr.parse().expect("a socket address");
        assert!(self.0[index].addr.ip().is_loopback() && self.0[index].addr.port() != 0);
        index
    }

    /// Returns the next JSON line of node `index`.
    fn next_json(&self, index: usize) -> Value {
        let line = self.0[index]
            .lines
            .recv_timeout(WAIT)
            .expect("listen printed a line");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?} is not JSON: {e}"))
    }

    /// Returns the JSON lines of node `index` up to the first that `done` accepts (at most
    /// 1,000 lines, each within the wait bound).
    fn json_until(&self, index: usize, mut done: impl FnMut(&Value) -> bool) -> Vec<Value> {
        let mut out = Vec::new();
        for _ in 0..1_000 {
            let value = self.next_json(index);
            let stop = done(&value);
            out.push(value);
            if stop {
                return out;
            }
        }
        panic!("no matching line among 1,000: {out:?}");
    }

    /// Sends a signal with `kill` and returns the exit code once the process has ended.
    fn signal_and_wait(&mut self, index: usize, signal: &str) -> Option<i32> {
        let child = &mut self.0[index].child;
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success());
        let started = Instant::now();
        while started.elapsed() < WAIT {
            if let Some(status) = child.try_wait().expect("waiting for listen") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("listen did not exit within {WAIT:?} of {signal}");
    }
}

/// Returns a loopback port with nothing listening on it.
fn closed_port() -> SocketAddr {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    socket.local_addr().unwrap()
}

fn peer(addr: SocketAddr) -> [String; 2] {
    ["--peer".to_owned(), addr.to_string()]
}

/// A → {B, dead}, B → C, C → D: the crawl from A reaches all four and fails on the dead one.
#[test]
fn crawl_follows_addresses_through_a_loopback_network() {
    let mut nodes = Nodes::default();
    let d = nodes.start(&["--json".to_owned()]);
    let d_addr = nodes.0[d].addr;
    let c = nodes.start(&[&peer(d_addr)[..], &["--json".to_owned()]].concat());
    let c_addr = nodes.0[c].addr;
    let b = nodes.start(&peer(c_addr));
    let b_addr = nodes.0[b].addr;
    let dead = closed_port();
    let a = nodes.start(&[&peer(b_addr)[..], &peer(dead)[..]].concat());
    let a_addr = nodes.0[a].addr;

    let output = btcwire()
        .args(["crawl", &a_addr.to_string(), "--network", "regtest"])
        .args(["--max-nodes", "10", "--duration", "30s", "--json"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect();
    let (summary, records) = lines.split_last().expect("records and a summary");
    let summary = &summary["summary"];
    assert_eq!(records.len(), 5, "{stdout}");

    let mut reached: Vec<String> = Vec::new();
    for record in records {
        let crawl_fields = ["addresses", "new", "answer_ms"];
        for field in btcwire_tests::cli::REPORT_FIELDS
            .iter()
            .chain(&crawl_fields)
        {
            assert!(record.get(field).is_some(), "{field} missing from {record}");
        }
        if record["ok"] == true {
            assert_eq!(record["version"], 70016);
            assert!(
                record["user_agent"]
                    .as_str()
                    .unwrap()
                    .starts_with("/btcwire:")
            );
            assert!(record["error"].is_null());
            reached.push(record["addr"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(record["addr"], dead.to_string(), "{record}");
            assert!(
                record["error"]
                    .as_str()
                    .unwrap()
                    .contains("connection failed"),
                "{record}"
            );
            assert_eq!(record["addresses"], 0);
        }
    }
    reached.sort();
    let mut expected: Vec<String> = [a_addr, b_addr, c_addr, d_addr]
        .iter()
        .map(ToString::to_string)
        .collect();
    expected.sort();
    assert_eq!(reached, expected);
    // What each node handed out.
    let addresses = |addr: SocketAddr| {
        let record = records
            .iter()
            .find(|r| r["addr"] == addr.to_string())
            .unwrap();
        record["addresses"].as_u64().unwrap()
    };
    assert_eq!(
        [
            addresses(a_addr),
            addresses(b_addr),
            addresses(c_addr),
            addresses(d_addr)
        ],
        [2, 1, 1, 0]
    );

    assert_eq!(summary["reachable"], 4, "{summary}");
    assert_eq!(summary["failed"], 1);
    assert_eq!(summary["tried"], 5);
    assert_eq!(summary["unfinished"], 0);
    assert_eq!(summary["addresses_unique"], 4);
    assert_eq!(summary["by_version"]["70016"], 4);
    assert_eq!(summary["by_services"]["NONE"], 4);
    assert_eq!(
        summary["by_user_agent"]
            .as_object()
            .unwrap()
            .values()
            .next(),
        Some(&Value::from(4))
    );
    assert_eq!(summary["by_network"]["ipv4"], 4);
    assert_eq!(summary["by_network"]["ipv6"], 0);
    assert_eq!(summary["by_network"]["onion"], 0);
    assert!(stderr.contains("crawled 5 nodes"), "{stderr}");
    assert!(stderr.contains("4 reachable, 1 failed"), "{stderr}");

    // The same crawl as CSV into a file: a header and one row per node.
    let dir = std::env::temp_dir().join(format!("btcwire-crawl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("nodes.csv");
    let output = btcwire()
        .args([
            "crawl",
            &a_addr.to_string(),
            "--network",
            "regtest",
            "--max-nodes",
            "10",
        ])
        .args([
            "--duration",
            "30s",
            "--getaddr-timeout",
            "5s",
            "--format",
            "csv",
            "--out",
        ])
        .arg(&csv)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty(), "records go to the file");
    let text = std::fs::read_to_string(&csv).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 6, "{text}");
    assert!(
        rows[0].starts_with("target,addr,ok,error,version,user_agent,services"),
        "{text}"
    );
    assert!(rows[0].ends_with(",addresses,new,answer_ms"), "{text}");
    assert_eq!(
        rows.iter()
            .filter(|r| r.contains(",true,,70016,/btcwire:"))
            .count(),
        4,
        "{text}"
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.contains(",false,connection failed"))
            .count(),
        1,
        "{text}"
    );

    // The crawler's visits show up in the nodes' own output.
    let seen = nodes.json_until(d, |v| v["event"] == "message" && v["command"] == "getaddr");
    assert!(seen.iter().any(|v| v["event"] == "connected"));
}

/// Only a dead address: nothing reached, exit status 1, and still one record.
#[test]
fn crawl_without_reachable_nodes_fails() {
    let dead = closed_port();
    let output = btcwire()
        .args([
            "crawl",
            &dead.to_string(),
            "--network",
            "regtest",
            "--duration",
            "10s",
        ])
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let records: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1, "{stdout}");
    assert_eq!(records[0]["ok"], false);
    assert!(String::from_utf8_lossy(&output.stderr).contains("0 reachable, 1 failed"));
}

/// A client connects, pings, asks for addresses and leaves; `listen` reports all of it, and
/// exits 0 on SIGINT.
#[tokio::test]
async fn listen_reports_peers_messages_and_disconnections() {
    let mut nodes = Nodes::default();
    let known = closed_port();
    let n = nodes.start(&[&peer(known)[..], &["--json".to_owned()]].concat());
    let addr = nodes.0[n].addr;
    let first = nodes.next_json(n);
    assert_eq!(first["event"], "listening");
    assert_eq!(first["addr"], addr.to_string());
    assert_eq!(first["network"], "regtest");

    let config = PeerConfig::new(Network::Regtest);
    let done = tokio::time::timeout(
        WAIT,
        btcwire_net::connect(&Target::Addr(addr), None, &config, &NonceSet::new()),
    )
    .await
    .expect("handshake in time")
    .expect("handshake");
    let (tx, mut events) = tokio::sync::mpsc::channel(64);
    let client = btcwire_net::spawn(done, 1, &config, tx);
    assert_eq!(client.send(&Ping::new(0x2a)).await, Ok(()));
    assert_eq!(client.send(&GetAddr).await, Ok(()));
    // The pong proves the ping was handled; the addr answer holds the `--peer` address.
    let (mut pong, mut answer) = (false, None);
    let started = Instant::now();
    while !(pong && answer.is_some()) && started.elapsed() < WAIT {
        let Ok(Some(event)) = tokio::time::timeout(WAIT, events.recv()).await else {
            break;
        };
        if let Event::Peer {
            event: PeerEvent::Message(frame),
            ..
        } = event
        {
            match frame.message() {
                Ok(Message::Pong(p)) if p.nonce == 0x2a => pong = true,
                Ok(Message::AddrV2(list)) => {
                    answer = Some(
                        list.iter()
                            .filter_map(|e| e.to_socket_addr())
                            .collect::<Vec<_>>(),
                    );
                }
                _ => {}
            }
        }
    }
    assert!(pong, "no pong");
    assert_eq!(answer, Some(vec![known]));
    client.disconnect();
    let _ = tokio::time::timeout(WAIT, client.wait_for_disconnect()).await;

    let lines = nodes.json_until(n, |v| v["event"] == "disconnected");
    let connected = lines
        .iter()
        .find(|v| v["event"] == "connected")
        .expect("connected event");
    assert_eq!(connected["role"], "inbound");
    assert_eq!(connected["version"], 70016);
    assert!(connected["peer"].is_u64());
    let fingerprint = connected["fingerprint"].as_str().unwrap();
    assert!(
        fingerprint.starts_with("<version >version"),
        "{fingerprint}"
    );
    assert!(fingerprint.contains("<verack"), "{fingerprint}");
    let peer_addr = connected["addr"].as_str().unwrap();
    let ping = lines
        .iter()
        .find(|v| {
            v["event"] == "message"
                && v["command"] == "ping"
                && v["summary"] == "nonce=0x000000000000002a"
        })
        .unwrap_or_else(|| panic!("no ping in {lines:?}"));
    assert_eq!(ping["addr"], peer_addr);
    assert_eq!(ping["peer"], connected["peer"]);
    assert!(
        lines
            .iter()
            .any(|v| v["event"] == "message" && v["command"] == "getaddr")
    );
    let gone = lines.last().unwrap();
    assert_eq!(gone["addr"], peer_addr);
    assert!(
        gone["reason"].as_str().is_some_and(|r| !r.is_empty()),
        "{gone}"
    );

    assert_eq!(nodes.signal_and_wait(n, "-INT"), Some(0));
    let rest = nodes.json_until(n, |v| v["event"] == "shutdown");
    assert_eq!(rest.last().unwrap()["connections"], 1);
}

/// Text output, a handshake failure, and SIGTERM with a peer still connected.
#[tokio::test]
async fn listen_prints_text_and_stops_on_sigterm() {
    let mut nodes = Nodes::default();
    let n = nodes.start(&[]);
    let addr = nodes.0[n].addr;

    // A connection that sends garbage instead of a `version`: a failed handshake.
    let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut raw, &[0xff; 24])
        .await
        .unwrap();
    let line = nodes.0[n].lines.recv_timeout(WAIT).expect("a line");
    assert!(
        line.contains(&raw.local_addr().unwrap().to_string()),
        "{line}"
    );
    assert!(line.contains("failed"), "{line}");
    drop(raw);

    let config = PeerConfig::new(Network::Regtest);
    let done = btcwire_net::connect(&Target::Addr(addr), None, &config, &NonceSet::new())
        .await
        .expect("handshake");
    let local = done.stream.local_addr().unwrap();
    let (tx, _events) = tokio::sync::mpsc::channel(64);
    let client = btcwire_net::spawn(done, 1, &config, tx);
    let line = nodes.0[n].lines.recv_timeout(WAIT).expect("a line");
    assert!(
        line.contains(&local.to_string()) && line.contains("connected"),
        "{line}"
    );
    assert!(line.contains("<version >version"), "{line}");

    assert_eq!(nodes.signal_and_wait(n, "-TERM"), Some(0));
    let rest: Vec<String> = nodes.0[n].lines.iter().take(100).collect();
    assert!(
        rest.iter().any(|l| l.contains(&local.to_string())
            && l.contains("disconnected")
            && l.contains("shutting down")),
        "{rest:?}"
    );
    let _ = tokio::time::timeout(WAIT, client.wait_for_disconnect()).await;
}

#[test]
fn listen_refuses_options_for_connections_it_never_opens() {
    // `--proxy` and `--connect-timeout` only shape outbound connections: `listen` says so
    // (usage error, exit 2) instead of silently ignoring them, and binds nothing.
    for extra in [
        &["--proxy", "socks5://127.0.0.1:9050"][..],
        &["--connect-timeout", "1s"][..],
    ] {
        let out = btcwire()
            .args(["listen", "--bind", "127.0.0.1:0", "--network", "regtest"])
            .args(extra)
            .timeout(WAIT)
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
        let expected = format!("{} only apply to connections we open", extra[0]);
        assert!(stderr.contains(&expected), "{stderr}");
    }
}
