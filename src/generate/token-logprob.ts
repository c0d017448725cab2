/** Log-probabilities of chosen tokens (OpenAI's `logprobs`), from a step's raw logits. */

/** Log-probability of a chosen token, with the most likely alternatives at that step. */
export interface TokenLogprob {
  logprob: number;
  top: { id: number; logprob: number }[];
}

/** log p(token) and the `top` most likely tokens, from raw logits (before bias and sampling filters). */
export function logprobOf(logits: Float32Array, token: number, top: number): TokenLogprob {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const lse = max + Math.log(sum);
  const best: { id: number; logprob: number }[] = [];
  if (top > 0) {
    for (let i = 0; i < logits.length; i++) {
      const v = logits[i]!;
      if (best.length < top || v > best[best.length - 1]!.logprob) {
        best.push({ id: i, logprob: v });
        best.sort((a, b) => b.logprob - a.logprob);
        if (best.length > top) best.pop();
      }
    }
    for (const b of best) b.logprob -= lse;
  }
  return { logprob: logits[token]! - lse, top: best };
}
