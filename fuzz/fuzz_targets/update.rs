//! Fuzz target: see `forankra::fuzzing::update`.
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: forankra::fuzzing::catch_like_the_server(),
    |data: &[u8]| forankra::fuzzing::run(forankra::fuzzing::update, data)
);
