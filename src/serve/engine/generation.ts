/**
 * The handle of one request in the scheduler: an async iterator of its token events, its timings
 * and token counts (for `usage` and the metrics), and `cancel()`.
 */
import type { FinishReason, TokenLogprob } from '../../generate/index.ts';

export type { TokenLogprob };

export interface EngineEvent {
  token: number;
  /** Text released by this token (after stop strings; '' while held back). */
  text: string;
  logprob?: TokenLogprob;
  /** Set on the last event. */
  finishReason: FinishReason | null;
}

export class Generation implements AsyncIterable<EngineEvent> {
  /** Prompt tokens, and how many of them came from the prefix cache (set when it starts). */
  cachedTokens = 0;
  completionTokens = 0;
  /** Draft tokens proposed and accepted for it, when the server decodes speculatively (else null). */
  speculation: { drafted: number; accepted: number } | null = null;
  finishReason: FinishReason | null = null;
  readonly queuedAt = performance.now();
  startedAt: number | null = null;
  firstTokenAt: number | null = null;
  finishedAt: number | null = null;
  private readonly buffer: EngineEvent[] = [];
  private wake: (() => void) | null = null;
  private error: unknown = null;
  private ended = false;

  constructor(
    readonly id: number,
    readonly promptTokens: number,
    private readonly onCancel: (g: Generation) => void,
  ) {}

  /** Stops the generation (a client went away); the iterator ends with finish reason 'abort'. */
  cancel(): void {
    if (!this.ended) this.onCancel(this);
  }

  get done(): boolean {
    return this.ended;
  }

  /** @internal scheduler side */
  push(e: EngineEvent): void {
    if (this.ended) return;
    const now = performance.now();
    if (this.firstTokenAt === null) this.firstTokenAt = now;
    this.completionTokens++;
    this.buffer.push(e);
    if (e.finishReason !== null) this.finish(e.finishReason);
    this.notify();
  }

  /** @internal ends without a token (cancelled while queued, or the context is full). */
  end(reason: FinishReason): void {
    if (this.ended) return;
    this.buffer.push({ token: -1, text: '', finishReason: reason });
    this.finish(reason);
    this.notify();
  }

  /** @internal the model failed: the iterator throws. */
  fail(error: unknown): void {
    if (this.ended) return;
    this.error = error;
    this.finish('abort');
    this.notify();
  }

  private finish(reason: FinishReason): void {
    this.finishReason = reason;
    this.finishedAt = performance.now();
    this.ended = true;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<EngineEvent> {
    for (;;) {
      while (this.buffer.length > 0) yield this.buffer.shift()!;
      if (this.error !== null) throw this.error;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }
}
