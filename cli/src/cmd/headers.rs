//! `btcwire headers`: download the header chain from one peer, checking each header.
//!
//! After the handshake the command asks for headers with `getheaders`, the locator being
//! the network's genesis block hash and then the last hash received, and asks again while
//! a full batch of 2,000 headers (Bitcoin Core `MAX_HEADERS_RESULTS`) arrives. Each header
//! must link to the one before it (`prev_blockhash`), claim a target at or below the
//! network's proof-of-work limit, and meet that target
//! ([`btcwire::types::BlockHeader::check_pow_on`], as Bitcoin Core's `CheckProofOfWork`);
//! the first that does not stops the command with its height and hash. Whether `bits` is
//! right for its height (difficulty adjustment) is not checked: that needs the chain's
//! rules, not the codec's.
//!
//! `--max N` stops at exactly N headers, even inside a batch: the rest of that batch is
//! received but neither checked nor counted.
//!
//! This file also holds [`Session`], the one-peer session that `block` shares.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use btcwire::limits::MAX_HEADERS_RESULTS;
use btcwire::msg::Headers;
use btcwire::types::BlockHash;
use btcwire::types::block_header::PowError;
use btcwire::{DecodeError, Frame, Network, Payload};
use btcwire_net::{
    DisconnectReason, Event, Handshaken, NonceSet, PeerConfig, PeerEvent, PeerHandle, RemoteInfo,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

use crate::common::{self, PeerOptions, parse_duration};

const EXAMPLES: &str = "\
Examples:
  btcwire headers 127.0.0.1:18444 --network regtest
  btcwire headers 127.0.0.1:18444 --network regtest --max 10 --json
  btcwire headers seed.bitcoin.sipa.be --max 100000
  btcwire headers abcd...xyz.onion --proxy socks5://127.0.0.1:9050 --request-timeout 1m

Output: `tip HEIGHT HASH, COUNT headers in SECONDS s (RATE headers/s)`; with --json one
object with target, addr, network, user_agent, start_height, tip_height, tip_hash, count,
elapsed_s and headers_per_s. Heights count from the genesis block (height 0).

Exit status: 0 when every header checked out, 1 on any failure (a header that does not link
or fails its proof of work, a timeout, a disconnection), 2 for usage errors.";

/// The genesis block hash of each network, as Bitcoin Core's RPC prints it (reversed hex).
pub(crate) const GENESIS: [(Network, &str); 5] = [
    (
        Network::Mainnet,
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
    ),
    (
        Network::Testnet3,
        "000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943",
    ),
    (
        Network::Testnet4,
        "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043",
    ),
    (
        Network::Signet,
        "00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6",
    ),
    (
        Network::Regtest,
        "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206",
    ),
];

/// Returns the genesis block hash of `network`, when known.
pub(crate) fn genesis(network: Network) -> Option<BlockHash> {
    GENESIS
        .iter()
        .find(|(n, _)| *n == network)
        .and_then(|(_, hex)| hex.parse().ok())
}

/// Events buffered between the peer task and the command.
const EVENT_QUEUE: usize = 1024;

/// Events looked at while waiting for one answer before giving up (a peer flooding us
/// with other messages must not keep us waiting forever; the timeout bounds it too).
const MAX_EVENTS_PER_WAIT: usize = 100_000;

/// Arguments of `headers`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    /// The peer: `host`, `host:port`, `ip:port` or `[ipv6]:port` (the network's port by default).
    #[arg(value_name = "TARGET")]
    target: String,
    /// Stop after exactly N headers, even inside a batch (default: until the peer has no more).
    #[arg(long, value_name = "N")]
    max: Option<u64>,
    /// Time allowed for each `headers` answer.
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DUR")]
    request_timeout: Duration,
    /// Print one JSON object instead of the summary line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    peer: PeerOptions,
}

/// Why `headers` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The network has no genesis hash in our table.
    #[error("no genesis block hash known for network {0}")]
    NoGenesis(Network),
    /// The connection or the handshake failed.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The peer ended while we waited for headers.
    #[error("peer disconnected while sending headers after height {height}")]
    Disconnected {
        /// The height of the last header checked.
        height: u64,
        /// Why the peer ended.
        #[source]
        reason: DisconnectReason,
    },
    /// No `headers` answer in time.
    #[error(
        "no `headers` answer within {timeout:?} to `getheaders` after height {height} ({hash})"
    )]
    Timeout {
        /// The height of the locator.
        height: u64,
        /// The locator.
        hash: BlockHash,
        /// The time allowed.
        timeout: Duration,
    },
    /// A `headers` message did not decode.
    #[error("malformed `headers` message after height {height}")]
    Malformed {
        /// The height of the last header checked.
        height: u64,
        /// The problem.
        #[source]
        source: DecodeError,
    },
    /// A header does not link to the one before it.
    #[error(
        "header {height} ({hash}) does not link: its prev_blockhash is {prev}, expected {expected}"
    )]
    Link {
        /// The header's height.
        height: u64,
        /// The header's hash.
        hash: BlockHash,
        /// The hash it names as its parent.
        prev: BlockHash,
        /// The hash of the header at `height - 1`.
        expected: BlockHash,
    },
    /// A header fails its proof of work: an invalid target, one above the network's limit,
    /// or a hash above the target.
    #[error("header {height} ({hash}) fails its proof of work")]
    Pow {
        /// The header's height.
        height: u64,
        /// The header's hash.
        hash: BlockHash,
        /// The problem.
        #[source]
        source: PowError,
    },
    /// Standard output is gone (a closed pipe, say).
    #[error("writing to standard output")]
    Output(#[source] std::io::Error),
}

/// Why a [`Session`] could not start.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SessionError {
    /// The connection or the handshake failed (the reason is the driver's error chain).
    #[error("handshake with {target}: {reason}")]
    Handshake {
        /// The target as given.
        target: String,
        /// The error chain, as one line.
        reason: String,
    },
}

/// Why a wait for an answer ended without one.
#[derive(Debug)]
pub(crate) enum WaitError {
    /// Nothing matching arrived in time (or among [`MAX_EVENTS_PER_WAIT`] events).
    Timeout,
    /// The peer ended first.
    Disconnected(DisconnectReason),
}

/// One established peer: its handle, its events, and what it said in the handshake.
#[derive(Debug)]
pub(crate) struct Session {
    /// The peer.
    pub(crate) handle: PeerHandle,
    /// The peer's address.
    pub(crate) addr: SocketAddr,
    events: mpsc::Receiver<Event>,
}

impl Session {
    /// Connects to `target`, completes the handshake and starts the peer.
    pub(crate) async fn open(target: &str, options: &PeerOptions) -> Result<Self, SessionError> {
        let config = options.config();
        let (report, done) =
            common::probe_keep(target, &config, options.proxy, &NonceSet::new()).await;
        match (done, report.result) {
            (Some(done), _) => Ok(Self::start(done, &config)),
            (None, result) => Err(SessionError::Handshake {
                target: target.to_owned(),
                reason: result.err().unwrap_or_default(),
            }),
        }
    }

    /// Starts the peer of a completed handshake over any stream.
    pub(crate) fn start<S>(done: Handshaken<S>, config: &PeerConfig) -> Self
    where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let addr = done.remote;
        let (tx, events) = mpsc::channel(EVENT_QUEUE);
        let handle = btcwire_net::spawn(done, 1, config, tx);
        Self {
            handle,
            addr,
            events,
        }
    }

    /// Returns what the peer said in its `version`.
    pub(crate) fn info(&self) -> &RemoteInfo {
        self.handle.info()
    }

    /// Waits up to `timeout` for a message that `want` accepts, skipping all others.
    pub(crate) async fn wait_for(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&Frame) -> bool,
    ) -> Result<Frame, WaitError> {
        let deadline = tokio::time::Instant::now() + timeout;
        for _ in 0..MAX_EVENTS_PER_WAIT {
            let event = match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Err(_) => return Err(WaitError::Timeout),
                Ok(None) => {
                    return Err(WaitError::Disconnected(
                        self.handle.wait_for_disconnect().await,
                    ));
                }
                Ok(Some(event)) => event,
            };
            match event {
                Event::Peer {
                    event: PeerEvent::Message(frame),
                    ..
                } if want(&frame) => return Ok(frame),
                Event::Disconnected { reason, .. } => return Err(WaitError::Disconnected(reason)),
                _ => {}
            }
        }
        Err(WaitError::Timeout)
    }

    /// Returns why the peer ended, once it has (after a `push_*` returned false).
    pub(crate) async fn ended(&self) -> DisconnectReason {
        self.handle.wait_for_disconnect().await
    }

    /// Disconnects the peer.
    pub(crate) fn close(&self) {
        self.handle.disconnect();
    }
}

/// The best header reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tip {
    /// Its height (the genesis block is 0).
    pub(crate) height: u64,
    /// Its hash.
    pub(crate) hash: BlockHash,
}

/// Downloads and checks headers of `network` after `start` (at height 0) until the peer
/// sends a short batch or `max` headers were checked; returns the tip.
pub(crate) async fn download(
    session: &mut Session,
    network: Network,
    start: BlockHash,
    max: Option<u64>,
    timeout: Duration,
    progress: &ProgressBar,
) -> Result<Tip, Error> {
    let mut tip = Tip {
        height: 0,
        hash: start,
    };
    loop {
        let left = max.map_or(u64::MAX, |max| max.saturating_sub(tip.height));
        if left == 0 {
            return Ok(tip);
        }
        if !session
            .handle
            .push_getheaders(vec![tip.hash], BlockHash::ZERO)
            .await
        {
            let reason = session.ended().await;
            return Err(Error::Disconnected {
                height: tip.height,
                reason,
            });
        }
        let frame = session
            .wait_for(timeout, |f| f.command().as_str() == "headers")
            .await
            .map_err(|e| match e {
                WaitError::Timeout => Error::Timeout {
                    height: tip.height,
                    hash: tip.hash,
                    timeout,
                },
                WaitError::Disconnected(reason) => Error::Disconnected {
                    height: tip.height,
                    reason,
                },
            })?;
        let headers = Headers::decode(&frame.payload).map_err(|source| Error::Malformed {
            height: tip.height,
            source,
        })?;
        let take = usize::try_from(left).unwrap_or(usize::MAX);
        for header in headers.iter().take(take) {
            let height = tip.height + 1;
            if header.prev_blockhash != tip.hash {
                return Err(Error::Link {
                    height,
                    hash: header.block_hash(),
                    prev: header.prev_blockhash,
                    expected: tip.hash,
                });
            }
            let hash = header.check_pow_on(network).map_err(|source| Error::Pow {
                height,
                hash: header.block_hash(),
                source,
            })?;
            tip = Tip { height, hash };
        }
        progress.set_position(tip.height);
        tracing::debug!(received = headers.len(), height = tip.height, "headers");
        if (headers.len() as u64) < MAX_HEADERS_RESULTS {
            return Ok(tip);
        }
    }
}

/// Returns a progress bar on stderr when it is a terminal, a hidden one otherwise.
fn progress(total: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let (bar, template) = match total {
        Some(total) => (
            ProgressBar::new(total),
            "{spinner} headers {pos}/{len} {wide_bar} {per_sec} eta {eta}",
        ),
        None => (
            ProgressBar::new_spinner(),
            "{spinner} headers {pos} {per_sec}",
        ),
    };
    bar.set_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

pub(crate) async fn run(args: Args) -> Result<bool, Error> {
    let network = args.peer.network();
    let start = genesis(network).ok_or(Error::NoGenesis(network))?;
    let mut session = Session::open(&args.target, &args.peer).await?;
    let info = session.info().clone();
    // The peer's claimed height sizes the bar; --max caps it.
    let claimed = u64::try_from(info.start_height).ok().filter(|h| *h > 0);
    let total = match (claimed, args.max) {
        (Some(h), Some(m)) => Some(h.min(m)),
        (h, m) => h.or(m),
    };
    let bar = progress(total);
    let started = Instant::now();
    let result = download(
        &mut session,
        network,
        start,
        args.max,
        args.request_timeout,
        &bar,
    )
    .await;
    let elapsed = started.elapsed();
    bar.finish_and_clear();
    session.close();
    let tip = result?;

    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        tip.height as f64 / secs
    } else {
        0.0
    };
    let line = if args.json {
        json!({
            "target": args.target,
            "addr": session.addr.to_string(),
            "network": network.to_string(),
            "user_agent": info.user_agent,
            "start_height": info.start_height,
            "tip_height": tip.height,
            "tip_hash": tip.hash.to_string(),
            "count": tip.height,
            "elapsed_s": (secs * 1e3).round() / 1e3,
            "headers_per_s": rate.round(),
        })
        .to_string()
    } else {
        format!(
            "tip {} {}, {} headers in {secs:.3} s ({rate:.0} headers/s)",
            tip.height, tip.hash, tip.height
        )
    };
    writeln!(std::io::stdout().lock(), "{line}").map_err(Error::Output)?;
    Ok(true)
}

#[cfg(test)]
pub(crate) mod tests {
    //! An in-process peer over a pipe, serving a made-up regtest chain.

    use btcwire::msg::GetHeaders;
    use btcwire::types::{BlockHeader, MerkleNode};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use btcwire_net::Role;

    use super::*;

    /// A regtest configuration.
    pub(crate) fn config() -> PeerConfig {
        PeerConfig::new(Network::Regtest)
    }

    /// Returns our session and the fake peer's handle and events, over an in-memory pipe.
    pub(crate) async fn pair() -> (Session, PeerHandle, mpsc::Receiver<Event>) {
        let (a, b) = tokio::io::duplex(1 << 20);
        let addr: SocketAddr = "127.0.0.1:18444".parse().unwrap();
        let config = config();
        let (our_nonces, their_nonces) = (NonceSet::new(), NonceSet::new());
        let (ours, theirs) = tokio::join!(
            btcwire_net::handshake(a, Role::Outbound, addr, &config, &our_nonces),
            btcwire_net::handshake(b, Role::Inbound, addr, &config, &their_nonces),
        );
        let session = Session::start(ours.unwrap(), &config);
        let (tx, events) = mpsc::channel(EVENT_QUEUE);
        let peer = btcwire_net::spawn(theirs.unwrap(), 2, &config, tx);
        (session, peer, events)
    }

    /// Answers every message the fake peer receives with `answer`'s frames, until it ends.
    pub(crate) fn serve(
        peer: PeerHandle,
        mut events: mpsc::Receiver<Event>,
        mut answer: impl FnMut(&Frame) -> Vec<Frame> + Send + 'static,
    ) {
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                if let Event::Peer {
                    event: PeerEvent::Message(frame),
                    ..
                } = event
                {
                    for reply in answer(&frame) {
                        peer.send_frame(reply).await;
                    }
                }
            }
        });
    }

    /// Returns a header on `prev` whose nonce meets the regtest target (about 2 tries).
    pub(crate) fn mine(prev: BlockHash, merkle_root: MerkleNode, time: u32) -> BlockHeader {
        let mut header = BlockHeader {
            version: 0x2000_0000,
            prev_blockhash: prev,
            merkle_root,
            time,
            bits: 0x207f_ffff,
            nonce: 0,
        };
        while header.check_pow_on(Network::Regtest).is_err() {
            header.nonce += 1;
        }
        header
    }

    /// Returns `n` headers on the regtest genesis block.
    fn chain(n: usize) -> Vec<BlockHeader> {
        let mut prev = genesis(Network::Regtest).unwrap();
        (0..n)
            .map(|i| {
                let header = mine(prev, MerkleNode([7; 32]), 1_296_688_602 + i as u32);
                prev = header.block_hash();
                header
            })
            .collect()
    }

    /// Serves `chain` to `getheaders` like Bitcoin Core: at most 2,000 after the locator.
    /// Counts the `getheaders` it answers in `requests`.
    fn serve_chain(
        peer: PeerHandle,
        events: mpsc::Receiver<Event>,
        chain: Vec<BlockHeader>,
        requests: Arc<AtomicUsize>,
    ) {
        let magic = config().magic;
        serve(peer, events, move |frame| {
            let Ok(request) = frame.decode_as::<GetHeaders>() else {
                return vec![];
            };
            requests.fetch_add(1, Ordering::Relaxed);
            let from = request.locator().next().unwrap();
            let after = if Some(from) == genesis(Network::Regtest) {
                0
            } else {
                chain
                    .iter()
                    .position(|h| h.block_hash() == from)
                    .map_or(chain.len(), |i| i + 1)
            };
            let end = chain.len().min(after + MAX_HEADERS_RESULTS as usize);
            vec![Frame::from_message(magic, &Headers::from_headers(&chain[after..end])).unwrap()]
        });
    }

    /// Downloads `chain` from a fake peer; returns the result and the `getheaders` count.
    async fn fetch(
        chain: Vec<BlockHeader>,
        max: Option<u64>,
        timeout: Duration,
    ) -> (Result<Tip, Error>, usize) {
        let (mut session, peer, events) = pair().await;
        let requests = Arc::new(AtomicUsize::new(0));
        serve_chain(peer, events, chain, Arc::clone(&requests));
        let start = genesis(Network::Regtest).unwrap();
        let result = tokio::time::timeout(
            Duration::from_secs(30),
            download(
                &mut session,
                Network::Regtest,
                start,
                max,
                timeout,
                &ProgressBar::hidden(),
            ),
        )
        .await
        .expect("download ends in time");
        session.close();
        (result, requests.load(Ordering::Relaxed))
    }

    const WAIT: Duration = Duration::from_secs(10);

    #[test]
    fn genesis_table_matches_the_genesis_headers() {
        // Version 1, no parent, the coinbase's merkle root, time, bits and nonce of each
        // network's genesis block (Bitcoin Core chainparams.cpp).
        let satoshi: MerkleNode =
            "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
                .parse()
                .unwrap();
        let testnet4: MerkleNode =
            "7aa0a7ae1e223414cb807e40cd57e667b718e42aaf9306db9102fe28912b7b4e"
                .parse()
                .unwrap();
        let cases = [
            (
                Network::Mainnet,
                satoshi,
                1_231_006_505,
                0x1d00_ffff,
                2_083_236_893,
            ),
            (
                Network::Testnet3,
                satoshi,
                1_296_688_602,
                0x1d00_ffff,
                414_098_458,
            ),
            (
                Network::Testnet4,
                testnet4,
                1_714_777_860,
                0x1d00_ffff,
                393_743_547,
            ),
            (
                Network::Signet,
                satoshi,
                1_598_918_400,
                0x1e03_77ae,
                52_613_770,
            ),
            (Network::Regtest, satoshi, 1_296_688_602, 0x207f_ffff, 2),
        ];
        for (network, merkle_root, time, bits, nonce) in cases {
            let header = BlockHeader {
                version: 1,
                prev_blockhash: BlockHash::ZERO,
                merkle_root,
                time,
                bits,
                nonce,
            };
            assert_eq!(
                header.check_pow_on(network),
                Ok(genesis(network).unwrap()),
                "{network}"
            );
        }
    }

    /// Returns the tip of `chain` at `height`.
    fn tip(chain: &[BlockHeader], height: u64) -> Tip {
        let hash = match height {
            0 => genesis(Network::Regtest).unwrap(),
            h => chain[h as usize - 1].block_hash(),
        };
        Tip { height, hash }
    }

    #[tokio::test]
    async fn downloads_several_batches() {
        let chain = chain(2_500);
        let (tip_got, requests) = fetch(chain.clone(), None, WAIT).await;
        assert_eq!(tip_got.unwrap(), tip(&chain, 2_500));
        assert_eq!(requests, 2, "2,000 then 500");
    }

    #[tokio::test]
    async fn a_full_last_batch_asks_once_more() {
        let chain = chain(2_000);
        let (tip_got, requests) = fetch(chain.clone(), None, WAIT).await;
        assert_eq!(tip_got.unwrap(), tip(&chain, 2_000));
        assert_eq!(requests, 2, "2,000 then none");
    }

    #[tokio::test]
    async fn max_stops_exactly_even_inside_a_batch() {
        let chain = chain(2_500);
        for (max, asked) in [(10, 1), (2_000, 1), (2_100, 2), (9_999, 2)] {
            let (tip_got, requests) = fetch(chain.clone(), Some(max), WAIT).await;
            assert_eq!(tip_got.unwrap(), tip(&chain, max.min(2_500)), "--max {max}");
            assert_eq!(requests, asked, "--max {max}");
        }
    }

    #[tokio::test]
    async fn max_zero_asks_nothing() {
        let (tip_got, requests) = fetch(vec![], Some(0), WAIT).await;
        assert_eq!(tip_got.unwrap(), tip(&[], 0));
        assert_eq!(requests, 0);
    }

    #[tokio::test]
    async fn no_headers_leaves_the_tip_at_genesis() {
        let (tip_got, requests) = fetch(vec![], None, WAIT).await;
        assert_eq!(tip_got.unwrap(), tip(&[], 0));
        assert_eq!(requests, 1);
    }

    #[tokio::test]
    async fn a_header_that_does_not_link_names_its_height_and_hash() {
        let mut chain = chain(10);
        chain[6] = mine(BlockHash([9; 32]), MerkleNode([7; 32]), 1);
        let bad = chain[6].block_hash();
        let expected = chain[5].block_hash();
        match fetch(chain, None, WAIT).await.0 {
            Err(
                e @ Error::Link {
                    height: 7,
                    hash,
                    prev,
                    expected: want,
                },
            ) => {
                assert_eq!((hash, prev, want), (bad, BlockHash([9; 32]), expected));
                let text = e.to_string();
                assert!(
                    text.starts_with(&format!("header 7 ({bad}) does not link")),
                    "{text}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_header_above_its_target_names_its_height_and_hash() {
        let mut chain = chain(10);
        let mut header = chain[4];
        while header.check_pow().is_ok() {
            header.nonce += 1;
        }
        chain[4] = header;
        match fetch(chain, None, WAIT).await.0 {
            Err(Error::Pow {
                height: 5,
                hash,
                source: PowError::AboveTarget { .. },
            }) => {
                assert_eq!(hash, header.block_hash());
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_header_above_the_network_limit_is_refused() {
        // 0x2100ffff (0xffff << 240) meets its own target with almost any nonce, but is
        // above regtest's limit 0x7fff...: Core refuses it, and so do we.
        let mut chain = chain(10);
        let mut header = chain[2];
        header.bits = 0x2100_ffff;
        while header.check_pow().is_err() {
            header.nonce += 1;
        }
        chain[2] = header;
        for h in &mut chain[3..] {
            *h = mine(header.block_hash(), MerkleNode([7; 32]), h.time);
            header = *h;
        }
        match fetch(chain.clone(), None, WAIT).await.0 {
            Err(
                e @ Error::Pow {
                    height: 3,
                    hash,
                    source:
                        PowError::AboveLimit {
                            bits: 0x2100_ffff,
                            network: Network::Regtest,
                        },
                },
            ) => {
                assert_eq!(hash, chain[2].block_hash());
                assert_eq!(
                    crate::common::chain(&e),
                    format!(
                        "header 3 ({hash}) fails its proof of work: target of bits 0x2100ffff \
                         is above the regtest proof-of-work limit"
                    )
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_silent_peer_times_out() {
        let (mut session, peer, events) = pair().await;
        serve(peer, events, |_| vec![]);
        let start = genesis(Network::Regtest).unwrap();
        let timeout = Duration::from_millis(200);
        let result = tokio::time::timeout(
            WAIT,
            download(
                &mut session,
                Network::Regtest,
                start,
                None,
                timeout,
                &ProgressBar::hidden(),
            ),
        )
        .await
        .expect("the request timeout fires first");
        let e = result.unwrap_err();
        assert!(matches!(e, Error::Timeout { height: 0, .. }), "{e:?}");
        assert!(
            e.to_string()
                .starts_with("no `headers` answer within 200ms"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_peer_that_hangs_up_is_reported() {
        let (mut session, peer, events) = pair().await;
        serve(peer.clone(), events, move |_| {
            peer.disconnect();
            vec![]
        });
        let start = genesis(Network::Regtest).unwrap();
        let result = tokio::time::timeout(
            WAIT,
            download(
                &mut session,
                Network::Regtest,
                start,
                None,
                WAIT,
                &ProgressBar::hidden(),
            ),
        )
        .await
        .expect("the disconnection is seen");
        assert!(
            matches!(result, Err(Error::Disconnected { height: 0, .. })),
            "{result:?}"
        );
    }
}
