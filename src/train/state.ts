/**
 * Packing the optimizer's and the data loader's state into a checkpoint's tensors and JSON, and
 * back. Names in trainer_state.safetensors:
 *
 *   optimizer.step                 I32 [P]  per-parameter AdamW step counts, in `params` order
 *   optimizer.exp_avg.<name>       F32|BF16 first moment of parameter <name> (the optimizer's moment dtype)
 *   optimizer.exp_avg_sq.<name>    F32|BF16 second moment
 *   loader.carry                   I32 [n]  tokens read but not yet in a sequence
 *   loader.buffer                  I32 [k, T+1]  the shuffle buffer's sequences
 *   master.<name>                  F32      master weights (added by checkpoint.ts for bf16 models)
 */
import type { StoredTensor } from '../io/safetensors/index.ts';
import type { AdamW, Moment } from './optim/adamw.ts';
import type { LoaderState } from './data/loader.ts';
import type { StreamPosition } from './data/token-stream.ts';
import type { JsonObject } from './config/reader.ts';
import { TrainError } from './errors.ts';

export function optimizerTensors(opt: AdamW, out: Map<string, StoredTensor>): void {
  const s = opt.state();
  out.set('optimizer.step', { dtype: 'I32', shape: [s.steps.length], data: s.steps });
  const stored = (shape: readonly number[], data: Moment): StoredTensor =>
    data instanceof Float32Array ? { dtype: 'F32', shape, data } : { dtype: 'BF16', shape, data };
  for (const p of opt.params) {
    out.set(`optimizer.exp_avg.${p.name}`, stored(p.tensor.shape, s.m.get(p.name)!));
    out.set(`optimizer.exp_avg_sq.${p.name}`, stored(p.tensor.shape, s.v.get(p.name)!));
  }
}

/** A saved moment, f32 or bf16 (the optimizer converts one saved in the other dtype). */
function momentOf(tensors: Map<string, StoredTensor>, name: string): Moment {
  const t = tensors.get(name);
  if (t?.dtype === 'BF16') return t.data;
  return tensorOf(tensors, name, 'F32').data;
}

function tensorOf<D extends StoredTensor['dtype']>(
  tensors: Map<string, StoredTensor>,
  name: string,
  dtype: D,
): Extract<StoredTensor, { dtype: D }> {
  const t = tensors.get(name);
  if (!t) throw new TrainError(`trainer state: tensor '${name}' is missing`);
  if (t.dtype !== dtype) throw new TrainError(`trainer state: tensor '${name}' is ${t.dtype}, expected ${dtype}`);
  return t as Extract<StoredTensor, { dtype: D }>;
}

/** Restores AdamW from checkpoint tensors; `names` is the saved parameter order. */
export function restoreOptimizer(opt: AdamW, names: readonly string[], tensors: Map<string, StoredTensor>): void {
  const current = opt.params.map((p) => p.name);
  if (names.length !== current.length || names.some((n, i) => n !== current[i])) {
    throw new TrainError('trainer state: the checkpoint was saved for a model with different parameters');
  }
  const steps = tensorOf(tensors, 'optimizer.step', 'I32').data;
  const m = new Map<string, Moment>();
  const v = new Map<string, Moment>();
  for (const n of names) {
    m.set(n, momentOf(tensors, `optimizer.exp_avg.${n}`));
    v.set(n, momentOf(tensors, `optimizer.exp_avg_sq.${n}`));
  }
  opt.load({ steps, m, v });
}

export function loaderTensors(state: LoaderState, seqLen: number, out: Map<string, StoredTensor>): void {
  out.set('loader.carry', { dtype: 'I32', shape: [state.carry.length], data: state.carry });
  const L = seqLen + 1;
  const buf = new Int32Array(state.buffer.length * L);
  state.buffer.forEach((s, i) => buf.set(s, i * L));
  out.set('loader.buffer', { dtype: 'I32', shape: [state.buffer.length, L], data: buf });
}

export function loaderJson(state: LoaderState): JsonObject {
  return { stream: state.stream as unknown as JsonObject, draws: state.draws };
}

export function restoreLoaderState(json: JsonObject, tensors: Map<string, StoredTensor>): LoaderState {
  const carry = tensorOf(tensors, 'loader.carry', 'I32').data;
  const buffer = tensorOf(tensors, 'loader.buffer', 'I32');
  const [k, L] = buffer.shape as [number, number];
  const items = Array.from({ length: k }, (_, i) => buffer.data.slice(i * L, (i + 1) * L));
  const stream = json.stream as unknown as StreamPosition;
  if (typeof json.draws !== 'number' || typeof stream?.epoch !== 'number' || typeof stream.cursor?.offset !== 'number') {
    throw new TrainError('trainer state: the data loader position is malformed');
  }
  return { stream, draws: json.draws, carry, buffer: items };
}
