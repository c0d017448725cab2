/**
 * The training-run config (`run.json`): what to train (model config), on what (corpus, tokenizer),
 * how (batching, optimizer, schedule, losses, precision) and where to write it. Parsed once into a
 * typed RunConfig with every default applied and every path made absolute (relative paths are
 * relative to the config file), so the resolved object can be saved with a checkpoint and parsed
 * again on resume to the same thing. See docs/training.md for the format.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { TrainError } from '../errors.ts';
import { PRECISIONS, type Precision } from '../precision.ts';
import { MOMENT_DTYPES, type MomentDtype } from '../optim/adamw.ts';
import { V3_SCHEDULE, type ScheduleConfig, type Staged } from '../schedule.ts';
import { RECIPES, V3_BIAS_GAMMA, V3_INIT_STD, V3_MTP_WEIGHT, readBatchRamp, readStaged, type BatchRamp, type Recipe } from './recipe.ts';
import { isObject, ObjectReader, type JsonObject } from './reader.ts';

/** How a plain-text file is cut into documents (each ends with the EOS separator). */
export type TextDocuments = 'file' | 'paragraph' | 'line';

export interface DataConfig {
  /** Training corpus: .txt/.md files, .jsonl files, or folders of them (recursively). */
  train: string[];
  /** Held-out corpus; when empty, `valFraction` of the training documents are held out instead. */
  validation: string[];
  /** Share of training documents held out (by a hash of file and document number) when `validation` is empty. */
  valFraction: number;
  textDocuments: TextDocuments;
  /** Field of each JSONL object holding the document text. */
  jsonlField: string;
  /** Sequences in the shuffle buffer (memory: shuffleBuffer × (seqLen + 1) × 4 bytes). */
  shuffleBuffer: number;
  /** The document separator token; null: the tokenizer's EOS. */
  eosToken: string | null;
}

export type TokenizerSource =
  | { kind: 'file'; path: string }
  /** Train a byte-level BPE on (up to maxChars of) the training corpus before training the model. */
  | {
      kind: 'train';
      vocabSize: number;
      maxChars: number;
      minFrequency: number;
      /** Every digit its own token (as Llama's and Qwen's tokenizers), not DeepSeek-V3's groups of up to 3. */
      splitDigits: boolean;
    };

export interface OptimizerConfig {
  /** Peak learning rate. */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global gradient-norm clip; 0 turns clipping off. */
  gradClip: number;
  /** Storage of AdamW's moments: f32, or bf16 (DeepSeek-V3 §3.3.3: half the memory). */
  momentsDtype: MomentDtype;
}

export interface RunConfig {
  /** The file (or label) this config came from, for messages. */
  source: string;
  /** The HF config.json of the model, inline (a file named in the config is read in). */
  model: JsonObject;
  data: DataConfig;
  tokenizer: TokenizerSource;
  /** Tokens per sequence (the model sees seqLen inputs and seqLen targets). */
  seqLen: number;
  /** Sequences per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step (gradient accumulation). */
  gradAccum: number;
  /** Optimizer steps of the whole run. */
  steps: number;
  optimizer: OptimizerConfig;
  schedule: ScheduleConfig;
  /** Evaluate on the held-out split every `interval` steps (0: never) over `batches` micro-batches. */
  eval: { interval: number; batches: number };
  /** Whose defaults apply: this project's, or DeepSeek-V3's (recipe.ts). */
  recipe: Recipe;
  /** λ: weight of the mean MTP loss (DeepSeek-V3 §2.2), constant or by stage. */
  mtpWeight: Staged;
  /** α: weight of the sequence-wise balance loss (DeepSeek-V3 §2.1.2). */
  balanceAlpha: number;
  /** How the per-layer balance losses combine: 'sum' (the report's L_Bal per layer, added) or 'mean'. */
  balanceReduction: 'sum' | 'mean';
  /** Auxiliary-loss-free balancing: the router bias moves by γ (constant or by stage) after each step when enabled. */
  biasUpdate: { enabled: boolean; gamma: Staged };
  /** Gradient-accumulation ramp at the start of the run (DeepSeek-V3's batch-size schedule); null: none. */
  batchRamp: BatchRamp | null;
  /** σ of the Normal init of every matrix; null: the model config's initializer_range. */
  initStd: number | null;
  /** GEMM operands of the block linears (precision.ts). */
  precision: Precision;
  seed: number;
  /** Output folder of the run (checkpoints, metrics). */
  out: string;
  /** Save every `interval` steps (0: only at the end and on interrupt); keep the last `keep`. */
  checkpoint: { interval: number; dtype: 'bf16' | 'f32'; keep: number };
  /** Progress/metrics line every `interval` steps when stderr is not a terminal. */
  log: { interval: number };
}

const TEXT_DOCUMENTS = ['file', 'paragraph', 'line'] as const;

/** Reads a JSON file with one-line errors. */
export function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new TrainError(`${path}: cannot read ${what} (${code === 'ENOENT' ? 'no such file' : (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TrainError(`${path}: ${what} is not valid JSON (${(e as Error).message})`);
  }
}

function modelJson(r: ObjectReader, baseDir: string): JsonObject {
  const v = r.raw('model');
  if (v === undefined || v === null) r.fail('model', 'missing: a config.json path or an inline HF model config');
  if (isObject(v)) return structuredClone(v);
  if (typeof v !== 'string') r.fail('model', `must be a config.json path or an object, got ${JSON.stringify(v)}`);
  let path = resolve(baseDir, v);
  try {
    if (statSync(path).isDirectory()) path = join(path, 'config.json');
  } catch {
    r.fail('model', `no such file: ${path}`);
  }
  const json = readJson(path, 'the model config');
  if (!isObject(json)) throw new TrainError(`${path}: the model config must be a JSON object`);
  return json;
}

function tokenizerSource(r: ObjectReader, baseDir: string): TokenizerSource {
  const v = r.raw('tokenizer');
  if (v === undefined || v === null) r.fail('tokenizer', 'missing: a tokenizer.json path, or {"train": {"vocabSize": N}}');
  if (typeof v === 'string') return { kind: 'file', path: resolve(baseDir, v) };
  const t = r.object('tokenizer');
  const path = t.string('path');
  const train = t.raw('train');
  if ((path === undefined) === (train === undefined || train === null)) t.fail('', 'give exactly one of "path" or "train"');
  let out: TokenizerSource;
  if (path !== undefined) out = { kind: 'file', path: resolve(baseDir, path) };
  else {
    const tr = t.object('train');
    out = {
      kind: 'train',
      vocabSize: tr.int('vocabSize', 0, 257),
      maxChars: tr.int('maxChars', 50_000_000, 1),
      minFrequency: tr.int('minFrequency', 2, 1),
      splitDigits: tr.bool('splitDigits', false),
    };
    if (out.vocabSize === 0) tr.fail('vocabSize', 'missing required key');
    tr.done();
  }
  t.done();
  return out;
}

function dataConfig(r: ObjectReader, baseDir: string): DataConfig {
  const d = r.object('data');
  const train = d.stringList('train').map((p) => resolve(baseDir, p));
  if (train.length === 0) d.fail('train', 'missing: the training corpus (files or folders)');
  const validation = d.stringList('validation').map((p) => resolve(baseDir, p));
  if (validation.length > 0 && d.number('valFraction', 0) > 0) d.fail('valFraction', 'give data.validation or data.valFraction, not both');
  const out: DataConfig = {
    train,
    validation,
    valFraction: d.number('valFraction', validation.length > 0 ? 0 : 0.01, { min: 0, max: 0.5 }),
    textDocuments: d.oneOf('textDocuments', TEXT_DOCUMENTS, 'paragraph'),
    jsonlField: d.string('jsonlField') ?? 'text',
    shuffleBuffer: d.int('shuffleBuffer', 1024, 1),
    eosToken: d.string('eosToken') ?? null,
  };
  d.done();
  return out;
}

/** `optimizer` of a run config (AdamW and clipping; post-training runs read the same section). */
export function optimizerConfig(r: ObjectReader, lr = 3e-4): OptimizerConfig {
  const o = r.object('optimizer');
  const optimizer: OptimizerConfig = {
    lr: o.number('lr', lr, { above: 0 }),
    beta1: o.number('beta1', 0.9, { min: 0, max: 0.999999 }),
    beta2: o.number('beta2', 0.95, { min: 0, max: 0.999999 }),
    eps: o.number('eps', 1e-8, { above: 0 }),
    weightDecay: o.number('weightDecay', 0.1, { min: 0 }),
    gradClip: o.number('gradClip', 1.0, { min: 0 }),
    momentsDtype: o.oneOf('momentsDtype', MOMENT_DTYPES, 'f32'),
  };
  o.done();
  return optimizer;
}

/** `checkpoint` of a run config. */
export function checkpointConfig(r: ObjectReader, interval = 500): RunConfig['checkpoint'] {
  const c = r.object('checkpoint');
  const checkpoint = {
    interval: c.int('interval', interval),
    dtype: c.oneOf('dtype', ['bf16', 'f32'] as const, 'bf16'),
    keep: c.int('keep', 3, 1),
  };
  c.done();
  return checkpoint;
}

/** `log` of a run config. */
export function logConfig(r: ObjectReader, interval = 10): RunConfig['log'] {
  const l = r.object('log');
  const log = { interval: l.int('interval', interval, 1) };
  l.done();
  return log;
}

/** `schedule` of a run config (the recipe picks the default kind). */
export function scheduleConfig(r: ObjectReader, recipe: Recipe): ScheduleConfig {
  const s = r.object('schedule');
  const kind = s.oneOf('kind', ['cosine', 'wsd', 'constant', 'deepseek-v3'] as const, recipe === 'deepseek-v3' ? 'deepseek-v3' : 'cosine');
  const warmup = s.int('warmup', 0);
  let out: ScheduleConfig;
  if (kind === 'constant') out = { kind, warmup };
  else if (kind === 'deepseek-v3') {
    const v = V3_SCHEDULE;
    const fraction = (key: string, fallback: number) => s.number(key, fallback, { min: 0, max: 1 });
    out = {
      kind,
      warmup,
      minLrRatio: fraction('minLrRatio', v.minLrRatio),
      decayStart: fraction('decayStart', v.decayStart),
      decayEnd: fraction('decayEnd', v.decayEnd),
      finalStart: fraction('finalStart', v.finalStart),
      finalRatio: fraction('finalRatio', v.finalRatio),
    };
    if (!(out.decayStart < out.decayEnd && out.decayEnd <= out.finalStart)) s.fail('', 'needs decayStart < decayEnd ≤ finalStart');
  } else if (kind === 'cosine') out = { kind, warmup, minLrRatio: s.number('minLrRatio', 0.1, { min: 0, max: 1 }) };
  else {
    out = {
      kind,
      warmup,
      minLrRatio: s.number('minLrRatio', 0.1, { min: 0, max: 1 }),
      decayFraction: s.number('decayFraction', 0.2, { above: 0, max: 1 }),
      decayShape: s.oneOf('decayShape', ['linear', 'cosine', 'sqrt'] as const, 'linear'),
    };
  }
  s.done();
  return out;
}

/**
 * Validates a run config object. `source` names it in errors; relative paths resolve against
 * `baseDir` (the config file's folder).
 */
export function parseRunConfig(json: unknown, source: string, baseDir: string): RunConfig {
  if (!isObject(json)) throw new TrainError(`${source}: a run config must be a JSON object`);
  const r: ObjectReader = new ObjectReader(json, source);
  const model = modelJson(r, baseDir);
  const data = dataConfig(r, baseDir);
  const tokenizer = tokenizerSource(r, baseDir);
  const recipe = r.oneOf('recipe', RECIPES, 'custom');
  const v3 = recipe === 'deepseek-v3';
  const optimizer = optimizerConfig(r);
  const schedule = scheduleConfig(r, recipe);
  const e = r.object('eval');
  const evalCfg = { interval: e.int('interval', 100), batches: e.int('batches', 4, 1) };
  e.done();
  const b = r.object('biasUpdate');
  const biasUpdate = { enabled: b.bool('enabled', true), gamma: readStaged(b, 'gamma', v3 ? V3_BIAS_GAMMA : 0.001) };
  b.done();
  const checkpoint = checkpointConfig(r);
  const log = logConfig(r);
  const steps = r.int('steps', 1000, 1);
  const gradAccum = r.int('gradAccum', 1, 1);
  const initStd =
    r.raw('initStd') === undefined || r.raw('initStd') === null ? (v3 ? V3_INIT_STD : null) : r.number('initStd', 0, { above: 0 });
  const out = r.string('out');
  if (out === undefined) r.fail('out', 'missing: the output folder (or pass --out)');
  const cfg: RunConfig = {
    source,
    model,
    data,
    tokenizer,
    seqLen: r.int('seqLen', 256, 1),
    batchSize: r.int('batchSize', 8, 1),
    gradAccum,
    steps,
    optimizer,
    schedule,
    eval: evalCfg,
    recipe,
    mtpWeight: readStaged(r, 'mtpWeight', v3 ? V3_MTP_WEIGHT : 0.3),
    balanceAlpha: r.number('balanceAlpha', 0.0001, { min: 0 }),
    balanceReduction: r.oneOf('balanceReduction', ['sum', 'mean'] as const, v3 ? 'sum' : 'mean'),
    biasUpdate,
    batchRamp: readBatchRamp(r, recipe, gradAccum, steps),
    initStd,
    precision: r.oneOf('precision', PRECISIONS, 'f32'),
    seed: r.int('seed', 0),
    out: resolve(baseDir, out),
    checkpoint,
    log,
  };
  r.raw('source'); // a saved (resolved) config carries its origin; it is informational
  r.done();
  if (cfg.schedule.warmup >= cfg.steps && cfg.schedule.kind !== 'constant') {
    throw new TrainError(`${source}: 'schedule.warmup' (${cfg.schedule.warmup}) must be below 'steps' (${cfg.steps})`);
  }
  return cfg;
}

/** The resolved config as JSON: what run.json and trainer_state.json store, and parse back to the same. */
export function runConfigJson(cfg: RunConfig): JsonObject {
  const { tokenizer, ...rest } = cfg;
  const tok =
    tokenizer.kind === 'file'
      ? tokenizer.path
      : {
          train: {
            vocabSize: tokenizer.vocabSize,
            maxChars: tokenizer.maxChars,
            minFrequency: tokenizer.minFrequency,
            splitDigits: tokenizer.splitDigits,
          },
        };
  return structuredClone({ ...rest, tokenizer: tok }) as JsonObject;
}

/**
 * Sets `value` at a dotted key path of a raw config object (`optimizer.lr`), creating objects on
 * the way: how command-line flags override the file before validation.
 */
export function setPath(json: JsonObject, path: string, value: unknown): void {
  const keys = path.split('.');
  let obj = json;
  for (const k of keys.slice(0, -1)) {
    if (!isObject(obj[k])) obj[k] = {};
    obj = obj[k] as JsonObject;
  }
  obj[keys[keys.length - 1]!] = value;
}

/**
 * Reads a run config file, applies `overrides` (dotted key → value, already typed), then validates.
 * Overridden paths are taken as given (callers resolve command-line paths against the cwd).
 */
export function loadRunConfig(path: string, overrides: Record<string, unknown> = {}): RunConfig {
  const abs = resolve(path);
  const json = readJson(abs, 'the run config');
  if (!isObject(json)) throw new TrainError(`${abs}: a run config must be a JSON object`);
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) setPath(json, k, v);
  return parseRunConfig(json, abs, dirname(abs));
}
