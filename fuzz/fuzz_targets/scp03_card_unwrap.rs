#![no_main]
// The body is fuzz_targets::scp03_card_unwrap, shared with the corpus replay test.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::scp03_card_unwrap(data));
