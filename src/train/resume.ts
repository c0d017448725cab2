/**
 * Resuming a run: its saved config (with command-line overrides), the f32 weights it had, and a
 * fingerprint of the corpus its data-loader position refers to.
 */
import { join } from 'node:path';
import { openCheckpoint, type StoredTensor } from '../io/safetensors/index.ts';
import type { MapWeights } from '../model/weights.ts';
import { parseRunConfig, setPath, type RunConfig } from './config/run-config.ts';
import type { JsonObject } from './config/reader.ts';
import type { CorpusFile } from './data/files.ts';
import { readTrainerStateJson, resolveCheckpoint } from './checkpoint.ts';
import { TrainError } from './errors.ts';
import { learningRate } from './schedule.ts';

/**
 * The run config stored in a checkpoint, for `--resume`: the saved config with `overrides`
 * (dotted keys, e.g. {steps: 2000}) applied and `out` set to the run folder the checkpoint is in
 * (so a moved run folder still resumes in place) unless overridden.
 */
export function resumeRunConfig(path: string, overrides: Record<string, unknown> = {}): RunConfig {
  const { checkpoint, runDir } = resolveCheckpoint(path);
  const { run } = readTrainerStateJson(checkpoint);
  if (typeof run.kind === 'string')
    throw new TrainError(`--resume: ${checkpoint} is a 'dsts ${run.kind}' run; continue it with: dsts ${run.kind} --resume ${runDir}`);
  const json: JsonObject = structuredClone(run);
  json.out = runDir;
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) setPath(json, k, v);
  return parseRunConfig(json, join(checkpoint, 'trainer_state.json'), runDir);
}

/**
 * Copies a checkpoint's weights into freshly initialised ones: the f32 master copies from the trainer
 * state when the model file is bf16, otherwise the (f32) model file's own tensors.
 */
export function restoreWeights(weights: MapWeights, dir: string, state: Map<string, StoredTensor>): void {
  const ckpt = openCheckpoint(dir);
  try {
    for (const name of weights.names()) {
      const dst = weights.get(name);
      const src = state.get(`master.${name}`) ?? (ckpt.has(name) ? ckpt.read(name) : undefined);
      if (!src) throw new TrainError(`${dir}: checkpoint lacks '${name}'`);
      if (src.dtype !== 'F32' || src.data.length !== dst.size) {
        throw new TrainError(
          `${dir}: '${name}' is ${src.dtype} [${src.shape}] but the run needs F32 [${dst.shape}] (a model saved without its f32 master weights cannot be resumed exactly)`,
        );
      }
      (dst.data as Float32Array).set(src.data);
    }
  } finally {
    ckpt.close();
  }
}

/** What identifies the corpus a loader position refers to: each file's name and size. */
export function corpusFingerprint(files: readonly CorpusFile[]): [string, number][] {
  return files.map((f) => [f.key, f.size]);
}

/**
 * A warning when the resumed config changes the learning rate the next step gets: the schedule is a
 * function of (step, total steps), so `--steps` below (or above) the original total, or a new peak
 * or schedule, moves the rate at once instead of continuing the curve. Null when it continues.
 */
export function scheduleChangeWarning(saved: JsonObject, now: RunConfig, step: number, runDir: string): string | null {
  let before: RunConfig;
  try {
    before = parseRunConfig(structuredClone(saved), 'the checkpoint run config', runDir);
  } catch {
    return null; // an unreadable saved config is reported elsewhere; nothing to compare with
  }
  const was = learningRate(before.schedule, before.optimizer.lr, step, before.steps);
  const is = learningRate(now.schedule, now.optimizer.lr, step, now.steps);
  if (Math.abs(was - is) <= 1e-9 * Math.max(Math.abs(was), Math.abs(is))) return null;
  const steps = before.steps !== now.steps ? ` (total steps ${before.steps} → ${now.steps})` : '';
  return (
    `warning: the learning rate jumps from ${was.toPrecision(4)} to ${is.toPrecision(4)} at step ${step}${steps}: ` +
    `the schedule is recomputed for the new settings rather than continued` +
    (now.steps < before.steps && now.schedule.kind !== 'constant' ? `; --steps below the original total cuts the decay short` : '')
  );
}
