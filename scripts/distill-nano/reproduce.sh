#!/usr/bin/env bash
# Reproduces the distillation comparison of docs/distillation.md and the student shipped as
# models/deepseek-ts-nano-distill-llama: deepseek-ts-nano (DeepSeek-V3 MoE, ~4.2M parameters) is
# distilled into a ~1.1M Llama with the same tokenizer, four ways, with the same student, the same
# initialisation (seed 1) and the same token budget (120 steps × 8 × 128 = 122,880 tokens):
#
#   scratch    the student trained on the data alone (dsts distill with alpha 0: plain CE)
#   sequence   sequence-level distillation: trained on poems the teacher wrote (dsts sample)
#   soft       + soft labels: ½ CE on the data + ½ KL(teacher ‖ student), teacher top-32 from a cache
#   hidden     + hidden states: soft, and the cosine of hidden states 2 and 4 through learned projections
#
# then evaluates every student and the teacher on the whole held-out split (compare.ts: perplexity,
# tokens/s, the top-k approximation's error) and copies the best student to models/. Seeded;
# about 50 minutes on 2 busy cores. Re-running continues interrupted runs (--resume).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.tmp/distill-nano
cfg=scripts/distill-nano
dsts() { node bin/dsts.js "$@"; }
prep() { node --import tsx $cfg/prepare-data.ts "$@"; }

[ -f .tmp/nano/corpus.jsonl ] || node --import tsx scripts/nano/prepare-corpus.ts
[ -f $dir/heldout.jsonl ] || prep split .tmp/nano/corpus.jsonl $dir
if [ ! -f $dir/teacher-text.jsonl ]; then
  prep prompts $dir/train.jsonl $dir/prompts.jsonl --n 1600 --seed 1
  dsts sample --config $cfg/sample.json
  prep text $dir/teacher-samples.jsonl $dir/teacher-text.jsonl
fi

for run in scratch sequence soft hidden; do
  if [ -f $dir/runs/$run/run.json ] && ls -d $dir/runs/$run/checkpoint-* >/dev/null 2>&1; then
    dsts distill --resume $dir/runs/$run
  else
    dsts distill --config $cfg/$run.json --force
  fi
  dsts plot $dir/runs/$run --out $dir/runs/$run/loss.svg --force
done

node --import tsx $cfg/compare.ts $dir models/deepseek-ts-nano-distill-llama
