/**
 * Routing a chat output as it streams: reasoning (inside `<think>`) to `reasoning_content`, the answer
 * to `content`, and — when tools are in play — everything from the model's tool-call marker on into
 * a buffer parsed into `tool_calls` at the end. Marker text split across deltas is held back until it
 * is whole or cannot be a marker, so no half-marker leaks into `content`.
 */
import { ThinkingSplitter } from '../../generate/index.ts';
import type { ParsedToolCall, ToolDialect } from './tool-dialects.ts';

export interface ChatDelta {
  reasoning: string;
  content: string;
}

export interface ChatOutputOptions {
  /** Split `<think>` blocks off (a reasoning model). */
  reasoning: boolean;
  /** The prompt already opened `<think>`. */
  opensThinking: boolean;
  /** Parse tool calls written in this dialect (null: tools are not in play). */
  tools: ToolDialect | null;
  /** Special-token texts to drop from content (when special tokens are decoded for the tool markers). */
  strip: RegExp | null;
}

/** Length of the longest suffix of `s` that is a proper prefix of `marker`. */
function partialSuffix(s: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, s.length); n > 0; n--) if (s.endsWith(marker.slice(0, n))) return n;
  return 0;
}

export class ChatOutput {
  private readonly splitter: ThinkingSplitter | null;
  private held = '';
  private toolText: string | null = null;
  /** Whole output so far, by channel. */
  reasoning = '';
  content = '';

  constructor(private readonly opts: ChatOutputOptions) {
    this.splitter = opts.reasoning ? new ThinkingSplitter({ startInReasoning: opts.opensThinking }) : null;
  }

  /** True while the output is inside its reasoning. */
  get inReasoning(): boolean {
    return this.splitter?.inReasoning ?? false;
  }

  /** Whether tool-call text has started. */
  get inToolCalls(): boolean {
    return this.toolText !== null;
  }

  push(text: string): ChatDelta {
    const d = this.splitter ? this.splitter.push(text) : { reasoning: '', content: text };
    return this.route(d.reasoning, d.content, false);
  }

  /** Releases everything held; parses tool calls. */
  finish(): { delta: ChatDelta; toolCalls: ParsedToolCall[] } {
    const d = this.splitter ? this.splitter.flush() : { reasoning: '', content: '' };
    const delta = this.route(d.reasoning, d.content, true);
    let toolCalls: ParsedToolCall[] = [];
    if (this.toolText !== null && this.opts.tools) {
      toolCalls = this.opts.tools.parse(this.toolText);
      if (toolCalls.length === 0) {
        // Not a complete call after all (cut off by max_tokens): give the text back as content.
        const rest = this.clean(this.toolText);
        delta.content += rest;
        this.content += rest;
      }
    }
    return { delta, toolCalls };
  }

  private clean(s: string): string {
    return this.opts.strip ? s.replace(this.opts.strip, '') : s;
  }

  private route(reasoning: string, content: string, final: boolean): ChatDelta {
    const out: ChatDelta = { reasoning: this.clean(reasoning), content: '' };
    this.reasoning += out.reasoning;
    if (this.toolText !== null) {
      this.toolText += content;
      return out;
    }
    const marker = this.opts.tools?.begin;
    let text = this.held + content;
    this.held = '';
    if (marker) {
      const at = text.indexOf(marker);
      if (at >= 0) {
        this.toolText = text.slice(at);
        text = text.slice(0, at);
      } else if (!final) {
        const keep = partialSuffix(text, marker);
        this.held = text.slice(text.length - keep);
        text = text.slice(0, text.length - keep);
      }
    }
    out.content = this.clean(text);
    this.content += out.content;
    return out;
  }
}

/** A pattern matching any of the tokenizer's special tokens except `keep` (for `ChatOutputOptions.strip`). */
export function specialTokenPattern(specials: readonly string[], keep: readonly string[]): RegExp | null {
  const list = specials.filter((s) => !keep.includes(s)).sort((a, b) => b.length - a.length);
  if (list.length === 0) return null;
  return new RegExp(list.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
}
