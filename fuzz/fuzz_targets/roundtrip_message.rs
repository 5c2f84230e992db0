//! `roundtrip_message`: whatever decodes encodes back to the same bytes.
//! See `btcwire_fuzz::check_roundtrip_message`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    btcwire_fuzz::check_roundtrip_message(data);
});

#[cfg(not(fuzzing))]
fn main() {}
