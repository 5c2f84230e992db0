//! Decoding benchmarks: one group per workload and SHA-256 backend (see `btcwire_benches`).
//!
//! `cargo bench -p btcwire-benches --bench parse` (add `--features fast-sha256` for ring).

use std::hint::black_box;

use btcwire::Sha256d;
use btcwire_benches::{
    Workload, decode_then_iterate, decode_visit, decode_visit_nohash, workloads,
};
use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

fn bench_workload(c: &mut Criterion, w: &Workload) {
    let mut group = c.benchmark_group(w.group_name());
    group.throughput(Throughput::Bytes(w.bytes()));

    let mut copy = vec![0u8; w.stream.len()];
    group.bench_function("memcpy", |b| {
        b.iter(|| {
            copy.copy_from_slice(black_box(&w.stream));
            black_box(&copy);
        });
    });

    group.bench_function("sha256d", |b| {
        b.iter(|| {
            for (_, payload) in w.payloads() {
                black_box(Sha256d::hash(black_box(payload)));
            }
        });
    });

    // The frame decoder consumes its buffer: each iteration gets a fresh copy, made
    // outside the measurement.
    let fresh = || BytesMut::from(&w.stream[..]);
    group.bench_function("decode_visit", |b| {
        b.iter_batched_ref(
            fresh,
            |buf| black_box(decode_visit(buf, false)),
            BatchSize::PerIteration,
        );
    });

    group.bench_function("decode_visit_nohash", |b| {
        b.iter(|| black_box(decode_visit_nohash(black_box(w))));
    });

    if w.has_one_pass() {
        group.bench_function("decode_then_iterate", |b| {
            b.iter(|| black_box(decode_then_iterate(black_box(w))));
        });
    }

    if w.has_ids {
        group.bench_function("decode_visit_hashes", |b| {
            b.iter_batched_ref(
                fresh,
                |buf| black_box(decode_visit(buf, true)),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

fn parse(c: &mut Criterion) {
    // small_frames, every mainnet block, and (once they land) headers, inv and addr.
    for w in workloads() {
        bench_workload(c, &w);
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
