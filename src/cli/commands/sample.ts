/** `dsts sample`: rejection sampling into SFT data. A thin layer over src/posttrain/sample. */
import { resolve } from 'node:path';
import type { Command } from '../command.ts';
import { numberFlag, parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { runOverrides } from '../run-flags.ts';
import { loadConfigFile } from '../../posttrain/run/config.ts';
import { parseSampleConfig } from '../../posttrain/sample/config.ts';
import { rejectionSample } from '../../posttrain/sample/reject.ts';

const usage = `usage: dsts sample --config <sample.json> [options]

Rejection sampling (DeepSeek-R1's stage 3): n completions of every prompt of a JSONL dataset,
scored by the same reward functions as dsts grpo; the accepted ones (weighted reward ≥ minReward)
are written as JSONL that dsts sft reads. See docs/r1.md for the config.

options:
  --config <sample.json>  the sample config
  --model <dir>           the model folder (overrides "model")
  --out <file.jsonl>      where to write the accepted completions (overrides "out")
  --n <count>             completions per prompt
  --min-reward <x>        acceptance threshold on the weighted reward
  --seed <n>              seed of the sampling
  --set <key=value>       any config key by dotted path, value as JSON (repeatable)`;

const command: Command = {
  summary: 'rejection sampling: N completions per prompt, the rewarded ones kept as SFT JSONL',
  usage,
  async run(args) {
    const { values } = parse(args, {
      config: { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string' },
      n: { type: 'string' },
      'min-reward': { type: 'string' },
      seed: { type: 'string' },
      set: { type: 'string', multiple: true },
    });
    if (values.config === undefined) throw new UserError('sample: give --config <sample.json>');
    const o = runOverrides({ set: values.set });
    o.model = values.model === undefined ? undefined : resolve(values.model);
    o.out = values.out === undefined ? undefined : resolve(values.out);
    o.n = values.n === undefined ? undefined : numberFlag(values.n, 'n', 0);
    o.minReward = values['min-reward'] === undefined ? undefined : numberFlag(values['min-reward'], 'min-reward', 0);
    o.seed = values.seed === undefined ? undefined : numberFlag(values.seed, 'seed', 0);
    const config = loadConfigFile(values.config, o, parseSampleConfig);
    const r = await rejectionSample(config, (line) => console.error(line));
    console.error(
      `accepted ${r.accepted} of ${r.completions} completions (${r.promptsAccepted} of ${r.prompts} prompts), mean reward ${r.meanReward.toFixed(3)}; ` +
        `${r.written} written → ${config.out}`,
    );
    return 0;
  },
};

export default command;
