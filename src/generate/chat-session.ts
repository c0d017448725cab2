/**
 * A multi-turn conversation: the message history, rendered through the tokenizer's chat template each
 * turn, with the reply streamed and split into reasoning and answer. Only the answer goes back into
 * the history — DeepSeek-R1 is meant to see its earlier answers, not its earlier thinking.
 *
 * A conversation outgrows any context eventually (the embedded model's is 512 tokens): before each
 * turn the oldest exchanges are dropped — the system prompt stays — until the prompt leaves room for
 * a reply, and the turn says how many were dropped so the caller can show it. A turn that fails or is
 * abandoned leaves the history as it was.
 */
import type { Generator, GenerateOptions } from './generate.ts';
import { ThinkingSplitter, forceThinkingOpen, promptOpensThinking, type ThinkingDelta } from './thinking.ts';
import type { FinishReason } from './sequence.ts';

/** One chat message (the shape chat templates take; a type alias so it fits index-signature message types). */
export type ChatTurn = {
  role: 'system' | 'user' | 'assistant';
  content: string;
};

/** What a chat needs of a tokenizer (the project's `Tokenizer` fits). */
export interface ChatTokenizer {
  applyChatTemplate(messages: readonly ChatTurn[], options: { addGenerationPrompt?: boolean; chatTemplate?: string }): string;
  encode(text: string): number[];
}

export interface ChatSessionOptions extends GenerateOptions {
  /** A system prompt placed before every conversation. */
  system?: string;
  /** Template to render with instead of the tokenizer's (the plain fallback for a model without one). */
  chatTemplate?: string;
  /** An R1-style model: every reply starts inside `<think>\n`, added when the template leaves it out. */
  reasoning?: boolean;
  /** Prompt + reply tokens the model can hold (default: the generator's context). */
  maxContext?: number;
}

/** A streamed piece of a reply; the last one carries `finishReason`. */
export interface ChatDelta extends ThinkingDelta {
  finishReason: FinishReason | null;
  /** On the first piece only, when the oldest exchanges were dropped to fit the context: how many. */
  dropped?: number;
}

export class ChatSession {
  private turns: ChatTurn[] = [];

  constructor(
    readonly generator: Generator,
    readonly tokenizer: ChatTokenizer,
    readonly options: ChatSessionOptions = {},
  ) {}

  /** The conversation so far (system prompt first, answers without their reasoning). */
  get history(): readonly ChatTurn[] {
    return this.options.system ? [{ role: 'system', content: this.options.system }, ...this.turns] : [...this.turns];
  }

  /** Forgets the conversation (the system prompt stays). */
  reset(): void {
    this.turns = [];
  }

  /** The prompt text for the next reply to `userText`, over the history's last `keep` turns. */
  render(userText: string, keep = this.turns.length): string {
    const system: ChatTurn[] = this.options.system ? [{ role: 'system', content: this.options.system }] : [];
    const turns = this.turns.slice(this.turns.length - keep);
    const text = this.tokenizer.applyChatTemplate([...system, ...turns, { role: 'user', content: userText }], {
      addGenerationPrompt: true,
      chatTemplate: this.options.chatTemplate,
    });
    return this.options.reasoning ? forceThinkingOpen(text) : text;
  }

  /** Tokens kept free for the reply: a quarter of the context, at most the reply budget. */
  private replyRoom(context: number): number {
    return Math.max(1, Math.min(this.options.maxTokens ?? 256, Math.floor(context / 4)));
  }

  /**
   * The prompt for `userText`, dropping the oldest exchanges (user + assistant) until it leaves room
   * for a reply. Returns it with the number of turns dropped. When even the new message alone does
   * not fit, the full prompt is returned and the generator refuses it (RangeError).
   */
  private fit(userText: string): { prompt: string; ids: number[]; dropped: number } {
    const context = this.options.maxContext ?? this.generator.maxContext ?? Infinity;
    let keep = this.turns.length;
    for (;;) {
      const prompt = this.render(userText, keep);
      const ids = this.tokenizer.encode(prompt);
      if (ids.length + this.replyRoom(context) <= context || keep === 0) return { prompt, ids, dropped: this.turns.length - keep };
      keep = Math.max(0, keep - 2);
    }
  }

  /**
   * Sends a user message and streams the reply as reasoning/content deltas. The turn enters the
   * history when the reply completes (a reply abandoned midway, or failing, leaves the history
   * unchanged); exchanges dropped to fit the context leave it for good.
   */
  async *send(userText: string): AsyncGenerator<ChatDelta> {
    const { prompt, ids, dropped } = this.fit(userText);
    const splitter = new ThinkingSplitter({ startInReasoning: promptOpensThinking(prompt) });
    let content = '';
    const { system: _system, chatTemplate: _t, reasoning: _r, maxContext: _c, ...gen } = this.options;
    let first = true;
    for await (const e of this.generator.stream([ids], gen)) {
      const d = splitter.push(e.text);
      const last = e.finishReason !== null ? splitter.flush() : { reasoning: '', content: '' };
      const delta: ChatDelta = { reasoning: d.reasoning + last.reasoning, content: d.content + last.content, finishReason: e.finishReason };
      if (first && dropped > 0) delta.dropped = dropped;
      content += delta.content;
      if (e.finishReason !== null) {
        this.turns.splice(0, dropped);
        this.turns.push({ role: 'user', content: userText }, { role: 'assistant', content });
      }
      if (delta.reasoning || delta.content || delta.finishReason || delta.dropped) yield delta;
      first = false;
    }
  }
}
