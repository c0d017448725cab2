/**
 * Typed reading of request fields with 422 errors that name the parameter: wrong types, values out of
 * range and unknown fields are refused rather than guessed at (a typo like `max_token` must not be
 * silently ignored).
 */
import { invalidParam } from './errors.ts';

export type Json = Record<string, unknown>;

const describe = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : typeof v);

export class Fields {
  constructor(
    readonly obj: Json,
    /** Prefix for parameter names in errors ('messages[2].'). */
    readonly path: string,
    allowed: readonly string[],
  ) {
    for (const k of Object.keys(obj))
      if (!allowed.includes(k)) throw invalidParam(this.name(k), `unknown parameter '${this.name(k)}'`, 'unknown_parameter');
  }

  name(k: string): string {
    return `${this.path}${k}`;
  }

  has(k: string): boolean {
    return this.obj[k] !== undefined && this.obj[k] !== null;
  }

  private fail(k: string, what: string): never {
    throw invalidParam(this.name(k), `'${this.name(k)}' must be ${what}, got ${describe(this.obj[k])}`);
  }

  string(k: string, opts: { required?: boolean; maxLength?: number } = {}): string | undefined {
    const v = this.obj[k];
    if (v === undefined || v === null) {
      if (opts.required) throw invalidParam(this.name(k), `'${this.name(k)}' is required`, 'missing_parameter');
      return undefined;
    }
    if (typeof v !== 'string') this.fail(k, 'a string');
    if (opts.maxLength !== undefined && v.length > opts.maxLength)
      throw invalidParam(this.name(k), `'${this.name(k)}' is longer than ${opts.maxLength} characters`);
    return v;
  }

  number(k: string, min: number, max: number, opts: { integer?: boolean; exclusiveMin?: boolean } = {}): number | undefined {
    const v = this.obj[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(k, opts.integer ? 'an integer' : 'a number');
    if (opts.integer && !Number.isInteger(v)) this.fail(k, 'an integer');
    if (v < min || v > max || (opts.exclusiveMin && v === min)) {
      throw invalidParam(this.name(k), `'${this.name(k)}' must be ${opts.exclusiveMin ? '>' : '≥'} ${min} and ≤ ${max}, got ${v}`);
    }
    return v;
  }

  boolean(k: string): boolean | undefined {
    const v = this.obj[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(k, 'a boolean');
    return v;
  }

  object(k: string): Json | undefined {
    const v = this.obj[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(k, 'an object');
    return v as Json;
  }

  array(k: string, maxItems: number): unknown[] | undefined {
    const v = this.obj[k];
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) this.fail(k, 'an array');
    if (v.length > maxItems) throw invalidParam(this.name(k), `'${this.name(k)}' has more than ${maxItems} items`);
    return v;
  }

  oneOf<T extends string>(k: string, values: readonly T[]): T | undefined {
    const v = this.string(k);
    if (v === undefined) return undefined;
    if (!(values as readonly string[]).includes(v))
      throw invalidParam(this.name(k), `'${this.name(k)}' must be one of ${values.map((x) => `'${x}'`).join(', ')}, got '${v}'`);
    return v as T;
  }

  /** `stop`: a string or up to `max` strings. */
  stopStrings(k: string, max: number): string[] {
    const v = this.obj[k];
    if (v === undefined || v === null) return [];
    const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : this.fail(k, 'a string or an array of strings');
    if (list.length > max) throw invalidParam(this.name(k), `'${this.name(k)}' has more than ${max} stop sequences`);
    for (const s of list)
      if (typeof s !== 'string' || s.length === 0 || s.length > 512) this.fail(k, 'non-empty strings (≤ 512 characters)');
    return list as string[];
  }
}

/** An element of an array parameter that must be an object. */
export function objectAt(list: unknown[], i: number, param: string): Json {
  const v = list[i];
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw invalidParam(`${param}[${i}]`, `'${param}[${i}]' must be an object, got ${describe(v)}`);
  return v as Json;
}
