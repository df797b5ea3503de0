//! Fuzz target: see `forankra::fuzzing::json`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| forankra::fuzzing::json(data));
