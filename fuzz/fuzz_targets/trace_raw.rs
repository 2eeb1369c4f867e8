#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| modkit_fuzz::trace_raw(data));
