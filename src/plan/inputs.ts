/**
 * What `dsts plan` and `dsts export` read: the model (a built-in name, a config.json, a model folder,
 * or the model of a training run config) and, from a run config (src/train/config), the sequence
 * length, batch, steps, precision and moments that set the token budget and the layout's defaults.
 */
import { existsSync } from 'node:fs';
import { loadConfig, parseConfig, type ModelConfig } from '../io/config.ts';
import { loadRunConfig, type RunConfig } from '../train/config/run-config.ts';
import { builtinModel, BUILTIN_MODELS } from './builtin-models.ts';
import { PlanError } from './errors.ts';

/** A built-in model name, a config.json, or a folder holding one. */
export function resolveModel(spec: string): ModelConfig {
  const b = builtinModel(spec);
  if (b !== undefined) return b;
  if (!existsSync(spec))
    throw new PlanError(`no such model: '${spec}' (a config.json, a model folder, or one of: ${Object.keys(BUILTIN_MODELS).join(', ')})`);
  return loadConfig(spec);
}

/** The parts of a training run config the planner uses. */
export interface RunFacts {
  run: RunConfig;
  /** The run's model (its vocabulary from the tokenizer it trains when the config leaves it out). */
  model(): ModelConfig;
  seqLen: number;
  /** Sequences per optimizer step. */
  globalBatch: number;
  steps: number;
  tokens: number;
  compute: 'bf16' | 'fp8';
  moments: 'f32' | 'bf16';
}

export function readRun(path: string): RunFacts {
  const run = loadRunConfig(path);
  const model = (): ModelConfig => {
    const json = structuredClone(run.model);
    if (json.vocab_size === undefined || json.vocab_size === null) {
      if (run.tokenizer.kind !== 'train')
        throw new PlanError(`${run.source}: the model has no vocab_size (it comes from the tokenizer): give --model`);
      json.vocab_size = run.tokenizer.vocabSize;
    }
    return parseConfig(json, `${run.source}#model`);
  };
  const globalBatch = run.batchSize * run.gradAccum;
  return {
    run,
    model,
    seqLen: run.seqLen,
    globalBatch,
    steps: run.steps,
    tokens: run.steps * globalBatch * run.seqLen,
    compute: run.precision === 'fp8' ? 'fp8' : 'bf16',
    moments: run.optimizer.momentsDtype,
  };
}

/** Parses a count such as 14.8e12, 14.8T, 300B, 2.5M. */
export function parseCount(v: string, flag: string): number {
  const m = /^([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)([kKMBGT]?)$/.exec(v.trim());
  const mult: Record<string, number> = { '': 1, k: 1e3, K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12 };
  if (m === null) throw new PlanError(`--${flag} expects a number such as 14.8e12 or 14.8T, got '${v}'`);
  return Number(m[1]) * mult[m[2]!]!;
}
