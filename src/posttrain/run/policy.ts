/**
 * The model a post-training run starts from: an HF checkpoint folder (a pre-trained base, an SFT
 * result, a released model) opened as trainable f32 weights — each declared tensor copied into its
 * own storage (a checkpoint's f32 tensors may be views of a read-only mapping, and AdamW writes in
 * place), gradients on except the router's correction bias. MTP modules come along only when the
 * checkpoint has them (they are not trained here: post-training scores next tokens only).
 * The same folder, loaded once more and frozen, is GRPO's reference model.
 */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { Tensor, floatData } from '../../tensor/index.ts';
import { loadModel } from '../../model/load.ts';
import { declareModel, buildModel } from '../../model/registry.ts';
import { MapWeights } from '../../model/weights.ts';
import type { CausalLM } from '../../model/causal-lm.ts';
import type { ModelConfig } from '../../io/config.ts';
import { openCheckpoint, type StoredTensor } from '../../io/safetensors/index.ts';
import { trainableParams, type Param } from '../../train/optim/params.ts';
import { restoreWeights } from '../../train/resume.ts';
import { readJson } from '../../train/config/run-config.ts';
import { isObject, type JsonObject } from '../../train/config/reader.ts';
import { openTokenizer, type RunTokenizer } from '../../train/tokenizer-setup.ts';
import { PosttrainError } from '../errors.ts';

export interface Policy {
  /** The folder the weights came from. */
  dir: string;
  /** Its config.json, written into every checkpoint. */
  modelJson: JsonObject;
  config: ModelConfig;
  weights: MapWeights;
  model: CausalLM;
  params: Param[];
  tokenizer: RunTokenizer;
}

/** The declared tensors the checkpoint in `dir` holds, as fresh zeros (gradients on where declared). */
function emptyWeights(config: ModelConfig, dir: string): MapWeights {
  const ckpt = openCheckpoint(dir);
  try {
    const tensors = new Map<string, Tensor>();
    for (const d of declareModel(config)) {
      // Absent MTP modules stay absent; any other missing tensor is reported by buildModel's check.
      if (d.mtp !== undefined && !ckpt.has(d.name)) continue;
      const t = Tensor.zeros([...d.shape], 'f32');
      tensors.set(d.name, d.grad ? t.requireGrad() : t);
    }
    return new MapWeights(tensors, `${dir}/model.safetensors`);
  } finally {
    ckpt.close();
  }
}

/**
 * Opens `dir` for training. With `state` (a resumed run's trainer-state tensors) the f32 master
 * weights there win over the (bf16) model file, as in pre-training's resume.
 */
export function loadPolicy(dir: string, state?: Map<string, StoredTensor>): Policy {
  if (!existsSync(join(dir, 'config.json'))) throw new PosttrainError(`${dir}: not a model folder (no config.json)`);
  if (!existsSync(join(dir, 'tokenizer.json'))) throw new PosttrainError(`${dir}: the model folder has no tokenizer.json`);
  const json = readJson(join(dir, 'config.json'), 'the model config');
  if (!isObject(json)) throw new PosttrainError(`${dir}/config.json: not a JSON object`);
  const source = loadModel(dir, { dtype: 'f32' });
  const weights = emptyWeights(source.config, dir);
  if (state) restoreWeights(weights, dir, state);
  else {
    for (const name of weights.names()) {
      const src = source.weights.maybe(name);
      if (!src) continue; // buildModel names what is missing
      (weights.get(name).data as Float32Array).set(floatData(src));
    }
  }
  const model = buildModel(source.config, weights);
  return { dir, modelJson: json, config: source.config, weights, model, params: trainableParams(weights), tokenizer: openTokenizer(dir) };
}

/** The same folder as a frozen f32 model (GRPO's reference policy π_ref). */
export function loadReference(dir: string): CausalLM {
  return loadModel(dir, { dtype: 'f32' }).model;
}
