/**
 * Training checkpoints. Each is a folder `checkpoint-<step>/` inside the run folder holding
 *
 * - `config.json` + `model.safetensors`: the model in Hugging Face format (released tensor names,
 *   MTP modules at layer index num_hidden_layers + k, `e_score_correction_bias` kept f32), bf16 by
 *   default, so `loadModel()` — and transformers — open it as they open a released checkpoint;
 * - `tokenizer.json` (and `tokenizer_config.json` when the run has one), so the folder is a model;
 * - `trainer_state.json` + `trainer_state.safetensors`: what only a resumed run needs — the step,
 *   the resolved run config, the data loader's position, AdamW's moments and step counts, and the
 *   f32 master weights when the model file is narrower than f32.
 *
 * A checkpoint is written into a hidden temporary folder and renamed into place, so a folder named
 * `checkpoint-<step>` is always complete, even if the process dies mid-save.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { encodeBf16 } from '../tensor/codecs.ts';
import type { Tensor } from '../tensor/index.ts';
import type { Weights } from '../model/weights.ts';
import { openSafetensors, writeSafetensors, type StoredTensor } from '../io/safetensors/index.ts';
import { TrainError } from './errors.ts';
import type { JsonObject } from './config/reader.ts';
import { readJson } from './config/run-config.ts';

export const TRAINER_STATE_JSON = 'trainer_state.json';
export const TRAINER_STATE_TENSORS = 'trainer_state.safetensors';
const CHECKPOINT_DIR = /^checkpoint-(\d+)$/;

export type ModelDType = 'bf16' | 'f32';

/** The HF class name transformers instantiates for each model_type. */
const ARCHITECTURES: Record<string, string> = {
  deepseek_v3: 'DeepseekV3ForCausalLM',
  deepseek_v2: 'DeepseekV2ForCausalLM',
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
};

/** Name of the checkpoint folder of `step` (zero-padded so folders sort by step). */
export function checkpointName(step: number): string {
  return `checkpoint-${String(step).padStart(6, '0')}`;
}

/**
 * The config.json to ship with trained weights: the run's model config with `architectures`,
 * `model_type` and the storage dtype filled in, and no `quantization_config` (the weights are
 * not FP8-quantised any more).
 */
export function hfConfigJson(model: JsonObject, dtype: ModelDType): JsonObject {
  const out: JsonObject = structuredClone(model);
  const type = String(out.model_type);
  if (!Array.isArray(out.architectures) && ARCHITECTURES[type]) out.architectures = [ARCHITECTURES[type]];
  delete out.quantization_config;
  delete out.dtype;
  out.torch_dtype = dtype === 'bf16' ? 'bfloat16' : 'float32';
  return out;
}

/** Whether a tensor stays f32 in a bf16 checkpoint (the router bias is f32 in the released files). */
function keepsF32(name: string): boolean {
  return name.endsWith('e_score_correction_bias');
}

function f32Of(t: Tensor, name: string): Float32Array {
  if (t.dtype !== 'f32' || !t.isContiguous() || t.offset !== 0 || t.data.length !== t.size) {
    throw new Error(`weight '${name}' must be a contiguous f32 tensor to be saved, got ${t}`);
  }
  return t.data as Float32Array;
}

/** The model's tensors as stored in model.safetensors. */
export function modelTensors(weights: Weights, dtype: ModelDType): Map<string, StoredTensor> {
  const out = new Map<string, StoredTensor>();
  for (const name of weights.names()) {
    const t = weights.get(name);
    const data = f32Of(t, name);
    out.set(
      name,
      dtype === 'f32' || keepsF32(name)
        ? { dtype: 'F32', shape: t.shape, data }
        : { dtype: 'BF16', shape: t.shape, data: encodeBf16(data) },
    );
  }
  return out;
}

/** What a resumed run needs besides the weights (trainer_state.json). */
export interface TrainerStateJson {
  format: 'dsts-trainer-state';
  version: 1;
  /** Optimizer steps completed. */
  step: number;
  /** Tokens trained on (inputs of every micro-batch). */
  tokens: number;
  /** Seconds spent training so far (for the ETA and tokens/s of a resumed run). */
  elapsedSeconds: number;
  /** The resolved run config (parseRunConfig reads it back). */
  run: JsonObject;
  /** The data loader position; its token buffers are tensors `loader.carry` / `loader.buffer`. */
  loader: JsonObject;
  /** Parameter names in optimizer order (`optimizer.step` is indexed by it). */
  params: string[];
  /** Dtype of model.safetensors; when not f32 the master weights are `master.<name>` tensors. */
  modelDtype: ModelDType;
}

export interface CheckpointData {
  /** The run's model config (HF JSON; hfConfigJson completes it). */
  modelConfig: JsonObject;
  weights: Weights;
  dtype: ModelDType;
  /** Tokenizer files to write in (tokenizer.json, optionally tokenizer_config.json), by content. */
  tokenizerFiles: readonly { name: string; bytes: Uint8Array }[];
  state: TrainerStateJson;
  /** Optimizer moments, loader buffers, ... (master weights are added here when dtype is bf16). */
  stateTensors: Map<string, StoredTensor>;
}

/**
 * Writes `checkpoint-<step>` into `runDir` (replacing one of the same step) and removes the oldest
 * checkpoints beyond `keep`. Returns the folder written.
 */
export function saveCheckpoint(runDir: string, data: CheckpointData, keep = Infinity): string {
  const name = checkpointName(data.state.step);
  const final = join(runDir, name);
  const tmp = join(runDir, `.${name}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  try {
    writeFileSync(join(tmp, 'config.json'), `${JSON.stringify(hfConfigJson(data.modelConfig, data.dtype), null, 2)}\n`);
    writeSafetensors(join(tmp, 'model.safetensors'), modelTensors(data.weights, data.dtype), { format: 'pt' });
    for (const f of data.tokenizerFiles) writeFileSync(join(tmp, f.name), f.bytes);
    const tensors = new Map(data.stateTensors);
    if (data.dtype !== 'f32') {
      for (const n of data.weights.names())
        if (!keepsF32(n))
          tensors.set(`master.${n}`, { dtype: 'F32', shape: data.weights.get(n).shape, data: f32Of(data.weights.get(n), n) });
    }
    writeSafetensors(join(tmp, TRAINER_STATE_TENSORS), tensors, { format: 'dsts' });
    writeFileSync(join(tmp, TRAINER_STATE_JSON), `${JSON.stringify(data.state, null, 1)}\n`);
    rmSync(final, { recursive: true, force: true });
    renameSync(tmp, final);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  for (const old of listCheckpoints(runDir).slice(0, -keep)) if (old.dir !== final) rmSync(old.dir, { recursive: true, force: true });
  return final;
}

/** The complete checkpoints in a run folder, oldest first. */
export function listCheckpoints(runDir: string): { step: number; dir: string }[] {
  if (!existsSync(runDir)) return [];
  return readdirSync(runDir)
    .map((n) => ({ m: CHECKPOINT_DIR.exec(n), dir: join(runDir, n) }))
    .filter((c) => c.m && existsSync(join(c.dir, TRAINER_STATE_JSON)))
    .map((c) => ({ step: Number(c.m![1]), dir: c.dir }))
    .sort((a, b) => a.step - b.step);
}

/** Whether `dir` is a checkpoint folder (has trainer state). */
export function isCheckpoint(dir: string): boolean {
  return existsSync(join(dir, TRAINER_STATE_JSON));
}

/**
 * The checkpoint `path` names: itself when it is a checkpoint folder, the latest in it when it is a
 * run folder. The run folder it belongs to comes along (where a resumed run keeps writing).
 */
export function resolveCheckpoint(given: string): { checkpoint: string; runDir: string } {
  const path = resolve(given);
  if (!existsSync(path) || !statSync(path).isDirectory()) throw new TrainError(`--resume: no such folder: ${given}`);
  if (isCheckpoint(path)) return { checkpoint: path, runDir: dirname(path) };
  const all = listCheckpoints(path);
  if (all.length === 0) throw new TrainError(`--resume: ${given} holds no checkpoint (no checkpoint-*/${TRAINER_STATE_JSON})`);
  return { checkpoint: all[all.length - 1]!.dir, runDir: path };
}

/** Reads a checkpoint's trainer_state.json. */
export function readTrainerStateJson(dir: string): TrainerStateJson {
  const json = readJson(join(dir, TRAINER_STATE_JSON), 'the trainer state');
  const state = json as TrainerStateJson;
  if (typeof json !== 'object' || json === null || state.format !== 'dsts-trainer-state' || state.version !== 1) {
    throw new TrainError(`${join(dir, TRAINER_STATE_JSON)}: not a dsts trainer state (version 1)`);
  }
  return state;
}

/** Reads a checkpoint's trainer state: the JSON and every tensor of trainer_state.safetensors. */
export function readTrainerState(dir: string): { state: TrainerStateJson; tensors: Map<string, StoredTensor> } {
  const state = readTrainerStateJson(dir);
  const file = openSafetensors(join(dir, TRAINER_STATE_TENSORS));
  try {
    return { state, tensors: new Map(file.names().map((n) => [n, file.read(n)])) };
  } finally {
    file.close();
  }
}
