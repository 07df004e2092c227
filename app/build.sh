#!/usr/bin/env bash
# Builds the SPA into OUT_DIR: the WASM (app/wasm-pipeline.sh), its page and styles,
# pre-compressed for the server's ServeDir (app/compress.sh).
set -euo pipefail
out="${1:?usage: app/build.sh OUT_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
rm -rf "$out"
mkdir -p "$out/style" "$out/assets"
bash app/wasm-pipeline.sh app app "$out"
cp app/index.html app/start.js "$out/"
frontend=style/node_modules/nhsuk-frontend/dist/nhsuk
cp "$frontend/nhsuk-frontend.min.css" style/app.css "$out/style/"
cp -r "$frontend/assets/images" "$out/assets/"
bash app/compress.sh "$out"
raw=$(stat -c %s "$out/app_bg.wasm")
gz=$(stat -c %s "$out/app_bg.wasm.gz")
br=$( [ -f "$out/app_bg.wasm.br" ] && stat -c %s "$out/app_bg.wasm.br" || echo "n/a")
echo "app built in $out: app_bg.wasm $raw bytes raw, $gz gzip, $br brotli"
