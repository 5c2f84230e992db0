#!/usr/bin/env bash
# The whole test suite: the README's test command, and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }

step "format";          cargo fmt --all --check
step "clippy";          cargo clippy --workspace --all-targets --all-features -- -D warnings
step "tests (all features, ring SHA-256)"; cargo test --workspace --all-features
step "tests (default features, sha2)";     cargo test -p btcwire
step "no_std build";    cargo check -p btcwire --no-default-features
step "docs";            RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features
step "benches build";   cargo bench -p btcwire-benches --no-run
step "fuzz (${FUZZ_SECONDS:-30} s per target)"; bash fuzz/run-all.sh "${FUZZ_SECONDS:-30}"
step "all checks passed"
