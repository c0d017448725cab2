// Sampled speculative decoding keeps the target's distribution end to end, through the batch
// decoder: drafting, the verifying forward, acceptance, replacement, the bonus token and the cache
// rollback. On a model whose exact distributions are known (a Markov chain over 5 tokens, with a
// draft that disagrees with it), the first four output tokens of 20,000 seeded runs — token 1 from
// the prefill, tokens 2–4 from speculative steps with k = 2 — match the exact joint distribution
// under temperature, top-k and top-p within 5 standard errors on each continuation (rare ones pooled).
// (test/generate/speculative/acceptance.test.ts shows this kind of check fails for wrong rules.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchDecoder, Sampler, type SamplingParams } from '../../../src/generate/index.ts';
import { MarkovMtpModel } from './markov-model.ts';

const V = 5;
const PROMPT = [1, 2];
const RUNS = 20_000;
const OUT = 4;

function exactJoint(model: MarkovMtpModel, sampling: SamplingParams): Map<string, number> {
  const sampler = new Sampler(sampling);
  const out = new Map<string, number>();
  const walk = (ctx: number[], pr: number) => {
    if (ctx.length === PROMPT.length + OUT) {
      out.set(ctx.slice(PROMPT.length).join(','), pr);
      return;
    }
    const d = sampler.probabilities(model.logitsAfter(ctx.at(-2)!, ctx.at(-1)!), { prompt: PROMPT, generated: [] });
    d.forEach((p, t) => p > 0 && walk([...ctx, t], pr * p));
  };
  walk(PROMPT, 1);
  return out;
}

for (const sampling of [{ temperature: 1 }, { temperature: 1.2, topK: 3, topP: 0.95 }] as SamplingParams[]) {
  test(`speculative sampling (k = 2, ${JSON.stringify(sampling)}): 4-token continuations follow the target's exact distribution`, () => {
    const model = new MarkovMtpModel(V);
    const exact = exactJoint(model, sampling);
    const decoder = new BatchDecoder(model, { maxBatch: 1000, speculative: { method: 'mtp', draftTokens: 2 } });
    const seqs = Array.from({ length: RUNS }, (_, i) =>
      decoder.add({ prompt: PROMPT, maxTokens: OUT, sampling: { ...sampling, seed: 77 + i } }),
    );
    while (!decoder.idle) decoder.step();
    const counts = new Map<string, number>();
    for (const s of seqs) {
      assert.equal(s.error, undefined);
      counts.set(s.generated.join(','), (counts.get(s.generated.join(',')) ?? 0) + 1);
    }
    for (const key of counts.keys()) assert.ok(exact.has(key), `${key} has probability 0 under the target`);
    // Continuations expected fewer than 20 times are pooled into one cell (a z-score needs counts).
    const cells = new Map<string, { p: number; n: number }>();
    for (const [key, p] of exact) {
      const cell = p * RUNS >= 20 ? key : 'rare';
      const c = cells.get(cell) ?? { p: 0, n: 0 };
      cells.set(cell, { p: c.p + p, n: c.n + (counts.get(key) ?? 0) });
    }
    let worst = 0;
    for (const { p, n } of cells.values()) worst = Math.max(worst, Math.abs(n / RUNS - p) / Math.sqrt((p * (1 - p)) / RUNS));
    assert.ok(worst < 5, `worst deviation ${worst.toFixed(2)} standard errors over ${cells.size} cells`);
    // Verification must have both kept and replaced drafts, at both positions, or this tests little.
    const total = decoder.speculator!.total;
    for (const j of [0, 1]) {
      const rate = total.acceptanceAt(j);
      assert.ok(rate > 0.02 && rate < 0.98, `acceptance at position ${j}: ${rate}`);
    }
  });
}
