//! `btcwire decode`: print the messages in a capture, or one bare payload.

use std::io::Read;
use std::path::PathBuf;

use btcwire::bytes::BytesMut;
use btcwire::msg::Message;
use btcwire::types::block::WitnessCommitment;
use btcwire::{Command, FrameDecoder, FrameError, Magic, MessageError, Network};

/// Arguments of `decode`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// File to read; standard input when absent or `-`.
    file: Option<PathBuf>,
    /// The input is hex text (whitespace ignored) rather than raw bytes.
    #[arg(long)]
    hex: bool,
    /// Decode the whole input as one bare payload of this command instead of frames.
    #[arg(long, value_name = "COMMAND")]
    payload: Option<String>,
    /// Network whose magic the frames carry.
    #[arg(long, default_value = "mainnet")]
    network: Network,
}

/// Why `decode` failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The input could not be read.
    #[error("reading {path}")]
    Read {
        /// What was read.
        path: String,
        /// The I/O failure.
        #[source]
        source: std::io::Error,
    },
    /// The hex text is not hex.
    #[error("invalid hex at character {0}")]
    Hex(usize),
    /// `--payload` names no valid command.
    #[error("invalid command {0:?}")]
    Command(String),
    /// A frame's envelope is broken and the stream cannot be resynchronised.
    #[error("frame at byte {offset}")]
    Frame {
        /// Offset of the frame in the input.
        offset: usize,
        /// The problem.
        #[source]
        source: FrameError,
    },
    /// A payload did not decode.
    #[error("payload at byte {offset}")]
    Payload {
        /// Offset of the payload in the input.
        offset: usize,
        /// The problem.
        #[source]
        source: MessageError,
    },
    /// Some frames did not decode; the others were printed.
    #[error("{0} of the frames failed to decode")]
    Some(usize),
    /// The input ends inside a frame.
    #[error("input ends inside a frame ({0} bytes left over)")]
    Truncated(usize),
}

pub(crate) fn run(args: &Args) -> Result<(), Error> {
    let path = args
        .file
        .as_ref()
        .map_or_else(|| "-".to_owned(), |p| p.display().to_string());
    let mut raw = Vec::new();
    let read = if path == "-" {
        std::io::stdin().read_to_end(&mut raw)
    } else {
        std::fs::File::open(&path).and_then(|mut f| f.read_to_end(&mut raw))
    };
    read.map_err(|source| Error::Read {
        path: path.clone(),
        source,
    })?;
    if args.hex {
        raw = unhex(&raw)?;
    }
    if let Some(command) = &args.payload {
        let command: Command = command
            .parse()
            .map_err(|_| Error::Command(command.clone()))?;
        let msg = Message::decode(command, &raw)
            .map_err(|source| Error::Payload { offset: 0, source })?;
        println!("{}", describe(&msg));
        return Ok(());
    }
    decode_frames(&raw, args.network.magic())
}

fn decode_frames(raw: &[u8], magic: Magic) -> Result<(), Error> {
    let mut decoder = FrameDecoder::new(magic);
    let mut buf = BytesMut::from(raw);
    let mut failed = 0;
    loop {
        let offset = raw.len() - buf.len();
        match decoder.decode(&mut buf) {
            Ok(Some(frame)) => match frame.message() {
                Ok(msg) => println!("{offset:>8}  {}", describe(&msg)),
                Err(source) => {
                    failed += 1;
                    let e = Error::Payload {
                        offset: offset + btcwire::HEADER_LEN,
                        source,
                    };
                    eprintln!("error: {}", chain(&e));
                }
            },
            Ok(None) if buf.is_empty() => break,
            Ok(None) => return Err(Error::Truncated(buf.len())),
            // The frame was consumed: report it and carry on with the next.
            Err(source @ FrameError::BadChecksum { .. }) => {
                failed += 1;
                eprintln!("error: {}", chain(&Error::Frame { offset, source }));
            }
            Err(source) => return Err(Error::Frame { offset, source }),
        }
    }
    if failed > 0 {
        Err(Error::Some(failed))
    } else {
        Ok(())
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let parts: Vec<String> = std::iter::successors(Some(e), |e| e.source())
        .map(ToString::to_string)
        .collect();
    parts.join(": ")
}

/// Returns a one-line description of a message.
fn describe(msg: &Message<'_>) -> String {
    match msg {
        Message::Block(block) => {
            let merkle = match block.merkle_root() {
                Some(root) if root == block.header.merkle_root => "ok",
                _ => "MISMATCH",
            };
            let witness = match block.witness_commitment() {
                WitnessCommitment::Valid => "valid",
                WitnessCommitment::NotRequired => "none",
                _ => "INVALID",
            };
            let pow = if block.header.check_pow().is_ok() {
                "ok"
            } else {
                "FAIL"
            };
            format!(
                "block {} txs={} size={} weight={} time={} pow={pow} merkle={merkle} witness={witness}",
                block.block_hash(),
                block.txs.len(),
                btcwire::Encode::encoded_len(block),
                block.weight(),
                block.header.time,
            )
        }
        Message::Tx(tx) => format!(
            "tx {} wtxid={} inputs={} outputs={} segwit={} size={}",
            tx.txid(),
            tx.wtxid(),
            tx.inputs.len(),
            tx.outputs.len(),
            tx.is_segwit(),
            btcwire::Encode::encoded_len(tx),
        ),
        other => format!("{} {other:?}", other.command()),
    }
}

fn unhex(text: &[u8]) -> Result<Vec<u8>, Error> {
    let digits: Vec<(usize, u8)> = text
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, c)| !c.is_ascii_whitespace())
        .collect();
    let value = |(i, c): (usize, u8)| {
        char::from(c)
            .to_digit(16)
            .map(|d| d as u8)
            .ok_or(Error::Hex(i))
    };
    if digits.len() % 2 == 1 {
        return Err(Error::Hex(text.len()));
    }
    digits
        .chunks_exact(2)
        .map(|p| Ok(value(p[0])? << 4 | value(p[1])?))
        .collect()
}
