/**
 * Splitting a string on the matches of a pattern, with the delimiter behaviors of HF tokenizers
 * (`SplitDelimiterBehavior`): the `Split` and `Digits` pre-tokenizers are built on this.
 *
 * The string is first cut into alternating runs: matches and the gaps between them (HF's
 * `find_matches`). `invert` swaps which runs count as matches. Then:
 * - `Isolated`: every run is its own piece;
 * - `Removed`: matches are dropped, gaps kept;
 * - `MergedWithPrevious` / `MergedWithNext`: a match joins the gap before / after it;
 * - `Contiguous`: consecutive runs of the same kind are joined.
 * Empty pieces are dropped, as HF's PreTokenizedString does.
 */
import { TokenizerError } from './errors.ts';

export type SplitBehavior = 'Isolated' | 'Removed' | 'MergedWithPrevious' | 'MergedWithNext' | 'Contiguous';

const BEHAVIORS = new Set<string>(['Isolated', 'Removed', 'MergedWithPrevious', 'MergedWithNext', 'Contiguous']);

/** Validates a behavior name from tokenizer.json. */
export function parseBehavior(value: unknown, where: string): SplitBehavior {
  if (typeof value === 'string' && BEHAVIORS.has(value)) return value as SplitBehavior;
  throw new TokenizerError(`${where}: unknown split behavior ${JSON.stringify(value)}`);
}

/**
 * Run boundaries of `text` under global regex `re`: `ends[k]` is the end of run k and `isMatch[k]`
 * whether it is a match. Like the onig crate's find_iter (which HF uses), an empty match directly
 * after the previous match is skipped.
 */
function findRuns(text: string, re: RegExp, ends: number[], isMatch: boolean[]): void {
  re.lastIndex = 0;
  let prev = 0;
  let lastMatchEnd = -1;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const start = m.index;
    const end = start + m[0].length;
    if (start === end) {
      re.lastIndex = end + (text.codePointAt(end)! > 0xffff ? 2 : 1); // u-mode advance
      if (end === lastMatchEnd) continue;
    }
    if (start > prev) {
      ends.push(start);
      isMatch.push(false);
    }
    ends.push(end);
    isMatch.push(true);
    prev = end;
    lastMatchEnd = end;
  }
  if (prev < text.length) {
    ends.push(text.length);
    isMatch.push(false);
  }
}

/** A split regex in the two forms the splitter uses: global (to search) and sticky (to match at a position). */
export class SplitPattern {
  readonly global: RegExp;
  readonly sticky: RegExp;
  constructor(re: RegExp) {
    const flags = re.flags.replace(/[gy]/g, '');
    this.global = new RegExp(re.source, flags + 'g');
    this.sticky = new RegExp(re.source, flags + 'y');
  }
}

/**
 * Splits `text` on `pattern` with `behavior`, appending the non-empty pieces to `out`.
 *
 * Isolated (every run is a piece, whatever `invert` says) is the hot path of every byte-level
 * tokenizer. Pre-tokenizer patterns usually match at every position of ordinary text, so it first
 * tries a sticky `test` where the previous match ended — no match array, no substring — and only
 * searches (exec) across a gap where nothing matches. A sticky match at the search position is the
 * match a search from there would find, so the pieces are the same as an exec loop's.
 */
export function splitOnRegex(text: string, pattern: SplitPattern, behavior: SplitBehavior, invert: boolean, out: string[]): void {
  if (text.length === 0) return;
  if (behavior !== 'Isolated') {
    const ends: number[] = [];
    const isMatch: boolean[] = [];
    findRuns(text, pattern.global, ends, isMatch);
    if (invert) for (let k = 0; k < isMatch.length; k++) isMatch[k] = !isMatch[k];
    splitRuns(text, ends, isMatch, behavior, out);
    return;
  }
  const { sticky, global } = pattern;
  const len = text.length;
  let pos = 0; // where the next match may start
  let emitted = 0; // end of the text already emitted
  while (pos < len) {
    sticky.lastIndex = pos;
    if (sticky.test(text) && sticky.lastIndex > pos) {
      const end = sticky.lastIndex;
      if (pos > emitted) out.push(text.slice(emitted, pos));
      out.push(pos === 0 && end === len ? text : text.slice(pos, end));
      pos = emitted = end;
      continue;
    }
    // Nothing (or only an empty match) here: search for the next match start after this character.
    global.lastIndex = pos + (text.codePointAt(pos)! > 0xffff ? 2 : 1);
    const m = global.exec(text);
    if (m === null) break;
    pos = m.index;
  }
  if (emitted < len) out.push(emitted === 0 ? text : text.slice(emitted));
}

/** Applies a delimiter behavior to runs (shared with the Digits pre-tokenizer). */
export function splitRuns(text: string, ends: number[], isMatch: boolean[], behavior: SplitBehavior, out: string[]): void {
  const n = ends.length;
  const startOf = (k: number) => (k === 0 ? 0 : ends[k - 1]!);
  const push = (a: number, b: number) => {
    if (b > a) out.push(text.slice(a, b));
  };
  switch (behavior) {
    case 'Isolated':
      for (let k = 0; k < n; k++) push(startOf(k), ends[k]!);
      return;
    case 'Removed':
      for (let k = 0; k < n; k++) if (!isMatch[k]) push(startOf(k), ends[k]!);
      return;
    case 'MergedWithPrevious': {
      // A match extends the piece before it (unless that piece is itself a match).
      let a = 0;
      let open = false;
      for (let k = 0; k < n; k++) {
        const joins = isMatch[k] && k > 0 && !isMatch[k - 1];
        if (open && !joins) push(a, startOf(k));
        if (!open || !joins) a = startOf(k);
        open = true;
      }
      if (open) push(a, text.length);
      return;
    }
    case 'MergedWithNext': {
      // Mirror image: a match extends the piece after it (unless that piece is a match).
      let b = text.length;
      const pieces: [number, number][] = [];
      let open = false;
      for (let k = n - 1; k >= 0; k--) {
        const joins = isMatch[k] && k < n - 1 && !isMatch[k + 1];
        if (open && !joins) pieces.push([ends[k]!, b]);
        if (!open || !joins) b = ends[k]!;
        open = true;
      }
      if (open) pieces.push([0, b]);
      for (let k = pieces.length - 1; k >= 0; k--) push(pieces[k]![0], pieces[k]![1]);
      return;
    }
    case 'Contiguous': {
      let a = 0;
      for (let k = 0; k < n; k++) {
        if (k + 1 < n && isMatch[k + 1] === isMatch[k]) continue;
        push(a, ends[k]!);
        a = ends[k]!;
      }
      return;
    }
  }
}
