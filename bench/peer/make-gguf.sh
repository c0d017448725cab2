#!/usr/bin/env bash
# GGUF files of a benchmark checkpoint for the llama.cpp peer of `npm run bench:decode`, made with the
# converter and libraries that ../shared/peers/llamacpp/setup.sh installs into $LLAMACPP_HOME.
# usage: bench/peer/make-gguf.sh <hf checkpoint dir> <out prefix> <type>...   (types: bf16 q8_0 q4_0)
# q4_0 is requantised from <out prefix>-q8_0.gguf (made first if missing).
set -euo pipefail
H=${LLAMACPP_HOME:-/tmp/llamacpp}
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x "$H/venv/bin/python" ] || { echo "make-gguf: run ../shared/peers/llamacpp/setup.sh first" >&2; exit 2; }
SRC=$1; OUT=$2; shift 2
B=$H/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
QBIN=$H/llamacpp-quantize
[ -x "$QBIN" ] || g++ -O2 -std=c++17 "$HERE/llamacpp-quantize.cpp" -I"$H/llama.cpp-src/include" -I"$H/llama.cpp-src/ggml/include" \
  -L"$B" -l:libllama.v0.4.0.so -l:libggml.v0.4.0.so -l:libggml-base.so -Wl,-rpath,"$B" -o "$QBIN"
export LLAMA_BINS=$B
export LLAMA_CPP_TOKPRE=deepseek-v3   # the checkpoints carry the project's tokenizer (DeepSeek-V3 regexes)
for t in "$@"; do
  f=$OUT-$t.gguf
  [ -f "$f" ] && continue
  if [ "$t" = q4_0 ]; then
    [ -f "$OUT-q8_0.gguf" ] || "$0" "$SRC" "$OUT" q8_0
    "$QBIN" "$OUT-q8_0.gguf" "$f" q4_0 2 > "$f.log" 2>&1
  else
    "$H/venv/bin/python" "$H/llama.cpp-src/convert_hf_to_gguf.py" "$SRC" --outtype "$t" --outfile "$f" > "$f.log" 2>&1
  fi
  echo "make-gguf: $f"
done
