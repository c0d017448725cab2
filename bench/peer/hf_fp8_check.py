"""Checks that transformers reads an fp8 checkpoint written by `dsts quantize --scheme fp8` as
deepseek-ts does: same logits for the same ids.

usage: python bench/peer/hf_fp8_check.py <fp8 checkpoint dir> <dsts logits .safetensors> <ids, e.g. 1,5,9>
(make the logits with: dsts logits --model <dir> --ids <ids> --out <file>)
Needs torch, transformers, accelerate and safetensors (pip). On a CPU, transformers dequantises fp8
weights at load, deriving the block size from the scale grid: it needs every dimension to be a
multiple of 128 (bench/configs/qwen2-block-aligned-tiny.json is such a model); GPUs run the fp8 kernels.
"""
import sys

import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

model_dir, ours_path, ids_text = sys.argv[1], sys.argv[2], sys.argv[3]
ids = torch.tensor([[int(x) for x in ids_text.split(",")]])
model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
with torch.no_grad():
    theirs = model(ids).logits[0].float()
ours = load_file(ours_path)["logits"].float()
diff = (theirs - ours).abs().max().item()
scale = ours.abs().max().item()
print(f"transformers vs deepseek-ts: max |Δlogit| {diff:.3g} (max |logit| {scale:.3g}); argmax agree {(theirs.argmax(-1) == ours.argmax(-1)).float().mean().item():.0%}")
sys.exit(0 if diff <= 1e-3 * max(1.0, scale) else 1)
