//! Performance instruments (`cargo xtask bench`): what the benches share — the databases
//! they make, the release server as a child process, virtual-card users enrolled straight
//! into the store, the unlock's steps over HTTP, CPU and argon2id measurements.

pub mod argon2;
pub mod backend;
pub mod cpu;
pub mod process;
pub mod unlock;
