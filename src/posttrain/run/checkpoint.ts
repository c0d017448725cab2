/**
 * Post-training checkpoints are pre-training's (src/train/checkpoint.ts): `checkpoint-<step>/` with
 * the model in HF format, its tokenizer, and the trainer state — AdamW's moments, f32 master
 * weights, the run config and the data position — so `--resume` continues to the very numbers an
 * uninterrupted run gets, and the folder is a model `dsts generate`, `dsts sft` or `dsts grpo` open.
 */
import type { StoredTensor } from '../../io/safetensors/index.ts';
import { readTrainerState, resolveCheckpoint, saveCheckpoint, type TrainerStateJson } from '../../train/checkpoint.ts';
import { optimizerTensors, restoreOptimizer } from '../../train/state.ts';
import type { RunConfig } from '../../train/config/run-config.ts';
import type { JsonObject } from '../../train/config/reader.ts';
import { PosttrainError } from '../errors.ts';
import type { Policy } from './policy.ts';
import type { PolicyUpdater } from './updates.ts';

export interface Progress {
  /** Steps completed. */
  step: number;
  /** Optimizer updates made (GRPO makes num_iterations per step). */
  updates: number;
  /** Tokens trained on. */
  tokens: number;
  elapsed: number;
  /** Where the data order stands (resumes there). */
  position: JsonObject;
}

/** Writes a checkpoint of the run; returns its folder. */
export function savePosttrain(
  runDir: string,
  run: JsonObject,
  policy: Policy,
  updater: PolicyUpdater,
  p: Progress,
  cfg: RunConfig['checkpoint'],
): string {
  const tensors = new Map<string, StoredTensor>();
  optimizerTensors(updater.optimizer, tensors);
  const state: TrainerStateJson = {
    format: 'dsts-trainer-state',
    version: 1,
    step: p.step,
    tokens: p.tokens,
    elapsedSeconds: p.elapsed,
    run,
    loader: { ...p.position, updates: p.updates },
    params: policy.params.map((x) => x.name),
    modelDtype: cfg.dtype,
  };
  return saveCheckpoint(
    runDir,
    {
      modelConfig: policy.modelJson,
      weights: policy.weights,
      dtype: cfg.dtype,
      tokenizerFiles: policy.tokenizer.files,
      state,
      stateTensors: tensors,
    },
    cfg.keep,
  );
}

export interface Resumed {
  checkpoint: string;
  runDir: string;
  state: TrainerStateJson;
  tensors: Map<string, StoredTensor>;
}

/** Reads the checkpoint `--resume` names (a checkpoint folder, or the latest of a run folder) of a run of `kind`. */
export function readResume(path: string, kind: 'sft' | 'grpo'): Resumed {
  const { checkpoint, runDir } = resolveCheckpoint(path);
  const { state, tensors } = readTrainerState(checkpoint);
  if (state.run.kind !== kind)
    throw new PosttrainError(
      `--resume: ${checkpoint} is not a 'dsts ${kind}' run (it is ${state.run.kind ? `a '${String(state.run.kind)}'` : 'a pre-training'} run)`,
    );
  return { checkpoint, runDir, state, tensors };
}

/** Puts AdamW back as it was at the checkpoint. */
export function restoreUpdater(updater: PolicyUpdater, r: Resumed): void {
  restoreOptimizer(updater.optimizer, r.state.params, r.tensors);
  updater.updates = Number(r.state.loader.updates ?? r.state.step);
}
