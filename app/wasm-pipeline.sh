#!/usr/bin/env bash
# One WASM entry, the same way for every page and for the bench's baseline: cargo
# (wasm32, the size-tuned `wasm-release` profile) → wasm-bindgen → wasm-opt -Oz (binaryen
# from npm; Debian's corrupts wasm-bindgen output). Builds PACKAGE's binary BIN and
# writes OUT_DIR/BIN.js and OUT_DIR/BIN_bg.wasm.
set -euo pipefail
package="${1:?usage: app/wasm-pipeline.sh PACKAGE BIN OUT_DIR}"
bin="${2:?usage: app/wasm-pipeline.sh PACKAGE BIN OUT_DIR}"
out="${3:?usage: app/wasm-pipeline.sh PACKAGE BIN OUT_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
wasm_opt="${WASM_OPT:-$root/end2end/node_modules/binaryen/bin/wasm-opt}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
cd "$root"
cargo build -p "$package" --bin "$bin" --target wasm32-unknown-unknown --profile wasm-release
mkdir -p "$out"
wasm-bindgen --target web --no-typescript --out-dir "$out" \
  "$target_dir/wasm32-unknown-unknown/wasm-release/$bin.wasm"
"$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$out/${bin}_bg.wasm" -o "$out/${bin}_bg.wasm"
