/**
 * The parts of a document a query is about: the document is cut into paragraphs (about `size`
 * characters each), each is scored by how many of the query's words it holds (rarer in the
 * document counting more), and the best are kept, in document order, up to a character budget.
 * The snippet is the start of the best one.
 */
import { words } from './words.ts';

/** The first `n` UTF-16 units of `s`, never ending inside a surrogate pair. */
export function cut(s: string, n: number): string {
  if (s.length <= n) return s;
  const end = n > 0 && /[\uD800-\uDBFF]/.test(s[n - 1]!) ? n - 1 : n;
  return s.slice(0, end);
}

function paragraphs(text: string, size: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const para of text.split(/\n\s*\n/)) {
    const p = para.trim();
    if (!p) continue;
    for (let i = 0; i < p.length;) {
      const piece = cut(p.slice(i, i + size + 1), size);
      i += piece.length;
      if (cur && cur.length + piece.length > size) {
        out.push(cur);
        cur = '';
      }
      cur = cur ? `${cur}\n\n${piece}` : piece;
    }
  }
  if (cur) out.push(cur);
  return out;
}

export interface Passages {
  snippet: string;
  content: string;
}

/** The passages of `text` best matching `query`, at most `maxChars` in all. */
export function bestPassages(text: string, query: string, maxChars: number, snippetChars = 240): Passages {
  const terms = new Set(words(query));
  const parts = paragraphs(text, Math.min(1000, maxChars));
  const counts = parts.map((p) => {
    const seen = new Map<string, number>();
    for (const w of words(p)) if (terms.has(w)) seen.set(w, (seen.get(w) ?? 0) + 1);
    return seen;
  });
  const df = new Map<string, number>();
  for (const c of counts) for (const w of c.keys()) df.set(w, (df.get(w) ?? 0) + 1);
  const score = counts.map((c) => {
    let s = 0;
    for (const [w, n] of c) s += (1 + Math.log(n)) * Math.log(1 + parts.length / df.get(w)!);
    return s;
  });
  const order = parts.map((_, i) => i).sort((a, b) => score[b]! - score[a]! || a - b);
  const kept: number[] = [];
  let used = 0;
  for (const i of order) {
    if (used + parts[i]!.length > maxChars && kept.length > 0) continue;
    kept.push(i);
    used += parts[i]!.length;
    if (used >= maxChars) break;
  }
  kept.sort((a, b) => a - b);
  const content = cut(kept.map((i) => parts[i]!).join('\n\n'), maxChars);
  const best = parts[order[0] ?? 0] ?? '';
  const flat = best.replace(/\s+/g, ' ').trim();
  return { snippet: flat.length > snippetChars ? `${cut(flat, snippetChars - 1)}…` : flat, content };
}
