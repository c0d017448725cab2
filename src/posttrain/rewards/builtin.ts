/**
 * The built-in rule rewards of DeepSeek-R1-Zero (§2.2.2): accuracy (is the final answer right?) and
 * format (does the completion follow the template: reasoning inside `<think>…</think>`, then the
 * answer inside `<answer>…</answer>`?). Neither uses a neural reward model, which the R1 report
 * avoided for fear of reward hacking.
 */
import { answersMatch, extractAnswer } from './answer.ts';
import type { RewardContext } from './types.ts';

/** The expected answer of an example (its `field`, a string or number); null when it has none. */
function expectedAnswer(example: Record<string, unknown>, field: string): string | null {
  const v = example[field];
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' || typeof x === 'number')) return String(v[0]);
  return null;
}

/**
 * 1 when the completion's final answer equals the example's `field` (exact text, or equal numbers),
 * else 0; null (no opinion) for an example without an expected answer.
 */
export function accuracyReward(field = 'answer') {
  return (ctx: RewardContext): number | null => {
    const want = expectedAnswer(ctx.example, field);
    if (want === null) return null;
    const given = extractAnswer(ctx.fullCompletion);
    if (given === null) return 0;
    const accepted = Array.isArray(ctx.example[field]) ? (ctx.example[field] as unknown[]).map(String) : [want];
    return accepted.some((a) => answersMatch(given, a)) ? 1 : 0;
  };
}

/** The R1-Zero layout: `<think> reasoning </think> <answer> answer </answer>` and nothing else. */
const R1_ZERO_FORMAT = /^\s*<think>[\s\S]*?<\/think>\s*<answer>[\s\S]*?<\/answer>\s*$/;

/** 1 when the completion (with the `<think>` its prompt opened, if it did) follows the R1-Zero template, else 0. */
export function formatReward() {
  return (ctx: RewardContext): number => (R1_ZERO_FORMAT.test(ctx.fullCompletion) ? 1 : 0);
}
