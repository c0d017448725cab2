/**
 * Decode benchmark at the shapes users run. Each case is a random-weight checkpoint written as a real
 * folder (config.json + safetensors) and loaded through the real loader in a child process
 * (bench/lib/decode-case.ts), which reports load time, peak memory, prefill tokens/s on a P-token
 * prompt and greedy decode tokens/s at batch 1. Beside it, in the same run:
 * - `cat`: reading the checkpoint's files on a warm page cache (what "loading at disk speed" means);
 * - the machine's read bandwidth (all threads streaming a 512 MiB array) and the roofline it gives:
 *   bandwidth ÷ the weight bytes one token must read;
 * - llama.cpp (the prebuilt v0.4.0 libraries of ../shared/peers/llamacpp, its `native_bench`) on a
 *   GGUF conversion of the same shape and bit width, when `$LLAMACPP_HOME` has it
 *   (bench/peer/make-gguf.sh makes them); "peer not installed" otherwise.
 *
 * usage: npm run bench:decode [-- --cases small,1.5b-bf16,1.5b-q8,v2lite-q8,v2lite-q4 --prompt 512
 *        --tokens 32 --dir /tmp/dsts-bench --json --no-peer]
 * Checkpoints are written once under --dir (DSTS_BENCH_DIR) and reused: the V2-Lite ones take 17 and
 * 9 GB of disk.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadNativeAddon } from '../src/kernels/native/addon.ts';
import { writeRandomCheckpoint, type BenchScheme } from './lib/random-checkpoint.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = join(root, '../shared');
const { values: flags } = parseArgs({
  options: {
    cases: { type: 'string', default: 'small,1.5b-bf16,1.5b-q8,v2lite-q8,v2lite-q4' },
    prompt: { type: 'string', default: '512' },
    tokens: { type: 'string', default: '32' },
    dir: { type: 'string', default: process.env.DSTS_BENCH_DIR ?? '/tmp/dsts-bench' },
    json: { type: 'boolean', default: false },
    'no-peer': { type: 'boolean', default: false },
  },
});
const LLAMA = process.env.LLAMACPP_HOME ?? '/tmp/llamacpp';
const tokenizer = join(root, 'models/deepseek-ts-nano');

interface Case {
  id: string;
  label: string;
  config: string;
  /** Checkpoint folder under --dir and the form it is written in. */
  dir: string;
  stored: BenchScheme;
  /** --quantize at load. */
  quantize?: 'q8' | 'q4';
  /** GGUF under $LLAMACPP_HOME/models for the peer. */
  gguf: string;
}

const CASES: Case[] = [
  {
    id: 'small',
    label: 'bench_small (V3 MoE, 117M) bf16',
    config: join(shared, 'configs/bench_small.json'),
    dir: 'bench_small-bf16',
    stored: 'bf16',
    gguf: 'bench_small/bench_small-bf16.gguf',
  },
  {
    id: '1.5b-bf16',
    label: 'R1-Distill-Qwen-1.5B shape, bf16',
    config: join(root, 'bench/configs/r1-distill-qwen-1.5b.json'),
    dir: 'qwen1.5b-bf16',
    stored: 'bf16',
    gguf: 'qwen1.5b/qwen1.5b-bf16.gguf',
  },
  {
    id: '1.5b-q8',
    label: 'R1-Distill-Qwen-1.5B shape, q8 at load',
    config: join(root, 'bench/configs/r1-distill-qwen-1.5b.json'),
    dir: 'qwen1.5b-bf16',
    stored: 'bf16',
    quantize: 'q8',
    gguf: 'qwen1.5b/qwen1.5b-q8_0.gguf',
  },
  {
    id: 'v2lite-q8',
    label: 'DeepSeek-V2-Lite shape (15.7B MoE), q8',
    config: join(shared, 'configs/bench_v2lite.json'),
    dir: 'v2lite-q8',
    stored: 'q8',
    gguf: 'v2lite/v2lite-q8_0.gguf',
  },
  {
    id: 'v2lite-q4',
    label: 'DeepSeek-V2-Lite shape (15.7B MoE), q4',
    config: join(shared, 'configs/bench_v2lite.json'),
    dir: 'v2lite-q4',
    stored: 'q4',
    gguf: 'v2lite/v2lite-q4_0.gguf',
  },
];

/** Best-of-5 read bandwidth of all threads streaming a 512 MiB array (bytes/s), and memcpy's (read + write). */
function bandwidth(): { read: number; copy: number } {
  const n = 128 << 20;
  const a = new Float32Array(n).fill(1);
  const b = new Float32Array(n);
  b.set(a);
  let read = 0;
  let copy = 0;
  const native = loadNativeAddon();
  for (let r = 0; r < 5; r++) {
    if (native) {
      const t = performance.now();
      native.streamSum(a);
      read = Math.max(read, (n * 4) / ((performance.now() - t) / 1000));
    }
    const t = performance.now();
    b.set(a);
    copy = Math.max(copy, (2 * n * 4) / ((performance.now() - t) / 1000));
  }
  return { read, copy };
}

/** Seconds to read every file of `dir` into a scratch buffer (after one warming read): `cat` to /dev/null. */
function catSeconds(dir: string): number {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors'))
    .map((f) => join(dir, f));
  const buf = Buffer.allocUnsafe(16 << 20);
  const once = () => {
    const t = performance.now();
    for (const f of files) {
      const fd = openSync(f, 'r');
      while (readSync(fd, buf, 0, buf.length, null) > 0) {
        // reading
      }
      closeSync(fd);
    }
    return (performance.now() - t) / 1000;
  };
  once();
  return once();
}

function filesBytes(dir: string): number {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.safetensors'))
    .reduce((s, f) => s + statSync(join(dir, f)).size, 0);
}

/** The checkpoint folder of a case: the peer setup's bench_small checkpoint when present (the same weights both sides), else ours. */
function checkpointFor(c: Case): string {
  if (c.id === 'small' && existsSync(join(LLAMA, 'models/bench_small-hf/model.safetensors'))) return join(LLAMA, 'models/bench_small-hf');
  const dir = join(flags.dir!, c.dir);
  if (!existsSync(join(dir, '.complete'))) {
    console.error(`writing ${c.stored} checkpoint ${dir} …`);
    writeRandomCheckpoint(c.config, dir, c.stored, tokenizer);
  }
  return dir;
}

interface Ours {
  kernels: string;
  loadS: number;
  peakRssBytes: number;
  weightBytes: number;
  bytesPerToken: number;
  prefillTokS: number;
  decodeTokS: number;
}

function runOurs(dir: string, c: Case): Ours | { error: string } {
  const args = [
    '--import',
    'tsx',
    join(root, 'bench/lib/decode-case.ts'),
    '--model',
    dir,
    '--prompt',
    flags.prompt!,
    '--tokens',
    flags.tokens!,
  ];
  if (c.quantize) args.push('--quantize', c.quantize);
  const r = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return { error: (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`).slice(0, 300) };
  return JSON.parse(line) as Ours;
}

function runPeer(c: Case): { prefillTokS: number; decodeTokS: number } | string {
  const bin = join(LLAMA, 'native_bench');
  const gguf = join(LLAMA, 'models', c.gguf);
  if (flags['no-peer']) return 'not run (--no-peer)';
  if (!existsSync(bin)) return 'peer not installed (bash ../shared/peers/llamacpp/setup.sh)';
  if (!existsSync(gguf)) return `no ${c.gguf} (bench/peer/make-gguf.sh)`;
  // 2 runs: native_bench drops the first as warm-up.
  // LLAMA_BINS: the folder of the CPU-variant backends the prebuilt libraries load at run time.
  const env = { ...process.env, LLAMA_BINS: join(LLAMA, 'node_modules/@node-llama-cpp/linux-x64/bins/linux-x64') };
  const r = spawnSync(bin, [gguf, flags.prompt!, flags.tokens!, String(cpus().length), '2'], { encoding: 'utf8', maxBuffer: 1 << 24, env });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !line.startsWith('{')) return `llama.cpp failed: ${r.stderr.trim().split('\n').pop()}`;
  const j = JSON.parse(line) as { prefill_tok_s: number; decode_tok_s: number };
  return { prefillTokS: j.prefill_tok_s, decodeTokS: j.decode_tok_s };
}

const GB = 1e9;
const bw = bandwidth();
const rows: Record<string, unknown>[] = [];
const selected = flags.cases!.split(',').map((s) => s.trim());
for (const id of selected) {
  const c = CASES.find((x) => x.id === id);
  if (!c) throw new Error(`unknown case '${id}' (cases: ${CASES.map((x) => x.id).join(', ')})`);
  const dir = checkpointFor(c);
  const cat = catSeconds(dir);
  const load0 = loadavg()[0]!;
  const ours = runOurs(dir, c);
  const peer = runPeer(c);
  const row: Record<string, unknown> = { case: c.id, label: c.label, fileBytes: filesBytes(dir), catS: cat, loadavg: load0, ours, peer };
  if (!('error' in ours)) row.rooflineTokS = bw.read / ours.bytesPerToken;
  rows.push(row);
  if (!flags.json) console.error(`${c.id}: ${JSON.stringify(row)}`);
}

if (flags.json) {
  console.log(JSON.stringify({ bandwidth: bw, threads: cpus().length, totalmem: totalmem(), rows }, null, 2));
} else {
  const f1 = (x: number) => x.toFixed(1);
  console.log(
    `read bandwidth ${f1(bw.read / GB)} GB/s (all threads), memcpy ${f1(bw.copy / GB)} GB/s (read + write); ${cpus().length} threads; ${f1(totalmem() / 2 ** 30)} GiB`,
  );
  console.log(`prompt ${flags.prompt} tokens, ${flags.tokens} decoded tokens, batch 1\n`);
  console.log(
    '| case | load s (cat s) | peak RSS GB (weights GB) | GB read/token | decode tok/s | roofline tok/s | % roofline | llama.cpp decode | prefill tok/s | llama.cpp prefill |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const o = r.ours as Ours | { error: string };
    const p = r.peer as { prefillTokS: number; decodeTokS: number } | string;
    if ('error' in o) {
      console.log(`| ${r.label} | ${o.error} | | | | | | | | |`);
      continue;
    }
    const roof = r.rooflineTokS as number;
    const peerDecode = typeof p === 'string' ? p : f1(p.decodeTokS);
    const peerPrefill = typeof p === 'string' ? '' : f1(p.prefillTokS);
    console.log(
      `| ${r.label} | ${f1(o.loadS)} (${f1(r.catS as number)}) | ${f1(o.peakRssBytes / GB)} (${f1(o.weightBytes / GB)}) | ${(o.bytesPerToken / GB).toFixed(2)} | ${f1(o.decodeTokS)} | ${f1(roof)} | ${Math.round((100 * o.decodeTokS) / roof)}% | ${peerDecode} | ${f1(o.prefillTokS)} | ${peerPrefill} |`,
    );
  }
}
