/**
 * Chat templates: the Jinja template in tokenizer_config.json that turns a list of messages into the
 * prompt text, rendered with @huggingface/jinja (a real Jinja engine) and the variables transformers'
 * `apply_chat_template` passes.
 */
import { Template } from '@huggingface/jinja';
import type { SpecialTokensMap } from './config.ts';
import { TokenizerError } from './errors.ts';

/** One message. `content` may be null (an assistant turn made only of tool calls). */
export interface ChatMessage {
  role: string;
  content?: string | null | unknown[];
  [field: string]: unknown;
}

export interface ChatTemplateOptions {
  /** End with the opening of an assistant turn (default false, as in transformers). */
  addGenerationPrompt?: boolean;
  /** Tool (function) schemas, passed to the template as `tools`. */
  tools?: unknown[];
  /** Retrieval documents, passed as `documents`. */
  documents?: unknown[];
  /** Which of several named templates to use (default: 'default', else the first). */
  templateName?: string;
  /** A template to use instead of the config's. */
  chatTemplate?: string;
  /** More template variables (e.g. `enable_thinking`); they override nothing above. */
  variables?: Record<string, unknown>;
}

const compiled = new Map<string, Template>();

function compile(source: string): Template {
  let t = compiled.get(source);
  if (t === undefined) {
    try {
      t = new Template(source);
    } catch (e) {
      throw new TokenizerError(`chat template does not parse: ${(e as Error).message}`);
    }
    compiled.set(source, t);
  }
  return t;
}

/** Renders `template` for `messages`; special tokens become `bos_token`, `eos_token`, … variables. */
export function renderChatTemplate(
  template: string,
  messages: readonly ChatMessage[],
  options: ChatTemplateOptions,
  specialTokens: SpecialTokensMap,
): string {
  const context: Record<string, unknown> = {
    ...options.variables,
    ...specialTokens,
    messages,
    add_generation_prompt: options.addGenerationPrompt === true,
  };
  if (options.tools !== undefined) context.tools = options.tools;
  if (options.documents !== undefined) context.documents = options.documents;
  try {
    return compile(template).render(context);
  } catch (e) {
    throw new TokenizerError(`chat template failed: ${(e as Error).message}`);
  }
}
