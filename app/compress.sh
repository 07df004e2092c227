#!/usr/bin/env bash
# Pre-compresses DIR's text and WASM files (gzip -9, brotli -q 11) for the server's
# ServeDir, which sends what the browser accepts.
set -euo pipefail
dir="${1:?usage: app/compress.sh DIR}"
find "$dir" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' \) |
  while read -r f; do
    gzip -9 -k -f "$f"
    if command -v brotli >/dev/null; then brotli -q 11 -k -f "$f"; fi
  done
