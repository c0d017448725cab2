/**
 * Writes the data of deepseek-ts-nano-r1 into a folder (default .tmp/nano-r1/data):
 * corpus.jsonl (pre-training), rl.jsonl (RL questions) and test.jsonl (held-out questions), as
 * `{"prompt", "answer", "kind"}` lines that `dsts grpo` and `dsts sample` read.
 * Usage: node --import tsx scripts/nano-r1/make-data.ts [out-folder]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { corpus, questions } from './tasks.ts';

const out = process.argv[2] ?? '.tmp/nano-r1/data';
mkdirSync(out, { recursive: true });
const lines = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';
const docs = corpus(1, 40_000);
writeFileSync(join(out, 'corpus.jsonl'), lines(docs.map((text) => ({ text }))));
const rl = questions(2, 800, 'train');
const test = questions(3, 200, 'test');
writeFileSync(join(out, 'rl.jsonl'), lines(rl));
writeFileSync(join(out, 'test.jsonl'), lines(test));
console.log(`${out}: ${docs.length} corpus documents, ${rl.length} RL questions, ${test.length} held-out questions`);
