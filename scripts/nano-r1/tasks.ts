/**
 * The data of deepseek-ts-nano-r1, generated from a seed (nothing is downloaded):
 *
 * - the **task**: arithmetic questions of digits with checkable answers, `Compute 7-5` or
 *   `Compute 4+3-5`. Two-term questions are one fact; three-term ones need two facts in a row.
 *   Each distinct question is in the RL split or in the held-out test split, by a hash of its text.
 * - the **pre-training corpus**, which never shows a worked arithmetic solution in the R1-Zero
 *   format: lines of single facts (`7+2=9`); exercises (RL-split questions only, as a web corpus has
 *   exercises with their answers) worked in textbook form (`Compute 4+3-5: 4+3=7, 7-5=2, so 2`) or
 *   answered bare (`Compute 4+3-5: 2`, `Q: Compute 4+3-5 A: 2`); R1-Zero-template conversations
 *   about arithmetic whose `<think>` only restates the question before the answer (no working); and
 *   R1-Zero-template conversations about other things (reversing, counting, comparing) reasoned the
 *   textbook way.
 *   Whether the model brings its textbook working into the template's `<think>` is left to RL.
 */
import { R1_ZERO_TEMPLATE } from '../../src/posttrain/index.ts';

/** A seeded generator (mulberry32): the same seed, the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

export interface Question {
  /** The question, as the user asks it. */
  prompt: string;
  answer: number;
  /** `two` (one fact) or `three` (two facts chained). */
  kind: 'two' | 'three';
}

/** Every distinct question: `a±b` and `a±b±c` of digits 1–9 whose partial results stay within 0–9 (the final one ≥ 0). */
function allQuestions(): Question[] {
  const out: Question[] = [];
  const apply = (x: number, op: string, y: number) => (op === '+' ? x + y : x - y);
  for (let a = 1; a <= 9; a++) {
    for (let b = 1; b <= 9; b++) {
      for (const s1 of ['+', '-']) {
        const mid = apply(a, s1, b);
        if (mid < 0 || mid > 9) continue;
        out.push({ prompt: `Compute ${a}${s1}${b}`, answer: mid, kind: 'two' });
        for (let c = 1; c <= 9; c++) {
          for (const s2 of ['+', '-']) {
            const end = apply(mid, s2, c);
            if (end >= 0) out.push({ prompt: `Compute ${a}${s1}${b}${s2}${c}`, answer: end, kind: 'three' });
          }
        }
      }
    }
  }
  return out;
}

/** FNV-1a of a string: the held-out split is chosen by the question's text, so it never leaks. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Whether a question belongs to the held-out test split (about 1 in 5 distinct questions). */
export const isHeldOut = (q: Question) => hash(q.prompt) % 5 === 0;

function shuffle<T>(xs: T[], r: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

/**
 * `n` distinct questions of one split, in a seeded order: every two-term question of the split (up to
 * a quarter of `n`; there are few), the rest three-term.
 */
export function questions(seed: number, n: number, split: 'train' | 'test'): Question[] {
  const r = rng(seed);
  const mine = allQuestions().filter((q) => isHeldOut(q) === (split === 'test'));
  const two = shuffle(
    mine.filter((q) => q.kind === 'two'),
    r,
  ).slice(0, Math.floor(n / 4));
  const three = shuffle(
    mine.filter((q) => q.kind === 'three'),
    r,
  ).slice(0, n - two.length);
  return shuffle([...two, ...three], r);
}

/** A corpus document of arithmetic facts of digits, one per line: `a+b=c` / `a-b=c` (c ≥ 0). */
function factsDocument(r: () => number): string {
  const lines: string[] = [];
  const n = int(r, 6, 14);
  for (let i = 0; i < n; i++) {
    const a = int(r, 0, 9);
    const b = int(r, 0, 9);
    if (r() < 0.5 || a < b) lines.push(`${a}+${b}=${a + b}`);
    else lines.push(`${a}-${b}=${a - b}`);
  }
  return lines.join('\n');
}

const SYLLABLES = ['ka', 'lo', 'mi', 'ru', 'te', 'so', 'na', 'pi', 'du', 've', 'zo', 'ba', 'fi', 'go', 'he', 'ju'];
const word = (r: () => number) => Array.from({ length: int(r, 2, 3) }, () => pick(r, SYLLABLES)).join('');

/** A question about something other than arithmetic, and its answer, with a worked reasoning. */
function otherTask(r: () => number): { question: string; answer: string; reasoning: string } {
  const kind = int(r, 0, 2);
  if (kind === 0) {
    const letters = [...word(r)];
    const back = [...letters].reverse();
    return {
      question: `Reverse ${letters.join('')}`,
      answer: back.join(''),
      reasoning: `${letters.join(' ')} backwards is ${back.join(' ')}`,
    };
  }
  if (kind === 1) {
    const letters = [...word(r)];
    return {
      question: `Count the letters of ${letters.join('')}`,
      answer: String(letters.length),
      reasoning: letters.map((l, i) => `${l} ${i + 1}`).join(' '),
    };
  }
  let [a, b] = [int(r, 0, 99), int(r, 0, 99)];
  while (b === a) b = int(r, 0, 99);
  const [lo, hi] = [Math.min(a, b), Math.max(a, b)];
  return { question: `Which is larger, ${a} or ${b}`, answer: String(hi), reasoning: `${lo} is less than ${hi}` };
}

/** A worked arithmetic exercise in textbook form: the facts it chains, then its answer. */
function workedArithmetic(q: Question): { question: string; answer: string; reasoning: string } {
  const m = /^Compute (\d)([+-])(\d)(?:([+-])(\d))?$/.exec(q.prompt)!;
  const apply = (x: number, op: string, y: number) => (op === '+' ? x + y : x - y);
  const mid = apply(Number(m[1]), m[2]!, Number(m[3]));
  const steps = [`${m[1]}${m[2]}${m[3]}=${mid}`];
  if (m[4]) steps.push(`${mid}${m[4]}${m[5]}=${q.answer}`);
  return { question: q.prompt, answer: String(q.answer), reasoning: steps.join(', ') };
}

/** `Compute 4+3-5: 4+3=7, 7-5=2, so 2` — how a textbook works an exercise. */
const textbook = (t: { question: string; answer: string; reasoning: string }) => `${t.question}: ${t.reasoning}, so ${t.answer}`;

/** The R1-Zero template around a question, with `think` and `answer` as the assistant's reply. */
const templated = (question: string, think: string, answer: string) =>
  `${R1_ZERO_TEMPLATE.replace('{prompt}', question)} <think> ${think} </think> <answer> ${answer} </answer>`;

/** One R1-Zero conversation about something other than arithmetic, reasoned as a textbook would. */
function otherConversation(r: () => number): string {
  const t = otherTask(r);
  return templated(t.question, textbook(t), t.answer);
}

const TRAIN_QUESTIONS = allQuestions().filter((q) => !isHeldOut(q));

/**
 * One R1-Zero conversation about arithmetic (never a held-out question) that only restates the
 * question and recalls its answer: the template is where arithmetic is asked, but no solution is
 * ever worked in it.
 */
function arithmeticConversation(r: () => number): string {
  const q = pick(r, TRAIN_QUESTIONS);
  return templated(q.prompt, q.prompt, String(q.answer));
}

/**
 * A corpus document of exercises — arithmetic (never a held-out question) and the other tasks —
 * worked in textbook form (`Compute 4+3-5: 4+3=7, 7-5=2, so 2`), or with bare answers as a list
 * (`Compute 4+3-5: 2`) or as questions and answers (`Q: Compute 4+3-5 A: 2`).
 */
function exercisesDocument(r: () => number): string {
  const style = r();
  return Array.from({ length: int(r, 4, 10) }, () => {
    const t = r() < 0.8 ? workedArithmetic(pick(r, TRAIN_QUESTIONS)) : otherTask(r);
    return style < 0.6 ? textbook(t) : style < 0.8 ? `Q: ${t.question} A: ${t.answer}` : `${t.question}: ${t.answer}`;
  }).join('\n');
}

/**
 * The pre-training corpus: `n` documents — facts 30%, exercises 35%, arithmetic conversations 15%,
 * other conversations 20%.
 */
export function corpus(seed: number, n: number): string[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const x = r();
    return x < 0.3 ? factsDocument(r) : x < 0.65 ? exercisesDocument(r) : x < 0.8 ? arithmeticConversation(r) : otherConversation(r);
  });
}
