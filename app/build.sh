#!/usr/bin/env bash
# Builds the SPA into OUT_DIR: cargo (wasm32, size-tuned profile) → wasm-bindgen →
# wasm-opt (binaryen from npm; Debian's corrupts wasm-bindgen output) → static files,
# pre-compressed for the server's ServeDir.
set -euo pipefail
out="${1:?usage: app/build.sh OUT_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
wasm_opt="${WASM_OPT:-$root/end2end/node_modules/binaryen/bin/wasm-opt}"
cd "$root"
cargo build -p app --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$out"
mkdir -p "$out/style" "$out/assets"
wasm-bindgen --target web --no-typescript --out-name app --out-dir "$out" \
  target/wasm32-unknown-unknown/wasm-release/app.wasm
"$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  "$out/app_bg.wasm" -o "$out/app_bg.wasm"
cp app/index.html app/start.js "$out/"
frontend=style/node_modules/nhsuk-frontend/dist/nhsuk
cp "$frontend/nhsuk-frontend.min.css" style/app.css "$out/style/"
cp -r "$frontend/assets/images" "$out/assets/"
find "$out" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) |
  while read -r f; do
    gzip -9 -k -f "$f"
    if command -v brotli >/dev/null; then brotli -q 11 -k -f "$f"; fi
  done
raw=$(stat -c %s "$out/app_bg.wasm")
gz=$(stat -c %s "$out/app_bg.wasm.gz")
br=$( [ -f "$out/app_bg.wasm.br" ] && stat -c %s "$out/app_bg.wasm.br" || echo "n/a")
echo "app built in $out: app_bg.wasm $raw bytes raw, $gz gzip, $br brotli"
