//! `decode_message`: any payload under any command through `Message::decode`.
//! See `btcwire_fuzz::check_decode_message`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    btcwire_fuzz::check_decode_message(data);
});

#[cfg(not(fuzzing))]
fn main() {}
