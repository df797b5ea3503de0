//! Fuzz target: see `forankra::fuzzing::update`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| forankra::fuzzing::update(data));
