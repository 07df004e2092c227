//! A cardholder's other pages: sign-in, My card, registration, "this wasn't me", Check my setup.

fn main() {
    app::start_account();
}
