//! One line per message: the key fields of each message type.

use std::fmt::Display;

use btcwire::Encode;
use btcwire::msg::{FilterType, Message};
use btcwire::types::block::WitnessCommitment;
use btcwire::types::{Block, BlockHash, List, Tx};

use super::json::{hex, inv_hash, witness_name};

/// How many items of a list a line shows before `…`.
const SHOWN_ITEMS: usize = 3;

/// How many payload bytes of an unknown message a line shows.
const SHOWN_BYTES: usize = 32;

/// Returns `count=N [a, b, c, …]`.
fn list<T: Display>(count: usize, items: impl Iterator<Item = T>) -> String {
    let shown: Vec<String> = items.take(SHOWN_ITEMS).map(|i| i.to_string()).collect();
    let more = if count > SHOWN_ITEMS { ", …" } else { "" };
    format!("count={count} [{}{more}]", shown.join(", "))
}

/// Returns bytes as hex, cut after [`SHOWN_BYTES`].
fn short_hex(bytes: &[u8]) -> String {
    if bytes.len() > SHOWN_BYTES {
        format!("{}… ({} bytes)", hex(&bytes[..SHOWN_BYTES]), bytes.len())
    } else {
        hex(bytes)
    }
}

/// Returns a filter type's name, or its number.
fn filter_type(t: FilterType) -> String {
    t.name().map_or_else(|| t.0.to_string(), str::to_owned)
}

/// Returns the key fields of `msg` on one line (without offset and command).
pub(super) fn describe(msg: &Message<'_>) -> String {
    match msg {
        Message::Version(v) => format!(
            "version={} services={} user_agent={:?} start_height={} relay={} addr_recv={} addr_from={} timestamp={} nonce={}",
            v.version,
            v.services,
            String::from_utf8_lossy(v.user_agent),
            v.start_height,
            v.relay
                .map_or_else(|| "absent".to_owned(), |r| r.to_string()),
            v.addr_recv,
            v.addr_from,
            v.timestamp,
            v.nonce,
        ),
        Message::Verack(_)
        | Message::GetAddr(_)
        | Message::SendAddrV2(_)
        | Message::SendHeaders(_)
        | Message::WtxidRelay(_)
        | Message::Mempool(_)
        | Message::FilterClear(_) => String::new(),
        Message::Ping(p) => format!("nonce={}", p.nonce),
        Message::Pong(p) => format!("nonce={}", p.nonce),
        Message::FeeFilter(f) => format!("feerate={} sat/kvB", f.feerate),
        Message::SendTxRcncl(s) => format!("version={} salt={}", s.version, s.salt),
        Message::Feature(f) => format!(
            "feature_id={:?} data={}",
            String::from_utf8_lossy(f.feature_id),
            short_hex(f.data)
        ),
        Message::Reject(r) => format!(
            "message={:?} ccode={} reason={:?}{}",
            String::from_utf8_lossy(r.message),
            r.ccode,
            String::from_utf8_lossy(r.reason),
            r.data
                .map(|h| format!(" data={}", btcwire::types::Txid(h)))
                .unwrap_or_default()
        ),
        Message::Addr(a) => list(a.len(), a.iter().map(|e| e.addr)),
        Message::AddrV2(a) => list(a.len(), a.iter()),
        Message::Inv(m) => inventory(m.len(), m.iter()),
        Message::GetData(m) => inventory(m.len(), m.iter()),
        Message::NotFound(m) => inventory(m.len(), m.iter()),
        Message::GetBlocks(m) => locator(m.version, m.locator, m.stop_hash),
        Message::GetHeaders(m) => locator(m.version, m.locator, m.stop_hash),
        Message::Headers(h) => match (h.iter().next(), h.iter().last()) {
            (Some(first), Some(last)) => format!(
                "count={} first={} last={} continuous={}",
                h.len(),
                first.block_hash(),
                last.block_hash(),
                yes_no(h.is_continuous()),
            ),
            _ => "count=0".to_owned(),
        },
        Message::Block(b) => block(b),
        Message::Tx(t) => tx(t),
        Message::SendCmpct(s) => format!("announce={} version={}", s.announce, s.version),
        Message::CmpctBlock(c) => format!(
            "hash={} txs={} short_ids={} prefilled={} nonce={}",
            c.block_hash(),
            c.tx_count(),
            c.short_ids.len(),
            c.prefilled_len(),
            c.nonce,
        ),
        Message::GetBlockTxn(g) => {
            format!("block_hash={} {}", g.block_hash, list(g.len(), g.indexes()))
        }
        Message::BlockTxn(b) => format!(
            "block_hash={} {}",
            b.block_hash,
            list(b.txs.len(), b.txs.iter().map(|t| t.txid()))
        ),
        Message::FilterLoad(f) => format!(
            "filter={} bytes hash_funcs={} tweak={} flags={}",
            f.filter.len(),
            f.hash_funcs,
            f.tweak,
            f.flags
                .name()
                .map_or_else(|| f.flags.0.to_string(), str::to_owned),
        ),
        Message::FilterAdd(f) => format!("data={}", short_hex(f.data)),
        Message::MerkleBlock(m) => format!(
            "hash={} total_transactions={} hashes={} matches={} check={}",
            m.header.block_hash(),
            m.total_transactions,
            m.hashes.len(),
            m.extract_matches().map_or(0, |found| found.matches.len()),
            m.check()
                .map_or_else(|e| format!("FAIL ({e})"), |_| "ok".to_owned()),
        ),
        Message::GetCFilters(g) => format!(
            "filter_type={} start_height={} stop_hash={}",
            filter_type(g.filter_type),
            g.start_height,
            g.stop_hash
        ),
        Message::CFilter(c) => format!(
            "filter_type={} block_hash={} filter={} bytes filter_hash={}",
            filter_type(c.filter_type),
            c.block_hash,
            c.filter.len(),
            c.filter_hash()
        ),
        Message::GetCFHeaders(g) => format!(
            "filter_type={} start_height={} stop_hash={}",
            filter_type(g.filter_type),
            g.start_height,
            g.stop_hash
        ),
        Message::CFHeaders(c) => format!(
            "filter_type={} stop_hash={} previous_filter_header={} filter_hashes={}",
            filter_type(c.filter_type),
            c.stop_hash,
            c.previous_filter_header,
            c.filter_hashes.len()
        ),
        Message::GetCFCheckpt(g) => {
            format!(
                "filter_type={} stop_hash={}",
                filter_type(g.filter_type),
                g.stop_hash
            )
        }
        Message::CFCheckpt(c) => format!(
            "filter_type={} stop_hash={} filter_headers={}",
            filter_type(c.filter_type),
            c.stop_hash,
            c.filter_headers.len()
        ),
        Message::Unknown { payload, .. } => {
            format!("unknown command, payload={}", short_hex(payload))
        }
        other => format!("payload={}", short_hex(&other.to_vec())),
    }
}

const fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// `inv`, `getdata`, `notfound`: the count and the first entries.
fn inventory(count: usize, items: impl Iterator<Item = btcwire::types::InvItem>) -> String {
    list(
        count,
        items.map(|i| format!("{} {}", i.inv_type, inv_hash(&i))),
    )
}

/// `getblocks`, `getheaders`.
fn locator(version: u32, locator: List<'_, BlockHash>, stop_hash: BlockHash) -> String {
    let first = locator
        .iter()
        .next()
        .map_or_else(|| "none".to_owned(), |h| h.to_string());
    format!(
        "version={version} locator={} first={first} stop_hash={stop_hash}",
        locator.len()
    )
}

/// `block`: hash, transaction count, size, weight and the checks.
fn block(b: &Block<'_>) -> String {
    // The header's own claim only (`check_pow`), not the network's limit (`check_pow_on`):
    // this describer sees the message alone, and a bare `--payload` has no network (the
    // `--network` flag names the frames' magic).
    let pow = if b.header.check_pow().is_ok() {
        "ok"
    } else {
        "FAIL"
    };
    let merkle = match b.merkle_root_mutated() {
        Some((root, false)) if root == b.header.merkle_root => "ok",
        Some((root, true)) if root == b.header.merkle_root => "FAIL (duplicate transactions)",
        _ => "FAIL",
    };
    let witness = b.witness_commitment();
    let witness = match witness {
        WitnessCommitment::NotRequired | WitnessCommitment::Valid => {
            witness_name(&witness).to_owned()
        }
        other => format!("FAIL ({})", witness_name(&other)),
    };
    format!(
        "hash={} txs={} size={} weight={} time={} pow={pow} merkle={merkle} witness={witness}",
        b.block_hash(),
        b.txs.len(),
        b.encoded_len(),
        b.weight(),
        b.header.time,
    )
}

/// `tx`: ids, counts and sizes.
fn tx(t: &Tx<'_>) -> String {
    format!(
        "txid={} wtxid={} inputs={} outputs={} size={} weight={} segwit={}",
        t.txid(),
        t.wtxid(),
        t.inputs.len(),
        t.outputs.len(),
        t.total_size(),
        t.weight(),
        yes_no(t.is_segwit()),
    )
}
