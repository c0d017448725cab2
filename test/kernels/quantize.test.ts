/** Weight quantisation: native codes and scales ≡ the reference, bit for bit; error within the scheme's bound. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { referenceKernels as ref } from '../../src/kernels/reference/index.ts';
import { weightReader } from '../../src/kernels/reference/quant-matmul.ts';
import type { FloatWeight, QuantScheme } from '../../src/kernels/types.ts';
import { encodeBf16 } from '../../src/tensor/codecs.ts';
import { nativeSets, rng, randArray } from './helpers.ts';

const schemes: QuantScheme[] = ['q8', 'q4', 'fp8'];
const shapes: [number, number][] = [
  [1, 32],
  [3, 64],
  [130, 256],
  [257, 96],
];

function weights(r: () => number, N: number, K: number): FloatWeight[] {
  const f32 = randArray(r, N * K, 0.1);
  f32[3] = 0;
  if (N * K > 64) for (let k = 32; k < 64; k++) f32[k] = 0; // an all-zero block
  return [
    { kind: 'f32', data: f32 },
    { kind: 'bf16', data: encodeBf16(f32) },
  ];
}

describe('quantize', () => {
  for (const { name, k } of nativeSets()) {
    it(`${name}: codes and scales equal the reference`, () => {
      const r = rng(7);
      for (const [N, K] of shapes) {
        for (const W of weights(r, N, K)) {
          for (const s of schemes) {
            const want = ref.quantize(W, N, K, s);
            const got = k.quantize(W, N, K, s);
            assert.equal(got.kind, want.kind);
            assert.deepEqual(got.data, want.data, `${s} ${W.kind} ${N}×${K}: codes`);
            assert.deepEqual(
              (got as { scaleInv: Float32Array }).scaleInv,
              (want as { scaleInv: Float32Array }).scaleInv,
              `${s} ${W.kind} ${N}×${K}: scales`,
            );
          }
        }
      }
    });
  }
  it('the dequantised weight is within half a step of the original (q8; a whole step for q4, whose +8 clamps to +7) or e4m3 rounding (fp8)', () => {
    const r = rng(3);
    const N = 40,
      K = 256;
    const x = randArray(r, N * K, 0.05);
    for (const s of schemes) {
      const q = ref.quantize({ kind: 'f32', data: x }, N, K, s);
      const w = weightReader(q, N, K);
      const blockMax = (n: number, k: number) => {
        const b0 = s === 'fp8' ? Math.floor(k / 128) * 128 : Math.floor(k / 32) * 32,
          w0 = s === 'fp8' ? 128 : 32;
        const rows = s === 'fp8' ? [Math.floor(n / 128) * 128, Math.min(N, Math.floor(n / 128) * 128 + 128)] : [n, n + 1];
        let m = 0;
        for (let i = rows[0]!; i < rows[1]!; i++) for (let j = b0; j < b0 + w0; j++) m = Math.max(m, Math.abs(x[i * K + j]!));
        return m;
      };
      for (let n = 0; n < N; n++) {
        for (let k = 0; k < K; k++) {
          const err = Math.abs(w(n, k) - x[n * K + k]!);
          const bound =
            s === 'q8'
              ? blockMax(n, k) / 127 / 2
              : s === 'q4'
                ? blockMax(n, k) / 8
                : Math.max(Math.abs(x[n * K + k]!) / 16, blockMax(n, k) / 448 / 512);
          assert.ok(err <= bound * 1.0001 + 1e-12, `${s} [${n}, ${k}]: |${w(n, k)} − ${x[n * K + k]}| > ${bound}`);
        }
      }
    }
  });
  it('q4 refuses K that is not a multiple of 32', () => {
    assert.throws(() => ref.quantize({ kind: 'f32', data: new Float32Array(40) }, 1, 40, 'q4'), /K % 32/);
  });
});
