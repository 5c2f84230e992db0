//! Running the `btcwire` binary from tests.
//!
//! The binary belongs to another package, so the harness builds it once (with the same
//! cargo and profile as the tests) and returns its path.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Returns the path of a freshly built `btcwire` binary.
///
/// # Panics
/// When cargo cannot build it: every CLI test needs it.
pub fn btcwire_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "btcwire-cli", "--bin", "btcwire"])
            .current_dir(&root)
            .status()
            .expect("running cargo build");
        assert!(status.success(), "building btcwire failed");
        let target =
            std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
        let bin = target.join("debug").join("btcwire");
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
    .clone()
}

/// Returns an `assert_cmd` command for `btcwire`.
#[must_use]
pub fn btcwire() -> assert_cmd::Command {
    assert_cmd::Command::new(btcwire_bin())
}

/// The NDJSON fields every handshake report carries (`handshake --json`, `crawl`).
pub const REPORT_FIELDS: [&str; 15] = [
    "target",
    "addr",
    "ok",
    "error",
    "version",
    "user_agent",
    "services",
    "service_names",
    "start_height",
    "relay",
    "wtxidrelay",
    "sendaddrv2",
    "connect_ms",
    "handshake_ms",
    "timeline",
];
