//! `btcwire`: speak the Bitcoin P2P protocol from the command line.
//!
//! One file per subcommand in `cmd/`; each has an `Args` struct and an async `run` that
//! returns whether everything succeeded. Exit status: 0 when it did, 1 when anything failed,
//! 2 for usage errors (clap's).

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

mod cmd;
mod common;

const EXAMPLES: &str = "\
Examples:
  btcwire handshake --local                    handshake with a node started in-process
  btcwire handshake seed.bitcoin.sipa.be 1.2.3.4:8333 --json
  btcwire handshake --file nodes.txt --concurrency 512 --timeout 5s
  btcwire ping 127.0.0.1:18444 --network regtest --count 5
  btcwire listen --bind 127.0.0.1:8333
  btcwire crawl --max-nodes 1000 --out nodes.ndjson
  btcwire decode --hex capture.txt --json
  btcwire headers 127.0.0.1:18444 --network regtest
  btcwire block 127.0.0.1:18444 <hash> --network regtest --raw block.bin";

/// Speak the Bitcoin P2P protocol: handshake with many nodes, ping, crawl, listen, decode.
#[derive(Debug, Parser)]
#[command(name = "btcwire", version, about, after_help = EXAMPLES)]
struct Cli {
    /// More logs on stderr (-v: debug, -vv: trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Handshake with nodes in parallel and report each one's version, services, user agent,
    /// latency and negotiation fingerprint.
    Handshake(cmd::handshake::Args),
    /// Handshake, then measure ping/pong round trips.
    Ping(cmd::ping::Args),
    /// Run a node that accepts peers and prints what they send, until Ctrl-C.
    Listen(cmd::listen::Args),
    /// Discover the network: handshake, ask for addresses, follow them.
    Crawl(cmd::crawl::Args),
    /// Decode framed P2P messages (or one bare payload) from a file or stdin.
    Decode(cmd::decode::Args),
    /// Download headers from a peer, verifying links and proof of work.
    Headers(cmd::headers::Args),
    /// Fetch a block from a peer and verify its merkle root and witness commitment.
    Block(cmd::block::Args),
}

/// A failed command.
#[derive(Debug, thiserror::Error)]
enum Error {
    #[error(transparent)]
    Handshake(#[from] cmd::handshake::Error),
    #[error(transparent)]
    Ping(#[from] cmd::ping::Error),
    #[error(transparent)]
    Listen(#[from] cmd::listen::Error),
    #[error(transparent)]
    Crawl(#[from] cmd::crawl::Error),
    #[error(transparent)]
    Decode(#[from] cmd::decode::Error),
    #[error(transparent)]
    Headers(#[from] cmd::headers::Error),
    #[error(transparent)]
    Block(#[from] cmd::block::Error),
    #[error("starting the runtime")]
    Runtime(#[source] std::io::Error),
}

fn init_logs(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn run(command: Command) -> Result<bool, Error> {
    Ok(match command {
        Command::Handshake(args) => cmd::handshake::run(args).await?,
        Command::Ping(args) => cmd::ping::run(args).await?,
        Command::Listen(args) => cmd::listen::run(args).await?,
        Command::Crawl(args) => cmd::crawl::run(args).await?,
        Command::Decode(args) => cmd::decode::run(args).await?,
        Command::Headers(args) => cmd::headers::run(args).await?,
        Command::Block(args) => cmd::block::run(args).await?,
    })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let misuse = match &cli.command {
        Command::Listen(args) => args.usage_error(),
        _ => None,
    };
    if let Some(why) = misuse {
        Cli::command()
            .error(clap::error::ErrorKind::ArgumentConflict, why)
            .exit();
    }
    init_logs(cli.verbose);
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
        .and_then(|rt| rt.block_on(run(cli.command)));
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {}", common::chain(&e));
            ExitCode::FAILURE
        }
    }
}
