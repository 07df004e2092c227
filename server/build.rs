//! sqlx's `migrate!` embeds `migrations/` at compile time, and a new file alone would not
//! rebuild the crate: a binary could then lack a migration another one has applied.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
