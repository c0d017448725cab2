/**
 * Where a model's arithmetic is reachable: greedy answers to questions asked in several contexts.
 * R1-Zero can only bring into its template what the base can already reach from there; this shows
 * how much that is, beside what the base knows when asked the ways its corpus asks.
 *
 * - `facts`: every digit fact, `a+b=` / `a-b=` after two example facts (the corpus's fact lines);
 * - `list`: `Compute 4+3-5:` (a corpus exercise: answered bare, or worked up to `so 2`);
 * - `qa`: `Q: Compute 4+3-5 A:` (corpus questions and answers);
 * - `template`: the R1-Zero template with `<think>` opened.
 *
 * The answer read is the one in `<answer>`, else the one after `so`, else the first number written;
 * `worked` counts the continuations that write a step (`4+3=7`).
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

/** Greedy continuation of `text`, up to a newline, `</answer>`, the end of a document or 40 tokens. */
function greedy(m: CausalLM, t: Tokenizer, text: string): string {
  const ids = t.encode(text);
  const out: number[] = [];
  for (let i = 0; i < 40; i++) {
    const logits = noGrad(() => m.forward(Tensor.from(ids, [1, ids.length], 'i32'), { logits: 'last' }).logits!);
    const row = floatData(logits);
    let best = 0;
    for (let j = 1; j < m.vocabSize; j++) if (row[j]! > row[best]!) best = j;
    out.push(best);
    ids.push(best);
    const s = t.decode(out);
    if (s.includes('\n') || s.includes('</answer>') || s.includes('<｜end▁of▁sentence｜>')) break;
  }
  return t.decode(out);
}

const firstNumber = (s: string) => (s.match(/-?\d+/) ?? [null])[0];
/** The answer a continuation gives: inside `<answer>`, else after `so`, else its first number. */
const answerOf = (s: string) => (/<answer>\s*(-?\d+)/.exec(s) ?? /\bso (-?\d+)/.exec(s))?.[1] ?? firstNumber(s);
const worked = (s: string) => /\d[+-]\d=\d/.test(s);

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
  let steps = 0;
  let example = '';
  for (const q of questions) {
    const s = greedy(model, tok, render(q.prompt));
    if (Number(answerOf(s)) === q.answer) right++;
    if (worked(s)) steps++;
    if (!example) example = `${q.prompt} → ${JSON.stringify(s)}`;
  }
  const pct = ((100 * right) / questions.length).toFixed(1);
  console.log(`${name.padEnd(9)} ${right}/${questions.length}  (${pct}%)  worked ${steps}  e.g. ${example}`);
}
