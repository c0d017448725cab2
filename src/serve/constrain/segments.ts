/**
 * Grammar pieces for structured output, each deciding which tokens may come next:
 * - `LiteralSegment`: fixed tokens (a tool-call opener such as `<｜tool▁calls▁begin｜>…`), forced;
 * - `ChoiceSegment`: one of a few strings (a function name), byte by byte;
 * - `JsonSegment`: one JSON object (see json-bytes.ts), finishable within the token budget;
 * - `ThinkingSegment`: free reasoning until `</think>`, closed by force past a thinking budget;
 * - `FreeSegment`: anything (the rest of a plain answer).
 * A `ConstraintChain` (constraint.ts) runs them in order.
 *
 * `budget` everywhere is the number of tokens the segment may still use, the one being chosen
 * included; a segment that needs `minTokens()` more to finish refuses choices that would not leave it
 * room.
 */
import { JsonPrefix } from './json-bytes.ts';
import type { TokenBytes } from './token-bytes.ts';

export interface Segment {
  /** Whether `allows` can reject tokens (false: sampling needs no mask). */
  readonly filters: boolean;
  /** Finished: the chain moves on to the next segment. */
  readonly done: boolean;
  /** The only token that may come next, when there is no choice. */
  forced(budget: number): number | null;
  /** Whether `id` may come next. */
  allows(id: number, budget: number): boolean;
  /** Records the chosen token. */
  accept(id: number): void;
  /** Fewest tokens needed to finish from here. */
  minTokens(): number;
}

export class LiteralSegment implements Segment {
  readonly filters = true;
  private at = 0;

  constructor(readonly ids: readonly number[]) {}

  get done(): boolean {
    return this.at >= this.ids.length;
  }

  forced(): number | null {
    return this.done ? null : this.ids[this.at]!;
  }

  allows(id: number): boolean {
    return id === this.ids[this.at];
  }

  accept(): void {
    this.at++;
  }

  minTokens(): number {
    return this.ids.length - this.at;
  }
}

/** One of several byte strings; they must be prefix-free (end each with a delimiter). */
export class ChoiceSegment implements Segment {
  readonly filters = true;
  private matched: Uint8Array = new Uint8Array(0);
  private live: Uint8Array[];

  constructor(
    options: readonly Uint8Array[],
    private readonly bytes: TokenBytes,
  ) {
    if (options.length === 0) throw new RangeError('a choice needs at least one option');
    this.live = [...options];
  }

  get done(): boolean {
    return this.live.some((o) => o.length === this.matched.length);
  }

  forced(): number | null {
    return null;
  }

  private extend(id: number): Uint8Array | null {
    const t = this.bytes[id];
    if (!t || t.length === 0) return null;
    const next = new Uint8Array(this.matched.length + t.length);
    next.set(this.matched);
    next.set(t, this.matched.length);
    return next;
  }

  private fits(option: Uint8Array, prefix: Uint8Array): boolean {
    if (prefix.length > option.length) return false;
    for (let i = this.matched.length; i < prefix.length; i++) if (option[i] !== prefix[i]) return false;
    return true;
  }

  allows(id: number, budget: number): boolean {
    const next = this.extend(id);
    if (!next) return false;
    return this.live.some((o) => this.fits(o, next) && o.length - next.length <= budget - 1);
  }

  accept(id: number): void {
    const next = this.extend(id)!;
    this.live = this.live.filter((o) => this.fits(o, next));
    this.matched = next;
  }

  minTokens(): number {
    return Math.min(...this.live.map((o) => o.length - this.matched.length));
  }
}

export class JsonSegment implements Segment {
  readonly filters = true;
  private state = new JsonPrefix(true);

  constructor(private readonly bytes: TokenBytes) {}

  get done(): boolean {
    return this.state.complete;
  }

  forced(): number | null {
    return null;
  }

  allows(id: number, budget: number): boolean {
    const t = this.bytes[id];
    if (!t || t.length === 0) return false;
    const s = this.state.clone();
    return s.feedAll(t) && s.closing() <= budget - 1;
  }

  accept(id: number): void {
    if (!this.state.feedAll(this.bytes[id] ?? new Uint8Array(0))) throw new Error(`token ${id} is not valid JSON here`);
  }

  minTokens(): number {
    // Every byte exists as a single token in a byte-level vocabulary.
    return this.state.closing();
  }
}

const CLOSE_TAG = new TextEncoder().encode('</think>');

/** Reasoning: free text until `</think>`; past `maxTokens` (or when the budget runs short) the close is forced. */
export class ThinkingSegment implements Segment {
  readonly filters = false;
  private count = 0;
  private forcing = -1;
  private closed = false;
  /** The last bytes seen, to spot `</think>` however it was tokenized. */
  private tail: number[] = [];

  constructor(
    private readonly closeIds: readonly number[],
    private readonly bytes: TokenBytes,
    private readonly maxTokens: number = Infinity,
  ) {}

  get done(): boolean {
    return this.closed;
  }

  forced(budget: number): number | null {
    if (this.closed) return null;
    if (this.forcing < 0 && (this.count >= this.maxTokens || budget <= this.closeIds.length)) this.forcing = 0;
    return this.forcing >= 0 ? this.closeIds[this.forcing]! : null;
  }

  allows(id: number): boolean {
    return this.forcing < 0 || id === this.closeIds[this.forcing];
  }

  accept(id: number): void {
    this.count++;
    if (this.forcing >= 0) {
      if (++this.forcing >= this.closeIds.length) this.closed = true;
      return;
    }
    for (const b of this.bytes[id] ?? []) {
      this.tail.push(b);
      if (this.tail.length > CLOSE_TAG.length) this.tail.shift();
    }
    if (this.tail.length === CLOSE_TAG.length && this.tail.every((b, i) => b === CLOSE_TAG[i])) this.closed = true;
  }

  minTokens(): number {
    if (this.closed) return 0;
    return this.forcing >= 0 ? this.closeIds.length - this.forcing : this.closeIds.length;
  }
}

export class FreeSegment implements Segment {
  readonly filters = false;
  readonly done = false;
  forced(): number | null {
    return null;
  }
  allows(): boolean {
    return true;
  }
  accept(): void {}
  minTokens(): number {
    return 0;
  }
}
