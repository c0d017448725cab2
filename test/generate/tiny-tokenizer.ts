/**
 * A small byte-level BPE tokenizer built in code, for tests of text features with the fixture models
 * (whose vocabulary is 512: a real tokenizer's ids would not fit). 256 byte tokens, 249 merges of
 * letter pairs and 7 added tokens fill ids 0..511 exactly, so every id a fixture model emits decodes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tokenizer } from '../../src/tokenizer/tokenizer.ts';
import { BYTE_TO_CHAR } from '../../src/tokenizer/bytes.ts';
import type { TokenizerConfigJson, TokenizerJson } from '../../src/tokenizer/schema.ts';

/** R1-style template: the generation prompt opens the reasoning with `<think>\n`. */
export const THINKING_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}<|system|>{{ m.content }}{% elif m.role == 'user' %}<|user|>{{ m.content }}" +
  '{% else %}<|assistant|>{{ m.content }}<|eos|>{% endif %}{% endfor %}{% if add_generation_prompt %}<|assistant|><think>\n{% endif %}';

export const ADDED = ['<|bos|>', '<|eos|>', '<|user|>', '<|assistant|>', '<|system|>', '<think>', '</think>'] as const;

export function tinyTokenizerFiles(chatTemplate = THINKING_TEMPLATE): { json: TokenizerJson; config: TokenizerConfigJson } {
  const vocab: Record<string, number> = {};
  for (let b = 0; b < 256; b++) vocab[BYTE_TO_CHAR[b]!] = b;
  const letters = 'etaoinshrdlucmfw';
  const merges: [string, string][] = [];
  for (const a of letters) for (const c of letters) if (merges.length < 249) merges.push([a, c]);
  merges.forEach(([a, c], i) => (vocab[a + c] = 256 + i));
  const added = ADDED.map((content, i) => ({
    id: 505 + i,
    content,
    special: !content.includes('think'),
    normalized: false,
    lstrip: false,
    rstrip: false,
    single_word: false,
  }));
  const json: TokenizerJson = {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', vocab, merges },
  };
  const config: TokenizerConfigJson = { bos_token: '<|bos|>', eos_token: '<|eos|>', chat_template: chatTemplate };
  return { json, config };
}

export function tinyTokenizer(chatTemplate?: string): Tokenizer {
  const { json, config } = tinyTokenizerFiles(chatTemplate);
  return new Tokenizer(json, config);
}

/** Writes tokenizer.json and tokenizer_config.json into `dir` (created if needed). */
export function writeTinyTokenizer(dir: string, chatTemplate?: string): string {
  const { json, config } = tinyTokenizerFiles(chatTemplate);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return dir;
}
