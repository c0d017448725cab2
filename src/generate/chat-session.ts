/**
 * A multi-turn conversation: the message history, rendered through the tokenizer's chat template each
 * turn, with the reply streamed and split into reasoning and answer. Only the answer goes back into
 * the history — DeepSeek-R1 is meant to see its earlier answers, not its earlier thinking.
 */
import type { Generator, GenerateOptions } from './generate.ts';
import { ThinkingSplitter, promptOpensThinking, type ThinkingDelta } from './thinking.ts';
import type { FinishReason } from './sequence.ts';

/** One chat message (the shape chat templates take; a type alias so it fits index-signature message types). */
export type ChatTurn = {
  role: 'system' | 'user' | 'assistant';
  content: string;
};

/** What a chat needs of a tokenizer (the project's `Tokenizer` fits). */
export interface ChatTokenizer {
  applyChatTemplate(messages: readonly ChatTurn[], options: { addGenerationPrompt?: boolean }): string;
  encode(text: string): number[];
}

export interface ChatSessionOptions extends GenerateOptions {
  /** A system prompt placed before every conversation. */
  system?: string;
}

/** A streamed piece of a reply; the last one carries `finishReason`. */
export interface ChatDelta extends ThinkingDelta {
  finishReason: FinishReason | null;
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

  /** The prompt text for the next reply to `userText`. */
  render(userText: string): string {
    return this.tokenizer.applyChatTemplate([...this.history, { role: 'user', content: userText }], { addGenerationPrompt: true });
  }

  /**
   * Sends a user message and streams the reply as reasoning/content deltas. The turn enters the
   * history when the reply completes (a reply abandoned midway leaves the history unchanged).
   */
  async *send(userText: string): AsyncGenerator<ChatDelta> {
    const prompt = this.render(userText);
    const ids = this.tokenizer.encode(prompt);
    const splitter = new ThinkingSplitter({ startInReasoning: promptOpensThinking(prompt) });
    let content = '';
    const { system: _system, ...gen } = this.options;
    for await (const e of this.generator.stream([ids], gen)) {
      const d = splitter.push(e.text);
      const last = e.finishReason !== null ? splitter.flush() : { reasoning: '', content: '' };
      const delta: ChatDelta = { reasoning: d.reasoning + last.reasoning, content: d.content + last.content, finishReason: e.finishReason };
      content += delta.content;
      if (e.finishReason !== null) this.turns.push({ role: 'user', content: userText }, { role: 'assistant', content });
      if (delta.reasoning || delta.content || delta.finishReason) yield delta;
    }
  }
}
