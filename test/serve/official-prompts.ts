/**
 * DeepSeek's official prompts as the model card publishes them (a verbatim copy of DeepSeek-R1's
 * README section in fixtures/), read independently of src/serve/search/templates.ts, and filled the
 * way the app fills them (Python's str.format).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const card = readFileSync(new URL('./fixtures/deepseek-r1-official-prompts.md', import.meta.url), 'utf8');

/** The Python string the card assigns to `name` (`name = \` then a `"""…"""` or `'''…'''` literal). */
export function published(name: 'file_template' | 'search_answer_zh_template' | 'search_answer_en_template'): string {
  const m = new RegExp(`${name} = \\\\\\n("""|''')([\\s\\S]*?)\\1`).exec(card);
  assert.ok(m, `the card defines ${name}`);
  return m[2]!;
}

/** Python's str.format for the card's placeholders. */
export function pyFormat(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, k: string) => {
    assert.ok(k in values, `no value for {${k}}`);
    return values[k]!;
  });
}
