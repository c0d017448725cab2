/**
 * The gain of one model over another on the same held-out questions, paired: each model is sampled
 * as `dsts eval` samples it (the R1-Zero template, 8 completions per question at temperature 0.6,
 * top-p 0.95, seed 7 — so each pass@1 equals `dsts eval`'s), and the 95% interval is that of the
 * per-question difference, which is narrower than the two models' intervals side by side.
 *
 * usage: node --import tsx scripts/nano-r1/compare.ts <model A> <model B> <questions.jsonl>
 */
import { evaluate, estimate, type Estimate } from '../../src/posttrain/evaluate.ts';

const [a, b, file] = process.argv.slice(2);
if (!a || !b || !file) {
  console.error('usage: node --import tsx scripts/nano-r1/compare.ts <model A> <model B> <questions.jsonl>');
  process.exit(1);
}

/** Each question's share of correct completions, sampled as reproduce.sh's `dsts eval` samples. */
const perQuestion = (model: string) =>
  evaluate({
    model,
    data: [file],
    promptTemplate: 'r1-zero',
    n: 8,
    temperature: 0.6,
    topP: 0.95,
    topK: 0,
    maxTokens: 64,
    batchSize: 16,
    seed: 7,
  }).perQuestion;

const pct = (e: Estimate) => `${(100 * e.mean).toFixed(1)}% [${(100 * e.lo).toFixed(1)}, ${(100 * e.hi).toFixed(1)}]`;
let pa: number[], pb: number[];
try {
  pa = perQuestion(a);
  pb = perQuestion(b);
} catch (e) {
  // a missing model folder or questions file: one line, as dsts says it
  console.error(`compare: ${(e as Error).message}`);
  process.exit(1);
}
// estimate() clamps to [0, 1]; a difference may be negative, so its interval is computed here.
const d = pb.map((x, i) => x - pa[i]!);
const mean = d.reduce((s, x) => s + x, 0) / d.length;
const half = 1.96 * Math.sqrt(d.reduce((s, x) => s + (x - mean) ** 2, 0) / (d.length - 1) / d.length);
console.log(`A ${a}: pass@1 ${pct(estimate(pa))}`);
console.log(`B ${b}: pass@1 ${pct(estimate(pb))}`);
console.log(
  `B − A: ${(100 * mean).toFixed(1)} points, paired 95% interval [${(100 * (mean - half)).toFixed(1)}, ${(100 * (mean + half)).toFixed(1)}] over ${d.length} questions`,
);
