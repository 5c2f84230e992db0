//! The JSON of every message, one function per message family, with the field names of
//! the protocol documentation in snake_case.
//!
//! Hashes (block hashes, txids, wtxids, merkle roots, locators, inventory hashes of known
//! types, filter hashes and headers) are written in Bitcoin Core's byte-reversed hex, the
//! `Display` of the btcwire hash types; scripts, witness items, filters and other bytes in
//! plain hex, in wire order. Service flags come as a number (`services`) and their names
//! (`service_names`).

use std::fmt::Write as _;

use btcwire::Encode;
use btcwire::msg::{
    Addr, AddrV2, BlockTxn, CFCheckpt, CFHeaders, CFilter, CmpctBlock, Feature, FilterLoad,
    FilterType, GetBlockTxn, Headers, MerkleBlock, Message, Reject, Version,
};
use btcwire::types::block::WitnessCommitment;
use btcwire::types::{
    AddrEntry, AddrV2Entry, Block, BlockHash, BlockHeader, InvItem, Inventory, List, NetAddr,
    ServiceFlags, Tx, Txid,
};
use serde_json::{Map, Value, json};

use crate::common::chain;

/// Returns `bytes` as lowercase hex, in the order given.
pub(super) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Returns the fields of `msg` (the envelope fields are added by the caller).
pub(super) fn message(msg: &Message<'_>) -> Map<String, Value> {
    let value = match msg {
        Message::Version(v) => version(v),
        Message::Verack(_)
        | Message::GetAddr(_)
        | Message::SendAddrV2(_)
        | Message::SendHeaders(_)
        | Message::WtxidRelay(_)
        | Message::Mempool(_)
        | Message::FilterClear(_) => json!({}),
        Message::Ping(p) => json!({ "nonce": p.nonce }),
        Message::Pong(p) => json!({ "nonce": p.nonce }),
        Message::FeeFilter(f) => json!({ "feerate": f.feerate }),
        Message::SendTxRcncl(s) => json!({ "version": s.version, "salt": s.salt }),
        Message::Feature(f) => feature(f),
        Message::Reject(r) => reject(r),
        Message::Addr(a) => addr(a),
        Message::AddrV2(a) => addrv2(a),
        Message::Inv(m) => inventory(m.inventory),
        Message::GetData(m) => inventory(m.inventory),
        Message::NotFound(m) => inventory(m.inventory),
        Message::GetBlocks(m) => locator(m.version, m.locator, m.stop_hash),
        Message::GetHeaders(m) => locator(m.version, m.locator, m.stop_hash),
        Message::Headers(h) => headers(h),
        Message::Block(b) => block(b),
        Message::Tx(t) => tx(t),
        Message::SendCmpct(s) => json!({ "announce": s.announce, "version": s.version }),
        Message::CmpctBlock(c) => cmpct_block(c),
        Message::GetBlockTxn(g) => get_block_txn(g),
        Message::BlockTxn(b) => block_txn(b),
        Message::FilterLoad(f) => filter_load(f),
        Message::FilterAdd(f) => json!({ "data": hex(f.data) }),
        Message::MerkleBlock(m) => merkle_block(m),
        Message::GetCFilters(g) => json!({
            "filter_type": g.filter_type.0,
            "filter_type_name": filter_type_name(g.filter_type),
            "start_height": g.start_height,
            "stop_hash": g.stop_hash.to_string(),
        }),
        Message::CFilter(c) => cfilter(c),
        Message::GetCFHeaders(g) => json!({
            "filter_type": g.filter_type.0,
            "filter_type_name": filter_type_name(g.filter_type),
            "start_height": g.start_height,
            "stop_hash": g.stop_hash.to_string(),
        }),
        Message::CFHeaders(c) => cfheaders(c),
        Message::GetCFCheckpt(g) => json!({
            "filter_type": g.filter_type.0,
            "filter_type_name": filter_type_name(g.filter_type),
            "stop_hash": g.stop_hash.to_string(),
        }),
        Message::CFCheckpt(c) => cfcheckpt(c),
        Message::Unknown { payload, .. } => json!({ "payload": hex(payload) }),
        // A message type added to btcwire after this command was written: its bytes.
        other => json!({ "payload": hex(&other.to_vec()) }),
    };
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `services` and `service_names` of a set of flags, for merging into an object.
fn services(flags: ServiceFlags) -> (u64, Vec<&'static str>) {
    (flags.bits(), flags.names().collect())
}

/// A `version` address: services, IP (IPv4-mapped addresses shown as IPv4) and port.
fn net_addr(a: &NetAddr) -> Value {
    let (bits, names) = services(a.services);
    json!({
        "services": bits,
        "service_names": names,
        "ip": a.ip_addr().to_string(),
        "port": a.port,
    })
}

/// `version`.
fn version(v: &Version<'_>) -> Value {
    let (bits, names) = services(v.services);
    let mut out = json!({
        "version": v.version,
        "services": bits,
        "service_names": names,
        "timestamp": v.timestamp,
        "addr_recv": net_addr(&v.addr_recv),
        "addr_from": net_addr(&v.addr_from),
        "nonce": v.nonce,
        "user_agent": String::from_utf8_lossy(v.user_agent),
        "start_height": v.start_height,
        // BIP 37: absent means true; `null` says it was absent.
        "relay": v.relay,
    });
    if v.user_agent_str().is_none() {
        out["user_agent_hex"] = hex(v.user_agent).into();
    }
    out
}

/// `feature` (BIP 434).
fn feature(f: &Feature<'_>) -> Value {
    json!({
        "feature_id": String::from_utf8_lossy(f.feature_id),
        "data": hex(f.data),
    })
}

/// `reject` (BIP 61).
fn reject(r: &Reject<'_>) -> Value {
    json!({
        "message": String::from_utf8_lossy(r.message),
        "ccode": r.ccode.0,
        "ccode_name": r.ccode.name(),
        "reason": String::from_utf8_lossy(r.reason),
        // The hash of the rejected transaction or block: reversed like any hash.
        "data": r.data.map(|h| Txid(h).to_string()),
    })
}

/// One `addr` entry.
fn addr_entry(e: &AddrEntry) -> Value {
    let (bits, names) = services(e.addr.services);
    json!({
        "time": e.time,
        "services": bits,
        "service_names": names,
        "ip": e.addr.ip_addr().to_string(),
        "port": e.addr.port,
    })
}

/// `addr`.
fn addr(a: &Addr<'_>) -> Value {
    let list: Vec<Value> = a.iter().map(|e| addr_entry(&e)).collect();
    json!({ "count": a.len(), "addr_list": list })
}

/// One `addrv2` entry (BIP 155).
fn addrv2_entry(e: &AddrV2Entry<'_>) -> Value {
    let (bits, names) = services(e.services);
    let network = e.addr.network_id();
    json!({
        "time": e.time,
        "services": bits,
        "service_names": names,
        "network_id": network.0,
        "network": network.name(),
        "addr": e.addr.to_string(),
        "port": e.port,
    })
}

/// `addrv2` (BIP 155).
fn addrv2(a: &AddrV2<'_>) -> Value {
    let list: Vec<Value> = a.iter().map(|e| addrv2_entry(&e)).collect();
    json!({ "count": a.len(), "addr_list": list })
}

/// An inventory hash: reversed for the block and transaction types, as Core shows them;
/// plain hex for a type this crate does not know.
pub(super) fn inv_hash(item: &InvItem) -> String {
    if item.txid().is_some() || item.wtxid().is_some() || item.block_hash().is_some() {
        Txid(item.hash).to_string()
    } else {
        hex(&item.hash)
    }
}

/// One inventory entry.
fn inv_item(item: &InvItem) -> Value {
    json!({
        "inv_type": item.inv_type.to_string(),
        "inv_type_id": item.inv_type.0,
        "hash": inv_hash(item),
    })
}

/// `inv`, `getdata`, `notfound`.
fn inventory(inv: Inventory<'_>) -> Value {
    let list: Vec<Value> = inv.iter().map(|i| inv_item(&i)).collect();
    json!({ "count": inv.len(), "inventory": list })
}

/// `getblocks`, `getheaders`.
fn locator(version: u32, locator: List<'_, BlockHash>, stop_hash: BlockHash) -> Value {
    let hashes: Vec<String> = locator.iter().map(|h| h.to_string()).collect();
    json!({
        "version": version,
        "locator": hashes,
        "stop_hash": stop_hash.to_string(),
    })
}

/// A block header's fields and its hash; `bits` in hex, as Core's RPC shows it.
pub(super) fn header(h: &BlockHeader) -> Map<String, Value> {
    let value = json!({
        "hash": h.block_hash().to_string(),
        "version": h.version,
        "prev_blockhash": h.prev_blockhash.to_string(),
        "merkle_root": h.merkle_root.to_string(),
        "time": h.time,
        "bits": format!("{:08x}", h.bits),
        "nonce": h.nonce,
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `headers`.
fn headers(h: &Headers<'_>) -> Value {
    let list: Vec<Value> = h.iter().map(|h| Value::Object(header(&h))).collect();
    json!({
        "count": h.len(),
        // Whether each header links to the one before it (Core refuses a gap).
        "continuous": h.is_continuous(),
        "headers": list,
    })
}

/// Returns the name of a witness commitment state.
pub(super) const fn witness_name(w: &WitnessCommitment) -> &'static str {
    match w {
        WitnessCommitment::NotRequired => "not_required",
        WitnessCommitment::Valid => "valid",
        WitnessCommitment::Missing => "missing",
        WitnessCommitment::BadReservedValue => "bad_reserved_value",
        WitnessCommitment::Mismatch { .. } => "mismatch",
    }
}

/// A block's checks: proof of work, merkle root, witness commitment.
fn block_checks(b: &Block<'_>) -> Value {
    let (computed, mutated) = match b.merkle_root_mutated() {
        Some((root, mutated)) => (Some(root), mutated),
        None => (None, false),
    };
    let witness = b.witness_commitment();
    let check = b.check();
    let mut out = json!({
        "ok": check.is_ok(),
        "error": check.err().map(|e| chain(&e)),
        // The header's own claim only (`check_pow`), not the network's limit
        // (`check_pow_on`): this describer sees the message alone, and a bare `--payload`
        // has no network (the `--network` flag names the frames' magic).
        "pow": b.header.check_pow().is_ok(),
        "merkle_root": computed == Some(b.header.merkle_root) && !mutated,
        // CVE-2012-2459: a tree that pairs two equal hashes (Core's "bad-txns-duplicate").
        "merkle_mutated": mutated,
        "computed_merkle_root": computed.map(|c| c.to_string()),
        "witness_commitment": witness_name(&witness),
    });
    if let WitnessCommitment::Mismatch {
        committed,
        computed,
    } = witness
    {
        out["witness_committed"] = hex(&committed).into();
        out["witness_computed"] = hex(&computed).into();
    }
    out
}

/// `block`: the header's fields and hash, size, weight, checks, and every transaction.
fn block(b: &Block<'_>) -> Value {
    let mut out = header(&b.header);
    out.insert("size".into(), b.encoded_len().into());
    out.insert("weight".into(), b.weight().into());
    out.insert("tx_count".into(), b.txs.len().into());
    out.insert("checks".into(), block_checks(b));
    let txs: Vec<Value> = b.txs().map(|t| tx(&t)).collect();
    out.insert("txs".into(), txs.into());
    Value::Object(out)
}

/// `tx`: ids, sizes, and every input and output.
pub(super) fn tx(t: &Tx<'_>) -> Value {
    // The witness stacks are either absent or one per input.
    let mut stacks = t.witnesses.iter();
    let inputs: Vec<Value> = t
        .inputs
        .iter()
        .map(|input| {
            let witness: Vec<String> = stacks
                .next()
                .map(|stack| stack.iter().map(hex).collect())
                .unwrap_or_default();
            let prev = input.previous_output;
            json!({
                "previous_output": format!("{}:{}", prev.txid, prev.vout),
                "script_sig": hex(input.script_sig),
                "sequence": input.sequence,
                "witness": witness,
            })
        })
        .collect();
    let outputs: Vec<Value> = t
        .outputs
        .iter()
        .map(|output| {
            json!({
                "value": output.value,
                "script_pubkey": hex(output.script_pubkey),
            })
        })
        .collect();
    json!({
        "txid": t.txid().to_string(),
        "wtxid": t.wtxid().to_string(),
        "version": t.version,
        "lock_time": t.lock_time,
        "size": t.total_size(),
        "weight": t.weight(),
        "segwit": t.is_segwit(),
        "coinbase": t.is_coinbase(),
        "inputs": inputs,
        "outputs": outputs,
    })
}

/// `cmpctblock` (BIP 152).
fn cmpct_block(c: &CmpctBlock<'_>) -> Value {
    let short_ids: Vec<String> = c.short_ids.iter().map(|id| hex(&id.0)).collect();
    let prefilled: Vec<Value> = c
        .prefilled_txs()
        .map(|p| json!({ "index": p.index, "tx": tx(&p.tx) }))
        .collect();
    json!({
        "hash": c.block_hash().to_string(),
        "header": Value::Object(header(&c.header)),
        "nonce": c.nonce,
        "tx_count": c.tx_count(),
        "short_ids": short_ids,
        "prefilled_txn": prefilled,
    })
}

/// `getblocktxn` (BIP 152).
fn get_block_txn(g: &GetBlockTxn<'_>) -> Value {
    let indexes: Vec<u16> = g.indexes().collect();
    json!({ "block_hash": g.block_hash.to_string(), "indexes": indexes })
}

/// `blocktxn` (BIP 152).
fn block_txn(b: &BlockTxn<'_>) -> Value {
    let txs: Vec<Value> = b.txs.iter().map(|t| tx(&t)).collect();
    json!({ "block_hash": b.block_hash.to_string(), "txs": txs })
}

/// `filterload` (BIP 37).
fn filter_load(f: &FilterLoad<'_>) -> Value {
    json!({
        "filter": hex(f.filter),
        "hash_funcs": f.hash_funcs,
        "tweak": f.tweak,
        "flags": f.flags.0,
        "flags_name": f.flags.name(),
    })
}

/// `merkleblock` (BIP 37), with the matches its partial merkle tree proves.
fn merkle_block(m: &MerkleBlock<'_>) -> Value {
    let hashes: Vec<String> = m.hashes.iter().map(|h| h.to_string()).collect();
    let check = m.check();
    let matches: Vec<Value> = m
        .extract_matches()
        .map(|found| {
            found
                .matches
                .iter()
                .map(|(index, txid)| json!({ "index": index, "txid": txid.to_string() }))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "hash": m.header.block_hash().to_string(),
        "header": Value::Object(header(&m.header)),
        "total_transactions": m.total_transactions,
        "hashes": hashes,
        "flags": hex(m.flags),
        "checks": {
            "ok": check.is_ok(),
            "error": check.err().map(|e| chain(&e)),
            "matches": matches,
        },
    })
}

/// The name of a filter type (`"BASIC"`), `null` for an unknown one.
fn filter_type_name(t: FilterType) -> Option<&'static str> {
    t.name()
}

/// `cfilter` (BIP 157).
fn cfilter(c: &CFilter<'_>) -> Value {
    json!({
        "filter_type": c.filter_type.0,
        "filter_type_name": filter_type_name(c.filter_type),
        "block_hash": c.block_hash.to_string(),
        "filter": hex(c.filter),
        "filter_hash": c.filter_hash().to_string(),
    })
}

/// `cfheaders` (BIP 157).
fn cfheaders(c: &CFHeaders<'_>) -> Value {
    let hashes: Vec<String> = c.filter_hashes.iter().map(|h| h.to_string()).collect();
    json!({
        "filter_type": c.filter_type.0,
        "filter_type_name": filter_type_name(c.filter_type),
        "stop_hash": c.stop_hash.to_string(),
        "previous_filter_header": c.previous_filter_header.to_string(),
        "count": c.filter_hashes.len(),
        "filter_hashes": hashes,
    })
}

/// `cfcheckpt` (BIP 157).
fn cfcheckpt(c: &CFCheckpt<'_>) -> Value {
    let headers: Vec<String> = c.filter_headers.iter().map(|h| h.to_string()).collect();
    json!({
        "filter_type": c.filter_type.0,
        "filter_type_name": filter_type_name(c.filter_type),
        "stop_hash": c.stop_hash.to_string(),
        "count": c.filter_headers.len(),
        "filter_headers": headers,
    })
}
