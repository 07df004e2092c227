#![no_main]
// The body is fuzz_targets::scp03_host_unwrap, shared with the corpus replay test.
libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_targets::scp03_host_unwrap(data));
