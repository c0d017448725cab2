/**
 * Where a model's arithmetic is reachable: greedy answers to questions asked in several contexts.
 * R1-Zero can only bring into its template what the base can already reach from there; this shows
 * how much that is, beside what the base knows when asked the ways its corpus asks.
 *
 * - `facts`: every digit fact, `a+b=` / `a-b=` after two example facts (the corpus's fact lines);
 * - `list`: `Compute 4+3-5:` (a corpus exercise list);
 * - `qa`: `Q: Compute 4+3-5 A:` (corpus questions and answers);
 * - `template`: the R1-Zero template with `<think>` opened, the first number written counts (the
 *   most lenient reading: any number the model reaches for first).
 *
 * usage: node --import tsx scripts/nano-r1/probe-knowledge.ts <model dir> <questions.jsonl> [n]
 */
import { readFileSync } from 'node:fs';
import { loadModel, loadTokenizer, Tensor, noGrad, floatData, type Tokenizer, type CausalLM } from '../../src/index.ts';
import { R1_ZERO_TEMPLATE } from '../../src/posttrain/index.ts';

const [dir, file, limit] = process.argv.slice(2);
if (!dir || !file) {
  console.error('usage: node --import tsx scripts/nano-r1/probe-knowledge.ts <model dir> <questions.jsonl> [n]');
  process.exit(1);
}
const { model } = loadModel(dir);
const tok = loadTokenizer(dir);

/** Greedy continuation of `text`, up to a newline, `</think>`, the end of a document or 24 tokens. */
function greedy(m: CausalLM, t: Tokenizer, text: string): string {
  const ids = t.encode(text);
  const out: number[] = [];
  for (let i = 0; i < 24; i++) {
    const logits = noGrad(() => m.forward(Tensor.from(ids, [1, ids.length], 'i32'), { logits: 'last' }).logits!);
    const row = floatData(logits);
    let best = 0;
    for (let j = 1; j < m.vocabSize; j++) if (row[j]! > row[best]!) best = j;
    out.push(best);
    ids.push(best);
    const s = t.decode(out);
    if (s.includes('\n') || s.includes('</think>') || s.includes('<｜end▁of▁sentence｜>')) break;
  }
  return t.decode(out);
}

const firstNumber = (s: string) => (s.match(/-?\d+/) ?? [null])[0];

let facts = 0;
let factCount = 0;
for (let a = 0; a <= 9; a++) {
  for (let b = 0; b <= 9; b++) {
    for (const op of ['+', '-']) {
      const c = op === '+' ? a + b : a - b;
      if (c < 0) continue;
      factCount++;
      if (Number(firstNumber(greedy(model, tok, `2+3=5\n8-1=7\n${a}${op}${b}=`))) === c) facts++;
    }
  }
}
console.log(`facts     ${facts}/${factCount}`);

const questions = readFileSync(file, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { prompt: string; answer: number })
  .slice(0, limit ? Number(limit) : undefined);
const contexts: Record<string, (q: string) => string> = {
  list: (q) => `${q}:`,
  qa: (q) => `Q: ${q} A:`,
  template: (q) => `${R1_ZERO_TEMPLATE.replace('{prompt}', q)} <think>`,
};
for (const [name, render] of Object.entries(contexts)) {
  let right = 0;
  let example = '';
  for (const q of questions) {
    const s = greedy(model, tok, render(q.prompt));
    if (Number(firstNumber(s)) === q.answer) right++;
    if (!example) example = `${q.prompt} → ${JSON.stringify(s)}`;
  }
  console.log(`${name.padEnd(9)} ${right}/${questions.length}  (${((100 * right) / questions.length).toFixed(1)}%)  e.g. ${example}`);
}
