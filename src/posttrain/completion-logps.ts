/**
 * Log-probabilities of sampled completions under a model, batched the way TRL's GRPOTrainer batches
 * them: each row is prompt + completion, right-padded, and padding is masked out of attention as
 * transformers' attention_mask does (attention-layout.ts). Only the completion tokens are scored:
 * the logit at position p + c − 1 predicts completion token c of a row whose prompt has p tokens.
 */
import * as T from '../tensor/index.ts';
import { Tensor } from '../tensor/index.ts';
import type { CausalLM } from '../model/causal-lm.ts';
import { tokenLogProbs } from './logprobs.ts';

export interface CompletionBatch {
  /** Prompt ids per row (TRL order: each prompt repeated once per generation). */
  prompts: readonly (readonly number[])[];
  /** Completion ids per row, without padding. */
  completions: readonly (readonly number[])[];
  /** Columns of the completion matrices (≥ every completion's length): max_completion_length or the longest. */
  width: number;
  /** Id written into padding positions (never trained: the mask is 0 there). */
  padId: number;
}

export interface CompletionLogps {
  /** log p(token) per completion position [B, width], differentiable (padding positions included, masked by `mask`). */
  logps: Tensor;
  /** 1 on real completion tokens, 0 on padding [B·width]. */
  mask: Float32Array;
  /** Entropy (nats) of the distribution at each position [B·width]. */
  entropy: Float64Array;
}

/** The completion mask of a batch, [B·width] row-major. */
export function completionMask(batch: CompletionBatch): Float32Array {
  const C = batch.width;
  const mask = new Float32Array(batch.completions.length * C);
  batch.completions.forEach((c, b) => mask.fill(1, b * C, b * C + c.length));
  return mask;
}

/** Scores every completion position of `batch` at sampling temperature `temperature`. */
export function completionLogps(model: CausalLM, batch: CompletionBatch, temperature: number): CompletionLogps {
  const B = batch.prompts.length;
  const C = batch.width;
  if (batch.completions.length !== B) throw new Error(`${B} prompts but ${batch.completions.length} completions`);
  const L = Math.max(...batch.prompts.map((p) => p.length)) + C;
  const ids = new Int32Array(B * L).fill(batch.padId);
  const targets = new Int32Array(B * C).fill(batch.padId);
  const rows = new Int32Array(B * C); // which logits row predicts each completion position
  const blocks: T.AttentionBlock[][] = [];
  for (let b = 0; b < B; b++) {
    const p = batch.prompts[b]!;
    const c = batch.completions[b]!;
    if (p.length === 0) throw new Error(`row ${b}: empty prompt`);
    if (c.length > C) throw new Error(`row ${b}: completion of ${c.length} tokens exceeds the width ${C}`);
    ids.set(p, b * L);
    ids.set(c, b * L + p.length);
    targets.set(c, b * C);
    for (let j = 0; j < C; j++) rows[b * C + j] = b * L + p.length - 1 + j;
    blocks.push(T.paddedBlocks(p.length + c.length, L));
  }
  const input = new Tensor(ids, [B, L], 'i32');
  const { final } = T.withAttentionLayout({ length: L, rows: blocks }, () => model.forward(input, { logits: 'none' }));
  // The head runs on the scored positions only (the prompt's logits are never needed).
  const picked = T.linear(T.indexSelect(T.reshape(final, [B * L, final.shape[2]!]), rows), model.head);
  const { logps, entropy } = tokenLogProbs(picked, targets, temperature);
  return { logps: T.reshape(logps, [B, C]), mask: completionMask(batch), entropy };
}
