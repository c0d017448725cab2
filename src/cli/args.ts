/** Argument parsing shared by the subcommands: node's parseArgs, with its errors turned into UserErrors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './errors.ts';
import { QUANT_SCHEMES, isQuantScheme } from '../model/quantize.ts';
import type { QuantScheme } from '../kernels/types.ts';

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
