//! `ward_fuzz::eth` under libFuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ward_fuzz::eth(data));
