// Shared pieces of the post-training tests: tiny chat models of every family (fixture weights, a
// tokenizer trained in the test, DeepSeek's chat template), temp folders and JSONL writers.
import { writeFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { buildTinyChatModel } from '../helpers/tiny-chat-model.ts';
import { tempDir } from '../train/helpers.ts';

export { tempDir };

export type Family = 'deepseek_v3_tiny' | 'deepseek_v2_tiny' | 'qwen2_tiny' | 'llama_tiny';
export const FAMILIES: readonly Family[] = ['deepseek_v3_tiny', 'deepseek_v2_tiny', 'qwen2_tiny', 'llama_tiny'];

/** A model folder (config, weights, tokenizer with a chat template) removed after the test. */
export function tinyModel(t: TestContext, family: Family = 'deepseek_v3_tiny', template: 'r1' | 'v3' = 'v3'): string {
  const m = buildTinyChatModel({ fixture: family, template });
  t.after(() => m.dispose());
  return m.dir;
}

export function writeJsonl(path: string, rows: readonly unknown[]): string {
  writeFileSync(path, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return path;
}

/** A few short conversations (what a tiny model can memorise in a handful of steps). */
export function chatRows(n = 6): unknown[] {
  const pairs = [
    ['What is the capital of France?', 'Paris.'],
    ['Say hello.', 'Hello! How are you today?'],
    ['Add 1 and 2.', 'The sum is 3.'],
    ['Name a fox.', 'The quick brown fox.'],
  ];
  return Array.from({ length: n }, (_, i) => {
    const [q, a] = pairs[i % pairs.length]!;
    return i % 2 === 0
      ? {
          messages: [
            { role: 'user', content: q },
            { role: 'assistant', content: a },
          ],
        }
      : { prompt: q, completion: a };
  });
}
