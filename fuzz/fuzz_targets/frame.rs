//! Fuzz target: see `forankra::fuzzing::frame`.
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: forankra::fuzzing::catch_like_the_server(),
    |data: &[u8]| forankra::fuzzing::run(forankra::fuzzing::frame, data)
);
