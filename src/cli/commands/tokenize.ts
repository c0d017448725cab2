/** `dsts tokenize`: text on stdin (or --text) → JSON array of token ids on stdout. */
import { readFileSync } from 'node:fs';
import type { Command } from '../command.ts';
import { parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { loadTokenizer, TokenizerError, type Tokenizer } from '../../tokenizer/index.ts';

/** Loads a tokenizer, turning its user-facing errors into CLI errors. Shared by the tokenizer commands. */
export function openTokenizer(path: string | undefined): Tokenizer {
  if (path === undefined) throw new UserError('--tokenizer <file|dir> is required');
  return asUserErrors(() => loadTokenizer(path));
}

/** Runs `f`, rethrowing TokenizerErrors as UserErrors (one line, no stack). */
export function asUserErrors<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TokenizerError) throw new UserError(e.message);
    throw e;
  }
}

/** All of stdin as UTF-8 text. */
export function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EAGAIN' || code === 'EOF') return '';
    throw e;
  }
}

const command: Command = {
  summary: 'encode text (stdin) to token ids (JSON on stdout)',
  usage: `usage: dsts tokenize --tokenizer <file|dir> [--special] [--tokens] [--text <string>]

Reads text from stdin (exactly, trailing newline included) or --text, and prints the token ids as
a JSON array. <file|dir> is a tokenizer.json or a folder holding tokenizer.json (and optionally
tokenizer_config.json).

  --tokenizer <path>  tokenizer.json or model folder (required)
  --special           add special tokens (BOS/EOS) as the tokenizer config says
  --tokens            print the token strings instead of ids
  --text <string>     text to encode instead of stdin`,
  async run(args) {
    const { values } = parse(args, {
      tokenizer: { type: 'string' },
      special: { type: 'boolean', default: false },
      tokens: { type: 'boolean', default: false },
      text: { type: 'string' },
    });
    const tokenizer = openTokenizer(values.tokenizer);
    const text = values.text ?? readStdin();
    const opts = { addSpecialTokens: values.special };
    const out = values.tokens ? tokenizer.tokenize(text, opts) : tokenizer.encode(text, opts);
    process.stdout.write(JSON.stringify(out) + '\n');
    return 0;
  },
};
export default command;
