/**
 * Stop strings on streamed text. Text arrives in deltas (one per token) and a stop string may be split
 * across them, so the matcher holds back the end of the text that could still grow into a stop
 * string, and releases it once it cannot. When a stop string appears, the text before it is released
 * and the stop string itself (and anything after it) is dropped, as OpenAI's API does.
 */
export interface StopPush {
  /** Text now safe to show. */
  text: string;
  /** The stop string that matched, when one did (generation should end). */
  stopped?: string;
}

export class StopStringMatcher {
  private readonly stops: string[];
  private held = '';
  private done = false;

  constructor(stops: readonly string[]) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  /** Whether there is anything to match (no stop strings: every delta passes straight through). */
  get active(): boolean {
    return this.stops.length > 0;
  }

  /** Feeds the next delta of text. After a match, further pushes return nothing. */
  push(delta: string): StopPush {
    if (this.done) return { text: '' };
    if (!this.active) return { text: delta };
    const buf = this.held + delta;
    // The earliest match wins; at equal positions, the longest stop string.
    let at = -1;
    let which = '';
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (at < 0 || i < at || (i === at && s.length > which.length))) {
        at = i;
        which = s;
      }
    }
    if (at >= 0) {
      this.done = true;
      this.held = '';
      return { text: buf.slice(0, at), stopped: which };
    }
    const keep = this.partialSuffix(buf);
    this.held = buf.slice(buf.length - keep);
    return { text: buf.slice(0, buf.length - keep) };
  }

  /** Releases held text at the end of generation (it never completed a stop string). */
  flush(): string {
    const t = this.held;
    this.held = '';
    return t;
  }

  /** Length of the longest suffix of `buf` that is a proper prefix of some stop string. */
  private partialSuffix(buf: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, buf.length); n > best; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
