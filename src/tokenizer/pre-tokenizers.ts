/**
 * Pre-tokenizers of tokenizer.json: they cut normalized text into the "words" that BPE encodes one
 * by one. Supported: `Sequence`, `Split`, `Digits`, and `ByteLevel` (which must come last: it marks
 * the words as byte-level, and its byte → alphabet mapping is done by the BPE model from the UTF-8
 * bytes, so the pieces here stay ordinary strings).
 */
import { check, TokenizerError } from './errors.ts';
import { compileOniguruma } from './regex.ts';
import { compilePattern } from './pattern.ts';
import type { ComponentJson } from './schema.ts';
import { parseBehavior, splitOnRegex, splitRuns, SplitPattern, type SplitBehavior } from './split.ts';

/** One stage: appends the pieces of `text` to `out`. */
export interface PreTokenizerStage {
  split(text: string, out: string[]): void;
}

/** The GPT-2 pattern that `ByteLevel` applies when `use_regex` is true (HF's byte_level.rs). */
export const GPT2_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** A `Split` stage: a pattern plus delimiter behavior. */
export class SplitStage implements PreTokenizerStage {
  private readonly pattern: SplitPattern;
  constructor(
    re: RegExp,
    readonly behavior: SplitBehavior,
    readonly invert: boolean,
  ) {
    this.pattern = new SplitPattern(re);
  }
  split(text: string, out: string[]): void {
    splitOnRegex(text, this.pattern, this.behavior, this.invert, out);
  }
}

/** `Digits`: numeric characters (Unicode N) isolated one by one, or grouped into runs. */
class DigitsStage implements PreTokenizerStage {
  constructor(private readonly individual: boolean) {}
  split(text: string, out: string[]): void {
    const ends: number[] = [];
    const isMatch: boolean[] = [];
    let last = 0;
    for (let i = 0; i < text.length;) {
      const cp = text.codePointAt(i)!;
      const w = cp > 0xffff ? 2 : 1;
      if (NUMERIC.test(String.fromCodePoint(cp))) {
        if (i > last) {
          ends.push(i);
          isMatch.push(false);
        }
        ends.push(i + w);
        isMatch.push(true);
        last = i + w;
      }
      i += w;
    }
    if (last < text.length) {
      ends.push(text.length);
      isMatch.push(false);
    }
    splitRuns(text, ends, isMatch, this.individual ? 'Isolated' : 'Contiguous', out);
  }
}
const NUMERIC = /^\p{N}$/u; // Rust's char::is_numeric

/** `ByteLevel` as a pre-tokenizer: optional prefix space, optional GPT-2 regex split. */
class ByteLevelStage implements PreTokenizerStage {
  private readonly pattern: SplitPattern | null;
  constructor(
    private readonly addPrefixSpace: boolean,
    useRegex: boolean,
  ) {
    this.pattern = useRegex ? new SplitPattern(compileOniguruma(GPT2_PATTERN)) : null;
  }
  split(text: string, out: string[]): void {
    if (this.addPrefixSpace && !text.startsWith(' ')) text = ' ' + text;
    if (this.pattern === null) {
      if (text.length > 0) out.push(text);
    } else {
      splitOnRegex(text, this.pattern, 'Isolated', false, out);
    }
  }
}

/**
 * The whole pre-tokenizer: its stages, applied in order to every piece of the previous one.
 * Words are produced depth-first (each piece of stage k goes through the later stages before the
 * next piece), so only a few short-lived arrays exist at a time: a multi-megabyte text does not
 * leave hundreds of thousands of strings alive at once for the garbage collector to move.
 */
export class PreTokenizer {
  /** One reusable output buffer per stage. */
  private readonly buffers: string[][];

  constructor(readonly stages: readonly PreTokenizerStage[]) {
    this.buffers = stages.map(() => []);
  }

  /** Appends the words of `text` to `out`. */
  split(text: string, out: string[]): void {
    this.forEachWord(text, (w) => out.push(w));
  }

  /** Calls `emit` with each word of `text`, in order. */
  forEachWord(text: string, emit: (word: string) => void): void {
    if (this.stages.length === 0) {
      if (text.length > 0) emit(text);
      return;
    }
    this.run(0, text, emit);
  }

  private run(stage: number, text: string, emit: (word: string) => void): void {
    const buf = this.buffers[stage]!;
    const start = buf.length; // re-entrant: a nested call appends after its caller's pieces
    this.stages[stage]!.split(text, buf);
    const end = buf.length;
    const last = stage === this.stages.length - 1;
    for (let k = start; k < end; k++) {
      if (last) emit(buf[k]!);
      else this.run(stage + 1, buf[k]!, emit);
    }
    buf.length = start;
  }
}

/**
 * Builds the pre-tokenizer of a tokenizer.json node. Throws TokenizerError unless the pipeline is
 * byte-level (a ByteLevel stage, last), since the BPE model here only does byte-level BPE.
 */
export function buildPreTokenizer(node: ComponentJson | null | undefined): PreTokenizer {
  check(node !== null && node !== undefined, 'pre_tokenizer is missing: only byte-level BPE tokenizers are supported');
  const flat: ComponentJson[] = [];
  const flatten = (n: ComponentJson) => {
    check(typeof n === 'object' && n !== null && typeof n.type === 'string', "pre_tokenizer: node without 'type'");
    if (n.type === 'Sequence') {
      check(Array.isArray(n.pretokenizers), "pre_tokenizer Sequence: 'pretokenizers' must be an array");
      (n.pretokenizers as ComponentJson[]).forEach(flatten);
    } else {
      flat.push(n);
    }
  };
  flatten(node);
  const last = flat[flat.length - 1];
  check(last?.type === 'ByteLevel', 'pre_tokenizer must end with ByteLevel: only byte-level BPE tokenizers are supported');
  const stages = flat.map((n, k): PreTokenizerStage | null => {
    switch (n.type) {
      case 'Split': {
        const where = `pre_tokenizer Split #${k}`;
        return new SplitStage(compilePattern(n.pattern, where), parseBehavior(n.behavior, where), n.invert === true);
      }
      case 'Digits':
        return new DigitsStage(n.individual_digits === true);
      case 'ByteLevel':
        check(k === flat.length - 1, 'pre_tokenizer: ByteLevel must be the last stage');
        // Without prefix space or regex it changes nothing here (DeepSeek-V3, Llama-3): skip it.
        if (n.add_prefix_space !== true && n.use_regex === false) return null;
        return new ByteLevelStage(n.add_prefix_space === true, n.use_regex !== false);
      default:
        throw new TokenizerError(`unsupported pre_tokenizer type '${n.type}'`);
    }
  });
  return new PreTokenizer(stages.filter((st) => st !== null));
}
