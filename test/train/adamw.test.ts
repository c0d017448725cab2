// AdamW against a direct transcription of torch.optim.AdamW's update (in f64), decoupled decay only
// on matrices, per-parameter step counts for parameters that get no gradient, and global-norm
// clipping as torch.nn.utils.clip_grad_norm_ computes it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tensor, Rng } from '../../src/tensor/index.ts';
import { MapWeights } from '../../src/model/weights.ts';
import { AdamW } from '../../src/train/optim/adamw.ts';
import { clipScale, gradNorm } from '../../src/train/optim/clip.ts';
import { decays, trainableParams } from '../../src/train/optim/params.ts';

/** torch.optim.AdamW, single-tensor path, for one parameter over a list of gradients. */
function torchAdamW(p0: number[], grads: number[][], lr: number, b1: number, b2: number, eps: number, wd: number): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let j = 0; j < p.length; j++) {
      p[j]! *= 1 - lr * wd;
      m[j] = m[j]! + (1 - b1) * (g[j]! - m[j]!);
      v[j] = v[j]! * b2 + (1 - b2) * g[j]! * g[j]!;
      const denom = Math.sqrt(v[j]!) / Math.sqrt(1 - b2 ** t) + eps;
      p[j]! -= (lr / (1 - b1 ** t)) * (m[j]! / denom);
    }
  });
  return p;
}

test('AdamW matches the PyTorch update over several steps (matrix with decay, norm without)', () => {
  const rng = new Rng(3);
  const w = Tensor.randn([3, 4], rng).requireGrad();
  const n = Tensor.ones([4]).requireGrad();
  const weights = new MapWeights(
    new Map([
      ['model.layers.0.mlp.up_proj.weight', w],
      ['model.layers.0.input_layernorm.weight', n],
    ]),
  );
  const params = trainableParams(weights);
  assert.deepEqual(
    params.map((p) => [p.name, p.decay]),
    [
      ['model.layers.0.input_layernorm.weight', false],
      ['model.layers.0.mlp.up_proj.weight', true],
    ],
  );
  const opt = new AdamW(params, { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 });
  const w0 = Array.from(w.data as Float32Array);
  const n0 = Array.from(n.data as Float32Array);
  const gw: number[][] = [];
  const gn: number[][] = [];
  for (let s = 0; s < 5; s++) {
    const a = Tensor.randn([3, 4], rng);
    const b = Tensor.randn([4], rng);
    gw.push(Array.from(a.data as Float32Array));
    gn.push(Array.from(b.data as Float32Array));
    w.grad = a;
    n.grad = b;
    opt.step(0.01);
    opt.zeroGrad();
    assert.equal(w.grad, null);
  }
  const refW = torchAdamW(w0, gw, 0.01, 0.9, 0.95, 1e-8, 0.1);
  const refN = torchAdamW(n0, gn, 0.01, 0.9, 0.95, 1e-8, 0);
  refW.forEach((r, j) => assert.ok(Math.abs((w.data[j] as number) - r) < 1e-6, `w[${j}] ${w.data[j]} vs ${r}`));
  refN.forEach((r, j) => assert.ok(Math.abs((n.data[j] as number) - r) < 1e-6, `n[${j}] ${n.data[j]} vs ${r}`));
});

test('a parameter without a gradient is untouched and keeps its own step count', () => {
  const a = Tensor.full([2, 2], 1).requireGrad();
  const b = Tensor.full([2, 2], 1).requireGrad();
  const params = trainableParams(
    new MapWeights(
      new Map([
        ['a.weight', a],
        ['b.weight', b],
      ]),
    ),
  );
  const opt = new AdamW(params, { weightDecay: 0.5 });
  a.grad = Tensor.full([2, 2], 1);
  opt.step(0.1);
  assert.deepEqual(Array.from(b.data), [1, 1, 1, 1], 'no gradient: no decay, no update');
  assert.deepEqual(Array.from(opt.state().steps), [1, 0]);
  // b's first real step must use bias correction for t = 1, like a fresh Adam: a full lr-sized move.
  opt.zeroGrad();
  b.grad = Tensor.full([2, 2], 2);
  opt.step(0.1);
  const expected = 1 * (1 - 0.1 * 0.5) - 0.1 * (2 / (2 + 1e-8));
  assert.ok(Math.abs((b.data[0] as number) - expected) < 1e-6, `${b.data[0]} vs ${expected}`);
});

test('state round-trips: a restored optimizer continues identically', () => {
  const mk = () => Tensor.from([0.5, -0.25, 1, 2], [2, 2]).requireGrad();
  const [p1, p2] = [mk(), mk()];
  const o1 = new AdamW(trainableParams(new MapWeights(new Map([['x.weight', p1]]))));
  const o2 = new AdamW(trainableParams(new MapWeights(new Map([['x.weight', p2]]))));
  p1.grad = Tensor.from([1, 2, 3, 4], [2, 2]);
  o1.step(0.01);
  p2.data.set(p1.data);
  const s = o1.state();
  o2.load({
    steps: s.steps.slice(),
    m: new Map([...s.m].map(([k, v]) => [k, v.slice()])),
    v: new Map([...s.v].map(([k, v]) => [k, v.slice()])),
  });
  p1.grad = p2.grad = Tensor.from([-1, 0.5, 0, 2], [2, 2]);
  o1.step(0.01);
  o2.step(0.01);
  assert.deepEqual(Array.from(p2.data), Array.from(p1.data));
});

test('decay rule: matrices decay; norms, biases and 1-D tensors do not', () => {
  assert.equal(decays('model.embed_tokens.weight', 2), true);
  assert.equal(decays('model.layers.3.mlp.experts.7.down_proj.weight', 2), true);
  assert.equal(decays('model.layers.0.self_attn.kv_a_layernorm.weight', 1), false);
  assert.equal(decays('model.layers.0.self_attn.q_proj.bias', 1), false);
  assert.equal(decays('model.layers.1.hnorm.weight', 1), false);
  assert.equal(decays('some.bias', 2), false);
});

test('global-norm clipping: norm over all gradients, factor maxNorm/(norm+1e-6) only above maxNorm', () => {
  const a = Tensor.zeros([2]).requireGrad();
  const b = Tensor.zeros([1]).requireGrad();
  const c = Tensor.zeros([1]).requireGrad();
  const params = trainableParams(
    new MapWeights(
      new Map([
        ['a', a],
        ['b', b],
        ['c', c],
      ]),
    ),
  );
  a.grad = Tensor.from([3, 0]);
  b.grad = Tensor.from([4]);
  assert.equal(gradNorm(params), 5, 'missing gradient (c) counts as zero');
  assert.equal(gradNorm(params, 0.5), 2.5);
  assert.equal(clipScale(5, 10), 1);
  assert.ok(Math.abs(clipScale(5, 1) - 1 / (5 + 1e-6)) < 1e-15);
  assert.equal(clipScale(5, 0), 1, 'maxNorm 0 turns clipping off');
  // The scale folds into the update: clipped gradient g·s gives the same step as g scaled beforehand.
  const p = Tensor.from([1, 1], [1, 2]).requireGrad();
  const q = Tensor.from([1, 1], [1, 2]).requireGrad();
  const op = new AdamW(trainableParams(new MapWeights(new Map([['p', p]]))), { weightDecay: 0 });
  const oq = new AdamW(trainableParams(new MapWeights(new Map([['q', q]]))), { weightDecay: 0 });
  p.grad = Tensor.from([4, -2], [1, 2]);
  q.grad = Tensor.from([2, -1], [1, 2]);
  op.step(0.1, 0.5);
  oq.step(0.1);
  assert.deepEqual(Array.from(p.data), Array.from(q.data));
});

/** x rounded to bf16 (nearest, ties to even) by arithmetic; x a finite normal f32. */
function bf16Ref(x: number): number {
  if (x === 0) return x;
  const ulp = 2 ** (Math.floor(Math.log2(Math.abs(x))) - 7);
  const q = x / ulp;
  const f = Math.floor(q);
  return (q - f === 0.5 ? (f % 2 === 0 ? f : f + 1) : Math.round(q)) * ulp;
}

test('bf16 moments: stored as bf16 (half the bytes), the update is AdamW with its moments rounded after each step', () => {
  const rng = new Rng(9);
  const w0 = Array.from({ length: 300 }, () => rng.normal());
  const grads = Array.from({ length: 6 }, () => Array.from({ length: 300 }, () => rng.normal() * 10 ** (rng.int(5) - 3)));
  const run = (moments: 'f32' | 'bf16') => {
    const w = Tensor.from(w0, [15, 20]).requireGrad();
    const opt = new AdamW(trainableParams(new MapWeights(new Map([['x.weight', w]]))), { weightDecay: 0.1, moments });
    for (const g of grads) {
      w.grad = Tensor.from(g, [15, 20]);
      opt.step(0.01, 0.5);
      opt.zeroGrad();
    }
    return { w: Array.from(w.data as Float32Array), m: opt.state().m.get('x.weight')!, v: opt.state().v.get('x.weight')! };
  };
  const bf = run('bf16');
  const f32 = run('f32');
  assert.ok(bf.m instanceof Uint16Array && bf.v instanceof Uint16Array);
  assert.equal(bf.m.byteLength * 2, f32.m.byteLength, 'half the bytes of f32 moments');

  // Reference: PyTorch's AdamW arithmetic (as the trainer writes it), each new moment used unrounded
  // in this step's update, then stored as f32 and rounded to bf16.
  const [b1, b2, eps, wd, lr] = [0.9, 0.95, 1e-8, 0.1, 0.01];
  const p = w0.map(Math.fround);
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let j = 0; j < p.length; j++) {
      const gj = Math.fround(g[j]!) * 0.5;
      const mj = b1 * m[j]! + (1 - b1) * gj;
      const vj = b2 * v[j]! + (1 - b2) * gj * gj;
      m[j] = bf16Ref(Math.fround(mj));
      v[j] = bf16Ref(Math.fround(vj));
      p[j] = Math.fround(p[j]! * (1 - lr * wd) - ((lr / (1 - b1 ** t)) * mj) / (Math.sqrt(vj) / Math.sqrt(1 - b2 ** t) + eps));
    }
  });
  const decoded = (bits: Uint16Array) => Array.from(bits, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]!);
  assert.deepEqual(decoded(bf.m as Uint16Array), m, 'first moments, bit for bit');
  assert.deepEqual(decoded(bf.v as Uint16Array), v, 'second moments, bit for bit');
  p.forEach((r, j) => assert.ok(Math.abs(bf.w[j]! - r) <= 1e-6 * Math.max(1, Math.abs(r)), `w[${j}] ${bf.w[j]} vs ${r}`));
  assert.notDeepEqual(bf.w, f32.w, 'the rounding reaches the weights');
});

test('bf16 moments: a restored optimizer continues bit for bit; f32 moments load into a bf16 optimizer rounded', () => {
  const mk = () => Tensor.from([0.5, -0.25, 1, 2, 3, -1], [2, 3]).requireGrad();
  const [p1, p2, p3] = [mk(), mk(), mk()];
  const opt = (p: Tensor, moments: 'f32' | 'bf16') => new AdamW(trainableParams(new MapWeights(new Map([['x.weight', p]]))), { moments });
  const [o1, o2, o3] = [opt(p1, 'bf16'), opt(p2, 'bf16'), opt(p3, 'f32')];
  p1.grad = p3.grad = Tensor.from([1, 2, 3, 4, 0.3, 1e-3], [2, 3]);
  o1.step(0.01);
  o3.step(0.01);
  p2.data.set(p1.data);
  const s = o1.state();
  o2.load({
    steps: s.steps.slice(),
    m: new Map([...s.m].map(([k, v]) => [k, v.slice()])),
    v: new Map([...s.v].map(([k, v]) => [k, v.slice()])),
  });
  p1.grad = p2.grad = Tensor.from([-1, 0.5, 0, 2, 7, -3], [2, 3]);
  o1.step(0.01);
  o2.step(0.01);
  assert.deepEqual(Array.from(p2.data), Array.from(p1.data));
  assert.deepEqual(Array.from(o2.state().m.get('x.weight')!), Array.from(o1.state().m.get('x.weight')!));
  // f32 moments (o3's) loaded into a bf16 optimizer: rounded to nearest even, the steps kept.
  const o4 = opt(mk(), 'bf16');
  o4.load(o3.state());
  const m3 = o3.state().m.get('x.weight') as Float32Array;
  const m4 = o4.state().m.get('x.weight') as Uint16Array;
  assert.deepEqual(
    Array.from(m4, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]),
    Array.from(m3, bf16Ref),
  );
  assert.deepEqual(Array.from(o4.state().steps), [1]);
});
