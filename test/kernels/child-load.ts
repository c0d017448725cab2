/** Child process for runtime.test.ts: loads the active kernels, runs one op, prints what it got. */
import { getKernels } from '../../src/kernels/index.ts';
import { wasmRuntime } from '../../src/kernels/wasm/index.ts';

const k = getKernels();
const C = new Float32Array(64 * 64);
k.gemm({
  M: 64,
  N: 64,
  K: 64,
  transA: false,
  transB: false,
  alpha: 1,
  beta: 0,
  A: new Float32Array(4096).fill(1),
  aOffset: 0,
  lda: 64,
  B: new Float32Array(4096).fill(2),
  bOffset: 0,
  ldb: 64,
  C,
  cOffset: 0,
  ldc: 64,
});
console.log(JSON.stringify({ name: k.name, threads: wasmRuntime()?.threads ?? 0, c: C[100] }));
// No explicit shutdown: idle workers must not keep the process alive.
