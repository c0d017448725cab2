/**
 * Reasoning output (DeepSeek-R1): the model thinks inside `<think>…</think>`, then answers. These
 * helpers split generated text into `reasoning` and `content`, whole or as it streams.
 *
 * Rules, shared by both forms (the whole-text form is the streaming one run over a single delta, so
 * they always agree):
 * - `<think>` opens the reasoning only at the very start of the output (after whitespace); later it
 *   is ordinary text (code that mentions the tag is not thinking).
 * - R1's chat template already ends the prompt with `<think>\n`, so the output starts inside the
 *   reasoning: pass `startInReasoning` (see `promptOpensThinking`).
 * - The first `</think>` inside the reasoning closes it; everything after is content.
 * - Whitespace around the reasoning, and right after `</think>`, is dropped (R1 writes
 *   `<think>\n…\n</think>\n\n` around its sections).
 * - A tag split across deltas (`</th` + `ink>`) is held back until it is whole or cannot be a tag.
 */

export interface ThinkingOptions {
  /** The output begins inside the reasoning (the prompt opened `<think>`). Default false. */
  startInReasoning?: boolean;
  openTag?: string;
  closeTag?: string;
}

/** Text routed by a push: what goes to the reasoning and what to the answer. */
export interface ThinkingDelta {
  reasoning: string;
  content: string;
}

type State = 'start' | 'reasoning' | 'content';

/** Whether a rendered prompt ends by opening a `<think>` block (R1's template does). */
export function promptOpensThinking(prompt: string, openTag = '<think>'): boolean {
  return prompt.trimEnd().endsWith(openTag);
}

/** Length of the longest suffix of `s` that is a proper prefix of `tag`. */
function partialTagSuffix(s: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, s.length); n > 0; n--) if (s.endsWith(tag.slice(0, n))) return n;
  return 0;
}

/**
 * A generation prompt for an R1-style model that opens its reasoning. DeepSeek-R1's first released
 * template left `<think>` for the model to write, and R1 then sometimes skipped reasoning altogether;
 * DeepSeek's fix (and recommendation) is to start every answer with `<think>\n`. A prompt that closes
 * thinking on purpose (`</think>` at its end: a hybrid model with thinking turned off) is left alone.
 */
export function forceThinkingOpen(prompt: string): string {
  const end = prompt.trimEnd();
  if (end.endsWith('<think>') || end.endsWith('</think>')) return prompt;
  return `${prompt}<think>\n`;
}

export class ThinkingSplitter {
  private state: State;
  private pending = '';
  /** Drop whitespace at the start of the current section. */
  private trimLeading: boolean;
  private readonly openTag: string;
  private readonly closeTag: string;
  /** Whether the output had a reasoning section at all. */
  sawReasoning: boolean;

  constructor(options: ThinkingOptions = {}) {
    this.openTag = options.openTag ?? '<think>';
    this.closeTag = options.closeTag ?? '</think>';
    this.state = options.startInReasoning ? 'reasoning' : 'start';
    this.trimLeading = this.state === 'reasoning';
    this.sawReasoning = this.state === 'reasoning';
  }

  /** True while the output is inside the reasoning. */
  get inReasoning(): boolean {
    return this.state === 'reasoning';
  }

  /** Routes the next delta of generated text. */
  push(delta: string): ThinkingDelta {
    this.pending += delta;
    const out: ThinkingDelta = { reasoning: '', content: '' };
    for (;;) {
      if (this.state === 'start') {
        const body = this.pending.trimStart();
        if (body.length === 0) return out; // only whitespace so far: still undecided
        if (body.startsWith(this.openTag)) {
          this.pending = body.slice(this.openTag.length);
          this.state = 'reasoning';
          this.trimLeading = true;
          this.sawReasoning = true;
          continue;
        }
        if (this.openTag.startsWith(body)) return out; // maybe the tag, cut short
        this.state = 'content';
        continue;
      }
      if (this.state === 'reasoning') {
        if (this.trimLeading) {
          this.pending = this.pending.trimStart();
          if (this.pending.length === 0) return out;
          this.trimLeading = false;
        }
        const at = this.pending.indexOf(this.closeTag);
        if (at >= 0) {
          out.reasoning += this.pending.slice(0, at).trimEnd();
          this.pending = this.pending.slice(at + this.closeTag.length);
          this.state = 'content';
          this.trimLeading = true;
          continue;
        }
        // Hold a possible tag start, and the whitespace before it (it may turn out to be trailing).
        const tag = partialTagSuffix(this.pending, this.closeTag);
        const body = this.pending.slice(0, this.pending.length - tag);
        const keepFrom = body.trimEnd().length;
        out.reasoning += this.pending.slice(0, keepFrom);
        this.pending = this.pending.slice(keepFrom);
        return out;
      }
      // content
      if (this.trimLeading) {
        this.pending = this.pending.trimStart();
        if (this.pending.length === 0) return out;
        this.trimLeading = false;
      }
      out.content += this.pending;
      this.pending = '';
      return out;
    }
  }

  /** Releases what is held at the end of the output. */
  flush(): ThinkingDelta {
    const rest = this.pending;
    this.pending = '';
    if (this.state === 'reasoning') return { reasoning: this.trimLeading ? rest.trim() : rest.trimEnd(), content: '' };
    if (this.state === 'content' && this.trimLeading) return { reasoning: '', content: rest.trimStart() };
    return { reasoning: '', content: rest };
  }
}

/** Splits a whole output into its reasoning and its answer (see the rules above). */
export function splitThinking(text: string, options: ThinkingOptions = {}): ThinkingDelta {
  const s = new ThinkingSplitter(options);
  const a = s.push(text);
  const b = s.flush();
  return { reasoning: a.reasoning + b.reasoning, content: a.content + b.content };
}
