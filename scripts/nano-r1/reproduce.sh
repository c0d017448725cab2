#!/usr/bin/env bash
# Reproduces models/deepseek-ts-nano-r1, R1-Zero then R1, on this machine (see its README):
#   1. data: the arithmetic task (RL and held-out splits) and the pre-training corpus, generated
#   2. base: pre-train a DeepSeek-V3-architecture model (MLA, MoE, MTP) on the corpus
#   3. R1-Zero: GRPO from the base with rule rewards only (accuracy + format)
#   4. R1: cold-start data by rejection sampling from the R1-Zero model, SFT of the base on it,
#      GRPO again
#   5. held-out evaluation of every stage, the paired gain of R1-Zero over the base, curves, and the
#      shipped folder
# Every stage is seeded; a stage whose output exists is skipped, so an interrupted run continues.
set -euo pipefail
cd "$(dirname "$0")/../.."
dsts() { node bin/dsts.js "$@"; }
work=.tmp/nano-r1
out=models/deepseek-ts-nano-r1
here=scripts/nano-r1
mkdir -p "$work"
started=$(date +%s)
stage() { echo "== $1 ($(($(date +%s) - started)) s)"; }
# The run's last checkpoint, linked as <run>/final.
finalize() { ln -sfn "$(basename "$(ls -d "$1"/checkpoint-* | sort | tail -n 1)")" "$1/final"; }

stage "data"
[ -f $work/data/test.jsonl ] || node --import tsx $here/make-data.ts $work/data
# The cold-start prompts: RL questions the cold-start sampling sees (the first 240).
head -n 240 $work/data/rl.jsonl > $work/data/cold-prompts.jsonl

stage "base: pre-training"
if [ ! -e $work/base/final ]; then
  if [ -f $work/base/run.json ]; then dsts train --resume $work/base; else dsts train --config $here/pretrain.json; fi
  finalize $work/base
fi

stage "R1-Zero: GRPO from the base"
if [ ! -e $work/zero/final ]; then
  dsts grpo --config $here/grpo-zero.json --force
  finalize $work/zero
fi

stage "R1: cold-start data by rejection sampling from R1-Zero"
[ -s $work/data/cold-start.jsonl ] || dsts sample --config $here/cold-start.json

stage "R1: SFT of the base on the cold-start data"
if [ ! -e $work/sft/final ]; then
  dsts sft --config $here/sft.json --force
  finalize $work/sft
fi

stage "R1: GRPO from the SFT model"
if [ ! -e $work/r1/final ]; then
  dsts grpo --config $here/grpo-r1.json --force
  finalize $work/r1
fi

stage "held-out evaluation"
mkdir -p $work/eval
for m in base zero sft r1; do
  [ -f $work/eval/$m.json ] || dsts eval --model $work/$m/final --data $work/data/test.jsonl --template r1-zero \
    --n 8 --temperature 0.6 --top-p 0.95 --max-tokens 64 --by kind --samples 12 --seed 7 --out $work/eval/$m.json
done

stage "the gain of R1-Zero over the base, paired over the held-out questions"
[ -f $work/eval/gain.txt ] || node --import tsx $here/compare.ts $work/base/final $work/zero/final $work/data/test.jsonl | tee $work/eval/gain.txt

stage "the shipped folder"
node --import tsx $here/ship.ts $work $out
echo "== done in $(($(date +%s) - started)) s"
