/**
 * Held-out evaluation of a reasoning model, as the R1 report measures it: `n` sampled completions
 * per question (temperature 0.6, top-p 0.95 by default), pass@1 = the mean correctness over all of
 * them, and the format rate of the R1-Zero layout. The 95% interval treats the questions as the
 * sample (each question's mean over its `n` completions is one observation), so it narrows with
 * more questions, not with more completions of the same ones.
 */
import { readJsonl } from './data/jsonl.ts';
import { accuracyReward, formatReward } from './rewards/builtin.ts';
import { rewardContext } from './rewards/types.ts';
import { exampleSampler, type ExampleSampling } from './sample/sample-examples.ts';
import { PosttrainError } from './errors.ts';

/** What to evaluate, and how to sample it (the template, `n` completions per question, temperature…). */
export interface EvaluateOptions extends ExampleSampling {
  /** The model folder. */
  model: string;
  /** JSONL files of questions (`prompt` or `messages`, and `answer`). */
  data: string[];
  /** A field of the examples to break the figures down by (e.g. a task kind). */
  by?: string;
  /** How many completions to keep in the report as samples (the first question's first, then on). */
  keepSamples?: number;
}

/** A rate and its 95% interval over questions. */
export interface Estimate {
  mean: number;
  lo: number;
  hi: number;
}

export interface EvaluationGroup {
  questions: number;
  pass1: Estimate;
  format: Estimate;
  /** Mean completion length in tokens. */
  length: number;
}

export interface EvaluationReport extends EvaluationGroup {
  model: string;
  completions: number;
  /** The same figures per value of `by`. */
  groups: Record<string, EvaluationGroup>;
  samples: { prompt: string; completion: string; answer: unknown; correct: boolean; format: boolean }[];
  /** Each question's share of correct completions, in the data's order (for paired comparisons). */
  perQuestion: number[];
}

/** Mean and normal-approximation 95% interval of per-question means (clamped to [0, 1]). */
export function estimate(perQuestion: readonly number[]): Estimate {
  const q = perQuestion.length;
  if (q === 0) return { mean: NaN, lo: NaN, hi: NaN };
  const mean = perQuestion.reduce((a, b) => a + b, 0) / q;
  const variance = q > 1 ? perQuestion.reduce((a, x) => a + (x - mean) ** 2, 0) / (q - 1) : 0;
  const half = 1.96 * Math.sqrt(variance / q);
  return { mean, lo: Math.max(0, mean - half), hi: Math.min(1, mean + half) };
}

interface Row {
  group: string;
  correct: number;
  format: number;
  length: number;
}

function summarize(rows: readonly Row[]): EvaluationGroup {
  return {
    questions: rows.length,
    pass1: estimate(rows.map((r) => r.correct)),
    format: estimate(rows.map((r) => r.format)),
    length: rows.reduce((a, r) => a + r.length, 0) / Math.max(1, rows.length),
  };
}

/** Samples `n` completions of every question and scores them. `log` gets a progress line per batch. */
export function evaluate(o: EvaluateOptions, log: (line: string) => void = () => {}): EvaluationReport {
  const examples = readJsonl(o.data);
  if (examples.length === 0) throw new PosttrainError(`${o.data.join(', ')}: no questions`);
  const missing = examples.find((ex) => ex.data.answer === undefined);
  if (missing) throw new PosttrainError(`${missing.file}:${missing.line + 1}: a question needs an "answer" to be scored`);
  const batches = exampleSampler(o.model, o);
  const accuracy = accuracyReward();
  const format = formatReward();
  const rows: Row[] = [];
  const samples: EvaluationReport['samples'] = [];
  for (const roll of batches(examples)) {
    const { examples: batch, prompts } = roll;
    roll.groups.forEach((group, i) => {
      const ex = batch[i]!;
      let correct = 0;
      let formatted = 0;
      let length = 0;
      for (const c of group) {
        const ctx = rewardContext(prompts[i]!.text, c.text, ex.data);
        const ok = accuracy(ctx) === 1;
        const fm = format(ctx) === 1;
        correct += ok ? 1 : 0;
        formatted += fm ? 1 : 0;
        length += c.ids.length;
        if (samples.length < (o.keepSamples ?? 0) && c === group[0]) {
          samples.push({ prompt: prompts[i]!.text, completion: c.text, answer: ex.data.answer, correct: ok, format: fm });
        }
      }
      const group_ = o.by === undefined ? 'all' : String(ex.data[o.by] ?? '(none)');
      rows.push({ group: group_, correct: correct / group.length, format: formatted / group.length, length: length / group.length });
    });
    const so = summarize(rows);
    log(
      `${rows.length}/${examples.length} questions: pass@1 ${(100 * so.pass1.mean).toFixed(1)}%, format ${(100 * so.format.mean).toFixed(1)}% ` +
        `(${Math.round(roll.tokens / roll.seconds)} tok/s)`,
    );
  }
  const groups: Record<string, EvaluationGroup> = {};
  if (o.by !== undefined) {
    for (const g of [...new Set(rows.map((r) => r.group))].sort()) groups[g] = summarize(rows.filter((r) => r.group === g));
  }
  return { model: o.model, completions: rows.length * o.n, ...summarize(rows), groups, samples, perQuestion: rows.map((r) => r.correct) };
}
