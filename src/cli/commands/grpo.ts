/** `dsts grpo`: reinforcement learning with GRPO and rule-based rewards. A thin layer over src/posttrain/grpo. */
import type { Command } from '../command.ts';
import { parse } from '../args.ts';
import { RUN_FLAGS, RUN_FLAGS_USAGE, runCommand } from '../run-flags.ts';
import { loadConfigFile } from '../../posttrain/run/config.ts';
import { resumeConfig } from '../../posttrain/run/setup.ts';
import { parseGrpoConfig, type GrpoConfig } from '../../posttrain/grpo/config.ts';
import { grpo, type GrpoMetrics, type GrpoResult } from '../../posttrain/grpo/trainer.ts';

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
    return runCommand<GrpoConfig, GrpoResult>(
      {
        name: 'grpo',
        load: (file, o) => loadConfigFile(file, o, parseGrpoConfig),
        resumed: (dir, o) => resumeConfig(dir, 'grpo', o, parseGrpoConfig),
        schedule: (c) => ({ steps: c.steps, logInterval: c.log.interval }),
        start: (config, hooks, reporter) =>
          grpo({
            config,
            ...hooks,
            onStep:
              values.quiet === true
                ? undefined
                : (m) => {
                    if (m.step % config.log.interval === 0 || m.step === config.steps) reporter.message(grpoLine(m));
                  },
          }),
      },
      values,
    );
  },
};

export default command;
