//! `btcwire decode`: print the messages of a capture, or one bare payload.
//!
//! The input is a stream of frames (24-byte header, then the payload) as raw bytes or, with
//! `--hex`, as hex text in which whitespace is ignored and `#` starts a comment that runs to
//! the end of the line. With `--payload COMMAND` the whole input is one payload of that
//! command, without a header.
//!
//! Each message is printed as one line (its offset in the input, its command and its key
//! fields) or, with `--json`, as one JSON object per line holding every decoded field (see
//! `json.rs`) and the envelope: `offset`, `command`, `payload_len`, and for frames `magic`,
//! `network` and `checksum`.
//!
//! A problem is reported with the offset of its frame, the command, the field and the
//! absolute offset of the field in the input, on standard error (or as a JSON object with an
//! `error` member under `--json`). A payload that does not decode, and a checksum mismatch,
//! consume their frame: decoding goes on with the next one. A broken header (wrong magic,
//! invalid command, length over the limit) leaves no way to find the next frame: decoding
//! stops there. The exit status is 1 when anything failed.

mod human;
mod json;

use std::io::{self, BufWriter, IsTerminal, Read, Write};
use std::path::PathBuf;

use btcwire::bytes::BytesMut;
use btcwire::{
    Command, FrameDecoder, FrameError, HEADER_LEN, Message, MessageError, MessageHeader, Network,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value, json};

use crate::common::chain;

const EXAMPLES: &str = "\
Examples:
  btcwire decode capture.bin                    frames as raw bytes, one line per message
  btcwire decode --hex capture.hex --json       hex text, one JSON object per message
  xxd -p capture.bin | btcwire decode --hex     hex from standard input
  btcwire decode --payload block block.raw      one bare `block` payload
  btcwire decode --network regtest --json frames.bin | jq -c '{offset, command}'

Hashes are shown as Bitcoin Core shows them (byte-reversed hex); scripts and other bytes
in plain hex. Exit status: 0 when every message decoded, 1 otherwise.";

/// Arguments of `decode`.
#[derive(Debug, clap::Args)]
#[command(after_help = EXAMPLES)]
pub(crate) struct Args {
    /// File to read; standard input when absent or `-`.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// The input is hex text: whitespace is ignored, `#` starts a comment to the end of the
    /// line.
    #[arg(long)]
    hex: bool,
    /// Decode the whole input as one bare payload of COMMAND (no 24-byte header).
    #[arg(long, value_name = "COMMAND", value_parser = parse_command)]
    payload: Option<Command>,
    /// Network whose magic the frames carry: mainnet, testnet3, testnet4, signet or regtest.
    #[arg(long, value_name = "NET", default_value = "mainnet")]
    network: Network,
    /// Print one JSON object per message (NDJSON) with every decoded field.
    #[arg(long)]
    json: bool,
}

/// Parses a `--payload` command for clap.
fn parse_command(s: &str) -> Result<Command, String> {
    Command::try_new(s)
        .ok_or_else(|| format!("invalid command {s:?} (1 to 12 printable ASCII characters)"))
}

/// Why `decode` failed, or why one part of the input did not decode.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The input could not be read.
    #[error("reading {path}")]
    Read {
        /// What was read.
        path: String,
        /// The I/O failure.
        #[source]
        source: io::Error,
    },
    /// The output could not be written.
    #[error("writing the output")]
    Write(#[source] io::Error),
    /// The hex text holds a character that is neither a hex digit, whitespace nor a comment.
    #[error("invalid hex digit `{}` at line {line}, column {column}", found.escape_ascii())]
    Hex {
        /// Line of the character, from 1.
        line: usize,
        /// Column of the character in bytes, from 1.
        column: usize,
        /// The character.
        found: u8,
    },
    /// The hex text has an odd number of digits.
    #[error("odd number of hex digits ({digits})")]
    OddHex {
        /// How many digits there are.
        digits: usize,
    },
    /// A frame's envelope is wrong.
    #[error("frame at byte {offset}")]
    Frame {
        /// Offset of the frame in the input.
        offset: usize,
        /// The command, when the header's command field is valid.
        command: Option<Command>,
        /// The problem.
        #[source]
        source: FrameError,
    },
    /// A frame's payload did not decode.
    #[error("frame at byte {offset} (error at input byte {at})")]
    Payload {
        /// Offset of the frame in the input.
        offset: usize,
        /// Offset in the input of the field that failed.
        at: usize,
        /// The command, field and payload offset.
        #[source]
        source: MessageError,
    },
    /// The bare payload given with `--payload` did not decode.
    #[error("payload (error at input byte {at})")]
    BarePayload {
        /// Offset in the input of the field that failed.
        at: usize,
        /// The command, field and payload offset.
        #[source]
        source: MessageError,
    },
    /// The input ends inside a frame header.
    #[error("frame at byte {offset} is cut short: {have} of its {HEADER_LEN} header bytes")]
    TruncatedHeader {
        /// Offset of the frame in the input.
        offset: usize,
        /// The header bytes present.
        have: usize,
    },
    /// The input ends inside a frame's payload.
    #[error("`{command}` frame at byte {offset} is cut short: {have} of its {len} payload bytes")]
    TruncatedPayload {
        /// Offset of the frame in the input.
        offset: usize,
        /// The frame's command.
        command: Command,
        /// The payload length its header declares.
        len: u32,
        /// The payload bytes present.
        have: usize,
    },
}

impl Error {
    /// Returns the members of this error's JSON object: where it happened and in what.
    fn to_json(&self) -> Map<String, Value> {
        let value = match self {
            Self::Hex { line, column, .. } => json!({ "line": line, "column": column }),
            Self::Frame {
                offset, command, ..
            } => json!({ "offset": offset, "command": command.map(|c| c.to_string()) }),
            Self::Payload { offset, at, source } => json!({
                "offset": offset,
                "command": source.command.as_str(),
                "field": source.source.field,
                "payload_offset": source.source.offset,
                "error_offset": at,
            }),
            Self::BarePayload { at, source } => json!({
                "offset": 0,
                "command": source.command.as_str(),
                "field": source.source.field,
                "payload_offset": source.source.offset,
                "error_offset": at,
            }),
            Self::TruncatedHeader { offset, .. } => json!({ "offset": offset }),
            Self::TruncatedPayload {
                offset, command, ..
            } => json!({ "offset": offset, "command": command.as_str() }),
            Self::Read { .. } | Self::Write(_) | Self::OddHex { .. } => json!({}),
        };
        let mut out = match value {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        out.insert("error".into(), chain(self).into());
        out
    }
}

pub(crate) async fn run(args: Args) -> Result<bool, Error> {
    let input = read_input(args.file.as_deref())?;
    let progress = progress(input.len());
    let stdout = BufWriter::new(io::stdout().lock());
    let mut printer = Printer::new(stdout, io::stderr(), args.json, progress);
    let result = printer.input(&args, &input).and_then(|()| printer.finish());
    printer.progress.finish_and_clear();
    match result {
        Ok(()) => Ok(printer.errors == 0),
        // A reader that stopped early (`| head`) is not a failure of the decoding.
        Err(Error::Write(e)) if e.kind() == io::ErrorKind::BrokenPipe => Ok(printer.errors == 0),
        Err(e) => Err(e),
    }
}

/// Reads the whole input: a file, or standard input for `-` or no path.
fn read_input(path: Option<&std::path::Path>) -> Result<Vec<u8>, Error> {
    if let Some(p) = path.filter(|p| p.as_os_str() != "-") {
        return std::fs::read(p).map_err(|source| Error::Read {
            path: p.display().to_string(),
            source,
        });
    }
    let stdin = io::stdin();
    if stdin.is_terminal() {
        eprintln!("reading frames from standard input (end with Ctrl-D)");
    }
    let mut raw = Vec::new();
    stdin
        .lock()
        .read_to_end(&mut raw)
        .map_err(|source| Error::Read {
            path: "standard input".to_owned(),
            source,
        })?;
    Ok(raw)
}

/// Returns a progress bar over the input's bytes, drawn only when it cannot mix with the
/// messages: stderr is a terminal and stdout is not, and the input is large.
fn progress(len: usize) -> ProgressBar {
    /// Inputs smaller than this decode too fast for a bar to help.
    const MIN_BYTES: usize = 1 << 20;
    if len < MIN_BYTES || !io::stderr().is_terminal() || io::stdout().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}") {
        bar.set_style(style);
    }
    bar
}

/// Returns the bytes that hex text stands for: whitespace is skipped, `#` starts a comment
/// that runs to the end of the line.
///
/// # Errors
/// [`Error::Hex`] naming the line and column of the first bad character, or
/// [`Error::OddHex`].
fn unhex(text: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(text.len() / 2);
    let mut high: Option<u8> = None;
    let (mut line, mut column) = (1, 0);
    let mut comment = false;
    let mut digits = 0;
    for &c in text {
        if c == b'\n' {
            (line, column, comment) = (line + 1, 0, false);
            continue;
        }
        column += 1;
        if comment || c.is_ascii_whitespace() {
            continue;
        }
        if c == b'#' {
            comment = true;
            continue;
        }
        let Some(digit) = char::from(c).to_digit(16) else {
            return Err(Error::Hex {
                line,
                column,
                found: c,
            });
        };
        // A hex digit is below 16: it fits in a byte.
        let digit = digit as u8;
        digits += 1;
        match high.take() {
            Some(h) => out.push(h << 4 | digit),
            None => high = Some(digit),
        }
    }
    if high.is_some() {
        return Err(Error::OddHex { digits });
    }
    Ok(out)
}

/// Returns whether raw input looks like hex text (so `--hex` was probably forgotten).
fn looks_like_hex(raw: &[u8]) -> bool {
    !raw.is_empty()
        && raw
            .iter()
            .all(|c| c.is_ascii_hexdigit() || c.is_ascii_whitespace())
}

/// Writes messages and errors, and counts them.
struct Printer<W: Write, E: Write> {
    /// Messages (and, under `--json`, errors).
    out: W,
    /// Errors and hints in human mode.
    err: E,
    /// NDJSON rather than lines.
    json: bool,
    /// Messages decoded.
    messages: usize,
    /// Problems reported.
    errors: usize,
    /// Bytes of input decoded.
    bytes: usize,
    /// Progress over the input.
    progress: ProgressBar,
}

impl<W: Write, E: Write> Printer<W, E> {
    fn new(out: W, err: E, json: bool, progress: ProgressBar) -> Self {
        Self {
            out,
            err,
            json,
            messages: 0,
            errors: 0,
            bytes: 0,
            progress,
        }
    }

    /// Decodes the input as `args` say.
    fn input(&mut self, args: &Args, input: &[u8]) -> Result<(), Error> {
        let decoded;
        let raw = if args.hex {
            match unhex(input) {
                Ok(bytes) => {
                    decoded = bytes;
                    &decoded[..]
                }
                Err(e) => return self.error(&e, None),
            }
        } else {
            input
        };
        match args.payload {
            Some(command) => self.payload(command, raw),
            None => {
                let hint = (!args.hex && looks_like_hex(raw))
                    .then_some("the input looks like hex text: try --hex");
                self.frames(raw, args.network, hint)
            }
        }
    }

    /// Decodes `raw` as one payload of `command`.
    fn payload(&mut self, command: Command, raw: &[u8]) -> Result<(), Error> {
        self.bytes = raw.len();
        match Message::decode(command, raw) {
            Ok(msg) => self.message(0, None, raw.len(), &msg),
            Err(source) => {
                let at = source.source.offset;
                self.error(&Error::BarePayload { at, source }, None)
            }
        }
    }

    /// Decodes `raw` as a stream of frames of `network`.
    fn frames(&mut self, raw: &[u8], network: Network, hint: Option<&str>) -> Result<(), Error> {
        let mut decoder = FrameDecoder::new(network.magic());
        let mut buf = BytesMut::from(raw);
        self.bytes = raw.len();
        loop {
            let offset = raw.len() - buf.len();
            self.progress.set_position(offset as u64);
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => match frame.message() {
                    Ok(msg) => {
                        let len = frame.payload.len();
                        self.message(offset, Some((&frame.header, network)), len, &msg)?;
                    }
                    Err(source) => {
                        let at = offset + HEADER_LEN + source.source.offset;
                        self.error(&Error::Payload { offset, at, source }, None)?;
                    }
                },
                Ok(None) => {
                    let problem = match decoder.pending() {
                        Some(header) => Some(Error::TruncatedPayload {
                            offset,
                            command: header.command,
                            len: header.payload_len,
                            have: buf.len(),
                        }),
                        None if !buf.is_empty() => Some(Error::TruncatedHeader {
                            offset,
                            have: buf.len(),
                        }),
                        None => None,
                    };
                    if let Some(e) = problem {
                        self.error(&e, if offset == 0 { hint } else { None })?;
                    }
                    return Ok(());
                }
                Err(source) => {
                    // A checksum mismatch consumed its frame; any other error leaves the
                    // stream without a known frame boundary.
                    let resumable = matches!(source, FrameError::BadChecksum { .. });
                    let command = raw
                        .get(offset + 4..offset + 16)
                        .and_then(|field| field.try_into().ok())
                        .and_then(|field| Command::from_bytes(field).ok());
                    let magic_hint = match source {
                        FrameError::WrongMagic { actual, .. } => Network::from_magic(actual)
                            .map(|n| format!("that is the {n} magic: try --network {n}")),
                        _ => None,
                    };
                    let hint = magic_hint
                        .as_deref()
                        .or(if offset == 0 { hint } else { None });
                    self.error(
                        &Error::Frame {
                            offset,
                            command,
                            source,
                        },
                        hint,
                    )?;
                    if !resumable {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Prints one message at `offset`, with its frame header when it had one.
    fn message(
        &mut self,
        offset: usize,
        frame: Option<(&MessageHeader, Network)>,
        payload_len: usize,
        msg: &Message<'_>,
    ) -> Result<(), Error> {
        self.messages += 1;
        let command = msg.command();
        if self.json {
            let mut obj = Map::new();
            obj.insert("offset".into(), offset.into());
            obj.insert("command".into(), command.as_str().into());
            obj.insert("payload_len".into(), payload_len.into());
            if let Some((header, network)) = frame {
                obj.insert("magic".into(), header.magic.to_string().into());
                obj.insert("network".into(), network.name().into());
                obj.insert("checksum".into(), json::hex(&header.checksum.0).into());
            }
            obj.extend(json::message(msg));
            serde_json::to_writer(&mut self.out, &obj).map_err(|e| Error::Write(e.into()))?;
            writeln!(self.out).map_err(Error::Write)
        } else {
            let line = format!(
                "{offset:>8}  {:<12} {}",
                command.as_str(),
                human::describe(msg)
            );
            writeln!(self.out, "{}", line.trim_end()).map_err(Error::Write)
        }
    }

    /// Reports a problem with the input, and a hint when there is one.
    fn error(&mut self, e: &Error, hint: Option<&str>) -> Result<(), Error> {
        self.errors += 1;
        if self.json {
            let mut obj = e.to_json();
            if let Some(hint) = hint {
                obj.insert("hint".into(), hint.into());
            }
            serde_json::to_writer(&mut self.out, &obj).map_err(|e| Error::Write(e.into()))?;
            return writeln!(self.out).map_err(Error::Write);
        }
        // Keep the order of messages and errors when both go to a terminal.
        self.out.flush().map_err(Error::Write)?;
        let err = &mut self.err;
        self.progress
            .suspend(|| {
                writeln!(err, "error: {}", chain(e))?;
                match hint {
                    Some(hint) => writeln!(err, "hint: {hint}"),
                    None => Ok(()),
                }
            })
            .map_err(Error::Write)
    }

    /// Prints the summary line (human output only) and flushes.
    fn finish(&mut self) -> Result<(), Error> {
        if !self.json {
            let plural =
                |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
            writeln!(
                self.out,
                "{}, {}, {}",
                plural(self.messages, "message"),
                plural(self.errors, "error"),
                plural(self.bytes, "byte"),
            )
            .map_err(Error::Write)?;
        }
        self.out.flush().map_err(Error::Write)
    }
}

#[cfg(test)]
mod tests;
