#!/usr/bin/env bash
# SMS-2's contract run: schemathesis holds the Notify stand-in to notify-standin/openapi.yaml,
# the contract the server's Notify client keeps too. Starts the built stand-in on a free
# port with a test key and contract/templates.toml, signs every request with a fresh JWT
# (contract/hooks.py), runs the checks that fit an API whose random inputs are mostly
# refused, and exits with schemathesis's status.
#
#   cargo build -p notify-standin && bash notify-standin/contract/run.sh
#
# NOTIFY_STANDIN_BIN: the binary (default target/debug/notify-standin).
# CONTRACT_MAX_EXAMPLES: test cases per operation and phase (default 150).
# CONTRACT_SEED: a seed, to repeat a run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${NOTIFY_STANDIN_BIN:-$root/target/debug/notify-standin}"
if [[ ! -x "$bin" ]]; then
  echo "contract: no stand-in at $bin (cargo build -p notify-standin first)" >&2
  exit 2
fi

# Schemathesis 4's command line (3.x's differs), installed on first use.
st="$("$root/server/contract/schemathesis.sh")"
echo "contract: $("$st" --version)" >&2

# A key for a made-up service; the stand-in knows it, nothing else does.
export NOTIFY_API_KEY="contract-6f1d8a2b-3c4e-4f50-8a61-7b2c3d4e5f60-1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6"

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

"$bin" --listen 127.0.0.1:0 --api-key "$NOTIFY_API_KEY" --templates "$here/templates.toml" \
  >"$work/stdout" 2>"$work/stderr" &
pid=$!

line=""
for _ in $(seq 200); do
  line="$(head -n 1 "$work/stdout" 2>/dev/null || true)"
  [[ "$line" == "notify-standin listening on http://"* ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "contract: the stand-in stopped:" >&2
    cat "$work/stderr" >&2
    exit 2
  fi
  sleep 0.1
done
if [[ "$line" != "notify-standin listening on http://"* ]]; then
  echo "contract: the stand-in did not say where it listens" >&2
  exit 2
fi
url="${line#notify-standin listening on }"
echo "contract: stand-in at $url" >&2

# positive_data_acceptance is left out: a schema-valid body with a random phone number or
# template id is rightly refused by Notify too. The rest all apply.
checks="not_a_server_error,status_code_conformance,content_type_conformance"
checks+=",response_headers_conformance,response_schema_conformance,negative_data_rejection"
checks+=",missing_required_header,unsupported_method,ignored_auth"
checks+=",use_after_free,ensure_resource_availability"

args=(
  run "$url/openapi.yaml"
  --checks "$checks"
  --max-examples "${CONTRACT_MAX_EXAMPLES:-150}"
  --workers 1
  --request-timeout 10
)
if [[ -n "${CONTRACT_SEED:-}" ]]; then
  args+=(--seed "$CONTRACT_SEED")
fi

# From the scratch directory, so Hypothesis's example database stays out of the repo.
status=0
(cd "$work" && SCHEMATHESIS_HOOKS="$here/hooks.py" "$st" "${args[@]}") || status=$?
# The run is only worth its name if the examples got through to a 201 and back.
accepted="$(python3 -c 'import json, sys, urllib.request
print(len(json.load(urllib.request.urlopen(sys.argv[1] + "/_standin/messages"))))' "$url" || echo 0)"
echo "contract: the stand-in accepted $accepted messages" >&2
if [[ "$status" -eq 0 && "$accepted" -eq 0 ]]; then
  echo "contract: no request reached a 201: the examples no longer fit templates.toml" >&2
  status=1
fi
if [[ "$status" -ne 0 ]]; then
  echo "contract: schemathesis failed ($status); the stand-in's log:" >&2
  tail -n 20 "$work/stderr" >&2 || true
fi
exit "$status"
