#!/usr/bin/env bash
# OPS-1's contract run: schemathesis holds the real server to the OpenAPI document it
# serves (/api/openapi.json). Starts the built server on a free port with a fresh SQLite
# database and throwaway keys, sends every request as our own page would (its Origin),
# runs the checks that fit an API whose random inputs are mostly refused — no 5xx, every
# status, content type, header and body as documented, malformed input refused — and
# honours 429's Retry-After. Exits with schemathesis's status.
#
#   cargo build --bin smartcard-server && bash server/contract/run.sh
#
# SMARTCARD_SERVER_BIN: the binary (default target/debug/smartcard-server).
# CONTRACT_MAX_EXAMPLES: test cases per operation and phase (default 50).
# CONTRACT_SEED: a seed, to repeat a run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${SMARTCARD_SERVER_BIN:-$root/target/debug/smartcard-server}"
if [[ ! -x "$bin" ]]; then
  echo "contract: no server at $bin (cargo build --bin smartcard-server first)" >&2
  exit 2
fi
st="$("$here/schemathesis.sh")"
echo "contract: $("$st" --version)" >&2

work="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
origin="http://127.0.0.1:$port"
key() { python3 -c 'import secrets; print(secrets.token_hex(32))'; }
SCSS_LISTEN="127.0.0.1:$port" \
SCSS_PUBLIC_ORIGIN="$origin" \
SCSS_DATABASE_URL="sqlite://$work/contract.db?mode=rwc" \
SCSS_KEK_HEX="$(key)" SCSS_AUDIT_KEY_HEX="$(key)" SCSS_CODE_PEPPER_HEX="$(key)" \
SCSS_GRANT_KEY_HEX="$(key)" \
SCSS_ARGON2_MEMORY_KIB=64 SCSS_ARGON2_ITERATIONS=1 \
SCSS_RATE_LIMIT_WINDOW_SECS=2 SCSS_RATE_LIMIT_PER_CLIENT=200 \
SCSS_SMTP_PORT=1 \
  "$bin" serve >"$work/stdout" 2>"$work/stderr" &
pid=$!
for _ in $(seq 200); do
  curl -fsS "$origin/healthz" >/dev/null 2>&1 && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "contract: the server stopped:" >&2
    cat "$work/stderr" >&2
    exit 2
  fi
  sleep 0.1
done
echo "contract: server at $origin" >&2

checks="not_a_server_error,status_code_conformance,content_type_conformance"
checks+=",response_headers_conformance,response_schema_conformance,negative_data_rejection"
checks+=",unsupported_method"
args=(
  --config-file "$here/schemathesis.toml"
  run "$origin/api/openapi.json"
  --checks "$checks"
  --header "Origin: $origin"
  --max-examples "${CONTRACT_MAX_EXAMPLES:-50}"
  --workers 1
  --request-timeout 10
  --rate-limit auto
)
if [[ -n "${CONTRACT_SEED:-}" ]]; then
  args+=(--seed "$CONTRACT_SEED")
fi
status=0
(cd "$work" && "$st" "${args[@]}") || status=$?
if [[ "$status" -ne 0 ]]; then
  echo "contract: schemathesis failed ($status); the server's log:" >&2
  tail -n 20 "$work/stderr" >&2 || true
fi
exit "$status"
