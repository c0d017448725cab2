/**
 * Speculative sampling's acceptance rule (Leviathan et al. 2023, "Fast Inference from Transformers
 * via Speculative Decoding", Algorithm 1; Chen et al. 2023). A draft token x drawn from the draft's
 * distribution q is kept with probability min(1, p(x) / q(x)), p being the target model's distribution
 * at that position; when it is rejected, the token is drawn from the residual norm(max(0, p − q)).
 * Whatever q is, the token that comes out is distributed exactly as p: the output is lossless.
 * Greedy decoding is the case where p and q are point masses: a draft is kept iff it is the
 * target's argmax, and the residual is the argmax itself.
 */

/** The verdict on one draft token. */
export type Verdict = { accepted: true; token: number } | { accepted: false; token: number };

/** Draws an index of `weights` (non-negative, any positive total) with one uniform number. */
function drawWeighted(weights: ArrayLike<number>, u: number): number {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i]!;
  const target = u * total;
  let cum = 0;
  let last = -1;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i]!;
    if (w <= 0) continue;
    cum += w;
    last = i;
    if (target < cum) return i;
  }
  return last;
}

/** max(0, p − q) (unnormalised); falls back to p where q covers p everywhere (only through rounding). */
export function residual(p: ArrayLike<number>, q: ArrayLike<number>): Float64Array {
  const r = new Float64Array(p.length);
  let total = 0;
  for (let i = 0; i < p.length; i++) {
    const d = p[i]! - (q[i] ?? 0);
    if (d > 0) {
      r[i] = d;
      total += d;
    }
  }
  if (total > 0) return r;
  for (let i = 0; i < p.length; i++) r[i] = p[i]!;
  return r;
}

/**
 * Keeps or replaces `draft` (drawn from `q`) given the target distribution `p`; `uniform` gives
 * numbers in [0, 1) (the sequence's seeded generator: one for the test, one more on rejection).
 */
export function verifyDraft(p: ArrayLike<number>, q: ArrayLike<number>, draft: number, uniform: () => number): Verdict {
  const pd = p[draft] ?? 0;
  const qd = q[draft] ?? 0;
  // qd = 0 cannot happen for a draft drawn from q; treat it as "p covers it" only when p does too.
  if (pd > 0 && (pd >= qd || uniform() < pd / qd)) return { accepted: true, token: draft };
  return { accepted: false, token: drawWeighted(residual(p, q), uniform()) };
}

/**
 * `verifyDraft` for point masses (greedy), without building them: the draft is kept iff it is the
 * target's choice `target`, which otherwise replaces it.
 */
export function greedyVerdict(target: number, draft: number): Verdict {
  return target === draft ? { accepted: true, token: draft } : { accepted: false, token: target };
}
