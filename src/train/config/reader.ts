/**
 * Typed reading of one JSON object of a run config, with every key checked: a key nobody reads is an
 * error (a typo such as "lerning_rate" must not silently train with the default), and every wrong
 * type names the file and the dotted key path.
 */
import { TrainError } from '../errors.ts';

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class ObjectReader {
  private readonly used = new Set<string>();

  constructor(
    readonly json: JsonObject,
    /** The file (or label) the JSON came from. */
    readonly source: string,
    /** Dotted path of this object inside the file ('' at the top). */
    readonly path = '',
  ) {}

  fail(key: string, detail: string): never {
    throw new TrainError(`${this.source}: '${this.path}${key}': ${detail}`);
  }

  /** The raw value of `key`, marking it as known. */
  raw(key: string): unknown {
    this.used.add(key);
    return this.json[key];
  }

  has(key: string): boolean {
    return this.json[key] !== undefined && this.json[key] !== null;
  }

  /** A nested object's reader (an absent key reads as an empty object). */
  object(key: string): ObjectReader {
    const v = this.raw(key);
    if (v === undefined || v === null) return new ObjectReader({}, this.source, `${this.path}${key}.`);
    if (!isObject(v)) this.fail(key, `must be an object, got ${JSON.stringify(v)}`);
    return new ObjectReader(v, this.source, `${this.path}${key}.`);
  }

  number(key: string, fallback: number, check: { min?: number; max?: number; int?: boolean; above?: number } = {}): number {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a number, got ${JSON.stringify(v)}`);
    if (check.int && !Number.isSafeInteger(v)) this.fail(key, `must be an integer, got ${v}`);
    if (check.min !== undefined && v < check.min) this.fail(key, `must be at least ${check.min}, got ${v}`);
    if (check.above !== undefined && v <= check.above) this.fail(key, `must be greater than ${check.above}, got ${v}`);
    if (check.max !== undefined && v > check.max) this.fail(key, `must be at most ${check.max}, got ${v}`);
    return v;
  }

  int(key: string, fallback: number, min = 0): number {
    return this.number(key, fallback, { int: true, min });
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  string(key: string): string | undefined {
    const v = this.raw(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v === '') this.fail(key, `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      this.fail(key, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(v)}`);
    }
    return v as T;
  }

  /** A string or a list of strings, as a list (absent: empty). */
  stringList(key: string): string[] {
    const v = this.raw(key);
    if (v === undefined || v === null) return [];
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s !== '')) {
      this.fail(key, `must be a path or a list of paths, got ${JSON.stringify(v)}`);
    }
    return list as string[];
  }

  /** Fails on any key of this object that no getter asked for. Call after reading all keys. */
  done(): void {
    const unknown = Object.keys(this.json).filter((k) => !this.used.has(k));
    if (unknown.length > 0) {
      const known = [...this.used].sort().join(', ');
      this.fail(unknown[0]!, `unknown key (known here: ${known})`);
    }
  }
}
