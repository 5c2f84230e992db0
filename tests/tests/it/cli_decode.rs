//! `btcwire decode` end to end: captured frames as hex files (`tests/data/capture_*.hex`),
//! a real block framed at run time, bare payloads, corrupted frames, and exit codes.

use std::path::PathBuf;
use std::time::Duration;

use btcwire::Network;
use btcwire::msg::{Ping, Pong};
use btcwire::types::{InvItem, InvType};
use btcwire_tests::cli::btcwire;
use btcwire_tests::{BLOCK_277647, frame};
use serde_json::Value;

/// Time allowed for one run of the binary.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The txids of block 277,647's coinbase, second and last transactions.
const BLOCK_277647_TXIDS: [&str; 3] = [
    "0fc1f998e6fc1fa43a879cea4a54fe9947e02b925ebc46237a2406c50e0f07ea",
    "d1e594eabe8c582dc01a8768cb01679aea6956165806f69f40e22e5e352b3bd1",
    "19808b177b72ec2e7043bb5ac468b7e6e90085853d1c5051788d522a11223ce6",
];

fn data(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
        .display()
        .to_string()
}

fn block_path() -> String {
    data(&format!("mainnet_block_{}.raw", BLOCK_277647.hash))
}

/// Runs `btcwire decode` with `args` and `stdin`; returns exit code, stdout, stderr.
fn decode(args: &[&str], stdin: &[u8]) -> (i32, String, String) {
    let out = btcwire()
        .arg("decode")
        .args(args)
        .write_stdin(stdin.to_vec())
        .timeout(TIMEOUT)
        .output()
        .expect("running btcwire");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
    )
}

fn ndjson(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// A ping, a pong and an inv, as raw mainnet frames.
fn small_frames(network: Network) -> Vec<u8> {
    let magic = network.magic();
    let mut wire = Vec::new();
    wire.extend_from_slice(&frame(
        magic,
        "ping",
        &btcwire::Encode::to_vec(&Ping::new(7)),
    ));
    wire.extend_from_slice(&frame(
        magic,
        "pong",
        &btcwire::Encode::to_vec(&Pong::new(7)),
    ));
    let items = [InvItem::new(InvType::WITNESS_TX, [0x11; 32])];
    let inv = btcwire::msg::Inv::from_items(&items);
    wire.extend_from_slice(&frame(magic, "inv", &btcwire::Encode::to_vec(&inv)));
    wire
}

#[test]
fn cli_decode_capture_json() {
    let path = data("capture_handshake.hex");
    let (code, out, err) = decode(&["--hex", &path, "--json"], b"");
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    let msgs = ndjson(&out);
    let commands: Vec<&str> = msgs
        .iter()
        .map(|m| m["command"].as_str().unwrap())
        .collect();
    assert_eq!(
        commands,
        ["version", "verack", "ping", "pong", "inv", "headers"]
    );
    let offsets: Vec<u64> = msgs.iter().map(|m| m["offset"].as_u64().unwrap()).collect();
    assert_eq!(offsets, [0, 125, 149, 181, 213, 310]);
    for m in &msgs {
        assert_eq!(m["magic"], "f9beb4d9");
        assert_eq!(m["network"], "mainnet");
    }

    let v = &msgs[0];
    assert_eq!(v["version"], 70_002);
    assert_eq!(v["services"], 1);
    assert_eq!(v["service_names"], serde_json::json!(["NETWORK"]));
    assert_eq!(v["timestamp"], 1_415_483_324);
    assert_eq!(v["addr_recv"]["ip"], "198.27.100.9");
    assert_eq!(v["addr_recv"]["port"], 8333);
    assert_eq!(v["addr_from"]["ip"], "203.0.113.192");
    assert_eq!(v["nonce"], 17_893_779_652_077_781_010_u64);
    assert_eq!(v["user_agent"], "/Satoshi:0.9.3/");
    assert_eq!(v["start_height"], 329_167);
    assert_eq!(v["relay"], true);
    assert_eq!(v["payload_len"], 101);
    assert_eq!(v["checksum"], "5f1a69d2");

    assert_eq!(msgs[1]["payload_len"], 0);
    assert_eq!(msgs[2]["nonce"], 0x4daf_e211_2110_9400_u64);
    assert_eq!(msgs[3]["nonce"], msgs[2]["nonce"]);

    let inv = &msgs[4]["inventory"];
    assert_eq!(inv[0]["inv_type"], "TX");
    assert_eq!(
        inv[0]["hash"],
        "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
    );
    assert_eq!(inv[1]["inv_type"], "BLOCK");
    assert_eq!(
        inv[1]["hash"],
        "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048"
    );

    let headers = &msgs[5];
    assert_eq!(headers["count"], 2);
    assert_eq!(headers["continuous"], true);
    assert_eq!(
        headers["headers"][0]["hash"],
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    );
    assert_eq!(
        headers["headers"][1]["prev_blockhash"],
        headers["headers"][0]["hash"]
    );
    assert_eq!(headers["headers"][1]["bits"], "1d00ffff");
}

#[test]
fn cli_decode_capture_human() {
    let path = data("capture_handshake.hex");
    let (code, out, err) = decode(&["--hex", &path], b"");
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 7, "{out}");
    assert!(lines[0].starts_with("       0  version      version=70002 services=NETWORK user_agent=\"/Satoshi:0.9.3/\" start_height=329167 relay=true"), "{out}");
    assert_eq!(lines[1], "     125  verack");
    assert_eq!(lines[2], "     149  ping         nonce=5597941425041871872");
    assert!(
        lines[4].starts_with("     213  inv          count=2 [TX 4a5e1e4b"),
        "{out}"
    );
    assert!(lines[5].contains("continuous=yes"), "{out}");
    assert_eq!(lines[6], "6 messages, 0 errors, 497 bytes");
}

#[test]
fn cli_decode_hex_from_stdin() {
    let text = std::fs::read(data("capture_handshake.hex")).unwrap();
    let (code, out, _) = decode(&["--hex", "-"], &text);
    assert_eq!(code, 0);
    assert!(out.ends_with("6 messages, 0 errors, 497 bytes\n"), "{out}");
}

#[test]
fn cli_decode_real_block_frame() {
    // The block framed at run time, then a ping after it.
    let magic = Network::Mainnet.magic();
    let mut input = frame(magic, "block", BLOCK_277647.bytes).to_vec();
    input.extend_from_slice(&small_frames(Network::Mainnet)[..32]);
    let (code, out, err) = decode(&["--json"], &input);
    assert_eq!(code, 0, "{err}");
    let msgs = ndjson(&out);
    assert_eq!(msgs.len(), 2);
    let b = &msgs[0];
    assert_eq!(b["command"], "block");
    assert_eq!(b["offset"], 0);
    assert_eq!(b["hash"], BLOCK_277647.hash);
    assert_eq!(b["tx_count"], 213);
    assert_eq!(b["size"], BLOCK_277647.bytes.len());
    assert_eq!(b["weight"], BLOCK_277647.bytes.len() * 4);
    assert_eq!(b["version"], 2);
    assert_eq!(b["bits"], "1903a30c");
    assert_eq!(
        b["prev_blockhash"],
        "0000000000000000c86826ab2fbe4639ec413004955a36e77c2267988579e653"
    );
    assert_eq!(
        b["merkle_root"],
        "36ac31298eb05c23be1f775d635104705e4560c6532b95c158023c6dc9af06c3"
    );
    assert_eq!(b["checks"]["ok"], true);
    assert_eq!(b["checks"]["pow"], true);
    assert_eq!(b["checks"]["merkle_root"], true);
    assert_eq!(b["checks"]["witness_commitment"], "not_required");
    let txs = b["txs"].as_array().unwrap();
    assert_eq!(txs.len(), 213);
    assert_eq!(txs[0]["txid"], BLOCK_277647_TXIDS[0]);
    assert_eq!(txs[1]["txid"], BLOCK_277647_TXIDS[1]);
    assert_eq!(txs[212]["txid"], BLOCK_277647_TXIDS[2]);
    assert_eq!(txs[0]["coinbase"], true);
    assert_eq!(txs[1]["coinbase"], false);
    assert_eq!(
        txs[1]["inputs"][0]["previous_output"],
        "545534220b84498bb941517b3b3d4d036db16f548aaa3218b9d72d5fe4fda8bd:0"
    );
    assert_eq!(txs[1]["outputs"][0]["value"], 3_799_950_000_i64);
    assert_eq!(
        txs[1]["outputs"][0]["script_pubkey"],
        "76a9142d3865a798aab6e3bc0706cbe4db46def5eb753088ac"
    );
    assert!(
        txs.iter()
            .all(|t| t["txid"] == t["wtxid"] && t["segwit"] == false)
    );
    assert_eq!(msgs[1]["offset"], 24 + BLOCK_277647.bytes.len());
    assert_eq!(msgs[1]["command"], "ping");

    let (code, out, _) = decode(&[], &input);
    assert_eq!(code, 0);
    assert!(
        out.starts_with(&format!(
            "       0  block        hash={} txs=213 size=149164 weight=596656 time=1388367102 pow=ok merkle=ok witness=not_required\n",
            BLOCK_277647.hash
        )),
        "{out}"
    );
}

#[test]
fn cli_decode_bare_block_payload() {
    let path = block_path();
    let (code, out, err) = decode(&["--payload", "block", &path], b"");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!(
            "       0  block        hash={} txs=213 ",
            BLOCK_277647.hash
        )),
        "{out}"
    );
    assert!(
        out.ends_with("1 message, 0 errors, 149164 bytes\n"),
        "{out}"
    );

    let (code, out, _) = decode(&["--payload", "block", &path, "--json"], b"");
    assert_eq!(code, 0);
    let msgs = ndjson(&out);
    assert_eq!(msgs[0]["hash"], BLOCK_277647.hash);
    assert_eq!(msgs[0]["tx_count"], 213);
    assert!(msgs[0].get("magic").is_none());

    // The same bytes cut short: the field and the offset are named.
    let cut = &BLOCK_277647.bytes[..1_000];
    let (code, out, err) = decode(&["--payload", "block"], cut);
    assert_eq!(code, 1);
    assert!(out.ends_with("0 messages, 1 error, 1000 bytes\n"), "{out}");
    assert!(
        err.starts_with("error: payload (error at input byte "),
        "{err}"
    );
    assert!(err.contains("malformed `block` message"), "{err}");
    assert!(err.contains("in `transactions`"), "{err}");
}

#[test]
fn cli_decode_corrupted_frames_in_the_middle() {
    let path = data("capture_corrupt.hex");
    let (code, out, err) = decode(&["--hex", &path], b"");
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("       0  ping "), "{out}");
    assert!(lines[1].starts_with("     172  pong "), "{out}");
    assert!(
        lines[2].starts_with("     204  headers      count=2 "),
        "{out}"
    );
    assert_eq!(lines[3], "3 messages, 2 errors, 391 bytes");
    let errs: Vec<&str> = err.lines().collect();
    assert_eq!(errs.len(), 2, "{err}");
    assert_eq!(
        errs[0],
        "error: frame at byte 32: `ping` checksum mismatch: header says [de, ad, be, ef], payload hashes to [88, ea, 81, 76]"
    );
    assert_eq!(
        errs[1],
        "error: frame at byte 64 (error at input byte 168): malformed `version` message: count 15 needs at least 15 bytes but only 3 remain in `user_agent` at byte 80"
    );

    let (code, out, err) = decode(&["--hex", &path, "--json"], b"");
    assert_eq!(code, 1);
    assert!(err.is_empty(), "{err}");
    let objs = ndjson(&out);
    assert_eq!(objs.len(), 5);
    assert_eq!(objs[1]["offset"], 32);
    assert_eq!(objs[1]["command"], "ping");
    assert!(
        objs[1]["error"]
            .as_str()
            .unwrap()
            .contains("checksum mismatch")
    );
    assert_eq!(objs[2]["offset"], 64);
    assert_eq!(objs[2]["command"], "version");
    assert_eq!(objs[2]["field"], "user_agent");
    assert_eq!(objs[2]["payload_offset"], 80);
    assert_eq!(objs[2]["error_offset"], 168);
    assert_eq!(objs[3]["command"], "pong");
    assert_eq!(objs[4]["command"], "headers");
    assert_eq!(objs[4]["offset"], 204);
}

#[test]
fn cli_decode_broken_header_stops() {
    let mut input = small_frames(Network::Mainnet);
    // The second frame's magic is testnet3's: no way to find the next frame.
    input[32..36].copy_from_slice(&Network::Testnet3.magic().0);
    let (code, out, err) = decode(&[], &input);
    assert_eq!(code, 1);
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.ends_with("1 message, 1 error, 125 bytes\n"), "{out}");
    assert_eq!(
        err,
        "error: frame at byte 32: wrong network magic 0b110907, expected f9beb4d9\n\
         hint: that is the testnet3 magic: try --network testnet3\n"
    );
    let (code, out, _) = decode(&["--json"], &input);
    assert_eq!(code, 1);
    let objs = ndjson(&out);
    assert_eq!(objs.len(), 2);
    assert_eq!(objs[1]["offset"], 32);
    assert_eq!(objs[1]["command"], "pong");
    assert!(
        objs[1]["error"]
            .as_str()
            .unwrap()
            .starts_with("frame at byte 32: wrong network magic")
    );

    // Cut inside the last frame.
    let input = small_frames(Network::Mainnet);
    let (code, _, err) = decode(&[], &input[..input.len() - 5]);
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "error: `inv` frame at byte 64 is cut short: 32 of its 37 payload bytes\n"
    );
}

#[test]
fn cli_decode_other_network_and_exit_codes() {
    let input = small_frames(Network::Regtest);
    let (code, out, _) = decode(&["--network", "regtest", "--json"], &input);
    assert_eq!(code, 0);
    let msgs = ndjson(&out);
    assert_eq!(msgs.len(), 3);
    assert_eq!(msgs[0]["network"], "regtest");
    assert_eq!(msgs[0]["magic"], "fabfb5da");
    assert_eq!(msgs[2]["inventory"][0]["inv_type"], "WITNESS_TX");
    assert_eq!(msgs[2]["inventory"][0]["hash"], "11".repeat(32));

    // Empty input: nothing to decode, nothing failed.
    let (code, out, _) = decode(&[], b"");
    assert_eq!(code, 0);
    assert_eq!(out, "0 messages, 0 errors, 0 bytes\n");

    // Hex that is not hex.
    let (code, _, err) = decode(&["--hex"], b"f9be\nb4 zz");
    assert_eq!(code, 1);
    assert_eq!(err, "error: invalid hex digit `z` at line 2, column 4\n");

    // Usage errors are clap's: exit 2.
    let (code, _, err) = decode(&["--payload", "much-too-long-command"], b"");
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = decode(&["--network", "moon"], b"");
    assert_eq!(code, 2);

    // A missing file is a failure of the command.
    let (code, _, err) = decode(&["/nonexistent/capture.bin"], b"");
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: reading /nonexistent/capture.bin: "),
        "{err}"
    );
}
