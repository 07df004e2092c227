#!/usr/bin/env bash
# Prints the path of a schemathesis 4 (4.23 or later: --rate-limit auto honours 429's
# Retry-After): the one on PATH if it is one, else ours in .tools/, installed on first use.
# Both contract runs use it (server/contract, notify-standin/contract).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
recent() {
  "$1" --version 2>/dev/null | grep -Eq 'version 4\.(2[3-9]|[3-9][0-9])'
}
if command -v schemathesis >/dev/null 2>&1 && recent "$(command -v schemathesis)"; then
  command -v schemathesis
  exit 0
fi
venv="$root/.tools/venv-schemathesis"
if ! recent "$venv/bin/schemathesis"; then
  echo "contract: installing schemathesis 4 into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade 'schemathesis>=4.23,<5' >&2
fi
echo "$venv/bin/schemathesis"
