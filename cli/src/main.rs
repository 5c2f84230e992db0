//! The btcwire command-line tool.
fn main() {}
