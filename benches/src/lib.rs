//! Fixtures for the btcwire benchmarks.
