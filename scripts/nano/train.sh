#!/usr/bin/env bash
# Reproduces models/deepseek-ts-nano: builds the poetry corpus from the chinese-poetry npm package,
# trains the tokenizer and the model (models/deepseek-ts-nano/train.json: ~5M parameters, 800 steps
# of 16×128 tokens, about an hour on 2 cores), then copies the final checkpoint, its metrics and
# the loss plot into models/deepseek-ts-nano/. Re-running continues an interrupted run (--resume).
set -euo pipefail
cd "$(dirname "$0")/../.."
run=.tmp/nano/run
out=models/deepseek-ts-nano

[ -f .tmp/nano/corpus.jsonl ] || node --import tsx scripts/nano/prepare-corpus.ts
if [ -f "$run/run.json" ]; then
  node bin/dsts.js train --resume "$run"
else
  node bin/dsts.js train --config "$out/train.json"
fi

last=$(ls -d "$run"/checkpoint-* | sort | tail -n 1)
for f in config.json model.safetensors tokenizer.json tokenizer_config.json; do cp "$last/$f" "$out/$f"; done
cp "$run/metrics.jsonl" "$out/metrics.jsonl"
node bin/dsts.js plot "$run/metrics.jsonl" --out "$out/loss.svg"
echo "deepseek-ts-nano updated from $last"
