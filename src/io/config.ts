/**
 * HF `config.json` → a typed, validated ModelConfig (a union on `modelType`). Parse once, at the
 * edge; the rest of the system reads the typed object. Problems (missing file, bad JSON, a missing
 * or mistyped key, an unsupported model_type) are FormatError / MissingFileError naming the file
 * and key.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, withFile } from './errors.ts';
import { parseDeepseekV2, parseDeepseekV3 } from './config/deepseek.ts';
import { parseLlama, parseQwen2 } from './config/dense.ts';
import { ConfigReader, type Json } from './config/reader.ts';
import { MODEL_TYPES, type ModelConfig } from './config/types.ts';

export type * from './config/types.ts';
export { MODEL_TYPES } from './config/types.ts';
export { isMoeLayer } from './config/deepseek.ts';

const parsers: Record<ModelConfig['modelType'], (r: ConfigReader) => ModelConfig> = {
  deepseek_v3: parseDeepseekV3,
  deepseek_v2: parseDeepseekV2,
  qwen2: parseQwen2,
  llama: parseLlama,
};

/**
 * Validates an already-parsed config.json object. `source` names it in errors (a path, or a label
 * such as "params_671b.json#config").
 */
export function parseConfig(json: unknown, source: string): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new FormatError(source, 'config must be a JSON object');
  const r = new ConfigReader(json as Json, source);
  const modelType = r.raw('model_type');
  if (modelType === undefined || modelType === null) r.fail('model_type', 'missing required key');
  if (typeof modelType !== 'string' || !(modelType in parsers)) {
    r.fail('model_type', `unsupported model_type ${JSON.stringify(modelType)} (supported: ${MODEL_TYPES.join(', ')})`);
  }
  return parsers[modelType as ModelConfig['modelType']](r);
}

/** Reads `config.json` from a file path, or from a model folder containing one. */
export function loadConfig(pathOrDir: string): ModelConfig {
  const isDir = withFile(pathOrDir, () => statSync(pathOrDir)).isDirectory();
  const path = isDir ? join(pathOrDir, 'config.json') : pathOrDir;
  const text = withFile(path, () => readFileSync(path, 'utf8'));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError(path, `not valid JSON (${(e as Error).message})`);
  }
  return parseConfig(json, path);
}
