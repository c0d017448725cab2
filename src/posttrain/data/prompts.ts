/**
 * Turning a dataset example into the prompt a policy completes (GRPO, rejection sampling). An
 * example gives `prompt` (a string, or a list of chat messages) or `messages` (a conversation; a
 * final assistant turn, if any, is left out), and the run's `promptTemplate` says how it is written:
 *
 * - `chat`: the tokenizer's chat template with the generation prompt (an R1 template opens `<think>`);
 * - `r1-zero`: DeepSeek-R1-Zero's template (R1 report, Table 1) around the question, for a base model;
 * - `plain`: the prompt text as is.
 */
import type { Tokenizer } from '../../tokenizer/index.ts';
import type { ChatMessage } from '../../tokenizer/chat-template.ts';
import { fallbackTemplateFor } from '../../generate/chat-layout.ts';
import { chatTemplateText } from '../../generate/load.ts';
import { PosttrainError } from '../errors.ts';
import type { Example } from './jsonl.ts';

export const PROMPT_TEMPLATES = ['chat', 'r1-zero', 'plain'] as const;
export type PromptTemplate = (typeof PROMPT_TEMPLATES)[number];

/** DeepSeek-R1-Zero's training template, word for word; `{prompt}` is the question. */
export const R1_ZERO_TEMPLATE =
  'A conversation between User and Assistant. The user asks a question, and the Assistant solves it. ' +
  'The assistant first thinks about the reasoning process in the mind and then provides the user with the answer. ' +
  'The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, ' +
  'i.e., <think> reasoning process here </think> <answer> answer here </answer>. User: {prompt}. Assistant:';

export interface RenderedPrompt {
  text: string;
  ids: number[];
}

const where = (ex: Example) => `${ex.file}:${ex.line + 1}`;

/** The example's conversation up to the reply to write. */
export function promptMessages(ex: Example, system?: string): ChatMessage[] {
  const d = ex.data;
  let messages: ChatMessage[];
  if (typeof d.prompt === 'string') messages = [{ role: 'user', content: d.prompt }];
  else if (Array.isArray(d.prompt)) messages = d.prompt as ChatMessage[];
  else if (Array.isArray(d.messages)) {
    messages = d.messages as ChatMessage[];
    if (messages.length > 0 && messages[messages.length - 1]!.role === 'assistant') messages = messages.slice(0, -1);
  } else throw new PosttrainError(`${where(ex)}: an example needs "prompt" (text or messages) or "messages"`);
  if (messages.length === 0 || !messages.every((m) => typeof m === 'object' && m !== null && typeof m.role === 'string')) {
    throw new PosttrainError(`${where(ex)}: the prompt messages must be objects with a "role" and "content"`);
  }
  return system && messages[0]!.role !== 'system' ? [{ role: 'system', content: system }, ...messages] : messages;
}

/** The question text of an example (for templates that wrap a plain question). */
function questionText(ex: Example): string {
  const m = promptMessages(ex).filter((x) => x.role === 'user');
  const last = m[m.length - 1]?.content;
  if (typeof last !== 'string') throw new PosttrainError(`${where(ex)}: no user question text`);
  return last;
}

/** Renders and encodes an example's prompt. */
export function renderPrompt(ex: Example, tokenizer: Tokenizer, template: PromptTemplate, system?: string): RenderedPrompt {
  if (template === 'chat') {
    const own = chatTemplateText(tokenizer);
    const text = tokenizer.applyChatTemplate(promptMessages(ex, system), {
      addGenerationPrompt: true,
      chatTemplate: fallbackTemplateFor(own),
    });
    return { text, ids: tokenizer.encode(text) };
  }
  const q = questionText(ex);
  const text = template === 'r1-zero' ? R1_ZERO_TEMPLATE.replace('{prompt}', q) : q;
  return { text, ids: tokenizer.encode(text, { addSpecialTokens: true }) };
}
