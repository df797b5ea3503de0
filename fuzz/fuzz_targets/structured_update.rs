//! Fuzz target: see `forankra::structured_fuzzing::update` (the bytes are choices, not
//! the input itself).
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: forankra::fuzzing::catch_like_the_server(),
    |data: &[u8]| forankra::fuzzing::run(forankra::structured_fuzzing::update, data)
);
