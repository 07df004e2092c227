//! Every page in one WASM, for `trunk serve` only: never built by app/build.sh nor served.

fn main() {
    app::start_all();
}
