/** Argument parsing shared by the subcommands: node's parseArgs, with its errors turned into UserErrors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './errors.ts';
import { QUANT_SCHEMES, isQuantScheme } from '../model/quantize.ts';
import type { QuantScheme } from '../kernels/types.ts';
import { MAX_DRAFT_TOKENS, type SpeculativeOptions } from '../generate/speculative/mtp-model.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parse<T extends Options>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new UserError((e as Error).message);
  }
}

/** Reads a numeric flag, rejecting what is not a finite number. */
export function numberFlag(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UserError(`--${name} expects a number, got '${value}'`);
  return n;
}

/** `--quantize <scheme>`, shared by the commands that load a model for inference. */
export const quantizeOption = { quantize: { type: 'string' } } as const satisfies Options;

export const QUANTIZE_USAGE = `  --quantize <scheme>       quantise weights while loading: q8 (int8, 1×32 blocks), q4 (int4, 1×32
                            blocks) or fp8 (e4m3, 128×128 blocks); embedding, norms and router stay`;

/** The --quantize value, checked. */
export function quantizeFlag(v: string | undefined, flag = 'quantize'): QuantScheme | undefined {
  if (v === undefined) return undefined;
  if (!isQuantScheme(v)) throw new UserError(`--${flag} must be one of ${QUANT_SCHEMES.join(', ')}, got '${v}'`);
  return v;
}

/** `--speculative mtp --draft-tokens k`, as vLLM names them (generate, chat, serve). */
export const speculativeOption = { speculative: { type: 'string' }, 'draft-tokens': { type: 'string' } } as const satisfies Options;

export const SPECULATIVE_USAGE = `  --speculative mtp         decode speculatively: the model's MTP module drafts tokens, one forward
                            verifies them (same output when greedy, same distribution when sampling;
                            faster at small batches; needs a checkpoint with MTP weights)
  --draft-tokens <k>        draft tokens per step with --speculative (default 1, at most ${MAX_DRAFT_TOKENS})`;

/** The speculative flags, checked (undefined when --speculative is not given). */
export function speculativeFlag(v: { speculative?: string; 'draft-tokens'?: string }): SpeculativeOptions | undefined {
  if (v.speculative === undefined) {
    if (v['draft-tokens'] !== undefined) throw new UserError('--draft-tokens needs --speculative mtp');
    return undefined;
  }
  if (v.speculative !== 'mtp') throw new UserError(`--speculative must be mtp (the model's own MTP module), got '${v.speculative}'`);
  if (v['draft-tokens'] === undefined) return { method: 'mtp' };
  const k = Number(v['draft-tokens']);
  if (!(Number.isInteger(k) && k >= 1 && k <= MAX_DRAFT_TOKENS))
    throw new UserError(`--draft-tokens must be an integer from 1 to ${MAX_DRAFT_TOKENS}, got '${v['draft-tokens']}'`);
  return { method: 'mtp', draftTokens: k };
}
