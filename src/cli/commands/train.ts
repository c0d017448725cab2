/** `dsts train`: pre-train a model from a run config (or resume a run). A thin layer over src/train. */
import type { Command } from '../command.ts';
import { numberFlag, parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { runOverrides, withInterrupts } from '../run-flags.ts';
import { loadRunConfig, type RunConfig } from '../../train/config/run-config.ts';
import { resolveCheckpoint } from '../../train/checkpoint.ts';
import { resumeRunConfig, train } from '../../train/trainer.ts';
import { ProgressReporter } from '../../train/progress.ts';

const usage = `usage: dsts train --config <run.json> [options]
       dsts train --resume <run folder | checkpoint folder> [options]

Pre-trains a model (DeepSeek-V3: next-token + MTP + balance losses, aux-loss-free routing bias)
as the run config says; see docs/training.md for its format. Progress goes to stderr, metrics to
<out>/metrics.jsonl, checkpoints (Hugging Face format + trainer state) to <out>/checkpoint-<step>/.
Ctrl-C finishes the current step, saves a checkpoint and exits (press again to quit at once).

options:
  --config <run.json>        the run config
  --resume <dir>             continue a run (its latest checkpoint) or a given checkpoint; without
                             --config the run's saved config is used
  --out <dir>                output folder (overrides "out"; refused if it holds another run)
  --force                    start over in an output folder that already holds a run
  --steps <n>                total optimizer steps (overrides "steps"; extend a resumed run)
  --seed <n>                 seed of initialisation and data order
  --lr <x>                   peak learning rate (optimizer.lr)
  --batch-size <n>           sequences per micro-batch
  --grad-accum <n>           micro-batches per step
  --seq-len <n>              tokens per sequence
  --precision <f32|bf16|fp8> operands of the block linears' GEMMs (bf16, FP8) or plain f32
  --eval-interval <n>        evaluate every n steps (0: never)
  --checkpoint-interval <n>  checkpoint every n steps (0: only at the end)
  --log-interval <n>         progress line every n steps when stderr is not a terminal
  --set <key=value>          any other config key by dotted path, value as JSON (repeatable),
                             e.g. --set schedule.kind=\\"wsd\\" --set biasUpdate.enabled=false
  --quiet                    no progress display`;

/** Dotted key → value from the command line's flags (undefined where a flag was not given). */
/** The run flags shared with sft/grpo, plus pre-training's own; `--set` entries (last) win. */
function overrides(v: Record<string, string | boolean | string[] | undefined>): Record<string, unknown> {
  const num = (name: string) => (v[name] === undefined ? undefined : numberFlag(v[name] as string, name, 0));
  return {
    batchSize: num('batch-size'),
    gradAccum: num('grad-accum'),
    seqLen: num('seq-len'),
    precision: v.precision,
    'eval.interval': num('eval-interval'),
    ...runOverrides(v),
  };
}

const command: Command = {
  summary: 'pre-train a model from a run config (or --resume a run)',
  usage,
  async run(args) {
    const { values } = parse(args, {
      config: { type: 'string' },
      resume: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
      steps: { type: 'string' },
      seed: { type: 'string' },
      lr: { type: 'string' },
      'batch-size': { type: 'string' },
      'grad-accum': { type: 'string' },
      'seq-len': { type: 'string' },
      precision: { type: 'string' },
      'eval-interval': { type: 'string' },
      'checkpoint-interval': { type: 'string' },
      'log-interval': { type: 'string' },
      set: { type: 'string', multiple: true },
      quiet: { type: 'boolean' },
    });
    if (values.config === undefined && values.resume === undefined)
      throw new UserError('train: give --config <run.json> or --resume <dir>');
    const o = overrides(values);
    let config: RunConfig;
    if (values.config !== undefined) {
      // Resuming with a config file: keep writing into the run being resumed unless --out says otherwise.
      if (values.resume !== undefined && o.out === undefined) o.out = resolveCheckpoint(values.resume).runDir;
      config = loadRunConfig(values.config, o);
    } else {
      config = resumeRunConfig(values.resume!, o);
    }

    const reporter = new ProgressReporter(process.stderr, config.log.interval);
    return withInterrupts(reporter, async (signal) => {
      const result = await train({
        config,
        resume: values.resume,
        force: values.force === true,
        signal,
        log: (line) => reporter.message(line),
        progress: values.quiet === true ? undefined : (p) => reporter.update(p),
      });
      reporter.finish();
      if (result.interrupted) {
        reporter.message(
          result.checkpoint !== null || values.resume !== undefined
            ? `stopped at step ${result.step}/${config.steps}; continue with: dsts train --resume ${result.runDir}`
            : `stopped before training a step; nothing to resume (start again, with --force, into ${result.runDir})`,
        );
        return 130;
      }
      reporter.message(`done: ${result.step} steps; model → ${result.checkpoint}`);
      return 0;
    });
  },
};

export default command;
