/** `dsts eval`: held-out pass@1 and format rate of a reasoning model. A thin layer over src/posttrain/evaluate.ts. */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from '../command.ts';
import { numberFlag, parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { evaluate, type Estimate, type EvaluationGroup } from '../../posttrain/evaluate.ts';
import { PROMPT_TEMPLATES, type PromptTemplate } from '../../posttrain/data/prompts.ts';

const usage = `usage: dsts eval --model <dir> --data <questions.jsonl> [options]

Samples n completions of every question (JSONL lines with "prompt" or "messages", and "answer")
and reports pass@1 (the mean correctness of all completions, as the R1 report measures it), the
rate of completions in the R1-Zero layout (<think>…</think> <answer>…</answer>) and the mean
completion length, each with a 95% interval over questions.

options:
  --model <dir>           the model folder
  --data <file.jsonl>     the questions (repeatable)
  --template <t>          chat (the tokenizer's chat template; default), r1-zero or plain
  --system <text>         a system message (chat template)
  --n <count>             completions per question (default 8)
  --temperature <t>       sampling temperature (default 0.6)
  --top-p <p>             nucleus sampling (default 0.95)
  --top-k <k>             top-k sampling (default 0: off)
  --max-tokens <n>        completion limit (default 256)
  --batch-size <n>        questions decoded together (default 16)
  --seed <n>              sampling seed (default 0)
  --by <field>            also report the figures per value of this field of the questions
  --samples <k>           keep k completions in the report (default 0)
  --out <file.json>       write the report as JSON (refused if the file exists, unless --force)
  --force                 overwrite --out`;

const pct = (e: Estimate) => `${(100 * e.mean).toFixed(1)}% [${(100 * e.lo).toFixed(1)}, ${(100 * e.hi).toFixed(1)}]`;
const line = (name: string, g: EvaluationGroup) =>
  `${name.padEnd(10)} ${String(g.questions).padStart(9)}  ${pct(g.pass1).padEnd(22)} ${pct(g.format).padEnd(22)} ${g.length.toFixed(1)}`;

const command: Command = {
  summary: 'held-out evaluation: pass@1 and format rate of sampled completions, with 95% intervals',
  usage,
  async run(args) {
    const { values } = parse(args, {
      model: { type: 'string' },
      data: { type: 'string', multiple: true },
      template: { type: 'string' },
      system: { type: 'string' },
      n: { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      'top-k': { type: 'string' },
      'max-tokens': { type: 'string' },
      'batch-size': { type: 'string' },
      seed: { type: 'string' },
      by: { type: 'string' },
      samples: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean' },
    });
    if (values.model === undefined) throw new UserError('eval: give --model <dir>');
    if (!values.data || values.data.length === 0) throw new UserError('eval: give --data <questions.jsonl>');
    for (const f of values.data) if (!existsSync(f)) throw new UserError(`eval: no such file: ${f}`);
    const template = (values.template ?? 'chat') as PromptTemplate;
    if (!PROMPT_TEMPLATES.includes(template)) throw new UserError(`--template must be one of ${PROMPT_TEMPLATES.join(', ')}`);
    const int = (v: string | undefined, name: string, fallback: number, min: number) => {
      const n = numberFlag(v, name, fallback);
      if (!Number.isInteger(n) || n < min) throw new UserError(`--${name} must be an integer ≥ ${min}, got ${v}`);
      return n;
    };
    const temperature = numberFlag(values.temperature, 'temperature', 0.6);
    const topP = numberFlag(values['top-p'], 'top-p', 0.95);
    if (temperature < 0) throw new UserError('--temperature must be ≥ 0');
    if (!(topP > 0 && topP <= 1)) throw new UserError('--top-p must be in (0, 1]');
    const out = values.out === undefined ? undefined : resolve(values.out);
    if (out && existsSync(out) && !values.force) throw new UserError(`${out} exists: give --force to overwrite it`);
    const report = evaluate(
      {
        model: resolve(values.model),
        data: values.data.map((f) => resolve(f)),
        promptTemplate: template,
        system: values.system,
        n: int(values.n, 'n', 8, 1),
        temperature,
        topP,
        topK: int(values['top-k'], 'top-k', 0, 0),
        maxTokens: int(values['max-tokens'], 'max-tokens', 256, 1),
        batchSize: int(values['batch-size'], 'batch-size', 16, 1),
        seed: int(values.seed, 'seed', 0, 0),
        by: values.by,
        keepSamples: int(values.samples, 'samples', 0, 0),
      },
      (l) => console.error(l),
    );
    console.log(`${'group'.padEnd(10)} ${'questions'.padStart(9)}  ${'pass@1 [95% CI]'.padEnd(22)} ${'format [95% CI]'.padEnd(22)} length`);
    for (const [name, g] of Object.entries(report.groups)) console.log(line(name, g));
    console.log(line('all', report));
    if (out) writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
    return 0;
  },
};

export default command;
