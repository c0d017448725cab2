/**
 * `POST /v1/completions` request bodies (OpenAI's legacy text completions, DeepSeek's FIM beta):
 * a prompt as text or token ids, an optional `suffix` for fill-in-the-middle, `echo`, and the same
 * sampling fields as chat.
 */
import type { SamplingParams } from '../../generate/index.ts';
import { invalidParam } from '../http/errors.ts';
import { Fields, type Json } from '../http/validate.ts';
import { logitBiasField, samplingFields } from '../chat/request.ts';

export interface CompletionRequest {
  model: string;
  /** Text, or token ids. */
  prompt: string | number[];
  suffix: string | null;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number;
  sampling: SamplingParams;
  stop: string[];
  echo: boolean;
  /** Alternatives per token when logprobs are asked for (undefined: none). */
  logprobs: number | undefined;
  logitBias: Map<number, number>;
  ignoreEos: boolean;
}

export const COMPLETION_FIELDS = [
  'model',
  'prompt',
  'suffix',
  'max_tokens',
  'temperature',
  'top_p',
  'n',
  'stream',
  'stream_options',
  'logprobs',
  'echo',
  'stop',
  'presence_penalty',
  'frequency_penalty',
  'best_of',
  'logit_bias',
  'user',
  'seed',
  'top_k',
  'min_p',
  'repetition_penalty',
  'ignore_eos',
] as const;

/** OpenAI's default for /v1/completions. */
const DEFAULT_MAX_TOKENS = 16;

function promptField(v: unknown): string | number[] {
  const isIds = (a: unknown[]) => a.length > 0 && a.every((x) => typeof x === 'number' && Number.isInteger(x));
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    if (isIds(v)) return v as number[];
    if (v.length === 1 && typeof v[0] === 'string') return v[0];
    if (v.length === 1 && Array.isArray(v[0]) && isIds(v[0] as unknown[])) return v[0] as number[];
    if (v.length > 1) throw invalidParam('prompt', "one prompt per request: 'prompt' must be a string or one list of token ids");
  }
  throw invalidParam('prompt', "'prompt' must be a non-empty string or a list of token ids");
}

export function parseCompletionRequest(body: Json, limits: { maxTokens: number; vocabSize: number }): CompletionRequest {
  const f = new Fields(body, '', COMPLETION_FIELDS);
  const model = f.string('model', { required: true, maxLength: 256 })!;
  if (!f.has('prompt')) throw invalidParam('prompt', "'prompt' is required", 'missing_parameter');
  const prompt = promptField(f.obj.prompt);
  if (prompt.length === 0) throw invalidParam('prompt', "'prompt' is empty");
  const stream = f.boolean('stream') ?? false;
  const so = f.object('stream_options');
  if (so && !stream) throw invalidParam('stream_options', "'stream_options' is only allowed with 'stream': true");
  const includeUsage = so
    ? (new Fields(so, 'stream_options.', ['include_usage', 'continuous_usage_stats']).boolean('include_usage') ?? false)
    : false;
  const { sampling, maxTokens } = samplingFields(f, limits.maxTokens);
  f.number('best_of', 1, 1, { integer: true });
  f.string('user', { maxLength: 1024 });
  const echo = f.boolean('echo') ?? false;
  const logprobs = f.number('logprobs', 0, 20, { integer: true });
  if (echo && logprobs !== undefined) throw invalidParam('echo', "'echo' together with 'logprobs' is not supported");
  return {
    model,
    prompt,
    suffix: f.string('suffix') ?? null,
    stream,
    includeUsage,
    maxTokens: maxTokens ?? DEFAULT_MAX_TOKENS,
    sampling,
    stop: f.stopStrings('stop', 16),
    echo,
    logprobs,
    logitBias: logitBiasField(f, limits.vocabSize),
    ignoreEos: f.boolean('ignore_eos') ?? false,
  };
}
