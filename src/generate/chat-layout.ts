/**
 * The chat layout for a tokenizer without a chat template (a base model, a freshly trained one such
 * as the embedded deepseek-ts-nano): DeepSeek-LLM's plain "User: … Assistant:" layout. The server,
 * `dsts chat` and `dsts generate --chat` all use it, so one model folder behaves the same everywhere.
 */
export const FALLBACK_CHAT_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}{{ m.content }}\n\n{% elif m.role == 'user' %}User: {{ m.content }}\n\n" +
  "{% elif m.role == 'tool' %}Tool: {{ m.content }}\n\n{% elif m.role == 'assistant' %}Assistant: {{ m.content }}{{ eos_token }}{% endif %}{% endfor %}" +
  '{% if add_generation_prompt %}Assistant:{% endif %}';

/** The template to render with, given the tokenizer's own ('' when none): undefined means its own. */
export function fallbackTemplateFor(ownTemplate: string): string | undefined {
  return ownTemplate.length > 0 ? undefined : FALLBACK_CHAT_TEMPLATE;
}
