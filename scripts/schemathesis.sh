#!/usr/bin/env bash
# Runs schemathesis (API fuzzing from baton's own OpenAPI document) against
# a real `baton serve`, for a bounded time, and prints its summary. The
# server runs in a scratch BATON_HOME with a scratch project, on the
# scripted mock model (`baton mock-llm`), so nothing of yours is touched
# and no real model is called.
#
#   scripts/schemathesis.sh                 # 20 examples per operation, at most 600 s
#   MAX_EXAMPLES=100 DEADLINE=1200 scripts/schemathesis.sh
#
# Needs schemathesis 4 (`pip install 'schemathesis>=4,<5'`). BATON: the
# binary (default target/debug/baton, built if missing). The test suite
# runs the same checks against the server in-process
# (crates/baton-server/tests/schemathesis.rs); a run of this script is
# recorded in docs/api.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
baton=${BATON:-$root/target/debug/baton}
examples=${MAX_EXAMPLES:-20}
deadline=${DEADLINE:-600}
[ -x "$baton" ] || (cd "$root" && cargo build -p baton --bin baton)
st --version

scratch=$(mktemp -d -t baton-schemathesis.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
mkdir -p "$scratch/home" "$scratch/project"
cat >"$scratch/script.toml" <<'TOML'
[[rules]]
name = "answer"
[rules.reply]
text = "ok"
TOML
"$baton" mock-llm --script "$scratch/script.toml" >"$scratch/mock.out" 2>"$scratch/mock.err" &
pids+=($!)
for _ in $(seq 100); do grep -q http "$scratch/mock.out" 2>/dev/null && break; sleep 0.1; done
mock=$(grep -o 'http://[0-9.:]*' "$scratch/mock.out" | head -1)
cat >"$scratch/config.toml" <<TOML
model = "mock/test-model"
[providers.mock]
wire = "openai"
base_url = "$mock/v1"
TOML

export BATON_HOME="$scratch/home" BATON_CONFIG="$scratch/config.toml"
(cd "$scratch/project" && exec "$baton" serve --addr 127.0.0.1:0) >"$scratch/serve.out" 2>"$scratch/serve.err" &
pids+=($!)
for _ in $(seq 100); do grep -q http "$scratch/serve.out" 2>/dev/null && break; sleep 0.1; done
url=$(head -1 "$scratch/serve.out")
token=$(cat "$scratch/home/server.token")
echo "== baton serve at $url (mock model at $mock)"

cd "$scratch"
status=0
timeout "$deadline" st --config-file "$root/crates/baton-server/tests/schemathesis.toml" \
  run "$url/openapi.json" \
  --include-path-regex '^/' --checks all --max-examples "$examples" --seed 1 \
  --workers 1 --generation-database none --no-color \
  -H "Authorization: Bearer $token" || status=$?
if [ "$status" = 124 ]; then
  echo "== stopped at the deadline ($deadline s)"
fi
exit "$status"
