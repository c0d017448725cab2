/** `dsts grpo`: reinforcement learning with GRPO and rule-based rewards. A thin layer over src/posttrain/grpo. */
import type { Command } from '../command.ts';
import { parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { RUN_FLAGS, RUN_FLAGS_USAGE, runOverrides, withInterrupts } from '../run-flags.ts';
import { ProgressReporter } from '../../train/progress.ts';
import { resolveCheckpoint } from '../../train/checkpoint.ts';
import { loadConfigFile } from '../../posttrain/run/config.ts';
import { resumeConfig } from '../../posttrain/run/setup.ts';
import { parseGrpoConfig, type GrpoConfig } from '../../posttrain/grpo/config.ts';
import { grpo, type GrpoMetrics } from '../../posttrain/grpo/trainer.ts';

const usage = `usage: dsts grpo --config <run.json> [options]
       dsts grpo --resume <run folder | checkpoint folder> [options]

Trains a model with GRPO (DeepSeek-R1's reinforcement learning, TRL GRPOTrainer's options in the
config's "grpo" section): groups of sampled completions per prompt, scored by rule-based or user
reward functions, pushed toward the better ones. Per-step metrics (reward, accuracy, completion
length, KL, clipping, entropy, tokens/s) go to <out>/metrics.jsonl (dsts plot draws them), a
sample completion per step to <out>/samples.jsonl, checkpoints to <out>/checkpoint-<step>/.
See docs/r1.md.

options:
${RUN_FLAGS_USAGE}`;

const f = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

/** The per-step line: what a GRPO user watches. */
export function grpoLine(m: GrpoMetrics): string {
  const parts = [`step ${m.step}: reward ${f(m.reward)} ± ${f(m.rewardStd)}`];
  if (m.accuracy !== undefined) parts.push(`accuracy ${f(m.accuracy)}`);
  parts.push(
    `length ${m.completionLength.mean.toFixed(1)} (${m.completionLength.min}–${m.completionLength.max})`,
    `kl ${f(m.kl, 4)}`,
    `clip ${f(m.clip.region)}`,
    `entropy ${f(m.entropy)}`,
  );
  parts.push(`rollout ${Math.round(m.rolloutTokensPerSec)} tok/s, train ${Math.round(m.trainTokensPerSec)} tok/s`);
  return parts.join(', ');
}

const command: Command = {
  summary: 'reinforcement learning with GRPO and rule-based / user reward functions',
  usage,
  async run(args) {
    const { values } = parse(args, RUN_FLAGS);
    if (values.config === undefined && values.resume === undefined) throw new UserError('grpo: give --config <run.json> or --resume <dir>');
    const o = runOverrides(values);
    let config: GrpoConfig;
    if (values.config !== undefined) {
      if (values.resume !== undefined && o.out === undefined) o.out = resolveCheckpoint(values.resume).runDir;
      config = loadConfigFile(values.config, o, parseGrpoConfig);
    } else config = resumeConfig(values.resume!, 'grpo', o, parseGrpoConfig);
    const reporter = new ProgressReporter(process.stderr, config.log.interval);
    const result = await withInterrupts(reporter, (signal) =>
      grpo({
        config,
        resume: values.resume,
        force: values.force === true,
        signal,
        log: (line) => reporter.message(line),
        onStep:
          values.quiet === true
            ? undefined
            : (m) => {
                if (m.step % config.log.interval === 0 || m.step === config.steps) reporter.message(grpoLine(m));
              },
      }),
    );
    reporter.finish();
    if (result.interrupted) {
      reporter.message(`stopped at step ${result.step}/${config.steps}; continue with: dsts grpo --resume ${result.runDir}`);
      return 130;
    }
    reporter.message(`done: ${result.step} steps; model → ${result.checkpoint}`);
    return 0;
  },
};

export default command;
