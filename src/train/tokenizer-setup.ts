/**
 * The run's tokenizer: loaded from a tokenizer.json, or trained first on the training corpus with
 * the tokenizer library (DeepSeek's special-token names, so BOS is id 0 and EOS id 1 as in the
 * DeepSeek-V3 config defaults) and saved into the run folder. Either way the files are written into
 * every checkpoint, so a checkpoint is a complete model folder and a resumed run tokenises the same.
 * Their bytes are read once, at setup: the folder they came from may be gone by the next save (a
 * resumed run's source checkpoint is rotated away after `checkpoint.keep` new ones).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadTokenizer, resolveTokenizerFiles, TokenizerError, type Tokenizer } from '../tokenizer/index.ts';
import { saveTrainedTokenizer, trainBpe } from '../tokenizer/train.ts';
import { DEEPSEEK_V3_PATTERNS } from '../tokenizer/index.ts';
import type { DataConfig, TokenizerSource } from './config/run-config.ts';
import { TrainError } from './errors.ts';
import { corpusTexts } from './data/corpus-texts.ts';
import type { CorpusFile } from './data/files.ts';

export const BOS_TOKEN = '<｜begin▁of▁sentence｜>';
export const EOS_TOKEN = '<｜end▁of▁sentence｜>';

/** DeepSeek-V3's pre-tokenizer with every digit split off alone (arithmetic reads digit by digit). */
const SINGLE_DIGIT_PATTERNS = ['\\p{N}', ...DEEPSEEK_V3_PATTERNS.slice(1)];

/** A tokenizer file as it is written into each checkpoint. */
export interface TokenizerFile {
  name: string;
  bytes: Uint8Array;
}

export interface RunTokenizer {
  tokenizer: Tokenizer;
  /** tokenizer.json (and tokenizer_config.json when there is one), held in memory for every save. */
  files: TokenizerFile[];
}

const fileOf = (path: string): TokenizerFile => ({ name: basename(path), bytes: readFileSync(path) });

/** Loads a tokenizer from a file or folder, with tokenizer errors made user-facing. */
export function openTokenizer(path: string): RunTokenizer {
  try {
    const { tokenizerFile, configFile } = resolveTokenizerFiles(path);
    const tokenizer = loadTokenizer(path);
    return { tokenizer, files: (configFile ? [tokenizerFile, configFile] : [tokenizerFile]).map(fileOf) };
  } catch (e) {
    if (e instanceof TokenizerError) throw new TrainError(`tokenizer: ${e.message}`, { cause: e });
    throw e;
  }
}

/** The tokenizer a run asks for; a trained one is written into `runDir` first. */
export function runTokenizer(
  source: TokenizerSource,
  files: readonly CorpusFile[],
  data: DataConfig,
  runDir: string,
  log: (line: string) => void,
): RunTokenizer {
  if (source.kind === 'file') return openTokenizer(source.path);
  log(`training a ${source.vocabSize}-token BPE tokenizer on up to ${source.maxChars.toLocaleString('en-US')} characters of the corpus`);
  const texts = corpusTexts(
    files,
    { textDocuments: data.textDocuments, jsonlField: data.jsonlField },
    data.validation.length > 0 ? 0 : data.valFraction,
    source.maxChars,
  );
  let trained;
  try {
    trained = trainBpe(texts, {
      vocabSize: source.vocabSize,
      minFrequency: source.minFrequency,
      pattern: source.splitDigits ? SINGLE_DIGIT_PATTERNS : undefined,
      specialTokens: [BOS_TOKEN, EOS_TOKEN],
      bosToken: BOS_TOKEN,
      eosToken: EOS_TOKEN,
      // Training packs documents without BOS (EOS separates them), so prompts must not start with one.
      addBosToken: false,
    });
  } catch (e) {
    if (e instanceof TokenizerError) throw new TrainError(`tokenizer training: ${e.message}`, { cause: e });
    throw e;
  }
  saveTrainedTokenizer(runDir, trained, { force: true });
  log(`tokenizer: ${trained.stats.vocabSize} tokens (${trained.stats.merges} merges) → ${join(runDir, 'tokenizer.json')}`);
  return openTokenizer(join(runDir, 'tokenizer.json'));
}

/** The tokenizer files of a checkpoint folder. */
export function checkpointTokenizer(dir: string): RunTokenizer {
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new TrainError(`${dir}: checkpoint has no tokenizer.json`);
  return openTokenizer(join(dir, 'tokenizer.json'));
}
