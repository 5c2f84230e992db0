//! Transactions (`tx`), legacy and BIP 144 segwit serialization, without copying.
//!
//! | field       | size      | notes                                                   |
//! |-------------|-----------|---------------------------------------------------------|
//! | `version`   | 4         | i32                                                     |
//! | marker, flag| 2         | segwit only: `0x00`, `0x01` (BIP 144)                   |
//! | `inputs`    | var       | CompactSize count, then outpoint(36), script, sequence(4) |
//! | `outputs`   | var       | CompactSize count, then value(8), script                |
//! | witness     | var       | segwit only: per input a CompactSize count of items     |
//! | `lock_time` | 4         | u32                                                     |
//!
//! A decoded [`Tx`] borrows every script and witness item from the payload. Its txid hashes
//! the non-witness serialization straight from the borrowed slices (version, the inputs and
//! outputs span, lock time), so no byte is copied; its wtxid hashes the whole encoding.
//!
//! As in Bitcoin Core, a nonzero segwit flag other than `0x01` ("Unknown transaction optional
//! data") and a witness section in which every stack is empty ("superfluous witness record")
//! are refused. A zero flag is refused too, which is stricter than Core: Core reads
//! `00 00` after the version as a transaction with no inputs and no outputs, which no block
//! can hold ("bad-txns-vin-empty"). Both keep the encoding canonical: `encode(decode(b)) == b`.

use alloc::vec::Vec;

use crate::read::{i32_le as le_i32, i64_le as le_i64, u8 as le_u8, u32_le as le_u32};
use bytes::BufMut;

use crate::error::{DecodeError, DecodeErrorKind};
use crate::header::Command;
use crate::msg::Payload;
use crate::read::Cursor;
use crate::sha256d::Sha256d;
use crate::types::hash::Txid;
use crate::types::hash::Wtxid;
use crate::types::list::{Item, List};
use crate::varint::{named, var_bytes, var_bytes_len};
use crate::{Encode, PResult, limits};

/// A reference to an output of an earlier transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct OutPoint {
    /// The transaction that created the output.
    pub txid: Txid,
    /// The output's index in that transaction.
    pub vout: u32,
}

impl OutPoint {
    /// The outpoint of a coinbase input: all-zero txid, index `0xffffffff`.
    pub const COINBASE: Self = Self {
        txid: Txid::ZERO,
        vout: u32::MAX,
    };

    /// Reads 36 bytes.
    #[inline]
    pub(crate) fn parse(input: &[u8]) -> PResult<'_, Self> {
        let (i, txid) = Txid::parse(input)?;
        let (i, vout) = le_u32(i)?;
        Ok((i, Self { txid, vout }))
    }

    /// Returns the 36-byte encoding.
    #[must_use]
    #[inline]
    pub fn to_bytes(&self) -> [u8; 36] {
        let mut out = [0u8; 36];
        let (txid, vout) = out.split_at_mut(32);
        txid.copy_from_slice(&self.txid.0);
        vout.copy_from_slice(&self.vout.to_le_bytes());
        out
    }

    /// Writes 36 bytes.
    #[inline]
    pub fn encode<B: BufMut>(&self, buf: &mut B) {
        buf.put_slice(&self.to_bytes());
    }
}

/// A transaction input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxIn<'a> {
    /// The output being spent.
    pub previous_output: OutPoint,
    /// The unlocking script.
    pub script_sig: &'a [u8],
    /// The sequence number.
    pub sequence: u32,
}

impl<'a> Item<'a> for TxIn<'a> {
    const FIXED_LEN: Option<usize> = None;
    const MIN_LEN: usize = limits::MIN_TXIN_LEN as usize;
    const HAS_SKIP: bool = true;

    #[inline]
    fn skip_item(input: &[u8]) -> Option<usize> {
        let mut c = Cursor::new(input);
        read_txin(&mut c)?;
        Some(c.pos())
    }

    #[inline]
    fn parse_item(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, previous_output) = OutPoint::parse(input)?;
        let (i, script_sig) = var_bytes(i, "script_sig", limits::MAX_SCRIPT_LEN)?;
        let (i, sequence) = le_u32(i)?;
        Ok((
            i,
            Self {
                previous_output,
                script_sig,
                sequence,
            },
        ))
    }

    fn item_len(&self) -> usize {
        36 + var_bytes_len(self.script_sig.len()) + 4
    }

    #[inline]
    fn encode_item<B: BufMut>(&self, buf: &mut B) {
        // The txid is copied from where it is: a 36-byte outpoint array built first would
        // sit in registers across the buffer's capacity check and spill to the stack.
        buf.put_slice(&self.previous_output.txid.0);
        buf.put_u32_le(self.previous_output.vout);
        crate::varint::put_var_bytes(buf, self.script_sig);
        buf.put_u32_le(self.sequence);
    }
}

/// A transaction output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxOut<'a> {
    /// The amount in satoshis (signed on the wire, as Bitcoin Core's `CAmount`).
    pub value: i64,
    /// The locking script.
    pub script_pubkey: &'a [u8],
}

impl<'a> Item<'a> for TxOut<'a> {
    const FIXED_LEN: Option<usize> = None;
    const MIN_LEN: usize = limits::MIN_TXOUT_LEN as usize;
    const HAS_SKIP: bool = true;

    #[inline]
    fn skip_item(input: &[u8]) -> Option<usize> {
        let mut c = Cursor::new(input);
        read_txout(&mut c)?;
        Some(c.pos())
    }

    #[inline]
    fn parse_item(input: &'a [u8]) -> PResult<'a, Self> {
        let (i, value) = le_i64(input)?;
        let (i, script_pubkey) = var_bytes(i, "script_pubkey", limits::MAX_SCRIPT_LEN)?;
        Ok((
            i,
            Self {
                value,
                script_pubkey,
            },
        ))
    }

    fn item_len(&self) -> usize {
        8 + var_bytes_len(self.script_pubkey.len())
    }

    #[inline]
    fn encode_item<B: BufMut>(&self, buf: &mut B) {
        buf.put_i64_le(self.value);
        crate::varint::put_var_bytes(buf, self.script_pubkey);
    }
}

/// A witness item is a CompactSize-prefixed byte string.
impl<'a> Item<'a> for &'a [u8] {
    const FIXED_LEN: Option<usize> = None;
    const MIN_LEN: usize = 1;
    const HAS_SKIP: bool = true;

    #[inline]
    fn skip_item(input: &[u8]) -> Option<usize> {
        let mut c = Cursor::new(input);
        c.var_slice(limits::MAX_SCRIPT_LEN)?;
        Some(c.pos())
    }

    #[inline]
    fn parse_item(input: &'a [u8]) -> PResult<'a, Self> {
        var_bytes(input, "witness item", limits::MAX_SCRIPT_LEN)
    }

    fn item_len(&self) -> usize {
        var_bytes_len(self.len())
    }

    #[inline]
    fn encode_item<B: BufMut>(&self, buf: &mut B) {
        crate::varint::put_var_bytes(buf, self);
    }
}

/// One input's witness stack (BIP 141).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Witness<'a>(pub List<'a, &'a [u8]>);

impl<'a> Witness<'a> {
    /// An empty stack.
    pub const EMPTY: Self = Self(List::from_items(&[]));

    /// Returns the stack of `items`.
    #[must_use]
    pub const fn from_items(items: &'a [&'a [u8]]) -> Self {
        Self(List::from_items(items))
    }

    /// Returns an iterator over the stack's items.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0.iter()
    }

    /// Returns the number of items.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns whether the stack is empty.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> Item<'a> for Witness<'a> {
    const FIXED_LEN: Option<usize> = None;
    const MIN_LEN: usize = 1;
    const HAS_SKIP: bool = true;

    #[inline]
    fn skip_item(input: &[u8]) -> Option<usize> {
        let mut c = Cursor::new(input);
        read_witness(&mut c, |_| {})?;
        Some(c.pos())
    }

    #[inline]
    fn parse_item(input: &'a [u8]) -> PResult<'a, Self> {
        List::parse(input, "witness items", limits::MAX_WITNESS_ITEMS).map(|(i, l)| (i, Self(l)))
    }

    fn item_len(&self) -> usize {
        self.0.encoded_len()
    }

    #[inline]
    fn encode_item<B: BufMut>(&self, buf: &mut B) {
        self.0.encode(buf);
    }
}

/// A transaction, borrowing its scripts and witness items.
#[derive(Clone, Copy)]
pub struct Tx<'a> {
    /// Transaction version.
    pub version: i32,
    /// The inputs.
    pub inputs: List<'a, TxIn<'a>>,
    /// The outputs.
    pub outputs: List<'a, TxOut<'a>>,
    /// One witness stack per input, or none at all for a transaction without witness.
    pub witnesses: List<'a, Witness<'a>>,
    /// Lock time (block height or Unix time).
    pub lock_time: u32,
    /// The encoding the transaction was decoded from, and within it the span of
    /// the input and output lists; `None` for transactions built from values.
    wire: Option<WireSpans<'a>>,
}

#[derive(Clone, Copy)]
struct WireSpans<'a> {
    whole: &'a [u8],
    base: &'a [u8],
}

impl<'a> Tx<'a> {
    /// Builds a transaction from values. `witnesses` is empty for a transaction without
    /// witness, or holds one stack per input.
    #[must_use]
    pub const fn new(
        version: i32,
        inputs: &'a [TxIn<'a>],
        outputs: &'a [TxOut<'a>],
        witnesses: &'a [Witness<'a>],
        lock_time: u32,
    ) -> Self {
        Self {
            version,
            inputs: List::from_items(inputs),
            outputs: List::from_items(outputs),
            witnesses: List::from_items(witnesses),
            lock_time,
            wire: None,
        }
    }

    /// Returns whether the transaction uses the segwit serialization: whether any input
    /// has a witness item (Bitcoin Core's `HasWitness`). Stacks that are all empty are
    /// written as a transaction without witness, which is what the decoder requires.
    #[must_use]
    #[inline]
    pub fn is_segwit(&self) -> bool {
        match self.witnesses.items() {
            Some(stacks) => stacks.iter().any(|w| !w.is_empty()),
            // Decoded stacks: the decoder refuses a witness section of empty stacks only.
            None => !self.witnesses.is_empty(),
        }
    }

    /// Returns whether this is a coinbase: one input spending [`OutPoint::COINBASE`].
    #[must_use]
    pub fn is_coinbase(&self) -> bool {
        self.inputs.len() == 1
            && self
                .inputs
                .iter()
                .next()
                .is_some_and(|i| i.previous_output == OutPoint::COINBASE)
    }

    /// Returns the encoding the transaction was decoded from, if it was decoded and its
    /// fields (which are public) still are the ones read from it: a transaction whose
    /// version, lock time or lists were replaced after decoding is written and hashed from
    /// its fields, as one built from values.
    #[must_use]
    pub fn raw(&self) -> Option<&'a [u8]> {
        self.wire().map(|w| w.whole)
    }

    /// The spans of the bytes the transaction was decoded from, while its fields are still
    /// the ones read from them: the fields are public, and a transaction whose version,
    /// lock time or lists were replaced after decoding is written (and hashed) from its
    /// fields, as one built from values.
    #[inline]
    fn wire(&self) -> Option<WireSpans<'a>> {
        let w = self.wire?;
        let (head, tail) = (w.whole.first_chunk::<5>()?, w.whole.last_chunk::<4>()?);
        // A decoded transaction's fifth byte is 0 exactly when it has the segwit marker.
        let segwit = head[4] == 0;
        let current = head[..4] == self.version.to_le_bytes()
            && *tail == self.lock_time.to_le_bytes()
            && self.inputs.decoded_within(w.base)
            && self.outputs.decoded_within(w.base)
            && if segwit {
                self.witnesses.decoded_within(w.whole)
            } else {
                self.witnesses.is_empty()
            };
        current.then_some(w)
    }

    /// Returns the transaction id: SHA-256d of the serialization without witness.
    #[must_use]
    pub fn txid(&self) -> Txid {
        let mut h = Sha256d::new();
        match self.wire() {
            Some(w) if self.is_segwit() => {
                h.update(&self.version.to_le_bytes());
                h.update(w.base);
                h.update(&self.lock_time.to_le_bytes());
            }
            Some(w) => h.update(w.whole),
            None => h.update(&self.encode_to_vec(false)),
        }
        Txid(h.finalize())
    }

    /// Returns the witness transaction id (BIP 141): SHA-256d of the full serialization;
    /// equal to the txid for a transaction without witness.
    #[must_use]
    pub fn wtxid(&self) -> Wtxid {
        Wtxid(match self.wire() {
            Some(w) => Sha256d::hash(w.whole),
            None => Sha256d::hash(&self.encode_to_vec(true)),
        })
    }

    /// Returns the size without witness data in bytes (BIP 141 "base size").
    #[must_use]
    pub fn base_size(&self) -> usize {
        4 + self.inputs.encoded_len() + self.outputs.encoded_len() + 4
    }

    /// Returns the full serialized size in bytes (BIP 141 "total size").
    #[must_use]
    pub fn total_size(&self) -> usize {
        self.encoded_len()
    }

    /// Returns the weight: base size × 3 + total size (BIP 141).
    #[must_use]
    pub fn weight(&self) -> usize {
        self.base_size() * 3 + self.total_size()
    }

    fn encode_to_vec(&self, witness: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode_with(&mut out, witness);
        out
    }

    fn encode_with<B: BufMut>(&self, buf: &mut B, witness: bool) {
        self.encode_with_steps(buf, witness, &mut |_| {});
    }

    /// Writes the transaction, stepping after each input, output and witness stack.
    #[inline]
    fn encode_with_steps<B: BufMut>(
        &self,
        buf: &mut B,
        witness: bool,
        step: &mut impl FnMut(&mut B),
    ) {
        buf.put_i32_le(self.version);
        let witness = witness && self.is_segwit();
        if witness {
            buf.put_slice(&[0x00, 0x01]);
        }
        self.inputs.encode_in_steps(buf, step);
        self.outputs.encode_in_steps(buf, step);
        if witness {
            self.witnesses.encode_items_in_steps(buf, step);
        }
        buf.put_u32_le(self.lock_time);
    }
}

impl PartialEq for Tx<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version
            && self.lock_time == other.lock_time
            && self.inputs == other.inputs
            && self.outputs == other.outputs
            && self.witnesses == other.witnesses
    }
}

impl Eq for Tx<'_> {}

impl core::fmt::Debug for Tx<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Tx")
            .field("version", &self.version)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .field("witnesses", &self.witnesses)
            .field("lock_time", &self.lock_time)
            .finish()
    }
}

impl Encode for Tx<'_> {
    fn encoded_len(&self) -> usize {
        match self.wire() {
            Some(w) => w.whole.len(),
            None => {
                let witness = if self.is_segwit() {
                    2 + self.witnesses.items_len()
                } else {
                    0
                };
                self.base_size() + witness
            }
        }
    }

    fn encode<B: BufMut>(&self, buf: &mut B) {
        match self.wire() {
            Some(w) => buf.put_slice(w.whole),
            None => self.encode_with(buf, true),
        }
    }

    /// A received transaction is one step (its bytes); one built from values steps after
    /// each input, output and witness stack.
    #[inline]
    fn encode_in_steps<B: BufMut>(&self, buf: &mut B, step: &mut impl FnMut(&mut B)) {
        match self.wire() {
            Some(w) => {
                buf.put_slice(w.whole);
                step(buf);
            }
            None => self.encode_with_steps(buf, true, step),
        }
    }
}

impl<'a> Item<'a> for Tx<'a> {
    const FIXED_LEN: Option<usize> = None;
    const MIN_LEN: usize = limits::MIN_TX_LEN as usize;
    const HAS_SKIP: bool = true;

    #[inline]
    fn skip_item(input: &[u8]) -> Option<usize> {
        walk(input, &mut ()).map(|(len, _)| len)
    }

    #[inline]
    fn parse_item(input: &'a [u8]) -> PResult<'a, Self> {
        <Self as Payload<'a>>::parse(input)
    }

    fn item_len(&self) -> usize {
        self.encoded_len()
    }

    fn encode_item<B: BufMut>(&self, buf: &mut B) {
        self.encode(buf);
    }

    #[inline]
    fn encode_item_in_steps<B: BufMut>(&self, buf: &mut B, step: &mut impl FnMut(&mut B)) {
        self.encode_in_steps(buf, step);
    }
}

impl<'a> Payload<'a> for Tx<'a> {
    const COMMAND: Command = Command::new("tx");

    #[inline]
    fn parse(input: &'a [u8]) -> PResult<'a, Self> {
        parse_with(input, &mut ())
    }
}

/// The reference parser: nom-style, field by field, with a precise error for every rule.
/// [`walk`] applies the same rules in one fast pass and defers to this one to explain a
/// failure.
fn parse_reference<'a>(input: &'a [u8]) -> PResult<'a, Tx<'a>> {
    let (after_version, version) = named("version", le_i32(input))?;
    // BIP 144: a zero where the input count belongs is the segwit marker.
    let segwit = after_version.first() == Some(&0);
    let mut i = after_version;
    if segwit {
        let (rest, _marker) = le_u8(i)?;
        let (rest, flag) = named("segwit flag", le_u8(rest))?;
        if flag != 1 {
            // Bitcoin Core: "Unknown transaction optional data" for a nonzero flag; a zero
            // one Core reads as a transaction with no inputs and outputs, invalid anyway.
            let kind = DecodeErrorKind::InvalidValue(u64::from(flag));
            return DecodeError::field(&i[1..], "segwit flag", kind).fail();
        }
        i = rest;
    }
    let base_start = i;
    let (i, inputs) = List::parse(i, "inputs", limits::MAX_TX_INPUTS)?;
    let (i, outputs) = List::parse(i, "outputs", limits::MAX_TX_OUTPUTS)?;
    let base = &base_start[..base_start.len() - i.len()];
    let (i, witnesses) = if segwit {
        let (rest, witnesses) = List::<Witness<'a>>::parse_exact(i, inputs.len(), "witnesses")?;
        // Bitcoin Core: "Superfluous witness record".
        if witnesses.iter().all(|w| w.is_empty()) {
            let kind = DecodeErrorKind::InvalidValue(0);
            return DecodeError::field(i, "witnesses", kind).fail();
        }
        (rest, witnesses)
    } else {
        (i, List::from_items(&[]))
    };
    let (i, lock_time) = named("lock_time", le_u32(i))?;
    let whole = &input[..input.len() - i.len()];
    let wire = Some(WireSpans { whole, base });
    Ok((
        i,
        Tx {
            version,
            inputs,
            outputs,
            witnesses,
            lock_time,
            wire,
        },
    ))
}

/// Receives the parts of transactions as a one-pass decode reads them: see
/// [`Tx::decode_with`] and [`Block::decode_with`](crate::types::Block::decode_with).
///
/// Every method does nothing by default: implement the ones you need. For each transaction
/// the calls come in wire order: each input, each output, each witness item (with the index
/// of the input it belongs to), then [`TxVisitor::tx`] with the whole transaction. When the
/// decode fails, the parts read before the error have been visited.
pub trait TxVisitor<'a> {
    /// An input.
    #[inline(always)]
    fn input(&mut self, input: TxIn<'a>) {
        let _ = input;
    }

    /// An output.
    #[inline(always)]
    fn output(&mut self, output: TxOut<'a>) {
        let _ = output;
    }

    /// A witness item of input number `input`.
    #[inline(always)]
    fn witness_item(&mut self, input: usize, item: &'a [u8]) {
        let _ = (input, item);
    }

    /// The whole transaction, after all its parts.
    #[inline(always)]
    fn tx(&mut self, tx: &Tx<'a>) {
        let _ = tx;
    }
}

/// Visits nothing: plain decoding.
impl TxVisitor<'_> for () {}

impl<'a> Tx<'a> {
    /// Decodes a `tx` payload in one pass, handing every input, output and witness item to
    /// `visitor` as it is read (see [`TxVisitor`]): the fastest way to look at every part
    /// of a transaction, with exactly the checks and errors of [`Tx::decode`](Payload::decode).
    ///
    /// # Errors
    /// The [`DecodeError`] that `Tx::decode` gives for the same bytes.
    #[inline]
    pub fn decode_with<V: TxVisitor<'a>>(
        payload: &'a [u8],
        visitor: &mut V,
    ) -> Result<Self, DecodeError> {
        crate::decode_all(payload, |input| parse_with(input, visitor))
    }

    /// Hands the parts of a decoded transaction to `visitor`, as [`Tx::decode_with`] does.
    pub fn visit<V: TxVisitor<'a>>(&self, visitor: &mut V) {
        self.inputs.iter().for_each(|input| visitor.input(input));
        self.outputs
            .iter()
            .for_each(|output| visitor.output(output));
        for (k, stack) in self.witnesses.iter().enumerate() {
            stack.iter().for_each(|item| visitor.witness_item(k, item));
        }
        visitor.tx(self);
    }
}

/// Reads one transaction in one pass, visiting its parts.
#[inline]
pub(crate) fn parse_with<'a, V: TxVisitor<'a>>(
    input: &'a [u8],
    visitor: &mut V,
) -> PResult<'a, Tx<'a>> {
    match walk(input, visitor) {
        Some((len, tx)) => Ok((input.get(len..).unwrap_or_default(), tx)),
        None => explain(input, visitor),
    }
}

/// The walk refused `input`: the reference parser says precisely why.
#[cold]
#[inline(never)]
pub(crate) fn explain<'a, V: TxVisitor<'a>>(
    input: &'a [u8],
    visitor: &mut V,
) -> PResult<'a, Tx<'a>> {
    let (rest, tx) = parse_reference(input)?;
    // The walk applies exactly the parser's rules, so this is unreachable (the fuzz targets
    // and tests compare both). Should they ever disagree, the transaction is valid: hand it
    // over whole rather than fail.
    if cfg!(debug_assertions) {
        panic!("the one-pass walk refused a transaction the parser accepts");
    }
    tx.visit(visitor);
    Ok((rest, tx))
}

/// The one-pass walk: every rule of [`parse_reference`], each part read once and handed to
/// `v`, no error plumbing. Returns the transaction's length and view, or `None` where the
/// parser would fail.
#[inline(always)]
pub(crate) fn walk<'a, V: TxVisitor<'a>>(input: &'a [u8], v: &mut V) -> Option<(usize, Tx<'a>)> {
    let mut c = Cursor::new(input);
    let version = i32::from_le_bytes(c.array()?);
    let segwit = c.peek()? == 0;
    if segwit {
        c.skip(1)?;
        if c.byte()? != 1 {
            return None;
        }
    }
    let base_start = c.pos();
    let n_in = c.count(limits::MAX_TX_INPUTS, limits::MIN_TXIN_LEN as usize)?;
    let start = c.pos();
    for _ in 0..n_in {
        v.input(read_txin(&mut c)?);
    }
    let inputs = List::from_wire(n_in, c.since(start));
    let n_out = c.count(limits::MAX_TX_OUTPUTS, limits::MIN_TXOUT_LEN as usize)?;
    let start = c.pos();
    for _ in 0..n_out {
        v.output(read_txout(&mut c)?);
    }
    let outputs = List::from_wire(n_out, c.since(start));
    let base = c.since(base_start);
    let witnesses = if segwit {
        let start = c.pos();
        let mut any = false;
        for k in 0..n_in {
            any |= read_witness(&mut c, |item| v.witness_item(k, item))?;
        }
        if !any {
            return None;
        }
        List::from_wire(n_in, c.since(start))
    } else {
        List::from_items(&[])
    };
    let lock_time = u32::from_le_bytes(c.array()?);
    let tx = Tx {
        version,
        inputs,
        outputs,
        witnesses,
        lock_time,
        wire: Some(WireSpans {
            whole: c.since(0),
            base,
        }),
    };
    v.tx(&tx);
    Some((c.pos(), tx))
}

// The readers of the fast walk, also the items' fast skips. Like `walk`, they apply every
// rule of the parsers above (minimal CompactSize, the same limits, counts against remaining
// bytes) and return `None` where those would fail.

/// Reads one input.
#[inline(always)]
fn read_txin<'a>(c: &mut Cursor<'a>) -> Option<TxIn<'a>> {
    Some(TxIn {
        previous_output: OutPoint {
            txid: Txid(c.array()?),
            vout: u32::from_le_bytes(c.array()?),
        },
        script_sig: c.var_slice(limits::MAX_SCRIPT_LEN)?,
        sequence: u32::from_le_bytes(c.array()?),
    })
}

/// Reads one output.
#[inline(always)]
fn read_txout<'a>(c: &mut Cursor<'a>) -> Option<TxOut<'a>> {
    Some(TxOut {
        value: i64::from_le_bytes(c.array()?),
        script_pubkey: c.var_slice(limits::MAX_SCRIPT_LEN)?,
    })
}

/// Reads one witness stack, handing each item to `item`; returns whether it has items.
#[inline(always)]
fn read_witness<'a>(c: &mut Cursor<'a>, mut item: impl FnMut(&'a [u8])) -> Option<bool> {
    let items = c.count(limits::MAX_WITNESS_ITEMS, 1)?;
    for _ in 0..items {
        item(c.var_slice(limits::MAX_SCRIPT_LEN)?);
    }
    Some(items > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{GENESIS_COINBASE, hex};
    use alloc::string::ToString;

    #[test]
    fn genesis_coinbase() {
        let raw = hex(GENESIS_COINBASE);
        let tx = Tx::decode(&raw).unwrap();
        assert!(tx.is_coinbase() && !tx.is_segwit());
        assert_eq!(tx.outputs.iter().next().unwrap().value, 50 * 100_000_000);
        assert_eq!(
            tx.txid().to_string(),
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
        );
        assert_eq!(tx.wtxid().0, tx.txid().0);
        assert_eq!(tx.to_vec(), raw);
        // Rebuilt from values, it encodes and hashes the same.
        let inputs: Vec<TxIn<'_>> = tx.inputs.iter().collect();
        let outputs: Vec<TxOut<'_>> = tx.outputs.iter().collect();
        let built = Tx::new(tx.version, &inputs, &outputs, &[], tx.lock_time);
        assert_eq!(built, tx);
        assert_eq!(built.to_vec(), raw);
        assert_eq!(built.encoded_len(), raw.len());
        assert_eq!(built.txid(), tx.txid());
    }

    #[test]
    fn segwit_tx_built_and_decoded() {
        let script = [0x51u8];
        let items: [&[u8]; 2] = [&[1, 2, 3], &[]];
        let witnesses = [Witness::from_items(&items)];
        let inputs = [TxIn {
            previous_output: OutPoint {
                txid: Txid([9; 32]),
                vout: 1,
            },
            script_sig: &[],
            sequence: 0xffff_fffd,
        }];
        let outputs = [TxOut {
            value: 1000,
            script_pubkey: &script,
        }];
        let tx = Tx::new(2, &inputs, &outputs, &witnesses, 0);
        let raw = tx.to_vec();
        assert_eq!(raw.len(), tx.encoded_len());
        assert_eq!(&raw[4..6], &[0, 1]);
        let back = Tx::decode(&raw).unwrap();
        assert_eq!(back, tx);
        assert!(back.is_segwit());
        assert_eq!(back.txid(), tx.txid());
        assert_eq!(back.wtxid(), tx.wtxid());
        assert_ne!(back.txid().0, back.wtxid().0);
        assert_eq!(back.base_size() + 2 + 1 + 4 + 1, back.total_size());
        // The txid is the hash of the legacy serialization.
        let legacy = Tx::new(2, &inputs, &outputs, &[], 0);
        assert_eq!(legacy.txid(), back.txid());

        // A decoded transaction whose fields change is written and hashed from its fields.
        let mut changed = back;
        changed.lock_time = 99;
        let want = Tx::new(2, &inputs, &outputs, &witnesses, 99);
        assert_eq!(changed.raw(), None);
        assert_eq!(changed.to_vec(), want.to_vec());
        assert_eq!(changed.encoded_len(), want.encoded_len());
        assert_eq!(
            (changed.txid(), changed.wtxid()),
            (want.txid(), want.wtxid())
        );
        let mut stripped = back;
        stripped.witnesses = List::from_items(&[]);
        assert_eq!(stripped.to_vec(), legacy.to_vec());
        assert_eq!(stripped.wtxid().0, legacy.txid().0);
        let mut other_inputs = back;
        let elsewhere = raw.clone();
        let spent = Tx::decode(&elsewhere).unwrap();
        other_inputs.inputs = spent.inputs;
        assert_eq!(other_inputs.raw(), None, "inputs decoded from other bytes");
        assert_eq!(other_inputs.to_vec(), raw);
        let mut same = back;
        same.version = 2;
        assert_eq!(
            same.raw(),
            Some(&raw[..]),
            "an unchanged value keeps the bytes"
        );
    }

    /// Witness stacks that are all empty are no witness (Core's `HasWitness`): written
    /// without marker and flag, so that the decoder takes the transaction back.
    #[test]
    fn empty_witness_stacks_are_no_witness() {
        let inputs = [TxIn {
            previous_output: OutPoint::COINBASE,
            script_sig: &[1, 2],
            sequence: 0,
        }; 2];
        let empty = [Witness::EMPTY; 2];
        let tx = Tx::new(1, &inputs, &[], &empty, 0);
        let legacy = Tx::new(1, &inputs, &[], &[], 0);
        assert!(!tx.is_segwit());
        assert_eq!(tx.to_vec(), legacy.to_vec());
        assert_eq!(tx.encoded_len(), legacy.encoded_len());
        assert_eq!(tx.wtxid().0, tx.txid().0);
        assert_eq!(Tx::decode(&tx.to_vec()).unwrap().to_vec(), tx.to_vec());
        // One item anywhere makes it segwit.
        let item: &[u8] = &[7];
        let items = [item];
        let one = [Witness::EMPTY, Witness::from_items(&items)];
        let tx = Tx::new(1, &inputs, &[], &one, 0);
        assert!(tx.is_segwit());
        assert_eq!(Tx::decode(&tx.to_vec()).unwrap(), tx);
    }

    /// A transaction built from values steps after each input, output and witness stack,
    /// exactly at their ends; a received one steps once, after its bytes; a block steps
    /// through each of its transactions.
    #[test]
    fn encodes_in_steps_at_part_boundaries() {
        let items: [&[u8]; 2] = [&[1, 2, 3], &[7; 300]];
        let witnesses = [Witness::from_items(&items), Witness::EMPTY];
        let input = |vout, script_sig| TxIn {
            previous_output: OutPoint {
                txid: Txid([9; 32]),
                vout,
            },
            script_sig,
            sequence: 0xffff_fffd,
        };
        let inputs = [input(0, &[]), input(1, &[0x51; 253])];
        let outputs = [
            TxOut {
                value: 1,
                script_pubkey: &[0x6a],
            },
            TxOut {
                value: 2,
                script_pubkey: &[],
            },
        ];
        let tx = Tx::new(2, &inputs, &outputs, &witnesses, 9);
        let mut steps = Vec::new();
        let mut buf = Vec::new();
        tx.encode_in_steps(&mut buf, &mut |b: &mut Vec<u8>| steps.push(b.len()));
        assert_eq!(buf, tx.to_vec());
        // version 4, marker and flag 2, count 1; inputs 41 and 36+3+253+4; count 1; outputs
        // 10 and 9; stacks 1+4+3+300 and 1; lock time 4.
        let ends = [48, 344, 355, 364, 672, 673];
        assert_eq!(steps, ends);
        assert_eq!(buf.len(), 677);

        let received = Tx::decode(&buf).unwrap();
        let mut steps = Vec::new();
        let mut again = Vec::new();
        received.encode_in_steps(&mut again, &mut |b: &mut Vec<u8>| steps.push(b.len()));
        assert_eq!((again, steps), (buf.clone(), alloc::vec![677]));

        let txs = [tx, received];
        let block = crate::types::Block::new(crate::types::BlockHeader::from_bytes(&[0; 80]), &txs);
        let mut steps = Vec::new();
        let mut raw = Vec::new();
        block.encode_in_steps(&mut raw, &mut |b: &mut Vec<u8>| steps.push(b.len()));
        assert_eq!(raw, block.to_vec());
        let mut want: Vec<usize> = ends.iter().map(|e| 81 + e).collect();
        want.push(81 + 677 * 2);
        assert_eq!(steps, want);
    }

    #[test]
    fn malformed() {
        // Unknown segwit flag.
        let mut raw = hex(GENESIS_COINBASE);
        raw.splice(4..4, [0, 2]);
        let e = Tx::decode(&raw).unwrap_err();
        assert_eq!(
            (e.kind, e.field, e.offset),
            (DecodeErrorKind::InvalidValue(2), Some("segwit flag"), 5)
        );
        // Superfluous witness: flag set but every stack empty.
        let inputs = [TxIn {
            previous_output: OutPoint::COINBASE,
            script_sig: &[],
            sequence: 0,
        }];
        let mut raw = Tx::new(1, &inputs, &[], &[], 0).to_vec();
        raw.splice(4..4, [0, 1]);
        let lock_time_at = raw.len() - 4;
        raw.insert(lock_time_at, 0);
        let e = Tx::decode(&raw).unwrap_err();
        assert_eq!(
            (e.kind, e.field),
            (DecodeErrorKind::InvalidValue(0), Some("witnesses"))
        );
        // Truncated in every part, and trailing.
        use DecodeErrorKind::*;
        let raw = hex(GENESIS_COINBASE);
        let err = |bytes: &[u8]| {
            let e = Tx::decode(bytes).unwrap_err();
            let mut seen = one_pass_tests::Recorder::default();
            assert_eq!(Tx::decode_with(bytes, &mut seen), Err(e), "one pass");
            (e.kind, e.field, e.offset)
        };
        assert_eq!(err(&raw[..3]), (Truncated, Some("version"), 0));
        assert_eq!(err(&raw[..4]), (Truncated, Some("inputs"), 4));
        assert_eq!(err(&[1, 0, 0, 0, 0]), (Truncated, Some("segwit flag"), 5));
        // The coinbase script (77 bytes, length at 41) cut: its length is over what remains.
        let kind = CountOverRemaining {
            count: 77,
            needed: 77,
            remaining: 100 - 42,
        };
        assert_eq!(err(&raw[..100]), (kind, Some("script_sig"), 41));
        assert_eq!(
            err(&raw[..raw.len() - 1]),
            (Truncated, Some("lock_time"), raw.len() - 4)
        );
        let mut long = raw.clone();
        long.push(0);
        assert_eq!(err(&long), (TrailingBytes(1), None, raw.len()));
        // An input count larger than the bytes could hold.
        let kind = CountOverRemaining {
            count: 255,
            needed: 255 * limits::MIN_TXIN_LEN,
            remaining: 4,
        };
        assert_eq!(
            err(&[1, 0, 0, 0, 0xfd, 0xff, 0x00, 0, 0, 0, 0]),
            (kind, Some("inputs"), 4)
        );
        // Non-minimal CompactSize: the input count, the output count, a script length.
        let replaced = |at: usize, old_len: usize, new: &[u8]| {
            let mut b = raw.clone();
            b.splice(at..at + old_len, new.iter().copied());
            b
        };
        assert_eq!(
            err(&replaced(4, 1, &[0xfd, 0x01, 0x00])),
            (NonMinimalCompactSize(1), Some("inputs"), 4)
        );
        assert_eq!(
            err(&replaced(41, 1, &[0xfd, 0x4d, 0x00])),
            (NonMinimalCompactSize(0x4d), Some("script_sig"), 41)
        );
        let outputs_at = 41 + 1 + 0x4d + 4;
        assert_eq!(
            err(&replaced(outputs_at, 1, &[0xfe, 0x01, 0x00, 0x00, 0x00])),
            (NonMinimalCompactSize(1), Some("outputs"), outputs_at)
        );
        // Over the limits, refused at the count or length whatever follows.
        let claim = |n: u64| {
            let mut b = Vec::new();
            crate::varint::put_compact_size(&mut b, n);
            b
        };
        let over = |limit: u64| OverLimit {
            value: limit + 1,
            limit,
        };
        assert_eq!(
            err(&replaced(4, 1, &claim(limits::MAX_TX_INPUTS + 1))),
            (over(limits::MAX_TX_INPUTS), Some("inputs"), 4)
        );
        assert_eq!(
            err(&replaced(outputs_at, 1, &claim(limits::MAX_TX_OUTPUTS + 1))),
            (over(limits::MAX_TX_OUTPUTS), Some("outputs"), outputs_at)
        );
        assert_eq!(
            err(&replaced(41, 1, &claim(limits::MAX_SCRIPT_LEN + 1))),
            (over(limits::MAX_SCRIPT_LEN), Some("script_sig"), 41)
        );
        // A witness stack of more items than MAX_WITNESS_ITEMS: the marker and flag after
        // the version, the stack count after the outputs.
        let mut segwit = raw.clone();
        segwit.splice(4..4, [0, 1]);
        let stack_at = segwit.len() - 4;
        segwit.splice(stack_at..stack_at, claim(limits::MAX_WITNESS_ITEMS + 1));
        assert_eq!(
            err(&segwit),
            (
                over(limits::MAX_WITNESS_ITEMS),
                Some("witness items"),
                stack_at
            )
        );
    }

    #[test]
    fn io_limits_follow_core_oversize_rule() {
        // 1,000,000 bytes without witness at most; minimal inputs and outputs.
        assert_eq!(limits::MAX_TX_INPUTS, 24_390);
        assert_eq!(limits::MAX_TX_OUTPUTS, 111_111);
    }
}

#[cfg(test)]
pub(crate) mod one_pass_tests {
    use super::strategy::tx_parts;
    use super::*;
    use crate::testutil::{GENESIS_COINBASE, hex};
    use proptest::prelude::*;
    use proptest::sample::Index;

    /// What a visitor is handed, in order.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(crate) enum Part<'a> {
        In(TxIn<'a>),
        Out(TxOut<'a>),
        Item(usize, &'a [u8]),
        Tx(Option<&'a [u8]>),
    }

    /// Records every call, to compare the one-pass decode with the lazy views.
    #[derive(Debug, Default, PartialEq, Eq)]
    pub(crate) struct Recorder<'a>(pub(crate) Vec<Part<'a>>);

    impl<'a> TxVisitor<'a> for Recorder<'a> {
        fn input(&mut self, input: TxIn<'a>) {
            self.0.push(Part::In(input));
        }
        fn output(&mut self, output: TxOut<'a>) {
            self.0.push(Part::Out(output));
        }
        fn witness_item(&mut self, input: usize, item: &'a [u8]) {
            self.0.push(Part::Item(input, item));
        }
        fn tx(&mut self, tx: &Tx<'a>) {
            self.0.push(Part::Tx(tx.raw()));
        }
    }

    /// Damages a valid encoding: `mode` 0 keeps it, 1 cuts it, 2 overwrites one byte,
    /// 3 inserts one byte.
    pub(crate) fn damage(raw: &mut Vec<u8>, mode: u8, at: Index, byte: u8) {
        match mode {
            1 => raw.truncate(at.index(raw.len() + 1)),
            2 if !raw.is_empty() => {
                let i = at.index(raw.len());
                raw[i] = byte;
            }
            3 => raw.insert(at.index(raw.len() + 1), byte),
            _ => {}
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// The walk accepts exactly what the reference parser accepts, with the same view;
        /// `decode_with` gives `decode`'s result or error and hands over what the views hold.
        #[test]
        fn one_pass_agrees_with_the_parser(
            parts in tx_parts(),
            mode in 0..4u8,
            at in any::<Index>(),
            byte in any::<u8>(),
        ) {
            let mut raw = parts.encode();
            damage(&mut raw, mode, at, byte);
            fn view(len: usize, tx: Tx<'_>) -> (usize, Option<&[u8]>, Txid, Tx<'_>) {
                (len, tx.raw(), tx.txid(), tx)
            }
            let walked = walk(&raw, &mut ()).map(|(len, tx)| view(len, tx));
            let reference = parse_reference(&raw)
                .ok()
                .map(|(rest, tx)| view(raw.len() - rest.len(), tx));
            prop_assert_eq!(walked, reference);

            let mut seen = Recorder::default();
            let one_pass = Tx::decode_with(&raw, &mut seen);
            prop_assert_eq!(&one_pass, &Tx::decode(&raw));
            if let Ok(tx) = one_pass {
                let mut from_views = Recorder::default();
                tx.visit(&mut from_views);
                prop_assert_eq!(seen, from_views);
            }
        }
    }

    #[test]
    fn errors_match_the_parser() {
        // The cases of `malformed`, through the one-pass decoder.
        let mut raw = hex(GENESIS_COINBASE);
        raw.splice(4..4, [0, 2]);
        let mut seen = Recorder::default();
        assert_eq!(Tx::decode_with(&raw, &mut seen), Tx::decode(&raw));
        assert!(seen.0.is_empty());
        let raw = hex(GENESIS_COINBASE);
        let cut = &raw[..raw.len() - 1];
        let mut seen = Recorder::default();
        let e = Tx::decode_with(cut, &mut seen).unwrap_err();
        assert_eq!(e, Tx::decode(cut).unwrap_err());
        assert_eq!((e.kind, e.offset), (DecodeErrorKind::Truncated, 200));
        // The lock time is cut; the parts read before it were visited: one input, one output.
        assert!(
            matches!(&seen.0[..], [Part::In(_), Part::Out(_)]),
            "{seen:?}"
        );
    }
}

#[cfg(any(test, feature = "proptest"))]
pub(crate) mod strategy {
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;

    /// Owned parts of a transaction: version, inputs, outputs, witness stacks, lock time.
    #[derive(Debug, Clone)]
    pub(crate) struct TxParts {
        pub(crate) version: i32,
        pub(crate) inputs: Vec<([u8; 32], u32, Vec<u8>, u32)>,
        pub(crate) outputs: Vec<(i64, Vec<u8>)>,
        pub(crate) witnesses: Vec<Vec<Vec<u8>>>,
        pub(crate) lock_time: u32,
    }

    impl TxParts {
        /// Encodes the transaction these parts describe, through [`Tx::new`].
        pub(crate) fn encode(&self) -> Vec<u8> {
            let inputs: Vec<TxIn<'_>> = self
                .inputs
                .iter()
                .map(|(txid, vout, script, sequence)| TxIn {
                    previous_output: OutPoint {
                        txid: Txid(*txid),
                        vout: *vout,
                    },
                    script_sig: script,
                    sequence: *sequence,
                })
                .collect();
            let outputs: Vec<TxOut<'_>> = self
                .outputs
                .iter()
                .map(|(v, s)| TxOut {
                    value: *v,
                    script_pubkey: s,
                })
                .collect();
            let items: Vec<Vec<&[u8]>> = self
                .witnesses
                .iter()
                .map(|w| w.iter().map(Vec::as_slice).collect())
                .collect();
            let witnesses: Vec<Witness<'_>> =
                items.iter().map(|w| Witness::from_items(w)).collect();
            Tx::new(self.version, &inputs, &outputs, &witnesses, self.lock_time).to_vec()
        }
    }

    /// Transactions, legacy and segwit, with at least one input (a zero-input legacy
    /// transaction is indistinguishable from the segwit marker).
    pub(crate) fn tx_parts() -> impl Strategy<Value = TxParts> {
        let input = (
            any::<[u8; 32]>(),
            any::<u32>(),
            proptest::collection::vec(any::<u8>(), 0..40),
            any::<u32>(),
        );
        let output = (any::<i64>(), proptest::collection::vec(any::<u8>(), 0..40));
        (
            any::<i32>(),
            proptest::collection::vec(input, 1..4),
            proptest::collection::vec(output, 0..4),
            any::<bool>(),
            any::<u32>(),
        )
            .prop_flat_map(|(version, inputs, outputs, segwit, lock_time)| {
                let n = inputs.len();
                let stack =
                    proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..33), 0..3);
                let witnesses = if segwit {
                    proptest::collection::vec(stack, n)
                        .prop_filter("a segwit tx has a non-empty stack", |w| {
                            w.iter().any(|s| !s.is_empty())
                        })
                        .boxed()
                } else {
                    Just(Vec::new()).boxed()
                };
                witnesses.prop_map(move |witnesses| TxParts {
                    version,
                    inputs: inputs.clone(),
                    outputs: outputs.clone(),
                    witnesses,
                    lock_time,
                })
            })
    }

    /// `tx` payloads.
    pub(crate) fn payloads() -> BoxedStrategy<(Command, Vec<u8>)> {
        tx_parts().prop_map(|p| (Tx::COMMAND, p.encode())).boxed()
    }
}
