/**
 * rmsNorm, siluMul, softmax, crossEntropy: the reference against their formulas, then the fast
 * kernels against the reference, including in-place use, masked (−∞) logits and ignored rows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referenceKernels as ref } from '../../src/kernels/reference/index.ts';
import { assertClose, rng, randArray, wasmSets, nativeSets } from './helpers.ts';

const sets = [...wasmSets(), ...nativeSets()];
const dims = [1, 3, 17, 33, 130, 4099];

describe('elementwise references follow their formulas', () => {
  it('rmsNorm: x / sqrt(mean(x²) + eps) · w', () => {
    const x = Float64Array.from([3, 4]),
      w = Float64Array.from([1, 2]),
      out = new Float64Array(2),
      rstd = new Float64Array(1);
    ref.rmsNorm(x, w, out, 1, 2, 0.5, rstd);
    const rs = 1 / Math.sqrt((9 + 16) / 2 + 0.5);
    assertClose(out, [3 * rs, 8 * rs], 'out', 1e-15, 0);
    assertClose(rstd, [rs], 'rstd', 1e-15, 0);
  });
  it('siluMul: g / (1 + e^−g) · u', () => {
    const out = new Float64Array(2);
    ref.siluMul(Float64Array.from([0, 2]), Float64Array.from([5, 3]), out, 2);
    assertClose(out, [0, (2 / (1 + Math.exp(-2))) * 3], 'out', 1e-15, 0);
  });
  it('crossEntropy: lse − x[target], gradient softmax − onehot', () => {
    const logits = Float64Array.from([1, 2, 3, 0, 0, 0]);
    const d = new Float64Array(6);
    const { loss, count } = ref.crossEntropy(logits, Int32Array.from([2, -100]), 2, 3, -100, d, 0.5);
    const lse = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3));
    assert.equal(count, 1);
    assert.ok(Math.abs(loss - (lse - 3)) < 1e-14);
    assertClose(d, [0.5 * Math.exp(1 - lse), 0.5 * Math.exp(2 - lse), 0.5 * (Math.exp(3 - lse) - 1), 0, 0, 0], 'dLogits', 1e-14, 1e-15);
  });
});

describe('elementwise: fast ≡ reference', () => {
  for (const { name, k } of sets) {
    it(`${name}: rmsNorm (with and without rstd, in place)`, () => {
      const r = rng(1);
      for (const dim of dims) {
        const rows = dim > 1000 ? 3 : 7;
        const x = randArray(r, rows * dim, 3),
          w = randArray(r, dim);
        const want = new Float32Array(rows * dim),
          wantR = new Float32Array(rows);
        ref.rmsNorm(x, w, want, rows, dim, 1e-6, wantR);
        const got = new Float32Array(rows * dim),
          gotR = new Float32Array(rows);
        k.rmsNorm(x, w, got, rows, dim, 1e-6, gotR);
        assertClose(got, want, `rmsNorm dim ${dim}`, 1e-5, 1e-6);
        assertClose(gotR, wantR, `rstd dim ${dim}`, 1e-5, 0);
        const inPlace = x.slice();
        k.rmsNorm(inPlace, w, inPlace, rows, dim, 1e-6);
        assertClose(inPlace, want, `rmsNorm in place dim ${dim}`, 1e-5, 1e-6);
      }
    });
    it(`${name}: siluMul (including |g| up to 100)`, () => {
      const r = rng(2);
      for (const n of [...dims, 100003]) {
        const g = randArray(r, n, n === 130 ? 100 : 8),
          u = randArray(r, n);
        const want = new Float32Array(n),
          got = new Float32Array(n);
        ref.siluMul(g, u, want, n);
        k.siluMul(g, u, got, n);
        assertClose(got, want, `siluMul n ${n}`, 2e-6, 1e-7);
        k.siluMul(g, u, g, n);
        assertClose(g, want, `siluMul in place n ${n}`, 2e-6, 1e-7);
      }
    });
    it(`${name}: softmax (large logits, masked −∞ entries, in place)`, () => {
      const r = rng(3);
      for (const cols of dims) {
        const rows = 5;
        const x = randArray(r, rows * cols, 30);
        for (let i = 0; i < x.length; i += 3) if (i % cols !== 0) x[i] = -Infinity;
        const want = new Float32Array(rows * cols),
          got = new Float32Array(rows * cols);
        ref.softmax(x, want, rows, cols);
        k.softmax(x, got, rows, cols);
        assertClose(got, want, `softmax cols ${cols}`, 2e-6, 1e-9);
        k.softmax(x, x, rows, cols);
        assertClose(x, want, `softmax in place cols ${cols}`, 2e-6, 1e-9);
      }
    });
    it(`${name}: crossEntropy (ignored rows, gradScale, with and without dLogits)`, () => {
      const r = rng(4);
      for (const vocab of [...dims, 32000]) {
        const rows = vocab > 1000 ? 4 : 9;
        const logits = randArray(r, rows * vocab, 10);
        const targets = Int32Array.from({ length: rows }, (_, i) => (i === 2 ? -100 : Math.floor(r() * vocab)));
        const want = new Float32Array(rows * vocab).fill(7),
          got = new Float32Array(rows * vocab).fill(7);
        const a = ref.crossEntropy(logits, targets, rows, vocab, -100, want, 0.25);
        const b = k.crossEntropy(logits, targets, rows, vocab, -100, got, 0.25);
        assert.equal(b.count, a.count);
        assert.ok(Math.abs(b.loss - a.loss) <= 1e-5 * Math.max(1, Math.abs(a.loss)), `loss ${b.loss} vs ${a.loss} (vocab ${vocab})`);
        // softmax − 1 at the target cancels: absolute error ~ eps·gradScale there.
        assertClose(got, want, `dLogits vocab ${vocab}`, 1e-5, 1e-7);
        const c = k.crossEntropy(logits, targets, rows, vocab, -100);
        assert.ok(Math.abs(c.loss - a.loss) <= 1e-5 * Math.max(1, Math.abs(a.loss)));
      }
    });
    it(`${name}: crossEntropy rejects targets outside the vocabulary`, () => {
      assert.throws(() => k.crossEntropy(new Float32Array(6), Int32Array.from([0, 3]), 2, 3, -100), RangeError);
      assert.throws(() => k.crossEntropy(new Float32Array(6), Int32Array.from([-1, 0]), 2, 3, -100), RangeError);
    });
    it(`${name}: f64 inputs give exactly the reference results`, () => {
      const r = rng(5);
      const x = Float64Array.from(randArray(r, 40)),
        w = Float64Array.from(randArray(r, 8));
      const a = new Float64Array(40),
        b = new Float64Array(40);
      ref.rmsNorm(x, w, a, 5, 8, 1e-6);
      k.rmsNorm(x, w, b, 5, 8, 1e-6);
      assert.deepEqual(b, a);
      ref.softmax(x, a, 5, 8);
      k.softmax(x, b, 5, 8);
      assert.deepEqual(b, a);
    });
  }
  it('the comparison catches a wrong element', () => {
    const want = Float32Array.from([1, 2, 3]);
    assert.throws(() => assertClose(Float32Array.from([1, 2.001, 3]), want, 'x', 1e-5, 1e-6));
  });
});
