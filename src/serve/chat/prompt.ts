/**
 * Chat messages → the prompt the model reads, through the model's own chat template:
 * - earlier assistant turns lose their reasoning (`reasoning_content`, and any `<think>…</think>` at
 *   the start of their content): R1 is meant to see its answers, not its past thinking;
 * - tools go to the template as `tools` when it renders them; otherwise (DeepSeek-V3's template) they
 *   are described in the system prompt, in the layout DeepSeek's own API uses;
 * - an R1-style model's answer starts inside `<think>\n`, added when its template leaves it out;
 * - chat prefix completion (DeepSeek): a last assistant message with `prefix: true` is not closed —
 *   the prompt ends with its text, and the model continues it.
 */
import type { ChatMessage } from '../../tokenizer/index.ts';
import { forceThinkingOpen, promptOpensThinking } from '../../generate/index.ts';
import type { ServedModel } from '../served-model.ts';
import { ApiError } from '../http/errors.ts';
import type { ChatMessageIn, ToolSpec } from './request.ts';

export interface ChatPrompt {
  text: string;
  ids: number[];
  /** The output starts inside a `<think>` block. */
  opensThinking: boolean;
}

/** Drops a leading reasoning block from an earlier answer. */
export function withoutThinking(content: string): string {
  const end = content.lastIndexOf('</think>');
  return end >= 0 ? content.slice(end + '</think>'.length).trimStart() : content;
}

/** DeepSeek's system-prompt description of the available functions. */
export function describeTools(tools: readonly ToolSpec[]): string {
  const lines = ['## Tools', '', '### Function', '', 'You have the following functions available:', ''];
  for (const t of tools) {
    const spec = {
      name: t.function.name,
      description: t.function.description ?? '',
      parameters: t.function.parameters ?? { type: 'object', properties: {} },
    };
    lines.push(`- \`${t.function.name}\`:`, '```json', JSON.stringify(spec, null, 2), '```', '');
  }
  return lines.join('\n').trimEnd();
}

function templateMessage(m: ChatMessageIn): ChatMessage {
  const out: ChatMessage = { role: m.role, content: m.content };
  if (m.role === 'assistant') {
    out.content = m.content === null ? null : withoutThinking(m.content);
    if (m.toolCalls) {
      out.tool_calls = m.toolCalls;
      if (out.content === '') out.content = null; // templates test `content is none` for call-only turns
    }
  }
  if (m.name !== undefined) out.name = m.name;
  if (m.toolCallId !== undefined) out.tool_call_id = m.toolCallId;
  return out;
}

/** Renders and encodes the prompt for a chat request. */
export function buildChatPrompt(model: ServedModel, messages: readonly ChatMessageIn[], tools: readonly ToolSpec[]): ChatPrompt {
  const last = messages[messages.length - 1]!;
  const prefix = last.prefix ? last : null;
  const history = (prefix ? messages.slice(0, -1) : messages).map(templateMessage);
  let templateTools: unknown[] | undefined;
  if (tools.length > 0) {
    if (model.templateRendersTools) {
      templateTools = tools as unknown[];
    } else {
      const description = describeTools(tools);
      const sys = history.findIndex((m) => m.role === 'system');
      if (sys >= 0) history[sys] = { ...history[sys]!, content: `${String(history[sys]!.content ?? '')}\n\n${description}` };
      else history.unshift({ role: 'system', content: description });
    }
  }
  let text: string;
  try {
    text = model.tokenizer.applyChatTemplate(history, {
      addGenerationPrompt: true,
      tools: templateTools,
      chatTemplate: model.fallbackTemplate,
    });
  } catch (e) {
    throw new ApiError(422, `the chat template cannot render these messages: ${(e as Error).message}`, 'template_error', 'messages');
  }
  if (model.reasoning && !prefix) text = forceThinkingOpen(text);
  let opensThinking = promptOpensThinking(text);
  if (prefix) {
    const content = prefix.content ?? '';
    if (opensThinking && prefix.reasoningContent !== undefined && content === '') {
      text += prefix.reasoningContent; // continue the reasoning itself
    } else if (opensThinking) {
      // The prefix is part of the answer: close the reasoning (empty, or the one given) first.
      text += `${prefix.reasoningContent ?? ''}\n</think>\n\n${content}`;
      opensThinking = false;
    } else {
      text += content;
    }
  }
  return { text, ids: model.tokenizer.encode(text), opensThinking };
}
