//! bcoin, a full node in JavaScript, as a real foreign peer for interop tests.
//!
//! [`Bcoin::start`] installs bcoin 1.0.2 from the npm registry into `tests/bcoin/` when it is
//! missing (leveldown overridden to 6.1.1, which ships prebuilt binaries for Node 20),
//! starts a regtest node on loopback with an in-memory chain, waits for its P2P port, and
//! stops it by PID when dropped.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The regtest address that receives mined coins (any valid regtest address works).
pub const COINBASE_ADDRESS: &str = "RYbAshZrtNskRVusAk91AgFGFCoQBW1BCr";

/// How long bcoin may take to open its port.
pub const START_TIMEOUT: Duration = Duration::from_secs(90);

static INSTALL: Mutex<()> = Mutex::new(());

/// Returns the folder holding bcoin's `package.json`.
#[must_use]
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bcoin")
}

/// Installs bcoin with npm unless it is already there.
///
/// # Errors
/// When npm fails.
pub fn install() -> std::io::Result<()> {
    let _guard = INSTALL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if dir().join("node_modules/bcoin/bin/node").exists() {
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(dir())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(std::io::Error::other(format!(
            "npm install failed: {status}"
        )))
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running bcoin regtest node.
#[derive(Debug)]
pub struct Bcoin {
    child: Child,
    /// Its P2P address.
    pub p2p: SocketAddr,
    /// Its HTTP/JSON-RPC address.
    pub http: SocketAddr,
    api_key: String,
}

impl Bcoin {
    /// Installs (if needed) and starts a node, then waits for its P2P port.
    ///
    /// # Errors
    /// When installing, starting or waiting fails.
    pub async fn start() -> std::io::Result<Self> {
        tokio::task::spawn_blocking(install)
            .await
            .map_err(std::io::Error::other)??;
        let (p2p_port, http_port) = (free_port()?, free_port()?);
        let api_key = format!("btcwire{}", std::process::id());
        let child = Command::new("node")
            .arg(dir().join("node_modules/bcoin/bin/node"))
            .args([
                "--network=regtest",
                "--memory=true",
                "--listen=true",
                "--host=127.0.0.1",
                // A routable public address of its own, so bcoin never asks OpenDNS for one
                // (`discoverExternal`, which it skips once it has a local address): the node
                // must not touch the outside network. Only our loopback peers ever see it.
                "--public-host=1.2.3.4",
                &format!("--port={p2p_port}"),
                "--http-host=127.0.0.1",
                &format!("--http-port={http_port}"),
                "--no-wallet",
                &format!("--api-key={api_key}"),
                &format!("--coinbase-address={COINBASE_ADDRESS}"),
                "--log-level=warning",
                &format!(
                    "--prefix={}",
                    std::env::temp_dir()
                        .join(format!("bcoin-{p2p_port}"))
                        .display()
                ),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let node = Self {
            child,
            p2p: SocketAddr::from(([127, 0, 0, 1], p2p_port)),
            http: SocketAddr::from(([127, 0, 0, 1], http_port)),
            api_key,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        for addr in [node.p2p, node.http] {
            loop {
                if tokio::net::TcpStream::connect(addr).await.is_ok() {
                    break;
                }
                if Instant::now() > deadline {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "bcoin did not start",
                    ));
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        Ok(node)
    }

    /// Calls a JSON-RPC method and returns the `result` field.
    ///
    /// # Errors
    /// On I/O failure or a JSON-RPC error.
    pub async fn rpc(
        &self,
        method: &str,
        params: serde_json::Value,
    ) -> std::io::Result<serde_json::Value> {
        let body = serde_json::json!({ "method": method, "params": params }).to_string();
        let auth = base64_encode(format!("x:{}", self.api_key).as_bytes());
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.http,
            body.len()
        );
        let mut stream = tokio::net::TcpStream::connect(self.http).await?;
        stream.write_all(request.as_bytes()).await?;
        let mut response = Vec::new();
        tokio::time::timeout(Duration::from_secs(60), stream.read_to_end(&mut response))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "rpc timed out"))??;
        let text = String::from_utf8_lossy(&response);
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
        let value: serde_json::Value = serde_json::from_str(body).map_err(std::io::Error::other)?;
        if !value["error"].is_null() {
            return Err(std::io::Error::other(format!(
                "rpc {method}: {}",
                value["error"]
            )));
        }
        Ok(value["result"].clone())
    }

    /// Mines `n` blocks and returns their hashes (reversed hex).
    ///
    /// # Errors
    /// As [`Bcoin::rpc`].
    pub async fn generate(&self, n: u32) -> std::io::Result<Vec<String>> {
        let result = self.rpc("generate", serde_json::json!([n])).await?;
        Ok(result
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }
}

impl Drop for Bcoin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64() {
        assert_eq!(super::base64_encode(b"x:KEY"), "eDpLRVk=");
        assert_eq!(super::base64_encode(b"ab"), "YWI=");
        assert_eq!(super::base64_encode(b"abc"), "YWJj");
    }
}
