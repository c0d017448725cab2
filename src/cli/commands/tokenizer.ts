/** `dsts tokenizer train`: trains a byte-level BPE vocabulary and saves tokenizer.json + tokenizer_config.json. */
import type { Command } from '../command.ts';
import { numberFlag, parse } from '../args.ts';
import { UserError } from '../errors.ts';
import { readCorpus, saveTrainedTokenizer, trainBpe, type TrainProgress } from '../../tokenizer/index.ts';
import { asUserErrors } from './tokenize.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const usage = `usage: dsts tokenizer train --corpus <file|dir> --vocab-size N --out <dir> [options]

Trains a byte-level BPE tokenizer (DeepSeek-V3 pre-tokenizer by default) and writes
<dir>/tokenizer.json and <dir>/tokenizer_config.json, loadable by HF tokenizers / transformers and
by 'dsts tokenize'. The corpus is plain text, JSONL with a "text" field (.jsonl/.ndjson), or a
folder of such files. Progress goes to stderr.

  --corpus <path>        corpus file or folder (required)
  --vocab-size N         vocabulary size, special tokens and 256 byte tokens included (required)
  --out <dir>            output folder (required)
  --min-frequency N      least pair frequency to merge (default 2)
  --special <a,b,...>    special tokens (default <｜begin▁of▁sentence｜>,<｜end▁of▁sentence｜>)
  --bos <token>          BOS token (default: the first special token, if any)
  --eos <token>          EOS token (default: the second special token, if any)
  --pattern <regex>      a Split regex to use instead of DeepSeek-V3's (repeatable)
  --force                overwrite an existing tokenizer.json`;

const DEFAULT_SPECIALS = ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>'];

/** Progress lines on stderr, at most one per second (and the last of each phase). */
function progressPrinter(): (p: TrainProgress) => void {
  let last = 0;
  let lastPhase = '';
  return (p) => {
    const now = Date.now();
    const final = p.phase === 'merge' ? p.detail === 0 : false;
    if (now - last < 1000 && p.phase === lastPhase && !final) return;
    last = now;
    lastPhase = p.phase;
    if (p.phase === 'count') process.stderr.write(`counting words: ${p.done} texts, ${p.detail} distinct words\n`);
    else process.stderr.write(`merging: ${p.done}/${p.total} merges${p.detail ? `, last pair frequency ${p.detail}` : ' (done)'}\n`);
  };
}

const command: Command = {
  summary: 'train a byte-level BPE tokenizer (dsts tokenizer train …)',
  usage,
  async run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'train') {
      throw new UserError(
        `${sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`}: the only one is 'train' (see 'dsts tokenizer --help')`,
      );
    }
    const { values } = parse(rest, {
      corpus: { type: 'string' },
      'vocab-size': { type: 'string' },
      out: { type: 'string' },
      'min-frequency': { type: 'string' },
      special: { type: 'string' },
      bos: { type: 'string' },
      eos: { type: 'string' },
      pattern: { type: 'string', multiple: true },
      force: { type: 'boolean', default: false },
    });
    if (values.corpus === undefined) throw new UserError('--corpus <file|dir> is required');
    if (values.out === undefined) throw new UserError('--out <dir> is required');
    if (values['vocab-size'] === undefined) throw new UserError('--vocab-size N is required');
    const vocabSize = numberFlag(values['vocab-size'], 'vocab-size', 0);
    const minFrequency = numberFlag(values['min-frequency'], 'min-frequency', 2);
    const specials = values.special === undefined ? DEFAULT_SPECIALS : values.special.split(',').filter((s) => s !== '');
    const out = values.out;
    // Check before the (long) training, not after.
    if (existsSync(join(out, 'tokenizer.json')) && !values.force) {
      throw new UserError(`${join(out, 'tokenizer.json')} already exists (use --force to overwrite)`);
    }
    const t0 = Date.now();
    const trained = asUserErrors(() =>
      trainBpe(readCorpus(values.corpus!), {
        vocabSize,
        minFrequency,
        specialTokens: specials,
        bosToken: values.bos ?? specials[0],
        eosToken: values.eos ?? specials[1],
        pattern: values.pattern,
        onProgress: progressPrinter(),
      }),
    );
    const files = asUserErrors(() => saveTrainedTokenizer(out, trained, { force: values.force }));
    const s = trained.stats;
    process.stderr.write(
      `trained in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${s.texts} texts, ${s.distinctWords} distinct words, ${s.merges} merges, vocabulary ${s.vocabSize}` +
        (s.vocabSize < vocabSize ? ` (corpus too small for ${vocabSize} at min frequency ${minFrequency})` : '') +
        `\nwrote ${files.join(', ')}\n`,
    );
    return 0;
  },
};
export default command;
