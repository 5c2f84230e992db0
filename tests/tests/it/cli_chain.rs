//! `btcwire headers` and `btcwire block` against a real foreign node: bcoin on loopback.
//!
//! One test function starts bcoin once (a few seconds), mines blocks, and runs every case
//! through the built binary, each bounded by a timeout: all headers, `--max` (exact, even
//! inside a batch), a block saved with `--raw`, a block bcoin does not have (`notfound`,
//! exit 1), an invalid hash (exit 2), and a chain longer than one batch of 2,000 headers.

use std::time::Duration;

use btcwire::Payload;
use btcwire::msg::Block;
use btcwire::types::BlockHash;
use btcwire_tests::bcoin::Bcoin;
use btcwire_tests::cli::btcwire;
use serde_json::Value;

/// Bound on each run of the binary.
const RUN: Duration = Duration::from_secs(60);

/// Blocks mined for the test.
const BLOCKS: u32 = 25;

/// Runs `btcwire` with `args`; returns the exit code, stdout and stderr.
fn run(args: &[&str]) -> (i32, String, String) {
    let out = btcwire()
        .args(args)
        .timeout(RUN)
        .output()
        .expect("btcwire runs");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap_or(-1),
        text(&out.stdout),
        text(&out.stderr),
    )
}

/// Runs `btcwire` expecting exit 0 and one JSON object on stdout.
fn run_json(args: &[&str]) -> Value {
    let (code, stdout, stderr) = run(args);
    assert_eq!(
        code, 0,
        "btcwire {args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line: {stdout}");
    serde_json::from_str(lines[0]).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_and_block_against_bcoin() {
    let node = Bcoin::start().await.expect("bcoin installs and starts");
    let mined = node
        .generate(BLOCKS)
        .await
        .expect("mining through JSON-RPC");
    assert_eq!(mined.len(), BLOCKS as usize);
    let addr = node.p2p.to_string();
    let addr = addr.as_str();

    // Every header, from genesis to the tip.
    let all = run_json(&["headers", addr, "--network", "regtest", "--json"]);
    assert_eq!(all["tip_height"], BLOCKS);
    assert_eq!(all["count"], BLOCKS);
    assert_eq!(all["tip_hash"], mined[24].as_str());
    assert_eq!(all["addr"], addr);
    // The rate is the count over the time taken (both rounded for display; no claim about
    // either's size).
    let (secs, rate) = (
        all["elapsed_s"].as_f64().expect("elapsed_s"),
        all["headers_per_s"].as_f64().expect("headers_per_s"),
    );
    assert!(secs >= 0.0 && rate >= 0.0, "{all}");
    if secs >= 0.01 {
        let expected = f64::from(BLOCKS) / secs;
        assert!((rate - expected).abs() <= expected * 0.1 + 1.0, "{all}");
    }
    assert!(
        all["user_agent"].as_str().unwrap().contains("bcoin"),
        "{all}"
    );

    // --max stops exactly there, even inside a batch.
    let ten = run_json(&[
        "headers",
        addr,
        "--network",
        "regtest",
        "--max",
        "10",
        "--json",
    ]);
    assert_eq!(ten["tip_height"], 10);
    assert_eq!(ten["count"], 10);
    assert_eq!(ten["tip_hash"], mined[9].as_str());

    // The human summary line.
    let (code, stdout, stderr) = run(&["headers", addr, "--network", "regtest"]);
    assert_eq!(code, 0, "{stderr}");
    let prefix = format!("tip {BLOCKS} {}, {BLOCKS} headers in ", mined[24]);
    assert!(
        stdout.starts_with(&prefix) && stdout.trim_end().ends_with(" headers/s)"),
        "{stdout}"
    );
    assert!(
        stderr.is_empty(),
        "no progress when stderr is not a terminal: {stderr}"
    );

    // Block 20, saved raw.
    let raw = std::env::temp_dir().join(format!("btcwire-cli-chain-{}.bin", std::process::id()));
    let raw_arg = raw.to_str().unwrap();
    let hash = mined[19].as_str();
    let block = run_json(&[
        "block",
        addr,
        hash,
        "--network",
        "regtest",
        "--raw",
        raw_arg,
        "--json",
    ]);
    assert_eq!(block["hash"], hash);
    assert_eq!(block["ok"], true, "{block}");
    assert_eq!(block["merkle_ok"], true);
    assert_eq!(block["pow_ok"], true);
    assert_eq!(block["hash_ok"], true);
    assert!(block["tx_count"].as_u64().unwrap() >= 1);
    assert!(
        matches!(
            block["witness_commitment"].as_str(),
            Some("valid" | "not_required")
        ),
        "{block}"
    );
    assert_eq!(block["txs"][0]["coinbase"], true);
    let bytes = std::fs::read(&raw).expect("--raw wrote the file");
    let _ = std::fs::remove_file(&raw);
    assert_eq!(block["size"], bytes.len());
    let decoded = Block::decode(&bytes).expect("the saved bytes are a block");
    assert_eq!(decoded.block_hash(), hash.parse::<BlockHash>().unwrap());
    assert_eq!(decoded.check(), Ok(decoded.block_hash()));

    // The human summary.
    let (code, stdout, stderr) = run(&["block", addr, hash, "--network", "regtest"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with(&format!("hash          {hash} (as asked)")),
        "{stdout}"
    );
    assert!(stdout.contains("\nmerkle root   ok ("), "{stdout}");
    assert!(stdout.contains("\ncheck         ok\n"), "{stdout}");

    // A block bcoin does not have: `notfound`, exit 1.
    let unknown = "11".repeat(32);
    let (code, stdout, stderr) = run(&["block", addr, &unknown, "--network", "regtest", "--json"]);
    assert_eq!(code, 1, "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(
        stderr.trim_end(),
        format!("error: peer does not have block {unknown}")
    );

    // An invalid hash is a usage error, caught before connecting.
    let (code, _, stderr) = run(&["block", addr, "not-a-hash", "--network", "regtest"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("expected 64 hex digits"), "{stderr}");

    // More than one batch of 2,000 headers (bcoin mines 2,000 regtest blocks in seconds).
    let more = node.generate(2_000).await.expect("mining through JSON-RPC");
    assert_eq!(more.len(), 2_000);
    let all = run_json(&["headers", addr, "--network", "regtest", "--json"]);
    assert_eq!(all["tip_height"], 2_025);
    assert_eq!(all["tip_hash"], more[1_999].as_str());
    let some = run_json(&[
        "headers",
        addr,
        "--network",
        "regtest",
        "--max",
        "2010",
        "--json",
    ]);
    assert_eq!(some["tip_height"], 2_010);
    assert_eq!(some["tip_hash"], more[2_010 - 25 - 1].as_str());
}

#[test]
fn headers_from_a_closed_port_fails_the_handshake() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let target = format!("127.0.0.1:{port}");
    let (code, stdout, stderr) = run(&[
        "headers",
        &target,
        "--network",
        "regtest",
        "--connect-timeout",
        "2s",
    ]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stderr.starts_with(&format!("error: handshake with {target}: ")),
        "{stderr}"
    );
}
