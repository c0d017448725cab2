/**
 * Loading a tokenizer from disk: a tokenizer.json file, or a model folder holding tokenizer.json and
 * (optionally) tokenizer_config.json. A config next to a given tokenizer.json is read too.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { TokenizerError } from './errors.ts';
import type { TokenizerConfigJson, TokenizerJson } from './schema.ts';
import { Tokenizer, type TokenizerOptions } from './tokenizer.ts';

/** Reads and parses a JSON file, with one-line errors for a missing file or malformed JSON. */
export function readJsonFile<T>(path: string): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TokenizerError(code === 'ENOENT' ? `file not found: ${path}` : `cannot read ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new TokenizerError(`malformed JSON in ${path}: ${(e as Error).message}`);
  }
}

/** Paths of tokenizer.json and tokenizer_config.json (if present) for a file or folder path. */
export function resolveTokenizerFiles(path: string): { tokenizerFile: string; configFile: string | null } {
  if (!existsSync(path)) throw new TokenizerError(`tokenizer not found: ${path}`);
  const isDir = statSync(path).isDirectory();
  const tokenizerFile = isDir ? join(path, 'tokenizer.json') : path;
  if (!existsSync(tokenizerFile)) throw new TokenizerError(`no tokenizer.json in ${path}`);
  const dir = isDir ? path : dirname(path);
  const configFile = join(dir, 'tokenizer_config.json');
  const useConfig = existsSync(configFile) && (isDir || basename(path) !== 'tokenizer_config.json');
  return { tokenizerFile, configFile: useConfig ? configFile : null };
}

/** Loads a tokenizer from a tokenizer.json file or a folder (see module comment). */
export function loadTokenizer(path: string, options: TokenizerOptions = {}): Tokenizer {
  const { tokenizerFile, configFile } = resolveTokenizerFiles(path);
  const json = readJsonFile<TokenizerJson>(tokenizerFile);
  const config = configFile ? readJsonFile<TokenizerConfigJson>(configFile) : {};
  return new Tokenizer(json, config, options);
}
