/** `dsts sft`: supervised fine-tuning on chat or prompt/completion JSONL. A thin layer over src/posttrain/sft. */
import type { Command } from '../command.ts';
import { parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { RUN_FLAGS, RUN_FLAGS_USAGE, runOverrides, withInterrupts } from '../run-flags.ts';
import { ProgressReporter } from '../../train/progress.ts';
import { resolveCheckpoint } from '../../train/checkpoint.ts';
import { loadConfigFile } from '../../posttrain/run/config.ts';
import { resumeConfig } from '../../posttrain/run/setup.ts';
import { parseSftConfig, type SftConfig } from '../../posttrain/sft/config.ts';
import { sft } from '../../posttrain/sft/trainer.ts';

const usage = `usage: dsts sft --config <run.json> [options]
       dsts sft --resume <run folder | checkpoint folder> [options]

Fine-tunes a model on conversations ({"messages": [...]}) or prompt/completion pairs, one JSON
object per line, rendered with the model's chat template; only the assistant's tokens are trained,
and packed examples never attend to each other. Checkpoints (Hugging Face format) go to
<out>/checkpoint-<step>/, metrics to <out>/metrics.jsonl (dsts plot draws them). See docs/r1.md.

options:
${RUN_FLAGS_USAGE}`;

const command: Command = {
  summary: 'supervised fine-tuning on chat / prompt-completion JSONL (assistant tokens only)',
  usage,
  async run(args) {
    const { values } = parse(args, RUN_FLAGS);
    if (values.config === undefined && values.resume === undefined) throw new UserError('sft: give --config <run.json> or --resume <dir>');
    const o = runOverrides(values);
    let config: SftConfig;
    if (values.config !== undefined) {
      if (values.resume !== undefined && o.out === undefined) o.out = resolveCheckpoint(values.resume).runDir;
      config = loadConfigFile(values.config, o, parseSftConfig);
    } else config = resumeConfig(values.resume!, 'sft', o, parseSftConfig);
    const reporter = new ProgressReporter(process.stderr, config.log.interval);
    const result = await withInterrupts(reporter, (signal) =>
      sft({
        config,
        resume: values.resume,
        force: values.force === true,
        signal,
        log: (line) => reporter.message(line),
        progress: values.quiet === true ? undefined : (p) => reporter.update(p),
      }),
    );
    reporter.finish();
    if (result.interrupted) {
      reporter.message(`stopped at step ${result.step}/${config.steps}; continue with: dsts sft --resume ${result.runDir}`);
      return 130;
    }
    reporter.message(`done: ${result.step} steps; model → ${result.checkpoint}`);
    return 0;
  },
};

export default command;
