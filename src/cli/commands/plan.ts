/** `dsts plan`: compute, cost, memory, communication and pipeline schedule of a training run on a cluster. */
import { existsSync, writeFileSync } from 'node:fs';
import type { Command } from '../command.ts';
import { numberFlag, parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { countParams } from '../../model/params.ts';
import { LAYOUT_USAGE, layoutFromFlags, layoutOptions, oneOf } from '../plan-flags.ts';
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
${LAYOUT_USAGE}

output:
  --json                 one JSON object
  --markdown <file.md>   also write a Markdown report
  --svg <file.svg>       also draw the simulated schedule
  --force                overwrite --markdown / --svg files`;

const command: Command = {
  summary: 'size a training run: FLOPs, GPU-hours and cost, memory per GPU, EP traffic, pipeline schedule',
  usage,
  async run(args) {
    const { values: v } = parse(args, {
      ...layoutOptions,
      tokens: { type: 'string' },
      attention: { type: 'string' },
      price: { type: 'string' },
      mfu: { type: 'string' },
      efficiency: { type: 'string' },
      'gpu-hours': { type: 'string' },
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
    const layout = layoutFromFlags(v, config, run);
    const { schedule, pp } = layout;
    const gpu = findGpu(gpuTable(v.gpus), v.gpu ?? 'h800');
    const plan = makePlan({
      config,
      layout,
      gpu,
      tokens: v.tokens !== undefined ? parseCount(v.tokens, 'tokens') : (run?.tokens ?? 20 * countParams(config).total),
      ...(v.tokens === undefined && run === undefined ? { tokensNote: '20 per parameter, Chinchilla; give --tokens' } : {}),
      price: numberFlag(v.price, 'price', 2),
      ...(v.mfu === undefined ? {} : { mfu: numberFlag(v.mfu, 'mfu', 0) }),
      efficiency: numberFlag(v.efficiency, 'efficiency', 0.5),
      ...(v['gpu-hours'] === undefined ? {} : { reportedGpuHours: parseCount(v['gpu-hours'], 'gpu-hours') }),
      attention: oneOf(v.attention, 'attention', ['causal', 'full'] as const, 'causal'),
    });
    if (v.svg !== undefined) {
      const title = `${schedule} · ${pp} stages × ${plan.microBatches} micro-batches · ${config.source}`;
      writeFileSync(v.svg, scheduleSvg(plan.pipeline.simulation, title, 960, ' s'));
    }
    if (v.markdown !== undefined) writeFileSync(v.markdown, planMarkdown(plan, v.svg));
    console.log(v.json === true ? JSON.stringify(planJson(plan)) : planTable(plan));
    return 0;
  },
};

export default command;
