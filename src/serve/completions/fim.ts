/**
 * Fill-in-the-middle prompts (`suffix` of /v1/completions): the model sees the text before and after
 * the gap and writes what goes between. DeepSeek's tokens (V3, DeepSeek-Coder-V2/V2-Lite) and
 * Qwen's (Qwen2.5-Coder) are recognised from the vocabulary.
 */
import type { Tokenizer } from '../../tokenizer/index.ts';

export interface FimFormat {
  name: 'deepseek' | 'qwen';
  /** The prompt text for a gap between `prefix` and `suffix`. */
  render(prefix: string, suffix: string): string;
}

const FORMATS: { name: FimFormat['name']; begin: string; hole: string; end: string }[] = [
  { name: 'deepseek', begin: '<｜fim▁begin｜>', hole: '<｜fim▁hole｜>', end: '<｜fim▁end｜>' },
  { name: 'qwen', begin: '<|fim_prefix|>', hole: '<|fim_suffix|>', end: '<|fim_middle|>' },
];

/** The FIM format whose tokens the tokenizer has, or null. */
export function fimFormatFor(tokenizer: Tokenizer): FimFormat | null {
  for (const f of FORMATS) {
    if ([f.begin, f.hole, f.end].every((t) => tokenizer.tokenToId(t) !== undefined)) {
      return { name: f.name, render: (prefix, suffix) => `${f.begin}${prefix}${f.hole}${suffix}${f.end}` };
    }
  }
  return null;
}
