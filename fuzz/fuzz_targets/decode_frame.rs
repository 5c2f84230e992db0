//! `decode_frame`: a byte stream, cut into chunks, through `FrameDecoder`.
//! See `btcwire_fuzz::check_decode_frame`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    btcwire_fuzz::check_decode_frame(data);
});

#[cfg(not(fuzzing))]
fn main() {}
