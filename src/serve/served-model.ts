/**
 * A model folder opened for serving: the checkpoint, its tokenizer, and what the server needs to know
 * about them — its name, stop tokens, context length, whether it reasons in `<think>` blocks, how it
 * writes tool calls, and whether it can fill in the middle.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { CausalLM } from '../model/causal-lm.ts';
import type { ModelConfig } from '../io/config.ts';
import { loadForGeneration } from '../generate/index.ts';
import type { QuantScheme } from '../kernels/types.ts';
import type { Tokenizer } from '../tokenizer/index.ts';
import { UserFacingError } from '../io/errors.ts';
import { tokenBytes, type TokenBytes } from './constrain/token-bytes.ts';
import { toolDialectFor, type ToolDialect } from './chat/tool-dialects.ts';
import { fimFormatFor, type FimFormat } from './completions/fim.ts';

export interface ServedModel {
  /** The name clients pass as `model`. */
  id: string;
  dir: string;
  config: ModelConfig;
  model: CausalLM;
  tokenizer: Tokenizer;
  /** Token ids that end an output. */
  eosIds: number[];
  /** Most tokens (prompt + output) of one sequence. */
  maxContext: number;
  /** The chat template reasons in `<think>` blocks (DeepSeek-R1 and its distills). */
  reasoning: boolean;
  /** The chat template renders `tools` itself (otherwise the server describes them in the system prompt). */
  templateRendersTools: boolean;
  /** The template used when tokenizer_config.json has none (undefined: the tokenizer's own). */
  fallbackTemplate?: string;
  toolDialect: ToolDialect;
  fim: FimFormat | null;
  /** Unix time the server loaded it (the `created` of /v1/models). */
  created: number;
  /** Bytes of every token id, for constrained decoding (built on first use). */
  tokenBytes(): TokenBytes;
}

/**
 * For a tokenizer without a chat template (a base model, a freshly trained one): DeepSeek-LLM's
 * plain "User: … Assistant:" layout, so the chat API and the web chat still work.
 */
export const FALLBACK_CHAT_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}{{ m.content }}\n\n{% elif m.role == 'user' %}User: {{ m.content }}\n\n" +
  "{% elif m.role == 'tool' %}Tool: {{ m.content }}\n\n{% elif m.role == 'assistant' %}Assistant: {{ m.content }}{{ eos_token }}{% endif %}{% endfor %}" +
  '{% if add_generation_prompt %}Assistant:{% endif %}';

export interface ServedModelOptions {
  /** Name to serve it under (default: the folder's name). */
  name?: string;
  /** Cap on the context length (default: the model's max_position_embeddings). */
  maxContext?: number;
  /** Quantise the weights while loading. */
  quantize?: QuantScheme;
}

/** eos ids of generation_config.json, where the released checkpoints list their extra stop tokens. */
function generationConfigEos(dir: string): number[] {
  const path = join(dir, 'generation_config.json');
  if (!existsSync(path)) return [];
  try {
    const e = (JSON.parse(readFileSync(path, 'utf8')) as { eos_token_id?: unknown }).eos_token_id;
    return (Array.isArray(e) ? e : [e]).filter((x): x is number => Number.isInteger(x));
  } catch {
    return [];
  }
}

/** Opens a model folder (config.json, safetensors, tokenizer.json, tokenizer_config.json). */
export function loadServedModel(dir: string, options: ServedModelOptions = {}): ServedModel {
  const path = resolve(dir);
  if (!existsSync(join(path, 'tokenizer.json'))) {
    throw new UserFacingError(`${path}: no tokenizer.json — the server needs the model's tokenizer (tokenizer.json and tokenizer_config.json) in its folder`);
  }
  // The config's and the tokenizer's eos ids come from the generation layer's loader.
  const { config, model, tokenizer: loadedTokenizer, generator } = loadForGeneration(path, undefined, { quantize: options.quantize });
  const tokenizer = loadedTokenizer!;
  const eos = new Set<number>([...generator.eosTokenIds, ...generationConfigEos(path)]);
  const t = tokenizer.config.chat_template;
  const template = typeof t === 'string' ? t : Array.isArray(t) ? t.map((x) => x.template).join('\n') : '';
  let bytes: TokenBytes | null = null;
  const vocab = model.vocabSize;
  return {
    id: options.name ?? basename(path),
    dir: path,
    config,
    model,
    tokenizer,
    eosIds: [...eos].filter((id) => id >= 0 && id < vocab),
    maxContext: Math.min(config.maxPositionEmbeddings, options.maxContext ?? Infinity),
    reasoning: template.includes('</think>') || template.includes('<think>'),
    templateRendersTools: /\btools\b/.test(template),
    fallbackTemplate: template.length > 0 ? undefined : FALLBACK_CHAT_TEMPLATE,
    toolDialect: toolDialectFor(tokenizer),
    fim: fimFormatFor(tokenizer),
    created: Math.floor(Date.now() / 1000),
    tokenBytes: () => (bytes ??= tokenBytes(tokenizer, vocab)),
  };
}
