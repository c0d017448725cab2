/**
 * Added tokens (special tokens like `<｜begin▁of▁sentence｜>` and user-added ones): found in the
 * text before pre-tokenization, so that they become one id and never reach BPE.
 *
 * Matching follows HF's AddedVocabulary: leftmost-longest, non-overlapping (an Aho-Corasick scan
 * there, a trie walk here), honouring `single_word` (skip a match glued to word characters), `lstrip`
 * / `rstrip` (the token swallows adjacent whitespace). Tokens with `normalized: false` are matched on
 * the raw text, the others on the normalized text — the tokenizer runs two matchers.
 */
import type { AddedTokenJson } from './schema.ts';

/** An added token as tokenizer.json describes it. */
export interface AddedToken {
  id: number;
  content: string;
  special: boolean;
  normalized: boolean;
  lstrip: boolean;
  rstrip: boolean;
  singleWord: boolean;
}

/** Reads one `added_tokens` entry (defaults as in HF: normalized = !special). */
export function parseAddedToken(t: AddedTokenJson): AddedToken {
  const special = t.special === true;
  return {
    id: t.id,
    content: t.content,
    special,
    normalized: t.normalized ?? !special,
    lstrip: t.lstrip === true,
    rstrip: t.rstrip === true,
    singleWord: t.single_word === true,
  };
}

interface TrieNode {
  next: Map<number, TrieNode>;
  token: AddedToken | null;
}

// Rust regex's Unicode \w and \s, which HF uses for single_word / lstrip / rstrip.
const WORD_CHAR = /[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]/u;
const SPACE_CHAR = /\p{White_Space}/u;

/** Receives the pieces of a split: plain text, or an added token. */
export interface SplitSink {
  text(piece: string): void;
  token(token: AddedToken): void;
}

/** Finds a set of added tokens in text. */
export class AddedTokenMatcher {
  private readonly root: TrieNode = { next: new Map(), token: null };
  /**
   * Finds the next position holding the first UTF-16 unit of some pattern: a native scan (indexOf
   * for one distinct first unit — every DeepSeek special token starts with '<' — else a regex
   * class), so text without added tokens is skipped without a JavaScript loop over characters.
   */
  private readonly nextCandidate: (text: string, from: number) => number;
  readonly count: number;

  /** `patterns[i]` is the text to find for `tokens[i]` (its content, normalized for normalized tokens). */
  constructor(tokens: readonly AddedToken[], patterns: readonly string[] = tokens.map((t) => t.content)) {
    let count = 0;
    tokens.forEach((token, k) => {
      const pattern = patterns[k]!;
      if (pattern.length === 0) return;
      let node = this.root;
      for (let i = 0; i < pattern.length; i++) {
        const c = pattern.charCodeAt(i);
        let child = node.next.get(c);
        if (child === undefined) {
          child = { next: new Map(), token: null };
          node.next.set(c, child);
        }
        node = child;
      }
      if (node.token === null) count++;
      node.token = token; // the same content twice: the later entry wins
    });
    this.count = count;
    const firsts = [...new Set(patterns.filter((p) => p.length > 0).map((p) => p.charCodeAt(0)))];
    if (firsts.length === 1) {
      const ch = String.fromCharCode(firsts[0]!);
      this.nextCandidate = (text, from) => text.indexOf(ch, from);
    } else {
      const re = new RegExp(`[${firsts.map((c) => `\\u${c.toString(16).padStart(4, '0')}`).join('')}]`, 'g');
      this.nextCandidate = (text, from) => {
        re.lastIndex = from;
        return re.exec(text)?.index ?? -1;
      };
    }
  }

  /** Longest pattern starting at `i`: [token, end] or null. */
  private longestAt(text: string, i: number): [AddedToken, number] | null {
    let node: TrieNode | undefined = this.root;
    let best: [AddedToken, number] | null = null;
    for (let j = i; j < text.length; j++) {
      node = node.next.get(text.charCodeAt(j));
      if (node === undefined) break;
      if (node.token !== null) best = [node.token, j + 1];
    }
    return best;
  }

  /** Splits `text` into plain pieces and tokens, in order, calling `sink` for each (no empty pieces). */
  split(text: string, sink: SplitSink): void {
    let startOffset = 0; // end of what has been emitted
    let i = 0;
    while (i < text.length) {
      i = this.count === 0 ? -1 : this.nextCandidate(text, i);
      if (i < 0) break;
      const hit = this.longestAt(text, i);
      if (hit === null) {
        i++;
        continue;
      }
      const [token, end] = hit;
      let start = i;
      let stop = end;
      i = end; // non-overlapping scan resumes after the match, kept or not
      if (start < startOffset) continue; // inside whitespace a previous token swallowed
      if (token.singleWord) {
        const glued = (start > 0 && isWordAt(text, start - 1, true)) || (stop < text.length && isWordAt(text, stop, false));
        if (glued) continue;
      }
      if (token.lstrip) {
        let s = start;
        while (s > startOffset && SPACE_CHAR.test(text[s - 1]!)) s--;
        start = s;
      }
      if (token.rstrip) {
        while (stop < text.length && SPACE_CHAR.test(text[stop]!)) stop++;
      }
      if (start > startOffset) sink.text(text.slice(startOffset, start));
      sink.token(token);
      startOffset = stop;
    }
    if (startOffset < text.length) sink.text(startOffset === 0 ? text : text.slice(startOffset));
  }
}

/** Whether the code point ending (before) or starting (after) at index `i` is a word character. */
function isWordAt(text: string, i: number, endingHere: boolean): boolean {
  let ch = text[i]!;
  const c = text.charCodeAt(i);
  if (endingHere && c >= 0xdc00 && c < 0xe000 && i > 0) ch = text.slice(i - 1, i + 1);
  else if (!endingHere && c >= 0xd800 && c < 0xdc00) ch = text.slice(i, i + 2);
  return WORD_CHAR.test(ch);
}
