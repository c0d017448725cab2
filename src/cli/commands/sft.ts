/** `dsts sft`: supervised fine-tuning on chat or prompt/completion JSONL. A thin layer over src/posttrain/sft. */
import type { Command } from '../command.ts';
import { parse } from '../args.ts';
import { RUN_FLAGS, RUN_FLAGS_USAGE, runCommand } from '../run-flags.ts';
import { loadConfigFile } from '../../posttrain/run/config.ts';
import { resumeConfig } from '../../posttrain/run/setup.ts';
import { parseSftConfig, type SftConfig } from '../../posttrain/sft/config.ts';
import { sft, type SftResult } from '../../posttrain/sft/trainer.ts';

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
    return runCommand<SftConfig, SftResult>(
      {
        name: 'sft',
        load: (file, o) => loadConfigFile(file, o, parseSftConfig),
        resumed: (dir, o) => resumeConfig(dir, 'sft', o, parseSftConfig),
        schedule: (c) => ({ steps: c.steps, logInterval: c.log.interval }),
        start: (config, hooks, reporter) =>
          sft({ config, ...hooks, progress: values.quiet === true ? undefined : (p) => reporter.update(p) }),
      },
      values,
    );
  },
};

export default command;
