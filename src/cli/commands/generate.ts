/** `dsts generate`: continue a prompt (text or ids) with a checkpoint, streamed or as JSON. */
import type { Command } from '../command.ts';
import {
  parse,
  numberFlag,
  quantizeFlag,
  quantizeOption,
  QUANTIZE_USAGE,
  speculativeFlag,
  speculativeOption,
  SPECULATIVE_USAGE,
  type Options,
} from '../args.ts';
import type { QuantScheme } from '../../kernels/types.ts';
import { UserError } from '../errors.ts';
import {
  loadForGeneration,
  mergeSampling,
  fallbackTemplateFor,
  forceThinkingOpen,
  isReasoningTemplate,
  splitThinking,
  promptOpensThinking,
  type GenerationSetup,
  type SamplingParams,
  type SpeculativeOptions,
} from '../../generate/index.ts';
import { TokenizerError } from '../../tokenizer/errors.ts';
import type { Tokenizer } from '../../tokenizer/tokenizer.ts';

const usage = `usage: dsts generate --model <dir> (--prompt <text> | --ids <list>) [options]

Continues a prompt with the model in <dir> (config.json + safetensors) and streams the text
(or the ids, without a tokenizer). Sampling defaults come from the model's generation_config.json
when it has one (an R1-style chat template: temperature 0.6, top-p 0.95); otherwise greedy. Flags win.

options:
  --model <dir>             checkpoint folder
  --prompt <text>           text prompt (needs a tokenizer; BOS is added as the tokenizer says)
  --ids <list>              prompt token ids, e.g. 1,2,3
  --tokenizer <file|dir>    tokenizer.json (default: the one in the model folder)
  --chat                    wrap the prompt as a user message with the chat template
  --system <text>           system message (with --chat)
  --max-tokens <n>          most tokens to generate (default 256)
  --temperature <t>         0 = greedy (default: the model's, else 0)
  --top-p <p>  --top-k <k>  --min-p <p>
  --repetition-penalty <r>  --frequency-penalty <f>  --presence-penalty <p>
  --seed <n>                seed of the sampler (reproducible runs)
  --stop <text>             stop string (repeatable)
  --ignore-eos              keep going past the end-of-sequence token
  --json                    print {"ids": [...], "text": ...} instead of streaming
${QUANTIZE_USAGE}
${SPECULATIVE_USAGE}`;

/** Flags of the sampler, shared with `dsts chat`. */
export const samplingOptions = {
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  'top-k': { type: 'string' },
  'min-p': { type: 'string' },
  'repetition-penalty': { type: 'string' },
  'frequency-penalty': { type: 'string' },
  'presence-penalty': { type: 'string' },
  seed: { type: 'string' },
} as const satisfies Options;

type Values = Partial<Record<keyof typeof samplingOptions, string>>;

/** The sampling flags that were given (validated); what is not given is left undefined. */
export function samplingFromFlags(v: Values): SamplingParams {
  const opt = (name: keyof Values) => (v[name] === undefined ? undefined : numberFlag(v[name], name, 0));
  const p: SamplingParams = {
    temperature: opt('temperature'),
    topP: opt('top-p'),
    topK: opt('top-k'),
    minP: opt('min-p'),
    repetitionPenalty: opt('repetition-penalty'),
    frequencyPenalty: opt('frequency-penalty'),
    presencePenalty: opt('presence-penalty'),
    seed: opt('seed'),
  };
  if (p.temperature !== undefined && p.temperature < 0) throw new UserError(`--temperature must be ≥ 0, got ${p.temperature}`);
  if (p.topP !== undefined && !(p.topP > 0 && p.topP <= 1)) throw new UserError(`--top-p must be in (0, 1], got ${p.topP}`);
  if (p.topK !== undefined && !(Number.isInteger(p.topK) && p.topK >= 0))
    throw new UserError(`--top-k must be an integer ≥ 0, got ${p.topK}`);
  if (p.minP !== undefined && !(p.minP >= 0 && p.minP <= 1)) throw new UserError(`--min-p must be in [0, 1], got ${p.minP}`);
  if (p.repetitionPenalty !== undefined && !(p.repetitionPenalty > 0))
    throw new UserError(`--repetition-penalty must be > 0, got ${p.repetitionPenalty}`);
  if (p.seed !== undefined && !(Number.isInteger(p.seed) && p.seed >= 0))
    throw new UserError(`--seed must be an integer ≥ 0, got ${p.seed}`);
  return p;
}

/**
 * The sampling a command runs with: the flags, over the checkpoint's defaults (generation_config.json,
 * or R1's for an R1-style template), over the command's own fallback.
 */
export function effectiveSampling(flags: SamplingParams, setup: GenerationSetup, fallback: SamplingParams): SamplingParams {
  return mergeSampling(mergeSampling(fallback, setup.defaults.sampling), flags);
}

/** --max-tokens as a positive integer. */
export function maxTokensFlag(v: string | undefined, fallback: number): number {
  const n = numberFlag(v, 'max-tokens', fallback);
  if (!(Number.isInteger(n) && n >= 1)) throw new UserError(`--max-tokens must be an integer ≥ 1, got ${v}`);
  return n;
}

/** Parses "1,2,3" (spaces allowed) into token ids. */
export function parseIds(text: string): number[] {
  const parts = text.split(/[\s,]+/).filter((s) => s.length > 0);
  if (parts.length === 0) throw new UserError('--ids expects a comma-separated list of token ids, e.g. 1,2,3');
  return parts.map((s) => {
    const n = Number(s);
    if (!(Number.isInteger(n) && n >= 0)) throw new UserError(`--ids: '${s}' is not a token id (an integer ≥ 0)`);
    return n;
  });
}

/** Loads a model for generation, turning tokenizer problems into one-line user errors. */
export function openModel(
  model: string | undefined,
  tokenizer: string | undefined,
  cmd: string,
  quantize?: QuantScheme,
  speculative?: SpeculativeOptions,
): GenerationSetup {
  if (model === undefined) throw new UserError(`${cmd}: --model <dir> is required`);
  return userErrors(() => loadForGeneration(model, tokenizer, { quantize }, { speculative }));
}

/** Runs `fn`, rethrowing tokenizer errors and bad-argument RangeErrors as UserErrors. */
export function userErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof TokenizerError || e instanceof RangeError) throw new UserError(e.message);
    throw e;
  }
}

/** The tokenizer, or a user error saying how to provide one. */
export function requireTokenizer(setup: GenerationSetup, why: string): Tokenizer {
  if (!setup.tokenizer)
    throw new UserError(`${why} needs a tokenizer: the model folder has no tokenizer.json (pass --tokenizer <file|dir>)`);
  return setup.tokenizer;
}

const command: Command = {
  summary: 'continue a prompt with a model (streamed text, or JSON)',
  usage,
  async run(args) {
    const { values: v } = parse(args, {
      model: { type: 'string' },
      prompt: { type: 'string' },
      ids: { type: 'string' },
      tokenizer: { type: 'string' },
      chat: { type: 'boolean' },
      system: { type: 'string' },
      stop: { type: 'string', multiple: true },
      'ignore-eos': { type: 'boolean' },
      json: { type: 'boolean' },
      ...samplingOptions,
      ...quantizeOption,
      ...speculativeOption,
    });
    if ((v.prompt === undefined) === (v.ids === undefined))
      throw new UserError('generate: give exactly one of --prompt <text> and --ids <list>');
    if (v.chat && v.prompt === undefined) throw new UserError('generate: --chat needs --prompt');
    if (v.system !== undefined && !v.chat) throw new UserError('generate: --system needs --chat');
    const flags = samplingFromFlags(v);
    const maxTokens = maxTokensFlag(v['max-tokens'], 256);
    const ids = v.ids === undefined ? undefined : parseIds(v.ids);
    const setup = openModel(v.model, v.tokenizer, 'generate', quantizeFlag(v.quantize), speculativeFlag(v));
    const { generator } = setup;
    const sampling = effectiveSampling(flags, setup, { temperature: 0 });

    let prompt: number[];
    let opensThinking = false;
    if (ids) {
      prompt = ids;
    } else {
      const tok = requireTokenizer(setup, '--prompt');
      let text = v.prompt!;
      if (v.chat) {
        const messages = [...(v.system === undefined ? [] : [{ role: 'system', content: v.system }]), { role: 'user', content: text }];
        // Without a template, the plain layout `dsts serve` and `dsts chat` use.
        text = userErrors(() =>
          tok.applyChatTemplate(messages, { addGenerationPrompt: true, chatTemplate: fallbackTemplateFor(setup.chatTemplate) }),
        );
        if (isReasoningTemplate(setup.chatTemplate)) text = forceThinkingOpen(text);
        opensThinking = promptOpensThinking(text);
      }
      // A raw prompt gets the tokenizer's BOS as HF's pipelines add it; a rendered chat template carries its own.
      prompt = tok.encode(text, { addSpecialTokens: !v.chat });
    }
    if ((v.stop?.length ?? 0) > 0) requireTokenizer(setup, '--stop');

    const options = { maxTokens, sampling, stop: v.stop, stopTokenIds: v['ignore-eos'] ? [] : undefined };
    userErrors(() => generator.decoder().add(generator.request(prompt, options))); // validate before streaming
    const out: number[] = [];
    let text = '';
    let finish: string | null = null;
    const hasText = setup.tokenizer !== undefined;
    for await (const e of generator.stream([prompt], options)) {
      out.push(e.token);
      text += e.text;
      finish = e.finishReason ?? finish;
      if (!v.json) process.stdout.write(hasText ? e.text : `${out.length > 1 ? ' ' : ''}${e.token}`);
    }
    if (v.json) {
      const result: Record<string, unknown> = { ids: out, text: hasText ? text : null, finish_reason: finish };
      if (v.chat) Object.assign(result, splitThinking(text, { startInReasoning: opensThinking }));
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write('\n');
    }
    return 0;
  },
};

export default command;
