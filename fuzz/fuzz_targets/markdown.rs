//! Fuzz target: see `forankra::fuzzing::markdown`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| forankra::fuzzing::markdown(data));
