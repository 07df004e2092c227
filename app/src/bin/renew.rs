//! Changes to the card itself, signed in: the certificate renewal (CERT-3).

fn main() {
    app::start_renew();
}
