//! `handshake_ops`: the sans-IO handshake under an arbitrary sequence of frames and clock
//! steps. See `btcwire_fuzz::handshake::check_handshake_ops`.
#![cfg_attr(fuzzing, no_main)]

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    btcwire_fuzz::handshake::check_handshake_ops(data);
});

#[cfg(not(fuzzing))]
fn main() {}
