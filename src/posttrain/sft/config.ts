/**
 * The `dsts sft` run config: the shared keys (run/config.ts: model, optimizer, schedule, checkpoint,
 * log, steps, seed, out) plus
 *
 *   "data": {"train": "chats.jsonl" | [...], "validation": [...]}   JSONL (sft/render.ts for formats)
 *   "template": "chat" | "plain"      chat: the model's chat template (default); plain: raw text
 *   "seqLen": 1024                    tokens per row (longer examples are cut; default min(1024, context))
 *   "packing": true                   several examples per row, never attending to each other
 *   "batchSize": 8, "gradAccum": 1    rows per micro-batch, micro-batches per step
 *   "eval": {"interval": 0, "batches": 4}
 */
import { resolve } from 'node:path';
import { isObject, ObjectReader, type JsonObject } from '../../train/config/reader.ts';
import { PosttrainError } from '../errors.ts';
import { readCommon, type CommonConfig } from '../run/config.ts';
import type { SftTemplate } from './render.ts';

export interface SftConfig extends CommonConfig {
  kind: 'sft';
  data: { train: string[]; validation: string[] };
  template: SftTemplate;
  /** Tokens per row; null: min(1024, the model's max_position_embeddings). */
  seqLen: number | null;
  packing: boolean;
  batchSize: number;
  gradAccum: number;
  eval: { interval: number; batches: number };
}

export function parseSftConfig(json: JsonObject, source: string, baseDir: string): SftConfig {
  if (!isObject(json)) throw new PosttrainError(`${source}: a run config must be a JSON object`);
  const r: ObjectReader = new ObjectReader(json, source);
  const common = readCommon(r, baseDir, { lr: 2e-5, steps: 100, checkpointInterval: 0 });
  const d = r.object('data');
  const train = d.stringList('train').map((p) => resolve(baseDir, p));
  if (train.length === 0) d.fail('train', 'missing: the JSONL file(s) to train on');
  const data = { train, validation: d.stringList('validation').map((p) => resolve(baseDir, p)) };
  d.done();
  const e = r.object('eval');
  const evalCfg = { interval: e.int('interval', 0), batches: e.int('batches', 4, 1) };
  e.done();
  const cfg: SftConfig = {
    ...common,
    kind: 'sft',
    data,
    template: r.oneOf('template', ['chat', 'plain'] as const, 'chat'),
    seqLen: r.has('seqLen') ? r.int('seqLen', 1024, 2) : (r.raw('seqLen'), null),
    packing: r.bool('packing', true),
    batchSize: r.int('batchSize', 8, 1),
    gradAccum: r.int('gradAccum', 1, 1),
    eval: evalCfg,
  };
  r.done();
  return cfg;
}

/** The resolved config as JSON (run.json, trainer state); parses back to the same. */
export function sftConfigJson(cfg: SftConfig): JsonObject {
  return structuredClone(cfg) as unknown as JsonObject;
}
