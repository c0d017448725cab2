/** `dsts distill`: knowledge distillation of a teacher into a student. A thin layer over src/posttrain/distill. */
import type { Command } from '../command.ts';
import { parse } from '../args.ts';
import { RUN_FLAGS, RUN_FLAGS_USAGE, runCommand } from '../run-flags.ts';
import { loadDistillConfig, resumeDistillConfig, type DistillConfig } from '../../posttrain/distill/config.ts';
import { distill } from '../../posttrain/distill/trainer.ts';
import type { TrainResult } from '../../train/trainer.ts';

const usage = `usage: dsts distill --config <run.json> [options]
       dsts distill --resume <run folder | checkpoint folder> [options]

Trains a student on a teacher's soft labels (forward / reverse KL or generalised JSD at a
temperature, mixed with the hard-label loss by alpha), optionally matching hidden states through
learned projections and attention distributions head by head, and on the student's own samples
(on-policy, GKD's lambda); the teacher runs alongside, or its top-k log-probabilities are computed
once into a cache folder and training reads them from disk. The config is a pre-training run config
(the student's model, data, batches, optimizer, schedule) with a "distill" section; checkpoints
(Hugging Face format), metrics.jsonl (dsts plot) and --resume are pre-training's.

Soft labels need the teacher's vocabulary. Across tokenizers — and for R1-Distill's recipe —
distil at the sequence level: generate with the teacher (dsts sample), then fine-tune the student
on those generations (dsts sft). See docs/distillation.md.

options:
${RUN_FLAGS_USAGE}`;

const command: Command = {
  summary: 'knowledge distillation: soft labels (KL / JSD at a temperature), top-k teacher cache, hidden states, attention, on-policy',
  usage,
  async run(args) {
    const { values } = parse(args, RUN_FLAGS);
    return runCommand<DistillConfig, TrainResult>(
      {
        name: 'distill',
        load: (file, o) => loadDistillConfig(file, o),
        resumed: (dir, o) => resumeDistillConfig(dir, o),
        schedule: (c) => ({ steps: c.run.steps, logInterval: c.run.log.interval }),
        start: (config, hooks, reporter) =>
          distill({ config, ...hooks, progress: values.quiet === true ? undefined : (p) => reporter.update(p) }),
        product: 'student',
      },
      values,
    );
  },
};

export default command;
