#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| modkit_fuzz::module(data));
