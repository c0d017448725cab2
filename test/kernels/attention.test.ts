/**
 * Attention: the tiled reference against the full-matrix textbook version and finite differences
 * (f64), then the fast kernels against the reference (f32), forward and backward.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referenceKernels as ref } from '../../src/kernels/reference/index.ts';
import type { AttentionArgs, AttentionBackwardArgs, FloatArray } from '../../src/kernels/types.ts';
import { assertClose, maxAbs, rng, randArray, wasmSets, nativeSets } from './helpers.ts';
import { contiguousKv } from '../../src/kernels/checks.ts';
import { naiveAttention, naiveAttentionBackward } from './attention-naive.ts';

const sets = [...wasmSets(), ...nativeSets()];

type Shape = Pick<AttentionArgs, 'B' | 'H' | 'Hkv' | 'Tq' | 'Tk' | 'Dk' | 'Dv' | 'causal'>;

const shapes: Shape[] = [
  { B: 2, H: 4, Hkv: 2, Tq: 5, Tk: 9, Dk: 17, Dv: 13, causal: true }, // GQA, decoding-style offset
  { B: 1, H: 2, Hkv: 1, Tq: 70, Tk: 70, Dk: 24, Dv: 8, causal: true }, // crosses key tiles
  { B: 1, H: 3, Hkv: 3, Tq: 20, Tk: 130, Dk: 8, Dv: 12, causal: false },
  { B: 1, H: 2, Hkv: 2, Tq: 9, Tk: 4, Dk: 8, Dv: 8, causal: true }, // Tq > Tk: early queries see nothing
  { B: 2, H: 6, Hkv: 1, Tq: 1, Tk: 33, Dk: 16, Dv: 16, causal: true }, // one new token, many cached
  { B: 1, H: 1, Hkv: 1, Tq: 1, Tk: 1, Dk: 1, Dv: 1, causal: true },
  { B: 1, H: 2, Hkv: 2, Tq: 40, Tk: 40, Dk: 48, Dv: 32, causal: true }, // MLA-like Dk ≠ Dv
];

function make<T extends FloatArray>(
  s: Shape,
  seed: number,
  ctor: { new (n: number): T; from(a: ArrayLike<number>): T },
): AttentionBackwardArgs {
  const r = rng(seed);
  const { B, H, Hkv, Tq, Tk, Dk, Dv } = s;
  const rand = (n: number) => ctor.from(randArray(r, n));
  return {
    ...s,
    scale: 1 / Math.sqrt(Dk),
    q: rand(B * H * Tq * Dk),
    k: rand(B * Hkv * Tk * Dk),
    v: rand(B * Hkv * Tk * Dv),
    out: new ctor(B * H * Tq * Dv),
    lse: new ctor(B * H * Tq),
    dOut: rand(B * H * Tq * Dv),
    dq: new ctor(B * H * Tq * Dk).fill(NaN),
    dk: new ctor(B * Hkv * Tk * Dk).fill(NaN),
    dv: new ctor(B * Hkv * Tk * Dv).fill(NaN),
  };
}

const label = (s: Shape) => JSON.stringify(s);

describe('attention reference (f64)', () => {
  it('forward matches the full-matrix softmax attention', () => {
    for (const [i, s] of shapes.entries()) {
      const a = make(s, i + 1, Float64Array);
      const b = { ...a, out: a.out.slice(), lse: a.lse.slice() };
      ref.attention(a);
      naiveAttention(b);
      assertClose(a.out, b.out, `${label(s)} out`, 1e-12, 1e-12);
      assertClose(a.lse, b.lse, `${label(s)} lse`, 1e-12, 1e-12);
    }
  });
  it('backward matches the full-matrix gradients', () => {
    for (const [i, s] of shapes.entries()) {
      const a = make(s, i + 1, Float64Array);
      ref.attention(a);
      const b = { ...a, dq: a.dq.slice(), dk: a.dk.slice(), dv: a.dv.slice() };
      ref.attentionBackward(a);
      naiveAttentionBackward(b);
      for (const g of ['dq', 'dk', 'dv'] as const) assertClose(a[g], b[g], `${label(s)} ${g}`, 1e-10, 1e-12);
    }
  });
  it('backward matches central finite differences of Σ out·dOut', () => {
    const s: Shape = { B: 1, H: 2, Hkv: 1, Tq: 3, Tk: 4, Dk: 3, Dv: 2, causal: true };
    const a = make(s, 42, Float64Array);
    ref.attention(a);
    ref.attentionBackward(a);
    const loss = (x: AttentionArgs) => {
      const out = new Float64Array(a.out.length);
      ref.attention({ ...x, out, lse: new Float64Array(a.lse.length) });
      return out.reduce((acc, o, i) => acc + o * a.dOut[i]!, 0);
    };
    const eps = 1e-6;
    for (const [name, grad] of [
      ['q', a.dq],
      ['k', a.dk],
      ['v', a.dv],
    ] as const) {
      const x = a[name];
      for (let i = 0; i < x.length; i++) {
        const keep = x[i]!;
        x[i] = keep + eps;
        const up = loss(a);
        x[i] = keep - eps;
        const down = loss(a);
        x[i] = keep;
        const fd = (up - down) / (2 * eps);
        assert.ok(Math.abs(fd - grad[i]!) < 1e-7, `d${name}[${i}]: analytic ${grad[i]}, numeric ${fd}`);
      }
    }
  });
});

describe('attention: fast ≡ reference (f32)', () => {
  for (const { name, k } of sets) {
    it(`${name}: forward`, () => {
      for (const [i, s] of shapes.entries()) {
        const a = make(s, 10 + i, Float32Array);
        const b = { ...a, out: a.out.slice(), lse: a.lse.slice() };
        ref.attention(a);
        k.attention(b);
        assertClose(b.out, a.out, `${label(s)} out`, 1e-4, 1e-5 * maxAbs(a.out));
        assertClose(b.lse, a.lse, `${label(s)} lse`, 1e-5, 1e-5);
      }
    });
    it(`${name}: backward`, () => {
      for (const [i, s] of shapes.entries()) {
        const a = make(s, 20 + i, Float32Array);
        ref.attention(a);
        const b = { ...a, dq: a.dq.slice(), dk: a.dk.slice(), dv: a.dv.slice() };
        ref.attentionBackward(a);
        k.attentionBackward(b);
        for (const g of ['dq', 'dk', 'dv'] as const) assertClose(b[g], a[g], `${label(s)} ${g}`, 1e-4, 1e-5 * maxAbs(a[g]));
      }
    });
  }
  /**
   * k and v spread out: rows `rowGap` elements apart beyond their width, heads `gap` further apart (a
   * cache with room to grow; MLA values inside latent rows), NaN in between so a wrong read shows.
   */
  function spaced(a: AttentionArgs, gap: number, rowGap = 0): AttentionArgs {
    const { B, Hkv, Tk, Dk, Dv } = a;
    const spread = (x: FloatArray, D: number) => {
      const row = D + rowGap;
      const head = Tk * row + gap;
      const out = new Float32Array(B * Hkv * head).fill(NaN);
      for (let h = 0; h < B * Hkv; h++)
        for (let t = 0; t < Tk; t++) out.set(x.subarray((h * Tk + t) * D, (h * Tk + t + 1) * D), h * head + t * row);
      return out;
    };
    return {
      ...a,
      k: spread(a.k, Dk),
      v: spread(a.v, Dv),
      kHeadStride: Tk * (Dk + rowGap) + gap,
      vHeadStride: Tk * (Dv + rowGap) + gap,
      kRowStride: Dk + rowGap,
      vRowStride: Dv + rowGap,
    };
  }
  for (const { name, k } of [{ name: 'reference', k: ref }, ...sets]) {
    it(`${name}: keys and values read in place from heads spaced apart (decoding caches)`, () => {
      for (const [i, s] of shapes.entries()) {
        const a = make(s, 40 + i, Float32Array);
        ref.attention(a);
        const b = { ...spaced(a, 7 + i, i % 3), out: a.out.slice().fill(0), lse: a.lse.slice().fill(0) };
        k.attention(b);
        assertClose(b.out, a.out, `${label(s)} out`, 1e-4, 1e-5 * maxAbs(a.out));
        assertClose(b.lse, a.lse, `${label(s)} lse`, 1e-5, 1e-5);
        assert.deepEqual(contiguousKv(b).k, a.k, 'contiguousKv packs the heads back');
      }
    });
  }
  it('rejects H not a multiple of Hkv and short buffers', () => {
    const a = make(shapes[0]!, 1, Float32Array);
    for (const { k } of sets) {
      assert.throws(() => k.attention({ ...a, Hkv: 3 }), RangeError);
      assert.throws(() => k.attention({ ...a, q: new Float32Array(3) }), RangeError);
      assert.throws(() => k.attentionBackward({ ...a, dk: new Float32Array(3) }), RangeError);
    }
  });
  it('the comparison catches a wrong gradient', () => {
    const s = shapes[0]!;
    const a = make(s, 3, Float32Array);
    ref.attention(a);
    ref.attentionBackward(a);
    const wrong = a.dk.slice();
    wrong[7] = wrong[7]! + 1e-2;
    assert.throws(() => assertClose(wrong, a.dk, 'dk', 1e-4, 1e-5 * maxAbs(a.dk)));
  });
});
