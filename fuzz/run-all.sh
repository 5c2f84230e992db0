#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 60), one after the other.
#
#   fuzz/run-all.sh [SECONDS] [extra libFuzzer flags...]
#
# 1. installs cargo-fuzz if missing (needs the nightly toolchain: `rustup toolchain install
#    nightly`);
# 2. writes the seed corpus into fuzz/corpus/<target>/ (kept between runs; libFuzzer adds
#    the inputs it finds interesting there);
# 3. builds every target once, then runs each with a time, memory and per-input limit.
# Exits non-zero if any target finds a crash; the input is saved in
# fuzz/artifacts/<target>/ and each target's log is fuzz/artifacts/<target>.log.
# Replay a crash with `cargo +nightly fuzz run <target> fuzz/artifacts/<target>/<file>`.
#
# FUZZ_SANITIZER (default: address, cargo-fuzz's default) is passed as `-s` to build and
# run; `FUZZ_SANITIZER=none` runs about 3x more inputs per second (the crates under test
# forbid `unsafe`, so AddressSanitizer only guards their dependencies).
set -euo pipefail

secs=${1:-60}
san=${FUZZ_SANITIZER:-address}
shift || true
cd "$(dirname "$0")/.."

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzzing needs the nightly toolchain: rustup toolchain install nightly" >&2
    exit 2
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

targets=(decode_frame decode_message roundtrip_message roundtrip_structured handshake_ops)

echo "== seeding fuzz/corpus"
BTCWIRE_FUZZ_CORPUS="$PWD/fuzz/corpus" \
    cargo test --quiet -p btcwire-fuzz --lib -- --ignored --exact tests::write_seed_corpus --nocapture

echo "== building ${#targets[@]} targets"
start=$(date +%s)
cargo +nightly fuzz build -s "$san"
echo "built in $(($(date +%s) - start)) s"

mkdir -p fuzz/artifacts
failed=()
for target in "${targets[@]}"; do
    log=fuzz/artifacts/$target.log
    echo "== $target for ${secs}s (log: $log)"
    # -timeout: an input taking over 10 s counts as a crash (a hang).
    if cargo +nightly fuzz run -s "$san" "$target" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 "$@" \
        >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true
        grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
    else
        echo "!! $target FAILED:" >&2
        grep -E -A 30 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -n 60 >&2 || tail -n 40 "$log" >&2
        failed+=("$target")
    fi
done

if ((${#failed[@]})); then
    echo "crashes in: ${failed[*]}" >&2
    exit 1
fi
echo "all ${#targets[@]} targets ran ${secs}s each without a crash"
