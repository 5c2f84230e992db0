#!/usr/bin/env python3
"""Prints the median throughput of every btcwire benchmark as a Markdown table.

    python3 benches/median-table.py [CRITERION_DIR]

CRITERION_DIR defaults to $CARGO_TARGET_DIR/criterion, else target/criterion. One row per
criterion group (workload-backend), one column per function, in MiB/s computed from the
median time and the group's Throughput::Bytes. A second table gives the ratios that issue 2
sets targets for, each read inside one group (one run, one machine):

- decode_visit / sha256d (speed, target >= 0.9), encode / sha256d (speed, target >= 0.9);
- decode_visit_nohash and encode_nochecksum as multiples of memcpy's time (target <= 2 for
  headers and inv, <= 3 for blocks and addr when decoding, none for small frames; <= 2 for
  every encode).

Compare numbers from the same machine only.
"""
import json
import os
import sys
from pathlib import Path

FUNCTIONS = [
    "memcpy",
    "sha256d",
    "decode_visit",
    "decode_visit_nohash",
    "decode_then_iterate",
    "decode_visit_hashes",
    "encode",
    "encode_nochecksum",
]


def main() -> int:
    default = Path(os.environ.get("CARGO_TARGET_DIR", "target")) / "criterion"
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    if not root.is_dir():
        print(f"no criterion results under {root}: run `cargo bench -p btcwire-benches` first",
              file=sys.stderr)
        return 1
    print("| group (workload-backend) | bytes | " + " | ".join(FUNCTIONS) + " |")
    print("|---|---:|" + "---:|" * len(FUNCTIONS))
    rows = []
    for group in sorted(p for p in root.iterdir() if (p / "memcpy" / "new").is_dir()):
        cells, size, speeds = [], None, {}
        for function in FUNCTIONS:
            new = group / function / "new"
            if not new.is_dir():
                cells.append("-")
                continue
            bench = json.loads((new / "benchmark.json").read_text())
            median_ns = json.loads((new / "estimates.json").read_text())["median"]["point_estimate"]
            size = (bench.get("throughput") or {}).get("Bytes")
            if size:
                speeds[function] = size / median_ns * 1e9 / 2**20
            cells.append(f"{speeds[function]:,.0f}" if size else "?")
        print(f"| {group.name} | {size or '?'} | " + " | ".join(cells) + " |")
        rows.append((group.name, speeds))
    print("\nMedian throughput in MiB/s (higher is better).\n")
    print("| group | decode_visit vs sha256d (>= 0.9) | decode_visit_nohash, x memcpy time | "
          "encode vs sha256d (>= 0.9) | encode_nochecksum, x memcpy time (<= 2) |")
    print("|---|---:|---:|---:|---:|")
    for name, v in rows:
        # The issue sets no memcpy target for decoding small frames (8-byte payloads).
        nohash_limit = 2 if name.startswith(("headers", "inv")) else 3
        nohash = ("-" if name.startswith("small_frames")
                  else ratio(v, "memcpy", "decode_visit_nohash", nohash_limit, speed=False))
        cells = [
            ratio(v, "decode_visit", "sha256d", 0.9, speed=True),
            nohash,
            ratio(v, "encode", "sha256d", 0.9, speed=True),
            ratio(v, "memcpy", "encode_nochecksum", 2, speed=False),
        ]
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


def ratio(speeds, a, b, target, speed):
    """a / b with a mark: a speed ratio must reach `target`, a time multiple stay under it."""
    if a not in speeds or b not in speeds:
        return "-"
    r = speeds[a] / speeds[b]
    ok = r >= target if speed else r <= target
    limit = f"(<= {target})" if not speed else ""
    return f"{r:.3f} {'ok' if ok else 'MISS'} {limit}".strip()


if __name__ == "__main__":
    sys.exit(main())
