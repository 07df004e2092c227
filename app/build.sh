#!/usr/bin/env bash
# Builds the SPA into OUT_DIR: one WASM per audience (app/wasm-pipeline.sh; issue 18),
# each with its page (app/page.html: the unlock's is index.html) and start script, the
# styles, all pre-compressed for the server's ServeDir (app/compress.sh). Which paths get
# which page: api_types::pages.
set -euo pipefail
out="${1:?usage: app/build.sh OUT_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
rm -rf "$out"
mkdir -p "$out/style" "$out/assets"
for entry in unlock account ra; do
  bash app/wasm-pipeline.sh app "$entry" "$out"
  page="$entry.html"
  if [ "$entry" = unlock ]; then page=index.html; fi
  sed "s/{entry}/$entry/g" app/page.html > "$out/$page"
  sed "s/{entry}/$entry/g" app/start.js > "$out/start-$entry.js"
done
frontend=style/node_modules/nhsuk-frontend/dist/nhsuk
cp "$frontend/nhsuk-frontend.min.css" style/app.css "$out/style/"
cp -r "$frontend/assets/images" "$out/assets/"
bash app/compress.sh "$out"
for entry in unlock account ra; do
  raw=$(stat -c %s "$out/${entry}_bg.wasm")
  br=$( [ -f "$out/${entry}_bg.wasm.br" ] && stat -c %s "$out/${entry}_bg.wasm.br" || echo "n/a")
  echo "app built in $out: ${entry}_bg.wasm $raw bytes raw, $br brotli"
done
