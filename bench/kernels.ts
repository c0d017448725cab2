/**
 * Kernel benchmark: f32 GEMM GFLOP/s and low-precision mat-vec GB/s of the active (WASM) kernels,
 * next to PyTorch + OpenBLAS measured in the same run (bench/peer/torch_peer.py).
 * Usage: npm run bench:kernels   (env BENCH_SECONDS: time per case, default 2; DSTS_THREADS)
 * Rule for both sides: batches of calls lasting at least BENCH_SECONDS/7, best batch of 7.
 */
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { allocKernelArray, freeKernelArray, getKernels } from '../src/kernels/index.ts';
import type { QuantWeight } from '../src/kernels/types.ts';
import { wasmRuntime } from '../src/kernels/wasm/index.ts';
import { encodeE4m3Blocks, gaussian, toBf16 } from './weights.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const k = getKernels();
const threads = wasmRuntime()?.threads ?? 1;

/** Best rate (work units / ns = G units/s) over 7 timed batches. */
function bestRate(fn: () => void, work: number): number {
  fn();
  fn();
  let t = performance.now();
  fn();
  const one = Math.max(performance.now() - t, 1e-4);
  const reps = Math.max(1, Math.floor((SECONDS * 1000) / 7 / one));
  let best = 0;
  for (let b = 0; b < 7; b++) {
    t = performance.now();
    for (let i = 0; i < reps; i++) fn();
    const dt = (performance.now() - t) / reps;
    best = Math.max(best, work / (dt * 1e6));
  }
  return best;
}

function peer(): { version: string; results: Record<string, number> } | string {
  const script = fileURLToPath(new URL('./peer/torch_peer.py', import.meta.url));
  const r = spawnSync('/usr/bin/python3', [script, String(threads), String(SECONDS)], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    return /No module named 'torch'|ENOENT/.test(`${r.stderr}${r.error?.message ?? ''}`)
      ? 'n/a (install python3-torch)'
      : `n/a (peer failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
  }
  const j = JSON.parse(r.stdout) as { torch: string; results: Record<string, number> };
  return { version: j.torch, results: j.results };
}

interface Row {
  name: string;
  unit: string;
  ours: number;
  /** Peer case key, if the peer measures the same thing. */
  peerKey?: string;
}
const rows: Row[] = [];
const rand = (n: number) => {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() * 2 - 1;
  return a;
};

const load0 = loadavg()[0]!;
for (const n of [256, 1024, 2048]) {
  const A = rand(n * n),
    B = rand(n * n),
    C = new Float32Array(n * n);
  const ours = bestRate(
    () =>
      k.gemm({
        M: n,
        N: n,
        K: n,
        transA: false,
        transB: false,
        alpha: 1,
        beta: 0,
        A,
        aOffset: 0,
        lda: n,
        B,
        bOffset: 0,
        ldb: n,
        C,
        cOffset: 0,
        ldc: n,
      }),
    2 * n ** 3,
  );
  rows.push({ name: `f32 GEMM ${n}³`, unit: 'GFLOP/s', ours, peerKey: `gemm ${n}` });
}
for (const N of [4096, 11008]) {
  const K = 4096;
  const x = rand(K),
    y = new Float32Array(N);
  const W = rand(N * K);
  const gemv = (B: Float32Array) => () =>
    k.gemm({
      M: 1,
      N,
      K,
      transA: false,
      transB: true,
      alpha: 1,
      beta: 0,
      A: x,
      aOffset: 0,
      lda: K,
      B,
      bOffset: 0,
      ldb: K,
      C: y,
      cOffset: 0,
      ldc: N,
    });
  rows.push({ name: `f32 GEMM 1×${K}×${N} (x·Wᵀ)`, unit: 'GFLOP/s', ours: bestRate(gemv(W), 2 * N * K), peerKey: `gemm 1x${K}x${N}` });
  const Wk = allocKernelArray(N * K);
  Wk.set(W);
  rows.push({
    name: `  same, W in kernel memory (no copy)`,
    unit: 'GFLOP/s',
    ours: bestRate(gemv(Wk), 2 * N * K),
    peerKey: `gemm 1x${K}x${N}`,
  });
  freeKernelArray(Wk);
}
for (const N of [4096, 11008]) {
  const K = 4096;
  const x = rand(K),
    y = new Float32Array(N);
  const g = gaussian(N * K);
  const weights: [string, QuantWeight, number][] = [
    ['bf16', { kind: 'bf16', data: toBf16(g) }, 2],
    ['fp8 e4m3, 128×128 scales', { kind: 'e4m3', ...encodeE4m3Blocks(g, N, K, 128), blockRows: 128, blockCols: 128 }, 1],
  ];
  for (const [name, W, bytes] of weights) {
    const ours = bestRate(() => k.quantMatmul({ M: 1, N, K, X: x, xOffset: 0, W, Y: y, yOffset: 0 }), N * K * bytes);
    rows.push({ name: `${name} mat-vec ${N}×${K}`, unit: 'GB/s', ours, peerKey: `matvec ${N}x${K}` });
  }
}
const load1 = loadavg()[0]!;

const p = peer();
const fmt = (v: number) => v.toFixed(1);
console.log(`\nkernels: ${k.name}; ${cpus()[0]?.model ?? '?'} ×${cpus().length}; node ${process.versions.node}; ${SECONDS} s/case`);
console.log(`peer: ${typeof p === 'string' ? p : `PyTorch ${p.version} (OpenBLAS), ${threads} threads; f32 matvec peer = torch.mv`}`);
console.log(`load average (1 min) before/after our cases: ${load0.toFixed(2)} / ${load1.toFixed(2)}\n`);
console.log('| case | unit | ours | peer | ours/peer |');
console.log('| --- | --- | ---: | ---: | ---: |');
for (const r of rows) {
  const pv = typeof p === 'string' || !r.peerKey ? undefined : p.results[r.peerKey];
  console.log(
    `| ${r.name} | ${r.unit} | ${fmt(r.ours)} | ${pv === undefined ? (typeof p === 'string' ? p : '–') : fmt(pv)} | ${pv ? `${((100 * r.ours) / pv).toFixed(0)}%` : '–'} |`,
  );
}
if (typeof p !== 'string') {
  const g1024 = rows.find((r) => r.name === 'f32 GEMM 1024³')!;
  console.log(`\naim GEMM 1024³ ≥ 50% of peer: ${((100 * g1024.ours) / p.results['gemm 1024']!).toFixed(0)}%`);
  for (const N of [4096, 11008]) {
    const bf = rows.find((r) => r.name === `bf16 mat-vec ${N}×4096`)!;
    console.log(
      `aim bf16 mat-vec ${N}×4096 ≥ 60% of peer f32 mat-vec GB/s: ${((100 * bf.ours) / p.results[`matvec ${N}x4096`]!).toFixed(0)}%`,
    );
  }
}
