#!/usr/bin/env python3
"""Prints the median throughput of every btcwire benchmark as a Markdown table.

    python3 benches/median-table.py [CRITERION_DIR]

CRITERION_DIR defaults to $CARGO_TARGET_DIR/criterion, else target/criterion. One row per
criterion group (workload-backend), one column per function, in MiB/s computed from the
median time and the group's Throughput::Bytes. Compare numbers from the same machine only.
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
    for group in sorted(p for p in root.iterdir() if (p / "memcpy" / "new").is_dir()):
        cells, size = [], None
        for function in FUNCTIONS:
            new = group / function / "new"
            if not new.is_dir():
                cells.append("-")
                continue
            bench = json.loads((new / "benchmark.json").read_text())
            median_ns = json.loads((new / "estimates.json").read_text())["median"]["point_estimate"]
            size = (bench.get("throughput") or {}).get("Bytes")
            cells.append(f"{size / median_ns * 1e9 / 2**20:,.0f}" if size else "?")
        print(f"| {group.name} | {size or '?'} | " + " | ".join(cells) + " |")
    print("\nMedian throughput in MiB/s (higher is better).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
