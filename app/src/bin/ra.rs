//! The Registration Authority's console (RA-1…RA-6).

fn main() {
    app::start_ra();
}
