#![no_main]
// The body is fuzz_targets::card_answers, shared with the corpus replay test.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::card_answers(data));
