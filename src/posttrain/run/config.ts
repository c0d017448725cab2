/**
 * The run-config keys every post-training run shares with pre-training — optimizer, schedule,
 * checkpoint, log, steps, seed, out — read by the same readers (src/train/config), plus the model
 * folder to start from. SFT and GRPO configs add their own sections (sft/config.ts, grpo/config.ts).
 */
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  checkpointConfig,
  logConfig,
  optimizerConfig,
  readJson,
  scheduleConfig,
  setPath,
  type OptimizerConfig,
  type RunConfig,
} from '../../train/config/run-config.ts';
import { isObject, ObjectReader, type JsonObject } from '../../train/config/reader.ts';
import type { ScheduleConfig } from '../../train/schedule.ts';
import { PosttrainError } from '../errors.ts';

export interface CommonConfig {
  /** The file (or label) the config came from. */
  source: string;
  /** The HF model folder training starts from. */
  model: string;
  steps: number;
  seed: number;
  out: string;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  checkpoint: RunConfig['checkpoint'];
  log: RunConfig['log'];
}

/** Reads the shared keys (the caller reads its own and then calls r.done()). */
export function readCommon(
  r: ObjectReader,
  baseDir: string,
  defaults: { lr: number; steps: number; checkpointInterval: number },
): CommonConfig {
  const m = r.string('model');
  if (m === undefined) r.fail('model', 'missing: the model folder to start from (config.json, model.safetensors, tokenizer.json)');
  const model = resolve(baseDir, m);
  if (!existsSync(model) || !statSync(model).isDirectory()) r.fail('model', `no such folder: ${model}`);
  const out = r.string('out');
  if (out === undefined) r.fail('out', 'missing: the output folder (or pass --out)');
  const cfg: CommonConfig = {
    source: r.source,
    model,
    steps: r.int('steps', defaults.steps, 1),
    seed: r.int('seed', 0),
    out: resolve(baseDir, out),
    optimizer: optimizerConfig(r, defaults.lr),
    schedule: scheduleConfig(r, 'custom'),
    checkpoint: checkpointConfig(r, defaults.checkpointInterval),
    log: logConfig(r, 1),
  };
  if (cfg.schedule.warmup >= cfg.steps && cfg.schedule.kind !== 'constant') {
    r.fail('schedule.warmup', `(${cfg.schedule.warmup}) must be below 'steps' (${cfg.steps})`);
  }
  r.raw('source'); // a saved config carries its origin; informational
  r.raw('kind');
  return cfg;
}

/**
 * Reads a config file with command-line overrides (dotted key → value) applied, and hands the
 * object to `parse` with the file's folder for relative paths.
 */
export function loadConfigFile<T>(
  path: string,
  overrides: Record<string, unknown>,
  parse: (json: JsonObject, source: string, baseDir: string) => T,
): T {
  const abs = resolve(path);
  const json = readJson(abs, 'the run config');
  if (!isObject(json)) throw new PosttrainError(`${abs}: a run config must be a JSON object`);
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) setPath(json, k, v);
  return parse(json, abs, dirname(abs));
}
