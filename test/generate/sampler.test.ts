// Logit processors and the sampler: masks, penalties, seeds, greedy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { processors as P, Sampler, processLogits, validateSampling } from '../../src/generate/index.ts';

const f = (xs: number[]) => Float32Array.from(xs);
const kept = (x: Float32Array) => [...x].map((v, i) => (v > -Infinity ? i : -1)).filter((i) => i >= 0);
const NO_HISTORY = { prompt: [], generated: [] };

test('argmax takes the first of equal maxima; softmax sums to 1 and gives masked tokens 0', () => {
  assert.equal(P.argmax(f([1, 3, 3, 2])), 1);
  const p = P.softmax(f([0, Math.log(3), -Infinity]));
  assert.ok(Math.abs(p[0]! - 0.25) < 1e-7 && Math.abs(p[1]! - 0.75) < 1e-7);
  assert.equal(p[2], 0);
});

test('top-k keeps the k largest (and ties with the k-th), masks the rest, leaves its input alone', () => {
  const x = f([0.1, 5, 3, 3, -1, 4]);
  assert.deepEqual(kept(P.topK(x, 2)), [1, 5]);
  assert.deepEqual(kept(P.topK(x, 3)), [1, 2, 3, 5]); // 3 is tied with the 3rd largest
  assert.deepEqual(kept(P.topK(x, 0)), [0, 1, 2, 3, 4, 5]);
  assert.equal(x[0], Math.fround(0.1));
});

test('top-p keeps the smallest most-likely set reaching p', () => {
  const x = f([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
  assert.deepEqual(kept(P.topP(x, 0.5)), [0]);
  assert.deepEqual(kept(P.topP(x, 0.6)), [0, 1]);
  assert.deepEqual(kept(P.topP(x, 0.81)), [0, 1, 2]);
  assert.deepEqual(kept(P.topP(x, 0.01)), [0]); // at least one token
  assert.deepEqual(kept(P.topP(x, 1)), [0, 1, 2, 3]);
});

test('top-p keeps what sorting the whole vocabulary keeps, also when the nucleus reaches far below the max', () => {
  // The definition, spelled out: ids by logit, largest first (ties: lower id first), kept until
  // their softmax probabilities reach p.
  const nucleus = (x: Float32Array, p: number) => {
    const probs = P.softmax(x);
    const order = [...x.keys()].filter((i) => x[i]! > -Infinity).sort((a, b) => x[b]! - x[a]! || a - b);
    const out: number[] = [];
    let cum = 0;
    for (const i of order) {
      out.push(i);
      cum += probs[i]!;
      if (cum >= p) break;
    }
    return out.sort((a, b) => a - b);
  };
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const [width, p] of [
    [2, 0.95],
    [8, 0.9],
    [40, 0.95],
    [40, 1 - 1e-12], // needs logits more than 16 below the max: the fallback over all of them
  ] as const) {
    for (let trial = 0; trial < 20; trial++) {
      const x = Float32Array.from({ length: 300 }, () => (rand() < 0.1 ? -Infinity : Math.round(rand() * width * 4) / 4));
      assert.deepEqual(kept(P.topP(x, p)), nucleus(x, p), `width ${width}, p ${p}, trial ${trial}`);
    }
  }
});

test('topPSoftmax is softmax(topP(x)) bit for bit, and the sampler draws with it what the unfused chain draws', () => {
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const [width, p] of [
    [3, 0.9],
    [40, 0.95],
    [40, 1 - 1e-12],
    [5, 1],
  ] as const) {
    for (let trial = 0; trial < 10; trial++) {
      const x = Float32Array.from({ length: 200 }, () => (rand() < 0.1 ? -Infinity : rand() * width));
      assert.deepEqual([...P.topPSoftmax(x, p)], [...P.softmax(P.topP(x, p))], `width ${width}, p ${p}`);
    }
  }
  const params = { temperature: 0.7, topK: 50, topP: 0.9, repetitionPenalty: 1.2, seed: 5 };
  const history = { prompt: [3, 4], generated: [7] };
  const fused = new Sampler(params);
  const plain = new Sampler({ ...params, topP: undefined }); // only its generator: same seed, same uniforms
  for (let i = 0; i < 50; i++) {
    const logits = Float32Array.from({ length: 64 }, () => rand() * 8);
    const probs = P.softmax(processLogits(logits, params, history));
    assert.deepEqual([...fused.probabilities(logits, history)], [...probs]);
    assert.equal(fused.sample(logits, history), plain.draw(probs));
  }
});

test('min-p keeps tokens at least min_p times as likely as the best', () => {
  const x = f([Math.log(0.5), Math.log(0.3), Math.log(0.15), Math.log(0.05)]);
  assert.deepEqual(kept(P.minP(x, 0.5)), [0, 1]); // 0.3 ≥ 0.25, 0.15 < 0.25
  assert.deepEqual(kept(P.minP(x, 0.2)), [0, 1, 2]);
  assert.deepEqual(kept(P.minP(x, 0)), [0, 1, 2, 3]);
});

test('repetition penalty divides positive and multiplies negative logits of seen tokens, once each', () => {
  const out = P.repetitionPenalty(f([2, -2, 2, 1]), [0, 1, 1, 1], 2);
  assert.deepEqual([...out], [1, -4, 2, 1]);
  assert.deepEqual([...P.repetitionPenalty(f([2, -2]), [0, 1], 1)], [2, -2]);
});

test('frequency and presence penalties subtract count·freq + presence', () => {
  const out = P.frequencyPresencePenalty(
    f([1, 1, 1]),
    new Map([
      [0, 3],
      [2, 1],
    ]),
    0.5,
    0.25,
  );
  assert.deepEqual([...out], [1 - 1.5 - 0.25, 1, 1 - 0.5 - 0.25]);
});

test('the chain uses prompt and output for repetition, output only for frequency/presence', () => {
  const x = f([4, 4, 4]);
  const out = processLogits(x, { temperature: 0, repetitionPenalty: 2, frequencyPenalty: 1 }, { prompt: [0], generated: [1, 1] });
  assert.deepEqual([...out], [2, 2 - 2, 4]);
});

test('temperature scales logits; 0 is greedy whatever the filters', () => {
  assert.deepEqual([...P.temperature(f([1, 2]), 0.5)], [2, 4]);
  const x = f([0.2, 0.9, 0.5]);
  for (let seed = 0; seed < 20; seed++) {
    assert.equal(new Sampler({ temperature: 0, topP: 0.5, seed }).sample(x, NO_HISTORY), 1);
  }
});

test('the same seed gives the same draws; different seeds differ; draws follow the distribution', () => {
  const x = f([0, Math.log(2), Math.log(3), Math.log(4)]); // probabilities 0.1 .. 0.4
  const draw = (seed: number, n: number) => {
    const s = new Sampler({ temperature: 1, seed });
    return Array.from({ length: n }, () => s.sample(x, NO_HISTORY));
  };
  assert.deepEqual(draw(7, 50), draw(7, 50));
  assert.notDeepEqual(draw(7, 50), draw(8, 50));
  const counts = [0, 0, 0, 0];
  for (const t of draw(1, 20000)) counts[t]!++;
  counts.forEach((c, i) => assert.ok(Math.abs(c / 20000 - (i + 1) / 10) < 0.015, `token ${i}: ${c / 20000}`));
});

test('masked tokens are never drawn', () => {
  const x = f([3, 2.9, 0, 0, 0, 0]);
  const s = new Sampler({ temperature: 5, topK: 2, seed: 3 });
  for (let i = 0; i < 500; i++) assert.ok(s.sample(x, NO_HISTORY) <= 1);
});

test('out-of-range parameters are rejected', () => {
  assert.throws(() => validateSampling({ temperature: -1 }), RangeError);
  assert.throws(() => validateSampling({ topP: 0 }), RangeError);
  assert.throws(() => validateSampling({ topK: 1.5 }), RangeError);
  assert.throws(() => validateSampling({ minP: 2 }), RangeError);
  assert.throws(() => validateSampling({ repetitionPenalty: 0 }), RangeError);
  assert.doesNotThrow(() => validateSampling({ temperature: 0.7, topP: 0.9, topK: 40, minP: 0.05, repetitionPenalty: 1.1 }));
});
