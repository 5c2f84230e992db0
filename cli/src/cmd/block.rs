//! `btcwire block`: fetch one block from a peer and check it.
//!
//! After the handshake the command sends `getdata` for the block with inventory type
//! `MSG_WITNESS_BLOCK` (so segwit blocks come with their witnesses) and waits for the
//! `block`, or a `notfound` naming it. The block is checked with [`Block::check`]: the
//! header's proof of work, the merkle root of the txids, and the BIP 141 witness commitment;
//! its target must also be at or below the network's proof-of-work limit
//! ([`btcwire::types::BlockHeader::check_pow_on`]), and its hash the one asked for. The
//! summary shows each check, the block's size, weight, time and the first transactions.

use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use btcwire::msg::{Block, NotFound};
use btcwire::types::block::WitnessCommitment;
use btcwire::types::{BlockHash, InvItem};
use btcwire::{DecodeError, Frame, Network, Payload};
use serde_json::json;

use super::headers::{Session, SessionError, WaitError};
use crate::common::{self, PeerOptions, parse_duration};

const EXAMPLES: &str = "\
Examples:
  btcwire block 127.0.0.1:18444 <hash> --network regtest
  btcwire block 127.0.0.1:18444 <hash> --network regtest --raw block.bin --json
  btcwire block seed.bitcoin.sipa.be 000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f --txs 20

HASH is the block hash as Bitcoin Core's RPC prints it (64 hex digits). --raw saves the
`block` message payload exactly as received, even when the block fails its check.
With --json one object: target, addr, hash, ok, error, size, weight, tx_count, version,
prev_blockhash, merkle_root, time, bits, nonce, pow_ok, merkle_ok, witness_commitment
(not_required, valid, missing, bad_reserved_value or mismatch), hash_ok, raw, and txs (the
first --txs transactions: txid, inputs, outputs, value_sat, coinbase, segwit).

Exit status: 0 when the block checks out, 1 when it does not (what failed is printed), the
peer does not have it, or anything else failed, 2 for usage errors.";

/// Arguments of `block`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    /// The peer: `host`, `host:port`, `ip:port` or `[ipv6]:port` (the network's port by default).
    #[arg(value_name = "TARGET")]
    target: String,
    /// The block's hash (64 hex digits, as Bitcoin Core's RPC prints it).
    #[arg(value_name = "HASH", value_parser = BlockHash::from_str)]
    hash: BlockHash,
    /// Save the block's exact bytes (the `block` message payload) to FILE.
    #[arg(long, value_name = "FILE")]
    raw: Option<PathBuf>,
    /// Transactions listed in the summary.
    #[arg(long, default_value_t = 5, value_name = "N")]
    txs: usize,
    /// Time allowed for the peer to answer `getdata`.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DUR")]
    request_timeout: Duration,
    /// Print one JSON object instead of the summary.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    peer: PeerOptions,
}

/// Why `block` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The connection or the handshake failed.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The peer answered `notfound`.
    #[error("peer does not have block {0}")]
    NotFound(BlockHash),
    /// No answer in time.
    #[error("no `block` or `notfound` answer within {timeout:?} to `getdata` for block {hash}")]
    Timeout {
        /// The block asked for.
        hash: BlockHash,
        /// The time allowed.
        timeout: Duration,
    },
    /// The peer ended before answering.
    #[error("peer disconnected before sending block {hash}")]
    Disconnected {
        /// The block asked for.
        hash: BlockHash,
        /// Why the peer ended.
        #[source]
        reason: btcwire_net::DisconnectReason,
    },
    /// The `block` message did not decode.
    #[error("malformed `block` message")]
    Malformed(#[source] DecodeError),
    /// `--raw` could not be written.
    #[error("writing {path}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// Standard output is gone (a closed pipe, say).
    #[error("writing to standard output")]
    Output(#[source] std::io::Error),
}

/// Sends `getdata` for `hash` and returns the `block` frame.
pub(crate) async fn fetch(
    session: &mut Session,
    hash: BlockHash,
    timeout: Duration,
) -> Result<Frame, Error> {
    if !session
        .handle
        .push_getdata(vec![InvItem::witness_block(hash)])
        .await
    {
        return Err(Error::Disconnected {
            hash,
            reason: session.ended().await,
        });
    }
    // A `notfound` for something else (a transaction, say) is not our answer.
    let ours = |frame: &Frame| match frame.command().as_str() {
        "block" => true,
        "notfound" => frame
            .decode_as::<NotFound>()
            .is_ok_and(|n| n.iter().any(|item| item.hash == hash.0)),
        _ => false,
    };
    let frame = session.wait_for(timeout, ours).await.map_err(|e| match e {
        WaitError::Timeout => Error::Timeout { hash, timeout },
        WaitError::Disconnected(reason) => Error::Disconnected { hash, reason },
    })?;
    if frame.command().as_str() == "notfound" {
        return Err(Error::NotFound(hash));
    }
    Ok(frame)
}

/// Returns a witness commitment state's JSON name.
fn commitment_name(state: WitnessCommitment) -> &'static str {
    match state {
        WitnessCommitment::NotRequired => "not_required",
        WitnessCommitment::Valid => "valid",
        WitnessCommitment::Missing => "missing",
        WitnessCommitment::BadReservedValue => "bad_reserved_value",
        WitnessCommitment::Mismatch { .. } => "mismatch",
    }
}

/// Formats satoshis as bitcoins with 8 decimals.
fn btc(sat: i64) -> String {
    let sign = if sat < 0 { "-" } else { "" };
    let abs = sat.unsigned_abs();
    format!("{sign}{}.{:08}", abs / 100_000_000, abs % 100_000_000)
}

/// Formats Unix seconds as a UTC date and time (proleptic Gregorian calendar).
fn utc(secs: u32) -> String {
    // Howard Hinnant's `civil_from_days`.
    let days = i64::from(secs / 86_400);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rem / 3_600,
        rem / 60 % 60,
        rem % 60
    )
}

/// What the checks of one block found.
#[derive(Debug)]
pub(crate) struct Summary {
    /// Whether every check passed and the hash is the one asked for.
    pub(crate) ok: bool,
    /// What failed, one line per failure.
    pub(crate) failures: Vec<String>,
    /// The JSON object.
    pub(crate) json: serde_json::Value,
    /// The human summary.
    pub(crate) text: String,
}

/// Checks the block in `frame` (asked for as `wanted`, on `network`) and describes it,
/// listing `txs` transactions.
pub(crate) fn summarize(
    frame: &Frame,
    network: Network,
    wanted: BlockHash,
    txs: usize,
) -> Result<Summary, Error> {
    let block = Block::decode(&frame.payload).map_err(Error::Malformed)?;
    Ok(describe(&block, network, frame.payload.len(), wanted, txs))
}

fn describe(
    block: &Block<'_>,
    network: Network,
    size: usize,
    wanted: BlockHash,
    txs: usize,
) -> Summary {
    let header = &block.header;
    let hash = block.block_hash();
    let check = block.check_on(network);
    let pow = header.check_pow_on(network);
    let (computed_root, mutated) = match block.merkle_root_mutated() {
        Some((root, mutated)) => (Some(root), mutated),
        None => (None, false),
    };
    // A tree that pairs two equal hashes (CVE-2012-2459) matches the header's root and is
    // still refused: `Block::check` reports it.
    let merkle_ok = computed_root == Some(header.merkle_root) && !mutated;
    let commitment = block.witness_commitment();
    let hash_ok = hash == wanted;

    let mut failures = Vec::new();
    if let Err(e) = &check {
        failures.push(format!(
            "block {hash} fails its check: {}",
            common::chain(e)
        ));
    }
    if !hash_ok {
        failures.push(format!("the peer sent block {hash}, not {wanted}"));
    }
    let ok = failures.is_empty();

    let listed: Vec<_> = block.txs().take(txs).collect();
    let value = |tx: &btcwire::msg::Tx<'_>| {
        tx.outputs
            .iter()
            .fold(0i64, |sum, out| sum.saturating_add(out.value))
    };
    let json = json!({
        "hash": hash.to_string(),
        "ok": ok,
        "error": (!ok).then(|| failures.join("; ")),
        "size": size,
        "weight": block.weight(),
        "tx_count": block.txs.len(),
        "version": header.version,
        "prev_blockhash": header.prev_blockhash.to_string(),
        "merkle_root": header.merkle_root.to_string(),
        "time": header.time,
        "bits": format!("0x{:08x}", header.bits),
        "nonce": header.nonce,
        "pow_ok": pow.is_ok(),
        "merkle_ok": merkle_ok,
        "witness_commitment": commitment_name(commitment),
        "hash_ok": hash_ok,
        "txs": listed.iter().map(|tx| json!({
            "txid": tx.txid().to_string(),
            "inputs": tx.inputs.len(),
            "outputs": tx.outputs.len(),
            "value_sat": value(tx),
            "coinbase": tx.is_coinbase(),
            "segwit": tx.is_segwit(),
        })).collect::<Vec<_>>(),
    });

    let yes = |b: bool| if b { "ok" } else { "FAILED" };
    let pow_text = match pow {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("FAILED: {e}"),
    };
    let merkle_text = match computed_root {
        _ if merkle_ok => format!("ok ({})", header.merkle_root),
        Some(_) if mutated => {
            "FAILED: duplicate transactions (a mutated merkle tree, CVE-2012-2459)".to_owned()
        }
        Some(computed) => format!(
            "FAILED: header has {}, transactions give {computed}",
            header.merkle_root
        ),
        None => "FAILED: no transactions".to_owned(),
    };
    let commitment_text = match commitment {
        WitnessCommitment::NotRequired => {
            "not required (no witness data, no commitment)".to_owned()
        }
        WitnessCommitment::Valid => "valid".to_owned(),
        WitnessCommitment::Missing => "FAILED: missing (witness data but no commitment)".to_owned(),
        WitnessCommitment::BadReservedValue => {
            "FAILED: bad reserved value (coinbase witness is not one 32-byte item)".to_owned()
        }
        WitnessCommitment::Mismatch {
            committed,
            computed,
        } => format!(
            "FAILED: mismatch (committed {}, computed {})",
            BlockHash(committed),
            BlockHash(computed)
        ),
    };
    let rows = [
        (
            "hash",
            format!(
                "{hash} ({})",
                if hash_ok {
                    "as asked"
                } else {
                    "NOT the one asked for"
                }
            ),
        ),
        ("size", format!("{size} bytes")),
        ("weight", format!("{} WU", block.weight())),
        ("transactions", block.txs.len().to_string()),
        ("version", format!("0x{:08x}", header.version)),
        ("previous", header.prev_blockhash.to_string()),
        ("time", format!("{} ({})", utc(header.time), header.time)),
        ("bits", format!("0x{:08x}", header.bits)),
        ("nonce", header.nonce.to_string()),
        ("proof of work", pow_text),
        ("merkle root", merkle_text),
        ("witness", commitment_text),
        ("check", yes(ok).to_owned()),
    ];
    let mut text = String::new();
    for (key, value) in rows {
        text.push_str(&format!("{key:<14}{value}\n"));
    }
    if !listed.is_empty() {
        let more = block.txs.len() - listed.len();
        text.push_str(&format!(
            "\n{:>4}  {:<64}  {:>6}  {:>7}  {:>17}\n",
            "#", "TXID", "INPUTS", "OUTPUTS", "VALUE (BTC)"
        ));
        for (i, tx) in listed.iter().enumerate() {
            text.push_str(&format!(
                "{i:>4}  {:<64}  {:>6}  {:>7}  {:>17}\n",
                tx.txid().to_string(),
                tx.inputs.len(),
                tx.outputs.len(),
                btc(value(tx))
            ));
        }
        if more > 0 {
            text.push_str(&format!("      ... and {more} more\n"));
        }
    }
    Summary {
        ok,
        failures,
        json,
        text,
    }
}

pub(crate) async fn run(args: Args) -> Result<bool, Error> {
    let mut session = Session::open(&args.target, &args.peer).await?;
    let fetched = fetch(&mut session, args.hash, args.request_timeout).await;
    session.close();
    let frame = fetched?;
    if let Some(path) = &args.raw {
        std::fs::write(path, &frame.payload).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
    }
    let mut summary = summarize(&frame, args.peer.network(), args.hash, args.txs)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        if let Some(fields) = summary.json.as_object_mut() {
            fields.insert("target".to_owned(), json!(args.target));
            fields.insert("addr".to_owned(), json!(session.addr.to_string()));
            fields.insert(
                "raw".to_owned(),
                json!(args.raw.as_ref().map(|p| p.display().to_string())),
            );
        }
        writeln!(out, "{}", summary.json).map_err(Error::Output)?;
    } else {
        write!(out, "{}", summary.text).map_err(Error::Output)?;
        if let Some(path) = &args.raw {
            writeln!(
                out,
                "\nsaved {} bytes to {}",
                frame.payload.len(),
                path.display()
            )
            .map_err(Error::Output)?;
        }
    }
    drop(out);
    for failure in &summary.failures {
        eprintln!("error: {failure}");
    }
    Ok(summary.ok)
}

#[cfg(test)]
mod tests {
    use btcwire::Encode;
    use btcwire::msg::{Inv, Tx};
    use btcwire::types::MerkleNode;
    use btcwire::types::block::merkle_root;

    use super::super::headers::tests::{config, mine, pair, serve};
    use super::*;

    /// The genesis coinbase transaction (Bitcoin Core chainparams.cpp), hex.
    const COINBASE: &str = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";

    const WAIT: Duration = Duration::from_secs(10);

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Returns the payload of a regtest block holding the genesis coinbase, and its hash.
    fn block_payload(tamper: bool) -> (Vec<u8>, BlockHash) {
        let mut coinbase = hex(COINBASE);
        let tx = Tx::decode(&coinbase).unwrap();
        let header = mine(
            BlockHash([1; 32]),
            MerkleNode(merkle_root([tx.txid().0]).unwrap()),
            1_296_688_602,
        );
        if tamper {
            // The output value's low byte: the merkle root no longer matches.
            let at = coinbase.len() - 4 - 67 - 1 - 8;
            coinbase[at] ^= 1;
        }
        let tx = Tx::decode(&coinbase).unwrap();
        let txs = [tx];
        let block = Block::new(header, &txs);
        let mut payload = Vec::new();
        block.encode(&mut payload);
        (payload, header.block_hash())
    }

    /// Serves `payload` as a block to any `getdata` for `have`, and `notfound` otherwise.
    async fn session_with(payload: Vec<u8>, have: BlockHash) -> Session {
        let (session, peer, events) = pair().await;
        let magic = config().magic;
        serve(peer, events, move |frame| {
            let Ok(request) = frame.decode_as::<btcwire::msg::GetData>() else {
                return vec![];
            };
            let items: Vec<InvItem> = request.iter().collect();
            if items.iter().all(|i| i.hash == have.0) {
                // Something unrelated first: it must be skipped.
                let noise = Frame::from_message(
                    magic,
                    &Inv::from_items(&[InvItem::tx(btcwire::types::Txid([3; 32]))]),
                )
                .unwrap();
                let block = Frame::from_message(magic, &Block::decode(&payload).unwrap()).unwrap();
                vec![noise, block]
            } else {
                vec![Frame::from_message(magic, &NotFound::from_items(&items)).unwrap()]
            }
        });
        session
    }

    #[tokio::test]
    async fn fetches_and_checks_a_block() {
        let (payload, hash) = block_payload(false);
        let mut session = session_with(payload.clone(), hash).await;
        let frame = fetch(&mut session, hash, WAIT).await.unwrap();
        assert_eq!(&frame.payload[..], &payload[..], "the exact bytes");
        let summary = summarize(&frame, Network::Regtest, hash, 5).unwrap();
        assert!(summary.ok, "{:?}", summary.failures);
        assert_eq!(summary.json["hash"], hash.to_string());
        assert_eq!(summary.json["tx_count"], 1);
        assert_eq!(summary.json["merkle_ok"], true);
        assert_eq!(summary.json["witness_commitment"], "not_required");
        assert_eq!(summary.json["txs"][0]["value_sat"], 5_000_000_000i64);
        assert_eq!(summary.json["size"], payload.len());
        assert!(
            summary.text.contains("merkle root   ok"),
            "{}",
            summary.text
        );
        assert!(summary.text.contains("50.00000000"), "{}", summary.text);
        assert!(
            summary.text.contains("2011-02-02 23:16:42 UTC"),
            "{}",
            summary.text
        );
        session.close();
    }

    #[tokio::test]
    async fn a_bad_merkle_root_fails_the_check() {
        let (payload, hash) = block_payload(true);
        let mut session = session_with(payload, hash).await;
        let frame = fetch(&mut session, hash, WAIT).await.unwrap();
        let summary = summarize(&frame, Network::Regtest, hash, 5).unwrap();
        assert!(!summary.ok);
        assert_eq!(summary.json["merkle_ok"], false);
        assert_eq!(summary.json["pow_ok"], true);
        assert!(
            summary.failures[0].contains("merkle root mismatch"),
            "{:?}",
            summary.failures
        );
        session.close();
    }

    #[test]
    fn a_mutated_merkle_tree_fails() {
        // The same transaction twice: the tree pairs two equal hashes, so the header's root
        // matches and the block is still invalid (CVE-2012-2459).
        let coinbase = hex(COINBASE);
        let tx = Tx::decode(&coinbase).unwrap();
        let root = merkle_root([tx.txid().0, tx.txid().0]).unwrap();
        let header = mine(BlockHash([1; 32]), MerkleNode(root), 1_296_688_602);
        let txs = [tx, tx];
        let block = Block::new(header, &txs);
        let frame = Frame::from_message(config().magic, &block).unwrap();
        let hash = header.block_hash();
        let summary = summarize(&frame, Network::Regtest, hash, 5).unwrap();
        assert!(!summary.ok);
        assert_eq!(summary.json["merkle_ok"], false);
        assert!(
            summary.failures[0].contains("duplicate transactions"),
            "{:?}",
            summary.failures
        );
        assert!(
            summary.text.contains("FAILED: duplicate transactions"),
            "{}",
            summary.text
        );
    }

    #[tokio::test]
    async fn a_different_block_fails() {
        let (payload, hash) = block_payload(false);
        let frame = Frame::from_message(config().magic, &Block::decode(&payload).unwrap()).unwrap();
        let summary = summarize(&frame, Network::Regtest, BlockHash([5; 32]), 5).unwrap();
        assert!(!summary.ok);
        assert_eq!(summary.json["hash_ok"], false);
        assert!(summary.failures[0].contains(&format!("the peer sent block {hash}")));
    }

    #[test]
    fn a_block_above_the_network_limit_fails() {
        // The regtest block meets its own target, which is above every other network's
        // limit: `Block::check` passes, `Block::check_on(Mainnet)` does not.
        let (payload, hash) = block_payload(false);
        let frame = Frame::from_message(config().magic, &Block::decode(&payload).unwrap()).unwrap();
        let summary = summarize(&frame, Network::Mainnet, hash, 5).unwrap();
        assert!(!summary.ok);
        assert_eq!(summary.json["pow_ok"], false);
        assert_eq!(summary.json["merkle_ok"], true);
        assert_eq!(
            summary.failures,
            [format!(
                "block {hash} fails its check: proof of work: target of bits 0x207fffff is \
                 above the mainnet proof-of-work limit"
            )]
        );
        assert!(
            summary.text.contains(
                "proof of work FAILED: target of bits 0x207fffff is above the mainnet \
                 proof-of-work limit"
            ),
            "{}",
            summary.text
        );
    }

    #[tokio::test]
    async fn notfound_is_an_error() {
        let (payload, hash) = block_payload(false);
        let mut session = session_with(payload, hash).await;
        let other = BlockHash([8; 32]);
        let e = fetch(&mut session, other, WAIT).await.unwrap_err();
        assert_eq!(e.to_string(), format!("peer does not have block {other}"));
        session.close();
    }

    #[tokio::test]
    async fn a_silent_peer_times_out() {
        let (mut session, peer, events) = pair().await;
        serve(peer, events, |_| vec![]);
        let e = fetch(&mut session, BlockHash([8; 32]), Duration::from_millis(200))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Timeout { .. }), "{e:?}");
        session.close();
    }

    #[test]
    fn formats_amounts_and_times() {
        assert_eq!(btc(5_000_000_000), "50.00000000");
        assert_eq!(btc(1), "0.00000001");
        assert_eq!(btc(-150_000_000), "-1.50000000");
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_231_006_505), "2009-01-03 18:15:05 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(u32::MAX), "2106-02-07 06:28:15 UTC");
    }
}
