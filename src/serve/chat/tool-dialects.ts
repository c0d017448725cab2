/**
 * How a model writes function calls, and how the server reads them back:
 * - `deepseek`: DeepSeek-V3/R1's special tokens,
 *   `<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>NAME\n```json\nARGS\n```<｜tool▁call▁end｜>…<｜tool▁calls▁end｜>`
 *   (V3.1's `<｜tool▁call▁begin｜>NAME<｜tool▁sep｜>ARGS<｜tool▁call▁end｜>` is read too);
 * - `hermes`: `<tool_call>\n{"name": …, "arguments": …}\n</tool_call>` (Qwen2.5 and most other
 *   open models; the fallback for a tokenizer without DeepSeek's tokens).
 * Each dialect also gives the grammar that forces a call when `tool_choice` demands one.
 */
import { randomBytes } from 'node:crypto';
import type { Tokenizer } from '../../tokenizer/index.ts';
import { ChoiceSegment, JsonSegment, LiteralSegment, type Segment } from '../constrain/segments.ts';
import type { TokenBytes } from '../constrain/token-bytes.ts';

export interface ParsedToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ToolDialect {
  name: 'deepseek' | 'hermes';
  /** Text that starts the tool calls in an output. */
  begin: string;
  /** The calls in `text` (which starts at `begin`); empty when none is complete. */
  parse(text: string): ParsedToolCall[];
  /**
   * The grammar of one forced call: to `only` when given, else to any of `names`. The arguments
   * are a JSON object.
   */
  forcedCall(names: readonly string[], only: string | null, tokenizer: Tokenizer, bytes: TokenBytes): Segment[];
}

const utf8 = new TextEncoder();

export function toolCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}

/** Arguments as a JSON string (models sometimes write an object, sometimes a string). */
function argumentsText(args: unknown): string {
  return typeof args === 'string' ? args : JSON.stringify(args ?? {});
}

const DS = {
  callsBegin: '<｜tool▁calls▁begin｜>',
  callsEnd: '<｜tool▁calls▁end｜>',
  callBegin: '<｜tool▁call▁begin｜>',
  callEnd: '<｜tool▁call▁end｜>',
  sep: '<｜tool▁sep｜>',
};

const deepseek: ToolDialect = {
  name: 'deepseek',
  begin: DS.callsBegin,
  parse(text) {
    const calls: ParsedToolCall[] = [];
    const re = /<｜tool▁call▁begin｜>([\s\S]*?)<｜tool▁sep｜>([\s\S]*?)<｜tool▁call▁end｜>/g;
    for (const m of text.matchAll(re)) {
      const head = m[1]!.trim();
      const body = m[2]!;
      const fenced = /^([\s\S]*?)\n```(?:json)?\n([\s\S]*?)\n?```\s*$/.exec(body);
      if (fenced) calls.push({ id: toolCallId(), type: 'function', function: { name: fenced[1]!.trim(), arguments: fenced[2]!.trim() } });
      else calls.push({ id: toolCallId(), type: 'function', function: { name: head, arguments: body.trim() } });
    }
    return calls;
  },
  forcedCall(names, only, tokenizer, bytes) {
    const head = `${DS.callsBegin}${DS.callBegin}function${DS.sep}`;
    const tail = new LiteralSegment(tokenizer.encode(`\n\`\`\`${DS.callEnd}${DS.callsEnd}`));
    if (only !== null) return [new LiteralSegment(tokenizer.encode(`${head}${only}\n\`\`\`json\n`)), new JsonSegment(bytes), tail];
    return [
      new LiteralSegment(tokenizer.encode(head)),
      new ChoiceSegment(
        names.map((n) => utf8.encode(`${n}\n`)),
        bytes,
      ),
      new LiteralSegment(tokenizer.encode('```json\n')),
      new JsonSegment(bytes),
      tail,
    ];
  },
};

const hermes: ToolDialect = {
  name: 'hermes',
  begin: '<tool_call>',
  parse(text) {
    const calls: ParsedToolCall[] = [];
    for (const m of text.matchAll(/<tool_call>\s*([\s\S]*?)\s*<\/tool_call>/g)) {
      try {
        const v = JSON.parse(m[1]!) as { name?: unknown; arguments?: unknown };
        if (typeof v.name === 'string')
          calls.push({ id: toolCallId(), type: 'function', function: { name: v.name, arguments: argumentsText(v.arguments) } });
      } catch {
        // not a call: left out
      }
    }
    return calls;
  },
  forcedCall(names, only, tokenizer, bytes) {
    const tail = new LiteralSegment(tokenizer.encode('}\n</tool_call>'));
    if (only !== null) {
      return [
        new LiteralSegment(tokenizer.encode(`<tool_call>\n{"name": ${JSON.stringify(only)}, "arguments": `)),
        new JsonSegment(bytes),
        tail,
      ];
    }
    return [
      new LiteralSegment(tokenizer.encode('<tool_call>\n{"name": "')),
      new ChoiceSegment(
        names.map((n) => utf8.encode(`${n}"`)),
        bytes,
      ),
      new LiteralSegment(tokenizer.encode(', "arguments": ')),
      new JsonSegment(bytes),
      tail,
    ];
  },
};

/** The dialect a tokenizer's vocabulary implies. */
export function toolDialectFor(tokenizer: Tokenizer): ToolDialect {
  return tokenizer.tokenToId(DS.callsBegin) !== undefined && tokenizer.tokenToId(DS.sep) !== undefined ? deepseek : hermes;
}
