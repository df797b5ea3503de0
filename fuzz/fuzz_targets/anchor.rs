//! Fuzz target: see `forankra::fuzzing::anchor`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| forankra::fuzzing::anchor(data));
