/**
 * The `pattern` field of Split / Replace nodes: `{"String": "..."}` matches the literal text,
 * `{"Regex": "..."}` an Oniguruma regex (translated, see regex.ts).
 */
import { check, TokenizerError } from './errors.ts';
import { compileOniguruma } from './regex.ts';

/** Compiles a tokenizer.json pattern node to a global RegExp. */
export function compilePattern(pattern: unknown, where: string): RegExp {
  check(typeof pattern === 'object' && pattern !== null, `${where}: 'pattern' must be {"String": …} or {"Regex": …}`);
  const p = pattern as Record<string, unknown>;
  if (typeof p.String === 'string') {
    check(p.String.length > 0, `${where}: empty String pattern`);
    return new RegExp(p.String.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&'), 'gu');
  }
  if (typeof p.Regex === 'string') return compileOniguruma(p.Regex);
  throw new TokenizerError(`${where}: 'pattern' must be {"String": …} or {"Regex": …}`);
}
