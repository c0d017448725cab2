/** `dsts plan`: compute, cost, memory, communication and pipeline schedule of a training run on a cluster. */
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from '../command.ts';
import { numberFlag, parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { countParams } from '../../model/params.ts';
import {
  findGpu,
  gpuTable,
  makePlan,
  parseCount,
  planJson,
  planMarkdown,
  planTable,
  readRun,
  resolveModel,
  scheduleSvg,
  RECOMPUTE,
  SCHEDULES,
  type Layout,
} from '../../plan/index.ts';

const usage = `usage: dsts plan --model <name | config.json | folder> [options]

Sizes a training run: parameters, training FLOPs per token (matmuls, attention's quadratic term,
MLA, router, MTP), GPU-hours and cost, memory per GPU for a parallel layout, expert-parallel
all-to-all traffic against the compute hiding it, and the pipeline schedule simulated.

model and data:
  --model <m>            deepseek-v3-671b (built in), a config.json, or a model folder
  --run <train.json>     a training run config: its model (when --model is absent), seqLen,
                         batch, steps (→ tokens), precision and AdamW moments
  --tokens <n>           training tokens (14.8T, 300e9, …); default: from --run, else 20 per parameter
  --seq-len <n>          context length (default: --run's, else 4096 or the model's maximum)
  --attention <c>        causal (default: (L+1)/2 keys per query) or full (L keys)

hardware and cost:
  --gpu <name>           a100-pcie, a100-sxm, h800 (default), h100, h200, b200, or one from --gpus
  --gpus <file.json>     more GPUs: a JSON array of {name, bf16, fp8, memory, hbm, nvlink, network,
                         perNode} (FLOP/s, bytes, bytes/s per direction); a known name is replaced
  --price <usd>          $ per GPU-hour (default 2, the DeepSeek-V3 report's rental price)
  --mfu <x>              model-FLOPs utilisation in (0, 1]; default: derived from the simulated
                         step (--efficiency × the busy share of the busiest device)
  --efficiency <x>       share of peak the GEMMs reach while busy, for the derived MFU (default 0.5)
  --gpu-hours <n>        GPU-hours a run reported: also print the MFU they imply

layout:
  --pp, --tp, --dp, --ep <n>   pipeline, tensor, data, expert parallel sizes (default 1; ep divides tp·dp)
  --zero <0-3>           ZeRO stage over data parallelism (default 1)
  --micro-batch <n>      sequences per micro-batch (default 1)
  --global-batch <n>     sequences per step (default: --run's, else micro-batch × dp × 2·pp)
  --schedule <s>         1f1b, zb1p or dualpipe (default 1f1b)
  --recompute <r>        none, selective (default; DeepSeek-V3's) or full
  --precision <p>        bf16 or fp8 GEMMs (default: --run's, else bf16)
  --moments <d>          AdamW moments f32 or bf16 (default: --run's, else f32)

output:
  --json                 one JSON object
  --markdown <file.md>   also write a Markdown report
  --svg <file.svg>       also draw the simulated schedule
  --force                overwrite --markdown / --svg files`;

const int = (v: string | undefined, name: string, fallback: number) => {
  const n = numberFlag(v, name, fallback);
  if (!Number.isInteger(n)) throw new UserError(`--${name} expects an integer, got '${v}'`);
  return n;
};

function oneOf<T extends string>(v: string | undefined, name: string, allowed: readonly T[], fallback: T): T {
  if (v === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(v)) throw new UserError(`--${name} must be one of ${allowed.join(', ')}, got '${v}'`);
  return v as T;
}

const command: Command = {
  summary: 'size a training run: FLOPs, GPU-hours and cost, memory per GPU, EP traffic, pipeline schedule',
  usage,
  async run(args) {
    const { values: v } = parse(args, {
      model: { type: 'string' },
      run: { type: 'string' },
      tokens: { type: 'string' },
      'seq-len': { type: 'string' },
      attention: { type: 'string' },
      gpu: { type: 'string' },
      gpus: { type: 'string' },
      price: { type: 'string' },
      mfu: { type: 'string' },
      efficiency: { type: 'string' },
      'gpu-hours': { type: 'string' },
      pp: { type: 'string' },
      tp: { type: 'string' },
      dp: { type: 'string' },
      ep: { type: 'string' },
      zero: { type: 'string' },
      'micro-batch': { type: 'string' },
      'global-batch': { type: 'string' },
      schedule: { type: 'string' },
      recompute: { type: 'string' },
      precision: { type: 'string' },
      moments: { type: 'string' },
      json: { type: 'boolean' },
      markdown: { type: 'string' },
      svg: { type: 'string' },
      force: { type: 'boolean' },
    });
    if (v.model === undefined && v.run === undefined)
      throw new UserError('plan: --model <name | config.json | folder> (or --run <train.json>) is required');
    for (const f of [v.markdown, v.svg])
      if (f !== undefined && existsSync(f) && v.force !== true) throw new UserError(`${f} exists: give --force to overwrite it`);
    const run = v.run === undefined ? undefined : readRun(v.run);
    const config = v.model !== undefined ? resolveModel(v.model) : run!.model();
    const schedule = oneOf(v.schedule, 'schedule', SCHEDULES, '1f1b');
    const pp = int(v.pp, 'pp', 1);
    const dp = int(v.dp, 'dp', 1);
    const microBatch = int(v['micro-batch'], 'micro-batch', 1);
    const zero = int(v.zero, 'zero', 1);
    if (zero < 0 || zero > 3) throw new UserError(`--zero must be 0, 1, 2 or 3, got ${zero}`);
    const layout: Layout = {
      pp,
      tp: int(v.tp, 'tp', 1),
      dp,
      ep: int(v.ep, 'ep', 1),
      zero: zero as Layout['zero'],
      microBatch,
      globalBatch: int(v['global-batch'], 'global-batch', run?.globalBatch ?? microBatch * dp * 2 * pp),
      seqLen: int(v['seq-len'], 'seq-len', run?.seqLen ?? Math.min(4096, config.maxPositionEmbeddings)),
      schedule,
      recompute: oneOf(v.recompute, 'recompute', RECOMPUTE, 'selective'),
      compute: oneOf(v.precision, 'precision', ['bf16', 'fp8'] as const, run?.compute ?? 'bf16'),
      moments: oneOf(v.moments, 'moments', ['f32', 'bf16'] as const, run?.moments ?? 'f32'),
    };
    const gpu = findGpu(gpuTable(v.gpus), v.gpu ?? 'h800');
    const plan = makePlan({
      config,
      layout,
      gpu,
      tokens: v.tokens !== undefined ? parseCount(v.tokens, 'tokens') : (run?.tokens ?? 20 * countParams(config).total),
      price: numberFlag(v.price, 'price', 2),
      ...(v.mfu === undefined ? {} : { mfu: numberFlag(v.mfu, 'mfu', 0) }),
      efficiency: numberFlag(v.efficiency, 'efficiency', 0.5),
      ...(v['gpu-hours'] === undefined ? {} : { reportedGpuHours: parseCount(v['gpu-hours'], 'gpu-hours') }),
      attention: oneOf(v.attention, 'attention', ['causal', 'full'] as const, 'causal'),
    });
    if (v.svg !== undefined) {
      const title = `${schedule} · ${pp} stages × ${plan.microBatches} micro-batches · ${config.source}`;
      writeFileSync(v.svg, scheduleSvg(plan.pipeline.simulation, title));
    }
    if (v.markdown !== undefined) writeFileSync(v.markdown, planMarkdown(plan, v.svg));
    console.log(v.json === true ? JSON.stringify(planJson(plan)) : planTable(plan));
    return 0;
  },
};

export default command;
