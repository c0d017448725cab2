/** `dsts plot`: draws a training run's metrics.jsonl as an SVG (loss, learning rate, expert load). */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from '../command.ts';
import { parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { readMetrics } from '../../train/metrics.ts';
import { plotMetrics } from '../../train/plot/metrics-plot.ts';
import { SVG_MARKER } from '../../train/plot/svg.ts';
import { grpoRecords, plotGrpo } from '../../posttrain/plot.ts';

const usage = `usage: dsts plot <metrics.jsonl | run folder> [--out <file.svg>] [--title <text>] [--force]

Draws the metrics of a training run as an SVG: training loss (total, cross-entropy, each MTP depth)
with the evaluation loss, the learning rate, the gradient norm, and each MoE layer's expert load
(busiest expert / mean). For a dsts grpo run: reward (total, each function), completion length,
KL, clip fractions, entropy, rollout and training tokens/s, and the loss.

options:
  --out <file.svg>  where to write (default: the metrics file's name with .svg); a file that
                    dsts plot did not write is only replaced with --force
  --title <text>    a title above the panels (default: the metrics file's path)
  --force           overwrite --out whatever it holds`;

const command: Command = {
  summary: "draw a training run's metrics (loss, lr, expert load) as an SVG",
  usage,
  async run(args) {
    const { values, positionals } = parse(args, { out: { type: 'string' }, title: { type: 'string' }, force: { type: 'boolean' } }, true);
    if (positionals.length !== 1) throw new UserError('plot: give one metrics.jsonl file or run folder');
    let path = positionals[0]!;
    if (!existsSync(path)) throw new UserError(`plot: no such file or folder: ${path}`);
    if (statSync(path).isDirectory()) path = join(path, 'metrics.jsonl');
    if (!existsSync(path)) throw new UserError(`plot: no metrics.jsonl in ${positionals[0]}`);
    const records = readMetrics(path);
    const grpo = grpoRecords(records);
    if (grpo.length === 0 && !records.some((r) => r.type === 'train')) throw new UserError(`plot: ${path} has no training steps yet`);
    const out = values.out ?? path.replace(/\.jsonl?$/, '') + '.svg';
    if (existsSync(out) && values.force !== true && !readFileSync(out, 'utf8').includes(SVG_MARKER)) {
      throw new UserError(`plot: ${out} exists and was not written by dsts plot (use --force to replace it)`);
    }
    // A GRPO run (dsts grpo) has its own panels: reward, length, KL, clipping, entropy, throughput.
    writeFileSync(out, grpo.length > 0 ? plotGrpo(grpo, values.title ?? path) : plotMetrics(records, values.title ?? path));
    console.log(out);
    return 0;
  },
};

export default command;
