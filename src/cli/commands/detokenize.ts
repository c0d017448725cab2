/** `dsts detokenize`: token ids on stdin (JSON array or comma/space list) → text on stdout. */
import type { Command } from '../command.ts';
import { parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { asUserErrors, openTokenizer, readStdin } from './tokenize.ts';

/** Parses `[1, 2, 3]` or `1,2,3` / `1 2 3` into ids. */
export function parseIds(input: string): number[] {
  const s = input.trim();
  if (s === '') return [];
  let items: unknown[];
  if (s.startsWith('[')) {
    try {
      items = JSON.parse(s) as unknown[];
    } catch (e) {
      throw new UserError(`stdin is not a JSON array of ids: ${(e as Error).message}`);
    }
    if (!Array.isArray(items)) throw new UserError('stdin is not a JSON array of ids');
  } else {
    items = s
      .split(/[\s,]+/)
      .filter((x) => x !== '')
      .map(Number);
  }
  return items.map((v, k) => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new UserError(`item ${k} is not a token id: ${JSON.stringify(v)}`);
    return v;
  });
}

const command: Command = {
  summary: 'decode token ids (stdin) to text',
  usage: `usage: dsts detokenize --tokenizer <file|dir> [--skip-special]

Reads token ids from stdin, as a JSON array ([1, 2, 3]) or a comma/space separated list, and
prints the decoded text (no newline added).

  --tokenizer <path>  tokenizer.json or model folder (required)
  --skip-special      leave special tokens out of the text`,
  async run(args) {
    const { values } = parse(args, {
      tokenizer: { type: 'string' },
      'skip-special': { type: 'boolean', default: false },
    });
    const tokenizer = openTokenizer(values.tokenizer);
    const ids = parseIds(readStdin());
    const text = asUserErrors(() => tokenizer.decode(ids, { skipSpecialTokens: values['skip-special'] }));
    process.stdout.write(text);
    return 0;
  },
};
export default command;
