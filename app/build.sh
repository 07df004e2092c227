#!/usr/bin/env bash
# Builds the SPA into OUT_DIR: one WASM per audience (and the renewal its own) (app/wasm-pipeline.sh; issue 18),
# each with its page (app/page.html: the unlock's is index.html) and start script, the
# styles, all pre-compressed for the server's ServeDir (app/compress.sh). Which paths get
# which page: api_types::pages.
set -euo pipefail
out="${1:?usage: app/build.sh OUT_DIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
rm -rf "$out"
mkdir -p "$out/style" "$out/assets"
for entry in unlock account renew ra; do
  bash app/wasm-pipeline.sh app "$entry" "$out"
  page="$entry.html"
  if [ "$entry" = unlock ]; then page=index.html; fi
  sed "s/{entry}/$entry/g" app/page.html > "$out/$page"
  sed "s/{entry}/$entry/g" app/start.js > "$out/start-$entry.js"
done
# One stylesheet: the NHS.UK frontend's rules that our pages' sources name (purgecss),
# then ours. Its @font-face rules point at assets.nhs.uk: with SCSS_FONTS_DIR (a folder
# holding the deployment's licensed Frutiger .woff2/.woff files) they point at our own
# /assets/fonts/ instead; without it they go, and the font stack falls back to Arial with
# no lookup at all (issue 18: no request leaves our origin and the bridge).
frontend=style/node_modules/nhsuk-frontend/dist/nhsuk
style/node_modules/.bin/purgecss --css "$frontend/nhsuk-frontend.min.css" style/app.css \
  --content 'app/src/**/*.rs' app/page.html --output "$out/style"
cat "$out/style/nhsuk-frontend.min.css" "$out/style/app.css" > "$out/style/site.css"
rm "$out/style/nhsuk-frontend.min.css" "$out/style/app.css"
if [ -n "${SCSS_FONTS_DIR:-}" ]; then
  mkdir -p "$out/assets/fonts"
  cp "$SCSS_FONTS_DIR"/*.woff2 "$SCSS_FONTS_DIR"/*.woff "$out/assets/fonts/"
  sed -i 's#https://assets.nhs.uk/fonts/#/assets/fonts/#g' "$out/style/site.css"
else
  perl -0pi -e 's/\@font-face\s*\{[^}]*\}//g' "$out/style/site.css"
fi
if grep -q 'https\?://' "$out/style/site.css"; then
  echo "app/build.sh: the stylesheet still names another host" >&2
  exit 1
fi
cp -r "$frontend/assets/images" "$out/assets/"
# OPS-1: the API reference page, Swagger UI from our own files.
swagger=app/api-docs/node_modules/swagger-ui-dist
mkdir -p "$out/api-docs"
cp app/api-docs/index.html app/api-docs/init.js "$swagger/swagger-ui-bundle.js" \
  "$swagger/swagger-ui.css" "$out/api-docs/"
bash app/compress.sh "$out"
for entry in unlock account renew ra; do
  raw=$(stat -c %s "$out/${entry}_bg.wasm")
  br=$( [ -f "$out/${entry}_bg.wasm.br" ] && stat -c %s "$out/${entry}_bg.wasm.br" || echo "n/a")
  echo "app built in $out: ${entry}_bg.wasm $raw bytes raw, $br brotli"
done
