/**
 * Typed access to the keys of a raw config.json object. Each getter either returns a value of the
 * right type, applies the given default when the key is absent, or throws a FormatError naming the
 * file and key, so the family parsers read as a list of fields.
 */
import { FormatError } from '../errors.ts';

export type Json = Record<string, unknown>;

export class ConfigReader {
  constructor(
    readonly json: Json,
    /** The file (or label) the JSON came from, for error messages. */
    readonly source: string,
    /** Prefix for nested objects, e.g. "rope_scaling.". */
    readonly prefix = '',
  ) {}

  /** A reader over a nested object (`rope_scaling`, `quantization_config`). */
  nested(key: string, obj: Json): ConfigReader {
    return new ConfigReader(obj, this.source, `${this.prefix}${key}.`);
  }

  fail(key: string, detail: string): never {
    throw new FormatError(this.source, detail, `${this.prefix}${key}`);
  }

  has(key: string): boolean {
    return this.json[key] !== undefined;
  }

  /** The raw value; absent keys and explicit nulls are both `undefined`/`null` here. */
  raw(key: string): unknown {
    return this.json[key];
  }

  private present(key: string): unknown {
    const v = this.json[key];
    if (v === undefined || v === null) this.fail(key, 'missing required key');
    return v;
  }

  private checkInt(key: string, v: unknown, min: number): number {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.fail(key, `must be an integer, got ${JSON.stringify(v)}`);
    if (v < min) this.fail(key, `must be at least ${min}, got ${v}`);
    return v;
  }

  private checkNumber(key: string, v: unknown): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a number, got ${JSON.stringify(v)}`);
    return v;
  }

  /** A required integer ≥ `min` (default 1: dimensions and counts). */
  int(key: string, min = 1): number {
    return this.checkInt(key, this.present(key), min);
  }

  /** An integer ≥ `min`, or `fallback` when the key is absent or null. */
  intOr(key: string, fallback: number, min = 1): number {
    const v = this.json[key];
    return v === undefined || v === null ? fallback : this.checkInt(key, v, min);
  }

  /** An integer, or null when the key is absent or null. */
  intOrNull(key: string, min = 1): number | null {
    const v = this.json[key];
    return v === undefined || v === null ? null : this.checkInt(key, v, min);
  }

  /** A required finite number. */
  num(key: string): number {
    return this.checkNumber(key, this.present(key));
  }

  /** A finite number, or `fallback` when absent or null. */
  numOr(key: string, fallback: number): number {
    const v = this.json[key];
    return v === undefined || v === null ? fallback : this.checkNumber(key, v);
  }

  /** A finite number, or null when absent or null. */
  numOrNull(key: string): number | null {
    const v = this.json[key];
    return v === undefined || v === null ? null : this.checkNumber(key, v);
  }

  boolOr(key: string, fallback: boolean): boolean {
    const v = this.json[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  strOr<T extends string | null>(key: string, fallback: T): string | T {
    const v = this.json[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') this.fail(key, `must be a string, got ${JSON.stringify(v)}`);
    return v;
  }

  /** One of `allowed`, or `fallback` when absent or null. `aliases` maps accepted spellings. */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T, aliases: Readonly<Record<string, T>> = {}): T {
    const v = this.json[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'string' && v in aliases) return aliases[v]!;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(key, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  }

  /** An optional nested object: null when absent or null, an error when another type. */
  objectOrNull(key: string): Json | null {
    const v = this.json[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'object' || Array.isArray(v)) this.fail(key, `must be an object, got ${JSON.stringify(v)}`);
    return v as Json;
  }

  /** A token id: an integer, a list of them (several EOS ids), or null. */
  tokenIds(key: string, fallback: number | null): number | number[] | null {
    const v = this.json[key];
    if (v === undefined) return fallback;
    if (v === null) return null;
    if (Array.isArray(v)) return v.map((x, i) => this.checkInt(`${key}[${i}]`, x, 0));
    return this.checkInt(key, v, 0);
  }

  tokenId(key: string, fallback: number | null): number | null {
    const v = this.json[key];
    if (v === undefined) return fallback;
    if (v === null) return null;
    return this.checkInt(key, v, 0);
  }

  stringList(key: string): string[] {
    const v = this.json[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) this.fail(key, `must be a list of strings, got ${JSON.stringify(v)}`);
    return v as string[];
  }

  /** Fails unless `ok`, naming `key`: for cross-field checks like heads % kv heads. */
  require(ok: boolean, key: string, detail: string): void {
    if (!ok) this.fail(key, detail);
  }
}
