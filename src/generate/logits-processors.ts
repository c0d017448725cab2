/**
 * Logit processors: the steps between a model's next-token logits and the distribution a token is
 * drawn from. Each is a pure function (it returns a new array and leaves its input alone), so they
 * compose in any order and are tested one by one. Masked-out tokens get −Infinity.
 *
 * The usual chain, as `Sampler` runs it (the order of HF transformers and vLLM):
 *   repetition penalty → frequency/presence penalties → temperature → top-k → top-p → min-p.
 */

/** Index of the largest logit (the first one on ties, as torch.argmax); −1 for an empty array. */
export function argmax(logits: ArrayLike<number>): number {
  let best = -1;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    const v = logits[i]!;
    if (v > max || best < 0) {
      max = v;
      best = i;
    }
  }
  return best;
}

/** Probabilities softmax(logits), in f64 so long tails still sum to 1; −Infinity gives 0. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  const n = logits.length;
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (logits[i]! > max) max = logits[i]!;
  const p = new Float64Array(n);
  if (max === -Infinity) return p;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(logits[i]! - max);
    p[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) p[i]! /= sum;
  return p;
}

/**
 * CTRL's repetition penalty as HF applies it: every token already present (prompt and output) has its
 * logit divided by `penalty` when positive and multiplied by it when negative, so penalty > 1 always
 * makes a repeat less likely. penalty = 1 is a no-op.
 */
export function repetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): Float32Array {
  if (!(penalty > 0)) throw new RangeError(`repetition penalty must be > 0, got ${penalty}`);
  const out = logits.slice();
  if (penalty === 1) return out;
  const done = new Set<number>();
  for (const id of seen) {
    if (done.has(id) || id < 0 || id >= out.length) continue;
    done.add(id);
    const v = out[id]!;
    out[id] = v > 0 ? v / penalty : v * penalty;
  }
  return out;
}

/**
 * OpenAI's frequency and presence penalties over the tokens generated so far:
 * logit[t] −= count(t)·frequency + (count(t) > 0 ? presence : 0).
 */
export function frequencyPresencePenalty(
  logits: Float32Array,
  counts: ReadonlyMap<number, number>,
  frequency: number,
  presence: number,
): Float32Array {
  const out = logits.slice();
  if (frequency === 0 && presence === 0) return out;
  for (const [id, n] of counts) {
    if (n <= 0 || id < 0 || id >= out.length) continue;
    out[id]! -= n * frequency + presence;
  }
  return out;
}

/** logits / temperature (temperature > 0; 0 means greedy and is handled by the sampler). */
export function temperature(logits: Float32Array, t: number): Float32Array {
  if (!(t > 0)) throw new RangeError(`temperature must be > 0 here, got ${t}`);
  const out = logits.slice();
  if (t === 1) return out;
  for (let i = 0; i < out.length; i++) out[i]! /= t;
  return out;
}

/** The finite logits, largest first (a numeric typed-array sort: no comparator calls). */
function sortedFinite(logits: Float32Array, floor = -Infinity): Float32Array {
  let n = 0;
  const v = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) if (logits[i]! > -Infinity && logits[i]! >= floor) v[n++] = logits[i]!;
  return v.subarray(0, n).sort().reverse();
}

/**
 * Top-p sorts only the logits that can be in the nucleus: it first adds up the probability mass in
 * bins of NUCLEUS_BIN nats below the max (one pass), and sorts the logits down to one bin past the
 * one where the mass reaches p — a few hundred of a 4k vocabulary rather than all of them (sorting
 * 4096 floats costs ~0.4 ms). When the exact walk over those falls short of p (rounding), it sorts
 * them all. The tokens kept are the same either way.
 */
const NUCLEUS_BIN = 0.5;
const NUCLEUS_BINS = 64;

/**
 * Keeps the k largest logits (and any tied with the k-th, as HF does), masking the rest.
 * k ≤ 0 or k ≥ vocabulary size keeps everything.
 */
export function topK(logits: Float32Array, k: number): Float32Array {
  const out = logits.slice();
  if (k <= 0 || k >= out.length) return out;
  const sorted = sortedFinite(logits);
  if (k >= sorted.length) return out;
  const kth = sorted[k - 1]!;
  for (let i = 0; i < out.length; i++) if (out[i]! < kth) out[i] = -Infinity;
  return out;
}

/**
 * The nucleus of `logits` for top-p: the smallest set of most likely tokens whose probabilities add
 * up to at least p, as the value at its edge (`cut`: larger logits are in) and how many tokens equal
 * to it are in too (lowest ids first, as a stable sort ranks them). `max` is the largest logit and
 * `exps` their exp(logit − max), `sum` = Σ exps in id order (softmax's sum, so the sums are the same).
 */
function nucleus(logits: Float32Array, p: number, max: number, exps: Float64Array, sum: number): { cut: number; ties: number } {
  const mass = new Float64Array(NUCLEUS_BINS);
  for (let i = 0; i < logits.length; i++) {
    if (exps[i]! > 0) mass[Math.min(NUCLEUS_BINS - 1, Math.floor((max - logits[i]!) / NUCLEUS_BIN))]! += exps[i]!;
  }
  let reached = 0;
  let bin = 0;
  for (; bin < NUCLEUS_BINS - 1; bin++) {
    reached += mass[bin]!;
    if (reached >= p * sum) break;
  }
  const floors = bin + 2 < NUCLEUS_BINS ? [max - (bin + 2) * NUCLEUS_BIN, -Infinity] : [-Infinity];
  // The logits above a floor are the largest ones: when they reach p, the walk over them is the walk over all.
  for (const floor of floors) {
    const sorted = sortedFinite(logits, floor);
    let cum = 0;
    let keep = 0;
    while (keep < sorted.length) {
      cum += Math.exp(sorted[keep]! - max) / sum;
      keep++;
      if (cum >= p) break;
    }
    if (!(cum >= p) && floor > -Infinity) continue;
    const cut = sorted[keep - 1]!;
    let above = 0;
    while (above < keep && sorted[above]! > cut) above++;
    return { cut, ties: keep - above };
  }
  throw new Error('unreachable: the last floor admits every finite logit');
}

/** The largest logit, and Σ exp(logit − max) in id order into `exps` when given. */
function maxAndSum(logits: Float32Array, exps?: Float64Array): { max: number; sum: number } {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i]! > max) max = logits[i]!;
  let sum = 0;
  if (max === -Infinity) return { max, sum };
  for (let i = 0; i < logits.length; i++) {
    const e = Math.exp(logits[i]! - max);
    if (exps) exps[i] = e;
    sum += e;
  }
  return { max, sum };
}

/**
 * Nucleus sampling: keeps the smallest set of most likely tokens whose probabilities add up to at
 * least p (always at least one token), masking the rest. p ≥ 1 keeps everything.
 */
export function topP(logits: Float32Array, p: number): Float32Array {
  if (!(p > 0)) throw new RangeError(`top-p must be in (0, 1], got ${p}`);
  const out = logits.slice();
  if (p >= 1) return out;
  const exps = new Float64Array(logits.length);
  const { max, sum } = maxAndSum(logits, exps);
  if (max === -Infinity) return out;
  let { cut, ties } = nucleus(logits, p, max, exps, sum);
  for (let i = 0; i < out.length; i++) {
    if (out[i]! > cut) continue;
    if (out[i] === cut && ties > 0) ties--;
    else out[i] = -Infinity;
  }
  return out;
}

/**
 * softmax(topP(logits, p)) in one pass of exponentials instead of two: the same numbers, bit for
 * bit (the nucleus holds the max, so both take the same exponentials and sum them in the same order).
 */
export function topPSoftmax(logits: Float32Array, p: number): Float64Array {
  if (!(p > 0)) throw new RangeError(`top-p must be in (0, 1], got ${p}`);
  const probs = new Float64Array(logits.length);
  const { max, sum } = maxAndSum(logits, probs);
  if (max === -Infinity) return probs;
  if (p >= 1) {
    for (let i = 0; i < probs.length; i++) probs[i]! /= sum;
    return probs;
  }
  let { cut, ties } = nucleus(logits, p, max, probs, sum);
  let kept = 0;
  for (let i = 0; i < probs.length; i++) {
    const v = logits[i]!;
    if (v > cut || (v === cut && ties-- > 0)) kept += probs[i]!;
    else probs[i] = 0;
  }
  for (let i = 0; i < probs.length; i++) probs[i]! /= kept;
  return probs;
}

/**
 * Min-p sampling: keeps tokens whose probability is at least minP times the most likely token's
 * (so the cut adapts to how confident the model is). minP ≤ 0 keeps everything.
 */
export function minP(logits: Float32Array, minP: number): Float32Array {
  const out = logits.slice();
  if (minP <= 0) return out;
  if (minP > 1) throw new RangeError(`min-p must be in [0, 1], got ${minP}`);
  // p_i ≥ minP·p_max  ⇔  logit_i ≥ logit_max + ln(minP): no softmax needed.
  let max = -Infinity;
  for (let i = 0; i < out.length; i++) if (out[i]! > max) max = out[i]!;
  const cut = max + Math.log(minP);
  for (let i = 0; i < out.length; i++) if (out[i]! < cut) out[i] = -Infinity;
  return out;
}
