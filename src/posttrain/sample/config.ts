/**
 * The `dsts sample` config (rejection sampling, R1's stage 3): which model samples which prompts,
 * how, scored by which rewards, and what is kept.
 *
 *   "model": "run/checkpoint-000200",  "data": {"train": "prompts.jsonl"},
 *   "promptTemplate": "chat", "system": "…", "rewards": [...]     (as in dsts grpo)
 *   "n": 8                      completions per prompt
 *   "temperature": 0.6, "top_p": 0.95, "top_k": 0, "max_tokens": 1024
 *   "minReward": 1              a completion is accepted when its weighted reward reaches this
 *   "keep": "best"              per prompt: the best accepted one, the "longest" accepted one, or "all"
 *   "batchSize": 8              prompts decoded together
 *   "out": "accepted.jsonl", "seed": 0
 */
import { resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { isObject, ObjectReader, type JsonObject } from '../../train/config/reader.ts';
import { PosttrainError } from '../errors.ts';
import { PROMPT_TEMPLATES, type PromptTemplate } from '../data/prompts.ts';
import { readRewardSpecs, type RewardSpec } from '../rewards/load.ts';

export interface SampleConfig {
  source: string;
  model: string;
  data: { train: string[] };
  promptTemplate: PromptTemplate;
  system: string | null;
  rewards: RewardSpec[];
  n: number;
  temperature: number;
  topP: number;
  topK: number;
  maxTokens: number;
  minReward: number;
  keep: 'best' | 'longest' | 'all';
  batchSize: number;
  out: string;
  seed: number;
}

export function parseSampleConfig(json: JsonObject, source: string, baseDir: string): SampleConfig {
  if (!isObject(json)) throw new PosttrainError(`${source}: a sample config must be a JSON object`);
  const r: ObjectReader = new ObjectReader(json, source);
  const m = r.string('model');
  if (m === undefined) r.fail('model', 'missing: the model folder to sample from');
  const model = resolve(baseDir, m);
  if (!existsSync(model) || !statSync(model).isDirectory()) r.fail('model', `no such folder: ${model}`);
  const d = r.object('data');
  const train = d.stringList('train').map((p) => resolve(baseDir, p));
  if (train.length === 0) d.fail('train', 'missing: the JSONL file(s) of prompts');
  d.done();
  const out = r.string('out');
  if (out === undefined) r.fail('out', 'missing: the JSONL file to write the accepted completions to');
  const cfg: SampleConfig = {
    source,
    model,
    data: { train },
    promptTemplate: r.oneOf('promptTemplate', PROMPT_TEMPLATES, 'chat'),
    system: r.string('system') ?? null,
    rewards: readRewardSpecs(r, baseDir),
    n: r.int('n', 8, 1),
    temperature: r.number('temperature', 0.6, { min: 0 }),
    topP: r.number('top_p', 0.95, { above: 0, max: 1 }),
    topK: r.int('top_k', 0),
    maxTokens: r.int('max_tokens', 1024, 1),
    minReward: r.number('minReward', 1, {}),
    keep: r.oneOf('keep', ['best', 'longest', 'all'] as const, 'best'),
    batchSize: r.int('batchSize', 8, 1),
    out: resolve(baseDir, out),
    seed: r.int('seed', 0),
  };
  r.done();
  return cfg;
}
