//! Encoding benchmarks: messages built from values, framed with their checksum or bare.
//! One group per workload and SHA-256 backend (see `btcwire_benches`), shared with `parse`.
//!
//! `cargo bench -p btcwire-benches --bench encode` (add `--features fast-sha256` for ring).

use std::hint::black_box;

use btcwire::{Encode, encode_frame};
use btcwire_benches::{MAGIC, Workload, workloads};
use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench_workload(c: &mut Criterion, w: &Workload) {
    let mut group = c.benchmark_group(w.group_name());
    group.throughput(Throughput::Bytes(w.bytes()));
    w.with_messages(|messages| {
        let mut framed = BytesMut::with_capacity(w.stream.len());
        group.bench_function("encode", |b| {
            b.iter(|| {
                framed.clear();
                for m in black_box(messages) {
                    encode_frame(MAGIC, m, &mut framed).unwrap();
                }
                black_box(&framed);
            });
        });
        debug_assert_eq!(&framed[..], &w.stream[..]);

        let mut bare = Vec::with_capacity(w.stream.len());
        group.bench_function("encode_nochecksum", |b| {
            b.iter(|| {
                bare.clear();
                for m in black_box(messages) {
                    m.encode(&mut bare);
                }
                black_box(&bare);
            });
        });
    });
    group.finish();
}

fn encode(c: &mut Criterion) {
    // small_frames, every mainnet block, and (once they land) headers, inv and addr.
    for w in workloads() {
        bench_workload(c, &w);
    }
}

criterion_group!(benches, encode);
criterion_main!(benches);
