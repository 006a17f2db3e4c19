#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tillfund_fuzz_targets::counter_answers(data));
