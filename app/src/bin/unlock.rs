//! The unlock page: what a cardholder whose card is locked downloads (issue 18).

fn main() {
    app::start_unlock();
}
