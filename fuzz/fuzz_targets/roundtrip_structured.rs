//! `roundtrip_structured`: messages built from `arbitrary` values survive framing, decoding
//! and re-encoding. See `btcwire_fuzz::check_roundtrip_structured`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|desc: btcwire_fuzz::MessageDesc| {
    btcwire_fuzz::check_roundtrip_structured(&desc);
});

#[cfg(not(fuzzing))]
fn main() {}
