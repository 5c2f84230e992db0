//! `btcwire`: the command-line tool of the btcwire project.
//!
//! Today it decodes captured messages and raw blocks; handshakes, ping, crawl and listen
//! arrive with the net and cli issues.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Speak the Bitcoin P2P protocol from the command line.
#[derive(Debug, Parser)]
#[command(name = "btcwire", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode framed P2P messages (or one bare payload) from a file or stdin.
    ///
    /// Examples:
    ///   btcwire decode capture.bin
    ///   btcwire decode --hex frames.txt
    ///   btcwire decode --payload block tests/data/mainnet_block_0000…52a8.raw
    #[command(verbatim_doc_comment)]
    Decode(cmd::decode::Args),
}

/// A failed command.
#[derive(Debug, thiserror::Error)]
enum Error {
    /// `decode` failed.
    #[error(transparent)]
    Decode(#[from] cmd::decode::Error),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result: Result<(), Error> = match cli.command {
        Command::Decode(args) => cmd::decode::run(&args).map_err(Error::from),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let chain: Vec<String> =
                std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
                    .map(ToString::to_string)
                    .collect();
            eprintln!("error: {}", chain.join(": "));
            ExitCode::FAILURE
        }
    }
}
