/**
 * The `dsts distill` run config: a pre-training run config (docs/training.md: the student's model
 * config, data, seqLen, batchSize, steps, optimizer, schedule, eval, checkpoint, seed, out) with a
 * `distill` section:
 *
 *   "distill": {
 *     "teacher": "models/deepseek-ts-nano",   the teacher model folder (any family the project loads)
 *     "initFrom": "models/my-llama",          start the student from this model folder's weights
 *                                             (its config.json is then the student's "model" by default)
 *     "alpha": 0.5,                 weight of the soft-label loss; the hard-label loss gets 1 − α
 *     "temperature": 2.0,           T of both softmaxes
 *     "divergence": "forward_kl",   forward_kl | reverse_kl | jsd
 *     "beta": 0.5,                  the JSD's β (TRL GKD: 0 = forward KL, 1 = reverse KL)
 *     "scaleT2": true,              multiply the soft loss by T² (Hinton)
 *     "teacherCache": {"path": "…", "topK": 32}    store the teacher's top-k once, train without it
 *     "hidden": {"pairs": [[4, 2]], "loss": "mse", "weight": 1}   hidden_states[teacher] ↔ [student]
 *     "attention": {"pairs": [[4, 2]], "weight": 1}    attention of teacher block ↔ student block (1-based)
 *     "onPolicy": {"lambda": 0.5, "promptTokens": 32, "temperature": 1}   GKD: student-written batches
 *   }
 *
 * `tokenizer` defaults to the teacher's tokenizer.json (soft labels need the teacher's vocabulary).
 * Loss: L = (1 − α)·L_student + α·L_soft + w_h·L_hidden + w_a·L_attn, where L_student is the student's own
 * pre-training objective (CE, plus MTP and balance terms when the student has them).
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseRunConfig, runConfigJson, readJson, setPath, type RunConfig } from '../../train/config/run-config.ts';
import { isObject, ObjectReader, type JsonObject } from '../../train/config/reader.ts';
import { readTrainerStateJson, resolveCheckpoint } from '../../train/checkpoint.ts';
import { PosttrainError } from '../errors.ts';
import type { Divergence } from './losses.ts';
import type { HiddenConfig } from './hidden.ts';
import type { AttentionConfig } from './attention.ts';
import type { OnPolicyConfig } from './on-policy.ts';

export interface DistillSection {
  teacher: string;
  /** A model folder the student's weights start from (null: the config's initialisation). */
  initFrom: string | null;
  alpha: number;
  temperature: number;
  divergence: Divergence;
  beta: number;
  scaleT2: boolean;
  teacherCache: { path: string; topK: number } | null;
  hidden: HiddenConfig | null;
  attention: AttentionConfig | null;
  onPolicy: OnPolicyConfig | null;
}

export interface DistillConfig {
  run: RunConfig;
  distill: DistillSection;
}

function readSection(json: unknown, source: string, baseDir: string): DistillSection {
  if (!isObject(json)) throw new PosttrainError(`${source}: "distill" must be an object (the teacher and the losses)`);
  const r: ObjectReader = new ObjectReader(json, `${source}: distill`);
  const t = r.string('teacher');
  if (t === undefined) r.fail('teacher', 'missing: the teacher model folder');
  const teacher = resolve(baseDir, t);
  if (!existsSync(teacher) || !statSync(teacher).isDirectory() || !existsSync(join(teacher, 'config.json')))
    r.fail('teacher', `not a model folder (no config.json): ${teacher}`);
  const init = r.string('initFrom');
  const initFrom = init === undefined ? null : resolve(baseDir, init);
  if (initFrom !== null && !existsSync(join(initFrom, 'config.json')))
    r.fail('initFrom', `not a model folder (no config.json): ${initFrom}`);
  let teacherCache: DistillSection['teacherCache'] = null;
  if (r.raw('teacherCache') !== undefined && r.raw('teacherCache') !== null) {
    const c: ObjectReader = r.object('teacherCache');
    const p = c.string('path');
    if (p === undefined) c.fail('path', 'missing: the folder the top-k soft labels are stored in');
    teacherCache = { path: resolve(baseDir, p), topK: c.int('topK', 32, 1) };
    c.done();
  } else r.raw('teacherCache');
  let hidden: HiddenConfig | null = null;
  if (r.raw('hidden') !== undefined && r.raw('hidden') !== null) {
    const h: ObjectReader = r.object('hidden');
    const pairs = h.raw('pairs');
    const ok =
      Array.isArray(pairs) &&
      pairs.length > 0 &&
      pairs.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => Number.isInteger(x) && (x as number) >= 0));
    if (!ok) h.fail('pairs', 'must be a non-empty list of [teacher layer, student layer] pairs (hidden_states indices, 0 = embeddings)');
    hidden = {
      pairs: (pairs as [number, number][]).map(([a, b]) => [a, b]),
      loss: h.oneOf('loss', ['mse', 'cosine'] as const, 'mse'),
      weight: h.number('weight', 1, { min: 0 }),
    };
    h.done();
  } else r.raw('hidden');
  let attention: AttentionConfig | null = null;
  if (r.raw('attention') !== undefined && r.raw('attention') !== null) {
    const a: ObjectReader = r.object('attention');
    const pairs = a.raw('pairs');
    const ok =
      Array.isArray(pairs) &&
      pairs.length > 0 &&
      pairs.every((p) => Array.isArray(p) && p.length === 2 && p.every((x) => Number.isInteger(x) && (x as number) >= 1));
    if (!ok) a.fail('pairs', 'must be a non-empty list of [teacher block, student block] pairs (blocks numbered from 1)');
    attention = { pairs: (pairs as [number, number][]).map(([x, y]) => [x, y]), weight: a.number('weight', 1, { min: 0 }) };
    a.done();
  } else r.raw('attention');
  let onPolicy: OnPolicyConfig | null = null;
  if (r.raw('onPolicy') !== undefined && r.raw('onPolicy') !== null) {
    const o: ObjectReader = r.object('onPolicy');
    onPolicy = {
      lambda: o.number('lambda', 0.5, { min: 0, max: 1 }),
      promptTokens: o.int('promptTokens', 16, 1),
      temperature: o.number('temperature', 1, { above: 0 }),
    };
    o.done();
  } else r.raw('onPolicy');
  const section: DistillSection = {
    teacher,
    initFrom,
    alpha: r.number('alpha', 0.5, { min: 0 }),
    temperature: r.number('temperature', 1, { above: 0 }),
    divergence: r.oneOf('divergence', ['forward_kl', 'reverse_kl', 'jsd'] as const, 'forward_kl'),
    beta: r.number('beta', 0.5, { min: 0 }),
    scaleT2: r.bool('scaleT2', true),
    teacherCache,
    hidden,
    attention,
    onPolicy,
  };
  if (section.alpha > 1) r.fail('alpha', `must be in [0, 1], got ${section.alpha}`);
  if (section.beta > 1) r.fail('beta', `must be in [0, 1], got ${section.beta}`);
  r.done();
  return section;
}

/** Parses a distill config object (the run config keys plus "distill"). */
export function parseDistillConfig(json: JsonObject, source: string, baseDir: string): DistillConfig {
  if (!isObject(json)) throw new PosttrainError(`${source}: a run config must be a JSON object`);
  const { distill, kind, ...rest } = json;
  if (kind !== undefined && kind !== 'distill') throw new PosttrainError(`${source}: a '${String(kind)}' run config, not a distill one`);
  if (distill === undefined) throw new PosttrainError(`${source}: missing "distill": the teacher and the losses (docs/distillation.md)`);
  const section = readSection(distill, source, baseDir);
  const seqLen = typeof rest.seqLen === 'number' ? rest.seqLen : 256;
  if (section.onPolicy && section.onPolicy.promptTokens >= seqLen)
    throw new PosttrainError(
      `${source}: distill.onPolicy.promptTokens (${section.onPolicy.promptTokens}) must be below seqLen (${seqLen})`,
    );
  if (rest.tokenizer === undefined) rest.tokenizer = join(section.teacher, 'tokenizer.json');
  if ((rest.model === undefined || rest.model === null) && section.initFrom !== null) rest.model = section.initFrom;
  return { run: parseRunConfig(rest, source, baseDir), distill: section };
}

/** What a distill run adds to the saved run config. */
export function distillRunJson(cfg: DistillConfig): JsonObject {
  return { kind: 'distill', distill: structuredClone(cfg.distill) as unknown as JsonObject };
}

/** The resolved config as JSON (parses back to the same). */
export function distillConfigJson(cfg: DistillConfig): JsonObject {
  return { ...runConfigJson(cfg.run), ...distillRunJson(cfg) };
}

/** Reads a config file with command-line overrides (dotted key → value) applied. */
export function loadDistillConfig(path: string, overrides: Record<string, unknown>): DistillConfig {
  const abs = resolve(path);
  const json = readJson(abs, 'the run config');
  if (!isObject(json)) throw new PosttrainError(`${abs}: a run config must be a JSON object`);
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) setPath(json, k, v);
  return parseDistillConfig(json, abs, resolve(abs, '..'));
}

/** The config a distill checkpoint was saved with, `overrides` applied and `out` set to its run folder. */
export function resumeDistillConfig(path: string, overrides: Record<string, unknown>): DistillConfig {
  const { checkpoint, runDir } = resolveCheckpoint(path);
  const { run } = readTrainerStateJson(checkpoint);
  if (run.kind !== 'distill')
    throw new PosttrainError(`--resume: ${checkpoint} is not a 'dsts distill' run (resume it with the command that made it)`);
  const json: JsonObject = structuredClone(run);
  json.out = runDir;
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) setPath(json, k, v);
  return parseDistillConfig(json, join(checkpoint, 'trainer_state.json'), runDir);
}
