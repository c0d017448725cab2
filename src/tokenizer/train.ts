/**
 * Training a byte-level BPE vocabulary from a corpus, as HF tokenizers' BpeTrainer does:
 *
 * 1. pre-tokenize every text with the Split patterns (DeepSeek-V3's by default) and count the words
 *    (special tokens found in the text are cut out first and never learned from);
 * 2. ids: special tokens first, then the 256 byte-alphabet characters (sorted by code point, as
 *    HF sorts its alphabet), then one id per merge, in order;
 * 3. count adjacent symbol pairs over all words (× word frequency), remembering which words hold
 *    each pair;
 * 4. repeatedly take the most frequent pair (ties: smaller ids first — HF's order), give it a new id,
 *    rewrite only the words that contain it, and apply the resulting pair-count changes
 *    incrementally (the counts of the rest of the corpus are never recomputed); stop at `vocabSize`,
 *    or when the best pair occurs fewer than `minFrequency` times.
 *
 * Byte-level means any text is representable; a CJK character is 3 bytes, and the first merges on
 * Chinese text learn exactly those byte triples, then frequent words.
 */
import { writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AddedTokenMatcher } from './added-tokens.ts';
import { BYTE_TO_CHAR, utf8Into } from './bytes.ts';
import { TokenizerError } from './errors.ts';
import { buildPreTokenizer } from './pre-tokenizers.ts';
import type { TokenizerConfigJson, TokenizerJson } from './schema.ts';
import { Tokenizer } from './tokenizer.ts';
import { PairQueue } from './train-queue.ts';
import { DEEPSEEK_V3_PATTERNS, preTokenizerJson, tokenizerFiles } from './train-json.ts';

export interface TrainProgress {
  phase: 'count' | 'merge';
  /** Texts read (count) or merges made (merge). */
  done: number;
  /** Merges to make at most (merge phase only). */
  total?: number;
  /** Distinct words so far (count) / frequency of the last merged pair (merge). */
  detail: number;
}

export interface TrainBpeOptions {
  /** Final vocabulary size, special tokens and the 256 byte tokens included. */
  vocabSize: number;
  /** A pair must occur at least this often to be merged (default 2). */
  minFrequency?: number;
  /** Special tokens, given the first ids in this order (default none). */
  specialTokens?: readonly string[];
  /** Pre-tokenizer Split regexes (Oniguruma syntax, applied in order, Isolated). Default: DeepSeek-V3's. */
  pattern?: string | readonly string[];
  /** bos/eos/pad tokens for tokenizer_config.json; must be among `specialTokens`. */
  bosToken?: string;
  eosToken?: string;
  padToken?: string;
  /** Whether encoding with special tokens prepends BOS (default: true when bosToken is set). */
  addBosToken?: boolean;
  /** A chat template to store in tokenizer_config.json. */
  chatTemplate?: string;
  /** Called every 1000 texts while counting and every 100 merges (and at the end of each phase). */
  onProgress?: (p: TrainProgress) => void;
}

/** A trained tokenizer: the two JSON files, and statistics. */
export interface TrainedBpe {
  tokenizerJson: TokenizerJson;
  tokenizerConfig: TokenizerConfigJson;
  stats: { texts: number; distinctWords: number; merges: number; vocabSize: number };
}

/** Pair key: two ids below 2^21 in one exactly-representable number. */
const SHIFT = 2097152;
const key = (a: number, b: number) => a * SHIFT + b;

/** Trains a byte-level BPE tokenizer on `texts`; see the module comment. */
export function trainBpe(texts: Iterable<string>, options: TrainBpeOptions): TrainedBpe {
  const specials = [...(options.specialTokens ?? [])];
  const minFrequency = options.minFrequency ?? 2;
  const patterns =
    options.pattern === undefined ? DEEPSEEK_V3_PATTERNS : typeof options.pattern === 'string' ? [options.pattern] : options.pattern;
  if (!Number.isInteger(options.vocabSize) || options.vocabSize < specials.length + 256) {
    throw new TokenizerError(
      `vocabulary size must be an integer ≥ ${specials.length + 256} (special tokens + 256 bytes), got ${options.vocabSize}`,
    );
  }
  if (new Set(specials).size !== specials.length || specials.some((s) => s.length === 0)) {
    throw new TokenizerError('special tokens must be distinct and non-empty');
  }
  if (options.vocabSize >= SHIFT) throw new TokenizerError(`vocabSize must be below ${SHIFT}`);
  for (const [field, tok] of [
    ['bosToken', options.bosToken],
    ['eosToken', options.eosToken],
    ['padToken', options.padToken],
  ] as const) {
    if (tok !== undefined && !specials.includes(tok))
      throw new TokenizerError(`${field} ${JSON.stringify(tok)} is not one of the special tokens`);
  }
  const progress = options.onProgress;

  // 1. Count words (the same pre-tokenizer the saved file will use, so training and encoding agree).
  const preTokenizer = buildPreTokenizer(preTokenizerJson(patterns));
  const matcher =
    specials.length > 0
      ? new AddedTokenMatcher(
          specials.map((content, id) => ({
            id,
            content,
            special: true,
            normalized: false,
            lstrip: false,
            rstrip: false,
            singleWord: false,
          })),
        )
      : null;
  const wordCounts = new Map<string, number>();
  const pieces: string[] = [];
  let nTexts = 0;
  const countText = (t: string) => {
    pieces.length = 0;
    preTokenizer.split(t, pieces);
    for (const w of pieces) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  };
  for (const text of texts) {
    if (typeof text !== 'string') throw new TokenizerError('trainBpe: every corpus item must be a string');
    if (matcher) matcher.split(text, { text: countText, token: () => {} });
    else countText(text);
    if (++nTexts % 1000 === 0) progress?.({ phase: 'count', done: nTexts, detail: wordCounts.size });
  }
  progress?.({ phase: 'count', done: nTexts, detail: wordCounts.size });

  // 2. Initial vocabulary: special tokens, then the byte alphabet sorted by code point.
  const tokens: string[] = [...specials];
  const tokenIds = new Map<string, number>(specials.map((t, id) => [t, id]));
  const byteId = new Int32Array(256);
  const alphabet = [...Array(256).keys()].sort((x, y) => BYTE_TO_CHAR[x]!.charCodeAt(0) - BYTE_TO_CHAR[y]!.charCodeAt(0));
  for (const b of alphabet) {
    const ch = BYTE_TO_CHAR[b]!;
    const existing = tokenIds.get(ch); // a one-character special token could shadow a byte
    if (existing !== undefined) throw new TokenizerError(`special token ${JSON.stringify(ch)} collides with a byte-level token`);
    byteId[b] = tokens.length;
    tokenIds.set(ch, tokens.length);
    tokens.push(ch);
  }

  // 3. Words as symbol arrays, and pair counts with where-to-find sets.
  const words: number[][] = [];
  const counts: number[] = [];
  let buf = new Uint8Array(256);
  for (const [w, c] of wordCounts) {
    if (buf.length < w.length * 3) buf = new Uint8Array(w.length * 6);
    const n = utf8Into(w, buf);
    const syms = new Array<number>(n);
    for (let i = 0; i < n; i++) syms[i] = byteId[buf[i]!]!;
    words.push(syms);
    counts.push(c);
  }
  const distinctWords = wordCounts.size;
  wordCounts.clear();
  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  for (let wi = 0; wi < words.length; wi++) {
    const syms = words[wi]!;
    const c = counts[wi]!;
    for (let i = 0; i + 1 < syms.length; i++) {
      const k = key(syms[i]!, syms[i + 1]!);
      pairCounts.set(k, (pairCounts.get(k) ?? 0) + c);
      let set = where.get(k);
      if (set === undefined) where.set(k, (set = new Set()));
      set.add(wi);
    }
  }
  const queue = new PairQueue();
  for (const [k, c] of pairCounts) if (c > 0) queue.push({ count: c, a: Math.floor(k / SHIFT), b: k % SHIFT });

  // 4. Merge loop.
  const merges: [string, string][] = [];
  const target = options.vocabSize;
  const maxMerges = target - tokens.length;
  const touched = new Map<number, Set<number>>(); // pairs whose count rose in this round → words holding them
  while (tokens.length < target) {
    const top = queue.pop();
    if (top === undefined) break;
    const k = key(top.a, top.b);
    const current = pairCounts.get(k) ?? 0;
    if (top.count !== current) {
      if (current > 0) queue.push({ count: current, a: top.a, b: top.b }); // stale entry: requeue as it is now
      continue;
    }
    if (current < 1 || current < minFrequency) break;
    // Two different pairs can spell the same string ("ab"+"c", "a"+"bc"): like HF, reuse its id.
    const merged = tokens[top.a]! + tokens[top.b]!;
    let newId = tokenIds.get(merged);
    if (newId === undefined) {
      newId = tokens.length;
      tokenIds.set(merged, newId);
      tokens.push(merged);
    }
    merges.push([tokens[top.a]!, tokens[top.b]!]);
    touched.clear();
    for (const wi of where.get(k) ?? []) {
      mergeWord(words[wi]!, top.a, top.b, newId, counts[wi]!, wi, pairCounts, touched);
    }
    where.delete(k);
    pairCounts.delete(k);
    for (const [pk, set] of touched) {
      let w = where.get(pk);
      if (w === undefined) where.set(pk, (w = new Set()));
      for (const wi of set) w.add(wi);
      const c = pairCounts.get(pk) ?? 0;
      if (c > 0) queue.push({ count: c, a: Math.floor(pk / SHIFT), b: pk % SHIFT });
    }
    if (merges.length % 100 === 0) progress?.({ phase: 'merge', done: merges.length, total: maxMerges, detail: current });
  }
  progress?.({ phase: 'merge', done: merges.length, total: maxMerges, detail: 0 });

  // A prototype-free object: tokens such as "constructor" or "__proto__" must be plain keys.
  const vocab = Object.create(null) as Record<string, number>;
  tokens.forEach((t, id) => {
    vocab[t] = id;
  });
  const addBosToken = options.addBosToken ?? options.bosToken !== undefined;
  const files = tokenizerFiles({
    patterns,
    specialTokens: specials,
    vocab,
    merges,
    bosToken: options.bosToken,
    eosToken: options.eosToken,
    padToken: options.padToken,
    addBosToken,
    chatTemplate: options.chatTemplate,
  });
  return { ...files, stats: { texts: nTexts, distinctWords, merges: merges.length, vocabSize: tokens.length } };
}

/**
 * Replaces every (a, b) in `syms` by `id`, left to right, and records the pair-count changes
 * (× the word's frequency): pairs with the old neighbours lose, pairs with the new symbol gain.
 * Same bookkeeping as HF's `Word::merge`.
 */
function mergeWord(
  syms: number[],
  a: number,
  b: number,
  id: number,
  freq: number,
  wi: number,
  pairCounts: Map<number, number>,
  touched: Map<number, Set<number>>,
): void {
  const change = (k: number, delta: number) => {
    pairCounts.set(k, (pairCounts.get(k) ?? 0) + delta * freq);
    if (delta > 0) {
      let set = touched.get(k);
      if (set === undefined) touched.set(k, (set = new Set()));
      set.add(wi);
    }
  };
  let out = 0;
  for (let i = 0; i < syms.length; i++) {
    if (syms[i] === a && i + 1 < syms.length && syms[i + 1] === b) {
      if (out > 0) {
        const left = syms[out - 1]!;
        change(key(left, a), -1);
        change(key(left, id), +1);
      }
      if (i + 2 < syms.length) {
        const right = syms[i + 2]!;
        change(key(b, right), -1);
        change(key(id, right), +1);
      }
      syms[out++] = id;
      i++;
    } else {
      syms[out++] = syms[i]!;
    }
  }
  syms.length = out;
}

/**
 * Writes tokenizer.json and tokenizer_config.json into `dir` (created if needed). Refuses to
 * overwrite an existing tokenizer.json unless `force`.
 */
export function saveTrainedTokenizer(dir: string, trained: TrainedBpe, options: { force?: boolean } = {}): string[] {
  const tokenizerFile = join(dir, 'tokenizer.json');
  if (existsSync(tokenizerFile) && !options.force) {
    throw new TokenizerError(`${tokenizerFile} already exists (use --force to overwrite)`);
  }
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, 'tokenizer_config.json');
  writeFileSync(tokenizerFile, JSON.stringify(trained.tokenizerJson, null, 2) + '\n');
  writeFileSync(configFile, JSON.stringify(trained.tokenizerConfig, null, 2) + '\n');
  return [tokenizerFile, configFile];
}

/** A Tokenizer for a freshly trained vocabulary, without going through files. */
export function trainedTokenizer(trained: TrainedBpe): Tokenizer {
  // Round-trip through JSON text so the tokenizer sees exactly what a saved file holds.
  return new Tokenizer(JSON.parse(JSON.stringify(trained.tokenizerJson)) as TokenizerJson, trained.tokenizerConfig);
}
