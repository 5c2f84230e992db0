//! The JSON of every message type, the human lines, the hex reader, and the frame loop's
//! error reports.

use std::collections::HashSet;

use btcwire::bytes::BytesMut;
use btcwire::msg::{Message, Ping, Tx};
use btcwire::types::tx::{OutPoint, TxIn, TxOut, Witness};
use btcwire::{Command, Encode, Network, encode_frame};
use indicatif::ProgressBar;
use serde_json::{Value, json};

use super::json::{hex, message};
use super::{Args, Error, Printer, human, unhex};

/// The developer reference's `version` example.
const DEVREF_VERSION: &str = concat!(
    "72110100",
    "0100000000000000",
    "bc8f5e5400000000",
    "0100000000000000",
    "00000000000000000000ffffc61b6409",
    "208d",
    "0100000000000000",
    "00000000000000000000ffffcb0071c0",
    "208d",
    "128035cbc97953f8",
    "0f",
    "2f5361746f7368693a302e392e332f",
    "cf050500",
    "01",
);

const GENESIS_HEADER: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";
const GENESIS_COINBASE: &str = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";
const GENESIS_HASH: &str = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f";
const GENESIS_TXID: &str = "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b";

/// Wire-order hex of a reversed-hex hash.
fn wire(hash: &str) -> String {
    let mut bytes = unhex(hash.as_bytes()).unwrap();
    bytes.reverse();
    hex(&bytes)
}

fn bytes(hex: &str) -> Vec<u8> {
    unhex(hex.as_bytes()).unwrap()
}

/// Decodes `payload` as `command` and returns its JSON fields.
fn fields(command: &str, payload: &[u8]) -> Value {
    let msg = Message::decode(Command::new(command), payload)
        .unwrap_or_else(|e| panic!("{command}: {}", crate::common::chain(&e)));
    assert!(!matches!(msg, Message::Unknown { .. }), "{command} unknown");
    Value::Object(message(&msg))
}

/// A valid payload of every message type, as hex.
fn every_payload() -> Vec<(&'static str, String)> {
    let hash = wire(GENESIS_HASH);
    let txid = wire(GENESIS_TXID);
    let addr = "d91f4854010000000000000000000000000000000000ffff7f000001208d";
    vec![
        ("version", DEVREF_VERSION.to_owned()),
        ("verack", String::new()),
        ("ping", "0094102111e2af4d".to_owned()),
        ("pong", "0094102111e2af4d".to_owned()),
        ("getaddr", String::new()),
        ("addr", format!("01{addr}")),
        // An IPv4 entry and a Tor v3 entry.
        (
            "addrv2",
            format!(
                "02{}d91f4854000420{}208d",
                "d91f48540901047f000001208d",
                "ab".repeat(32)
            ),
        ),
        ("sendaddrv2", String::new()),
        ("feefilter", "7cbd000000000000".to_owned()),
        ("sendheaders", String::new()),
        ("wtxidrelay", String::new()),
        ("sendtxrcncl", "01000000efcdab8967452301".to_owned()),
        ("feature", "0642495034333403aabbcc".to_owned()),
        (
            "reject",
            concat!(
                "0274781215",
                "6261642d74786e732d696e707574732d7370656e74",
                "394715fcab51093be7bfca5a31005972947baf86a31017939575fb2354222821"
            )
            .to_owned(),
        ),
        ("inv", format!("0201000000{txid}02000000{hash}")),
        ("getdata", format!("0105000000{txid}")),
        ("notfound", format!("0107000000{txid}")),
        (
            "getblocks",
            format!("7f110100 01{hash} {}", "00".repeat(32)),
        ),
        ("getheaders", format!("7f110100 01{hash} {hash}")),
        ("headers", format!("01{GENESIS_HEADER}00")),
        ("block", format!("{GENESIS_HEADER}01{GENESIS_COINBASE}")),
        ("tx", GENESIS_COINBASE.to_owned()),
        ("mempool", String::new()),
        ("sendcmpct", "010200000000000000".to_owned()),
        (
            "cmpctblock",
            format!("{GENESIS_HEADER}0807060504030201 01aabbccddeeff 0100{GENESIS_COINBASE}"),
        ),
        ("getblocktxn", format!("{hash}020001")),
        ("blocktxn", format!("{hash}01{GENESIS_COINBASE}")),
        ("filterload", "02ff0f0500000007000000 01".to_owned()),
        ("filteradd", "03aabbcc".to_owned()),
        ("filterclear", String::new()),
        (
            "merkleblock",
            format!("{GENESIS_HEADER}01000000 01{txid} 0101"),
        ),
        ("getcfilters", format!("00 01000000 {hash}")),
        ("cfilter", format!("00 {hash} 04 01aabbcc")),
        ("getcfheaders", format!("00 01000000 {hash}")),
        (
            "cfheaders",
            format!("00 {hash} {} 01{txid}", "00".repeat(32)),
        ),
        ("getcfcheckpt", format!("00 {hash}")),
        ("cfcheckpt", format!("00 {hash} 01{txid}")),
    ]
}

#[test]
fn every_message_type_has_its_fields() {
    let mut seen = HashSet::new();
    for (command, hex) in every_payload() {
        let payload = bytes(&hex);
        let value = fields(command, &payload);
        // Only `unknown` commands fall back to the raw payload.
        assert!(value.get("payload").is_none(), "{command}: {value}");
        let empty = matches!(
            command,
            "verack"
                | "getaddr"
                | "sendaddrv2"
                | "sendheaders"
                | "wtxidrelay"
                | "mempool"
                | "filterclear"
        );
        assert_eq!(
            value.as_object().unwrap().is_empty(),
            empty,
            "{command}: {value}"
        );
        assert!(seen.insert(Command::new(command)));
        // The human line works too and names no raw payload.
        let msg = Message::decode(Command::new(command), &payload).unwrap();
        assert!(!human::describe(&msg).starts_with("payload="), "{command}");
    }
    let known: HashSet<Command> = btcwire::msg::KNOWN_COMMANDS.iter().copied().collect();
    assert_eq!(seen, known, "every known command is covered");
}

#[test]
fn version_json() {
    let v = fields("version", &bytes(DEVREF_VERSION));
    assert_eq!(v["version"], 70_002);
    assert_eq!(v["services"], 1);
    assert_eq!(v["service_names"], json!(["NETWORK"]));
    assert_eq!(v["timestamp"], 1_415_483_324);
    assert_eq!(
        v["addr_recv"],
        json!({"services": 1, "service_names": ["NETWORK"], "ip": "198.27.100.9", "port": 8333})
    );
    assert_eq!(v["addr_from"]["ip"], "203.0.113.192");
    assert_eq!(v["nonce"], 17_893_779_652_077_781_010_u64);
    assert_eq!(v["user_agent"], "/Satoshi:0.9.3/");
    assert_eq!(v["start_height"], 329_167);
    assert_eq!(v["relay"], true);
    assert!(v.get("user_agent_hex").is_none());
}

#[test]
fn version_without_relay_says_null() {
    let mut raw = bytes(DEVREF_VERSION);
    raw.pop();
    let v = fields("version", &raw);
    assert_eq!(v["relay"], Value::Null);
}

#[test]
fn inventory_hashes_are_reversed_for_known_types_only() {
    let (hash, txid) = (wire(GENESIS_HASH), wire(GENESIS_TXID));
    let raw = bytes(&format!("0301000000{txid}02000000{hash}09000000{txid}"));
    let v = fields("inv", &raw);
    assert_eq!(v["count"], 3);
    assert_eq!(
        v["inventory"][0],
        json!({"inv_type": "TX", "inv_type_id": 1, "hash": GENESIS_TXID})
    );
    assert_eq!(v["inventory"][1]["inv_type"], "BLOCK");
    assert_eq!(v["inventory"][1]["hash"], GENESIS_HASH);
    // An unknown type: its hash is only bytes, shown in wire order.
    assert_eq!(v["inventory"][2]["inv_type"], "0x00000009");
    assert_eq!(v["inventory"][2]["hash"], txid);
}

#[test]
fn block_json_has_header_checks_and_transactions() {
    let raw = bytes(&format!("{GENESIS_HEADER}01{GENESIS_COINBASE}"));
    let v = fields("block", &raw);
    assert_eq!(v["hash"], GENESIS_HASH);
    assert_eq!(v["version"], 1);
    assert_eq!(v["prev_blockhash"], "00".repeat(32));
    assert_eq!(v["merkle_root"], GENESIS_TXID);
    assert_eq!(v["time"], 1_231_006_505);
    assert_eq!(v["bits"], "1d00ffff");
    assert_eq!(v["nonce"], 2_083_236_893);
    assert_eq!(v["size"], 285);
    assert_eq!(v["weight"], 1140);
    assert_eq!(v["tx_count"], 1);
    assert_eq!(
        v["checks"],
        json!({
            "ok": true, "error": null, "pow": true, "merkle_root": true,
            "merkle_mutated": false, "computed_merkle_root": GENESIS_TXID,
            "witness_commitment": "not_required",
        })
    );
    let tx = &v["txs"][0];
    assert_eq!(tx["txid"], GENESIS_TXID);
    assert_eq!(tx["wtxid"], GENESIS_TXID);
    assert_eq!(tx["coinbase"], true);
    assert_eq!(
        tx["inputs"][0]["previous_output"],
        format!("{}:4294967295", "00".repeat(32))
    );
    assert_eq!(tx["inputs"][0]["sequence"], 0xffff_ffff_u32);
    assert!(
        tx["inputs"][0]["script_sig"]
            .as_str()
            .unwrap()
            .starts_with("04ffff001d")
    );
    assert_eq!(tx["outputs"][0]["value"], 5_000_000_000_i64);
    assert!(
        tx["outputs"][0]["script_pubkey"]
            .as_str()
            .unwrap()
            .ends_with("ac")
    );
}

#[test]
fn block_checks_report_failures() {
    // The genesis block with another nonce: proof of work fails, the merkle root holds.
    let mut raw = bytes(&format!("{GENESIS_HEADER}01{GENESIS_COINBASE}"));
    raw[76] ^= 1;
    let v = fields("block", &raw);
    assert_eq!(v["checks"]["ok"], false);
    assert_eq!(v["checks"]["pow"], false);
    assert_eq!(v["checks"]["merkle_root"], true);
    assert!(
        v["checks"]["error"]
            .as_str()
            .unwrap()
            .starts_with("proof of work: block hash")
    );
    let msg = Message::decode(Command::new("block"), &raw).unwrap();
    let line = human::describe(&msg);
    assert!(
        line.contains("pow=FAIL merkle=ok witness=not_required"),
        "{line}"
    );
}

#[test]
fn segwit_tx_json_has_witness_and_both_ids() {
    let prev = OutPoint {
        txid: GENESIS_TXID.parse().unwrap(),
        vout: 3,
    };
    let inputs = [TxIn {
        previous_output: prev,
        script_sig: &[],
        sequence: 0xffff_fffd,
    }];
    let outputs = [TxOut {
        value: 12_345,
        script_pubkey: &[0x00, 0x14, 0xaa],
    }];
    let items: [&[u8]; 2] = [&[0x30, 0x44], &[0x02, 0x03]];
    let witnesses = [Witness::from_items(&items)];
    let tx = Tx::new(2, &inputs, &outputs, &witnesses, 800_000);
    let raw = tx.to_vec();
    let v = fields("tx", &raw);
    assert_eq!(v["txid"], tx.txid().to_string());
    assert_eq!(v["wtxid"], tx.wtxid().to_string());
    assert_ne!(v["txid"], v["wtxid"]);
    assert_eq!(v["version"], 2);
    assert_eq!(v["lock_time"], 800_000);
    assert_eq!(v["segwit"], true);
    assert_eq!(v["size"], raw.len());
    assert_eq!(
        v["inputs"][0],
        json!({
            "previous_output": format!("{GENESIS_TXID}:3"),
            "script_sig": "",
            "sequence": 0xffff_fffd_u32,
            "witness": ["3044", "0203"],
        })
    );
    assert_eq!(
        v["outputs"][0],
        json!({"value": 12_345, "script_pubkey": "0014aa"})
    );
}

#[test]
fn addr_and_addrv2_json() {
    let payloads: HashSet<_> = every_payload().into_iter().collect();
    let find = |c: &str| bytes(&payloads.iter().find(|(k, _)| *k == c).unwrap().1);
    let v = fields("addr", &find("addr"));
    assert_eq!(
        v["addr_list"][0],
        json!({"time": 1_414_012_889, "services": 1, "service_names": ["NETWORK"], "ip": "127.0.0.1", "port": 8333})
    );
    let v = fields("addrv2", &find("addrv2"));
    assert_eq!(v["count"], 2);
    assert_eq!(v["addr_list"][0]["services"], 9);
    assert_eq!(
        v["addr_list"][0]["service_names"],
        json!(["NETWORK", "WITNESS"])
    );
    assert_eq!(v["addr_list"][0]["network"], "IPV4");
    assert_eq!(v["addr_list"][0]["addr"], "127.0.0.1");
    assert_eq!(v["addr_list"][1]["network"], "TORV3");
    assert_eq!(v["addr_list"][1]["network_id"], 4);
    assert_eq!(v["addr_list"][1]["port"], 8333);
}

#[test]
fn small_messages_json() {
    assert_eq!(
        fields("ping", &bytes("0094102111e2af4d")),
        json!({"nonce": 0x4daf_e211_2110_9400_u64})
    );
    assert_eq!(
        fields("feefilter", &bytes("7cbd000000000000")),
        json!({"feerate": 48_508})
    );
    assert_eq!(
        fields("sendtxrcncl", &bytes("01000000efcdab8967452301")),
        json!({"version": 1, "salt": 0x0123_4567_89ab_cdef_u64})
    );
    assert_eq!(
        fields("sendcmpct", &bytes("010200000000000000")),
        json!({"announce": true, "version": 2})
    );
    assert_eq!(
        fields("feature", &bytes("0642495034333403aabbcc")),
        json!({"feature_id": "BIP434", "data": "aabbcc"})
    );
    let reject = fields(
        "reject",
        &bytes(concat!(
            "0274781215",
            "6261642d74786e732d696e707574732d7370656e74",
            "394715fcab51093be7bfca5a31005972947baf86a31017939575fb2354222821"
        )),
    );
    assert_eq!(
        reject,
        json!({
            "message": "tx", "ccode": 0x12, "ccode_name": "DUPLICATE",
            "reason": "bad-txns-inputs-spent",
            "data": "2128225423fb7595931710a386af7b94725900315acabfe73b0951abfc154739",
        })
    );
    assert_eq!(fields("verack", &[]), json!({}));
    let unknown = Message::decode(Command::new("mystery"), &[0xab, 0xcd]).unwrap();
    assert_eq!(Value::Object(message(&unknown)), json!({"payload": "abcd"}));
}

#[test]
fn locator_headers_and_filters_json() {
    let hash = wire(GENESIS_HASH);
    let v = fields("getheaders", &bytes(&format!("7f110100 01{hash} {hash}")));
    assert_eq!(
        v,
        json!({"version": 70_015, "locator": [GENESIS_HASH], "stop_hash": GENESIS_HASH})
    );
    let v = fields("headers", &bytes(&format!("01{GENESIS_HEADER}00")));
    assert_eq!(v["count"], 1);
    assert_eq!(v["continuous"], true);
    assert_eq!(v["headers"][0]["hash"], GENESIS_HASH);
    assert_eq!(v["headers"][0]["bits"], "1d00ffff");
    let v = fields(
        "cfheaders",
        &bytes(&format!("00 {hash} {} 01{hash}", "00".repeat(32))),
    );
    assert_eq!(v["filter_type"], 0);
    assert_eq!(v["filter_type_name"], "BASIC");
    assert_eq!(v["stop_hash"], GENESIS_HASH);
    assert_eq!(v["previous_filter_header"], "00".repeat(32));
    assert_eq!(v["filter_hashes"], json!([GENESIS_HASH]));
    let v = fields("cfilter", &bytes(&format!("00 {hash} 04 01aabbcc")));
    assert_eq!(v["filter"], "01aabbcc");
    assert_eq!(v["block_hash"], GENESIS_HASH);
}

#[test]
fn compact_and_bloom_json() {
    let hash = wire(GENESIS_HASH);
    let raw = bytes(&format!(
        "{GENESIS_HEADER}0807060504030201 01aabbccddeeff 0100{GENESIS_COINBASE}"
    ));
    let v = fields("cmpctblock", &raw);
    assert_eq!(v["hash"], GENESIS_HASH);
    assert_eq!(v["header"]["hash"], GENESIS_HASH);
    assert_eq!(v["nonce"], 0x0102_0304_0506_0708_u64);
    assert_eq!(v["tx_count"], 2);
    assert_eq!(v["short_ids"], json!(["aabbccddeeff"]));
    assert_eq!(v["prefilled_txn"][0]["index"], 0);
    assert_eq!(v["prefilled_txn"][0]["tx"]["txid"], GENESIS_TXID);
    let v = fields("getblocktxn", &bytes(&format!("{hash}020001")));
    assert_eq!(v, json!({"block_hash": GENESIS_HASH, "indexes": [0, 2]}));
    let v = fields("filterload", &bytes("02ff0f0500000007000000 01"));
    assert_eq!(
        v,
        json!({"filter": "ff0f", "hash_funcs": 5, "tweak": 7, "flags": 1, "flags_name": "ALL"})
    );
    let txid = wire(GENESIS_TXID);
    let v = fields(
        "merkleblock",
        &bytes(&format!("{GENESIS_HEADER}01000000 01{txid} 0101")),
    );
    assert_eq!(v["total_transactions"], 1);
    assert_eq!(v["hashes"], json!([GENESIS_TXID]));
    assert_eq!(v["flags"], "01");
    assert_eq!(v["checks"]["ok"], true);
    assert_eq!(
        v["checks"]["matches"],
        json!([{"index": 0, "txid": GENESIS_TXID}])
    );
}

#[test]
fn unhex_skips_whitespace_and_comments() {
    assert_eq!(
        unhex(b"ab cd\n# comment ff\n\tEF # more\n").unwrap(),
        [0xab, 0xcd, 0xef]
    );
    assert!(unhex(b"").unwrap().is_empty());
    let e = unhex(b"abcd\n  zz").unwrap_err();
    assert!(
        matches!(
            e,
            Error::Hex {
                line: 2,
                column: 3,
                found: b'z'
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.to_string(), "invalid hex digit `z` at line 2, column 3");
    assert!(matches!(unhex(b"abc"), Err(Error::OddHex { digits: 3 })));
}

fn args(payload: Option<&str>, json: bool) -> Args {
    Args {
        file: None,
        hex: false,
        payload: payload.map(Command::new),
        network: Network::Mainnet,
        json,
    }
}

/// Runs the printer over `input`; returns stdout, stderr and the error count.
fn run(args: &Args, input: &[u8]) -> (String, String, usize) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut printer = Printer::new(&mut out, &mut err, args.json, ProgressBar::hidden());
    printer.input(args, input).unwrap();
    printer.finish().unwrap();
    let errors = printer.errors;
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
        errors,
    )
}

/// Three pings, the middle one with a broken checksum, then a cut `version` and a ping.
fn stream_with_errors() -> Vec<u8> {
    let magic = Network::Mainnet.magic();
    let mut wire = BytesMut::new();
    encode_frame(magic, &Ping::new(1), &mut wire).unwrap();
    encode_frame(magic, &Ping::new(2), &mut wire).unwrap();
    wire[32 + 20] ^= 0xff;
    let cut = Message::Unknown {
        command: Command::new("version"),
        payload: &bytes(DEVREF_VERSION)[..84],
    };
    encode_frame(magic, &cut, &mut wire).unwrap();
    encode_frame(magic, &Ping::new(3), &mut wire).unwrap();
    wire.to_vec()
}

#[test]
fn frames_go_on_after_bad_checksum_and_bad_payload() {
    let input = stream_with_errors();
    let (out, err, errors) = run(&args(None, false), &input);
    assert_eq!(errors, 2);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(lines[0], "       0  ping         nonce=1");
    assert_eq!(lines[1], "     172  ping         nonce=3");
    assert_eq!(lines[2], "2 messages, 2 errors, 204 bytes");
    let errs: Vec<&str> = err.lines().collect();
    assert!(
        errs[0].starts_with("error: frame at byte 32: `ping` checksum mismatch"),
        "{err}"
    );
    assert_eq!(
        errs[1],
        "error: frame at byte 64 (error at input byte 168): malformed `version` message: \
         count 15 needs at least 15 bytes but only 3 remain in `user_agent` at byte 80"
    );
}

#[test]
fn json_errors_name_offset_command_and_field() {
    let input = stream_with_errors();
    let (out, err, errors) = run(&args(None, true), &input);
    assert_eq!(errors, 2);
    assert!(err.is_empty());
    let objs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objs.len(), 4);
    assert_eq!(objs[0]["command"], "ping");
    assert_eq!(objs[0]["nonce"], 1);
    assert_eq!(objs[0]["magic"], "f9beb4d9");
    assert_eq!(objs[0]["network"], "mainnet");
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
    assert_eq!(objs[3]["offset"], 172);
    assert_eq!(objs[3]["nonce"], 3);
}

#[test]
fn broken_header_stops_with_a_hint() {
    let mut input = stream_with_errors();
    // The third frame now carries the testnet3 magic: the stream cannot be followed.
    input[64..68].copy_from_slice(&Network::Testnet3.magic().0);
    let (out, err, errors) = run(&args(None, false), &input);
    assert_eq!(errors, 2);
    assert!(out.ends_with("1 message, 2 errors, 204 bytes\n"), "{out}");
    assert!(
        err.contains("error: frame at byte 64: wrong network magic 0b110907, expected f9beb4d9\nhint: that is the testnet3 magic: try --network testnet3\n"),
        "{err}"
    );
}

#[test]
fn truncated_input_is_reported() {
    let input = stream_with_errors();
    let (_, err, errors) = run(&args(None, false), &input[..200]);
    assert_eq!(errors, 3);
    assert!(
        err.ends_with("error: `ping` frame at byte 172 is cut short: 4 of its 8 payload bytes\n"),
        "{err}"
    );
    let (_, err, _) = run(&args(None, false), &input[..175]);
    assert!(
        err.ends_with("error: frame at byte 172 is cut short: 3 of its 24 header bytes\n"),
        "{err}"
    );
}

#[test]
fn hex_text_without_hex_flag_gets_a_hint() {
    let (_, err, errors) = run(&args(None, false), b"f9beb4d9 76657261");
    assert_eq!(errors, 1);
    assert!(
        err.contains("hint: the input looks like hex text: try --hex"),
        "{err}"
    );
    let text = b"f9beb4d9 76657261636b000000000000 00000000 5df6e0e2\n";
    let (_, err, errors) = run(&args(None, false), text);
    assert_eq!(errors, 1);
    assert!(
        err.contains("hint: the input looks like hex text: try --hex"),
        "{err}"
    );
}

#[test]
fn bare_payload() {
    let raw = bytes(&format!("{GENESIS_HEADER}01{GENESIS_COINBASE}"));
    let (out, _, errors) = run(&args(Some("block"), true), &raw);
    assert_eq!(errors, 0);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["offset"], 0);
    assert_eq!(v["command"], "block");
    assert_eq!(v["payload_len"], raw.len());
    assert_eq!(v["hash"], GENESIS_HASH);
    assert!(v.get("magic").is_none());
    // A cut payload names the field and its offset.
    let (_, err, errors) = run(&args(Some("block"), false), &raw[..100]);
    assert_eq!(errors, 1);
    assert!(
        err.starts_with("error: payload (error at input byte "),
        "{err}"
    );
    assert!(err.contains("malformed `block` message"), "{err}");
}
