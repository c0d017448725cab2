/**
 * On-policy distillation (GKD, Agarwal et al. 2024; TRL's `lmbda`): with probability λ a batch's
 * continuations are written by the student itself and scored by the teacher, so the student learns
 * on the sequences it will actually produce instead of only on the data's (the train/inference
 * mismatch of supervised distillation).
 *
 * Each row keeps its first `promptTokens` tokens from the data; the student samples the rest (to the
 * row's full length, through src/generate's batched decoder, at `temperature`), and the soft-label
 * loss covers only the positions that predict sampled tokens. The choice and the sampling seed come
 * from (run seed, the batch's tokens), so a resumed run draws exactly what an uninterrupted one did.
 */
import * as T from '../../tensor/index.ts';
import { Tensor } from '../../tensor/index.ts';
import type { CausalLM } from '../../model/causal-lm.ts';
import type { Tokenizer } from '../../tokenizer/index.ts';
import { mixSeed, rollout } from '../rollout.ts';
import { weightsChanged } from '../run/weights-changed.ts';

export interface OnPolicyConfig {
  /** λ: the share of batches the student writes. */
  lambda: number;
  /** Tokens of each row kept from the data as the prompt. */
  promptTokens: number;
  /** The student's sampling temperature (GKD: 1). */
  temperature: number;
}

export interface OnPolicyBatch {
  /** [B, T + 1]: the data's prompt, then the student's tokens. */
  ids: Tensor;
  /** The first input position whose next token the student wrote (promptTokens − 1). */
  from: number;
}

/** Whether this batch goes on-policy, and its seed: a deterministic function of (seed, tokens). */
export function onPolicyDraw(seed: number, ids: Tensor, lambda: number): { on: boolean; seed: number } {
  const h = mixSeed(seed, ...(T.rowMajor(ids) as Int32Array));
  return { on: h / 4294967296 < lambda, seed: h };
}

/** The student continues each row of `data` [B, T + 1] after its first `promptTokens` tokens. */
export function studentBatch(model: CausalLM, tokenizer: Tokenizer, data: Tensor, cfg: OnPolicyConfig, seed: number): OnPolicyBatch {
  const [B, L1] = data.shape as [number, number];
  const P = cfg.promptTokens;
  const rows = T.rowMajor(data) as Int32Array;
  const prompts = Array.from({ length: B }, (_, b) => Array.from(rows.subarray(b * L1, b * L1 + P)));
  weightsChanged(model); // the optimizer moved the weights since the last rollout
  const roll = T.noGrad(() =>
    rollout(model, tokenizer, prompts, {
      n: 1,
      sampling: { temperature: cfg.temperature, topP: 1, topK: 0 },
      maxTokens: L1 - P,
      stopTokenIds: [],
      seed,
    }),
  );
  const out = new Int32Array(B * L1);
  roll.groups.forEach(([c], b) => {
    if (c!.ids.length !== L1 - P) throw new Error(`on-policy: the student wrote ${c!.ids.length} tokens, expected ${L1 - P}`);
    out.set(prompts[b]!, b * L1);
    out.set(c!.ids, b * L1 + P);
  });
  return { ids: new Tensor(out, [B, L1], 'i32'), from: P - 1 };
}
