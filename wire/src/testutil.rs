//! Fixtures shared by the unit tests.

use alloc::vec::Vec;

/// Decodes hex, skipping anything that is not a hex digit (spaces, newlines).
///
/// # Panics
/// On an odd number of digits: fixtures are trusted.
pub(crate) fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits");
    digits
        .chunks_exact(2)
        .map(|p| {
            let d = |c: u8| char::from(c).to_digit(16).expect("hex digit") as u8;
            d(p[0]) << 4 | d(p[1])
        })
        .collect()
}

/// The mainnet genesis block header, hex.
pub(crate) const GENESIS_HEADER: &str = "0100000000000000000000000000000000000000000000000000000000000000000000003ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a29ab5f49ffff001d1dac2b7c";

/// The mainnet genesis coinbase transaction, hex.
pub(crate) const GENESIS_COINBASE: &str = "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d65732030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f35504e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000";
