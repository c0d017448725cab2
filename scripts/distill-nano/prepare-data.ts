/**
 * The data of the distillation comparison (scripts/distill-nano/reproduce.sh), from the corpus
 * deepseek-ts-nano was trained on (.tmp/nano/corpus.jsonl, scripts/nano/prepare-corpus.ts):
 *
 *   split     train.jsonl / heldout.jsonl: the teacher's own split (valFraction 0.01 by the hash of
 *             'corpus.jsonl' and the document number, src/train/data/split.ts), so no student is
 *             evaluated on text its teacher trained on, and every student on the same text
 *   prompts   prompts.jsonl: the title and author lines of `--n` training poems (seeded), the
 *             prompts the teacher writes poems for (sequence-level distillation, with dsts sample)
 *   text      turns dsts sample's {"prompt", "completion"} lines into {"text": prompt + completion}
 *
 * Usage: node --import tsx scripts/distill-nano/prepare-data.ts split  <corpus.jsonl> <out dir>
 *        node --import tsx scripts/distill-nano/prepare-data.ts prompts <train.jsonl> <prompts.jsonl> --n 4000 --seed 1
 *        node --import tsx scripts/distill-nano/prepare-data.ts text <samples.jsonl> <text.jsonl>
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DocumentSplit } from '../../src/train/data/split.ts';
import { permutation } from '../../src/train/data/hash.ts';

const [mode, input, output] = process.argv.slice(2);
const flag = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const rows = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const write = (path: string, items: unknown[]) => writeFileSync(path, items.map((r) => JSON.stringify(r)).join('\n') + '\n');

if (mode === 'split' && input && output) {
  const split = new DocumentSplit(0.01);
  const key = basename(input);
  const train: unknown[] = [];
  const held: unknown[] = [];
  rows(input).forEach((r, n) => (split.isValidation(key, n) ? held : train).push(r));
  mkdirSync(output, { recursive: true });
  write(join(output, 'train.jsonl'), train);
  write(join(output, 'heldout.jsonl'), held);
  console.error(`${train.length} training and ${held.length} held-out documents → ${output}`);
} else if (mode === 'prompts' && input && output) {
  const docs = rows(input).map((r) => String(r.text));
  const order = permutation(docs.length, flag('seed', 1));
  const n = Math.min(flag('n', 4000), docs.length);
  const prompts: unknown[] = [];
  for (let i = 0; i < docs.length && prompts.length < n; i++) {
    const lines = docs[order[i]!]!.split('\n');
    // A title and an author, then the poem: the teacher writes the poem.
    if (lines.length >= 3) prompts.push({ prompt: `${lines[0]}\n${lines[1]}\n` });
  }
  write(output, prompts);
  console.error(`${prompts.length} prompts → ${output}`);
} else if (mode === 'text' && input && output) {
  const out = rows(input).map((r) => ({ text: `${String(r.prompt)}${String(r.completion)}` }));
  write(output, out);
  console.error(`${out.length} teacher texts → ${output}`);
} else {
  console.error(
    'usage: prepare-data.ts split <corpus.jsonl> <out dir> | prompts <train.jsonl> <prompts.jsonl> [--n N --seed S] | text <samples.jsonl> <text.jsonl>',
  );
  process.exit(1);
}
