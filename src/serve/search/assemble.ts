/**
 * The user message DeepSeek's app would send: the question wrapped in the file template (once per
 * attached file) and then in the search template (with the results as `[webpage X begin]…[webpage X
 * end]` blocks), all within a token budget. What does not fit is cut, least relevant first: results
 * are kept in rank order while they fit (the first one that does not is cut to the room left, the
 * rest are left out), and files too long for the budget are cut, the longest the most. Kept results
 * are numbered 1…n in rank order: those are the ids `[citation:X]` refers to.
 */
import type { SearchResult } from './backend.ts';
import { cut } from './passages.ts';
import { filePrompt, questionLanguage, searchPrompt } from './templates.ts';

export interface FileInput {
  name: string;
  content: string;
}

export interface CitedResult extends SearchResult {
  /** The X of `[webpage X begin]` and `[citation:X]`. */
  id: number;
}

export interface AssembleInput {
  question: string;
  /** Ranked results (best first); null: no search. */
  results: SearchResult[] | null;
  files: FileInput[];
  /** `{cur_date}`. */
  date: string;
  /** Most tokens the whole prompt may have. */
  budget: number;
  /** Tokens of the whole prompt when the user's message is `text`. */
  promptTokens(text: string): number;
  /** Tokens of a piece of text on its own. */
  tokens(text: string): number;
}

export interface Assembled {
  /** The user message to send. */
  text: string;
  /** The results in the prompt, numbered. */
  used: CitedResult[];
  /** Per file: whether its content was cut to fit. */
  files: { name: string; truncated: boolean }[];
  notices: string[];
}

/** One result as the model reads it. */
export function webpageBlock(id: number, r: SearchResult): string {
  return `[webpage ${id} begin]\nTitle: ${r.title}\nURL: ${r.url}\nContent: ${r.content ?? r.snippet}\n[webpage ${id} end]`;
}

function withFiles(files: readonly FileInput[], question: string): string {
  return files.reduceRight((q, f) => filePrompt(f.name, f.content, q), question);
}

/** Cuts `text` to about `tokens` tokens, from its measured `have` tokens (characters scale alike). */
function cutToTokens(text: string, have: number, tokens: number): string {
  if (have <= tokens) return text;
  return cut(text, Math.max(0, Math.floor((text.length * tokens) / have)));
}

/** Files cut so that they fit `room` tokens in all: the longest cut first (water-filling). */
function fitFiles(files: readonly FileInput[], room: number, tokens: (t: string) => number): { files: FileInput[]; cut: boolean[] } {
  const have = files.map((f) => tokens(f.content));
  const total = have.reduce((a, b) => a + b, 0);
  if (total <= room) return { files: [...files], cut: files.map(() => false) };
  // The largest cap c with Σ min(have_i, c) ≤ room.
  const sorted = [...have].sort((a, b) => a - b);
  let left = Math.max(0, room);
  let cap = 0;
  for (let i = 0; i < sorted.length; i++) {
    const share = Math.floor(left / (sorted.length - i));
    if (sorted[i]! <= share) left -= sorted[i]!;
    else {
      cap = share;
      break;
    }
  }
  return {
    files: files.map((f, i) => ({ name: f.name, content: cutToTokens(f.content, have[i]!, Math.min(have[i]!, cap)) })),
    cut: have.map((h) => h > cap),
  };
}

export function assemble(input: AssembleInput): Assembled {
  const notices: string[] = [];
  const render = (files: readonly FileInput[], blocks: string[] | null) => {
    const q = withFiles(files, input.question);
    return blocks === null ? q : searchPrompt({ question: q, searchResults: blocks.join('\n'), curDate: input.date }, languageOf(input));
  };
  const searching = input.results !== null && input.results.length > 0;
  // Files first: they are what the user gave; results fill the room they leave.
  const empty = input.files.map((f) => ({ name: f.name, content: '' }));
  const frame = input.promptTokens(render(empty, searching ? [] : null));
  let fitted = fitFiles(input.files, input.budget - frame, input.tokens);
  let text = render(fitted.files, searching ? [] : null);
  for (let shrink = 0.9; input.files.length > 0 && input.promptTokens(text) > input.budget && shrink > 0.05; shrink -= 0.2) {
    const room = Math.floor((input.budget - frame) * shrink);
    fitted = fitFiles(input.files, room, input.tokens);
    text = render(fitted.files, searching ? [] : null);
  }
  const files = input.files.map((f, i) => ({ name: f.name, truncated: fitted.cut[i]! }));
  for (const f of files) if (f.truncated) notices.push(`the file '${f.name}' was cut to fit the model's context`);
  if (!searching) return { text, used: [], files, notices };

  const base = input.promptTokens(text);
  if (base > input.budget) {
    notices.push("the search results were left out: the search prompt does not fit the model's context");
    return { text: render(fitted.files, null), used: [], files, notices };
  }
  let room = input.budget - base;
  const used: CitedResult[] = [];
  for (const r of input.results!) {
    const id = used.length + 1;
    const block = webpageBlock(id, r);
    const need = input.tokens(block) + 1;
    if (need <= room) {
      used.push({ ...r, id });
      room -= need;
      continue;
    }
    const overhead = input.tokens(webpageBlock(id, { ...r, content: '' })) + 1;
    if (room - overhead >= 32) {
      const body = r.content ?? r.snippet;
      used.push({ ...r, id, content: cutToTokens(body, input.tokens(body), room - overhead) });
    }
    break;
  }
  // Token counts of pieces add up only nearly: drop from the end until the whole prompt fits.
  const blocks = () => used.map((r) => webpageBlock(r.id, r));
  text = render(fitted.files, blocks());
  while (used.length > 0 && input.promptTokens(text) > input.budget) {
    used.pop();
    text = render(fitted.files, blocks());
  }
  const left = input.results!.length - used.length;
  if (used.length === 0) {
    notices.push("the search results were left out: none fits the model's context");
    return { text: render(fitted.files, null), used, files, notices };
  }
  if (left > 0) notices.push(`${left} of ${input.results!.length} search results left out to fit the model's context`);
  return { text, used, files, notices };
}

/** The template language follows the user's own question, not the files wrapped around it. */
function languageOf(input: AssembleInput): 'zh' | 'en' {
  return questionLanguage(input.question);
}
