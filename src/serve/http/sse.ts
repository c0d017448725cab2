/**
 * Server-sent events as OpenAI's streaming API sends them: `data: <json>\n\n` per chunk, `data: [DONE]`
 * at the end, and `: keep-alive` comment lines while nothing else has been sent for a while (a queued
 * request, a long prefill) so proxies and clients do not time out.
 */
import type { ServerResponse } from 'node:http';

export class SseStream {
  private timer: NodeJS.Timeout | null = null;
  private last = Date.now();
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    keepAliveMs: number,
    headers: Record<string, string> = {},
  ) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
    res.flushHeaders();
    if (keepAliveMs > 0) {
      this.timer = setInterval(
        () => {
          if (Date.now() - this.last >= keepAliveMs) this.write(': keep-alive\n\n');
        },
        Math.max(1, Math.floor(keepAliveMs / 2)),
      );
      this.timer.unref();
    }
    res.on('close', () => this.stop());
  }

  private write(text: string): void {
    if (this.closed || this.res.writableEnded || this.res.destroyed) return;
    this.last = Date.now();
    this.res.write(text);
  }

  /** Sends one `data:` event with a JSON payload. */
  send(payload: unknown): void {
    this.write(`data: ${JSON.stringify(payload)}\n\n`);
  }

  /** Sends `data: [DONE]` and ends the response. */
  done(): void {
    this.write('data: [DONE]\n\n');
    this.end();
  }

  end(): void {
    this.stop();
    if (!this.res.writableEnded) this.res.end();
  }

  private stop(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
