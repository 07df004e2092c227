#![allow(clippy::panic)]

//! Replays every input the fuzzers kept (`fuzz/corpus/<target>/`) through its target, on
//! stable: what once crashed or hung, found by `cargo xtask fuzz`, stays fixed (ALL-2).

use std::path::Path;

#[test]
fn all_2_every_kept_fuzz_input_is_handled_without_a_panic() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut replayed = 0;
    for (name, target) in fuzz_targets::TARGETS {
        let dir = corpus.join(name);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            panic!("no corpus for {name} in {}", dir.display());
        };
        for entry in entries.flatten() {
            let input = std::fs::read(entry.path()).unwrap_or_default();
            target(&input);
            replayed += 1;
        }
    }
    assert!(
        replayed >= fuzz_targets::TARGETS.len(),
        "only {replayed} inputs"
    );
}
