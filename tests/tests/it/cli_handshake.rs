//! `btcwire handshake` and `btcwire ping`, end to end: the real binary against our own
//! listeners, silent and closed ports, and bcoin, all on loopback.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use btcwire::Network;
use btcwire_net::{Listener, PeerConfig};
use btcwire_tests::bcoin::Bcoin;
use btcwire_tests::cli::btcwire;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::mpsc;

/// Bound on every run of the binary.
const RUN: Duration = Duration::from_secs(60);

/// The NDJSON fields every handshake report carries.
const FIELDS: [&str; 15] = btcwire_tests::cli::REPORT_FIELDS;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Starts our listener (regtest) on 127.0.0.1; it runs as long as `rt`.
fn our_listener(rt: &Runtime) -> SocketAddr {
    rt.block_on(async {
        let socket = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let listener = Listener::new(socket, PeerConfig::new(Network::Regtest), 256);
        let addr = listener.local_addr().expect("bound");
        let (events, mut inbound) = mpsc::channel(64);
        tokio::spawn(listener.run(events, std::future::pending()));
        // Keep reading events: the listener drops peers nobody listens to.
        tokio::spawn(async move { while inbound.recv().await.is_some() {} });
        addr
    })
}

/// Starts a listener that accepts connections and never writes a byte.
fn silent_listener(rt: &Runtime) -> SocketAddr {
    silent_listener_counted(rt, &Arc::default())
}

/// Connections open at once across the silent listeners sharing it, and the most seen.
#[derive(Default)]
struct OpenGauge {
    open: AtomicUsize,
    most: AtomicUsize,
}

/// A silent listener that counts its open connections in `gauge`: each stays open, unread
/// to, until the client closes it.
fn silent_listener_counted(rt: &Runtime, gauge: &Arc<OpenGauge>) -> SocketAddr {
    let gauge = Arc::clone(gauge);
    rt.block_on(async {
        let socket = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = socket.local_addr().expect("bound");
        tokio::spawn(async move {
            // Bounded: the tests open a few connections to each.
            for _ in 0..1_000 {
                let Ok((mut stream, _)) = socket.accept().await else {
                    return;
                };
                let now = gauge.open.fetch_add(1, Ordering::SeqCst) + 1;
                gauge.most.fetch_max(now, Ordering::SeqCst);
                let gauge = Arc::clone(&gauge);
                tokio::spawn(async move {
                    // Whatever the client sends is drained until it closes (bounded by RUN).
                    let mut sink = tokio::io::sink();
                    let _ =
                        tokio::time::timeout(RUN, tokio::io::copy(&mut stream, &mut sink)).await;
                    gauge.open.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        addr
    })
}

/// Returns an address where nothing listens (bound, then released).
fn closed_port() -> SocketAddr {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    socket.local_addr().expect("bound")
}

fn json_lines(stdout: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn handshake_local_prints_a_table_and_json() {
    let out = btcwire()
        .args(["handshake", "--local"])
        .timeout(RUN)
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        text(&out.stderr)
    );
    let mut lines = stdout.lines();
    assert!(
        lines
            .next()
            .is_some_and(|h| h.starts_with("ADDRESS") && h.contains("STATUS")),
        "{stdout}"
    );
    let row = lines.next().expect("one row");
    assert!(
        row.starts_with("127.0.0.1:") && row.contains(" ok "),
        "{stdout}"
    );
    assert!(row.contains(">version <version"), "fingerprint in {row}");
    assert!(
        lines
            .next()
            .is_some_and(|s| s.starts_with("1 ok, 0 failed in ")),
        "{stdout}"
    );

    let out = btcwire()
        .args(["handshake", "--local", "--json"])
        .timeout(RUN)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let reports = json_lines(&out.stdout);
    assert_eq!(reports.len(), 1, "{reports:?}");
    let report = &reports[0];
    for field in FIELDS {
        assert!(report.get(field).is_some(), "{field} missing from {report}");
    }
    assert_eq!(report["ok"], true);
    assert!(report["error"].is_null());
    assert_eq!(
        report["user_agent"],
        PeerConfig::new(Network::Mainnet).user_agent.as_str()
    );
    assert!(report["version"].as_u64().is_some_and(|v| v >= 70_016));
}

#[test]
fn handshake_with_our_listener_reports_every_field() {
    let rt = runtime();
    let addr = our_listener(&rt);
    let out = btcwire()
        .args([
            "handshake",
            &addr.to_string(),
            "--network",
            "regtest",
            "--json",
        ])
        .timeout(RUN)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let reports = json_lines(&out.stdout);
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    for field in FIELDS {
        assert!(r.get(field).is_some(), "{field} missing from {r}");
    }
    let ours = PeerConfig::new(Network::Regtest);
    assert_eq!(r["ok"], true);
    assert_eq!(r["target"], addr.to_string());
    assert_eq!(r["addr"], addr.to_string());
    assert_eq!(r["user_agent"], ours.user_agent.as_str());
    assert_eq!(r["version"], u64::from(ours.protocol_version));
    assert_eq!(r["wtxidrelay"], true);
    assert_eq!(r["sendaddrv2"], true);
    assert_eq!(r["relay"], false);
    assert!(r["connect_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    assert!(
        r["handshake_ms"]
            .as_f64()
            .is_some_and(|ms| ms >= r["connect_ms"].as_f64().unwrap_or(0.0))
    );
    let timeline = r["timeline"].as_array().expect("timeline");
    assert_eq!(timeline[0]["dir"], "out");
    assert_eq!(timeline[0]["command"], "version");
    assert!(
        timeline
            .iter()
            .any(|s| s["dir"] == "in" && s["command"] == "verack")
    );
}

#[test]
fn handshake_refused_connection_fails_with_the_reason() {
    let addr = closed_port();
    let out = btcwire()
        .args([
            "handshake",
            &addr.to_string(),
            "--network",
            "regtest",
            "--json",
        ])
        .timeout(RUN)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let reports = json_lines(&out.stdout);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["ok"], false);
    let error = reports[0]["error"].as_str().expect("an error");
    assert!(error.to_lowercase().contains("refused"), "{error}");
    assert!(!error.contains('\n'));

    // The table says so too.
    let out = btcwire()
        .args(["handshake", &addr.to_string(), "--network", "regtest"])
        .timeout(RUN)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("error") && stdout.contains("refused"),
        "{stdout}"
    );
    assert!(stdout.contains("0 ok, 1 failed in "), "{stdout}");
}

#[test]
fn handshake_with_a_silent_node_times_out_waiting_for_version() {
    let rt = runtime();
    let addr = silent_listener(&rt);
    let out = btcwire()
        .args([
            "handshake",
            &addr.to_string(),
            "--network",
            "regtest",
            "--timeout",
            "1s",
            "--json",
        ])
        .timeout(RUN)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let reports = json_lines(&out.stdout);
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(r["ok"], false);
    let error = r["error"].as_str().expect("an error");
    assert!(
        error.contains("timed out") && error.contains("`version`"),
        "{error}"
    );
    // It waited for the whole timeout (an upper bound would be a timing claim; a handshake
    // that never timed out would hang until RUN ends the run and fail above).
    let ms = r["handshake_ms"].as_f64().expect("handshake_ms");
    assert!(ms >= 1000.0, "handshake_ms {ms}");
}

#[test]
fn handshake_two_hundred_targets_half_silent() {
    let rt = runtime();
    let responsive: Vec<SocketAddr> = (0..4).map(|_| our_listener(&rt)).collect();
    let gauge = Arc::new(OpenGauge::default());
    let mut targets: Vec<String> = Vec::new();
    for i in 0..100 {
        targets.push(responsive[i % responsive.len()].to_string());
        targets.push(silent_listener_counted(&rt, &gauge).to_string());
    }
    let out = btcwire()
        .arg("handshake")
        .args(&targets)
        .args([
            "--network",
            "regtest",
            "--timeout",
            "1s",
            "--concurrency",
            "256",
            "--json",
        ])
        .timeout(RUN)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1), "stderr: {}", text(&out.stderr));
    let reports = json_lines(&out.stdout);
    assert_eq!(reports.len(), 200);
    let ok = reports.iter().filter(|r| r["ok"] == true).count();
    assert_eq!((ok, reports.len() - ok), (100, 100));
    for r in reports.iter().filter(|r| r["ok"] == false) {
        let error = r["error"].as_str().unwrap_or_default();
        assert!(error.contains("timed out waiting for `version`"), "{r}");
    }
    // Every input target is reported exactly once.
    let mut reported: Vec<&str> = reports
        .iter()
        .filter_map(|r| r["target"].as_str())
        .collect();
    let mut given: Vec<&str> = targets.iter().map(String::as_str).collect();
    reported.sort_unstable();
    given.sort_unstable();
    assert_eq!(reported, given);
    // Concurrency, shown by structure rather than by time: the silent targets were held open
    // together (one at a time would never have more than one open; the 1 s timeouts overlap
    // only when the handshakes run side by side).
    let most = gauge.most.load(Ordering::SeqCst);
    assert!(most >= 50, "at most {most} silent connections open at once");
}

#[test]
fn handshake_with_bcoin() {
    let rt = runtime();
    let node = rt
        .block_on(Bcoin::start())
        .expect("bcoin installs and starts");
    let out = btcwire()
        .args([
            "handshake",
            &node.p2p.to_string(),
            "--network",
            "regtest",
            "--json",
        ])
        .timeout(RUN)
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let reports = json_lines(&out.stdout);
    assert_eq!(reports.len(), 1);
    let r = &reports[0];
    assert_eq!(r["ok"], true);
    assert!(
        r["user_agent"]
            .as_str()
            .is_some_and(|ua| ua.contains("bcoin")),
        "{r}"
    );
    assert!(r["version"].as_u64().is_some_and(|v| v >= 70_015), "{r}");
    drop(node);
}

#[test]
fn handshake_usage_error_exits_2() {
    // A loopback target and regtest: were a bad value ever accepted, the run would not
    // fall back to mainnet's DNS seeds.
    let target = closed_port().to_string();
    for bad in ["abc", "0"] {
        btcwire()
            .args(["handshake", &target, "--network", "regtest"])
            .args(["--concurrency", bad])
            .timeout(RUN)
            .assert()
            .code(2);
    }
    btcwire().args(["ping"]).timeout(RUN).assert().code(2);
}

#[test]
fn ping_our_listener() {
    let rt = runtime();
    let addr = our_listener(&rt);
    let out = btcwire()
        .args([
            "ping",
            &addr.to_string(),
            "--network",
            "regtest",
            "--count",
            "3",
            "--interval",
            "100ms",
        ])
        .timeout(RUN)
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {stdout}\nstderr: {}",
        text(&out.stderr)
    );
    let replies: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with(&format!("pong from {addr}: ")))
        .collect();
    assert_eq!(replies.len(), 3, "{stdout}");
    assert!(
        replies
            .iter()
            .all(|l| l.contains("nonce=") && l.ends_with(" ms")),
        "{stdout}"
    );
    let summary = stdout.lines().last().unwrap_or_default();
    assert!(
        summary.starts_with("3 sent, 3 received, min/avg/max = "),
        "{stdout}"
    );

    let out = btcwire()
        .args([
            "ping",
            &addr.to_string(),
            "--network",
            "regtest",
            "--count",
            "2",
            "--interval",
            "50ms",
            "--json",
        ])
        .timeout(RUN)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let lines = json_lines(&out.stdout);
    assert_eq!(
        lines.first().map(|l| l["type"].clone()),
        Some(Value::from("handshake"))
    );
    assert_eq!(lines.iter().filter(|l| l["type"] == "pong").count(), 2);
    let summary = lines.last().expect("a summary");
    assert_eq!(
        (
            summary["type"].as_str(),
            summary["sent"].as_u64(),
            summary["received"].as_u64()
        ),
        (Some("summary"), Some(2), Some(2))
    );
}

#[test]
fn ping_a_silent_node_fails() {
    let rt = runtime();
    let addr = silent_listener(&rt);
    let out = btcwire()
        .args([
            "ping",
            &addr.to_string(),
            "--network",
            "regtest",
            "--timeout",
            "1s",
        ])
        .timeout(RUN)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("timed out waiting for `version`"),
        "{stderr}"
    );
}

/// Starts a node that completes the handshake, then never reads or answers again.
fn mute_after_handshake(rt: &Runtime) -> SocketAddr {
    rt.block_on(async {
        let socket = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = socket.local_addr().expect("bound");
        tokio::spawn(async move {
            let config = PeerConfig::new(Network::Regtest);
            let mut held = Vec::new();
            for _ in 0..16 {
                let Ok((stream, remote)) = socket.accept().await else {
                    return;
                };
                let nonces = btcwire_net::NonceSet::new();
                if let Ok(done) = btcwire_net::accept(stream, remote, &config, &nonces).await {
                    held.push(done);
                }
            }
        });
        addr
    })
}

#[test]
fn ping_counts_unanswered_pings_as_lost() {
    let rt = runtime();
    let addr = mute_after_handshake(&rt);
    let out = btcwire()
        .args([
            "ping",
            &addr.to_string(),
            "--network",
            "regtest",
            "--count",
            "1",
        ])
        .timeout(RUN)
        .output()
        .expect("runs");
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("no pong from {addr}: nonce=")),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().last(),
        Some("1 sent, 0 received"),
        "{stdout}"
    );
}

#[test]
fn handshake_table_keeps_input_order_and_concurrency_bounds_the_pool() {
    let rt = runtime();
    let (silent, ours) = (silent_listener(&rt), our_listener(&rt));
    let refused = closed_port();
    let targets = [silent.to_string(), ours.to_string(), refused.to_string()];
    let out = btcwire()
        .arg("handshake")
        .args(&targets)
        .args(["--network", "regtest", "--timeout", "1s"])
        .timeout(RUN)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    let rows: Vec<&str> = stdout.lines().skip(1).take(3).collect();
    for (row, target) in rows.iter().zip(&targets) {
        assert!(row.starts_with(target.as_str()), "{stdout}");
    }
    assert!(
        rows[0].contains("timed out waiting for `version`"),
        "{stdout}"
    );
    assert!(rows[1].contains(" ok "), "{stdout}");
    assert!(rows[2].contains("refused"), "{stdout}");
    assert!(
        stdout
            .lines()
            .nth(4)
            .is_some_and(|s| s.starts_with("1 ok, 2 failed in ")),
        "{stdout}"
    );

    // One probe at a time: two silent nodes take two timeouts, one after the other.
    let other = silent_listener(&rt);
    let started = std::time::Instant::now();
    let out = btcwire()
        .args(["handshake", &silent.to_string(), &other.to_string()])
        .args([
            "--network",
            "regtest",
            "--timeout",
            "1s",
            "--concurrency",
            "1",
            "--json",
        ])
        .timeout(RUN)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json_lines(&out.stdout).len(), 2);
    // A lower bound only: load can make it longer, never shorter.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
