//! Fuzz target: see `forankra::fuzzing::awareness`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| forankra::fuzzing::awareness(data));
