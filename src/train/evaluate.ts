/**
 * Held-out evaluation: mean next-token cross-entropy (and perplexity) of the model on fixed
 * sequences, without recording a graph. MTP and balance terms are training aids and left out: this
 * is the number that compares across models and runs.
 */
import * as T from '../tensor/index.ts';
import { Tensor } from '../tensor/index.ts';
import type { CausalLM } from '../model/causal-lm.ts';

export interface EvalResult {
  loss: number;
  ppl: number;
  /** Target tokens scored. */
  tokens: number;
}

/** Evaluates `model` on `sequences` (each T + 1 tokens), `batchSize` at a time. */
export function evaluate(model: CausalLM, sequences: readonly Int32Array[], batchSize: number): EvalResult {
  if (sequences.length === 0) return { loss: NaN, ppl: NaN, tokens: 0 };
  const L = sequences[0]!.length;
  const Tn = L - 1;
  let sum = 0;
  let tokens = 0;
  T.noGrad(() => {
    for (let i = 0; i < sequences.length; i += batchSize) {
      const batch = sequences.slice(i, i + batchSize);
      const B = batch.length;
      const inputs = new Int32Array(B * Tn);
      const targets = new Int32Array(B * Tn);
      batch.forEach((s, b) => {
        inputs.set(s.subarray(0, Tn), b * Tn);
        targets.set(s.subarray(1), b * Tn);
      });
      const { logits } = model.forward(new Tensor(inputs, [B, Tn], 'i32'));
      const V = logits!.shape[2]!;
      const ce = T.crossEntropy(T.reshape(logits!, [B * Tn, V]), new Tensor(targets, [B * Tn], 'i32')).item();
      sum += ce * B * Tn;
      tokens += B * Tn;
    }
  });
  const loss = sum / tokens;
  return { loss, ppl: Math.exp(loss), tokens };
}
