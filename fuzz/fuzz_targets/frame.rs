//! Fuzz target: see `forankra::fuzzing::frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| forankra::fuzzing::frame(data));
