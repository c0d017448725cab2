// The acceptance rule of speculative sampling (Leviathan et al. 2023) outputs tokens distributed as
// the target p, whatever the draft q: the empirical distribution over 200,000 draws lies within 5
// standard errors of p on every token — and the same check rejects plausible wrong rules (keep every
// draft; resample a rejection from p instead of the residual; accept with q/p), so it can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/tensor/index.ts';
import { sampleCategorical } from '../../../src/generate/index.ts';
import { greedyVerdict, residual, verifyDraft, type Verdict } from '../../../src/generate/speculative/acceptance.ts';

type Rule = (p: Float64Array, q: Float64Array, draft: number, u: () => number) => Verdict;

const N = 200_000;
const p = Float64Array.from([0.4, 0.25, 0.15, 0.1, 0.06, 0.04]);
const q = Float64Array.from([0.1, 0.3, 0.05, 0.3, 0.2, 0.05]);

/** Tokens out of `rule` over N draws (draft from q, then the rule), as frequencies. */
function empirical(rule: Rule, seed = 1): Float64Array {
  const rng = new Rng(seed);
  const u = () => rng.uniform();
  const counts = new Float64Array(p.length);
  for (let i = 0; i < N; i++) counts[rule(p, q, sampleCategorical(q, rng), u).token]!++;
  return counts.map((c) => c / N);
}

/** The largest deviation from p, in standard errors of a frequency over N draws. */
function worstZ(freq: Float64Array): number {
  let worst = 0;
  p.forEach((pi, i) => (worst = Math.max(worst, Math.abs(freq[i]! - pi) / Math.sqrt((pi * (1 - pi)) / N))));
  return worst;
}

const pick = (w: ArrayLike<number>, u: number) => sampleCategorical(normalise(w), { uniform: () => u } as Rng);
const normalise = (w: ArrayLike<number>) => {
  const total = Array.from(w).reduce((a, b) => a + b, 0);
  return Array.from(w, (x) => x / total);
};

const wrongRules: Record<string, Rule> = {
  'keep every draft': (_p, _q, d) => ({ accepted: true, token: d }),
  'resample from p, not the residual': (pp, qq, d, u) =>
    u() < Math.min(1, pp[d]! / qq[d]!) ? { accepted: true, token: d } : { accepted: false, token: pick(pp, u()) },
  'accept with q/p': (pp, qq, d, u) =>
    u() < Math.min(1, qq[d]! / pp[d]!) ? { accepted: true, token: d } : { accepted: false, token: pick(residual(pp, qq), u()) },
};

test('verifyDraft: 200,000 draws from the draft q come out distributed as the target p', () => {
  const z = worstZ(empirical(verifyDraft));
  assert.ok(z < 5, `worst deviation ${z.toFixed(2)} standard errors`);
});

for (const [name, rule] of Object.entries(wrongRules)) {
  test(`the same check rejects a wrong acceptance rule: ${name}`, () => {
    const z = worstZ(empirical(rule));
    assert.ok(z > 5, `the wrong rule deviates only ${z.toFixed(2)} standard errors: the check could not tell`);
  });
}

test('greedy (point masses): a draft is kept iff it is the argmax, else the argmax replaces it', () => {
  const onehot = (i: number) => Float64Array.from({ length: 4 }, (_, j) => (j === i ? 1 : 0));
  const never = () => {
    throw new Error('greedy verification needs no random number');
  };
  assert.deepEqual(
    verifyDraft(onehot(2), onehot(2), 2, () => 0.999),
    { accepted: true, token: 2 },
  );
  assert.deepEqual(
    verifyDraft(onehot(2), onehot(1), 1, () => 0),
    { accepted: false, token: 2 },
  );
  assert.deepEqual(verifyDraft(onehot(3), onehot(3), 3, never), { accepted: true, token: 3 });
});

test('greedyVerdict (the greedy path, no distributions built) rules as verifyDraft does on point masses', () => {
  const onehot = (i: number) => Float64Array.from({ length: 4 }, (_, j) => (j === i ? 1 : 0));
  for (let target = 0; target < 4; target++) {
    for (let draft = 0; draft < 4; draft++) {
      assert.deepEqual(
        greedyVerdict(target, draft),
        verifyDraft(onehot(target), onehot(draft), draft, () => 0.5),
        `${target}, ${draft}`,
      );
    }
  }
});

test('the residual is max(0, p − q)', () => {
  assert.deepEqual(
    [...residual(p, q)].map((x) => +x.toFixed(6)),
    [0.3, 0, 0.1, 0, 0, 0],
  );
});
