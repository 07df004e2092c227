//! Changes to the card itself, signed in: the certificate renewal (CERT-3) and Manage
//! Passcodes (PASS-2).

fn main() {
    app::start_renew();
}
