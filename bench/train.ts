/**
 * Training throughput: tokens/s of forward + backward + AdamW step on a randomly initialised
 * DeepSeek-V3 (default ../shared/configs/bench_nano.json, batch 8 × seq 256), next to the
 * PyTorch-eager peer measured in the same run (before and after ours), then a profile of one more step: where the time goes
 * by phase, by kernel, by backward op, and by source file and function (a V8 CPU profile).
 *
 *   npm run bench:train -- [--steps 3] [--warmup 1] [--batch 8] [--seq 256] [--config PATH]
 *                          [--precision f32|bf16|fp8] [--objective ce|full] [--peer-steps 5]
 *                          [--no-peer] [--no-profile]
 *
 * `--objective ce` (default) trains what the peer trains: next-token CE only. `full` adds MTP
 * (λ = 0.3) and the sequence-wise balance loss (α from the config).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Session } from 'node:inspector';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { relative } from 'node:path';
import * as T from '../src/tensor/index.ts';
import { getKernels, setKernels, initKernels, type Kernels } from '../src/kernels/index.ts';
import { loadConfig } from '../src/io/config.ts';
import { initWeights } from '../src/model/init.ts';
import { buildModel } from '../src/model/registry.ts';
import { countParams } from '../src/model/params.ts';
import { lmObjective, type ObjectiveConfig } from '../src/train/objective.ts';
import { withPrecision, PRECISIONS, type Precision } from '../src/train/precision.ts';
import { AdamW } from '../src/train/optim/adamw.ts';
import { trainableParams } from '../src/train/optim/params.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SHARED = fileURLToPath(new URL('../../shared/', import.meta.url));

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const has = (name: string) => process.argv.includes(`--${name}`);

const configPath = flag('config', `${SHARED}configs/bench_nano.json`);
const steps = Number(flag('steps', '3'));
const warmup = Number(flag('warmup', '1'));
const batch = Number(flag('batch', '8'));
const seq = Number(flag('seq', '256'));
const peerSteps = Number(flag('peer-steps', '5'));
const precision = flag('precision', 'f32') as Precision;
const objectiveKind = flag('objective', 'ce');
if (!PRECISIONS.includes(precision)) throw new Error(`--precision must be one of ${PRECISIONS.join(', ')}, got ${precision}`);
if (!['ce', 'full'].includes(objectiveKind)) throw new Error(`--objective must be ce or full, got ${objectiveKind}`);

await initKernels();
const kernels = getKernels();
const config = loadConfig(configPath);
const weights = initWeights(config, 1);
const model = buildModel(config, weights);
const params = trainableParams(weights);
// torch.optim.AdamW's defaults, as the peer uses them (decay on matrices only, the trainer's rule).
const optimizer = new AdamW(params, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 });
const objective: ObjectiveConfig =
  objectiveKind === 'full'
    ? { mtpWeight: 0.3, balanceAlpha: config.modelType === 'deepseek_v3' || config.modelType === 'deepseek_v2' ? config.auxLossAlpha : 0 }
    : { mtpWeight: 0, balanceAlpha: 0 };
const rng = new T.Rng(7);
const ids = T.Tensor.from(
  Array.from({ length: batch * (seq + 1) }, () => rng.int(config.vocabSize)),
  [batch, seq + 1],
  'i32',
);

interface StepTimes {
  forward: number;
  backward: number;
  optimizer: number;
  loss: number;
}

/** One training step, timed by phase; `beforeBackward` may instrument the graph. */
function step(beforeBackward?: (root: T.Tensor) => void): StepTimes {
  return withPrecision(precision, () => {
    const t0 = performance.now();
    const r = lmObjective(model, ids, objective);
    const t1 = performance.now();
    beforeBackward?.(r.total);
    const t1b = performance.now();
    T.backward(r.total);
    const t2 = performance.now();
    optimizer.step(1e-3);
    optimizer.zeroGrad();
    const t3 = performance.now();
    return { forward: t1 - t0, backward: t2 - t1b, optimizer: t3 - t2, loss: r.total.item() };
  });
}

const counts = countParams(config);
console.log(
  `config ${relative(process.cwd(), configPath)}: ${(counts.total / 1e6).toFixed(2)}M params (+${(counts.mtp / 1e6).toFixed(2)}M MTP), ` +
    `batch ${batch}×${seq}, precision ${precision}, objective ${objectiveKind}, kernels ${kernels.name}`,
);

/** The 1-minute load average against the core count: timings on a shared machine need this beside them. */
function load(): string {
  const l = loadavg()[0]!;
  const cores = availableParallelism();
  return `load average ${l.toFixed(1)} on ${cores} cores${l > cores + 0.5 ? ' (contended: other processes compete for the cores)' : ''}`;
}
console.log(load());

// ---------------------------------------------------------------- the peer, same machine, same run
function runPeer(): number | null {
  const script = `${SHARED}peers/torch_deepseek_v3.py`;
  if (!existsSync(script)) {
    console.log(`peer: n/a (${script} missing)`);
    return null;
  }
  const r = spawnSync(
    '/usr/bin/python3',
    [script, 'train', configPath, '--steps', String(peerSteps), '--batch', String(batch), '--seq', String(seq)],
    { encoding: 'utf8' },
  );
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const m = /torch-eager train: (\d+(?:\.\d+)?) tokens\/s/.exec(out);
  if (!m) {
    console.log(
      /No module named 'torch'/.test(out) || r.error
        ? 'peer: n/a (install python3-torch)'
        : `peer: failed (${out.trim().split('\n').pop()})`,
    );
    return null;
  }
  console.log(`peer ${out.trim().split('\n').pop()}`);
  return Number(m[1]);
}
// On a shared machine the load changes from minute to minute: the peer runs before and after ours,
// and the ratio is against the mean of the two.
const peerRuns: number[] = [];
let peerMissing = has('no-peer');
const measurePeer = () => {
  if (peerMissing) return;
  const r = runPeer();
  if (r === null) peerMissing = true;
  else peerRuns.push(r);
};
measurePeer();

for (let i = 0; i < warmup; i++) step();
const times: StepTimes[] = [];
for (let i = 0; i < steps; i++) times.push(step());
const avg = (k: keyof StepTimes) => times.reduce((s, t) => s + t[k], 0) / times.length;
const stepMs = avg('forward') + avg('backward') + avg('optimizer');
const ours = (batch * seq) / (stepMs / 1000);
const each = times.map((t) => (t.forward + t.backward + t.optimizer).toFixed(0)).join(', ');
console.log(
  `deepseek-ts train: ${ours.toFixed(0)} tokens/s (${stepMs.toFixed(0)} ms/step [${each}]: forward ${avg('forward').toFixed(0)}, ` +
    `backward ${avg('backward').toFixed(0)}, AdamW ${avg('optimizer').toFixed(0)}; loss ${times[times.length - 1]!.loss.toFixed(3)}; ` +
    `rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`,
);

measurePeer();
if (peerRuns.length > 0) {
  const peer = peerRuns.reduce((a, b) => a + b) / peerRuns.length;
  console.log(`ratio deepseek-ts / torch-eager: ${(ours / peer).toFixed(2)}× (against the peer's mean, ${peer.toFixed(0)} tokens/s)`);
  console.log(load());
}

// ---------------------------------------------------------------- profile of one more step
if (!has('no-profile')) profile();

function profile(): void {
  // Kernel time: every kernel call timed through a wrapping kernel set.
  const kernelMs = new Map<string, { ms: number; calls: number; flops: number }>();
  const timed = Object.fromEntries(
    Object.entries(kernels).map(([name, fn]) => [
      name,
      typeof fn !== 'function'
        ? fn
        : (...args: unknown[]) => {
            const t = performance.now();
            const r = (fn as (...a: unknown[]) => unknown).apply(kernels, args);
            const e = kernelMs.get(name) ?? { ms: 0, calls: 0, flops: 0 };
            e.ms += performance.now() - t;
            e.calls++;
            if (name === 'gemm') {
              const g = args[0] as { M: number; N: number; K: number };
              e.flops += 2 * g.M * g.N * g.K;
            }
            kernelMs.set(name, e);
            return r;
          },
    ]),
  ) as unknown as Kernels;
  // Backward time by op: each recorded op's backward closure timed (inclusive of its kernels).
  const backwardMs = new Map<string, { ms: number; calls: number }>();
  const instrument = (root: T.Tensor) => {
    const seen = new Set<T.Tensor>();
    const stack = [root];
    while (stack.length) {
      const t = stack.pop()!;
      if (seen.has(t) || !t.gradFn) continue;
      seen.add(t);
      const fn = t.gradFn;
      const inner = fn.backward;
      fn.backward = (g) => {
        const t0 = performance.now();
        const r = inner(g);
        const e = backwardMs.get(fn.op) ?? { ms: 0, calls: 0 };
        e.ms += performance.now() - t0;
        e.calls++;
        backwardMs.set(fn.op, e);
        return r;
      };
      stack.push(...fn.inputs);
    }
  };

  const session = new Session();
  session.connect();
  const post = <R>(method: string, params?: object) =>
    new Promise<R>((resolve, reject) => session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res as R))));
  // The inspector's callbacks run synchronously for these methods; still, keep the order explicit.
  let cpu: CpuProfile | undefined;
  void post('Profiler.enable');
  void post('Profiler.setSamplingInterval', { interval: 500 });
  void post('Profiler.start');
  setKernels(timed);
  let t: StepTimes;
  try {
    t = step(instrument);
  } finally {
    setKernels(kernels);
  }
  void post<{ profile: CpuProfile }>('Profiler.stop').then((r) => {
    cpu = r.profile;
    report(t, kernelMs, backwardMs, cpu);
    session.disconnect();
  });
}

/** Source files grouped by the kind of work they do, for the profile summary (first match wins). */
const CATEGORIES: [string, RegExp][] = [
  ['kernels: WASM code + its runtime (copies in/out, thread dispatch)', /^wasm:|^src\/kernels\//],
  ['garbage collection', /garbage collector/],
  [
    'pointwise JS loops (elementwise, SwiGLU/RMSNorm/RoPE/CE backward)',
    /src\/tensor\/ops\/(elementwise|activation|norm|rope|loss|softmax|reduce)\.ts/,
  ],
  ['layout: allocation, strided copies, views, casts', /src\/tensor\/(dtype|tensor|shape)\.ts|src\/tensor\/ops\/(view|strided|cast)\.ts/],
  ['MoE dispatch: gather/scatter of tokens, routing', /src\/tensor\/ops\/indexing\.ts|src\/model\/moe\.ts/],
  ['matmul op glue', /src\/tensor\/ops\/(matmul|attention)\.ts/],
  ['autograd tape', /src\/tensor\/autograd\.ts/],
  ['FP8 quantisation + promotion', /src\/train\/fp8/],
  ['optimizer (AdamW)', /src\/train\/optim/],
  ['model code', /src\/model\//],
  ['profiling instrumentation', /bench\/train\.ts/],
];

interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function table(title: string, rows: [string, number, string?][], total: number, top = 14): void {
  console.log(`\n${title}`);
  rows.sort((a, b) => b[1] - a[1]);
  for (const [name, ms, extra] of rows.slice(0, top)) {
    console.log(`  ${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${name}${extra ? `  ${extra}` : ''}`);
  }
}

function report(
  t: StepTimes,
  kernelMs: Map<string, { ms: number; calls: number; flops: number }>,
  backwardMs: Map<string, { ms: number; calls: number }>,
  cpu: CpuProfile,
): void {
  const total = t.forward + t.backward + t.optimizer;
  console.log(
    `\nprofile of one step (${total.toFixed(0)} ms with instrumentation): forward ${t.forward.toFixed(0)}, backward ${t.backward.toFixed(0)}, AdamW ${t.optimizer.toFixed(0)}`,
  );
  const kTotal = [...kernelMs.values()].reduce((s, e) => s + e.ms, 0);
  table(
    `kernels (${kTotal.toFixed(0)} ms, ${((100 * kTotal) / total).toFixed(0)}% of the step):`,
    [...kernelMs].map(([n, e]) => [
      n,
      e.ms,
      `${e.calls} calls${e.flops ? `, ${(e.flops / 1e9).toFixed(1)} GFLOP at ${(e.flops / 1e6 / e.ms).toFixed(1)} GFLOP/s` : ''}`,
    ]),
    total,
  );
  table(
    'backward by op (inclusive of the kernels it calls):',
    [...backwardMs].map(([n, e]) => [n, e.ms, `${e.calls} calls`]),
    total,
  );

  // Self time per function from the sampled profile, grouped by source file.
  const byId = new Map(cpu.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  cpu.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (cpu.timeDeltas[i] ?? 0) / 1000));
  const byFile = new Map<string, number>();
  const byFn = new Map<string, number>();
  for (const [id, ms] of self) {
    const f = byId.get(id)!.callFrame;
    let file = f.url.startsWith('file://') ? relative(ROOT, fileURLToPath(f.url)) : f.url || `(${f.functionName || 'native'})`;
    if (file.startsWith('node_modules')) file = 'node_modules';
    byFile.set(file, (byFile.get(file) ?? 0) + ms);
    const fn = `${f.functionName || '(anonymous)'}  ${file}`;
    byFn.set(fn, (byFn.get(fn) ?? 0) + ms);
  }
  const sampled = [...self.values()].reduce((a, b) => a + b, 0);
  const byCategory = new Map<string, number>();
  for (const [file, ms] of byFile) {
    const cat = CATEGORIES.find(([, re]) => re.test(file))?.[0] ?? 'other';
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + ms);
  }
  table(
    `self time by kind of work (CPU profile, ${sampled.toFixed(0)} ms sampled):`,
    [...byCategory].map(([n, ms]) => [n, ms]),
    sampled,
    16,
  );
  table(
    'self time by file:',
    [...byFile].map(([n, ms]) => [n, ms]),
    sampled,
    16,
  );
  table(
    'self time by function:',
    [...byFn].map(([n, ms]) => [n, ms]),
    sampled,
    20,
  );

  // Who calls the generic helpers (allocation, copies, elementwise loops): self time by caller.
  const parent = new Map<number, number>();
  for (const n of cpu.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (id: number | undefined) => {
    const f = id === undefined ? undefined : byId.get(id)?.callFrame;
    if (!f) return '(root)';
    const file = f.url.startsWith('file://') ? relative(ROOT, fileURLToPath(f.url)) : f.url;
    return `${f.functionName || '(anonymous)'}  ${file}`;
  };
  const hot = [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([n]) => n);
  for (const fnName of hot) {
    if (fnName.includes('garbage') || fnName.includes('wasm://')) continue;
    const callers = new Map<string, number>();
    for (const [id, ms] of self) {
      if (label(id) !== fnName) continue;
      // Skip anonymous closures and thin wrappers to name the op that asked for the work.
      let p = parent.get(id);
      let hops = 0;
      while (
        p !== undefined &&
        hops < 3 &&
        /^\(anonymous\)|^(allocFloat|allocate|zipWith|map|arith|floatData|rowMajor|record|fn\.backward) /.test(label(p))
      ) {
        p = parent.get(p);
        hops++;
      }
      const key = `${label(parent.get(id))}  ←  ${label(p)}`;
      callers.set(key, (callers.get(key) ?? 0) + ms);
    }
    table(
      `callers of ${fnName}:`,
      [...callers].map(([n, ms]) => [n, ms]),
      sampled,
      6,
    );
  }
}
