/** Argument parsing shared by the subcommands: node's parseArgs, with its errors turned into UserErrors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from './errors.ts';

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
